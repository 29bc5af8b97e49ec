/* The node cache's record slab (storage/rec_slab.h): size classes, reuse of
 * freed blocks, the limit, reset. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "storage/rec_slab.h"

Test(rec_slab, lengths_out_of_range_get_no_block)
{
    ms_rec_slab s;
    ms_rec_slab_init(&s, 4u * MS_REC_SLAB_CHUNK);
    cr_assert_null(ms_rec_slab_alloc(&s, 0));
    cr_assert_null(ms_rec_slab_alloc(&s, MS_REC_SLAB_MAX + 1u));
    cr_assert_not_null(ms_rec_slab_alloc(&s, MS_REC_SLAB_MAX));
    cr_assert_not_null(ms_rec_slab_alloc(&s, 1));
    ms_rec_slab_reset(&s);
}

Test(rec_slab, blocks_do_not_overlap_and_freed_ones_serve_their_class)
{
    ms_rec_slab s;
    ms_rec_slab_init(&s, 8u * MS_REC_SLAB_CHUNK);
    enum { N = 600 };
    static uint8_t *p[N];
    static size_t len[N];
    for (size_t i = 0; i < N; i++) {
        len[i] = 1u + (i * 197u) % MS_REC_SLAB_MAX;
        p[i] = ms_rec_slab_alloc(&s, len[i]);
        cr_assert_not_null(p[i], "block %zu", i);
        memset(p[i], (int)(i & 0xff), len[i]);
    }
    /* Every block still holds what was written to it: none overlaps. */
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; k < len[i]; k++) cr_assert_eq(p[i][k], (uint8_t)(i & 0xff), "block %zu byte %zu", i, k);
    }
    /* A freed block comes back for a length of its class (64-byte
     * classes), not for another class. */
    uint8_t *freed = p[10];
    const size_t c = (len[10] - 1u) / MS_REC_SLAB_GRAIN;
    ms_rec_slab_free(&s, freed, len[10]);
    const size_t other = c == 0 ? 2u * MS_REC_SLAB_GRAIN : 1u;
    uint8_t *q = ms_rec_slab_alloc(&s, other);
    cr_assert_neq(q, freed);
    uint8_t *r = ms_rec_slab_alloc(&s, c * MS_REC_SLAB_GRAIN + 1u);
    cr_assert_eq(r, freed);
    ms_rec_slab_reset(&s);
}

Test(rec_slab, the_limit_refuses_new_chunks_and_reset_gives_them_back)
{
    ms_rec_slab s;
    ms_rec_slab_init(&s, 2u * MS_REC_SLAB_CHUNK);
    size_t got = 0;
    while (ms_rec_slab_alloc(&s, MS_REC_SLAB_MAX) != NULL) got++;
    cr_assert_eq(got, 2u * MS_REC_SLAB_CHUNK / MS_REC_SLAB_MAX, "two chunks of the largest blocks");
    cr_assert_eq(s.nchunks, 2u);
    cr_assert_null(ms_rec_slab_alloc(&s, 1));
    ms_rec_slab_reset(&s);
    cr_assert_eq(s.nchunks, 0u);
    cr_assert_eq(s.limit, 2u * MS_REC_SLAB_CHUNK);
    cr_assert_not_null(ms_rec_slab_alloc(&s, 100));
    ms_rec_slab_reset(&s);
}
