/* Envelope header and size policy (spec/envelope.md). The module never
 * decrypts; it only rejects envelopes that no honest client writes, so that
 * stored ciphertexts stay uniform and their lengths leak no more than the
 * bucket policy allows. */
#include "crypto/envelope.h"

#include "memsync.h"

#define MS_ENVELOPE_EPOCH_OFFSET 2u
#define MS_ENVELOPE_NONCE_OFFSET 10u
#define MS_ENVELOPE_NONCE_SIZE 24u

static uint64_t ms_read_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8u; i++) v = (v << 8) | p[i];
    return v;
}

static int ms_is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* padded is the length of the padded plaintext (the body without its tag).
 * A policy value this module does not know rejects every envelope: accepting
 * them would let a misconfigured chain store lengths the operator meant to
 * forbid, and the config check is the place to refuse such a value early. */
static int ms_bucket_ok(size_t padded, uint32_t policy)
{
    switch (policy) {
    case MS_BUCKETS_NONE:
        return 1;
    case MS_BUCKETS_POW2:
        return padded >= MS_ENVELOPE_MIN_BUCKET && (padded & (padded - 1u)) == 0;
    default:
        return 0;
    }
}

ms_env_err ms_envelope_check(const uint8_t *env, size_t len, uint64_t key_epoch, uint32_t bucket_policy)
{
    /* A NULL buffer holds nothing, whatever length it claims. */
    if (env == NULL || len < MS_ENVELOPE_MIN_SIZE) return MS_ENV_SHORT;
    if (env[0] != MS_ENVELOPE_VERSION) return MS_ENV_VERSION;
    if (env[1] != MS_ENVELOPE_ALG_XCHACHA20POLY1305) return MS_ENV_ALGORITHM;
    if (ms_read_be64(env + MS_ENVELOPE_EPOCH_OFFSET) != key_epoch) return MS_ENV_EPOCH;
    /* XChaCha20's nonce is random; all zero means the client never drew one. */
    if (ms_is_zero(env + MS_ENVELOPE_NONCE_OFFSET, MS_ENVELOPE_NONCE_SIZE)) return MS_ENV_NONCE;
    if (!ms_bucket_ok(len - MS_ENVELOPE_MIN_SIZE, bucket_policy)) return MS_ENV_BUCKET;
    return MS_ENV_OK;
}
