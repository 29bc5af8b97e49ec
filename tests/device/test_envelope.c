/* Envelopes: round trips at bucket edges, and every failure a distinct error
 * (spec/device.md §3). */
#include "device_test.h"

#include "crypto/envelope.h"

#define MAXENV 16384

TestSuite(envelope, .init = dt_init);

static msd_data_key *key_for(const msd_context *c)
{
    msd_data_key *k = NULL;
    cr_assert_eq(msd_data_key_generate(&k, c->asset_id, c->key_epoch), MSD_OK);
    return k;
}

static size_t seal(uint8_t *env, const msd_data_key *k, const msd_context *c, const char *msg)
{
    size_t n = 0;
    cr_assert_eq(msd_encrypt(env, MAXENV, &n, k, c, (const uint8_t *)msg, strlen(msg)), MSD_OK);
    return n;
}

static msd_status open_env(const msd_data_key *k, const msd_context *c, const uint8_t *env, size_t n)
{
    uint8_t pt[MAXENV];
    size_t len = 0;
    return msd_decrypt(pt, sizeof pt, &len, k, c, env, n);
}

Test(envelope, round_trip_bucket_edges)
{
    const msd_context c = dt_context(7, 1, 1);
    msd_data_key *k = key_for(&c);
    static const size_t lens[] = {0, 1, 100, 223, 224, 479, 480, 5000};
    static const size_t buckets[] = {256, 256, 256, 256, 512, 512, 1024, 8192};
    uint8_t msg[5000], env[MAXENV], pt[MAXENV];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 31u + 7u);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = 0, len = 0;
        cr_assert_eq(msd_encrypt(env, sizeof env, &n, k, &c, msg, lens[i]), MSD_OK);
        cr_assert_eq(n, 50 + buckets[i], "len %zu: envelope %zu", lens[i], n);
        cr_assert_eq(n, msd_envelope_size(lens[i]));
        /* What the module checks, under the power-of-two policy. */
        cr_assert_eq(ms_envelope_check(env, n, 1, 1), MS_ENV_OK);
        cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, k, &c, env, n), MSD_OK);
        cr_assert_eq(len, lens[i]);
        cr_assert(len == 0 || memcmp(pt, msg, len) == 0);
    }
    cr_assert_eq(msd_envelope_size(MSD_MAX_PLAINTEXT), 50 + MSD_MAX_PADDED);
    cr_assert_eq(msd_envelope_size(MSD_MAX_PLAINTEXT + 1), 0);
    msd_data_key_destroy(k);
}

Test(envelope, header_and_fresh_nonce)
{
    const msd_context c = dt_context(7, 3, 9);
    msd_data_key *k = key_for(&c);
    uint8_t a[MAXENV], b[MAXENV];
    const size_t na = seal(a, k, &c, "same text"), nb = seal(b, k, &c, "same text");
    cr_assert_eq(na, nb);
    cr_assert_eq(a[0], 1);
    cr_assert_eq(a[1], 1);
    const uint8_t epoch9[8] = {0, 0, 0, 0, 0, 0, 0, 9};
    cr_assert_arr_eq(a + 2, epoch9, 8);
    cr_assert(memcmp(a + 10, b + 10, 24) != 0, "nonces must differ");
    cr_assert(memcmp(a + 34, b + 34, na - 34) != 0);
    cr_assert_not(dt_contains(a, na, (const uint8_t *)"same text", 9));
    msd_data_key_destroy(k);
}

Test(envelope, tampered_ciphertext_and_tag)
{
    const msd_context c = dt_context(7, 1, 1);
    msd_data_key *k = key_for(&c);
    uint8_t env[MAXENV];
    const size_t n = seal(env, k, &c, "my memory");
    cr_assert_eq(open_env(k, &c, env, n), MSD_OK);
    const size_t spots[] = {34 + 32, 34 + 100, n - 17, n - 1};   /* message, padding, last body byte, tag */
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        env[spots[i]] ^= 0x01;
        cr_assert_eq(open_env(k, &c, env, n), MSD_ERR_TAMPERED, "offset %zu", spots[i]);
        env[spots[i]] ^= 0x01;
    }
    cr_assert_eq(open_env(k, &c, env, n), MSD_OK);
    msd_data_key_destroy(k);
}

Test(envelope, wrong_associated_data)
{
    const msd_context c = dt_context(7, 5, 2);
    msd_data_key *k = key_for(&c);
    uint8_t env[MAXENV];
    const size_t n = seal(env, k, &c, "bound to one place");
    msd_context o = c;
    o.asset_id[0] ^= 1;                     /* moved to another asset */
    cr_assert_eq(open_env(k, &o, env, n), MSD_ERR_WRONG_CONTEXT);
    o = c;
    o.version = 6;                          /* replayed at another version */
    cr_assert_eq(open_env(k, &o, env, n), MSD_ERR_WRONG_CONTEXT);
    o = c;
    o.chain_id = 1;                         /* another chain */
    cr_assert_eq(open_env(k, &o, env, n), MSD_ERR_WRONG_CONTEXT);
    o = c;
    o.precompile[0] = 1;                    /* another contract */
    cr_assert_eq(open_env(k, &o, env, n), MSD_ERR_WRONG_CONTEXT);
    msd_data_key_destroy(k);
}

Test(envelope, wrong_epoch)
{
    const msd_context c = dt_context(7, 5, 2);
    msd_data_key *k = key_for(&c);
    uint8_t env[MAXENV];
    const size_t n = seal(env, k, &c, "epoch two");
    msd_context o = c;
    o.key_epoch = 3;
    cr_assert_eq(open_env(k, &o, env, n), MSD_ERR_WRONG_EPOCH);
    /* A header rewritten to another epoch no longer matches the AD. */
    env[9] = 3;
    cr_assert_eq(open_env(k, &o, env, n), MSD_ERR_WRONG_CONTEXT);
    msd_data_key_destroy(k);
}

Test(envelope, wrong_key)
{
    const msd_context c = dt_context(7, 1, 1);
    msd_data_key *k = key_for(&c), *other = key_for(&c);
    uint8_t env[MAXENV];
    const size_t n = seal(env, k, &c, "for k only");
    cr_assert_eq(open_env(other, &c, env, n), MSD_ERR_WRONG_KEY);
    msd_data_key_destroy(k);
    msd_data_key_destroy(other);
}

Test(envelope, malformed)
{
    const msd_context c = dt_context(7, 1, 1);
    msd_data_key *k = key_for(&c);
    uint8_t env[MAXENV];
    const size_t n = seal(env, k, &c, "x");
    cr_assert_eq(open_env(k, &c, env, 49), MSD_ERR_MALFORMED);
    cr_assert_eq(open_env(k, &c, env, n - 1), MSD_ERR_MALFORMED);   /* not a bucket size */
    cr_assert_eq(open_env(k, &c, NULL, 0), MSD_ERR_MALFORMED);
    env[0] = 2;
    cr_assert_eq(open_env(k, &c, env, n), MSD_ERR_MALFORMED);
    env[0] = 1;
    env[1] = 2;
    cr_assert_eq(open_env(k, &c, env, n), MSD_ERR_MALFORMED);
    env[1] = 1;
    uint8_t nonce[24];
    memcpy(nonce, env + 10, 24);
    memset(env + 10, 0, 24);
    cr_assert_eq(open_env(k, &c, env, n), MSD_ERR_MALFORMED);
    memcpy(env + 10, nonce, 24);
    cr_assert_eq(open_env(k, &c, env, n), MSD_OK);
    msd_data_key_destroy(k);
}

/* Authentic under the key and AD, but without the check prefix and padding
 * this library writes (e.g. another program's envelope): malformed. */
Test(envelope, authentic_but_foreign_layout)
{
    const msd_context c = dt_context(7, 1, 1);
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    msd_data_key *k = NULL;
    cr_assert_eq(msd_data_key_import(&k, c.asset_id, 1, raw), MSD_OK);
    uint8_t ad[86], env[50 + 256], body[256];
    memcpy(ad, "MemSync/v1", 10);
    for (int i = 0; i < 8; i++) ad[10 + i] = (uint8_t)(c.chain_id >> (56 - 8 * i));
    memcpy(ad + 18, c.precompile, 20);
    memcpy(ad + 38, c.asset_id, 32);
    memset(ad + 70, 0, 16);
    ad[77] = 1;
    ad[85] = 1;
    memset(body, 0, sizeof body);
    env[0] = 1;
    env[1] = 1;
    memset(env + 2, 0, 8);
    env[9] = 1;
    randombytes_buf(env + 10, 24);
    crypto_aead_xchacha20poly1305_ietf_encrypt(env + 34, NULL, body, sizeof body, ad, sizeof ad, NULL, env + 10, raw);
    cr_assert_eq(open_env(k, &c, env, sizeof env), MSD_ERR_MALFORMED);
    msd_data_key_destroy(k);
}

Test(envelope, buffers_and_arguments)
{
    const msd_context c = dt_context(7, 1, 1);
    msd_data_key *k = key_for(&c);
    uint8_t env[MAXENV], pt[8];
    size_t n = 0, len = 0;
    cr_assert_eq(msd_encrypt(env, 100, &n, k, &c, (const uint8_t *)"abc", 3), MSD_ERR_BUFFER);
    cr_assert_eq(n, 306);
    cr_assert_eq(msd_encrypt(NULL, 0, &n, k, &c, NULL, 0), MSD_ERR_BUFFER);
    cr_assert_eq(n, 306);
    msd_context wrong = c;
    wrong.key_epoch = 2;   /* the key is epoch 1 */
    cr_assert_eq(msd_encrypt(env, sizeof env, &n, k, &wrong, NULL, 0), MSD_ERR_ARGS);
    n = seal(env, k, &c, "twelve bytes");
    memset(pt, 0xaa, sizeof pt);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, k, &c, env, n), MSD_ERR_BUFFER);
    cr_assert_eq(len, 12);
    const uint8_t zero[8] = {0};
    cr_assert_arr_eq(pt, zero, 8, "a short buffer gets no partial plaintext");
    cr_assert_eq(msd_decrypt(NULL, 0, &len, k, &c, env, n), MSD_ERR_BUFFER);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, NULL, k, &c, env, n), MSD_ERR_ARGS);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, NULL, &c, env, n), MSD_ERR_ARGS);
    msd_data_key_destroy(k);
}

/* The four failures the issue names, and the envelope ones, are distinct
 * codes with distinct texts. */
Test(envelope, distinct_errors)
{
    const msd_status s[] = {MSD_ERR_TAMPERED, MSD_ERR_WRONG_CONTEXT, MSD_ERR_WRONG_EPOCH, MSD_ERR_WRONG_KEY,
                            MSD_ERR_MALFORMED, MSD_ERR_PASSPHRASE, MSD_ERR_KEYFILE, MSD_ERR_NOT_FOR_ME,
                            MSD_ERR_WRONG_GRANT};
    const size_t n = sizeof s / sizeof s[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            cr_assert_neq(s[i], s[j]);
            cr_assert_str_neq(msd_strerror(s[i]), msd_strerror(s[j]));
        }
    cr_assert_str_eq(msd_strerror((msd_status)999), "unknown error");
}
