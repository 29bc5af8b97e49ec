/* Demo device cryptography. Real devices would use random nonces and keys
 * held in secure storage; here everything is derived from DEMO_SEED so that
 * the output is reproducible. */
#include "device.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <string.h>

#include "abi/keccak.h"
#include "crypto/envelope.h"

static const char DEMO_SEED[] = "MemSync demo seed v1 - public, for demonstrations only";
static secp256k1_context *ctx;

int dev_init(void)
{
    if (sodium_init() < 0) return 0;
    if (ctx == NULL) ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    return ctx != NULL;
}

void dev_shutdown(void)
{
    if (ctx != NULL) secp256k1_context_destroy(ctx);
    ctx = NULL;
}

/* BLAKE2b keyed with the demo seed over label || data. */
static void derive(uint8_t *out, size_t out_len, const char *label, const uint8_t *data, size_t len)
{
    uint8_t seed_key[32];
    crypto_generichash(seed_key, sizeof seed_key, (const uint8_t *)DEMO_SEED, sizeof DEMO_SEED - 1, NULL, 0);
    crypto_generichash_state st;
    crypto_generichash_init(&st, seed_key, sizeof seed_key, out_len);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label) + 1);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, out_len);
    sodium_memzero(seed_key, sizeof seed_key);
}

int dev_account_make(dev_account *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->name = name;
    /* Retry with a counter in the (astronomically unlikely) case of an invalid scalar. */
    for (uint8_t ctr = 0; ctr < 8; ctr++) {
        uint8_t in[64] = {0};
        const size_t nl = strlen(name) < 63 ? strlen(name) : 63;
        memcpy(in, name, nl);
        in[63] = ctr;
        derive(a->sk, 32, "secp256k1 account", in, sizeof in);
        if (secp256k1_ec_seckey_verify(ctx, a->sk)) break;
    }
    secp256k1_pubkey pub;
    if (!secp256k1_ec_pubkey_create(ctx, &pub, a->sk)) return 0;
    uint8_t ser[65];
    size_t ser_len = sizeof ser;
    secp256k1_ec_pubkey_serialize(ctx, ser, &ser_len, &pub, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    ms_keccak256(h, ser + 1, 64);
    memcpy(a->addr, h + 12, 20);

    uint8_t box_seed[crypto_box_SEEDBYTES];
    derive(box_seed, sizeof box_seed, "x25519 account", (const uint8_t *)name, strlen(name));
    return crypto_box_seed_keypair(a->box_pk, a->box_sk, box_seed) == 0;
}

int dev_sign(uint8_t sig65[65], const uint8_t digest32[32], const dev_account *a)
{
    secp256k1_ecdsa_recoverable_signature sig;
    /* RFC 6979 nonces; libsecp256k1 always produces a low-s signature. */
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest32, a->sk, NULL, NULL)) return 0;
    int recid = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig65, &recid, &sig);
    sig65[64] = (uint8_t)(27 + recid);
    return 1;
}

void dev_data_key(uint8_t key32[32], const uint8_t asset_id[32], uint64_t key_epoch)
{
    uint8_t in[40];
    memcpy(in, asset_id, 32);
    for (unsigned i = 0; i < 8; i++) in[32 + i] = (uint8_t)(key_epoch >> (56 - 8 * i));
    derive(key32, 32, "data key", in, sizeof in);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}

#define AD_SIZE (10u + 8u + 20u + 32u + 8u + 8u)

/* "MemSync/v1" || chainId u64 BE || precompile || assetId || version u64 BE || keyEpoch u64 BE */
static void make_ad(uint8_t ad[AD_SIZE], const dev_context *c)
{
    memcpy(ad, "MemSync/v1", 10);
    put_be64(ad + 10, c->chain_id);
    memcpy(ad + 18, c->precompile, 20);
    memcpy(ad + 38, c->asset_id, 32);
    put_be64(ad + 70, c->version);
    put_be64(ad + 78, c->key_epoch);
}

int dev_seal(uint8_t *env, size_t *env_len, const uint8_t key32[32], const dev_context *c,
             const char *plaintext)
{
    const size_t len = strlen(plaintext);
    if (len > DEV_MAX_PLAINTEXT) return 0;
    /* Bucket: the padded length is a power of two >= 256 (valid under POW2 too). */
    size_t bucket = MS_ENVELOPE_MIN_BUCKET;
    while (bucket <= len) bucket *= 2;
    if (MS_ENVELOPE_MIN_SIZE + bucket > DEV_MAX_ENVELOPE) return 0;
    uint8_t padded[DEV_MAX_ENVELOPE];
    memcpy(padded, plaintext, len);
    size_t padded_len = 0;
    if (sodium_pad(&padded_len, padded, len, bucket, bucket) != 0 || padded_len != bucket) return 0;

    uint8_t ad[AD_SIZE];
    make_ad(ad, c);
    env[0] = MS_ENVELOPE_VERSION;
    env[1] = MS_ENVELOPE_ALG_XCHACHA20POLY1305;
    put_be64(env + 2, c->key_epoch);
    /* Synthetic nonce: a keyed hash of AD and message, so two different
     * messages never share a nonce under one key, and the demo is reproducible. */
    uint8_t *nonce = env + 10;
    crypto_generichash_state st;
    crypto_generichash_init(&st, key32, 32, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_generichash_update(&st, ad, sizeof ad);
    crypto_generichash_update(&st, padded, padded_len);
    crypto_generichash_final(&st, nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    if (sodium_is_zero(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)) nonce[0] = 1;

    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(env + MS_ENVELOPE_HEADER_SIZE, &clen, padded, padded_len, ad,
                                               sizeof ad, NULL, nonce, key32);
    *env_len = MS_ENVELOPE_HEADER_SIZE + (size_t)clen;
    return 1;
}

int dev_open(char *text, const uint8_t key32[32], const dev_context *c, const uint8_t *env, size_t env_len)
{
    text[0] = '\0';
    if (env_len < MS_ENVELOPE_MIN_SIZE || env_len - MS_ENVELOPE_MIN_SIZE > DEV_MAX_ENVELOPE) return 0;
    if (env[0] != MS_ENVELOPE_VERSION || env[1] != MS_ENVELOPE_ALG_XCHACHA20POLY1305) return 0;
    uint64_t epoch = 0;
    for (unsigned i = 0; i < 8; i++) epoch = (epoch << 8) | env[2 + i];
    if (epoch != c->key_epoch) return 0;
    uint8_t ad[AD_SIZE];
    make_ad(ad, c);
    uint8_t padded[DEV_MAX_ENVELOPE];
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(padded, &plen, NULL, env + MS_ENVELOPE_HEADER_SIZE,
                                                   env_len - MS_ENVELOPE_HEADER_SIZE, ad, sizeof ad,
                                                   env + 10, key32) != 0)
        return 0;
    size_t len = 0;
    if (plen == 0 || sodium_unpad(&len, padded, (size_t)plen, (size_t)plen) != 0) return 0;
    if (len > DEV_MAX_PLAINTEXT) return 0;
    memcpy(text, padded, len);
    text[len] = '\0';
    return 1;
}

int dev_wrap_key(uint8_t wrapped[DEV_WRAPPED_KEY_SIZE], const uint8_t key32[32], const dev_account *to)
{
    /* The sealed-box construction of crypto_box_seal, with the ephemeral key
     * derived instead of random so the demo is reproducible:
     * epk || crypto_box(m, nonce = blake2b-192(epk || pk), pk, esk). */
    uint8_t eph_seed[crypto_box_SEEDBYTES], esk[crypto_box_SECRETKEYBYTES], nonce[crypto_box_NONCEBYTES];
    uint8_t in[64];
    memcpy(in, key32, 32);
    memcpy(in + 32, to->box_pk, 32);
    derive(eph_seed, sizeof eph_seed, "wrap ephemeral", in, sizeof in);
    if (crypto_box_seed_keypair(wrapped, esk, eph_seed) != 0) return 0;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof nonce);
    crypto_generichash_update(&st, wrapped, crypto_box_PUBLICKEYBYTES);
    crypto_generichash_update(&st, to->box_pk, crypto_box_PUBLICKEYBYTES);
    crypto_generichash_final(&st, nonce, sizeof nonce);
    const int rc = crypto_box_easy(wrapped + crypto_box_PUBLICKEYBYTES, key32, 32, nonce, to->box_pk, esk);
    sodium_memzero(esk, sizeof esk);
    return rc == 0;
}

int dev_unwrap_key(uint8_t key32[32], const uint8_t *wrapped, size_t len, const dev_account *me)
{
    if (len != DEV_WRAPPED_KEY_SIZE) return 0;
    return crypto_box_seal_open(key32, wrapped, len, me->box_pk, me->box_sk) == 0;
}
