/* The node cache never holds a pruned node (storage/smt_internal.h,
 * read_cached_hi, the mark). Pruning deletes the nodes that versions below the window
 * made stale; each apply already drops the nodes it makes stale from the
 * cache (ms_smt_settle), so pruning looks them up in the cache only when a
 * read outside an apply (a get or a proof, possibly at an older version)
 * has cached nodes, some of which may be stale ones, and until pruning has
 * passed the latest version such a read saw. These tests check the
 * invariant behind that shortcut (after every block, each cached node's
 * record is still in the store) and when the mark clears. They look inside
 * the handle (the cache's entries), which no API shows: the cache changes
 * speed only, and a pruned node left in it would cost memory, never a
 * result.
 *
 * Blocks come from splitmix64; each test prints its seed, and
 * MS_TEST_SEED=<n> replays a run. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/kv.h"
#include "storage/smt.h"
#include "storage/smt_internal.h"
#include "test_util.h"

#define POOL 256u          /* keys the blocks draw from */
#define PER_BLOCK 48u      /* updates per block */
#define KEEP 4u            /* versions kept: pruning starts at version KEEP + 1 */
#define BLOCKS 40u

static char g_dir[64];
static ms_kv *g_kv;
static ms_smt *g_t;
static uint64_t g_rng;

static void setup(void)
{
    strcpy(g_dir, "/tmp/ms-smt-prune-cache-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    cr_assert_eq(ms_kv_open(&g_kv, g_dir), MS_KV_OK);
    cr_assert_eq(ms_smt_open(&g_t, g_kv, 4096), MS_SMT_OK);
}

static void teardown(void)
{
    ms_smt_close(g_t);
    ms_kv_close(g_kv);
    ms_test_rmtree(g_dir);
}

/* Block `version`: PER_BLOCK distinct keys of the pool, most put with a
 * value that depends on the version, about one in eight deleted; then
 * pruning below version - KEEP + 1. The batch is written and the cache
 * settled, as a commit does. */
static void block(uint64_t version)
{
    ms_smt_op ops[PER_BLOCK];
    uint8_t used[POOL] = {0};
    for (unsigned i = 0; i < PER_BLOCK; i++) {
        unsigned k;
        do {
            k = (unsigned)(ms_test_splitmix64(&g_rng) % POOL);
        } while (used[k]);
        used[k] = 1;
        const uint8_t key[2] = {(uint8_t)(k >> 8), (uint8_t)k};
        uint8_t val[16];
        memcpy(val, &version, 8);
        memcpy(val + 8, &k, sizeof k);
        const int del = version > 1 && ms_test_splitmix64(&g_rng) % 8 == 0;
        ms_smt_op_set(&ops[i], key, sizeof key, val, sizeof val, del);
    }
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    uint8_t root[32];
    const uint64_t keep_from = version > KEEP ? version - KEEP + 1 : 0;
    cr_assert_eq(ms_smt_apply(g_t, b, version, ops, PER_BLOCK, keep_from, root), MS_SMT_OK);
    cr_assert_eq(ms_kv_write(g_kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    ms_smt_settle(g_t);
}

/* A proof of a random pool key at `version`: it walks, and caches, that
 * version's nodes. */
static void prove_at(uint64_t version)
{
    const unsigned k = (unsigned)(ms_test_splitmix64(&g_rng) % POOL);
    const uint8_t key[2] = {(uint8_t)(k >> 8), (uint8_t)k};
    uint8_t proof[MS_SMT_PROOF_MAX];
    size_t len = 0;
    int present = 0;
    cr_assert_eq(ms_smt_prove(g_t, version, key, sizeof key, proof, sizeof proof, &len, &present), MS_SMT_OK);
}

/* How many cached nodes have no record in the store (pruned), and how many
 * are cached. */
static size_t cached_but_pruned(size_t *cached)
{
    size_t missing = 0;
    *cached = 0;
    for (size_t i = 0; i < g_t->used; i++) {
        const cache_ent *e = &g_t->ents[i];
        if (e->rec == NULL) continue;
        (*cached)++;
        uint8_t key[NODE_KEY_LEN];
        key[0] = MS_SMT_TAG_NODE;
        memcpy(key + 1, e->key, STALE_ENTRY_LEN);
        uint8_t *val = NULL;
        size_t vlen = 0;
        const ms_kv_status s = ms_kv_get(g_kv, &val, &vlen, key, sizeof key);
        free(val);
        cr_assert(s == MS_KV_OK || s == MS_KV_NOT_FOUND, "read of a cached node's record failed (%d)", (int)s);
        if (s == MS_KV_NOT_FOUND) missing++;
    }
    return missing;
}

/* Four proofs at the oldest version retained after block v: its nodes
 * include stale ones, which the next blocks prune. Returns that version. */
static uint64_t prove_oldest(uint64_t v)
{
    const uint64_t old = v > KEEP ? v - KEEP + 1 : 1;
    for (int i = 0; i < 4; i++) prove_at(old);
    return old;
}

/* The invariant after block v: no cached node was pruned. Returns how many
 * nodes are cached. */
static size_t assert_none_pruned_cached(uint64_t v)
{
    size_t cached;
    const size_t missing = cached_but_pruned(&cached);
    cr_assert_eq(missing, 0, "version %llu: %zu of %zu cached nodes were pruned", (unsigned long long)v, missing,
                 cached);
    return cached;
}

TestSuite(smt_prune_cache, .init = setup, .fini = teardown);

Test(smt_prune_cache, blocks_alone_never_look_up_pruned_nodes_and_cache_none)
{
    g_rng = ms_test_seed("smt_prune_cache", "blocks_alone_never_look_up_pruned_nodes_and_cache_none");
    for (uint64_t v = 1; v <= BLOCKS; v++) {
        block(v);
        cr_assert_gt(assert_none_pruned_cached(v), 0);
        cr_assert_eq(g_t->read_cached_hi, 0, "no read outside an apply happened");
    }
    uint64_t latest = 0, oldest = 0;
    cr_assert_eq(ms_smt_info(g_t, &latest, &oldest, NULL), MS_SMT_OK);
    cr_assert_eq(oldest, BLOCKS - KEEP + 1, "pruning ran");
}

Test(smt_prune_cache, proofs_at_older_versions_then_pruning_leave_no_pruned_node_cached)
{
    g_rng = ms_test_seed("smt_prune_cache", "proofs_at_older_versions_then_pruning_leave_no_pruned_node_cached");
    for (uint64_t v = 1; v <= BLOCKS; v++) {
        block(v);
        const uint64_t old = prove_oldest(v);
        /* Once the oldest version is not the latest, its root was replaced,
         * so dropped from the cache: the proofs read it from the store. */
        if (old < v) cr_assert_neq(g_t->read_cached_hi, 0);
        assert_none_pruned_cached(v);
    }
}

/* Once pruning has passed the latest version any such read saw, every
 * stale node it can have cached is gone: the mark clears then, not
 * before, and the invariant holds on. */
Test(smt_prune_cache, the_mark_clears_once_pruning_passes_the_reads)
{
    g_rng = ms_test_seed("smt_prune_cache", "the_mark_clears_once_pruning_passes_the_reads");
    const uint64_t last_proof = 20;
    for (uint64_t v = 1; v <= BLOCKS; v++) {
        block(v);
        if (v <= last_proof) (void)prove_oldest(v);
        assert_none_pruned_cached(v);
        /* After block v the oldest retained version is v - KEEP + 1: it
         * reaches last_proof, the latest any proof saw, at this v. */
        if (v > last_proof) {
            cr_assert_eq(g_t->read_cached_hi != 0, v < last_proof + KEEP - 1, "version %llu: mark %llu",
                         (unsigned long long)v, (unsigned long long)g_t->read_cached_hi);
        }
    }
}

/* The check above is not vacuous: with the shortcut taken although proofs
 * cached stale nodes (the mark cleared by hand, the bug it would be),
 * pruned nodes stay cached and the same count finds them. */
Test(smt_prune_cache, skipping_the_cache_after_old_proofs_would_leave_pruned_nodes)
{
    g_rng = ms_test_seed("smt_prune_cache", "skipping_the_cache_after_old_proofs_would_leave_pruned_nodes");
    size_t worst = 0;
    for (uint64_t v = 1; v <= BLOCKS; v++) {
        block(v);
        (void)prove_oldest(v);
        g_t->read_cached_hi = 0;
        size_t cached;
        const size_t missing = cached_but_pruned(&cached);
        if (missing > worst) worst = missing;
    }
    cr_assert_gt(worst, 0, "proofs at the oldest version cached nodes that pruning then deleted");
}

/* A rollback empties the cache, and with it the mark. */
Test(smt_prune_cache, rollback_clears_the_mark)
{
    g_rng = ms_test_seed("smt_prune_cache", "rollback_clears_the_mark");
    for (uint64_t v = 1; v <= 8; v++) block(v);
    prove_at(6);
    cr_assert_neq(g_t->read_cached_hi, 0);
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    uint8_t root[32];
    cr_assert_eq(ms_smt_rollback(g_t, b, 7, root), MS_SMT_OK);
    cr_assert_eq(ms_kv_write(g_kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    cr_assert_eq(g_t->read_cached_hi, 0);
    for (uint64_t v = 8; v <= 16; v++) {
        block(v);
        assert_none_pruned_cached(v);
    }
}
