/* The authenticated state tree (spec/state.md): a sparse Merkle tree over
 * 256-bit paths, path = keccak256(state key), with single-leaf subtrees
 * compacted to their leaf, hashed with Keccak-256:
 *
 *   empty subtree  = 32 zero bytes
 *   leaf           = keccak256(0x00 || path32 || valueHash32), valueHash = keccak256(value)
 *   internal       = keccak256(0x01 || left32 || right32)
 *
 * Storage. Nodes live in the state's RocksDB under their own key tags
 * (0x10-0x13, see spec/state.md "Node store"), grouped four binary levels
 * to a record (a 16-slot "nibble node", as in Jellyfish), and versioned:
 * a node key is 0x10 || version u64 BE || nibble depth u8 || prefix 32, and a
 * node is never rewritten, so the tree of every retained version stays
 * readable. Each version has a record (0x11) with its root, its neighbours
 * in the version chain and the number of entries; each version lists the
 * nodes that it made stale (0x12), so that pruning deletes exactly the
 * nodes that no retained version can reach. Rolling back deletes the nodes
 * of the abandoned versions: the retained version's root is still stored.
 *
 * Versions are block heights: strictly increasing, not necessarily
 * consecutive, version 0 being the empty tree before the first block.
 *
 * Batches. Mutating calls (apply, prune, rollback) read the committed store
 * only (ms_kv_get does not see a pending batch) and add their writes to the
 * caller's ms_kv_batch, so the tree commits atomically with the state. The
 * caller must write or discard that batch before the next mutating call on
 * the same store. On an error the batch holds an unspecified part of the
 * writes: discard it.
 *
 * Ownership (libsecp256k1 style): In: arguments are read only and borrowed
 * for the call; Out: arguments are written only on MS_SMT_OK unless stated;
 * nothing returned points into the tree's memory. The handle borrows kv,
 * which must outlive it. A handle is not thread-safe.
 *
 * Determinism: roots, proofs and stored bytes depend only on the committed
 * store and the arguments. The handle keeps a bounded cache of node records
 * (immutable, keyed by version, checked against their hash when they enter
 * it; shallow levels first); it changes speed, never results. */
#ifndef MS_STORAGE_SMT_H
#define MS_STORAGE_SMT_H

#include <stddef.h>
#include <stdint.h>

#include "abi/keccak_batch.h"
#include "storage/journal.h"
#include "storage/kv.h"

typedef enum ms_smt_status {
    MS_SMT_OK = 0,
    MS_SMT_NOT_RETAINED = 1, /* the version is not in the retained chain */
    MS_SMT_ARGUMENT = 2,     /* bad argument: version not above the latest, duplicate key,
                                too many updates, too small a buffer, NULL batch */
    MS_SMT_IO = 3,           /* RocksDB failed (including a held lock) */
    MS_SMT_NOMEM = 4,
    MS_SMT_CORRUPT = 5       /* a stored tree record does not decode or is inconsistent */
} ms_smt_status;

/* Key tags of the node store (storage/records.h uses 0x00-0x06). */
enum {
    MS_SMT_TAG_NODE = 0x10,    /* 0x10 || version u64 || depth u8 || prefix 32  (42 bytes) */
    MS_SMT_TAG_VERSION = 0x11, /* 0x11 || version u64                           (9 bytes)  */
    MS_SMT_TAG_STALE = 0x12,   /* 0x12 || version u64 || chunk u32               (13 bytes) */
    MS_SMT_TAG_META = 0x13     /* 0x13                                           (1 byte)   */
};

/* Most updates one apply call accepts (a block's writes are bounded by gas;
 * this caps the allocations apply makes). */
#define MS_SMT_MAX_UPDATES (1u << 22)

/* Largest serialized proof: see crypto/smt_verify.h. */
#define MS_SMT_PROOF_MAX 8324u

/* Suggested cache size in nodes. A cached node costs its record (at most
 * 2 KiB: about 1.1 KiB for a node of 16 subtrees, 0.3 KiB for a node of a
 * few leaves) plus about 120 bytes, and is allocated when used: about
 * 100 MiB with 1M entries, 160 MiB with 10M or more, a few MiB with 10,000.
 * The cache keeps the shallowest levels: 131,072 nodes hold the top five
 * levels whole (69,905 nodes) and a quarter of a 1M-entry tree's sixth
 * level, so that an update of a 1M-entry tree reads less than one node from
 * RocksDB (the one holding its leaf, below the fifth level) instead of
 * about two; a node that goes stale leaves the cache at once. */
#define MS_SMT_CACHE_DEFAULT 131072u

/** One update, keyed by path. Fill it with ms_smt_op_set. */
typedef struct ms_smt_op {
    uint8_t path[32];        /* keccak256(key) */
    uint8_t value_hash[32];  /* keccak256(value); zero when deleted */
    int deleted;             /* 1: remove the key (absent keys are a no-op) */
} ms_smt_op;

/** Out: op. In: key (klen bytes), val (vlen bytes, may be NULL when vlen is 0
 *  or deleted), deleted. */
void ms_smt_op_set(ms_smt_op *op, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                   int deleted);

typedef struct ms_smt ms_smt;

/** Open the tree stored in kv. No write happens here: a store without a tree
 *  is the empty tree at version 0. cache_nodes bounds the node cache (0: none;
 *  at most 2^24). When full, the cache evicts the least recently used node of
 *  its deepest level and refuses nodes deeper than all it holds.
 *  Returns: MS_SMT_OK, MS_SMT_NOMEM, MS_SMT_IO, MS_SMT_CORRUPT (meta record).
 *  Out: out (NULL on failure). In: kv (borrowed). */
ms_smt_status ms_smt_open(ms_smt **out, ms_kv *kv, size_t cache_nodes);
void ms_smt_close(ms_smt *t);

/** The committed chain: latest version, oldest retained version, and the
 *  latest root. Out: latest, oldest, root32 (each may be NULL). */
ms_smt_status ms_smt_info(ms_smt *t, uint64_t *latest, uint64_t *oldest, uint8_t root32[32]);

/** Apply updates to the tree of the latest committed version, producing the
 *  tree of `version` (> latest). The ops array is sorted in place by path;
 *  any order is accepted, two ops on one path are MS_SMT_ARGUMENT. An empty
 *  list still creates the version (same root). Then, if keep_from is not 0,
 *  prunes as ms_smt_prune(keep_from) would after the new version (keep_from
 *  may be at most `version`). Adds every write to b.
 *  Returns: MS_SMT_OK, MS_SMT_ARGUMENT, MS_SMT_IO, MS_SMT_NOMEM, MS_SMT_CORRUPT.
 *  Out: root32 (the new root), b. In/Out: ops (reordered). */
ms_smt_status ms_smt_apply(ms_smt *t, ms_kv_batch *b, uint64_t version, ms_smt_op *ops, size_t count,
                           uint64_t keep_from, uint8_t root32[32]);

/** The node cache takes the last apply's records and forgets the nodes it
 *  made stale; after ms_smt_apply_entries_deferred, the apply's node
 *  records go into its batch first. An apply leaves this work pending, so
 *  that a caller may do it on another thread while it writes another batch
 *  (no other call on t may run meanwhile); every call on t that uses the
 *  cache (apply, prune, rollback, get, prove) does it first when it is
 *  still pending. The cache's part is speed only: results never depend on
 *  when, or whether, it runs. */
void ms_smt_settle(ms_smt *t);

/** ms_smt_apply for a block's journal entries (ascending key order, from
 *  ms_journal_sorted). Keys whose first byte is MS_TAG_META (0x00: schema,
 *  height, root) are skipped: they are bookkeeping, not state under the root. */
ms_smt_status ms_smt_apply_entries(ms_smt *t, ms_kv_batch *b, uint64_t version,
                                   const ms_overlay_entry *const *entries, size_t count,
                                   uint64_t keep_from, uint8_t root32[32]);

/** ms_smt_apply_entries, except that the new node records go into b only
 *  at ms_smt_settle: b is incomplete until then and must not be written,
 *  nor freed while the settle is pending (call ms_smt_settle first, also
 *  after a failure elsewhere). For a caller that writes another batch
 *  meanwhile, with the settle on a second thread. The same writes in
 *  another order (the version's other writes come first): the same store
 *  once b is written. */
ms_smt_status ms_smt_apply_entries_deferred(ms_smt *t, ms_kv_batch *b, uint64_t version,
                                            const ms_overlay_entry *const *entries, size_t count,
                                            uint64_t keep_from, uint8_t root32[32]);

/** Drop every retained version below keep_from, except the latest: the
 *  oldest retained version becomes the first chain version >= keep_from (or
 *  the latest when none is). Deletes the nodes only dropped versions can
 *  reach. A keep_from at or below the oldest retained version is a no-op.
 *  Returns: MS_SMT_OK, MS_SMT_IO, MS_SMT_NOMEM, MS_SMT_CORRUPT. Out: b. */
ms_smt_status ms_smt_prune(ms_smt *t, ms_kv_batch *b, uint64_t keep_from);

/** Make `version` (a retained version, possibly version 0 while it is
 *  retained) the latest again: deletes the newer versions' records and nodes.
 *  The state values are the caller's to restore. Clears the node cache.
 *  Returns: MS_SMT_OK, MS_SMT_NOT_RETAINED, MS_SMT_IO, MS_SMT_NOMEM,
 *  MS_SMT_CORRUPT. Out: root32 (the root of `version`, may be NULL), b. */
ms_smt_status ms_smt_rollback(ms_smt *t, ms_kv_batch *b, uint64_t version, uint8_t root32[32]);

/** Root and entry count of a retained version.
 *  Returns: MS_SMT_OK, MS_SMT_NOT_RETAINED, MS_SMT_IO, MS_SMT_NOMEM, MS_SMT_CORRUPT.
 *  Out: root32, entries (each may be NULL). */
ms_smt_status ms_smt_root(ms_smt *t, uint64_t version, uint8_t root32[32], uint64_t *entries);

/** Look a key up in a retained version. Out: present (1 or 0), value_hash32
 *  (keccak256 of the value when present, zero otherwise). */
ms_smt_status ms_smt_get(ms_smt *t, uint64_t version, const uint8_t *key, size_t klen, int *present,
                         uint8_t value_hash32[32]);

/** Build the inclusion or non-inclusion proof of key in a retained version
 *  (format: crypto/smt_verify.h). out must hold cap bytes; MS_SMT_PROOF_MAX
 *  always suffices (MS_SMT_ARGUMENT when cap is too small for this proof).
 *  Out: out, len, present (may be NULL: 1 for an inclusion proof). */
ms_smt_status ms_smt_prove(ms_smt *t, uint64_t version, const uint8_t *key, size_t klen, uint8_t *out,
                           size_t cap, size_t *len, int *present);

/** What the last ms_smt_apply (or ms_smt_apply_entries) call did, for
 *  measurements and tests; never results. Zero before the first apply. */
typedef struct ms_smt_stats {
    uint64_t ops;            /* updates applied (after skipping meta keys) */
    uint64_t op_hashes;      /* keccak256 calls of ms_smt_op_set made by apply_entries (key and value) */
    uint64_t node_hashes;    /* keccak256 of 65-byte preimages: leaves, internal nodes, and the check of
                                each node record read from RocksDB (one for a format 1 record; a
                                compact one's leaf and inner hashes) */
    uint64_t nodes_cached;   /* node records found in the node cache */
    uint64_t nodes_read;     /* node records read from RocksDB */
    uint64_t read_calls;     /* RocksDB read calls that fetched them (one per level: batched) */
    uint64_t nodes_written;  /* node records written */
    uint64_t bytes_written;  /* their value bytes */
    uint64_t threads;        /* 1, or 2 when the update was split over a second thread */
} ms_smt_stats;

/** Out: st (the figures of the last apply on t). */
void ms_smt_last_stats(const ms_smt *t, ms_smt_stats *st);

/* An apply of at least MS_SMT_PARALLEL_MIN updates hashes the subtrees of
 * the root's slots on two threads, which take the slots in turn: the
 * calling thread and one started for the call and joined before it
 * returns (ms_smt_apply_entries also hashes the entries' keys and values
 * on two). With two threads allowed, a level of 64 nodes or more is also
 * read from RocksDB and decoded on two, each taking half the level's nodes
 * (one started and joined per level). Results, stored bytes and the order
 * of the writes never depend on it. */
#define MS_SMT_PARALLEL_MIN 128u

/** Threads an apply may use (1 or 2; 2 when opened) and the fewest updates
 *  that start the second one (tests lower it to 1 to split small blocks).
 *  Returns: MS_SMT_OK, MS_SMT_ARGUMENT (threads not 1 or 2, min_ops 0). */
ms_smt_status ms_smt_set_parallel(ms_smt *t, unsigned threads, size_t min_ops);

/** The Keccak implementation an apply's batched hashing uses
 *  (abi/keccak_batch.h; MS_KECCAK_IMPL_BEST when opened). Results never
 *  depend on it: tests set each one this CPU has and compare roots and
 *  stored bytes. Returns: MS_SMT_OK, MS_SMT_ARGUMENT (unknown, or not
 *  available on this CPU). */
ms_smt_status ms_smt_set_keccak(ms_smt *t, ms_keccak_impl impl);

#endif
