/* The committed store: RocksDB behind a small status-code boundary.
 * RocksDB's heap error strings are converted to ms_kv_status and freed here;
 * none of their text travels further. */
#ifndef MS_STORAGE_KV_H
#define MS_STORAGE_KV_H

#include <stddef.h>
#include <stdint.h>

typedef enum ms_kv_status {
    MS_KV_OK = 0,
    MS_KV_NOT_FOUND = 1,
    MS_KV_LOCKED = 2,     /* the directory is held by another instance or process */
    MS_KV_IO = 3,
    MS_KV_NOMEM = 4,
    MS_KV_TOO_LARGE = 5   /* a batch held a key or value RocksDB cannot store */
} ms_kv_status;

/* RocksDB's write batch refuses a key or a value of more than 2^32 - 1
 * bytes, and its C API drops that refusal: the batch is written without
 * the entry. ms_kv_batch_put and _delete therefore check both lengths
 * themselves; a batch that held an oversized one is refused whole by
 * ms_kv_write (MS_KV_TOO_LARGE), so nothing is ever silently left out. */
#define MS_KV_VALUE_MAX ((size_t)UINT32_MAX)

typedef struct ms_kv ms_kv;

/** Open or create a database in dir. Out: out (NULL on failure). */
ms_kv_status ms_kv_open(ms_kv **out, const char *dir);
void ms_kv_close(ms_kv *kv);

/** Read a value. On MS_KV_OK, *val is malloc'd (caller frees with free;
 *  NULL when vlen is 0). On MS_KV_NOT_FOUND, *val is NULL and *vlen 0. */
ms_kv_status ms_kv_get(const ms_kv *kv, uint8_t **val, size_t *vlen, const uint8_t *key, size_t klen);

/** Read n values in one call (RocksDB's batched MultiGet: one pass over
 *  the memtables and each table file for all keys, instead of n lookups).
 *  The keys need not be sorted nor distinct.
 *  Returns: MS_KV_OK when every key was looked up (found or not), else the
 *  first error (MS_KV_IO, MS_KV_NOMEM), with every output cleared.
 *  Out: vals[i] (malloc'd, caller frees; NULL when absent or empty),
 *  vlens[i], found[i] (1 or 0). In: keys[i] (klens[i] bytes). */
ms_kv_status ms_kv_multi_get(const ms_kv *kv, size_t n, const uint8_t *const *keys, const size_t *klens,
                             uint8_t **vals, size_t *vlens, int *found);

/** An atomic batch of puts and deletes, applied in order. A put or delete
 *  whose key or value is longer than MS_KV_VALUE_MAX is not queued and
 *  marks the batch: ms_kv_write then writes nothing and returns
 *  MS_KV_TOO_LARGE. */
typedef struct ms_kv_batch ms_kv_batch;

ms_kv_batch *ms_kv_batch_create(void);
void ms_kv_batch_destroy(ms_kv_batch *b);
void ms_kv_batch_put(ms_kv_batch *b, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
void ms_kv_batch_delete(ms_kv_batch *b, const uint8_t *key, size_t klen);

/** Empty the batch for reuse (and clear its too-large mark). RocksDB keeps
 *  the memory the batch grew to, so a batch reused block after block is not
 *  regrown and copied each time. In/Out: b (a NULL batch is ignored). */
void ms_kv_batch_clear(ms_kv_batch *b);

/** RocksDB's encoding of the batch (sequence, count, then each put and
 *  delete in order), for tests that compare batches byte for byte.
 *  Returns a pointer valid until the batch changes (NULL for a NULL
 *  batch). Out: len. */
const uint8_t *ms_kv_batch_data(const ms_kv_batch *b, size_t *len);

/** Write the batch atomically; with sync non-zero, fsync before returning.
 *  Returns MS_KV_OK, MS_KV_IO, MS_KV_NOMEM (a NULL batch: its creation
 *  failed) or MS_KV_TOO_LARGE (see above; nothing written). */
ms_kv_status ms_kv_write(ms_kv *kv, ms_kv_batch *b, int sync);

/** Write the batch atomically without RocksDB's write-ahead log: it reaches
 *  the memtable only, and the disk with the next memtable flush (RocksDB's
 *  own, or ms_kv_flush). A crash before that loses it whole (never a part
 *  of it), and a flush never persists it without every write made before
 *  it: what flushes persist is always every write up to some point, in
 *  write order. For records the caller can rebuild from logged ones (the
 *  state tree, storage/block.c).
 *  Returns as ms_kv_write. */
ms_kv_status ms_kv_write_unlogged(ms_kv *kv, ms_kv_batch *b);

/** Flush the memtables to table files and wait: every write made before
 *  the call, logged or not, is on disk when it returns MS_KV_OK.
 *  Returns MS_KV_OK or MS_KV_IO. */
ms_kv_status ms_kv_flush(ms_kv *kv);

/** Which writes may still be in memory only. RocksDB keeps the newest
 *  writes in the active memtable and older ones in immutable memtables
 *  until a flush has put them in table files; memtables hold consecutive
 *  writes, so when no immutable one is left, every entry but the last
 *  *active of all entries ever written is on disk.
 *  Returns MS_KV_OK or MS_KV_IO. Out: active (entries, puts and deletes,
 *  in the active memtable), immutable (memtables not yet flushed). */
ms_kv_status ms_kv_memtables(ms_kv *kv, uint64_t *active, uint64_t *immutable);

/** Entries (puts and deletes) of every batch written through this handle
 *  since it was opened. */
uint64_t ms_kv_entries_written(const ms_kv *kv);

/** Called for each key in ascending byte order; return 0 to stop the scan. */
typedef int (*ms_kv_scan_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);

/** Call fn for every key that starts with prefix (plen 0: every key), in
 *  ascending byte order, on one consistent view of the store. For tools (the
 *  operator's verify, snapshot and status): the module itself never iterates.
 *  The key and value pointers are valid only during the call.
 *  Returns MS_KV_OK (also when fn stopped the scan), MS_KV_IO or MS_KV_NOMEM. */
ms_kv_status ms_kv_scan(const ms_kv *kv, const uint8_t *prefix, size_t plen, ms_kv_scan_fn fn, void *ctx);

/** Bytes moved through this handle since it was opened: values returned by
 *  ms_kv_get (read) and the batches handed to ms_kv_write (written,
 *  RocksDB's encoding of the batch: keys, values and its framing). For
 *  tests and measurements of the work a commit does per gas; never
 *  results. Out: read, written (each may be NULL). */
void ms_kv_io_bytes(const ms_kv *kv, uint64_t *read, uint64_t *written);

/** Returns: 1 while RocksDB has a memtable flush or a compaction running or
 *  pending (e.g. a store still digesting a bulk load), 0 when it is idle.
 *  Speed only, never results: benchmarks use it to measure a settled store. */
int ms_kv_busy(ms_kv *kv);

#endif
