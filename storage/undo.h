/* A block's undo record (spec/storage.md [ST-17]): the writer used by
 * commit, and the reader shared by rollback and by proofs at earlier
 * heights. Bounds-checked both ways: a record that does not parse is
 * corruption, and one that would not fit its length fields or a RocksDB
 * value is refused before it is written, never truncated or dropped. */
#ifndef MS_STORAGE_UNDO_H
#define MS_STORAGE_UNDO_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi_encode.h"

/* The largest undo record: a RocksDB value holds at most 2^32 - 1 bytes
 * (storage/kv.h). A config accepted by create cannot produce a larger one
 * (spec/host-abi.md [HOST-52]); commit refuses it all the same. */
#define MS_UNDO_RECORD_MAX ((size_t)UINT32_MAX)

typedef enum ms_undo_status {
    MS_UNDO_OK = 0,
    MS_UNDO_NOMEM = 1,
    MS_UNDO_TOO_LARGE = 2   /* a length field or the record's maximum would be exceeded */
} ms_undo_status;

typedef struct ms_undo_writer {
    ms_buf *buf;
    size_t max;              /* the record may not grow beyond this many bytes */
    uint32_t count;          /* entries added */
    ms_undo_status status;   /* the first failure; later adds do nothing */
} ms_undo_writer;

/** Start a record in buf (emptied first) for the block committed after
 *  prev, of at most max bytes (MS_UNDO_RECORD_MAX for a block; less only in
 *  tests). Out: w. In/Out: buf (borrowed until ms_undo_finish). */
void ms_undo_begin(ms_undo_writer *w, ms_buf *buf, uint64_t prev, size_t max);

/** Append one entry: key (klen bytes, at most 255) and, when present, the
 *  value it held (vlen bytes, at most 2^32 - 1). Entries go in [ST-12]
 *  order; the caller keeps it. An entry that does not fit is not written
 *  and sets status MS_UNDO_TOO_LARGE (checked before val is read). */
void ms_undo_add(ms_undo_writer *w, const uint8_t *key, size_t klen, int present, const uint8_t *val,
                 size_t vlen);

/** Write the entry count into the header.
 *  Returns: MS_UNDO_OK (buf holds the record), MS_UNDO_NOMEM or
 *  MS_UNDO_TOO_LARGE (buf holds no usable record). */
ms_undo_status ms_undo_finish(ms_undo_writer *w);

typedef struct ms_undo_reader {
    const uint8_t *rec;
    size_t len;
    size_t pos;
    uint32_t left;      /* entries not read yet */
    uint64_t prev;      /* the block committed before this one (0: none) */
} ms_undo_reader;

typedef struct ms_undo_entry {
    const uint8_t *key;
    size_t klen;
    int present;           /* the key existed before the block */
    const uint8_t *val;    /* its value then (when present) */
    size_t vlen;
} ms_undo_entry;

/** Returns 1, or 0 if the header does not parse. In: rec, len (borrowed). */
int ms_undo_open(ms_undo_reader *r, const uint8_t *rec, size_t len);

/** Returns 1 and the next entry, 0 at a clean end, -1 on corruption (an
 *  entry that overruns the record, or bytes left after the last one). */
int ms_undo_next(ms_undo_reader *r, ms_undo_entry *e);

#endif
