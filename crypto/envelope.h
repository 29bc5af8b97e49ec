/* The ciphertext envelope header that the owner's device writes and the
 * module validates without decrypting (spec/envelope.md):
 *
 *   offset size field
 *   0      1    format version (1)
 *   1      1    algorithm (1 = XChaCha20-Poly1305-IETF)
 *   2      8    key epoch, big-endian
 *   10     24   nonce (must not be all zero)
 *   34     n    ciphertext of the padded plaintext, then the 16-byte tag
 */
#ifndef MS_CRYPTO_ENVELOPE_H
#define MS_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define MS_ENVELOPE_VERSION 1u
#define MS_ENVELOPE_ALG_XCHACHA20POLY1305 1u
#define MS_ENVELOPE_HEADER_SIZE 34u
#define MS_ENVELOPE_TAG_SIZE 16u
#define MS_ENVELOPE_MIN_SIZE (MS_ENVELOPE_HEADER_SIZE + MS_ENVELOPE_TAG_SIZE)
#define MS_ENVELOPE_MIN_BUCKET 256u

/** Failures; the numbers are the `reason` of InvalidEnvelope. */
typedef enum ms_env_err {
    MS_ENV_OK = 0,
    MS_ENV_SHORT = 1,
    MS_ENV_VERSION = 2,
    MS_ENV_ALGORITHM = 3,
    MS_ENV_EPOCH = 4,        /* header epoch differs from the expected one */
    MS_ENV_NONCE = 5,        /* all-zero nonce */
    MS_ENV_BUCKET = 6        /* padded length violates the bucket policy */
} ms_env_err;

/** Validate an envelope header and length policy.
 *  In: env, len, key_epoch (the epoch the version claims), bucket_policy
 *  (an ms_bucket_policy from memsync.h; an unknown value is MS_ENV_BUCKET).
 *  A NULL env is MS_ENV_SHORT. The maximum size is the caller's. */
ms_env_err ms_envelope_check(const uint8_t *env, size_t len, uint64_t key_epoch, uint32_t bucket_policy);

#endif
