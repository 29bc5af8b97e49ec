/* Internals of the state tree shared by storage/smt.c (node records, the
 * node cache, versions, pruning, rollback, reads) and storage/smt_apply.c
 * (the update of a block). Not part of the API: see storage/smt.h.
 *
 * In memory a stored node is a "nibble node": the 16 subtrees four binary
 * levels below its position (its slots), each empty, a leaf, or another
 * stored node, plus the 15 binary subtrees in between, kept in heap order
 * (index 1 is the node itself, 2i and 2i+1 the children of i, 16 + s is
 * slot s). Each heap entry has a class, EMPTY (no leaf), LEAF (exactly one
 * leaf: its hash is that leaf's hash, wherever it sits) or NODE (two leaves
 * or more: keccak256(0x01 || left || right)), which is exactly the binary
 * definition of the tree with single-leaf subtrees compacted. */
#ifndef MS_STORAGE_SMT_INTERNAL_H
#define MS_STORAGE_SMT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "storage/kv.h"
#include "storage/rec_slab.h"
#include "storage/smt.h"

enum { K_EMPTY = 0, K_LEAF = 1, K_NODE = 2 };

#define NODE_FORMAT_FULL 0x01u     /* with leaf and inner hashes: the cache's form, older stores' records */
#define NODE_FORMAT_COMPACT 0x02u  /* without them: what an apply writes (spec/state.md "Nodes") */
#define VREC_FORMAT 0x01u
#define META_FORMAT 0x01u
#define NODE_KEY_LEN 42u           /* tag, version 8, depth 1, prefix 32 */
#define STALE_ENTRY_LEN 41u        /* a node key without its tag */
#define STALE_CHUNK_ENTRIES 1024u
#define NODE_MAX_BYTES (5u + 16u * 96u + 14u * 32u)      /* a full record */
#define NODE_COMPACT_MAX_BYTES (5u + 16u * 64u)          /* a compact one */
#define MAX_NIBBLE_DEPTH 63u       /* the deepest position a stored node can hold */

/* A subtree reference: a slot of a node, or a version's root. */
typedef struct smt_ref {
    uint8_t kind;
    uint64_t version;     /* K_NODE: the version that wrote the node */
    uint8_t hash[32];     /* zero for K_EMPTY */
    uint8_t path[32];     /* K_LEAF */
    uint8_t vh[32];       /* K_LEAF */
} smt_ref;

/* A stored node, its slots' fields in arrays of their own rather than 16
 * smt_refs: every pass over a node reads the 16 kinds, few read more of a
 * slot, and a slot's fields are written only for what it holds. So a
 * node of three leaves (the deepest level of a big tree) is a few cache
 * lines to decode, not 2 KiB to clear and fill. What a slot s holds by
 * kind[s]: K_EMPTY nothing (its hash is EMPTY whatever hash[s] holds),
 * K_LEAF hash[s] and leaf[s] (path || valueHash), K_NODE hash[s] and
 * version[s]. Likewise an inner entry i of class K_EMPTY hashes as EMPTY
 * whatever ihash[i] holds. smt_slot_get and smt_slot_set convert a slot to
 * and from an smt_ref. */
typedef struct smt_node {
    uint8_t kind[16];     /* the slots' kinds */
    uint8_t ikind[16];    /* heap entries 1..15 (0 unused) */
    uint64_t version[16];
    uint8_t hash[16][32];
    uint8_t ihash[16][32];
    uint8_t leaf[16][64];
} smt_node;

/* Out: r, the reference slot s of n holds (its path and valueHash only
 * for a leaf; EMPTY's hash zero and version 0). */
void smt_slot_get(const smt_node *n, unsigned s, smt_ref *r);
/* Slot s of n holds the subtree r. */
void smt_slot_set(smt_node *n, unsigned s, const smt_ref *r);
/* A node with 16 empty slots and no inner entry set (its other fields
 * are then never read). */
void smt_node_clear(smt_node *n);

/* A cached node: its record as stored (verified when it entered the
 * cache), so that a hit costs a decode but no keccak and no RocksDB read.
 * Encoded records are about half the size of decoded nodes. */
typedef struct cache_ent {
    uint8_t key[STALE_ENTRY_LEN];  /* version 8, depth 1, prefix 32 */
    uint8_t hash[32];     /* the node's own hash */
    uint8_t *rec;         /* the full record, a block of the handle's slab; NULL for a free entry */
    uint32_t len;
    int32_t hnext;        /* next entry in the same bucket, or in the free list */
    int32_t prev, next;   /* list of the entry's depth, head most recently placed */
    uint8_t used;         /* hit since placed: gets a second chance at eviction */
} cache_ent;

#define CACHE_DEPTHS (MAX_NIBBLE_DEPTH + 1u)

struct ms_smt {
    ms_kv *kv;
    smt_node *work;       /* one scratch node per nibble depth 0..64 (reads, rollback) */
    void *pre[MAX_NIBBLE_DEPTH + 1];      /* an apply's decoded nodes per depth, kept for the next */
    size_t pre_cap[MAX_NIBBLE_DEPTH + 1]; /* apply (smt_apply.c), in nodes */
    cache_ent *ents;
    size_t cap, used;
    int32_t *buckets;
    size_t nbuckets;      /* a power of two */
    ms_rec_slab slab;     /* the cached records' blocks */
    int32_t head[CACHE_DEPTHS], tail[CACHE_DEPTHS];  /* one LRU list per nibble depth */
    int32_t free_head;    /* removed entries, chained by hnext */
    uint64_t cache_hi;    /* highest version whose nodes may be in the cache */
    /* The mark of reads outside an apply (a get or a proof, which may walk
     * an older version): 0 when none put nodes in the cache since it was
     * last emptied, else the highest latest version such a read saw (at
     * least 1: a stored node is of version 1 or later). Only such a read
     * can cache a node that is already stale: an apply reads the latest
     * version, and each apply drops the nodes it makes stale
     * (ms_smt_settle). So while this is 0 no pruned node is cached, and
     * pruning skips the cache. A stale node such a read cached was made
     * stale by a version at most read_cached_hi (one made stale later
     * leaves the cache with that apply), so once pruning has passed that
     * version every such node went with it, and the mark is cleared. */
    uint64_t read_cached_hi;
    unsigned threads;     /* ms_smt_set_parallel */
    size_t parallel_min;
    ms_keccak_impl keccak;  /* ms_smt_set_keccak */
    struct smt_scratch *scratch;  /* an apply's buffers, kept for the next (smt_apply.c) */
    ms_smt_stats stats;   /* of the last apply */
};

typedef struct smt_meta {
    uint64_t latest, oldest;
    int fresh;            /* no tree written yet */
} smt_meta;

typedef struct smt_vrec {
    uint64_t prev, next, entries;
    uint32_t stale_chunks;  /* records 0x12 || version || 0 .. stale_chunks-1 */
    smt_ref root;
} smt_vrec;


/* Where apply's pending writes must be seen by the pruning walk: the record
 * of `prev` now has next = `version`, and `version`'s stale list is in
 * memory (set *consumed when pruning deletes those nodes directly). */
typedef struct pending {
    uint64_t prev, version;
    const uint8_t *stale;
    size_t nstale;
    int consumed;
} pending;


#define VREC_BASE 30u

/* Statuses, paths and keys. */
ms_smt_status smt_from_kv(ms_kv_status s);
unsigned smt_nib(const uint8_t *p, unsigned d);
void smt_ref_empty(smt_ref *r);
/* A leaf whose hash, leafHash(path, vh), is already known (an apply hashes
 * a block's leaves together). */
void smt_ref_leaf(smt_ref *r, const uint8_t path[32], const uint8_t vh[32], const uint8_t hash32[32]);
int smt_ref_same(const smt_ref *a, const smt_ref *b);
void smt_node_entry(uint8_t out[STALE_ENTRY_LEN], uint64_t version, unsigned depth, const uint8_t path[32]);
void smt_node_key(uint8_t out[NODE_KEY_LEN], uint64_t version, unsigned depth, const uint8_t path[32]);
void smt_stale_key(uint8_t out[13], uint64_t version, uint32_t chunk);

/* Node records. smt_node_rehash (one hash at a time: a single compact
 * record's load, and the reference of smt_node_rehash_many) returns the
 * number of keccak256 calls it made. */
unsigned smt_node_rehash(smt_node *n, uint32_t dirty);

/* Buffers of batched hashing (65-byte preimages and their pointers), kept
 * by their owner between calls; zero-initialise, free with smt_hash_buf_free. */
typedef struct smt_hash_buf {
    uint8_t *img;
    uint8_t **out;
    const uint8_t **in;
    size_t cap;
} smt_hash_buf;
void smt_hash_buf_free(smt_hash_buf *hb);
/* Room for n preimages. Returns 1, or 0 when out of memory. */
int smt_hash_buf_room(smt_hash_buf *hb, size_t n);
/* smt_node_rehash of nodes[k] with dirty[k], k < n, all at once: one heap
 * level of every node at a time, so that the level's hashes share
 * abi/keccak_batch.h's SIMD lanes. The same results and the same count as
 * n calls of smt_node_rehash, with any impl. Returns the number of
 * keccak256 calls, or -1 when out of memory or impl is not available (the
 * nodes' inner entries are then unspecified). */
long smt_node_rehash_many(smt_node *const *nodes, const uint32_t *dirty, size_t n, smt_hash_buf *hb,
                          ms_keccak_impl impl);
/* The full record (format 1) of n, which the node cache keeps. Returns its
 * length. */
size_t smt_node_encode(uint8_t out[NODE_MAX_BYTES], const smt_node *n);
/* The compact record (format 2, what RocksDB gets) of the full record rec
 * that smt_node_encode made (its maps give its length). Returns the
 * compact record's length. */
size_t smt_record_compact(uint8_t out[NODE_COMPACT_MAX_BYTES], const uint8_t *rec);
/* Decode a record of either format, written by `version` at nibble depth
 * `depth` on `path`, into n and check it: its hash must be want32. A full
 * record costs one keccak (none with `verified`: a cached record, checked
 * when it entered the cache), a compact one its leaves' and inner hashes,
 * which checks every one of them. Returns 1, or 0 on any inconsistency. */
int smt_node_decode(smt_node *n, const uint8_t *buf, size_t len, uint64_t version, unsigned depth,
                    const uint8_t path[32], const uint8_t want32[32], int verified);
/* One record of smt_node_decode_many: the arguments of smt_node_decode. */
typedef struct smt_decode_item {
    smt_node *n;          /* Out: the decoded node */
    const uint8_t *rec;   /* In: the record, len bytes */
    size_t len;
    uint64_t version;
    const uint8_t *path;  /* 32 bytes: a path under the node */
    const uint8_t *want;  /* 32 bytes: the node's hash as its parent holds it */
    int verified;
    int format;           /* Out: the record's format, 0 when malformed */
    int ok;               /* Out: smt_node_decode's result */
} smt_decode_item;
/* smt_node_decode of items[0..n), all at nibble depth `depth`, the compact
 * records' hashes batched through impl (hb: scratch). Returns the number of
 * keccak256 calls, or -1 when out of memory (the items' results are then
 * unspecified). */
long smt_node_decode_many(smt_decode_item *items, size_t n, unsigned depth, smt_hash_buf *hb, ms_keccak_impl impl);

/* The node cache (not thread-safe: only the calling thread of an apply uses it). */
void smt_cache_clear(ms_smt *t);
int32_t smt_cache_find(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN]);
/* Cache a copy of the full record rec (len bytes) of the node whose hash is
 * hash32 under key, in a block of the handle's record slab; with owned, rec
 * is malloc'd and freed here. A record the cache's policy or the slab has
 * no room for is not cached (speed only). */
void smt_cache_put(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN], const uint8_t hash32[32], uint8_t *rec,
                   size_t len, int owned);
void smt_cache_remove(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN]);
/* Cache the node n, just decoded from rec (len bytes, malloc'd; taken) as
 * read from RocksDB, in the full form whatever rec's format: a cache hit
 * then costs no hash. */
void smt_cache_decoded(ms_smt *t, const uint8_t key[STALE_ENTRY_LEN], const uint8_t hash32[32], const smt_node *n,
                       uint8_t *rec, size_t len);
/* A hint for a lookup of key a few steps ahead (speed only): entry 0
 * fetches its bucket, entry 1 the first entry of that bucket (call it
 * after the bucket had time to arrive). Loops over many keys touch each
 * bucket and entry once, from a cache far larger than the CPU's. */
void smt_cache_prefetch(const ms_smt *t, const uint8_t key[STALE_ENTRY_LEN], int entry);
/* The node at key (NODE_KEY_LEN bytes) that ref names, from the cache,
 * decoded into n. Returns 1 (decoded), 0 (not cached), -1 (the cached record
 * does not match ref: corrupt). */
int smt_cached_node(ms_smt *t, const uint8_t key[NODE_KEY_LEN], const smt_ref *ref, unsigned depth,
                    const uint8_t path[32], smt_node *n);
/* The record val (vlen bytes, malloc'd; taken) read from RocksDB for key:
 * checked against ref's hash (one keccak), decoded into n and cached.
 * Returns MS_SMT_OK or MS_SMT_CORRUPT. */
ms_smt_status smt_adopt_record(ms_smt *t, const uint8_t key[NODE_KEY_LEN], const smt_ref *ref, unsigned depth,
                               const uint8_t path[32], uint8_t *val, size_t vlen, smt_node *n);

/* Free what applies kept in the handle (NULL: nothing). */
struct smt_scratch;
void smt_scratch_free(struct smt_scratch *sc);

/* Versions and pruning. */
ms_smt_status smt_read_meta(ms_smt *t, smt_meta *m);
void smt_write_meta(ms_kv_batch *b, const smt_meta *m);
void smt_write_vrec(ms_kv_batch *b, uint64_t version, const smt_vrec *r);
ms_smt_status smt_read_vrec(ms_smt *t, const smt_meta *m, uint64_t version, smt_vrec *r);
ms_smt_status smt_prune_walk(ms_smt *t, ms_kv_batch *b, smt_meta *m, uint64_t keep_from, pending *p);

#endif
