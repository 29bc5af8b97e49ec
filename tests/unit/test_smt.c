/* The state tree (storage/smt.h) and its standalone verifier
 * (crypto/smt_verify.h). Roots are checked against a naive recursive
 * recompute written here from the hashing rules, and against the vectors of
 * the independent JavaScript reference (tests/unit/smt_vectors_gen.h), which
 * also gives the exact node records (format 2) a one-block store holds. The
 * node store is audited through RocksDB directly: after any sequence of
 * applies, prunes and rollbacks it must hold exactly the nodes reachable
 * from the retained versions (records of format 1 or 2). Each test gets a
 * fresh mkdtemp directory. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "abi/keccak.h"
#include "crypto/smt_verify.h"
#include "smt_naive.h"
#include "smt_vectors_gen.h"
#include "storage/records.h"
#include "storage/smt.h"
#include "test_util.h"

static char smt_dir[64];
static ms_kv *smt_kv;
static ms_smt *smt_t;

static void smt_open_with_cache(size_t cache)
{
    cr_assert_eq(ms_kv_open(&smt_kv, smt_dir), MS_KV_OK);
    cr_assert_eq(ms_smt_open(&smt_t, smt_kv, cache), MS_SMT_OK);
}

static void smt_close_all(void)
{
    ms_smt_close(smt_t);
    smt_t = NULL;
    ms_kv_close(smt_kv);
    smt_kv = NULL;
}

static void smt_setup(void)
{
    strcpy(smt_dir, "/tmp/ms-smt-XXXXXX");
    cr_assert_not_null(mkdtemp(smt_dir));
    smt_open_with_cache(64);   /* small: evictions happen */
}

static void smt_teardown(void)
{
    smt_close_all();
    ms_test_rmtree(smt_dir);
}

/* ------------------------------------------------------------ test helpers */

static ms_smt_status commit_apply(uint64_t version, ms_smt_op *ops, size_t n, uint64_t keep_from,
                                  uint8_t root[32])
{
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    ms_smt_status s = ms_smt_apply(smt_t, b, version, ops, n, keep_from, root);
    if (s == MS_SMT_OK) cr_assert_eq(ms_kv_write(smt_kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    return s;
}

static ms_smt_status commit_rollback(uint64_t version, uint8_t root[32])
{
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    ms_smt_status s = ms_smt_rollback(smt_t, b, version, root);
    if (s == MS_SMT_OK) cr_assert_eq(ms_kv_write(smt_kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    return s;
}

static ms_smt_status commit_prune(uint64_t keep_from)
{
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    ms_smt_status s = ms_smt_prune(smt_t, b, keep_from);
    if (s == MS_SMT_OK) cr_assert_eq(ms_kv_write(smt_kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    return s;
}

static size_t hex_into(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = ms_test_hex(out, cap, hex);
    cr_assert_neq(n, (size_t)-1, "bad hex %s", hex);
    return n;
}


/* A model: key i is "smt-model-<i>"; its value (when present) is stored here. */
#define MODEL_KEYS 400
#define VAL_MAX 48
typedef struct model {
    int present[MODEL_KEYS];
    uint8_t val[MODEL_KEYS][VAL_MAX];
    size_t vlen[MODEL_KEYS];
} model;

static size_t model_key(uint8_t *out, unsigned i)
{
    return (size_t)snprintf((char *)out, 32, "smt-model-%u", i);
}

static void model_root(uint8_t out[32], const model *m)
{
    op_leaf *ls = malloc(MODEL_KEYS * sizeof *ls);
    cr_assert_not_null(ls);
    size_t n = 0;
    for (unsigned i = 0; i < MODEL_KEYS; i++) {
        if (!m->present[i]) continue;
        uint8_t key[32];
        size_t kl = model_key(key, i);
        ms_keccak256(ls[n].path, key, kl);
        ms_keccak256(ls[n].value_hash, m->val[i], m->vlen[i]);
        n++;
    }
    cr_assert(op_naive_root(out, ls, n), "two model keys share a path");
    free(ls);
}

static uint64_t rng_state;
static uint64_t rng(void)
{
    return ms_test_splitmix64(&rng_state);
}

static void op_for_model(ms_smt_op *op, model *m, unsigned i, int del)
{
    uint8_t key[32];
    size_t kl = model_key(key, i);
    if (del) {
        m->present[i] = 0;
        ms_smt_op_set(op, key, kl, NULL, 0, 1);
    } else {
        m->present[i] = 1;
        m->vlen[i] = (size_t)(rng() % (VAL_MAX + 1));
        for (size_t k = 0; k < m->vlen[i]; k++) m->val[i][k] = (uint8_t)rng();
        ms_smt_op_set(op, key, kl, m->val[i], m->vlen[i], 0);
    }
}

/* Every model key proves as the model says at `version`, against root. */
static void check_model_proofs(uint64_t version, const uint8_t root[32], const model *m, unsigned stride)
{
    static uint8_t proof[MS_SMT_PROOF_MAX];
    for (unsigned i = 0; i < MODEL_KEYS; i += stride) {
        uint8_t key[32];
        size_t kl = model_key(key, i), plen = 0;
        int present = -1;
        cr_assert_eq(ms_smt_prove(smt_t, version, key, kl, proof, sizeof proof, &plen, &present), MS_SMT_OK);
        cr_assert_eq(present, m->present[i], "key %u at version %" PRIu64, i, version);
        if (m->present[i]) {
            cr_assert_eq(ms_smt_verify_inclusion(root, key, kl, m->val[i], m->vlen[i], proof, plen), MS_SMT_VERIFY_OK,
                         "key %u at version %" PRIu64, i, version);
        } else {
            cr_assert_eq(ms_smt_verify_non_inclusion(root, key, kl, proof, plen), MS_SMT_VERIFY_OK,
                         "key %u at version %" PRIu64, i, version);
        }
    }
}

/* ------------------------------------------------- auditing the node store */

typedef struct keyset {
    uint8_t (*k)[42];
    size_t n, cap;
} keyset;

static void keyset_add(keyset *s, const uint8_t k[42])
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->k = realloc(s->k, s->cap * 42);
        cr_assert_not_null(s->k);
    }
    memcpy(s->k[s->n++], k, 42);
}

static int key42_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 42);
}

static char *db_get(rocksdb_t *db, const rocksdb_readoptions_t *ro, const uint8_t *key, size_t klen, size_t *vlen)
{
    char *err = NULL;
    char *v = rocksdb_get(db, ro, (const char *)key, klen, vlen, &err);
    cr_assert_null(err);
    return v;
}

/* Adds the node at (version, depth, prefix) and every node below it,
 * decoding the records as spec/state.md "Nodes" defines them. Both value
 * formats are read (a store may hold records of either):
 *   1: per non-empty slot, ascending: subtree hash 32, then leaf: path 32,
 *      valueHash 32 / node: version u64; then the hash of every inner heap
 *      entry 2..15 holding two entries or more;
 *   2: per non-empty slot, ascending: leaf: path 32, valueHash 32 / node:
 *      subtree hash 32, version u64; nothing after the slots.
 * Any other format byte, or a length other than the one the maps give,
 * fails the test. */
static void reach(rocksdb_t *db, const rocksdb_readoptions_t *ro, keyset *s, uint64_t version, unsigned depth,
                  const uint8_t prefix[32])
{
    uint8_t key[42];
    key[0] = 0x10;
    ms_put_be64(key + 1, version);
    key[9] = (uint8_t)depth;
    memcpy(key + 10, prefix, 32);
    keyset_add(s, key);
    size_t vlen = 0;
    char *v = db_get(db, ro, key, sizeof key, &vlen);
    cr_assert_not_null(v, "a reachable node is missing (version %" PRIu64 ", depth %u)", version, depth);
    const uint8_t *p = (const uint8_t *)v;
    cr_assert_geq(vlen, 5u);
    const unsigned format = p[0];
    cr_assert(format == 0x01 || format == 0x02, "node record format 0x%02x (version %" PRIu64 ", depth %u)", format,
              version, depth);
    unsigned map = ((unsigned)p[1] << 8) | p[2], leaves = ((unsigned)p[3] << 8) | p[4];
    size_t o = 5;
    /* Format 1 only: classes of the 31 binary subtrees (0 empty, 1 one
     * leaf, 2 more); the record ends with the hashes of entries 2..15 of
     * class 2. */
    unsigned inner = 0;
    if (format == 0x01) {
        unsigned cls[32] = {0};
        for (unsigned slot = 0; slot < 16; slot++) {
            cls[16 + slot] = !((map >> slot) & 1u) ? 0u : ((leaves >> slot) & 1u) ? 1u : 2u;
        }
        for (unsigned i = 15; i >= 1; i--) {
            unsigned a = cls[2 * i], b = cls[2 * i + 1];
            cls[i] = a == 0 ? (b == 2 ? 2u : b) : b == 0 ? (a == 2 ? 2u : a) : 2u;
            if (i >= 2 && cls[i] == 2) inner++;
        }
    }
    for (unsigned slot = 0; slot < 16; slot++) {
        if (!((map >> slot) & 1u)) continue;
        if ((leaves >> slot) & 1u) {
            o += format == 0x01 ? 32u + 64u : 64u;   /* format 1 also stores the leaf hash */
            continue;
        }
        o += 32;   /* the child's subtree hash, in both formats */
        cr_assert_leq(o + 8, vlen, "node record too short (version %" PRIu64 ", depth %u, format %u)", version,
                      depth, format);
        uint64_t cv = ms_get_be64(p + o);
        o += 8;
        uint8_t cp[32];
        memcpy(cp, prefix, 32);
        if (depth % 2 == 0) cp[depth / 2] = (uint8_t)(slot << 4);
        else cp[depth / 2] = (uint8_t)(cp[depth / 2] | slot);
        reach(db, ro, s, cv, depth + 1, cp);
    }
    cr_assert_eq(o + 32 * inner, vlen, "node record length (version %" PRIu64 ", depth %u, format %u)", version, depth,
                 format);
    free(v);
}

/* Closes the tree, reads the directory with RocksDB directly, checks that the
 * stored nodes are exactly those reachable from the retained versions and
 * that version records and stale lists exist only for retained versions,
 * then reopens. Returns the number of stored nodes. */
static size_t audit_store(void)
{
    smt_close_all();
    rocksdb_options_t *opt = rocksdb_options_create();
    char *err = NULL;
    rocksdb_t *db = rocksdb_open(opt, smt_dir, &err);
    cr_assert_null(err);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();

    uint8_t mk[1] = {0x13};
    size_t vlen = 0;
    char *meta = db_get(db, ro, mk, 1, &vlen);
    uint64_t latest = 0, oldest = 0;
    if (meta != NULL) {
        cr_assert_eq(vlen, 17u);
        latest = ms_get_be64((const uint8_t *)meta + 1);
        oldest = ms_get_be64((const uint8_t *)meta + 9);
        free(meta);
    }

    keyset want = {0}, have = {0};
    rocksdb_iterator_t *it = rocksdb_create_iterator(db, ro);
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl = 0, vl = 0;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
        if (k[0] == 0x10) {
            cr_assert_eq(kl, 42u);
            keyset_add(&have, k);
        } else if (k[0] == 0x11) {
            cr_assert_eq(kl, 9u);
            uint64_t ver = ms_get_be64(k + 1);
            cr_assert(ver >= oldest && ver <= latest, "version record %" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "]",
                      ver, oldest, latest);
            cr_assert_geq(vl, 30u);
            if (v[29] == 2) {
                cr_assert_eq(vl, 70u);
                uint8_t zero[32] = {0};
                reach(db, ro, &want, ms_get_be64(v + 62), 0, zero);
            }
            if (ver == latest) cr_assert_eq(ms_get_be64(v + 9), 0u, "latest has no next");
        } else if (k[0] == 0x12) {
            cr_assert_eq(kl, 13u);
            uint64_t ver = ms_get_be64(k + 1);
            cr_assert(ver > oldest && ver <= latest, "stale list of version %" PRIu64 " outside (%" PRIu64 ", %" PRIu64 "]",
                      ver, oldest, latest);
        }
    }
    rocksdb_iter_destroy(it);
    if (want.n > 0) qsort(want.k, want.n, 42, key42_cmp);
    size_t u = 0;
    for (size_t i = 0; i < want.n; i++) {
        if (u == 0 || memcmp(want.k[u - 1], want.k[i], 42) != 0) memcpy(want.k[u++], want.k[i], 42);
    }
    cr_assert_eq(have.n, u, "stored nodes %zu, reachable from retained versions %zu", have.n, u);
    for (size_t i = 0; i < u; i++) cr_assert_eq(memcmp(have.k[i], want.k[i], 42), 0, "node %zu differs", i);
    free(want.k);
    free(have.k);
    rocksdb_readoptions_destroy(ro);
    rocksdb_close(db);
    rocksdb_options_destroy(opt);
    smt_open_with_cache(64);
    return u;
}

/* ------------------------------------------------------------- the vectors */

/* The inserts of every entry of a vector set (freed by the caller). */
static ms_smt_op *vec_set_ops(const ms_smt_vec_set *vs)
{
    ms_smt_op *ops = calloc(vs->n_entries + 1, sizeof *ops);
    cr_assert_not_null(ops);
    for (size_t i = 0; i < vs->n_entries; i++) {
        uint8_t key[64], val[256];
        size_t kl = hex_into(key, sizeof key, vs->entries[i].key_hex);
        size_t vl = hex_into(val, sizeof val, vs->entries[i].value_hex);
        ms_smt_op_set(&ops[i], key, kl, val, vl, 0);
    }
    return ops;
}

Test(smt, vectors_sets_roots_and_proofs, .init = smt_setup, .fini = smt_teardown)
{
    static uint8_t proof[MS_SMT_PROOF_MAX], want[MS_SMT_PROOF_MAX];
    for (size_t si = 0; si < MS_SMT_VEC_SETS_COUNT; si++) {
        const ms_smt_vec_set *vs = &ms_smt_vec_sets[si];
        /* Each set is its own tree: roll back to the empty version first. */
        if (si > 0) cr_assert_eq(commit_rollback(0, NULL), MS_SMT_OK);
        ms_smt_op *ops = vec_set_ops(vs);
        uint8_t root[32], vroot[32];
        cr_assert_eq(commit_apply(si + 1, ops, vs->n_entries, 0, root), MS_SMT_OK, "set %s", vs->name);
        free(ops);
        hex_into(vroot, 32, vs->root_hex);
        cr_assert_eq(memcmp(root, vroot, 32), 0, "root of set %s", vs->name);
        uint64_t entries = 0;
        cr_assert_eq(ms_smt_root(smt_t, si + 1, NULL, &entries), MS_SMT_OK);
        cr_assert_eq(entries, vs->n_entries);

        for (size_t pi = 0; pi < vs->n_proofs; pi++) {
            const ms_smt_vec_proof *vp = &vs->proofs[pi];
            uint8_t key[64], val[256];
            size_t kl = hex_into(key, sizeof key, vp->key_hex), plen = 0;
            int present = -1;
            cr_assert_eq(ms_smt_prove(smt_t, si + 1, key, kl, proof, sizeof proof, &plen, &present), MS_SMT_OK);
            size_t wlen = hex_into(want, sizeof want, vp->proof_hex);
            cr_assert_eq(plen, wlen, "proof length, set %s proof %zu", vs->name, pi);
            cr_assert_eq(memcmp(proof, want, plen), 0, "proof bytes, set %s proof %zu", vs->name, pi);
            cr_assert_eq(present, vp->value_hex != NULL);
            cr_assert_eq(proof[1], vp->kind);
            if (vp->value_hex != NULL) {
                size_t vl = hex_into(val, sizeof val, vp->value_hex);
                cr_assert_eq(ms_smt_verify_inclusion(vroot, key, kl, val, vl, want, wlen), MS_SMT_VERIFY_OK);
            } else {
                cr_assert_eq(ms_smt_verify_non_inclusion(vroot, key, kl, want, wlen), MS_SMT_VERIFY_OK);
            }
        }
    }
}

/* The node records (keys with tag 0x10) of a store, in key order. */
typedef struct node_rec {
    uint8_t key[42];
    uint8_t *val;
    size_t vlen;
} node_rec;

typedef struct node_recs {
    node_rec *r;
    size_t n, cap;
    size_t bad_klen;   /* a node key not 42 bytes long (0: none) */
    int oom;           /* both asserted after the scan, not inside RocksDB's iteration */
} node_recs;

static int collect_node_rec(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    node_recs *l = ctx;
    if (klen != 42) {
        l->bad_klen = klen;
        return 0;
    }
    if (l->n == l->cap) {
        const size_t cap = l->cap ? l->cap * 2 : 64;
        node_rec *g = realloc(l->r, cap * sizeof *l->r);
        if (g == NULL) {
            l->oom = 1;
            return 0;
        }
        l->r = g;
        l->cap = cap;
    }
    node_rec *r = &l->r[l->n];
    memcpy(r->key, key, 42);
    r->val = malloc(vlen ? vlen : 1);
    if (r->val == NULL) {
        l->oom = 1;
        return 0;
    }
    memcpy(r->val, val, vlen);
    r->vlen = vlen;
    l->n++;
    return 1;
}

static void node_recs_free(node_recs *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->r[i].val);
    free(l->r);
}

/* Lower-case hex of b (out holds 2n + 1 characters). */
/* Each set's entries applied in one block at version 1 to an empty store
 * leave exactly the node records the JavaScript reference derives from the
 * definition in spec/state.md "Nodes" (value format 2): the same keys in the
 * same order, the same values byte for byte. The audit then walks them. */
Test(smt, vectors_sets_node_records, .init = smt_setup, .fini = smt_teardown)
{
    static uint8_t want[2048];
    for (size_t si = 0; si < MS_SMT_VEC_SETS_COUNT; si++) {
        const ms_smt_vec_set *vs = &ms_smt_vec_sets[si];
        if (si > 0) {
            /* A fresh empty store for every set. */
            smt_teardown();
            smt_setup();
        }
        ms_smt_op *ops = vec_set_ops(vs);
        uint8_t root[32], vroot[32];
        cr_assert_eq(commit_apply(1, ops, vs->n_entries, 0, root), MS_SMT_OK, "set %s", vs->name);
        free(ops);
        hex_into(vroot, 32, vs->root_hex);
        cr_assert_eq(memcmp(root, vroot, 32), 0, "root of set %s", vs->name);

        node_recs have = {0};
        const uint8_t tag = MS_SMT_TAG_NODE;
        cr_assert_eq(ms_kv_scan(smt_kv, &tag, 1, collect_node_rec, &have), MS_KV_OK);
        cr_assert_eq(have.bad_klen, 0u, "set %s: a node key of %zu bytes", vs->name, have.bad_klen);
        cr_assert_eq(have.oom, 0, "set %s: out of memory", vs->name);

        /* Keys first (a missing or extra record shows here), then the count,
         * then the values. */
        const size_t common = have.n < vs->n_records ? have.n : vs->n_records;
        for (size_t i = 0; i < common; i++) {
            uint8_t wk[42];
            cr_assert_eq(hex_into(wk, sizeof wk, vs->records[i].key_hex), 42u);
            if (memcmp(have.r[i].key, wk, 42) != 0) {
                char hk[85];
                ms_test_hex_of(hk, have.r[i].key, 42);
                cr_assert_fail("set %s: node record %zu has key 0x%s, the vector %s", vs->name, i, hk,
                               vs->records[i].key_hex);
            }
        }
        cr_assert_eq(have.n, vs->n_records, "set %s: %zu node records stored, the vector has %zu", vs->name, have.n,
                     vs->n_records);
        for (size_t i = 0; i < common; i++) {
            const node_rec *r = &have.r[i];
            const size_t wl = hex_into(want, sizeof want, vs->records[i].value_hex);
            if (r->vlen == wl && memcmp(r->val, want, wl) == 0) continue;
            size_t d = 0;
            while (d < r->vlen && d < wl && r->val[d] == want[d]) d++;
            char hk[85];
            ms_test_hex_of(hk, r->key, 42);
            cr_assert_fail("set %s: node record %zu (depth %u, key 0x%s) differs: stored %zu bytes, format 0x%02x; "
                           "the vector %zu bytes, format 0x%02x; first difference at byte %zu",
                           vs->name, i, (unsigned)r->key[9], hk, r->vlen, r->vlen ? r->val[0] : 0u, wl,
                           wl ? want[0] : 0u, d);
        }
        node_recs_free(&have);
        /* The audit decodes the same records and finds nothing else. */
        cr_assert_eq(audit_store(), vs->n_records, "set %s", vs->name);
    }
}

Test(smt, vectors_sequence, .init = smt_setup, .fini = smt_teardown)
{
    for (size_t bi = 0; bi < MS_SMT_VEC_BLOCKS_COUNT; bi++) {
        const ms_smt_vec_block *vb = &ms_smt_vec_blocks[bi];
        ms_smt_op *ops = calloc(vb->n_ops + 1, sizeof *ops);
        cr_assert_not_null(ops);
        for (size_t i = 0; i < vb->n_ops; i++) {
            uint8_t key[64], val[256];
            size_t kl = hex_into(key, sizeof key, vb->ops[i].key_hex);
            if (vb->ops[i].value_hex == NULL) {
                ms_smt_op_set(&ops[i], key, kl, NULL, 0, 1);
            } else {
                size_t vl = hex_into(val, sizeof val, vb->ops[i].value_hex);
                ms_smt_op_set(&ops[i], key, kl, val, vl, 0);
            }
        }
        uint8_t root[32], vroot[32];
        cr_assert_eq(commit_apply(vb->height, ops, vb->n_ops, 0, root), MS_SMT_OK);
        free(ops);
        hex_into(vroot, 32, vb->root_hex);
        cr_assert_eq(memcmp(root, vroot, 32), 0, "root after block %lu", vb->height);
        uint64_t entries = 0;
        cr_assert_eq(ms_smt_root(smt_t, vb->height, NULL, &entries), MS_SMT_OK);
        cr_assert_eq(entries, vb->entries, "entries after block %lu", vb->height);
    }
    /* Every block's tree is still stored, and nothing else. */
    audit_store();
}

/* --------------------------------------------------------- hand-made cases */

Test(smt, empty_tree_root_is_zero, .init = smt_setup, .fini = smt_teardown)
{
    uint8_t root[32], zero[32] = {0};
    uint64_t latest = 99, oldest = 99;
    cr_assert_eq(ms_smt_info(smt_t, &latest, &oldest, root), MS_SMT_OK);
    cr_assert_eq(latest, 0u);
    cr_assert_eq(oldest, 0u);
    cr_assert_eq(memcmp(root, zero, 32), 0);
    cr_assert_eq(commit_apply(1, NULL, 0, 0, root), MS_SMT_OK);
    cr_assert_eq(memcmp(root, zero, 32), 0);
}

Test(smt, one_key_by_hand, .init = smt_setup, .fini = smt_teardown)
{
    const uint8_t key[] = {0x01, 0xaa, 0xbb};
    const uint8_t val[] = "hello";
    ms_smt_op op;
    ms_smt_op_set(&op, key, sizeof key, val, 5, 0);
    uint8_t root[32], path[32], vh[32], want[32];
    cr_assert_eq(commit_apply(7, &op, 1, 0, root), MS_SMT_OK);
    ms_keccak256(path, key, sizeof key);
    ms_keccak256(vh, val, 5);
    keccak_cat(want, 0x00, path, vh);
    cr_assert_eq(memcmp(root, want, 32), 0);
}

/* Among the 4096 keys "memsync.smt.pair.<i>", the two whose paths share the
 * longest prefix (the same search as the JavaScript reference). */
typedef struct pcand {
    uint8_t path[32];
    unsigned i;
} pcand;

static int pcand_cmp(const void *a, const void *b)
{
    return memcmp(((const pcand *)a)->path, ((const pcand *)b)->path, 32);
}

Test(smt, two_keys_long_prefix_by_hand, .init = smt_setup, .fini = smt_teardown)
{
    pcand *c = malloc(4096 * sizeof *c);
    cr_assert_not_null(c);
    for (unsigned i = 0; i < 4096; i++) {
        char k[40];
        int n = snprintf(k, sizeof k, "memsync.smt.pair.%u", i);
        ms_keccak256(c[i].path, (const uint8_t *)k, (size_t)n);
        c[i].i = i;
    }
    qsort(c, 4096, sizeof *c, pcand_cmp);
    unsigned best = 0, bi = 1;
    for (unsigned i = 1; i < 4096; i++) {
        unsigned n = 0;
        while (n < 256 && pbit(c[i - 1].path, n) == pbit(c[i].path, n)) n++;
        if (n > best) {
            best = n;
            bi = i;
        }
    }
    cr_assert_geq(best, 16u, "a long shared prefix");
    char ka[40], kb[40];
    int la = snprintf(ka, sizeof ka, "memsync.smt.pair.%u", c[bi - 1].i);
    int lb = snprintf(kb, sizeof kb, "memsync.smt.pair.%u", c[bi].i);
    free(c);

    ms_smt_op ops[2];
    ms_smt_op_set(&ops[0], (const uint8_t *)ka, (size_t)la, (const uint8_t *)"left", 4, 0);
    ms_smt_op_set(&ops[1], (const uint8_t *)kb, (size_t)lb, (const uint8_t *)"right", 5, 0);
    uint8_t root[32];
    cr_assert_eq(commit_apply(1, ops, 2, 0, root), MS_SMT_OK);

    /* By hand: the two leaves meet at depth `best`; above it every node has
     * one empty child. */
    uint8_t pa[32], pb[32], va[32], vb[32], la_h[32], lb_h[32], h[32], zero[32] = {0};
    ms_keccak256(pa, (const uint8_t *)ka, (size_t)la);
    ms_keccak256(pb, (const uint8_t *)kb, (size_t)lb);
    ms_keccak256(va, (const uint8_t *)"left", 4);
    ms_keccak256(vb, (const uint8_t *)"right", 5);
    keccak_cat(la_h, 0x00, pa, va);
    keccak_cat(lb_h, 0x00, pb, vb);
    if (pbit(pa, best) == 0) keccak_cat(h, 0x01, la_h, lb_h);
    else keccak_cat(h, 0x01, lb_h, la_h);
    for (unsigned d = best; d-- > 0;) {
        uint8_t t[32];
        if (pbit(pa, d) == 0) keccak_cat(t, 0x01, h, zero);
        else keccak_cat(t, 0x01, zero, h);
        memcpy(h, t, 32);
    }
    cr_assert_eq(memcmp(root, h, 32), 0);

    /* The proof of one key: depth best+1, a single non-empty sibling. */
    static uint8_t proof[MS_SMT_PROOF_MAX];
    size_t plen = 0;
    cr_assert_eq(ms_smt_prove(smt_t, 1, (const uint8_t *)ka, (size_t)la, proof, sizeof proof, &plen, NULL), MS_SMT_OK);
    cr_assert_eq(((unsigned)proof[34] << 8) | proof[35], best + 1);
    cr_assert_eq(plen, 36 + (best + 1 + 7) / 8 + 32 + 32);
    cr_assert_eq(ms_smt_verify_inclusion(root, (const uint8_t *)ka, (size_t)la, (const uint8_t *)"left", 4, proof, plen),
                 MS_SMT_VERIFY_OK);

    /* Deleting one key leaves the other as the root leaf; deleting both
     * gives the zero root, and no node is left. */
    ms_smt_op_set(&ops[0], (const uint8_t *)ka, (size_t)la, NULL, 0, 1);
    cr_assert_eq(commit_apply(2, ops, 1, 0, root), MS_SMT_OK);
    cr_assert_eq(memcmp(root, lb_h, 32), 0);
    ms_smt_op_set(&ops[1], (const uint8_t *)kb, (size_t)lb, NULL, 0, 1);
    cr_assert_eq(commit_apply(3, ops + 1, 1, 3, root), MS_SMT_OK);
    cr_assert_eq(memcmp(root, zero, 32), 0);
    cr_assert_eq(audit_store(), 0u);
}

Test(smt, delete_everything_gives_zero_root, .init = smt_setup, .fini = smt_teardown)
{
    model *m = calloc(1, sizeof *m);
    ms_smt_op ops[MODEL_KEYS];
    rng_state = 11;
    for (unsigned i = 0; i < MODEL_KEYS; i++) op_for_model(&ops[i], m, i, 0);
    uint8_t root[32], zero[32] = {0};
    cr_assert_eq(commit_apply(1, ops, MODEL_KEYS, 0, root), MS_SMT_OK);
    cr_assert_neq(memcmp(root, zero, 32), 0);
    for (unsigned i = 0; i < MODEL_KEYS; i++) op_for_model(&ops[i], m, i, 1);
    cr_assert_eq(commit_apply(2, ops, MODEL_KEYS / 2, 0, root), MS_SMT_OK);
    cr_assert_eq(commit_apply(3, ops + MODEL_KEYS / 2, MODEL_KEYS - MODEL_KEYS / 2, 3, root), MS_SMT_OK);
    cr_assert_eq(memcmp(root, zero, 32), 0);
    uint64_t entries = 1;
    cr_assert_eq(ms_smt_root(smt_t, 3, NULL, &entries), MS_SMT_OK);
    cr_assert_eq(entries, 0u);
    cr_assert_eq(audit_store(), 0u, "pruned to the empty tree: no node left");
    free(m);
}

Test(smt, root_independent_of_insertion_order, .init = smt_setup, .fini = smt_teardown)
{
    enum { N = 300 };
    model *m = calloc(1, sizeof *m);
    ms_smt_op *ops = malloc(N * sizeof *ops);
    cr_assert_not_null(m);
    cr_assert_not_null(ops);
    rng_state = 3;
    for (unsigned i = 0; i < N; i++) op_for_model(&ops[i], m, i, 0);
    uint8_t want[32], r1[32], r2[32], r3[32];
    model_root(want, m);

    /* 1: one batch, in key order. */
    cr_assert_eq(commit_apply(1, ops, N, 0, r1), MS_SMT_OK);
    cr_assert_eq(memcmp(r1, want, 32), 0);

    /* 2: one key per version, in reverse order (same values). */
    ms_smt_op *copy = malloc(N * sizeof *copy);
    memcpy(copy, ops, N * sizeof *ops);
    cr_assert_eq(commit_rollback(0, NULL), MS_SMT_OK);
    for (unsigned i = 0; i < N; i++) cr_assert_eq(commit_apply(1 + i, &copy[N - 1 - i], 1, 0, r2), MS_SMT_OK);
    cr_assert_eq(memcmp(r2, want, 32), 0);

    /* 3: a shuffled order in batches of 7, with extra keys inserted and deleted again. */
    memcpy(copy, ops, N * sizeof *ops);
    for (unsigned i = N - 1; i > 0; i--) {
        unsigned j = (unsigned)(rng() % (i + 1));
        ms_smt_op t = copy[i];
        copy[i] = copy[j];
        copy[j] = t;
    }
    cr_assert_eq(commit_rollback(0, NULL), MS_SMT_OK);
    uint64_t v = 1;
    ms_smt_op extra[2];
    ms_smt_op_set(&extra[0], (const uint8_t *)"extra-a", 7, (const uint8_t *)"x", 1, 0);
    ms_smt_op_set(&extra[1], (const uint8_t *)"extra-b", 7, (const uint8_t *)"y", 1, 0);
    cr_assert_eq(commit_apply(v++, extra, 2, 0, r3), MS_SMT_OK);
    for (unsigned i = 0; i < N; i += 7) cr_assert_eq(commit_apply(v++, copy + i, N - i < 7 ? N - i : 7, 0, r3), MS_SMT_OK);
    ms_smt_op_set(&extra[0], (const uint8_t *)"extra-a", 7, NULL, 0, 1);
    ms_smt_op_set(&extra[1], (const uint8_t *)"extra-b", 7, NULL, 0, 1);
    cr_assert_eq(commit_apply(v++, extra, 2, 0, r3), MS_SMT_OK);
    cr_assert_eq(memcmp(r3, want, 32), 0);
    audit_store();
    free(copy);
    free(ops);
    free(m);
}

/* ------------------------------------------------------------------ proofs */

static int flips_fail(const uint8_t root[32], uint8_t *key, size_t kl, uint8_t *val, size_t vl, int present,
                      uint8_t *proof, size_t plen)
{
    if (present) return ms_smt_verify_inclusion(root, key, kl, val, vl, proof, plen) != MS_SMT_VERIFY_OK;
    return ms_smt_verify_non_inclusion(root, key, kl, proof, plen) != MS_SMT_VERIFY_OK;
}

/* Changing any single byte of the proof, key, value or root is rejected. */
static void check_tamper(uint8_t root[32], uint8_t *key, size_t kl, uint8_t *val, size_t vl, int present,
                         uint8_t *proof, size_t plen)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    cr_assert(!flips_fail(root, key, kl, val, vl, present, proof, plen), "the untouched proof verifies");
    for (size_t i = 0; i < plen; i++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            proof[i] ^= masks[k];
            cr_assert(flips_fail(root, key, kl, val, vl, present, proof, plen), "proof byte %zu ^ %02x", i, masks[k]);
            proof[i] ^= masks[k];
        }
    }
    for (size_t i = 0; i < kl; i++) {
        key[i] ^= 0x01;
        cr_assert(flips_fail(root, key, kl, val, vl, present, proof, plen), "key byte %zu", i);
        key[i] ^= 0x01;
    }
    for (size_t i = 0; i < vl && present; i++) {
        val[i] ^= 0x01;
        cr_assert(flips_fail(root, key, kl, val, vl, present, proof, plen), "value byte %zu", i);
        val[i] ^= 0x01;
    }
    for (size_t i = 0; i < 32; i++) {
        root[i] ^= 0x01;
        cr_assert(flips_fail(root, key, kl, val, vl, present, proof, plen), "root byte %zu", i);
        root[i] ^= 0x01;
    }
    /* Truncated or extended proofs are malformed. */
    for (size_t cut = 0; cut < plen; cut += (cut < 40 ? 1 : 31)) {
        cr_assert_eq(ms_smt_verify(root, key, kl, proof, cut, NULL, NULL), MS_SMT_VERIFY_MALFORMED, "cut %zu", cut);
    }
    proof[plen] = 0;
    cr_assert_eq(ms_smt_verify(root, key, kl, proof, plen + 1, NULL, NULL), MS_SMT_VERIFY_MALFORMED);
    /* Asking for the other kind fails. */
    if (present) cr_assert_eq(ms_smt_verify_non_inclusion(root, key, kl, proof, plen), MS_SMT_VERIFY_WRONG_KIND);
    else cr_assert_eq(ms_smt_verify_inclusion(root, key, kl, val, vl, proof, plen), MS_SMT_VERIFY_WRONG_KIND);
    cr_assert(!flips_fail(root, key, kl, val, vl, present, proof, plen), "restored");
}

Test(smt, proofs_verify_and_every_byte_matters, .init = smt_setup, .fini = smt_teardown)
{
    model *m = calloc(1, sizeof *m);
    ms_smt_op ops[MODEL_KEYS];
    rng_state = 5;
    size_t n = 0;
    for (unsigned i = 0; i < MODEL_KEYS; i += 2) op_for_model(&ops[n++], m, i, 0);
    /* Make one present key's value non-empty for the value flips. */
    uint8_t root[32];
    cr_assert_eq(commit_apply(1, ops, n, 0, root), MS_SMT_OK);
    check_model_proofs(1, root, m, 1);

    static uint8_t proof[MS_SMT_PROOF_MAX + 1];
    int seen[4] = {0};
    for (unsigned i = 0; i < 60; i++) {
        uint8_t key[32];
        size_t kl = model_key(key, i), plen = 0;
        int present = 0;
        if (m->present[i] && m->vlen[i] == 0) continue;
        cr_assert_eq(ms_smt_prove(smt_t, 1, key, kl, proof, MS_SMT_PROOF_MAX, &plen, &present), MS_SMT_OK);
        if (seen[proof[1]] >= 3) continue;
        seen[proof[1]]++;
        check_tamper(root, key, kl, m->val[i], m->vlen[i], present, proof, plen);
    }
    cr_assert(seen[1] > 0 && seen[2] + seen[3] > 0, "inclusion and non-inclusion proofs were tampered with");

    /* Kinds 2 and 3 on tiny trees: an empty tree and a single leaf. */
    cr_assert_eq(commit_rollback(0, NULL), MS_SMT_OK);
    uint8_t zero[32] = {0}, key[32] = "absent";
    size_t plen = 0;
    cr_assert_eq(ms_smt_prove(smt_t, 0, key, 6, proof, MS_SMT_PROOF_MAX, &plen, NULL), MS_SMT_OK);
    cr_assert_eq(proof[1], MS_SMT_PROOF_ABSENT_EMPTY);
    check_tamper(zero, key, 6, NULL, 0, 0, proof, plen);
    cr_assert_eq(commit_apply(1, ops, 1, 0, root), MS_SMT_OK);
    cr_assert_eq(ms_smt_prove(smt_t, 1, key, 6, proof, MS_SMT_PROOF_MAX, &plen, NULL), MS_SMT_OK);
    cr_assert_eq(proof[1], MS_SMT_PROOF_ABSENT_LEAF);
    check_tamper(root, key, 6, NULL, 0, 0, proof, plen);
    free(m);
}

Test(smt, proof_buffer_and_verifier_bounds, .init = smt_setup, .fini = smt_teardown)
{
    ms_smt_op ops[40];
    model *m = calloc(1, sizeof *m);
    rng_state = 9;
    for (unsigned i = 0; i < 40; i++) op_for_model(&ops[i], m, i, 0);
    uint8_t root[32], key[32];
    cr_assert_eq(commit_apply(1, ops, 40, 0, root), MS_SMT_OK);
    static uint8_t proof[MS_SMT_PROOF_MAX];
    size_t kl = model_key(key, 3), plen = 0;
    cr_assert_eq(ms_smt_prove(smt_t, 1, key, kl, proof, sizeof proof, &plen, NULL), MS_SMT_OK);
    size_t small = 0;
    cr_assert_eq(ms_smt_prove(smt_t, 1, key, kl, proof, plen - 1, &small, NULL), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_prove(smt_t, 1, key, kl, proof, plen, &small, NULL), MS_SMT_OK);
    cr_assert_eq(small, plen);
    cr_assert_eq(ms_smt_prove(smt_t, 2, key, kl, proof, sizeof proof, &small, NULL), MS_SMT_NOT_RETAINED);

    /* Garbage of every length up to the maximum and beyond, on a heap copy
     * of exactly that length so ASan sees any read past the end. */
    rng_state = 1234;
    for (size_t len = 0; len <= MS_SMT_PROOF_MAX_SIZE + 2; len += (len < 300 ? 1 : 97)) {
        uint8_t *g = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) g[i] = (uint8_t)rng();
        if (len > 0) g[0] = 0x01;
        if (len > 1) g[1] = (uint8_t)(1 + len % 3);
        if (len > 35) {
            g[34] = (uint8_t)(rng() % 2);
            g[35] = (uint8_t)rng();
        }
        cr_assert_neq(ms_smt_verify(root, key, kl, g, len, NULL, NULL), MS_SMT_VERIFY_OK);
        free(g);
    }
    /* A well-formed header claiming depth 257 is refused. */
    uint8_t deep[36] = {0x01, 0x02};
    deep[34] = 0x01;
    deep[35] = 0x01;
    cr_assert_eq(ms_smt_verify(root, key, kl, deep, sizeof deep, NULL, NULL), MS_SMT_VERIFY_MALFORMED);
    cr_assert_eq(ms_smt_verify(root, key, kl, NULL, 0, NULL, NULL), MS_SMT_VERIFY_MALFORMED);
    free(m);
}

/* ---------------------------------------------- versions, pruning, rollback */

#define HIST 24
Test(smt, every_retained_version_stays_provable, .init = smt_setup, .fini = smt_teardown)
{
    static model hist[HIST + 1];
    uint8_t roots[HIST + 1][32];
    model *m = calloc(1, sizeof *m);
    ms_smt_op ops[64];
    rng_state = 77;
    memset(roots[0], 0, 32);
    hist[0] = *m;
    for (unsigned v = 1; v <= HIST; v++) {
        unsigned n = 1 + (unsigned)(rng() % 40);
        int used[MODEL_KEYS] = {0};
        size_t k = 0;
        for (unsigned j = 0; j < n; j++) {
            unsigned i = (unsigned)(rng() % 120);
            if (used[i]) continue;
            used[i] = 1;
            op_for_model(&ops[k++], m, i, m->present[i] && rng() % 3 == 0);
        }
        cr_assert_eq(commit_apply(v, ops, k, 0, roots[v]), MS_SMT_OK);
        hist[v] = *m;
        uint8_t want[32];
        model_root(want, m);
        cr_assert_eq(memcmp(roots[v], want, 32), 0, "version %u", v);
    }
    /* After all the updates, every earlier version still has its root and proofs. */
    for (unsigned v = 0; v <= HIST; v++) {
        uint8_t r[32];
        cr_assert_eq(ms_smt_root(smt_t, v, r, NULL), MS_SMT_OK);
        cr_assert_eq(memcmp(r, roots[v], 32), 0, "root of version %u", v);
        check_model_proofs(v, roots[v], &hist[v], 3);
    }
    audit_store();
    /* The same after reopening with no cache at all. */
    smt_close_all();
    smt_open_with_cache(0);
    for (unsigned v = 0; v <= HIST; v += 5) check_model_proofs(v, roots[v], &hist[v], 7);
    free(m);
}

Test(smt, pruning_removes_only_versions_older_than_r, .init = smt_setup, .fini = smt_teardown)
{
    enum { R = 4, V = 30 };
    static model hist[V + 1];
    uint8_t roots[V + 1][32];
    model *m = calloc(1, sizeof *m);
    ms_smt_op ops[64];
    rng_state = 99;
    hist[0] = *m;
    memset(roots[0], 0, 32);
    for (unsigned v = 1; v <= V; v++) {
        int used[MODEL_KEYS] = {0};
        size_t k = 0;
        for (unsigned j = 0; j < 30; j++) {
            unsigned i = (unsigned)(rng() % 150);
            if (used[i]) continue;
            used[i] = 1;
            op_for_model(&ops[k++], m, i, m->present[i] && rng() % 4 == 0);
        }
        const uint64_t keep = v > R ? v - R : 0;
        cr_assert_eq(commit_apply(v, ops, k, keep, roots[v]), MS_SMT_OK);
        hist[v] = *m;
        uint64_t latest, oldest;
        cr_assert_eq(ms_smt_info(smt_t, &latest, &oldest, NULL), MS_SMT_OK);
        cr_assert_eq(latest, v);
        cr_assert_eq(oldest, keep);
        for (unsigned w = 0; w <= v; w++) {
            uint8_t r[32];
            ms_smt_status s = ms_smt_root(smt_t, w, r, NULL);
            if (w < keep) {
                cr_assert_eq(s, MS_SMT_NOT_RETAINED, "version %u pruned at %u", w, v);
            } else {
                cr_assert_eq(s, MS_SMT_OK, "version %u retained at %u", w, v);
                cr_assert_eq(memcmp(r, roots[w], 32), 0);
            }
        }
        if (v % 6 == 0) {
            for (unsigned w = (unsigned)keep; w <= v; w++) check_model_proofs(w, roots[w], &hist[w], 5);
            audit_store();
        }
    }
    /* Pruning further by hand; keep_from below the oldest is a no-op. */
    cr_assert_eq(commit_prune(3), MS_SMT_OK);
    cr_assert_eq(commit_prune(V - 1), MS_SMT_OK);
    cr_assert_eq(ms_smt_root(smt_t, V - 2, NULL, NULL), MS_SMT_NOT_RETAINED);
    check_model_proofs(V - 1, roots[V - 1], &hist[V - 1], 1);
    check_model_proofs(V, roots[V], &hist[V], 1);
    size_t two = audit_store();
    cr_assert_eq(commit_prune(V + 100), MS_SMT_OK);   /* never drops the latest */
    size_t one = audit_store();
    cr_assert_leq(one, two);
    check_model_proofs(V, roots[V], &hist[V], 1);
    free(m);
}

Test(smt, rollback_restores_root_and_allows_a_new_branch, .init = smt_setup, .fini = smt_teardown)
{
    enum { V = 12 };
    static model hist[V + 1];
    uint8_t roots[V + 1][32];
    model *m = calloc(1, sizeof *m);
    ms_smt_op ops[64];
    rng_state = 1;
    hist[0] = *m;
    memset(roots[0], 0, 32);
    for (unsigned v = 1; v <= V; v++) {
        size_t k = 0;
        int used[MODEL_KEYS] = {0};
        for (unsigned j = 0; j < 25; j++) {
            unsigned i = (unsigned)(rng() % 100);
            if (used[i]) continue;
            used[i] = 1;
            op_for_model(&ops[k++], m, i, m->present[i] && rng() % 3 == 0);
        }
        /* Heights need not be consecutive: use 10, 20, ... */
        cr_assert_eq(commit_apply(10u * v, ops, k, v > 8 ? 10u * (v - 8) : 0, roots[v]), MS_SMT_OK);
        hist[v] = *m;
    }
    uint8_t r[32];
    /* Not a retained version: pruned, not a height, or in the future. */
    cr_assert_eq(commit_rollback(30, r), MS_SMT_NOT_RETAINED);
    cr_assert_eq(commit_rollback(45, r), MS_SMT_NOT_RETAINED);
    cr_assert_eq(commit_rollback(130, r), MS_SMT_NOT_RETAINED);
    /* Back to height 60: the root is exactly the earlier one. */
    cr_assert_eq(commit_rollback(60, r), MS_SMT_OK);
    cr_assert_eq(memcmp(r, roots[6], 32), 0);
    uint64_t latest = 0;
    cr_assert_eq(ms_smt_info(smt_t, &latest, NULL, r), MS_SMT_OK);
    cr_assert_eq(latest, 60u);
    cr_assert_eq(memcmp(r, roots[6], 32), 0);
    cr_assert_eq(ms_smt_root(smt_t, 70, NULL, NULL), MS_SMT_NOT_RETAINED);
    check_model_proofs(60, roots[6], &hist[6], 1);
    audit_store();   /* the abandoned versions' nodes and stale lists are gone */

    /* A different branch from 60, at heights 61..65, checked against the model. */
    *m = hist[6];
    rng_state = 4242;
    for (unsigned v = 61; v <= 65; v++) {
        size_t k = 0;
        int used[MODEL_KEYS] = {0};
        for (unsigned j = 0; j < 25; j++) {
            unsigned i = (unsigned)(rng() % 200);
            if (used[i]) continue;
            used[i] = 1;
            op_for_model(&ops[k++], m, i, m->present[i] && rng() % 3 == 0);
        }
        uint8_t want[32];
        cr_assert_eq(commit_apply(v, ops, k, 0, r), MS_SMT_OK);
        model_root(want, m);
        cr_assert_eq(memcmp(r, want, 32), 0, "branch height %u", v);
    }
    check_model_proofs(65, r, m, 1);
    for (unsigned v = 4; v <= 6; v++) check_model_proofs(10u * v, roots[v], &hist[v], 3);
    audit_store();
    free(m);
}

Test(smt, discarded_batch_leaves_no_trace, .init = smt_setup, .fini = smt_teardown)
{
    model *m = calloc(1, sizeof *m), *saved = calloc(1, sizeof *saved);
    ms_smt_op ops[MODEL_KEYS];
    rng_state = 8;
    for (unsigned i = 0; i < 200; i++) op_for_model(&ops[i], m, i, 0);
    uint8_t root[32], want[32];
    cr_assert_eq(commit_apply(1, ops, 200, 0, root), MS_SMT_OK);
    *saved = *m;
    /* Height 2 computed, then the block is discarded (batch never written). */
    for (unsigned i = 0; i < 50; i++) op_for_model(&ops[i], m, i * 3, i % 2);
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_eq(ms_smt_apply(smt_t, b, 2, ops, 50, 0, root), MS_SMT_OK);
    ms_kv_batch_destroy(b);
    /* Height 2 again, with other updates: the handle's cache must not leak
     * the discarded nodes into this tree. */
    *m = *saved;
    for (unsigned i = 0; i < 50; i++) op_for_model(&ops[i], m, i * 3 + 1, i % 3 == 0);
    cr_assert_eq(commit_apply(2, ops, 50, 0, root), MS_SMT_OK);
    model_root(want, m);
    cr_assert_eq(memcmp(root, want, 32), 0);
    check_model_proofs(2, root, m, 1);
    audit_store();
    free(m);
    free(saved);
}

Test(smt, argument_errors, .init = smt_setup, .fini = smt_teardown)
{
    ms_smt_op ops[2];
    uint8_t root[32];
    ms_smt_op_set(&ops[0], (const uint8_t *)"a", 1, (const uint8_t *)"1", 1, 0);
    ms_smt_op_set(&ops[1], (const uint8_t *)"a", 1, NULL, 0, 1);
    cr_assert_eq(commit_apply(1, ops, 2, 0, root), MS_SMT_ARGUMENT, "two ops on one key");
    cr_assert_eq(commit_apply(5, ops, 1, 0, root), MS_SMT_OK);
    cr_assert_eq(commit_apply(5, ops, 1, 0, root), MS_SMT_ARGUMENT, "height not above the latest");
    cr_assert_eq(commit_apply(4, ops, 1, 0, root), MS_SMT_ARGUMENT);
    cr_assert_eq(commit_apply(6, ops, 1, 7, root), MS_SMT_ARGUMENT, "keep_from above the new version");
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_eq(ms_smt_apply(smt_t, NULL, 6, ops, 1, 0, root), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_apply(smt_t, b, 6, NULL, 1, 0, root), MS_SMT_ARGUMENT);
    cr_assert_eq(ms_smt_apply(smt_t, b, 6, ops, MS_SMT_MAX_UPDATES + 1u, 0, root), MS_SMT_ARGUMENT);
    ms_kv_batch_destroy(b);
    /* The same value again changes nothing; so does deleting an absent key. */
    uint8_t again[32];
    ms_smt_op_set(&ops[1], (const uint8_t *)"zz", 2, NULL, 0, 1);
    cr_assert_eq(commit_apply(6, ops, 2, 0, again), MS_SMT_OK);
    cr_assert_eq(memcmp(root, again, 32), 0);
    audit_store();
}

Test(smt, apply_entries_skips_meta_keys, .init = smt_setup, .fini = smt_teardown)
{
    uint8_t k_meta[] = {MS_TAG_META, MS_META_HEIGHT};
    uint8_t k_asset[] = {MS_TAG_ASSET, 1, 2, 3};
    uint8_t k_nonce[] = {MS_TAG_NONCE, 9};
    uint8_t v1[] = {1, 2, 3, 4, 5, 6, 7, 8};
    ms_overlay_entry e0 = {k_meta, sizeof k_meta, v1, 8, 0, 0, {0}};
    ms_overlay_entry e1 = {k_asset, sizeof k_asset, v1, 8, 0, 0, {0}};
    ms_overlay_entry e2 = {k_nonce, sizeof k_nonce, NULL, 0, 1, 0, {0}};
    const ms_overlay_entry *const es[] = {&e0, &e1, &e2};
    ms_kv_batch *b = ms_kv_batch_create();
    uint8_t root[32], want[32], path[32], vh[32];
    cr_assert_eq(ms_smt_apply_entries(smt_t, b, 1, es, 3, 0, root), MS_SMT_OK);
    cr_assert_eq(ms_kv_write(smt_kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    ms_keccak256(path, k_asset, sizeof k_asset);
    ms_keccak256(vh, v1, 8);
    keccak_cat(want, 0x00, path, vh);
    cr_assert_eq(memcmp(root, want, 32), 0, "the root holds the asset only");
}

/* ------------------------------------------------------ the randomized model */

Test(smt, random_model_against_naive_recompute, .init = smt_setup, .fini = smt_teardown, .timeout = 300)
{
    uint64_t seed = 0x5eed5eedu;
    const char *env = getenv("MS_SMT_SEED");
    if (env != NULL) seed = strtoull(env, NULL, 0);
    printf("smt random model: seed %" PRIu64 " (replay with MS_SMT_SEED=%" PRIu64 ")\n", seed, seed);
    fflush(stdout);
    rng_state = seed;

    enum { BLOCKS = 400, R = 6 };
    static model hist[BLOCKS + 1];
    static uint8_t roots[BLOCKS + 1][32];
    static uint64_t heights[BLOCKS + 1];
    model *m = calloc(1, sizeof *m);
    ms_smt_op *ops = malloc(MODEL_KEYS * sizeof *ops);
    size_t nblocks = 0, nops = 0, nrollbacks = 0, oldest_idx = 0;
    heights[0] = 0;
    memset(roots[0], 0, 32);
    hist[0] = *m;
    uint64_t h = 0;
    while (nops < 4000 && nblocks < BLOCKS) {
        /* Sometimes roll back 1..R blocks, within the retained window
         * (pruned history does not come back after a rollback). */
        if (nblocks > oldest_idx && rng() % 8 == 0) {
            size_t back = 1 + (size_t)(rng() % R);
            size_t to = nblocks - back < oldest_idx || back > nblocks ? oldest_idx : nblocks - back;
            uint8_t r[32];
            cr_assert_eq(commit_rollback(heights[to], r), MS_SMT_OK, "rollback to %" PRIu64, heights[to]);
            cr_assert_eq(memcmp(r, roots[to], 32), 0);
            nblocks = to;
            *m = hist[to];
            nrollbacks++;
        }
        /* Too far back is refused. */
        if (oldest_idx > 0) {
            cr_assert_eq(commit_rollback(heights[oldest_idx - 1], NULL), MS_SMT_NOT_RETAINED);
        }
        size_t k = 0;
        int used[MODEL_KEYS] = {0};
        unsigned n = (unsigned)(rng() % 70);
        unsigned span = 50 + (unsigned)(rng() % (MODEL_KEYS - 50));
        for (unsigned j = 0; j < n; j++) {
            unsigned i = (unsigned)(rng() % span);
            if (used[i]) continue;
            used[i] = 1;
            op_for_model(&ops[k++], m, i, rng() % 3 == 0);
        }
        h += 1 + rng() % 3;
        nblocks++;
        heights[nblocks] = h;
        uint64_t keep = nblocks > R ? heights[nblocks - R] : 0;
        cr_assert_eq(commit_apply(h, ops, k, keep, roots[nblocks]), MS_SMT_OK);
        if (nblocks > R && nblocks - R > oldest_idx) oldest_idx = nblocks - R;
        hist[nblocks] = *m;
        nops += k;
        uint8_t want[32];
        model_root(want, m);
        cr_assert_eq(memcmp(roots[nblocks], want, 32), 0, "seed %" PRIu64 ": root at height %" PRIu64, seed, h);
        /* Point lookups agree with the model. */
        for (unsigned q = 0; q < 8; q++) {
            unsigned i = (unsigned)(rng() % MODEL_KEYS);
            uint8_t key[32], vh[32], mvh[32];
            size_t kl = model_key(key, i);
            int present = -1;
            cr_assert_eq(ms_smt_get(smt_t, h, key, kl, &present, vh), MS_SMT_OK);
            cr_assert_eq(present, m->present[i]);
            if (present) {
                ms_keccak256(mvh, m->val[i], m->vlen[i]);
                cr_assert_eq(memcmp(vh, mvh, 32), 0);
            }
        }
        if (nblocks % 25 == 0) {
            /* Every retained height proves its own state. */
            for (size_t w = oldest_idx; w <= nblocks; w++) {
                check_model_proofs(heights[w], roots[w], &hist[w], 11);
            }
            /* Restart: a fresh handle on the same directory. */
            audit_store();
        }
    }
    printf("smt random model: %zu ops, %zu rollbacks, final height %" PRIu64 "\n", nops, nrollbacks, h);
    cr_assert_geq(nops, 2000u);
    audit_store();
    free(ops);
    free(m);
}
