/* Text helpers shared by search, context, import and export
 * (spec/memory-search.md): the tokenizer, text normalisation for dedup, a
 * growable byte buffer that wipes what it held, the display order of items,
 * and a string set. Internal to the device library; built only on the public
 * API of device/memory/memory.h.
 */
#ifndef MSD_MEMTEXT_H
#define MSD_MEMTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "device/memory/memory.h"

/* ---------------------------------------------------------------- tokens */

/** 1 when byte c belongs to a token [MSR-1]: ASCII letters and digits, and
 *  every byte >= 0x80 (so UTF-8 words are tokens, and a token never splits a
 *  character: tokens are compared as their folds, msr_fold_copy). */
static inline int msr_tok_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/** ASCII case fold of one byte (bytes >= 0x80 unchanged). For ASCII
 *  keywords (category names, format keys); text is folded with msr_fold_at. */
static inline unsigned char msr_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/** The case fold of code point c [MSR-1]: the table of spec/memory-search.md,
 *  ASCII, Latin-1, Latin Extended-A and -B pairs, Greek, Cyrillic and
 *  Armenian capitals to their
 *  small letters, by code point ranges (no locale tables, so every
 *  implementation folds alike). Every rule maps a code point below U+0800 to
 *  one below U+0800 and ASCII to ASCII, so the UTF-8 length never changes.
 *  Other code points are returned unchanged. */
static inline uint32_t msr_fold_cp(uint32_t c)
{
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
    if (c < 0x100) return (c >= 0xc0 && c <= 0xde && c != 0xd7) ? c + 0x20 : c; /* not U+00D7 × */
    if (c < 0x180) {
        /* Pairs capital (even) / small (odd); U+0130 İ and U+0138 ĸ are not in a range. */
        if (c <= 0x12f || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) return c | 1u;
        /* Pairs capital (odd) / small (even); U+0149 ŉ and U+017F ſ are not in a range. */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return c + (c & 1u);
        return c == 0x178 ? 0xff : c; /* Ÿ -> ÿ */
    }
    if (c >= 0x200 && c <= 0x233) /* Latin Extended-B pairs: Ȁ..ȟ (Romanian Ș, Ț), Ȣ..ȳ; not U+0220 Ƞ */
        return (c <= 0x21f || c >= 0x222) ? c | 1u : c;
    if (c >= 0x386 && c <= 0x3c2) {
        if (c == 0x386) return 0x3ac;                                              /* Ά -> ά */
        if (c >= 0x388 && c <= 0x38a) return c + 0x25;                             /* Έ Ή Ί */
        if (c == 0x38c) return 0x3cc;                                              /* Ό -> ό */
        if (c == 0x38e || c == 0x38f) return c + 0x3f;                             /* Ύ Ώ */
        if ((c >= 0x391 && c <= 0x3a1) || (c >= 0x3a3 && c <= 0x3ab)) return c + 0x20; /* Α..Ρ, Σ..Ϋ */
        return c == 0x3c2 ? 0x3c3 : c;                                             /* ς -> σ */
    }
    if (c >= 0x400 && c <= 0x42f) return c < 0x410 ? c + 0x50 : c + 0x20; /* Ѐ..Џ, А..Я */
    if (c >= 0x460 && c <= 0x52f) {
        /* Cyrillic pairs capital (even) / small (odd): Ѡ..ҁ, Ҋ..ҿ (Ukrainian Ґ), Ӑ..ԯ. */
        if (c <= 0x481 || (c >= 0x48a && c <= 0x4bf) || c >= 0x4d0) return c | 1u;
        if (c == 0x4c0) return 0x4cf;                        /* Ӏ -> ӏ */
        if (c >= 0x4c1 && c <= 0x4ce) return c + (c & 1u);   /* Ӂ..ӎ: capital odd */
        return c;
    }
    if (c >= 0x531 && c <= 0x556) return c + 0x30; /* Armenian Ա..Ֆ */
    return c;
}

/** The case fold of the character at s[i] (i < n) [MSR-1]. A 2-byte UTF-8
 *  sequence (lead 0xC2..0xDF, then 0x80..0xBF, both before n) is folded by
 *  msr_fold_cp; an ASCII byte by msr_fold; any other byte (part of a longer
 *  sequence, or invalid or truncated UTF-8) is copied unchanged.
 *  Returns the number of bytes read from s, 1 or 2, which is also the number
 *  written to out. */
static inline size_t msr_fold_at(const unsigned char *s, size_t n, size_t i, unsigned char out[2])
{
    const unsigned char c = s[i];
    if (c < 0x80) {
        out[0] = msr_fold(c);
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (s[i + 1] & 0xc0) == 0x80) {
        const uint32_t f = msr_fold_cp(((uint32_t)(c & 0x1f) << 6) | (s[i + 1] & 0x3fu));
        out[0] = (unsigned char)(0xc0 | (f >> 6));
        out[1] = (unsigned char)(0x80 | (f & 0x3f));
        return 2;
    }
    out[0] = c;
    return 1;
}

/** Writes the case fold of src[0..n) to dst[0..n): the same length, so
 *  offsets into the original stay valid. dst may be src (folds in place). */
void msr_fold_copy(char *dst, const char *src, size_t n);

/** The next token of s[0..len) at or after *pos: sets *start and *tlen and
 *  advances *pos past it. Returns 0 when there is none. */
int msr_next_token(const char *s, size_t len, size_t *pos, size_t *start, size_t *tlen);

/** FNV-1a of the case-folded token (msr_fold_copy's bytes). */
uint64_t msr_tok_hash(const char *t, size_t n);

/* ---------------------------------------------------------------- buffer */

/** A growable byte buffer, always NUL-terminated when non-empty. Growth
 *  copies and wipes the old block (it may hold memory text), so no plaintext
 *  is left in freed memory. `oom` is sticky: after a failed allocation
 *  every put is a no-op and the caller checks it once at the end. */
typedef struct msr_buf {
    char *p;
    size_t len, cap;
    int oom;
} msr_buf;

void msr_buf_put(msr_buf *b, const void *data, size_t n);
void msr_buf_puts(msr_buf *b, const char *s);
void msr_buf_putc(msr_buf *b, char c);
/** Appends the decimal value of v. */
void msr_buf_putu(msr_buf *b, uint64_t v);
/** Wipes and frees the buffer; it is empty afterwards. */
void msr_buf_wipe(msr_buf *b);
/** Hands the bytes over: *out (malloc'd, NUL-terminated, never NULL on
 *  MSD_OK) and *len. On oom, wipes and returns MSD_ERR_NOMEM. */
msd_status msr_buf_take(msr_buf *b, char **out, size_t *len);

/* ------------------------------------------------------------------ text */

/** Appends text with every line break or control character replaced by a
 *  space: bytes < 0x20, 0x7f, and U+0085, U+2028, U+2029 [MSR-14]. */
void msr_put_oneline(msr_buf *b, const char *text);

/** The dedup form of text [MSR-30]: case-folded as msr_fold_copy, runs of
 *  ASCII whitespace collapsed to one space, trimmed. Appended to b. */
void msr_put_normalised(msr_buf *b, const char *text, size_t n);

/** 1 when s[0..n) is valid UTF-8 without NUL (overlongs, surrogates and
 *  code points above U+10FFFF refused). */
int msr_utf8_valid(const char *s, size_t n);

/** The index (0..9) of the lowest category bit of cats, or MSD_CAT_COUNT. */
unsigned msr_first_cat(uint32_t cats);

/** The category bit of a name, case-insensitively (n bytes, trimmed by the
 *  caller), or 0. */
uint32_t msr_cat_of(const char *name, size_t n);

/** The natural logarithm of x > 0 (0 otherwise), without libm (the device
 *  library does not link it), to within a few ulps. */
double msr_ln(double x);

/** -1, 0, 1 as stamp a is earlier, equal, later than b. */
int msr_stamp_cmp(const msd_mem_stamp *a, const msd_mem_stamp *b);

/** 1 when a fact may be shown: not in `private` unless include_private [MSR-40]. */
static inline int msr_visible(const msd_mem_item *it, int include_private)
{
    return include_private || it->kind != MSD_MEM_FACT || (it->categories & MSD_CAT_PRIVATE) == 0;
}

/* ---------------------------------------------------------------- string set */

/** An open-addressing set of byte strings (copies, wiped when freed). */
typedef struct msr_set {
    char **slot;
    size_t *slen;
    size_t cap, n;
} msr_set;

/** 1 when key is in the set. */
int msr_set_has(const msr_set *s, const char *key, size_t n);
/** Adds key (no-op when present). Returns MSD_OK or MSD_ERR_NOMEM. */
msd_status msr_set_add(msr_set *s, const char *key, size_t n);
void msr_set_free(msr_set *s);

#endif
