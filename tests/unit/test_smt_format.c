/* Node record formats of the state tree (spec/state.md "Nodes"): an apply
 * writes compact records (format 2: no leaf or inner hashes), readers
 * accept them and the full records (format 1) that stores written before
 * format 2 hold, and a damaged compact record is refused as corrupt.
 *
 * Format 1 records are made here from the compact ones by this file's own
 * reading of the spec (leaf hashes, the heap's classes and inner hashes),
 * not by the tree's encoder: a store converted this way is what an older
 * version of the module left on disk. Two stores take the same blocks: A
 * as written, B converted to format 1 before it goes on; after the
 * conversion B's tree is opened without a node cache, so every node it
 * reads comes from RocksDB through both read paths (the apply's batched
 * levels, on two threads for big ones, and the single loads of gets,
 * proofs and rollbacks). Stores live in mkdtemp directories under /tmp,
 * removed by the fixture even when a test fails. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "crypto/smt_verify.h"
#include "storage/kv.h"
#include "storage/records.h"
#include "storage/smt.h"
#include "test_util.h"

#define ENTRIES 3000u
#define BLOCK 400u
#define NODE_KEY 42u
#define REC_MAX 2048u

typedef struct fstore {
    char dir[64];
    ms_kv *kv;
    ms_smt *t;
} fstore;

static fstore stores[2];

static void fmt_setup(void)
{
    memset(stores, 0, sizeof stores);
}

static void fmt_teardown(void)
{
    for (unsigned i = 0; i < 2; i++) {
        if (stores[i].t != NULL) ms_smt_close(stores[i].t);
        if (stores[i].kv != NULL) ms_kv_close(stores[i].kv);
        if (stores[i].dir[0] != '\0') ms_test_rmtree(stores[i].dir);
    }
    memset(stores, 0, sizeof stores);
}

TestSuite(smt_format, .init = fmt_setup, .fini = fmt_teardown, .timeout = 120);

static void open_tree(fstore *s, size_t cache)
{
    if (s->t != NULL) ms_smt_close(s->t);
    s->t = NULL;
    cr_assert_eq(ms_smt_open(&s->t, s->kv, cache), MS_SMT_OK);
    cr_assert_eq(ms_smt_set_parallel(s->t, 2, MS_SMT_PARALLEL_MIN), MS_SMT_OK);
}

static void open_store(fstore *s, size_t cache)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/memsync-smtfmt-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    cr_assert_eq(ms_kv_open(&s->kv, s->dir), MS_KV_OK);
    open_tree(s, cache);
}

static size_t key_of(uint8_t out[24], uint32_t i)
{
    return (size_t)snprintf((char *)out, 24, "fmt.key.%u", i);
}

/* Block r's updates: block 0 inserts every key, later ones update and
 * delete a spread of them (and re-insert what earlier ones deleted). */
static size_t block_ops(ms_smt_op *ops, uint32_t r)
{
    if (r == 0) {
        for (uint32_t i = 0; i < ENTRIES; i++) {
            uint8_t k[24], v[16];
            memset(v, (int)i, sizeof v);
            ms_smt_op_set(&ops[i], k, key_of(k, i), v, sizeof v, 0);
        }
        return ENTRIES;
    }
    for (uint32_t j = 0; j < BLOCK; j++) {
        const uint32_t i = (r * 7919u + j * 104729u) % ENTRIES;
        uint8_t k[24], v[16];
        memset(v, (int)(i + r), sizeof v);
        v[0] = (uint8_t)r;
        ms_smt_op_set(&ops[j], k, key_of(k, i), v, sizeof v, (j + r) % 9u == 0);
    }
    return BLOCK;
}

static void apply_block(fstore *s, uint64_t v, uint32_t r, uint64_t keep, uint8_t root[32])
{
    static ms_smt_op ops[ENTRIES];
    const size_t n = block_ops(ops, r);
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    cr_assert_eq(ms_smt_apply(s->t, b, v, ops, n, keep, root), MS_SMT_OK, "apply of version %lu",
                 (unsigned long)v);
    cr_assert_eq(ms_kv_write(s->kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
}

/* ------------------------------------------------- the store's node records */

typedef struct recs {
    size_t n, cap;
    uint8_t (*key)[NODE_KEY];
    uint8_t (*val)[REC_MAX];
    size_t *len;
} recs;

static int collect(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    recs *c = ctx;
    cr_assert_eq(klen, NODE_KEY);
    cr_assert_leq(vlen, REC_MAX);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->key = realloc(c->key, c->cap * sizeof *c->key);
        c->val = realloc(c->val, c->cap * sizeof *c->val);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
        cr_assert(c->key != NULL && c->val != NULL && c->len != NULL);
    }
    memcpy(c->key[c->n], key, NODE_KEY);
    memcpy(c->val[c->n], val, vlen);
    c->len[c->n++] = vlen;
    return 1;   /* go on */
}

/* The node records whose key starts with prefix (plen bytes, tag included). */
static recs scan_nodes(const fstore *s, const uint8_t *prefix, size_t plen)
{
    recs c = {0, 0, NULL, NULL, NULL};
    cr_assert_eq(ms_kv_scan(s->kv, prefix, plen, collect, &c), MS_KV_OK);
    return c;
}

static void recs_free(recs *c)
{
    free(c->key);
    free(c->val);
    free(c->len);
    memset(c, 0, sizeof *c);
}

static unsigned popcount16(unsigned x)
{
    unsigned n = 0;
    for (; x != 0; x &= x - 1u) n++;
    return n;
}

/* A compact record's expected size: 5 + 64 per leaf + 40 per node slot. */
static void assert_compact(const uint8_t *rec, size_t len)
{
    cr_assert_geq(len, 5u);
    cr_assert_eq(rec[0], 0x02, "format %u, not 2", rec[0]);
    const unsigned map = ((unsigned)rec[1] << 8) | rec[2], leaves = ((unsigned)rec[3] << 8) | rec[4];
    cr_assert_eq(leaves & ~map, 0u);
    cr_assert_eq(len, 5u + 64u * popcount16(leaves) + 40u * popcount16(map & ~leaves));
}

/* The full record (format 1) of the compact record rec, from the spec's
 * definition: slot hashes (a leaf's is leafHash(path, valueHash)), the
 * classes of the 15 heap entries above them (an entry over one leaf is that
 * leaf, over nothing empty, otherwise a node: internalHash of its halves),
 * and the hashes of entries 2..15 that are nodes. Returns its length. */
static size_t to_full(uint8_t *out, const uint8_t *rec, size_t len)
{
    assert_compact(rec, len);
    const unsigned map = ((unsigned)rec[1] << 8) | rec[2], leaves = ((unsigned)rec[3] << 8) | rec[4];
    unsigned kind[32] = {0};   /* 0 empty, 1 one leaf, 2 two entries or more */
    uint8_t h[32][32];
    memset(h, 0, sizeof h);
    size_t i = 5, o = 5;
    for (unsigned sl = 0; sl < 16; sl++) {
        if (!((map >> sl) & 1u)) continue;
        if ((leaves >> sl) & 1u) {
            kind[16 + sl] = 1;
            ms_smt_hash_leaf(h[16 + sl], rec + i, rec + i + 32);
            memcpy(out + o, h[16 + sl], 32);
            memcpy(out + o + 32, rec + i, 64);
            i += 64;
            o += 96;
        } else {
            kind[16 + sl] = 2;
            memcpy(h[16 + sl], rec + i, 32);
            memcpy(out + o, rec + i, 40);
            i += 40;
            o += 40;
        }
    }
    for (unsigned e = 15; e >= 1; e--) {
        const unsigned a = kind[2 * e], b = kind[2 * e + 1];
        if (a == 0 && b == 0) {
            kind[e] = 0;
        } else if (a == 0 && b == 1) {
            kind[e] = 1;
            memcpy(h[e], h[2 * e + 1], 32);
        } else if (a == 1 && b == 0) {
            kind[e] = 1;
            memcpy(h[e], h[2 * e], 32);
        } else {
            kind[e] = 2;
            ms_smt_hash_internal(h[e], h[2 * e], h[2 * e + 1]);
        }
    }
    for (unsigned e = 2; e < 16; e++) {
        if (kind[e] != 2) continue;
        memcpy(out + o, h[e], 32);
        o += 32;
    }
    memcpy(out, rec, 5);
    out[0] = 0x01;
    return o;
}

/* Rewrite every node record of s in format 1, as an older module wrote
 * them. Returns how many. */
static size_t convert_to_full(fstore *s)
{
    const uint8_t tag = MS_SMT_TAG_NODE;
    recs all = scan_nodes(s, &tag, 1);
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    for (size_t i = 0; i < all.n; i++) {
        uint8_t full[REC_MAX];
        const size_t fl = to_full(full, all.val[i], all.len[i]);
        cr_assert_gt(fl, all.len[i], "the full form is longer");
        ms_kv_batch_put(b, all.key[i], NODE_KEY, full, fl);
    }
    cr_assert_eq(ms_kv_write(s->kv, b, 1), MS_KV_OK);
    ms_kv_batch_destroy(b);
    const size_t n = all.n;
    recs_free(&all);
    return n;
}

static void same_roots(uint64_t from, uint64_t to)
{
    for (uint64_t v = from; v <= to; v++) {
        uint8_t ra[32], rb[32];
        uint64_t ea = 0, eb = 0;
        cr_assert_eq(ms_smt_root(stores[0].t, v, ra, &ea), MS_SMT_OK);
        cr_assert_eq(ms_smt_root(stores[1].t, v, rb, &eb), MS_SMT_OK);
        cr_assert_eq(memcmp(ra, rb, 32), 0, "root of version %lu", (unsigned long)v);
        cr_assert_eq(ea, eb);
    }
}

/* Gets and proofs of a spread of keys (present and absent) at version v:
 * the same answers and bytes from both stores, and each proof verifies. */
static void same_reads(uint64_t v)
{
    static uint8_t pa[MS_SMT_PROOF_MAX], pb[MS_SMT_PROOF_MAX];
    uint8_t root[32];
    cr_assert_eq(ms_smt_root(stores[0].t, v, root, NULL), MS_SMT_OK);
    for (uint32_t i = 0; i < ENTRIES + 40; i += 37) {
        uint8_t k[24], ha[32], hb[32];
        const size_t kl = key_of(k, i);
        int xa = -1, xb = -1;
        size_t la = 0, lb = 0;
        cr_assert_eq(ms_smt_get(stores[0].t, v, k, kl, &xa, ha), MS_SMT_OK);
        cr_assert_eq(ms_smt_get(stores[1].t, v, k, kl, &xb, hb), MS_SMT_OK, "get of key %u", i);
        cr_assert_eq(xa, xb);
        if (xa) cr_assert_eq(memcmp(ha, hb, 32), 0);
        cr_assert_eq(ms_smt_prove(stores[0].t, v, k, kl, pa, sizeof pa, &la, &xa), MS_SMT_OK);
        cr_assert_eq(ms_smt_prove(stores[1].t, v, k, kl, pb, sizeof pb, &lb, &xb), MS_SMT_OK, "proof of key %u", i);
        cr_assert_eq(la, lb);
        cr_assert_eq(memcmp(pa, pb, la), 0, "proof of key %u differs", i);
        cr_assert_eq(ms_smt_verify(root, k, kl, pb, lb, NULL, NULL), MS_SMT_VERIFY_OK);
    }
}

/* The records version v wrote: identical in both stores, all compact. */
static void same_new_records(uint64_t v)
{
    uint8_t prefix[9];
    prefix[0] = MS_SMT_TAG_NODE;
    ms_put_be64(prefix + 1, v);
    recs a = scan_nodes(&stores[0], prefix, sizeof prefix), b = scan_nodes(&stores[1], prefix, sizeof prefix);
    cr_assert_gt(a.n, 0u);
    cr_assert_eq(a.n, b.n, "version %lu: %zu records against %zu", (unsigned long)v, a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        cr_assert_eq(memcmp(a.key[i], b.key[i], NODE_KEY), 0);
        cr_assert_eq(a.len[i], b.len[i]);
        cr_assert_eq(memcmp(a.val[i], b.val[i], a.len[i]), 0, "record %zu of version %lu", i, (unsigned long)v);
        assert_compact(b.val[i], b.len[i]);
    }
    recs_free(&a);
    recs_free(&b);
}

Test(smt_format, applies_write_compact_records_of_the_specified_size)
{
    open_store(&stores[0], MS_SMT_CACHE_DEFAULT);
    uint8_t root[32];
    for (uint32_t r = 0; r < 4; r++) apply_block(&stores[0], r + 1, r, 0, root);
    const uint8_t tag = MS_SMT_TAG_NODE;
    recs all = scan_nodes(&stores[0], &tag, 1);
    cr_assert_gt(all.n, 100u);
    uint64_t leaves = 0;
    for (size_t i = 0; i < all.n; i++) {
        assert_compact(all.val[i], all.len[i]);
        leaves += popcount16(((unsigned)all.val[i][3] << 8) | all.val[i][4]);
    }
    cr_assert_gt(leaves, 0u);
    ms_smt_stats st;
    ms_smt_last_stats(stores[0].t, &st);
    uint8_t prefix[9];
    prefix[0] = MS_SMT_TAG_NODE;
    ms_put_be64(prefix + 1, 4);
    recs last = scan_nodes(&stores[0], prefix, sizeof prefix);
    uint64_t bytes = 0;
    for (size_t i = 0; i < last.n; i++) bytes += last.len[i];
    cr_assert_eq(st.nodes_written, last.n);
    cr_assert_eq(st.bytes_written, bytes, "bytes_written counts the compact records");
    recs_free(&last);
    recs_free(&all);
}

Test(smt_format, full_records_of_an_older_store_still_read_and_update)
{
    open_store(&stores[0], MS_SMT_CACHE_DEFAULT);
    open_store(&stores[1], MS_SMT_CACHE_DEFAULT);
    uint8_t ra[32], rb[32];
    uint64_t v = 0;
    for (uint32_t r = 0; r < 6; r++) {
        v++;
        apply_block(&stores[0], v, r, v > 4 ? v - 4 : 0, ra);
        apply_block(&stores[1], v, r, v > 4 ? v - 4 : 0, rb);
        cr_assert_eq(memcmp(ra, rb, 32), 0);
    }
    const size_t converted = convert_to_full(&stores[1]);
    cr_assert_gt(converted, 100u);
    open_tree(&stores[1], 0);   /* no cache: every node from RocksDB, in format 1 */
    uint64_t latest = 0, oldest = 0;
    cr_assert_eq(ms_smt_info(stores[1].t, &latest, &oldest, NULL), MS_SMT_OK);
    cr_assert_eq(latest, v);
    same_roots(oldest, latest);
    same_reads(latest);
    same_reads(oldest);

    /* Updates over format-1 nodes write compact ones, the same as A's. */
    for (uint32_t r = 6; r < 10; r++) {
        v++;
        apply_block(&stores[0], v, r, v - 4, ra);
        apply_block(&stores[1], v, r, v - 4, rb);
        cr_assert_eq(memcmp(ra, rb, 32), 0, "root of version %lu", (unsigned long)v);
        same_new_records(v);
        ms_smt_stats st;
        ms_smt_last_stats(stores[1].t, &st);
        cr_assert_gt(st.nodes_read, 0u);
        cr_assert_eq(st.nodes_cached, 0u);
    }
    same_reads(v);
    same_reads(v - 3);

    /* A rollback walks the mixed store, and a branch goes on from it. */
    for (unsigned i = 0; i < 2; i++) {
        ms_kv_batch *b = ms_kv_batch_create();
        cr_assert_eq(ms_smt_rollback(stores[i].t, b, v - 2, i ? rb : ra), MS_SMT_OK);
        cr_assert_eq(ms_kv_write(stores[i].kv, b, 0), MS_KV_OK);
        ms_kv_batch_destroy(b);
    }
    cr_assert_eq(memcmp(ra, rb, 32), 0);
    v -= 1;
    apply_block(&stores[0], v, 17, v - 4, ra);
    apply_block(&stores[1], v, 17, v - 4, rb);
    cr_assert_eq(memcmp(ra, rb, 32), 0);
    same_new_records(v);
    same_reads(v);

    /* And with a cache again (full records enter it in either case). */
    open_tree(&stores[1], MS_SMT_CACHE_DEFAULT);
    v++;
    apply_block(&stores[0], v, 18, v - 4, ra);
    apply_block(&stores[1], v, 18, v - 4, rb);
    cr_assert_eq(memcmp(ra, rb, 32), 0);
    same_new_records(v);
}

/* --------------------------------------------------------- damaged records */

typedef struct damage {
    const char *what;
    int leaf;         /* needs a record with a leaf slot (else a node slot) */
    int field;        /* 0 format, 1 truncate, 2 extend, 3 leaf map, 4 valueHash, 5 path, 6 child hash, 7 child version */
} damage;

static const damage DAMAGES[] = {
    {"unknown format 3", 1, 0},
    {"one byte short", 1, 1},
    {"one byte more", 1, 2},
    {"leaf map cleared", 1, 3},
    {"a leaf's valueHash", 1, 4},
    {"the last byte of a leaf's path", 1, 5},
    {"a child's hash", 0, 6},
    {"a child's version above the record's", 0, 7},
};

/* The first slot of the kind wanted; its offset in the compact record. */
static size_t slot_offset(const uint8_t *rec, int leaf)
{
    const unsigned map = ((unsigned)rec[1] << 8) | rec[2], leaves = ((unsigned)rec[3] << 8) | rec[4];
    size_t o = 5;
    for (unsigned sl = 0; sl < 16; sl++) {
        if (!((map >> sl) & 1u)) continue;
        const int is_leaf = (int)((leaves >> sl) & 1u);
        if (is_leaf == leaf) return o;
        o += is_leaf ? 64u : 40u;
    }
    return 0;
}

/* A key whose path runs through the node at nibble depth d with prefix p. */
static uint32_t key_through(unsigned d, const uint8_t prefix[32])
{
    for (uint32_t i = 0; i < ENTRIES; i++) {
        uint8_t k[24], path[32];
        ms_keccak256(path, k, key_of(k, i));
        unsigned ok = 1;
        for (unsigned n = 0; n < d && ok; n++) {
            const unsigned a = n % 2 ? path[n / 2] & 15u : path[n / 2] >> 4;
            const unsigned b = n % 2 ? prefix[n / 2] & 15u : prefix[n / 2] >> 4;
            ok = a == b;
        }
        if (ok) return i;
    }
    cr_assert_fail("no key under the record");
    return 0;
}

/* Stores 0 (the default node cache) and 1 (none) with blocks 1..v each,
 * and the node records store 1's version v wrote: all reachable from its
 * root. */
static recs stores_with_blocks(uint64_t v)
{
    open_store(&stores[0], MS_SMT_CACHE_DEFAULT);
    open_store(&stores[1], 0);
    uint8_t ra[32], rb[32];
    for (uint32_t r = 0; r < v; r++) {
        apply_block(&stores[0], r + 1, r, 0, ra);
        apply_block(&stores[1], r + 1, r, 0, rb);
    }
    uint8_t prefix[9];
    prefix[0] = MS_SMT_TAG_NODE;
    ms_put_be64(prefix + 1, v);
    return scan_nodes(&stores[1], prefix, sizeof prefix);
}

Test(smt_format, damaged_compact_records_are_corrupt_on_every_read_path)
{
    uint8_t ra[32], rb[32];
    const uint64_t v = 3;
    recs mine = stores_with_blocks(v);
    for (size_t di = 0; di < sizeof DAMAGES / sizeof DAMAGES[0]; di++) {
        const damage *dm = &DAMAGES[di];
        size_t pick = mine.n;
        for (size_t i = 0; i < mine.n && pick == mine.n; i++) {
            if (slot_offset(mine.val[i], dm->leaf) != 0) pick = i;
        }
        cr_assert_lt(pick, mine.n, "%s: no record with such a slot", dm->what);
        const uint8_t *key = mine.key[pick];
        const uint8_t *orig = mine.val[pick];
        const size_t olen = mine.len[pick], so = slot_offset(orig, dm->leaf);
        uint8_t bad[REC_MAX + 1];
        memcpy(bad, orig, olen);
        size_t blen = olen;
        switch (dm->field) {
        case 0: bad[0] = 0x03; break;
        case 1: blen--; break;
        case 2: bad[blen++] = 0; break;
        case 3: bad[3] = bad[4] = 0; break;
        case 4: bad[so + 32 + 7] ^= 0x10; break;
        case 5: bad[so + 31] ^= 0x01; break;
        case 6: bad[so + 5] ^= 0x80; break;
        default: ms_put_be64(bad + so + 32, v + 1); break;
        }
        ms_kv_batch *b = ms_kv_batch_create();
        ms_kv_batch_put(b, key, NODE_KEY, bad, blen);
        cr_assert_eq(ms_kv_write(stores[1].kv, b, 0), MS_KV_OK);
        ms_kv_batch_destroy(b);
        open_tree(&stores[1], 0);

        const uint32_t ki = key_through(key[9], key + 10);
        uint8_t k[24], vh[32];
        const size_t kl = key_of(k, ki);
        int present = 0;
        static uint8_t proof[MS_SMT_PROOF_MAX];
        size_t plen = 0;
        cr_assert_eq(ms_smt_get(stores[1].t, v, k, kl, &present, vh), MS_SMT_CORRUPT, "get, %s", dm->what);
        cr_assert_eq(ms_smt_prove(stores[1].t, v, k, kl, proof, sizeof proof, &plen, &present), MS_SMT_CORRUPT,
                     "prove, %s", dm->what);
        /* A block that reaches the record: one op on the key, and a big one
         * (its levels decoded on two threads). */
        for (unsigned big = 0; big < 2; big++) {
            static ms_smt_op ops[BLOCK + 1];
            uint8_t path[32];
            ms_keccak256(path, k, kl);
            size_t n = 0;
            if (big) {
                /* Block 5's updates, but for one on the key itself. */
                const size_t m = block_ops(ops, 5);
                for (size_t j = 0; j < m; j++) {
                    if (memcmp(ops[j].path, path, 32) != 0) ops[n++] = ops[j];
                }
            }
            uint8_t val[3] = {1, 2, 3};
            ms_smt_op_set(&ops[n++], k, kl, val, sizeof val, 0);
            b = ms_kv_batch_create();
            cr_assert_eq(ms_smt_apply(stores[1].t, b, v + 1, ops, n, 0, rb), MS_SMT_CORRUPT, "apply (%s), %s",
                         big ? "big block" : "one op", dm->what);
            ms_kv_batch_destroy(b);
        }
        /* Restored, the store reads and updates as before. */
        b = ms_kv_batch_create();
        ms_kv_batch_put(b, key, NODE_KEY, orig, olen);
        cr_assert_eq(ms_kv_write(stores[1].kv, b, 0), MS_KV_OK);
        ms_kv_batch_destroy(b);
        open_tree(&stores[1], 0);
        cr_assert_eq(ms_smt_get(stores[1].t, v, k, kl, &present, vh), MS_SMT_OK, "restored, %s", dm->what);
        cr_assert_eq(present, 1);
    }
    recs_free(&mine);
    same_roots(1, v);
    same_reads(v);
    apply_block(&stores[0], v + 1, 9, 0, ra);
    apply_block(&stores[1], v + 1, 9, 0, rb);
    cr_assert_eq(memcmp(ra, rb, 32), 0);
    same_new_records(v + 1);
}

/* A node record its parent names but RocksDB lacks fails a big block that
 * reaches it (whose levels are read and decoded in two halves on two
 * threads) as corrupt, whichever record of the last version it is; the
 * store, restored, updates as before. */
Test(smt_format, a_missing_node_record_is_corrupt_in_a_big_block)
{
    uint8_t ra[32], rb[32];
    const uint64_t v = 3;
    recs mine = stores_with_blocks(v);
    cr_assert_gt(mine.n, 64u, "a block of %u ops rewrites many records", BLOCK);
    const size_t step = mine.n / 40 + 1;
    for (size_t i = 0; i < mine.n; i += step) {
        const uint8_t *key = mine.key[i];
        ms_kv_batch *b = ms_kv_batch_create();
        ms_kv_batch_delete(b, key, NODE_KEY);
        cr_assert_eq(ms_kv_write(stores[1].kv, b, 0), MS_KV_OK);
        ms_kv_batch_destroy(b);
        open_tree(&stores[1], 0);
        /* Block 5's updates, and one on a key under the missing record. */
        static ms_smt_op ops[BLOCK + 1];
        uint8_t k[24], path[32];
        const size_t kl = key_of(k, key_through(key[9], key + 10));
        ms_keccak256(path, k, kl);
        size_t n = 0;
        const size_t m = block_ops(ops, 5);
        for (size_t j = 0; j < m; j++) {
            if (memcmp(ops[j].path, path, 32) != 0) ops[n++] = ops[j];
        }
        const uint8_t val[3] = {4, 5, 6};
        ms_smt_op_set(&ops[n++], k, kl, val, sizeof val, 0);
        b = ms_kv_batch_create();
        cr_assert_eq(ms_smt_apply(stores[1].t, b, v + 1, ops, n, 0, rb), MS_SMT_CORRUPT,
                     "record %zu of %zu (depth %u) missing", i, mine.n, (unsigned)key[9]);
        ms_kv_batch_destroy(b);
        b = ms_kv_batch_create();
        ms_kv_batch_put(b, key, NODE_KEY, mine.val[i], mine.len[i]);
        cr_assert_eq(ms_kv_write(stores[1].kv, b, 0), MS_KV_OK);
        ms_kv_batch_destroy(b);
    }
    recs_free(&mine);
    open_tree(&stores[1], 0);
    apply_block(&stores[0], v + 1, 9, 0, ra);
    apply_block(&stores[1], v + 1, 9, 0, rb);
    cr_assert_eq(memcmp(ra, rb, 32), 0);
}

/* The node cache keeps records in slab blocks whatever its size: a cache
 * of 16 nodes (less than one slab chunk at 2 KiB each) still serves the
 * top of the tree to the next block. */
Test(smt_format, a_small_node_cache_still_caches)
{
    open_store(&stores[0], 16);
    uint8_t root[32];
    apply_block(&stores[0], 1, 0, 0, root);
    apply_block(&stores[0], 2, 1, 0, root);
    ms_smt_stats st;
    ms_smt_last_stats(stores[0].t, &st);
    cr_assert_gt(st.nodes_cached, 0u, "the second block found the root and its children in the cache");
    cr_assert_gt(st.nodes_read, 0u, "and read the rest");
}
