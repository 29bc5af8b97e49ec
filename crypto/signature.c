/* Ethereum signer recovery over libsecp256k1 (spec/eip712.md, EIP-2).
 * ms_signature_check is the consensus rule: it alone decides which 65-byte
 * strings are well formed, so the outcome never depends on how a particular
 * libsecp256k1 version treats edge cases such as r >= n or s == 0. */
#include "crypto/signature.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"

#define MS_SIG_SIZE 65u

struct ms_verifier {
    secp256k1_context *ctx;
};

/* Group order n of secp256k1, big-endian. */
static const uint8_t ms_order_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* floor(n / 2): EIP-2's bound for s, so s == n/2 itself is still valid. */
static const uint8_t ms_half_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

/* libsecp256k1's default callbacks abort the process, which would take the
 * whole node down on a bug that should merely fail one call. Returning lets
 * the failing libsecp256k1 function return 0, which recovery reports as
 * MS_SIG_UNRECOVERABLE. Nothing is recorded, so a verifier stays immutable
 * and may be shared. */
static void ms_secp_callback(const char *message, void *data)
{
    (void)message;
    (void)data;
}

ms_verifier *ms_verifier_create(void)
{
    ms_verifier *v = malloc(sizeof *v);
    if (v == NULL) return NULL;
    v->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (v->ctx == NULL) {
        free(v);
        return NULL;
    }
    secp256k1_context_set_illegal_callback(v->ctx, ms_secp_callback, NULL);
    secp256k1_context_set_error_callback(v->ctx, ms_secp_callback, NULL);
    return v;
}

void ms_verifier_destroy(ms_verifier *v)
{
    if (v == NULL) return;
    secp256k1_context_destroy(v->ctx);
    free(v);
}

static int ms_is_zero32(const uint8_t a[32])
{
    uint8_t acc = 0;
    for (unsigned i = 0; i < 32u; i++) acc |= a[i];
    return acc == 0;
}

/* memcmp orders equal-length big-endian numbers numerically. Variable time
 * leaks nothing: signatures are public. */
ms_sig_err ms_signature_check(const uint8_t *sig, size_t sig_len)
{
    /* A NULL buffer holds no signature, whatever length it claims. */
    if (sig == NULL || sig_len != MS_SIG_SIZE) return MS_SIG_LENGTH;
    const uint8_t *r = sig;
    const uint8_t *s = sig + 32;
    const uint8_t v = sig[64];
    if (v != 27u && v != 28u) return MS_SIG_V;
    if (ms_is_zero32(r) || memcmp(r, ms_order_n, 32) >= 0) return MS_SIG_R;
    if (ms_is_zero32(s) || memcmp(s, ms_order_n, 32) >= 0) return MS_SIG_S;
    if (memcmp(s, ms_half_n, 32) > 0) return MS_SIG_HIGH_S;
    return MS_SIG_OK;
}

void ms_address_from_pubkey(uint8_t out20[20], const uint8_t pubkey64[64])
{
    uint8_t h[32];
    ms_keccak256(h, pubkey64, 64);
    memcpy(out20, h + 12, 20);
}

/* Everything but the zeroing of out20 on failure. */
static ms_sig_err ms_recover(uint8_t out20[20], const ms_verifier *v, const uint8_t digest32[32],
                             const uint8_t *sig, size_t sig_len)
{
    const ms_sig_err e = ms_signature_check(sig, sig_len);
    if (e != MS_SIG_OK) return e;
    if (v == NULL || digest32 == NULL) return MS_SIG_UNRECOVERABLE;

    /* After the checks above libsecp256k1 cannot reject the input; its
     * return values are still honoured rather than assumed. */
    secp256k1_ecdsa_recoverable_signature rsig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(v->ctx, &rsig, sig, (int)(sig[64] - 27u))) {
        return MS_SIG_UNRECOVERABLE;
    }
    /* Fails when r is not the x coordinate of a curve point. */
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(v->ctx, &pk, &rsig, digest32)) return MS_SIG_UNRECOVERABLE;

    uint8_t ser[65];
    size_t ser_len = sizeof ser;
    if (!secp256k1_ec_pubkey_serialize(v->ctx, ser, &ser_len, &pk, SECP256K1_EC_UNCOMPRESSED) ||
        ser_len != sizeof ser) {
        return MS_SIG_UNRECOVERABLE;
    }
    /* ser[0] is the 0x04 uncompressed tag; Ethereum hashes only x || y. */
    ms_address_from_pubkey(out20, ser + 1);

    /* The zero address doubles as "nobody" elsewhere; a signature must never
     * act for it, however unlikely a key hashing to it is. */
    static const uint8_t zero20[20] = {0};
    if (memcmp(out20, zero20, 20) == 0) return MS_SIG_UNRECOVERABLE;
    return MS_SIG_OK;
}

ms_sig_err ms_signature_recover(uint8_t out20[20], const ms_verifier *v, const uint8_t digest32[32],
                                const uint8_t *sig, size_t sig_len)
{
    const ms_sig_err e = ms_recover(out20, v, digest32, sig, sig_len);
    if (e != MS_SIG_OK) memset(out20, 0, 20);
    return e;
}
