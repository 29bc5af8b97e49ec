/* Rebuild of the tree versions a crash lost (spec/storage.md [ST-24]).
 *
 * A commit writes the block's state, undo record and head in RocksDB's
 * log, synced, and the tree's records outside it: a crash can take the
 * tree's newest versions (never the head, never a version without the ones
 * before it), leaving the tree at version `from` below the committed height
 * H. Every lost block h still has its undo record, which names each key the
 * block wrote and the value it held before. The value after block h is the
 * value before the next lost block that wrote the key, or, when no later one
 * did, the committed value. Those are exactly the block's tree updates, so
 * applying them version by version, with the pruning each commit did,
 * writes the same records the commits wrote and reaches the same roots,
 * which each block's logged batch also recorded (`00 04 || h`). */
#include <stdlib.h>
#include <string.h>

#include "memsync.h"
#include "storage/smt.h"
#include "storage/state.h"
#include "storage/undo.h"

/* A lost block: its height and undo record (malloc'd). */
typedef struct lost_block {
    uint64_t height;
    uint8_t *rec;
    size_t len;
} lost_block;

/* One key a lost block wrote, with the value it held before the block. */
typedef struct lost_write {
    const uint8_t *key;     /* into the block's undo record */
    size_t klen;
    size_t block;           /* index into the blocks, ascending heights */
    int present_before;
    uint8_t vh_before[32];  /* keccak256 of that value (zero when absent) */
} lost_write;

static int cmp_key(const lost_write *x, const lost_write *y)
{
    const size_t n = x->klen < y->klen ? x->klen : y->klen;
    const int c = memcmp(x->key, y->key, n);
    if (c != 0) return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* By key, then by block: a key's writes in the order the blocks made them. */
static int cmp_write(const void *a, const void *b)
{
    const lost_write *x = a, *y = b;
    const int c = cmp_key(x, y);
    if (c != 0) return c;
    return x->block < y->block ? -1 : x->block > y->block;
}

/* The lost blocks, oldest first: the undo records from st->height down
 * through each one's `prev` to `from`. */
static int read_lost(ms_state *st, uint64_t from, lost_block **out, size_t *nout)
{
    lost_block *v = NULL;
    size_t n = 0, cap = 0;
    int rc = MS_OK;
    for (uint64_t h = st->height; rc == MS_OK && h != from;) {
        if (h < from) {   /* the chain passed the tree's latest version */
            rc = MS_ERR_CORRUPT;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            lost_block *g = realloc(v, cap * sizeof *g);
            if (g == NULL) {
                rc = MS_ERR_NOMEM;
                break;
            }
            v = g;
        }
        ms_key k;
        ms_key_undo(&k, h);
        lost_block *lb = &v[n];
        lb->height = h;
        lb->rec = NULL;
        const ms_kv_status s = ms_kv_get(st->kv, &lb->rec, &lb->len, k.bytes, k.len);
        if (s != MS_KV_OK) {
            rc = s == MS_KV_NOT_FOUND ? MS_ERR_CORRUPT : ms_rc_from_kv(s);
            break;
        }
        n++;
        ms_undo_reader r;
        if (!ms_undo_open(&r, lb->rec, lb->len) || r.prev >= h) rc = MS_ERR_CORRUPT;
        h = r.prev;
    }
    for (size_t i = 0; i < n / 2; i++) {
        const lost_block t = v[i];
        v[i] = v[n - 1 - i];
        v[n - 1 - i] = t;
    }
    *out = v;
    *nout = n;
    return rc;
}

/* Every write of every lost block, meta keys left out as commit's tree
 * update leaves them out. Out: *out (malloc'd), *nout. */
static int collect_writes(const lost_block *blocks, size_t nblocks, lost_write **out, size_t *nout)
{
    size_t total = 0;
    for (size_t i = 0; i < nblocks; i++) {
        ms_undo_reader r;
        /* An entry takes 2 bytes at least (klen, present): a count beyond
         * that is damage, not a size to allocate for. */
        if (!ms_undo_open(&r, blocks[i].rec, blocks[i].len) || r.left > blocks[i].len / 2) return MS_ERR_CORRUPT;
        total += r.left;
    }
    lost_write *w = malloc((total ? total : 1) * sizeof *w);
    if (w == NULL) return MS_ERR_NOMEM;
    size_t n = 0;
    int rc = MS_OK;
    for (size_t i = 0; i < nblocks && rc == MS_OK; i++) {
        ms_undo_reader r;
        ms_undo_entry e;
        (void)ms_undo_open(&r, blocks[i].rec, blocks[i].len);
        int more;
        while ((more = ms_undo_next(&r, &e)) > 0) {
            if (e.klen == 0 || e.key[0] == MS_TAG_META) continue;
            ms_smt_op op;
            ms_smt_op_set(&op, e.key, e.klen, e.val, e.vlen, !e.present);
            w[n] = (lost_write){e.key, e.klen, i, e.present, {0}};
            memcpy(w[n].vh_before, op.value_hash, 32);
            n++;
        }
        if (more < 0) rc = MS_ERR_CORRUPT;
    }
    *out = w;
    *nout = n;
    return rc;
}

/* The tree update of each lost block: ops[first[i] .. first[i + 1]) for
 * block i. Out: *ops, *first (malloc'd). */
static int block_ops(ms_state *st, lost_write *w, size_t n, size_t nblocks, ms_smt_op **ops_out, size_t **first_out)
{
    ms_smt_op *ops = malloc((n ? n : 1) * sizeof *ops);
    size_t *first = calloc(nblocks + 1, sizeof *first);
    size_t *fill = calloc(nblocks + 1, sizeof *fill);
    int rc = (ops == NULL || first == NULL || fill == NULL) ? MS_ERR_NOMEM : MS_OK;
    if (rc == MS_OK) {
        qsort(w, n, sizeof *w, cmp_write);
        for (size_t i = 0; i < n; i++) first[w[i].block + 1]++;
        for (size_t i = 0; i < nblocks; i++) first[i + 1] += first[i];
        for (size_t i = 0; i < nblocks; i++) fill[i] = first[i];
    }
    for (size_t i = 0; i < n && rc == MS_OK; i++) {
        ms_smt_op *op = &ops[fill[w[i].block]++];
        if (i + 1 < n && cmp_key(&w[i], &w[i + 1]) == 0) {
            /* The value after this block is the one the next lost block
             * that wrote the key found. */
            ms_smt_op_set(op, w[i].key, w[i].klen, NULL, 0, !w[i + 1].present_before);
            memcpy(op->value_hash, w[i + 1].vh_before, 32);
            continue;
        }
        uint8_t *val = NULL;
        size_t vlen = 0;
        const ms_kv_status s = ms_kv_get(st->kv, &val, &vlen, w[i].key, w[i].klen);
        if (s != MS_KV_OK && s != MS_KV_NOT_FOUND) rc = ms_rc_from_kv(s);
        else ms_smt_op_set(op, w[i].key, w[i].klen, val, vlen, s == MS_KV_NOT_FOUND);
        free(val);
    }
    free(fill);
    *ops_out = ops;
    *first_out = first;
    return rc;
}

/* The rebuilt root of version h against `00 04 || h`, the root its block
 * committed. Returns MS_OK, MS_ERR_CORRUPT (absent, malformed or another
 * root) or an I/O ms_rc. */
static int check_root(ms_state *st, uint64_t h, const uint8_t root[32])
{
    ms_key k;
    uint8_t *want = NULL;
    size_t len = 0;
    ms_key_root_at(&k, h);
    const ms_kv_status s = ms_kv_get(st->kv, &want, &len, k.bytes, k.len);
    int rc = s == MS_KV_NOT_FOUND ? MS_ERR_CORRUPT : ms_rc_from_kv(s);
    if (rc == MS_OK && (len != 32 || memcmp(want, root, 32) != 0)) rc = MS_ERR_CORRUPT;
    free(want);
    return rc;
}

int ms_state_rebuild_tree(ms_state *st, uint64_t from, uint32_t reorg_depth)
{
    lost_block *blocks = NULL;
    size_t nblocks = 0, nw = 0;
    lost_write *w = NULL;
    ms_smt_op *ops = NULL;
    size_t *first = NULL;
    int rc = read_lost(st, from, &blocks, &nblocks);
    if (rc == MS_OK && nblocks == 0) rc = MS_ERR_CORRUPT;   /* called with from == height */
    if (rc == MS_OK) rc = collect_writes(blocks, nblocks, &w, &nw);
    if (rc == MS_OK) rc = block_ops(st, w, nw, nblocks, &ops, &first);
    uint8_t root[32];
    ms_kv_batch *b = rc == MS_OK ? ms_kv_batch_create() : NULL;
    if (rc == MS_OK && b == NULL) rc = MS_ERR_NOMEM;
    /* Version by version: an update reads the tree's records from the
     * store, so each version is written before the next one is built, and
     * only once its root is the one its block committed: a damaged undo
     * record never leaves a wrong version on disk. */
    for (size_t i = 0; i < nblocks && rc == MS_OK; i++) {
        const uint64_t h = blocks[i].height;
        const uint64_t keep_from = h > reorg_depth ? h - reorg_depth : 0;
        rc = ms_rc_from_smt(ms_smt_apply(st->smt, b, h, ops + first[i], first[i + 1] - first[i], keep_from, root));
        if (rc == MS_ERR_ARGUMENT) rc = MS_ERR_CORRUPT;   /* a key twice in one undo record */
        if (rc == MS_OK) rc = check_root(st, h, root);
        if (rc == MS_OK) rc = ms_rc_from_kv(ms_kv_write(st->kv, b, 1));
        ms_kv_batch_clear(b);
    }
    if (rc == MS_OK && memcmp(root, st->root, 32) != 0) rc = MS_ERR_CORRUPT;
    ms_kv_batch_destroy(b);
    free(ops);
    free(first);
    free(w);
    for (size_t i = 0; i < nblocks; i++) free(blocks[i].rec);
    free(blocks);
    return rc;
}
