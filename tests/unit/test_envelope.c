/* Envelope header checks: each reason, their order, and the bucket policy at
 * its edges. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "memsync.h"

#define EPOCH UINT64_C(0x0102030405060708)

/* A valid envelope whose padded plaintext is `padded` bytes. The buffer is
 * heap-allocated to exactly its length so that ASan catches any over-read. */
static uint8_t *make_env(size_t padded, size_t *len)
{
    *len = MS_ENVELOPE_MIN_SIZE + padded;
    uint8_t *e = malloc(*len);
    cr_assert_not_null(e);
    memset(e, 0x5a, *len);
    e[0] = MS_ENVELOPE_VERSION;
    e[1] = MS_ENVELOPE_ALG_XCHACHA20POLY1305;
    for (unsigned i = 0; i < 8u; i++) e[2 + i] = (uint8_t)(EPOCH >> (56u - 8u * i));
    return e;
}

static ms_env_err check_padded(size_t padded, uint32_t policy)
{
    size_t len;
    uint8_t *e = make_env(padded, &len);
    const ms_env_err r = ms_envelope_check(e, len, EPOCH, policy);
    free(e);
    return r;
}

Test(envelope, layout_constants)
{
    cr_assert_eq(MS_ENVELOPE_HEADER_SIZE, 1u + 1u + 8u + 24u);
    cr_assert_eq(MS_ENVELOPE_MIN_SIZE, 50u);
}

Test(envelope, valid)
{
    cr_assert_eq(check_padded(256, MS_BUCKETS_POW2), MS_ENV_OK);
    cr_assert_eq(check_padded(256, MS_BUCKETS_NONE), MS_ENV_OK);
    cr_assert_eq(check_padded(1000, MS_BUCKETS_NONE), MS_ENV_OK);
}

Test(envelope, short)
{
    size_t len;
    uint8_t *e = make_env(0, &len);
    for (size_t n = 0; n < MS_ENVELOPE_MIN_SIZE; n++) {
        cr_assert_eq(ms_envelope_check(e, n, EPOCH, MS_BUCKETS_NONE), MS_ENV_SHORT, "len %zu", n);
    }
    /* Header and tag alone (an empty padded plaintext) are long enough. */
    cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_NONE), MS_ENV_OK);
    cr_assert_eq(ms_envelope_check(NULL, 0, EPOCH, MS_BUCKETS_NONE), MS_ENV_SHORT);
    cr_assert_eq(ms_envelope_check(NULL, 4096, EPOCH, MS_BUCKETS_NONE), MS_ENV_SHORT);
    free(e);
}

Test(envelope, version)
{
    size_t len;
    uint8_t *e = make_env(256, &len);
    static const uint8_t bad[] = {0, 2, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        e[0] = bad[i];
        cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_POW2), MS_ENV_VERSION);
    }
    free(e);
}

Test(envelope, algorithm)
{
    size_t len;
    uint8_t *e = make_env(256, &len);
    static const uint8_t bad[] = {0, 2, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        e[1] = bad[i];
        cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_POW2), MS_ENV_ALGORITHM);
    }
    free(e);
}

Test(envelope, epoch)
{
    size_t len;
    uint8_t *e = make_env(256, &len);
    cr_assert_eq(ms_envelope_check(e, len, EPOCH + 1, MS_BUCKETS_POW2), MS_ENV_EPOCH);
    cr_assert_eq(ms_envelope_check(e, len, 0, MS_BUCKETS_POW2), MS_ENV_EPOCH);
    /* Big-endian: the byte-reversed value is a different epoch. */
    cr_assert_eq(ms_envelope_check(e, len, UINT64_C(0x0807060504030201), MS_BUCKETS_POW2), MS_ENV_EPOCH);
    /* Each of the 8 bytes counts. */
    for (unsigned i = 0; i < 8u; i++) {
        e[2 + i] ^= 0x80;
        cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_POW2), MS_ENV_EPOCH, "byte %u", i);
        e[2 + i] ^= 0x80;
    }
    memset(e + 2, 0xff, 8);
    cr_assert_eq(ms_envelope_check(e, len, UINT64_MAX, MS_BUCKETS_POW2), MS_ENV_OK);
    memset(e + 2, 0, 8);
    cr_assert_eq(ms_envelope_check(e, len, 0, MS_BUCKETS_POW2), MS_ENV_OK);
    free(e);
}

Test(envelope, nonce)
{
    size_t len;
    uint8_t *e = make_env(256, &len);
    memset(e + 10, 0, 24);
    cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_POW2), MS_ENV_NONCE);
    /* One set bit anywhere in the 24 bytes is enough, first and last included. */
    for (unsigned i = 0; i < 24u; i++) {
        e[10 + i] = 1;
        cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_POW2), MS_ENV_OK, "byte %u", i);
        e[10 + i] = 0;
    }
    /* The bytes around the nonce are not part of it. */
    e[9] = 0xff;
    e[34] = 0xff;
    cr_assert_eq(ms_envelope_check(e, len, UINT64_C(0x01020304050607ff), MS_BUCKETS_POW2), MS_ENV_NONCE);
    free(e);
}

Test(envelope, bucket_pow2)
{
    static const size_t ok[] = {256, 512, 1024, 4096, 65536, 1u << 20};
    static const size_t bad[] = {0, 1, 2, 128, 255, 257, 384, 511, 513, 1000, (1u << 20) - 1u};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(check_padded(ok[i], MS_BUCKETS_POW2), MS_ENV_OK, "padded %zu", ok[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(check_padded(bad[i], MS_BUCKETS_POW2), MS_ENV_BUCKET, "padded %zu", bad[i]);
    }
}

Test(envelope, bucket_none_accepts_any_length)
{
    static const size_t any[] = {0, 1, 255, 257, 384, 1000};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        cr_assert_eq(check_padded(any[i], MS_BUCKETS_NONE), MS_ENV_OK, "padded %zu", any[i]);
    }
}

Test(envelope, unknown_policy_rejects)
{
    static const uint32_t policies[] = {2, 3, 0x80000000u, UINT32_MAX};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        cr_assert_eq(check_padded(256, policies[i]), MS_ENV_BUCKET);
        cr_assert_eq(check_padded(0, policies[i]), MS_ENV_BUCKET);
    }
}

Test(envelope, first_failing_check_wins)
{
    /* Order: short, version, algorithm, epoch, nonce, bucket. Start with
     * everything wrong and repair one field at a time. */
    size_t len;
    uint8_t *e = make_env(300, &len);
    e[0] = 9;
    e[1] = 9;
    memset(e + 10, 0, 24);
    const uint64_t wrong_epoch = EPOCH + 1;
    cr_assert_eq(ms_envelope_check(e, MS_ENVELOPE_MIN_SIZE - 1, wrong_epoch, 7), MS_ENV_SHORT);
    cr_assert_eq(ms_envelope_check(e, len, wrong_epoch, 7), MS_ENV_VERSION);
    e[0] = MS_ENVELOPE_VERSION;
    cr_assert_eq(ms_envelope_check(e, len, wrong_epoch, 7), MS_ENV_ALGORITHM);
    e[1] = MS_ENVELOPE_ALG_XCHACHA20POLY1305;
    cr_assert_eq(ms_envelope_check(e, len, wrong_epoch, 7), MS_ENV_EPOCH);
    cr_assert_eq(ms_envelope_check(e, len, EPOCH, 7), MS_ENV_NONCE);
    e[33] = 1;
    cr_assert_eq(ms_envelope_check(e, len, EPOCH, 7), MS_ENV_BUCKET);
    cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_POW2), MS_ENV_BUCKET);
    cr_assert_eq(ms_envelope_check(e, len, EPOCH, MS_BUCKETS_NONE), MS_ENV_OK);
    free(e);
}
