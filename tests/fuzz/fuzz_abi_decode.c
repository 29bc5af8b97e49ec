/* libFuzzer harness for abi/abi_decode.c.
 *
 * Input: [slot selector][bits selector][max_len selector (+0/2/8 bytes)][args...]
 * Every decoder is called on the same args and compared with a reference
 * model written independently in 128-bit arithmetic (which cannot wrap for
 * any size_t/uint64_t operand), so the fuzzer checks not only "no crash"
 * but the exact error code and output of each decoder. */
#include <stdlib.h>
#include <string.h>

#include "abi/abi_decode.h"
#include "fuzz_input.h"

typedef unsigned __int128 u128;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Slots near the size_t limits are where a slot * 32 product would wrap. */
static size_t pick_slot(fz_in *in)
{
    const uint8_t b = fz_u8(in);
    if (b < 0xF0) return b % 12u;
    static const size_t edge[] = {
        SIZE_MAX, SIZE_MAX / 32, SIZE_MAX / 32 + 1, SIZE_MAX / 32 - 1, (size_t)1 << 59, (size_t)1 << 58,
    };
    return edge[b % (sizeof edge / sizeof edge[0])];
}

/* Mostly the four legal widths, sometimes any byte (illegal widths must be
 * refused, never half-decoded). */
static unsigned pick_bits(fz_in *in)
{
    const uint8_t b = fz_u8(in);
    static const unsigned legal[] = { 8, 16, 32, 64 };
    return b >= 0xE0 ? (unsigned)fz_u8(in) : legal[b & 3u];
}

static size_t pick_max_len(fz_in *in)
{
    switch (fz_u8(in) & 3u) {
    case 0: return SIZE_MAX;
    case 1: return (size_t)fz_u64n(in, 2);
    case 2: return (size_t)fz_u64(in);
    default: return 0;
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) return 0;
    }
    return 1;
}

static uint64_t low64(const uint8_t *w)
{
    uint64_t v = 0;
    for (unsigned i = 24; i < 32; i++) v = (v << 8) | w[i];
    return v;
}

/* The head word of slot, or NULL when (slot + 1) * 32 > size. */
static const uint8_t *ref_head(const ms_abi_args *a, size_t slot)
{
    if (((u128)slot + 1) * 32 > (u128)a->size) return NULL;
    return a->data + slot * 32;
}

static void check_word(const ms_abi_args *a, size_t slot)
{
    uint8_t out[32];
    memset(out, 0xA5, sizeof out);   /* prove failure really zeroes */
    const ms_abi_err e = ms_abi_word(out, a, slot);
    const uint8_t *w = ref_head(a, slot);
    if (w == NULL) {
        FZ_CHECK(e == MS_ABI_SHORT);
        FZ_CHECK(all_zero(out, 32));
    } else {
        FZ_CHECK(e == MS_ABI_OK);
        FZ_CHECK(memcmp(out, w, 32) == 0);
    }
}

static void check_uint(const ms_abi_args *a, size_t slot, unsigned bits)
{
    uint64_t out = 0xA5A5A5A5A5A5A5A5u;
    const ms_abi_err e = ms_abi_uint(&out, a, slot, bits);
    const uint8_t *w = ref_head(a, slot);
    ms_abi_err want;
    if (w == NULL) want = MS_ABI_SHORT;
    else if (bits != 8 && bits != 16 && bits != 32 && bits != 64) want = MS_ABI_DIRTY;
    else if (!all_zero(w, 32 - bits / 8)) want = MS_ABI_DIRTY;
    else want = MS_ABI_OK;
    FZ_CHECK(e == want);
    if (e == MS_ABI_OK) {
        FZ_CHECK(out == low64(w));
        FZ_CHECK(bits == 64 || out < ((uint64_t)1 << bits));
    } else {
        FZ_CHECK(out == 0);
    }

    uint64_t out256 = 0xA5A5A5A5A5A5A5A5u;
    const ms_abi_err e256 = ms_abi_uint256_as_u64(&out256, a, slot);
    want = w == NULL ? MS_ABI_SHORT : !all_zero(w, 24) ? MS_ABI_DIRTY : MS_ABI_OK;
    FZ_CHECK(e256 == want);
    FZ_CHECK(e256 == MS_ABI_OK ? out256 == low64(w) : out256 == 0);
}

static void check_address(const ms_abi_args *a, size_t slot)
{
    uint8_t out[20];
    memset(out, 0xA5, sizeof out);
    const ms_abi_err e = ms_abi_address(out, a, slot);
    const uint8_t *w = ref_head(a, slot);
    const ms_abi_err want = w == NULL ? MS_ABI_SHORT : !all_zero(w, 12) ? MS_ABI_DIRTY : MS_ABI_OK;
    FZ_CHECK(e == want);
    if (e == MS_ABI_OK) FZ_CHECK(memcmp(out, w + 12, 20) == 0);
    else FZ_CHECK(all_zero(out, 20));
}

static void check_bytes(const ms_abi_args *a, size_t slot, size_t max_len)
{
    const uint8_t *ptr = (const uint8_t *)&ptr;   /* any non-NULL garbage */
    size_t len = 0xA5A5u;
    const ms_abi_err e = ms_abi_bytes(&ptr, &len, a, slot, max_len);

    /* Reference: the order of checks is the one abi_decode.h documents. */
    ms_abi_err want = MS_ABI_OK;
    u128 off = 0, n = 0;
    const uint8_t *head = ref_head(a, slot);
    if (head == NULL) {
        want = MS_ABI_SHORT;
    } else if (!all_zero(head, 24) || (off = low64(head)) + 32 > (u128)a->size) {
        want = MS_ABI_OFFSET;
    } else {
        const uint8_t *lw = a->data + (size_t)off;
        n = low64(lw);
        if (!all_zero(lw, 24) || n > (u128)max_len || off + 32 + n > (u128)a->size) want = MS_ABI_LENGTH;
    }
    FZ_CHECK(e == want);
    if (e != MS_ABI_OK) {
        FZ_CHECK(ptr == NULL && len == 0);
        return;
    }
    FZ_CHECK((u128)len == n && len <= max_len);
    if (len == 0) {
        FZ_CHECK(ptr == NULL);
    } else {
        /* Inside the input, and exactly where the offset says. */
        FZ_CHECK(ptr == a->data + (size_t)off + 32);
        FZ_CHECK(ptr >= a->data && (size_t)(ptr - a->data) + len <= a->size);
        volatile uint8_t sink = ptr[0] ^ ptr[len - 1];   /* ASan proves the range readable */
        (void)sink;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    const size_t slot = pick_slot(&in);
    const unsigned bits = pick_bits(&in);
    const size_t max_len = pick_max_len(&in);

    /* An exact-size heap copy: ASan redzones on both sides catch a read
     * that escapes the args in either direction. Empty args are NULL, as a
     * host may pass them. */
    uint8_t *copy = NULL;
    if (in.n > 0) {
        copy = malloc(in.n);
        if (copy == NULL) return 0;
        memcpy(copy, in.p, in.n);
    }
    const ms_abi_args a = { copy, in.n };

    check_word(&a, slot);
    check_uint(&a, slot, bits);
    check_address(&a, slot);
    check_bytes(&a, slot, max_len);
    /* Neighbouring slots too: real decoders read several heads per call. */
    for (size_t s = 0; s < 4; s++) check_bytes(&a, s, max_len);

    free(copy);
    return 0;
}
