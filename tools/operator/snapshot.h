/* The snapshot file (spec/snapshot.md): every state record of one committed
 * height, in key order, with the height, the root and a Keccak-256 checksum. */
#ifndef MS_OPERATOR_SNAPSHOT_H
#define MS_OPERATOR_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "abi/keccak.h"

#define OP_SNAP_MAGIC "MSSNAPSH"
#define OP_SNAP_FORMAT 1u
#define OP_SNAP_HEADER_SIZE 64u
#define OP_SNAP_CHECKSUM_SIZE 32u

typedef struct op_snap_writer {
    FILE *f;
    ms_keccak h;
    int failed;
} op_snap_writer;

/** Create path and write the header. Returns 1, or 0 with a message. */
int op_snap_write_begin(op_snap_writer *w, const char *path, uint32_t schema, uint64_t height,
                        const uint8_t root32[32], uint64_t count);
void op_snap_write_record(op_snap_writer *w, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
/** Append the checksum and close. Returns 1, or 0 with a message. */
int op_snap_write_end(op_snap_writer *w, const char *path);

/** One record of a parsed snapshot (pointers into the file's bytes). */
typedef struct op_snap_rec {
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
} op_snap_rec;

typedef struct op_snapshot {
    uint32_t format, schema;
    uint64_t height, count;
    uint8_t root[32];
    op_snap_rec *recs;   /* count entries, malloc'd */
} op_snapshot;

/** Parse and check a whole snapshot file held in buf: magic, format,
 *  checksum, schema (must be `schema`), height >= 1, record framing, key
 *  tables and lengths, strictly ascending keys, value sizes, nothing after
 *  the checksum. Returns 1, or 0 with a message naming the problem. */
int op_snap_parse(op_snapshot *s, const uint8_t *buf, size_t len, uint32_t schema);
void op_snap_free(op_snapshot *s);

/** Key length of a state table (tags 01-06), 0 for any other tag. */
size_t op_state_key_len(uint8_t tag);

#endif
