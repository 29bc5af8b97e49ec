/* Happy paths of every function through ms_module.execute: decoded outputs,
 * events (topics and data), gas_used from the price list, and the version
 * hash chain recomputed independently. */
#include <criterion/criterion.h>
#include <string.h>

#include "abi/keccak.h"
#include "call_fixture.h"

#define G (&CF.cfg)

static const uint8_t EV_CREATED[32] = MS_EV_MEMORY_CREATED;
static const uint8_t EV_APPENDED[32] = MS_EV_VERSION_APPENDED;
static const uint8_t EV_TRANSFERRED[32] = MS_EV_OWNERSHIP_TRANSFERRED;
static const uint8_t EV_GRANTED[32] = MS_EV_ACCESS_GRANTED;
static const uint8_t EV_REVOKED[32] = MS_EV_ACCESS_REVOKED;
static const uint8_t EV_ROTATED[32] = MS_EV_KEY_ROTATED;
static const uint8_t EV_SHREDDED[32] = MS_EV_MEMORY_SHREDDED;

/* Gas of ms_append_core: three writes, the stored bytes, the version hash,
 * and the VersionAppended log (no pruning). */
static uint64_t core_gas(size_t ct_len)
{
    return 3 * G->gas.state_write + G->gas.stored_byte * ct_len + cf_hash_gas(G, 132) + cf_log_gas(G, 3, 4);
}

/* Gas of the signed-action prologue and epilogue with n struct fields. */
static uint64_t signed_gas(unsigned n_fields)
{
    const uint64_t domain = cf_hash_gas(G, 7) + cf_hash_gas(G, 1) + cf_hash_gas(G, 82) + cf_hash_gas(G, 160);
    return G->gas.state_read + domain + cf_hash_gas(G, 160) + cf_hash_gas(G, 32u * (1 + n_fields)) +
           cf_hash_gas(G, 66) + G->gas.signature + G->gas.state_write;
}

TestSuite(calls_happy, .init = cf_setup, .fini = cf_teardown);

Test(calls_happy, default_config_matches_semantics)
{
    const ms_config c = cf_default_config();
    cr_expect_eq(c.chain_id, 31337u);
    uint8_t addr[20] = {0};
    addr[18] = 0x4D;
    addr[19] = 0x53;
    cr_expect(memcmp(c.precompile_address.bytes, addr, 20) == 0, "address 0x...4D53");
    cr_expect_eq(c.max_ciphertext, 65536u);
    cr_expect_eq(c.max_wrapped_key, 256u);
    cr_expect_eq(c.max_grants, 16u);
    cr_expect_eq(c.retained_versions, 8u);
    cr_expect_eq(c.bucket_policy, (uint32_t)MS_BUCKETS_NONE);
    cr_expect_eq(c.gas.call_min, 200u);
    cr_expect_eq(c.gas.input_word, 3u);
    cr_expect_eq(c.gas.state_read, 800u);
    cr_expect_eq(c.gas.state_write, 2000u);
    cr_expect_eq(c.gas.stored_byte, 64u);
    cr_expect_eq(c.gas.hash_base, 30u);
    cr_expect_eq(c.gas.hash_word, 6u);
    cr_expect_eq(c.gas.signature, 6000u, "spec/gas.md [GAS-1]: signature 6000, module default %llu",
                 (unsigned long long)c.gas.signature);
    cr_expect_eq(c.gas.log_base, 375u);
    cr_expect_eq(c.gas.log_topic, 375u);
    cr_expect_eq(c.gas.log_data_byte, 8u);
    cr_expect_eq(c.gas.output_word, 3u);
    cr_expect_eq(c.reorg_depth, 64u);
    cr_expect_eq(c.activation_height, 0u);
}

Test(calls_happy, module_description)
{
    const ms_module *m = ms_module_get();
    cr_assert_eq(m->abi_version, MS_ABI_VERSION);
    cr_assert_eq(m->schema_version, MS_SCHEMA_VERSION);
    cr_assert_str_eq(m->name, "memsync");
}

Test(calls_happy, create_memory_without_version)
{
    const uint8_t *salt = cf_b32(0x01, 0x02), *meta = cf_b32(0x03, 0x04);
    const cf_buf cd = cf_cd_create(salt, meta, NULL, 0);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    uint8_t id[32];
    cf_asset_id(id, G->precompile_address.bytes, CF_ALICE.addr, salt);
    CF_BYTES(r->out, r->out_size, id, 32);

    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t[] = { id, cf_aw(CF_ALICE.addr) };
    const uint8_t *d[] = { meta };
    CF_LOG(&CF, &r->logs[0], EV_CREATED, 2, t, 1, d);

    const uint64_t gas = cf_base_gas(G, cd.n) + cf_hash_gas(G, 0) + cf_hash_gas(G, 72) + G->gas.state_read +
                         G->gas.state_write + cf_log_gas(G, 3, 1) + G->gas.output_word;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);

    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert(memcmp(h.owner, CF_ALICE.addr, 20) == 0);
    cr_assert_eq(h.version, 0u);
    cr_assert(memcmp(h.head_hash, CF_ZERO32, 32) == 0);
    cr_assert_eq(h.key_epoch, 1u);
    cr_assert_eq(h.flags, 0u);
    cr_assert(memcmp(h.metadata, meta, 32) == 0);
    cr_assert_eq(cf_pending_log_count(&CF), 1u);
}

Test(calls_happy, create_memory_with_first_version)
{
    const uint8_t *salt = cf_b32(0x07, 0x08), *meta = cf_b32(0x09, 0x0a);
    const size_t n = 200;
    const uint8_t *ct = cf_ct(n, 1, 7);
    const cf_buf cd = cf_cd_create(salt, meta, ct, n);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    uint8_t id[32], cth[32], vh[32];
    cf_asset_id(id, G->precompile_address.bytes, CF_ALICE.addr, salt);
    CF_BYTES(r->out, r->out_size, id, 32);
    cf_keccak(cth, ct, n);
    cf_version_hash(vh, CF_ZERO32, id, 1, cth, 1, CF_ALICE.addr);

    cr_assert_eq(r->log_count, 2u);
    const uint8_t *t[] = { id, cf_aw(CF_ALICE.addr) };
    const uint8_t *d0[] = { meta };
    CF_LOG(&CF, &r->logs[0], EV_CREATED, 2, t, 1, d0);
    const uint8_t *d1[] = { cf_u256(1), vh, cth, cf_u256(1) };
    CF_LOG(&CF, &r->logs[1], EV_APPENDED, 2, t, 4, d1);

    const uint64_t gas = cf_base_gas(G, cd.n) + cf_hash_gas(G, n) + cf_hash_gas(G, 72) + G->gas.state_read +
                         G->gas.state_write + cf_log_gas(G, 3, 1) + core_gas(n) + G->gas.output_word;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);

    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 1u);
    CF_BYTES(h.head_hash, 32, vh, 32);
    cr_assert_eq(h.key_epoch, 1u);

    /* getVersion: exact canonical encoding. */
    const cf_buf gv = cf_cd_get_version(id, 1);
    cf_res *v = cf_call(&CF, CF_CAROL.addr, gv);
    CF_SUCCESS(v);
    uint8_t *exp = cf_alloc(32 * 6 + 32 * cf_words(n));
    memcpy(exp, cf_u256(0xa0), 32);
    memcpy(exp + 32, cf_u256(1), 32);
    memcpy(exp + 64, cf_aw(CF_ALICE.addr), 32);
    memcpy(exp + 96, cf_u256(CF_BLOCK), 32);
    memcpy(exp + 128, vh, 32);
    memcpy(exp + 160, cf_u256(n), 32);
    memcpy(exp + 192, ct, n);
    CF_BYTES(v->out, v->out_size, exp, 32 * 6 + 32 * cf_words(n));
    const uint64_t vgas = cf_base_gas(G, gv.n) + 3 * G->gas.state_read + G->gas.output_word * (5 + 1 + cf_words(n));
    cr_assert_eq(v->gas_used, vgas);
    cr_assert_eq(v->log_count, 0u);

    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 1);
    CF_BYTES(vi.version_hash, 32, vh, 32);
    CF_BYTES(vi.ct_hash, 32, cth, 32);
    cr_assert_eq(vi.key_epoch, 1u);
    CF_BYTES(vi.author, 20, CF_ALICE.addr, 20);
    cr_assert_eq(vi.block, CF_BLOCK);
    cr_assert_eq(vi.state, 1u);
}

Test(calls_happy, create_memory_signed_by_relayer)
{
    const uint8_t *salt = cf_b32(0x11, 0x12), *meta = cf_b32(0x13, 0x14);
    const size_t n = 64;
    const uint8_t *ct = cf_ct(n, 1, 3);
    const cf_buf cd = cf_signed_create(&CF, &CF_ALICE, CF_ALICE.addr, salt, meta, ct, n, 0, CF_TIME + 60);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
    cf_res *r = cf_call(&CF, CF_EVE.addr, cd); /* Eve relays */
    CF_SUCCESS(r);
    uint8_t id[32], cth[32], vh[32];
    cf_asset_id(id, G->precompile_address.bytes, CF_ALICE.addr, salt);
    CF_BYTES(r->out, r->out_size, id, 32);
    cf_keccak(cth, ct, n);
    cf_version_hash(vh, CF_ZERO32, id, 1, cth, 1, CF_ALICE.addr);
    cr_assert_eq(r->log_count, 2u);
    const uint8_t *t[] = { id, cf_aw(CF_ALICE.addr) };
    const uint8_t *d0[] = { meta };
    CF_LOG(&CF, &r->logs[0], EV_CREATED, 2, t, 1, d0);
    const uint8_t *d1[] = { cf_u256(1), vh, cth, cf_u256(1) };
    CF_LOG(&CF, &r->logs[1], EV_APPENDED, 2, t, 4, d1);

    const uint64_t gas = cf_base_gas(G, cd.n) + cf_hash_gas(G, n) + signed_gas(6) + cf_hash_gas(G, 72) +
                         G->gas.state_read + G->gas.state_write + cf_log_gas(G, 3, 1) + core_gas(n) +
                         G->gas.output_word;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);

    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 1u);
    cr_assert_eq(cf_nonce_of(&CF, CF_EVE.addr), 0u);
    cf_head h;
    cf_get_head(&CF, &h, id);
    CF_BYTES(h.owner, 20, CF_ALICE.addr, 20);
    cr_assert_eq(h.version, 1u);
}

Test(calls_happy, create_memory_signed_without_version)
{
    const uint8_t *salt = cf_b32(0x21, 0x22), *meta = cf_b32(0x23, 0x24);
    cf_res *r = cf_call(&CF, CF_EVE.addr, cf_signed_create(&CF, &CF_BOB, CF_BOB.addr, salt, meta, NULL, 0, 0, CF_TIME));
    CF_SUCCESS(r);
    cr_assert_eq(r->log_count, 1u);
    uint8_t id[32];
    cf_asset_id(id, G->precompile_address.bytes, CF_BOB.addr, salt);
    CF_BYTES(r->out, r->out_size, id, 32);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 0u);
    cr_assert_eq(cf_nonce_of(&CF, CF_BOB.addr), 1u);
}

Test(calls_happy, append_version_by_owner)
{
    uint8_t id[32];
    const uint8_t *ct1 = cf_ct(80, 1, 1);
    cf_create(&CF, id, &CF_ALICE, 1, ct1, 80);
    const size_t n = 100;
    const uint8_t *ct = cf_ct(n, 1, 2);
    const cf_buf cd = cf_cd_append(id, 1, 1, ct, n);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cf_head h;
    uint8_t cth1[32], vh1[32], cth[32], vh[32];
    cf_keccak(cth1, ct1, 80);
    cf_version_hash(vh1, CF_ZERO32, id, 1, cth1, 1, CF_ALICE.addr);
    cf_keccak(cth, ct, n);
    cf_version_hash(vh, vh1, id, 2, cth, 1, CF_ALICE.addr);
    cr_assert_eq(r->out_size, 64u);
    cr_assert_eq(cf_out_u64(r, 0), 2u);
    CF_BYTES(cf_out_word(r, 1), 32, vh, 32);
    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t[] = { id, cf_aw(CF_ALICE.addr) };
    const uint8_t *d[] = { cf_u256(2), vh, cth, cf_u256(1) };
    CF_LOG(&CF, &r->logs[0], EV_APPENDED, 2, t, 4, d);
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + cf_hash_gas(G, n) + core_gas(n) +
                         2 * G->gas.output_word;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 2u);
    CF_BYTES(h.head_hash, 32, vh, 32);
}

Test(calls_happy, append_version_by_write_grantee_costs_one_more_read)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    const size_t n = 50;
    const uint8_t *ct = cf_ct(n, 1, 9);
    const cf_buf cd = cf_cd_append(id, 0, 1, ct, n);
    cf_res *r = cf_call(&CF, CF_BOB.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 0), 1u);
    const uint64_t gas = cf_base_gas(G, cd.n) + 2 * G->gas.state_read + cf_hash_gas(G, n) + core_gas(n) +
                         2 * G->gas.output_word;
    cr_assert_eq(r->gas_used, gas);
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 1);
    CF_BYTES(vi.author, 20, CF_BOB.addr, 20);
}

Test(calls_happy, append_version_signed_by_grantee)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, CF_TIME + 100, NULL, 0);
    const size_t n = 96;
    const uint8_t *ct = cf_ct(n, 1, 4);
    const cf_buf cd = cf_signed_append(&CF, &CF_CAROL, id, 0, 1, ct, n, CF_CAROL.addr, 0, CF_TIME + 5);
    cf_res *r = cf_call(&CF, CF_EVE.addr, cd);
    CF_SUCCESS(r);
    uint8_t cth[32], vh[32];
    cf_keccak(cth, ct, n);
    cf_version_hash(vh, CF_ZERO32, id, 1, cth, 1, CF_CAROL.addr);
    cr_assert_eq(cf_out_u64(r, 0), 1u);
    CF_BYTES(cf_out_word(r, 1), 32, vh, 32);
    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t[] = { id, cf_aw(CF_CAROL.addr) };
    const uint8_t *d[] = { cf_u256(1), vh, cth, cf_u256(1) };
    CF_LOG(&CF, &r->logs[0], EV_APPENDED, 2, t, 4, d);
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + signed_gas(7) + cf_hash_gas(G, n) +
                         G->gas.state_read /* grant */ + core_gas(n) + 2 * G->gas.output_word;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    cr_assert_eq(cf_nonce_of(&CF, CF_CAROL.addr), 1u);
    cr_assert_eq(cf_nonce_of(&CF, CF_EVE.addr), 0u);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
}

Test(calls_happy, append_version_signed_by_owner)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const uint8_t *ct = cf_ct(60, 1, 4);
    cf_res *r = cf_call(&CF, CF_BOB.addr, cf_signed_append(&CF, &CF_ALICE, id, 0, 1, ct, 60, CF_ALICE.addr, 0, CF_TIME));
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 0), 1u);
    /* Second one with nonce 1. */
    const uint8_t *ct2 = cf_ct(61, 1, 5);
    r = cf_call(&CF, CF_BOB.addr, cf_signed_append(&CF, &CF_ALICE, id, 1, 1, ct2, 61, CF_ALICE.addr, 1, CF_TIME));
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 0), 2u);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 2u);
}

Test(calls_happy, grant_access_new_and_update)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const uint8_t wk[40] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                             21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40 };
    const cf_buf cd = cf_cd_grant(id, CF_BOB.addr, 1, 12345, wk, sizeof wk);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 0u);
    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t[] = { id, cf_aw(CF_BOB.addr) };
    const uint8_t *d[] = { cf_u256(1), cf_u256(12345), cf_u256(1) };
    CF_LOG(&CF, &r->logs[0], EV_GRANTED, 2, t, 3, d);
    uint64_t gas = cf_base_gas(G, cd.n) + 2 * G->gas.state_read + 3 * G->gas.state_write +
                   G->gas.stored_byte * sizeof wk + cf_log_gas(G, 3, 3);
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);

    /* getGrant */
    const cf_buf gg = cf_cd_get_grant(id, CF_BOB.addr);
    cf_res *g = cf_call(&CF, CF_DAVE.addr, gg);
    CF_SUCCESS(g);
    uint8_t exp[32 * 5 + 64];
    memset(exp, 0, sizeof exp);
    memcpy(exp, cf_u256(1), 32);
    memcpy(exp + 32, cf_u256(12345), 32);
    memcpy(exp + 64, cf_u256(1), 32);
    memcpy(exp + 96, cf_u256(0x80), 32);
    memcpy(exp + 128, cf_u256(sizeof wk), 32);
    memcpy(exp + 160, wk, sizeof wk);
    CF_BYTES(g->out, g->out_size, exp, sizeof exp);
    cr_assert_eq(g->gas_used, cf_base_gas(G, gg.n) + 2 * G->gas.state_read + G->gas.output_word * (4 + 1 + 2));

    /* Second grantee, then update the first in place (no new slot). */
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    const cf_buf cd2 = cf_cd_grant(id, CF_BOB.addr, 3, 0, wk, 8);
    r = cf_call(&CF, CF_ALICE.addr, cd2);
    CF_SUCCESS(r);
    gas = cf_base_gas(G, cd2.n) + 2 * G->gas.state_read + 1 * G->gas.state_write + G->gas.stored_byte * 8 +
          cf_log_gas(G, 3, 3);
    cr_assert_eq(r->gas_used, gas, "update gas %llu want %llu", (unsigned long long)r->gas_used,
                 (unsigned long long)gas);
    uint8_t gr[4][20];
    uint64_t p[4], e[4], ep[4];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 2u);
    CF_BYTES(gr[0], 20, CF_BOB.addr, 20);
    CF_BYTES(gr[1], 20, CF_CAROL.addr, 20);
    cr_assert_eq(p[0], 3u);
    cr_assert_eq(e[0], 0u);
    cr_assert_eq(p[1], 3u);
    cr_assert_eq(ep[0], 1u);
    cr_assert_eq(ep[1], 1u);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 0u);
}

Test(calls_happy, get_grants_empty_and_gas)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    const cf_buf cd = cf_cd_get_grants(id);
    cf_res *r = cf_call(&CF, CF_BOB.addr, cd);
    CF_SUCCESS(r);
    uint8_t exp[32 * 8];
    memset(exp, 0, sizeof exp);
    memcpy(exp, cf_u256(0x80), 32);
    memcpy(exp + 32, cf_u256(0xa0), 32);
    memcpy(exp + 64, cf_u256(0xc0), 32);
    memcpy(exp + 96, cf_u256(0xe0), 32);
    CF_BYTES(r->out, r->out_size, exp, sizeof exp);
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read + G->gas.output_word * 8);

    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 7, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 9, NULL, 0);
    r = cf_call(&CF, CF_BOB.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read * (1 + 4) + G->gas.output_word * (4 + 4 * 3));
}

Test(calls_happy, revoke_access_swap_remove)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 11, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 22, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_DAVE.addr, 1, 33, NULL, 0);
    /* Revoke slot 0: Dave (last) moves into slot 0. */
    const cf_buf cd = cf_cd_revoke(id, CF_BOB.addr);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 0u);
    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t[] = { id, cf_aw(CF_BOB.addr) };
    CF_LOG(&CF, &r->logs[0], EV_REVOKED, 2, t, 0, NULL);
    uint64_t gas = cf_base_gas(G, cd.n) + 2 * G->gas.state_read + 2 * G->gas.state_read + 2 * G->gas.state_write +
                   2 * G->gas.state_write + cf_log_gas(G, 3, 0) + G->gas.state_write;
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    uint8_t gr[4][20];
    uint64_t p[4], e[4], ep[4];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 2u);
    CF_BYTES(gr[0], 20, CF_DAVE.addr, 20);
    cr_assert_eq(e[0], 33u);
    cr_assert_eq(p[0], 1u);
    CF_BYTES(gr[1], 20, CF_CAROL.addr, 20);
    cr_assert_eq(e[1], 22u);
    cr_assert_eq(p[1], 3u);
    /* getGrant of the moved grantee still works, the revoked one is gone. */
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, cf_cd_get_grant(id, CF_DAVE.addr)));
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cf_cd_get_grant(id, CF_BOB.addr)),
              cf_err(MS_E_GRANT_NOT_FOUND, "wa", id, CF_BOB.addr));
    /* Revoke the last slot: no move. */
    const cf_buf cd2 = cf_cd_revoke(id, CF_CAROL.addr);
    r = cf_call(&CF, CF_ALICE.addr, cd2);
    CF_SUCCESS(r);
    gas = cf_base_gas(G, cd2.n) + 2 * G->gas.state_read + 2 * G->gas.state_write + cf_log_gas(G, 3, 0) +
          G->gas.state_write;
    cr_assert_eq(r->gas_used, gas);
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 1u);
    CF_BYTES(gr[0], 20, CF_DAVE.addr, 20);
    /* Re-grant takes the next slot. */
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 44, NULL, 0);
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 4), 2u);
    CF_BYTES(gr[0], 20, CF_DAVE.addr, 20);
    CF_BYTES(gr[1], 20, CF_BOB.addr, 20);
    cr_assert_eq(e[1], 44u);
}

Test(calls_happy, rotate_key)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    const cf_buf cd = cf_cd_rotate(id);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 32u);
    cr_assert_eq(cf_out_u64(r, 0), 2u);
    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t[] = { id };
    const uint8_t *d[] = { cf_u256(2) };
    CF_LOG(&CF, &r->logs[0], EV_ROTATED, 1, t, 1, d);
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read + G->gas.state_write + cf_log_gas(G, 2, 1) +
                                  G->gas.output_word);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.key_epoch, 2u);
    /* The grant keeps epoch 1 until re-granted. */
    uint8_t gr[2][20];
    uint64_t p[2], e[2], ep[2];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 2), 1u);
    cr_assert_eq(ep[0], 1u);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 2), 1u);
    cr_assert_eq(ep[0], 2u);
    /* New versions carry epoch 2. */
    cf_append(&CF, &CF_ALICE, id, 1, 2, cf_ct(50, 2, 2), 50);
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 2);
    cr_assert_eq(vi.key_epoch, 2u);
    r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 0), 3u);
}

Test(calls_happy, transfer_ownership_revokes_grants_last_slot_first)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_CAROL.addr, 3, 0, NULL, 0);
    const cf_buf cd = cf_cd_transfer(id, CF_DAVE.addr);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 0u);
    cr_assert_eq(r->log_count, 3u);
    const uint8_t *t0[] = { id, cf_aw(CF_CAROL.addr) };
    const uint8_t *t1[] = { id, cf_aw(CF_BOB.addr) };
    const uint8_t *t2[] = { id, cf_aw(CF_ALICE.addr), cf_aw(CF_DAVE.addr) };
    CF_LOG(&CF, &r->logs[0], EV_REVOKED, 2, t0, 0, NULL);
    CF_LOG(&CF, &r->logs[1], EV_REVOKED, 2, t1, 0, NULL);
    CF_LOG(&CF, &r->logs[2], EV_TRANSFERRED, 3, t2, 0, NULL);
    const uint64_t per_grant = G->gas.state_read + 2 * G->gas.state_write + cf_log_gas(G, 3, 0);
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + 2 * per_grant + G->gas.state_write +
                         cf_log_gas(G, 4, 0);
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    cf_head h;
    cf_get_head(&CF, &h, id);
    CF_BYTES(h.owner, 20, CF_DAVE.addr, 20);
    uint8_t gr[2][20];
    uint64_t p[2], e[2], ep[2];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 2), 0u);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cf_cd_get_grant(id, CF_CAROL.addr)),
              cf_err(MS_E_GRANT_NOT_FOUND, "wa", id, CF_CAROL.addr));
    /* The old owner lost control, the new one has it. */
    CF_REVERT(cf_call(&CF, CF_ALICE.addr, cf_cd_rotate(id)), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_ALICE.addr));
    CF_SUCCESS(cf_call(&CF, CF_DAVE.addr, cf_cd_rotate(id)));
}

Test(calls_happy, transfer_ownership_signed)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    const cf_buf cd = cf_signed_transfer(&CF, &CF_ALICE, id, CF_CAROL.addr, 0, CF_TIME + 1);
    cf_res *r = cf_call(&CF, CF_EVE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->log_count, 2u);
    const uint8_t *t0[] = { id, cf_aw(CF_BOB.addr) };
    const uint8_t *t1[] = { id, cf_aw(CF_ALICE.addr), cf_aw(CF_CAROL.addr) };
    CF_LOG(&CF, &r->logs[0], EV_REVOKED, 2, t0, 0, NULL);
    CF_LOG(&CF, &r->logs[1], EV_TRANSFERRED, 3, t1, 0, NULL);
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + signed_gas(4) + G->gas.state_read +
                         2 * G->gas.state_write + cf_log_gas(G, 3, 0) + G->gas.state_write + cf_log_gas(G, 4, 0);
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 1u);
    cf_head h;
    cf_get_head(&CF, &h, id);
    CF_BYTES(h.owner, 20, CF_CAROL.addr, 20);
}

Test(calls_happy, shred_memory)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(51, 1, 2), 51);
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(52, 1, 3), 52);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    cf_head before;
    cf_get_head(&CF, &before, id);
    const cf_buf cd = cf_cd_shred(id);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 0u);
    cr_assert_eq(r->log_count, 2u);
    const uint8_t *t0[] = { id, cf_aw(CF_BOB.addr) };
    CF_LOG(&CF, &r->logs[0], EV_REVOKED, 2, t0, 0, NULL);
    const uint8_t *t1[] = { id };
    const uint8_t *d1[] = { cf_u256(3) };
    CF_LOG(&CF, &r->logs[1], EV_SHREDDED, 1, t1, 1, d1);
    /* Three version reads, each retained ciphertext dropped (50, 51, 52 bytes). */
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + 3 * G->gas.state_read + cf_drop_gas(G, 50) +
                         cf_drop_gas(G, 51) + cf_drop_gas(G, 52) +
                         (G->gas.state_read + 2 * G->gas.state_write + cf_log_gas(G, 3, 0)) + G->gas.state_write +
                         cf_log_gas(G, 2, 1);
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.flags, 1u);
    cr_assert_eq(h.version, 3u);
    CF_BYTES(h.head_hash, 32, before.head_hash, 32);
    CF_BYTES(h.owner, 20, CF_ALICE.addr, 20);
    for (uint64_t v = 1; v <= 3; v++) {
        cf_vinfo vi;
        cf_get_vinfo(&CF, &vi, id, v);
        cr_assert_eq(vi.state, 3u, "version %llu state", (unsigned long long)v);
        CF_REVERT(cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, v)),
                  cf_err(MS_E_VERSION_SHREDDED, "wu", id, v));
    }
    uint8_t gr[2][20];
    uint64_t p[2], e[2], ep[2];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 2), 0u);
}

Test(calls_happy, shred_versions)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(50, 1, 2), 50);
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(50, 1, 3), 50);
    const cf_buf cd = cf_cd_shred_versions(id, 2);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    cr_assert_eq(r->log_count, 1u);
    const uint8_t *t1[] = { id };
    const uint8_t *d1[] = { cf_u256(2) };
    CF_LOG(&CF, &r->logs[0], EV_SHREDDED, 1, t1, 1, d1);
    const uint64_t gas = cf_base_gas(G, cd.n) + G->gas.state_read + 2 * (G->gas.state_read + cf_drop_gas(G, 50)) +
                         G->gas.state_write + cf_log_gas(G, 2, 1);
    cr_assert_eq(r->gas_used, gas, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)gas);
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, id, 1);
    cr_assert_eq(vi.state, 3u);
    cf_get_vinfo(&CF, &vi, id, 2);
    cr_assert_eq(vi.state, 3u);
    cf_get_vinfo(&CF, &vi, id, 3);
    cr_assert_eq(vi.state, 1u);
    CF_REVERT(cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, 2)), cf_err(MS_E_VERSION_SHREDDED, "wu", id, (uint64_t)2));
    CF_SUCCESS(cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, 3)));
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.flags, 0u);
    /* The asset stays writable. */
    cf_append(&CF, &CF_ALICE, id, 3, 1, cf_ct(50, 1, 4), 50);
}

Test(calls_happy, nonce_of_and_domain_separator)
{
    const cf_buf cd = cf_cd_nonce_of(CF_ALICE.addr);
    cf_res *r = cf_call(&CF, CF_BOB.addr, cd);
    CF_SUCCESS(r);
    CF_BYTES(r->out, r->out_size, cf_u256(0), 32);
    cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n) + G->gas.state_read + G->gas.output_word);

    /* Domain separator recomputed from its definition. */
    uint8_t buf[5 * 32], dom[32];
    static const char type[] = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
    cf_keccak(buf, (const uint8_t *)type, sizeof type - 1);
    cf_keccak(buf + 32, (const uint8_t *)"MemSync", 7);
    cf_keccak(buf + 64, (const uint8_t *)"1", 1);
    memcpy(buf + 96, cf_u256(31337), 32);
    memcpy(buf + 128, cf_aw(G->precompile_address.bytes), 32);
    cf_keccak(dom, buf, sizeof buf);
    const cf_buf dc = cf_cd_domain();
    r = cf_call(&CF, CF_BOB.addr, dc);
    CF_SUCCESS(r);
    CF_BYTES(r->out, r->out_size, dom, 32);
    const uint64_t gas = cf_base_gas(G, 4) + cf_hash_gas(G, 7) + cf_hash_gas(G, 1) + cf_hash_gas(G, 82) +
                         cf_hash_gas(G, 160) + G->gas.output_word;
    cr_assert_eq(r->gas_used, gas);
}

Test(calls_happy, domain_separator_follows_config)
{
    ms_config c = cf_default_config();
    c.chain_id = 777;
    c.precompile_address.bytes[0] = 0x42;
    cf_setup_with(&c);
    uint8_t buf[5 * 32], dom[32];
    static const char type[] = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
    cf_keccak(buf, (const uint8_t *)type, sizeof type - 1);
    cf_keccak(buf + 32, (const uint8_t *)"MemSync", 7);
    cf_keccak(buf + 64, (const uint8_t *)"1", 1);
    memcpy(buf + 96, cf_u256(777), 32);
    memcpy(buf + 128, cf_aw(c.precompile_address.bytes), 32);
    cf_keccak(dom, buf, sizeof buf);
    cf_res *r = cf_call(&CF, CF_BOB.addr, cf_cd_domain());
    CF_SUCCESS(r);
    CF_BYTES(r->out, r->out_size, dom, 32);
    /* Logs come from the configured address. */
    uint8_t id[32];
    r = cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(1, 1), cf_b32(2, 2), NULL, 0));
    CF_SUCCESS(r);
    CF_BYTES(r->logs[0].address, 20, c.precompile_address.bytes, 20);
    cf_asset_id(id, c.precompile_address.bytes, CF_ALICE.addr, cf_b32(1, 1));
    CF_BYTES(r->out, 32, id, 32);
}

Test(calls_happy, version_hash_chain_recomputed)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 5, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
    uint8_t prev[32];
    memset(prev, 0, 32);
    uint64_t epoch = 1;
    for (uint64_t v = 1; v <= 6; v++) {
        const cf_key *who = (v % 2) ? &CF_ALICE : &CF_BOB;
        if (v == 4) {
            CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_rotate(id)));
            epoch = 2;
        }
        const size_t n = 50 + 13 * v;
        const uint8_t *ct = cf_ct(n, epoch, (uint8_t)v);
        CF.blk.number = CF_BLOCK + v;
        cf_res *r;
        if (v == 5) {
            r = cf_call(&CF, CF_EVE.addr, cf_signed_append(&CF, who, id, v - 1, epoch, ct, n, who->addr, 0, CF_TIME));
        } else {
            r = cf_call(&CF, who->addr, cf_cd_append(id, v - 1, epoch, ct, n));
        }
        CF_SUCCESS(r);
        uint8_t cth[32], packed[132], vh[32];
        cf_keccak(cth, ct, n);
        /* Packed bytes built field by field here, independently of cf_version_hash. */
        memcpy(packed, prev, 32);
        memcpy(packed + 32, id, 32);
        for (int i = 0; i < 8; i++) packed[64 + i] = (uint8_t)(v >> (56 - 8 * i));
        memcpy(packed + 72, cth, 32);
        for (int i = 0; i < 8; i++) packed[104 + i] = (uint8_t)(epoch >> (56 - 8 * i));
        memcpy(packed + 112, who->addr, 20);
        ms_keccak256(vh, packed, sizeof packed);
        CF_BYTES(cf_out_word(r, 1), 32, vh, 32);
        cf_vinfo vi;
        cf_get_vinfo(&CF, &vi, id, v);
        CF_BYTES(vi.version_hash, 32, vh, 32);
        CF_BYTES(vi.ct_hash, 32, cth, 32);
        CF_BYTES(vi.author, 20, who->addr, 20);
        cr_assert_eq(vi.key_epoch, epoch);
        cr_assert_eq(vi.block, CF_BLOCK + v);
        cf_head h;
        cf_get_head(&CF, &h, id);
        CF_BYTES(h.head_hash, 32, vh, 32);
        cr_assert_eq(h.version, v);
        memcpy(prev, vh, 32);
    }
}

Test(calls_happy, reads_are_open_to_anyone_and_in_static_frames)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    const cf_buf reads[] = {
        cf_cd_get_head(id),      cf_cd_get_version(id, 1),       cf_cd_get_version_info(id, 1),
        cf_cd_get_grants(id),    cf_cd_get_grant(id, CF_BOB.addr), cf_cd_nonce_of(CF_ALICE.addr),
        cf_cd_domain(),
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        cf_res *plain = cf_call(&CF, CF_EVE.addr, reads[i]);
        CF_SUCCESS(plain);
        for (int mode = 0; mode < 3; mode++) {
            ms_message m = cf_msg(CF_EVE.addr, reads[i]);
            if (mode == 0) m.is_static = 1;
            if (mode == 1) m.kind = MS_STATICCALL;
            if (mode == 2) {
                m.kind = MS_STATICCALL;
                m.is_static = 1;
            }
            cf_res *r = cf_exec_msg(&CF, &m);
            CF_SUCCESS(r);
            CF_BYTES(r->out, r->out_size, plain->out, plain->out_size);
            cr_assert_eq(r->gas_used, plain->gas_used);
        }
    }
}
