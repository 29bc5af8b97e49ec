/* Recovery phrase (spec/device.md §6): the 32-byte identity seed is the
 * 256-bit entropy of a standard 24-word BIP-39 English phrase, so the phrase
 * restores the key file's seed exactly (no PBKDF2, no passphrase).
 *
 * Bits: seed (256) || first byte of SHA-256(seed) (8) = 264 bits, read as 24
 * big-endian 11-bit word indices.
 *
 * Both directions run in time independent of the seed and of the phrase's
 * letters: word i of the list is never read at a secret index; every word is
 * found by scanning all 2048 entries and keeping the match with masks, and
 * words are written to (and read from) their secret positions by masked
 * passes over the whole buffer. Only what is public leaves as a branch: the
 * phrase's length in bytes (the caller's), and whether it is a valid phrase
 * (the status). tests/ctime/ctime_device.c checks this under memcheck. */
#include <string.h>

#include <sodium.h>

#include "device/bip39_english.h"
#include "device/internal.h"

#define MN_WORDS MSD_MNEMONIC_WORDS
#define MN_BITS_BYTES (MSD_SEED_SIZE + 2u)   /* seed, checksum, one zero byte: every 11-bit
                                                field lies within 3 whole bytes */

/* ---------------------------------------------- constant-time primitives */
/* Values are at most 32 bits; the comparisons require operands < 2^31. */

static uint32_t ct_nonzero(uint32_t x)
{
    return (x | (0u - x)) >> 31;
}

static uint32_t ct_nonzero64(uint64_t x)
{
    return (uint32_t)((x | (0u - x)) >> 63);
}

static uint32_t ct_eq(uint32_t a, uint32_t b)
{
    return 1u ^ ct_nonzero(a ^ b);
}

static uint32_t ct_lt(uint32_t a, uint32_t b)
{
    return (a - b) >> 31;
}

/* lo <= c <= hi */
static uint32_t ct_in(uint32_t c, uint32_t lo, uint32_t hi)
{
    return ct_lt(c, hi + 1u) & (1u ^ ct_lt(c, lo));
}

static uint64_t ct_mask64(uint32_t bit)
{
    return 0u - (uint64_t)bit;
}

/* A word as 8 letters in one integer, letter k in bits 8k..8k+7 (NUL-padded). */
static uint64_t mn_list_word(uint32_t j)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < MSD_BIP39_WORD_MAX; k++) v |= (uint64_t)(uint8_t)msd_bip39_english[j][k] << (8u * k);
    return v;
}

/* ------------------------------------------------------------ bit fields */

static uint32_t mn_get11(const uint8_t bits[MN_BITS_BYTES], unsigned w)
{
    const unsigned o = 11u * w, b = o / 8u, r = o % 8u;
    const uint32_t v = (uint32_t)bits[b] << 16 | (uint32_t)bits[b + 1u] << 8 | bits[b + 2u];
    return (v >> (13u - r)) & 0x7FFu;
}

static void mn_put11(uint8_t bits[MN_BITS_BYTES], unsigned w, uint32_t idx)
{
    const unsigned o = 11u * w, b = o / 8u, r = o % 8u;
    const uint32_t v = (idx & 0x7FFu) << (13u - r);
    bits[b] |= (uint8_t)(v >> 16);
    bits[b + 1u] |= (uint8_t)(v >> 8);
    bits[b + 2u] |= (uint8_t)v;
}

/* ------------------------------------------------------- seed -> phrase */

/* OR word (len letters) into out[0..MSD_MNEMONIC_MAX) at the secret offset
 * pos, followed by a space if `space`: one masked pass over the buffer. */
static void mn_place(uint8_t *out, uint64_t word, uint32_t len, uint32_t pos, uint32_t space)
{
    for (uint32_t p = 0; p < MSD_MNEMONIC_MAX; p++) {
        const uint32_t d = p - pos;
        uint64_t ch = 0;
        for (uint32_t k = 0; k < MSD_BIP39_WORD_MAX; k++) ch |= (word >> (8u * k)) & ct_mask64(ct_eq(d, k));
        ch |= (uint64_t)' ' & ct_mask64(ct_eq(d, len) & space);
        out[p] |= (uint8_t)ch;
    }
}

msd_status msd_identity_mnemonic(char *out, size_t cap, const msd_identity *id)
{
    if (out == NULL) return MSD_ERR_ARGS;
    if (cap > 0) sodium_memzero(out, cap);
    if (id == NULL) return MSD_ERR_ARGS;
    if (cap < MSD_MNEMONIC_MAX) return MSD_ERR_BUFFER;

    uint8_t bits[MN_BITS_BYTES], h[crypto_hash_sha256_BYTES];
    uint32_t idx[MN_WORDS];
    uint64_t words[MN_WORDS];
    memcpy(bits, id->seed, MSD_SEED_SIZE);
    crypto_hash_sha256(h, id->seed, MSD_SEED_SIZE);
    bits[MSD_SEED_SIZE] = h[0];
    bits[MSD_SEED_SIZE + 1u] = 0;
    for (unsigned w = 0; w < MN_WORDS; w++) {
        idx[w] = mn_get11(bits, w);
        words[w] = 0;
    }
    /* One pass over the list picks every word's letters. */
    for (uint32_t j = 0; j < MSD_BIP39_WORDS; j++) {
        const uint64_t lw = mn_list_word(j);
        for (unsigned w = 0; w < MN_WORDS; w++) words[w] |= lw & ct_mask64(ct_eq(j, idx[w]));
    }
    uint8_t *o = (uint8_t *)out;
    uint32_t pos = 0;
    for (unsigned w = 0; w < MN_WORDS; w++) {
        uint32_t len = 0;
        for (unsigned k = 0; k < MSD_BIP39_WORD_MAX; k++) len += ct_nonzero((uint32_t)(words[w] >> (8u * k)) & 0xFFu);
        mn_place(o, words[w], len, pos, w + 1u < MN_WORDS);
        pos += len + 1u;
    }
    /* out[pos - 1] and beyond are still zero: the terminating NUL. */
    sodium_memzero(bits, sizeof bits);
    sodium_memzero(h, sizeof h);
    sodium_memzero(idx, sizeof idx);
    sodium_memzero(words, sizeof words);
    sodium_memzero(&pos, sizeof pos);
    return MSD_OK;
}

/* ------------------------------------------------------- phrase -> seed */

msd_status msd_identity_from_mnemonic(msd_identity **out, const char *phrase, size_t len)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (phrase == NULL) return MSD_ERR_ARGS;

    /* Tokenise without branching on the letters: each byte is classified
     * with masks, and a letter is ORed into row (count - 1) at letter
     * position pos of a 24-word table; a 25th word or a 9th letter is
     * counted but not stored. */
    uint64_t rows[MN_WORDS];
    memset(rows, 0, sizeof rows);
    uint32_t count = 0, pos = 0, prev_space = 1, bad = 0;
    for (size_t i = 0; i < len; i++) {
        const uint32_t c = (uint8_t)phrase[i];
        const uint32_t space = ct_eq(c, ' ') | ct_in(c, 0x09, 0x0D);   /* \t \n \v \f \r */
        const uint32_t upper = ct_in(c, 'A', 'Z'), lower = ct_in(c, 'a', 'z');
        const uint32_t letter = c | (0x20u & (0u - upper));
        const uint32_t in_word = 1u ^ space, start = in_word & prev_space;
        count += start & ct_lt(count, MN_WORDS + 1u);                          /* saturates at 25 */
        pos = (pos + (in_word & ct_lt(pos, MSD_BIP39_WORD_MAX + 1u))) & ~(0u - start); /* saturates at 9 */
        bad |= in_word & (1u ^ (upper | lower));                 /* a byte that is no letter (incl. NUL) */
        bad |= in_word & (1u ^ ct_lt(pos, MSD_BIP39_WORD_MAX));  /* a word of more than 8 letters */
        const uint32_t store = in_word & ct_lt(pos, MSD_BIP39_WORD_MAX) & ct_lt(count, MN_WORDS + 1u);
        uint64_t placed = 0;
        for (uint32_t k = 0; k < MSD_BIP39_WORD_MAX; k++) placed |= ((uint64_t)letter << (8u * k)) & ct_mask64(ct_eq(pos, k));
        for (uint32_t w = 0; w < MN_WORDS; w++) rows[w] |= placed & ct_mask64(store & ct_eq(w + 1u, count));
        prev_space = space;
    }

    /* Each row's index: one pass over the list compares it with every row. */
    uint32_t idx[MN_WORDS], found[MN_WORDS];
    memset(idx, 0, sizeof idx);
    memset(found, 0, sizeof found);
    for (uint32_t j = 0; j < MSD_BIP39_WORDS; j++) {
        const uint64_t lw = mn_list_word(j);
        for (unsigned w = 0; w < MN_WORDS; w++) {
            const uint32_t hit = 1u ^ ct_nonzero64(rows[w] ^ lw);
            idx[w] |= j & (0u - hit);
            found[w] |= hit;
        }
    }
    uint8_t bits[MN_BITS_BYTES], h[crypto_hash_sha256_BYTES];
    memset(bits, 0, sizeof bits);
    uint32_t all_found = 1;
    for (unsigned w = 0; w < MN_WORDS; w++) {
        mn_put11(bits, w, idx[w]);
        all_found &= found[w];
    }
    crypto_hash_sha256(h, bits, MSD_SEED_SIZE);
    const uint32_t ok = ct_eq(count, MN_WORDS) & all_found & (1u ^ bad) & ct_eq(h[0], bits[MSD_SEED_SIZE]);

    msd_status st = MSD_ERR_MNEMONIC;
    /* Valid or not is the public outcome of the call. */
    if (msd_public((int)ok)) st = msd_identity_from_seed(out, bits);
    sodium_memzero(rows, sizeof rows);
    sodium_memzero(idx, sizeof idx);
    sodium_memzero(found, sizeof found);
    sodium_memzero(bits, sizeof bits);
    sodium_memzero(h, sizeof h);
    sodium_memzero(&count, sizeof count);
    sodium_memzero(&pos, sizeof pos);
    sodium_memzero(&bad, sizeof bad);
    return st;
}
