/* Ordered iteration over a data directory's RocksDB keys, for the operator
 * tool only (storage/kv.h, the module's store, has no iterator and the module
 * never needs one). The reader opens the database read-only: it takes no
 * lock and writes nothing, so the operator first opens the directory with
 * ms_kv_open to hold the lock (a running node is then reported as
 * MS_KV_LOCKED), and reads through this reader. It sees the database as it
 * was when opened. */
#ifndef MS_OPERATOR_KV_SCAN_H
#define MS_OPERATOR_KV_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "storage/kv.h"

typedef struct ms_kv_reader ms_kv_reader;

/** Open dir read-only. Returns MS_KV_OK, MS_KV_IO, MS_KV_NOMEM. Out: out (NULL on failure). */
ms_kv_status ms_kv_reader_open(ms_kv_reader **out, const char *dir);
void ms_kv_reader_close(ms_kv_reader *r);

/** Called for each key in ascending byte order; return 0 to stop the scan. */
typedef int (*ms_kv_scan_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);

/** Call fn for every key that starts with prefix (plen 0: every key), in
 *  ascending order. Returns MS_KV_OK (also when fn stopped the scan) or
 *  MS_KV_IO. */
ms_kv_status ms_kv_scan(ms_kv_reader *r, const uint8_t *prefix, size_t plen, ms_kv_scan_fn fn, void *ctx);

#endif
