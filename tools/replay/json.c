/* Recursive-descent JSON reader with an explicit depth limit. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct parser {
    const char *start, *p, *end;
    json_doc *doc;
    int depth;
} parser;

static void *arena_alloc(json_doc *d, size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    if (n > d->cap - d->used) return NULL;
    void *r = d->arena + d->used;
    d->used += n;
    return r;
}

static int perr(parser *ps, const char *msg)
{
    if (ps->doc->err[0] == '\0')
        snprintf(ps->doc->err, sizeof ps->doc->err, "%s at byte %ld", msg, (long)(ps->p - ps->start));
    return 0;
}

static void ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static int lit(parser *ps, const char *s)
{
    const size_t n = strlen(s);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, s, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static int parse_string(parser *ps, const char **out, size_t *outlen)
{
    if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "expected string");
    ps->p++;
    const char *s = ps->p;
    size_t n = 0;
    while (s + n < ps->end && s[n] != '"') {
        if (s[n] == '\\') n++;
        n++;
    }
    if (s + n >= ps->end) return perr(ps, "unterminated string");
    char *o = arena_alloc(ps->doc, n + 1);
    if (o == NULL) return perr(ps, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((unsigned char)c < 0x20) return perr(ps, "control character in string");
        if (c == '\\') {
            if (++i >= n) return perr(ps, "bad escape");
            switch (s[i]) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            default: return perr(ps, "unsupported escape");
            }
        }
        o[k++] = c;
    }
    o[k] = '\0';
    ps->p = s + n + 1;
    *out = o;
    *outlen = k;
    return 1;
}

static int parse_value(parser *ps, json *v);

static int parse_container(parser *ps, json *v, int obj)
{
    if (++ps->depth > JSON_MAX_DEPTH) return perr(ps, "nesting too deep");
    ps->p++;
    v->type = obj ? JSON_OBJ : JSON_ARR;
    json **tail = &v->child;
    ws(ps);
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
        ps->p++;
        ps->depth--;
        return 1;
    }
    for (;;) {
        json *c = arena_alloc(ps->doc, sizeof *c);
        if (c == NULL) return perr(ps, "out of memory");
        memset(c, 0, sizeof *c);
        ws(ps);
        if (obj) {
            size_t kl;
            if (!parse_string(ps, &c->key, &kl)) return 0;
            ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return perr(ps, "expected ':'");
            ps->p++;
        }
        if (!parse_value(ps, c)) return 0;
        *tail = c;
        tail = &c->next;
        v->len++;
        ws(ps);
        if (ps->p >= ps->end) return perr(ps, "unexpected end");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == (obj ? '}' : ']')) {
            ps->p++;
            ps->depth--;
            return 1;
        }
        return perr(ps, "expected ',' or end of container");
    }
}

static int parse_value(parser *ps, json *v)
{
    ws(ps);
    if (ps->p >= ps->end) return perr(ps, "unexpected end");
    const char c = *ps->p;
    if (c == '{') return parse_container(ps, v, 1);
    if (c == '[') return parse_container(ps, v, 0);
    if (c == '"') {
        v->type = JSON_STR;
        return parse_string(ps, &v->str, &v->len);
    }
    if (lit(ps, "true")) { v->type = JSON_BOOL; v->u = 1; return 1; }
    if (lit(ps, "false")) { v->type = JSON_BOOL; v->u = 0; return 1; }
    if (lit(ps, "null")) { v->type = JSON_NULL; return 1; }
    if (c == '-' || (c >= '0' && c <= '9')) {
        v->type = JSON_NUM;
        const char *s = ps->p;
        int neg = 0;
        if (*ps->p == '-') { neg = 1; ps->p++; }
        uint64_t x = 0;
        int ok = 1, digits = 0;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            const unsigned d = (unsigned)(*ps->p - '0');
            if (x > (UINT64_MAX - d) / 10) ok = 0;
            else x = x * 10 + d;
            ps->p++;
            digits++;
        }
        if (digits == 0) return perr(ps, "bad number");
        while (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' || *ps->p == '+' ||
                                   *ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
            ok = 0;
            ps->p++;
        }
        v->num_ok = ok && !neg;
        v->u = x;
        v->str = NULL;
        v->len = (size_t)(ps->p - s);
        return 1;
    }
    return perr(ps, "unexpected character");
}

int json_parse(json_doc *doc, const char *text, size_t n)
{
    memset(doc, 0, sizeof *doc);
    /* Every value or string takes at least 2 input bytes (with its separator),
     * so at most n/2 + 1 nodes and strings, each rounded up by < 16 bytes. */
    doc->cap = 4096 + n + (n / 2 + 16) * (sizeof(json) + 32);
    doc->arena = malloc(doc->cap);
    if (doc->arena == NULL) {
        snprintf(doc->err, sizeof doc->err, "out of memory");
        return 0;
    }
    parser ps = {text, text, text + n, doc, 0};
    doc->root = arena_alloc(doc, sizeof(json));
    memset(doc->root, 0, sizeof(json));
    if (!parse_value(&ps, doc->root)) return 0;
    ws(&ps);
    if (ps.p != ps.end) return perr(&ps, "trailing characters");
    return 1;
}

void json_free(json_doc *doc)
{
    free(doc->arena);
    memset(doc, 0, sizeof *doc);
}

const json *json_get(const json *obj, const char *key)
{
    if (obj == NULL || obj->type != JSON_OBJ) return NULL;
    for (const json *c = obj->child; c != NULL; c = c->next)
        if (strcmp(c->key, key) == 0) return c;
    return NULL;
}

int json_u64(const json *obj, const char *key, uint64_t *v)
{
    const json *j = json_get(obj, key);
    if (j == NULL) return 0;
    if (j->type == JSON_NUM && j->num_ok) {
        *v = j->u;
        return 1;
    }
    if (j->type == JSON_BOOL) {
        *v = j->u;
        return 1;
    }
    return 0;
}

const char *json_str(const json *obj, const char *key)
{
    const json *j = json_get(obj, key);
    return j != NULL && j->type == JSON_STR ? j->str : NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int json_hex(const json *s, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (s == NULL || s->type != JSON_STR || s->len < 2 || s->str[0] != '0' || (s->str[1] != 'x' && s->str[1] != 'X'))
        return 0;
    const size_t h = s->len - 2;
    if (h % 2 != 0) return 0;
    if (h == 0) return 1;
    uint8_t *b = malloc(h / 2);
    if (b == NULL) return 0;
    for (size_t i = 0; i < h / 2; i++) {
        const int a = hexval(s->str[2 + 2 * i]), c = hexval(s->str[3 + 2 * i]);
        if (a < 0 || c < 0) {
            free(b);
            return 0;
        }
        b[i] = (uint8_t)(a * 16 + c);
    }
    *out = b;
    *len = h / 2;
    return 1;
}

int json_hex_fixed(const json *s, uint8_t *out, size_t n)
{
    uint8_t *b;
    size_t len;
    if (!json_hex(s, &b, &len)) return 0;
    const int ok = len == n;
    if (ok && n > 0) memcpy(out, b, n);
    free(b);
    return ok;
}
