/* ThreadSanitizer check of the state tree's two hashing threads
 * (storage/smt_apply.c): blocks of random inserts, updates and deletes are
 * applied to two stores, one hashing on one thread and one splitting every
 * block over two (min_ops 1), and the roots must agree after each block.
 * The second store's node cache is smaller than its tree, so that its big
 * levels are also read from RocksDB in two halves, on the two threads.
 * Built with -fsanitize=thread by `make test-tsan` (part of `make test`):
 * a data race between the threads stops the run with TSan's report.
 * Criterion is not used here: its runner does not start under TSan.
 * Exit status 0 when every root agrees and both threads ran, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_dirs.h"
#include "storage/kv.h"
#include "storage/smt.h"

#define BLOCKS 40
#define MAX_OPS 3000

static uint64_t rng_state = 0x7a5eedu;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int fail(const char *what)
{
    fprintf(stderr, "tsan smt_threads: %s\n", what);
    return 1;
}

int main(void)
{
    char d1[] = "/tmp/ms-tsan-aXXXXXX", d2[] = "/tmp/ms-tsan-bXXXXXX";
    if (mkdtemp(d1) == NULL || mkdtemp(d2) == NULL) return fail("mkdtemp");
    ms_kv *k1 = NULL, *k2 = NULL;
    ms_smt *t1 = NULL, *t2 = NULL;
    int rc = 0;
    static ms_smt_op o1[MAX_OPS], o2[MAX_OPS];
    if (ms_kv_open(&k1, d1) != MS_KV_OK || ms_kv_open(&k2, d2) != MS_KV_OK) rc = fail("ms_kv_open");
    if (rc == 0 && (ms_smt_open(&t1, k1, 64) != MS_SMT_OK || ms_smt_open(&t2, k2, 4096) != MS_SMT_OK)) {
        rc = fail("ms_smt_open");
    }
    if (rc == 0 && (ms_smt_set_parallel(t1, 1, 1) != MS_SMT_OK || ms_smt_set_parallel(t2, 2, 1) != MS_SMT_OK)) {
        rc = fail("ms_smt_set_parallel");
    }
    unsigned two = 0;
    uint64_t read_two = 0;   /* nodes the second store read from RocksDB in its two-thread blocks */
    for (uint64_t v = 1; rc == 0 && v <= BLOCKS; v++) {
        /* Ten blocks of fresh keys, then mixed blocks over the key space. */
        const size_t n = v <= 10 ? MAX_OPS : 1 + (size_t)(rng() % 800);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const uint64_t key = v <= 10 ? v * MAX_OPS + i : rng() % (11 * MAX_OPS);
            const uint64_t val = rng();
            const int del = v > 10 && rng() % 5 == 0;
            uint8_t kb[8], vb[16];
            memcpy(kb, &key, 8);
            memcpy(vb, &val, 8);
            memcpy(vb + 8, &v, 8);
            ms_smt_op op;
            ms_smt_op_set(&op, kb, sizeof kb, vb, sizeof vb, del);
            int dup = 0;
            for (size_t j = 0; j < m && !dup; j++) dup = memcmp(o1[j].path, op.path, 32) == 0;
            if (!dup) o1[m++] = op;
        }
        memcpy(o2, o1, m * sizeof *o1);
        ms_kv_batch *b1 = ms_kv_batch_create(), *b2 = ms_kv_batch_create();
        uint8_t r1[32], r2[32];
        const uint64_t keep = v > 4 ? v - 4 : 0;
        if (ms_smt_apply(t1, b1, v, o1, m, keep, r1) != MS_SMT_OK || ms_smt_apply(t2, b2, v, o2, m, keep, r2) != MS_SMT_OK) {
            rc = fail("ms_smt_apply");
        } else if (ms_kv_write(k1, b1, 0) != MS_KV_OK || ms_kv_write(k2, b2, 0) != MS_KV_OK) {
            rc = fail("ms_kv_write");
        } else if (memcmp(r1, r2, 32) != 0) {
            rc = fail("the roots differ between one and two threads");
        }
        ms_kv_batch_destroy(b1);
        ms_kv_batch_destroy(b2);
        ms_smt_stats st;
        ms_smt_last_stats(t2, &st);
        two += st.threads == 2;
        if (st.threads == 2) read_two += st.nodes_read;
    }
    if (rc == 0 && two == 0) rc = fail("no block used the second thread");
    if (rc == 0 && read_two == 0) rc = fail("no two-thread block read a node from RocksDB");
    ms_smt_close(t1);
    ms_smt_close(t2);
    ms_kv_close(k1);
    ms_kv_close(k2);
    bench_rm_rf(d1);
    bench_rm_rf(d2);
    if (rc == 0)
        printf("tsan smt_threads: %d blocks, roots agree, %u split over two threads, reading %llu nodes from RocksDB\n",
               BLOCKS, two, (unsigned long long)read_two);
    return rc;
}
