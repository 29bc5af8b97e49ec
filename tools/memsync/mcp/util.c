/* Small helpers of the MCP server: UTF-8 cuts, ids in hex, JSON text in
 * the two shapes the server writes, and tool errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mcp.h"
#include "tools/memsync/cli.h"

size_t mcp_utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    /* Step back over continuation bytes (10xxxxxx) to a character's start. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0u) == 0x80u) n--;
    return n;
}

void mcp_hex_id(char out[2 * MSD_MEM_ID_SIZE + 1], const uint8_t id[MSD_MEM_ID_SIZE])
{
    static const char HEX[] = "0123456789abcdef";
    for (size_t i = 0; i < MSD_MEM_ID_SIZE; i++) {
        out[2 * i] = HEX[id[i] >> 4];
        out[2 * i + 1] = HEX[id[i] & 15];
    }
    out[2 * MSD_MEM_ID_SIZE] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mcp_parse_id(uint8_t id[MSD_MEM_ID_SIZE], const char *s)
{
    if (s == NULL || strlen(s) != 2 * MSD_MEM_ID_SIZE) return 0;
    for (size_t i = 0; i < MSD_MEM_ID_SIZE; i++) {
        const int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

char *mcp_dump(const json_t *v)
{
    /* Importance is the only real number written; 6 digits keep 0.29 as 0.29. */
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
}

void mcp_free_text(char *s)
{
    if (s == NULL) return;
    sodium_memzero(s, strlen(s));
    free(s);
}

/* ------------------------------------------------ JSON.stringify(v, null, 2) */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *q = malloc(cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        if (b->p != NULL) {
            memcpy(q, b->p, b->len);
            sodium_memzero(b->p, b->cap);   /* the text may be memory text */
            free(b->p);
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void indent(sbuf *b, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++) put(b, "  ", 2);
}

/* JSON.stringify's escapes: the two-character forms, else \u00xx in lower case. */
static void js_string(sbuf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc == NULL) continue;
        put(b, s + run, i - run);
        puts_(b, esc);
        run = i + 1;
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static void js_value(sbuf *b, const json_t *v, unsigned depth)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (json_object_size(v) == 0) {
            puts_(b, "{}");
            return;
        }
        puts_(b, "{\n");
        const char *key;
        json_t *val;
        size_t i = 0, klen;
        json_object_keylen_foreach((json_t *)v, key, klen, val) {
            if (i++ > 0) puts_(b, ",\n");
            indent(b, depth + 1);
            js_string(b, key, klen);
            puts_(b, ": ");
            js_value(b, val, depth + 1);
        }
        puts_(b, "\n");
        indent(b, depth);
        puts_(b, "}");
        return;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) == 0) {
            puts_(b, "[]");
            return;
        }
        puts_(b, "[\n");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0) puts_(b, ",\n");
            indent(b, depth + 1);
            js_value(b, json_array_get(v, i), depth + 1);
        }
        puts_(b, "\n");
        indent(b, depth);
        puts_(b, "]");
        return;
    }
    case JSON_STRING:
        js_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        puts_(b, num);
        return;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        puts_(b, num);
        return;
    case JSON_TRUE: puts_(b, "true"); return;
    case JSON_FALSE: puts_(b, "false"); return;
    case JSON_NULL: puts_(b, "null"); return;
    }
}

char *mcp_js_stringify(const json_t *v)
{
    sbuf b = {NULL, 0, 0, 0};
    js_value(&b, v, 0);
    if (b.oom) {
        if (b.p != NULL) sodium_memzero(b.p, b.cap);
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ------------------------------------------------------------- tool errors */

int mcp_tool_error(mcp_tool_out *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    mcp_free_text(out->error);
    out->error = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out->error != NULL) {
        va_start(ap, fmt);
        vsnprintf(out->error, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *mcp_store_error(int rc)
{
    switch (rc) {
    case CLI_IO: return "the memory files on this device could not be read or written";
    case CLI_KEYFILE: case CLI_PASSPHRASE: return "the key file could not be opened";
    case CLI_MEM_MALFORMED: return "the stored memory is not a valid memory document";
    case CLI_MEM_VERSION: return "the stored memory is of a newer format version";
    case CLI_MEM_TOO_LARGE: return "the memory is full: it no longer fits one version (forget some facts)";
    case CLI_NODE: return "the chain could not be reached";
    case CLI_REVERTED: return "the chain refused the change";
    case CLI_CHAIN_BROKEN: return "the chain's history does not match this device's";
    case CLI_NO_KEY: return "this device has no key for this memory";
    case CLI_CONFLICT: return "the memory kept changing on the chain";
    case CLI_LOCKED: return "another memsync process has held the memory's lock too long";
    case CLI_USAGE: return "no chain is configured (start memsync mcp with --rpc URL or --node DIR)";
    default: return "an internal error occurred";
    }
}

int mcp_saved_locally(int rc)
{
    /* memstore_update saves the edit before it talks to the chain: these
     * codes only come from the chain step, so the edit is on this device. */
    return rc == CLI_CONFLICT || rc == CLI_NODE || rc == CLI_REVERTED || rc == CLI_CHAIN_BROKEN || rc == CLI_NO_KEY;
}

int mcp_update_outcome(const mcp_server *s, int rc, int applied, mcp_tool_out *out, int *pending)
{
    *pending = 0;
    if (rc == 0) return 0;
    if (applied && mcp_saved_locally(rc)) {
        fprintf(stderr, "memsync mcp: a change is saved on this device; the next write or sync sends it (%d)\n", rc);
        *pending = 1;
        return 0;
    }
    if (rc == CLI_MEM_TOO_LARGE && s->store.has_chain)
        /* memstore refuses, before saving, a change that would not fit one version on chain. */
        return mcp_tool_error(out, "The memory is full: one version on the chain holds about 32 KB of compressed "
                                   "memory, so this change was refused. Forget some facts first.");
    return mcp_tool_error(out, "The change could not be saved: %s. Nothing was changed.", mcp_store_error(rc));
}
