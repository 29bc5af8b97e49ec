/* ABI encoding into a growable buffer. Sizes are checked before every
 * allocation so that a huge request fails cleanly instead of wrapping. */
#include "abi_encode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MS_WORD 32u
#define MS_BUF_MIN_CAP 64u

/* No object may exceed PTRDIFF_MAX bytes: pointer differences within it
 * would be undefined, and allocators refuse such sizes anyway. Capping here
 * also keeps the doubling below from overflowing. */
#define MS_BUF_MAX_CAP ((size_t)PTRDIFF_MAX)

static const uint8_t ms_zero_word[MS_WORD];

void ms_buf_init(ms_buf *b)
{
    b->data = NULL;
    b->size = 0;
    b->cap = 0;
    b->failed = 0;
}

void ms_buf_free(ms_buf *b)
{
    free(b->data);
    ms_buf_init(b);
}

void ms_buf_reset(ms_buf *b)
{
    b->size = 0;
    b->failed = 0;
}

int ms_buf_reserve(ms_buf *b, size_t extra)
{
    if (b->failed) return 0;
    if (extra > MS_BUF_MAX_CAP - b->size) {     /* size <= cap <= max */
        b->failed = 1;
        return 0;
    }
    const size_t need = b->size + extra;
    if (need <= b->cap) return 1;

    /* Geometric growth keeps a sequence of small puts amortised O(1). */
    size_t cap = b->cap < MS_BUF_MIN_CAP ? MS_BUF_MIN_CAP : b->cap;
    while (cap < need) cap = cap > MS_BUF_MAX_CAP / 2 ? MS_BUF_MAX_CAP : cap * 2;

    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        /* The old block stays valid and owned by b, so free() still works. */
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void ms_buf_put(ms_buf *b, const uint8_t *data, size_t len)
{
    if (len == 0 || !ms_buf_reserve(b, len)) return;
    memcpy(b->data + b->size, data, len);
    b->size += len;
}

void ms_abi_put_selector(ms_buf *b, uint32_t selector)
{
    const uint8_t s[4] = {
        (uint8_t)(selector >> 24), (uint8_t)(selector >> 16),
        (uint8_t)(selector >> 8), (uint8_t)selector,
    };
    ms_buf_put(b, s, sizeof s);
}

void ms_abi_put_word(ms_buf *b, const uint8_t word32[32])
{
    ms_buf_put(b, word32, MS_WORD);
}

void ms_abi_put_uint(ms_buf *b, uint64_t v)
{
    uint8_t w[MS_WORD] = {0};
    for (unsigned i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8u * i));
    ms_buf_put(b, w, sizeof w);
}

void ms_abi_put_address(ms_buf *b, const uint8_t addr20[20])
{
    uint8_t w[MS_WORD] = {0};
    memcpy(w + 12, addr20, 20);
    ms_buf_put(b, w, sizeof w);
}

size_t ms_abi_bytes_tail_words(size_t len)
{
    /* Written without len + 31 so it cannot wrap for len near SIZE_MAX. */
    return 1 + len / MS_WORD + (len % MS_WORD != 0);
}

void ms_abi_put_bytes_tail(ms_buf *b, const uint8_t *data, size_t len)
{
    const size_t pad = (MS_WORD - len % MS_WORD) % MS_WORD;
    /* Reserve the whole tail up front: either it all fits or nothing but
     * the failed flag changes. The sum is checked against the cap first. */
    if (len > MS_BUF_MAX_CAP - MS_WORD - pad) {
        b->failed = 1;
        return;
    }
    if (!ms_buf_reserve(b, MS_WORD + len + pad)) return;
    ms_abi_put_uint(b, (uint64_t)len);
    ms_buf_put(b, data, len);
    ms_buf_put(b, ms_zero_word, pad);
}
