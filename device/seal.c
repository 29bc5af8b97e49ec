/* Data keys, envelopes and grants (spec/device.md §3-§4, spec/envelope.md). */
#include <string.h>

#include <sodium.h>

#include "abi/keccak.h"
#include "crypto/envelope.h"
#include "device/internal.h"
#include "memsync.h"

/* ------------------------------------------------------------- data keys */

static msd_data_key *msd_data_key_alloc(const uint8_t asset_id32[32], uint64_t key_epoch)
{
    if (sodium_init() < 0) return NULL;
    msd_data_key *k = sodium_malloc(sizeof *k);
    if (k == NULL) return NULL;
    sodium_memzero(k, sizeof *k);
    memcpy(k->asset_id, asset_id32, 32);
    k->epoch = key_epoch;
    return k;
}

msd_status msd_data_key_generate(msd_data_key **out, const uint8_t asset_id32[32], uint64_t key_epoch)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (asset_id32 == NULL || key_epoch == 0) return MSD_ERR_ARGS;
    msd_data_key *k = msd_data_key_alloc(asset_id32, key_epoch);
    if (k == NULL) return MSD_ERR_NOMEM;
    randombytes_buf(k->key, sizeof k->key);
    *out = k;
    return MSD_OK;
}

msd_status msd_data_key_import(msd_data_key **out, const uint8_t asset_id32[32], uint64_t key_epoch,
                               const uint8_t key32[MSD_DATA_KEY_SIZE])
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (asset_id32 == NULL || key32 == NULL || key_epoch == 0) return MSD_ERR_ARGS;
    msd_data_key *k = msd_data_key_alloc(asset_id32, key_epoch);
    if (k == NULL) return MSD_ERR_NOMEM;
    memcpy(k->key, key32, sizeof k->key);
    *out = k;
    return MSD_OK;
}

int msd_data_key_equal(const msd_data_key *a, const msd_data_key *b)
{
    if (a == NULL || b == NULL) return 0;
    const int same_key = msd_public(sodium_memcmp(a->key, b->key, sizeof a->key) == 0);
    return same_key && a->epoch == b->epoch && memcmp(a->asset_id, b->asset_id, 32) == 0;
}

void msd_data_key_destroy(msd_data_key *key)
{
    if (key != NULL) sodium_free(key);
}

uint64_t msd_data_key_info(const msd_data_key *key, uint8_t asset_id32[32])
{
    if (asset_id32 != NULL) memcpy(asset_id32, key->asset_id, 32);
    return key->epoch;
}

void msd_asset_id(uint8_t out32[32], const uint8_t precompile20[20], const uint8_t owner20[20],
                  const uint8_t salt32[32])
{
    uint8_t in[72];
    memcpy(in, precompile20, 20);
    memcpy(in + 20, owner20, 20);
    memcpy(in + 40, salt32, 32);
    ms_keccak256(out32, in, sizeof in);
}

/* ------------------------------------------------------------- envelopes */

#define AD_SIZE 86u
#define NONCE_OFF 10u
#define HALF_CHECK (MSD_CHECK_SIZE / 2u)

static const char msd_key_check_label[] = "MemSync/v1 key check";
static const char msd_ad_check_label[] = "MemSync/v1 context check";

/* spec/envelope.md [ENV-8]. */
static void msd_make_ad(uint8_t ad[AD_SIZE], const msd_context *c)
{
    memcpy(ad, "MemSync/v1", 10);
    msd_put_be64(ad + 10, c->chain_id);
    memcpy(ad + 18, c->precompile, 20);
    memcpy(ad + 38, c->asset_id, 32);
    msd_put_be64(ad + 70, c->version);
    msd_put_be64(ad + 78, c->key_epoch);
}

/* The 32-byte check that starts every padded plaintext (spec/device.md §3.3):
 * BLAKE2b-128 keyed with the data key over a label (key check), then over a
 * label and the AD (context check). */
static void msd_make_check(uint8_t out[MSD_CHECK_SIZE], const uint8_t key[32], const uint8_t ad[AD_SIZE])
{
    crypto_generichash(out, HALF_CHECK, (const uint8_t *)msd_key_check_label, sizeof msd_key_check_label - 1u, key,
                       32);
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, HALF_CHECK);
    crypto_generichash_update(&st, (const uint8_t *)msd_ad_check_label, sizeof msd_ad_check_label - 1u);
    crypto_generichash_update(&st, ad, AD_SIZE);
    crypto_generichash_final(&st, out + HALF_CHECK, HALF_CHECK);
    sodium_memzero(&st, sizeof st);
}

/* The smallest power of two >= 256 holding check, message and padding byte. */
static size_t msd_bucket(size_t pt_len)
{
    if (pt_len > MSD_MAX_PLAINTEXT) return 0;
    size_t b = MS_ENVELOPE_MIN_BUCKET;
    while (b < MSD_CHECK_SIZE + pt_len + 1u) b *= 2u;
    return b;
}

size_t msd_envelope_size(size_t pt_len)
{
    const size_t b = msd_bucket(pt_len);
    return b == 0 ? 0 : MS_ENVELOPE_MIN_SIZE + b;
}

msd_status msd_encrypt(uint8_t *env, size_t env_cap, size_t *env_len, const msd_data_key *key,
                       const msd_context *ctx, const uint8_t *pt, size_t pt_len)
{
    if (env_len == NULL) return MSD_ERR_ARGS;
    *env_len = 0;
    if (key == NULL || ctx == NULL || (pt == NULL && pt_len > 0) || (env == NULL && env_cap > 0)) return MSD_ERR_ARGS;
    if (ctx->key_epoch != key->epoch || ctx->key_epoch == 0) return MSD_ERR_ARGS;
    const size_t bucket = msd_bucket(pt_len);
    if (bucket == 0) return MSD_ERR_ARGS;
    const size_t need = MS_ENVELOPE_MIN_SIZE + bucket;
    if (env_cap < need) {
        if (env != NULL) sodium_memzero(env, env_cap);
        *env_len = need;
        return MSD_ERR_BUFFER;
    }
    uint8_t *padded = sodium_malloc(bucket);
    if (padded == NULL) return MSD_ERR_NOMEM;

    uint8_t ad[AD_SIZE];
    msd_make_ad(ad, ctx);
    msd_make_check(padded, key->key, ad);
    if (pt_len > 0) memcpy(padded + MSD_CHECK_SIZE, pt, pt_len);
    size_t body = 0;
    if (sodium_pad(&body, padded + MSD_CHECK_SIZE, pt_len, bucket - MSD_CHECK_SIZE, bucket - MSD_CHECK_SIZE) != 0 ||
        body != bucket - MSD_CHECK_SIZE) {
        sodium_free(padded);
        return MSD_ERR_ARGS;
    }

    env[0] = MS_ENVELOPE_VERSION;
    env[1] = MS_ENVELOPE_ALG_XCHACHA20POLY1305;
    msd_put_be64(env + 2, ctx->key_epoch);
    do {
        randombytes_buf(env + NONCE_OFF, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    } while (sodium_is_zero(env + NONCE_OFF, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(env + MS_ENVELOPE_HEADER_SIZE, &clen, padded, bucket, ad, AD_SIZE,
                                               NULL, env + NONCE_OFF, key->key);
    sodium_free(padded);
    if (clen != bucket + MS_ENVELOPE_TAG_SIZE ||
        ms_envelope_check(env, need, ctx->key_epoch, MS_BUCKETS_POW2) != MS_ENV_OK) {
        sodium_memzero(env, env_cap);
        return MSD_ERR_ARGS;
    }
    *env_len = need;
    return MSD_OK;
}

/* Why did the tag fail? Decrypt only the 32 check bytes (keystream block
 * counter 1, as the IETF AEAD does) and compare; nothing is released. */
static msd_status msd_diagnose(const msd_data_key *key, const uint8_t *env, const uint8_t ad[AD_SIZE])
{
    uint8_t got[MSD_CHECK_SIZE], want[MSD_CHECK_SIZE];
    crypto_stream_xchacha20_xor_ic(got, env + MS_ENVELOPE_HEADER_SIZE, MSD_CHECK_SIZE, env + NONCE_OFF, 1u, key->key);
    msd_make_check(want, key->key, ad);
    msd_status st = MSD_ERR_TAMPERED;
    if (msd_public(sodium_memcmp(got, want, HALF_CHECK)) != 0)
        st = MSD_ERR_WRONG_KEY;
    else if (msd_public(sodium_memcmp(got + HALF_CHECK, want + HALF_CHECK, HALF_CHECK)) != 0)
        st = MSD_ERR_WRONG_CONTEXT;
    sodium_memzero(got, sizeof got);
    sodium_memzero(want, sizeof want);
    return st;
}

msd_status msd_decrypt(uint8_t *pt, size_t pt_cap, size_t *pt_len, const msd_data_key *key,
                       const msd_context *ctx, const uint8_t *env, size_t env_len)
{
    if (pt_len == NULL) return MSD_ERR_ARGS;
    *pt_len = 0;
    if (pt == NULL && pt_cap > 0) return MSD_ERR_ARGS;
    if (pt != NULL) sodium_memzero(pt, pt_cap);
    if (key == NULL || ctx == NULL || (env == NULL && env_len > 0)) return MSD_ERR_ARGS;

    switch (ms_envelope_check(env, env_len, ctx->key_epoch, MS_BUCKETS_POW2)) {
    case MS_ENV_OK: break;
    case MS_ENV_EPOCH: return MSD_ERR_WRONG_EPOCH;
    default: return MSD_ERR_MALFORMED;
    }
    const size_t p = env_len - MS_ENVELOPE_MIN_SIZE;
    if (p > MSD_MAX_PADDED) return MSD_ERR_MALFORMED;

    uint8_t ad[AD_SIZE];
    msd_make_ad(ad, ctx);
    uint8_t *padded = sodium_malloc(p);
    if (padded == NULL) return MSD_ERR_NOMEM;
    if (msd_public(crypto_aead_xchacha20poly1305_ietf_decrypt(padded, NULL, NULL, env + MS_ENVELOPE_HEADER_SIZE,
                                                              env_len - MS_ENVELOPE_HEADER_SIZE, ad, AD_SIZE,
                                                              env + NONCE_OFF, key->key)) != 0) {
        sodium_free(padded);
        return msd_diagnose(key, env, ad);
    }
    /* Authentic. It must also carry our check and a valid padding. */
    uint8_t want[MSD_CHECK_SIZE];
    msd_make_check(want, key->key, ad);
    size_t len = 0;
    msd_status st = MSD_OK;
    /* The message length is an output of the call (*pt_len): public. */
    if (msd_public(sodium_memcmp(padded, want, MSD_CHECK_SIZE)) != 0 ||
        msd_public(sodium_unpad(&len, padded + MSD_CHECK_SIZE, p - MSD_CHECK_SIZE, p - MSD_CHECK_SIZE)) != 0 ||
        (MSD_DECLASSIFY(&len, sizeof len), 0)) {
        st = MSD_ERR_MALFORMED;
    } else if (len > pt_cap) {
        *pt_len = len;
        st = MSD_ERR_BUFFER;
    } else {
        if (len > 0) memcpy(pt, padded + MSD_CHECK_SIZE, len);
        *pt_len = len;
    }
    sodium_memzero(want, sizeof want);
    sodium_free(padded);
    return st;
}

/* ---------------------------------------------------------------- grants */

#define WRAP_PLAIN 72u

msd_status msd_wrap_key(uint8_t out[MSD_WRAPPED_KEY_SIZE], const msd_data_key *key,
                        const uint8_t grantee_pk32[MSD_X25519_PUBLIC_SIZE])
{
    if (out == NULL) return MSD_ERR_ARGS;
    sodium_memzero(out, MSD_WRAPPED_KEY_SIZE);
    if (key == NULL || grantee_pk32 == NULL) return MSD_ERR_ARGS;
    uint8_t m[WRAP_PLAIN];
    memcpy(m, key->key, 32);
    memcpy(m + 32, key->asset_id, 32);
    msd_put_be64(m + 64, key->epoch);
    const int rc = crypto_box_seal(out, m, sizeof m, grantee_pk32);
    sodium_memzero(m, sizeof m);
    if (rc != 0) {
        sodium_memzero(out, MSD_WRAPPED_KEY_SIZE);
        return MSD_ERR_ARGS;
    }
    return MSD_OK;
}

/* The chain-bound format (spec/device.md [DEV-36]): a version byte, then a
 * sealed box of key || assetId || keyEpoch || chainId || precompile. */
#define WRAP2_PLAIN 100u

msd_status msd_wrap_key_bound(uint8_t out[MSD_WRAPPED_KEY_V2_SIZE], const msd_data_key *key, uint64_t chain_id,
                              const uint8_t precompile20[20], const uint8_t grantee_pk32[MSD_X25519_PUBLIC_SIZE])
{
    if (out == NULL) return MSD_ERR_ARGS;
    sodium_memzero(out, MSD_WRAPPED_KEY_V2_SIZE);
    if (key == NULL || precompile20 == NULL || grantee_pk32 == NULL) return MSD_ERR_ARGS;
    uint8_t m[WRAP2_PLAIN];
    memcpy(m, key->key, 32);
    memcpy(m + 32, key->asset_id, 32);
    msd_put_be64(m + 64, key->epoch);
    msd_put_be64(m + 72, chain_id);
    memcpy(m + 80, precompile20, 20);
    out[0] = MSD_WRAPPED_KEY_V2;
    const int rc = crypto_box_seal(out + 1, m, sizeof m, grantee_pk32);
    sodium_memzero(m, sizeof m);
    if (rc != 0) {
        sodium_memzero(out, MSD_WRAPPED_KEY_V2_SIZE);
        return MSD_ERR_ARGS;
    }
    return MSD_OK;
}

/* Open a chain-bound wrapped key (wrapped_len = MSD_WRAPPED_KEY_V2_SIZE) and
 * check its labels; the chain and precompile only when precompile20 is not
 * NULL (msd_unwrap_key, which has no chain to compare with). */
/* Open the sealed box (box_len bytes, holding WRAP_PLAIN or WRAP2_PLAIN
 * bytes) that wraps the data key of (asset, epoch), and with precompile20
 * check the chain it is bound to too. Both key formats open here; they
 * differ only in the bytes sealed and the binding checked. */
_Static_assert(WRAP_PLAIN <= WRAP2_PLAIN, "both plaintexts fit the buffer");
static msd_status msd_open_wrapped(msd_data_key **out, const msd_identity *id, const uint8_t *box, size_t box_len,
                                   const uint8_t asset_id32[32], uint64_t key_epoch, uint64_t chain_id,
                                   const uint8_t *precompile20)
{
    msd_data_key *k = msd_data_key_alloc(asset_id32, key_epoch);
    if (k == NULL) return MSD_ERR_NOMEM;
    uint8_t m[WRAP2_PLAIN];
    if (msd_public(crypto_box_seal_open(m, box, box_len, id->box_pk, id->box_sk)) != 0) {
        sodium_memzero(m, sizeof m);
        msd_data_key_destroy(k);
        return MSD_ERR_NOT_FOR_ME;
    }
    int match = msd_public(sodium_memcmp(m + 32, asset_id32, 32) == 0) & msd_public(msd_get_be64(m + 64) == key_epoch);
    if (precompile20 != NULL)
        match &= msd_public(msd_get_be64(m + 72) == chain_id) & msd_public(sodium_memcmp(m + 80, precompile20, 20) == 0);
    memcpy(k->key, m, 32);
    sodium_memzero(m, sizeof m);
    if (!match) {
        msd_data_key_destroy(k);
        return MSD_ERR_WRONG_GRANT;
    }
    *out = k;
    return MSD_OK;
}

static msd_status msd_open_bound(msd_data_key **out, const msd_identity *id, const uint8_t *wrapped,
                                 size_t wrapped_len, const uint8_t asset_id32[32], uint64_t key_epoch,
                                 uint64_t chain_id, const uint8_t *precompile20)
{
    if (wrapped[0] != MSD_WRAPPED_KEY_V2) return MSD_ERR_NOT_FOR_ME;
    return msd_open_wrapped(out, id, wrapped + 1, wrapped_len - 1, asset_id32, key_epoch, chain_id, precompile20);
}

msd_status msd_unwrap_key_bound(msd_data_key **out, int *legacy, const msd_identity *id, const uint8_t *wrapped,
                                size_t wrapped_len, uint64_t chain_id, const uint8_t precompile20[20],
                                const uint8_t asset_id32[32], uint64_t key_epoch)
{
    if (legacy != NULL) *legacy = 0;
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (id == NULL || precompile20 == NULL || asset_id32 == NULL || (wrapped == NULL && wrapped_len > 0))
        return MSD_ERR_ARGS;
    if (wrapped_len == MSD_WRAPPED_KEY_SIZE) {
        /* A grant made before the chain was bound: it names no chain to check. */
        msd_status st = msd_unwrap_key(out, id, wrapped, wrapped_len, asset_id32, key_epoch);
        if (st == MSD_OK && legacy != NULL) *legacy = 1;
        return st;
    }
    if (wrapped_len != MSD_WRAPPED_KEY_V2_SIZE) return MSD_ERR_NOT_FOR_ME;
    return msd_open_bound(out, id, wrapped, wrapped_len, asset_id32, key_epoch, chain_id, precompile20);
}

msd_status msd_unwrap_key(msd_data_key **out, const msd_identity *id, const uint8_t *wrapped, size_t wrapped_len,
                          const uint8_t asset_id32[32], uint64_t key_epoch)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (id == NULL || asset_id32 == NULL || (wrapped == NULL && wrapped_len > 0)) return MSD_ERR_ARGS;
    if (wrapped_len == MSD_WRAPPED_KEY_V2_SIZE)
        return msd_open_bound(out, id, wrapped, wrapped_len, asset_id32, key_epoch, 0, NULL);
    if (wrapped_len != MSD_WRAPPED_KEY_SIZE) return MSD_ERR_NOT_FOR_ME;
    return msd_open_wrapped(out, id, wrapped, wrapped_len, asset_id32, key_epoch, 0, NULL);
}

msd_status msd_rotate(msd_data_key **out, uint8_t *wrapped, const msd_data_key *old,
                      const uint8_t (*recipient_pks)[MSD_X25519_PUBLIC_SIZE], size_t n)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (old == NULL || (n > 0 && (wrapped == NULL || recipient_pks == NULL))) return MSD_ERR_ARGS;
    if (n > SIZE_MAX / MSD_WRAPPED_KEY_SIZE) return MSD_ERR_ARGS;
    if (old->epoch == UINT64_MAX) return MSD_ERR_EPOCH_LIMIT;
    msd_data_key *k = NULL;
    msd_status st = msd_data_key_generate(&k, old->asset_id, old->epoch + 1u);
    if (st != MSD_OK) return st;
    for (size_t i = 0; i < n; i++) {
        st = msd_wrap_key(wrapped + i * MSD_WRAPPED_KEY_SIZE, k, recipient_pks[i]);
        if (st != MSD_OK) {
            sodium_memzero(wrapped, n * MSD_WRAPPED_KEY_SIZE);
            msd_data_key_destroy(k);
            return st;
        }
    }
    *out = k;
    return MSD_OK;
}
