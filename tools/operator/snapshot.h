/* The snapshot file (spec/snapshot.md): every state record of one committed
 * height, in key order, with the height, the root, the source store's
 * retention K and a Keccak-256 checksum. */
#ifndef MS_OPERATOR_SNAPSHOT_H
#define MS_OPERATOR_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "abi/keccak.h"

#define OP_SNAP_MAGIC "MSSNAPSH"
/* Export writes format 2; import also reads format 1 (no K field). */
#define OP_SNAP_FORMAT 2u
#define OP_SNAP_FORMAT_V1 1u
#define OP_SNAP_HEADER_SIZE 68u    /* format 2: format 1's 64 bytes + K (u32) */
#define OP_SNAP_HEADER_V1_SIZE 64u
#define OP_SNAP_CHECKSUM_SIZE 32u

typedef struct op_snap_writer {
    FILE *f;
    ms_keccak h;
    int failed;
} op_snap_writer;

/** Create path and write a format-2 header.
 *  Returns 1, or 0 with a message.
 *  In: schema, height, root32, count: as spec/snapshot.md §1;
 *      retention: the source store's K (meta 00 05), 0 when it records none. */
int op_snap_write_begin(op_snap_writer *w, const char *path, uint32_t schema, uint64_t height,
                        const uint8_t root32[32], uint64_t count, uint32_t retention);
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
    uint32_t retention;  /* K of the source store; 0: none (format 1, or none recorded) */
    uint64_t height, count;
    uint8_t root[32];
    op_snap_rec *recs;   /* count entries, malloc'd */
} op_snapshot;

/** Parse and check a whole snapshot file held in buf: magic, format (1 or
 *  2), header length, checksum, schema (must be `schema`), height >= 1,
 *  retention K (format 2: 0 or 1..MS_MAX_RETAINED_CEILING), record framing,
 *  key tables and lengths, strictly ascending keys, value sizes, nothing
 *  after the checksum. Returns 1, or 0 with a message naming the problem. */
int op_snap_parse(op_snapshot *s, const uint8_t *buf, size_t len, uint32_t schema);
void op_snap_free(op_snapshot *s);

/** Key length of a state table (tags 01-06), 0 for any other tag. */
size_t op_state_key_len(uint8_t tag);

#endif
