/* TEXT import: one fact per line, the format every assistant's "manage
 * memories" page can be copied as (spec/memory-search.md §4.3, [MSR-50]..).
 */
#include "device/memory/memimport.h"

#include <string.h>

typedef struct text_state {
    uint32_t current;   /* the category of the last category heading, else identity */
    int first;          /* the next line is the file's first (a BOM may open it) */
} text_state;

static int hspace(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (hspace((*s)[0]) || (*s)[0] == '\v' || (*s)[0] == '\f')) (*s)++, (*n)--;
    while (*n > 0 && (hspace((*s)[*n - 1]) || (*s)[*n - 1] == '\v' || (*s)[*n - 1] == '\f')) (*n)--;
}

/* "#" to "######" then a space or the end: an ATX heading [MSR-51]. Sets
 * *title to its text (closing #s removed). */
static int heading(const char *s, size_t n, const char **title, size_t *tn)
{
    size_t h = 0;
    while (h < n && s[h] == '#') h++;
    if (h == 0 || h > 6 || (h < n && !hspace(s[h]))) return 0;
    const char *t = s + h;
    size_t k = n - h;
    trim(&t, &k);
    while (k > 0 && t[k - 1] == '#') k--;
    trim(&t, &k);
    *title = t;
    *tn = k;
    return 1;
}

/* A thematic break (three or more of one of - * _) or a setext underline
 * (any run of =), spaces allowed between [MSR-51]. */
static int rule(const char *s, size_t n)
{
    char c = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (hspace(s[i])) continue;
        if (s[i] != '-' && s[i] != '=' && s[i] != '*' && s[i] != '_') return 0;
        if (c != 0 && s[i] != c) return 0;
        c = s[i];
        count++;
    }
    return count >= 3 || (c == '=' && count >= 1);
}

/* One list marker, bullet or number, and the blanks after it [MSR-52].
 * Only one: "- 1. x" keeps "1. x", so a fact that starts like a marker
 * survives the Markdown export and back. */
static void strip_marker(const char **s, size_t *n)
{
    const char *p = *s;
    size_t k = 0;
    /* A marker is followed by a blank or ends the line (an empty item). */
    if (*n >= 1 && (p[0] == '-' || p[0] == '*' || p[0] == '+') && (*n == 1 || hspace(p[1]))) {
        k = 1;
    } else if (*n >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0xa2 &&
               (*n == 3 || hspace(p[3]))) {
        k = 3; /* U+2022 BULLET */
    } else {
        size_t d = 0;
        while (d < *n && d < 9 && p[d] >= '0' && p[d] <= '9') d++;
        if (d > 0 && d < *n && (p[d] == '.' || p[d] == ')') && (d + 1 == *n || hspace(p[d + 1]))) k = d + 1;
    }
    if (k == 0) return;
    *s += k;
    *n -= k;
    trim(s, n);
}

/* A leading "[career]" or "[career, learning]" of known category names
 * (case-insensitive) [MSR-53]; anything else in brackets stays text. */
static uint32_t strip_tag(const char **s, size_t *n)
{
    const char *p = *s;
    if (*n < 3 || p[0] != '[') return 0;
    const char *close = memchr(p, ']', *n);
    if (close == NULL) return 0;
    uint32_t cats = 0;
    const char *a = p + 1;
    while (a <= close) {
        const char *b = a;
        while (b < close && *b != ',') b++;
        const char *name = a;
        size_t k = (size_t)(b - a);
        trim(&name, &k);
        uint32_t bit = msr_cat_of(name, k);
        if (bit == 0) return 0;
        cats |= bit;
        a = b + 1;
    }
    size_t used = (size_t)(close - p) + 1;
    *s += used;
    *n -= used;
    trim(s, n);
    return cats;
}

static msd_status text_line(msr_import *im, const char *s, size_t n, void *arg)
{
    text_state *ts = arg;
    if (ts->first && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) s += 3, n -= 3;
    ts->first = 0;
    trim(&s, &n);
    if (n == 0 || rule(s, n)) return MSD_OK;
    const char *title;
    size_t tn;
    if (heading(s, n, &title, &tn)) {
        uint32_t c = msr_cat_of(title, tn);
        ts->current = c != 0 ? c : MSD_CAT_IDENTITY;
        return MSD_OK;
    }
    strip_marker(&s, &n);
    uint32_t cats = strip_tag(&s, &n);
    if (n == 0) return MSD_OK; /* an empty bullet is a blank line */
    return msr_import_fact(im, s, n, cats != 0 ? cats : ts->current, NULL);
}

msd_status msr_import_text(msr_import *im, const uint8_t *buf, size_t len)
{
    text_state ts = {MSD_CAT_IDENTITY, 1};
    return msr_each_line(im, buf, len, text_line, &ts);
}
