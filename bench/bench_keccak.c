/* Micro-benchmark: ns per Keccak-256 of a 65-byte message (the state tree's
 * preimage), scalar one by one against each available batch implementation
 * at several batch sizes. Reports only; no targets. Usage: bench_keccak
 * [len] (default 65). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/keccak.h"
#include "abi/keccak_batch.h"

#define BK_MAX_N 1024u

static double bk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint8_t bk_in[BK_MAX_N][1024];
static uint8_t bk_out[BK_MAX_N][32];
static const uint8_t *bk_inp[BK_MAX_N];
static uint8_t *bk_outp[BK_MAX_N];

/* reps rounds of n hashes of len bytes through impl (-1: ms_keccak256 one
 * by one). Returns ns. */
static double bk_run(int impl, size_t len, size_t n, size_t reps)
{
    double t0 = bk_now();
    for (size_t r = 0; r < reps; r++) {
        if (impl < 0) {
            for (size_t i = 0; i < n; i++) ms_keccak256(bk_outp[i], bk_inp[i], len);
        } else {
            ms_keccak256_batch_with((ms_keccak_impl)impl, bk_outp, bk_inp, len, n);
        }
    }
    return bk_now() - t0;
}

/* Best of several runs of about 20 ms each, in ns per hash. */
static double bk_time(int impl, size_t len, size_t n)
{
    double best = 1e30;
    size_t reps = 1;
    while (bk_run(impl, len, n, reps) <= 2e7) reps *= 2;   /* calibrate */
    for (int run = 0; run < 5; run++) {
        double per = bk_run(impl, len, n, reps) / (double)(reps * n);
        if (per < best) best = per;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t len = 65;
    if (argc > 1) {
        len = (size_t)strtoul(argv[1], NULL, 10);
        if (len > sizeof bk_in[0]) len = sizeof bk_in[0];
    }
    uint32_t x = 12345;
    for (size_t i = 0; i < BK_MAX_N; i++) {
        for (size_t j = 0; j < sizeof bk_in[0]; j++) {
            x = x * 1664525u + 1013904223u;
            bk_in[i][j] = (uint8_t)(x >> 24);
        }
        bk_inp[i] = bk_in[i];
        bk_outp[i] = bk_out[i];
    }
    static const char *names[] = {"best", "scalar", "avx2", "avx512"};
    static const size_t sizes[] = {1, 2, 4, 5, 7, 8, 64, 1024};
    printf("keccak256 of %zu bytes, ns per hash (best impl here: %s)\n", len,
           names[ms_keccak_best_impl()]);
    printf("%-22s", "impl \\ n");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) printf("%8zu", sizes[s]);
    printf("\n%-22s", "ms_keccak256 one by one");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) printf("%8.1f", bk_time(-1, len, sizes[s]));
    printf("\n");
    for (int impl = 1; impl <= 3; impl++) {
        if (!ms_keccak256_batch_with((ms_keccak_impl)impl, bk_outp, bk_inp, len, 1)) {
            printf("%-22s not available\n", names[impl]);
            continue;
        }
        printf("batch %-16s", names[impl]);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) printf("%8.1f", bk_time(impl, len, sizes[s]));
        printf("\n");
    }
    return 0;
}
