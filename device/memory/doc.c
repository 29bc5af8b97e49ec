/* Documents: creation, copies, lookups and the ordered walk
 * (spec/memory.md §2). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

msd_status msd_mem_new(msd_mem_doc **out)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    /* Random ids come from randombytes_buf. */
    if (sodium_init() < 0) return MSD_ERR_INIT;
    msd_mem_doc *d = calloc(1, sizeof *d);
    if (d == NULL) return MSD_ERR_NOMEM;
    *out = d;
    return MSD_OK;
}

void msd_mem_free(msd_mem_doc *doc)
{
    if (doc == NULL) return;
    for (size_t i = 0; i < doc->n_live; i++) mem_item_free(doc->live[i]);
    free(doc->live);
    if (doc->dead != NULL) sodium_memzero(doc->dead, doc->cap_dead * sizeof *doc->dead);
    free(doc->dead);
    json_decref(doc->extra);
    free(doc);
}

msd_status msd_mem_clone(msd_mem_doc **out, const msd_mem_doc *doc)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (doc == NULL) return MSD_ERR_ARGS;
    msd_mem_doc *d = NULL;
    msd_status st = msd_mem_new(&d);
    if (st != MSD_OK) return st;
    d->clock = doc->clock;
    if (mem_reserve_live(d, doc->n_live) != MSD_OK || mem_reserve_dead(d, doc->n_dead) != MSD_OK) goto nomem;
    for (size_t i = 0; i < doc->n_live; i++) {
        mem_item *c = mem_item_clone(doc->live[i]);
        if (c == NULL) goto nomem;
        d->live[d->n_live++] = c;
    }
    if (doc->n_dead > 0) memcpy(d->dead, doc->dead, doc->n_dead * sizeof *doc->dead);
    d->n_dead = doc->n_dead;
    if (doc->extra != NULL && (d->extra = json_deep_copy(doc->extra)) == NULL) goto nomem;
    *out = d;
    return MSD_OK;
nomem:
    msd_mem_free(d);
    return MSD_ERR_NOMEM;
}

uint64_t msd_mem_clock(const msd_mem_doc *doc)
{
    return doc == NULL ? 0 : doc->clock;
}

size_t msd_mem_count(const msd_mem_doc *doc)
{
    return doc == NULL ? 0 : doc->n_live;
}

size_t msd_mem_tombstones(const msd_mem_doc *doc)
{
    return doc == NULL ? 0 : doc->n_dead;
}

msd_status msd_mem_item_at(const msd_mem_doc *doc, size_t i, msd_mem_item *item)
{
    if (doc == NULL || item == NULL || i >= doc->n_live) return MSD_ERR_ARGS;
    mem_item_view(item, doc->live[i]);
    return MSD_OK;
}

msd_status msd_mem_find(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], msd_mem_item *item)
{
    if (doc == NULL || id == NULL || item == NULL) return MSD_ERR_ARGS;
    const long i = mem_find_live(doc, id, NULL);
    if (i < 0) return MSD_ERR_MEM_NOT_FOUND;
    mem_item_view(item, doc->live[i]);
    return MSD_OK;
}

int msd_mem_is_forgotten(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE])
{
    if (doc == NULL || id == NULL) return 0;
    return mem_find_dead(doc, id, NULL) >= 0;
}

/* ------------------------------------------------------------ internals */

long mem_find_live(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], size_t *pos)
{
    size_t lo = 0, hi = doc->n_live;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = memcmp(doc->live[mid]->id, id, MSD_MEM_ID_SIZE);
        if (c == 0) {
            if (pos != NULL) *pos = mid;
            return (long)mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos != NULL) *pos = lo;
    return -1;
}

long mem_find_dead(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], size_t *pos)
{
    size_t lo = 0, hi = doc->n_dead;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = memcmp(doc->dead[mid].id, id, MSD_MEM_ID_SIZE);
        if (c == 0) {
            if (pos != NULL) *pos = mid;
            return (long)mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos != NULL) *pos = lo;
    return -1;
}

static size_t grow_cap(size_t cap, size_t need)
{
    size_t c = cap < 16 ? 16 : cap;
    while (c < need) c *= 2;
    return c;
}

msd_status mem_reserve_live(msd_mem_doc *doc, size_t n)
{
    if (doc->n_live + n <= doc->cap_live) return MSD_OK;
    const size_t cap = grow_cap(doc->cap_live, doc->n_live + n);
    mem_item **p = realloc(doc->live, cap * sizeof *p);
    if (p == NULL) return MSD_ERR_NOMEM;
    doc->live = p;
    doc->cap_live = cap;
    return MSD_OK;
}

msd_status mem_reserve_dead(msd_mem_doc *doc, size_t n)
{
    if (doc->n_dead + n <= doc->cap_dead) return MSD_OK;
    const size_t cap = grow_cap(doc->cap_dead, doc->n_dead + n);
    mem_tomb *p = malloc(cap * sizeof *p);
    if (p == NULL) return MSD_ERR_NOMEM;
    if (doc->n_dead > 0) memcpy(p, doc->dead, doc->n_dead * sizeof *p);
    if (doc->dead != NULL) sodium_memzero(doc->dead, doc->cap_dead * sizeof *doc->dead);
    free(doc->dead);
    doc->dead = p;
    doc->cap_dead = cap;
    return MSD_OK;
}

void mem_insert_live(msd_mem_doc *doc, mem_item *it)
{
    size_t pos = 0;
    (void)mem_find_live(doc, it->id, &pos);
    memmove(doc->live + pos + 1, doc->live + pos, (doc->n_live - pos) * sizeof *doc->live);
    doc->live[pos] = it;
    doc->n_live++;
}

void mem_insert_dead(msd_mem_doc *doc, const mem_tomb *t)
{
    size_t pos = 0;
    (void)mem_find_dead(doc, t->id, &pos);
    memmove(doc->dead + pos + 1, doc->dead + pos, (doc->n_dead - pos) * sizeof *doc->dead);
    doc->dead[pos] = *t;
    doc->n_dead++;
}

mem_ref mem_lookup(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE])
{
    mem_ref r = {NULL, NULL};
    long i = mem_find_live(doc, id, NULL);
    if (i >= 0) {
        r.live = doc->live[i];
        return r;
    }
    i = mem_find_dead(doc, id, NULL);
    if (i >= 0) r.tomb = &doc->dead[i];
    return r;
}

void mem_cursor_init(mem_cursor *c, const msd_mem_doc *doc)
{
    c->doc = doc;
    c->il = 0;
    c->id = 0;
}

mem_ref mem_cursor_peek(const mem_cursor *c)
{
    mem_ref r = {NULL, NULL};
    if (c->doc == NULL) return r;
    const int has_l = c->il < c->doc->n_live, has_d = c->id < c->doc->n_dead;
    if (has_l && (!has_d || memcmp(c->doc->live[c->il]->id, c->doc->dead[c->id].id, MSD_MEM_ID_SIZE) < 0))
        r.live = c->doc->live[c->il];
    else if (has_d)
        r.tomb = &c->doc->dead[c->id];
    return r;
}

void mem_cursor_next(mem_cursor *c)
{
    const mem_ref r = mem_cursor_peek(c);
    if (r.live != NULL)
        c->il++;
    else if (r.tomb != NULL)
        c->id++;
}

const uint8_t *mem_ref_id(mem_ref r)
{
    return r.live != NULL ? r.live->id : r.tomb->id;
}
