/* Keccak-256 known answers and incremental/one-shot agreement. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "test_util.h"

static void ms_expect_digest(const uint8_t *data, size_t len, const char *hex)
{
    uint8_t want[32], got[32];
    cr_assert_eq(ms_test_hex(want, sizeof want, hex), 32u);
    ms_keccak256(got, data, len);
    cr_assert_arr_eq(got, want, 32, "keccak256 of %zu bytes", len);
}

/* Input pattern for the block-boundary vectors: byte i is i mod 256. */
static void ms_fill_index(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)i;
}

Test(keccak, empty)
{
    ms_expect_digest(NULL, 0,
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

Test(keccak, abc)
{
    ms_expect_digest((const uint8_t *)"abc", 3,
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

/* Expected digests for the next four tests came from @noble/hashes 1.x
 * (1.8.0, keccak_256 from '@noble/hashes/sha3'), input byte i = i & 0xff.
 * The lengths straddle the 136-byte rate: 135 puts both pad bytes in one
 * byte (0x81), 136 forces a padding-only block. */
Test(keccak, len_135)
{
    uint8_t buf[135];
    ms_fill_index(buf, sizeof buf);
    ms_expect_digest(buf, sizeof buf,
        "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62");
}

Test(keccak, len_136)
{
    uint8_t buf[136];
    ms_fill_index(buf, sizeof buf);
    ms_expect_digest(buf, sizeof buf,
        "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e");
}

Test(keccak, len_137)
{
    uint8_t buf[137];
    ms_fill_index(buf, sizeof buf);
    ms_expect_digest(buf, sizeof buf,
        "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db");
}

Test(keccak, len_272)
{
    uint8_t buf[272];
    ms_fill_index(buf, sizeof buf);
    ms_expect_digest(buf, sizeof buf,
        "fdf2ec49e749960d3c8521a0219af8d03e30e2b3bf19bd16150ee0eaf133d66e");
}

/* 1 MiB, the largest ciphertext the module hashes; also from @noble/hashes
 * 1.8.0, input byte i = (i * 31 + 7) & 0xff. */
Test(keccak, one_mib)
{
    const size_t len = (size_t)1 << 20;
    uint8_t *buf = malloc(len);
    cr_assert_not_null(buf);
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i * 31 + 7);
    ms_expect_digest(buf, len,
        "83fbd18d9728845e498651fec13794b23c201f437c9efff4717306cec4305ed7");
    free(buf);
}

/* Every split point, and every pair of split points, of a 300-byte input
 * must match one-shot: this covers partial-block refills, the whole-block
 * fast path entered at pos == 0, and empty updates. */
Test(keccak, incremental_all_splits)
{
    uint8_t buf[300], want[32], got[32];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 13 + 5);
    ms_keccak256(want, buf, sizeof buf);

    for (size_t a = 0; a <= sizeof buf; a++) {
        ms_keccak h;
        ms_keccak_init(&h);
        ms_keccak_update(&h, buf, a);
        ms_keccak_update(&h, buf + a, sizeof buf - a);
        ms_keccak_final(&h, got);
        cr_assert_arr_eq(got, want, 32, "split at %zu", a);
    }
    for (size_t a = 0; a <= sizeof buf; a += 7) {
        for (size_t b = a; b <= sizeof buf; b++) {
            ms_keccak h;
            ms_keccak_init(&h);
            ms_keccak_update(&h, buf, a);
            ms_keccak_update(&h, NULL, 0);
            ms_keccak_update(&h, buf + a, b - a);
            ms_keccak_update(&h, buf + b, sizeof buf - b);
            ms_keccak_final(&h, got);
            cr_assert_arr_eq(got, want, 32, "splits at %zu, %zu", a, b);
        }
    }
}

Test(keccak, incremental_byte_at_a_time)
{
    uint8_t buf[300], want[32], got[32];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(255 - i);
    ms_keccak256(want, buf, sizeof buf);

    ms_keccak h;
    ms_keccak_init(&h);
    for (size_t i = 0; i < sizeof buf; i++) ms_keccak_update(&h, buf + i, 1);
    ms_keccak_final(&h, got);
    cr_assert_arr_eq(got, want, 32);
}

/* Lane loads must not assume alignment: hashing the same bytes from every
 * offset within a word gives the same digest (and is clean under UBSan). */
Test(keccak, unaligned_input)
{
    uint8_t store[300 + 8], want[32], got[32];
    uint8_t ref[300];
    for (size_t i = 0; i < sizeof ref; i++) ref[i] = (uint8_t)(i ^ 0x5a);
    ms_keccak256(want, ref, sizeof ref);
    for (size_t shift = 0; shift < 8; shift++) {
        memcpy(store + shift, ref, sizeof ref);
        ms_keccak256(got, store + shift, sizeof ref);
        cr_assert_arr_eq(got, want, 32, "shift %zu", shift);
    }
}

Test(keccak, reinit_after_final)
{
    uint8_t want[32], got[32];
    ms_keccak256(want, (const uint8_t *)"abc", 3);
    ms_keccak h;
    ms_keccak_init(&h);
    ms_keccak_update(&h, (const uint8_t *)"something else", 14);
    ms_keccak_final(&h, got);
    ms_keccak_init(&h);
    ms_keccak_update(&h, (const uint8_t *)"abc", 3);
    ms_keccak_final(&h, got);
    cr_assert_arr_eq(got, want, 32);
}
