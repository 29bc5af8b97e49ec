/* Call entry: calldata decoding (truncation at every length, offsets,
 * lengths, dirty high bits, trailing bytes) and the call-context checks
 * (chain id, call kind, value, static frames), each with its exact revert
 * bytes, gas_used, and proof that the pending state did not change. */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"

#define G (&CF.cfg)

typedef struct fn_case {
    const char *name;
    const char *fmt;   /* argument types, cf_enc letters */
    int writes;
    cf_buf cd;         /* well-formed calldata */
} fn_case;

static uint8_t g_id[32];

/* A live asset (so the overlay is not empty) and well-formed calldata of
 * every function. */
static size_t all_functions(fn_case *f)
{
    cf_create(&CF, g_id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    const uint8_t *ct = cf_ct(70, 1, 2);
    uint8_t sig[65];
    memset(sig, 0x11, 64);
    sig[64] = 27;
    const uint8_t *salt = cf_b32(9, 9), *meta = cf_b32(8, 8);
    const uint8_t wk[33] = { 7 };
    size_t n = 0;
    f[n++] = (fn_case){ "createMemory", "wwb", 1, cf_cd_create(salt, meta, ct, 70) };
    f[n++] = (fn_case){ "createMemorySigned", "awwbwwb", 1,
                        cf_cd_create_signed(CF_ALICE.addr, salt, meta, ct, 70, 0, CF_TIME, sig, 65) };
    f[n++] = (fn_case){ "appendVersion", "wuub", 1, cf_cd_append(g_id, 1, 1, ct, 70) };
    f[n++] = (fn_case){ "appendVersionSigned", "wuubawwb", 1,
                        cf_cd_append_signed(g_id, 1, 1, ct, 70, CF_ALICE.addr, 0, CF_TIME, sig, 65) };
    f[n++] = (fn_case){ "transferOwnership", "wa", 1, cf_cd_transfer(g_id, CF_BOB.addr) };
    f[n++] = (fn_case){ "transferOwnershipSigned", "wawwb", 1,
                        cf_cd_transfer_signed(g_id, CF_BOB.addr, 0, CF_TIME, sig, 65) };
    f[n++] = (fn_case){ "grantAccess", "wauub", 1, cf_cd_grant(g_id, CF_BOB.addr, 3, 0, wk, sizeof wk) };
    f[n++] = (fn_case){ "revokeAccess", "wa", 1, cf_cd_revoke(g_id, CF_BOB.addr) };
    f[n++] = (fn_case){ "rotateKey", "w", 1, cf_cd_rotate(g_id) };
    f[n++] = (fn_case){ "shredMemory", "w", 1, cf_cd_shred(g_id) };
    f[n++] = (fn_case){ "shredVersions", "wu", 1, cf_cd_shred_versions(g_id, 1) };
    f[n++] = (fn_case){ "getHead", "w", 0, cf_cd_get_head(g_id) };
    f[n++] = (fn_case){ "getVersion", "wu", 0, cf_cd_get_version(g_id, 1) };
    f[n++] = (fn_case){ "getVersionInfo", "wu", 0, cf_cd_get_version_info(g_id, 1) };
    f[n++] = (fn_case){ "getGrants", "w", 0, cf_cd_get_grants(g_id) };
    f[n++] = (fn_case){ "getGrant", "wa", 0, cf_cd_get_grant(g_id, CF_BOB.addr) };
    f[n++] = (fn_case){ "nonceOf", "a", 0, cf_cd_nonce_of(CF_ALICE.addr) };
    f[n++] = (fn_case){ "domainSeparator", "", 0, cf_cd_domain() };
    f[n++] = (fn_case){ "eip712Domain", "", 0, cf_enc(MS_FN_EIP712_DOMAIN, "") };
    cr_assert_eq(n, MS_FN_COUNT, "a case for every function");
    return n;
}

static uint64_t rd64(const uint8_t *w)
{
    for (int i = 0; i < 24; i++) {
        if (w[i]) return UINT64_MAX;
    }
    uint64_t v = 0;
    for (int i = 24; i < 32; i++) v = (v << 8) | w[i];
    return v;
}

/* The documented decoder (abi_decode.h, semantics step 9) applied to the
 * first `len` bytes of a well-formed encoding: the InvalidCalldata reason
 * of the first argument (in slot order) that fails, or 0. */
static unsigned expected_reason(const fn_case *f, size_t len)
{
    if (len < 4) return 1;
    const size_t s = len - 4;
    const uint8_t *a = f->cd.p + 4;
    for (size_t i = 0; f->fmt[i]; i++) {
        if ((i + 1) * 32 > s) return 1;
        if (f->fmt[i] != 'b') continue;
        const uint64_t off = rd64(a + 32 * i);
        if (off > s - 32) return 2;
        const uint64_t n = rd64(a + off);
        if (n > s - off - 32) return 3;
    }
    return 0;
}

TestSuite(calls_calldata, .init = cf_setup, .fini = cf_teardown);

Test(calls_calldata, input_shorter_than_a_selector)
{
    const uint8_t in[3] = { 0x60, 0xf4, 0x42 };
    cf_snap s;
    cf_snapshot(&CF, &s);
    for (size_t n = 0; n < 4; n++) {
        ms_message m = cf_msg(CF_ALICE.addr, cf_dup(in, n));
        if (n == 0) m.input = NULL;
        cf_res *r = cf_exec_msg(&CF, &m);
        CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)1));
        cr_assert_eq(r->gas_used, 200u, "len %zu gas %llu", n, (unsigned long long)r->gas_used);
        CF_UNCHANGED(&CF, &s);
    }
    /* gas 200 exactly suffices; 199 does not. */
    cf_res *r = cf_call_gas(&CF, CF_ALICE.addr, cf_dup(in, 2), 200);
    CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)1));
    cr_assert_eq(r->gas_used, 200u);
    CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cf_dup(in, 2), 199), 199);
    CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cf_dup(in, 2), 0), 0);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, unknown_selector)
{
    cf_snap s;
    cf_snapshot(&CF, &s);
    uint8_t in[4 + 96];
    memset(in, 0, sizeof in);
    in[0] = 0xde;
    in[1] = 0xad;
    in[2] = 0xbe;
    in[3] = 0xef;
    for (size_t n = 4; n <= sizeof in; n += 48) {
        cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_dup(in, n));
        uint8_t want[36];
        memset(want, 0, sizeof want);
        want[0] = 0x15; want[1] = 0x08; want[2] = 0x79; want[3] = 0xb0; /* UnknownFunction */
        want[4] = 0xde; want[5] = 0xad; want[6] = 0xbe; want[7] = 0xef;
        CF_REVERT(r, cf_dup(want, sizeof want));
        cr_assert_eq(cf_err(MS_E_UNKNOWN_FUNCTION, "").p[0], 0x15);
        cr_assert_eq(r->gas_used, 200u);
    }
    /* Also in a static frame: the selector is unknown before it is a write. */
    ms_message m = cf_msg(CF_ALICE.addr, cf_dup(in, 4));
    m.kind = MS_STATICCALL;
    cf_res *r = cf_exec_msg(&CF, &m);
    cr_assert_eq(r->status, MS_REVERT);
    cr_assert_eq(r->gas_used, 200u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, truncated_at_every_length)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    size_t checked = 0;
    for (size_t i = 0; i < nf; i++) {
        for (size_t len = 0; len < f[i].cd.n; len++) {
            const unsigned reason = expected_reason(&f[i], len);
            if (reason == 0) continue; /* only tail padding missing: not an error */
            cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_dup(f[i].cd.p, len));
            if (r->status != MS_REVERT || r->out_size != 36 || r->out[35] != reason) {
                cr_assert_fail("%s cut to %zu bytes: status %d, want InvalidCalldata(%u), got %02x", f[i].name, len,
                               (int)r->status, reason, r->out_size == 36 ? r->out[35] : 0xff);
            }
            CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)reason));
            const uint64_t gas = len < 4 ? 200 : cf_base_gas(G, len);
            cr_assert_eq(r->gas_used, gas, "%s cut to %zu: gas %llu want %llu", f[i].name, len,
                         (unsigned long long)r->gas_used, (unsigned long long)gas);
            checked++;
        }
    }
    cr_assert_gt(checked, 1000u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, head_cut_at_each_slot_gives_short)
{
    /* Cutting inside head slot k of a function whose earlier slots are all
     * static gives reason 1 whatever k is. */
    const cf_buf full = cf_cd_append(CF_ZERO32, 1, 1, cf_ct(50, 1, 1), 50);
    for (size_t k = 0; k < 4; k++) {
        for (size_t extra = 0; extra < 32; extra += 31) {
            const size_t len = 4 + 32 * k + extra;
            cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_dup(full.p, len));
            CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)1));
        }
    }
    /* A head cut after a dynamic slot: that slot's offset is then outside. */
    const cf_buf cs = cf_cd_create_signed(CF_ALICE.addr, CF_ZERO32, CF_ZERO32, NULL, 0, 0, 0, NULL, 0);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_dup(cs.p, 4 + 32 * 5));
    CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)2));
}

/* Patch word `slot` of the arguments (after the selector) in a copy. */
static cf_buf patched(cf_buf cd, size_t byte_off, const uint8_t *w32)
{
    cf_buf c = cf_dup(cd.p, cd.n);
    memcpy(c.p + 4 + byte_off, w32, 32);
    return c;
}

Test(calls_calldata, offsets_out_of_range_and_huge)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    size_t checked = 0;
    for (size_t i = 0; i < nf; i++) {
        const size_t sz = f[i].cd.n - 4;
        /* Only the first dynamic slot: later ones are reached only when it decodes. */
        for (size_t k = 0; f[i].fmt[k]; k++) {
            if (f[i].fmt[k] != 'b') continue;
            const uint8_t *bad[] = {
                cf_u256(sz - 31), cf_u256(sz), cf_u256(sz + 32), cf_u256(UINT64_MAX), cf_u256_hi(0x80, 0),
                cf_u256_hi(0xff, UINT64_MAX), cf_u256_hi(0x01, 0x40),
            };
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                cf_res *r = cf_call(&CF, CF_ALICE.addr, patched(f[i].cd, 32 * k, bad[b]));
                CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)2));
                cr_assert_eq(r->gas_used, cf_base_gas(G, f[i].cd.n), "%s", f[i].name);
                checked++;
            }
            break;
        }
    }
    cr_assert_eq(checked, 7u * 6u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, oversized_lengths)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    size_t checked = 0;
    for (size_t i = 0; i < nf; i++) {
        const size_t sz = f[i].cd.n - 4;
        for (size_t k = 0; f[i].fmt[k]; k++) {
            if (f[i].fmt[k] != 'b') continue;
            const uint64_t off = rd64(f[i].cd.p + 4 + 32 * k);
            const uint64_t room = sz - off - 32;
            const uint8_t *bad[] = { cf_u256(room + 1), cf_u256(UINT64_MAX), cf_u256_hi(0x01, 0),
                                     cf_u256_hi(0xff, 5) };
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                cf_res *r = cf_call(&CF, CF_ALICE.addr, patched(f[i].cd, off, bad[b]));
                CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)3));
                cr_assert_eq(r->gas_used, cf_base_gas(G, f[i].cd.n), "%s", f[i].name);
                checked++;
            }
            break;
        }
    }
    cr_assert_eq(checked, 4u * 6u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, dirty_high_bits)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    size_t checked = 0;
    for (size_t i = 0; i < nf; i++) {
        for (size_t k = 0; f[i].fmt[k]; k++) {
            const char t = f[i].fmt[k];
            if (t != 'a' && t != 'u') continue;
            /* Narrow type: uint8 for grantAccess's permissions (slot 2), else uint64. */
            const size_t width = t == 'a' ? 20 : (strcmp(f[i].name, "grantAccess") == 0 && k == 2) ? 1 : 8;
            const size_t positions[] = { 0, 31 - width };
            for (size_t p = 0; p < 2; p++) {
                cf_buf c = cf_dup(f[i].cd.p, f[i].cd.n);
                c.p[4 + 32 * k + positions[p]] |= 0x01;
                cf_res *r = cf_call(&CF, CF_ALICE.addr, c);
                if (r->status != MS_REVERT || r->out_size != 36 || r->out[35] != 4) {
                    cr_assert_fail("%s slot %zu byte %zu: want InvalidCalldata(4)", f[i].name, k, positions[p]);
                }
                CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)4));
                cr_assert_eq(r->gas_used, cf_base_gas(G, f[i].cd.n));
                checked++;
            }
        }
    }
    cr_assert_geq(checked, 2u * 14u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, uint8_permissions_dirty_vs_invalid)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 2, NULL, 0);
    cf_snap s;
    cf_snapshot(&CF, &s);
    /* 0x0101: dirty bits above uint8 */
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_cd_grant(id, CF_BOB.addr, 0x0101, 0, NULL, 0));
    CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)4));
    /* uint8 values that decode but are not 1 or 3 */
    const uint64_t bad[] = { 0, 2, 4, 7, 255 };
    for (size_t i = 0; i < 5; i++) {
        const cf_buf cd = cf_cd_grant(id, CF_BOB.addr, bad[i], 0, NULL, 0);
        r = cf_call(&CF, CF_ALICE.addr, cd);
        CF_REVERT(r, cf_err(MS_E_INVALID_PERMISSIONS, "u", bad[i]));
        cr_assert_eq(r->gas_used, cf_base_gas(G, cd.n));
    }
    /* uint64 expiry: 2^64-1 is clean. */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_grant(id, CF_BOB.addr, 1, UINT64_MAX, NULL, 0)));
    cf_snap s2;
    cf_snapshot(&CF, &s2);
    cr_assert_neq(s2.overlay_n, s.overlay_n);
}

Test(calls_calldata, trailing_bytes_and_missing_padding_are_accepted)
{
    const uint8_t *salt = cf_b32(3, 3), *meta = cf_b32(4, 4);
    const uint8_t *ct = cf_ct(70, 1, 6);
    const cf_buf cd = cf_cd_create(salt, meta, ct, 70);
    uint8_t junk[40];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(0xA0 + i);
    const cf_buf longer = cf_concat(cd, junk, sizeof junk);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, longer);
    CF_SUCCESS(r);
    uint8_t id[32];
    cf_asset_id(id, G->precompile_address.bytes, CF_ALICE.addr, salt);
    CF_BYTES(r->out, r->out_size, id, 32);
    cr_assert_eq(r->log_count, 2u);
    /* Same call without junk on a twin instance: gas differs by the input words only. */
    cf_env twin;
    cf_env_open(&twin, NULL);
    cf_res *r2 = cf_call(&twin, CF_ALICE.addr, cd);
    CF_SUCCESS(r2);
    cr_assert_eq(cf_words(longer.n) - cf_words(cd.n), 1u);
    cr_assert_eq(r->gas_used - r2->gas_used, G->gas.input_word);
    uint8_t root1[32], root2[32];
    cf_commit(&CF, root1);
    cf_commit(&twin, root2);
    CF_BYTES(root1, 32, root2, 32);

    /* The same with a read: identical output. */
    cf_res *h1 = cf_call(&CF, CF_BOB.addr, cf_cd_get_head(id));
    cf_res *h2 = cf_call(&CF, CF_BOB.addr, cf_concat(cf_cd_get_head(id), junk, 5));
    CF_SUCCESS(h2);
    CF_BYTES(h2->out, h2->out_size, h1->out, h1->out_size);
    cr_assert_eq(h2->gas_used, h1->gas_used);
    cf_res *h3 = cf_call(&CF, CF_BOB.addr, cf_concat(cf_cd_get_head(id), junk, 29));
    CF_SUCCESS(h3);
    CF_BYTES(h3->out, h3->out_size, h1->out, h1->out_size);
    cr_assert_eq(h3->gas_used, h1->gas_used + G->gas.input_word);

    /* Tail padding is not required: drop it from a 70-byte ciphertext. */
    const cf_buf ap = cf_cd_append(id, 1, 1, ct, 70);
    const size_t unpadded = ap.n - (32 * cf_words(70) - 70);
    r = cf_call(&CF, CF_ALICE.addr, cf_dup(ap.p, unpadded));
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 0), 2u);
    cf_env_close(&twin);
}

/* ------------------------------------------------------------ context */

Test(calls_calldata, wrong_chain_consumes_all_gas)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    CF.blk.chain_id = 1;
    for (size_t i = 0; i < nf; i++) {
        const uint64_t limits[] = { 0, 150, 1000000 };
        for (size_t l = 0; l < 3; l++) {
            cf_res *r = cf_call_gas(&CF, CF_ALICE.addr, f[i].cd, limits[l]);
            CF_REVERT(r, cf_err(MS_E_WRONG_CHAIN, "uu", (uint64_t)CF_CHAIN, (uint64_t)1));
            cr_assert_eq(r->gas_used, limits[l], "%s", f[i].name);
        }
    }
    /* Before anything else: also with a short input, a bad kind and a value. */
    ms_message m = cf_msg(CF_ALICE.addr, cf_dup((const uint8_t *)"ab", 2));
    m.kind = MS_DELEGATECALL;
    m.value.bytes[31] = 1;
    cf_res *r = cf_exec_msg(&CF, &m);
    CF_REVERT(r, cf_err(MS_E_WRONG_CHAIN, "uu", (uint64_t)CF_CHAIN, (uint64_t)1));
    cr_assert_eq(r->gas_used, CF_GAS);
    CF.blk.chain_id = UINT64_MAX;
    r = cf_call(&CF, CF_ALICE.addr, f[0].cd);
    CF_REVERT(r, cf_err(MS_E_WRONG_CHAIN, "uu", (uint64_t)CF_CHAIN, (uint64_t)UINT64_MAX));
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, delegatecall_and_callcode_refused_for_every_function)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    for (size_t i = 0; i < nf; i++) {
        for (int kind = 2; kind <= 3; kind++) {
            for (int st = 0; st < 2; st++) {
                ms_message m = cf_msg(CF_ALICE.addr, f[i].cd);
                m.kind = (ms_call_kind)kind;
                m.is_static = st;
                m.gas = 54321;
                cf_res *r = cf_exec_msg(&CF, &m);
                CF_REVERT(r, cf_err(MS_E_CALL_KIND_NOT_ALLOWED, "u", (uint64_t)kind));
                cr_assert_eq(r->gas_used, 54321u, "%s kind %d", f[i].name, kind);
            }
        }
    }
    /* The kind is checked before the value and the input. */
    ms_message m = cf_msg(CF_ALICE.addr, cf_dup((const uint8_t *)"a", 1));
    m.kind = MS_CALLCODE;
    m.value.bytes[0] = 1;
    m.gas = 10;
    cf_res *r = cf_exec_msg(&CF, &m);
    CF_REVERT(r, cf_err(MS_E_CALL_KIND_NOT_ALLOWED, "u", (uint64_t)3));
    cr_assert_eq(r->gas_used, 10u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, non_zero_value_refused)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    cf_snap s;
    cf_snapshot(&CF, &s);
    for (size_t i = 0; i < nf; i++) {
        for (int pos = 0; pos < 32; pos += 31) {
            ms_message m = cf_msg(CF_ALICE.addr, f[i].cd);
            m.value.bytes[pos] = 0x01;
            m.gas = 777777;
            cf_res *r = cf_exec_msg(&CF, &m);
            CF_REVERT(r, cf_err(MS_E_VALUE_NOT_ACCEPTED, ""));
            cr_assert_eq(r->out_size, 4u);
            cr_assert_eq(r->gas_used, 777777u, "%s", f[i].name);
        }
    }
    /* Before the call_min charge and the input check. */
    ms_message m = cf_msg(CF_ALICE.addr, cf_dup((const uint8_t *)"", 0));
    m.value.bytes[15] = 9;
    m.gas = 3;
    cf_res *r = cf_exec_msg(&CF, &m);
    CF_REVERT(r, cf_err(MS_E_VALUE_NOT_ACCEPTED, ""));
    cr_assert_eq(r->gas_used, 3u);
    CF_UNCHANGED(&CF, &s);
}

Test(calls_calldata, every_write_refused_in_static_frames)
{
    fn_case f[MS_FN_COUNT];
    const size_t nf = all_functions(f);
    /* Make each write otherwise succeed-able: a grant for revokeAccess. */
    cf_grant(&CF, &CF_ALICE, g_id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_snap s;
    cf_snapshot(&CF, &s);
    size_t writes = 0;
    for (size_t i = 0; i < nf; i++) {
        if (!f[i].writes) continue;
        writes++;
        for (int mode = 0; mode < 3; mode++) {
            ms_message m = cf_msg(CF_ALICE.addr, f[i].cd);
            m.gas = 888888;
            if (mode == 0) m.is_static = 1;            /* CALL inside a static frame */
            if (mode == 1) m.kind = MS_STATICCALL;     /* STATICCALL, flag not set */
            if (mode == 2) {
                m.kind = MS_STATICCALL;
                m.is_static = 1;
            }
            cf_res *r = cf_exec_msg(&CF, &m);
            CF_REVERT(r, cf_err(MS_E_WRITE_IN_STATIC_CONTEXT, ""));
            cr_assert_eq(r->gas_used, 888888u, "%s mode %d", f[i].name, mode);
            CF_UNCHANGED(&CF, &s);
        }
        /* Checked before the arguments are decoded. */
        ms_message m = cf_msg(CF_ALICE.addr, cf_dup(f[i].cd.p, 5));
        m.kind = MS_STATICCALL;
        cf_res *r = cf_exec_msg(&CF, &m);
        CF_REVERT(r, cf_err(MS_E_WRITE_IN_STATIC_CONTEXT, ""));
        cr_assert_eq(r->gas_used, CF_GAS);
        /* ...but after call_min: 199 gas is out of gas. */
        m.gas = 199;
        CF_OOG(cf_exec_msg(&CF, &m), 199);
    }
    cr_assert_eq(writes, 11u);
    CF_UNCHANGED(&CF, &s);
    /* The same calls succeed in a plain CALL (so the refusals were not other errors). */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, f[2].cd));  /* appendVersion */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, f[6].cd));  /* grantAccess */
}

Test(calls_calldata, call_min_charged_first)
{
    const cf_buf cd = cf_cd_get_head(CF_ZERO32);
    for (uint64_t g = 0; g < 200; g += 37) CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cd, g), g);
    /* 200 + input words: AssetNotFound needs one more read. */
    const uint64_t base = cf_base_gas(G, cd.n);
    CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cd, base - 1), base - 1);
    CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cd, base + G->gas.state_read - 1), base + G->gas.state_read - 1);
    cf_res *r = cf_call_gas(&CF, CF_ALICE.addr, cd, base + G->gas.state_read);
    CF_REVERT(r, cf_err(MS_E_ASSET_NOT_FOUND, "w", CF_ZERO32));
    cr_assert_eq(r->gas_used, base + G->gas.state_read);
    /* REVERT refunds the rest. */
    r = cf_call_gas(&CF, CF_ALICE.addr, cd, 5000000);
    cr_assert_eq(r->gas_used, base + G->gas.state_read);
}

Test(calls_calldata, call_kind_outside_the_enum_is_clamped)
{
    const cf_buf cd = cf_cd_get_head(CF_ZERO32);
    const int kinds[] = { 4, 200, 255, 256, 1000, 0x7fffffff, -1 };
    const uint64_t want[] = { 4, 200, 255, 255, 255, 255, 255 };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        ms_message m = cf_msg(CF_ALICE.addr, cd);
        m.kind = (ms_call_kind)kinds[i];
        m.gas = 4321;
        cf_res *r = cf_exec_msg(&CF, &m);
        CF_REVERT(r, cf_err(MS_E_CALL_KIND_NOT_ALLOWED, "u", want[i]));
        cr_assert_eq(r->gas_used, 4321u);
    }
}

Test(calls_calldata, offsets_may_be_unaligned_point_into_the_head_or_be_shared)
{
    /* createMemory with ct = empty: an offset pointing at the metadata word
     * (zero) reads a zero length, unaligned or not. */
    uint8_t in[4 + 3 * 32 + 32];
    memset(in, 0, sizeof in);
    const cf_buf base = cf_cd_create(cf_b32(1, 1), CF_ZERO32, NULL, 0);
    memcpy(in, base.p, base.n);
    /* offset 0x20: the metadata slot (all zero) as the length word */
    in[4 + 2 * 32 + 31] = 0x20;
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_dup(in, sizeof in));
    CF_SUCCESS(r);
    cr_assert_eq(r->log_count, 1u);
    /* an unaligned offset 0x21 (the length word spans metadata and slot 2 high bytes: zero) */
    const cf_buf b2 = cf_cd_create(cf_b32(2, 2), CF_ZERO32, NULL, 0);
    memcpy(in, b2.p, b2.n);
    in[4 + 2 * 32 + 31] = 0x21;
    r = cf_call(&CF, CF_ALICE.addr, cf_dup(in, sizeof in));
    CF_SUCCESS(r);
    /* appendVersion whose ciphertext tail is shared with trailing junk and
     * found at an unaligned offset */
    uint8_t id[32];
    memcpy(id, cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(3, 3), CF_ZERO32, NULL, 0))->out, 32);
    const uint8_t *ct = cf_ct(50, 1, 5);
    cf_buf a = cf_enc(MS_FN_APPEND_VERSION, "wuuu", id, (uint64_t)0, (uint64_t)1, (uint64_t)(4 * 32 + 3));
    uint8_t gap[3] = { 0xff, 0xff, 0xff };
    a = cf_concat(a, gap, 3);
    a = cf_concat(a, cf_u256(50), 32);
    a = cf_concat(a, ct, 50);
    r = cf_call(&CF, CF_ALICE.addr, a);
    CF_SUCCESS(r);
    uint8_t cth[32], vh[32];
    cf_keccak(cth, ct, 50);
    cf_version_hash(vh, CF_ZERO32, id, 1, cth, 1, CF_ALICE.addr);
    CF_BYTES(cf_out_word(r, 1), 32, vh, 32);
    /* createMemorySigned: ciphertext and signature offsets share one tail */
    const cf_buf cs = cf_cd_create_signed(CF_ALICE.addr, cf_b32(4, 4), CF_ZERO32, NULL, 0, 0, CF_TIME, NULL, 0);
    cf_buf shared = cf_dup(cs.p, cs.n);
    memcpy(shared.p + 4 + 6 * 32, shared.p + 4 + 3 * 32, 32); /* sig offset := ct offset */
    r = cf_call(&CF, CF_ALICE.addr, shared);
    /* decodes fine; the empty signature is then refused with reason 1 */
    CF_REVERT(r, cf_err(MS_E_INVALID_SIGNATURE, "u", (uint64_t)1));
}

Test(calls_calldata, all_arguments_are_decoded_before_any_check)
{
    /* [ABI-1]: an oversized ciphertext, a missing asset and an expired
     * deadline lose against a bad signature offset found later. */
    const size_t big = CF.cfg.max_ciphertext + 1;
    const uint8_t *ct = cf_ct(big, 1, 1);
    cf_buf cd = cf_cd_append_signed(CF_ZERO32, 0, 1, ct, big, CF_ALICE.addr, 0, 0, NULL, 0);
    cd.p[4 + 7 * 32 + 24] = 0x01; /* signature offset word: high bits */
    CF_REVERT(cf_call(&CF, CF_ALICE.addr, cd), cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)2));
    /* grantAccess: invalid permissions lose against a bad wrapped key length */
    cf_buf g = cf_cd_grant(CF_ZERO32, CF_BOB.addr, 2, 0, NULL, 0);
    g.p[4 + 5 * 32 + 31] = 0x40; /* length 64 with nothing after it */
    CF_REVERT(cf_call(&CF, CF_ALICE.addr, g), cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)3));
    /* transferOwnership: a dirty new owner loses against nothing else (asset missing) */
    cf_buf t = cf_cd_transfer(CF_ZERO32, CF_BOB.addr);
    t.p[4 + 32] = 0x01;
    CF_REVERT(cf_call(&CF, CF_ALICE.addr, t), cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)4));
}
