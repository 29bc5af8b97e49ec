/* The single-pass reader behind msd_mem_parse (spec/memory.md §4, [MEM-33]).
 *
 * jansson builds a hash table per object and a block per value; for a
 * document of thousands of facts that is most of the cost of a load. This
 * reader walks the bytes once and fills the items directly. It is a filter,
 * not a second definition of the format: it accepts a strict subset of what
 * the reference parser (codec.c, jansson) accepts, and must then build the
 * same document. Anything unusual — an error of any kind, a negative or
 * oversized number, deep nesting, a repeated key — returns FALLBACK and the
 * reference parser decides. Unknown values are handed to jansson itself
 * (json_loadb on their bytes), so only the known fields are decoded here.
 * tests/fuzz/fuzz_memory.c checks the agreement on arbitrary input. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

#define FALLBACK MSD_ERR_MEM_MALFORMED
#define NEST_MAX 256u /* deeper unknown values go to the reference parser */

typedef struct scan {
    const uint8_t *p, *end;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static int eat(scan *s, uint8_t c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------- strings */

static int hex4(const uint8_t *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10u;
        else
            return 0;
        *v = *v << 4 | d;
    }
    return 1;
}

static size_t put_utf8(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xc0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xe0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        d[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (uint8_t)(0xf0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    d[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    d[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* The raw bytes of the string at s->p (between the quotes) and whether they
 * hold a backslash. A control character ends the fast path. */
static int raw_string(scan *s, const uint8_t **raw, size_t *n, int *esc)
{
    ws(s);
    if (s->p >= s->end || *s->p != '"') return 0;
    const uint8_t *q = s->p + 1, *start = q;
    *esc = 0;
    while (q < s->end && *q != '"') {
        if (*q < 0x20) return 0;
        if (*q == '\\') {
            *esc = 1;
            if (s->end - q < 2) return 0;
            q += 2;
        } else {
            q++;
        }
    }
    if (q >= s->end) return 0;
    *raw = start;
    *n = (size_t)(q - start);
    s->p = q + 1;
    return 1;
}

/* Decode raw (n bytes, escapes as jansson reads them) into d (room for n
 * bytes); the length, or -1 for anything jansson would refuse or that is
 * not plain (NUL, a lone surrogate, a bad escape, invalid UTF-8). */
static long decode(uint8_t *d, const uint8_t *raw, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (raw[i] != '\\') {
            d[o++] = raw[i++];
            continue;
        }
        if (i + 1 >= n) return -1;
        const uint8_t c = raw[i + 1];
        i += 2;
        switch (c) {
        case '"': case '\\': case '/': d[o++] = c; break;
        case 'b': d[o++] = '\b'; break;
        case 'f': d[o++] = '\f'; break;
        case 'n': d[o++] = '\n'; break;
        case 'r': d[o++] = '\r'; break;
        case 't': d[o++] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (n - i < 4 || !hex4(raw + i, &cp)) return -1;
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (n - i < 6 || raw[i] != '\\' || raw[i + 1] != 'u' || !hex4(raw + i + 2, &lo) || lo < 0xdc00 ||
                    lo > 0xdfff)
                    return -1;
                i += 6;
                cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
            } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
                return -1;
            }
            /* \uXXXX is 6 bytes and gives at most 3; a pair is 12 and gives 4. */
            o += put_utf8(d + o, cp);
            break;
        }
        default: return -1;
        }
    }
    return mem_utf8_valid((const char *)d, o) ? (long)o : -1;
}

/* A string into a new buffer of min..max decoded bytes. */
static msd_status get_text(scan *s, size_t min, size_t max, char **out)
{
    const uint8_t *raw;
    size_t n;
    int esc;
    if (!raw_string(s, &raw, &n, &esc)) return FALLBACK;
    char *d = malloc(n + 1);
    if (d == NULL) return MSD_ERR_NOMEM;
    long k;
    if (!esc) {
        memcpy(d, raw, n);
        k = mem_utf8_valid(d, n) ? (long)n : -1;
    } else {
        k = decode((uint8_t *)d, raw, n);
    }
    if (k < 0 || (size_t)k < min || (size_t)k > max) {
        sodium_memzero(d, n + 1);
        free(d);
        return FALLBACK;
    }
    d[k] = '\0';
    *out = d;
    return MSD_OK;
}

/* A short string (at most cap - 1 bytes decoded) into buf, NUL-terminated. */
static int get_short(scan *s, char *buf, size_t cap, size_t *len)
{
    const uint8_t *raw;
    size_t n;
    int esc;
    if (!raw_string(s, &raw, &n, &esc) || n >= cap) return 0;
    long k;
    if (!esc) {
        memcpy(buf, raw, n);
        k = mem_utf8_valid(buf, n) ? (long)n : -1;
    } else {
        k = decode((uint8_t *)buf, raw, n);
    }
    if (k < 0) return 0;
    buf[k] = '\0';
    if (len != NULL) *len = (size_t)k;
    return 1;
}

/* An object key: known keys are short; a longer key is unknown and returned
 * in *heap (malloc'd) instead of buf. */
static msd_status get_key(scan *s, char *buf, size_t cap, char **heap)
{
    const uint8_t *raw;
    size_t n;
    int esc;
    *heap = NULL;
    const uint8_t *save = s->p;
    if (!raw_string(s, &raw, &n, &esc)) return FALLBACK;
    if (n < cap) {
        s->p = save;
        return get_short(s, buf, cap, NULL) ? MSD_OK : FALLBACK;
    }
    s->p = save;
    return get_text(s, 0, MSD_MEM_MAX_DOC, heap);
}

static int get_hex(scan *s, uint8_t *out, size_t n)
{
    char h[2 * MSD_MEM_ID_SIZE + 1];
    size_t len;
    if (!get_short(s, h, sizeof h, &len) || len != 2 * n) return 0;
    for (size_t i = 0; i < 2 * n; i++) {
        const char c = h[i];
        const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return 0;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 1;
}

/* ------------------------------------------------------------- numbers */

/* A non-negative integer without sign, fraction or exponent, <= max.
 * ("-0" and the like are valid JSON but go to the reference parser.) */
static int get_uint(scan *s, uint64_t max, uint64_t *out)
{
    ws(s);
    const uint8_t *q = s->p;
    if (q >= s->end || *q < '0' || *q > '9') return 0;
    if (*q == '0' && q + 1 < s->end && q[1] >= '0' && q[1] <= '9') return 0;
    uint64_t v = 0;
    while (q < s->end && *q >= '0' && *q <= '9') {
        if (v > (MEM_MAX_COUNTER * 10u)) return 0; /* far beyond every cap; no overflow */
        v = v * 10u + (uint64_t)(*q - '0');
        q++;
    }
    if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E')) return 0;
    if (v > max) return 0;
    s->p = q;
    *out = v;
    return 1;
}

static int get_stamp(scan *s, msd_mem_stamp *st)
{
    return eat(s, '[') && get_uint(s, MEM_MAX_COUNTER, &st->counter) && st->counter >= 1 && eat(s, ',') &&
           get_hex(s, st->device, MSD_MEM_DEVICE_SIZE) && eat(s, ']');
}

/* -------------------------------------------------------- unknown values */

/* The bytes of the value at s->p, found by bracket matching (jansson checks
 * them); 0 when they do not look like one value or nest too deep. */
static int skip_value(scan *s, const uint8_t **start, size_t *n)
{
    ws(s);
    const uint8_t *q = s->p;
    if (q >= s->end) return 0;
    *start = q;
    unsigned depth = 0;
    do {
        if (q >= s->end) return 0;
        const uint8_t c = *q;
        if (c == '"') {
            q++;
            while (q < s->end && *q != '"') q += (*q == '\\' && s->end - q >= 2) ? 2 : 1;
            if (q >= s->end) return 0;
            q++;
        } else if (c == '{' || c == '[') {
            if (++depth > NEST_MAX) return 0;
            q++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return 0;
            depth--;
            q++;
        } else if (depth > 0) {
            q++;
        } else {
            /* A scalar: a number or a literal. */
            while (q < s->end && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                                  *q == '-' || *q == '+' || *q == '.'))
                q++;
            if (q == *start) return 0;
        }
    } while (depth > 0);
    *n = (size_t)(q - *start);
    s->p = q;
    return 1;
}

/* An unknown key's value, decoded by jansson, kept in *extra. */
static msd_status keep_unknown(scan *s, json_t **extra, const char *key)
{
    const uint8_t *v;
    size_t n;
    if (!skip_value(s, &v, &n)) return FALLBACK;
    json_error_t err;
    json_t *val = json_loadb((const char *)v, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (val == NULL) return FALLBACK;
    if (!mem_json_no_reals(val) || (*extra != NULL && json_object_get(*extra, key) != NULL)) {
        json_decref(val);
        return FALLBACK;
    }
    if (*extra == NULL && (*extra = json_object()) == NULL) {
        json_decref(val);
        return MSD_ERR_NOMEM;
    }
    return json_object_set_new(*extra, key, val) == 0 ? MSD_OK : MSD_ERR_NOMEM;
}

/* ---------------------------------------------------------------- items */

enum { F_C, F_CAT, F_ENTITY, F_ETYPE, F_FROM, F_ID, F_IMP, F_KIND, F_OF, F_SRC, F_T, F_TEXT, F_TO, F_TYPE, F_DEL, F_N };
static const char *const field_names[F_N] = {"c",  "cat", "entity", "etype", "from", "id",   "imp", "kind",
                                             "of", "src", "t",      "text",  "to",   "type", "del"};
#define BIT(f) (1u << (f))
#define COMMON (BIT(F_C) | BIT(F_ID) | BIT(F_KIND) | BIT(F_T) | BIT(F_TEXT))
/* Required and allowed keys per kind, as in codec.c ([MEM-5]). */
static const uint32_t req_of[4] = {0, COMMON | BIT(F_CAT) | BIT(F_IMP) | BIT(F_TYPE), COMMON | BIT(F_ETYPE),
                                   COMMON | BIT(F_FROM) | BIT(F_TO)};
static const uint32_t opt_of[4] = {0, BIT(F_ENTITY) | BIT(F_OF) | BIT(F_SRC), BIT(F_SRC), BIT(F_SRC)};

static int field_index(const char *key)
{
    for (int i = 0; i < F_N; i++)
        if (strcmp(key, field_names[i]) == 0) return i;
    return -1;
}

static int get_cats(scan *s, uint32_t *out)
{
    if (!eat(s, '[')) return 0;
    uint32_t set = 0;
    if (eat(s, ']')) return 0;
    do {
        char name[16];
        if (!get_short(s, name, sizeof name, NULL)) return 0;
        const uint32_t bit = msd_mem_category_bit(name);
        if (bit == 0 || (set & bit)) return 0;
        set |= bit;
    } while (eat(s, ','));
    if (!eat(s, ']')) return 0;
    *out = set;
    return 1;
}

static msd_status get_src(scan *s, mem_item *it)
{
    if (!eat(s, '{')) return FALLBACK;
    int have_kind = 0;
    unsigned seen = 0;
    msd_status st = MSD_OK;
    if (eat(s, '}')) return FALLBACK;
    do {
        char kb[8], *heap = NULL;
        if ((st = get_key(s, kb, sizeof kb, &heap)) != MSD_OK) return st;
        const char *key = heap != NULL ? heap : kb;
        if (!eat(s, ':')) st = FALLBACK;
        else if (strcmp(key, "kind") == 0) {
            char v[8];
            if (have_kind || !get_short(s, v, sizeof v, NULL)) st = FALLBACK;
            else if (strcmp(v, "self") == 0) it->imported = 0;
            else if (strcmp(v, "import") == 0) it->imported = 1;
            else st = FALLBACK;
            have_kind = 1;
        } else if (strcmp(key, "tool") == 0) {
            st = (seen & 1u) ? FALLBACK : get_text(s, 1, MSD_MEM_MAX_TOOL, &it->tool);
            seen |= 1u;
        } else if (strcmp(key, "xid") == 0) {
            st = (seen & 2u) ? FALLBACK : get_text(s, 1, MSD_MEM_MAX_TEXT, &it->xid);
            seen |= 2u;
        } else {
            st = keep_unknown(s, &it->src_extra, key);
        }
        free(heap);
        if (st != MSD_OK) return st;
    } while (eat(s, ','));
    if (!eat(s, '}') || !have_kind) return FALLBACK;
    it->has_src = 1;
    return MSD_OK;
}

static msd_status get_field(scan *s, mem_item *it, int f, uint64_t *del)
{
    uint64_t u;
    char v[16];
    switch (f) {
    case F_C: return get_stamp(s, &it->c) ? MSD_OK : FALLBACK;
    case F_T: return get_stamp(s, &it->t) ? MSD_OK : FALLBACK;
    case F_CAT: return get_cats(s, &it->cats) ? MSD_OK : FALLBACK;
    case F_ENTITY: return get_text(s, 1, MSD_MEM_MAX_TEXT, &it->entity);
    case F_ETYPE: return get_text(s, 0, MSD_MEM_MAX_TEXT, &it->etype);
    case F_FROM: return get_text(s, 1, MSD_MEM_MAX_TEXT, &it->from);
    case F_TO: return get_text(s, 1, MSD_MEM_MAX_TEXT, &it->to);
    case F_TEXT: return get_text(s, 1, MSD_MEM_MAX_TEXT, &it->text);
    case F_ID: return get_hex(s, it->id, MSD_MEM_ID_SIZE) ? MSD_OK : FALLBACK;
    case F_OF:
        it->has_of = 1;
        return get_hex(s, it->of, MSD_MEM_ID_SIZE) ? MSD_OK : FALLBACK;
    case F_IMP:
        if (!get_uint(s, 100, &u)) return FALLBACK;
        it->imp = (uint32_t)u;
        return MSD_OK;
    case F_DEL: return get_uint(s, 1, del) && *del == 1 ? MSD_OK : FALLBACK;
    case F_TYPE:
        if (!get_short(s, v, sizeof v, NULL)) return FALLBACK;
        if (strcmp(v, "semantic") == 0)
            it->type = MSD_MEM_SEMANTIC;
        else if (strcmp(v, "episodic") == 0)
            it->type = MSD_MEM_EPISODIC;
        else
            return FALLBACK;
        return MSD_OK;
    case F_KIND:
        if (!get_short(s, v, sizeof v, NULL)) return FALLBACK;
        if (strcmp(v, "fact") == 0)
            it->kind = MSD_MEM_FACT;
        else if (strcmp(v, "entity") == 0)
            it->kind = MSD_MEM_ENTITY;
        else if (strcmp(v, "relation") == 0)
            it->kind = MSD_MEM_RELATION;
        else
            return FALLBACK;
        return MSD_OK;
    default: return get_src(s, it);
    }
}

/* One item: appended to d as a live item or a tombstone. */
static msd_status get_item(scan *s, msd_mem_doc *d)
{
    if (!eat(s, '{')) return FALLBACK;
    mem_item *it = mem_item_new();
    if (it == NULL) return MSD_ERR_NOMEM;
    uint32_t seen = 0;
    uint64_t del = 0;
    msd_status st = MSD_OK;
    if (eat(s, '}')) st = FALLBACK;
    while (st == MSD_OK) {
        char kb[8], *heap = NULL;
        if ((st = get_key(s, kb, sizeof kb, &heap)) != MSD_OK) break;
        const char *key = heap != NULL ? heap : kb;
        const int f = field_index(key);
        if (!eat(s, ':'))
            st = FALLBACK;
        else if (f < 0)
            st = keep_unknown(s, &it->extra, key);
        else if (seen & BIT(f))
            st = FALLBACK;
        else {
            seen |= BIT(f);
            st = get_field(s, it, f, &del);
        }
        free(heap);
        if (st != MSD_OK || !eat(s, ',')) break;
    }
    if (st == MSD_OK && !eat(s, '}')) st = FALLBACK;
    if (st == MSD_OK && (seen & BIT(F_DEL))) {
        /* [MEM-11]: exactly id, del, t. */
        if (seen != (BIT(F_ID) | BIT(F_DEL) | BIT(F_T)) || it->extra != NULL || (st = mem_reserve_dead(d, 1)) != MSD_OK) {
            if (st == MSD_OK) st = FALLBACK;
        } else {
            mem_tomb *t = &d->dead[d->n_dead++];
            memcpy(t->id, it->id, MSD_MEM_ID_SIZE);
            t->t = it->t;
            if (t->t.counter > d->clock) d->clock = t->t.counter;
        }
        mem_item_free(it);
        return st;
    }
    if (st == MSD_OK) {
        const unsigned k = (unsigned)it->kind;
        if (k == 0 || (seen & req_of[k]) != req_of[k] || (seen & ~(req_of[k] | opt_of[k])) != 0)
            st = FALLBACK;
        else
            st = mem_reserve_live(d, 1);
    }
    if (st != MSD_OK) {
        mem_item_free(it);
        return st;
    }
    d->live[d->n_live++] = it;
    if (it->c.counter > d->clock) d->clock = it->c.counter;
    if (it->t.counter > d->clock) d->clock = it->t.counter;
    return MSD_OK;
}

static msd_status get_items(scan *s, msd_mem_doc *d)
{
    if (!eat(s, '[')) return FALLBACK;
    if (eat(s, ']')) return MSD_OK;
    do {
        if (d->n_live + d->n_dead >= MSD_MEM_MAX_ITEMS) return FALLBACK;
        const msd_status st = get_item(s, d);
        if (st != MSD_OK) return st;
    } while (eat(s, ','));
    return eat(s, ']') ? MSD_OK : FALLBACK;
}

/* ------------------------------------------------------------- document */

static msd_status get_doc(scan *s, msd_mem_doc *d)
{
    if (!eat(s, '{') || eat(s, '}')) return FALLBACK;
    unsigned seen = 0;
    uint64_t clock = 0;
    msd_status st = MSD_OK;
    do {
        char kb[8], *heap = NULL;
        if ((st = get_key(s, kb, sizeof kb, &heap)) != MSD_OK) return st;
        const char *key = heap != NULL ? heap : kb;
        unsigned bit = 0;
        if (!eat(s, ':')) {
            st = FALLBACK;
        } else if (strcmp(key, "format") == 0) {
            char f[sizeof MSD_MEM_FORMAT];
            bit = 1;
            if (!get_short(s, f, sizeof f, NULL) || strcmp(f, MSD_MEM_FORMAT) != 0) st = FALLBACK;
        } else if (strcmp(key, "clock") == 0) {
            bit = 2;
            if (!get_uint(s, MEM_MAX_COUNTER, &clock)) st = FALLBACK;
        } else if (strcmp(key, "items") == 0) {
            bit = 4;
            if (!(seen & 4u)) st = get_items(s, d);
        } else {
            st = keep_unknown(s, &d->extra, key);
        }
        free(heap);
        if (st == MSD_OK && (seen & bit)) st = FALLBACK;
        seen |= bit;
        if (st != MSD_OK) return st;
    } while (eat(s, ','));
    if (!eat(s, '}') || seen != 7u) return FALLBACK;
    ws(s);
    if (s->p != s->end) return FALLBACK;
    /* [MEM-3] */
    if (clock > d->clock) d->clock = clock;
    return mem_sort_unique(d) ? MSD_OK : FALLBACK;
}

msd_status mem_parse_fast(msd_mem_doc **out, const uint8_t *buf, size_t len)
{
    *out = NULL;
    msd_mem_doc *d = NULL;
    msd_status st = msd_mem_new(&d);
    if (st != MSD_OK) return st;
    scan s = {buf, buf + len};
    st = get_doc(&s, d);
    if (st != MSD_OK) {
        msd_mem_free(d);
        return st;
    }
    *out = d;
    return MSD_OK;
}
