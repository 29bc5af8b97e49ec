/* The state tree's lost versions and their rebuild (spec/storage.md [ST-24],
 * storage/tree_rebuild.c).
 *
 * A commit writes the tree's records (tags 10-13) outside RocksDB's log,
 * after the block's synced, logged batch, when the block has at least
 * st->unlogged_min writes or the tree already has unflushed versions; a
 * crash loses the ones not yet flushed, and ms_state_open rebuilds them
 * from the undo records, checking each against its block's root
 * (`00 04 || h`). Most tests here take every block out of the log
 * (unlogged_min 1) so that small blocks exercise the rebuild. A crash is
 * a forked child that commits blocks and then _exits without closing the
 * store: its memtable, and with it every unflushed tree version, dies with
 * it, while the logged batches are in the write-ahead log. The child reports
 * the roots it committed through a pipe; the parent first checks, opening
 * the directory raw, that the tree really is behind the head (so the rebuild
 * is exercised), then opens it and checks heights, roots, retained roots,
 * values, and that the rebuilt records equal those of a store that ran the
 * same blocks and closed cleanly. Damaged or missing undo records, and a tree
 * ahead of the head, must be MS_ERR_CORRUPT.
 *
 * The child forks before the test's process has touched RocksDB: a fork
 * keeps only the calling thread, and RocksDB's shared background threads
 * would be missing in the child (its flushes would never run).
 *
 * Random blocks come from splitmix64; the seed is printed, and
 * MS_TEST_SEED=<n> replays a run. Each test works in its own mkdtemp
 * directory under /tmp, removed by the fixture even when the test fails. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi/abi_encode.h"
#include "memsync.h"
#include "storage/kv.h"
#include "storage/records.h"
#include "storage/smt.h"
#include "storage/state.h"
#include "storage/undo.h"
#include "test_util.h"

/* ---------------------------------------------------------------- fixture */

static char base_dir[64];

/* Handles a failed assertion would leave open: the fixture closes them, so
 * a failing test reports its assertion, not a leak under LeakSanitizer. */
static ms_state g_st[2];
static ms_kv *g_kv;
static ms_smt *g_smt;

static void tr_setup(void)
{
    strcpy(base_dir, "/tmp/ms-rebuild-XXXXXX");
    cr_assert_not_null(mkdtemp(base_dir));
}

static void tr_teardown(void)
{
    if (g_smt != NULL) ms_smt_close(g_smt);
    if (g_kv != NULL) ms_kv_close(g_kv);
    g_smt = NULL;
    g_kv = NULL;
    for (size_t i = 0; i < 2; i++) ms_state_close(&g_st[i]);
    ms_test_rmtree(base_dir);
}

TestSuite(tree_rebuild, .init = tr_setup, .fini = tr_teardown);

/* A store directory inside the test's temporary directory. */
static void dir_of(char out[96], const char *name)
{
    const int n = snprintf(out, 96, "%s/%s", base_dir, name);
    cr_assert(n > 0 && n < 96);
}

/* ------------------------------------------------------------- randomness */

static uint64_t rng_state;

static uint64_t rng(void)
{
    return ms_test_splitmix64(&rng_state);
}

/* Printed and flushed before any fork (ms_test_seed). */
static void seed_rng(const char *test)
{
    rng_state = ms_test_seed("tree_rebuild", test);
}

/* ------------------------------------------------------- keys and blocks */

#define NKEYS 24u
#define MAX_OPS 8u
#define BIG_LEN 3000u   /* above MS_STATE_RECENT_MAX: the store's large-value path */

/* Key i: three kinds of state key, so the tree holds several tags. */
static void key_of(ms_key *k, unsigned i)
{
    uint8_t id[32];
    memset(id, 0x5a, sizeof id);
    ms_put_be32(id + 16, i);   /* within the 20 bytes a nonce key takes */
    switch (i % 3) {
    case 0: ms_key_nonce(k, id); break;
    case 1: ms_key_asset(k, id); break;
    default: ms_key_ciphertext(k, id, i); break;
    }
}

/* The value a put of key i writes in generation gen: distinct per (i, gen). */
static void value_of(uint8_t *out, unsigned i, unsigned gen, size_t len)
{
    uint64_t x = ((uint64_t)i << 32) ^ gen ^ 0x1234567u;
    for (size_t j = 0; j < len; j++) {
        if (j % 8 == 0) {
            x += 0x9e3779b97f4a7c15u;
            x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9u;
        }
        out[j] = (uint8_t)(x >> (8 * (j % 8)));
    }
}

typedef struct wop {
    unsigned key;
    int del;
    unsigned gen;
    size_t len;
} wop;

typedef struct blk {
    unsigned n;
    wop ops[MAX_OPS];
    unsigned bulk;   /* then puts of keys BULK_BASE .. BULK_BASE + bulk - 1: a big block */
} blk;

/* Bulk keys lie above NKEYS: the model leaves them to expect_bulk. */
#define BULK_BASE 1000u
#define BULK_LEN 16u

#define PUT(k, g, l) {(k), 0, (g), (l)}
#define DEL(k) {(k), 1, 0, 0}

/* The six blocks of the first test (also the first five of the damage
 * tests): new keys, overwrites, deletes of present and absent keys, an
 * empty block, key 0 written in blocks 1, 2 and 4 (and deleted in 6), a
 * value of BIG_LEN bytes overwritten, an empty value. */
static const blk SIX[6] = {
    {5, {PUT(0, 1, 40), PUT(1, 1, 8), PUT(2, 1, 124), PUT(3, 1, BIG_LEN), PUT(4, 1, 20)}, 0},
    {4, {PUT(0, 2, 41), PUT(5, 1, 33), DEL(1), DEL(9)}, 0},
    {0, {{0, 0, 0, 0}}, 0},
    {4, {PUT(0, 3, 42), PUT(3, 2, BIG_LEN), DEL(4), PUT(6, 1, 101)}, 0},
    {3, {PUT(1, 2, 9), PUT(2, 2, 7), PUT(7, 1, 64)}, 0},
    {4, {DEL(0), PUT(4, 2, 21), PUT(8, 1, 0), PUT(10, 1, 2200)}, 0},
};

/* Two more blocks, run on both stores after the rebuild. */
static const blk TWO_MORE[2] = {
    {3, {PUT(0, 4, 43), PUT(9, 1, 16), DEL(8)}, 0},
    {3, {PUT(3, 3, 12), DEL(2), PUT(11, 1, 77)}, 0},
};

/* A random block: 1..4 writes over 16 keys, a fifth of them deletes. */
static void random_block(blk *b, unsigned gen)
{
    b->n = 1 + (unsigned)(rng() % 4);
    b->bulk = 0;
    for (unsigned i = 0; i < b->n; i++) {
        const unsigned key = (unsigned)(rng() % 16);
        if (rng() % 5 == 0) b->ops[i] = (wop)DEL(key);
        else b->ops[i] = (wop)PUT(key, gen, 1 + (size_t)(rng() % 200));
    }
}

/* What each key should hold. */
typedef struct model {
    int present[NKEYS];
    unsigned gen[NKEYS];
    size_t len[NKEYS];
} model;

static void model_apply(model *m, const blk *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        const wop *o = &b->ops[i];
        m->present[o->key] = !o->del;
        m->gen[o->key] = o->gen;
        m->len[o->key] = o->len;
    }
}

static uint8_t valbuf[4096];

/* Stage a block's writes. Returns 0, or 1 when a write failed. */
static int stage_block(ms_state *st, const blk *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        const wop *o = &b->ops[i];
        ms_key k;
        key_of(&k, o->key);
        ms_state_status s;
        if (o->del) {
            s = ms_state_delete(st, &k);
        } else {
            value_of(valbuf, o->key, o->gen, o->len);
            s = ms_state_put(st, &k, valbuf, o->len);
        }
        if (s != MS_STATE_OK) return 1;
    }
    for (unsigned j = 0; j < b->bulk; j++) {
        ms_key k;
        key_of(&k, BULK_BASE + j);
        value_of(valbuf, BULK_BASE + j, 1, BULK_LEN);
        if (ms_state_put(st, &k, valbuf, BULK_LEN) != MS_STATE_OK) return 1;
    }
    return 0;
}

/* In-process: stage and commit, asserting. */
static void commit_ok(ms_state *st, uint8_t root[32], const blk *b, uint64_t height, uint32_t depth)
{
    cr_assert_eq(stage_block(st, b), 0);
    cr_assert_eq(ms_state_commit(st, root, height, depth), MS_OK, "commit at %" PRIu64, height);
}

/* Every key reads what the model says. */
static void expect_values(ms_state *st, const model *m)
{
    for (unsigned i = 0; i < NKEYS; i++) {
        ms_key k;
        const uint8_t *val = NULL;
        size_t vlen = 0;
        key_of(&k, i);
        const ms_state_status s = ms_state_get(st, &val, &vlen, &k);
        if (!m->present[i]) {
            cr_assert_eq(s, MS_STATE_NOT_FOUND, "key %u: should be absent (status %d)", i, (int)s);
            continue;
        }
        cr_assert_eq(s, MS_STATE_OK, "key %u: should be present (status %d)", i, (int)s);
        cr_assert_eq(vlen, m->len[i], "key %u: %zu bytes, want %zu", i, vlen, m->len[i]);
        value_of(valbuf, i, m->gen[i], m->len[i]);
        cr_assert(vlen == 0 || memcmp(val, valbuf, vlen) == 0, "key %u: value differs", i);
    }
}

/* The n bulk keys read what stage_block put. */
static void expect_bulk(ms_state *st, unsigned n)
{
    for (unsigned j = 0; j < n; j++) {
        ms_key k;
        const uint8_t *val = NULL;
        size_t vlen = 0;
        key_of(&k, BULK_BASE + j);
        cr_assert_eq(ms_state_get(st, &val, &vlen, &k), MS_STATE_OK, "bulk key %u absent", j);
        value_of(valbuf, BULK_BASE + j, 1, BULK_LEN);
        cr_assert(vlen == BULK_LEN && memcmp(val, valbuf, BULK_LEN) == 0, "bulk key %u: value differs", j);
    }
}

/* -------------------------------------------------------------- crashes */

#define MAX_REPORT 64u

/* What a child committed: the root of each commit, in order, and after
 * it the tree version the store held to be on disk (tree_durable). */
typedef struct report {
    uint64_t n;
    uint64_t height[MAX_REPORT];
    uint8_t root[MAX_REPORT][32];
    uint64_t durable[MAX_REPORT];
} report;

/* The child's work: blocks at heights 1..nblocks, then optionally a
 * rollback to rollback_to and blocks from rollback_to + 1 on. */
typedef struct plan {
    uint32_t depth;
    const blk *blocks;
    size_t nblocks;
    int rollback;
    uint64_t rollback_to;
    const blk *after;
    size_t nafter;
    size_t unlogged_min;   /* set after the open; 0 keeps ms_state_open's default */
} plan;

/* Every block's tree outside the log: small test blocks lose versions too. */
#define ALL_UNLOGGED 1u

/* Exit codes of a child that could not do its work. */
enum { CHILD_OPEN = 10, CHILD_STAGE = 11, CHILD_COMMIT = 12, CHILD_ROLLBACK = 13, CHILD_PIPE = 14 };

static int child_commit(ms_state *st, report *r, const blk *b, uint64_t height, uint32_t depth)
{
    if (stage_block(st, b) != 0) return CHILD_STAGE;
    if (r->n == MAX_REPORT) return CHILD_PIPE;
    if (ms_state_commit(st, r->root[r->n], height, depth) != MS_OK) return CHILD_COMMIT;
    /* The commit's tree write and its flush accounting may still run. */
    if (ms_state_tree_join(st, NULL) != MS_OK) return CHILD_COMMIT;
    r->durable[r->n] = st->tree_durable;
    r->height[r->n++] = height;
    return 0;
}

static int child_run(const char *dir, const plan *p, report *r)
{
    ms_state st;
    if (ms_state_open(&st, dir, p->depth) != MS_OK) return CHILD_OPEN;
    if (p->unlogged_min != 0) st.unlogged_min = p->unlogged_min;
    int rc = 0;
    for (size_t i = 0; i < p->nblocks && rc == 0; i++) rc = child_commit(&st, r, &p->blocks[i], i + 1, p->depth);
    if (rc == 0 && p->rollback && ms_state_rollback(&st, p->rollback_to, p->depth) != MS_OK) rc = CHILD_ROLLBACK;
    for (size_t i = 0; rc == 0 && p->rollback && i < p->nafter; i++) {
        rc = child_commit(&st, r, &p->after[i], p->rollback_to + 1 + i, p->depth);
    }
    /* No ms_state_close: the process dies with the store open. */
    return rc;
}

/* Run the plan in a child that then dies without closing the store. Out: r. */
static void crash_run(const char *dir, const plan *p, report *r)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    const pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        report mine;
        memset(&mine, 0, sizeof mine);
        int rc = child_run(dir, p, &mine);
        if (rc == 0 && write(fds[1], &mine, sizeof mine) != (ssize_t)sizeof mine) rc = CHILD_PIPE;
        _exit(rc);
    }
    close(fds[1]);
    memset(r, 0, sizeof *r);
    size_t got = 0;
    while (got < sizeof *r) {
        const ssize_t n = read(fds[0], (uint8_t *)r + got, sizeof *r - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fds[0]);
    int wst = 0;
    cr_assert_eq(waitpid(pid, &wst, 0), pid);
    cr_assert(WIFEXITED(wst), "the child did not exit normally");
    cr_assert_eq(WEXITSTATUS(wst), 0, "the child failed with code %d", WEXITSTATUS(wst));
    cr_assert_eq(got, sizeof *r, "short report from the child");
}

/* The root the child reported last for height h. */
static const uint8_t *reported_root(const report *r, uint64_t h)
{
    const uint8_t *found = NULL;
    for (uint64_t i = 0; i < r->n; i++) {
        if (r->height[i] == h) found = r->root[i];
    }
    cr_assert_not_null(found, "the child reported no root for height %" PRIu64, h);
    return found;
}

static void expect_root(const uint8_t *got, const uint8_t *want, const char *what, uint64_t h)
{
    char g[65], w[65];
    ms_test_hex_of(g, got, 32);
    ms_test_hex_of(w, want, 32);
    cr_assert_eq(memcmp(got, want, 32), 0, "%s at %" PRIu64 ": %s, want %s", what, h, g, w);
}

/* ------------------------------------------------------- raw store access */

static void raw_open(const char *dir)
{
    cr_assert_eq(ms_kv_open(&g_kv, dir), MS_KV_OK, "%s", dir);
}

static void raw_close(void)
{
    if (g_smt != NULL) ms_smt_close(g_smt);
    g_smt = NULL;
    ms_kv_close(g_kv);
    g_kv = NULL;
}

/* Out: latest, the tree's latest version (what survived on disk). */
static uint64_t raw_tree_latest(void)
{
    uint64_t latest = 0;
    cr_assert_eq(ms_smt_open(&g_smt, g_kv, 0), MS_SMT_OK);
    cr_assert_eq(ms_smt_info(g_smt, &latest, NULL, NULL), MS_SMT_OK);
    ms_smt_close(g_smt);
    g_smt = NULL;
    return latest;
}

/* The committed height (meta 00 02). */
static uint64_t raw_height(void)
{
    ms_key k;
    uint8_t *val = NULL;
    size_t vlen = 0;
    ms_key_meta(&k, MS_META_HEIGHT);
    cr_assert_eq(ms_kv_get(g_kv, &val, &vlen, k.bytes, k.len), MS_KV_OK);
    cr_assert_eq(vlen, 8u);
    const uint64_t h = ms_get_be64(val);
    free(val);
    return h;
}

/* Raw: the tree's latest version and the committed height, handles closed. */
static void raw_tree_and_height(const char *dir, uint64_t *latest, uint64_t *height)
{
    raw_open(dir);
    *latest = raw_tree_latest();
    *height = raw_height();
    raw_close();
}

/* Put (val non-NULL) or delete one record, synced. */
static void raw_write(const ms_key *k, const uint8_t *val, size_t vlen)
{
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    if (val != NULL) ms_kv_batch_put(b, k->bytes, k->len, val, vlen);
    else ms_kv_batch_delete(b, k->bytes, k->len);
    const ms_kv_status s = ms_kv_write(g_kv, b, 1);
    ms_kv_batch_destroy(b);
    cr_assert_eq(s, MS_KV_OK);
}

/* raw_write in its own raw open of dir. */
static void raw_put(const char *dir, const ms_key *k, const uint8_t *val, size_t vlen)
{
    raw_open(dir);
    raw_write(k, val, vlen);
    raw_close();
}

/* A record's value (malloc'd; the caller frees). */
static uint8_t *raw_get(const ms_key *k, size_t *vlen)
{
    uint8_t *val = NULL;
    cr_assert_eq(ms_kv_get(g_kv, &val, vlen, k->bytes, k->len), MS_KV_OK);
    return val;
}

/* raw_get in its own raw open of dir. */
static uint8_t *raw_read(const char *dir, const ms_key *k, size_t *vlen)
{
    raw_open(dir);
    uint8_t *val = raw_get(k, vlen);
    raw_close();
    return val;
}

/* The record's value (malloc'd), and the record deleted: what a test
 * damages and then puts back with raw_put. */
static uint8_t *raw_take(const char *dir, const ms_key *k, size_t *vlen)
{
    uint8_t *val = raw_read(dir, k, vlen);
    raw_put(dir, k, NULL, 0);
    return val;
}

/* The whole store as klen u32 | key | vlen u32 | value, in key order. */
typedef struct snapshot {
    ms_buf buf;
    size_t records;
    size_t tree_records;   /* tags 10-13 */
} snapshot;

static int snap_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    snapshot *s = ctx;
    uint8_t be[4];
    ms_put_be32(be, (uint32_t)klen);
    ms_buf_put(&s->buf, be, 4);
    ms_buf_put(&s->buf, key, klen);
    ms_put_be32(be, (uint32_t)vlen);
    ms_buf_put(&s->buf, be, 4);
    ms_buf_put(&s->buf, val, vlen);
    s->records++;
    if (klen > 0 && key[0] >= MS_SMT_TAG_NODE && key[0] <= MS_SMT_TAG_META) s->tree_records++;
    return 1;
}

static void raw_snapshot(const char *dir, snapshot *s)
{
    memset(s, 0, sizeof *s);
    ms_buf_init(&s->buf);
    raw_open(dir);
    cr_assert_eq(ms_kv_scan(g_kv, NULL, 0, snap_one, s), MS_KV_OK);
    raw_close();
    cr_assert_eq(s->buf.failed, 0);
}

/* Both snapshots hold the same records byte for byte; names the first
 * record that differs. Frees both. */
static void expect_same_store(snapshot *a, snapshot *b)
{
    size_t pa = 0, pb = 0, rec = 0;
    while (pa < a->buf.size && pb < b->buf.size) {
        const uint8_t *ka = a->buf.data + pa, *kb = b->buf.data + pb;
        const size_t kla = ms_get_be32(ka), klb = ms_get_be32(kb);
        const size_t vla = ms_get_be32(ka + 4 + kla), vlb = ms_get_be32(kb + 4 + klb);
        const size_t la = 8 + kla + vla, lb = 8 + klb + vlb;
        if (la != lb || memcmp(ka, kb, la) != 0) {
            char ha[2 * MS_KEY_MAX + 32], hb[2 * MS_KEY_MAX + 32];
            ms_test_hex_of(ha, ka + 4, kla < 40 ? kla : 40);
            ms_test_hex_of(hb, kb + 4, klb < 40 ? klb : 40);
            cr_assert_fail("record %zu differs: key %s (value %zu bytes) vs key %s (value %zu bytes)", rec, ha, vla, hb,
                    vlb);
        }
        pa += la;
        pb += lb;
        rec++;
    }
    cr_assert_eq(a->records, b->records, "%zu records vs %zu", a->records, b->records);
    cr_assert_eq(a->buf.size, b->buf.size);
    cr_assert_eq(a->tree_records, b->tree_records);
    cr_assert_gt(a->tree_records, 0u, "no tree records to compare");
    ms_buf_free(&a->buf);
    ms_buf_free(&b->buf);
}

/* The tree's latest version is below the committed height: the crash lost
 * versions, so the open that follows has to rebuild them. */
static uint64_t expect_tree_behind(const char *dir, uint64_t committed)
{
    uint64_t latest = 0, height = 0;
    raw_tree_and_height(dir, &latest, &height);
    cr_assert_eq(height, committed, "head height %" PRIu64 ", the child committed %" PRIu64, height, committed);
    cr_assert_lt(latest, height, "the crash lost no tree version (latest %" PRIu64 ", height %" PRIu64 ")", latest,
                 height);
    return latest;
}

/* The tree the crash left against what the child's store held ([ST-24]):
 * exactly its last tree_durable (a version it counted on disk must be; no
 * flush but the ones it waited for ran: the memtables are far from full).
 * Returns latest. */
static uint64_t expect_tree_as_left(const char *dir, const report *r)
{
    cr_assert_gt(r->n, 0u);
    const uint64_t d = r->durable[r->n - 1];
    uint64_t latest = 0, height = 0;
    raw_tree_and_height(dir, &latest, &height);
    cr_assert_eq(height, r->height[r->n - 1]);
    cr_assert_eq(latest, d, "the store held version %" PRIu64 " on disk, the crash left %" PRIu64, d, latest);
    return latest;
}

/* Open dir with reorg depth R into g_st[0] (left open; the fixture closes
 * it on failure) and check the head, height n with the child's root, and
 * the root of every retained height, max(n - R, 1) .. n. */
static ms_state *open_at(const char *dir, uint32_t R, const report *r, uint64_t n)
{
    ms_state *st = &g_st[0];
    cr_assert_eq(ms_state_open(st, dir, R), MS_OK, "open with R %u", R);
    cr_assert_eq(st->height, n);
    expect_root(st->root, reported_root(r, n), "head root", n);
    const uint64_t lo = n > R ? n - R : 1;
    for (uint64_t h = lo; h <= n; h++) {
        uint8_t root[32];
        cr_assert_eq(ms_state_root_at(st, root, h), MS_OK, "R %u: root_at(%" PRIu64 ")", R, h);
        expect_root(root, reported_root(r, h), "root_at", h);
    }
    return st;
}

/* ------------------------------------------------------------------ tests */

Test(tree_rebuild, a_crash_loses_tree_versions_and_open_rebuilds_them)
{
    const uint32_t R = 8;
    char crashed[96], clean[96];
    dir_of(crashed, "crashed");
    dir_of(clean, "clean");
    report r;
    const plan p = {.depth = R, .blocks = SIX, .nblocks = 6, .unlogged_min = ALL_UNLOGGED};
    crash_run(crashed, &p, &r);
    cr_assert_eq(r.n, 6u);
    /* No flush before 8: all six versions lost. */
    cr_assert_eq(expect_tree_behind(crashed, 6), 0u);

    ms_state *st = open_at(crashed, R, &r, 6);
    model m;
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < 6; i++) model_apply(&m, &SIX[i]);
    expect_values(st, &m);
    ms_state_close(st);

    /* The same blocks in-process, closed cleanly: what the commits wrote. */
    ms_state *ref = &g_st[1];
    cr_assert_eq(ms_state_open(ref, clean, R), MS_OK);
    for (size_t i = 0; i < 6; i++) {
        uint8_t root[32];
        commit_ok(ref, root, &SIX[i], i + 1, R);
        expect_root(root, reported_root(&r, i + 1), "reference commit", i + 1);
    }
    ms_state_close(ref);

    snapshot a, b;
    raw_snapshot(crashed, &a);
    raw_snapshot(clean, &b);
    expect_same_store(&a, &b);

    /* Both go on alike. */
    cr_assert_eq(ms_state_open(st, crashed, R), MS_OK);
    cr_assert_eq(ms_state_open(ref, clean, R), MS_OK);
    for (size_t i = 0; i < 2; i++) {
        uint8_t ra[32], rb[32];
        commit_ok(st, ra, &TWO_MORE[i], 7 + i, R);
        commit_ok(ref, rb, &TWO_MORE[i], 7 + i, R);
        expect_root(ra, rb, "root after the rebuild vs the reference", 7 + i);
        model_apply(&m, &TWO_MORE[i]);
    }
    expect_values(st, &m);
    ms_state_close(st);
    ms_state_close(ref);
    raw_snapshot(crashed, &a);
    raw_snapshot(clean, &b);
    expect_same_store(&a, &b);
}

Test(tree_rebuild, the_lag_stays_within_the_undo_window)
{
    enum { N = 45 };
    static const uint32_t depths[3] = {1, 3, 40};
    seed_rng("the_lag_stays_within_the_undo_window");
    static blk blocks[3][N];
    static report reports[3];
    char dirs[3][96];
    /* Every child first: the parent must not have run RocksDB before a fork. */
    for (size_t d = 0; d < 3; d++) {
        for (unsigned h = 0; h < N; h++) random_block(&blocks[d][h], h + 1);
        char name[16];
        snprintf(name, sizeof name, "r%u", depths[d]);
        dir_of(dirs[d], name);
        const plan p = {.depth = depths[d], .blocks = blocks[d], .nblocks = N, .unlogged_min = ALL_UNLOGGED};
        crash_run(dirs[d], &p, &reports[d]);
        cr_assert_eq(reports[d].n, (uint64_t)N);
    }
    for (size_t d = 0; d < 3; d++) {
        const uint32_t R = depths[d];
        const uint64_t lag = ms_state_tree_lag_max(R);
        /* A commit at h waits for a flush when h - D >= min(R, 64): after
         * it, fewer than that many versions are in memtables only. */
        for (uint64_t i = 0; i < reports[d].n; i++) {
            const uint64_t h = reports[d].height[i];
            cr_assert_lt(h - reports[d].durable[i], lag, "R %u: after commit %" PRIu64 " tree_durable is %" PRIu64, R,
                         h, reports[d].durable[i]);
        }
        const uint64_t latest = expect_tree_as_left(dirs[d], &reports[d]);
        cr_assert_geq(latest, (uint64_t)N - lag, "R %u: tree at %" PRIu64 ", lag bound %" PRIu64, R, latest, lag);

        ms_state *st = open_at(dirs[d], R, &reports[d], N);
        const uint64_t lo = N > R ? N - R : 1;
        uint8_t root[32];
        cr_assert_eq(ms_state_root_at(st, root, lo - 1), MS_ERR_HEIGHT, "R %u: root_at(%" PRIu64 ") below the window",
                     R, lo - 1);
        model m;
        memset(&m, 0, sizeof m);
        for (unsigned h = 0; h < N; h++) model_apply(&m, &blocks[d][h]);
        expect_values(st, &m);
        ms_state_close(st);
    }
}

Test(tree_rebuild, a_rollback_after_unflushed_versions_survives_a_crash)
{
    const uint32_t R = 16;
    seed_rng("a_rollback_after_unflushed_versions_survives_a_crash");
    blk blocks[6], fork4;
    for (unsigned h = 0; h < 6; h++) random_block(&blocks[h], h + 1);
    /* 4': a block that certainly differs from 4 (a key no random block uses). */
    random_block(&fork4, 1000);
    fork4.ops[fork4.n++] = (wop)PUT(20, 1000, 50);
    char dir[96];
    dir_of(dir, "store");
    report r;
    const plan p = {.depth = R, .blocks = blocks, .nblocks = 6, .rollback = 1, .rollback_to = 3, .after = &fork4,
                    .nafter = 1, .unlogged_min = ALL_UNLOGGED};
    crash_run(dir, &p, &r);
    cr_assert_eq(r.n, 7u);
    /* The rollback's target is on disk, 4' is not. */
    cr_assert_eq(expect_tree_behind(dir, 4), 3u);

    cr_assert_neq(memcmp(r.root[3], r.root[6], 32), 0, "4' has block 4's root");
    ms_state *st = open_at(dir, R, &r, 4);   /* the head: the fork's block 4' */
    uint8_t root[32];
    cr_assert_eq(ms_state_root_at(st, root, 5), MS_ERR_HEIGHT);
    model m;
    memset(&m, 0, sizeof m);
    for (unsigned h = 0; h < 3; h++) model_apply(&m, &blocks[h]);
    model_apply(&m, &fork4);
    expect_values(st, &m);
}

/* The first five of SIX, R 8, crashed, no background flush: all five
 * versions are lost (no flush before height 8). Out: latest, the tree's
 * version on disk (0). */
static void crashed_five(const char *dir, report *r, uint64_t *latest)
{
    const plan p = {.depth = 8, .blocks = SIX, .nblocks = 5, .unlogged_min = ALL_UNLOGGED};
    crash_run(dir, &p, r);
    cr_assert_eq(r->n, 5u);
    *latest = expect_tree_behind(dir, 5);
    cr_assert_eq(*latest, 0u, "no flush before 8: all five versions lost");
}

static void open_ok_at_five(const char *dir, const report *r)
{
    ms_state_close(open_at(dir, 8, r, 5));
}

static void open_corrupt(const char *dir, const char *why)
{
    cr_assert_eq(ms_state_open(&g_st[0], dir, 8), MS_ERR_CORRUPT, "%s", why);
}

Test(tree_rebuild, a_missing_undo_record_is_corrupt)
{
    char dir[96];
    dir_of(dir, "store");
    report r;
    uint64_t latest;
    crashed_five(dir, &r, &latest);
    /* Each lost block's record in turn: the walk from the head down to the
     * tree's version breaks wherever one is missing. */
    for (uint64_t h = latest + 1; h <= 5; h++) {
        ms_key k;
        size_t len = 0;
        ms_key_undo(&k, h);
        uint8_t *saved = raw_take(dir, &k, &len);
        char why[64];
        snprintf(why, sizeof why, "undo record %" PRIu64 " deleted", h);
        open_corrupt(dir, why);
        raw_put(dir, &k, saved, len);
        free(saved);
    }
    open_ok_at_five(dir, &r);
}

/* The undo record of height h (malloc'd). Opens and closes the store. */
static uint8_t *read_undo(const char *dir, uint64_t h, size_t *len)
{
    ms_key k;
    ms_key_undo(&k, h);
    return raw_read(dir, &k, len);
}

static void write_undo(const char *dir, uint64_t h, const uint8_t *rec, size_t len)
{
    ms_key k;
    ms_key_undo(&k, h);
    raw_put(dir, &k, rec, len);
}

/* Undo record h replaced by `damaged` (len bytes): the open must refuse
 * the store as corrupt; then the original goes back. */
static void expect_corrupt_undo(const char *dir, uint64_t h, const uint8_t *damaged, size_t len, const char *what)
{
    size_t olen = 0;
    uint8_t *orig = read_undo(dir, h, &olen);
    write_undo(dir, h, damaged, len);
    char why[96];
    snprintf(why, sizeof why, "undo record %" PRIu64 " %s", h, what);
    open_corrupt(dir, why);
    write_undo(dir, h, orig, olen);
    free(orig);
}

Test(tree_rebuild, a_damaged_undo_record_is_corrupt)
{
    char dir[96];
    dir_of(dir, "store");
    report r;
    uint64_t latest;
    crashed_five(dir, &r, &latest);

    /* Cut short by one byte, each lost block's record in turn (block 3's,
     * empty, loses part of its header). */
    for (uint64_t h = latest + 1; h <= 5; h++) {
        size_t len = 0;
        uint8_t *rec = read_undo(dir, h, &len);
        cr_assert_geq(len, 12u);
        expect_corrupt_undo(dir, h, rec, len - 1, "truncated");
        free(rec);
    }

    /* An entry count no record of that length can hold (count u32 at
     * offset 8): refused as damage before anything is sized by it. */
    for (uint64_t h = latest + 1; h <= 5; h++) {
        size_t len = 0;
        uint8_t *rec = read_undo(dir, h, &len);
        uint8_t *big = malloc(len);
        cr_assert_not_null(big);
        memcpy(big, rec, len);
        memset(big + 8, 0xff, 4);
        expect_corrupt_undo(dir, h, big, len, "with count 2^32 - 1");
        free(big);
        free(rec);
    }

    open_ok_at_five(dir, &r);
}

/* Block 4 overwrote key 0, which block 2 wrote: block 4's undo record holds
 * block 2's value, from which the rebuild makes key 0's leaf in versions 2
 * and 3. A byte of that value flipped rebuilds those versions with a value
 * no block wrote, so their roots differ from the committed ones, and the
 * open must refuse the record. (Block 4's own update of key 0 comes from
 * the committed store, so the head's root alone cannot show it.) */
Test(tree_rebuild, a_changed_prior_value_in_an_undo_record_is_corrupt)
{
    char dir[96];
    dir_of(dir, "store");
    report r;
    uint64_t latest;
    crashed_five(dir, &r, &latest);
    cr_assert_lt(latest, 2u, "version 2 was not lost");

    ms_key k0;
    key_of(&k0, 0);
    size_t len = 0;
    uint8_t *rec = read_undo(dir, 4, &len);
    ms_undo_reader rd;
    ms_undo_entry e;
    cr_assert(ms_undo_open(&rd, rec, len));
    size_t at = 0;
    int more;
    while ((more = ms_undo_next(&rd, &e)) > 0) {
        if (e.klen == k0.len && memcmp(e.key, k0.bytes, k0.len) == 0) {
            cr_assert(e.present && e.vlen == SIX[1].ops[0].len, "undo 4 should hold block 2's value of key 0");
            at = (size_t)(e.val - rec) + e.vlen / 2;
        }
    }
    cr_assert_eq(more, 0);
    cr_assert_neq(at, 0u, "key 0 not in undo record 4");
    rec[at] ^= 0x01;
    write_undo(dir, 4, rec, len);
    free(rec);

    const int rc = ms_state_open(&g_st[0], dir, 8);
    if (rc == MS_OK) {
        /* Say what the open accepted: which rebuilt versions have a root
         * that was never committed at their height. */
        char wrong[64] = "";
        for (uint64_t h = 1; h <= 5; h++) {
            uint8_t root[32];
            const int rrc = ms_state_root_at(&g_st[0], root, h);
            if (rrc != MS_OK || memcmp(root, reported_root(&r, h), 32) != 0) {
                const size_t used = strlen(wrong);
                snprintf(wrong + used, sizeof wrong - used, " %" PRIu64, h);
            }
        }
        cr_assert_fail("undo record 4 with a changed value: open returned MS_OK, head root %s; root_at differs from "
                       "the committed root at heights:%s",
                       memcmp(g_st[0].root, reported_root(&r, 5), 32) == 0 ? "as committed" : "differs",
                       wrong[0] ? wrong : " none");
    }
    cr_assert_eq(rc, MS_ERR_CORRUPT, "undo record 4 with a changed value: rc %d", rc);
}

Test(tree_rebuild, a_tree_ahead_of_the_head_is_corrupt)
{
    const uint32_t R = 8;
    char dir[96];
    dir_of(dir, "store");
    ms_state *st = &g_st[0];
    uint8_t roots[6][32];
    cr_assert_eq(ms_state_open(st, dir, R), MS_OK);
    for (size_t i = 0; i < 5; i++) commit_ok(st, roots[i + 1], &SIX[i], i + 1, R);
    ms_state_close(st);

    /* The head says 4 (with 4's root); the tree holds version 5. */
    raw_open(dir);
    ms_key k;
    uint8_t h4[8];
    ms_put_be64(h4, 4);
    ms_key_meta(&k, MS_META_HEIGHT);
    raw_write(&k, h4, sizeof h4);
    ms_key_meta(&k, MS_META_ROOT);
    raw_write(&k, roots[4], 32);
    cr_assert_eq(raw_height(), 4u);
    cr_assert_eq(raw_tree_latest(), 5u);
    raw_close();
    open_corrupt(dir, "tree at 5, head at 4");
}

Test(tree_rebuild, a_clean_close_leaves_the_tree_at_the_head)
{
    const uint32_t R = 64;
    char dir[96];
    dir_of(dir, "store");
    ms_state *st = &g_st[0];
    uint8_t roots[6][32];
    cr_assert_eq(ms_state_open(st, dir, R), MS_OK);
    st->unlogged_min = ALL_UNLOGGED;
    for (size_t i = 0; i < 5; i++) commit_ok(st, roots[i + 1], &SIX[i], i + 1, R);
    /* No commit flushed (5 < min(R, 32)): the close has to. */
    cr_assert_eq(ms_state_tree_join(st, NULL), MS_OK);
    cr_assert_eq(st->tree_durable, 0u);
    ms_state_close(st);

    uint64_t latest = 0, height = 0;
    raw_tree_and_height(dir, &latest, &height);
    cr_assert_eq(height, 5u);
    cr_assert_eq(latest, 5u, "tree at %" PRIu64 " after a clean close at 5", latest);
    cr_assert_eq(ms_state_open(st, dir, R), MS_OK);
    expect_root(st->root, roots[5], "head root", 5);
}

/* Offset in undo record rec of key i's entry: of its key's last byte
 * (value 0) or of its value's middle byte (value 1, the prior must be
 * present). Fails the test when the record does not hold key i. */
static size_t undo_offset(const uint8_t *rec, size_t len, unsigned i, int value)
{
    ms_key k;
    key_of(&k, i);
    ms_undo_reader rd;
    ms_undo_entry e;
    cr_assert(ms_undo_open(&rd, rec, len));
    size_t at = 0;
    int more;
    while ((more = ms_undo_next(&rd, &e)) > 0) {
        if (e.klen != k.len || memcmp(e.key, k.bytes, k.len) != 0) continue;
        if (value) {
            cr_assert(e.present && e.vlen > 0, "key %u: no prior value in the undo record", i);
            at = (size_t)(e.val - rec) + e.vlen / 2;
        } else {
            at = (size_t)(e.key - rec) + e.klen - 1;
        }
    }
    cr_assert_eq(more, 0);
    cr_assert_neq(at, 0u, "key %u not in the undo record", i);
    return at;
}

/* After an open that failed at lost version v: the head is untouched, the
 * tree holds versions below v only, and each of those has the root its
 * block committed (a version is written only once checked). */
static void expect_rebuilt_below(const char *dir, const report *r, uint64_t v)
{
    raw_open(dir);
    cr_assert_eq(raw_height(), 5u, "a failed open moved the head");
    uint64_t latest = 0, oldest = 0;
    cr_assert_eq(ms_smt_open(&g_smt, g_kv, 0), MS_SMT_OK);
    cr_assert_eq(ms_smt_info(g_smt, &latest, &oldest, NULL), MS_SMT_OK);
    cr_assert_lt(latest, v, "version %" PRIu64 " failed its check but the tree is at %" PRIu64, v, latest);
    /* Versions below v are right: the rebuild should have kept them. */
    cr_assert_eq(latest, v - 1, "failed at %" PRIu64 ": tree at %" PRIu64, v, latest);
    for (uint64_t h = oldest > 1 ? oldest : 1; h <= latest; h++) {
        uint8_t root[32];
        cr_assert_eq(ms_smt_root(g_smt, h, root, NULL), MS_SMT_OK, "raw root of version %" PRIu64, h);
        expect_root(root, reported_root(r, h), "raw tree root after a failed rebuild", h);
    }
    raw_close();
}

/* A damaged undo record makes some rebuilt version v differ from its
 * block's root: the open fails there having written only versions below
 * v, and resumes from them once the record is restored. Two damages in
 * turn on one crashed store (all five versions lost):
 * - undo 4's prior of key 0 (block 2's value), from which version 2 takes
 *   key 0: v = 2;
 * - then undo 5's copy of key 7's key (block 5 seems to write another key,
 *   absent, and not key 7): v = 5, versions 2..4 rebuilt first. */
Test(tree_rebuild, a_failed_rebuild_writes_nothing_wrong)
{
    char dir[96];
    dir_of(dir, "store");
    report r;
    uint64_t latest;
    crashed_five(dir, &r, &latest);
    cr_assert_eq(latest, 0u, "no flush before 8: every version lost");

    static const struct {
        uint64_t undo;
        unsigned key;
        int value;
        uint64_t v;
    } damage[2] = {{4, 0, 1, 2}, {5, 7, 0, 5}};
    for (size_t d = 0; d < 2; d++) {
        size_t len = 0;
        uint8_t *rec = read_undo(dir, damage[d].undo, &len);
        const size_t at = undo_offset(rec, len, damage[d].key, damage[d].value);
        rec[at] ^= 0x01;
        write_undo(dir, damage[d].undo, rec, len);
        rec[at] ^= 0x01;
        char why[80];
        snprintf(why, sizeof why, "undo record %" PRIu64 " with key %u's %s changed", damage[d].undo, damage[d].key,
                 damage[d].value ? "prior" : "key");
        open_corrupt(dir, why);
        expect_rebuilt_below(dir, &r, damage[d].v);
        write_undo(dir, damage[d].undo, rec, len);
        free(rec);
    }
    open_ok_at_five(dir, &r);
}

/* `00 04 || h` of a lost block: the rebuilt version h has nothing to be
 * checked against, so the open must fail at h, whether the record is
 * missing, 31 bytes, or another root. */
Test(tree_rebuild, a_missing_block_root_is_corrupt)
{
    char dir[96];
    dir_of(dir, "store");
    report r;
    uint64_t latest;
    crashed_five(dir, &r, &latest);
    ms_key k;
    size_t len = 0;
    /* Each in turn; a failure at h leaves versions below h rebuilt. */
    for (uint64_t h = latest + 1; h <= 5; h++) {
        ms_key_root_at(&k, h);
        uint8_t *saved = raw_take(dir, &k, &len);
        cr_assert_eq(len, 32u);
        cr_assert_eq(memcmp(saved, reported_root(&r, h), 32), 0, "00 04 || %" PRIu64 " is not the block's root", h);
        char why[64];
        snprintf(why, sizeof why, "block root %" PRIu64 " deleted", h);
        open_corrupt(dir, why);
        expect_rebuilt_below(dir, &r, h);
        raw_put(dir, &k, saved, len);
        free(saved);
    }

    /* Version 5 is still lost: its root cut to 31 bytes, then changed. */
    ms_key_root_at(&k, 5);
    uint8_t root5[32];
    memcpy(root5, reported_root(&r, 5), 32);
    raw_put(dir, &k, root5, 31);
    open_corrupt(dir, "block root 5 of 31 bytes");
    expect_rebuilt_below(dir, &r, 5);
    root5[31] ^= 0x80;
    raw_put(dir, &k, root5, 32);
    open_corrupt(dir, "block root 5 changed");
    expect_rebuilt_below(dir, &r, 5);
    root5[31] ^= 0x80;
    raw_put(dir, &k, root5, 32);
    open_ok_at_five(dir, &r);
}

/* The opens and checks after a crash that lost nothing or everything: head
 * at n, head and retained roots as the child committed, values as the
 * blocks wrote. */
static void open_ok_at(const char *dir, const report *r, uint32_t R, const blk *blocks, uint64_t n)
{
    ms_state *st = open_at(dir, R, r, n);
    model m;
    memset(&m, 0, sizeof m);
    unsigned bulk = 0;
    for (uint64_t i = 0; i < n; i++) {
        model_apply(&m, &blocks[i]);
        if (blocks[i].bulk > bulk) bulk = blocks[i].bulk;
    }
    expect_values(st, &m);
    expect_bulk(st, bulk);
    ms_state_close(st);
}

/* Default unlogged_min: SIX's blocks (at most 5 writes) keep the tree in
 * their logged batches, so a crash loses no version and there is nothing
 * to rebuild. */
Test(tree_rebuild, small_blocks_keep_the_tree_in_the_log)
{
    const uint32_t R = 8;
    char dir[96];
    dir_of(dir, "store");
    report r;
    const plan p = {.depth = R, .blocks = SIX, .nblocks = 6};
    crash_run(dir, &p, &r);
    cr_assert_eq(r.n, 6u);
    uint64_t latest = 0, height = 0;
    raw_tree_and_height(dir, &latest, &height);
    cr_assert_eq(height, 6u);
    cr_assert_eq(latest, 6u, "small blocks lost tree versions: tree at %" PRIu64 ", head at 6", latest);
    open_ok_at(dir, &r, R, SIX, 6);
}

/* Small block h (>= 2): a put and a delete over the model's keys. */
static void small_block(blk *b, unsigned h)
{
    *b = (blk){2, {PUT(h % 12, h, 10 + h), DEL((h + 5) % 12)}, 0};
}

/* R 8 (lag bound min(8, 64) = 8), default unlogged_min, block 1 of 301
 * writes, then small blocks. By block.c and tree_flush.c (a commit flushes
 * only when it waits for the flush): commit h is unlogged when big or when
 * tree_durable < h - 1; an unlogged one waits for a flush when
 * h - tree_durable >= 8, or, when small, already at 2 (h - tree_durable) >= 8.
 * - crash after 3: 1 big (unlogged), 2..3 unlogged since durable 0 < h - 1;
 *   no flush (2 * 3 < 8): every version lost, tree at 0.
 * - crash after 5: 4 is small and 2 * 4 >= 8: it flushes (durable 4); 5 is
 *   small with durable 4 = 5 - 1: logged. The tree is at 5, nothing lost.
 * - crash after 12: likewise, 5..12 logged: the tree is at 12. */
Test(tree_rebuild, a_big_block_takes_the_following_small_ones_out_of_the_log_until_a_flush)
{
    const uint32_t R = 8;
    static blk blocks[12];
    blocks[0] = (blk){1, {PUT(0, 1, 40)}, 300};
    for (unsigned h = 2; h <= 12; h++) small_block(&blocks[h - 1], h);
    char three[96], five[96], twelve[96];
    dir_of(three, "three");
    dir_of(five, "five");
    dir_of(twelve, "twelve");
    static report r3, r5, r12;
    /* Every child before the parent runs RocksDB. */
    const plan p3 = {.depth = R, .blocks = blocks, .nblocks = 3};
    const plan p5 = {.depth = R, .blocks = blocks, .nblocks = 5};
    const plan p12 = {.depth = R, .blocks = blocks, .nblocks = 12};
    crash_run(three, &p3, &r3);
    crash_run(five, &p5, &r5);
    crash_run(twelve, &p12, &r12);
    cr_assert_eq(r3.n, 3u);
    cr_assert_eq(r5.n, 5u);
    cr_assert_eq(r12.n, 12u);

    uint64_t latest = 0, height = 0;
    raw_tree_and_height(three, &latest, &height);
    cr_assert_eq(height, 3u);
    cr_assert_eq(latest, 0u, "after a big block 1, small blocks 2..3 kept a tree version: tree at %" PRIu64, latest);
    open_ok_at(three, &r3, R, blocks, 3);

    raw_tree_and_height(five, &latest, &height);
    cr_assert_eq(height, 5u);
    cr_assert_eq(latest, 5u, "small block 4 flushed, 5 logged: tree at %" PRIu64 ", want 5", latest);
    open_ok_at(five, &r5, R, blocks, 5);

    raw_tree_and_height(twelve, &latest, &height);
    cr_assert_eq(height, 12u);
    cr_assert_eq(latest, 12u, "flush at 4, 5..12 logged: tree at %" PRIu64 ", want 12", latest);
    for (uint64_t h = 1; h <= 12; h++) {
        const uint64_t want = h < 4 ? 0 : h;
        cr_assert_eq(r12.durable[h - 1], want, "tree_durable after %" PRIu64 ": %" PRIu64 ", want %" PRIu64, h,
                     r12.durable[h - 1], want);
    }
    open_ok_at(twelve, &r12, R, blocks, 12);

}

/* Heights (below 64) of the keys under a prefix, with each value. */
typedef struct height_set {
    uint64_t mask;
    size_t bad;          /* keys not prefix || be64 height below 64 */
    uint8_t val[64][32];
    size_t vlen[64];
} height_set;

static int collect_height(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    height_set *s = ctx;
    const size_t plen = key[0] == MS_TAG_META ? 2 : 1;
    const uint64_t h = klen == plen + 8 ? ms_get_be64(key + plen) : 64;
    if (h >= 64) {
        s->bad++;
        return 1;
    }
    s->mask |= (uint64_t)1 << h;
    s->vlen[h] = vlen;
    memcpy(s->val[h], val, vlen < 32 ? vlen : 32);
    return 1;
}

/* `00 04 || h` and undo `07 || h` exist for exactly h in lo..hi, and each
 * block root equals root_at(h) and want[h]. */
static void expect_root_window(ms_state *st, uint64_t lo, uint64_t hi, uint8_t want[][32])
{
    static height_set roots, undos;
    memset(&roots, 0, sizeof roots);
    memset(&undos, 0, sizeof undos);
    const uint8_t root_prefix[2] = {MS_TAG_META, MS_META_ROOT_AT};
    const uint8_t undo_prefix[1] = {MS_TAG_UNDO};
    cr_assert_eq(ms_kv_scan(st->kv, root_prefix, 2, collect_height, &roots), MS_KV_OK);
    cr_assert_eq(ms_kv_scan(st->kv, undo_prefix, 1, collect_height, &undos), MS_KV_OK);
    cr_assert_eq(roots.bad + undos.bad, 0u, "malformed root or undo keys");
    const uint64_t expect = (((uint64_t)1 << (hi + 1)) - 1) & ~(((uint64_t)1 << lo) - 1);
    cr_assert_eq(undos.mask, expect, "undo heights %#" PRIx64 ", want %" PRIu64 "..%" PRIu64, undos.mask, lo, hi);
    cr_assert_eq(roots.mask, undos.mask, "block root heights %#" PRIx64 " vs undo heights %#" PRIx64, roots.mask,
                 undos.mask);
    for (uint64_t h = lo; h <= hi; h++) {
        uint8_t root[32];
        cr_assert_eq(roots.vlen[h], 32u, "00 04 || %" PRIu64 ": %zu bytes", h, roots.vlen[h]);
        cr_assert_eq(ms_state_root_at(st, root, h), MS_OK, "root_at(%" PRIu64 ")", h);
        expect_root(roots.val[h], root, "00 04 vs root_at", h);
        expect_root(roots.val[h], want[h], "00 04 vs the committed root", h);
    }
}

/* R 4, in-process. Commit h deletes undo h - 4 and `00 04 || h - 4`, so
 * after 10 commits both remain for 7..10; the rollback to 8 deletes 9 and
 * 10; a new 9 adds its own. */
Test(tree_rebuild, block_roots_cover_the_undo_window)
{
    const uint32_t R = 4;
    char dir[96];
    dir_of(dir, "store");
    ms_state *st = &g_st[0];
    uint8_t roots[11][32];
    memset(roots, 0, sizeof roots);
    cr_assert_eq(ms_state_open(st, dir, R), MS_OK);
    for (unsigned h = 1; h <= 10; h++) {
        blk b;
        if (h == 1) b = SIX[0];
        else small_block(&b, h);
        commit_ok(st, roots[h], &b, h, R);
    }
    expect_root_window(st, 7, 10, roots);
    cr_assert_eq(ms_state_rollback(st, 8, R), MS_OK);
    expect_root_window(st, 7, 8, roots);
    /* 9': not block 9 (another key), so another root. */
    const blk nine = {1, {PUT(20, 9, 33)}, 0};
    uint8_t old9[32];
    memcpy(old9, roots[9], 32);
    commit_ok(st, roots[9], &nine, 9, R);
    cr_assert_neq(memcmp(old9, roots[9], 32), 0, "9' has block 9's root");
    expect_root_window(st, 7, 9, roots);
}
