/* Key order by radix sort. qsort on the keys took about 200 ns per entry
 * for a block of 10,000 (each comparison a call and two keys in separate
 * allocations): a tenth of that block's commit. Here each key is read
 * once, for its first 8 bytes; a byte-wise radix sort orders those
 * prefixes in a few linear passes over 16-byte items; only entries whose
 * prefixes tie (keys sharing their first 8 bytes, or a key and its
 * zero-padded extension) are compared whole, by qsort, so no choice of
 * keys makes it quadratic. */
#include "storage/key_sort.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ms_key_cmp(const void *pa, const void *pb)
{
    const ms_overlay_entry *a = *(const ms_overlay_entry *const *)pa;
    const ms_overlay_entry *b = *(const ms_overlay_entry *const *)pb;
    const size_t n = a->klen < b->klen ? a->klen : b->klen;
    /* memcmp is undefined on NULL even with length 0. */
    const int c = n ? memcmp(a->key, b->key, n) : 0;
    if (c != 0) return c;
    return (a->klen > b->klen) - (a->klen < b->klen);
}

/* Below this many entries, qsort is as quick and needs no histograms. */
#define RADIX_MIN 64u

typedef struct sort_item {
    /* The key's first 8 bytes, big-endian, zero-padded: where two
     * prefixes differ, they order their keys (a short key's padding 0
     * meets a byte that differs from it, so is smaller, as the shorter
     * key is); where they tie, the keys are compared whole. */
    uint64_t prefix;
    const ms_overlay_entry *e;
} sort_item;

static uint64_t key_prefix(const ms_overlay_entry *e)
{
    uint64_t p = 0;
    for (size_t i = 0; i < 8; i++) p = (p << 8) | (i < e->klen ? e->key[i] : 0);
    return p;
}

int ms_key_sort(const ms_overlay_entry **entries, size_t n)
{
    if (n < RADIX_MIN) {
        if (n > 1) qsort(entries, n, sizeof *entries, ms_key_cmp);
        return 1;
    }
    sort_item *a = malloc(2 * n * sizeof *a);
    if (a == NULL) return 0;
    sort_item *tmp = a + n;
    /* One pass reads every key and counts each prefix byte's digits. */
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        a[i].e = entries[i];
        a[i].prefix = key_prefix(entries[i]);
        for (unsigned d = 0; d < 8; d++) count[d][(a[i].prefix >> (8 * d)) & 0xff]++;
    }
    /* Least significant byte first, each pass stable; a byte that all
     * prefixes share (a key's type tag, mostly) moves nothing. */
    for (unsigned d = 0; d < 8; d++) {
        const unsigned shift = 8 * d;
        if (count[d][(a[0].prefix >> shift) & 0xff] == n) continue;
        size_t start[256], at = 0;
        for (size_t v = 0; v < 256; v++) {
            start[v] = at;
            at += count[d][v];
        }
        for (size_t i = 0; i < n; i++) tmp[start[(a[i].prefix >> shift) & 0xff]++] = a[i];
        sort_item *const s = a;
        a = tmp;
        tmp = s;
    }
    for (size_t i = 0; i < n; i++) entries[i] = a[i].e;
    /* Runs of tied prefixes, compared whole. */
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && a[hi].prefix == a[lo].prefix) hi++;
        if (hi - lo > 1) qsort(entries + lo, hi - lo, sizeof *entries, ms_key_cmp);
        lo = hi;
    }
    free(a < tmp ? a : tmp);
    return 1;
}
