/* Canonical bytes (spec/memory.md §4, [MEM-31]..[MEM-33]).
 *
 * The canonical form is defined as what jansson's json_dumps writes with
 * JSON_COMPACT | JSON_SORT_KEYS for the document's JSON tree. Building that
 * tree for thousands of items costs more allocations than the rest of a
 * save, so the known fields are written here directly, byte for byte as
 * jansson would (tests/memory/test_codec.c checks the equality on hostile
 * strings), and only unknown values go through jansson. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

/* ------------------------------------------------------------- buffer */

void mem_buf_put(mem_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0) return;
    if (b->cap - b->len < n) {
        size_t cap = b->cap < 256 ? 256 : b->cap;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        /* A fresh block rather than realloc: the old one holds plaintext
         * and is wiped before it goes back to the allocator. */
        uint8_t *q = malloc(cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        if (b->len > 0) memcpy(q, b->p, b->len);
        mem_buf_wipe(b);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void mem_buf_wipe(mem_buf *b)
{
    if (b->p != NULL) {
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->cap = 0;
}

static void put_lit(mem_buf *b, const char *s)
{
    mem_buf_put(b, s, strlen(s));
}

static void put_u64(mem_buf *b, uint64_t v)
{
    char d[24];
    size_t n = sizeof d;
    do {
        d[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    mem_buf_put(b, d + n, sizeof d - n);
}

static void put_hex(mem_buf *b, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char s[2 * MSD_MEM_ID_SIZE + 2];
    s[0] = '"';
    for (size_t i = 0; i < n; i++) {
        s[1 + 2 * i] = hx[p[i] >> 4];
        s[2 + 2 * i] = hx[p[i] & 15u];
    }
    s[1 + 2 * n] = '"';
    mem_buf_put(b, s, 2 * n + 2);
}

/* jansson's dump_string without JSON_ENSURE_ASCII / JSON_ESCAPE_SLASH:
 * only '"', '\\' and control characters are escaped, the latter as \b \f
 * \n \r \t or \u00XX with upper-case hex. */
void mem_emit_string(mem_buf *b, const char *s, size_t n)
{
    mem_buf_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        mem_buf_put(b, s + run, i - run);
        run = i + 1;
        char e[8];
        switch (c) {
        case '"': put_lit(b, "\\\""); break;
        case '\\': put_lit(b, "\\\\"); break;
        case '\b': put_lit(b, "\\b"); break;
        case '\f': put_lit(b, "\\f"); break;
        case '\n': put_lit(b, "\\n"); break;
        case '\r': put_lit(b, "\\r"); break;
        case '\t': put_lit(b, "\\t"); break;
        default:
            snprintf(e, sizeof e, "\\u%04X", (unsigned)c);
            mem_buf_put(b, e, 6);
            break;
        }
    }
    mem_buf_put(b, s + run, n - run);
    mem_buf_put(b, "\"", 1);
}

static void put_str(mem_buf *b, const char *s)
{
    mem_emit_string(b, s, strlen(s));
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    mem_buf *b = data;
    mem_buf_put(b, buffer, size);
    return b->oom ? -1 : 0;
}

void mem_emit_json(mem_buf *b, const json_t *v)
{
    if (b->oom) return;
    if (json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0) b->oom = 1;
}

/* ------------------------------------------------------------ objects */

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef void (*emit_known_fn)(mem_buf *b, const void *ctx, unsigned k);

/* Write an object whose known keys (sorted, those whose bit is in present)
 * are written by fn and whose unknown keys come from extra, all in sorted
 * key order. Known and unknown keys never coincide (the parser keeps only
 * unknown names in extra). */
static void emit_object(mem_buf *b, const char *const *known, unsigned nk, uint32_t present, emit_known_fn fn,
                        const void *ctx, const json_t *extra)
{
    const char **keys = NULL;
    size_t nu = 0;
    if (extra != NULL && json_object_size(extra) > 0) {
        keys = malloc(json_object_size(extra) * sizeof *keys);
        if (keys == NULL) {
            b->oom = 1;
            return;
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)extra, key, val) keys[nu++] = key;
        qsort(keys, nu, sizeof *keys, cmp_cstr);
    }
    mem_buf_put(b, "{", 1);
    unsigned ik = 0;
    size_t iu = 0;
    int first = 1;
    for (;;) {
        while (ik < nk && !(present & (1u << ik))) ik++;
        if (ik >= nk && iu >= nu) break;
        if (!first) mem_buf_put(b, ",", 1);
        first = 0;
        if (iu >= nu || (ik < nk && strcmp(known[ik], keys[iu]) < 0)) {
            put_str(b, known[ik]);
            mem_buf_put(b, ":", 1);
            fn(b, ctx, ik);
            ik++;
        } else {
            put_str(b, keys[iu]);
            mem_buf_put(b, ":", 1);
            mem_emit_json(b, json_object_get(extra, keys[iu]));
            iu++;
        }
    }
    mem_buf_put(b, "}", 1);
    free(keys);
}

/* Item keys in sorted order; the enum follows it. */
enum { K_C, K_CAT, K_ENTITY, K_ETYPE, K_FROM, K_ID, K_IMP, K_KIND, K_OF, K_SRC, K_T, K_TEXT, K_TO, K_TYPE, K_N };
static const char *const item_keys[K_N] = {"c",    "cat",  "entity", "etype", "from", "id",   "imp",
                                           "kind", "of",   "src",    "t",     "text", "to",   "type"};
enum { S_KIND, S_TOOL, S_XID, S_N };
static const char *const src_keys[S_N] = {"kind", "tool", "xid"};
enum { T_DEL, T_ID, T_T, T_N };
static const char *const tomb_keys[T_N] = {"del", "id", "t"};
enum { D_CLOCK, D_FORMAT, D_ITEMS, D_N };
static const char *const doc_keys[D_N] = {"clock", "format", "items"};

static void put_stamp(mem_buf *b, const msd_mem_stamp *s)
{
    mem_buf_put(b, "[", 1);
    put_u64(b, s->counter);
    mem_buf_put(b, ",", 1);
    put_hex(b, s->device, MSD_MEM_DEVICE_SIZE);
    mem_buf_put(b, "]", 1);
}

static void src_field(mem_buf *b, const void *ctx, unsigned k)
{
    const mem_item *it = ctx;
    switch (k) {
    case S_KIND: put_lit(b, it->imported ? "\"import\"" : "\"self\""); break;
    case S_TOOL: put_str(b, it->tool); break;
    default: put_str(b, it->xid); break;
    }
}

static void item_field(mem_buf *b, const void *ctx, unsigned k)
{
    const mem_item *it = ctx;
    switch (k) {
    case K_C: put_stamp(b, &it->c); break;
    case K_CAT: {
        mem_buf_put(b, "[", 1);
        int first = 1;
        for (unsigned i = 0; i < MSD_CAT_COUNT; i++) {
            if (!(it->cats & (1u << i))) continue;
            if (!first) mem_buf_put(b, ",", 1);
            first = 0;
            put_str(b, msd_mem_category_name(i));
        }
        mem_buf_put(b, "]", 1);
        break;
    }
    case K_ENTITY: put_str(b, it->entity); break;
    case K_ETYPE: put_str(b, it->etype); break;
    case K_FROM: put_str(b, it->from); break;
    case K_ID: put_hex(b, it->id, MSD_MEM_ID_SIZE); break;
    case K_IMP: put_u64(b, it->imp); break;
    case K_KIND:
        put_lit(b, it->kind == MSD_MEM_FACT ? "\"fact\"" : it->kind == MSD_MEM_ENTITY ? "\"entity\"" : "\"relation\"");
        break;
    case K_OF: put_hex(b, it->of, MSD_MEM_ID_SIZE); break;
    case K_SRC: {
        const uint32_t p = (1u << S_KIND) | (it->tool != NULL ? 1u << S_TOOL : 0) | (it->xid != NULL ? 1u << S_XID : 0);
        emit_object(b, src_keys, S_N, p, src_field, it, it->src_extra);
        break;
    }
    case K_T: put_stamp(b, &it->t); break;
    case K_TEXT: put_str(b, it->text); break;
    case K_TO: put_str(b, it->to); break;
    default: put_lit(b, it->type == MSD_MEM_EPISODIC ? "\"episodic\"" : "\"semantic\""); break;
    }
}

static uint32_t item_present(const mem_item *it)
{
    uint32_t p = (1u << K_C) | (1u << K_ID) | (1u << K_KIND) | (1u << K_T) | (1u << K_TEXT);
    if (it->has_src) p |= 1u << K_SRC;
    switch (it->kind) {
    case MSD_MEM_FACT:
        p |= (1u << K_CAT) | (1u << K_IMP) | (1u << K_TYPE);
        if (it->entity != NULL) p |= 1u << K_ENTITY;
        if (it->has_of) p |= 1u << K_OF;
        break;
    case MSD_MEM_ENTITY: p |= 1u << K_ETYPE; break;
    default: p |= (1u << K_FROM) | (1u << K_TO); break;
    }
    return p;
}

static void tomb_field(mem_buf *b, const void *ctx, unsigned k)
{
    const mem_tomb *t = ctx;
    switch (k) {
    case T_DEL: mem_buf_put(b, "1", 1); break;
    case T_ID: put_hex(b, t->id, MSD_MEM_ID_SIZE); break;
    default: put_stamp(b, &t->t); break;
    }
}

void mem_emit_ref(mem_buf *b, mem_ref r)
{
    if (r.live != NULL)
        emit_object(b, item_keys, K_N, item_present(r.live), item_field, r.live, r.live->extra);
    else if (r.tomb != NULL)
        emit_object(b, tomb_keys, T_N, 7u, tomb_field, r.tomb, NULL);
}

static void doc_field(mem_buf *b, const void *ctx, unsigned k)
{
    const msd_mem_doc *doc = ctx;
    switch (k) {
    case D_CLOCK: put_u64(b, doc->clock); break;
    case D_FORMAT: put_str(b, MSD_MEM_FORMAT); break;
    default: {
        mem_buf_put(b, "[", 1);
        mem_cursor c;
        mem_cursor_init(&c, doc);
        int first = 1;
        for (mem_ref r = mem_cursor_peek(&c); (r.live != NULL || r.tomb != NULL) && !b->oom;
             mem_cursor_next(&c), r = mem_cursor_peek(&c)) {
            if (!first) mem_buf_put(b, ",", 1);
            first = 0;
            mem_emit_ref(b, r);
        }
        mem_buf_put(b, "]", 1);
        break;
    }
    }
}

msd_status msd_mem_serialize(uint8_t **out, size_t *len, const msd_mem_doc *doc)
{
    if (out != NULL) *out = NULL;
    if (len != NULL) *len = 0;
    if (out == NULL || len == NULL || doc == NULL) return MSD_ERR_ARGS;
    mem_buf b = {NULL, 0, 0, 0};
    emit_object(&b, doc_keys, D_N, 7u, doc_field, doc, doc->extra);
    if (b.oom) {
        mem_buf_wipe(&b);
        return MSD_ERR_NOMEM;
    }
    *out = b.p;
    *len = b.len;
    return MSD_OK;
}

/* ------------------------------------------------------------ ordering */

static int bytes_cmp(const mem_buf *x, const mem_buf *y)
{
    const size_t n = x->len < y->len ? x->len : y->len;
    const int c = n > 0 ? memcmp(x->p, y->p, n) : 0;
    if (c != 0) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Compare two emitted encodings and wipe both (*oom = 1 when either failed). */
static int cmp_and_wipe(mem_buf *x, mem_buf *y, int *oom)
{
    int c = 0;
    if (x->oom || y->oom)
        *oom = 1;
    else
        c = bytes_cmp(x, y);
    mem_buf_wipe(x);
    mem_buf_wipe(y);
    return c;
}

int mem_ref_bytes_cmp(mem_ref a, mem_ref b, int *oom)
{
    mem_buf x = {NULL, 0, 0, 0}, y = {NULL, 0, 0, 0};
    mem_emit_ref(&x, a);
    mem_emit_ref(&y, b);
    return cmp_and_wipe(&x, &y, oom);
}

int mem_json_bytes_cmp(const json_t *a, const json_t *b, int *oom)
{
    if (a == NULL || b == NULL) return (a != NULL) - (b != NULL);
    mem_buf x = {NULL, 0, 0, 0}, y = {NULL, 0, 0, 0};
    mem_emit_json(&x, a);
    mem_emit_json(&y, b);
    return cmp_and_wipe(&x, &y, oom);
}
