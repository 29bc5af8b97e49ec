/* Bounds-checked ABI decoding. All arithmetic on untrusted offsets and
 * lengths is done so that it cannot wrap: a wrapped sum could pass a bounds
 * check and let a read escape the input. */
#include "abi_decode.h"

#include <string.h>

#define MS_WORD 32u

/* Pointer to head word `slot`, or NULL when it is not wholly inside args.
 * slot < size / 32 is equivalent to slot * 32 + 32 <= size without the
 * multiplication that could overflow. */
static const uint8_t *ms_abi_head(const ms_abi_args *args, size_t slot)
{
    if (slot >= args->size / MS_WORD) return NULL;
    return args->data + slot * MS_WORD;
}

/* Nonzero when any of the first n bytes is nonzero. */
static int ms_any_nonzero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc != 0;
}

/* The low 8 bytes of a big-endian word. */
static uint64_t ms_word_low64(const uint8_t w[32])
{
    uint64_t v = 0;
    for (unsigned i = 24; i < 32; i++) v = (v << 8) | w[i];
    return v;
}

ms_abi_err ms_abi_word(uint8_t out32[32], const ms_abi_args *args, size_t slot)
{
    const uint8_t *w = ms_abi_head(args, slot);
    if (w == NULL) {
        memset(out32, 0, MS_WORD);
        return MS_ABI_SHORT;
    }
    memcpy(out32, w, MS_WORD);
    return MS_ABI_OK;
}

ms_abi_err ms_abi_uint(uint64_t *out, const ms_abi_args *args, size_t slot, unsigned bits)
{
    *out = 0;
    const uint8_t *w = ms_abi_head(args, slot);
    if (w == NULL) return MS_ABI_SHORT;
    /* Any other width is a caller bug; refusing it beats accepting dirty
     * bits that a stricter decoder (solc) would reject. */
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64) return MS_ABI_DIRTY;
    if (ms_any_nonzero(w, MS_WORD - bits / 8)) return MS_ABI_DIRTY;
    *out = ms_word_low64(w);
    return MS_ABI_OK;
}

ms_abi_err ms_abi_uint256_as_u64(uint64_t *out, const ms_abi_args *args, size_t slot)
{
    return ms_abi_uint(out, args, slot, 64);
}

ms_abi_err ms_abi_address(uint8_t out20[20], const ms_abi_args *args, size_t slot)
{
    memset(out20, 0, 20);
    const uint8_t *w = ms_abi_head(args, slot);
    if (w == NULL) return MS_ABI_SHORT;
    if (ms_any_nonzero(w, 12)) return MS_ABI_DIRTY;
    memcpy(out20, w + 12, 20);
    return MS_ABI_OK;
}

ms_abi_err ms_abi_bytes(const uint8_t **ptr, size_t *len, const ms_abi_args *args,
                        size_t slot, size_t max_len)
{
    *ptr = NULL;
    *len = 0;
    const uint8_t *head = ms_abi_head(args, slot);
    if (head == NULL) return MS_ABI_SHORT;

    /* Offset: must fit in 64 bits, then in size_t, then leave room for the
     * length word. Comparing against size - 32 avoids computing off + 32
     * until it is known not to overflow (size >= 32 holds: the head word
     * was inside the input). */
    if (ms_any_nonzero(head, 24)) return MS_ABI_OFFSET;
    const uint64_t off64 = ms_word_low64(head);
    const size_t room = args->size - MS_WORD;
    if (off64 > room) return MS_ABI_OFFSET;
    const size_t body = (size_t)off64 + MS_WORD;     /* <= size */

    const uint8_t *lw = args->data + (size_t)off64;
    if (ms_any_nonzero(lw, 24)) return MS_ABI_LENGTH;
    const uint64_t len64 = ms_word_low64(lw);
    /* len64 <= size - body implies it fits in size_t and body + len64
     * cannot overflow. The mixed uint64_t/size_t comparisons convert to
     * the wider type, so they are exact whatever the width of size_t. */
    if (len64 > max_len || len64 > args->size - body)
        return MS_ABI_LENGTH;

    *len = (size_t)len64;
    if (*len > 0) *ptr = args->data + body;
    return MS_ABI_OK;
}
