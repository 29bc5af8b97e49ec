/* Business rules: compare-and-swap heads, key epochs, ciphertext size and
 * envelope policy, retention and pruning, shredding, authorization, grants.
 * Every rejection asserts the exact revert bytes and an unchanged state. */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"

#define G (&CF.cfg)

static cf_res *reject_at(const char *file, int line, const uint8_t caller[20], cf_buf cd, cf_buf err)
{
    cf_snap s;
    cf_snapshot(&CF, &s);
    cf_res *r = cf_call(&CF, caller, cd);
    cf_assert_revert_at(file, line, r, err);
    cf_assert_unchanged_at(file, line, &CF, &s);
    return r;
}
#define REJECT(caller, cd, err) reject_at(__FILE__, __LINE__, (caller), (cd), (err))

TestSuite(calls_rules, .init = cf_setup, .fini = cf_teardown);

Test(calls_rules, stale_expected_version)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(50, 1, 2), 50);
    const uint8_t *ct = cf_ct(50, 1, 3);
    const uint64_t bad[] = { 0, 1, 3, UINT64_MAX };
    for (int i = 0; i < 4; i++) {
        const cf_buf cd = cf_cd_append(id, bad[i], 1, ct, 50);
        cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_VERSION_CONFLICT, "uu", bad[i], (uint64_t)2));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read);
    }
    /* Two writers racing on the same head: the second loses. */
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    cf_append(&CF, &CF_BOB, id, 2, 1, ct, 50);
    REJECT(CF_ALICE.addr, cf_cd_append(id, 2, 1, cf_ct(50, 1, 4), 50),
           cf_err(MS_E_VERSION_CONFLICT, "uu", (uint64_t)2, (uint64_t)3));
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 3u);
}

Test(calls_rules, key_epoch_mismatch_after_rotate)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_rotate(id)));
    /* epoch 1 (header matches the claim) on an epoch-2 asset */
    const cf_buf cd = cf_cd_append(id, 1, 1, cf_ct(50, 1, 2), 50);
    cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_KEY_EPOCH_MISMATCH, "uu", (uint64_t)2, (uint64_t)1));
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read);
    REJECT(CF_ALICE.addr, cf_cd_append(id, 1, 3, cf_ct(50, 3, 2), 50),
           cf_err(MS_E_KEY_EPOCH_MISMATCH, "uu", (uint64_t)2, (uint64_t)3));
    /* header epoch differs from the claimed epoch: envelope reason 4 first */
    REJECT(CF_ALICE.addr, cf_cd_append(id, 1, 2, cf_ct(50, 1, 2), 50), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)4));
    /* a grantee with an epoch-1 key can still append with epoch 2 (grants are not checked for epoch) */
    cf_append(&CF, &CF_ALICE, id, 1, 2, cf_ct(50, 2, 2), 50);
    /* VersionConflict is reported before KeyEpochMismatch */
    REJECT(CF_ALICE.addr, cf_cd_append(id, 1, 1, cf_ct(50, 1, 2), 50),
           cf_err(MS_E_VERSION_CONFLICT, "uu", (uint64_t)1, (uint64_t)2));
}

Test(calls_rules, ciphertext_too_large)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const size_t max = G->max_ciphertext;
    const uint8_t *big = cf_ct(max + 1, 1, 1);
    cf_buf cd = cf_cd_append(id, 0, 1, big, max + 1);
    cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_CIPHERTEXT_TOO_LARGE, "uu", (uint64_t)max + 1, (uint64_t)max));
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n));
    cd = cf_cd_create(cf_b32(2, 2), CF_ZERO32, big, max + 1);
    REJECT(CF_ALICE.addr, cd, cf_err(MS_E_CIPHERTEXT_TOO_LARGE, "uu", (uint64_t)max + 1, (uint64_t)max));
    cd = cf_cd_create_signed(CF_ALICE.addr, cf_b32(2, 2), CF_ZERO32, big, max + 1, 0, CF_TIME, NULL, 0);
    REJECT(CF_ALICE.addr, cd, cf_err(MS_E_CIPHERTEXT_TOO_LARGE, "uu", (uint64_t)max + 1, (uint64_t)max));
    cd = cf_cd_append_signed(id, 0, 1, big, max + 1, CF_ALICE.addr, 0, CF_TIME, NULL, 0);
    REJECT(CF_ALICE.addr, cd, cf_err(MS_E_CIPHERTEXT_TOO_LARGE, "uu", (uint64_t)max + 1, (uint64_t)max));
    /* Size is checked before the envelope: a garbage header of max+1 bytes. */
    uint8_t *junk = cf_alloc(max + 1);
    REJECT(CF_ALICE.addr, cf_cd_append(id, 0, 1, junk, max + 1),
           cf_err(MS_E_CIPHERTEXT_TOO_LARGE, "uu", (uint64_t)max + 1, (uint64_t)max));
    /* Exactly max is accepted. */
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(max, 1, 2), max);
    cf_res *v = cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, 1));
    CF_SUCCESS(v);
    cr_assert_eq(cf_out_u64(v, 5), max);
}

Test(calls_rules, ciphertext_limit_follows_config)
{
    ms_config c = cf_default_config();
    c.max_ciphertext = 100;
    cf_setup_with(&c);
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(100, 1, 1), 100);
    REJECT(CF_ALICE.addr, cf_cd_append(id, 1, 1, cf_ct(101, 1, 1), 101),
           cf_err(MS_E_CIPHERTEXT_TOO_LARGE, "uu", (uint64_t)101, (uint64_t)100));
}

static void envelope_cases(const uint8_t id[32], uint64_t head, uint64_t epoch)
{
    const size_t n = 80;
    uint8_t *e;
    /* 1: too short (49 bytes), and empty for append */
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, cf_ct(50, epoch, 1), 49),
           cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)1));
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, NULL, 0), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)1));
    REJECT(CF_ALICE.addr, cf_cd_create(cf_b32(7, 7), CF_ZERO32, cf_ct(50, 1, 1), 1),
           cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)1));
    /* 2: format version */
    e = (uint8_t *)cf_ct(n, epoch, 2);
    e[0] = 2;
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, e, n), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)2));
    e[0] = 0;
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, e, n), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)2));
    /* 3: algorithm */
    e = (uint8_t *)cf_ct(n, epoch, 3);
    e[1] = 2;
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, e, n), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)3));
    /* 4: header epoch != claimed epoch */
    e = (uint8_t *)cf_ct(n, epoch + 1, 4);
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, e, n), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)4));
    /* 5: all-zero nonce */
    e = (uint8_t *)cf_ct(n, epoch, 5);
    memset(e + 10, 0, 24);
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, epoch, e, n), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)5));
    /* createMemory checks the same things with epoch 1 */
    e = (uint8_t *)cf_ct(n, 1, 6);
    e[1] = 0;
    REJECT(CF_ALICE.addr, cf_cd_create(cf_b32(7, 7), CF_ZERO32, e, n), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)3));
    REJECT(CF_ALICE.addr, cf_cd_create(cf_b32(7, 7), CF_ZERO32, cf_ct(n, 2, 6), n),
           cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)4));
    e = (uint8_t *)cf_ct(n, 1, 6);
    memset(e + 10, 0, 24);
    REJECT(CF_ALICE.addr, cf_cd_create_signed(CF_ALICE.addr, cf_b32(7, 7), CF_ZERO32, e, n, 0, 0, NULL, 0),
           cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)5));
    /* the envelope is checked before the asset exists or the caller is authorized */
    REJECT(CF_EVE.addr, cf_cd_append(CF_ZERO32, 0, 1, cf_ct(49 + 1, 1, 1), 49),
           cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)1));
}

Test(calls_rules, malformed_envelopes)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    envelope_cases(id, 0, 1);
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_rotate(id)));
    envelope_cases(id, 0, 2);
    /* With no bucket policy any body length passes. */
    cf_append(&CF, &CF_ALICE, id, 0, 2, cf_ct(50 + 300, 2, 9), 50 + 300);
    cf_append(&CF, &CF_ALICE, id, 1, 2, cf_ct(50, 2, 9), 50);
}

Test(calls_rules, bucket_policy_pow2)
{
    ms_config c = cf_default_config();
    c.bucket_policy = MS_BUCKETS_POW2;
    cf_setup_with(&c);
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50 + 256, 1, 1), 50 + 256);
    const size_t bad[] = { 0, 1, 128, 255, 257, 300, 511, 513, 1000 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const size_t n = 50 + bad[i];
        const cf_buf cd = cf_cd_append(id, 1, 1, cf_ct(n, 1, 2), n);
        cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)6));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n));
        REJECT(CF_BOB.addr, cf_cd_create(cf_b32(3, 3), CF_ZERO32, cf_ct(n, 1, 2), n),
               cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)6));
    }
    uint64_t head = 1;
    const size_t good[] = { 256, 512, 1024, 4096 };
    for (size_t i = 0; i < 4; i++) {
        cf_append(&CF, &CF_ALICE, id, head, 1, cf_ct(50 + good[i], 1, 3), 50 + good[i]);
        head++;
    }
    /* Lower reasons win over the bucket. */
    uint8_t *e = (uint8_t *)cf_ct(50 + 100, 1, 4);
    e[0] = 9;
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, 1, e, 150), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)2));
    e = (uint8_t *)cf_ct(50 + 100, 1, 4);
    memset(e + 10, 0, 24);
    REJECT(CF_ALICE.addr, cf_cd_append(id, head, 1, e, 150), cf_err(MS_E_INVALID_ENVELOPE, "u", (uint64_t)5));
}

Test(calls_rules, retention_prunes_old_versions)
{
    ms_config c = cf_default_config();
    c.retained_versions = 2;
    cf_setup_with(&c);
    uint8_t id[32];
    const uint8_t *cts[4];
    for (int i = 0; i < 4; i++) cts[i] = cf_ct(60 + (size_t)i, 1, (uint8_t)(10 + i));
    cf_create(&CF, id, &CF_ALICE, 1, cts[0], 60);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cts[1], 61);
    cf_vinfo before;
    cf_get_vinfo(&CF, &before, id, 1);
    cr_assert_eq(before.state, 1u);
    /* version 3 prunes version 1 (3 - K): its record's read, then the drop
     * of its 60-byte ciphertext */
    const cf_buf cd = cf_cd_append(id, 2, 1, cts[2], 62);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + cf_hash_gas(G, 62) + 3 * G->gas.state_write +
                         G->gas.stored_byte * 62 + cf_hash_gas(G, 132) + G->gas.state_read + cf_drop_gas(G, 60) +
                         cf_log_gas(G, 3, 4) + 2 * G->gas.output_word;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    REJECT(CF_BOB.addr, cf_cd_get_version(id, 1), cf_err(MS_E_VERSION_PRUNED, "wu", id, (uint64_t)1));
    cf_vinfo after;
    cf_get_vinfo(&CF, &after, id, 1);
    cr_assert_eq(after.state, 2u);
    CF_BYTES(after.version_hash, 32, before.version_hash, 32);
    CF_BYTES(after.ct_hash, 32, before.ct_hash, 32);
    CF_BYTES(after.author, 20, CF_ALICE.addr, 20);
    for (uint64_t v = 2; v <= 3; v++) {
        cf_res *g = cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, v));
        CF_SUCCESS(g);
        cr_assert_eq(cf_out_u64(g, 5), 60 + v - 1);
        CF_BYTES(g->out + 6 * 32, 60 + v - 1, cts[v - 1], 60 + v - 1);
    }
    /* A shredded version stays shredded when it falls out of retention. */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred_versions(id, 2)));
    cf_append(&CF, &CF_ALICE, id, 3, 1, cts[3], 63);
    cf_vinfo v2;
    cf_get_vinfo(&CF, &v2, id, 2);
    cr_assert_eq(v2.state, 3u);
    REJECT(CF_BOB.addr, cf_cd_get_version(id, 2), cf_err(MS_E_VERSION_SHREDDED, "wu", id, (uint64_t)2));
    REJECT(CF_BOB.addr, cf_cd_get_version(id, 1), cf_err(MS_E_VERSION_PRUNED, "wu", id, (uint64_t)1));
    CF_SUCCESS(cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, 4)));
}

Test(calls_rules, version_not_found)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    REJECT(CF_BOB.addr, cf_cd_get_version(id, 1), cf_err(MS_E_VERSION_NOT_FOUND, "wu", id, (uint64_t)1));
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50);
    const uint64_t bad[] = { 0, 2, UINT64_MAX };
    for (int i = 0; i < 3; i++) {
        const cf_buf cd = cf_cd_get_version(id, bad[i]);
        cf_res *r = REJECT(CF_BOB.addr, cd, cf_err(MS_E_VERSION_NOT_FOUND, "wu", id, bad[i]));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read);
        REJECT(CF_BOB.addr, cf_cd_get_version_info(id, bad[i]), cf_err(MS_E_VERSION_NOT_FOUND, "wu", id, bad[i]));
    }
}

Test(calls_rules, asset_not_found_everywhere)
{
    const uint8_t *id = cf_b32(0xAB, 0xCD);
    uint8_t sig[65] = { 0 };
    const uint8_t *ct = cf_ct(50, 1, 1);
    const cf_buf cds[] = {
        cf_cd_append(id, 0, 1, ct, 50),
        cf_cd_append_signed(id, 0, 1, ct, 50, CF_ALICE.addr, 0, CF_TIME, sig, 65),
        cf_cd_transfer(id, CF_BOB.addr),
        cf_cd_transfer_signed(id, CF_BOB.addr, 0, CF_TIME, sig, 65),
        cf_cd_grant(id, CF_BOB.addr, 1, 0, NULL, 0),
        cf_cd_revoke(id, CF_BOB.addr),
        cf_cd_rotate(id),
        cf_cd_shred(id),
        cf_cd_shred_versions(id, 1),
        cf_cd_get_head(id),
        cf_cd_get_version(id, 1),
        cf_cd_get_version_info(id, 1),
        cf_cd_get_grants(id),
        cf_cd_get_grant(id, CF_BOB.addr),
    };
    for (size_t i = 0; i < sizeof cds / sizeof cds[0]; i++) {
        cf_res *r = REJECT(CF_ALICE.addr, cds[i], cf_err(MS_E_ASSET_NOT_FOUND, "w", id));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cds[i].n) + G->gas.state_read, "case %zu", i);
    }
}

Test(calls_rules, asset_exists)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const uint8_t *salt = cf_b32(1, 0x5a); /* the salt cf_create used */
    const cf_buf cd = cf_cd_create(salt, cf_b32(9, 9), NULL, 0);
    cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_ASSET_EXISTS, "w", id));
    cr_assert_eq(r->gas_used,
                 cf_base_gas(G, cd.n) + cf_hash_gas(G, 0) + cf_hash_gas(G, 72) + G->gas.state_read);
    REJECT(CF_ALICE.addr, cf_cd_create(salt, cf_b32(9, 9), cf_ct(50, 1, 1), 50), cf_err(MS_E_ASSET_EXISTS, "w", id));
    /* Signed creation for the same owner and salt: nonce consumed then rolled back. */
    REJECT(CF_EVE.addr, cf_signed_create(&CF, &CF_ALICE, CF_ALICE.addr, salt, CF_ZERO32, NULL, 0, 0, CF_TIME),
           cf_err(MS_E_ASSET_EXISTS, "w", id));
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
    /* The same salt for another owner is another asset. */
    uint8_t id2[32];
    cf_create(&CF, id2, &CF_BOB, 1, NULL, 0);
    cr_assert(memcmp(id, id2, 32) != 0);
    /* ...also when the asset was shredded. */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred(id)));
    REJECT(CF_ALICE.addr, cd, cf_err(MS_E_ASSET_EXISTS, "w", id));
}

Test(calls_rules, shredded_asset_refuses_every_write)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred(id)));
    uint8_t sig[65] = { 0 };
    const uint8_t *ct = cf_ct(50, 1, 2);
    const cf_buf cds[] = {
        cf_cd_append(id, 1, 1, ct, 50),
        cf_signed_append(&CF, &CF_ALICE, id, 1, 1, ct, 50, CF_ALICE.addr, 0, CF_TIME),
        cf_cd_append_signed(id, 1, 1, ct, 50, CF_ALICE.addr, 0, 0 /* expired */, sig, 65),
        cf_cd_transfer(id, CF_BOB.addr),
        cf_signed_transfer(&CF, &CF_ALICE, id, CF_BOB.addr, 0, CF_TIME),
        cf_cd_transfer_signed(id, CF_BOB.addr, 0, 0, sig, 65),
        cf_cd_grant(id, CF_CAROL.addr, 1, 0, NULL, 0),
        cf_cd_revoke(id, CF_BOB.addr),
        cf_cd_rotate(id),
        cf_cd_shred(id),
        cf_cd_shred_versions(id, 1),
    };
    for (size_t i = 0; i < sizeof cds / sizeof cds[0]; i++) {
        cf_res *r = REJECT(CF_ALICE.addr, cds[i], cf_err(MS_E_ASSET_IS_SHREDDED, "w", id));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cds[i].n) + G->gas.state_read, "case %zu", i);
        /* also for other callers (checked before authorization) */
        REJECT(CF_EVE.addr, cds[i], cf_err(MS_E_ASSET_IS_SHREDDED, "w", id));
    }
    /* Reads keep working. */
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.flags, 1u);
    CF_BYTES(h.owner, 20, CF_ALICE.addr, 20);
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 1);
    cr_assert_eq(vi.state, 3u);
    REJECT(CF_EVE.addr, cf_cd_get_version(id, 1), cf_err(MS_E_VERSION_SHREDDED, "wu", id, (uint64_t)1));
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
}

Test(calls_rules, only_the_owner_manages)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    const cf_buf cds[] = {
        cf_cd_transfer(id, CF_CAROL.addr), cf_cd_grant(id, CF_CAROL.addr, 1, 0, NULL, 0), cf_cd_revoke(id, CF_BOB.addr),
        cf_cd_rotate(id),                  cf_cd_shred(id),                                cf_cd_shred_versions(id, 1),
    };
    /* Bob holds a write grant: it lets him append, nothing else. */
    for (size_t i = 0; i < sizeof cds / sizeof cds[0]; i++) {
        cf_res *r = REJECT(CF_BOB.addr, cds[i], cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_BOB.addr));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cds[i].n) + G->gas.state_read, "case %zu", i);
        REJECT(CF_EVE.addr, cds[i], cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_EVE.addr));
    }
    const cf_buf ap = cf_cd_append(id, 1, 1, cf_ct(50, 1, 2), 50);
    cf_res *r = REJECT(CF_EVE.addr, ap, cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_EVE.addr));
    cr_assert_eq(r->gas_used, cf_base_gas(G, ap.n) + 2 * G->gas.state_read);
    CF_SUCCESS(cf_call(&CF, CF_BOB.addr, ap));
}

Test(calls_rules, grantee_permissions_expiry_and_revocation)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);           /* read only */
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, CF_TIME - 1, NULL, 0); /* expired */
    cf_grant(&CF, &CF_ALICE, id, CF_DAVE.addr, 3, CF_TIME, NULL, 0);      /* expires now */
    cf_grant(&CF, &CF_ALICE, id, CF_EVE.addr, 3, 0, NULL, 0);             /* to be revoked */
    const uint8_t *ct = cf_ct(50, 1, 1);
    REJECT(CF_BOB.addr, cf_cd_append(id, 0, 1, ct, 50), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_BOB.addr));
    REJECT(CF_CAROL.addr, cf_cd_append(id, 0, 1, ct, 50), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_CAROL.addr));
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_revoke(id, CF_EVE.addr)));
    REJECT(CF_EVE.addr, cf_cd_append(id, 0, 1, ct, 50), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_EVE.addr));
    /* expiry == timestamp: allowed */
    cf_append(&CF, &CF_DAVE, id, 0, 1, ct, 50);
    /* one second later: refused */
    CF.blk.timestamp = CF_TIME + 1;
    REJECT(CF_DAVE.addr, cf_cd_append(id, 1, 1, cf_ct(50, 1, 2), 50), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_DAVE.addr));
    /* upgrading Bob to write works in place */
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    cf_append(&CF, &CF_BOB, id, 1, 1, cf_ct(50, 1, 3), 50);
    /* and downgrading takes it away again */
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    REJECT(CF_BOB.addr, cf_cd_append(id, 2, 1, cf_ct(50, 1, 4), 50), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_BOB.addr));
}

Test(calls_rules, grant_argument_checks)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    /* zero address and the owner */
    cf_buf cd = cf_cd_grant(id, CF_ZERO20, 1, 0, NULL, 0);
    cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_INVALID_ADDRESS, "a", CF_ZERO20));
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read);
    REJECT(CF_ALICE.addr, cf_cd_grant(id, CF_ALICE.addr, 3, 0, NULL, 0), cf_err(MS_E_INVALID_ADDRESS, "a", CF_ALICE.addr));
    /* wrapped key too large */
    uint8_t *wk = cf_alloc(G->max_wrapped_key + 1);
    cd = cf_cd_grant(id, CF_BOB.addr, 1, 0, wk, G->max_wrapped_key + 1);
    r = REJECT(CF_ALICE.addr, cd,
               cf_err(MS_E_WRAPPED_KEY_TOO_LARGE, "uu", (uint64_t)G->max_wrapped_key + 1, (uint64_t)G->max_wrapped_key));
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n));
    /* permissions are checked first of all (even on a missing asset) */
    REJECT(CF_EVE.addr, cf_cd_grant(CF_ZERO32, CF_BOB.addr, 2, 0, wk, G->max_wrapped_key + 1),
           cf_err(MS_E_INVALID_PERMISSIONS, "u", (uint64_t)2));
    /* then the key size (before the asset) */
    REJECT(CF_EVE.addr, cf_cd_grant(CF_ZERO32, CF_BOB.addr, 1, 0, wk, G->max_wrapped_key + 1),
           cf_err(MS_E_WRAPPED_KEY_TOO_LARGE, "uu", (uint64_t)G->max_wrapped_key + 1, (uint64_t)G->max_wrapped_key));
    /* then ownership before the grantee check */
    REJECT(CF_EVE.addr, cf_cd_grant(id, CF_ZERO20, 1, 0, NULL, 0), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_EVE.addr));
    /* exactly max is fine and stored */
    for (size_t i = 0; i < G->max_wrapped_key; i++) wk[i] = (uint8_t)i;
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, wk, G->max_wrapped_key);
    r = cf_call(&CF, CF_EVE.addr, cf_cd_get_grant(id, CF_BOB.addr));
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 4), G->max_wrapped_key);
    CF_BYTES(r->out + 5 * 32, G->max_wrapped_key, wk, G->max_wrapped_key);
    /* revoke / getGrant of a stranger */
    REJECT(CF_ALICE.addr, cf_cd_revoke(id, CF_CAROL.addr), cf_err(MS_E_GRANT_NOT_FOUND, "wa", id, CF_CAROL.addr));
    REJECT(CF_ALICE.addr, cf_cd_get_grant(id, CF_CAROL.addr), cf_err(MS_E_GRANT_NOT_FOUND, "wa", id, CF_CAROL.addr));
    /* transfer to zero / to the owner */
    REJECT(CF_ALICE.addr, cf_cd_transfer(id, CF_ZERO20), cf_err(MS_E_INVALID_ADDRESS, "a", CF_ZERO20));
    REJECT(CF_ALICE.addr, cf_cd_transfer(id, CF_ALICE.addr), cf_err(MS_E_INVALID_ADDRESS, "a", CF_ALICE.addr));
}

Test(calls_rules, too_many_grants)
{
    ms_config c = cf_default_config();
    c.max_grants = 2;
    cf_setup_with(&c);
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 1, 0, NULL, 0);
    const cf_buf cd = cf_cd_grant(id, CF_DAVE.addr, 1, 0, NULL, 0);
    cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_TOO_MANY_GRANTS, "u", (uint64_t)2));
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + 2 * G->gas.state_read);
    /* updating an existing grant at the limit is fine */
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 99, NULL, 0);
    /* after a revoke there is room again */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_revoke(id, CF_BOB.addr)));
    cf_grant(&CF, &CF_ALICE, id, CF_DAVE.addr, 1, 0, NULL, 0);
    uint8_t gr[2][20];
    uint64_t p[2], e[2], ep[2];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 2), 2u);
    CF_BYTES(gr[0], 20, CF_CAROL.addr, 20);
    cr_assert_eq(e[0], 99u);
    CF_BYTES(gr[1], 20, CF_DAVE.addr, 20);
    REJECT(CF_ALICE.addr, cf_cd_grant(id, CF_EVE.addr, 3, 0, NULL, 0), cf_err(MS_E_TOO_MANY_GRANTS, "u", (uint64_t)2));
}

Test(calls_rules, revoke_swap_remove_keeps_get_grants_consistent)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const cf_key *ks[] = { &CF_BOB, &CF_CAROL, &CF_DAVE, &CF_EVE };
    /* A model of the slot list, swap-remove as documented. */
    uint8_t model[8][20];
    uint64_t model_exp[8];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        cf_grant(&CF, &CF_ALICE, id, ks[i]->addr, 1, 100 + i, NULL, 0);
        memcpy(model[n], ks[i]->addr, 20);
        model_exp[n++] = 100 + i;
    }
    const size_t order[] = { 1, 0, 3, 2 }; /* revoke Carol, Bob, Eve, Dave */
    for (size_t k = 0; k < 4; k++) {
        const uint8_t *who = ks[order[k]]->addr;
        cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_cd_revoke(id, who));
        CF_SUCCESS(r);
        size_t slot = 0;
        while (memcmp(model[slot], who, 20) != 0) slot++;
        memcpy(model[slot], model[n - 1], 20);
        model_exp[slot] = model_exp[n - 1];
        n--;
        uint8_t gr[8][20];
        uint64_t p[8], e[8], ep[8];
        cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 8), n);
        for (size_t i = 0; i < n; i++) {
            CF_BYTES(gr[i], 20, model[i], 20);
            cr_assert_eq(e[i], model_exp[i]);
            /* each listed grantee's own record agrees */
            cf_res *g = cf_call(&CF, CF_ALICE.addr, cf_cd_get_grant(id, gr[i]));
            CF_SUCCESS(g);
            cr_assert_eq(cf_out_u64(g, 1), model_exp[i]);
        }
        REJECT(CF_ALICE.addr, cf_cd_revoke(id, who), cf_err(MS_E_GRANT_NOT_FOUND, "wa", id, who));
    }
}

Test(calls_rules, moved_grants_keep_their_wrapped_keys_from_disk_and_overlay)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const cf_key *ks[] = { &CF_BOB, &CF_CAROL, &CF_DAVE, &CF_EVE };
    uint8_t wk[4][40];
    for (int i = 0; i < 4; i++) {
        memset(wk[i], 0xB0 + i, sizeof wk[i]);
        cf_grant(&CF, &CF_ALICE, id, ks[i]->addr, 1, 0, wk[i], 10 + 10 * (size_t)i);
    }
    cf_commit(&CF, NULL); /* the grants now come from RocksDB */
    /* revoke slot 0: Eve (slot 3, read from disk) moves into it */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_revoke(id, CF_BOB.addr)));
    /* revoke slot 1: Eve's record now comes from the overlay... Dave (slot 2) moves */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_revoke(id, CF_CAROL.addr)));
    const int alive[] = { 3, 2 };
    for (int k = 0; k < 2; k++) {
        const int i = alive[k];
        cf_res *r = cf_call(&CF, CF_BOB.addr, cf_cd_get_grant(id, ks[i]->addr));
        CF_SUCCESS(r);
        const size_t n = 10 + 10 * (size_t)i;
        cr_assert_eq(cf_out_u64(r, 4), n);
        CF_BYTES(r->out + 5 * 32, r->out_size - 5 * 32 >= n ? n : r->out_size - 5 * 32, wk[i], n);
    }
    uint8_t gr[4][20];
    uint64_t p[4], e[4], ep[4];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 2u);
    CF_BYTES(gr[0], 20, CF_EVE.addr, 20);
    CF_BYTES(gr[1], 20, CF_DAVE.addr, 20);
}

Test(calls_rules, transfer_to_a_grantee_revokes_its_grant_too)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_cd_transfer(id, CF_BOB.addr));
    CF_SUCCESS(r);
    cr_assert_eq(r->log_count, 2u);
    REJECT(CF_BOB.addr, cf_cd_get_grant(id, CF_BOB.addr), cf_err(MS_E_GRANT_NOT_FOUND, "wa", id, CF_BOB.addr));
    /* Bob can now grant Alice */
    cf_grant(&CF, &CF_BOB, id, CF_ALICE.addr, 3, 0, NULL, 0);
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50);
}

Test(calls_rules, shred_versions_range)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    REJECT(CF_ALICE.addr, cf_cd_shred_versions(id, 1), cf_err(MS_E_INVALID_VERSION_RANGE, "uu", (uint64_t)1, (uint64_t)0));
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(50, 1, 2), 50);
    const cf_buf cd = cf_cd_shred_versions(id, 0);
    cf_res *r = REJECT(CF_ALICE.addr, cd, cf_err(MS_E_INVALID_VERSION_RANGE, "uu", (uint64_t)0, (uint64_t)2));
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read);
    REJECT(CF_ALICE.addr, cf_cd_shred_versions(id, 3), cf_err(MS_E_INVALID_VERSION_RANGE, "uu", (uint64_t)3, (uint64_t)2));
    REJECT(CF_ALICE.addr, cf_cd_shred_versions(id, UINT64_MAX),
           cf_err(MS_E_INVALID_VERSION_RANGE, "uu", (uint64_t)UINT64_MAX, (uint64_t)2));
    /* Shredding 1..1 then 1..2: the second touches version 2 only. */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred_versions(id, 1)));
    const cf_buf cd2 = cf_cd_shred_versions(id, 2);
    r = cf_call(&CF, CF_ALICE.addr, cd2);
    CF_SUCCESS(r);
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd2.n) + G->gas.state_read + G->gas.state_read + cf_drop_gas(G, 50) +
                                  G->gas.state_write + cf_log_gas(G, 2, 1));
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 2);
    cr_assert_eq(vi.state, 3u);
}
