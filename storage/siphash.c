/* SipHash-2-4: two compression rounds per 8-byte word, four finalisation
 * rounds, 64-bit output. Written from the paper's description; its test
 * vectors are in tests/unit/test_siphash.c. */
#include "storage/siphash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8u * i);
    return v;
}

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static void sip_round(sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static void sip_absorb(sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

uint64_t ms_siphash24(const uint8_t key16[MS_SIPHASH_KEY_SIZE], const uint8_t *in, size_t len)
{
    const uint64_t k0 = load_le64(key16), k1 = load_le64(key16 + 8);
    sip_state s = {
        k0 ^ UINT64_C(0x736f6d6570736575), k1 ^ UINT64_C(0x646f72616e646f6d),
        k0 ^ UINT64_C(0x6c7967656e657261), k1 ^ UINT64_C(0x7465646279746573),
    };
    const size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) sip_absorb(&s, load_le64(in + i));
    /* The last word: the remaining bytes, then the length's low byte on top. */
    uint64_t last = (uint64_t)(len & 0xffu) << 56;
    for (size_t i = 0; i < len % 8; i++) last |= (uint64_t)in[whole + i] << (8u * i);
    sip_absorb(&s, last);
    s.v2 ^= 0xff;
    for (int r = 0; r < 4; r++) sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

int ms_siphash_random_key(uint8_t key16[MS_SIPHASH_KEY_SIZE])
{
    size_t got = 0;
    while (got < MS_SIPHASH_KEY_SIZE) {
        const ssize_t n = getrandom(key16 + got, MS_SIPHASH_KEY_SIZE - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            memset(key16, 0, MS_SIPHASH_KEY_SIZE);
            return 0;
        }
        got += (size_t)n;
    }
    return 1;
}
