/* ABI decoder: every error code, at and around each boundary. Fixtures are
 * copied into exactly-sized heap blocks so AddressSanitizer flags any read
 * past args->size. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/abi_decode.h"
#include "test_util.h"

/* Hex building blocks: Z24 is 24 zero bytes, so Z24 + 8 bytes is a word
 * whose value fits in 64 bits. */
#define Z24 "000000000000000000000000000000000000000000000000"
#define ZW Z24 "0000000000000000"
#define W(u64hex) Z24 u64hex

static ms_abi_args ms_args(const char *hex)
{
    const size_t cap = strlen(hex) / 2;
    ms_abi_args a = { NULL, 0 };
    if (cap == 0) return a;
    uint8_t *buf = malloc(cap);
    cr_assert_not_null(buf);
    a.size = ms_test_hex(buf, cap, hex);
    cr_assert_eq(a.size, cap, "bad fixture hex");
    a.data = buf;
    return a;
}

static void ms_args_free(ms_abi_args *a)
{
    free((void *)(uintptr_t)a->data);
    a->data = NULL;
    a->size = 0;
}

/* ---- fixed-size words ---------------------------------------------- */

Test(abi_decode, word_ok_and_short)
{
    ms_abi_args a = ms_args(W("0000000000000001") W("00000000000000ff"));
    uint8_t w[32];
    cr_assert_eq(ms_abi_word(w, &a, 1), MS_ABI_OK);
    cr_assert_eq(w[31], 0xff);
    cr_assert_eq(ms_abi_word(w, &a, 2), MS_ABI_SHORT);
    cr_assert_eq(ms_abi_word(w, &a, SIZE_MAX), MS_ABI_SHORT);
    cr_assert_eq(ms_abi_word(w, &a, SIZE_MAX / 32 + 1), MS_ABI_SHORT);
    ms_args_free(&a);
}

Test(abi_decode, short_partial_word)
{
    /* 63 bytes: slot 0 is whole, slot 1 is one byte short. */
    ms_abi_args a = ms_args(ZW "00000000000000000000000000000000000000000000000000000000000000");
    cr_assert_eq(a.size, 63u);
    uint8_t w[32];
    uint64_t v = 7;
    uint8_t addr[20];
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 9;
    cr_assert_eq(ms_abi_word(w, &a, 0), MS_ABI_OK);
    cr_assert_eq(ms_abi_word(w, &a, 1), MS_ABI_SHORT);
    cr_assert_eq(ms_abi_uint(&v, &a, 1, 64), MS_ABI_SHORT);
    cr_assert_eq(v, 0u);
    cr_assert_eq(ms_abi_uint256_as_u64(&v, &a, 1), MS_ABI_SHORT);
    cr_assert_eq(ms_abi_address(addr, &a, 1), MS_ABI_SHORT);
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 1, SIZE_MAX), MS_ABI_SHORT);
    cr_assert_null(p);
    cr_assert_eq(n, 0u);
    ms_args_free(&a);
}

Test(abi_decode, empty_args)
{
    const ms_abi_args a = { NULL, 0 };
    uint8_t w[32];
    cr_assert_eq(ms_abi_word(w, &a, 0), MS_ABI_SHORT);
}

Test(abi_decode, uint_widths_max_values)
{
    ms_abi_args a = ms_args(W("00000000000000ff") W("000000000000ffff")
                            W("00000000ffffffff") W("ffffffffffffffff"));
    uint64_t v;
    cr_assert_eq(ms_abi_uint(&v, &a, 0, 8), MS_ABI_OK);
    cr_assert_eq(v, 0xffu);
    cr_assert_eq(ms_abi_uint(&v, &a, 1, 16), MS_ABI_OK);
    cr_assert_eq(v, 0xffffu);
    cr_assert_eq(ms_abi_uint(&v, &a, 2, 32), MS_ABI_OK);
    cr_assert_eq(v, 0xffffffffu);
    cr_assert_eq(ms_abi_uint(&v, &a, 3, 64), MS_ABI_OK);
    cr_assert_eq(v, UINT64_MAX);
    /* A wider value read as a narrower type is dirty. */
    cr_assert_eq(ms_abi_uint(&v, &a, 1, 8), MS_ABI_DIRTY);
    cr_assert_eq(v, 0u);
    cr_assert_eq(ms_abi_uint(&v, &a, 3, 32), MS_ABI_DIRTY);
    ms_args_free(&a);
}

/* For each width, set each byte above it in turn: every one must be dirty. */
Test(abi_decode, uint_dirty_every_high_byte)
{
    static const unsigned widths[] = { 8, 16, 32, 64 };
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        const unsigned bits = widths[k];
        for (size_t i = 0; i < 32 - bits / 8; i++) {
            uint8_t word[32] = {0};
            word[i] = 0x01;
            const ms_abi_args a = { word, sizeof word };
            uint64_t v = 5;
            cr_assert_eq(ms_abi_uint(&v, &a, 0, bits), MS_ABI_DIRTY,
                         "uint%u byte %zu", bits, i);
            cr_assert_eq(v, 0u);
        }
    }
}

Test(abi_decode, uint_unsupported_width)
{
    const uint8_t word[32] = {0};
    const ms_abi_args a = { word, sizeof word };
    uint64_t v;
    cr_assert_eq(ms_abi_uint(&v, &a, 0, 24), MS_ABI_DIRTY);
    cr_assert_eq(ms_abi_uint(&v, &a, 0, 0), MS_ABI_DIRTY);
    cr_assert_eq(ms_abi_uint(&v, &a, 0, 128), MS_ABI_DIRTY);
}

Test(abi_decode, uint256_as_u64)
{
    ms_abi_args a = ms_args(W("ffffffffffffffff")
                            "000000000000000000000000000000000000000000000001" "0000000000000000"
                            "800000000000000000000000000000000000000000000000" "0000000000000001");
    uint64_t v;
    cr_assert_eq(ms_abi_uint256_as_u64(&v, &a, 0), MS_ABI_OK);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(ms_abi_uint256_as_u64(&v, &a, 1), MS_ABI_DIRTY);   /* 2^64 */
    cr_assert_eq(v, 0u);
    cr_assert_eq(ms_abi_uint256_as_u64(&v, &a, 2), MS_ABI_DIRTY);
    ms_args_free(&a);
}

Test(abi_decode, address_ok)
{
    ms_abi_args a = ms_args("000000000000000000000000"
                            "00112233445566778899aabbccddeeff01234567");
    uint8_t addr[20], want[20];
    cr_assert_eq(ms_test_hex(want, sizeof want, "00112233445566778899aabbccddeeff01234567"), 20u);
    cr_assert_eq(ms_abi_address(addr, &a, 0), MS_ABI_OK);
    cr_assert_arr_eq(addr, want, 20);
    ms_args_free(&a);
}

Test(abi_decode, address_dirty_every_high_byte)
{
    for (size_t i = 0; i < 12; i++) {
        uint8_t word[32];
        memset(word, 0xee, sizeof word);
        memset(word, 0, 12);
        word[i] = 0x80;
        const ms_abi_args a = { word, sizeof word };
        uint8_t addr[20];
        memset(addr, 0xaa, sizeof addr);
        cr_assert_eq(ms_abi_address(addr, &a, 0), MS_ABI_DIRTY, "byte %zu", i);
        for (size_t j = 0; j < 20; j++) cr_assert_eq(addr[j], 0, "output not cleared");
    }
}

/* ---- dynamic bytes ------------------------------------------------- */

Test(abi_decode, bytes_ok)
{
    /* head: word, offset 0x40; tail: len 3, "abc" padded. */
    ms_abi_args a = ms_args(ZW W("0000000000000040") W("0000000000000003")
                            "6162630000000000000000000000000000000000000000000000000000000000");
    const uint8_t *p;
    size_t n;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 1, 3), MS_ABI_OK);
    cr_assert_eq(n, 3u);
    cr_assert_eq(p, a.data + 96);
    cr_assert_eq(memcmp(p, "abc", 3), 0);
    ms_args_free(&a);
}

Test(abi_decode, bytes_zero_length)
{
    ms_abi_args a = ms_args(W("0000000000000020") ZW);
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 99;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, 0), MS_ABI_OK);
    cr_assert_null(p);
    cr_assert_eq(n, 0u);
    ms_args_free(&a);
}

Test(abi_decode, bytes_unpadded_exact_fit)
{
    /* Padding is not required: data may end exactly at the input's end. */
    ms_abi_args a = ms_args(W("0000000000000020") W("0000000000000002") "beef");
    const uint8_t *p;
    size_t n;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OK);
    cr_assert_eq(n, 2u);
    cr_assert_eq(p[0], 0xbe);
    cr_assert_eq(p[1], 0xef);
    ms_args_free(&a);
}

Test(abi_decode, bytes_offset_at_last_word)
{
    /* offset = size - 32 is the last place a length word fits. */
    ms_abi_args a = ms_args(W("0000000000000020") ZW);
    const uint8_t *p;
    size_t n;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OK);
    ms_args_free(&a);
}

Test(abi_decode, bytes_unaligned_offset_accepted)
{
    /* The ABI does not require aligned offsets (solc does not check). */
    ms_abi_args a = ms_args(W("0000000000000021") "00" W("0000000000000001") "7f");
    const uint8_t *p;
    size_t n;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OK);
    cr_assert_eq(n, 1u);
    cr_assert_eq(*p, 0x7f);
    ms_args_free(&a);
}

Test(abi_decode, bytes_offset_past_end)
{
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 9;
    /* One byte short of a whole length word. */
    ms_abi_args a = ms_args(W("0000000000000021") ZW);
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OFFSET);
    cr_assert_null(p);
    cr_assert_eq(n, 0u);
    ms_args_free(&a);
    /* Offset equal to the size. */
    a = ms_args(W("0000000000000040") ZW);
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OFFSET);
    ms_args_free(&a);
    /* A lone head word can never hold a valid offset beyond itself... */
    a = ms_args(W("0000000000000020"));
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OFFSET);
    ms_args_free(&a);
    /* ...except 0, where the head word doubles as the length word. */
    a = ms_args(ZW);
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OK);
    cr_assert_eq(n, 0u);
    ms_args_free(&a);
}

Test(abi_decode, bytes_offset_high_bits)
{
    /* Low 8 bytes say 0x20 (valid), but any of the top 24 bytes is set. */
    for (size_t i = 0; i < 24; i++) {
        uint8_t buf[64] = {0};
        buf[31] = 0x20;
        buf[i] = 0x01;
        const ms_abi_args a = { buf, sizeof buf };
        const uint8_t *p;
        size_t n;
        cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OFFSET, "byte %zu", i);
    }
}

Test(abi_decode, bytes_offset_near_size_max)
{
    /* Offsets for which offset + 32 wraps a 64-bit size_t. */
    static const char *const offs[] = {
        W("ffffffffffffffff"), W("ffffffffffffffe0"), W("ffffffffffffffe1"),
        W("8000000000000000"),
    };
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        char hex[3 * 64 + 1];
        strcpy(hex, offs[i]);
        strcat(hex, ZW ZW);
        ms_abi_args a = ms_args(hex);
        const uint8_t *p;
        size_t n;
        cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OFFSET, "case %zu", i);
        ms_args_free(&a);
    }
}

Test(abi_decode, bytes_length_past_end)
{
    /* 3 data bytes present, length claims 4. */
    ms_abi_args a = ms_args(W("0000000000000020") W("0000000000000004") "616263");
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 9;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_LENGTH);
    cr_assert_null(p);
    cr_assert_eq(n, 0u);
    ms_args_free(&a);
}

Test(abi_decode, bytes_length_over_max)
{
    ms_abi_args a = ms_args(W("0000000000000020") W("0000000000000004") "61626364");
    const uint8_t *p;
    size_t n;
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, 3), MS_ABI_LENGTH);
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, 0), MS_ABI_LENGTH);
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, 4), MS_ABI_OK);
    cr_assert_eq(n, 4u);
    ms_args_free(&a);
}

Test(abi_decode, bytes_length_high_bits)
{
    for (size_t i = 0; i < 24; i++) {
        uint8_t buf[96] = {0};
        buf[31] = 0x20;         /* offset */
        buf[63] = 0x01;         /* length 1, data present */
        buf[32 + i] = 0x01;
        const ms_abi_args a = { buf, sizeof buf };
        const uint8_t *p;
        size_t n;
        cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_LENGTH, "byte %zu", i);
    }
}

Test(abi_decode, bytes_length_near_size_max)
{
    /* Lengths for which offset + 32 + len wraps a 64-bit size_t. */
    static const char *const lens[] = {
        W("ffffffffffffffff"), W("ffffffffffffffc0"), W("ffffffffffffffbf"),
        W("8000000000000000"),
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char hex[3 * 64 + 1];
        strcpy(hex, W("0000000000000020"));
        strcat(hex, lens[i]);
        strcat(hex, ZW);
        ms_abi_args a = ms_args(hex);
        const uint8_t *p;
        size_t n;
        cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_LENGTH, "case %zu", i);
        ms_args_free(&a);
    }
}

Test(abi_decode, trailing_bytes_accepted)
{
    ms_abi_args a = ms_args(W("0000000000000020") W("0000000000000001")
                            "ff00000000000000000000000000000000000000000000000000000000000000"
                            "deadbeef" ZW);
    const uint8_t *p;
    size_t n;
    uint8_t w[32];
    cr_assert_eq(ms_abi_bytes(&p, &n, &a, 0, SIZE_MAX), MS_ABI_OK);
    cr_assert_eq(n, 1u);
    cr_assert_eq(*p, 0xff);
    cr_assert_eq(ms_abi_word(w, &a, 0), MS_ABI_OK);
    ms_args_free(&a);
}

Test(abi_decode, bytes_aliased_tail)
{
    /* Two heads, one tail: legal in the ABI, both must decode to it. */
    ms_abi_args a = ms_args(W("0000000000000040") W("0000000000000040")
                            W("0000000000000002") "abcd");
    const uint8_t *p1, *p2;
    size_t n1, n2;
    cr_assert_eq(ms_abi_bytes(&p1, &n1, &a, 0, SIZE_MAX), MS_ABI_OK);
    cr_assert_eq(ms_abi_bytes(&p2, &n2, &a, 1, SIZE_MAX), MS_ABI_OK);
    cr_assert_eq(p1, p2);
    cr_assert_eq(n1, 2u);
    cr_assert_eq(n2, 2u);
    cr_assert_eq(p1[0], 0xab);
    ms_args_free(&a);
}

Test(abi_decode, error_codes_are_reasons)
{
    /* The numbers are part of the InvalidCalldata wire format. */
    cr_assert_eq(MS_ABI_OK, 0);
    cr_assert_eq(MS_ABI_SHORT, 1);
    cr_assert_eq(MS_ABI_OFFSET, 2);
    cr_assert_eq(MS_ABI_LENGTH, 3);
    cr_assert_eq(MS_ABI_DIRTY, 4);
}
