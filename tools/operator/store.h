/* A data directory as the operator sees it: opened through storage/kv.h,
 * whose lock reports a running node (never read mid-write), with the meta records of spec/storage.md [ST-9] and the
 * state records (tags 01-06) loaded in key order. */
#ifndef MS_OPERATOR_STORE_H
#define MS_OPERATOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/kv.h"
#include "storage/records.h"

typedef struct op_store {
    const char *dir;
    ms_kv *kv;                 /* holds the directory's lock */
    int has_schema, has_height, has_root, has_retention;
    int bad_meta;              /* a meta value of the wrong size */
    uint32_t schema;
    uint32_t retention;        /* K, fixed at the store's first create ([ST-9]) */
    uint64_t height;
    uint8_t root[32];
} op_store;

/** Open an existing store. Prints a clear message on failure. Returns an
 *  OP_EXIT_* code (OP_EXIT_STORE, OP_EXIT_LOCKED, OP_EXIT_IO). */
int op_store_open(op_store *s, const char *dir);
void op_store_close(op_store *s);

/** For commands that read the state tree: a tree behind the committed
 *  height (a crash took its newest versions, spec/storage.md [ST-24]) is
 *  rebuilt by the module's next create, not by this tool, which only reads.
 *  Returns OP_EXIT_OK when the tree is at the head (or ahead of it: verify
 *  reports that as corruption), else prints what to do, naming cmd, and
 *  returns OP_EXIT_STORE. */
int op_store_tree_current(op_store *s, const char *cmd);

/** A state record. Ciphertext values may be dropped after hashing. */
typedef struct op_rec {
    uint8_t key[MS_KEY_MAX];
    uint8_t klen;
    uint8_t *val;              /* NULL when dropped or empty */
    size_t vlen;
    uint8_t vhash[32];         /* keccak256(value) */
} op_rec;

typedef struct op_recs {
    op_rec *v;
    size_t n, cap;
    /* keys outside the state tables */
    uint64_t n_meta, n_undo, n_tree, n_other;
    uint8_t other_key[64];     /* the first key of an unknown table */
    size_t other_klen;
} op_recs;

/** Load every state record (tags 01-06) in key order, hashing each value;
 *  keep_ciphertext 0 drops the ciphertext bytes after hashing. Shows
 *  progress on stderr for large stores. Returns an OP_EXIT_* code. */
int op_store_load(op_store *s, op_recs *out, int keep_ciphertext);
void op_recs_free(op_recs *r);

/** Binary search by key. */
const op_rec *op_recs_find(const op_recs *r, const uint8_t *key, size_t klen);
/** Index of the first record whose key is >= key. */
size_t op_recs_lower(const op_recs *r, const uint8_t *key, size_t klen);

/** memcmp order, shorter first on a common prefix (spec/storage.md [ST-12]). */
int op_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/** Human name of a key's table ("asset", "version", ...). */
const char *op_table_name(uint8_t tag);

#endif
