/* Small helpers of memsync-operator: messages, hex, numbers, files, options,
 * progress. */
#ifndef MS_OPERATOR_UTIL_H
#define MS_OPERATOR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/host/text.h"

#define OP_NAME "memsync-operator"

/** "memsync-operator: <message>\n" on stderr. */
void op_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Numbers (decimal or 0x-hex) and exact-length hex: text_u64 and
 * text_hex_exact (tools/host/text.h). */
/** Any even number of hex digits (0x optional, surrounding whitespace ignored).
 *  Out: *out malloc'd. Returns 1 on success. */
int op_parse_hex_alloc(uint8_t **out, size_t *n, const char *s, size_t len);

/** 0x-prefixed lowercase hex. */
void op_hex(FILE *f, const uint8_t *p, size_t n);
/** Into buf (2n + 3 bytes). Returns buf. */
char *op_hex_str(char *buf, const uint8_t *p, size_t n);

/** Whole file. Returns 1, or 0 with a message. Out: *buf malloc'd (NUL-terminated). */
int op_read_file(const char *path, uint8_t **buf, size_t *len);
/** Create or truncate path with exactly buf. Returns 1, or 0 with a message. */
int op_write_file(const char *path, const uint8_t *buf, size_t len);

/** 1 if dir holds a RocksDB database (a CURRENT file). */
int op_is_store_dir(const char *dir);
/** 1 if dir does not exist or is an empty directory. */
int op_dir_missing_or_empty(const char *dir);
/** A fresh directory $TMPDIR/memsync-operator.XXXXXX. Returns 1 on success. */
int op_tmpdir(char *out, size_t cap);
/** Remove a directory tree (RocksDB directories are flat). */
void op_rm_tree(const char *path);

/** Options "--name value" (value NULL for a flag: set to "1"). Unknown
 *  options and missing values print a message and return 0. Positional
 *  arguments are refused. */
typedef struct op_opt {
    const char *name;   /* "--data" */
    int flag;           /* 1: takes no value */
    const char *value;  /* out: NULL when absent */
} op_opt;
int op_parse_opts(const char *cmd, int argc, char **argv, op_opt *opts, size_t n);
/** The value of an option by name (NULL when absent). */
const char *op_opt_get(const op_opt *opts, size_t n, const char *name);
/** 1 when a required option is present; otherwise a message and 0. */
int op_require(const char *cmd, const op_opt *opts, size_t n, const char *name);

/** Progress on stderr for long scans: a line every `every` items. */
typedef struct op_progress {
    const char *what;
    uint64_t every, count;
    int shown;
} op_progress;
void op_progress_init(op_progress *p, const char *what, uint64_t every);
void op_progress_tick(op_progress *p);
void op_progress_done(op_progress *p);

#endif
