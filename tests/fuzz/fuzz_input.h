/* A tiny byte reader over a libFuzzer input, shared by the harnesses.
 * Reads past the end yield zeros instead of failing, so every input, however
 * short, maps to some well-defined test case and the fuzzer never wastes
 * executions on inputs that a harness rejects up front. */
#ifndef MS_FUZZ_INPUT_H
#define MS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
    if (in->n == 0) return 0;
    const uint8_t v = in->p[0];
    in->p++;
    in->n--;
    return v;
}

/* Big-endian, so dictionary words and seeds read naturally in a hex dump. */
static inline uint64_t fz_u64n(fz_in *in, unsigned nbytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < nbytes; i++) v = (v << 8) | fz_u8(in);
    return v;
}

static inline uint64_t fz_u64(fz_in *in)
{
    return fz_u64n(in, 8);
}

/* Copies up to n bytes (zero-filling the rest). */
static inline void fz_bytes(fz_in *in, uint8_t *out, size_t n)
{
    const size_t k = n < in->n ? n : in->n;
    if (k > 0) memcpy(out, in->p, k);
    if (n > k) memset(out + k, 0, n - k);
    in->p += k;
    in->n -= k;
}

/* Invariant violations must stop the fuzzer with a crash it records, in
 * every build mode: assert() would vanish under NDEBUG. The message names
 * the broken invariant, which the trap's stack trace alone does not. */
#define FZ_CHECK(cond)                                                             \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "invariant violated: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            __builtin_trap();                                                      \
        }                                                                          \
    } while (0)

#endif
