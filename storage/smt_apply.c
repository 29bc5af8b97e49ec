/* The update of a block (ms_smt_apply): see storage/smt.h and spec/state.md
 * "Operations". Three phases, so that reads are batched and the hashing can
 * use a second core, while the result stays exactly that of one sequential
 * walk of the sorted updates:
 *
 * 1. Read: level by level from the root, the nodes the updates pass
 *    through come from the node cache or, for those it lacks, from RocksDB
 *    in one batched read per level (a 1,000-write block on a 1M-entry tree
 *    needs some 500 records below the cached levels: one MultiGet instead
 *    of 500 lookups). Each is checked against the hash its parent holds and
 *    decoded once. A big level is split in two halves, each read (its own
 *    batched call) and decoded on a thread of its own; the cache's lookups
 *    and updates stay on the calling thread.
 * 2. Hash: the leaf hashes of the puts first, all together; then one walk
 *    rebuilds the subtrees' structure (slots, compaction, stale nodes) and
 *    leaves each node it rewrites pending; then the pending nodes are
 *    hashed deepest first, all those of one depth together, one heap level
 *    at a time, so that independent hashes share the SIMD lanes of
 *    abi/keccak_batch.h (8 per Keccak permutation with AVX-512). With at
 *    least parallel_min updates, each slot of the root that has updates is
 *    a job, and two threads (the calling one and one started for the
 *    block) take the jobs in turn from a shared counter. A job writes only
 *    its own lists (new records, stale nodes, counters), the nodes it
 *    creates and the decoded nodes of its own subtree; the node cache, the
 *    batch and RocksDB are not touched in this phase.
 * 3. Write (calling thread): the new records go to the batch in key order
 *    (RocksDB's memtable inserts keys that arrive in ascending order
 *    without searching its skip list again); then the version record, the
 *    stale list, pruning and the meta record. The node cache's part (stale
 *    nodes out, new records in) is left to ms_smt_settle, which a commit
 *    runs on a second thread while RocksDB writes the batch.
 *
 * Determinism: the jobs' stale lists are joined in slot order, then the
 * root's, which is the sequential walk's post-order, and the records are
 * sorted by key: the stored bytes depend neither on which thread ran which
 * job nor on timing. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "abi/keccak_batch.h"
#include "crypto/smt_verify.h"
#include "storage/records.h"
#include "storage/smt.h"
#include "storage/smt_internal.h"

/* A node the block's updates pass through, read in phase 1. Its first
 * update's index identifies it within its depth. */
typedef struct pre_node {
    size_t lo;
    smt_node n;
} pre_node;

/* A node record written by the block, encoded by the hashing thread into
 * its record arena and copied to the batch and the node cache in phase 3. */
typedef struct node_out {
    uint8_t key[NODE_KEY_LEN];
    uint8_t hash[32];
    uint8_t *rec;         /* the full record, in its worker's arena */
    size_t len;
} node_out;

/* A node whose slots are final and whose hash is not computed yet: phase
 * 2 first rebuilds the structure of its subtrees, then hashes the pending
 * nodes deepest first, all of one depth together (hash_pending). */
typedef struct pending_node {
    smt_node *n;
    uint8_t *dest;               /* where the node's hash goes: its parent's slot hash, or the root's */
    const uint8_t *path;         /* a path through the node (its first update's) */
    uint32_t dirty;              /* the slots to rehash (all for a new node) */
    unsigned depth;
} pending_node;

/* Nodes the block creates (from an empty subtree or a leaf), allocated in
 * chunks that stay put until the apply ends, since a pending node is
 * hashed after its subtree's walk has returned. */
#define NEW_NODES_PER_CHUNK 64u

/* Bytes of a worker's record arena chunk: about 80 records. Chunks stay
 * with the worker for the next apply (worker_trim), and one is below
 * glibc's mmap threshold (128 KiB) so that those a trim gives back are
 * reused from the heap rather than mapped again page fault by page fault. */
#define RECORD_ARENA_CHUNK (60u * 1024u)

/* Chunks of one size that a worker keeps from apply to apply: `used` of
 * them taken in this apply, `held` allocated. */
typedef struct chunk_list {
    void **p;
    size_t used, held;
} chunk_list;

/* The next chunk of `bytes` bytes (a held one when there is one), or NULL
 * when out of memory. */
static void *chunk_next(chunk_list *l, size_t bytes)
{
    if (l->used == l->held) {
        void **p = realloc(l->p, (l->held + 1) * sizeof *p);
        if (p == NULL) return NULL;
        l->p = p;
        p[l->held] = malloc(bytes);
        if (p[l->held] == NULL) return NULL;
        l->held++;
    }
    return l->p[l->used++];
}

static void chunk_list_free(chunk_list *l)
{
    for (size_t i = 0; i < l->held; i++) free(l->p[i]);
    free(l->p);
    memset(l, 0, sizeof *l);
}

typedef struct worker {
    /* Shared, read-only in phase 2 (except each thread's own pre nodes). */
    const ms_smt_op *ops;
    const uint8_t (*leaf)[32];   /* leaf[i]: leafHash of ops[i] when a put (hash_leaves) */
    ms_keccak_impl keccak;       /* the handle's (ms_smt_set_keccak) */
    uint64_t version;
    pre_node *const *pre;        /* pre[d]: the nodes of depth d, by first update */
    const size_t *npre;          /* npre[d] of them */
    unsigned nlevels;
    /* Own, kept for the next apply (the handle's smt_scratch): counts
     * restart at zero, allocations stay, so that a block does not fault
     * its memory in again after glibc gave the last block's back. */
    chunk_list nodes;            /* new nodes, NEW_NODES_PER_CHUNK a chunk */
    size_t nodes_used;           /* nodes used in the last chunk */
    pending_node *pend;
    size_t npend, cappend;
    smt_hash_buf hb;
    uint8_t *stale;              /* STALE_ENTRY_LEN bytes each, in walk order */
    size_t nstale, capstale;
    node_out *outs;
    size_t nouts, capouts;
    chunk_list arena;            /* the outs' records, RECORD_ARENA_CHUNK bytes a chunk */
    size_t arena_used;           /* bytes used in the last chunk */
    int64_t delta;               /* entries added minus removed */
    uint64_t node_hashes;
    /* As a job of the split root (hash_tree): its result. */
    uint32_t dirty;
    ms_smt_status status;
} worker;

static void worker_init(worker *w, const ms_smt_op *ops, const uint8_t (*leaf)[32], uint64_t version,
                        pre_node *const *pre, const size_t *npre, unsigned nlevels)
{
    const worker kept = *w;
    memset(w, 0, sizeof *w);
    w->nodes = kept.nodes;
    w->nodes.used = 0;
    w->pend = kept.pend;
    w->cappend = kept.cappend;
    w->hb = kept.hb;
    w->stale = kept.stale;
    w->capstale = kept.capstale;
    w->outs = kept.outs;
    w->capouts = kept.capouts;
    w->arena = kept.arena;
    w->arena.used = 0;
    w->ops = ops;
    w->leaf = leaf;
    w->version = version;
    w->pre = pre;
    w->npre = npre;
    w->nlevels = nlevels;
}

/* Free a worker's allocations (it is then as a zeroed one). */
static void worker_free(worker *w)
{
    chunk_list_free(&w->arena);
    chunk_list_free(&w->nodes);
    free(w->pend);
    smt_hash_buf_free(&w->hb);
    free(w->stale);
    free(w->outs);
    memset(w, 0, sizeof *w);
}

/* Most bytes a worker keeps for the next apply: what a 10,000-write
 * block's job uses (a sixteenth of the block) several times over; a
 * bigger one, from a rare huge block, gives its memory back. */
#define WORKER_KEEP ((size_t)8 << 20)

static void worker_trim(worker *w)
{
    const size_t held = w->nodes.held * NEW_NODES_PER_CHUNK * sizeof(smt_node) + w->arena.held * RECORD_ARENA_CHUNK +
                        w->cappend * sizeof(pending_node) + w->hb.cap * (65u + 2u * sizeof(void *)) +
                        w->capstale * STALE_ENTRY_LEN + w->capouts * sizeof(node_out);
    if (held > WORKER_KEEP) worker_free(w);
}

/* A zeroed node for the block to build, or NULL when out of memory. */
static smt_node *new_node(worker *w)
{
    if (w->nodes.used == 0 || w->nodes_used == NEW_NODES_PER_CHUNK) {
        if (chunk_next(&w->nodes, NEW_NODES_PER_CHUNK * sizeof(smt_node)) == NULL) return NULL;
        w->nodes_used = 0;
    }
    smt_node *n = (smt_node *)w->nodes.p[w->nodes.used - 1] + w->nodes_used++;
    smt_node_clear(n);
    return n;
}

static ms_smt_status add_pending(worker *w, smt_node *n, unsigned depth, const uint8_t *path, uint32_t dirty)
{
    if (w->npend == w->cappend) {
        const size_t ncap = w->cappend ? w->cappend * 2 : 64;
        pending_node *p = realloc(w->pend, ncap * sizeof *p);
        if (p == NULL) return MS_SMT_NOMEM;
        w->pend = p;
        w->cappend = ncap;
    }
    pending_node *q = &w->pend[w->npend++];
    q->n = n;
    q->dest = NULL;
    q->path = path;
    q->dirty = dirty;
    q->depth = depth;
    return MS_SMT_OK;
}

/* The leaf hashes of the puts among ops[lo, hi), batched (SIMD lanes), into
 * leaf[i]: every put becomes exactly one leaf of the new tree, so this is
 * the hash the sequential walk would compute when it places the leaf. */
static ms_smt_status hash_leaves(worker *w, uint8_t (*leaf)[32], size_t lo, size_t hi)
{
    if (!smt_hash_buf_room(&w->hb, hi - lo)) return MS_SMT_NOMEM;
    size_t m = 0;
    for (size_t i = lo; i < hi; i++) {
        if (w->ops[i].deleted) continue;
        uint8_t *img = w->hb.img + m * 65u;
        ms_smt_leaf_preimage(img, w->ops[i].path, w->ops[i].value_hash);
        w->hb.in[m] = img;
        w->hb.out[m] = leaf[i];
        m++;
    }
    if (!ms_keccak256_batch_with(w->keccak, w->hb.out, w->hb.in, 65u, m)) return MS_SMT_ARGUMENT;
    w->node_hashes += m;
    return MS_SMT_OK;
}

static ms_smt_status add_stale(worker *w, uint64_t version, unsigned depth, const uint8_t path[32])
{
    if (w->nstale == w->capstale) {
        const size_t ncap = w->capstale ? w->capstale * 2 : 64;
        uint8_t *p = realloc(w->stale, ncap * STALE_ENTRY_LEN);
        if (p == NULL) return MS_SMT_NOMEM;
        w->stale = p;
        w->capstale = ncap;
    }
    smt_node_entry(w->stale + w->nstale * STALE_ENTRY_LEN, version, depth, path);
    w->nstale++;
    return MS_SMT_OK;
}

static ms_smt_status add_record(worker *w, unsigned depth, const uint8_t path[32], const smt_node *n,
                                const uint8_t hash32[32])
{
    if (w->nouts == w->capouts) {
        const size_t ncap = w->capouts ? w->capouts * 2 : 64;
        node_out *p = realloc(w->outs, ncap * sizeof *p);
        if (p == NULL) return MS_SMT_NOMEM;
        w->outs = p;
        w->capouts = ncap;
    }
    /* Records go one after another into large chunks rather than one
     * malloc each (which the cache would free blocks later, on the other
     * thread). */
    if (w->arena.used == 0 || RECORD_ARENA_CHUNK - w->arena_used < NODE_MAX_BYTES) {
        if (chunk_next(&w->arena, RECORD_ARENA_CHUNK) == NULL) return MS_SMT_NOMEM;
        w->arena_used = 0;
    }
    uint8_t *rec = (uint8_t *)w->arena.p[w->arena.used - 1] + w->arena_used;
    const size_t len = smt_node_encode(rec, n);
    w->arena_used += len;
    node_out *o = &w->outs[w->nouts++];
    smt_node_key(o->key, w->version, depth, path);
    memcpy(o->hash, hash32, 32);
    o->rec = rec;
    o->len = len;
    return MS_SMT_OK;
}

/* The pre node of depth `depth` whose first update is lo, or NULL. */
static pre_node *find_pre(const worker *w, unsigned depth, size_t lo)
{
    if (depth >= w->nlevels) return NULL;
    const pre_node *v = w->pre[depth];
    size_t a = 0, b = w->npre[depth];
    while (a < b) {
        const size_t m = a + (b - a) / 2;
        if (v[m].lo < lo) a = m + 1;
        else b = m;
    }
    return a < w->npre[depth] && v[a].lo == lo ? &w->pre[depth][a] : NULL;
}

/* The end of the run of ops from i (< hi) whose paths share nibble `depth`
 * with ops[i]: the updates under one slot of a node (ops are sorted). */
static size_t slot_end(const ms_smt_op *ops, size_t i, size_t hi, unsigned depth)
{
    const unsigned slot = smt_nib(ops[i].path, depth);
    size_t j = i + 1;
    while (j < hi && smt_nib(ops[j].path, depth) == slot) j++;
    return j;
}

static ms_smt_status upd(worker *w, unsigned depth, const smt_ref *old, size_t lo, size_t hi, smt_ref *out);

/* Update the slots of n (nibble depth `depth`) for ops [lo, hi), whose
 * paths all lie under n. Out: *dirty gets the bits of the changed slots. */
static ms_smt_status upd_slots(worker *w, smt_node *n, unsigned depth, size_t lo, size_t hi, uint32_t *dirty)
{
    size_t i = lo;
    while (i < hi) {
        const unsigned slot = smt_nib(w->ops[i].path, depth);
        const size_t j = slot_end(w->ops, i, hi, depth);
        smt_ref cur, nc;
        smt_slot_get(n, slot, &cur);
        const ms_smt_status s = upd(w, depth + 1, &cur, i, j, &nc);
        if (s != MS_SMT_OK) return s;
        if (!smt_ref_same(&nc, &cur)) {
            smt_slot_set(n, slot, &nc);
            *dirty |= 1u << slot;
            /* A node this block wrote is the last one its walk left pending. */
            if (nc.kind == K_NODE && nc.version == w->version) w->pend[w->npend - 1].dest = n->hash[slot];
        }
        i = j;
    }
    return MS_SMT_OK;
}

/* n's slots are final: compact it, or hash and record it. */
static ms_smt_status finish(worker *w, smt_node *n, unsigned depth, const smt_ref *old, uint32_t dirty,
                            const uint8_t path[32], smt_ref *out)
{
    const int had_node = old->kind == K_NODE;
    if (had_node && dirty == 0) {
        *out = *old;
        return MS_SMT_OK;
    }
    unsigned count = 0;
    int last = -1;
    for (unsigned k = 0; k < 16; k++) {
        if (n->kind[k] != K_EMPTY) {
            count++;
            last = (int)k;
        }
    }
    if (count == 0) {
        smt_ref_empty(out);
    } else if (count == 1 && n->kind[last] == K_LEAF) {
        smt_slot_get(n, (unsigned)last, out);
    } else {
        /* Hashed, and recorded, by hash_pending once its subtrees are. */
        memset(out, 0, sizeof *out);
        out->kind = K_NODE;
        out->version = w->version;
        const ms_smt_status s = add_pending(w, n, depth, path, had_node ? dirty : 0xffffu);
        if (s != MS_SMT_OK) return s;
    }
    return had_node ? add_stale(w, old->version, depth, path) : MS_SMT_OK;
}

/* The subtree at nibble depth `depth` on the paths of ops [lo, hi), which
 * was `old`, after those ops: written to out. */
static ms_smt_status upd(worker *w, unsigned depth, const smt_ref *old, size_t lo, size_t hi, smt_ref *out)
{
    if (lo == hi) {
        *out = *old;
        return MS_SMT_OK;
    }
    if (depth > MAX_NIBBLE_DEPTH + 1) return MS_SMT_CORRUPT;   /* distinct paths: unreachable */
    const ms_smt_op *ops = w->ops;
    smt_node *n;
    if (old->kind == K_NODE) {
        pre_node *p = find_pre(w, depth, lo);
        if (p == NULL) return MS_SMT_CORRUPT;   /* phase 1 reads every node on the paths */
        n = &p->n;
    } else {
        /* An empty subtree or a single leaf: count the leaves it will hold. */
        size_t puts = 0;
        int old_kept = old->kind == K_LEAF;
        const ms_smt_op *single = NULL;
        for (size_t i = lo; i < hi; i++) {
            if (!ops[i].deleted) {
                puts++;
                single = &ops[i];
            }
            if (old->kind == K_LEAF && memcmp(ops[i].path, old->path, 32) == 0) old_kept = 0;
        }
        const size_t cnt = puts + (size_t)old_kept;
        if (cnt <= 1) {
            w->delta += (int64_t)cnt - (old->kind == K_LEAF ? 1 : 0);
            if (cnt == 0) {
                smt_ref_empty(out);
            } else if (old_kept) {
                *out = *old;
            } else {
                smt_ref_leaf(out, single->path, single->value_hash, w->leaf[single - ops]);
            }
            return MS_SMT_OK;
        }
        if (depth > MAX_NIBBLE_DEPTH) return MS_SMT_CORRUPT;
        n = new_node(w);
        if (n == NULL) return MS_SMT_NOMEM;
        if (old->kind == K_LEAF) smt_slot_set(n, smt_nib(old->path, depth), old);
    }
    uint32_t dirty = 0;
    const ms_smt_status s = upd_slots(w, n, depth, lo, hi, &dirty);
    if (s != MS_SMT_OK) return s;
    return finish(w, n, depth, old, dirty, ops[lo].path, out);
}

/* The pending nodes of w, deepest first, each depth's together (their
 * children are final by then): hashed, their hashes put where their
 * parents (or the root) hold them, and recorded. */
static ms_smt_status hash_pending(worker *w)
{
    if (w->npend == 0) return MS_SMT_OK;
    size_t count[MAX_NIBBLE_DEPTH + 2] = {0};
    for (size_t k = 0; k < w->npend; k++) {
        if (w->pend[k].dest == NULL || w->pend[k].depth > MAX_NIBBLE_DEPTH) return MS_SMT_CORRUPT;
        count[w->pend[k].depth]++;
    }
    smt_node **nodes = malloc(w->npend * sizeof *nodes);
    uint32_t *dirty = malloc(w->npend * sizeof *dirty);
    pending_node **order = malloc(w->npend * sizeof *order);
    ms_smt_status s = nodes && dirty && order ? MS_SMT_OK : MS_SMT_NOMEM;
    for (int d = MAX_NIBBLE_DEPTH; d >= 0 && s == MS_SMT_OK; d--) {
        if (count[d] == 0) continue;
        size_t m = 0;
        for (size_t k = 0; k < w->npend; k++) {
            if (w->pend[k].depth != (unsigned)d) continue;
            order[m] = &w->pend[k];
            nodes[m] = w->pend[k].n;
            dirty[m] = w->pend[k].dirty;
            m++;
        }
        const long h = smt_node_rehash_many(nodes, dirty, m, &w->hb, w->keccak);
        if (h < 0) {
            s = MS_SMT_NOMEM;
            break;
        }
        w->node_hashes += (uint64_t)h;
        for (size_t j = 0; j < m && s == MS_SMT_OK; j++) {
            const pending_node *q = order[j];
            memcpy(q->dest, q->n->ihash[1], 32);
            s = add_record(w, (unsigned)d, q->path, q->n, q->n->ihash[1]);
        }
    }
    free(nodes);
    free(dirty);
    free(order);
    return s;
}

/* ------------------------------------------------------------ phase 1: read */

typedef struct want {
    smt_ref ref;
    size_t lo, hi;
} want;

/* Largest buffer of decoded nodes of one depth kept between applies: 64
 * MiB (about 30,000 nodes, what a 10,000-write block passes through at one
 * depth). Kept buffers spare each block the page faults of fresh memory
 * (16 MiB made a 10,000-write block on 200k entries fault its 20 MiB of
 * depth 4 in again every block: a tenth of the tree part); bigger ones,
 * from rare huge blocks, are given back. */
#define PRE_LEVEL_KEEP ((size_t)64 << 20)

typedef struct reader {
    ms_smt *t;
    const ms_smt_op *ops;
    pre_node *pre[MAX_NIBBLE_DEPTH + 1];   /* t->pre, typed */
    size_t npre[MAX_NIBBLE_DEPTH + 1];
    unsigned nlevels;
} reader;

/* *buf with room for n bytes (its contents not kept), or NULL when out of
 * memory. A quarter more than asked: a growing tree passes through a few
 * more nodes each block, and a block's stale and record lists vary a
 * little from block to block; each new buffer is fresh memory to fault in
 * (a realloc would also copy what is not kept). */
static void *scratch_room(void **buf, size_t *cap, size_t n)
{
    if (*cap >= n && *buf != NULL) return *buf;
    const size_t bytes = n + n / 4;
    free(*buf);
    *buf = malloc(bytes ? bytes : 1);
    *cap = *buf == NULL ? 0 : bytes;
    return *buf;
}

/* Room for n nodes at depth d (the previous contents are not kept). */
static ms_smt_status level_room(reader *r, unsigned d, size_t n)
{
    ms_smt *t = r->t;
    if (t->pre_cap[d] >= n) return MS_SMT_OK;
    size_t bytes = t->pre_cap[d] * sizeof(pre_node);
    r->pre[d] = scratch_room(&t->pre[d], &bytes, n * sizeof(pre_node));
    t->pre_cap[d] = bytes / sizeof(pre_node);
    return r->pre[d] == NULL ? MS_SMT_NOMEM : MS_SMT_OK;
}

static void levels_trim(ms_smt *t)
{
    for (unsigned d = 0; d <= MAX_NIBBLE_DEPTH; d++) {
        if (t->pre_cap[d] * sizeof(pre_node) <= PRE_LEVEL_KEEP) continue;
        free(t->pre[d]);
        t->pre[d] = NULL;
        t->pre_cap[d] = 0;
    }
}

/* Half of a level's records: the ones it lacks from the cache read from
 * RocksDB in one batched call, then all of them decoded: cached ones (full
 * records, verified when they entered the cache) or read (checked here
 * against the hash their parent holds: one keccak for a full record, its
 * leaf and inner hashes for a compact one). */
typedef struct decode_job {
    const ms_kv *kv;
    smt_decode_item *items;
    size_t lo, hi;        /* the items to decode */
    const size_t *miss;   /* misses [m_lo, m_hi): indices into items, in [lo, hi) */
    size_t m_lo, m_hi;
    const uint8_t **kp;   /* per miss: its key, length, value, length, found */
    size_t *kl;
    uint8_t **vals;
    size_t *vl;
    int *found;
    unsigned d;
    ms_keccak_impl impl;
    ms_smt_status s;      /* Out */
    long hashes;          /* Out: keccak256 calls, -1 when out of memory */
} decode_job;

static void decode_range(decode_job *j)
{
    j->hashes = 0;
    j->s = MS_SMT_OK;
    const size_t nm = j->m_hi - j->m_lo;
    if (nm > 0) {
        j->s = smt_from_kv(
            ms_kv_multi_get(j->kv, nm, j->kp + j->m_lo, j->kl + j->m_lo, j->vals + j->m_lo, j->vl + j->m_lo,
                            j->found + j->m_lo));
    }
    for (size_t m = j->m_lo; m < j->m_hi && j->s == MS_SMT_OK; m++) {
        if (!j->found[m]) j->s = MS_SMT_CORRUPT;   /* a node its parent names is missing */
        smt_decode_item *it = &j->items[j->miss[m]];
        it->rec = j->vals[m];
        it->len = j->vl[m];
        it->verified = 0;
    }
    if (j->s != MS_SMT_OK) return;
    smt_hash_buf hb = {0};
    j->hashes = smt_node_decode_many(j->items + j->lo, j->hi - j->lo, j->d, &hb, j->impl);
    smt_hash_buf_free(&hb);
}

static void *decode_thread(void *arg)
{
    decode_range(arg);
    return NULL;
}

/* How many keys ahead a loop over the node cache asks for its bucket (and
 * half as many for the bucket's first entry). */
#define PREFETCH_AHEAD 8u

/* In a loop at key i of n cache keys (STALE_ENTRY_LEN bytes each, `stride`
 * bytes apart from keys), the prefetches for the keys ahead. */
static void prefetch_ahead(const ms_smt *t, const uint8_t *keys, size_t stride, size_t i, size_t n)
{
    if (i + PREFETCH_AHEAD < n) smt_cache_prefetch(t, keys + (i + PREFETCH_AHEAD) * stride, 0);
    if (i + PREFETCH_AHEAD / 2 < n) smt_cache_prefetch(t, keys + (i + PREFETCH_AHEAD / 2) * stride, 1);
}

/* A level of at least this many nodes is read and decoded on two threads
 * (when the handle may use two): decoding is a third of a big block's
 * calling thread, and at 1M entries the batched read of the records the
 * cache lacks about as much again. */
#define DECODE_PARALLEL_MIN 64u

/* Decode, at depth d, the wanted nodes in cur[0..n) into pre nodes: cached
 * ones directly, the others read in a batched call and cached. The cache's
 * lookups and updates run on the calling thread; for a big level, each half
 * of the nodes is read (one batched call for the records of that half the
 * cache lacks) and decoded (with the check of each record read) on a
 * thread of its own. Results never depend on the split. */
static ms_smt_status read_level(reader *r, unsigned d, const want *cur, size_t n, ms_smt_stats *st)
{
    ms_smt *t = r->t;
    ms_smt_status s = level_room(r, d, n);
    if (s != MS_SMT_OK) return s;
    pre_node *base = r->pre[d];
    size_t *miss = malloc(n * sizeof *miss);
    uint8_t *keys = malloc(n * NODE_KEY_LEN);
    smt_decode_item *items = malloc(n * sizeof *items);
    uint8_t **vals = NULL;
    size_t *vl = NULL, nmiss = 0;
    if (miss == NULL || keys == NULL || items == NULL) s = MS_SMT_NOMEM;
    for (size_t i = 0; i < n && s == MS_SMT_OK; i++) {
        /* The pre nodes are 2 KiB apart: each store here is a miss unless
         * asked for ahead. */
        if (i + PREFETCH_AHEAD < n) __builtin_prefetch(&base[i + PREFETCH_AHEAD], 1);
        base[i].lo = cur[i].lo;
        smt_node_key(keys + i * NODE_KEY_LEN, cur[i].ref.version, d, r->ops[cur[i].lo].path);
        items[i].n = &base[i].n;
        items[i].version = cur[i].ref.version;
        items[i].path = r->ops[cur[i].lo].path;
        items[i].want = cur[i].ref.hash;
    }
    for (size_t i = 0; i < n && s == MS_SMT_OK; i++) {
        const want *x = &cur[i];
        const uint8_t *key = keys + i * NODE_KEY_LEN;
        prefetch_ahead(t, keys + 1, NODE_KEY_LEN, i, n);
        const int32_t hit = smt_cache_find(t, key + 1);
        if (hit < 0) {
            miss[nmiss++] = i;
            continue;
        }
        const cache_ent *e = &t->ents[hit];
        if (memcmp(e->hash, x->ref.hash, 32) != 0) s = MS_SMT_CORRUPT;
        items[i].rec = e->rec;
        items[i].len = e->len;
        items[i].verified = 1;
        st->nodes_cached++;
    }
    const uint8_t **kp = NULL;
    size_t *kl = NULL;
    int *found = NULL;
    if (s == MS_SMT_OK && nmiss > 0) {
        kp = malloc(nmiss * sizeof *kp);
        kl = malloc(nmiss * sizeof *kl);
        found = malloc(nmiss * sizeof *found);
        vl = malloc(nmiss * sizeof *vl);
        vals = calloc(nmiss, sizeof *vals);
        if (kp == NULL || kl == NULL || vl == NULL || vals == NULL || found == NULL) s = MS_SMT_NOMEM;
        for (size_t m = 0; m < nmiss && s == MS_SMT_OK; m++) {
            kp[m] = keys + miss[m] * NODE_KEY_LEN;
            kl[m] = NODE_KEY_LEN;
        }
    }
    if (s == MS_SMT_OK) {
        /* Unsplit, the lower half is empty (nothing to read or decode) and
         * the upper one everything. The misses are in index order: those of
         * the lower half first. */
        const int split = t->threads == 2 && n >= DECODE_PARALLEL_MIN;
        const size_t half = split ? n / 2 : 0;
        size_t m_split = 0;
        while (m_split < nmiss && miss[m_split] < half) m_split++;
        decode_job lower = {t->kv, items, 0, half, miss, 0, m_split, kp, kl, vals, vl, found, d, t->keccak,
                            MS_SMT_OK, 0};
        decode_job upper = {t->kv, items, half, n, miss, m_split, nmiss, kp, kl, vals, vl, found, d, t->keccak,
                            MS_SMT_OK, 0};
        pthread_t th;
        const int started = split && pthread_create(&th, NULL, decode_thread, &lower) == 0;
        if (!started) decode_range(&lower);
        decode_range(&upper);
        if (started) pthread_join(th, NULL);
        s = lower.s != MS_SMT_OK ? lower.s : upper.s;
        if (s == MS_SMT_OK && (lower.hashes < 0 || upper.hashes < 0)) s = MS_SMT_NOMEM;
        if (s == MS_SMT_OK) {
            st->read_calls += (uint64_t)(m_split > 0) + (uint64_t)(nmiss > m_split);
            st->nodes_read += nmiss;
            st->node_hashes += (uint64_t)(lower.hashes + upper.hashes);
        }
        for (size_t i = 0; i < n && s == MS_SMT_OK; i++) {
            if (!items[i].ok) s = MS_SMT_CORRUPT;
        }
    }
    free(kp);
    free(kl);
    free(found);
    /* The records read enter the cache (which then owns them), in order,
     * in the full form. */
    for (size_t m = 0; vals != NULL && m < nmiss; m++) {
        if (s == MS_SMT_OK) {
            const want *x = &cur[miss[m]];
            smt_cache_decoded(t, keys + miss[m] * NODE_KEY_LEN + 1, x->ref.hash, &base[miss[m]].n, vals[m], vl[m]);
        } else {
            free(vals[m]);
        }
    }
    free(vals);
    free(vl);
    free(miss);
    free(keys);
    free(items);
    if (s == MS_SMT_OK) r->npre[d] = n;
    return s;
}

/* Phase 1 for ops [0, count) under root. */
static ms_smt_status read_paths(reader *r, const smt_ref *root, size_t count, ms_smt_stats *st)
{
    want *cur = NULL;
    size_t ncur = 0;
    ms_smt_status s = MS_SMT_OK;
    r->nlevels = 0;
    if (root->kind == K_NODE && count > 0) {
        cur = malloc(sizeof *cur);
        if (cur == NULL) return MS_SMT_NOMEM;
        cur[0].ref = *root;
        cur[0].lo = 0;
        cur[0].hi = count;
        ncur = 1;
    }
    for (unsigned d = 0; ncur > 0 && s == MS_SMT_OK; d++) {
        if (d > MAX_NIBBLE_DEPTH) {
            s = MS_SMT_CORRUPT;
            break;
        }
        s = read_level(r, d, cur, ncur, st);
        if (s != MS_SMT_OK) break;
        r->nlevels = d + 1;
        /* The next level: the children that are nodes and have updates. */
        want *next = NULL;
        size_t nnext = 0, cap = 0;
        for (size_t i = 0; i < ncur && s == MS_SMT_OK; i++) {
            const smt_node *n = &r->pre[d][i].n;
            if (i + PREFETCH_AHEAD < ncur) __builtin_prefetch(r->pre[d][i + PREFETCH_AHEAD].n.kind);
            size_t a = cur[i].lo;
            while (a < cur[i].hi) {
                const unsigned slot = smt_nib(r->ops[a].path, d);
                const size_t b = slot_end(r->ops, a, cur[i].hi, d);
                if (n->kind[slot] == K_NODE) {
                    if (nnext == cap) {
                        const size_t ncap = cap ? cap * 2 : 64;
                        want *p = realloc(next, ncap * sizeof *p);
                        if (p == NULL) {
                            s = MS_SMT_NOMEM;
                            break;
                        }
                        next = p;
                        cap = ncap;
                    }
                    smt_slot_get(n, slot, &next[nnext].ref);
                    next[nnext].lo = a;
                    next[nnext].hi = b;
                    nnext++;
                }
                a = b;
            }
        }
        free(cur);
        cur = next;
        ncur = nnext;
    }
    free(cur);
    return s;
}

/* ----------------------------------------------------------- phase 3: write */

static int out_cmp(const void *a, const void *b)
{
    return memcmp((*(const node_out *const *)a)->key, (*(const node_out *const *)b)->key, NODE_KEY_LEN);
}

typedef struct job_set {
    worker jobs[16];
    size_t lo[16], hi[16];
    unsigned njobs;
    atomic_uint next;
    smt_node *top;
    uint8_t (*leaf)[32];
} job_set;

/* What an apply keeps in its handle for the next one (speed only): the
 * workers' buffers and the leaf hashes' array. */
struct smt_scratch {
    job_set js;
    worker root;
    void *leaf, *sort, *stale, *order;     /* leaf hashes, sort_ops' copy, write_records' lists */
    size_t leaf_cap, sort_cap, stale_cap, order_cap;   /* in bytes */
    /* The last apply's node cache work, pending until ms_smt_settle: the
     * settle_ns stale nodes in `stale`, the settle_no records in `order`
     * (in the workers' arenas, which stay until then), and the workers to
     * trim afterwards. */
    int settle;
    ms_kv_batch *settle_b;       /* a deferred apply's batch, which the records go into first */
    size_t settle_ns, settle_no;
    worker *settle_w[17];
    size_t settle_nw;
};

/* Largest array of those kept for the next apply: 8 MiB, its slack
 * included (the arrays of blocks up to 209,715 leaf hashes or 98,689
 * updates to sort). */
#define SCRATCH_KEEP ((size_t)8 << 20)

static void scratch_trim(void **buf, size_t *cap)
{
    if (*cap <= SCRATCH_KEEP) return;
    free(*buf);
    *buf = NULL;
    *cap = 0;
}

void smt_scratch_free(struct smt_scratch *sc)
{
    if (sc == NULL) return;
    for (unsigned j = 0; j < 16; j++) worker_free(&sc->js.jobs[j]);
    worker_free(&sc->root);
    free(sc->leaf);
    free(sc->sort);
    free(sc->stale);
    free(sc->order);
    free(sc);
}

/* Phase 3: the records order[0..no), compact, into b in key order. */
typedef struct batch_job {
    ms_kv_batch *b;
    node_out *const *order;
    size_t no;
    uint64_t bytes;       /* Out: the compact records' bytes */
} batch_job;

static void put_records(batch_job *j)
{
    for (size_t i = 0; i < j->no; i++) {
        const node_out *r = j->order[i];
        uint8_t compact[NODE_COMPACT_MAX_BYTES];
        const size_t clen = smt_record_compact(compact, r->rec);
        ms_kv_batch_put(j->b, r->key, NODE_KEY_LEN, compact, clen);
        j->bytes += clen;
    }
}

/* The stale lists of w[0..nw) in order, the records in key order to b
 * (with defer, at ms_smt_settle); the node cache's part is left to
 * ms_smt_settle. Out: *stale (in t->scratch, the concatenated list),
 * *nstale. */
static ms_smt_status write_records(ms_smt *t, ms_kv_batch *b, worker *const *w, size_t nw, uint8_t **stale,
                                   size_t *nstale, ms_smt_stats *st, int defer)
{
    size_t ns = 0, no = 0;
    for (size_t k = 0; k < nw; k++) {
        ns += w[k]->nstale;
        no += w[k]->nouts;
    }
    struct smt_scratch *sc = t->scratch;
    uint8_t *all = scratch_room(&sc->stale, &sc->stale_cap, ns * STALE_ENTRY_LEN);
    node_out **order = scratch_room(&sc->order, &sc->order_cap, no * sizeof *order);
    if (all == NULL || order == NULL) return MS_SMT_NOMEM;
    size_t o = 0, q = 0;
    for (size_t k = 0; k < nw; k++) {
        if (w[k]->nstale > 0) memcpy(all + o * STALE_ENTRY_LEN, w[k]->stale, w[k]->nstale * STALE_ENTRY_LEN);
        o += w[k]->nstale;
    }
    /* Key order without a sort. The records share the version, so the key
     * orders them by depth (byte 9), then prefix. A worker records one
     * depth at a time (hash_pending), each in its walk's order, which is
     * ascending by prefix; the jobs are the root's slots in order, so their
     * prefixes are ascending too, and the root's worker (last) holds only
     * depth 0. So depth by depth, worker by worker is key order. It is
     * checked, and a sort is the fallback. */
    size_t at[MAX_NIBBLE_DEPTH + 2] = {0};   /* per depth: its first place in order */
    for (size_t k = 0; k < nw; k++) {
        for (size_t i = 0; i < w[k]->nouts; i++) {
            const unsigned d = w[k]->outs[i].key[9];
            at[(d <= MAX_NIBBLE_DEPTH ? d : MAX_NIBBLE_DEPTH) + 1]++;
        }
    }
    for (unsigned d = 1; d <= MAX_NIBBLE_DEPTH + 1; d++) at[d] += at[d - 1];
    for (size_t k = 0; k < nw; k++) {
        for (size_t i = 0; i < w[k]->nouts; i++) {
            const unsigned d = w[k]->outs[i].key[9];
            order[at[d <= MAX_NIBBLE_DEPTH ? d : MAX_NIBBLE_DEPTH]++] = &w[k]->outs[i];
            q++;
        }
    }
    int sorted = q == no;
    for (size_t i = 1; sorted && i < no; i++) sorted = memcmp(order[i - 1]->key, order[i]->key, NODE_KEY_LEN) < 0;
    if (!sorted) {
        q = 0;
        for (size_t k = 0; k < nw; k++) {
            for (size_t i = 0; i < w[k]->nouts; i++) order[q++] = &w[k]->outs[i];
        }
        qsort(order, no, sizeof *order, out_cmp);
    }
    sc->settle_ns = ns;
    sc->settle_no = no;
    sc->settle_b = defer ? b : NULL;
    if (!defer) {
        batch_job bj = {b, order, no, 0};
        put_records(&bj);
        st->bytes_written += bj.bytes;
    }
    st->nodes_written = no;
    *stale = all;
    *nstale = ns;
    return MS_SMT_OK;
}

/* -------------------------------------------------------------------- apply */

static int op_cmp(const void *a, const void *b)
{
    return memcmp(((const ms_smt_op *)a)->path, ((const ms_smt_op *)b)->path, 32);
}

/* Blocks of this many updates (and at most SORT_BUCKETED_MAX, which bounds
 * the copy it makes: 9 MiB) are sorted by bucket; others by qsort. */
#define SORT_BUCKETED_MIN 1024u
#define SORT_BUCKETED_MAX ((size_t)1 << 17)

/* ops sorted by path. A big block is counted into 4,096 buckets by the
 * paths' first 12 bits (Keccak outputs: a few ops a bucket), then each
 * bucket is sorted with qsort, so that a block whose paths were ground to
 * share a prefix still sorts in n log n. qsort's merge sort moving 72-byte
 * ops was 5% of a 10,000-write block's calling thread. Any order of equal
 * paths will do: the caller refuses duplicates. */
static unsigned path_bucket(const uint8_t path[32])
{
    return (unsigned)path[0] << 4 | path[1] >> 4;   /* the first 12 bits */
}

static void sort_ops(ms_smt_op *ops, size_t count, ms_smt_op *tmp)
{
    size_t *start = NULL;
    if (tmp != NULL && count >= SORT_BUCKETED_MIN && count <= SORT_BUCKETED_MAX) start = calloc(4096 + 1, sizeof *start);
    if (start == NULL) {
        if (count > 1) qsort(ops, count, sizeof ops[0], op_cmp);
        return;
    }
    for (size_t i = 0; i < count; i++) start[path_bucket(ops[i].path) + 1]++;
    for (size_t b = 1; b <= 4096; b++) start[b] += start[b - 1];
    for (size_t i = 0; i < count; i++) tmp[start[path_bucket(ops[i].path)]++] = ops[i];
    /* start[b] is now the end of bucket b, the start of bucket b + 1. */
    for (size_t b = 0, lo = 0; b < 4096; lo = start[b++]) {
        if (start[b] - lo > 1) qsort(tmp + lo, start[b] - lo, sizeof tmp[0], op_cmp);
    }
    memcpy(ops, tmp, count * sizeof *ops);
    free(start);
}

void ms_smt_op_set(ms_smt_op *op, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                   int deleted)
{
    ms_keccak256(op->path, key, klen);
    op->deleted = deleted ? 1 : 0;
    if (deleted) memset(op->value_hash, 0, 32);
    else ms_keccak256(op->value_hash, val, vlen);
}

/* A split root: one job per root slot that has updates, taken in turn by
 * the two threads from a shared counter, so that a thread slowed by other
 * work on its core (RocksDB's compactions) takes fewer. Each job has its
 * own lists; they are joined in slot order. */

static void run_jobs(job_set *js)
{
    for (;;) {
        const unsigned j = atomic_fetch_add(&js->next, 1u);
        if (j >= js->njobs) return;
        worker *w = &js->jobs[j];
        w->status = hash_leaves(w, js->leaf, js->lo[j], js->hi[j]);
        if (w->status == MS_SMT_OK) w->status = upd_slots(w, js->top, 0, js->lo[j], js->hi[j], &w->dirty);
        if (w->status == MS_SMT_OK) w->status = hash_pending(w);
    }
}

static void *second_thread(void *arg)
{
    run_jobs(arg);
    return NULL;
}

/* The root w's walk left pending last (when the block wrote a root node):
 * its hash goes to *root, then w's pending nodes are hashed. */
static ms_smt_status finish_root(worker *w, smt_ref *root)
{
    if (root->kind == K_NODE && root->version == w->version) {
        if (w->npend == 0) return MS_SMT_CORRUPT;
        w->pend[w->npend - 1].dest = root->hash;
    }
    return hash_pending(w);
}

/* Phase 2 over the whole tree. Out: root; the jobs' and then root_w's lists
 * hold the records and stale nodes, in the sequential walk's order. */
static ms_smt_status hash_tree(ms_smt *t, worker *root_w, job_set *js, const smt_ref *old_root, size_t count,
                               uint8_t (*leaf)[32], smt_ref *root, ms_smt_stats *st)
{
    st->threads = 1;
    js->njobs = 0;
    pre_node *top = root_w->nlevels > 0 ? &root_w->pre[0][0] : NULL;
    if (t->threads != 2 || count < t->parallel_min || top == NULL) {
        ms_smt_status s = hash_leaves(root_w, leaf, 0, count);
        if (s == MS_SMT_OK) s = upd(root_w, 0, old_root, 0, count, root);
        return s == MS_SMT_OK ? finish_root(root_w, root) : s;
    }

    const ms_smt_op *ops = root_w->ops;
    for (size_t i = 0; i < count;) {
        const size_t j = slot_end(ops, i, count, 0);
        worker_init(&js->jobs[js->njobs], ops, root_w->leaf, root_w->version, root_w->pre, root_w->npre,
                    root_w->nlevels);
        js->jobs[js->njobs].keccak = root_w->keccak;
        js->lo[js->njobs] = i;
        js->hi[js->njobs] = j;
        js->njobs++;
        i = j;
    }
    atomic_init(&js->next, 0u);
    js->top = &top->n;
    js->leaf = leaf;
    pthread_t th;
    const int started = pthread_create(&th, NULL, second_thread, js) == 0;
    run_jobs(js);   /* without a second thread, this one takes every job */
    if (started) {
        pthread_join(th, NULL);
        st->threads = 2;
    }
    uint32_t dirty = 0;
    for (unsigned j = 0; j < js->njobs; j++) {
        if (js->jobs[j].status != MS_SMT_OK) return js->jobs[j].status;
        dirty |= js->jobs[j].dirty;
    }
    const ms_smt_status s = finish(root_w, &top->n, 0, old_root, dirty, ops[0].path, root);
    return s == MS_SMT_OK ? finish_root(root_w, root) : s;
}

/* After the cache's part of an apply (or its failure): the buffers it
 * kept for that part are trimmed for the next apply. */
static void settle_trim(struct smt_scratch *sc)
{
    for (size_t k = 0; k < sc->settle_nw; k++) worker_trim(sc->settle_w[k]);
    sc->settle_nw = 0;
    scratch_trim(&sc->stale, &sc->stale_cap);
    scratch_trim(&sc->order, &sc->order_cap);
}

void ms_smt_settle(ms_smt *t)
{
    struct smt_scratch *sc = t == NULL ? NULL : t->scratch;
    if (sc == NULL || !sc->settle) return;
    sc->settle = 0;
    const uint8_t *all = sc->stale;
    node_out *const *order = sc->order;
    const size_t ns = sc->settle_ns, no = sc->settle_no;
    if (sc->settle_b != NULL) {
        batch_job bj = {sc->settle_b, order, no, 0};
        put_records(&bj);
        t->stats.bytes_written += bj.bytes;
        sc->settle_b = NULL;
    }
    /* A stale node is reached by no new version: free its cache slot. */
    for (size_t i = 0; i < ns; i++) {
        prefetch_ahead(t, all, STALE_ENTRY_LEN, i, ns);
        smt_cache_remove(t, all + i * STALE_ENTRY_LEN);
    }
    for (size_t i = 0; i < no; i++) {
        const node_out *r = order[i];
        if (i + PREFETCH_AHEAD < no) smt_cache_prefetch(t, order[i + PREFETCH_AHEAD]->key + 1, 0);
        smt_cache_put(t, r->key + 1, r->hash, r->rec, r->len, 0);
    }
    settle_trim(sc);
}

static ms_smt_status apply(ms_smt *t, ms_kv_batch *b, uint64_t version, ms_smt_op *ops, size_t count,
                           uint64_t keep_from, uint8_t root32[32], int defer)
{
    ms_smt_settle(t);
    if (t == NULL || b == NULL || (ops == NULL && count > 0) || count > MS_SMT_MAX_UPDATES
        || keep_from > version) {
        return MS_SMT_ARGUMENT;
    }
    ms_smt_stats st;
    memset(&st, 0, sizeof st);
    st.ops = count;
    st.threads = 1;
    t->stats = st;
    smt_meta m;
    smt_vrec prev;
    ms_smt_status s = smt_read_meta(t, &m);
    if (s != MS_SMT_OK) return s;
    if (version <= m.latest) return MS_SMT_ARGUMENT;
    s = smt_read_vrec(t, &m, m.latest, &prev);
    if (s == MS_SMT_NOT_RETAINED) s = MS_SMT_CORRUPT;
    if (s != MS_SMT_OK) return s;

    if (t->scratch == NULL && (t->scratch = calloc(1, sizeof *t->scratch)) == NULL) return MS_SMT_NOMEM;
    struct smt_scratch *sc = t->scratch;
    /* Without room for the copy, the sort is one qsort (same order). */
    sort_ops(ops, count, scratch_room(&sc->sort, &sc->sort_cap, count * sizeof *ops));
    for (size_t i = 1; i < count; i++) {
        if (memcmp(ops[i - 1].path, ops[i].path, 32) == 0) return MS_SMT_ARGUMENT;
    }

    /* Cached nodes above the committed latest come from a batch that was
     * never written: their keys may be reused with other contents. */
    if (t->cache_hi > m.latest) smt_cache_clear(t);
    t->cache_hi = version;

    reader r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.ops = ops;
    for (unsigned d = 0; d <= MAX_NIBBLE_DEPTH; d++) r.pre[d] = t->pre[d];
    s = read_paths(&r, &prev.root, count, &st);

    job_set *js = &sc->js;
    uint8_t (*leaf)[32] = scratch_room(&sc->leaf, &sc->leaf_cap, count * 32u);
    if (leaf == NULL && s == MS_SMT_OK) s = MS_SMT_NOMEM;
    worker *w = &sc->root;
    uint8_t *stale = NULL;
    size_t nstale = 0;
    smt_vrec nr;
    memset(&nr, 0, sizeof nr);
    worker_init(w, ops, (const uint8_t(*)[32])leaf, version, r.pre, r.npre, r.nlevels);
    w->keccak = t->keccak;
    js->njobs = 0;
    if (s == MS_SMT_OK) s = hash_tree(t, w, js, &prev.root, count, leaf, &nr.root, &st);
    worker *all[17];
    size_t nall = 0;
    int64_t delta = w->delta;
    uint64_t hashes = w->node_hashes;
    for (unsigned j = 0; j < js->njobs; j++) {
        all[nall++] = &js->jobs[j];
        delta += js->jobs[j].delta;
        hashes += js->jobs[j].node_hashes;
    }
    all[nall++] = w;   /* the root's record and stale entry come last */
    if (s == MS_SMT_OK) s = write_records(t, b, all, nall, &stale, &nstale, &st, defer);
    if (s == MS_SMT_OK) {
        st.node_hashes += hashes;
        const int64_t entries = (int64_t)prev.entries + delta;
        if (entries < 0) s = MS_SMT_CORRUPT;
        nr.entries = (uint64_t)entries;
        nr.prev = m.latest;
    }
    levels_trim(t);
    if (s == MS_SMT_OK) {
        prev.next = version;
        smt_write_vrec(b, m.latest, &prev);
        pending p = {m.latest, version, stale, nstale, 0};
        m.latest = version;
        m.fresh = 0;
        if (keep_from > m.oldest) s = smt_prune_walk(t, b, &m, keep_from, &p);
        nr.stale_chunks = p.consumed ? 0u : (uint32_t)((nstale + STALE_CHUNK_ENTRIES - 1) / STALE_CHUNK_ENTRIES);
        smt_write_vrec(b, version, &nr);
        if (s == MS_SMT_OK && !p.consumed) {
            for (size_t i = 0, chunk = 0; i < nstale; i += STALE_CHUNK_ENTRIES, chunk++) {
                uint8_t key[13];
                const size_t n = nstale - i < STALE_CHUNK_ENTRIES ? nstale - i : STALE_CHUNK_ENTRIES;
                smt_stale_key(key, version, (uint32_t)chunk);
                ms_kv_batch_put(b, key, sizeof key, stale + i * STALE_ENTRY_LEN, n * STALE_ENTRY_LEN);
            }
        }
        if (s == MS_SMT_OK) {
            smt_write_meta(b, &m);
            if (root32 != NULL) memcpy(root32, nr.root.hash, 32);
        }
    }
    scratch_trim(&sc->leaf, &sc->leaf_cap);
    scratch_trim(&sc->sort, &sc->sort_cap);
    memcpy(sc->settle_w, all, nall * sizeof *all);
    sc->settle_nw = nall;
    if (s == MS_SMT_OK) {
        sc->settle = 1;   /* ms_smt_settle: the deferred records, the cache's part, the trims */
    } else {
        sc->settle_ns = sc->settle_no = 0;
        sc->settle_b = NULL;
        settle_trim(sc);
    }
    t->stats = st;
    return s;
}

ms_smt_status ms_smt_apply(ms_smt *t, ms_kv_batch *b, uint64_t version, ms_smt_op *ops, size_t count,
                           uint64_t keep_from, uint8_t root32[32])
{
    return apply(t, b, version, ops, count, keep_from, root32, 0);
}

/* ------------------------------------------------------- journal entries */

typedef struct hash_job {
    const ms_overlay_entry *const *entries;
    size_t lo, hi;
    ms_smt_op *ops;       /* one per entry; meta entries are marked by skip */
    uint8_t *skip;
    uint64_t hashes;
    int bad_hint;         /* test builds: a value hash given by the caller was wrong */
    ms_keccak_impl impl;  /* the handle's (ms_smt_set_keccak) */
    int failed;           /* impl was not available */
} hash_job;

/* Messages of one length waiting to be hashed together (SIMD lanes). The
 * journal is sorted by key, so keys of one kind, and records of one kind,
 * of one size, come in runs. */
#define RUN_MAX 64u

typedef struct hash_run {
    const uint8_t *in[RUN_MAX];
    uint8_t *out[RUN_MAX];
    size_t len, n;
    ms_keccak_impl impl;
    int failed;           /* impl was not available */
} hash_run;

static void run_flush(hash_run *r)
{
    if (!ms_keccak256_batch_with(r->impl, r->out, r->in, r->len, r->n)) r->failed = 1;
    r->n = 0;
}

static void run_add(hash_run *r, const uint8_t *in, size_t len, uint8_t *out)
{
    if (r->n > 0 && (r->len != len || r->n == RUN_MAX)) run_flush(r);
    r->len = len;
    r->in[r->n] = in;
    r->out[r->n] = out;
    r->n++;
}

static void hash_entries(hash_job *j)
{
    hash_run keys, vals;
    keys.n = vals.n = 0;
    keys.impl = vals.impl = j->impl;
    keys.failed = vals.failed = 0;
    for (size_t i = j->lo; i < j->hi; i++) {
        const ms_overlay_entry *e = j->entries[i];
        j->skip[i] = e->klen > 0 && e->key[0] == MS_TAG_META;
        if (j->skip[i]) continue;
        ms_smt_op *op = &j->ops[i];
        run_add(&keys, e->key, e->klen, op->path);
        op->deleted = e->deleted ? 1 : 0;
        j->hashes++;
        if (e->deleted) {
            memset(op->value_hash, 0, 32);
        } else if (e->value_hashed) {
            /* The caller hashed the value already (a ciphertext). */
            memcpy(op->value_hash, e->value_hash, 32);
#ifdef MS_TEST_BUILD
            uint8_t check[32];
            ms_keccak256(check, e->val, e->vlen);
            if (memcmp(check, e->value_hash, 32) != 0) j->bad_hint = 1;
#endif
        } else {
            run_add(&vals, e->val, e->vlen, op->value_hash);
            j->hashes++;
        }
    }
    run_flush(&keys);
    run_flush(&vals);
    j->failed = keys.failed || vals.failed;
}

static void *hash_thread(void *arg)
{
    hash_entries(arg);
    return NULL;
}

static ms_smt_status apply_entries(ms_smt *t, ms_kv_batch *b, uint64_t version,
                                   const ms_overlay_entry *const *entries, size_t count,
                                   uint64_t keep_from, uint8_t root32[32], int defer)
{
    if (t == NULL || count > MS_SMT_MAX_UPDATES || (entries == NULL && count > 0)) return MS_SMT_ARGUMENT;
    ms_smt_op *ops = malloc(count * sizeof *ops + 1);
    uint8_t *skip = malloc(count + 1);
    if (ops == NULL || skip == NULL) {
        free(ops);
        free(skip);
        return MS_SMT_NOMEM;
    }
    /* The keys' and values' hashes: half on a second thread for a big block. */
    hash_job lower = {entries, 0, count / 2, ops, skip, 0, 0, t->keccak, 0};
    hash_job upper = {entries, count / 2, count, ops, skip, 0, 0, t->keccak, 0};
    pthread_t th;
    const int started = t->threads == 2 && count >= t->parallel_min && pthread_create(&th, NULL, hash_thread, &lower) == 0;
    if (!started) hash_entries(&lower);
    hash_entries(&upper);
    if (started) pthread_join(th, NULL);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (!skip[i]) ops[n++] = ops[i];
    }
    ms_smt_status s = lower.failed || upper.failed       ? MS_SMT_ARGUMENT
                      : lower.bad_hint || upper.bad_hint ? MS_SMT_CORRUPT
                                                         : apply(t, b, version, ops, n, keep_from, root32, defer);
    t->stats.op_hashes = lower.hashes + upper.hashes;
    free(ops);
    free(skip);
    return s;
}

ms_smt_status ms_smt_apply_entries(ms_smt *t, ms_kv_batch *b, uint64_t version,
                                   const ms_overlay_entry *const *entries, size_t count,
                                   uint64_t keep_from, uint8_t root32[32])
{
    return apply_entries(t, b, version, entries, count, keep_from, root32, 0);
}

ms_smt_status ms_smt_apply_entries_deferred(ms_smt *t, ms_kv_batch *b, uint64_t version,
                                            const ms_overlay_entry *const *entries, size_t count,
                                            uint64_t keep_from, uint8_t root32[32])
{
    return apply_entries(t, b, version, entries, count, keep_from, root32, 1);
}
