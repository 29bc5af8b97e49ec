/* The Keccak work of a tree update timed by itself, the baseline of
 * issue 15's "within 2x of the Keccak work alone" (bench_smt, gated) and of
 * bench_commit's share of Keccak in the tree part (reported). Two ways:
 *
 *   one at a time: ms_keccak256 on each input in turn, each input holding
 *     the previous output, as the tree hashed before it batched;
 *   batched: the same hashes 8 at a time through ms_keccak256_batch, the
 *     way the tree hashes now (the leaves of a block together, then the
 *     nodes of one depth together, abi/keccak_batch.h); each group's inputs
 *     hold the previous group's output.
 *
 * The chaining keeps a compiler from dropping or overlapping calls. The
 * batched figure is the floor the tree can reach with the CPU's SIMD lanes
 * (8 per permutation with AVX-512), so it is the one a target compares
 * with. Header-only, static functions, for the two bench programs. */
#ifndef MS_BENCH_KECCAK_ALONE_H
#define MS_BENCH_KECCAK_ALONE_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "abi/keccak.h"
#include "abi/keccak_batch.h"

#define BENCH_KECCAK_LANES 8u
#define BENCH_KECCAK_MAX_INPUT 256u

static volatile uint8_t bench_keccak_sink;

static inline uint64_t bench_keccak_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* n65 hashes of 65 bytes and `pairs` pairs of a klen-byte and a vlen-byte
 * input (a write's key and value; each at most BENCH_KECCAK_MAX_INPUT, at
 * least 33), one call at a time. Returns ns. */
static inline uint64_t bench_keccak_alone_one(uint64_t n65, uint64_t pairs, size_t klen, size_t vlen)
{
    uint8_t buf[BENCH_KECCAK_MAX_INPUT], h[32] = {0};
    memset(buf, 0x5a, sizeof buf);
    buf[0] = 0x01;
    const uint64_t t0 = bench_keccak_ns();
    for (uint64_t i = 0; i < n65; i++) {
        memcpy(buf + 1, h, 32);
        ms_keccak256(h, buf, 65);
    }
    for (uint64_t i = 0; i < pairs; i++) {
        memcpy(buf + 1, h, 32);
        ms_keccak256(h, buf, klen);
        memcpy(buf + 1, h, 32);
        ms_keccak256(h, buf, vlen);
    }
    const uint64_t t = bench_keccak_ns() - t0;
    bench_keccak_sink ^= h[0];
    return t;
}

/* n hashes of len bytes, BENCH_KECCAK_LANES at a time (the last group
 * smaller). */
static inline void bench_keccak_groups(uint64_t n, size_t len, uint8_t in[][BENCH_KECCAK_MAX_INPUT],
                                       uint8_t out[][32])
{
    const uint8_t *ip[BENCH_KECCAK_LANES];
    uint8_t *op[BENCH_KECCAK_LANES];
    for (unsigned k = 0; k < BENCH_KECCAK_LANES; k++) {
        ip[k] = in[k];
        op[k] = out[k];
    }
    for (uint64_t done = 0; done < n;) {
        const uint64_t g = n - done < BENCH_KECCAK_LANES ? n - done : BENCH_KECCAK_LANES;
        for (unsigned k = 0; k < g; k++) memcpy(in[k] + 1, out[0], 32);
        ms_keccak256_batch(op, ip, len, (size_t)g);
        done += g;
    }
}

/* The same work as bench_keccak_alone_one, batched. Returns ns. */
static inline uint64_t bench_keccak_alone_batched(uint64_t n65, uint64_t pairs, size_t klen, size_t vlen)
{
    uint8_t in[BENCH_KECCAK_LANES][BENCH_KECCAK_MAX_INPUT], out[BENCH_KECCAK_LANES][32];
    memset(in, 0x5a, sizeof in);
    memset(out, 0, sizeof out);
    for (unsigned k = 0; k < BENCH_KECCAK_LANES; k++) in[k][0] = (uint8_t)(0x01 + k);
    const uint64_t t0 = bench_keccak_ns();
    bench_keccak_groups(n65, 65, in, out);
    bench_keccak_groups(pairs, klen, in, out);
    bench_keccak_groups(pairs, vlen, in, out);
    const uint64_t t = bench_keccak_ns() - t0;
    bench_keccak_sink ^= out[0][0];
    return t;
}

#endif
