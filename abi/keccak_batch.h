/* Multi-buffer Keccak-256 (Ethereum padding, as ms_keccak256): hashes n
 * independent messages of one length at once, 4 (AVX2) or 8 (AVX-512) per
 * permutation. The results are byte-identical to ms_keccak256 on every CPU;
 * only the speed depends on which implementation runs. */
#ifndef MS_ABI_KECCAK_BATCH_H
#define MS_ABI_KECCAK_BATCH_H

#include <stddef.h>
#include <stdint.h>

typedef enum ms_keccak_impl {
    MS_KECCAK_IMPL_BEST = 0,    /* the fastest this CPU supports */
    MS_KECCAK_IMPL_SCALAR = 1,  /* ms_keccak256 in a loop; everywhere */
    MS_KECCAK_IMPL_AVX2 = 2,    /* 4 messages per permutation, x86-64 with AVX2 */
    MS_KECCAK_IMPL_AVX512 = 3   /* 8 messages per permutation, x86-64 with AVX-512F+VL */
} ms_keccak_impl;

/** Keccak-256 of n messages of len bytes each: out[i] = keccak256(in[i][0..len)).
 *
 *  Aliasing: every out[i] is written only after every in[j] with j <= i has
 *  been read completely, so out[i] may overlap in[j] for j <= i (in
 *  particular hashing in place, out[i] == in[i], is allowed); out[i] must not
 *  overlap any in[j] with j > i, and the out buffers must not overlap each
 *  other. The in pointers may repeat (equal messages are fine).
 *
 *  In:  in  (n pointers, each to len readable bytes; may be NULL when n is 0;
 *            in[i] may be NULL when len is 0), len (any, 0 allowed,
 *            multi-block inputs too), n (any, 0 allowed).
 *  Out: out (n pointers, each to 32 writable bytes; may be NULL when n is 0). */
void ms_keccak256_batch(uint8_t *const out[], const uint8_t *const in[], size_t len, size_t n);

/** The same with a chosen implementation (tests and benchmarks).
 *
 *  Returns 1 when impl is available on this CPU and the hashes were written,
 *  0 otherwise (unknown enum value, or an ISA this CPU or build lacks);
 *  nothing is written then.
 *  In/Out: as ms_keccak256_batch. In: impl (MS_KECCAK_IMPL_BEST picks as
 *  ms_keccak_best_impl does). */
int ms_keccak256_batch_with(ms_keccak_impl impl, uint8_t *const out[],
                            const uint8_t *const in[], size_t len, size_t n);

/** Returns 1 when impl can run on this CPU and build (BEST and SCALAR
 *  always), 0 otherwise (an unknown value, or an ISA this CPU lacks). */
int ms_keccak_impl_available(ms_keccak_impl impl);

/** Returns the implementation MS_KECCAK_IMPL_BEST picks on this CPU
 *  (never MS_KECCAK_IMPL_BEST itself). */
ms_keccak_impl ms_keccak_best_impl(void);

#endif
