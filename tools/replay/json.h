/* A small, bounds-checked JSON reader: just what the conformance vectors need.
 * Parses a whole document into a tree of nodes allocated from one arena.
 * Numbers are kept as text plus an unsigned 64-bit value when they are
 * non-negative integers that fit (vectors use only those). Strings are
 * taken byte for byte (UTF-8 passes through); the only escapes understood are
 * \" \\ \/ \n \t (\uXXXX is refused: vectors never need it). */
#ifndef MS_REPLAY_JSON_H
#define MS_REPLAY_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } json_type;

typedef struct json json;
struct json {
    json_type type;
    const char *key;     /* member name when inside an object */
    const char *str;     /* JSON_STR: NUL-terminated */
    size_t len;          /* JSON_STR: length; JSON_ARR/OBJ: number of children */
    uint64_t u;          /* JSON_NUM (if num_ok), JSON_BOOL */
    int num_ok;
    json *child;         /* first child */
    json *next;          /* next sibling */
};

typedef struct json_doc {
    json *root;
    char *arena;
    size_t used, cap;
    char err[160];
} json_doc;

/** Parse text[0..n). Returns 1 on success; on failure 0 with doc->err set. */
int json_parse(json_doc *doc, const char *text, size_t n);
void json_free(json_doc *doc);

/** Member of an object by name (NULL if absent or not an object). */
const json *json_get(const json *obj, const char *key);
/** Typed accessors: return 1 on success. */
int json_u64(const json *obj, const char *key, uint64_t *v);
const char *json_str(const json *obj, const char *key);
/** Decode a "0x..." hex string into a newly malloc'd buffer (*out NULL for empty). */
int json_hex(const json *s, uint8_t **out, size_t *len);
/** Decode a "0x..." hex string of exactly n bytes. */
int json_hex_fixed(const json *s, uint8_t *out, size_t n);

#endif
