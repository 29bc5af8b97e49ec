/* Reader of a block's undo record (spec/storage.md [ST-17]), shared by
 * rollback and by proofs at earlier heights. Bounds-checked: a record that
 * does not parse is corruption. */
#ifndef MS_STORAGE_UNDO_H
#define MS_STORAGE_UNDO_H

#include <stddef.h>
#include <stdint.h>

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
