/* Items: allocation, copies, equality, stamps and text checks
 * (spec/memory.md §2). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

mem_item *mem_item_new(void)
{
    return calloc(1, sizeof(mem_item));
}

void mem_str_free(char *s)
{
    if (s == NULL) return;
    sodium_memzero(s, strlen(s));
    free(s);
}

char *mem_str_dup(const char *s, int *ok)
{
    if (s == NULL) return NULL;
    const size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d == NULL) {
        *ok = 0;
        return NULL;
    }
    memcpy(d, s, n + 1);
    return d;
}

void mem_item_free(mem_item *it)
{
    if (it == NULL) return;
    mem_str_free(it->text);
    mem_str_free(it->entity);
    mem_str_free(it->etype);
    mem_str_free(it->from);
    mem_str_free(it->to);
    mem_str_free(it->tool);
    mem_str_free(it->xid);
    /* jansson frees its own blocks without wiping them; see spec §4. */
    json_decref(it->src_extra);
    json_decref(it->extra);
    sodium_memzero(it, sizeof *it);
    free(it);
}

mem_item *mem_item_clone(const mem_item *it)
{
    mem_item *c = mem_item_new();
    if (c == NULL) return NULL;
    *c = *it;
    c->text = c->entity = c->etype = c->from = c->to = c->tool = c->xid = NULL;
    c->src_extra = c->extra = NULL;
    int ok = 1;
    c->text = mem_str_dup(it->text, &ok);
    c->entity = mem_str_dup(it->entity, &ok);
    c->etype = mem_str_dup(it->etype, &ok);
    c->from = mem_str_dup(it->from, &ok);
    c->to = mem_str_dup(it->to, &ok);
    c->tool = mem_str_dup(it->tool, &ok);
    c->xid = mem_str_dup(it->xid, &ok);
    /* Deep copies: documents never share mutable jansson values. */
    if (it->src_extra != NULL && (c->src_extra = json_deep_copy(it->src_extra)) == NULL) ok = 0;
    if (it->extra != NULL && (c->extra = json_deep_copy(it->extra)) == NULL) ok = 0;
    if (!ok) {
        mem_item_free(c);
        return NULL;
    }
    return c;
}

int mem_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

/* Unknown keys are NULL when there are none, so NULL only equals NULL. */
int mem_json_eq(const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL) return a == b;
    return json_equal(a, b);
}

int mem_src_equal(const mem_item *a, const mem_item *b)
{
    return a->has_src == b->has_src && a->imported == b->imported && mem_str_eq(a->tool, b->tool) &&
           mem_str_eq(a->xid, b->xid) && mem_json_eq(a->src_extra, b->src_extra);
}

int mem_item_equal(const mem_item *a, const mem_item *b)
{
    if (a == b) return 1;
    return memcmp(a->id, b->id, MSD_MEM_ID_SIZE) == 0 && a->kind == b->kind && mem_str_eq(a->text, b->text) &&
           mem_str_eq(a->entity, b->entity) && mem_str_eq(a->etype, b->etype) && mem_str_eq(a->from, b->from) &&
           mem_str_eq(a->to, b->to) && a->cats == b->cats && a->type == b->type && a->imp == b->imp &&
           mem_src_equal(a, b) && mem_stamp_cmp(&a->c, &b->c) == 0 && mem_stamp_cmp(&a->t, &b->t) == 0 &&
           a->has_of == b->has_of && (!a->has_of || memcmp(a->of, b->of, MSD_MEM_ID_SIZE) == 0) &&
           mem_json_eq(a->extra, b->extra);
}

int mem_stamp_cmp(const msd_mem_stamp *a, const msd_mem_stamp *b)
{
    if (a->counter != b->counter) return a->counter < b->counter ? -1 : 1;
    return memcmp(a->device, b->device, MSD_MEM_DEVICE_SIZE);
}

void mem_item_view(msd_mem_item *out, const mem_item *it)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, it->id, MSD_MEM_ID_SIZE);
    out->kind = it->kind;
    out->text = it->text;
    out->entity = it->entity;
    out->entity_type = it->etype;
    out->from = it->from;
    out->to = it->to;
    out->categories = it->cats;
    out->type = it->type;
    out->importance = it->imp;
    out->tool = it->tool;
    out->imported = it->imported;
    out->created = it->c;
    out->updated = it->t;
    out->has_conflict_of = it->has_of;
    if (it->has_of) memcpy(out->conflict_of, it->of, MSD_MEM_ID_SIZE);
}

/* The same acceptance as jansson's decoder (utf.c), so that every string
 * the API accepts also survives a parse. */
int mem_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        const unsigned c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0; /* overlong */
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

msd_status mem_check_text(const char *s, size_t max, int allow_empty)
{
    if (s == NULL) return MSD_ERR_ARGS;
    /* Bounded scan: an over-long text is refused without reading it all. */
    const size_t n = strnlen(s, (size_t)max + 1u);
    if (n > max) return MSD_ERR_MEM_TOO_LARGE;
    if (n == 0 && !allow_empty) return MSD_ERR_ARGS;
    return mem_utf8_valid(s, n) ? MSD_OK : MSD_ERR_ARGS;
}

int mem_ref_equal(mem_ref a, mem_ref b)
{
    if (a.live != NULL && b.live != NULL) return mem_item_equal(a.live, b.live);
    if (a.tomb != NULL && b.tomb != NULL)
        return memcmp(a.tomb->id, b.tomb->id, MSD_MEM_ID_SIZE) == 0 && mem_stamp_cmp(&a.tomb->t, &b.tomb->t) == 0;
    return a.live == NULL && a.tomb == NULL && b.live == NULL && b.tomb == NULL;
}

/* [MEM-29]: a tombstone beats a live item; otherwise the higher "t" stamp;
 * equal stamps: the lower canonical bytes (equal bytes: the same item). */
int mem_ref_beats(mem_ref a, mem_ref b, int *oom)
{
    if (a.tomb != NULL && b.live != NULL) return 1;
    if (a.live != NULL && b.tomb != NULL) return 0;
    const msd_mem_stamp *ta = a.tomb != NULL ? &a.tomb->t : &a.live->t;
    const msd_mem_stamp *tb = b.tomb != NULL ? &b.tomb->t : &b.live->t;
    const int c = mem_stamp_cmp(ta, tb);
    if (c != 0) return c > 0;
    return mem_ref_bytes_cmp(a, b, oom) < 0;
}
