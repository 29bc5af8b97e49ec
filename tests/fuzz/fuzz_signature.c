/* libFuzzer harness for crypto/signature.c.
 *
 * Input: [mode][digest 32][rest...]
 * mode & 3 == 0: rest is the signature, any length;
 *             1: 65 bytes of rest with v forced to 27/28 and s's top bit
 *                cleared, so most inputs reach libsecp256k1 recovery;
 *             2: rest[0..32) is a secret key: sign the digest for real, then
 *                optionally flip one byte (rest[32] position, rest[33] mask);
 *             3: host misuse: NULL signature, verifier or digest.
 * The module is compared with a model of ms_signature_check and with
 * libsecp256k1 called directly, so a wrong accept or reject is a crash too. */
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "crypto/signature.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ms_verifier *g_ver;
static secp256k1_context *g_ctx;   /* the reference, with default (aborting) callbacks: */
                                   /* it only ever sees inputs it documents as legal */

static const uint8_t N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};
static const uint8_t ZERO[32];

static ms_sig_err model_check(const uint8_t *sig, size_t len)
{
    if (sig == NULL || len != 65) return MS_SIG_LENGTH;
    if (sig[64] != 27 && sig[64] != 28) return MS_SIG_V;
    if (memcmp(sig, ZERO, 32) == 0 || memcmp(sig, N, 32) >= 0) return MS_SIG_R;
    if (memcmp(sig + 32, ZERO, 32) == 0 || memcmp(sig + 32, N, 32) >= 0) return MS_SIG_S;
    if (memcmp(sig + 32, HALF_N, 32) > 0) return MS_SIG_HIGH_S;
    return MS_SIG_OK;
}

/* Recovery straight through libsecp256k1 for a signature model_check
 * accepts. Returns 1 and the address, or 0 when no key recovers. */
static int ref_recover(uint8_t out20[20], const uint8_t digest[32], const uint8_t sig[65])
{
    secp256k1_ecdsa_recoverable_signature rs;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(g_ctx, &rs, sig, sig[64] - 27)) return 0;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(g_ctx, &pk, &rs, digest)) return 0;
    uint8_t ser[65], h[32];
    size_t n = sizeof ser;
    secp256k1_ec_pubkey_serialize(g_ctx, ser, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
    ms_keccak256(h, ser + 1, 64);
    memcpy(out20, h + 12, 20);
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_ver = ms_verifier_create();
    g_ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (g_ver == NULL || g_ctx == NULL) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    const uint8_t mode = fz_u8(&in) & 3u;
    uint8_t digest[32];
    fz_bytes(&in, digest, 32);

    uint8_t sig_fixed[65];
    const uint8_t *sig = in.p;
    size_t sig_len = in.n;
    int signed_by_key = 0;
    uint8_t key_addr[20];

    if (mode == 1) {
        fz_bytes(&in, sig_fixed, 65);
        sig_fixed[32] &= 0x7f;
        sig_fixed[64] = (uint8_t)(27 + (sig_fixed[64] & 1));
        sig = sig_fixed;
        sig_len = 65;
    } else if (mode == 2) {
        uint8_t sk[32];
        fz_bytes(&in, sk, 32);
        const uint8_t pos = fz_u8(&in), mask = fz_u8(&in);
        secp256k1_ecdsa_recoverable_signature rs;
        secp256k1_pubkey pk;
        if (!secp256k1_ec_seckey_verify(g_ctx, sk)) return 0;   /* no such key */
        if (!secp256k1_ecdsa_sign_recoverable(g_ctx, &rs, digest, sk, NULL, NULL)) return 0;
        int recid = 0;
        secp256k1_ecdsa_recoverable_signature_serialize_compact(g_ctx, sig_fixed, &recid, &rs);
        sig_fixed[64] = (uint8_t)(27 + recid);
        FZ_CHECK(secp256k1_ec_pubkey_create(g_ctx, &pk, sk));
        uint8_t ser[65], h[32];
        size_t n = sizeof ser;
        secp256k1_ec_pubkey_serialize(g_ctx, ser, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
        ms_keccak256(h, ser + 1, 64);
        memcpy(key_addr, h + 12, 20);
        signed_by_key = mask == 0;
        sig_fixed[pos % 65] ^= mask;
        sig = sig_fixed;
        sig_len = 65;
    }

    /* Exact-size copy so ASan sees any read past the signature. */
    uint8_t *copy = NULL;
    if (sig_len > 0) {
        copy = malloc(sig_len);
        if (copy == NULL) return 0;
        memcpy(copy, sig, sig_len);
    }

    if (mode == 3) {
        /* NULL pointers: defined errors, zeroed output, nothing read. */
        uint8_t out[20];
        memset(out, 0xA5, sizeof out);
        FZ_CHECK(ms_signature_check(NULL, sig_len) == MS_SIG_LENGTH);
        FZ_CHECK(ms_signature_recover(out, g_ver, digest, NULL, sig_len) == MS_SIG_LENGTH);
        FZ_CHECK(memcmp(out, ZERO, 20) == 0);
        const ms_sig_err c = model_check(copy, sig_len);
        memset(out, 0xA5, sizeof out);
        const ms_sig_err e1 = ms_signature_recover(out, NULL, digest, copy, sig_len);
        FZ_CHECK(e1 == (c == MS_SIG_OK ? MS_SIG_UNRECOVERABLE : c) && memcmp(out, ZERO, 20) == 0);
        memset(out, 0xA5, sizeof out);
        const ms_sig_err e2 = ms_signature_recover(out, g_ver, NULL, copy, sig_len);
        FZ_CHECK(e2 == (c == MS_SIG_OK ? MS_SIG_UNRECOVERABLE : c) && memcmp(out, ZERO, 20) == 0);
        free(copy);
        return 0;
    }

    const ms_sig_err want = model_check(copy, sig_len);
    const ms_sig_err got = ms_signature_check(copy, sig_len);
    FZ_CHECK(got == want);

    uint8_t addr[20];
    memset(addr, 0xA5, sizeof addr);
    const ms_sig_err rec = ms_signature_recover(addr, g_ver, digest, copy, sig_len);
    FZ_CHECK(rec >= MS_SIG_OK && rec <= MS_SIG_UNRECOVERABLE);
    if (want != MS_SIG_OK) {
        FZ_CHECK(rec == want);
    } else {
        uint8_t ref[20];
        const int ok = ref_recover(ref, digest, copy);
        if (ok && memcmp(ref, ZERO, 20) != 0) {
            FZ_CHECK(rec == MS_SIG_OK && memcmp(addr, ref, 20) == 0);
        } else {
            FZ_CHECK(rec == MS_SIG_UNRECOVERABLE);
        }
    }
    if (rec == MS_SIG_OK) FZ_CHECK(memcmp(addr, ZERO, 20) != 0);
    else FZ_CHECK(memcmp(addr, ZERO, 20) == 0);
    /* An unmodified signature by a real key recovers that key. */
    if (signed_by_key) FZ_CHECK(rec == MS_SIG_OK && memcmp(addr, key_addr, 20) == 0);

    free(copy);
    return 0;
}
