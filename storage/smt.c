/* The authenticated state tree: see storage/smt.h and spec/state.md. This
 * file holds the node records, the node cache, versions, pruning, rollback
 * and reads; storage/smt_apply.c the update of a block; the in-memory
 * model is described in storage/smt_internal.h. */
#include "storage/smt.h"
#include "storage/smt_internal.h"

#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "abi/keccak_batch.h"
#include "crypto/smt_verify.h"
#include "storage/records.h"

/* ------------------------------------------------------------------ helpers */

ms_smt_status smt_from_kv(ms_kv_status s)
{
    switch (s) {
    case MS_KV_OK: return MS_SMT_OK;
    case MS_KV_NOMEM: return MS_SMT_NOMEM;
    case MS_KV_NOT_FOUND: return MS_SMT_CORRUPT;  /* callers handle NOT_FOUND first */
    default: return MS_SMT_IO;
    }
}

unsigned smt_nib(const uint8_t *p, unsigned d)
{
    return d % 2u == 0 ? (unsigned)(p[d / 2u] >> 4) : (unsigned)(p[d / 2u] & 0x0fu);
}

static void set_nib(uint8_t *p, unsigned d, unsigned v)
{
    if (d % 2u == 0) p[d / 2u] = (uint8_t)((p[d / 2u] & 0x0fu) | (v << 4));
    else p[d / 2u] = (uint8_t)((p[d / 2u] & 0xf0u) | v);
}

static unsigned bit_at(const uint8_t *p, unsigned i)
{
    return (unsigned)(p[i / 8u] >> (7u - i % 8u)) & 1u;
}

static void set_bit(uint8_t *p, unsigned i)
{
    p[i / 8u] = (uint8_t)(p[i / 8u] | (0x80u >> (i % 8u)));
}

static int is_zero32(const uint8_t *p)
{
    uint8_t acc = 0;
    for (unsigned i = 0; i < 32; i++) acc |= p[i];
    return acc == 0;
}

void smt_ref_empty(smt_ref *r)
{
    memset(r, 0, sizeof *r);
}

void smt_ref_leaf(smt_ref *r, const uint8_t path[32], const uint8_t vh[32], const uint8_t hash32[32])
{
    memset(r, 0, sizeof *r);
    r->kind = K_LEAF;
    memcpy(r->path, path, 32);
    memcpy(r->vh, vh, 32);
    memcpy(r->hash, hash32, 32);
}

int smt_ref_same(const smt_ref *a, const smt_ref *b)
{
    return a->kind == b->kind && a->version == b->version && memcmp(a->hash, b->hash, 32) == 0;
}

void smt_slot_get(const smt_node *n, unsigned s, smt_ref *r)
{
    r->kind = n->kind[s];
    r->version = r->kind == K_NODE ? n->version[s] : 0;
    if (r->kind == K_EMPTY) {
        memset(r->hash, 0, 32);
        return;
    }
    memcpy(r->hash, n->hash[s], 32);
    if (r->kind == K_LEAF) {
        memcpy(r->path, n->leaf[s], 32);
        memcpy(r->vh, n->leaf[s] + 32, 32);
    }
}

void smt_slot_set(smt_node *n, unsigned s, const smt_ref *r)
{
    n->kind[s] = r->kind;
    if (r->kind == K_EMPTY) return;
    memcpy(n->hash[s], r->hash, 32);
    if (r->kind == K_LEAF) {
        memcpy(n->leaf[s], r->path, 32);
        memcpy(n->leaf[s] + 32, r->vh, 32);
    } else {
        n->version[s] = r->version;
    }
}

void smt_node_clear(smt_node *n)
{
    memset(n->kind, 0, sizeof n->kind);
    memset(n->ikind, 0, sizeof n->ikind);
}

/* Entry (without tag) of the node at nibble depth `depth` on `path`. */
void smt_node_entry(uint8_t out[STALE_ENTRY_LEN], uint64_t version, unsigned depth, const uint8_t path[32])
{
    ms_put_be64(out, version);
    out[8] = (uint8_t)depth;
    memset(out + 9, 0, 32);
    memcpy(out + 9, path, depth / 2u);
    if (depth % 2u) out[9 + depth / 2u] = (uint8_t)(path[depth / 2u] & 0xf0u);
}

void smt_node_key(uint8_t out[NODE_KEY_LEN], uint64_t version, unsigned depth, const uint8_t path[32])
{
    out[0] = MS_SMT_TAG_NODE;
    smt_node_entry(out + 1, version, depth, path);
}

static void vrec_key(uint8_t out[9], uint64_t version)
{
    out[0] = MS_SMT_TAG_VERSION;
    ms_put_be64(out + 1, version);
}

void smt_stale_key(uint8_t out[13], uint64_t version, uint32_t chunk)
{
    out[0] = MS_SMT_TAG_STALE;
    ms_put_be64(out + 1, version);
    ms_put_be32(out + 9, chunk);
}

/* ------------------------------------------------------------ node hashing */

/* Returns 1 when it hashed (a NODE), else 0. */
static unsigned combine(uint8_t *k, uint8_t h[32], uint8_t ka, const uint8_t *ha, uint8_t kb, const uint8_t *hb)
{
    if (ka == K_EMPTY && kb == K_EMPTY) {
        *k = K_EMPTY;   /* h is not read (heap_get) */
    } else if (ka == K_EMPTY && kb == K_LEAF) {
        *k = K_LEAF;
        memcpy(h, hb, 32);
    } else if (ka == K_LEAF && kb == K_EMPTY) {
        *k = K_LEAF;
        memcpy(h, ha, 32);
    } else {
        *k = K_NODE;
        ms_smt_hash_internal(h, ha, hb);
        return 1;
    }
    return 0;
}

static const uint8_t EMPTY_HASH[32];

/* Heap entry i of n: its class and hash (EMPTY's, whatever n stores). */
static void heap_get(const smt_node *n, unsigned i, uint8_t *k, const uint8_t **h)
{
    if (i >= 16) {
        *k = n->kind[i - 16];
        *h = n->hash[i - 16];
    } else {
        *k = n->ikind[i];
        *h = n->ihash[i];
    }
    if (*k == K_EMPTY) *h = EMPTY_HASH;
}

/* Recompute the inner entries above the slots flagged in dirty (bit s),
 * one hash at a time: a single compact record's check on load, and the
 * reference a test build checks every decoded record against, independent
 * of smt_node_rehash_many. */
unsigned smt_node_rehash(smt_node *n, uint32_t dirty)
{
    unsigned hashes = 0;
    uint8_t d[32] = {0};
    for (unsigned s = 0; s < 16; s++) d[16 + s] = (uint8_t)((dirty >> s) & 1u);
    for (unsigned i = 15; i >= 1; i--) {
        d[i] = (uint8_t)(d[2 * i] | d[2 * i + 1]);
        if (!d[i]) continue;
        uint8_t ka, kb;
        const uint8_t *ha, *hb;
        heap_get(n, 2 * i, &ka, &ha);
        heap_get(n, 2 * i + 1, &kb, &hb);
        hashes += combine(&n->ikind[i], n->ihash[i], ka, ha, kb, hb);
    }
    return hashes;
}

void smt_hash_buf_free(smt_hash_buf *hb)
{
    free(hb->img);
    free(hb->out);
    free(hb->in);
    memset(hb, 0, sizeof *hb);
}

int smt_hash_buf_room(smt_hash_buf *hb, size_t n)
{
    if (hb->cap >= n) return 1;
    size_t cap = hb->cap ? hb->cap : 64;
    while (cap < n) cap *= 2;
    uint8_t *img = realloc(hb->img, cap * 65u);
    if (img != NULL) hb->img = img;
    uint8_t **out = realloc(hb->out, cap * sizeof *out);
    if (out != NULL) hb->out = out;
    const uint8_t **in = realloc(hb->in, cap * sizeof *in);
    if (in != NULL) hb->in = in;
    if (img == NULL || out == NULL || in == NULL) return 0;
    hb->cap = cap;
    return 1;
}

long smt_node_rehash_many(smt_node *const *nodes, const uint32_t *dirty, size_t n, smt_hash_buf *hb,
                          ms_keccak_impl impl)
{
    if (n > ((size_t)-1) / 8u || !smt_hash_buf_room(hb, 8u * n)) return -1;   /* at most 8 per node a level */
    long total = 0;
    /* Heap levels from the slots up: entries [lo, 2 lo), each covering
     * `width` slots from (i - lo) * width; entry i needs work when one of
     * its slots is dirty, as d[i] = d[2i] | d[2i+1] in smt_node_rehash. */
    for (unsigned lo = 8; lo >= 1; lo /= 2) {
        const unsigned width = 16u / lo;
        size_t m = 0;
        for (size_t k = 0; k < n; k++) {
            smt_node *nd = nodes[k];
            for (unsigned i = lo; i < 2 * lo; i++) {
                const uint32_t mask = ((1u << width) - 1u) << ((i - lo) * width);
                if ((dirty[k] & mask) == 0) continue;
                uint8_t ka, kb;
                const uint8_t *ha, *hb2;
                heap_get(nd, 2 * i, &ka, &ha);
                heap_get(nd, 2 * i + 1, &kb, &hb2);
                if ((ka == K_EMPTY && kb != K_NODE) || (kb == K_EMPTY && ka == K_LEAF)) {
                    (void)combine(&nd->ikind[i], nd->ihash[i], ka, ha, kb, hb2);   /* no hash */
                    continue;
                }
                uint8_t *img = hb->img + m * 65u;
                ms_smt_internal_preimage(img, ha, hb2);
                nd->ikind[i] = K_NODE;
                hb->in[m] = img;
                hb->out[m] = nd->ihash[i];
                m++;
            }
        }
        if (!ms_keccak256_batch_with(impl, hb->out, hb->in, 65u, m)) return -1;
        total += (long)m;
    }
    return total;
}

/* ------------------------------------------------------------ node records */

/* Classes of the inner entries from the slots' kinds in cls[16..32),
 * without hashing. */
static void node_classes(uint8_t cls[32])
{
    for (unsigned i = 15; i >= 1; i--) {
        const uint8_t a = cls[2 * i], b = cls[2 * i + 1];
        if (a == K_EMPTY) cls[i] = b == K_NODE ? K_NODE : b;
        else if (b == K_EMPTY) cls[i] = a == K_NODE ? K_NODE : a;
        else cls[i] = K_NODE;
    }
}

/* The full form (format 1, what stores written before format 2 hold and
 * what the node cache keeps): format | slot map u16 | leaf map u16 | per
 * slot present, ascending: hash 32, then leaf: path 32, valueHash 32 /
 * node: version u64 | then the hash of every inner entry 2..15 of class
 * NODE, ascending. (Entry 1, the node's own hash, is in its parent.) */
size_t smt_node_encode(uint8_t out[NODE_MAX_BYTES], const smt_node *n)
{
    uint16_t map = 0, leaves = 0;
    size_t o = 5;
    for (unsigned sl = 0; sl < 16; sl++) {
        if (n->kind[sl] == K_EMPTY) continue;
        map = (uint16_t)(map | (1u << sl));
        memcpy(out + o, n->hash[sl], 32);
        o += 32;
        if (n->kind[sl] == K_LEAF) {
            leaves = (uint16_t)(leaves | (1u << sl));
            memcpy(out + o, n->leaf[sl], 64);
            o += 64;
        } else {
            ms_put_be64(out + o, n->version[sl]);
            o += 8;
        }
    }
    for (unsigned i = 2; i < 16; i++) {
        if (n->ikind[i] != K_NODE) continue;
        memcpy(out + o, n->ihash[i], 32);
        o += 32;
    }
    out[0] = NODE_FORMAT_FULL;
    out[1] = (uint8_t)(map >> 8);
    out[2] = (uint8_t)map;
    out[3] = (uint8_t)(leaves >> 8);
    out[4] = (uint8_t)leaves;
    return o;
}

/* The stored form (format 2) of a full record this tree encoded: the same
 * header and slots without what a reader can derive, i.e. a leaf's hash
 * (leafHash(path, valueHash)) and the inner hashes: 40 to 45% fewer bytes
 * to write, flush and compact, for about 15 hashes per record read back. */
size_t smt_record_compact(uint8_t out[NODE_COMPACT_MAX_BYTES], const uint8_t *rec)
{
    const unsigned map = ((unsigned)rec[1] << 8) | rec[2];
    const unsigned leaves = ((unsigned)rec[3] << 8) | rec[4];
    memcpy(out, rec, 5);
    out[0] = NODE_FORMAT_COMPACT;
    size_t i = 5, o = 5;
    for (unsigned sl = 0; sl < 16; sl++) {
        if (!((map >> sl) & 1u)) continue;
        if ((leaves >> sl) & 1u) {
            memcpy(out + o, rec + i + 32, 64);   /* path, valueHash; not the hash */
            i += 96;
            o += 64;
        } else {
            memcpy(out + o, rec + i, 40);        /* hash, version */
            i += 40;
            o += 40;
        }
    }
    return o;
}

/* Parse the slots of a record of either format into n (and, format 1, the
 * hash of each slot). Checks everything the bytes alone can show: maps,
 * lengths, that every leaf lies under this node in its slot, child
 * versions, no lone leaf. Sets n's inner entries 2..15 (format 1 from the
 * record; format 2 left to be hashed) and never entry 1. Returns the
 * format, or 0 when the record is malformed. */
static int node_parse(smt_node *n, const uint8_t *buf, size_t len, uint64_t version, unsigned depth,
                      const uint8_t path[32])
{
    if (len < 5 || depth > MAX_NIBBLE_DEPTH) return 0;
    const int format = buf[0];
    if (format != NODE_FORMAT_FULL && format != NODE_FORMAT_COMPACT) return 0;
    const int full = format == NODE_FORMAT_FULL;
    const unsigned map = ((unsigned)buf[1] << 8) | buf[2];
    const unsigned leaves = ((unsigned)buf[3] << 8) | buf[4];
    if (map == 0 || (leaves & ~map) != 0) return 0;
    size_t o = 5;
    unsigned count = 0;
    /* Only what the slots hold is written (smt_node): the kinds, and a
     * present slot's fields. The kinds go to n in one store at the end
     * (read back at once, byte stores would stall the load). */
    uint8_t cls[32] = {0};
    uint8_t *const kind = cls + 16;
    memset(n->ikind, 0, sizeof n->ikind);
    for (unsigned sl = 0; sl < 16; sl++) {
        if (!((map >> sl) & 1u)) continue;
        count++;
        const int is_leaf = (int)((leaves >> sl) & 1u);
        const size_t need = (is_leaf ? 64u : 40u) + (full && is_leaf ? 32u : 0u);
        if (len - o < need) return 0;
        if (is_leaf) {
            kind[sl] = K_LEAF;
            if (full) {
                memcpy(n->hash[sl], buf + o, 32);
                o += 32;
                if (is_zero32(n->hash[sl])) return 0;
            }
            const uint8_t *lp = buf + o;   /* path, then valueHash */
            memcpy(n->leaf[sl], lp, 64);
            o += 64;
            /* The leaf lies under this node: its first `depth` nibbles are
             * the node's, the next one is the slot (whole bytes compared
             * at once, then the odd nibble). */
            if (memcmp(lp, path, depth / 2u) != 0) return 0;
            if (depth % 2u && smt_nib(lp, depth - 1u) != smt_nib(path, depth - 1u)) return 0;
            if (smt_nib(lp, depth) != sl) return 0;
        } else {
            kind[sl] = K_NODE;
            memcpy(n->hash[sl], buf + o, 32);
            n->version[sl] = ms_get_be64(buf + o + 32);
            o += 40;
            if (is_zero32(n->hash[sl])) return 0;
            if (n->version[sl] == 0 || n->version[sl] > version || depth == MAX_NIBBLE_DEPTH) return 0;
        }
    }
    memcpy(n->kind, kind, 16);
    /* One slot holding one leaf would have been compacted into that leaf. */
    if (count == 1 && leaves != 0) return 0;
    if (!full) return o == len ? format : 0;

    node_classes(cls);
    if (cls[1] != K_NODE) return 0;
    for (unsigned i = 15; i >= 2; i--) {
        n->ikind[i] = cls[i];
        if (cls[i] != K_LEAF) continue;
        /* A LEAF entry's hash is that of the one leaf below (EMPTY's is
         * never read, heap_get). */
        uint8_t kb;
        const uint8_t *hb;
        heap_get(n, 2 * i, &kb, &hb);
        if (kb == K_EMPTY) heap_get(n, 2 * i + 1, &kb, &hb);
        memcpy(n->ihash[i], hb, 32);
    }
    for (unsigned i = 2; i < 16; i++) {
        if (cls[i] != K_NODE) continue;
        if (len - o < 32) return 0;
        memcpy(n->ihash[i], buf + o, 32);
        o += 32;
    }
    return o == len ? format : 0;
}

/* Entry 1 of a parsed full record: want32 when `verified` (a cached record,
 * checked when it entered the cache), else internalHash(entry 2, entry 3).
 * The deeper stored inner hashes are not recomputed, for speed: RocksDB's
 * block checksums guard them on disk, the operator's `verify` recomputes
 * the whole tree, and test builds recompute and compare all of them on
 * every decode. Returns the number of hashes (0 or 1). */
static unsigned full_top(smt_node *n, const uint8_t want32[32], int verified)
{
    n->ikind[1] = K_NODE;
    if (verified) {
        memcpy(n->ihash[1], want32, 32);
        return 0;
    }
    uint8_t ka, kb;
    const uint8_t *ha, *hb;
    heap_get(n, 2, &ka, &ha);
    heap_get(n, 3, &kb, &hb);
    ms_smt_hash_internal(n->ihash[1], ha, hb);
    return 1;
}

/* The decoded node's own hash against want32 (and, in test builds, every
 * inner entry against a full recomputation). */
static int node_matches(const smt_node *n, const uint8_t want32[32])
{
    if (n->ikind[1] != K_NODE) return 0;
#ifdef MS_TEST_BUILD
    {
        smt_node all = *n;
        smt_node_rehash(&all, 0xffffu);
        if (memcmp(all.ikind + 1, n->ikind + 1, 15) != 0) return 0;
        for (unsigned i = 1; i < 16; i++) {
            if (n->ikind[i] != K_EMPTY && memcmp(all.ihash[i], n->ihash[i], 32) != 0) return 0;
        }
    }
#endif
    return memcmp(n->ihash[1], want32, 32) == 0;
}

int smt_node_decode(smt_node *n, const uint8_t *buf, size_t len, uint64_t version, unsigned depth,
                    const uint8_t path[32], const uint8_t want32[32], int verified)
{
    const int format = node_parse(n, buf, len, version, depth, path);
    if (format == 0) return 0;
    if (format == NODE_FORMAT_FULL) {
        (void)full_top(n, want32, verified);
    } else {
        /* A compact record carries no hash of its own: derive the leaves'
         * and every inner one, which checks all of them. */
        for (unsigned sl = 0; sl < 16; sl++) {
            if (n->kind[sl] == K_LEAF) ms_smt_hash_leaf(n->hash[sl], n->leaf[sl], n->leaf[sl] + 32);
        }
        (void)smt_node_rehash(n, 0xffffu);
    }
    return node_matches(n, want32);
}

long smt_node_decode_many(smt_decode_item *items, size_t n, unsigned depth, smt_hash_buf *hb, ms_keccak_impl impl)
{
    long hashes = 0;
    size_t ncompact = 0, nleaves = 0;
    for (size_t i = 0; i < n; i++) {
        smt_decode_item *it = &items[i];
        /* The records are scattered over the cache's slab: ask for those
         * a few items ahead (their header and first slots). */
        if (i + 4 < n) {
            __builtin_prefetch(items[i + 4].rec);
            if (items[i + 4].len > 64) __builtin_prefetch(items[i + 4].rec + 64);
        }
        it->ok = 0;
        it->format = node_parse(it->n, it->rec, it->len, it->version, depth, it->path);
        if (it->format == NODE_FORMAT_FULL) {
            hashes += (long)full_top(it->n, it->want, it->verified);
            it->ok = node_matches(it->n, it->want);
        } else if (it->format == NODE_FORMAT_COMPACT) {
            ncompact++;
        }
    }
    if (ncompact == 0) return hashes;
    /* Compact records: their leaves' hashes all at once, then their inner
     * entries level by level (smt_node_rehash_many), so that the hashes of
     * every record of the call share the SIMD lanes. */
    if (ncompact > ((size_t)-1) / 16u || !smt_hash_buf_room(hb, 16u * ncompact)) return -1;
    smt_node **nodes = malloc(ncompact * sizeof *nodes);
    uint32_t *dirty = malloc(ncompact * sizeof *dirty);
    if (nodes == NULL || dirty == NULL) {
        free(nodes);
        free(dirty);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].format != NODE_FORMAT_COMPACT) continue;
        smt_node *nd = items[i].n;
        for (unsigned sl = 0; sl < 16; sl++) {
            if (nd->kind[sl] != K_LEAF) continue;
            ms_smt_leaf_preimage(hb->img + nleaves * 65u, nd->leaf[sl], nd->leaf[sl] + 32);
            hb->in[nleaves] = hb->img + nleaves * 65u;
            hb->out[nleaves++] = nd->hash[sl];
        }
        nodes[k] = nd;
        dirty[k++] = 0xffffu;
    }
    long inner = -1;
    if (ms_keccak256_batch_with(impl, hb->out, hb->in, 65u, nleaves)) {
        inner = smt_node_rehash_many(nodes, dirty, ncompact, hb, impl);
    }
    free(nodes);
    free(dirty);
    if (inner < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (items[i].format == NODE_FORMAT_COMPACT) items[i].ok = node_matches(items[i].n, items[i].want);
    }
    return hashes + (long)nleaves + inner;
}

/* -------------------------------------------------------------------- cache */

/* Policy: shallow nodes first. Every write passes through the top nodes, and
 * a node at nibble depth k is on 1/16^k of the paths, so a full cache evicts
 * the least recently used node of its deepest level, and refuses a node
 * below that level. With N entries it holds the top levels whole
 * (4369 nodes for four levels, 69905 for five) and recently used nodes of
 * the next one, rather than cycling through the bottom levels that random
 * writes touch once each. */

static size_t cache_slot(const ms_smt *t, const uint8_t key[STALE_ENTRY_LEN])
{
    /* Five 8-byte words and the last byte, each mixed by a multiply (the
     * byte-wise FNV-1a this replaces was 7% of a big block's tree part).
     * Only the bucket depends on it, never a result. */
    uint64_t h = key[STALE_ENTRY_LEN - 1];
    for (unsigned w = 0; w < 5; w++) {
        uint64_t v;
        memcpy(&v, key + 8 * w, 8);
        h = (h ^ v) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    return (size_t)h & (t->nbuckets - 1);
}

static unsigned ent_depth(const cache_ent *e)
{
    return e->key[8];
}

static void lru_unlink(ms_smt *t, int32_t i)
{
    cache_ent *e = &t->ents[i];
    const unsigned d = ent_depth(e);
    if (e->prev >= 0) t->ents[e->prev].next = e->next;
    else t->head[d] = e->next;
    if (e->next >= 0) t->ents[e->next].prev = e->prev;
    else t->tail[d] = e->prev;
    e->prev = e->next = -1;
}

static void lru_push_front(ms_smt *t, int32_t i)
{
    cache_ent *e = &t->ents[i];
    const unsigned d = ent_depth(e);
    e->prev = -1;
    e->next = t->head[d];
    if (t->head[d] >= 0) t->ents[t->head[d]].prev = i;
    t->head[d] = i;
    if (t->tail[d] < 0) t->tail[d] = i;
}

void smt_cache_clear(ms_smt *t)
{
    if (t->cap == 0) return;
    for (size_t i = 0; i < t->used; i++) t->ents[i].rec = NULL;
    ms_rec_slab_reset(&t->slab);
    for (size_t i = 0; i < t->nbuckets; i++) t->buckets[i] = -1;
    for (unsigned d = 0; d < CACHE_DEPTHS; d++) t->head[d] = t->tail[d] = -1;
    t->used = 0;
    t->free_head = -1;
    t->read_cached_hi = 0;
}

int32_t smt_cache_find(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN])
{
    if (t->cap == 0) return -1;
    for (int32_t i = t->buckets[cache_slot(t, key)]; i >= 0; i = t->ents[i].hnext) {
        if (memcmp(t->ents[i].key, key, STALE_ENTRY_LEN) == 0) {
            /* A mark, not a move to the front: relinking touches two more
             * entries per hit. Eviction gives marked entries a second
             * chance (CLOCK), which approximates LRU. */
            t->ents[i].used = 1;
            return i;
        }
    }
    return -1;
}

/* Unlink entry i (live) from its bucket and list, free its record, and put it
 * on the free list. */
static void cache_drop(ms_smt *t, int32_t i)
{
    int32_t *pp = &t->buckets[cache_slot(t, t->ents[i].key)];
    while (*pp != i) pp = &t->ents[*pp].hnext;
    *pp = t->ents[i].hnext;
    lru_unlink(t, i);
    ms_rec_slab_free(&t->slab, t->ents[i].rec, t->ents[i].len);
    t->ents[i].rec = NULL;
    t->ents[i].hnext = t->free_head;
    t->free_head = i;
}

/* Cache a copy of the record rec (len bytes, whose node hash is hash32)
 * under key. With owned, rec is malloc'd and freed here. A record the
 * record slab has no room for is not cached (speed only: it is read again
 * when needed), and replaces no older record under the same key. */
void smt_cache_put(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN], const uint8_t hash32[32], uint8_t *rec,
                   size_t len, int owned)
{
    if (t->cap == 0) {
        if (owned) free(rec);
        return;
    }
    for (int32_t i = t->buckets[cache_slot(t, key)]; i >= 0; i = t->ents[i].hnext) {
        if (memcmp(t->ents[i].key, key, STALE_ENTRY_LEN) == 0) {
            cache_drop(t, i);   /* replaced below, as a new entry */
            break;
        }
    }
    if (t->free_head < 0 && t->used == t->cap) {
        unsigned deepest = CACHE_DEPTHS - 1;
        while (t->head[deepest] < 0) deepest--;   /* the cache is full: some list is not empty */
        if (key[8] > deepest) {
            if (owned) free(rec);
            return;
        }
        /* The least recently placed unmarked entry of that depth; a marked
         * one loses its mark and goes to the front (ends: marks are cleared). */
        int32_t victim = t->tail[deepest];
        while (t->ents[victim].used) {
            t->ents[victim].used = 0;
            lru_unlink(t, victim);
            lru_push_front(t, victim);
            victim = t->tail[deepest];
        }
        cache_drop(t, victim);
    }
    uint8_t *copy = ms_rec_slab_alloc(&t->slab, len);
    if (copy != NULL) memcpy(copy, rec, len);
    if (owned) free(rec);
    if (copy == NULL) return;
    int32_t i;
    if (t->free_head >= 0) {
        i = t->free_head;
        t->free_head = t->ents[i].hnext;
    } else {
        i = (int32_t)t->used++;
    }
    cache_ent *e = &t->ents[i];
    const size_t b = cache_slot(t, key);
    memcpy(e->key, key, STALE_ENTRY_LEN);
    memcpy(e->hash, hash32, 32);
    e->rec = copy;
    e->len = (uint32_t)len;
    e->used = 0;
    e->hnext = t->buckets[b];
    t->buckets[b] = i;
    lru_push_front(t, i);
}

void smt_cache_prefetch(const ms_smt *t, const uint8_t key[STALE_ENTRY_LEN], int entry)
{
    if (t->cap == 0) return;
    const int32_t *cell = &t->buckets[cache_slot(t, key)];
    if (!entry) {
        __builtin_prefetch(cell);
    } else if (*cell >= 0) {
        __builtin_prefetch(&t->ents[*cell]);
    }
}

/* Forget a node that no new version reaches (it went stale): the cache
 * then holds live nodes rather than superseded ones. */
void smt_cache_remove(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN])
{
    if (t->cap == 0) return;
    for (int32_t i = t->buckets[cache_slot(t, key)]; i >= 0; i = t->ents[i].hnext) {
        if (memcmp(t->ents[i].key, key, STALE_ENTRY_LEN) == 0) {
            cache_drop(t, i);
            return;
        }
    }
}

void smt_cache_decoded(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN], const uint8_t hash32[32], const smt_node *n,
                       uint8_t *rec, size_t len)
{
    if (len > 0 && rec[0] == NODE_FORMAT_FULL) {
        smt_cache_put(t, key, hash32, rec, len, 1);
        return;
    }
    free(rec);
    if (t->cap == 0) return;
    uint8_t full[NODE_MAX_BYTES];
    smt_cache_put(t, key, hash32, full, smt_node_encode(full, n), 0);
}

/* Load the node `ref` points to, at nibble depth `depth` on `path`, into n. */
int smt_cached_node(ms_smt *t, const uint8_t key[NODE_KEY_LEN], const smt_ref *ref, unsigned depth,
                    const uint8_t path[32], smt_node *n)
{
    const int32_t hit = smt_cache_find(t, key + 1);
    if (hit < 0) return 0;
    const cache_ent *e = &t->ents[hit];
    if (memcmp(e->hash, ref->hash, 32) != 0) return -1;
    return smt_node_decode(n, e->rec, e->len, ref->version, depth, path, ref->hash, 1) ? 1 : -1;
}

ms_smt_status smt_adopt_record(ms_smt *t, const uint8_t key[NODE_KEY_LEN], const smt_ref *ref, unsigned depth,
                               const uint8_t path[32], uint8_t *val, size_t vlen, smt_node *n)
{
    if (!smt_node_decode(n, val, vlen, ref->version, depth, path, ref->hash, 0)) {
        free(val);
        return MS_SMT_CORRUPT;
    }
    smt_cache_decoded(t, key + 1, ref->hash, n, val, vlen);
    return MS_SMT_OK;
}

/* Load the node `ref` points to, at nibble depth `depth` on `path`, into n.
 * latest: the tree's latest version now, at least ref's (for the cache's
 * read mark). */
static ms_smt_status smt_load_node(ms_smt *t, const smt_ref *ref, unsigned depth, const uint8_t path[32],
                                   smt_node *n, uint64_t latest)
{
    uint8_t key[NODE_KEY_LEN];
    if (ref->kind != K_NODE || depth > MAX_NIBBLE_DEPTH) return MS_SMT_CORRUPT;
    smt_node_key(key, ref->version, depth, path);
    const int cached = smt_cached_node(t, key, ref, depth, path, n);
    if (cached != 0) return cached > 0 ? MS_SMT_OK : MS_SMT_CORRUPT;
    uint8_t *val = NULL;
    size_t vlen = 0;
    ms_kv_status ks = ms_kv_get(t->kv, &val, &vlen, key, sizeof key);
    if (ks != MS_KV_OK) return smt_from_kv(ks);   /* a missing node is corruption */
    if (latest > t->read_cached_hi) t->read_cached_hi = latest;
    return smt_adopt_record(t, key, ref, depth, path, val, vlen, n);
}

/* ------------------------------------------------------ meta and versions */

ms_smt_status smt_read_meta(ms_smt *t, smt_meta *m)
{
    const uint8_t key[1] = {MS_SMT_TAG_META};
    uint8_t *val = NULL;
    size_t vlen = 0;
    memset(m, 0, sizeof *m);
    ms_kv_status ks = ms_kv_get(t->kv, &val, &vlen, key, sizeof key);
    if (ks == MS_KV_NOT_FOUND) {
        m->fresh = 1;
        return MS_SMT_OK;
    }
    if (ks != MS_KV_OK) return smt_from_kv(ks);
    ms_smt_status s = MS_SMT_CORRUPT;
    if (vlen == 17 && val[0] == META_FORMAT) {
        m->latest = ms_get_be64(val + 1);
        m->oldest = ms_get_be64(val + 9);
        if (m->oldest <= m->latest) s = MS_SMT_OK;
    }
    free(val);
    return s;
}

void smt_write_meta(ms_kv_batch *b, const smt_meta *m)
{
    const uint8_t key[1] = {MS_SMT_TAG_META};
    uint8_t v[17];
    v[0] = META_FORMAT;
    ms_put_be64(v + 1, m->latest);
    ms_put_be64(v + 9, m->oldest);
    ms_kv_batch_put(b, key, sizeof key, v, sizeof v);
}

/* Version record: format | prev u64 | next u64 (0: none) | entries u64 |
 * stale chunks u32 | root kind u8 |
 * [hash 32 | leaf: path 32, valueHash 32 | node: version u64]. */
void smt_write_vrec(ms_kv_batch *b, uint64_t version, const smt_vrec *r)
{
    uint8_t key[9], v[VREC_BASE + 96];
    size_t n = VREC_BASE;
    vrec_key(key, version);
    v[0] = VREC_FORMAT;
    ms_put_be64(v + 1, r->prev);
    ms_put_be64(v + 9, r->next);
    ms_put_be64(v + 17, r->entries);
    ms_put_be32(v + 25, r->stale_chunks);
    v[29] = r->root.kind;
    if (r->root.kind != K_EMPTY) {
        memcpy(v + VREC_BASE, r->root.hash, 32);
        n += 32;
        if (r->root.kind == K_LEAF) {
            memcpy(v + n, r->root.path, 32);
            memcpy(v + n + 32, r->root.vh, 32);
            n += 64;
        } else {
            ms_put_be64(v + n, r->root.version);
            n += 8;
        }
    }
    ms_kv_batch_put(b, key, sizeof key, v, n);
}

/* Reads the record of a version in the retained chain described by m. */
ms_smt_status smt_read_vrec(ms_smt *t, const smt_meta *m, uint64_t version, smt_vrec *r)
{
    memset(r, 0, sizeof *r);
    if (m->fresh) return version == 0 ? MS_SMT_OK : MS_SMT_NOT_RETAINED;
    if (version < m->oldest || version > m->latest) return MS_SMT_NOT_RETAINED;
    uint8_t key[9];
    uint8_t *val = NULL;
    size_t vlen = 0;
    vrec_key(key, version);
    ms_kv_status ks = ms_kv_get(t->kv, &val, &vlen, key, sizeof key);
    if (ks == MS_KV_NOT_FOUND) return MS_SMT_NOT_RETAINED;   /* a height with no block */
    if (ks != MS_KV_OK) return smt_from_kv(ks);
    int ok = vlen >= VREC_BASE && val[0] == VREC_FORMAT;
    if (ok) {
        r->prev = ms_get_be64(val + 1);
        r->next = ms_get_be64(val + 9);
        r->entries = ms_get_be64(val + 17);
        r->stale_chunks = ms_get_be32(val + 25);
        r->root.kind = val[29];
        switch (r->root.kind) {
        case K_EMPTY: ok = vlen == VREC_BASE && r->entries == 0; break;
        case K_LEAF:
            ok = vlen == VREC_BASE + 96 && r->entries == 1;
            if (ok) {
                memcpy(r->root.hash, val + VREC_BASE, 32);
                memcpy(r->root.path, val + VREC_BASE + 32, 32);
                memcpy(r->root.vh, val + VREC_BASE + 64, 32);
            }
            break;
        case K_NODE:
            ok = vlen == VREC_BASE + 40 && r->entries >= 2;
            if (ok) {
                memcpy(r->root.hash, val + VREC_BASE, 32);
                r->root.version = ms_get_be64(val + VREC_BASE + 32);
                ok = r->root.version >= 1 && r->root.version <= version;
            }
            break;
        default: ok = 0;
        }
        if (ok && version > 0 && r->prev >= version) ok = 0;
        if (ok && r->stale_chunks > UINT32_MAX / STALE_CHUNK_ENTRIES) ok = 0;
        if (ok && r->next != 0 && r->next <= version) ok = 0;
    }
    free(val);
    return ok ? MS_SMT_OK : MS_SMT_CORRUPT;
}

/* ------------------------------------------------------------------ pruning */

/* Delete the `chunks` lists of nodes made stale by `version`, and with
 * nodes != 0 the nodes they list (pruning). A rollback keeps the nodes: the
 * versions that made them stale are the ones being dropped. */
static int stale_cmp(const void *a, const void *b)
{
    return memcmp(a, b, STALE_ENTRY_LEN);
}

/* Delete the n node records listed in entries (STALE_ENTRY_LEN bytes each),
 * in key order: RocksDB's memtable inserts ordered keys (deletes are
 * inserts of tombstones) far faster than scattered ones. */
static ms_smt_status delete_nodes(ms_smt *t, ms_kv_batch *b, const uint8_t *entries, size_t n)
{
    if (n == 0) return MS_SMT_OK;
    uint8_t *sorted = malloc(n * STALE_ENTRY_LEN + 1);
    if (sorted == NULL) return MS_SMT_NOMEM;
    memcpy(sorted, entries, n * STALE_ENTRY_LEN);
    qsort(sorted, n, STALE_ENTRY_LEN, stale_cmp);
    uint8_t nkey[NODE_KEY_LEN];
    nkey[0] = MS_SMT_TAG_NODE;
    for (size_t i = 0; i < n; i++) {
        memcpy(nkey + 1, sorted + i * STALE_ENTRY_LEN, STALE_ENTRY_LEN);
        ms_kv_batch_delete(b, nkey, sizeof nkey);
        if (t->read_cached_hi != 0) smt_cache_remove(t, nkey + 1);   /* a proof at an old height may have cached it */
    }
    free(sorted);
    return MS_SMT_OK;
}

/* Delete the `chunks` lists of nodes made stale by `version`, and with
 * nodes != 0 the nodes they list (pruning). A rollback keeps the nodes: the
 * versions that made them stale are the ones being dropped. */
static ms_smt_status drop_stale_lists(ms_smt *t, ms_kv_batch *b, uint64_t version, uint32_t chunks, int nodes)
{
    uint8_t *all = NULL;
    size_t n = 0;
    ms_smt_status s = MS_SMT_OK;
    for (uint32_t chunk = 0; chunk < chunks && s == MS_SMT_OK; chunk++) {
        uint8_t key[13];
        smt_stale_key(key, version, chunk);
        ms_kv_batch_delete(b, key, sizeof key);
        if (!nodes) continue;
        uint8_t *val = NULL;
        size_t vlen = 0;
        ms_kv_status ks = ms_kv_get(t->kv, &val, &vlen, key, sizeof key);
        if (ks != MS_KV_OK) {
            s = smt_from_kv(ks);   /* a missing list is corruption */
            break;
        }
        if (vlen == 0 || vlen % STALE_ENTRY_LEN != 0 || vlen > STALE_CHUNK_ENTRIES * STALE_ENTRY_LEN) {
            free(val);
            s = MS_SMT_CORRUPT;
            break;
        }
        uint8_t *grown = realloc(all, n * STALE_ENTRY_LEN + vlen);
        if (grown == NULL) {
            free(val);
            s = MS_SMT_NOMEM;
            break;
        }
        all = grown;
        memcpy(all + n * STALE_ENTRY_LEN, val, vlen);
        n += vlen / STALE_ENTRY_LEN;
        free(val);
    }
    if (s == MS_SMT_OK && n > 0) s = delete_nodes(t, b, all, n);
    free(all);
    return s;
}

ms_smt_status smt_prune_walk(ms_smt *t, ms_kv_batch *b, smt_meta *m, uint64_t keep_from, pending *p)
{
    uint64_t cur = m->oldest;
    while (cur < keep_from && cur != m->latest) {
        uint64_t next;
        if (p != NULL && cur == p->prev) {
            next = p->version;
        } else {
            smt_vrec r;
            ms_smt_status s = smt_read_vrec(t, m, cur, &r);
            if (s == MS_SMT_NOT_RETAINED) s = MS_SMT_CORRUPT;   /* the chain is broken */
            if (s != MS_SMT_OK) return s;
            next = r.next;
        }
        if (next <= cur || next > m->latest) return MS_SMT_CORRUPT;
        uint8_t key[9];
        vrec_key(key, cur);
        ms_kv_batch_delete(b, key, sizeof key);
        /* Nodes `next` made stale are reachable from `cur` and older only. */
        if (p != NULL && next == p->version) {
            ms_smt_status s = delete_nodes(t, b, p->stale, p->nstale);
            if (s != MS_SMT_OK) return s;
            p->consumed = 1;
        } else {
            smt_vrec nr;
            ms_smt_status s = smt_read_vrec(t, m, next, &nr);
            if (s == MS_SMT_NOT_RETAINED) s = MS_SMT_CORRUPT;
            if (s == MS_SMT_OK) s = drop_stale_lists(t, b, next, nr.stale_chunks, 1);
            if (s != MS_SMT_OK) return s;
        }
        cur = next;
    }
    m->oldest = cur;
    /* The stale lists of every version up to the oldest one are done. */
    if (cur >= t->read_cached_hi) t->read_cached_hi = 0;
    return MS_SMT_OK;
}

ms_smt_status ms_smt_prune(ms_smt *t, ms_kv_batch *b, uint64_t keep_from)
{
    smt_meta m;
    if (t == NULL || b == NULL) return MS_SMT_ARGUMENT;
    ms_smt_settle(t);
    ms_smt_status s = smt_read_meta(t, &m);
    if (s != MS_SMT_OK || m.fresh || keep_from <= m.oldest) return s;
    s = smt_prune_walk(t, b, &m, keep_from, NULL);
    if (s == MS_SMT_OK) smt_write_meta(b, &m);
    return s;
}

/* ----------------------------------------------------------------- rollback */

/* Delete the nodes written by `version` under ref (nibble depth `depth`,
 * prefix in pfx). */
static ms_smt_status drop_version_nodes(ms_smt *t, ms_kv_batch *b, uint64_t version, const smt_ref *ref,
                                        unsigned depth, uint8_t pfx[32])
{
    if (ref->kind != K_NODE || ref->version != version) return MS_SMT_OK;
    smt_node *n = &t->work[depth];
    /* The rollback empties the cache afterwards, and its mark with it. */
    ms_smt_status s = smt_load_node(t, ref, depth, pfx, n, version);
    if (s != MS_SMT_OK) return s;
    uint8_t key[NODE_KEY_LEN];
    smt_node_key(key, version, depth, pfx);
    ms_kv_batch_delete(b, key, sizeof key);
    for (unsigned slot = 0; slot < 16; slot++) {
        if (n->kind[slot] != K_NODE || n->version[slot] != version) continue;
        smt_ref child;   /* a copy: the recursion reuses deeper scratch nodes only */
        smt_slot_get(n, slot, &child);
        set_nib(pfx, depth, slot);
        s = drop_version_nodes(t, b, version, &child, depth + 1, pfx);
        set_nib(pfx, depth, 0);
        if (s != MS_SMT_OK) return s;
    }
    return MS_SMT_OK;
}

ms_smt_status ms_smt_rollback(ms_smt *t, ms_kv_batch *b, uint64_t version, uint8_t root32[32])
{
    if (t == NULL || b == NULL) return MS_SMT_ARGUMENT;
    ms_smt_settle(t);
    smt_meta m;
    smt_vrec target;
    ms_smt_status s = smt_read_meta(t, &m);
    if (s == MS_SMT_OK) s = smt_read_vrec(t, &m, version, &target);
    if (s != MS_SMT_OK) return s;
    if (version == m.latest) {
        if (root32 != NULL) memcpy(root32, target.root.hash, 32);
        return MS_SMT_OK;
    }
    uint64_t cur = m.latest;
    while (s == MS_SMT_OK && cur != version) {
        smt_vrec r;
        uint8_t key[9], pfx[32] = {0};
        s = smt_read_vrec(t, &m, cur, &r);
        if (s == MS_SMT_NOT_RETAINED) s = MS_SMT_CORRUPT;
        if (s == MS_SMT_OK) s = drop_version_nodes(t, b, cur, &r.root, 0, pfx);
        if (s == MS_SMT_OK) s = drop_stale_lists(t, b, cur, r.stale_chunks, 0);
        if (s == MS_SMT_OK) {
            vrec_key(key, cur);
            ms_kv_batch_delete(b, key, sizeof key);
            if (r.prev < version) s = MS_SMT_CORRUPT;   /* version is not in the chain */
            cur = r.prev;
        }
    }
    /* Nodes of the dropped versions may be cached; their keys will be reused. */
    smt_cache_clear(t);
    t->cache_hi = 0;
    if (s != MS_SMT_OK) return s;
    target.next = 0;
    smt_write_vrec(b, version, &target);
    m.latest = version;
    smt_write_meta(b, &m);
    if (root32 != NULL) memcpy(root32, target.root.hash, 32);
    return MS_SMT_OK;
}

/* -------------------------------------------------------------------- reads */

ms_smt_status ms_smt_info(ms_smt *t, uint64_t *latest, uint64_t *oldest, uint8_t root32[32])
{
    smt_meta m;
    smt_vrec r;
    if (t == NULL) return MS_SMT_ARGUMENT;
    ms_smt_status s = smt_read_meta(t, &m);
    if (s == MS_SMT_OK) s = smt_read_vrec(t, &m, m.latest, &r);
    if (s == MS_SMT_NOT_RETAINED) s = MS_SMT_CORRUPT;
    if (s != MS_SMT_OK) return s;
    if (latest != NULL) *latest = m.latest;
    if (oldest != NULL) *oldest = m.oldest;
    if (root32 != NULL) memcpy(root32, r.root.hash, 32);
    return MS_SMT_OK;
}

ms_smt_status ms_smt_root(ms_smt *t, uint64_t version, uint8_t root32[32], uint64_t *entries)
{
    smt_meta m;
    smt_vrec r;
    if (t == NULL) return MS_SMT_ARGUMENT;
    ms_smt_status s = smt_read_meta(t, &m);
    if (s == MS_SMT_OK) s = smt_read_vrec(t, &m, version, &r);
    if (s != MS_SMT_OK) return s;
    if (root32 != NULL) memcpy(root32, r.root.hash, 32);
    if (entries != NULL) *entries = r.entries;
    return MS_SMT_OK;
}

/* What the walk along a path found. */
typedef struct walk_result {
    unsigned kind;          /* MS_SMT_PROOF_* */
    unsigned depth;         /* binary depth of the terminal subtree */
    uint8_t leaf_path[32], leaf_vh[32];
    uint8_t bitmap[32];
    uint8_t sibs[256][32];
    size_t nsibs;
} walk_result;

static ms_smt_status walk(ms_smt *t, uint64_t version, const uint8_t path[32], walk_result *w)
{
    smt_meta m;
    smt_vrec r;
    memset(w->bitmap, 0, sizeof w->bitmap);
    w->nsibs = 0;
    w->depth = 0;
    ms_smt_status s = smt_read_meta(t, &m);
    if (s == MS_SMT_OK) s = smt_read_vrec(t, &m, version, &r);
    if (s != MS_SMT_OK) return s;

    smt_ref cur = r.root;   /* the subtree at binary depth w->depth on path */
    unsigned k = 0;         /* nibble depth of the node being walked */
    while (cur.kind == K_NODE) {
        smt_node *n = &t->work[k];
        s = smt_load_node(t, &cur, k, path, n, m.latest);
        if (s != MS_SMT_OK) return s;
        unsigned i = 1;     /* heap index in n; entry 1 is a NODE by construction */
        for (;;) {
            const unsigned bit = bit_at(path, w->depth);
            uint8_t sk, ck;
            const uint8_t *sh, *ch;
            heap_get(n, 2 * i + (1u - bit), &sk, &sh);
            if (sk != K_EMPTY) {
                set_bit(w->bitmap, w->depth);
                memcpy(w->sibs[w->nsibs++], sh, 32);
            }
            w->depth++;
            i = 2 * i + bit;
            heap_get(n, i, &ck, &ch);
            if (i >= 16) {
                smt_slot_get(n, i - 16, &cur);   /* empty, a leaf, or the next node */
                k++;
                break;
            }
            if (ck == K_EMPTY) {
                smt_ref_empty(&cur);
                break;
            }
            if (ck == K_LEAF) {
                /* The one leaf among the slots under i. */
                const unsigned lvl = i >= 8 ? 3u : i >= 4 ? 2u : 1u;
                const unsigned first = (i << (4u - lvl)) - 16u, span = 1u << (4u - lvl);
                int found = -1;
                for (unsigned sl = first; sl < first + span; sl++) {
                    if (n->kind[sl] != K_EMPTY) {
                        if (found >= 0 || n->kind[sl] != K_LEAF) return MS_SMT_CORRUPT;
                        found = (int)sl;
                    }
                }
                if (found < 0) return MS_SMT_CORRUPT;
                smt_slot_get(n, (unsigned)found, &cur);
                break;
            }
        }
    }
    if (cur.kind == K_EMPTY) {
        w->kind = MS_SMT_PROOF_ABSENT_EMPTY;
    } else {
        w->kind = memcmp(cur.path, path, 32) == 0 ? MS_SMT_PROOF_INCLUSION : MS_SMT_PROOF_ABSENT_LEAF;
        memcpy(w->leaf_path, cur.path, 32);
        memcpy(w->leaf_vh, cur.vh, 32);
    }
    return MS_SMT_OK;
}

ms_smt_status ms_smt_get(ms_smt *t, uint64_t version, const uint8_t *key, size_t klen, int *present,
                         uint8_t value_hash32[32])
{
    if (t == NULL) return MS_SMT_ARGUMENT;
    ms_smt_settle(t);
    uint8_t path[32];
    walk_result *w = malloc(sizeof *w);
    if (w == NULL) return MS_SMT_NOMEM;
    ms_keccak256(path, key, klen);
    ms_smt_status s = walk(t, version, path, w);
    if (s == MS_SMT_OK) {
        const int in = w->kind == MS_SMT_PROOF_INCLUSION;
        if (present != NULL) *present = in;
        if (value_hash32 != NULL) {
            if (in) memcpy(value_hash32, w->leaf_vh, 32);
            else memset(value_hash32, 0, 32);
        }
    }
    free(w);
    return s;
}

ms_smt_status ms_smt_prove(ms_smt *t, uint64_t version, const uint8_t *key, size_t klen, uint8_t *out,
                           size_t cap, size_t *len, int *present)
{
    if (t == NULL || out == NULL || len == NULL) return MS_SMT_ARGUMENT;
    ms_smt_settle(t);
    uint8_t path[32];
    walk_result *w = malloc(sizeof *w);
    if (w == NULL) return MS_SMT_NOMEM;
    ms_keccak256(path, key, klen);
    ms_smt_status s = walk(t, version, path, w);
    if (s == MS_SMT_OK) {
        const size_t bm = (w->depth + 7u) / 8u;
        const size_t term = w->kind == MS_SMT_PROOF_INCLUSION ? 32u : w->kind == MS_SMT_PROOF_ABSENT_LEAF ? 64u : 0u;
        const size_t n = 36u + bm + term + 32u * w->nsibs;
        if (n > cap) {
            s = MS_SMT_ARGUMENT;
        } else {
            size_t o = 36;
            out[0] = MS_SMT_PROOF_FORMAT;
            out[1] = (uint8_t)w->kind;
            memcpy(out + 2, path, 32);
            out[34] = (uint8_t)(w->depth >> 8);
            out[35] = (uint8_t)w->depth;
            memcpy(out + o, w->bitmap, bm);
            o += bm;
            if (w->kind == MS_SMT_PROOF_ABSENT_LEAF) {
                memcpy(out + o, w->leaf_path, 32);
                o += 32;
            }
            if (w->kind != MS_SMT_PROOF_ABSENT_EMPTY) {
                memcpy(out + o, w->leaf_vh, 32);
                o += 32;
            }
            for (size_t i = 0; i < w->nsibs; i++, o += 32) memcpy(out + o, w->sibs[i], 32);
            *len = o;
            if (present != NULL) *present = w->kind == MS_SMT_PROOF_INCLUSION;
        }
    }
    free(w);
    return s;
}

/* ---------------------------------------------------------------- lifecycle */

ms_smt_status ms_smt_open(ms_smt **out, ms_kv *kv, size_t cache_nodes)
{
    if (out == NULL) return MS_SMT_ARGUMENT;
    *out = NULL;
    if (kv == NULL || cache_nodes > (1u << 24)) return MS_SMT_ARGUMENT;
    ms_smt *t = calloc(1, sizeof *t);
    if (t == NULL) return MS_SMT_NOMEM;
    t->kv = kv;
    t->free_head = -1;
    t->threads = 2;
    t->parallel_min = MS_SMT_PARALLEL_MIN;
    t->keccak = MS_KECCAK_IMPL_BEST;
    for (unsigned d = 0; d < CACHE_DEPTHS; d++) t->head[d] = t->tail[d] = -1;
    t->work = malloc((MAX_NIBBLE_DEPTH + 2) * sizeof *t->work);
    if (t->work == NULL) {
        ms_smt_close(t);
        return MS_SMT_NOMEM;
    }
    if (cache_nodes > 0) {
        size_t nb = 1;
        while (nb < 2 * cache_nodes) nb *= 2;
        t->ents = malloc(cache_nodes * sizeof *t->ents);
        t->buckets = malloc(nb * sizeof *t->buckets);
        if (t->ents == NULL || t->buckets == NULL) {
            ms_smt_close(t);
            return MS_SMT_NOMEM;
        }
        t->cap = cache_nodes;
        t->nbuckets = nb;
        /* Room for every entry's record at the largest size, the bound
         * [HOST-54] states whatever the mix of sizes over time, in whole
         * chunks (a cache of fewer than 128 nodes still gets one). */
        const size_t need = cache_nodes * (size_t)MS_REC_SLAB_MAX;
        ms_rec_slab_init(&t->slab, (need + MS_REC_SLAB_CHUNK - 1u) / MS_REC_SLAB_CHUNK * MS_REC_SLAB_CHUNK);
        smt_cache_clear(t);
    }
    smt_meta m;
    ms_smt_status s = smt_read_meta(t, &m);
    if (s != MS_SMT_OK) {
        ms_smt_close(t);
        return s;
    }
    t->cache_hi = m.latest;
    *out = t;
    return MS_SMT_OK;
}

void ms_smt_last_stats(const ms_smt *t, ms_smt_stats *st)
{
    *st = t->stats;
}

ms_smt_status ms_smt_set_keccak(ms_smt *t, ms_keccak_impl impl)
{
    if (t == NULL || !ms_keccak_impl_available(impl)) return MS_SMT_ARGUMENT;
    t->keccak = impl;
    return MS_SMT_OK;
}

ms_smt_status ms_smt_set_parallel(ms_smt *t, unsigned threads, size_t min_ops)
{
    if (t == NULL || threads < 1 || threads > 2 || min_ops == 0) return MS_SMT_ARGUMENT;
    t->threads = threads;
    t->parallel_min = min_ops;
    return MS_SMT_OK;
}

void ms_smt_close(ms_smt *t)
{
    if (t == NULL) return;
    smt_cache_clear(t);
    smt_scratch_free(t->scratch);
    free(t->work);
    for (unsigned d = 0; d <= MAX_NIBBLE_DEPTH; d++) free(t->pre[d]);
    free(t->ents);
    free(t->buckets);
    free(t);
}
