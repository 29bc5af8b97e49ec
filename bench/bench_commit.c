/* Where commit_block's time goes (issue 15, "State root at scale": less
 * work in commit_block per write: measure where its time goes and cut each
 * part), at the storage level, without the module.
 *
 * A block's commit (storage/block.c, ms_state_commit) is, in order:
 *   undo    sorting the block's journal entries and building the block's
 *           undo record (priors the block's own reads did not already tell)
 *   encode  putting the state records, the undo record and the head
 *           (height, root) into the batch
 *   tree    ms_smt_apply_entries: key and value hashes, node reads (cache
 *           or RocksDB), node hashes, node records, stale list, pruning
 *   write   the synced, logged RocksDB write of the block (state, undo
 *           record, head), and the start of the tree writer
 *   after   the record cache learns the written values, the journal clears
 * and, after commit returns, on the tree writer's thread (storage/
 * tree_writer.c, spec/storage.md [ST-13] step 4, [ST-24]):
 *   treewr  a big block's tree records, without the log, and
 *   flush   the memtable flush it waits for when the tree's unlogged
 *           versions reach their bound (one commit in min(R, 64) at
 *           most): counted, and averaged over the rounds.
 * A chain runs that thread beside the next block's execution; here it is
 * waited for (untimed) as soon as the commit returns, so that it never
 * runs beside the batch's timing, and reported on its own, with the ratio
 * of the commit and it together to the batch.
 * ms_state_commit_timed is the same commit with a clock read between the
 * parts. This program times each part per write, against a synced RocksDB
 * batch of the same records alone (the physical floor of a durable block:
 * what a store without a state root, undo record or cache would pay), and
 * shows how much of the tree part is Keccak: after each commit the tree's
 * stats (ms_smt_last_stats) give its keccak256 calls, and the same number
 * of calls on inputs of the same sizes is timed alone on one thread,
 * batched as the tree hashes and one at a time (bench/bench_keccak_alone.h). When
 * the tree hashed on 2 threads (stats threads == 2), its wall time can be
 * below that single-thread Keccak time.
 *
 * bench/bench.c measures the same commit through the module's .so (after
 * real createMemory calls) and holds the gate (commit at most 1.5 times
 * the batch for 10,000 writes); this program only reports. Its exit status
 * is 0 unless something fails (I/O, a record that does not decode).
 *
 * The store. A fresh ms_state (default options, as the module opens it)
 * pre-filled with PREFILL asset-shaped records (key 0x01 || 32-byte id,
 * 124-byte asset record) in blocks of PREFILL_BLOCK at heights 1, 2, ...,
 * retention REORG_DEPTH, so that the tree has the depth of a used chain
 * and the node cache its steady contents. The batch's store is its own,
 * fresh, opened as bench/bench.c's limit_open does (default options,
 * synced write), so that the floor is not charged for the state's size.
 *
 * Block shapes, each block a new height:
 *  (a) SHAPE_NEW_WRITES new asset records (like as many createMemory calls:
 *      ms_state_get of the absent key first, as the module does, so the
 *      undo prior is known from the read; then ms_state_put);
 *  (b) SHAPE_UPD_WRITES updates of distinct existing records (get, decode,
 *      a new head version, encode, put);
 *  (c) APPEND_PER_BLOCK signed 1 KiB appends, bench/bench.c's block (282
 *      fill 30 M gas), with the reads and the six writes of
 *      module/op_append.c: the signer's nonce, a new version record and its
 *      ciphertext, the asset record, and the version APPEND_K below losing
 *      its ciphertext (read first; deleted) and becoming pruned. Its assets
 *      (APPEND_POOL, APPEND_K versions each) are filled in one block after
 *      the asset records. Its batch holds the same writes in the order
 *      made, as bench.c's limit puts them; figures are per state write
 *      (6 per append).
 * Rounds. WARM_ROUNDS uncounted rounds, whose blocks fill the reorg
 * window (so that every counted commit prunes a tree version, as a chain's
 * does in steady state: the 10,000-write shape's store then holds several
 * hundred thousand records more, and the tree their nodes and the window's
 * stale ones), then ROUNDS counted rounds; in each, the three
 * shapes, their order alternating from round to round, and within a shape
 * the commit and the batch alternating which goes first, so that the load
 * of a shared 2-core machine weighs on both alike. A figure is the median
 * of its rounds, a ratio the median of the rounds' ratios; the range is
 * printed with it. The 10,000-write ratio is counted against issue 15's
 * target (at most TARGET_RATIO): "missed in k of n rounds".
 *
 * Peak memory: the process's peak resident set (getrusage), the state's
 * RocksDB, node and record caches plus the batch's store, printed against
 * MS_MEMORY_BOUND_MIB (module/memsync.h); reported, not gated.
 *
 * Usage: bench_commit [--json FILE]. JSON: ns per write (medians), the
 * rounds' ratios, the tree's stats per write, peak RSS. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rocksdb/c.h>

#include "abi/keccak.h"
#include "bench/bench_keccak_alone.h"
#include "bench/bench_dirs.h"
#include "bench/bench_rounds.h"
#include "memsync.h"
#include "storage/records.h"
#include "storage/smt.h"
#include "storage/state.h"

#define PREFILL 100000u
#define PREFILL_BLOCK 10000u
#define REORG_DEPTH 64u
#define ROUNDS 9                 /* counted; odd, so a median is one round's figure */
/* Uncounted rounds first: their blocks pass the reorg window (see Rounds). */
#define WARM_ROUNDS (REORG_DEPTH / NSHAPES + 1)
#define SHAPE_NEW_WRITES 10000u
#define SHAPE_UPD_WRITES 1000u
#define TARGET_RATIO 1.5         /* issue 15: commit / batch for 10,000 writes */
#define KEY_LEN 33u              /* ms_key_asset: tag || id */
#define NSHAPES 3
/* Shape (c): bench/bench.c's signed-append block, at the storage level. */
#define APPEND_POOL 512u         /* assets, each appended to at most once a block (bench.c's POOL) */
#define APPEND_K 8u              /* retained versions (the default config's) */
#define APPEND_PER_BLOCK 282u    /* signed 1 KiB appends that fill a 30 M gas block */
#define APPEND_CT 1024u
#define APPEND_ID_BASE ((uint64_t)1 << 40)   /* ids apart from the asset records' */
#define LOG_MAX (APPEND_PER_BLOCK * 6u)
#define LOG_ARENA (APPEND_PER_BLOCK * (APPEND_CT + 2u * MS_VERSION_RECORD_SIZE + MS_ASSET_RECORD_SIZE + 64u))

/* The tree's stats, per write unless noted. */
enum { ST_OPS, ST_OP_HASHES, ST_NODE_HASHES, ST_NODES_CACHED, ST_NODES_READ, ST_READ_CALLS_BLOCK, ST_NODES_WRITTEN,
       ST_BYTES_WRITTEN, ST_THREADS, NSTATS };
static const char *const STAT_NAMES[NSTATS] = { "ops", "op_hashes", "node_hashes", "nodes_cached", "nodes_read",
                                                "read_calls_per_block", "nodes_written", "bytes_written",
                                                "threads" };

/* Commit parts, in block.c's order, then the whole; then the tree's write
 * that runs after commit returns (not in the whole), and its flush. */
enum { P_UNDO, P_ENCODE, P_TREE, P_WRITE, P_AFTER, P_OTHER, P_TOTAL, P_BG, P_FLUSH, NPARTS };
static const char *const PART_NAMES[NPARTS] = { "undo", "encode", "tree", "write", "after", "other",
                                                "total", "treewr", "flush" };
static const char *const PART_WHAT[NPARTS] = {
    "sort the entries, build the undo record",
    "records, undo and head into the batch",
    "ms_smt_apply_entries",
    "the synced RocksDB write; the tree writer's start",
    "record cache, journal cleared",
    "outside the parts (clock reads, call)",
    "ms_state_commit_timed, wall",
    "after the return: the tree's unlogged write, on its thread",
    "of which the memtable flush bounding the unlogged versions",
};

enum { SHAPE_NEW, SHAPE_UPDATE, SHAPE_APPEND };

typedef struct shape {
    const char *name;         /* for the JSON */
    const char *what;         /* for the report */
    size_t writes;            /* state writes per block */
    int kind;                 /* SHAPE_NEW, SHAPE_UPDATE or SHAPE_APPEND */
    /* Per counted round, ns per write unless noted. */
    double part[NPARTS][ROUNDS];
    double exec[ROUNDS];      /* get + put before the commit (not part of it) */
    double batch[ROUNDS];     /* the raw batch, first put to the synced write's return */
    double batch_put[ROUNDS]; /* of which the puts */
    double ratio[ROUNDS];     /* commit total / batch */
    double write_ratio[ROUNDS]; /* commit's synced write / batch */
    double with_tree_ratio[ROUNDS]; /* (commit total + the tree's write after it) / batch */
    double keccak[ROUNDS];    /* the tree's keccak256 calls timed alone, batched as the tree hashes */
    double keccak1[ROUNDS];   /* the same, one call at a time */
    double keccak_share[ROUNDS]; /* keccak alone / tree part */
    double stat[NSTATS][ROUNDS];
    uint64_t entries;         /* journal entries of the last block */
    uint64_t flushes;         /* counted rounds whose commit flushed ([ST-24]) */
    uint64_t overlapped;      /* counted rounds whose undo and encode ran beside the tree */
} shape;

/* One write of a shape (c) block, for its batch. */
typedef struct log_entry {
    uint8_t key[MS_KEY_MAX];
    size_t klen, voff, vlen;   /* the value at arena + voff */
    int del;
} log_entry;

typedef struct bench {
    ms_state st;
    char state_dir[40];
    char batch_dir[40];
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_writeoptions_t *wsync;
    rocksdb_writebatch_t *wb;
    uint64_t height;          /* last committed */
    uint64_t next_id;         /* the next new record's index */
    uint64_t rng;
    uint32_t *perm;           /* indices of the prefilled records, shuffled for updates */
    uint8_t *keys;            /* a block's keys, KEY_LEN each, for the batch */
    uint8_t *vals;            /* its values, MS_ASSET_RECORD_SIZE each */
    /* Shape (c)'s writes in the order made, for its batch. */
    log_entry log[LOG_MAX];
    size_t nlog, arena_used;
    uint8_t arena[LOG_ARENA];
    uint32_t append_next;     /* the next asset of the pool */
} bench;

static bench *g_bench;        /* for die(): remove the temporary stores */

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_commit: %s failed (%d)\n", what, rc);
    /* Files of a store still open can be unlinked on Linux; a failed run
     * should not leave a few hundred MB in /tmp. */
    if (g_bench != NULL) {
        if (g_bench->state_dir[0] != '\0') bench_rm_rf(g_bench->state_dir);
        if (g_bench->batch_dir[0] != '\0') bench_rm_rf(g_bench->batch_dir);
    }
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Record i's asset id: 32 pseudo-random bytes that depend on i alone, so
 * an update finds the id of a prefilled record without a table of them.
 * (The tree places a key by keccak256 of it, so any distinct ids do.) */
static void id_of(uint8_t id[32], uint64_t i)
{
    uint64_t s = i * 4u + 0x5eed;
    for (int w = 0; w < 4; w++) {
        const uint64_t x = splitmix64(&s);
        for (int k = 0; k < 8; k++) id[8 * w + k] = (uint8_t)(x >> (8 * k));
    }
}

/* A fresh asset record as createMemory writes it: owner, key epoch 1,
 * the creation block; metadata from the id so the values differ. */
static void new_asset(ms_asset *a, const uint8_t id[32], uint64_t height)
{
    memset(a, 0, sizeof *a);
    memcpy(a->owner, id + 12, 20);
    a->key_epoch = 1;
    memcpy(a->metadata, id, 32);
    a->created_block = height;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---- shape (c): signed appends, as module/op_append.c writes them ---- */

static void rand_bytes(uint64_t *rng, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        const uint64_t x = splitmix64(rng);
        for (size_t k = 0; k < 8 && i + k < n; k++) out[i + k] = (uint8_t)(x >> (8 * k));
    }
}

/* The write just made to key k, as the overlay holds it, into the log for
 * the batch (a put's bytes read back through the state's overlay). */
static void log_write(bench *b, const ms_key *k, int del)
{
    if (b->nlog == LOG_MAX) die("append log full", 0);
    log_entry *e = &b->log[b->nlog++];
    memcpy(e->key, k->bytes, k->len);
    e->klen = k->len;
    e->del = del;
    e->voff = b->arena_used;
    e->vlen = 0;
    if (del) return;
    const uint8_t *val;
    size_t vlen;
    const ms_state_status g = ms_state_get(&b->st, &val, &vlen, k);
    if (g != MS_STATE_OK || b->arena_used + vlen > LOG_ARENA) die("append log read-back", (int)g);
    memcpy(b->arena + b->arena_used, val, vlen);
    e->vlen = vlen;
    b->arena_used += vlen;
}

/* A version record and its 1 KiB ciphertext, as an append writes them. */
static void put_version_and_ct(bench *b, const uint8_t id[32], uint64_t version, uint64_t height, int log)
{
    uint8_t ct[APPEND_CT], h[32];
    rand_bytes(&b->rng, ct, sizeof ct);
    ms_keccak256(h, ct, sizeof ct);
    ms_version v;
    memset(&v, 0, sizeof v);
    rand_bytes(&b->rng, v.version_hash, 32);
    memcpy(v.ciphertext_hash, h, 32);
    v.key_epoch = 1;
    memcpy(v.author, id + 12, 20);
    v.block = height;
    v.state = MS_VERSION_RETAINED;
    ms_key k;
    ms_key_version(&k, id, version);
    if (ms_state_put_new_version(&b->st, id, version, &v) != MS_STATE_OK) die("put_new_version", 0);
    if (log) log_write(b, &k, 0);
    ms_key_ciphertext(&k, id, version);
    if (ms_state_put_new_hashed(&b->st, &k, ct, sizeof ct, h) != MS_STATE_OK) die("put_new_hashed", 0);
    if (log) log_write(b, &k, 0);
}

/* The pool's assets, each with APPEND_K retained versions, in one block. */
static void prefill_appends(bench *b)
{
    const uint64_t height = ++b->height;
    for (uint32_t i = 0; i < APPEND_POOL; i++) {
        uint8_t id[32];
        id_of(id, APPEND_ID_BASE + i);
        ms_asset a;
        new_asset(&a, id, height);
        for (uint64_t v = 1; v <= APPEND_K; v++) put_version_and_ct(b, id, v, height, 0);
        a.head_version = APPEND_K;
        if (ms_state_put_asset(&b->st, id, &a) != MS_STATE_OK) die("put_asset", 0);
    }
    uint8_t root[32];
    const int rc = ms_state_commit(&b->st, root, height, REORG_DEPTH);
    if (rc != MS_OK) die("prefill commit (appends)", rc);
    printf("and %u assets of %u retained versions (1 KiB ciphertexts) for shape (c), at height %" PRIu64 "\n",
           APPEND_POOL, APPEND_K, height);
}

/* APPEND_PER_BLOCK appends, each to the pool's next asset: the reads and
 * writes of module/op_append.c (the signer's nonce, the new version record
 * and ciphertext, the asset record; the version K below loses its
 * ciphertext, read first for its length, and its record says pruned). The
 * signature check and the call's decoding are not here: this is storage.
 * Returns the time it took, in ns. */
static uint64_t execute_appends(bench *b, uint64_t height)
{
    const uint64_t t0 = now_ns();
    b->nlog = 0;
    b->arena_used = 0;
    for (uint32_t n = 0; n < APPEND_PER_BLOCK; n++) {
        uint8_t id[32];
        id_of(id, APPEND_ID_BASE + b->append_next);
        b->append_next = (b->append_next + 1) % APPEND_POOL;
        ms_asset a;
        if (ms_state_get_asset(&b->st, &a, id) != MS_STATE_OK) die("get_asset", 0);
        uint64_t nonce = 0;
        if (ms_state_get_nonce(&b->st, &nonce, a.owner) != MS_STATE_OK) die("get_nonce", 0);
        if (ms_state_put_nonce(&b->st, a.owner, nonce + 1) != MS_STATE_OK) die("put_nonce", 0);
        ms_key k;
        ms_key_nonce(&k, a.owner);
        log_write(b, &k, 0);
        const uint64_t version = a.head_version + 1;
        put_version_and_ct(b, id, version, height, 1);
        a.head_version = version;
        rand_bytes(&b->rng, a.head_hash, 32);
        if (ms_state_put_asset(&b->st, id, &a) != MS_STATE_OK) die("put_asset", 0);
        ms_key_asset(&k, id);
        log_write(b, &k, 0);
        /* Retention: version - K loses its bytes. */
        const uint64_t old = version - APPEND_K;
        ms_version v;
        if (ms_state_get_version(&b->st, &v, id, old) != MS_STATE_OK) die("get_version", 0);
        const uint8_t *ct;
        size_t ctlen;
        ms_key_ciphertext(&k, id, old);
        if (ms_state_get(&b->st, &ct, &ctlen, &k) != MS_STATE_OK) die("get of a retained ciphertext", 0);
        if (ms_state_delete(&b->st, &k) != MS_STATE_OK) die("delete", 0);
        log_write(b, &k, 1);
        v.state = MS_VERSION_PRUNED;
        if (ms_state_put_version(&b->st, id, old, &v) != MS_STATE_OK) die("put_version", 0);
        ms_key_version(&k, id, old);
        log_write(b, &k, 0);
    }
    return now_ns() - t0;
}

/* The block's work before commit: for each write, ms_state_get (absent for
 * a new record, the prior record for an update) then ms_state_put, as the
 * module's operations do. The keys and values are kept for the batch.
 * Returns the time it took, in ns. */
static uint64_t execute_block(bench *b, const shape *s, uint64_t height)
{
    if (s->kind == SHAPE_APPEND) return execute_appends(b, height);
    const uint64_t t0 = now_ns();
    if (s->kind == SHAPE_UPDATE) {
        /* Distinct prefilled records: the first s->writes of a partial
         * Fisher-Yates shuffle, continued from the last block's order. */
        for (size_t i = 0; i < s->writes; i++) {
            const size_t j = i + (size_t)(splitmix64(&b->rng) % (PREFILL - i));
            const uint32_t t = b->perm[i];
            b->perm[i] = b->perm[j];
            b->perm[j] = t;
        }
    }
    for (size_t i = 0; i < s->writes; i++) {
        uint8_t id[32];
        id_of(id, s->kind == SHAPE_NEW ? b->next_id++ : b->perm[i]);
        ms_key k;
        ms_key_asset(&k, id);
        const uint8_t *val;
        size_t vlen;
        const ms_state_status g = ms_state_get(&b->st, &val, &vlen, &k);
        ms_asset a;
        if (s->kind == SHAPE_NEW) {
            if (g != MS_STATE_NOT_FOUND) die("get of a new record (not absent)", (int)g);
            new_asset(&a, id, height);
        } else {
            if (g != MS_STATE_OK) die("get of a prefilled record", (int)g);
            if (!ms_asset_decode(&a, val, vlen)) die("decode of a prefilled record", 0);
            /* An append: the head moves to a new version with a new hash. */
            a.head_version++;
            for (int w = 0; w < 4; w++) {
                const uint64_t x = splitmix64(&b->rng);
                memcpy(a.head_hash + 8 * w, &x, 8);
            }
        }
        uint8_t *v = b->vals + i * MS_ASSET_RECORD_SIZE;
        ms_asset_encode(v, &a);
        const ms_state_status p = ms_state_put(&b->st, &k, v, MS_ASSET_RECORD_SIZE);
        if (p != MS_STATE_OK) die("ms_state_put", (int)p);
        memcpy(b->keys + i * KEY_LEN, k.bytes, KEY_LEN);
    }
    return now_ns() - t0;
}

/* The floor: the same records in one synced batch of their own store
 * (shape (c): its writes in the order made, as bench.c's limit puts an
 * append's records). Returns its time from the first put to the write's
 * return; Out: put_ns. */
static uint64_t batch_block(bench *b, const shape *s, uint64_t *put_ns)
{
    char *err = NULL;
    const uint64_t t0 = now_ns();
    if (s->kind == SHAPE_APPEND) {
        for (size_t i = 0; i < b->nlog; i++) {
            const log_entry *e = &b->log[i];
            if (e->del) rocksdb_writebatch_delete(b->wb, (const char *)e->key, e->klen);
            else rocksdb_writebatch_put(b->wb, (const char *)e->key, e->klen, (const char *)(b->arena + e->voff), e->vlen);
        }
    } else {
        for (size_t i = 0; i < s->writes; i++) {
            rocksdb_writebatch_put(b->wb, (const char *)(b->keys + i * KEY_LEN), KEY_LEN,
                                   (const char *)(b->vals + i * MS_ASSET_RECORD_SIZE), MS_ASSET_RECORD_SIZE);
        }
    }
    const uint64_t t1 = now_ns();
    rocksdb_write(b->db, b->wsync, b->wb, &err);
    const uint64_t t2 = now_ns();
    if (err != NULL) {
        fprintf(stderr, "bench_commit: rocksdb_write: %s\n", err);
        rocksdb_free(err);
        die("batch write", 0);
    }
    rocksdb_writebatch_clear(b->wb);
    *put_ns = t1 - t0;
    return t2 - t0;
}

/* One block of shape s at the next height, its commit and its batch in the
 * given order, then the Keccak-alone timing. Round r < 0 is the warm-up. */
static void run_shape(bench *b, shape *s, int r, int commit_first)
{
    const uint64_t height = ++b->height;
    const uint64_t exec_ns = execute_block(b, s, height);
    uint64_t cns = 0, bns = 0, pns = 0;
    ms_commit_times t, bg;
    memset(&bg, 0, sizeof bg);
    uint8_t root[32];
    for (int side = 0; side < 2; side++) {
        if ((side == 0) == (commit_first != 0)) {
            const uint64_t t0 = now_ns();
            const int rc = ms_state_commit_timed(&b->st, root, height, REORG_DEPTH, &t);
            cns = now_ns() - t0;
            if (rc != MS_OK) die("ms_state_commit_timed", rc);
            /* The tree's write that outlives the commit, waited for here,
             * untimed, so that it never runs beside the batch's timing:
             * its thread's own times are its figures. */
            const int jrc = ms_state_tree_join(&b->st, &bg);
            if (jrc != MS_OK) die("ms_state_tree_join", jrc);
        } else {
            bns = batch_block(b, s, &pns);
        }
    }
    if (r < 0) return;
    ms_smt_stats ss;
    ms_smt_last_stats(b->st.smt, &ss);
    /* The tree's keccak256 calls: node_hashes 65-byte preimages, op_hashes
     * alternating the key and the value (bench/bench_keccak_alone.h). */
    const uint64_t pairs = (ss.op_hashes + 1) / 2;
    const uint64_t kns = bench_keccak_alone_batched(ss.node_hashes, pairs, KEY_LEN, MS_ASSET_RECORD_SIZE);
    const uint64_t kns1 = bench_keccak_alone_one(ss.node_hashes, pairs, KEY_LEN, MS_ASSET_RECORD_SIZE);

    const double n = (double)s->writes;
    /* Beside the tree (t.overlapped), undo and encode are the second
     * thread's times, inside the tree's wall time: not added again. */
    const uint64_t parts = (t.overlapped ? 0 : t.undo_ns + t.encode_ns) + t.tree_ns + t.write_ns + t.after_ns;
    s->entries = t.entries;
    s->part[P_UNDO][r] = (double)t.undo_ns / n;
    s->part[P_ENCODE][r] = (double)t.encode_ns / n;
    s->part[P_TREE][r] = (double)t.tree_ns / n;
    s->part[P_WRITE][r] = (double)t.write_ns / n;
    s->part[P_BG][r] = (double)(bg.prev_write_ns + bg.prev_flush_ns) / n;
    s->part[P_FLUSH][r] = (double)bg.prev_flush_ns / n;
    s->part[P_AFTER][r] = (double)t.after_ns / n;
    s->flushes += bg.prev_flushes;
    s->overlapped += t.overlapped;
    s->part[P_OTHER][r] = cns > parts ? (double)(cns - parts) / n : 0;
    s->part[P_TOTAL][r] = (double)cns / n;
    s->exec[r] = (double)exec_ns / n;
    s->batch[r] = (double)bns / n;
    s->batch_put[r] = (double)pns / n;
    s->ratio[r] = bns ? (double)cns / (double)bns : NAN;
    s->write_ratio[r] = bns ? (double)t.write_ns / (double)bns : NAN;
    s->with_tree_ratio[r] = bns ? (double)(cns + bg.prev_write_ns + bg.prev_flush_ns) / (double)bns : NAN;
    s->keccak[r] = (double)kns / n;
    s->keccak1[r] = (double)kns1 / n;
    s->keccak_share[r] = t.tree_ns ? (double)kns / (double)t.tree_ns : NAN;
    s->stat[ST_OPS][r] = (double)ss.ops / n;
    s->stat[ST_OP_HASHES][r] = (double)ss.op_hashes / n;
    s->stat[ST_NODE_HASHES][r] = (double)ss.node_hashes / n;
    s->stat[ST_NODES_CACHED][r] = (double)ss.nodes_cached / n;
    s->stat[ST_NODES_READ][r] = (double)ss.nodes_read / n;
    s->stat[ST_READ_CALLS_BLOCK][r] = (double)ss.read_calls;
    s->stat[ST_NODES_WRITTEN][r] = (double)ss.nodes_written / n;
    s->stat[ST_BYTES_WRITTEN][r] = (double)ss.bytes_written / n;
    s->stat[ST_THREADS][r] = (double)ss.threads;
}

static void prefill(bench *b)
{
    static const shape fill = { .name = "prefill", .writes = PREFILL_BLOCK, .kind = SHAPE_NEW };
    const uint64_t t0 = now_ns();
    for (unsigned blk = 0; blk < PREFILL / PREFILL_BLOCK; blk++) {
        const uint64_t height = ++b->height;
        (void)execute_block(b, &fill, height);
        uint8_t root[32];
        const int rc = ms_state_commit(&b->st, root, height, REORG_DEPTH);
        if (rc != MS_OK) die("prefill commit", rc);
    }
    printf("store: %u asset records (33 B keys, %u B values) committed in blocks of %u at heights 1..%" PRIu64
           ", retention %u (%.1f s)\n",
           PREFILL, MS_ASSET_RECORD_SIZE, PREFILL_BLOCK, b->height, REORG_DEPTH, (double)(now_ns() - t0) / 1e9);
}

static void open_batch_store(bench *b)
{
    snprintf(b->batch_dir, sizeof b->batch_dir, "/tmp/memsync-commit-batch-XXXXXX");
    if (mkdtemp(b->batch_dir) == NULL) {
        b->batch_dir[0] = '\0';
        die("mkdtemp (batch)", 0);
    }
    /* As bench/bench.c's limit_open: default options, synced writes. */
    char *err = NULL;
    b->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(b->opts, 1);
    b->db = rocksdb_open(b->opts, b->batch_dir, &err);
    if (err != NULL || b->db == NULL) {
        if (err != NULL) fprintf(stderr, "bench_commit: rocksdb_open: %s\n", err);
        rocksdb_free(err);
        die("rocksdb_open (batch)", 0);
    }
    b->wsync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(b->wsync, 1);
    b->wb = rocksdb_writebatch_create();
}

/* "median [min-max]" of v, with prec decimals. */
static void put_fig(const double *v, int prec)
{
    double lo, hi;
    bench_range(v, ROUNDS, &lo, &hi);
    printf("%8.*f  [%.*f-%.*f]", prec, bench_median(v, ROUNDS), prec, lo, prec, hi);
}

static void report_shape(const shape *s, bench_gate *gate)
{
    printf("\n%s, %d rounds (ns per write, median [min-max]):\n", s->what, ROUNDS);
    for (int p = 0; p < NPARTS; p++) {
        if (p == P_BG) printf("  the commit returned; then:\n");
        printf("  %-7s", PART_NAMES[p]);
        put_fig(s->part[p], 0);
        printf("  %s\n", PART_WHAT[p]);
    }
    double flush_sum = 0;
    for (int r = 0; r < ROUNDS; r++) flush_sum += s->part[P_FLUSH][r];
    if (s->overlapped > 0) {
        printf("  undo and encode built the block's logged batch on a second thread beside the tree in %llu of %d\n"
               "  rounds' commits: their times are that thread's, and the tree's is the wall time of both\n",
               (unsigned long long)s->overlapped, ROUNDS);
    }
    printf("  flushes in %llu of %d rounds' commits (spec/storage.md [ST-24]): %.0f ns per write over all rounds\n",
           (unsigned long long)s->flushes, ROUNDS, flush_sum / ROUNDS);
    printf("  synced batch of the same records alone");
    put_fig(s->batch, 0);
    printf("  (puts %.0f)\n", bench_median(s->batch_put, ROUNDS));
    printf("  commit / batch          ");
    put_fig(s->ratio, 2);
    if (gate != NULL) {
        bench_gate_count(gate, s->ratio, ROUNDS, TARGET_RATIO);
        printf("  issue 15 target at most %.2f: ", TARGET_RATIO);
        bench_gate_print(stdout, gate, "rounds");
    }
    printf("\n    rounds:");
    for (int r = 0; r < ROUNDS; r++) printf(" %.2f", s->ratio[r]);
    printf("\n  with the tree's write after the return, / batch");
    put_fig(s->with_tree_ratio, 2);
    printf("  (that write runs beside the next block's execution)");
    printf("\n  commit's write / batch  ");
    put_fig(s->write_ratio, 2);
    printf("  (its batch also holds the undo record and the head; the tree's nodes go unlogged)\n");
    printf("  tree per write: ops %.2f, op hashes %.2f, node hashes %.2f, nodes cached %.2f, read %.3f "
           "(%.0f read calls per block), written %.2f (%.0f B), threads %.0f\n",
           bench_median(s->stat[ST_OPS], ROUNDS), bench_median(s->stat[ST_OP_HASHES], ROUNDS),
           bench_median(s->stat[ST_NODE_HASHES], ROUNDS), bench_median(s->stat[ST_NODES_CACHED], ROUNDS),
           bench_median(s->stat[ST_NODES_READ], ROUNDS), bench_median(s->stat[ST_READ_CALLS_BLOCK], ROUNDS),
           bench_median(s->stat[ST_NODES_WRITTEN], ROUNDS), bench_median(s->stat[ST_BYTES_WRITTEN], ROUNDS),
           bench_median(s->stat[ST_THREADS], ROUNDS));
    printf("  Keccak alone, the tree's calls on one thread, batched");
    put_fig(s->keccak, 0);
    printf("  = %.0f%% of the tree part", 100.0 * bench_median(s->keccak_share, ROUNDS));
    if (bench_median(s->stat[ST_THREADS], ROUNDS) >= 2) printf(" (which hashed on 2 threads)");
    printf("\n  the same calls one at a time");
    put_fig(s->keccak1, 0);
    printf("\n  before the commit, get + put");
    put_fig(s->exec, 0);
    printf("  (the block's execution, not part of commit)\n");
}

static json_t *jnum(double v)
{
    /* jansson refuses NaN: a figure not measured is null. */
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *jrounds(const double *v)
{
    json_t *a = json_array();
    for (int r = 0; r < ROUNDS; r++) json_array_append_new(a, jnum(v[r]));
    return a;
}

static json_t *jshape(const shape *s, const bench_gate *gate)
{
    json_t *o = json_object();
    json_object_set_new(o, "writes", json_integer((json_int_t)s->writes));
    json_object_set_new(o, "entries", json_integer((json_int_t)s->entries));
    json_t *parts = json_object();
    for (int p = 0; p < NPARTS; p++) json_object_set_new(parts, PART_NAMES[p], jnum(bench_median(s->part[p], ROUNDS)));
    json_object_set_new(o, "commit_ns", parts);
    json_object_set_new(o, "rounds_undo_beside_tree", json_integer((json_int_t)s->overlapped));
    json_object_set_new(o, "commit_total_ns_rounds", jrounds(s->part[P_TOTAL]));
    json_object_set_new(o, "batch_ns", jnum(bench_median(s->batch, ROUNDS)));
    json_object_set_new(o, "batch_put_ns", jnum(bench_median(s->batch_put, ROUNDS)));
    json_object_set_new(o, "batch_ns_rounds", jrounds(s->batch));
    json_object_set_new(o, "ratio_commit_batch", jnum(bench_median(s->ratio, ROUNDS)));
    json_object_set_new(o, "ratio_commit_batch_rounds", jrounds(s->ratio));
    json_object_set_new(o, "ratio_write_batch", jnum(bench_median(s->write_ratio, ROUNDS)));
    json_object_set_new(o, "ratio_commit_and_tree_write_batch", jnum(bench_median(s->with_tree_ratio, ROUNDS)));
    if (gate != NULL) {
        json_object_set_new(o, "target_ratio", json_real(TARGET_RATIO));
        json_object_set_new(o, "rounds_missed", json_integer(gate->missed));
        json_object_set_new(o, "rounds_measured", json_integer(gate->rounds));
    }
    json_object_set_new(o, "keccak_alone_ns", jnum(bench_median(s->keccak, ROUNDS)));
    json_object_set_new(o, "keccak_alone_one_at_a_time_ns", jnum(bench_median(s->keccak1, ROUNDS)));
    json_object_set_new(o, "keccak_share_of_tree", jnum(bench_median(s->keccak_share, ROUNDS)));
    json_object_set_new(o, "exec_get_put_ns", jnum(bench_median(s->exec, ROUNDS)));
    json_t *st = json_object();
    for (int k = 0; k < NSTATS; k++) json_object_set_new(st, STAT_NAMES[k], jnum(bench_median(s->stat[k], ROUNDS)));
    json_object_set_new(o, "tree_stats_per_write", st);
    return o;
}

static void write_json(const char *path, const shape *shapes, const bench_gate *gate, double rss)
{
    json_t *root = json_object();
    json_object_set_new(root, "unit", json_string("ns per write, median of rounds"));
    json_object_set_new(root, "rounds", json_integer(ROUNDS));
    json_object_set_new(root, "prefill_records", json_integer(PREFILL));
    json_object_set_new(root, "reorg_depth", json_integer(REORG_DEPTH));
    json_t *sh = json_object();
    for (int i = 0; i < NSHAPES; i++) json_object_set_new(sh, shapes[i].name, jshape(&shapes[i], i == 0 ? gate : NULL));
    json_object_set_new(root, "shapes", sh);
    json_object_set_new(root, "peak_rss_mib", jnum(rss));
    json_object_set_new(root, "memory_bound_mib", json_integer(MS_MEMORY_BOUND_MIB));
    const int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (rc != 0) die("writing the JSON file", rc);
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_commit [--json FILE]\n");
            return 2;
        }
    }
    const uint64_t run_t0 = now_ns();
    static bench b;
    g_bench = &b;
    b.rng = 0x15c0111117u;
    b.perm = malloc(PREFILL * sizeof *b.perm);
    b.keys = malloc(SHAPE_NEW_WRITES * KEY_LEN);
    b.vals = malloc(SHAPE_NEW_WRITES * MS_ASSET_RECORD_SIZE);
    if (b.perm == NULL || b.keys == NULL || b.vals == NULL) die("malloc", 0);
    for (uint32_t i = 0; i < PREFILL; i++) b.perm[i] = i;

    snprintf(b.state_dir, sizeof b.state_dir, "/tmp/memsync-commit-XXXXXX");
    if (mkdtemp(b.state_dir) == NULL) {
        b.state_dir[0] = '\0';
        die("mkdtemp (state)", 0);
    }
    int rc = ms_state_open(&b.st, b.state_dir, REORG_DEPTH);
    if (rc != MS_OK) die("ms_state_open", rc);
    prefill(&b);
    prefill_appends(&b);
    open_batch_store(&b);

    static shape shapes[NSHAPES] = {
        { .name = "new_10000", .what = "(a) 10000 new asset records per block (get of the absent key, put)",
          .writes = SHAPE_NEW_WRITES, .kind = SHAPE_NEW },
        { .name = "update_1000", .what = "(b) 1000 updates of existing asset records per block (get, put)",
          .writes = SHAPE_UPD_WRITES, .kind = SHAPE_UPDATE },
        { .name = "append_282", .what = "(c) 282 signed 1 KiB appends per block, 6 writes each (bench.c's block)",
          .writes = APPEND_PER_BLOCK * 6u, .kind = SHAPE_APPEND },
    };
    /* Rounds below 0 warm both stores (the batch's is fresh) and fill the
     * reorg window; they are not counted. */
    const uint64_t warm_t0 = now_ns();
    for (int r = -WARM_ROUNDS; r < ROUNDS; r++) {
        if (r == 0) {
            printf("warm-up: %d rounds, %d blocks, the reorg window filled (%.1f s)\n", WARM_ROUNDS,
                   WARM_ROUNDS * NSHAPES, (double)(now_ns() - warm_t0) / 1e9);
        }
        for (int pos = 0; pos < NSHAPES; pos++) {
            const int odd = (int)((unsigned)r & 1u);   /* r < 0 in the warm-up */
            const int k = odd ? NSHAPES - 1 - pos : pos;
            run_shape(&b, &shapes[k], r, (odd + pos) % 2 == 0);
        }
    }

    printf("%d rounds after a warm-up, shapes and the commit/batch order alternating; the store grew to %" PRIu64
           " asset records (height %" PRIu64 ")\n",
           ROUNDS, b.next_id, b.height);
    bench_gate gate;
    report_shape(&shapes[0], &gate);
    report_shape(&shapes[1], NULL);
    report_shape(&shapes[2], NULL);
    const double rss = peak_rss_mib();
    printf("\npeak RSS %.0f MiB (memory bound %u MiB, module/memsync.h; the state's RocksDB and caches plus the "
           "batch's store)\n",
           rss, (unsigned)MS_MEMORY_BOUND_MIB);
    printf("bench_commit: %.0f s (report only; bench/bench.c gates the module)\n",
           (double)(now_ns() - run_t0) / 1e9);

    if (json != NULL) write_json(json, shapes, &gate, rss);

    ms_state_close(&b.st);
    rocksdb_writebatch_destroy(b.wb);
    rocksdb_writeoptions_destroy(b.wsync);
    rocksdb_close(b.db);
    rocksdb_options_destroy(b.opts);
    bench_rm_rf(b.state_dir);
    bench_rm_rf(b.batch_dir);
    free(b.perm);
    free(b.keys);
    free(b.vals);
    return 0;
}
