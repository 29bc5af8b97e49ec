/* Keccak-256 (Ethereum flavour): keccak-f[1600], rate 136 bytes, padding
 * 0x01 ... 0x80. Lanes are loaded and stored byte by byte in little-endian
 * order so the result does not depend on host endianness or alignment. */
#include "keccak.h"

#include <string.h>

#define MS_KECCAK_RATE 136u
#define MS_KECCAK_ROUNDS 24

/* Iota constants, derived from the spec's LFSR rc(t); keccak_batch.c uses
 * them too (keccak.h). */
const uint64_t ms_keccak_rc[MS_KECCAK_ROUNDS] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rho offsets (lane x + 5*y): 0 1 62 28 27 / 36 44 6 55 20 / 3 10 43 25 39 /
 * 41 45 15 21 8 / 18 2 61 56 14, written into the rho-pi step below. */

static uint64_t ms_rotl64(uint64_t v, unsigned n)
{
    /* The mask keeps n == 0 from becoming a (undefined) shift by 64. */
    return (v << n) | (v >> ((64u - n) & 63u));
}

static uint64_t ms_load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8u * i);
    return v;
}

static void ms_keccak_f1600(uint64_t a[25])
{
    /* Every index below is a constant so the compiler keeps the 25 lanes in
     * registers; the loop form of these steps ran five times slower. */
    uint64_t b[25], c[5], d[5];

    for (int round = 0; round < MS_KECCAK_ROUNDS; round++) {
        /* theta */
        c[0] = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
        c[1] = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
        c[2] = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
        c[3] = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
        c[4] = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
        d[0] = c[4] ^ ms_rotl64(c[1], 1);
        d[1] = c[0] ^ ms_rotl64(c[2], 1);
        d[2] = c[1] ^ ms_rotl64(c[3], 1);
        d[3] = c[2] ^ ms_rotl64(c[4], 1);
        d[4] = c[3] ^ ms_rotl64(c[0], 1);
        a[0] ^= d[0];
        a[1] ^= d[1];
        a[2] ^= d[2];
        a[3] ^= d[3];
        a[4] ^= d[4];
        a[5] ^= d[0];
        a[6] ^= d[1];
        a[7] ^= d[2];
        a[8] ^= d[3];
        a[9] ^= d[4];
        a[10] ^= d[0];
        a[11] ^= d[1];
        a[12] ^= d[2];
        a[13] ^= d[3];
        a[14] ^= d[4];
        a[15] ^= d[0];
        a[16] ^= d[1];
        a[17] ^= d[2];
        a[18] ^= d[3];
        a[19] ^= d[4];
        a[20] ^= d[0];
        a[21] ^= d[1];
        a[22] ^= d[2];
        a[23] ^= d[3];
        a[24] ^= d[4];
        /* rho and pi: lane (x, y) moves to (y, 2x + 3y) */
        b[0] = ms_rotl64(a[0], 0);
        b[10] = ms_rotl64(a[1], 1);
        b[20] = ms_rotl64(a[2], 62);
        b[5] = ms_rotl64(a[3], 28);
        b[15] = ms_rotl64(a[4], 27);
        b[16] = ms_rotl64(a[5], 36);
        b[1] = ms_rotl64(a[6], 44);
        b[11] = ms_rotl64(a[7], 6);
        b[21] = ms_rotl64(a[8], 55);
        b[6] = ms_rotl64(a[9], 20);
        b[7] = ms_rotl64(a[10], 3);
        b[17] = ms_rotl64(a[11], 10);
        b[2] = ms_rotl64(a[12], 43);
        b[12] = ms_rotl64(a[13], 25);
        b[22] = ms_rotl64(a[14], 39);
        b[23] = ms_rotl64(a[15], 41);
        b[8] = ms_rotl64(a[16], 45);
        b[18] = ms_rotl64(a[17], 15);
        b[3] = ms_rotl64(a[18], 21);
        b[13] = ms_rotl64(a[19], 8);
        b[14] = ms_rotl64(a[20], 18);
        b[24] = ms_rotl64(a[21], 2);
        b[9] = ms_rotl64(a[22], 61);
        b[19] = ms_rotl64(a[23], 56);
        b[4] = ms_rotl64(a[24], 14);
        /* chi */
        a[0] = b[0] ^ (~b[1] & b[2]);
        a[1] = b[1] ^ (~b[2] & b[3]);
        a[2] = b[2] ^ (~b[3] & b[4]);
        a[3] = b[3] ^ (~b[4] & b[0]);
        a[4] = b[4] ^ (~b[0] & b[1]);
        a[5] = b[5] ^ (~b[6] & b[7]);
        a[6] = b[6] ^ (~b[7] & b[8]);
        a[7] = b[7] ^ (~b[8] & b[9]);
        a[8] = b[8] ^ (~b[9] & b[5]);
        a[9] = b[9] ^ (~b[5] & b[6]);
        a[10] = b[10] ^ (~b[11] & b[12]);
        a[11] = b[11] ^ (~b[12] & b[13]);
        a[12] = b[12] ^ (~b[13] & b[14]);
        a[13] = b[13] ^ (~b[14] & b[10]);
        a[14] = b[14] ^ (~b[10] & b[11]);
        a[15] = b[15] ^ (~b[16] & b[17]);
        a[16] = b[16] ^ (~b[17] & b[18]);
        a[17] = b[17] ^ (~b[18] & b[19]);
        a[18] = b[18] ^ (~b[19] & b[15]);
        a[19] = b[19] ^ (~b[15] & b[16]);
        a[20] = b[20] ^ (~b[21] & b[22]);
        a[21] = b[21] ^ (~b[22] & b[23]);
        a[22] = b[22] ^ (~b[23] & b[24]);
        a[23] = b[23] ^ (~b[24] & b[20]);
        a[24] = b[24] ^ (~b[20] & b[21]);
        /* iota */
        a[0] ^= ms_keccak_rc[round];
    }
}

/* XOR one byte at rate position pos into the state. */
static void ms_keccak_xor_byte(uint64_t s[25], size_t pos, uint8_t v)
{
    s[pos / 8] ^= (uint64_t)v << (8u * (pos % 8));
}

void ms_keccak_init(ms_keccak *h)
{
    memset(h->state, 0, sizeof h->state);
    h->pos = 0;
}

void ms_keccak_update(ms_keccak *h, const uint8_t *data, size_t len)
{
    /* Bytes up to a lane boundary, then whole lanes, then the last bytes:
     * the short preimages of the state tree (65 bytes) and of EIP-712 take
     * the lane path too, not only inputs of a whole block. */
    while (len > 0 && h->pos % 8 != 0) {
        ms_keccak_xor_byte(h->state, h->pos, *data++);
        len--;
        if (++h->pos == MS_KECCAK_RATE) {
            ms_keccak_f1600(h->state);
            h->pos = 0;
        }
    }
    while (len >= 8) {
        h->state[h->pos / 8] ^= ms_load64_le(data);
        data += 8;
        len -= 8;
        h->pos += 8;
        if (h->pos == MS_KECCAK_RATE) {
            ms_keccak_f1600(h->state);
            h->pos = 0;
        }
    }
    /* Fewer than 8 bytes from a lane boundary below the rate: they fit. */
    while (len > 0) {
        ms_keccak_xor_byte(h->state, h->pos++, *data++);
        len--;
    }
}

void ms_keccak_final(ms_keccak *h, uint8_t out32[32])
{
    /* pos < rate always holds here, so both pad bytes fit in this block
     * (they coincide, giving 0x81, when pos == rate - 1). */
    ms_keccak_xor_byte(h->state, h->pos, 0x01);
    ms_keccak_xor_byte(h->state, MS_KECCAK_RATE - 1, 0x80);
    ms_keccak_f1600(h->state);
    for (unsigned i = 0; i < 32; i++)
        out32[i] = (uint8_t)(h->state[i / 8] >> (8u * (i % 8)));
}

void ms_keccak256(uint8_t out32[32], const uint8_t *data, size_t len)
{
    ms_keccak h;
    ms_keccak_init(&h);
    ms_keccak_update(&h, data, len);
    ms_keccak_final(&h, out32);
}
