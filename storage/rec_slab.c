/* Size-class blocks for cached node records: see storage/rec_slab.h. */
#include "storage/rec_slab.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(MS_REC_SLAB_CHUNK % MS_REC_SLAB_MAX == 0, "a chunk is carved into whole blocks of any class");
_Static_assert(MS_REC_SLAB_GRAIN >= sizeof(void *), "a free block holds the next free block's address");

void ms_rec_slab_init(ms_rec_slab *s, size_t limit)
{
    memset(s, 0, sizeof *s);
    s->limit = limit;
}

static size_t class_of(size_t len)
{
    return (len - 1u) / MS_REC_SLAB_GRAIN;
}

void *ms_rec_slab_alloc(ms_rec_slab *s, size_t len)
{
    if (len == 0 || len > MS_REC_SLAB_MAX) return NULL;
    const size_t c = class_of(len), size = (c + 1u) * MS_REC_SLAB_GRAIN;
    void *p = s->free_list[c];
    if (p != NULL) {
        memcpy(&s->free_list[c], p, sizeof(void *));
        return p;
    }
    /* Carve the block from the last chunk; sizes are multiples of the
     * grain, so a chunk's tail too small for this class is left unused
     * (at most one block's worth per chunk). */
    if (s->nchunks == 0 || MS_REC_SLAB_CHUNK - s->carved < size) {
        if ((s->nchunks + 1u) * (size_t)MS_REC_SLAB_CHUNK > s->limit) return NULL;
        if (s->nchunks == s->capchunks) {
            const size_t cap = s->capchunks ? 2u * s->capchunks : 16u;
            uint8_t **grown = realloc(s->chunks, cap * sizeof *grown);
            if (grown == NULL) return NULL;
            s->chunks = grown;
            s->capchunks = cap;
        }
        uint8_t *chunk = malloc(MS_REC_SLAB_CHUNK);
        if (chunk == NULL) return NULL;
        s->chunks[s->nchunks++] = chunk;
        s->carved = 0;
    }
    p = s->chunks[s->nchunks - 1u] + s->carved;
    s->carved += size;
    return p;
}

void ms_rec_slab_free(ms_rec_slab *s, void *p, size_t len)
{
    const size_t c = class_of(len);
    memcpy(p, &s->free_list[c], sizeof(void *));
    s->free_list[c] = p;
}

void ms_rec_slab_reset(ms_rec_slab *s)
{
    for (size_t i = 0; i < s->nchunks; i++) free(s->chunks[i]);
    free(s->chunks);
    const size_t limit = s->limit;
    ms_rec_slab_init(s, limit);
}
