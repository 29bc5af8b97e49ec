/* Block lifecycle of the committed store: commit, reorg rollback, roots of
 * earlier heights. A commit is one atomic, synced, logged RocksDB batch
 * holding the state writes, the undo record and the head, so a crash leaves
 * the store at one block or the next, never between; the tree's records of
 * the block follow outside RocksDB's write-ahead log, since the undo
 * records rebuild any that a crash loses (spec/storage.md [ST-24],
 * storage/tree_rebuild.c). A rollback is one synced, logged batch of all
 * its writes, tree included. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/abi_encode.h"
#include "memsync.h"
#include "storage/record_cache.h"
#include "storage/smt.h"
#include "storage/state.h"
#include "storage/undo.h"

_Static_assert(MS_MAX_BLOCK_ENTRIES == MS_SMT_MAX_UPDATES, "a block's entries fit one tree update");

/* Undo record of block h (spec/storage.md [ST-17]): prev u64 (the block
 * committed before h, 0 if none) | count u32 | per overlay key in ascending
 * order: klen u8 | key | present u8 | [vlen u32 | value]: the committed
 * value the block replaced. The journal already knows that value for keys
 * the block read before writing them (ms_journal_note_prior); only the
 * others are read from the store, in batched reads of up to UNDO_READ_CHUNK
 * keys (one MultiGet each rather than a lookup per key; the chunk bounds
 * the values held at once, a shredded ciphertext being up to 1 MiB). A
 * record that would not fit a RocksDB value is refused (MS_ERR_IO,
 * [HOST-52]), never cut short. */
#define UNDO_READ_CHUNK 256u

static int build_undo(ms_state *st, ms_buf *undo, const ms_overlay_entry *const *entries, size_t count)
{
    ms_undo_writer w;
    /* Per entry of the chunk: its prior; per read: its key and result. */
    const uint8_t *old[UNDO_READ_CHUNK];
    size_t olen[UNDO_READ_CHUNK];
    int present[UNDO_READ_CHUNK];
    const uint8_t *keys[UNDO_READ_CHUNK];
    size_t klens[UNDO_READ_CHUNK], vlens[UNDO_READ_CHUNK], which[UNDO_READ_CHUNK];
    uint8_t *vals[UNDO_READ_CHUNK];
    int found[UNDO_READ_CHUNK];
    ms_undo_begin(&w, undo, st->height, st->max_undo);
    for (size_t lo = 0; lo < count && w.status == MS_UNDO_OK; lo += UNDO_READ_CHUNK) {
        const size_t n = count - lo < UNDO_READ_CHUNK ? count - lo : UNDO_READ_CHUNK;
        size_t nread = 0;
        for (size_t j = 0; j < n; j++) {
            const ms_overlay_entry *e = entries[lo + j];
            if (ms_journal_prior(st->journal, e, &present[j], &old[j], &olen[j])) continue;
            which[nread] = j;
            keys[nread] = e->key;
            klens[nread++] = e->klen;
        }
        const ms_kv_status ks = ms_kv_multi_get(st->kv, nread, keys, klens, vals, vlens, found);
        if (ks != MS_KV_OK) return ms_rc_from_kv(ks);
        for (size_t r = 0; r < nread; r++) {
            present[which[r]] = found[r];
            old[which[r]] = vals[r];
            olen[which[r]] = vlens[r];
        }
        for (size_t j = 0; j < n; j++) {
            const ms_overlay_entry *e = entries[lo + j];
            ms_undo_add(&w, e->key, e->klen, present[j], old[j], olen[j]);
        }
        for (size_t r = 0; r < nread; r++) free(vals[r]);
    }
    switch (ms_undo_finish(&w)) {
    case MS_UNDO_OK: return MS_OK;
    case MS_UNDO_NOMEM: return MS_ERR_NOMEM;
    default: return MS_ERR_IO;
    }
}

static void put_head(ms_kv_batch *b, uint64_t height, const uint8_t root[32])
{
    ms_key k;
    uint8_t hbuf[8];
    ms_put_be64(hbuf, height);
    ms_key_meta(&k, MS_META_HEIGHT);
    ms_kv_batch_put(b, k.bytes, k.len, hbuf, sizeof hbuf);
    ms_key_meta(&k, MS_META_ROOT);
    ms_kv_batch_put(b, k.bytes, k.len, root, 32);
}

/* `00 04 || height` = the block's root, in its logged batch: what a
 * rebuild of a lost tree version checks that version against ([ST-24]).
 * The window keeps the undo records and roots of the last R blocks,
 * matching the tree versions kept from height - R on: the block leaving
 * it loses both here. */
static void put_root_and_window(ms_kv_batch *b, uint64_t height, uint32_t reorg_depth, const uint8_t root[32])
{
    ms_key k;
    if (height > reorg_depth) {
        ms_key_undo(&k, height - reorg_depth);
        ms_kv_batch_delete(b, k.bytes, k.len);
        ms_key_root_at(&k, height - reorg_depth);
        ms_kv_batch_delete(b, k.bytes, k.len);
    }
    ms_key_root_at(&k, height);
    ms_kv_batch_put(b, k.bytes, k.len, root, 32);
}

#ifdef MS_BUILDING_MODULE
/* The module never times its commit: no clock is even linked into it. */
uint64_t ms_state_clock_ns(void)
{
    return 0;
}
#else
uint64_t ms_state_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Untimed (every consensus path), no clock is read. */
static void mark(int timed, uint64_t *field, uint64_t *t0)
{
    if (!timed) return;
    const uint64_t now = ms_state_clock_ns();
    *field += now - *t0;
    *t0 = now;
}

/* The record cache learns the block's values (a later block reads an asset
 * or nonce it wrote), and the tree's node cache takes the block's nodes
 * (ms_smt_settle). For a big block this runs on a second thread while the
 * calling one writes the block to RocksDB: nothing else touches either
 * cache until commit returns; a write that fails clears the record cache,
 * and the node cache drops nodes of a version never committed at the next
 * apply. */
typedef struct learn_job {
    ms_rcache *cache;
    ms_smt *smt;
    const ms_overlay_entry *const *entries;
    size_t count;
} learn_job;

static void learn(const learn_job *j)
{
    ms_smt_settle(j->smt);
    for (size_t i = 0; i < j->count; i++) {
        const ms_overlay_entry *e = j->entries[i];
        (void)ms_rcache_put(j->cache, e->key, e->klen, !e->deleted, e->val, e->vlen);
    }
}

static void *learn_thread(void *arg)
{
    learn(arg);
    return NULL;
}

/* A block of at least this many state writes teaches the record cache on
 * a second thread during its write. */
#define LEARN_PARALLEL_MIN 256u

/* The logged batch's first part: the undo record is built, then the state
 * records and it are put into b, in ascending key order (state records
 * 01-06 sorted, undo 07; the root, the window's oldest and the head come
 * last, after the tree): RocksDB's memtable inserts ordered keys far
 * faster. For a big block it runs on a second thread beside the
 * tree's update (which then writes its own batch): it only reads the
 * journal and the store, and writes b and the undo buffer, which nothing
 * else touches until the join. */
typedef struct logged_job {
    ms_state *st;
    ms_kv_batch *b;
    ms_buf *undo;
    const ms_overlay_entry *const *entries;
    size_t count;
    uint64_t height;
    int timed;
    int rc;               /* Out */
    uint64_t undo_ns, encode_ns;   /* Out, when timed */
} logged_job;

static void fill_logged(logged_job *j)
{
    uint64_t t0 = j->timed ? ms_state_clock_ns() : 0;
    j->rc = build_undo(j->st, j->undo, j->entries, j->count);
    mark(j->timed, &j->undo_ns, &t0);
    if (j->rc != MS_OK) return;
    for (size_t i = 0; i < j->count; i++) {
        const ms_overlay_entry *e = j->entries[i];
        if (e->deleted) ms_kv_batch_delete(j->b, e->key, e->klen);
        else ms_kv_batch_put(j->b, e->key, e->klen, e->val, e->vlen);
    }
    ms_key k;
    ms_key_undo(&k, j->height);
    ms_kv_batch_put(j->b, k.bytes, k.len, j->undo->data, j->undo->size);
    mark(j->timed, &j->encode_ns, &t0);
}

static void *logged_thread(void *arg)
{
    fill_logged(arg);
    return NULL;
}

static int commit(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth, ms_commit_times *times)
{
    /* Consecutive heights keep the undo records and tree versions of the
     * reorg window aligned; the first block may start anywhere. */
    if (height == 0 || (st->height != 0 && height != st->height + 1)) return MS_ERR_HEIGHT;
    /* Untimed, the marks below write to a local that nobody reads. */
    ms_commit_times untimed;
    const int timed = times != NULL;
    ms_commit_times *tm = timed ? times : &untimed;
    memset(tm, 0, sizeof *tm);
    /* The previous block's tree records, when their write outlived its
     * commit, must be in RocksDB before this tree update reads any. */
    int rc = ms_state_tree_join(st, timed ? tm : NULL);
    if (rc != MS_OK) return rc;
    uint64_t t0 = timed ? ms_state_clock_ns() : 0;
    const ms_overlay_entry *const *entries;
    size_t count;
    if (!ms_journal_sorted(st->journal, &entries, &count)) return MS_ERR_NOMEM;
    /* [HOST-52]: more entries than the tree takes in one version is a
     * block no config accepted by create can produce; refuse it before any
     * work, as the storage limit it is. */
    if (count > st->max_entries) return MS_ERR_IO;
    tm->entries = count;

    uint8_t root[32];
    const int big = count >= st->unlogged_min;
    ms_buf undo;
    ms_buf_init(&undo);
    if (st->batch == NULL) st->batch = ms_kv_batch_create();
    if (st->tree_batch == NULL) st->tree_batch = ms_kv_batch_create();
    ms_kv_batch *const b = st->batch, *const tb = st->tree_batch;
    if (b == NULL || tb == NULL) rc = MS_ERR_NOMEM;
    /* [ST-24]: a big block's tree records skip the log (and so must every
     * block's until a flush has put them all on disk); a small block's
     * stay in its logged batch, where they cost less than the flushes that
     * unlogged records need. */
    const int unlogged = big || st->tree_durable < st->height;
    logged_job lgj = {st, b, &undo, entries, count, height, timed, MS_OK, 0, 0};
    mark(timed, &tm->undo_ns, &t0);   /* the journal's sort */
    if (rc == MS_OK) {
        /* A big block's tree records go to their own batch, so the logged
         * batch's first part (the state records and the undo record) is
         * built beside the tree's update, on a second thread. */
        pthread_t th;
        const int beside = big && pthread_create(&th, NULL, logged_thread, &lgj) == 0;
        tm->overlapped = (uint64_t)beside;
        if (!beside) {
            fill_logged(&lgj);
            rc = lgj.rc;
            tm->undo_ns += lgj.undo_ns;
            tm->encode_ns += lgj.encode_ns;
            if (timed) t0 = ms_state_clock_ns();
        }
        const uint64_t keep_from = height > reorg_depth ? height - reorg_depth : 0;
        /* The tree's own batch is written after the block's: its node
         * records go into it at ms_smt_settle, on the second thread during
         * that write. */
        if (rc == MS_OK && unlogged) {
            rc = ms_rc_from_smt(ms_smt_apply_entries_deferred(st->smt, tb, height, entries, count, keep_from, root));
        } else if (rc == MS_OK) {
            rc = ms_rc_from_smt(ms_smt_apply_entries(st->smt, b, height, entries, count, keep_from, root));
        }
        if (beside) {
            pthread_join(th, NULL);
            tm->undo_ns += lgj.undo_ns;
            tm->encode_ns += lgj.encode_ns;
            if (rc == MS_OK) rc = lgj.rc;
        }
        mark(timed, &tm->tree_ns, &t0);
    }
    const learn_job lj = {st->records, st->smt, entries, count};
    int learned = 0;
    if (rc == MS_OK) {
        put_root_and_window(b, height, reorg_depth, root);
        put_head(b, height, root);
        ms_state_forget_reads(st);
        mark(timed, &tm->encode_ns, &t0);
        pthread_t th;
        learned = count >= LEARN_PARALLEL_MIN && pthread_create(&th, NULL, learn_thread, (void *)&lj) == 0;
        /* [ST-13]: the block (state, undo record, head) in the log, synced;
         * then, when unlogged, the tree's records, which that block
         * rebuilds after a crash ([ST-24]). In this order, what a crash
         * leaves on disk is never a tree ahead of the state. */
        rc = ms_rc_from_kv(ms_kv_write(st->kv, b, 1));
        if (learned) pthread_join(th, NULL);
        else ms_smt_settle(st->smt);   /* the tree's batch is complete only then */
        /* The tree's records, with the flush accounting that bounds the
         * unlogged versions ([ST-24]), on a thread that outlives this
         * call: the next call that reads the tree joins it. (Should no
         * thread start, they are written here and this commit's times
         * count them in write_ns, without a flush count.) */
        if (rc == MS_OK && unlogged) rc = ms_state_tree_write_start(st, height, reorg_depth, big, timed);
        mark(timed, &tm->write_ns, &t0);
    }
    /* [ST-24]: a logged tree version is on disk with its block. */
    if (rc == MS_OK && !unlogged) ms_state_tree_durable(st, height);
    /* A deferred apply's records go into the tree's batch before it is
     * emptied (a failure above may have left them pending); a running tree
     * write empties its batch at its join. */
    ms_smt_settle(st->smt);
    ms_state_release_batch(st, &st->batch);
    if (!st->tree_write.running) ms_state_release_batch(st, &st->tree_batch);
    ms_buf_free(&undo);
    if (rc != MS_OK) {
        /* A write that reported an error may still have reached the store;
         * the cache may have learned values that did not. */
        ms_rcache_clear(st->records);
        return rc;
    }
    /* The store now holds the block's values: the record cache learns them. */
    if (!learned) learn(&lj);
    ms_journal_clear(st->journal);
    st->height = height;
    memcpy(st->root, root, 32);
    memcpy(root32, root, 32);
    mark(timed, &tm->after_ns, &t0);
    return MS_OK;
}

int ms_state_commit(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth)
{
    return commit(st, root32, height, reorg_depth, NULL);
}

#ifndef MS_BUILDING_MODULE
int ms_state_commit_timed(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth,
                          ms_commit_times *times)
{
    return commit(st, root32, height, reorg_depth, times);
}
#endif

int ms_state_root_at(ms_state *st, uint8_t root32[32], uint64_t height)
{
    memset(root32, 0, 32);
    if (height > st->height) return MS_ERR_HEIGHT;
    const int jrc = ms_state_tree_join(st, NULL);   /* the tree's records of the last block */
    if (jrc != MS_OK) return jrc;
    return ms_rc_from_smt(ms_smt_root(st->smt, height, root32, NULL));
}

/* Queue the inverse of block h's undo record into b. Out: prev (the block
 * committed before h). */
static int apply_undo(ms_state *st, ms_kv_batch *b, uint64_t height, uint64_t *prev)
{
    ms_key k;
    uint8_t *rec = NULL;
    size_t len = 0;
    ms_key_undo(&k, height);
    const ms_kv_status s = ms_kv_get(st->kv, &rec, &len, k.bytes, k.len);
    if (s == MS_KV_NOT_FOUND) return MS_ERR_REORG_DEPTH;
    if (s != MS_KV_OK) return ms_rc_from_kv(s);
    ms_undo_reader r;
    ms_undo_entry e;
    int more = ms_undo_open(&r, rec, len) ? 1 : -1;
    while (more > 0 && (more = ms_undo_next(&r, &e)) > 0) {
        if (e.present) ms_kv_batch_put(b, e.key, e.klen, e.val, e.vlen);
        else ms_kv_batch_delete(b, e.key, e.klen);
    }
    *prev = r.prev;
    const int rc = (more < 0 || r.prev >= height) ? MS_ERR_CORRUPT : MS_OK;
    if (rc == MS_OK) {
        ms_kv_batch_delete(b, k.bytes, k.len);
        ms_key_root_at(&k, height);
        ms_kv_batch_delete(b, k.bytes, k.len);
    }
    free(rec);
    return rc;
}

int ms_state_rollback(ms_state *st, uint64_t height, uint32_t reorg_depth)
{
    if (height > st->height) return MS_ERR_HEIGHT;
    if (st->height - height > reorg_depth) return MS_ERR_REORG_DEPTH;
    if (height == st->height) {
        ms_journal_clear(st->journal);
        return MS_OK;
    }
    /* The last block's tree records, and its flush accounting, first. */
    const int jrc = ms_state_tree_join(st, NULL);
    if (jrc != MS_OK) return jrc;

    /* [ST-24]: the rollback's batch, logged, rewrites the tree's head to
     * version height; every version it keeps must be on disk first, or a
     * crash would leave that head without its records. */
    if (st->tree_durable < st->height) {
        const int frc = ms_rc_from_kv(ms_kv_flush(st->kv));
        if (frc != MS_OK) return frc;
        ms_state_tree_durable(st, st->height);
    }
    uint8_t root[32];
    ms_kv_batch *b = ms_kv_batch_create();
    int rc = b == NULL ? MS_ERR_NOMEM : MS_OK;
    /* Which keys the undo records restore is not worth tracking for a rare
     * event: start cold. */
    ms_rcache_clear(st->records);
    if (rc == MS_OK) {
        rc = ms_rc_from_smt(ms_smt_rollback(st->smt, b, height, root));
        if (rc == MS_ERR_HEIGHT) rc = MS_ERR_REORG_DEPTH;   /* the tree version was pruned */
    }
    /* Newest block first: for a key changed in several blocks, the batch's
     * last write is the value from before height + 1. */
    uint64_t h = st->height;
    while (rc == MS_OK && h > height) {
        uint64_t prev = 0;
        rc = apply_undo(st, b, h, &prev);
        h = prev;
    }
    if (rc == MS_OK && h != height) rc = MS_ERR_HEIGHT;   /* not a committed height */
    if (rc == MS_OK) {
        put_head(b, height, root);
        ms_state_forget_reads(st);
        rc = ms_rc_from_kv(ms_kv_write(st->kv, b, 1));
    }
    ms_kv_batch_destroy(b);
    if (rc != MS_OK) return rc;
    ms_journal_clear(st->journal);
    st->height = height;
    ms_state_tree_durable(st, height);
    memcpy(st->root, root, 32);
    return MS_OK;
}
