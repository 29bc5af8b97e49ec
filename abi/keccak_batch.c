/* Multi-buffer Keccak-256: n messages of one length, hashed 8 (AVX-512) or
 * 4 (AVX2) at a time with one SIMD lane per message. Consensus code: the
 * result must equal ms_keccak256 bit for bit, so every path below computes
 * the same keccak-f[1600] with the same padding; only the lane layout
 * differs. No global mutable state: the CPU is asked on every call (the
 * __builtin_cpu_supports check is a load and a test). */
#include "keccak_batch.h"

#include <string.h>

#include "keccak.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define MS_KB_X86 1
#include <immintrin.h>
#else
#define MS_KB_X86 0
#endif

#define MS_KB_RATE 136u   /* bytes per block */
#define MS_KB_RATE_LANES 17u

static void ms_kb_scalar(uint8_t *const out[], const uint8_t *const in[], size_t len, size_t n)
{
    /* In order, so out[i] is written after in[0..i] were read (see header). */
    for (size_t i = 0; i < n; i++) ms_keccak256(out[i], in[i], len);
}

#if MS_KB_X86

/* One unaligned little-endian lane (x86 is little-endian). */
static inline uint64_t ms_kb_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Bytes pos..pos+k-1 (0 < k < 8) of message m, zero-extended: the tail of
 * the message, which ends at pos + k. When the message has 8 bytes or more
 * the 8 bytes ending at its end are loaded and shifted down, one load
 * instead of a variable-length memcpy call; nothing outside the message is
 * read either way. */
static inline uint64_t ms_kb_load_partial(const uint8_t *m, size_t pos, size_t k)
{
    if (pos + k >= 8) return ms_kb_load64(m + pos + k - 8) >> (64 - 8 * k);
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++) v |= (uint64_t)m[pos + i] << (8 * i);
    return v;
}

/* One keccak-f[1600] round on 25 named lane variables A0..A24 (lane
 * x + 5y), written with the vector operations V_XOR5, V_XOR, V_ROL, V_CHI
 * (a ^ (~b & c)) each implementation defines before use. Theta's
 * D[x] = C[x-1] ^ rol(C[x+1], 1) is split in two so AVX-512 can fold both
 * XORs into one ternary op per lane: V_DPREP(c_prev, c_next) gives Dx and
 * V_DAPPLY(a, Dx, c_prev) gives a ^ D[x]. Every lane index is
 * a constant so the state stays in registers; the rho-pi destinations follow
 * keccak.c: lane (x, y) moves to (y, 2x + 3y). */
#define MS_KB_ROUND(rcv)                                                      \
    do {                                                                      \
        C0 = V_XOR5(A0, A5, A10, A15, A20);                                   \
        C1 = V_XOR5(A1, A6, A11, A16, A21);                                   \
        C2 = V_XOR5(A2, A7, A12, A17, A22);                                   \
        C3 = V_XOR5(A3, A8, A13, A18, A23);                                   \
        C4 = V_XOR5(A4, A9, A14, A19, A24);                                   \
        D0 = V_DPREP(C4, C1);                                                 \
        D1 = V_DPREP(C0, C2);                                                 \
        D2 = V_DPREP(C1, C3);                                                 \
        D3 = V_DPREP(C2, C4);                                                 \
        D4 = V_DPREP(C3, C0);                                                 \
        B0 = V_DAPPLY(A0, D0, C4);                                            \
        B10 = V_ROL(V_DAPPLY(A1, D1, C0), 1);                                 \
        B20 = V_ROL(V_DAPPLY(A2, D2, C1), 62);                                \
        B5 = V_ROL(V_DAPPLY(A3, D3, C2), 28);                                 \
        B15 = V_ROL(V_DAPPLY(A4, D4, C3), 27);                                \
        B16 = V_ROL(V_DAPPLY(A5, D0, C4), 36);                                \
        B1 = V_ROL(V_DAPPLY(A6, D1, C0), 44);                                 \
        B11 = V_ROL(V_DAPPLY(A7, D2, C1), 6);                                 \
        B21 = V_ROL(V_DAPPLY(A8, D3, C2), 55);                                \
        B6 = V_ROL(V_DAPPLY(A9, D4, C3), 20);                                 \
        B7 = V_ROL(V_DAPPLY(A10, D0, C4), 3);                                 \
        B17 = V_ROL(V_DAPPLY(A11, D1, C0), 10);                               \
        B2 = V_ROL(V_DAPPLY(A12, D2, C1), 43);                                \
        B12 = V_ROL(V_DAPPLY(A13, D3, C2), 25);                               \
        B22 = V_ROL(V_DAPPLY(A14, D4, C3), 39);                               \
        B23 = V_ROL(V_DAPPLY(A15, D0, C4), 41);                               \
        B8 = V_ROL(V_DAPPLY(A16, D1, C0), 45);                                \
        B18 = V_ROL(V_DAPPLY(A17, D2, C1), 15);                               \
        B3 = V_ROL(V_DAPPLY(A18, D3, C2), 21);                                \
        B13 = V_ROL(V_DAPPLY(A19, D4, C3), 8);                                \
        B14 = V_ROL(V_DAPPLY(A20, D0, C4), 18);                               \
        B24 = V_ROL(V_DAPPLY(A21, D1, C0), 2);                                \
        B9 = V_ROL(V_DAPPLY(A22, D2, C1), 61);                                \
        B19 = V_ROL(V_DAPPLY(A23, D3, C2), 56);                               \
        B4 = V_ROL(V_DAPPLY(A24, D4, C3), 14);                                \
        A0 = V_XOR(V_CHI(B0, B1, B2), (rcv));                                 \
        A1 = V_CHI(B1, B2, B3);                                               \
        A2 = V_CHI(B2, B3, B4);                                               \
        A3 = V_CHI(B3, B4, B0);                                               \
        A4 = V_CHI(B4, B0, B1);                                               \
        A5 = V_CHI(B5, B6, B7);                                               \
        A6 = V_CHI(B6, B7, B8);                                               \
        A7 = V_CHI(B7, B8, B9);                                               \
        A8 = V_CHI(B8, B9, B5);                                               \
        A9 = V_CHI(B9, B5, B6);                                               \
        A10 = V_CHI(B10, B11, B12);                                           \
        A11 = V_CHI(B11, B12, B13);                                           \
        A12 = V_CHI(B12, B13, B14);                                           \
        A13 = V_CHI(B13, B14, B10);                                           \
        A14 = V_CHI(B14, B10, B11);                                           \
        A15 = V_CHI(B15, B16, B17);                                           \
        A16 = V_CHI(B16, B17, B18);                                           \
        A17 = V_CHI(B17, B18, B19);                                           \
        A18 = V_CHI(B18, B19, B15);                                           \
        A19 = V_CHI(B19, B15, B16);                                           \
        A20 = V_CHI(B20, B21, B22);                                           \
        A21 = V_CHI(B21, B22, B23);                                           \
        A22 = V_CHI(B22, B23, B24);                                           \
        A23 = V_CHI(B23, B24, B20);                                           \
        A24 = V_CHI(B24, B20, B21);                                           \
    } while (0)

/* The 24 rounds, four per loop pass: one round per pass made GCC 12 copy
 * and spill registers at the loop edge (AVX-512 batch 63 ns/hash against
 * 52 with four; eight or full unrolling gained nothing). set1 broadcasts a
 * round constant. */
#define MS_KB_ROUNDS(set1)                                                    \
    for (int r_ = 0; r_ < 24; r_ += 4) {                                      \
        MS_KB_ROUND(set1((long long)ms_keccak_rc[r_ + 0]));                   \
        MS_KB_ROUND(set1((long long)ms_keccak_rc[r_ + 1]));                   \
        MS_KB_ROUND(set1((long long)ms_keccak_rc[r_ + 2]));                   \
        MS_KB_ROUND(set1((long long)ms_keccak_rc[r_ + 3]));                   \
    }

/* Declares the round variables and loads the state s[0..24] into A0..A24. */
#define MS_KB_DECLARE_LOAD(T, s)                                              \
    T A0 = s[0], A1 = s[1], A2 = s[2], A3 = s[3], A4 = s[4];                  \
    T A5 = s[5], A6 = s[6], A7 = s[7], A8 = s[8], A9 = s[9];                  \
    T A10 = s[10], A11 = s[11], A12 = s[12], A13 = s[13], A14 = s[14];        \
    T A15 = s[15], A16 = s[16], A17 = s[17], A18 = s[18], A19 = s[19];        \
    T A20 = s[20], A21 = s[21], A22 = s[22], A23 = s[23], A24 = s[24];        \
    T B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12;                  \
    T B13, B14, B15, B16, B17, B18, B19, B20, B21, B22, B23, B24;             \
    T C0, C1, C2, C3, C4, D0, D1, D2, D3, D4

#define MS_KB_STORE(s)                                                        \
    do {                                                                      \
        s[0] = A0; s[1] = A1; s[2] = A2; s[3] = A3; s[4] = A4;                \
        s[5] = A5; s[6] = A6; s[7] = A7; s[8] = A8; s[9] = A9;                \
        s[10] = A10; s[11] = A11; s[12] = A12; s[13] = A13; s[14] = A14;      \
        s[15] = A15; s[16] = A16; s[17] = A17; s[18] = A18; s[19] = A19;      \
        s[20] = A20; s[21] = A21; s[22] = A22; s[23] = A23; s[24] = A24;      \
    } while (0)

/* ------------------------------------------------------------------ AVX-512 */

#define MS_KB_T512 __attribute__((target("avx512f")))

#define V_XOR(a, b) _mm512_xor_si512((a), (b))
#define V_XOR5(a, b, c, d, e) \
    _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64((a), (b), (c), 0x96), (d), (e), 0x96)
#define V_ROL(a, n) _mm512_rol_epi64((a), (n))
#define V_CHI(a, b, c) _mm512_ternarylogic_epi64((a), (b), (c), 0xD2)
/* Dx holds only rol(C[x+1], 1); C[x-1] joins in the three-way XOR. */
#define V_DPREP(cp, cn) _mm512_rol_epi64((cn), 1)
#define V_DAPPLY(a, d, cp) _mm512_ternarylogic_epi64((a), (d), (cp), 0x96)

MS_KB_T512 static void ms_kb_f1600_x8(__m512i s[25])
{
    MS_KB_DECLARE_LOAD(__m512i, s);
    MS_KB_ROUNDS(_mm512_set1_epi64);
    MS_KB_STORE(s);
}

#undef V_XOR
#undef V_XOR5
#undef V_ROL
#undef V_CHI
#undef V_DPREP
#undef V_DAPPLY

/* XOR nbytes (<= 136) at offset off of each of the 8 messages into the
 * state. Eight whole lanes at a time go through an 8x8 transpose of 64-byte
 * rows; single lanes and the partial last lane are gathered lane by lane. */
MS_KB_T512 static void ms_kb_absorb_x8(__m512i s[25], const uint8_t *const p[8], size_t off, size_t nbytes)
{
    size_t full = nbytes / 8, j = 0;
    for (; j + 8 <= full; j += 8) {
        size_t o = off + 8 * j;
        __m512i r0 = _mm512_loadu_si512(p[0] + o), r1 = _mm512_loadu_si512(p[1] + o);
        __m512i r2 = _mm512_loadu_si512(p[2] + o), r3 = _mm512_loadu_si512(p[3] + o);
        __m512i r4 = _mm512_loadu_si512(p[4] + o), r5 = _mm512_loadu_si512(p[5] + o);
        __m512i r6 = _mm512_loadu_si512(p[6] + o), r7 = _mm512_loadu_si512(p[7] + o);
        /* t: pairs of rows interleaved; u/v: four rows, lanes (0,4) (2,6)
         * (1,5) (3,7) in the two 256-bit halves; then the halves join. */
        __m512i t0 = _mm512_unpacklo_epi64(r0, r1), t1 = _mm512_unpackhi_epi64(r0, r1);
        __m512i t2 = _mm512_unpacklo_epi64(r2, r3), t3 = _mm512_unpackhi_epi64(r2, r3);
        __m512i t4 = _mm512_unpacklo_epi64(r4, r5), t5 = _mm512_unpackhi_epi64(r4, r5);
        __m512i t6 = _mm512_unpacklo_epi64(r6, r7), t7 = _mm512_unpackhi_epi64(r6, r7);
        const __m512i ia = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
        const __m512i ib = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
        __m512i u0 = _mm512_permutex2var_epi64(t0, ia, t2), u1 = _mm512_permutex2var_epi64(t0, ib, t2);
        __m512i u2 = _mm512_permutex2var_epi64(t1, ia, t3), u3 = _mm512_permutex2var_epi64(t1, ib, t3);
        __m512i v0 = _mm512_permutex2var_epi64(t4, ia, t6), v1 = _mm512_permutex2var_epi64(t4, ib, t6);
        __m512i v2 = _mm512_permutex2var_epi64(t5, ia, t7), v3 = _mm512_permutex2var_epi64(t5, ib, t7);
        s[j + 0] = _mm512_xor_si512(s[j + 0], _mm512_shuffle_i64x2(u0, v0, 0x44));
        s[j + 4] = _mm512_xor_si512(s[j + 4], _mm512_shuffle_i64x2(u0, v0, 0xEE));
        s[j + 2] = _mm512_xor_si512(s[j + 2], _mm512_shuffle_i64x2(u1, v1, 0x44));
        s[j + 6] = _mm512_xor_si512(s[j + 6], _mm512_shuffle_i64x2(u1, v1, 0xEE));
        s[j + 1] = _mm512_xor_si512(s[j + 1], _mm512_shuffle_i64x2(u2, v2, 0x44));
        s[j + 5] = _mm512_xor_si512(s[j + 5], _mm512_shuffle_i64x2(u2, v2, 0xEE));
        s[j + 3] = _mm512_xor_si512(s[j + 3], _mm512_shuffle_i64x2(u3, v3, 0x44));
        s[j + 7] = _mm512_xor_si512(s[j + 7], _mm512_shuffle_i64x2(u3, v3, 0xEE));
    }
    for (; j < full; j++) {
        size_t o = off + 8 * j;
        __m512i v = _mm512_set_epi64(
            (long long)ms_kb_load64(p[7] + o), (long long)ms_kb_load64(p[6] + o),
            (long long)ms_kb_load64(p[5] + o), (long long)ms_kb_load64(p[4] + o),
            (long long)ms_kb_load64(p[3] + o), (long long)ms_kb_load64(p[2] + o),
            (long long)ms_kb_load64(p[1] + o), (long long)ms_kb_load64(p[0] + o));
        s[j] = _mm512_xor_si512(s[j], v);
    }
    size_t k = nbytes % 8;
    if (k != 0) {
        size_t o = off + 8 * j;
        __m512i v = _mm512_set_epi64(
            (long long)ms_kb_load_partial(p[7], o, k), (long long)ms_kb_load_partial(p[6], o, k),
            (long long)ms_kb_load_partial(p[5], o, k), (long long)ms_kb_load_partial(p[4], o, k),
            (long long)ms_kb_load_partial(p[3], o, k), (long long)ms_kb_load_partial(p[2], o, k),
            (long long)ms_kb_load_partial(p[1], o, k), (long long)ms_kb_load_partial(p[0], o, k));
        s[j] = _mm512_xor_si512(s[j], v);
    }
}

/* Eight messages of len bytes; out[0..7] are written only at the end. */
MS_KB_T512 static void ms_kb_hash_x8(uint8_t *const out[8], const uint8_t *const in[8], size_t len)
{
    __m512i s[25];
    for (int i = 0; i < 25; i++) s[i] = _mm512_setzero_si512();
    size_t off = 0;
    for (; len - off >= MS_KB_RATE; off += MS_KB_RATE) {
        ms_kb_absorb_x8(s, in, off, MS_KB_RATE);
        ms_kb_f1600_x8(s);
    }
    size_t r = len - off; /* 0..135 bytes left; then the padding */
    ms_kb_absorb_x8(s, in, off, r);
    s[r / 8] = _mm512_xor_si512(s[r / 8], _mm512_set1_epi64((long long)(1ULL << (8 * (r % 8)))));
    s[MS_KB_RATE_LANES - 1] = _mm512_xor_si512(s[MS_KB_RATE_LANES - 1],
                                               _mm512_set1_epi64((long long)0x8000000000000000ULL));
    ms_kb_f1600_x8(s);
    /* Squeeze lanes 0..3: a 4x8 transpose; message m gets 256 bits. */
    __m512i t0 = _mm512_unpacklo_epi64(s[0], s[1]), t1 = _mm512_unpackhi_epi64(s[0], s[1]);
    __m512i t2 = _mm512_unpacklo_epi64(s[2], s[3]), t3 = _mm512_unpackhi_epi64(s[2], s[3]);
    const __m512i ia = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const __m512i ib = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    __m512i m02 = _mm512_permutex2var_epi64(t0, ia, t2), m46 = _mm512_permutex2var_epi64(t0, ib, t2);
    __m512i m13 = _mm512_permutex2var_epi64(t1, ia, t3), m57 = _mm512_permutex2var_epi64(t1, ib, t3);
    _mm256_storeu_si256((__m256i *)(void *)out[0], _mm512_castsi512_si256(m02));
    _mm256_storeu_si256((__m256i *)(void *)out[1], _mm512_castsi512_si256(m13));
    _mm256_storeu_si256((__m256i *)(void *)out[2], _mm512_extracti64x4_epi64(m02, 1));
    _mm256_storeu_si256((__m256i *)(void *)out[3], _mm512_extracti64x4_epi64(m13, 1));
    _mm256_storeu_si256((__m256i *)(void *)out[4], _mm512_castsi512_si256(m46));
    _mm256_storeu_si256((__m256i *)(void *)out[5], _mm512_castsi512_si256(m57));
    _mm256_storeu_si256((__m256i *)(void *)out[6], _mm512_extracti64x4_epi64(m46, 1));
    _mm256_storeu_si256((__m256i *)(void *)out[7], _mm512_extracti64x4_epi64(m57, 1));
}

/* --------------------------------------------------------------------- AVX2 */

#define MS_KB_T256 __attribute__((target("avx2")))

#define V_XOR(a, b) _mm256_xor_si256((a), (b))
#define V_XOR5(a, b, c, d, e) \
    _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256((a), (b)), _mm256_xor_si256((c), (d))), (e))
/* Rotations by whole bytes are one byte shuffle instead of two shifts and
 * an OR (AVX2 batch 129 -> 125 ns/hash). n is a constant, so only one arm
 * of the ?: is compiled in. (a << 1 as a + a gained nothing with GCC and
 * cost clang 30%.) */
#define V_ROL(a, n)                                                           \
    ((n) == 8 ? _mm256_shuffle_epi8((a), ms_kb_rot8)                          \
   : (n) == 56 ? _mm256_shuffle_epi8((a), ms_kb_rot56)                        \
   : _mm256_or_si256(_mm256_slli_epi64((a), (n)), _mm256_srli_epi64((a), 64 - (n))))
#define V_CHI(a, b, c) _mm256_xor_si256((a), _mm256_andnot_si256((b), (c)))
#define V_DPREP(cp, cn) _mm256_xor_si256((cp), V_ROL((cn), 1))
#define V_DAPPLY(a, d, cp) _mm256_xor_si256((a), (d))

MS_KB_T256 static void ms_kb_f1600_x4(__m256i s[25])
{
    /* Byte k of a rotated lane comes from byte (k - n/8) mod 8. */
    const __m256i ms_kb_rot8 = _mm256_setr_epi8(7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14,
                                                7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14);
    const __m256i ms_kb_rot56 = _mm256_setr_epi8(1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8,
                                                 1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8);
    MS_KB_DECLARE_LOAD(__m256i, s);
    MS_KB_ROUNDS(_mm256_set1_epi64x);
    MS_KB_STORE(s);
}

#undef V_XOR
#undef V_XOR5
#undef V_ROL
#undef V_CHI
#undef V_DPREP
#undef V_DAPPLY

/* 4x4 transpose of 64-bit elements: row i of the input becomes column i. */
#define MS_KB_TRANSPOSE4(r0, r1, r2, r3, c0, c1, c2, c3)                     \
    do {                                                                      \
        __m256i t0_ = _mm256_unpacklo_epi64((r0), (r1));                      \
        __m256i t1_ = _mm256_unpackhi_epi64((r0), (r1));                      \
        __m256i t2_ = _mm256_unpacklo_epi64((r2), (r3));                      \
        __m256i t3_ = _mm256_unpackhi_epi64((r2), (r3));                      \
        c0 = _mm256_permute2x128_si256(t0_, t2_, 0x20);                       \
        c1 = _mm256_permute2x128_si256(t1_, t3_, 0x20);                       \
        c2 = _mm256_permute2x128_si256(t0_, t2_, 0x31);                       \
        c3 = _mm256_permute2x128_si256(t1_, t3_, 0x31);                       \
    } while (0)

MS_KB_T256 static void ms_kb_absorb_x4(__m256i s[25], const uint8_t *const p[4], size_t off, size_t nbytes)
{
    size_t full = nbytes / 8, j = 0;
    for (; j + 4 <= full; j += 4) {
        size_t o = off + 8 * j;
        __m256i r0 = _mm256_loadu_si256((const __m256i *)(const void *)(p[0] + o));
        __m256i r1 = _mm256_loadu_si256((const __m256i *)(const void *)(p[1] + o));
        __m256i r2 = _mm256_loadu_si256((const __m256i *)(const void *)(p[2] + o));
        __m256i r3 = _mm256_loadu_si256((const __m256i *)(const void *)(p[3] + o));
        __m256i c0, c1, c2, c3;
        MS_KB_TRANSPOSE4(r0, r1, r2, r3, c0, c1, c2, c3);
        s[j + 0] = _mm256_xor_si256(s[j + 0], c0);
        s[j + 1] = _mm256_xor_si256(s[j + 1], c1);
        s[j + 2] = _mm256_xor_si256(s[j + 2], c2);
        s[j + 3] = _mm256_xor_si256(s[j + 3], c3);
    }
    for (; j < full; j++) {
        size_t o = off + 8 * j;
        __m256i v = _mm256_set_epi64x(
            (long long)ms_kb_load64(p[3] + o), (long long)ms_kb_load64(p[2] + o),
            (long long)ms_kb_load64(p[1] + o), (long long)ms_kb_load64(p[0] + o));
        s[j] = _mm256_xor_si256(s[j], v);
    }
    size_t k = nbytes % 8;
    if (k != 0) {
        size_t o = off + 8 * j;
        __m256i v = _mm256_set_epi64x(
            (long long)ms_kb_load_partial(p[3], o, k), (long long)ms_kb_load_partial(p[2], o, k),
            (long long)ms_kb_load_partial(p[1], o, k), (long long)ms_kb_load_partial(p[0], o, k));
        s[j] = _mm256_xor_si256(s[j], v);
    }
}

/* Four messages of len bytes, permuted by perm (the AVX2 or the AVX-512VL
 * keccak-f); out[0..3] are written only at the end. */
#define MS_KB_HASH_X4_BODY(perm)                                              \
    do {                                                                      \
        __m256i s[25];                                                        \
        for (int i_ = 0; i_ < 25; i_++) s[i_] = _mm256_setzero_si256();       \
        size_t off = 0;                                                       \
        for (; len - off >= MS_KB_RATE; off += MS_KB_RATE) {                  \
            ms_kb_absorb_x4(s, in, off, MS_KB_RATE);                          \
            perm(s);                                                          \
        }                                                                     \
        size_t r = len - off; /* 0..135 bytes left; then the padding */       \
        ms_kb_absorb_x4(s, in, off, r);                                       \
        s[r / 8] = _mm256_xor_si256(                                          \
            s[r / 8], _mm256_set1_epi64x((long long)(1ULL << (8 * (r % 8))))); \
        s[MS_KB_RATE_LANES - 1] = _mm256_xor_si256(                           \
            s[MS_KB_RATE_LANES - 1],                                          \
            _mm256_set1_epi64x((long long)0x8000000000000000ULL));            \
        perm(s);                                                              \
        __m256i m0, m1, m2, m3;                                               \
        MS_KB_TRANSPOSE4(s[0], s[1], s[2], s[3], m0, m1, m2, m3);             \
        _mm256_storeu_si256((__m256i *)(void *)out[0], m0);                   \
        _mm256_storeu_si256((__m256i *)(void *)out[1], m1);                   \
        _mm256_storeu_si256((__m256i *)(void *)out[2], m2);                   \
        _mm256_storeu_si256((__m256i *)(void *)out[3], m3);                   \
    } while (0)

MS_KB_T256 static void ms_kb_hash_x4(uint8_t *const out[4], const uint8_t *const in[4], size_t len)
{
    MS_KB_HASH_X4_BODY(ms_kb_f1600_x4);
}

/* ---------------------------------------------------------- AVX-512VL, 4-way */

/* Four messages in 256-bit registers with AVX-512's rotate and ternary
 * logic: half the op count of the AVX2 round, and 256-bit ops issue on
 * three ports where 512-bit ones have two, so a remainder of 1..4 messages
 * costs about 2/3 of a padded 8-way call (and beats the scalar code). */
#define MS_KB_T512VL __attribute__((target("avx512f,avx512vl")))

#define V_XOR(a, b) _mm256_xor_si256((a), (b))
#define V_XOR5(a, b, c, d, e) \
    _mm256_ternarylogic_epi64(_mm256_ternarylogic_epi64((a), (b), (c), 0x96), (d), (e), 0x96)
#define V_ROL(a, n) _mm256_rol_epi64((a), (n))
#define V_CHI(a, b, c) _mm256_ternarylogic_epi64((a), (b), (c), 0xD2)
#define V_DPREP(cp, cn) _mm256_rol_epi64((cn), 1)
#define V_DAPPLY(a, d, cp) _mm256_ternarylogic_epi64((a), (d), (cp), 0x96)

MS_KB_T512VL static void ms_kb_f1600_x4vl(__m256i s[25])
{
    MS_KB_DECLARE_LOAD(__m256i, s);
    MS_KB_ROUNDS(_mm256_set1_epi64x);
    MS_KB_STORE(s);
}

#undef V_XOR
#undef V_XOR5
#undef V_ROL
#undef V_CHI
#undef V_DPREP
#undef V_DAPPLY

MS_KB_T512VL static void ms_kb_hash_x4vl(uint8_t *const out[4], const uint8_t *const in[4], size_t len)
{
    MS_KB_HASH_X4_BODY(ms_kb_f1600_x4vl);
}

/* ----------------------------------------------------------------- drivers */

typedef void (*ms_kb_group_fn)(uint8_t *const out[], const uint8_t *const in[], size_t len);

/* k < w messages through a w-way group: the unused lanes repeat message 0
 * and write to scratch. */
static void ms_kb_padded(ms_kb_group_fn fn, size_t w, uint8_t *const out[],
                         const uint8_t *const in[], size_t len, size_t k)
{
    uint8_t scratch[8][32];
    uint8_t *o[8];
    const uint8_t *p[8];
    for (size_t i = 0; i < w; i++) {
        o[i] = i < k ? out[i] : scratch[i];
        p[i] = i < k ? in[i] : in[0];
    }
    fn(o, p, len);
}

/* Groups run in index order and each writes its digests after reading all
 * its messages, so out[i] is written after in[0..i] were read. Remainders
 * (bench/bench_keccak.c, 65 bytes, Xeon with AVX-512: scalar 390 ns, one
 * 8-way call 375 ns, one 4-way AVX-512VL call 248 ns, one AVX2 call 490 ns):
 * 5..7 go through a padded 8-way call, 1..4 through a padded 4-way one,
 * which beats the scalar code even for a single message. */
static void ms_kb_run_avx512(uint8_t *const out[], const uint8_t *const in[], size_t len, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) ms_kb_hash_x8(out + i, in + i, len);
    size_t k = n - i;
    if (k > 4) ms_kb_padded(ms_kb_hash_x8, 8, out + i, in + i, len, k);
    else if (k > 0) ms_kb_padded(ms_kb_hash_x4vl, 4, out + i, in + i, len, k);
}

/* AVX2: a lone remainder message is cheaper in the scalar code than in a
 * padded 4-way call; 2 or 3 are not. */
static void ms_kb_run_avx2(uint8_t *const out[], const uint8_t *const in[], size_t len, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) ms_kb_hash_x4(out + i, in + i, len);
    size_t k = n - i;
    if (k > 1) ms_kb_padded(ms_kb_hash_x4, 4, out + i, in + i, len, k);
    else if (k == 1) ms_keccak256(out[i], in[i], len);
}

static int ms_kb_have_avx512(void)
{
    __builtin_cpu_init();
    /* VL for the 4-way remainder path; every AVX-512 CPU but Xeon Phi has it. */
    return __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512vl") != 0;
}

static int ms_kb_have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;   /* a feature bit, not 1: made 0 or 1 */
}

#endif /* MS_KB_X86 */

ms_keccak_impl ms_keccak_best_impl(void)
{
#if MS_KB_X86
    if (ms_kb_have_avx512()) return MS_KECCAK_IMPL_AVX512;
    if (ms_kb_have_avx2()) return MS_KECCAK_IMPL_AVX2;
#endif
    return MS_KECCAK_IMPL_SCALAR;
}

int ms_keccak_impl_available(ms_keccak_impl impl)
{
    switch (impl) {
    case MS_KECCAK_IMPL_BEST:
    case MS_KECCAK_IMPL_SCALAR:
        return 1;
#if MS_KB_X86
    case MS_KECCAK_IMPL_AVX2:
        return ms_kb_have_avx2();
    case MS_KECCAK_IMPL_AVX512:
        return ms_kb_have_avx512();
#endif
    default:
        return 0;
    }
}

int ms_keccak256_batch_with(ms_keccak_impl impl, uint8_t *const out[],
                            const uint8_t *const in[], size_t len, size_t n)
{
    if (impl == MS_KECCAK_IMPL_BEST) impl = ms_keccak_best_impl();
    if (!ms_keccak_impl_available(impl)) return 0;
    switch (impl) {
#if MS_KB_X86
    case MS_KECCAK_IMPL_AVX2:
        ms_kb_run_avx2(out, in, len, n);
        break;
    case MS_KECCAK_IMPL_AVX512:
        ms_kb_run_avx512(out, in, len, n);
        break;
#endif
    default:
        ms_kb_scalar(out, in, len, n);
        break;
    }
    return 1;
}

void ms_keccak256_batch(uint8_t *const out[], const uint8_t *const in[], size_t len, size_t n)
{
    (void)ms_keccak256_batch_with(MS_KECCAK_IMPL_BEST, out, in, len, n);
}
