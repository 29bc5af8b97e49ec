/* libFuzzer harness for crypto/envelope.c.
 *
 * Input: [mode][policy selector (+4 bytes)][epoch (8 bytes)][envelope...]
 * mode bit 0: expect the epoch written in the envelope itself, so the
 *             fuzzer gets past the epoch check and reaches nonce and bucket;
 * mode bit 1: pass a NULL pointer with the claimed length (host misuse that
 *             must still be a defined MS_ENV_SHORT).
 * Each result is compared with an independent model of spec/envelope.md. */
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "fuzz_input.h"
#include "memsync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t pick_policy(fz_in *in)
{
    const uint8_t b = fz_u8(in);
    if (b < 0x80) return MS_BUCKETS_NONE;
    if (b < 0xF0) return MS_BUCKETS_POW2;
    return (uint32_t)fz_u64n(in, 4);   /* unknown policies must reject */
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static ms_env_err model(const uint8_t *env, size_t len, uint64_t epoch, uint32_t policy)
{
    if (env == NULL || len < 50) return MS_ENV_SHORT;
    if (env[0] != 1) return MS_ENV_VERSION;
    if (env[1] != 1) return MS_ENV_ALGORITHM;
    if (be64(env + 2) != epoch) return MS_ENV_EPOCH;
    int zero = 1;
    for (unsigned i = 10; i < 34; i++) zero &= env[i] == 0;
    if (zero) return MS_ENV_NONCE;
    const size_t padded = len - 50;
    if (policy == MS_BUCKETS_NONE) return MS_ENV_OK;
    if (policy != MS_BUCKETS_POW2) return MS_ENV_BUCKET;
    /* Power of two by counting bits, unlike the module's x & (x - 1). */
    return padded >= 256 && __builtin_popcountll((unsigned long long)padded) == 1 ? MS_ENV_OK : MS_ENV_BUCKET;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    const uint8_t mode = fz_u8(&in);
    const uint32_t policy = pick_policy(&in);
    uint64_t epoch = fz_u64(&in);

    uint8_t *env = NULL;
    if (in.n > 0) {
        env = malloc(in.n);   /* exact size: ASan catches any overread */
        if (env == NULL) return 0;
        memcpy(env, in.p, in.n);
    }
    const size_t len = in.n;
    if ((mode & 1u) && len >= 10) epoch = be64(env + 2);

    const uint8_t *arg = (mode & 2u) ? NULL : env;
    const ms_env_err e = ms_envelope_check(arg, len, epoch, policy);
    FZ_CHECK(e >= MS_ENV_OK && e <= MS_ENV_BUCKET);
    FZ_CHECK(e == model(arg, len, epoch, policy));

    /* Lengths far past the buffer with a NULL pointer: never dereferenced. */
    FZ_CHECK(ms_envelope_check(NULL, SIZE_MAX, epoch, policy) == MS_ENV_SHORT);

    free(env);
    return 0;
}
