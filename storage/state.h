/* The pending state: reads see the block's overlay first, then the committed
 * store; writes go to the overlay only (storage/journal.h). Disk is written
 * by ms_state_commit alone, in one synced batch. */
#ifndef MS_STORAGE_STATE_H
#define MS_STORAGE_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/journal.h"
#include "storage/kv.h"
#include "storage/records.h"

typedef enum ms_state_status {
    MS_STATE_OK = 0,
    MS_STATE_NOT_FOUND = 1,
    MS_STATE_FAULT = 2       /* I/O, memory or a record that does not decode */
} ms_state_status;

struct ms_smt;
struct ms_rcache;

/* Committed-store reads are kept for two purposes: to answer a repeated
 * read without RocksDB, and to tell the journal what a key held before the
 * block when the block then writes it (a read-modify-write: asset, nonce,
 * pruned version record), so that commit need not read it again for the
 * undo record.
 * - Small records (at most MS_RCACHE_VALUE_MAX bytes) live in the record
 *   cache (storage/record_cache.h), which outlives blocks: each commit puts
 *   the values it wrote, a rollback or a failed commit clears it.
 * - Larger ones, up to MS_STATE_RECENT_MAX bytes (every record but a larger
 *   ciphertext: the largest other is a grant with the ceiling's wrapped
 *   key), stay in a ring of the block's last few reads, cleared by every
 *   commit and rollback. Bounded, so a call's memory stays within
 *   [HOST-51]'s slack. */
#define MS_STATE_RECENT 8
#define MS_STATE_RECENT_MAX 2048u

typedef struct ms_recent_read {
    uint8_t key[MS_KEY_MAX];
    size_t klen;        /* 0: empty slot (every key has a tag byte) */
    int present;
    uint8_t *val;       /* owned; NULL when absent or empty */
    size_t vlen;
} ms_recent_read;

/* Largest write batch (RocksDB's encoding, bytes) that commit keeps for the
 * next block. Reusing it saves regrowing and copying the batch every block
 * (about a tenth of the tree's part of a commit); a larger one is freed so
 * that one huge block does not pin its memory (spec/host-abi.md [HOST-54]). */
#define MS_STATE_BATCH_KEEP (32u << 20)

/* A big block's commit writes the tree's records outside RocksDB's
 * write-ahead log (spec/storage.md [ST-24]): they reach the disk with the
 * next memtable flush, and a crash loses the versions written since, which
 * open rebuilds from the undo records. At most ms_state_tree_lag_max(R)
 * versions are ever in memtables only: at most R, the undo records kept, so
 * that every lost version has its undo record, and at most
 * MS_STATE_TREE_LAG_CAP, to bound a rebuild. A commit waits for a flush at
 * the bound, unless RocksDB flushed by itself in between (a full memtable:
 * about 64 MB, a few blocks of 10,000 writes). */
#define MS_STATE_TREE_LAG_CAP 64u

/* Fewest state writes of a block whose tree records skip the log. A
 * smaller block's tree records (tens of KB) cost less in the log than the
 * flushes that records outside it need (a flush of a small memtable costs
 * about 8 ms; make bench's blocks of 1,000 and more all skip it). Once a
 * block skipped the log, every block does until the next flush, so that a
 * logged tree version never lands on one a crash can lose. */
#define MS_STATE_UNLOGGED_MIN 256u

/* The tree's unlogged write of a commit, which runs on a thread of its
 * own after that commit returned (storage/tree_writer.c, [ST-24]): the
 * tree's records into RocksDB's memtable, then the flush accounting of
 * storage/tree_flush.c. Every later call that needs them joins it first. */
typedef struct ms_tree_write {
    pthread_t thread;
    int running;             /* 1 from its start to its join */
    int rc;                  /* MS_OK, or the first such write's failure: sticky, every
                                later commit, rollback, root or proof returns it */
    uint64_t height;         /* the commit's */
    uint32_t reorg_depth;
    int big;                 /* the block had st->unlogged_min writes or more */
    int timed;               /* ms_state_commit_timed: the thread reads the clock */
    int fail;                /* st->fail_tree_write, taken at the start */
    int result;              /* Out: the thread's ms_rc */
    int flushed;             /* Out: 1 when it waited for a flush */
    uint64_t write_ns, flush_ns;   /* Out, when timed */
} ms_tree_write;

typedef struct ms_state {
    ms_kv *kv;
    ms_journal *journal;
    struct ms_smt *smt;      /* the authenticated tree over every state record */
    struct ms_rcache *records; /* committed small records, kept across blocks */
    uint8_t *scratch;        /* the last larger value read from the committed store */
    ms_recent_read recent[MS_STATE_RECENT];
    unsigned recent_next;    /* the slot the next read replaces */
    ms_kv_batch *batch;      /* commit's logged write batch, emptied and kept for the next
                                block (NULL until the first commit, or after a block whose
                                batch was larger than MS_STATE_BATCH_KEEP) */
    ms_kv_batch *tree_batch; /* commit's unlogged batch of the tree's records, kept alike;
                                the tree writer's while tree_write.running */
    ms_tree_write tree_write;
    /* [ST-24] (storage/tree_flush.c): the highest tree version known to be
     * on disk (later ones are in RocksDB's memtables only), and for each
     * later one, unflushed_from, unflushed_from + 1, ..., the value of
     * ms_kv_entries_written once it was written, to learn when RocksDB's
     * own flushes took them. */
    uint64_t tree_durable;
    uint64_t unflushed_from;
    uint64_t unflushed_entries[MS_STATE_TREE_LAG_CAP];
    unsigned unflushed;
    uint64_t height;         /* last committed height */
    uint8_t root[32];        /* last committed root */
    /* Storage limits of one block ([HOST-52]): MS_MAX_BLOCK_ENTRIES and
     * MS_UNDO_RECORD_MAX, set by ms_state_open. Fields, not constants, only
     * so that tests can reach them with small blocks. */
    size_t max_entries;
    size_t max_undo;
    size_t batch_keep;       /* MS_STATE_BATCH_KEEP (a field for the same reason) */
    size_t unlogged_min;     /* MS_STATE_UNLOGGED_MIN (likewise: tests take small blocks
                                outside the log) */
    int fail_tree_write;     /* 0; tests set it to 1 to make the next tree write fail
                                (MS_ERR_IO) without writing, as a failing disk would */
} ms_state;

/** Open the store in dir, check or write the schema version, load the
 *  committed height and root, and rebuild the tree versions that a crash
 *  lost ([ST-24]) with pruning below height - reorg_depth, as the commits
 *  that made them did. Returns an ms_rc value (memsync.h): MS_ERR_CORRUPT
 *  when the tree is ahead of the head, or behind it by blocks whose undo
 *  records are gone, or rebuilt to another root. */
int ms_state_open(ms_state *st, const char *dir, uint32_t reorg_depth);
void ms_state_close(ms_state *st);

/** Retention is fixed for the life of a store (spec/storage.md [ST-9],
 *  spec/host-abi.md [HOST-53]): the first call on a store records k under
 *  meta key 00 05 (one synced batch); every later call compares.
 *  Returns: MS_OK, MS_ERR_CONFIG (the store records another K; nothing is
 *  written), MS_ERR_CORRUPT (the record is not 4 bytes), or an I/O ms_rc. */
int ms_state_fix_retention(ms_state *st, uint32_t k);

/** Read a raw value. On MS_STATE_OK, *val stays valid until the next read or
 *  write on st. */
ms_state_status ms_state_get(ms_state *st, const uint8_t **val, size_t *vlen, const ms_key *key);

/** Returns MS_STATE_OK or MS_STATE_FAULT (out of memory). */
ms_state_status ms_state_put(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen);
ms_state_status ms_state_delete(ms_state *st, const ms_key *key);

/** ms_state_put for a key the caller knows the committed store does not
 *  hold: a version above the asset's committed head, and its ciphertext
 *  (versions are append-only; a rollback removes the ones it undoes). The
 *  journal notes the prior as absent, so commit reads nothing for the undo
 *  record. Used on a key the store does hold, a rollback of this block would
 *  delete it instead of restoring it. */
ms_state_status ms_state_put_new(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen);

/** ms_state_put_new with keccak256(val) (hash32), which the caller computed
 *  from exactly these bytes (a ciphertext's hash, checked and signed in the
 *  call): commit does not hash the value again for the state tree. Test
 *  builds check it. hash32 NULL: not known (ms_state_put_new). */
ms_state_status ms_state_put_new_hashed(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen,
                                        const uint8_t hash32[32]);

/* Typed accessors: MS_STATE_NOT_FOUND when absent, MS_STATE_FAULT when a
 * stored record does not decode. */
ms_state_status ms_state_get_asset(ms_state *st, ms_asset *a, const uint8_t asset32[32]);
ms_state_status ms_state_put_asset(ms_state *st, const uint8_t asset32[32], const ms_asset *a);
ms_state_status ms_state_get_version(ms_state *st, ms_version *v, const uint8_t asset32[32], uint64_t version);
ms_state_status ms_state_put_version(ms_state *st, const uint8_t asset32[32], uint64_t version, const ms_version *v);
/** ms_state_put_version for a version above the committed head (ms_state_put_new). */
ms_state_status ms_state_put_new_version(ms_state *st, const uint8_t asset32[32], uint64_t version,
                                         const ms_version *v);
/** Out: g (its wrapped_key points into storage valid until the next access). */
ms_state_status ms_state_get_grant(ms_state *st, ms_grant *g, const uint8_t asset32[32], const uint8_t grantee20[20]);
ms_state_status ms_state_put_grant(ms_state *st, const uint8_t asset32[32], const uint8_t grantee20[20], const ms_grant *g);
ms_state_status ms_state_get_slot(ms_state *st, uint8_t grantee20[20], const uint8_t asset32[32], uint32_t slot);
/** A missing nonce is 0. */
ms_state_status ms_state_get_nonce(ms_state *st, uint64_t *nonce, const uint8_t addr20[20]);
ms_state_status ms_state_put_nonce(ms_state *st, const uint8_t addr20[20], uint64_t nonce);

/* ----------------------------------------------------- blocks (block.c) */

static inline uint64_t ms_state_tree_lag_max(uint32_t reorg_depth)
{
    return reorg_depth < MS_STATE_TREE_LAG_CAP ? reorg_depth : MS_STATE_TREE_LAG_CAP;
}

/** Write the overlay, the block's undo record, height and root in one
 *  synced batch (the undo record that falls out of the reorg window goes in
 *  the same batch), then, for a big block, the tree update without the log
 *  ([ST-24]; a small block's is in the synced batch), then clear the
 *  overlay.
 *  height must be last + 1 (any height >= 1 for the first block). Returns
 *  an ms_rc value; on failure the overlay is kept and the caller must not
 *  commit again (the module poisons the instance): nothing was written, or,
 *  when the tree's write or a flush failed after the synced batch, the
 *  block is on disk with its tree behind, which the next open rebuilds.
 *  A block beyond the storage limits (more than max_entries keys, an undo
 *  record over max_undo bytes) is MS_ERR_IO, found before anything is
 *  written.
 *  Out: root32 (the new state root). */
int ms_state_commit(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth);

/** Where a commit's time went, for benchmarks only (bench/bench_commit.c):
 *  ms_state_commit never reads a clock. ns each, monotonic wall time. */
typedef struct ms_commit_times {
    uint64_t entries;     /* the block's journal entries */
    uint64_t undo_ns;     /* the undo record: priors not known from the block's reads */
    uint64_t encode_ns;   /* state records, undo and head put into the batch */
    uint64_t tree_ns;     /* ms_smt_apply_entries: hashes, node reads, node records */
    uint64_t write_ns;    /* the synced, logged RocksDB write of the block, and the start of the
                             thread that writes the tree's records after the commit returns */
    uint64_t after_ns;    /* record cache update, journal cleared */
    uint64_t overlapped;  /* 1 when the undo record and the state records went into the batch on a
                             second thread during the tree's update: undo_ns and that part of
                             encode_ns are then that thread's, and tree_ns the wall time of both */
    /* The previous commit's tree write, which ran after that commit
     * returned (storage/tree_writer.c): its thread's times, beside the
     * block executed since; and how long this commit waited for it. */
    uint64_t prev_write_ns;   /* its unlogged write of the tree's records */
    uint64_t prev_flush_ns;   /* the memtable flush that bounds the tree's unlogged versions
                                 ([ST-24]), when it waited for one */
    uint64_t prev_flushes;    /* 1 when it did, else 0 */
    uint64_t prev_wait_ns;    /* this commit's wait at its start for that thread */
} ms_commit_times;

#ifndef MS_BUILDING_MODULE
/** ms_state_commit, timing its parts into *times (Out). Not in the module
 *  (built with MS_BUILDING_MODULE): benchmarks link the storage sources. */
int ms_state_commit_timed(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth,
                          ms_commit_times *times);
#endif

/** The root committed at a retained height (the tree keeps the last
 *  reorg_depth). Returns MS_OK, MS_ERR_HEIGHT (not retained) or an I/O ms_rc. */
int ms_state_root_at(ms_state *st, uint8_t root32[32], uint64_t height);

/** Undo committed blocks down to height in one synced batch and drop the
 *  overlay (after a flush, when the tree has versions not yet on disk). Returns MS_OK, MS_ERR_HEIGHT, MS_ERR_REORG_DEPTH, or an I/O ms_rc;
 *  on any failure nothing was written and the overlay is kept. */
int ms_state_rollback(ms_state *st, uint64_t height, uint32_t reorg_depth);

/* ----------------------------------------------------- proofs (proof.c) */

/** A state proof bundle (spec/state.md "State proof bundle") for key at a
 *  retained height: the record's value at that height and the tree proof.
 *  Returns MS_OK, MS_ERR_HEIGHT (not retained), MS_ERR_ARGUMENT (cap too
 *  small: MS_STATE_PROOF_MAX always suffices), or an I/O ms_rc.
 *  Out: out (cap bytes), out_len. */
int ms_state_prove(ms_state *st, uint8_t *out, size_t cap, size_t *out_len, uint64_t height, const ms_key *key);

/* The tree's unlogged versions (storage/tree_flush.c, [ST-24]). */

/** After commit `height` wrote its tree records without the log: note the
 *  version, learn which earlier ones RocksDB's flushes took to disk, and
 *  wait for a flush at the bound (ms_state_tree_lag_max), or halfway there
 *  when the block was small (fewer than st->unlogged_min writes). Returns
 *  MS_OK or an I/O ms_rc (a flush failed). Out: *flushed (1 when it
 *  waited for a flush). */
int ms_state_tree_unlogged(ms_state *st, uint64_t height, uint32_t reorg_depth, int big, int *flushed);

/** Every tree version up to height is on disk (logged with its block,
 *  flushed, rolled back to, or found at open). */
void ms_state_tree_durable(ms_state *st, uint64_t height);

/** Rebuild the tree versions after `from` (the tree's latest) up to
 *  st->height from the undo records and the committed state, each version
 *  pruned below its height - reorg_depth and written synced; then check the
 *  rebuilt root against st->root. Used by ms_state_open (tree_rebuild.c).
 *  Returns MS_OK, MS_ERR_CORRUPT (an undo record missing or malformed, a
 *  root that differs), MS_ERR_NOMEM or an I/O ms_rc. */
int ms_state_rebuild_tree(ms_state *st, uint64_t from, uint32_t reorg_depth);

/* The tree's unlogged write after the commit (storage/tree_writer.c). */

/** Start the unlogged write of st->tree_batch (commit `height`'s tree
 *  records, complete) on a thread that outlives the call, followed by
 *  ms_state_tree_unlogged; or do both on the calling thread when no
 *  thread starts. The batch is the thread's until ms_state_tree_join.
 *  Returns MS_OK when the thread started (its result comes at the join),
 *  else the result of the write done here (an I/O ms_rc, also kept for
 *  the join). timed: the thread times its parts, for the next
 *  ms_state_tree_join's times. */
int ms_state_tree_write_start(ms_state *st, uint64_t height, uint32_t reorg_depth, int big, int timed);

/** Wait for the tree write still running, if any, and release its batch
 *  (ms_state_release_batch). Returns MS_OK, or the failure of any tree
 *  write since the open (sticky: the store's tree is behind its head until
 *  a restart rebuilds it). Out: times' prev_ fields (times may be NULL). */
int ms_state_tree_join(ms_state *st, ms_commit_times *times);

/** Empty one of the commit's batches for the next block, or free it (*batch
 *  = NULL) when it grew larger than st->batch_keep. */
void ms_state_release_batch(const ms_state *st, ms_kv_batch **batch);

/** CLOCK_MONOTONIC in ns, for the timed commit; 0 in the module, which
 *  never reads a clock. */
uint64_t ms_state_clock_ns(void);

/** Forget the block's recent reads (the committed store is about to
 *  change); the record cache is the committing code's to keep coherent. */
void ms_state_forget_reads(ms_state *st);

/* Status conversions shared by the storage files (return ms_rc values). */
int ms_rc_from_kv(ms_kv_status s);
int ms_rc_from_smt(int smt_status);

#endif
