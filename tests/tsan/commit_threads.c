/* ThreadSanitizer check of a block commit's second threads outside the
 * tree (storage/block.c): a block of 256 state writes or more builds its
 * undo record and its logged batch on a second thread while the calling
 * one updates the tree (both read the store), and teaches the record cache
 * its values on a second thread while the calling one writes the block to
 * RocksDB, and writes the tree's records on a thread that outlives the
 * commit (storage/tree_writer.c). Blocks of nonce writes (and deletes) are
 * committed and, after each, every nonce is read back through the state
 * (record cache first) while that write may still run, and compared with
 * a model, and the root at that height is read (which waits for it); then a rollback of three blocks, through the
 * undo records built on that thread, must give back the model and the
 * root of that height. Built with -fsanitize=thread by `make
 * test-tsan` (part of `make test`): a data race stops the run with TSan's
 * report. Exit status 0 when every value agrees, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_dirs.h"
#include "storage/records.h"
#include "storage/state.h"

#define BLOCKS 12
#define ADDRS 1000u
#define WRITES 400u

static int fail(const char *what, unsigned block)
{
    fprintf(stderr, "tsan commit_threads: %s (block %u)\n", what, block);
    return 1;
}

static void addr_of(uint8_t a[20], unsigned i)
{
    memset(a, 0x5a, 20);
    a[0] = (uint8_t)(i >> 8);
    a[1] = (uint8_t)i;
}

int main(void)
{
    char dir[] = "/tmp/ms-tsan-cXXXXXX";
    if (mkdtemp(dir) == NULL) return fail("mkdtemp", 0);
    static ms_state st;
    if (ms_state_open(&st, dir, 8) != 0) return fail("ms_state_open", 0);
    static uint64_t model[ADDRS];   /* 0: absent */
    static uint64_t hist[BLOCKS + 1][ADDRS];   /* the model after each block */
    uint8_t roots[BLOCKS + 1][32];
    int rc = 0;
    for (unsigned b = 1; rc == 0 && b <= BLOCKS; b++) {
        for (unsigned w = 0; w < WRITES && rc == 0; w++) {
            const unsigned i = (b * 7u + w * 13u) % ADDRS;
            uint8_t a[20];
            addr_of(a, i);
            if ((w + b) % 11u == 0 && model[i] != 0) {
                ms_key k;
                ms_key_nonce(&k, a);
                if (ms_state_delete(&st, &k) != MS_STATE_OK) rc = fail("delete", b);
                model[i] = 0;
            } else {
                const uint64_t n = (uint64_t)b * 100000u + w + 1u;
                if (ms_state_put_nonce(&st, a, n) != MS_STATE_OK) rc = fail("put", b);
                model[i] = n;
            }
        }
        uint8_t *const root = roots[b];
        if (rc == 0 && ms_state_commit(&st, root, b, 8) != 0) rc = fail("commit", b);
        memcpy(hist[b], model, sizeof model);
        for (unsigned i = 0; i < ADDRS && rc == 0; i++) {
            uint8_t a[20];
            uint64_t n = 99;
            addr_of(a, i);
            if (ms_state_get_nonce(&st, &n, a) != MS_STATE_OK) rc = fail("get", b);
            else if (n != model[i]) rc = fail("a nonce read after the commit differs from the model", b);
        }
        uint8_t at[32];
        if (rc == 0 && (ms_state_root_at(&st, at, b) != 0 || memcmp(at, root, 32) != 0))
            rc = fail("the root at the block's height differs from its commit's", b);
    }
    const unsigned back = BLOCKS - 3;
    if (rc == 0 && ms_state_rollback(&st, back, 8) != 0) rc = fail("rollback", back);
    if (rc == 0 && memcmp(st.root, roots[back], 32) != 0) rc = fail("the root after the rollback differs", back);
    for (unsigned i = 0; i < ADDRS && rc == 0; i++) {
        uint8_t a[20];
        uint64_t n = 99;
        addr_of(a, i);
        if (ms_state_get_nonce(&st, &n, a) != MS_STATE_OK) rc = fail("get after the rollback", back);
        else if (n != hist[back][i]) rc = fail("a nonce read after the rollback differs from the model", back);
    }
    ms_state_close(&st);
    bench_rm_rf(dir);
    if (rc == 0) printf("tsan commit_threads: %d blocks of %u writes, every value read back, and again after a rollback of 3\n",
                       BLOCKS, WRITES);
    return rc;
}
