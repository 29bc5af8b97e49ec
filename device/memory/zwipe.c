/* zlib allocator hooks that wipe every block before freeing it (zwipe.h).
 * zlib's own source stays untouched: it calls these through z_stream's
 * zalloc / zfree / opaque for each of its internal blocks. */
#include "device/memory/zwipe.h"

#include <stdlib.h>

#include <sodium.h>

/* The block's size sits before it; the union keeps what follows aligned
 * for any type, as malloc's own result is (zlib stores integers and
 * pointers in its state). */
typedef union zhead {
    max_align_t align;
    size_t n;
} zhead;

void mem_zwipe_use(z_stream *s, mem_ztally *tally)
{
    s->zalloc = mem_zalloc;
    s->zfree = mem_zfree;
    s->opaque = tally;
}

int mem_zwipe_total(size_t items, size_t size, size_t *total)
{
    if (size != 0 && items > (SIZE_MAX - sizeof(zhead)) / size) return 0;
    *total = sizeof(zhead) + items * size;
    return 1;
}

voidpf mem_zalloc(voidpf opaque, uInt items, uInt size)
{
    size_t total = 0;
    /* uInt products fit a 64-bit size_t; not every size_t is 64 bits. */
    if (!mem_zwipe_total(items, size, &total)) return Z_NULL;
    zhead *h = malloc(total);
    if (h == NULL) return Z_NULL;
    h->n = total - sizeof(zhead);
    mem_ztally *t = opaque;
    if (t != NULL) {
        t->allocated++;
        t->bytes_allocated += h->n;
    }
    return h + 1;
}

void mem_zfree(voidpf opaque, voidpf block)
{
    if (block == Z_NULL) return;
    zhead *h = (zhead *)block - 1;
    const size_t n = h->n;
    sodium_memzero(h, sizeof(zhead) + n);
    free(h);
    mem_ztally *t = opaque;
    if (t != NULL) {
        t->wiped++;
        t->bytes_wiped += n;
    }
}
