/* storage/siphash.h: SipHash-2-4 against the reference implementation's
 * test vectors, and the random key. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "storage/siphash.h"

/* vectors_sip64 of the reference implementation (SipHash paper, appendix):
 * key 00 01 .. 0f, message 00 01 .. n-1, for n = 0 .. 17. Entry 15 is the
 * paper's worked example. */
static const uint64_t SIP64[18] = {
    UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0x74f839c593dc67fd), UINT64_C(0x0d6c8009d9a94f5a),
    UINT64_C(0x85676696d7fb7e2d), UINT64_C(0xcf2794e0277187b7), UINT64_C(0x18765564cd99a68d),
    UINT64_C(0xcbc9466e58fee3ce), UINT64_C(0xab0200f58b01d137), UINT64_C(0x93f5f5799a932462),
    UINT64_C(0x9e0082df0ba9e4b0), UINT64_C(0x7a5dbbc594ddb9f3), UINT64_C(0xf4b32f46226bada7),
    UINT64_C(0x751e8fbc860ee5fb), UINT64_C(0x14ea5627c0843d90), UINT64_C(0xf723ca908e7af2ee),
    UINT64_C(0xa129ca6149be45e5), UINT64_C(0x3f2acc7f57c29bdb), UINT64_C(0x699ae9f52cbe4794),
};

Test(siphash, reference_vectors)
{
    uint8_t key[16], msg[18];
    for (unsigned i = 0; i < 16; i++) key[i] = (uint8_t)i;
    for (unsigned i = 0; i < 18; i++) msg[i] = (uint8_t)i;
    for (size_t n = 0; n < 18; n++) {
        const uint64_t got = ms_siphash24(key, n ? msg : NULL, n);
        cr_assert_eq(got, SIP64[n], "length %zu: %016llx, want %016llx", n, (unsigned long long)got,
                     (unsigned long long)SIP64[n]);
    }
}

/* Every key bit and every message bit matters, and lengths are bound:
 * a message and the same message with a zero byte appended differ. */
Test(siphash, key_message_and_length_all_count)
{
    uint8_t key[16] = {0}, msg[300];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 1);
    const uint64_t base = ms_siphash24(key, msg, sizeof msg);
    for (unsigned bit = 0; bit < 128; bit++) {
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_neq(ms_siphash24(key, msg, sizeof msg), base, "key bit %u", bit);
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] ^= 0x80;
        cr_assert_neq(ms_siphash24(key, msg, sizeof msg), base, "message byte %zu", i);
        msg[i] ^= 0x80;
    }
    uint8_t z[9] = {0};
    for (size_t n = 0; n < 8; n++) cr_assert_neq(ms_siphash24(key, z, n), ms_siphash24(key, z, n + 1), "len %zu", n);
}

Test(siphash, random_keys_differ)
{
    uint8_t a[16], b[16];
    cr_assert_eq(ms_siphash_random_key(a), 1);
    cr_assert_eq(ms_siphash_random_key(b), 1);
    cr_assert(memcmp(a, b, 16) != 0, "two draws of 128 random bits agree");
}
