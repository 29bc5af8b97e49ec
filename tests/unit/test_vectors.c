/* Checks the C implementation against the independent known-answer vectors
 * of spec/vectors/ (made by ethers and solc, see tools/vectors/), through
 * the generated tests/unit/vectors_gen.h. This is the only file that
 * includes vectors_gen.h. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/abi_decode.h"
#include "abi/abi_encode.h"
#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "crypto/signature.h"
#include "crypto/version_hash.h"
#include "call_fixture.h"
#include "test_util.h"
#include "vectors_gen.h"

#define HEX_CAP 8192

/* Decode hex of exactly `want` bytes (or any length when want is SIZE_MAX). */
static size_t hex_in(uint8_t *out, size_t cap, const char *hex, size_t want)
{
    size_t n = ms_test_hex(out, cap, hex);
    cr_assert_neq(n, (size_t)-1, "bad vector hex: %.80s", hex);
    if (want != SIZE_MAX) cr_assert_eq(n, want, "vector hex has %zu bytes, want %zu: %.80s", n, want, hex);
    return n;
}

static void expect_bytes(const uint8_t *got, const char *want_hex, size_t n, const char *what)
{
    uint8_t want[HEX_CAP];
    hex_in(want, sizeof want, want_hex, n);
    cr_assert(memcmp(got, want, n) == 0, "%s: mismatch (want %s)", what, want_hex);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

/* ------------------------------------------------------------------ keccak */

Test(vectors, keccak_one_shot)
{
    cr_assert_geq(MS_VEC_KECCAKS_COUNT, 14u);
    for (size_t i = 0; i < MS_VEC_KECCAKS_COUNT; i++) {
        const ms_vec_keccak *v = &ms_vec_keccaks[i];
        uint8_t in[HEX_CAP], out[32];
        size_t n = hex_in(in, sizeof in, v->input_hex, SIZE_MAX);
        ms_keccak256(out, n ? in : NULL, n);
        expect_bytes(out, v->digest_hex, 32, v->name);
    }
}

Test(vectors, keccak_incremental)
{
    static const size_t chunks[] = { 1, 7, 135, 136, 137, 1000 };
    for (size_t i = 0; i < MS_VEC_KECCAKS_COUNT; i++) {
        const ms_vec_keccak *v = &ms_vec_keccaks[i];
        uint8_t in[HEX_CAP], out[32];
        size_t n = hex_in(in, sizeof in, v->input_hex, SIZE_MAX);
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            ms_keccak h;
            ms_keccak_init(&h);
            for (size_t off = 0; off < n; off += chunks[c]) {
                size_t k = n - off < chunks[c] ? n - off : chunks[c];
                ms_keccak_update(&h, in + off, k);
            }
            ms_keccak_final(&h, out);
            expect_bytes(out, v->digest_hex, 32, v->name);
        }
    }
}

/* --------------------------------------------------------------- selectors */

static void check_selector_table(const ms_vec_selector *t, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t h[32], js[4];
        ms_keccak256(h, (const uint8_t *)t[i].signature, strlen(t[i].signature));
        cr_assert_eq(be32(h), t[i].value, "%s: selectors.h has 0x%08x, keccak gives 0x%08x",
                     t[i].signature, (unsigned)t[i].value, (unsigned)be32(h));
        hex_in(js, sizeof js, t[i].json_hex, 4);
        cr_assert_eq(be32(js), t[i].value, "%s: selectors.json and selectors.h differ", t[i].signature);
    }
}

Test(vectors, function_selectors)
{
    cr_assert_eq(MS_VEC_FN_SELECTORS_COUNT, MS_FN_COUNT);
    check_selector_table(ms_vec_fn_selectors, MS_VEC_FN_SELECTORS_COUNT);
}

Test(vectors, error_selectors)
{
    cr_assert_eq(MS_VEC_ERROR_SELECTORS_COUNT, MS_E_COUNT);
    check_selector_table(ms_vec_error_selectors, MS_VEC_ERROR_SELECTORS_COUNT);
}

Test(vectors, event_topics)
{
    cr_assert_eq(MS_VEC_EVENT_TOPICS_COUNT, MS_EV_COUNT);
    for (size_t i = 0; i < MS_VEC_EVENT_TOPICS_COUNT; i++) {
        const ms_vec_topic *t = &ms_vec_event_topics[i];
        uint8_t h[32];
        ms_keccak256(h, (const uint8_t *)t->signature, strlen(t->signature));
        cr_assert(memcmp(h, t->value, 32) == 0, "%s: selectors.h topic differs from keccak", t->signature);
        expect_bytes(t->value, t->json_hex, 32, t->signature);
    }
}

/* --------------------------------------------------------------------- abi */

static unsigned uint_bits(const char *type)
{
    return (unsigned)strtoul(type + 4, NULL, 10);
}

Test(vectors, abi_calldata_decodes)
{
    for (size_t i = 0; i < MS_VEC_ABI_CALLS_COUNT; i++) {
        const ms_vec_abi *v = &ms_vec_abi_calls[i];
        uint8_t data[HEX_CAP];
        size_t n = hex_in(data, sizeof data, v->data_hex, SIZE_MAX);
        cr_assert_geq(n, 4u, "%s: short calldata", v->name);
        cr_assert_eq(be32(data), v->selector, "%s: selector", v->name);
        ms_abi_args args = { data + 4, n - 4 };
        for (size_t a = 0; a < v->nargs; a++) {
            const ms_vec_abi_arg *arg = &v->args[a];
            uint8_t want[HEX_CAP];
            size_t wn = hex_in(want, sizeof want, arg->value_hex, SIZE_MAX);
            if (strcmp(arg->type, "bytes32") == 0) {
                uint8_t w[32];
                cr_assert_eq(ms_abi_word(w, &args, a), MS_ABI_OK, "%s arg %zu", v->name, a);
                cr_assert(wn == 32 && memcmp(w, want, 32) == 0, "%s arg %zu: bytes32", v->name, a);
            } else if (strcmp(arg->type, "address") == 0) {
                uint8_t addr[20];
                cr_assert_eq(ms_abi_address(addr, &args, a), MS_ABI_OK, "%s arg %zu", v->name, a);
                cr_assert(wn == 20 && memcmp(addr, want, 20) == 0, "%s arg %zu: address", v->name, a);
            } else if (strcmp(arg->type, "bytes") == 0) {
                const uint8_t *p = NULL;
                size_t len = 0;
                cr_assert_eq(ms_abi_bytes(&p, &len, &args, a, 1u << 20), MS_ABI_OK, "%s arg %zu", v->name, a);
                cr_assert_eq(len, wn, "%s arg %zu: bytes length", v->name, a);
                if (len == 0) cr_assert_null(p, "%s arg %zu: empty bytes gives NULL", v->name, a);
                else cr_assert(memcmp(p, want, len) == 0, "%s arg %zu: bytes data", v->name, a);
            } else if (strncmp(arg->type, "uint", 4) == 0) {
                unsigned bits = uint_bits(arg->type);
                cr_assert_eq(wn, 32u);
                int fits64 = 1;
                for (size_t k = 0; k < 24; k++) fits64 &= want[k] == 0;
                uint64_t got = 0;
                if (bits <= 64) {
                    cr_assert_eq(ms_abi_uint(&got, &args, a, bits), MS_ABI_OK, "%s arg %zu", v->name, a);
                    cr_assert_eq(got, be64(want + 24), "%s arg %zu: %s", v->name, a, arg->type);
                } else {
                    uint8_t w[32];
                    cr_assert_eq(ms_abi_word(w, &args, a), MS_ABI_OK, "%s arg %zu", v->name, a);
                    cr_assert(memcmp(w, want, 32) == 0, "%s arg %zu: uint256 word", v->name, a);
                    ms_abi_err e = ms_abi_uint256_as_u64(&got, &args, a);
                    if (fits64) {
                        cr_assert_eq(e, MS_ABI_OK, "%s arg %zu", v->name, a);
                        cr_assert_eq(got, be64(want + 24), "%s arg %zu: uint256 as u64", v->name, a);
                    } else {
                        cr_assert_eq(e, MS_ABI_DIRTY, "%s arg %zu: uint256 > 2^64-1 must be dirty", v->name, a);
                    }
                }
            } else {
                cr_assert_fail("%s arg %zu: unexpected type %s", v->name, a, arg->type);
            }
        }
        /* One head word short: the last argument's slot is out of range. */
        if (v->nargs > 0) {
            ms_abi_args shortargs = { data + 4, 32 * (v->nargs - 1) };
            uint8_t w[32];
            cr_assert_eq(ms_abi_word(w, &shortargs, v->nargs - 1), MS_ABI_SHORT, "%s: short head", v->name);
        }
    }
}

Test(vectors, abi_revert_data_encodes)
{
    ms_buf b;
    ms_buf_init(&b);
    for (size_t i = 0; i < MS_VEC_ABI_REVERTS_COUNT; i++) {
        const ms_vec_abi *v = &ms_vec_abi_reverts[i];
        ms_buf_reset(&b);
        ms_abi_put_selector(&b, v->selector);
        for (size_t a = 0; a < v->nargs; a++) {
            const ms_vec_abi_arg *arg = &v->args[a];
            uint8_t val[32];
            size_t wn = hex_in(val, sizeof val, arg->value_hex, SIZE_MAX);
            if (strcmp(arg->type, "address") == 0) {
                cr_assert_eq(wn, 20u);
                ms_abi_put_address(&b, val);
            } else if (strncmp(arg->type, "uint", 4) == 0) {
                cr_assert_eq(wn, 32u);
                int fits64 = 1;
                for (size_t k = 0; k < 24; k++) fits64 &= val[k] == 0;
                if (fits64) ms_abi_put_uint(&b, be64(val + 24));
                else ms_abi_put_word(&b, val);
            } else if (strncmp(arg->type, "bytes", 5) == 0 && strcmp(arg->type, "bytes") != 0) {
                /* bytesN: left-aligned, zero padded. */
                uint8_t w[32] = { 0 };
                memcpy(w, val, wn);
                ms_abi_put_word(&b, w);
            } else {
                cr_assert_fail("%s arg %zu: unexpected type %s", v->name, a, arg->type);
            }
        }
        cr_assert_eq(b.failed, 0);
        uint8_t want[HEX_CAP];
        size_t n = hex_in(want, sizeof want, v->data_hex, SIZE_MAX);
        cr_assert_eq(b.size, n, "%s: revert data length %zu, want %zu", v->name, b.size, n);
        cr_assert(memcmp(b.data, want, n) == 0, "%s: revert data differs", v->name);
    }
    ms_buf_free(&b);
}

Test(vectors, abi_bytes_tail_encodes)
{
    /* The tails of the `bytes` arguments in the calldata vectors are the
     * same encoding the module uses for returned bytes. */
    ms_buf b;
    ms_buf_init(&b);
    size_t seen = 0;
    for (size_t i = 0; i < MS_VEC_ABI_CALLS_COUNT; i++) {
        const ms_vec_abi *v = &ms_vec_abi_calls[i];
        uint8_t data[HEX_CAP];
        size_t n = hex_in(data, sizeof data, v->data_hex, SIZE_MAX);
        for (size_t a = 0; a < v->nargs; a++) {
            if (strcmp(v->args[a].type, "bytes") != 0) continue;
            uint8_t val[HEX_CAP];
            size_t len = hex_in(val, sizeof val, v->args[a].value_hex, SIZE_MAX);
            size_t off = (size_t)be64(data + 4 + 32 * a + 24);
            ms_buf_reset(&b);
            ms_abi_put_bytes_tail(&b, len ? val : NULL, len);
            cr_assert_eq(b.failed, 0);
            cr_assert_eq(b.size, 32 * ms_abi_bytes_tail_words(len), "%s arg %zu: tail words", v->name, a);
            cr_assert_leq(4 + off + b.size, n, "%s arg %zu: tail inside calldata", v->name, a);
            cr_assert(memcmp(b.data, data + 4 + off, b.size) == 0, "%s arg %zu: tail bytes", v->name, a);
            seen++;
        }
    }
    cr_assert_gt(seen, 0u);
    ms_buf_free(&b);
}

/* ------------------------------------------------------------------ eip712 */

static ms_verifier *verifier;

static void verifier_setup(void)
{
    verifier = ms_verifier_create();
    cr_assert_not_null(verifier);
}

static void verifier_teardown(void)
{
    ms_verifier_destroy(verifier);
    verifier = NULL;
}

static void domain_of(uint8_t out[32], uint64_t chain_id, const char *contract_hex, const char *want_hex)
{
    uint8_t contract[20];
    hex_in(contract, sizeof contract, contract_hex, 20);
    ms_eip712_domain(out, chain_id, contract);
    expect_bytes(out, want_hex, 32, "domain separator");
}

static void check_signature(const uint8_t digest[32], const char *sig_hex, const char *signer_hex, const char *what)
{
    uint8_t sig[65], addr[20];
    hex_in(sig, sizeof sig, sig_hex, 65);
    cr_assert_eq(ms_signature_check(sig, sizeof sig), MS_SIG_OK, "%s: signature check", what);
    cr_assert_eq(ms_signature_recover(addr, verifier, digest, sig, sizeof sig), MS_SIG_OK, "%s: recover", what);
    expect_bytes(addr, signer_hex, 20, what);
}

Test(vectors, eip712_domains)
{
    cr_assert_geq(MS_VEC_EIP712_DOMAINS_COUNT, 6u);
    for (size_t i = 0; i < MS_VEC_EIP712_DOMAINS_COUNT; i++) {
        const ms_vec_eip712_domain *d = &ms_vec_eip712_domains[i];
        uint8_t sep[32];
        domain_of(sep, d->chain_id, d->contract_hex, d->separator_hex);
    }
}

/* eip712Domain() (EIP-5267) through a module instance configured with each
 * domain's chain id and verifying contract: its return data byte for byte
 * as ethers encodes it, its gas, and the domain domainSeparator() hashes. */
Test(vectors, eip712_domain_call, .init = cf_setup, .fini = cf_teardown)
{
    cr_assert_geq(MS_VEC_EIP712_DOMAINS_COUNT, 6u);
    for (size_t i = 0; i < MS_VEC_EIP712_DOMAINS_COUNT; i++) {
        const ms_vec_eip712_domain *d = &ms_vec_eip712_domains[i];
        ms_config c = cf_default_config();
        c.chain_id = d->chain_id;
        cr_assert_eq(ms_test_hex(c.precompile_address.bytes, 20, d->contract_hex), 20u);
        cf_setup_with(&c);
        CF.blk.chain_id = d->chain_id;

        uint8_t want[1024];
        const size_t want_n = ms_test_hex(want, sizeof want, d->eip712_domain_hex);
        cr_assert_eq(want_n, 12u * 32u, "vector %zu: 12 words", i);
        cf_snap s;
        cf_snapshot(&CF, &s);
        ms_message m = cf_msg(CF_BOB.addr, cf_enc(MS_FN_EIP712_DOMAIN, ""));
        m.kind = MS_STATICCALL;
        m.is_static = 1;
        cf_res *r = cf_exec_msg(&CF, &m);
        CF_SUCCESS(r);
        CF_BYTES(r->out, r->out_size, want, want_n);
        cr_assert_eq(r->log_count, 0u);
        CF_UNCHANGED(&CF, &s);

        /* C + I + O(12): no hashing, nothing read. */
        const uint64_t gas = cf_base_gas(&CF.cfg, 4) + 12u * CF.cfg.gas.output_word;
        cr_assert_eq(r->gas_used, gas, "vector %zu: gas %llu", i, (unsigned long long)r->gas_used);
        cr_assert_eq(gas, 239u, "at the default schedule");

        /* The separator of the domain it names is domainSeparator()'s. */
        uint8_t sep[32];
        cr_assert_eq(ms_test_hex(sep, 32, d->separator_hex), 32u);
        r = cf_call(&CF, CF_BOB.addr, cf_cd_domain());
        CF_SUCCESS(r);
        CF_BYTES(r->out, r->out_size, sep, 32);
    }
}

Test(vectors, eip712_create, .init = verifier_setup, .fini = verifier_teardown)
{
    for (size_t i = 0; i < MS_VEC_EIP712_CREATES_COUNT; i++) {
        const ms_vec_eip712_create *v = &ms_vec_eip712_creates[i];
        uint8_t dom[32], digest[32];
        domain_of(dom, v->chain_id, v->contract_hex, v->domain_hex);
        ms_eip712_create m;
        memset(&m, 0, sizeof m);
        hex_in(m.owner, 20, v->owner_hex, 20);
        hex_in(m.salt, 32, v->salt_hex, 32);
        hex_in(m.metadata, 32, v->metadata_hex, 32);
        hex_in(m.ciphertext_hash, 32, v->ciphertext_hash_hex, 32);
        m.nonce = v->nonce;
        hex_in(m.deadline, 32, v->deadline_hex, 32);
        ms_eip712_create_digest(digest, dom, &m);
        expect_bytes(digest, v->digest_hex, 32, "CreateMemory digest");
        check_signature(digest, v->signature_hex, v->signer_hex, "CreateMemory signature");
        expect_bytes(m.owner, v->signer_hex, 20, "CreateMemory is signed by its owner");
    }
}

Test(vectors, eip712_append, .init = verifier_setup, .fini = verifier_teardown)
{
    for (size_t i = 0; i < MS_VEC_EIP712_APPENDS_COUNT; i++) {
        const ms_vec_eip712_append *v = &ms_vec_eip712_appends[i];
        uint8_t dom[32], digest[32];
        domain_of(dom, v->chain_id, v->contract_hex, v->domain_hex);
        ms_eip712_append m;
        memset(&m, 0, sizeof m);
        hex_in(m.asset_id, 32, v->asset_id_hex, 32);
        m.expected_version = v->expected_version;
        m.key_epoch = v->key_epoch;
        hex_in(m.ciphertext_hash, 32, v->ciphertext_hash_hex, 32);
        hex_in(m.signer, 20, v->signer_field_hex, 20);
        m.nonce = v->nonce;
        hex_in(m.deadline, 32, v->deadline_hex, 32);
        ms_eip712_append_digest(digest, dom, &m);
        expect_bytes(digest, v->digest_hex, 32, "AppendVersion digest");
        check_signature(digest, v->signature_hex, v->signer_hex, "AppendVersion signature");
        expect_bytes(m.signer, v->signer_hex, 20, "AppendVersion is signed by its signer field");
    }
}

Test(vectors, eip712_transfer, .init = verifier_setup, .fini = verifier_teardown)
{
    for (size_t i = 0; i < MS_VEC_EIP712_TRANSFERS_COUNT; i++) {
        const ms_vec_eip712_transfer *v = &ms_vec_eip712_transfers[i];
        uint8_t dom[32], digest[32];
        domain_of(dom, v->chain_id, v->contract_hex, v->domain_hex);
        ms_eip712_transfer m;
        memset(&m, 0, sizeof m);
        hex_in(m.asset_id, 32, v->asset_id_hex, 32);
        hex_in(m.new_owner, 20, v->new_owner_hex, 20);
        m.nonce = v->nonce;
        hex_in(m.deadline, 32, v->deadline_hex, 32);
        ms_eip712_transfer_digest(digest, dom, &m);
        expect_bytes(digest, v->digest_hex, 32, "TransferOwnership digest");
        check_signature(digest, v->signature_hex, v->signer_hex, "TransferOwnership signature");
    }
}

Test(vectors, raw_digest_signatures, .init = verifier_setup, .fini = verifier_teardown)
{
    for (size_t i = 0; i < MS_VEC_SIG_RAWS_COUNT; i++) {
        const ms_vec_sig_raw *v = &ms_vec_sig_raws[i];
        uint8_t digest[32];
        hex_in(digest, sizeof digest, v->digest_hex, 32);
        check_signature(digest, v->signature_hex, v->signer_hex, "raw digest signature");

        /* A flipped digest bit recovers someone else (or nobody). */
        uint8_t sig[65], addr[20], want[20];
        hex_in(sig, sizeof sig, v->signature_hex, 65);
        hex_in(want, sizeof want, v->signer_hex, 20);
        digest[31] ^= 1;
        if (ms_signature_recover(addr, verifier, digest, sig, sizeof sig) == MS_SIG_OK)
            cr_assert(memcmp(addr, want, 20) != 0, "tampered digest still recovers the signer");
    }
}

/* ------------------------------------------------------------ version hash */

Test(vectors, asset_ids)
{
    for (size_t i = 0; i < MS_VEC_ASSET_IDS_COUNT; i++) {
        const ms_vec_asset_id *v = &ms_vec_asset_ids[i];
        uint8_t packed[72], id[32];
        hex_in(packed, 20, v->precompile_hex, 20);
        hex_in(packed + 20, 20, v->owner_hex, 20);
        hex_in(packed + 40, 32, v->salt_hex, 32);
        ms_keccak256(id, packed, sizeof packed);
        expect_bytes(id, v->asset_id_hex, 32, "assetId");
    }
}

Test(vectors, version_hash_chain)
{
    uint8_t prev[32] = { 0 };
    cr_assert_geq(MS_VEC_VERSIONS_COUNT, 4u);
    for (size_t i = 0; i < MS_VEC_VERSIONS_COUNT; i++) {
        const ms_vec_version *v = &ms_vec_versions[i];
        cr_assert_eq(v->version, (uint64_t)(i + 1));
        expect_bytes(prev, v->prev_hash_hex, 32, "prevHash links to the previous version");

        uint8_t ct[HEX_CAP], cth[32];
        size_t n = hex_in(ct, sizeof ct, v->ciphertext_hex, SIZE_MAX);
        ms_keccak256(cth, ct, n);
        expect_bytes(cth, v->ciphertext_hash_hex, 32, "ciphertextHash");

        /* abi.encodePacked(bytes32, bytes32, uint64, bytes32, uint64, address) */
        uint8_t packed[132];
        size_t o = 0;
        memcpy(packed + o, prev, 32);
        o += 32;
        hex_in(packed + o, 32, v->asset_id_hex, 32);
        o += 32;
        for (int k = 7; k >= 0; k--) packed[o++] = (uint8_t)(v->version >> (8 * k));
        memcpy(packed + o, cth, 32);
        o += 32;
        for (int k = 7; k >= 0; k--) packed[o++] = (uint8_t)(v->key_epoch >> (8 * k));
        hex_in(packed + o, 20, v->author_hex, 20);
        o += 20;
        cr_assert_eq(o, sizeof packed);

        uint8_t vh[32];
        ms_keccak256(vh, packed, sizeof packed);
        expect_bytes(vh, v->version_hash_hex, 32, "versionHash");
        /* The shared function the module and the device library both call. */
        uint8_t id[32], author[20], vh2[32];
        hex_in(id, 32, v->asset_id_hex, 32);
        hex_in(author, 20, v->author_hex, 20);
        ms_version_hash(vh2, prev, id, v->version, cth, v->key_epoch, author);
        expect_bytes(vh2, v->version_hash_hex, 32, "ms_version_hash");
        memcpy(prev, vh, 32);
    }
}
