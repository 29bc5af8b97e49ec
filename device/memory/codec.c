/* Parsing a serialised document (spec/memory.md §2 and §4, [MEM-33]).
 *
 * jansson decodes (strict JSON, valid UTF-8, no NUL in strings or keys,
 * duplicate keys refused, nothing after the value); this file only checks
 * every known field's type and range on the tree jansson built, and keeps
 * the unknown keys. There is no other reader: JSON is never parsed by hand
 * (the project's rule), so what jansson refuses is refused here. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

#define BAD MSD_ERR_MEM_MALFORMED

/* Known item keys and the kinds that use them ([MEM-5]); `del` belongs to
 * tombstones only ([MEM-11]), so on a live item it is refused, not kept.
 * The names are in strcmp order, for the binary search below. */
enum { F_C, F_CAT, F_DEL, F_ENTITY, F_ETYPE, F_FROM, F_ID, F_IMP, F_KIND, F_OF, F_SRC, F_T, F_TEXT, F_TO, F_TYPE, F_N };
static const char *const field_names[F_N] = {"c",    "cat", "del", "entity", "etype", "from", "id",  "imp",
                                             "kind", "of",  "src", "t",      "text",  "to",   "type"};
#define BIT(f) (1u << (f))
#define COMMON_REQ (BIT(F_C) | BIT(F_ID) | BIT(F_KIND) | BIT(F_T) | BIT(F_TEXT))
static const uint32_t fact_req = COMMON_REQ | BIT(F_CAT) | BIT(F_IMP) | BIT(F_TYPE);
static const uint32_t fact_opt = BIT(F_ENTITY) | BIT(F_OF) | BIT(F_SRC);
static const uint32_t entity_req = COMMON_REQ | BIT(F_ETYPE);
static const uint32_t entity_opt = BIT(F_SRC);
static const uint32_t relation_req = COMMON_REQ | BIT(F_FROM) | BIT(F_TO);
static const uint32_t relation_opt = BIT(F_SRC);

/* The smallest live item (an entity) has six keys, a tombstone three. */
#define TOMB_KEYS 3u

static int field_index(const char *key)
{
    int lo = 0, hi = F_N;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        const int c = strcmp(key, field_names[mid]);
        if (c == 0) return mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* [MEM-13]: no real number anywhere, so that every value has one encoding. */
static int json_no_reals(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_REAL: return 0;
    case JSON_ARRAY:
        json_array_foreach(v, i, x) if (!json_no_reals(x)) return 0;
        return 1;
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, x) if (!json_no_reals(x)) return 0;
        return 1;
    default: return 1;
    }
}

/* Keep an unknown key: *extra is created on first use. */
static msd_status keep_unknown(json_t **extra, const char *key, json_t *v)
{
    if (!json_no_reals(v)) return BAD;
    if (*extra == NULL && (*extra = json_object()) == NULL) return MSD_ERR_NOMEM;
    return json_object_set(*extra, key, v) == 0 ? MSD_OK : MSD_ERR_NOMEM;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* upper case is not canonical: refused */
}

static int get_hex(const json_t *v, uint8_t *out, size_t n)
{
    if (!json_is_string(v) || json_string_length(v) != 2 * n) return 0;
    const char *s = json_string_value(v);
    for (size_t i = 0; i < n; i++) {
        const int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static int get_uint(const json_t *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!json_is_integer(v)) return 0;
    const json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi) return 0;
    *out = (uint64_t)x;
    return 1;
}

/* [MEM-9]: [counter 1..2^53-1, "16 hex"]. */
static int get_stamp(const json_t *v, msd_mem_stamp *s)
{
    if (!json_is_array(v) || json_array_size(v) != 2) return 0;
    return get_uint(json_array_get(v, 0), 1, MEM_MAX_COUNTER, &s->counter) &&
           get_hex(json_array_get(v, 1), s->device, MSD_MEM_DEVICE_SIZE);
}

/* [MEM-6]: a string of 1 (0 when allow_empty) to max bytes. jansson already
 * guarantees valid UTF-8 without NUL (JSON_ALLOW_NUL is not given), so
 * json_string_length is the C string's length. */
static msd_status get_text(const json_t *v, size_t max, int allow_empty, char **out)
{
    if (!json_is_string(v)) return BAD;
    const size_t n = json_string_length(v);
    if (n > max || (n == 0 && !allow_empty)) return BAD;
    const char *s = json_string_value(v);
    char *d = malloc(n + 1);
    if (d == NULL) return MSD_ERR_NOMEM;
    memcpy(d, s, n + 1);
    *out = d;
    return MSD_OK;
}

/* [MEM-7]: a non-empty array of distinct category names, any order. */
static int get_cats(const json_t *v, uint32_t *out)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MSD_CAT_COUNT) return 0;
    uint32_t set = 0;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x)) return 0;
        const uint32_t bit = msd_mem_category_bit(json_string_value(x));
        if (bit == 0 || (set & bit)) return 0;
        set |= bit;
    }
    *out = set;
    return 1;
}

/* [MEM-8]: {"kind": "self"|"import", "tool"?, "xid"?, unknown keys}. */
static msd_status get_src(const json_t *v, mem_item *it)
{
    if (!json_is_object(v)) return BAD;
    const char *key;
    json_t *x;
    int have_kind = 0;
    msd_status st;
    json_object_foreach((json_t *)v, key, x) {
        if (strcmp(key, "kind") == 0) {
            if (!json_is_string(x)) return BAD;
            if (strcmp(json_string_value(x), "self") == 0)
                it->imported = 0;
            else if (strcmp(json_string_value(x), "import") == 0)
                it->imported = 1;
            else
                return BAD;
            have_kind = 1;
        } else if (strcmp(key, "tool") == 0) {
            if ((st = get_text(x, MSD_MEM_MAX_TOOL, 0, &it->tool)) != MSD_OK) return st;
        } else if (strcmp(key, "xid") == 0) {
            if ((st = get_text(x, MSD_MEM_MAX_TEXT, 0, &it->xid)) != MSD_OK) return st;
        } else if ((st = keep_unknown(&it->src_extra, key, x)) != MSD_OK) {
            return st;
        }
    }
    if (!have_kind) return BAD;
    it->has_src = 1;
    return MSD_OK;
}

static msd_status get_field(mem_item *it, int f, const json_t *v)
{
    uint64_t u;
    switch (f) {
    case F_C: return get_stamp(v, &it->c) ? MSD_OK : BAD;
    case F_T: return get_stamp(v, &it->t) ? MSD_OK : BAD;
    case F_CAT: return get_cats(v, &it->cats) ? MSD_OK : BAD;
    case F_ENTITY: return get_text(v, MSD_MEM_MAX_TEXT, 0, &it->entity);
    case F_ETYPE: return get_text(v, MSD_MEM_MAX_TEXT, 1, &it->etype);
    case F_FROM: return get_text(v, MSD_MEM_MAX_TEXT, 0, &it->from);
    case F_TO: return get_text(v, MSD_MEM_MAX_TEXT, 0, &it->to);
    case F_TEXT: return get_text(v, MSD_MEM_MAX_TEXT, 0, &it->text);
    case F_ID: return get_hex(v, it->id, MSD_MEM_ID_SIZE) ? MSD_OK : BAD;
    case F_OF:
        it->has_of = 1;
        return get_hex(v, it->of, MSD_MEM_ID_SIZE) ? MSD_OK : BAD;
    case F_IMP:
        if (!get_uint(v, 0, 100, &u)) return BAD;
        it->imp = (uint32_t)u;
        return MSD_OK;
    case F_TYPE:
        if (!json_is_string(v)) return BAD;
        if (strcmp(json_string_value(v), "semantic") == 0)
            it->type = MSD_MEM_SEMANTIC;
        else if (strcmp(json_string_value(v), "episodic") == 0)
            it->type = MSD_MEM_EPISODIC;
        else
            return BAD;
        return MSD_OK;
    case F_SRC: return get_src(v, it);
    default: return MSD_OK; /* F_KIND: read by parse_live, F_DEL: refused there */
    }
}

/* The kind's required and optional keys; 0 for an unknown kind. */
static int kind_keys(const json_t *k, msd_mem_kind *kind, uint32_t *req, uint32_t *opt)
{
    if (!json_is_string(k)) return 0;
    const char *ks = json_string_value(k);
    if (strcmp(ks, "fact") == 0) {
        *kind = MSD_MEM_FACT;
        *req = fact_req;
        *opt = fact_opt;
    } else if (strcmp(ks, "entity") == 0) {
        *kind = MSD_MEM_ENTITY;
        *req = entity_req;
        *opt = entity_opt;
    } else if (strcmp(ks, "relation") == 0) {
        *kind = MSD_MEM_RELATION;
        *req = relation_req;
        *opt = relation_opt;
    } else {
        return 0;
    }
    return 1;
}

/* One walk over the item's keys: every known key is read whatever the
 * kind, which is checked at the end against the keys seen (a known key on
 * a kind that does not use it, or a missing required one, is malformed). */
static msd_status parse_live(mem_item **out, const json_t *o)
{
    mem_item *it = mem_item_new();
    if (it == NULL) return MSD_ERR_NOMEM;
    const json_t *kind = NULL;
    uint32_t seen = 0, req = 0, opt = 0;
    msd_status st = MSD_OK;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        const int f = field_index(key);
        if (f < 0) {
            st = keep_unknown(&it->extra, key, v);
        } else if (f == F_DEL) {
            st = BAD;
        } else {
            seen |= BIT(f);
            if (f == F_KIND)
                kind = v;
            else
                st = get_field(it, f, v);
        }
        if (st != MSD_OK) break;
    }
    if (st == MSD_OK && (!kind_keys(kind, &it->kind, &req, &opt) || (seen & req) != req || (seen & ~(req | opt)) != 0))
        st = BAD;
    if (st != MSD_OK) {
        mem_item_free(it);
        return st;
    }
    *out = it;
    return MSD_OK;
}

/* [MEM-11]: exactly {"id", "del": 1, "t"}. */
static int parse_tomb(mem_tomb *t, const json_t *o)
{
    uint64_t del = 0;
    return json_object_size(o) == 3 && get_uint(json_object_get(o, "del"), 1, 1, &del) &&
           get_hex(json_object_get(o, "id"), t->id, MSD_MEM_ID_SIZE) && get_stamp(json_object_get(o, "t"), &t->t);
}

static int cmp_live(const void *a, const void *b)
{
    return memcmp((*(mem_item *const *)a)->id, (*(mem_item *const *)b)->id, MSD_MEM_ID_SIZE);
}

static int cmp_dead(const void *a, const void *b)
{
    return memcmp(((const mem_tomb *)a)->id, ((const mem_tomb *)b)->id, MSD_MEM_ID_SIZE);
}

/* Sort both arrays and refuse any id that occurs twice ([MEM-4]). */
static int sort_unique(msd_mem_doc *d)
{
    /* Canonical input is already in order: then one pass, no sort. */
    size_t i = 1;
    while (i < d->n_live && memcmp(d->live[i - 1]->id, d->live[i]->id, MSD_MEM_ID_SIZE) < 0) i++;
    if (i < d->n_live) {
        qsort(d->live, d->n_live, sizeof *d->live, cmp_live);
        for (i = 1; i < d->n_live; i++)
            if (memcmp(d->live[i - 1]->id, d->live[i]->id, MSD_MEM_ID_SIZE) == 0) return 0;
    }
    i = 1;
    while (i < d->n_dead && memcmp(d->dead[i - 1].id, d->dead[i].id, MSD_MEM_ID_SIZE) < 0) i++;
    if (i < d->n_dead) {
        qsort(d->dead, d->n_dead, sizeof *d->dead, cmp_dead);
        for (i = 1; i < d->n_dead; i++)
            if (memcmp(d->dead[i - 1].id, d->dead[i].id, MSD_MEM_ID_SIZE) == 0) return 0;
    }
    size_t j = 0;
    i = 0;
    while (i < d->n_live && j < d->n_dead) {
        const int c = memcmp(d->live[i]->id, d->dead[j].id, MSD_MEM_ID_SIZE);
        if (c == 0) return 0;
        if (c < 0)
            i++;
        else
            j++;
    }
    return 1;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static msd_status parse_items(msd_mem_doc *d, const json_t *items)
{
    size_t i;
    json_t *o;
    if (mem_reserve_live(d, json_array_size(items)) != MSD_OK) return MSD_ERR_NOMEM;
    json_array_foreach(items, i, o) {
        if (!json_is_object(o)) return BAD;
        /* Told apart by size, without a lookup: an object of at most three
         * keys is no live item, so it must be a tombstone; a larger one
         * with `del` is refused by parse_live. */
        if (json_object_size(o) <= TOMB_KEYS) {
            if (mem_reserve_dead(d, 1) != MSD_OK) return MSD_ERR_NOMEM;
            mem_tomb *t = &d->dead[d->n_dead];
            if (!parse_tomb(t, o)) return BAD;
            d->n_dead++;
            d->clock = max_u64(d->clock, t->t.counter);
        } else {
            mem_item *it = NULL;
            const msd_status st = parse_live(&it, o);
            if (st != MSD_OK) return st;
            d->live[d->n_live++] = it;
            d->clock = max_u64(d->clock, max_u64(it->c.counter, it->t.counter));
        }
    }
    return sort_unique(d) ? MSD_OK : BAD;
}

static msd_status parse_root(msd_mem_doc *d, const json_t *root)
{
    if (!json_is_object(root)) return BAD;
    /* [MEM-2]: the version first; another version's fields may differ. */
    const json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt)) return BAD;
    if (strcmp(json_string_value(fmt), MSD_MEM_FORMAT) != 0 || json_string_length(fmt) != strlen(MSD_MEM_FORMAT))
        return MSD_ERR_MEM_VERSION;
    const json_t *items = json_object_get(root, "items");
    if (!get_uint(json_object_get(root, "clock"), 0, MEM_MAX_COUNTER, &d->clock)) return BAD;
    if (!json_is_array(items) || json_array_size(items) > MSD_MEM_MAX_ITEMS) return BAD;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v) {
        if (strcmp(key, "format") == 0 || strcmp(key, "clock") == 0 || strcmp(key, "items") == 0) continue;
        const msd_status st = keep_unknown(&d->extra, key, v);
        if (st != MSD_OK) return st;
    }
    /* [MEM-3]: the clock is raised to the largest stamp. */
    return parse_items(d, items);
}

msd_status msd_mem_parse(msd_mem_doc **out, const uint8_t *buf, size_t len)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (buf == NULL) return MSD_ERR_ARGS;
    if (len > MSD_MEM_MAX_DOC) return BAD;
    msd_mem_doc *d = NULL;
    msd_status st = msd_mem_new(&d);
    if (st != MSD_OK) return st;
    json_error_t err;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        msd_mem_free(d);
        const int oom = json_error_code(&err) == json_error_out_of_memory;
        sodium_memzero(&err, sizeof err); /* its text quotes the input */
        return oom ? MSD_ERR_NOMEM : BAD;
    }
    st = parse_root(d, root);
    json_decref(root);
    if (st != MSD_OK) {
        msd_mem_free(d);
        return st;
    }
    *out = d;
    return MSD_OK;
}
