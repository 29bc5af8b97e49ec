/* ABI encoder: exact output bytes and the growable buffer's contract. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/abi_encode.h"
#include "test_util.h"

#define Z24 "000000000000000000000000000000000000000000000000"
#define ZW Z24 "0000000000000000"

static void ms_expect_buf(const ms_buf *b, const char *hex)
{
    uint8_t want[512];
    const size_t n = ms_test_hex(want, sizeof want, hex);
    cr_assert_neq(n, (size_t)-1, "bad fixture hex");
    cr_assert_eq(b->failed, 0);
    cr_assert_eq(b->size, n, "size %zu, want %zu", b->size, n);
    if (n > 0) cr_assert_arr_eq(b->data, want, n);
}

Test(abi_encode, selector_big_endian)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_selector(&b, 0xa9059cbbu);
    ms_expect_buf(&b, "a9059cbb");
    ms_buf_free(&b);
}

Test(abi_encode, uint_left_padded)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_uint(&b, 0);
    ms_abi_put_uint(&b, 1);
    ms_abi_put_uint(&b, 0x0102030405060708u);
    ms_abi_put_uint(&b, UINT64_MAX);
    ms_expect_buf(&b, ZW
                      Z24 "0000000000000001"
                      Z24 "0102030405060708"
                      Z24 "ffffffffffffffff");
    ms_buf_free(&b);
}

Test(abi_encode, word_and_address)
{
    uint8_t word[32], addr[20];
    for (size_t i = 0; i < 32; i++) word[i] = (uint8_t)(0xa0 + i);
    cr_assert_eq(ms_test_hex(addr, sizeof addr, "00112233445566778899aabbccddeeff01234567"), 20u);
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_word(&b, word);
    ms_abi_put_address(&b, addr);
    ms_expect_buf(&b, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                      "000000000000000000000000" "00112233445566778899aabbccddeeff01234567");
    ms_buf_free(&b);
}

/* Tail of `len` bytes 0x11, 0x12, ... followed by zero padding. */
static void ms_expect_tail(size_t len, const char *hex)
{
    uint8_t data[40];
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(0x11 + i);
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_bytes_tail(&b, len ? data : NULL, len);
    ms_expect_buf(&b, hex);
    cr_assert_eq(b.size, 32 * ms_abi_bytes_tail_words(len));
    ms_buf_free(&b);
}

Test(abi_encode, bytes_tail_len_0)
{
    ms_expect_tail(0, ZW);
}

Test(abi_encode, bytes_tail_len_1)
{
    ms_expect_tail(1, Z24 "0000000000000001"
                      "1100000000000000000000000000000000000000000000000000000000000000");
}

Test(abi_encode, bytes_tail_len_31)
{
    ms_expect_tail(31, Z24 "000000000000001f"
                       "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f00");
}

Test(abi_encode, bytes_tail_len_32)
{
    ms_expect_tail(32, Z24 "0000000000000020"
                       "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30");
}

Test(abi_encode, bytes_tail_len_33)
{
    ms_expect_tail(33, Z24 "0000000000000021"
                       "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"
                       "3100000000000000000000000000000000000000000000000000000000000000");
}

Test(abi_encode, bytes_tail_words)
{
    cr_assert_eq(ms_abi_bytes_tail_words(0), 1u);
    cr_assert_eq(ms_abi_bytes_tail_words(1), 2u);
    cr_assert_eq(ms_abi_bytes_tail_words(31), 2u);
    cr_assert_eq(ms_abi_bytes_tail_words(32), 2u);
    cr_assert_eq(ms_abi_bytes_tail_words(33), 3u);
    cr_assert_eq(ms_abi_bytes_tail_words(64), 3u);
    cr_assert_eq(ms_abi_bytes_tail_words(65), 4u);
    /* No wrap near the top of size_t. */
    cr_assert_eq(ms_abi_bytes_tail_words(SIZE_MAX), 1 + SIZE_MAX / 32 + 1);
}

Test(abi_encode, grows_geometrically_and_keeps_contents)
{
    ms_buf b;
    ms_buf_init(&b);
    size_t reallocs = 0;
    size_t last_cap = 0;
    for (size_t i = 0; i < 100000; i++) {
        const uint8_t byte = (uint8_t)(i * 7);
        ms_buf_put(&b, &byte, 1);
        if (b.cap != last_cap) {
            reallocs++;
            cr_assert_geq(b.cap, 2 * last_cap, "growth not geometric");
            last_cap = b.cap;
        }
    }
    cr_assert_eq(b.failed, 0);
    cr_assert_eq(b.size, 100000u);
    cr_assert_leq(reallocs, 20u);
    for (size_t i = 0; i < b.size; i++) cr_assert_eq(b.data[i], (uint8_t)(i * 7));
    ms_buf_free(&b);
}

Test(abi_encode, put_empty_is_noop)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_buf_put(&b, NULL, 0);
    cr_assert_eq(b.size, 0u);
    cr_assert_eq(b.failed, 0);
    ms_buf_free(&b);
}

Test(abi_encode, reserve_overflow_latches_failed)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_uint(&b, 1);
    const size_t size = b.size;
    /* size + extra would wrap size_t. */
    cr_assert_eq(ms_buf_reserve(&b, SIZE_MAX), 0);
    cr_assert_neq(b.failed, 0);
    /* Latched: later puts and reserves do nothing, even small ones. */
    cr_assert_eq(ms_buf_reserve(&b, 1), 0);
    ms_abi_put_uint(&b, 2);
    ms_abi_put_selector(&b, 0x12345678u);
    ms_abi_put_bytes_tail(&b, (const uint8_t *)"abc", 3);
    cr_assert_eq(b.size, size);
    /* reset clears the latch and keeps the memory. */
    uint8_t *const mem = b.data;
    ms_buf_reset(&b);
    cr_assert_eq(b.failed, 0);
    cr_assert_eq(b.size, 0u);
    cr_assert_eq(b.data, mem);
    ms_abi_put_selector(&b, 0x12345678u);
    ms_expect_buf(&b, "12345678");
    ms_buf_free(&b);
}

Test(abi_encode, reserve_beyond_object_limit_fails_without_allocating)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_buf_put(&b, (const uint8_t *)"x", 1);
    /* 1 + PTRDIFF_MAX fits in size_t but exceeds the largest object. */
    cr_assert_eq(ms_buf_reserve(&b, (size_t)PTRDIFF_MAX), 0);
    cr_assert_neq(b.failed, 0);
    cr_assert_eq(b.size, 1u);
    ms_buf_free(&b);
}

Test(abi_encode, bytes_tail_huge_len_fails)
{
    ms_buf b;
    ms_buf_init(&b);
    /* The tail size (32 + len + padding) wraps; data is never read. */
    ms_abi_put_bytes_tail(&b, (const uint8_t *)"", SIZE_MAX);
    cr_assert_neq(b.failed, 0);
    cr_assert_eq(b.size, 0u);
    ms_buf_free(&b);
}

Test(abi_encode, free_leaves_reusable_zeroed_struct)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_uint(&b, 42);
    cr_assert_eq(ms_buf_reserve(&b, SIZE_MAX), 0);
    ms_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.size, 0u);
    cr_assert_eq(b.cap, 0u);
    cr_assert_eq(b.failed, 0);
    /* Freeing twice is harmless, and the struct works again. */
    ms_buf_free(&b);
    ms_abi_put_uint(&b, 1);
    ms_expect_buf(&b, Z24 "0000000000000001");
    ms_buf_free(&b);
}

Test(abi_encode, reserve_then_put_does_not_reallocate)
{
    ms_buf b;
    ms_buf_init(&b);
    cr_assert_eq(ms_buf_reserve(&b, 1000), 1);
    cr_assert_geq(b.cap, 1000u);
    uint8_t *const mem = b.data;
    for (int i = 0; i < 31; i++) ms_abi_put_uint(&b, (uint64_t)i);
    cr_assert_eq(b.data, mem);
    cr_assert_eq(b.size, 31u * 32u);
    ms_buf_free(&b);
}
