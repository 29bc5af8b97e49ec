/* Out-of-gas at every charge point. For each scenario the exact gas G of a
 * successful run is measured with simulate, then the same call is executed
 * with EVERY limit from 0 to G - 1 (step 1: all charge points are hit):
 * OUT_OF_GAS, gas_used == limit, no output, no logs, no state change.
 * Limits >= G succeed with gas_used == G. */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"

static uint64_t sweep(const uint8_t caller[20], cf_buf cd)
{
    ms_message m = cf_msg(caller, cd);
    cf_res r;
    memset(&r, 0, sizeof r);
    cf_exec_into(&CF, &r, &m, 1);
    cr_assert_eq(r.rc, MS_OK);
    cr_assert_eq(r.status, MS_SUCCESS, "the scenario must succeed with plenty of gas");
    const uint64_t g = r.gas_used;
    cr_assert_gt(g, 200u);
    const size_t logs = r.log_count;
    uint8_t *out = cf_alloc(r.out_size + 1);
    const size_t out_n = r.out_size;
    memcpy(out, r.out, out_n);

    cf_snap s;
    cf_snapshot(&CF, &s);
    for (uint64_t limit = 0; limit < g; limit++) {
        m.gas = limit;
        cf_exec_into(&CF, &r, &m, 0);
        cr_assert_eq(r.rc, MS_OK);
        if (r.status != MS_OUT_OF_GAS || r.gas_used != limit || r.out_size != 0 || r.log_count != 0) {
            cr_assert_fail("limit %llu (G %llu): status %d gas_used %llu out %zu logs %zu", (unsigned long long)limit,
                           (unsigned long long)g, (int)r.status, (unsigned long long)r.gas_used, r.out_size,
                           r.log_count);
        }
        /* A state check after every run would dominate the time: check every
         * 7th run and the last 64 (a leak would persist, so it is caught). */
        if (limit % 7 == 0 || limit + 64 >= g) CF_UNCHANGED(&CF, &s);
    }
    CF_UNCHANGED(&CF, &s);
    const uint64_t ok_limits[] = { g, g + 1, g + 199, 2 * g, UINT64_MAX };
    for (size_t i = 0; i < 5; i++) {
        uint64_t cp;
        cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_OK);
        m.gas = ok_limits[i];
        cf_exec_into(&CF, &r, &m, 0);
        cr_assert_eq(r.status, MS_SUCCESS, "limit %llu", (unsigned long long)ok_limits[i]);
        cr_assert_eq(r.gas_used, g, "limit %llu: gas_used %llu, G %llu", (unsigned long long)ok_limits[i],
                     (unsigned long long)r.gas_used, (unsigned long long)g);
        CF_BYTES(r.out, r.out_size, out, out_n);
        cr_assert_eq(r.log_count, logs);
        cr_assert_eq(CF.m->revert_to(CF.inst, cp), MS_OK);
        CF_UNCHANGED(&CF, &s);
    }
    cf_res_free(&r);
    return g;
}

TestSuite(calls_gas, .init = cf_setup, .fini = cf_teardown);

Test(calls_gas, signed_append_by_grantee)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    const uint8_t *ct = cf_ct(64, 1, 2);
    const cf_buf cd = cf_signed_append(&CF, &CF_CAROL, id, 1, 1, ct, 64, CF_CAROL.addr, 0, CF_TIME);
    sweep(CF_EVE.addr, cd);
    cr_assert_eq(cf_nonce_of(&CF, CF_CAROL.addr), 0u);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 1u);
}

Test(calls_gas, append_with_pruning)
{
    ms_config c = cf_default_config();
    c.retained_versions = 1;
    cf_setup_with(&c);
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    sweep(CF_ALICE.addr, cf_cd_append(id, 1, 1, cf_ct(70, 1, 2), 70));
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 1);
    cr_assert_eq(vi.state, 1u);
}

Test(calls_gas, create_memory_with_first_version)
{
    const cf_buf cd = cf_cd_create(cf_b32(4, 4), cf_b32(5, 5), cf_ct(100, 1, 3), 100);
    sweep(CF_ALICE.addr, cd);
    uint8_t id[32];
    cf_asset_id(id, CF.cfg.precompile_address.bytes, CF_ALICE.addr, cf_b32(4, 4));
    cr_assert_eq(cf_call(&CF, CF_ALICE.addr, cf_cd_get_head(id))->status, MS_REVERT);
}

Test(calls_gas, create_memory_signed)
{
    const cf_buf cd = cf_signed_create(&CF, &CF_BOB, CF_BOB.addr, cf_b32(4, 4), cf_b32(5, 5), cf_ct(60, 1, 3), 60, 0,
                                       CF_TIME);
    sweep(CF_EVE.addr, cd);
    cr_assert_eq(cf_nonce_of(&CF, CF_BOB.addr), 0u);
}

Test(calls_gas, grant_access)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    const uint8_t wk[48] = { 9, 8, 7 };
    sweep(CF_ALICE.addr, cf_cd_grant(id, CF_CAROL.addr, 3, CF_TIME + 10, wk, sizeof wk));
    uint8_t gr[4][20];
    uint64_t p[4], e[4], ep[4];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 1u);
}

Test(calls_gas, transfer_ownership_with_grants)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, (const uint8_t *)"wrapped", 7);
    cf_grant(&CF, &CF_ALICE, id, CF_DAVE.addr, 1, 5, NULL, 0);
    sweep(CF_ALICE.addr, cf_cd_transfer(id, CF_EVE.addr));
    uint8_t gr[4][20];
    uint64_t p[4], e[4], ep[4];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 3u);
}

Test(calls_gas, transfer_ownership_signed_with_grants)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    sweep(CF_EVE.addr, cf_signed_transfer(&CF, &CF_ALICE, id, CF_DAVE.addr, 0, CF_TIME));
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
}

Test(calls_gas, revoke_from_the_middle)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_DAVE.addr, 1, 0, NULL, 0);
    sweep(CF_ALICE.addr, cf_cd_revoke(id, CF_BOB.addr));
}

Test(calls_gas, shred_memory)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(60, 1, 2), 60);
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(70, 1, 3), 70);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    sweep(CF_ALICE.addr, cf_cd_shred(id));
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.flags, 0u);
}

Test(calls_gas, reads)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(150, 1, 1), 150);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, (const uint8_t *)"k", 1);
    sweep(CF_EVE.addr, cf_cd_get_version(id, 1));
    sweep(CF_EVE.addr, cf_cd_get_grants(id));
    sweep(CF_EVE.addr, cf_cd_get_grant(id, CF_BOB.addr));
    sweep(CF_EVE.addr, cf_cd_domain());
}

Test(calls_gas, revert_refunds_unused_gas)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    /* VersionConflict costs base + one read whatever the limit above it. */
    const cf_buf cd = cf_cd_append(id, 5, 1, cf_ct(50, 1, 2), 50);
    const uint64_t g = cf_base_gas(&CF.cfg, cd.n) + CF.cfg.gas.state_read;
    const uint64_t limits[] = { g, g + 1, 100000, CF_GAS, UINT64_MAX };
    for (int i = 0; i < 5; i++) {
        cf_res *r = cf_call_gas(&CF, CF_ALICE.addr, cd, limits[i]);
        CF_REVERT(r, cf_err(MS_E_VERSION_CONFLICT, "uu", (uint64_t)5, (uint64_t)1));
        cr_assert_eq(r->gas_used, g);
    }
    CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cd, g - 1), g - 1);
}

/* spec/gas.md §3.1: literal values at the default schedule. */
Test(calls_gas, default_schedule_table)
{
    const ms_config d = cf_default_config();
    cr_assert_eq(d.retained_versions, 8u);
    cr_assert_eq(d.max_grants, 16u);
    const cf_key *grantees[16];
    cf_key extra[16];
    for (int i = 0; i < 16; i++) {
        /* 16 distinct grantee addresses (no keys needed) */
        memset(&extra[i], 0, sizeof extra[i]);
        memset(extra[i].addr, 0x60 + i, 20);
        grantees[i] = &extra[i];
    }
    cf_res *r;
    cf_buf cd;

    cd = cf_cd_create(cf_b32(1, 1), cf_b32(2, 2), NULL, 0);
    cr_assert_eq(cd.n, 132u);
    r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 4852u, "createMemory no version: %llu", (unsigned long long)r->gas_used);

    cd = cf_cd_create(cf_b32(3, 3), cf_b32(2, 2), cf_ct(50, 1, 1), 50);
    cr_assert_eq(cd.n, 196u);
    r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 16654u, "createMemory 50 bytes: %llu", (unsigned long long)r->gas_used);
    uint8_t id[32];
    memcpy(id, r->out, 32);

    /* head 1 -> 8, then version 9 prunes version 1 */
    for (uint64_t v = 1; v < 8; v++) cf_append(&CF, &CF_ALICE, id, v, 1, cf_ct(50, 1, (uint8_t)v), 50);
    cd = cf_cd_append(id, 8, 1, cf_ct(50, 1, 9), 50);
    cr_assert_eq(cd.n, 228u);
    r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 19256u, "appendVersion prunes: %llu", (unsigned long long)r->gas_used);

    /* signed append by a write grantee, version 10 prunes version 2 */
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    cd = cf_signed_append(&CF, &CF_BOB, id, 9, 1, cf_ct(50, 1, 10), 50, CF_CAROL.addr, 0, CF_TIME);
    cr_assert_eq(cd.n, 484u);
    r = cf_call(&CF, CF_EVE.addr, cd);
    cr_assert_eq(r->status, MS_REVERT);
    cr_expect_eq(r->gas_used, 8256u, "appendVersionSigned WrongSigner: %llu", (unsigned long long)r->gas_used);
    cd = cf_signed_append(&CF, &CF_CAROL, id, 9, 1, cf_ct(50, 1, 10), 50, CF_CAROL.addr, 0, CF_TIME);
    r = cf_call(&CF, CF_EVE.addr, cd);
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 29246u, "appendVersionSigned prunes: %llu", (unsigned long long)r->gas_used);

    cd = cf_cd_rotate(id);
    cr_assert_eq(cd.n, 36u);
    r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 4390u, "rotateKey: %llu", (unsigned long long)r->gas_used);

    /* transfer with 16 grants */
    uint8_t t[32];
    r = cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(4, 4), CF_ZERO32, NULL, 0));
    memcpy(t, r->out, 32);
    for (int i = 0; i < 16; i++) cf_grant(&CF, &CF_ALICE, t, grantees[i]->addr, 1, 0, NULL, 0);
    cd = cf_cd_transfer(t, CF_BOB.addr);
    cr_assert_eq(cd.n, 68u);
    r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 105684u, "transferOwnership 16 grants: %llu", (unsigned long long)r->gas_used);

    /* shred: 8 retained versions, 16 grants */
    uint8_t s[32];
    r = cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(5, 5), CF_ZERO32, cf_ct(50, 1, 1), 50));
    memcpy(s, r->out, 32);
    for (uint64_t v = 1; v < 8; v++) cf_append(&CF, &CF_ALICE, s, v, 1, cf_ct(50, 1, (uint8_t)v), 50);
    for (int i = 0; i < 16; i++) cf_grant(&CF, &CF_ALICE, s, grantees[i]->addr, 3, 0, NULL, 0);
    r = cf_call(&CF, CF_ALICE.addr, cf_cd_shred(s));
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 156387u, "shredMemory: %llu", (unsigned long long)r->gas_used);

    /* reads */
    r = cf_call(&CF, CF_BOB.addr, cf_cd_get_head(id));
    cr_expect_eq(r->gas_used, 1024u, "getHead: %llu", (unsigned long long)r->gas_used);
    uint8_t big[32];
    r = cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(6, 6), CF_ZERO32, cf_ct(1024, 1, 1), 1024));
    memcpy(big, r->out, 32);
    r = cf_call(&CF, CF_BOB.addr, cf_cd_get_version(big, 1));
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 2723u, "getVersion 1 KiB: %llu", (unsigned long long)r->gas_used);
    r = cf_call(&CF, CF_BOB.addr, cf_cd_get_version_info(big, 1));
    cr_expect_eq(r->gas_used, 1827u, "getVersionInfo: %llu", (unsigned long long)r->gas_used);
    uint8_t gg[32];
    r = cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(7, 7), CF_ZERO32, NULL, 0));
    memcpy(gg, r->out, 32);
    uint8_t *wk = cf_alloc(256);
    for (int i = 0; i < 16; i++) cf_grant(&CF, &CF_ALICE, gg, grantees[i]->addr, 1, 0, i == 0 ? wk : NULL, i == 0 ? 256 : 0);
    r = cf_call(&CF, CF_BOB.addr, cf_cd_get_grants(gg));
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 26822u, "getGrants 16: %llu", (unsigned long long)r->gas_used);
    r = cf_call(&CF, CF_BOB.addr, cf_cd_get_grant(gg, grantees[0]->addr));
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 1848u, "getGrant 256: %llu", (unsigned long long)r->gas_used);
    r = cf_call(&CF, CF_BOB.addr, cf_cd_nonce_of(CF_ALICE.addr));
    cr_expect_eq(r->gas_used, 1009u, "nonceOf: %llu", (unsigned long long)r->gas_used);
    r = cf_call(&CF, CF_BOB.addr, cf_cd_domain());
    cr_expect_eq(r->gas_used, 386u, "domainSeparator: %llu", (unsigned long long)r->gas_used);
    r = cf_call(&CF, CF_BOB.addr, cf_enc(MS_FN_EIP712_DOMAIN, ""));
    CF_SUCCESS(r);
    cr_expect_eq(r->gas_used, 239u, "eip712Domain: %llu", (unsigned long long)r->gas_used);
    const uint8_t unk[4] = { 1, 2, 3, 4 };
    r = cf_call(&CF, CF_BOB.addr, cf_dup(unk, 4));
    cr_expect_eq(r->gas_used, 200u, "unknown selector: %llu", (unsigned long long)r->gas_used);
}
