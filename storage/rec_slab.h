/* A size-class allocator for the node cache's records (storage/smt.c).
 *
 * Why: an apply replaces thousands of cached records per block (the stale
 * ones leave the cache, the block's new ones enter it), records of 100 to
 * 2,013 bytes. With malloc, each of them costs a free that coalesces
 * neighbours and a malloc that splits them again: a sixth of a big block's
 * tree work. Here a record takes a block of its size class (a multiple of
 * 64 bytes) carved from large chunks, and a freed block goes on its class's
 * free list for the next record of that class.
 *
 * Memory: chunks are only released by ms_rec_slab_reset (a cleared cache)
 * and ms_rec_slab_free_all. So that a shift in record sizes cannot pile up
 * free blocks of one class beyond the cache's stated bound, the slab never
 * holds more than `limit` bytes of chunks: past it, ms_rec_slab_alloc
 * answers NULL and the caller falls back to malloc for that record.
 *
 * Not thread-safe: like the cache, used by the calling thread of an apply
 * only. Results never depend on it (speed and memory only). */
#ifndef MS_STORAGE_REC_SLAB_H
#define MS_STORAGE_REC_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define MS_REC_SLAB_GRAIN 64u                 /* class c holds blocks of (c + 1) x 64 bytes */
#define MS_REC_SLAB_MAX 2048u                 /* the largest block */
#define MS_REC_SLAB_CLASSES (MS_REC_SLAB_MAX / MS_REC_SLAB_GRAIN)
#define MS_REC_SLAB_CHUNK (256u * 1024u)      /* bytes carved at a time */

typedef struct ms_rec_slab {
    void *free_list[MS_REC_SLAB_CLASSES];    /* freed blocks of each class, chained through their first bytes */
    uint8_t **chunks;
    size_t nchunks, capchunks;
    size_t carved;                             /* bytes of the last chunk handed out */
    size_t limit;                              /* the most chunk bytes held */
} ms_rec_slab;

/* Start an empty slab that holds at most limit bytes of chunks. Never fails
 * (no allocation until the first block). */
void ms_rec_slab_init(ms_rec_slab *s, size_t limit);

/* Returns a block of at least len bytes (1 <= len <= MS_REC_SLAB_MAX), or
 * NULL when len is out of range, the slab is at its limit, or out of
 * memory: the caller then uses malloc. */
void *ms_rec_slab_alloc(ms_rec_slab *s, size_t len);

/* Give back block p, which ms_rec_slab_alloc returned for the same len. */
void ms_rec_slab_free(ms_rec_slab *s, void *p, size_t len);

/* Release every chunk: every block handed out is invalid afterwards. The
 * slab stays usable (its limit kept). */
void ms_rec_slab_reset(ms_rec_slab *s);

#endif
