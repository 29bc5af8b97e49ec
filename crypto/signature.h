/* Recovery of an Ethereum signer from a 65-byte r || s || v signature.
 * Every field is validated before libsecp256k1 sees it, so its abort-on-
 * misuse path is never reached; the context also carries non-aborting
 * callbacks as a second line of defence. */
#ifndef MS_CRYPTO_SIGNATURE_H
#define MS_CRYPTO_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

/** Failures; the numbers are the `reason` of InvalidSignature. */
typedef enum ms_sig_err {
    MS_SIG_OK = 0,
    MS_SIG_LENGTH = 1,          /* not exactly 65 bytes */
    MS_SIG_V = 2,               /* v not 27 or 28 */
    MS_SIG_R = 3,               /* r == 0 or r >= n */
    MS_SIG_S = 4,               /* s == 0 or s >= n */
    MS_SIG_HIGH_S = 5,          /* s > n/2 (EIP-2) */
    MS_SIG_UNRECOVERABLE = 6    /* no public key, or it hashes to address 0 */
} ms_sig_err;

typedef struct ms_verifier ms_verifier;

/** Returns a new verifier (owns a secp256k1 context with non-aborting
 *  callbacks), or NULL when out of memory. */
ms_verifier *ms_verifier_create(void);
/** NULL is a no-op. */
void ms_verifier_destroy(ms_verifier *v);

/** Checks r, s, v only; a NULL sig is MS_SIG_LENGTH. In: sig, sig_len. */
ms_sig_err ms_signature_check(const uint8_t *sig, size_t sig_len);

/** Recover the signer's address of digest32.
 *  Returns MS_SIG_OK and fills out20 (never the zero address), or an error
 *  and zeroes out20. In: v (a verifier), digest32, sig, sig_len. */
ms_sig_err ms_signature_recover(uint8_t out20[20], const ms_verifier *v, const uint8_t digest32[32],
                                const uint8_t *sig, size_t sig_len);

/** The Ethereum address of an uncompressed public key (64 bytes, x || y). */
void ms_address_from_pubkey(uint8_t out20[20], const uint8_t pubkey64[64]);

#endif
