/* Text helpers for search, context, import and export (memtext.h). */
#include "device/memory/memtext.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int msr_next_token(const char *s, size_t len, size_t *pos, size_t *start, size_t *tlen)
{
    size_t i = *pos;
    while (i < len && !msr_tok_byte((unsigned char)s[i])) i++;
    if (i >= len) {
        *pos = len;
        return 0;
    }
    size_t j = i;
    while (j < len && msr_tok_byte((unsigned char)s[j])) j++;
    *start = i;
    *tlen = j - i;
    *pos = j;
    return 1;
}

uint64_t msr_tok_hash(const char *t, size_t n)
{
    const unsigned char *s = (const unsigned char *)t;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n;) {
        unsigned char f[2];
        const size_t k = msr_fold_at(s, n, i, f);
        h = (h ^ f[0]) * 0x100000001b3ull;
        if (k == 2) h = (h ^ f[1]) * 0x100000001b3ull;
        i += k;
    }
    return h;
}

void msr_fold_copy(char *dst, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    for (size_t i = 0; i < n;) {
        unsigned char f[2];
        const size_t k = msr_fold_at(s, n, i, f); /* reads s[i], s[i+1] before writing them: in place is fine */
        dst[i] = (char)f[0];
        if (k == 2) dst[i + 1] = (char)f[1];
        i += k;
    }
}

/* ---------------------------------------------------------------- buffer */

static int buf_reserve(msr_buf *b, size_t extra)
{
    if (b->oom) return 0;
    if (extra > SIZE_MAX / 2 - b->len - 1) {
        b->oom = 1;
        return 0;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    /* Not realloc: the old block may hold memory text and must be wiped. */
    char *p = malloc(cap);
    if (p == NULL) {
        b->oom = 1;
        return 0;
    }
    if (b->p != NULL) {
        memcpy(p, b->p, b->len);
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void msr_buf_put(msr_buf *b, const void *data, size_t n)
{
    if (!buf_reserve(b, n)) return;
    if (n > 0) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void msr_buf_puts(msr_buf *b, const char *s)
{
    msr_buf_put(b, s, strlen(s));
}

void msr_buf_putc(msr_buf *b, char c)
{
    msr_buf_put(b, &c, 1);
}

void msr_buf_putu(msr_buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    msr_buf_put(b, tmp + sizeof tmp - n, n);
}

void msr_buf_wipe(msr_buf *b)
{
    if (b->p != NULL) {
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
}

msd_status msr_buf_take(msr_buf *b, char **out, size_t *len)
{
    buf_reserve(b, 0); /* an empty result is still a string */
    if (b->oom) {
        msr_buf_wipe(b);
        return MSD_ERR_NOMEM;
    }
    b->p[b->len] = '\0';
    *out = b->p;
    *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return MSD_OK;
}

/* ------------------------------------------------------------------ text */

void msr_put_oneline(msr_buf *b, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, run = 0;
    while (s[i] != 0) {
        size_t skip = 0;
        if (s[i] < 0x20 || s[i] == 0x7f) skip = 1;
        else if (s[i] == 0xc2 && s[i + 1] == 0x85) skip = 2;                            /* NEL */
        else if (s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) skip = 3; /* LS, PS */
        if (skip == 0) {
            i++;
            continue;
        }
        msr_buf_put(b, s + run, i - run);
        msr_buf_putc(b, ' ');
        i += skip;
        run = i;
    }
    msr_buf_put(b, s + run, i - run);
}

static int ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void msr_put_normalised(msr_buf *b, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    int pending = 0, any = 0;
    for (size_t i = 0; i < n;) {
        if (ascii_space(s[i])) {
            pending = any;
            i++;
            continue;
        }
        if (pending) msr_buf_putc(b, ' ');
        pending = 0;
        any = 1;
        unsigned char f[2];
        const size_t k = msr_fold_at(s, n, i, f); /* a 2-byte character holds no ASCII space */
        msr_buf_put(b, f, k);
        i += k;
    }
}

int msr_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) k = 1, cp = c & 0x1fu;
        else if (c >= 0xe0 && c <= 0xef) k = 2, cp = c & 0x0fu;
        else if (c >= 0xf0 && c <= 0xf4) k = 3, cp = c & 0x07u;
        else return 0;
        if (n - i <= k) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3fu);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

unsigned msr_first_cat(uint32_t cats)
{
    for (unsigned i = 0; i < MSD_CAT_COUNT; i++)
        if (cats & (1u << i)) return i;
    return MSD_CAT_COUNT;
}

uint32_t msr_cat_of(const char *name, size_t n)
{
    for (unsigned i = 0; i < MSD_CAT_COUNT; i++) {
        const char *c = msd_mem_category_name(i);
        if (c == NULL || strlen(c) != n) continue;
        size_t j = 0;
        while (j < n && msr_fold((unsigned char)name[j]) == (unsigned char)c[j]) j++;
        if (j == n) return 1u << i;
    }
    return 0;
}

double msr_ln(double x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
     * ln m = 2 atanh(u) = 2 (u + u^3/3 + u^5/5 + ...), u = (m-1)/(m+1), |u| < 0.172. */
    if (!(x > 0)) return 0;
    int e = 0;
    while (x >= 1.4142135623730951) x *= 0.5, e++;
    while (x < 0.7071067811865476) x *= 2.0, e--;
    const double u = (x - 1.0) / (x + 1.0), u2 = u * u;
    double term = u, sum = 0;
    for (int k = 1; k < 60; k += 2) {
        sum += term / k;
        term *= u2;
    }
    return 2.0 * sum + e * 0.6931471805599453;
}

int msr_stamp_cmp(const msd_mem_stamp *a, const msd_mem_stamp *b)
{
    if (a->counter != b->counter) return a->counter < b->counter ? -1 : 1;
    int c = memcmp(a->device, b->device, MSD_MEM_DEVICE_SIZE);
    return (c > 0) - (c < 0);
}

/* ---------------------------------------------------------------- string set */

static uint64_t bytes_hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t set_find(const msr_set *s, const char *key, size_t n)
{
    size_t mask = s->cap - 1, i = (size_t)bytes_hash(key, n) & mask;
    while (s->slot[i] != NULL && !(s->slen[i] == n && (n == 0 || memcmp(s->slot[i], key, n) == 0))) i = (i + 1) & mask;
    return i;
}

int msr_set_has(const msr_set *s, const char *key, size_t n)
{
    return s->cap != 0 && s->slot[set_find(s, key, n)] != NULL;
}

static msd_status set_grow(msr_set *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    msr_set g = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(size_t)), cap, s->n};
    if (g.slot == NULL || g.slen == NULL) {
        free(g.slot);
        free(g.slen);
        return MSD_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slot[i] == NULL) continue;
        size_t j = set_find(&g, s->slot[i], s->slen[i]);
        g.slot[j] = s->slot[i];
        g.slen[j] = s->slen[i];
    }
    free(s->slot);
    free(s->slen);
    *s = g;
    return MSD_OK;
}

msd_status msr_set_add(msr_set *s, const char *key, size_t n)
{
    if ((s->n + 1) * 2 > s->cap && set_grow(s) != MSD_OK) return MSD_ERR_NOMEM;
    size_t i = set_find(s, key, n);
    if (s->slot[i] != NULL) return MSD_OK;
    char *k = malloc(n + 1);
    if (k == NULL) return MSD_ERR_NOMEM;
    if (n > 0) memcpy(k, key, n);
    k[n] = '\0';
    s->slot[i] = k;
    s->slen[i] = n;
    s->n++;
    return MSD_OK;
}

void msr_set_free(msr_set *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slot[i] == NULL) continue;
        sodium_memzero(s->slot[i], s->slen[i]);
        free(s->slot[i]);
    }
    free(s->slot);
    free(s->slen);
    memset(s, 0, sizeof *s);
}
