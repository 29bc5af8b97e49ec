/* The state tree at scale (issue 15, "state root at scale"): the apply path
 * that batches node reads level by level, splits a big block's update over
 * two threads and emits its node writes in key order (storage/smt.h:
 * ms_smt_set_parallel, ms_smt_last_stats).
 *
 * The rule under test (storage/smt.h, "Determinism" and
 * MS_SMT_PARALLEL_MIN): roots, proofs, stored bytes and the order of the
 * writes depend only on the committed store and the arguments, never on the
 * threads an apply uses, the node cache's size or how reads are batched.
 * So every test runs the same blocks on several stores, store 0 being a
 * sequential reference (one thread), and after every block compares:
 *   - the roots and ms_smt_info;
 *   - the write batches byte for byte (RocksDB's encoding of the batch: the
 *     same puts and deletes in the same order) and the bytes written;
 *   - the whole of every store, key by key and value byte for byte, through
 *     ms_kv_scan (node records 0x10, version records 0x11, stale lists 0x12,
 *     meta 0x13);
 *   - and, now and then, proofs: identical bytes on every store, checked by
 *     the standalone verifier (crypto/smt_verify.h) against a model.
 * The last root of the long run is also recomputed naively from the model.
 *
 * Tests named stats_* check the figures of ms_smt_last_stats (threads used,
 * node hashes, reads batched per level, nodes written), and
 * rewrite_node_puts_in_key_order the order of the node writes in a batch:
 * they check what the rewrite of the apply path adds, and fail before it.
 *
 * Random blocks come from splitmix64; each test prints its seed, and
 * MS_TEST_SEED=<n> replays a run. Stores live in mkdtemp directories under
 * /tmp, removed by the fixture even when a test fails. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "abi/keccak.h"
#include "abi/keccak_batch.h"
#include "crypto/smt_verify.h"
#include "storage/journal.h"
#include "storage/kv.h"
#include "storage/records.h"
#include "storage/smt.h"
#include "smt_naive.h"
#include "test_util.h"

/* ------------------------------------------------------------- randomness */

static uint64_t rng_state;
static uint64_t test_seed;

static uint64_t rng(void)
{
    return ms_test_splitmix64(&rng_state);
}

/* The seed: MS_TEST_SEED when set (replay), else fresh per run; printed so
 * that a failure can be replayed. Each test mixes in its own constant. */
static void seed_rng(const char *test, uint64_t salt)
{
    test_seed = ms_test_seed("smt_scale", test);
    rng_state = test_seed ^ salt;
}

/* ------------------------------------------------ memory the fixture frees */

/* A failed assertion ends a test at once. What the tests allocate is
 * registered here and freed by the fixture, so that a failing test (the
 * stats_* ones until the rewrite lands) reports its assertion and no leak
 * under LeakSanitizer. */
#define MAX_OWNED 128
static void *owned[MAX_OWNED];

static void *tmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    cr_assert_not_null(p);
    for (size_t i = 0; i < MAX_OWNED; i++) {
        if (owned[i] == NULL) {
            owned[i] = p;
            return p;
        }
    }
    free(p);
    cr_assert_fail("test_smt_scale.c: raise MAX_OWNED");
    return NULL;
}

static void tfree(void *p)
{
    if (p == NULL) return;
    for (size_t i = 0; i < MAX_OWNED; i++) {
        if (owned[i] == p) owned[i] = NULL;
    }
    free(p);
}

static void tfree_all(void)
{
    for (size_t i = 0; i < MAX_OWNED; i++) {
        free(owned[i]);
        owned[i] = NULL;
    }
}

/* ------------------------------------------------------------------ model */

/* Key i is "scale.<i>". The model knows which keys are present and the hash
 * of each present key's value, and hands out keys for the kinds of update a
 * block mixes: inserts of keys absent from the tree, updates and deletes of
 * present keys, deletes of absent keys. */
typedef struct model {
    size_t cap;         /* key indices 0 .. cap-1 */
    size_t fresh;       /* no index at or above it was ever inserted */
    uint8_t *present;
    uint8_t (*vh)[32];
    int16_t *first;     /* first byte of key i's path, -1 not computed yet */
    uint32_t *live;     /* the present indices */
    uint32_t *pos;      /* place of a present index in live */
    size_t nlive;
    uint32_t *stamp;    /* the block that last used key i (no two ops on one key in a block) */
    uint32_t block;
} model;

#define VAL_MAX 40u

static size_t key_of(uint8_t out[24], uint32_t i)
{
    return (size_t)snprintf((char *)out, 24, "scale.%" PRIu32, i);
}

static void path_of(uint8_t out[32], uint32_t i)
{
    uint8_t k[24];
    ms_keccak256(out, k, key_of(k, i));
}

static void model_init(model *m, size_t cap)
{
    memset(m, 0, sizeof *m);
    m->cap = cap;
    m->present = tmalloc(cap);
    m->vh = tmalloc(cap * 32);
    m->first = tmalloc(cap * sizeof *m->first);
    m->live = tmalloc(cap * sizeof *m->live);
    m->pos = tmalloc(cap * sizeof *m->pos);
    m->stamp = tmalloc(cap * sizeof *m->stamp);
    for (size_t i = 0; i < cap; i++) m->first[i] = -1;
}

static void model_free(model *m)
{
    tfree(m->present);
    tfree(m->vh);
    tfree(m->first);
    tfree(m->live);
    tfree(m->pos);
    tfree(m->stamp);
    memset(m, 0, sizeof *m);
}

/* A snapshot (dst uninitialized or freed), for rollbacks and discarded blocks. */
static void model_copy(model *dst, const model *src)
{
    model_init(dst, src->cap);
    dst->fresh = src->fresh;
    dst->nlive = src->nlive;
    dst->block = src->block;
    memcpy(dst->present, src->present, src->cap);
    memcpy(dst->vh, src->vh, src->cap * 32);
    memcpy(dst->first, src->first, src->cap * sizeof *src->first);
    memcpy(dst->live, src->live, src->cap * sizeof *src->live);
    memcpy(dst->pos, src->pos, src->cap * sizeof *src->pos);
    memcpy(dst->stamp, src->stamp, src->cap * sizeof *src->stamp);
}

static unsigned first_byte(model *m, uint32_t i)
{
    if (m->first[i] < 0) {
        uint8_t p[32];
        path_of(p, i);
        m->first[i] = p[0];
    }
    return (unsigned)m->first[i];
}

/* Which keys a block may touch: bit n of `nibbles` allows paths whose first
 * nibble is n (the root's slot n); `byte` >= 0 requires that first byte. */
typedef struct filt {
    uint16_t nibbles;
    int byte;
} filt;

static const filt ANY = {0xffffu, -1};

static int filt_ok(model *m, const filt *f, uint32_t i)
{
    const unsigned b = first_byte(m, i);
    if (f->byte >= 0 && b != (unsigned)f->byte) return 0;
    return (f->nibbles >> (b >> 4)) & 1u;
}

static void block_begin(model *m)
{
    m->block++;
}

static void op_put(model *m, ms_smt_op *op, uint32_t i)
{
    uint8_t k[24], v[VAL_MAX];
    const size_t kl = key_of(k, i), vl = (size_t)(rng() % (VAL_MAX + 1));
    for (size_t j = 0; j < vl; j++) v[j] = (uint8_t)rng();
    ms_smt_op_set(op, k, kl, v, vl, 0);
    ms_keccak256(m->vh[i], v, vl);
    if (!m->present[i]) {
        m->present[i] = 1;
        m->pos[i] = (uint32_t)m->nlive;
        m->live[m->nlive++] = i;
    }
    m->stamp[i] = m->block;
}

static void op_del(model *m, ms_smt_op *op, uint32_t i)
{
    uint8_t k[24];
    ms_smt_op_set(op, k, key_of(k, i), NULL, 0, 1);
    if (m->present[i]) {
        const uint32_t last = m->live[--m->nlive];
        m->live[m->pos[i]] = last;
        m->pos[last] = m->pos[i];
        m->present[i] = 0;
        memset(m->vh[i], 0, 32);
    }
    m->stamp[i] = m->block;
}

/* A key absent from the tree and unused in this block: now and then one
 * deleted earlier, else the next never-used one. */
static uint32_t pick_new(model *m, const filt *f)
{
    if (m->fresh > 0 && rng() % 4 == 0) {
        for (unsigned tries = 0; tries < 8; tries++) {
            const uint32_t i = (uint32_t)(rng() % m->fresh);
            if (!m->present[i] && m->stamp[i] != m->block && filt_ok(m, f, i)) return i;
        }
    }
    size_t i = m->fresh;
    while (i < m->cap && (m->stamp[i] == m->block || !filt_ok(m, f, (uint32_t)i))) i++;
    cr_assert_lt(i, m->cap, "model key space exhausted");
    m->fresh = i + 1;
    return (uint32_t)i;
}

/* A key absent from the tree and unused in this block, to delete. */
static uint32_t pick_absent(model *m, const filt *f)
{
    if (m->fresh > 0 && rng() % 2 == 0) {
        for (unsigned tries = 0; tries < 8; tries++) {
            const uint32_t i = (uint32_t)(rng() % m->fresh);
            if (!m->present[i] && m->stamp[i] != m->block && filt_ok(m, f, i)) return i;
        }
    }
    size_t i = m->fresh + (size_t)(rng() % 64);
    while (i < m->cap && (m->stamp[i] == m->block || !filt_ok(m, f, (uint32_t)i))) i++;
    cr_assert_lt(i, m->cap, "model key space exhausted");
    return (uint32_t)i;
}

/* Weights of the four kinds of update. */
enum { W_INSERT, W_UPDATE, W_DELETE, W_DEL_ABSENT };
static const unsigned MIX[4] = {40, 30, 20, 10};
static const unsigned INSERTS[4] = {1, 0, 0, 0};

/* Appends n ops of the current block to ops, keys allowed by f. An update or
 * delete of a present key falls back to an insert when no present key is
 * left (a young tree, or a narrow filter). */
static void gen(model *m, ms_smt_op *ops, size_t n, const filt *f, const unsigned w[4])
{
    uint32_t *cand = tmalloc((m->nlive + 1) * sizeof *cand);
    size_t nc = 0, taken = 0;
    for (size_t j = 0; j < m->nlive; j++) {
        const uint32_t i = m->live[j];
        if (m->stamp[i] != m->block && filt_ok(m, f, i)) cand[nc++] = i;
    }
    const unsigned total = w[0] + w[1] + w[2] + w[3];
    for (size_t k = 0; k < n; k++) {
        const unsigned r = (unsigned)(rng() % total);
        if (r >= w[0] && r < w[0] + w[1] + w[2] && taken < nc) {
            const size_t j = taken + (size_t)(rng() % (nc - taken));
            const uint32_t i = cand[j];
            cand[j] = cand[taken];
            cand[taken++] = i;
            if (r < w[0] + w[1]) op_put(m, &ops[k], i);
            else op_del(m, &ops[k], i);
        } else if (r >= w[0] + w[1] + w[2]) {
            op_del(m, &ops[k], pick_absent(m, f));
        } else {
            op_put(m, &ops[k], pick_new(m, f));
        }
    }
    tfree(cand);
}

/* ------------------------------------------------------- the naive root */

static void model_root(uint8_t out[32], const model *m)
{
    op_leaf *ls = tmalloc((m->nlive + 1) * sizeof *ls);
    for (size_t j = 0; j < m->nlive; j++) {
        path_of(ls[j].path, m->live[j]);
        memcpy(ls[j].value_hash, m->vh[m->live[j]], 32);
    }
    cr_assert(op_naive_root(out, ls, m->nlive), "two live keys share a path");
    tfree(ls);
}

/* ----------------------------------------------------- the write batches */

/* RocksDB's encoding of a write batch (rocksdb_writebatch_data): sequence
 * u64 LE and count u32 LE, then per record a type byte (0x01 put, 0x00
 * delete in the default column family), varint32 key length, key, and for
 * a put varint32 value length, value. Comparing these bytes compares the
 * writes and their order.
 */
static const uint8_t *batch_bytes(ms_kv_batch *b, size_t *n)
{
    return ms_kv_batch_data(b, n);
}

/* The encoding is as described above: a batch of known content. */
static void batch_mirror_ok(void)
{
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    const uint8_t k[3] = {0x13, 0xab, 0xcd}, v[2] = {0x55, 0x66};
    ms_kv_batch_put(b, k, 3, v, 2);
    ms_kv_batch_delete(b, k, 2);
    size_t n = 0;
    const uint8_t *d = batch_bytes(b, &n);
    static const uint8_t want[] = {2, 0, 0, 0, 0x01, 3, 0x13, 0xab, 0xcd, 2, 0x55, 0x66, 0x00, 2, 0x13, 0xab};
    const int same = n == 12 + sizeof want - 4 && memcmp(d + 8, want, sizeof want) == 0;
    ms_kv_batch_destroy(b);
    cr_assert(same, "ms_kv_batch_data does not give RocksDB's batch encoding");
}

static uint32_t varint32(const uint8_t *d, size_t n, size_t *o)
{
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        cr_assert_lt(*o, n, "batch encoding truncated");
        const uint8_t c = d[(*o)++];
        v |= (uint32_t)(c & 0x7fu) << shift;
        if (!(c & 0x80u)) return v;
    }
    cr_assert_fail("bad varint in a batch");
    return 0;
}

/* The puts of node records (tag 0x10) in a batch, in batch order. */
typedef struct node_puts {
    size_t n;
    int ascending;      /* each key above the previous one */
    size_t first_bad;   /* index of the first that is not */
} node_puts;

static node_puts batch_node_puts(const uint8_t *d, size_t n)
{
    node_puts r = {0, 1, 0};
    const uint8_t *prev = NULL;
    size_t o = 12;
    while (o < n) {
        const uint8_t type = d[o++];
        cr_assert(type == 0x01 || type == 0x00, "batch record type 0x%02x", type);
        const uint32_t kl = varint32(d, n, &o);
        cr_assert_leq(o + kl, n);
        const uint8_t *key = d + o;
        o += kl;
        if (type == 0x01) {
            const uint32_t vl = varint32(d, n, &o);
            cr_assert_leq(o + vl, n);
            o += vl;
            if (kl == 42 && key[0] == MS_SMT_TAG_NODE) {
                if (prev != NULL && memcmp(prev, key, 42) >= 0 && r.ascending) {
                    r.ascending = 0;
                    r.first_bad = r.n;
                }
                prev = key;
                r.n++;
            }
        }
    }
    return r;
}

/* ---------------------------------------------------------------- stores */

typedef struct store {
    const char *name;
    char dir[64];
    ms_kv *kv;
    ms_smt *t;
    unsigned threads;
    size_t min_ops;
} store;

#define MAX_STORES 6
static store stores[MAX_STORES];
static size_t nstores;

static void set_par(store *s)
{
    cr_assert_eq(ms_smt_set_parallel(s->t, s->threads, s->min_ops), MS_SMT_OK);
}

/* A fresh store in its own directory. threads 0: leave the handle as opened. */
static store *store_open(const char *name, size_t cache, unsigned threads, size_t min_ops)
{
    cr_assert_lt(nstores, (size_t)MAX_STORES);
    store *s = &stores[nstores++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->threads = threads;
    s->min_ops = min_ops;
    strcpy(s->dir, "/tmp/ms-smt-scale-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    cr_assert_eq(ms_kv_open(&s->kv, s->dir), MS_KV_OK);
    cr_assert_eq(ms_smt_open(&s->t, s->kv, cache), MS_SMT_OK);
    if (threads != 0) set_par(s);
    return s;
}

/* A new tree handle on the same store: an empty node cache. */
static void store_reopen_tree(store *s, size_t cache)
{
    ms_smt_close(s->t);
    s->t = NULL;
    cr_assert_eq(ms_smt_open(&s->t, s->kv, cache), MS_SMT_OK);
    if (s->threads != 0) set_par(s);
}

/* One store's whole content, in scan order, as klen u32, vlen u32, key, value. */
typedef struct dump {
    uint8_t *buf;
    size_t len, cap, n;
    int oom;
    size_t per_tag[256];
} dump;

static int dump_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    dump *d = ctx;
    const size_t need = 8 + klen + vlen;
    if (d->len + need > d->cap) {
        size_t cap = d->cap ? d->cap : 1u << 16;
        while (d->len + need > cap) cap *= 2;
        uint8_t *nb = realloc(d->buf, cap);
        if (nb == NULL) {
            d->oom = 1;   /* checked after the scan (no assertion inside RocksDB's iteration) */
            return 0;
        }
        d->buf = nb;
        d->cap = cap;
    }
    const uint32_t kl = (uint32_t)klen, vl = (uint32_t)vlen;
    memcpy(d->buf + d->len, &kl, 4);
    memcpy(d->buf + d->len + 4, &vl, 4);
    memcpy(d->buf + d->len + 8, key, klen);
    if (vlen > 0) memcpy(d->buf + d->len + 8 + klen, val, vlen);
    d->len += need;
    d->n++;
    if (klen > 0) d->per_tag[key[0]]++;
    return 1;
}

static dump dumps[2];   /* freed by the fixture */

static void store_dump(const store *s, dump *d)
{
    free(d->buf);
    memset(d, 0, sizeof *d);
    cr_assert_eq(ms_kv_scan(s->kv, NULL, 0, dump_fn, d), MS_KV_OK);
    cr_assert(!d->oom, "dump of %s: out of memory", s->name);
}

static void scale_setup(void)
{
    nstores = 0;
    batch_mirror_ok();
}

static void scale_teardown(void)
{
    for (size_t i = 0; i < nstores; i++) {
        ms_smt_close(stores[i].t);
        ms_kv_close(stores[i].kv);
        ms_test_rmtree(stores[i].dir);
    }
    nstores = 0;
    for (size_t i = 0; i < 2; i++) {
        free(dumps[i].buf);
        memset(&dumps[i], 0, sizeof dumps[i]);
    }
    tfree_all();
}

/* Compares two dumps record by record; the first difference is reported
 * with its key. */
static void dumps_equal(const dump *a, const dump *b, const char *an, const char *bn, const char *ctx)
{
    size_t oa = 0, ob = 0;
    for (size_t i = 0; i < a->n && i < b->n; i++) {
        uint32_t ka, va, kb, vb;
        memcpy(&ka, a->buf + oa, 4);
        memcpy(&va, a->buf + oa + 4, 4);
        memcpy(&kb, b->buf + ob, 4);
        memcpy(&vb, b->buf + ob + 4, 4);
        const uint8_t *pa = a->buf + oa + 8, *pb = b->buf + ob + 8;
        if (ka != kb || memcmp(pa, pb, ka) != 0 || va != vb || memcmp(pa + ka, pb + kb, va) != 0) {
            char ha[2 * 48 + 1], hb[2 * 48 + 1];
            ms_test_hex_of(ha, pa, ka < 48 ? ka : 48);
            ms_test_hex_of(hb, pb, kb < 48 ? kb : 48);
            cr_assert_fail("seed %" PRIu64 ", %s: stores %s and %s differ at record %zu: key %s (value %u bytes) "
                           "vs key %s (value %u bytes)%s",
                           test_seed, ctx, an, bn, i, ha, va, hb, vb,
                           ka == kb && memcmp(pa, pb, ka) == 0 ? ": same key, different value" : "");
        }
        oa += 8 + ka + va;
        ob += 8 + kb + vb;
    }
    cr_assert_eq(a->n, b->n, "seed %" PRIu64 ", %s: store %s holds %zu records, %s %zu", test_seed, ctx, an, a->n,
                 bn, b->n);
}

/* Every store equals store 0: ms_smt_info, then every stored byte. */
static void compare_stores(store *ss, size_t ns, const char *ctx)
{
    uint64_t l0, o0, l, o;
    uint8_t r0[32], r[32];
    cr_assert_eq(ms_smt_info(ss[0].t, &l0, &o0, r0), MS_SMT_OK);
    dump *d0 = &dumps[0], *d = &dumps[1];
    store_dump(&ss[0], d0);
    for (size_t i = 1; i < ns; i++) {
        cr_assert_eq(ms_smt_info(ss[i].t, &l, &o, r), MS_SMT_OK);
        cr_assert(l == l0 && o == o0 && memcmp(r, r0, 32) == 0, "seed %" PRIu64 ", %s: ms_smt_info of %s differs",
                  test_seed, ctx, ss[i].name);
        store_dump(&ss[i], d);
        dumps_equal(d0, d, ss[0].name, ss[i].name, ctx);
    }
    /* The comparison covered a tree: a meta record, and version records. */
    if (l0 > 0) {
        cr_assert_eq(d0->per_tag[MS_SMT_TAG_META], 1u, "%s", ctx);
        cr_assert_geq(d0->per_tag[MS_SMT_TAG_VERSION], 1u, "%s", ctx);
    }
}

/* Applies ops on a copy at version v and writes the batch (sync 0). Out:
 * root, a copy of the batch's encoding (*bytes, registered), its length,
 * the bytes the write moved, the stats. The batch is gone before any
 * assertion, so a failure leaks nothing. */
static void apply_write(store *s, uint64_t v, const ms_smt_op *ops, size_t n, uint64_t keep, uint8_t root[32],
                        uint8_t **bytes, size_t *blen, uint64_t *wrote, ms_smt_stats *st, const char *ctx)
{
    ms_smt_op *copy = tmalloc((n + 1) * sizeof *copy);
    if (n > 0) memcpy(copy, ops, n * sizeof *ops);
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    const ms_smt_status as = ms_smt_apply(s->t, b, v, copy, n, keep, root);
    tfree(copy);
    ms_kv_status ws = MS_KV_IO;
    uint64_t w0 = 0, w1 = 0;
    if (as == MS_SMT_OK) {
        size_t len = 0;
        const uint8_t *bd = batch_bytes(b, &len);
        *bytes = tmalloc(len);
        memcpy(*bytes, bd, len);
        *blen = len;
        ms_smt_last_stats(s->t, st);
        ms_kv_io_bytes(s->kv, NULL, &w0);
        ws = ms_kv_write(s->kv, b, 0);
        ms_kv_io_bytes(s->kv, NULL, &w1);
        *wrote = w1 - w0;
    }
    ms_kv_batch_destroy(b);
    cr_assert_eq(as, MS_SMT_OK, "seed %" PRIu64 ", %s: apply on %s: status %d", test_seed, ctx, s->name, (int)as);
    cr_assert_eq(ws, MS_KV_OK, "%s: write on %s", ctx, s->name);
}

/* Applies one block on every store (each on its own copy of ops, in the
 * same order), writes each batch, and checks that roots, batches, bytes
 * written and the reported writes equal store 0's; then compares the
 * stores. Out: root (may be NULL). */
static void apply_all(store *ss, size_t ns, uint64_t v, const ms_smt_op *ops, size_t n, uint64_t keep,
                      uint8_t root[32], const char *ctx)
{
    uint8_t r0[32], *b0 = NULL;
    size_t l0 = 0;
    uint64_t w0 = 0;
    ms_smt_stats st0;
    apply_write(&ss[0], v, ops, n, keep, r0, &b0, &l0, &w0, &st0, ctx);
    for (size_t i = 1; i < ns; i++) {
        uint8_t r[32], *bd = NULL;
        size_t blen = 0;
        uint64_t w = 0;
        ms_smt_stats st;
        apply_write(&ss[i], v, ops, n, keep, r, &bd, &blen, &w, &st, ctx);
        cr_assert_eq(memcmp(r, r0, 32), 0, "seed %" PRIu64 ", %s: root of %s differs from %s", test_seed, ctx,
                     ss[i].name, ss[0].name);
        size_t off = 0;
        while (off < blen && off < l0 && bd[off] == b0[off]) off++;
        cr_assert(off == blen && blen == l0,
                  "seed %" PRIu64 ", %s: batch of %s (%zu bytes) differs from %s's (%zu bytes) at byte %zu "
                  "(other writes, or another order)", test_seed, ctx, ss[i].name, blen, ss[0].name, l0, off);
        cr_assert_eq(w, w0, "%s: bytes written", ctx);
        /* The reported writes are facts about the batch: never thread-dependent. */
        cr_assert_eq(st.ops, st0.ops, "%s: stats.ops of %s", ctx, ss[i].name);
        cr_assert_eq(st.nodes_written, st0.nodes_written, "%s: stats.nodes_written of %s", ctx, ss[i].name);
        cr_assert_eq(st.bytes_written, st0.bytes_written, "%s: stats.bytes_written of %s", ctx, ss[i].name);
        tfree(bd);
    }
    tfree(b0);
    if (root != NULL) memcpy(root, r0, 32);
    compare_stores(ss, ns, ctx);
}

/* Proofs of `count` keys (half present, half random indices, present or
 * not) at version v: the same bytes from every store, and the standalone
 * verifier says what the model says. */
static void check_proofs(store *ss, size_t ns, uint64_t v, model *m, size_t count, const char *ctx)
{
    static uint8_t p0[MS_SMT_PROOF_MAX], p[MS_SMT_PROOF_MAX];
    uint8_t root[32];
    cr_assert_eq(ms_smt_root(ss[0].t, v, root, NULL), MS_SMT_OK);
    for (size_t q = 0; q < count; q++) {
        uint32_t i;
        if (q % 2 == 0 && m->nlive > 0) i = m->live[rng() % m->nlive];
        else i = (uint32_t)(rng() % (m->fresh + 16 < m->cap ? m->fresh + 16 : m->cap));
        uint8_t k[24], vh[32];
        const size_t kl = key_of(k, i);
        size_t l0 = 0, l = 0;
        int present = -1;
        cr_assert_eq(ms_smt_prove(ss[0].t, v, k, kl, p0, sizeof p0, &l0, NULL), MS_SMT_OK);
        cr_assert_eq(ms_smt_verify(root, k, kl, p0, l0, &present, vh), MS_SMT_VERIFY_OK,
                     "seed %" PRIu64 ", %s: proof of key %" PRIu32, test_seed, ctx, i);
        cr_assert_eq(present, m->present[i], "seed %" PRIu64 ", %s: key %" PRIu32 " present", test_seed, ctx, i);
        if (present) cr_assert_eq(memcmp(vh, m->vh[i], 32), 0, "%s: value of key %" PRIu32, ctx, i);
        for (size_t s = 1; s < ns; s++) {
            cr_assert_eq(ms_smt_prove(ss[s].t, v, k, kl, p, sizeof p, &l, NULL), MS_SMT_OK);
            cr_assert(l == l0 && memcmp(p, p0, l) == 0, "seed %" PRIu64 ", %s: proof of key %" PRIu32 " on %s differs",
                      test_seed, ctx, i, ss[s].name);
        }
    }
}

/* Entries of the latest version agree with the model. */
static void check_entries(store *s, uint64_t v, const model *m, const char *ctx)
{
    uint64_t entries = 0;
    cr_assert_eq(ms_smt_root(s->t, v, NULL, &entries), MS_SMT_OK);
    cr_assert_eq(entries, (uint64_t)m->nlive, "seed %" PRIu64 ", %s: entries", test_seed, ctx);
}

/* --------------------------------------------------------- random blocks */

/* Block sizes of the long run: tiny blocks (one op, a couple, around one
 * node's 16 slots), blocks around MS_SMT_PARALLEL_MIN, big blocks, an empty
 * block. */
static const size_t SIZES[] = {3000, 1, 2, 15, 16, 17, 0, 200, 1000, 127, 128, 129,
                               3000, 17, 1, 1000, 200, 2, 16, 15};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define KEEP 4   /* retained versions, the latest included */

typedef struct run {
    uint64_t heights[64];
    size_t nblocks;
} run;

/* Appends the next height (the previous one + gap) and returns it. */
static uint64_t next_height(run *r, uint64_t gap)
{
    cr_assert_lt(r->nblocks + 1, sizeof r->heights / sizeof r->heights[0]);
    const uint64_t h = r->heights[r->nblocks] + gap;
    r->heights[++r->nblocks] = h;
    return h;
}

static uint64_t keep_for(const run *r)
{
    return r->nblocks >= KEEP ? r->heights[r->nblocks - (KEEP - 1)] : 0;
}

/* apply_all at the next height (the previous + 1), pruning to KEEP
 * versions. Returns the height. */
static uint64_t apply_next(store *ss, size_t ns, run *r, const ms_smt_op *ops, size_t n, uint8_t root[32],
                           const char *ctx)
{
    const uint64_t h = next_height(r, 1);
    apply_all(ss, ns, h, ops, n, keep_for(r), root, ctx);
    return h;
}

/* One random block of size n on every store, at the next height (gaps of 1..3). */
static void run_block(store *ss, size_t ns, model *m, run *r, size_t n, const filt *f, const unsigned w[4],
                      const char *what)
{
    ms_smt_op *ops = tmalloc((n + 1) * sizeof *ops);
    block_begin(m);
    gen(m, ops, n, f, w);
    const uint64_t h = next_height(r, 1 + rng() % 3);
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s: block %zu (height %" PRIu64 ", %zu ops)", what, r->nblocks, h, n);
    apply_all(ss, ns, h, ops, n, keep_for(r), NULL, ctx);
    check_entries(&ss[0], h, m, ctx);
    tfree(ops);
}

/* The blocks of SIZES on every store, in the listed order or (shuffled)
 * in a random one, with proofs now and then. */
static void run_sizes(store *ss, size_t ns, model *m, run *r, int shuffled, const char *what)
{
    size_t order[NSIZES];
    for (size_t i = 0; i < NSIZES; i++) order[i] = SIZES[i];
    for (size_t i = NSIZES - 1; shuffled && i > 0; i--) {
        const size_t j = (size_t)(rng() % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t bi = 0; bi < NSIZES; bi++) {
        run_block(ss, ns, m, r, order[bi], &ANY, MIX, what);
        if (bi % 4 == 3 || order[bi] >= 1000) {
            char ctx[96];
            snprintf(ctx, sizeof ctx, "%s: proofs after block %zu", what, r->nblocks);
            check_proofs(ss, ns, r->heights[r->nblocks], m, 24, ctx);
        }
    }
}

/* ----------------------------------------------------------------- tests */

TestSuite(smt_scale, .init = scale_setup, .fini = scale_teardown, .timeout = 120);

Test(smt_scale, set_parallel_arguments)
{
    store *s = store_open("default", MS_SMT_CACHE_DEFAULT, 0, 0);
    cr_assert_eq(ms_smt_set_parallel(s->t, 0, 1), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_set_parallel(s->t, 3, 1), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_set_parallel(s->t, 2, 0), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_set_parallel(s->t, 1, 1), MS_SMT_OK);
    cr_assert_eq(ms_smt_set_parallel(s->t, 2, 1), MS_SMT_OK);
    cr_assert_eq(ms_smt_set_parallel(s->t, 2, MS_SMT_MAX_UPDATES), MS_SMT_OK);
    /* Before any apply the figures are zero. */
    ms_smt_stats st, zero;
    memset(&zero, 0, sizeof zero);
    memset(&st, 0xa5, sizeof st);
    ms_smt_last_stats(s->t, &st);
    cr_assert_eq(memcmp(&st, &zero, sizeof st), 0);
}

/* 1: two threads (even for one-op blocks) against one, byte for byte. */
Test(smt_scale, parallel_equals_sequential_byte_for_byte)
{
    seed_rng("parallel_equals_sequential_byte_for_byte", 1);
    store_open("sequential", MS_SMT_CACHE_DEFAULT, 1, MS_SMT_PARALLEL_MIN);
    store_open("parallel(min 1)", MS_SMT_CACHE_DEFAULT, 2, 1);
    model m;
    model_init(&m, 1u << 16);
    run r = {{0}, 0};
    run_sizes(stores, 2, &m, &r, 0, "seq vs par");
    run_sizes(stores, 2, &m, &r, 1, "seq vs par, shuffled sizes");
    /* And the result is the tree the definition gives. */
    uint8_t want[32], got[32];
    model_root(want, &m);
    cr_assert_eq(ms_smt_info(stores[1].t, NULL, NULL, got), MS_SMT_OK);
    cr_assert_eq(memcmp(got, want, 32), 0, "seed %" PRIu64 ": final root vs naive recompute", test_seed);
    cr_assert_gt(m.nlive, 3000u);
    model_free(&m);
}

/* 1b: the Keccak implementations of the batched hashing (leaves of a
 * block together, nodes of a depth together: abi/keccak_batch.h). Store 0
 * hashes one message at a time (scalar) on one thread; the others use each
 * SIMD implementation this CPU has, on two threads from one op, and the
 * handle as opened (the best one). Roots, batches and stores must agree
 * byte for byte, and the final root with the naive recompute. */
Test(smt_scale, every_keccak_implementation_gives_identical_stores)
{
    seed_rng("every_keccak_implementation_gives_identical_stores", 11);
    store *ref = store_open("scalar, sequential", MS_SMT_CACHE_DEFAULT, 1, MS_SMT_PARALLEL_MIN);
    cr_assert_eq(ms_smt_set_keccak(ref->t, MS_KECCAK_IMPL_SCALAR), MS_SMT_OK);
    static const struct {
        ms_keccak_impl impl;
        const char *name;
    } impls[] = {{MS_KECCAK_IMPL_AVX2, "avx2, parallel(min 1)"}, {MS_KECCAK_IMPL_AVX512, "avx512, parallel(min 1)"}};
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        store *s = store_open(impls[i].name, MS_SMT_CACHE_DEFAULT, 2, 1);
        if (ms_smt_set_keccak(s->t, impls[i].impl) != MS_SMT_OK) {
            cr_log_info("smt_scale: %s not available on this CPU: not compared", impls[i].name);
            ms_smt_close(s->t);
            ms_kv_close(s->kv);
            ms_test_rmtree(s->dir);
            s->t = NULL;
            s->kv = NULL;
            nstores--;
        }
    }
    store_open("as opened (best)", MS_SMT_CACHE_DEFAULT, 0, 0);
    printf("smt_scale: comparing %zu stores, best Keccak here %d\n", nstores, (int)ms_keccak_best_impl());
    model m;
    model_init(&m, 1u << 16);
    run r = {{0}, 0};
    run_sizes(stores, nstores, &m, &r, 0, "keccak impls");
    run_sizes(stores, nstores, &m, &r, 1, "keccak impls, shuffled sizes");
    uint8_t want[32], got[32];
    model_root(want, &m);
    for (size_t i = 0; i < nstores; i++) {
        cr_assert_eq(ms_smt_info(stores[i].t, NULL, NULL, got), MS_SMT_OK);
        cr_assert_eq(memcmp(got, want, 32), 0, "seed %" PRIu64 ": %s: final root vs naive recompute", test_seed,
                     stores[i].name);
    }
    model_free(&m);
}

Test(smt_scale, set_keccak_arguments)
{
    store *s = store_open("default", MS_SMT_CACHE_DEFAULT, 0, 0);
    cr_assert_eq(ms_smt_set_keccak(NULL, MS_KECCAK_IMPL_SCALAR), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_set_keccak(s->t, (ms_keccak_impl)99), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_set_keccak(s->t, MS_KECCAK_IMPL_SCALAR), MS_SMT_OK);
    cr_assert_eq(ms_smt_set_keccak(s->t, MS_KECCAK_IMPL_BEST), MS_SMT_OK);
    cr_assert_eq(ms_smt_set_keccak(s->t, ms_keccak_best_impl()), MS_SMT_OK);
}

/* 2: node cache sizes (none, 7 nodes: evictions and RocksDB reads in the
 * middle of a block, the default), and the default threshold, against the
 * sequential reference. */
Test(smt_scale, cache_sizes_and_threshold_give_identical_stores)
{
    seed_rng("cache_sizes_and_threshold_give_identical_stores", 2);
    store_open("sequential", MS_SMT_CACHE_DEFAULT, 1, MS_SMT_PARALLEL_MIN);
    store_open("parallel(min 1, cache 0)", 0, 2, 1);
    store_open("parallel(min 1, cache 7)", 7, 2, 1);
    store_open("parallel(min 1, cache default)", MS_SMT_CACHE_DEFAULT, 2, 1);
    store_open("as opened (cache 7)", 7, 0, 0);
    model m;
    model_init(&m, 1u << 16);
    run r = {{0}, 0};
    run_sizes(stores, nstores, &m, &r, 0, "caches");
    /* Cold handles: the next blocks read everything from RocksDB again. */
    for (size_t i = 0; i < nstores; i++) store_reopen_tree(&stores[i], i == 0 ? MS_SMT_CACHE_DEFAULT : 7);
    run_block(stores, nstores, &m, &r, 1000, &ANY, MIX, "caches, reopened");
    run_block(stores, nstores, &m, &r, 129, &ANY, MIX, "caches, reopened");
    model_free(&m);
}

/* 3: rollback after parallel applies, a new branch; a discarded batch. */
Test(smt_scale, rollback_branch_and_discarded_batch)
{
    seed_rng("rollback_branch_and_discarded_batch", 3);
    store_open("sequential", MS_SMT_CACHE_DEFAULT, 1, MS_SMT_PARALLEL_MIN);
    store_open("parallel(min 1)", MS_SMT_CACHE_DEFAULT, 2, 1);
    store_open("parallel(min 1, cache 7)", 7, 2, 1);
    model m;
    model_init(&m, 1u << 16);
    run r = {{0}, 0};
    static const size_t first[] = {2000, 300, 17, 1000, 1, 500};
    const size_t nfirst = sizeof first / sizeof first[0];
    model snap;   /* the model after block nfirst - 2, where the rollback goes */
    for (size_t bi = 0; bi < nfirst; bi++) {
        run_block(stores, nstores, &m, &r, first[bi], &ANY, MIX, "before rollback");
        if (r.nblocks == nfirst - 2) model_copy(&snap, &m);
    }
    const size_t to = r.nblocks - 2;
    uint8_t want[32];
    cr_assert_eq(ms_smt_root(stores[0].t, r.heights[to], want, NULL), MS_SMT_OK);
    for (size_t i = 0; i < nstores; i++) {
        ms_kv_batch *b = ms_kv_batch_create();
        uint8_t rr[32];
        const ms_smt_status rs = ms_smt_rollback(stores[i].t, b, r.heights[to], rr);
        const ms_kv_status ws = rs == MS_SMT_OK ? ms_kv_write(stores[i].kv, b, 0) : MS_KV_IO;
        ms_kv_batch_destroy(b);
        cr_assert_eq(rs, MS_SMT_OK, "rollback on %s", stores[i].name);
        cr_assert_eq(ws, MS_KV_OK);
        cr_assert_eq(memcmp(rr, want, 32), 0, "root after rollback on %s", stores[i].name);
    }
    compare_stores(stores, nstores, "after rollback of 2 versions");
    model_free(&m);
    m = snap;   /* the snapshot is the model from here on */
    r.nblocks = to;
    uint64_t latest = 0;
    cr_assert_eq(ms_smt_info(stores[1].t, &latest, NULL, NULL), MS_SMT_OK);
    cr_assert_eq(latest, r.heights[to]);
    check_entries(&stores[1], latest, &m, "after rollback");
    check_proofs(stores, nstores, latest, &m, 24, "after rollback");
    /* A different branch: other keys, other sizes. */
    static const size_t branch[] = {1000, 2, 200};
    for (size_t bi = 0; bi < sizeof branch / sizeof branch[0]; bi++) {
        run_block(stores, nstores, &m, &r, branch[bi], &ANY, MIX, "new branch");
    }
    check_proofs(stores, nstores, r.heights[r.nblocks], &m, 24, "new branch");

    /* A discarded batch: the parallel stores compute a big block X at height
     * h and drop the batch; then every store applies Y at h. The parallel
     * stores must hold exactly what the reference (which never saw X) holds,
     * and the next block, touching X's keys, too. */
    model before;
    model_copy(&before, &m);
    const size_t nx = 1500, ny = 900;
    ms_smt_op *ops = tmalloc((nx + 1) * sizeof *ops);
    block_begin(&m);
    gen(&m, ops, nx, &ANY, MIX);
    const uint64_t h = r.heights[r.nblocks] + 1;   /* not appended: X is discarded */
    for (size_t i = 1; i < nstores; i++) {
        ms_kv_batch *b = ms_kv_batch_create();
        uint8_t rx[32];
        const ms_smt_status xs = ms_smt_apply(stores[i].t, b, h, ops, nx, keep_for(&r), rx);
        ms_kv_batch_destroy(b);   /* never written */
        /* Store 2's node cache takes X's nodes now (as a commit does during
         * its write); store 1's only when its next call settles. */
        if (i == 2) ms_smt_settle(stores[i].t);
        cr_assert_eq(xs, MS_SMT_OK, "block X on %s", stores[i].name);
    }
    model x;
    model_copy(&x, &m);   /* X's keys, to touch them again below */
    model_free(&m);
    model_copy(&m, &before);
    model_free(&before);
    block_begin(&m);
    gen(&m, ops, ny, &ANY, MIX);
    apply_next(stores, nstores, &r, ops, ny, NULL, "block Y after a discarded X");
    check_proofs(stores, nstores, h, &m, 24, "block Y after a discarded X");
    /* The next block updates or deletes keys X had inserted or changed (now
     * as the model says they are), so that a node X left in a cache would
     * be used. */
    block_begin(&m);
    size_t k = 0;
    for (size_t j = 0; j < x.nlive && k < 400; j++) {
        const uint32_t i = x.live[j];
        if (x.stamp[i] != x.block || m.stamp[i] == m.block) continue;
        if (m.present[i] && rng() % 3 == 0) op_del(&m, &ops[k++], i);
        else op_put(&m, &ops[k++], i);
    }
    cr_assert_gt(k, 100u);
    apply_next(stores, nstores, &r, ops, k, NULL, "block after Y, on X's keys");
    check_entries(&stores[2], h + 1, &m, "block after Y");
    check_proofs(stores, nstores, h + 1, &m, 24, "block after Y");
    model_free(&x);
    tfree(ops);
    model_free(&m);
}

/* 4: the split point at the extremes: every update under one root slot;
 * updates only under slots 0 and 15, balanced and lopsided; every update
 * under one first byte. */
Test(smt_scale, skewed_blocks)
{
    seed_rng("skewed_blocks", 4);
    store_open("sequential", MS_SMT_CACHE_DEFAULT, 1, MS_SMT_PARALLEL_MIN);
    store_open("parallel(min 1)", MS_SMT_CACHE_DEFAULT, 2, 1);
    store_open("parallel(min 1, cache 7)", 7, 2, 1);
    model m;
    model_init(&m, 1u << 18);
    run r = {{0}, 0};
    const filt slot3 = {1u << 3, -1}, slots0_15 = {0x8001u, -1}, slot0 = {1u << 0, -1}, slot15 = {1u << 15, -1},
               byte3c = {0xffffu, 0x3c};
    run_block(stores, nstores, &m, &r, 2000, &ANY, INSERTS, "skew: base tree");
    /* One slot only, starting with inserts, then mixed; the key search is
     * checked: all the block's paths start with nibble 3. */
    run_block(stores, nstores, &m, &r, 600, &slot3, INSERTS, "skew: slot 3 inserts");
    for (size_t j = 0; j < m.nlive; j++) {
        const uint32_t i = m.live[j];
        if (m.stamp[i] == m.block) cr_assert_eq(first_byte(&m, i) >> 4, 3u);
    }
    run_block(stores, nstores, &m, &r, 800, &slot3, MIX, "skew: slot 3 mixed");
    run_block(stores, nstores, &m, &r, 800, &slots0_15, MIX, "skew: slots 0 and 15");
    run_block(stores, nstores, &m, &r, 300, &slot0, MIX, "skew: slot 0 only");
    run_block(stores, nstores, &m, &r, 300, &slot15, MIX, "skew: slot 15 only");
    /* Lopsided: one op under slot 0 and 500 under slot 15, then the reverse. */
    for (int rev = 0; rev < 2; rev++) {
        ms_smt_op *ops = tmalloc(501 * sizeof *ops);
        block_begin(&m);
        gen(&m, ops, 1, rev ? &slot15 : &slot0, MIX);
        gen(&m, ops + 1, 500, rev ? &slot0 : &slot15, MIX);
        apply_next(stores, nstores, &r, ops, 501, NULL, rev ? "skew: 500 in slot 0, 1 in 15"
                                                                          : "skew: 1 in slot 0, 500 in 15");
        tfree(ops);
    }
    /* One first byte: the block sits under one slot of the root and one
     * slot of the node below it. */
    run_block(stores, nstores, &m, &r, 200, &byte3c, INSERTS, "skew: first byte 0x3c inserts");
    run_block(stores, nstores, &m, &r, 200, &byte3c, MIX, "skew: first byte 0x3c mixed");
    check_proofs(stores, nstores, r.heights[r.nblocks], &m, 40, "skewed blocks");
    uint8_t want[32], got[32];
    model_root(want, &m);
    cr_assert_eq(ms_smt_info(stores[2].t, NULL, NULL, got), MS_SMT_OK);
    cr_assert_eq(memcmp(got, want, 32), 0, "seed %" PRIu64 ": skewed root vs naive recompute", test_seed);
    model_free(&m);
}

/* Deletes every present key but the first `keep` (in the model's live
 * order) into ops, plus `absent` deletes of absent keys. Returns the count. */
static size_t gen_delete_all(model *m, ms_smt_op *ops, size_t keep, size_t absent)
{
    block_begin(m);
    size_t k = 0;
    while (m->nlive > keep) op_del(m, &ops[k++], m->live[m->nlive - 1]);
    for (size_t j = 0; j < absent; j++) op_del(m, &ops[k++], pick_absent(m, &ANY));
    return k;
}

/* 5: a big block over a root that is not a node (empty tree, one leaf), and
 * big blocks that bring the root back to a leaf and to zero. */
Test(smt_scale, big_blocks_over_empty_and_single_leaf_roots)
{
    seed_rng("big_blocks_over_empty_and_single_leaf_roots", 5);
    store_open("sequential", MS_SMT_CACHE_DEFAULT, 1, MS_SMT_PARALLEL_MIN);
    store_open("parallel(min 1)", MS_SMT_CACHE_DEFAULT, 2, 1);
    store_open("as opened (cache 0)", 0, 0, 0);
    model m;
    model_init(&m, 1u << 15);
    run r = {{0}, 0};
    ms_smt_op *ops = tmalloc(4000 * sizeof *ops);
    const uint8_t zero[32] = {0};
    uint8_t root[32];

    /* The empty tree: a block of absent deletes leaves it empty. */
    block_begin(&m);
    for (size_t j = 0; j < 300; j++) op_del(&m, &ops[j], pick_absent(&m, &ANY));
    apply_next(stores, nstores, &r, ops, 300, root, "absent deletes on the empty tree");
    cr_assert_eq(memcmp(root, zero, 32), 0);

    /* Empty root, then a big block. */
    run_block(stores, nstores, &m, &r, 1500, &ANY, INSERTS, "1500 inserts over the empty root");
    /* Everything deleted in one block (and some absent keys): root zero. */
    size_t n = gen_delete_all(&m, ops, 0, 50);
    apply_next(stores, nstores, &r, ops, n, root, "delete everything");
    cr_assert_eq(memcmp(root, zero, 32), 0, "seed %" PRIu64 ": root after deleting everything", test_seed);
    check_entries(&stores[1], r.heights[r.nblocks], &m, "delete everything");

    /* One leaf as the root, then a big block over it (the leaf updated too). */
    run_block(stores, nstores, &m, &r, 1, &ANY, INSERTS, "a single leaf");
    const uint32_t lone = m.live[0];
    uint8_t path[32], leaf[32];
    path_of(path, lone);
    keccak_cat(leaf, 0x00, path, m.vh[lone]);
    cr_assert_eq(ms_smt_info(stores[1].t, NULL, NULL, root), MS_SMT_OK);
    cr_assert_eq(memcmp(root, leaf, 32), 0, "the root is the lone leaf");
    block_begin(&m);
    op_put(&m, &ops[0], lone);
    gen(&m, ops + 1, 999, &ANY, INSERTS);
    apply_next(stores, nstores, &r, ops, 1000, NULL, "1000 ops over a single leaf");

    /* A big block leaving one leaf: the root is that leaf again. */
    n = gen_delete_all(&m, ops, 1, 10);
    apply_next(stores, nstores, &r, ops, n, root, "delete all but one");
    path_of(path, m.live[0]);
    keccak_cat(leaf, 0x00, path, m.vh[m.live[0]]);
    cr_assert_eq(memcmp(root, leaf, 32), 0, "seed %" PRIu64 ": root after deleting all but one", test_seed);
    check_proofs(stores, nstores, r.heights[r.nblocks], &m, 8, "one leaf left");

    /* The lone leaf deleted in a big block of inserts, then everything
     * deleted again, then an empty block on the empty tree. */
    block_begin(&m);
    op_del(&m, &ops[0], m.live[0]);
    gen(&m, ops + 1, 700, &ANY, INSERTS);
    apply_next(stores, nstores, &r, ops, 701, NULL, "leaf deleted, 700 inserts");
    check_proofs(stores, nstores, r.heights[r.nblocks], &m, 16, "leaf deleted, 700 inserts");
    n = gen_delete_all(&m, ops, 0, 0);
    apply_next(stores, nstores, &r, ops, n, root, "delete everything again");
    cr_assert_eq(memcmp(root, zero, 32), 0);
    apply_next(stores, nstores, &r, ops, 0, root, "empty block, empty tree");
    cr_assert_eq(memcmp(root, zero, 32), 0);
    /* Pruned past every version that had nodes: none is left. */
    for (unsigned j = 0; j < KEEP; j++) {
        apply_next(stores, nstores, &r, ops, 0, NULL, "empty blocks");
    }
    store_dump(&stores[1], &dumps[0]);
    cr_assert_eq(dumps[0].per_tag[MS_SMT_TAG_NODE], 0u, "no node record left once every version with nodes is pruned");
    tfree(ops);
    model_free(&m);
}

/* Node records of version v in the store, and their value bytes. */
typedef struct vcount {
    uint64_t version, n, bytes;
} vcount;

static int vcount_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    vcount *c = ctx;
    (void)val;
    if (klen == 42 && ms_get_be64(key + 1) == c->version) {
        c->n++;
        c->bytes += vlen;
    }
    return 1;
}

/* The node puts of an apply come in key order in the batch (the new
 * version, then depth, then prefix: top down), and they are exactly the
 * node records the store then holds for that version. Fails until the
 * rewrite, which emits node writes in key order. */
Test(smt_scale, rewrite_node_puts_in_key_order)
{
    seed_rng("rewrite_node_puts_in_key_order", 6);
    store *s = store_open("parallel(min 1)", MS_SMT_CACHE_DEFAULT, 2, 1);
    model m;
    model_init(&m, 1u << 14);
    ms_smt_op *ops = tmalloc(3000 * sizeof *ops);
    static const size_t sizes[] = {3000, 500, 16, 1000};
    for (size_t bi = 0; bi < sizeof sizes / sizeof sizes[0]; bi++) {
        block_begin(&m);
        gen(&m, ops, sizes[bi], &ANY, bi == 0 ? INSERTS : MIX);
        uint8_t root[32], *bd = NULL;
        size_t blen = 0;
        uint64_t wrote = 0;
        ms_smt_stats st;
        apply_write(s, bi + 1, ops, sizes[bi], 0, root, &bd, &blen, &wrote, &st, "node puts");
        const node_puts np = batch_node_puts(bd, blen);
        vcount c = {bi + 1, 0, 0};
        cr_assert_eq(ms_kv_scan(s->kv, (const uint8_t[]){MS_SMT_TAG_NODE}, 1, vcount_fn, &c), MS_KV_OK);
        cr_assert_gt(np.n, 0u);
        cr_assert_eq(np.n, c.n, "block %zu: node puts in the batch vs node records of the version", bi + 1);
        cr_assert(np.ascending, "block %zu: node put %zu of %zu is not above the previous one", bi + 1,
                  np.first_bad, np.n);
        tfree(bd);
    }
}

/* ------------------------------------------------------------- statistics */

static void apply_one(store *s, uint64_t v, ms_smt_op *ops, size_t n, ms_smt_stats *st)
{
    uint8_t root[32], *bd = NULL;
    size_t blen = 0;
    uint64_t wrote = 0;
    apply_write(s, v, ops, n, 0, root, &bd, &blen, &wrote, st, "stats");
    tfree(bd);
}

/* A block of >= min_ops updates over a few thousand entries takes two
 * threads (by default, as opened); fewer, or threads 1, take one. The
 * reported writes are the version's node records. */
Test(smt_scale, stats_threads_and_writes)
{
    seed_rng("stats_threads_and_writes", 7);
    store *s = store_open("as opened", MS_SMT_CACHE_DEFAULT, 0, 0);
    model m;
    model_init(&m, 1u << 14);
    ms_smt_op *ops = tmalloc(4000 * sizeof *ops);
    ms_smt_stats st;
    block_begin(&m);
    gen(&m, ops, 4000, &ANY, INSERTS);
    apply_one(s, 1, ops, 4000, &st);
    cr_assert_eq(st.ops, 4000u);

    block_begin(&m);
    gen(&m, ops, 300, &ANY, MIX);
    apply_one(s, 2, ops, 300, &st);
    cr_assert_eq(st.ops, 300u);
    cr_assert_eq(st.threads, 2u, "300 >= MS_SMT_PARALLEL_MIN updates, two threads allowed as opened");
    cr_assert_gt(st.node_hashes, 0u);
    cr_assert_gt(st.nodes_written, 0u);
    cr_assert_gt(st.bytes_written, 0u);
    vcount c = {2, 0, 0};
    cr_assert_eq(ms_kv_scan(s->kv, (const uint8_t[]){MS_SMT_TAG_NODE}, 1, vcount_fn, &c), MS_KV_OK);
    cr_assert_eq(st.nodes_written, c.n, "nodes_written = the version's node records");
    cr_assert_eq(st.bytes_written, c.bytes, "bytes_written = their value bytes");
    /* At least one leaf hash per update and one internal hash per level. */
    cr_assert_geq(st.node_hashes, st.ops);

    block_begin(&m);
    gen(&m, ops, MS_SMT_PARALLEL_MIN - 1, &ANY, MIX);
    apply_one(s, 3, ops, MS_SMT_PARALLEL_MIN - 1, &st);
    cr_assert_eq(st.ops, MS_SMT_PARALLEL_MIN - 1);
    cr_assert_eq(st.threads, 1u, "below MS_SMT_PARALLEL_MIN: one thread");

    block_begin(&m);
    gen(&m, ops, MS_SMT_PARALLEL_MIN, &ANY, MIX);
    apply_one(s, 4, ops, MS_SMT_PARALLEL_MIN, &st);
    cr_assert_eq(st.threads, 2u, "MS_SMT_PARALLEL_MIN updates: two threads");

    cr_assert_eq(ms_smt_set_parallel(s->t, 1, 1), MS_SMT_OK);
    block_begin(&m);
    gen(&m, ops, 300, &ANY, MIX);
    apply_one(s, 5, ops, 300, &st);
    cr_assert_eq(st.ops, 300u);
    cr_assert_eq(st.threads, 1u, "set_parallel(1): one thread");
    cr_assert_gt(st.nodes_written, 0u);

    cr_assert_eq(ms_smt_set_parallel(s->t, 2, 1), MS_SMT_OK);
    block_begin(&m);
    gen(&m, ops, 64, &ANY, MIX);
    apply_one(s, 6, ops, 64, &st);
    cr_assert_eq(st.threads, 2u, "set_parallel(2, 1): a 64-update block splits");

    /* An empty block: no update, nothing hashed into a node, one thread. */
    apply_one(s, 7, ops, 0, &st);
    cr_assert_eq(st.ops, 0u);
    cr_assert_eq(st.nodes_written, 0u);
    cr_assert_eq(st.threads, 1u);
    tfree(ops);
    model_free(&m);
}

static int path_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static unsigned shared_bits(const uint8_t *a, const uint8_t *b)
{
    unsigned n = 0;
    while (n < 256 && pbit(a, n) == pbit(b, n)) n++;
    return n;
}

/* How many nibble levels of node records the ops can touch in the tree of
 * the model's present keys: an op's walk ends in the node at nibble depth
 * (the most bits its path shares with a present key's) / 4 or above, so
 * levels 0 .. that depth: the RocksDB read calls of an apply that reads
 * level by level. */
static uint64_t levels_touched(const model *m, const ms_smt_op *ops, size_t n)
{
    uint8_t (*ps)[32] = tmalloc((m->nlive + 1) * 32);
    for (size_t j = 0; j < m->nlive; j++) path_of(ps[j], m->live[j]);
    qsort(ps, m->nlive, 32, path_cmp);
    unsigned deepest = 0;
    for (size_t k = 0; k < n; k++) {
        size_t lo = 0, hi = m->nlive;   /* the first path >= the op's */
        while (lo < hi) {
            const size_t mid = lo + (hi - lo) / 2;
            if (memcmp(ps[mid], ops[k].path, 32) < 0) lo = mid + 1;
            else hi = mid;
        }
        unsigned best = 0, b;
        if (lo > 0 && (b = shared_bits(ps[lo - 1], ops[k].path)) > best) best = b;
        size_t next = lo < m->nlive && memcmp(ps[lo], ops[k].path, 32) == 0 ? lo + 1 : lo;
        if (next < m->nlive && (b = shared_bits(ps[next], ops[k].path)) > best) best = b;
        if (best / 4 > deepest) deepest = best / 4;
    }
    tfree(ps);
    return (uint64_t)deepest + 1;
}

/* Reopen s's tree with a node cache of `cache` nodes (with s's threads),
 * then apply a block of 1000 mixed updates as version v, pre keeping the
 * model from before it. Returns the levels the block touches. */
static uint64_t reopened_block(store *s, size_t cache, model *m, model *pre, ms_smt_op *ops, uint64_t v,
                               ms_smt_stats *st)
{
    store_reopen_tree(s, cache);
    model_free(pre);
    model_copy(pre, m);
    block_begin(m);
    gen(m, ops, 1000, &ANY, MIX);
    const uint64_t levels = levels_touched(pre, ops, 1000);
    apply_one(s, v, ops, 1000, st);
    return levels;
}

/* A cold handle (no node cache) over a 20,000-entry tree: a block of 1000
 * updates reads hundreds of nodes in a few RocksDB calls: one per level,
 * or one per half of a level of 64 nodes or more (the halves are read and
 * decoded on two threads). */
Test(smt_scale, stats_cold_reads_batched_per_level)
{
    seed_rng("stats_cold_reads_batched_per_level", 8);
    store *s = store_open("as opened", MS_SMT_CACHE_DEFAULT, 0, 0);
    model m;
    model_init(&m, 1u << 15);
    ms_smt_op *ops = tmalloc(5000 * sizeof *ops);
    ms_smt_stats st;
    for (uint64_t v = 1; v <= 4; v++) {
        block_begin(&m);
        gen(&m, ops, 5000, &ANY, INSERTS);
        apply_one(s, v, ops, 5000, &st);
    }
    cr_assert_eq(m.nlive, 20000u);

    store_reopen_tree(s, 0);
    model pre;
    model_copy(&pre, &m);
    block_begin(&m);
    gen(&m, ops, 1000, &ANY, (const unsigned[4]){0, 3, 1, 0});   /* present keys only */
    uint64_t levels = levels_touched(&pre, ops, 1000);
    apply_one(s, 5, ops, 1000, &st);
    printf("smt_scale: cold 1000 updates on 20,000 entries: %" PRIu64 " nodes read in %" PRIu64
           " calls (levels touched %" PRIu64 "), %" PRIu64 " cached, %" PRIu64 " node hashes, %" PRIu64
           " written, threads %" PRIu64 "\n",
           st.nodes_read, st.read_calls, levels, st.nodes_cached, st.node_hashes, st.nodes_written, st.threads);
    fflush(stdout);
    cr_assert_eq(st.ops, 1000u);
    cr_assert_eq(st.nodes_cached, 0u, "no cache");
    cr_assert_geq(st.nodes_read, 300u, "a cold block reads hundreds of nodes");
    cr_assert_geq(st.read_calls, 1u);
    cr_assert_leq(st.read_calls, 2 * levels, "reads batched per level (or half level): %" PRIu64
                  " calls for %" PRIu64 " nodes over %" PRIu64 " levels", st.read_calls, st.nodes_read, levels);
    /* Typically 6 or 7 levels, of which the root's and the next one's are
     * smaller than 64 nodes; 8 is rare at 20,000 entries (two paths sharing
     * 28 bits, one of them updated). */
    if (levels <= 8) cr_assert_leq(st.read_calls, 14u);
    cr_assert_geq(st.node_hashes, st.nodes_read, "every node read is checked against its hash");
    cr_assert_eq(st.threads, 2u);

    /* The same on a handle with the default cache: cold first (reads), and
     * the cache serves the next block some of its nodes. */
    levels = reopened_block(s, MS_SMT_CACHE_DEFAULT, &m, &pre, ops, 6, &st);
    cr_assert_geq(st.nodes_read, 300u);
    cr_assert_leq(st.read_calls, 2 * levels);
    const uint64_t cold_read = st.nodes_read;
    block_begin(&m);
    gen(&m, ops, 1000, &ANY, MIX);
    apply_one(s, 7, ops, 1000, &st);
    cr_assert_gt(st.nodes_cached, 0u, "a warm handle finds nodes in its cache");
    cr_assert_lt(st.nodes_read, cold_read, "a warm handle reads fewer nodes");

    /* On one thread no level is split: one call per level. */
    s->threads = 1;
    s->min_ops = MS_SMT_PARALLEL_MIN;
    levels = reopened_block(s, 0, &m, &pre, ops, 8, &st);
    cr_assert_eq(st.threads, 1u);
    cr_assert_geq(st.nodes_read, 300u);
    cr_assert_leq(st.read_calls, levels, "one thread: one call per level: %" PRIu64 " calls over %" PRIu64
                  " levels", st.read_calls, levels);
    model_free(&pre);
    tfree(ops);
    model_free(&m);
}

/* An apply leaves the node cache's part pending (ms_smt_settle): the next
 * call does it when nobody did, so no block's nodes are lost to the cache;
 * a settle twice is one; reads see the same tree either way. */
Test(smt_scale, settle_is_pending_work_never_lost)
{
    seed_rng("settle_is_pending_work_never_lost", 10);
    store *lazy = store_open("settled by the next call", MS_SMT_CACHE_DEFAULT, 0, 0);
    store *eager = store_open("settled after each apply", MS_SMT_CACHE_DEFAULT, 0, 0);
    model m;
    model_init(&m, 1u << 14);
    ms_smt_op *ops = tmalloc(3000 * sizeof *ops);
    ms_smt_stats sl, se;
    for (uint64_t v = 1; v <= 4; v++) {
        block_begin(&m);
        gen(&m, ops, 2000, &ANY, v < 3 ? INSERTS : MIX);
        apply_one(lazy, v, ops, 2000, &sl);
        apply_one(eager, v, ops, 2000, &se);
        ms_smt_settle(eager->t);
        ms_smt_settle(eager->t);   /* nothing left: a no-op */
        /* Both read the version just applied alike, settled or not. */
        check_entries(lazy, v, &m, "lazy");
        check_entries(eager, v, &m, "eager");
    }
    /* Every node of these blocks fits the cache: were a block's records
     * lost to it, the next block would read them from RocksDB. */
    block_begin(&m);
    gen(&m, ops, 1000, &ANY, (const unsigned[4]){0, 3, 1, 0});
    apply_one(lazy, 5, ops, 1000, &sl);
    apply_one(eager, 5, ops, 1000, &se);
    cr_assert_eq(sl.nodes_read, 0u, "the lazy handle's cache holds every node: %" PRIu64 " read", sl.nodes_read);
    cr_assert_eq(se.nodes_read, 0u, "the eager handle's cache holds every node: %" PRIu64 " read", se.nodes_read);
    cr_assert_gt(sl.nodes_cached, 0u);
    cr_assert_eq(sl.nodes_cached, se.nodes_cached);
    compare_stores(stores, nstores, "lazy and eager settles");
    tfree(ops);
    model_free(&m);
}

/* ms_smt_apply_entries_deferred: its batch lacks the node records until
 * ms_smt_settle puts them in (in key order, with the same stats), and the
 * store written then is byte for byte that of the plain apply; a deferred
 * apply whose batch is dropped after its settle leaves the next block
 * right. */
Test(smt_scale, deferred_apply_completes_its_batch_at_settle)
{
    seed_rng("deferred_apply_completes_its_batch_at_settle", 11);
    store *plain = store_open("plain", MS_SMT_CACHE_DEFAULT, 0, 0);
    store *defer = store_open("deferred", MS_SMT_CACHE_DEFAULT, 0, 0);
    enum { N = 600, BLOCKS = 4 };
    static uint8_t keys[N][9], vals[BLOCKS + 1][N][8];
    static ms_overlay_entry es[N];
    const ms_overlay_entry *ptrs[N];
    for (uint64_t v = 1; v <= BLOCKS + 1; v++) {
        for (size_t i = 0; i < N; i++) {
            keys[i][0] = MS_TAG_NONCE;
            ms_put_be64(keys[i] + 1, i * 3 + v % 2);   /* half the keys new each block */
            ms_put_be64(vals[v - 1][i], v * 1000 + i);
            es[i] = (ms_overlay_entry){keys[i], 9, vals[v - 1][i], 8, 0, 0, {0}};
            ptrs[i] = &es[i];
        }
        if (v == BLOCKS + 1) break;
        ms_smt_stats sp, sd;
        ms_kv_batch *bp = ms_kv_batch_create(), *bd = ms_kv_batch_create();
        uint8_t rp[32], rd[32];
        cr_assert_eq(ms_smt_apply_entries(plain->t, bp, v, ptrs, N, 0, rp), MS_SMT_OK);
        ms_smt_last_stats(plain->t, &sp);
        cr_assert_eq(ms_smt_apply_entries_deferred(defer->t, bd, v, ptrs, N, 0, rd), MS_SMT_OK);
        cr_assert_arr_eq(rp, rd, 32, "block %" PRIu64 ": the same root", v);
        size_t len = 0;
        const uint8_t *data = batch_bytes(bd, &len);
        cr_assert_eq(batch_node_puts(data, len).n, 0u, "block %" PRIu64 ": no node record before the settle", v);
        ms_smt_settle(defer->t);
        data = batch_bytes(bd, &len);
        const node_puts np = batch_node_puts(data, len);
        cr_assert_eq(np.n, sp.nodes_written, "block %" PRIu64 ": every node record after it", v);
        cr_assert(np.ascending, "block %" PRIu64 ": in key order", v);
        ms_smt_last_stats(defer->t, &sd);
        cr_assert_eq(sd.nodes_written, sp.nodes_written);
        cr_assert_eq(sd.bytes_written, sp.bytes_written, "the settle adds the records' bytes to the stats");
        cr_assert_eq(ms_kv_write(plain->kv, bp, 0), MS_KV_OK);
        cr_assert_eq(ms_kv_write(defer->kv, bd, 0), MS_KV_OK);
        ms_kv_batch_destroy(bp);
        ms_kv_batch_destroy(bd);
        compare_stores(stores, nstores, "deferred apply");
    }
    /* A deferred block whose batch is settled and dropped, then the plain
     * block at that height on both stores. */
    ms_kv_batch *bx = ms_kv_batch_create();
    cr_assert_eq(ms_smt_apply_entries_deferred(defer->t, bx, BLOCKS + 1, ptrs, N / 2, 0, NULL), MS_SMT_OK);
    ms_smt_settle(defer->t);
    ms_kv_batch_destroy(bx);
    for (size_t k = 0; k < nstores; k++) {
        ms_kv_batch *b = ms_kv_batch_create();
        cr_assert_eq(ms_smt_apply_entries(stores[k].t, b, BLOCKS + 1, ptrs, N, 0, NULL), MS_SMT_OK);
        cr_assert_eq(ms_kv_write(stores[k].kv, b, 0), MS_KV_OK);
        ms_kv_batch_destroy(b);
    }
    compare_stores(stores, nstores, "after a dropped deferred block");
}

/* apply_entries counts its own hashing of keys and values, and skips meta keys. */
Test(smt_scale, stats_apply_entries)
{
    seed_rng("stats_apply_entries", 9);
    store *s = store_open("as opened", MS_SMT_CACHE_DEFAULT, 0, 0);
    /* A tree of 1000 entries first, so that the root is a node. */
    model m;
    model_init(&m, 1u << 12);
    ms_smt_op *ops = tmalloc(1000 * sizeof *ops);
    ms_smt_stats st;
    block_begin(&m);
    gen(&m, ops, 1000, &ANY, INSERTS);
    apply_one(s, 1, ops, 1000, &st);

    enum { N = 300 };
    static uint8_t keys[N][9], vals[N][8];
    static ms_overlay_entry es[N + 1];
    const ms_overlay_entry *ptrs[N + 1];
    uint8_t meta_key[2] = {MS_TAG_META, MS_META_HEIGHT};
    es[0] = (ms_overlay_entry){meta_key, 2, vals[0], 8, 0, 0, {0}};
    ptrs[0] = &es[0];
    size_t deleted = 0;
    for (size_t i = 0; i < N; i++) {
        keys[i][0] = MS_TAG_NONCE;
        ms_put_be64(keys[i] + 1, i);
        ms_put_be64(vals[i], i * 7 + 1);
        const int del = i % 10 == 9;
        deleted += (size_t)del;
        es[i + 1] = (ms_overlay_entry){keys[i], 9, del ? NULL : vals[i], del ? 0 : 8, del, 0, {0}};
        ptrs[i + 1] = &es[i + 1];
    }
    ms_kv_batch *b = ms_kv_batch_create();
    const ms_smt_status as = ms_smt_apply_entries(s->t, b, 2, ptrs, N + 1, 0, NULL);
    const ms_kv_status ws = as == MS_SMT_OK ? ms_kv_write(s->kv, b, 0) : MS_KV_IO;
    ms_kv_batch_destroy(b);
    cr_assert_eq(as, MS_SMT_OK);
    cr_assert_eq(ws, MS_KV_OK);
    ms_smt_last_stats(s->t, &st);
    cr_assert_eq(st.ops, N, "the meta key is not an update");
    /* A key hash per entry and a value hash per entry not deleted. */
    cr_assert_geq(st.op_hashes, (uint64_t)(2 * N - deleted));
    cr_assert_leq(st.op_hashes, (uint64_t)(2 * N));
    cr_assert_eq(st.threads, 2u);
    cr_assert_gt(st.nodes_written, 0u);
}
