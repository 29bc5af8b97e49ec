/* RocksDB behind ms_kv. Every error string RocksDB hands back is classified
 * and freed in the function that received it, so no RocksDB text (which
 * embeds paths, thread ids and clock readings) can reach consensus code. */
#include "storage/kv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

/* Outside the handle, so that reads through a const ms_kv count too.
 * Counted atomically: a block's commit reads the store on two threads at
 * once (the undo record's priors beside the tree's nodes), and the tree's
 * unlogged write may still run while the next block reads. */
typedef struct ms_kv_io {
    _Atomic uint64_t read;
    _Atomic uint64_t written;
    _Atomic uint64_t entries;   /* puts and deletes of the batches written */
} ms_kv_io;

struct ms_kv {
    ms_kv_io *io;
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_readoptions_t *ropts;
    /* One write option set per kind of write, so no write mutates shared
     * options: unsynced, synced, and without the write-ahead log. */
    rocksdb_writeoptions_t *wopts;
    rocksdb_writeoptions_t *wopts_sync;
    rocksdb_writeoptions_t *wopts_unlogged;
    rocksdb_flushoptions_t *flush;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_column_family_handle_t *cf;   /* "default": batched MultiGet takes a handle */
};

/* Wrapped rather than cast, so a failed allocation surfaces as a NULL batch
 * that ms_kv_write reports, and the type stays opaque to callers. */
struct ms_kv_batch {
    rocksdb_writebatch_t *wb;
    int too_large;   /* a put or delete was refused: the batch must not be written */
};

/* RocksDB 7.8 reports a held LOCK file with one of two messages, both from
 * PosixFileSystem::LockFile:
 *   "IO error: lock hold by current process, ...: <dir>/LOCK: ..."
 *   "IO error: While lock file: <dir>/LOCK: Resource temporarily unavailable"
 * Only the text before the path is matched: a plain substring search for
 * "lock" would misread any failure on a path such as /data/blocks. Other
 * LockFile failures (e.g. no permission to open LOCK) are I/O errors. */
static int ms_kv_is_lock_error(const char *err)
{
    static const char *const prefixes[] = {
        "IO error: lock hold by current process",
        "IO error: While lock file: ",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        if (strncmp(err, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    }
    return 0;
}

/* Classifies and frees err; MS_KV_OK when RocksDB reported nothing. */
static ms_kv_status ms_kv_take_error(char *err)
{
    if (err == NULL) return MS_KV_OK;
    ms_kv_status s = ms_kv_is_lock_error(err) ? MS_KV_LOCKED : MS_KV_IO;
    rocksdb_free(err);
    return s;
}

#define MS_KV_CACHE_BYTES ((size_t)64 << 20)

static void ms_kv_free_parts(ms_kv *kv)
{
    if (kv->cf != NULL) rocksdb_column_family_handle_destroy(kv->cf);
    if (kv->db != NULL) rocksdb_close(kv->db);
    if (kv->flush != NULL) rocksdb_flushoptions_destroy(kv->flush);
    if (kv->wopts_unlogged != NULL) rocksdb_writeoptions_destroy(kv->wopts_unlogged);
    if (kv->wopts_sync != NULL) rocksdb_writeoptions_destroy(kv->wopts_sync);
    if (kv->wopts != NULL) rocksdb_writeoptions_destroy(kv->wopts);
    if (kv->ropts != NULL) rocksdb_readoptions_destroy(kv->ropts);
    if (kv->opts != NULL) rocksdb_options_destroy(kv->opts);
    if (kv->table != NULL) rocksdb_block_based_options_destroy(kv->table);
    if (kv->cache != NULL) rocksdb_cache_destroy(kv->cache);
    free(kv->io);
    free(kv);
}

ms_kv_status ms_kv_open(ms_kv **out, const char *dir)
{
    *out = NULL;
    if (dir == NULL) return MS_KV_IO;
    ms_kv *kv = calloc(1, sizeof *kv);
    if (kv == NULL) return MS_KV_NOMEM;
    kv->io = calloc(1, sizeof *kv->io);
    if (kv->io == NULL) {
        free(kv);
        return MS_KV_NOMEM;
    }

    kv->opts = rocksdb_options_create();
    kv->ropts = rocksdb_readoptions_create();
    kv->wopts = rocksdb_writeoptions_create();
    kv->wopts_sync = rocksdb_writeoptions_create();
    kv->wopts_unlogged = rocksdb_writeoptions_create();
    kv->flush = rocksdb_flushoptions_create();
    if (kv->opts == NULL || kv->ropts == NULL || kv->wopts == NULL || kv->wopts_sync == NULL ||
        kv->wopts_unlogged == NULL || kv->flush == NULL) {
        ms_kv_free_parts(kv);
        return MS_KV_NOMEM;
    }
    rocksdb_options_set_create_if_missing(kv->opts, 1);
    /* RocksDB starts a new info log at every open; keep a handful, not 1000. */
    rocksdb_options_set_keep_log_file_num(kv->opts, 4);
    /* Most reads that matter for speed ask for keys that may be absent (a
     * signer's first nonce, a caller without a grant): bloom filters answer
     * those without touching every level, and a block cache keeps hot
     * records in memory. Options affect speed only, never results. */
    kv->table = rocksdb_block_based_options_create();
    kv->cache = rocksdb_cache_create_lru(MS_KV_CACHE_BYTES);
    if (kv->table == NULL || kv->cache == NULL) {
        ms_kv_free_parts(kv);
        return MS_KV_NOMEM;
    }
    rocksdb_block_based_options_set_filter_policy(kv->table, rocksdb_filterpolicy_create_bloom(10));
    rocksdb_block_based_options_set_block_cache(kv->table, kv->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(kv->table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(kv->table, 1);
    rocksdb_options_set_block_based_table_factory(kv->opts, kv->table);
    /* Every value stored is a hash, a node of hashes or a ciphertext, none
     * of which compresses: compression would only spend CPU on each flush,
     * compaction and block read. Stores written with compression stay
     * readable (each table file names its own). */
    rocksdb_options_set_compression(kv->opts, rocksdb_no_compression);
    /* The rest stays at RocksDB's defaults. Each of these was measured
     * against them through bench.c's signed append with its block writes
     * (its commit, reads and the tree's write), in 3 to 12 interleaved runs
     * (the hash memtable through bench_commit, twice), and none gained
     * beyond the runs' spread:
     * - a memtable bloom filter (ratio 0.1, whole keys): the pruning read of
     *   an old ciphertext is a hit, so it skips no search (median 0.765
     *   against 0.785 over 12 runs each);
     * - write buffers of 16, 32 or 128 MiB (default 64): smaller ones flush
     *   and compact more (16 MiB about 8% worse, 32 MiB 2%); 128 the same;
     * - an L0 compaction trigger of 12, or a level base of 1 GiB: the same;
     * - a hash skip list memtable keyed by a capped 9-byte prefix (it needs
     *   a prefix extractor, no concurrent memtable writes and total-order
     *   scans): gets faster, the tree's write up to 8 times slower, and
     *   bench_commit crashed inside RocksDB 7.8 with it;
     * - lower CPU priority for RocksDB's pools and the tree's writer: the
     *   same (those pools are the process's, shared with the host's other
     *   stores, so the module should not change them anyway). */
    rocksdb_writeoptions_set_sync(kv->wopts, 0);
    rocksdb_writeoptions_set_sync(kv->wopts_sync, 1);
    rocksdb_writeoptions_disable_WAL(kv->wopts_unlogged, 1);
    rocksdb_flushoptions_set_wait(kv->flush, 1);

    char *err = NULL;
    const char *cf_names[1] = {"default"};
    const rocksdb_options_t *cf_opts[1] = {kv->opts};
    rocksdb_column_family_handle_t *cfs[1] = {NULL};
    kv->db = rocksdb_open_column_families(kv->opts, dir, 1, cf_names, cf_opts, cfs, &err);
    kv->cf = cfs[0];
    ms_kv_status s = ms_kv_take_error(err);
    if (s == MS_KV_OK && (kv->db == NULL || kv->cf == NULL)) s = MS_KV_IO;
    if (s != MS_KV_OK) {
        ms_kv_free_parts(kv);
        return s;
    }
    *out = kv;
    return MS_KV_OK;
}

void ms_kv_close(ms_kv *kv)
{
    if (kv != NULL) ms_kv_free_parts(kv);
}

/* A pinned read avoids rocksdb_get's CopyString, which cannot report a
 * failed allocation and cannot tell an empty value from a missing key on a
 * malloc(0) that returns NULL. */
ms_kv_status ms_kv_get(const ms_kv *kv, uint8_t **val, size_t *vlen, const uint8_t *key, size_t klen)
{
    *val = NULL;
    *vlen = 0;
    char *err = NULL;
    rocksdb_pinnableslice_t *ps = rocksdb_get_pinned(kv->db, kv->ropts, (const char *)key, klen, &err);
    ms_kv_status s = ms_kv_take_error(err);
    if (s != MS_KV_OK) {
        if (ps != NULL) rocksdb_pinnableslice_destroy(ps);
        return s;
    }
    if (ps == NULL) return MS_KV_NOT_FOUND;

    size_t n = 0;
    const char *data = rocksdb_pinnableslice_value(ps, &n);
    uint8_t *copy = NULL;
    if (n > 0) {
        copy = malloc(n);
        if (copy == NULL) {
            rocksdb_pinnableslice_destroy(ps);
            return MS_KV_NOMEM;
        }
        memcpy(copy, data, n);
    }
    rocksdb_pinnableslice_destroy(ps);
    *val = copy;
    *vlen = n;
    atomic_fetch_add_explicit(&kv->io->read, n, memory_order_relaxed);
    return MS_KV_OK;
}

ms_kv_status ms_kv_multi_get(const ms_kv *kv, size_t n, const uint8_t *const *keys, const size_t *klens,
                             uint8_t **vals, size_t *vlens, int *found)
{
    for (size_t i = 0; i < n; i++) {
        vals[i] = NULL;
        vlens[i] = 0;
        found[i] = 0;
    }
    if (n == 0) return MS_KV_OK;
    rocksdb_pinnableslice_t **ps = calloc(n, sizeof *ps);
    char **errs = calloc(n, sizeof *errs);
    if (ps == NULL || errs == NULL) {
        free(ps);
        free(errs);
        return MS_KV_NOMEM;
    }
    rocksdb_batched_multi_get_cf(kv->db, kv->ropts, kv->cf, n, (const char *const *)keys, klens, ps, errs, 0);
    ms_kv_status s = MS_KV_OK;
    for (size_t i = 0; i < n; i++) {
        const ms_kv_status e = ms_kv_take_error(errs[i]);
        if (e != MS_KV_OK && s == MS_KV_OK) s = e;
        if (ps[i] == NULL || s != MS_KV_OK) continue;
        size_t len = 0;
        const char *data = rocksdb_pinnableslice_value(ps[i], &len);
        if (len > 0) {   /* a found key has a slice; no slice is not found */
            vals[i] = malloc(len);
            if (vals[i] == NULL) {
                s = MS_KV_NOMEM;
                continue;
            }
            memcpy(vals[i], data, len);
        }
        vlens[i] = len;
        found[i] = 1;
        atomic_fetch_add_explicit(&kv->io->read, len, memory_order_relaxed);
    }
    for (size_t i = 0; i < n; i++) {
        if (ps[i] != NULL) rocksdb_pinnableslice_destroy(ps[i]);
        if (s != MS_KV_OK) {
            free(vals[i]);
            vals[i] = NULL;
            vlens[i] = 0;
            found[i] = 0;
        }
    }
    free(ps);
    free(errs);
    return s;
}

ms_kv_batch *ms_kv_batch_create(void)
{
    ms_kv_batch *b = malloc(sizeof *b);
    if (b == NULL) return NULL;
    b->wb = rocksdb_writebatch_create();
    if (b->wb == NULL) {
        free(b);
        return NULL;
    }
    b->too_large = 0;
    return b;
}

void ms_kv_batch_destroy(ms_kv_batch *b)
{
    if (b == NULL) return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void ms_kv_batch_clear(ms_kv_batch *b)
{
    if (b == NULL) return;
    rocksdb_writebatch_clear(b->wb);
    b->too_large = 0;
}

/* A NULL batch (failed create) is accepted and ignored here; ms_kv_write
 * then refuses it, so a caller that skips the NULL check still cannot commit
 * a partial batch. */
void ms_kv_batch_put(ms_kv_batch *b, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    if (b == NULL) return;
    /* WriteBatch::Put returns InvalidArgument for these, which
     * rocksdb_writebatch_put discards: refuse here instead. */
    if (klen > MS_KV_VALUE_MAX || vlen > MS_KV_VALUE_MAX) {
        b->too_large = 1;
        return;
    }
    rocksdb_writebatch_put(b->wb, (const char *)key, klen, (const char *)val, vlen);
}

void ms_kv_batch_delete(ms_kv_batch *b, const uint8_t *key, size_t klen)
{
    if (b == NULL) return;
    if (klen > MS_KV_VALUE_MAX) {
        b->too_large = 1;
        return;
    }
    rocksdb_writebatch_delete(b->wb, (const char *)key, klen);
}

const uint8_t *ms_kv_batch_data(const ms_kv_batch *b, size_t *len)
{
    *len = 0;
    if (b == NULL) return NULL;
    return (const uint8_t *)rocksdb_writebatch_data(b->wb, len);
}

static ms_kv_status write_with(ms_kv *kv, ms_kv_batch *b, const rocksdb_writeoptions_t *wo)
{
    if (b == NULL) return MS_KV_NOMEM;
    if (b->too_large) return MS_KV_TOO_LARGE;
    char *err = NULL;
    rocksdb_write(kv->db, wo, b->wb, &err);
    const ms_kv_status s = ms_kv_take_error(err);
    if (s == MS_KV_OK) {
        size_t n = 0;
        (void)rocksdb_writebatch_data(b->wb, &n);
        atomic_fetch_add_explicit(&kv->io->written, n, memory_order_relaxed);
        atomic_fetch_add_explicit(&kv->io->entries, (uint64_t)rocksdb_writebatch_count(b->wb), memory_order_relaxed);
    }
    return s;
}

ms_kv_status ms_kv_write(ms_kv *kv, ms_kv_batch *b, int sync)
{
    return write_with(kv, b, sync ? kv->wopts_sync : kv->wopts);
}

ms_kv_status ms_kv_write_unlogged(ms_kv *kv, ms_kv_batch *b)
{
    return write_with(kv, b, kv->wopts_unlogged);
}

ms_kv_status ms_kv_flush(ms_kv *kv)
{
    char *err = NULL;
    rocksdb_flush(kv->db, kv->flush, &err);
    return ms_kv_take_error(err) == MS_KV_OK ? MS_KV_OK : MS_KV_IO;
}

ms_kv_status ms_kv_memtables(ms_kv *kv, uint64_t *active, uint64_t *immutable)
{
    *active = 0;
    *immutable = 0;
    if (rocksdb_property_int(kv->db, "rocksdb.num-entries-active-mem-table", active) != 0 ||
        rocksdb_property_int(kv->db, "rocksdb.num-immutable-mem-table", immutable) != 0)
        return MS_KV_IO;
    return MS_KV_OK;
}

uint64_t ms_kv_entries_written(const ms_kv *kv)
{
    return atomic_load_explicit(&kv->io->entries, memory_order_relaxed);
}

void ms_kv_io_bytes(const ms_kv *kv, uint64_t *read, uint64_t *written)
{
    if (read != NULL) *read = atomic_load_explicit(&kv->io->read, memory_order_relaxed);
    if (written != NULL) *written = atomic_load_explicit(&kv->io->written, memory_order_relaxed);
}

/* Through the open read-write handle: a second, read-only handle on the same
 * directory can fail to open while this one's background compaction swaps
 * table files under it. A scan reads every block once, so it stays out of the
 * block cache. */
ms_kv_status ms_kv_scan(const ms_kv *kv, const uint8_t *prefix, size_t plen, ms_kv_scan_fn fn, void *ctx)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    if (ro == NULL) return MS_KV_NOMEM;
    rocksdb_readoptions_set_fill_cache(ro, 0);
    rocksdb_iterator_t *it = rocksdb_create_iterator(kv->db, ro);
    if (it == NULL) {
        rocksdb_readoptions_destroy(ro);
        return MS_KV_NOMEM;
    }
    if (plen > 0) rocksdb_iter_seek(it, (const char *)prefix, plen);
    else rocksdb_iter_seek_to_first(it);
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const char *k = rocksdb_iter_key(it, &klen);
        if (plen > 0 && (klen < plen || memcmp(k, prefix, plen) != 0)) break;
        const char *v = rocksdb_iter_value(it, &vlen);
        if (!fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen)) break;
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    return ms_kv_take_error(err) == MS_KV_OK ? MS_KV_OK : MS_KV_IO;
}

int ms_kv_busy(ms_kv *kv)
{
    static const char *const props[] = {
        "rocksdb.mem-table-flush-pending", "rocksdb.compaction-pending",
        "rocksdb.num-running-flushes", "rocksdb.num-running-compactions",
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        uint64_t v = 0;
        if (rocksdb_property_int(kv->db, props[i], &v) != 0 || v != 0) return 1;
    }
    return 0;
}
