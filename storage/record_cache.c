#include "storage/record_cache.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(MS_KEY_MAX <= UINT8_MAX && MS_RCACHE_VALUE_MAX <= UINT8_MAX, "lengths fit a byte");
_Static_assert((MS_RCACHE_SETS & (MS_RCACHE_SETS - 1u)) == 0, "a power of two");

struct ms_rcache {
    ms_rcache_entry *ents;  /* MS_RCACHE_SETS sets of MS_RCACHE_WAYS */
    uint32_t *tags;         /* per entry: 32 bits of its key's hash, never 0; 0 when free */
    uint64_t clock;         /* access stamps; 2^64 accesses do not happen */
};

ms_rcache *ms_rcache_create(void)
{
    ms_rcache *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->ents = calloc((size_t)MS_RCACHE_SETS * MS_RCACHE_WAYS, sizeof *c->ents);
    c->tags = calloc((size_t)MS_RCACHE_SETS * MS_RCACHE_WAYS, sizeof *c->tags);
    if (c->ents == NULL || c->tags == NULL) {
        ms_rcache_destroy(c);
        return NULL;
    }
    return c;
}

void ms_rcache_destroy(ms_rcache *c)
{
    if (c == NULL) return;
    free(c->ents);
    free(c->tags);
    free(c);
}

/* FNV-1a, then Fibonacci mixing: the top bits pick the set, the low bits
 * are the tag, so keys that differ only in their last bytes (a version
 * number) still spread. The tags let a lookup compare 16 bytes of one cache
 * line before it touches any entry. */
typedef struct slot {
    size_t first;   /* index of the set's first entry */
    uint32_t tag;
} slot;

static slot slot_of(const uint8_t *key, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < klen; i++) {
        h ^= key[i];
        h *= 0x100000001b3u;
    }
    h *= 0x9e3779b97f4a7c15u;
    const slot s = { (size_t)(h >> 32) % MS_RCACHE_SETS * MS_RCACHE_WAYS, (uint32_t)h | 1u };
    return s;
}

static ms_rcache_entry *lookup(ms_rcache *c, slot s, const uint8_t *key, size_t klen)
{
    for (unsigned w = 0; w < MS_RCACHE_WAYS; w++) {
        if (c->tags[s.first + w] != s.tag) continue;
        ms_rcache_entry *e = &c->ents[s.first + w];
        if (e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
    }
    return NULL;
}

const ms_rcache_entry *ms_rcache_find(ms_rcache *c, const uint8_t *key, size_t klen)
{
    if (klen == 0 || klen > MS_KEY_MAX) return NULL;
    ms_rcache_entry *e = lookup(c, slot_of(key, klen), key, klen);
    if (e != NULL) e->used = ++c->clock;
    return e;
}

const ms_rcache_entry *ms_rcache_put(ms_rcache *c, const uint8_t *key, size_t klen, int present,
                                     const uint8_t *val, size_t vlen)
{
    if (klen == 0 || klen > MS_KEY_MAX) return NULL;
    const slot s = slot_of(key, klen);
    ms_rcache_entry *e = lookup(c, s, key, klen);
    if (present && vlen > MS_RCACHE_VALUE_MAX) {
        if (e != NULL) {   /* a stale value must not stay */
            c->tags[e - c->ents] = 0;
            memset(e, 0, sizeof *e);
        }
        return NULL;
    }
    if (e == NULL) {
        /* A free way, else the least recently used. */
        ms_rcache_entry *set = &c->ents[s.first];
        e = &set[0];
        for (unsigned w = 1; w < MS_RCACHE_WAYS && e->used != 0; w++) {
            if (set[w].used < e->used) e = &set[w];
        }
    }
    memset(e, 0, sizeof *e);
    c->tags[e - c->ents] = s.tag;
    e->used = ++c->clock;
    memcpy(e->key, key, klen);
    e->klen = (uint8_t)klen;
    e->present = present ? 1 : 0;
    if (present && vlen > 0) {
        memcpy(e->val, val, vlen);
        e->vlen = (uint8_t)vlen;
    }
    return e;
}

void ms_rcache_clear(ms_rcache *c)
{
    memset(c->ents, 0, (size_t)MS_RCACHE_SETS * MS_RCACHE_WAYS * sizeof *c->ents);
    memset(c->tags, 0, (size_t)MS_RCACHE_SETS * MS_RCACHE_WAYS * sizeof *c->tags);
}
