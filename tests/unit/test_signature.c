/* Signer recovery: every rejection reason, EIP-2's bounds at their edges,
 * signatures made by ethers 6, and sign/recover round trips. */
#include <criterion/criterion.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>

#include "crypto/signature.h"
#include "test_util.h"

/* secp256k1 group order n, n - 1, n / 2 (floored) and n / 2 + 1. */
#define N_HEX "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
#define N_MINUS_1_HEX "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"
#define HALF_N_HEX "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"
#define HALF_N_PLUS_1_HEX "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1"

/* From ethers 6: Wallet(KAT_KEY).address and .signingKey.publicKey. */
#define KAT_KEY "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
#define KAT_ADDR "2c7536e3605d9c16a7a3d7b1898e529396a65c23"
#define KAT_PUB "4e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e" \
                "47fd35c4215d1edf53e6f83de344615ce719bdb0fd878f6ed76f06dd277956de"

/* From ethers 6: Wallet(KAT_KEY).signingKey.sign(digest) for the six EIP-712
 * digests of test_eip712.c (three types, chain ids 31337 and 1). */
static const struct {
    const char *digest, *r, *s;
    uint8_t v;
} kat_sigs[] = {
    {"30238e0917c32db83a3a490fe953a79852fc368900895339684732a266571d9d",
     "fd8fb1df3f08c8ce590a4921ddff84e3ce02950aab6721696c93137794f63689",
     "3f6a2cedfbe11e32e56cfc4bfb67148460d629a9c75ed51f68904f5c3a921a2c", 28},
    {"ef4b89a803539f0dc83da6880d3b1397c716cad1659dcaeccc2c8277a6fe4b78",
     "bc1f8f0872dfb863998700d8c2cdf6c1d06faa3fdb9a8dccfb4e91dd839a4d3d",
     "4bb548f834f84ab2c08159a7cd7d24b1e8667e96012b13367c9a0ef094a15ab9", 27},
    {"7ac2028b9b5bce56567b10ef87cda42e140155638fc7c306d2c17b0cbdc39639",
     "9a68039eb054ebd8fd337fcd6d480e0efbe3eaa6e1e2ad5a96a86e0e3a00a624",
     "25a2b2dd8c8fd17807c8e4cebaf565422ff4932b05e5e587fcb0b55095c21102", 28},
    {"231b76579afde0b1293af44a8d03c5d6d9bbd2d49a1af2d2577fbb58b5810992",
     "b6f9bb44a2661d161e866713bb6c9eb6cc36afff927c760415c6ef029b8d1b7b",
     "0fed46272cc7322af3623c641d9c54cc1c83dbab7d286227a0307b6711da5251", 27},
    {"8101384ff02a96c395849bc507ae30fb5a0c4b3e854abfa3d883ed8121205f44",
     "975cb3fb8c8eef356fea69b296d68ca2669584e8a4fdbbf57d77a1db9c32af6b",
     "2daf9e9a5328bd8f26ef2fcb841a8bf76a887ac000aa374d6479da7a7603ab2b", 28},
    {"4b4ccb5282152940b043d64450f413d2dc1c1c1ea54ad50e95dc3fe705812f66",
     "5a7b612a62d6e6ce26eee9502b63fcc2bf86468cbed3b9fbc69409dafeb4fe47",
     "5bbaad4a7f64cf1c7211afcda7b8c225238c3cde2e9308e7c7be85232b5fa41c", 28},
};
#define KAT_COUNT (sizeof kat_sigs / sizeof kat_sigs[0])

/* 5^3 + 7 is a quadratic non-residue mod p, so no curve point has x = 5 and
 * recovery fails for any digest and s (found by trying r = 1, 2, ... against
 * libsecp256k1; r = 7, 9, 10, 11 also qualify). */
#define NO_POINT_R_HEX "0000000000000000000000000000000000000000000000000000000000000005"

static ms_verifier *ver;

static void setup(void)
{
    ver = ms_verifier_create();
    cr_assert_not_null(ver);
}

static void teardown(void)
{
    ms_verifier_destroy(ver);
    ver = NULL;
}

static void hexn(uint8_t *out, size_t n, const char *hex)
{
    cr_assert_eq(ms_test_hex(out, n, hex), n, "bad test hex %s", hex);
}

static void make_sig(uint8_t sig[65], const char *r_hex, const char *s_hex, uint8_t v)
{
    hexn(sig, 32, r_hex);
    hexn(sig + 32, 32, s_hex);
    sig[64] = v;
}

/* A well-formed signature with a chosen r or s, for the bound tests. */
static const char *const OK_R = "fd8fb1df3f08c8ce590a4921ddff84e3ce02950aab6721696c93137794f63689";
static const char *const OK_S = "3f6a2cedfbe11e32e56cfc4bfb67148460d629a9c75ed51f68904f5c3a921a2c";

/* Recover must report the check's verdict (the check cannot see a missing
 * curve point), and a failed recovery must zero out20. */
static void expect_err(const uint8_t *sig, size_t len, ms_sig_err want)
{
    uint8_t digest[32], out[20], zero[20] = {0};
    memset(digest, 0x42, sizeof digest);
    memset(out, 0xaa, sizeof out);
    cr_assert_eq(ms_signature_check(sig, len), want == MS_SIG_UNRECOVERABLE ? MS_SIG_OK : want);
    cr_assert_eq(ms_signature_recover(out, ver, digest, sig, len), want);
    cr_assert_arr_eq(out, zero, 20);
}

static void expect_rs(const char *r_hex, const char *s_hex, uint8_t v, ms_sig_err want)
{
    uint8_t sig[65];
    make_sig(sig, r_hex, s_hex, v);
    expect_err(sig, sizeof sig, want);
}

/* Test-only signer: libsecp256k1 with its default (RFC 6979) nonce, which
 * always yields low s. Returns the Ethereum r || s || v and the address. */
static void sign(uint8_t sig[65], uint8_t addr[20], const uint8_t key[32], const uint8_t digest[32])
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    cr_assert_not_null(ctx);
    secp256k1_ecdsa_recoverable_signature rs;
    cr_assert(secp256k1_ecdsa_sign_recoverable(ctx, &rs, digest, key, NULL, NULL));
    int recid = -1;
    cr_assert(secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig, &recid, &rs));
    cr_assert(recid == 0 || recid == 1);
    sig[64] = (uint8_t)(27 + recid);

    secp256k1_pubkey pk;
    uint8_t ser[65];
    size_t len = sizeof ser;
    cr_assert(secp256k1_ec_pubkey_create(ctx, &pk, key));
    cr_assert(secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED));
    ms_address_from_pubkey(addr, ser + 1);
    secp256k1_context_destroy(ctx);
}

/* out = n - a, for 0 < a < n: the malleated twin of s. */
static void n_minus(uint8_t out[32], const uint8_t a[32])
{
    uint8_t n[32];
    hexn(n, 32, N_HEX);
    unsigned borrow = 0;
    for (int i = 31; i >= 0; i--) {
        const unsigned d = (unsigned)n[i] - a[i] - borrow;
        out[i] = (uint8_t)d;
        borrow = (d >> 8) & 1u;
    }
    cr_assert_eq(borrow, 0u);
}

TestSuite(signature, .init = setup, .fini = teardown);

Test(signature, length)
{
    uint8_t sig[66];
    make_sig(sig, OK_R, OK_S, 27);
    sig[65] = 0;
    expect_err(sig, 64, MS_SIG_LENGTH);
    expect_err(sig, 66, MS_SIG_LENGTH);
    expect_err(sig, 0, MS_SIG_LENGTH);
    expect_err(NULL, 0, MS_SIG_LENGTH);
    expect_err(NULL, 65, MS_SIG_LENGTH);
}

Test(signature, v)
{
    static const uint8_t bad[] = {0, 1, 26, 29, 255};
    for (size_t i = 0; i < sizeof bad; i++) expect_rs(OK_R, OK_S, bad[i], MS_SIG_V);
    cr_assert_eq(ms_signature_check((const uint8_t[65]){[0] = 1, [32] = 1, [64] = 27}, 65), MS_SIG_OK);
    cr_assert_eq(ms_signature_check((const uint8_t[65]){[0] = 1, [32] = 1, [64] = 28}, 65), MS_SIG_OK);
}

Test(signature, r_zero)
{
    expect_rs("0000000000000000000000000000000000000000000000000000000000000000", OK_S, 27, MS_SIG_R);
}

Test(signature, r_at_or_above_n)
{
    expect_rs(N_HEX, OK_S, 27, MS_SIG_R);
    expect_rs("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142", OK_S, 28, MS_SIG_R);
    expect_rs("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", OK_S, 27, MS_SIG_R);
    /* n - 1 is in range, so the check moves on to s. */
    uint8_t sig[65];
    make_sig(sig, N_MINUS_1_HEX, OK_S, 27);
    cr_assert_eq(ms_signature_check(sig, 65), MS_SIG_OK);
}

Test(signature, s_zero_or_above_n)
{
    expect_rs(OK_R, "0000000000000000000000000000000000000000000000000000000000000000", 27, MS_SIG_S);
    expect_rs(OK_R, N_HEX, 27, MS_SIG_S);
    expect_rs(OK_R, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142", 27, MS_SIG_S);
    expect_rs(OK_R, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 28, MS_SIG_S);
}

Test(signature, high_s)
{
    expect_rs(OK_R, HALF_N_PLUS_1_HEX, 27, MS_SIG_HIGH_S);
    expect_rs(OK_R, N_MINUS_1_HEX, 28, MS_SIG_HIGH_S);
}

Test(signature, s_exactly_half_n_is_accepted)
{
    uint8_t sig[65], digest[32], out[20];
    make_sig(sig, OK_R, HALF_N_HEX, 27);
    memset(digest, 0x42, sizeof digest);
    cr_assert_eq(ms_signature_check(sig, 65), MS_SIG_OK);
    /* OK_R is the x of a curve point, so some key recovers. */
    cr_assert_eq(ms_signature_recover(out, ver, digest, sig, 65), MS_SIG_OK);
}

Test(signature, s_one_is_accepted)
{
    uint8_t sig[65];
    make_sig(sig, OK_R, "0000000000000000000000000000000000000000000000000000000000000001", 28);
    cr_assert_eq(ms_signature_check(sig, 65), MS_SIG_OK);
}

Test(signature, first_failing_field_wins)
{
    /* Everything wrong at once: the order is length, v, r, s, high s. */
    uint8_t sig[65];
    make_sig(sig, N_HEX, N_HEX, 0);
    expect_err(sig, 64, MS_SIG_LENGTH);
    expect_rs(N_HEX, N_HEX, 0, MS_SIG_V);
    expect_rs(N_HEX, N_HEX, 27, MS_SIG_R);
    expect_rs(OK_R, N_HEX, 27, MS_SIG_S);
}

Test(signature, r_without_curve_point_is_unrecoverable)
{
    expect_rs(NO_POINT_R_HEX, OK_S, 27, MS_SIG_UNRECOVERABLE);
    expect_rs(NO_POINT_R_HEX, OK_S, 28, MS_SIG_UNRECOVERABLE);
    expect_rs(NO_POINT_R_HEX, HALF_N_HEX, 27, MS_SIG_UNRECOVERABLE);
}

Test(signature, address_from_pubkey_matches_ethers)
{
    uint8_t pub[64], want[20], out[20];
    hexn(pub, 64, KAT_PUB);
    hexn(want, 20, KAT_ADDR);
    ms_address_from_pubkey(out, pub);
    cr_assert_arr_eq(out, want, 20);
}

Test(signature, recovers_ethers_signatures)
{
    uint8_t want[20];
    hexn(want, 20, KAT_ADDR);
    for (size_t i = 0; i < KAT_COUNT; i++) {
        uint8_t digest[32], sig[65], out[20];
        hexn(digest, 32, kat_sigs[i].digest);
        make_sig(sig, kat_sigs[i].r, kat_sigs[i].s, kat_sigs[i].v);
        cr_assert_eq(ms_signature_recover(out, ver, digest, sig, 65), MS_SIG_OK, "kat %zu", i);
        cr_assert_arr_eq(out, want, 20, "kat %zu", i);
    }
}

Test(signature, test_signer_reproduces_ethers)
{
    /* Both use RFC 6979, so the signatures must be byte-identical; this
     * validates the helper used by the round-trip tests below. */
    uint8_t key[32], want_addr[20];
    hexn(key, 32, KAT_KEY);
    hexn(want_addr, 20, KAT_ADDR);
    for (size_t i = 0; i < KAT_COUNT; i++) {
        uint8_t digest[32], want[65], sig[65], addr[20];
        hexn(digest, 32, kat_sigs[i].digest);
        make_sig(want, kat_sigs[i].r, kat_sigs[i].s, kat_sigs[i].v);
        sign(sig, addr, key, digest);
        cr_assert_arr_eq(sig, want, 65, "kat %zu", i);
        cr_assert_arr_eq(addr, want_addr, 20);
    }
}

Test(signature, flipped_digest_bit_gives_other_address)
{
    uint8_t digest[32], sig[65], want[20], out[20];
    hexn(want, 20, KAT_ADDR);
    hexn(digest, 32, kat_sigs[0].digest);
    make_sig(sig, kat_sigs[0].r, kat_sigs[0].s, kat_sigs[0].v);
    digest[17] ^= 0x08;
    cr_assert_eq(ms_signature_recover(out, ver, digest, sig, 65), MS_SIG_OK);
    cr_assert(memcmp(out, want, 20) != 0);
}

Test(signature, flipped_v_gives_other_address)
{
    uint8_t digest[32], sig[65], want[20], out[20];
    hexn(want, 20, KAT_ADDR);
    hexn(digest, 32, kat_sigs[1].digest);
    make_sig(sig, kat_sigs[1].r, kat_sigs[1].s, (uint8_t)(55 - kat_sigs[1].v));
    cr_assert_eq(ms_signature_recover(out, ver, digest, sig, 65), MS_SIG_OK);
    cr_assert(memcmp(out, want, 20) != 0);
}

Test(signature, malleated_twin_is_high_s)
{
    /* (r, n - s, v ^ 1) recovers the same key in plain ECDSA; EIP-2 must
     * reject it so that a signature has exactly one accepted encoding. */
    for (size_t i = 0; i < KAT_COUNT; i++) {
        uint8_t sig[65];
        make_sig(sig, kat_sigs[i].r, kat_sigs[i].s, kat_sigs[i].v);
        n_minus(sig + 32, sig + 32);
        sig[64] = (uint8_t)(55 - sig[64]);
        expect_err(sig, 65, MS_SIG_HIGH_S);
    }
}

Test(signature, round_trips)
{
    static const char *const keys[] = {
        "0000000000000000000000000000000000000000000000000000000000000001",
        "0000000000000000000000000000000000000000000000000000000000000002",
        N_MINUS_1_HEX,
        KAT_KEY,
        "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291",
        "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f",
    };
    uint8_t digest[32];
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        uint8_t key[32];
        hexn(key, 32, keys[k]);
        for (unsigned d = 0; d < 8u; d++) {
            for (size_t i = 0; i < 32; i++) digest[i] = (uint8_t)(i * 7u + d * 31u + k);
            uint8_t sig[65], addr[20], out[20];
            sign(sig, addr, key, digest);
            cr_assert_eq(ms_signature_check(sig, 65), MS_SIG_OK, "key %zu digest %u", k, d);
            cr_assert_eq(ms_signature_recover(out, ver, digest, sig, 65), MS_SIG_OK);
            cr_assert_arr_eq(out, addr, 20, "key %zu digest %u", k, d);
        }
    }
}

Test(signature, destroy_null_is_noop)
{
    ms_verifier_destroy(NULL);
}
