/* Helpers of the search, context, import and export tests: fixture files
 * (tests/memory/fixtures/, read from the repository root where make runs the
 * suite) and lookups by text. */
#ifndef MSD_MEM_FIXTURE_H
#define MSD_MEM_FIXTURE_H

#include "mem_test.h"

#define FX_DIR "tests/memory/fixtures/"

/* The bytes of fixture name (malloc'd, NUL-terminated; free()). */
static inline uint8_t *fx_read(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, FX_DIR "%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "fixture %s (run from the repository root)", path);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Import a fixture; returns the status, report in *rep. */
static inline msd_status fx_import(msd_mem_doc *d, msd_mem_import_report *rep, msd_mem_format fmt, const char *name)
{
    size_t n = 0;
    uint8_t *b = fx_read(name, &n);
    msd_status st = msd_mem_import(d, rep, fmt, b, n, NULL, mt_dev(7));
    free(b);
    return st;
}

static inline msd_status fx_import_str(msd_mem_doc *d, msd_mem_import_report *rep, msd_mem_format fmt, const char *s)
{
    return msd_mem_import(d, rep, fmt, (const uint8_t *)s, strlen(s), NULL, mt_dev(7));
}

/* The live item whose text is text (and, for observations, whose entity is
 * entity; NULL: a plain fact or any other kind). 1 when found. */
static inline int fx_find(const msd_mem_doc *d, const char *text, const char *entity, msd_mem_item *out)
{
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        msd_mem_item it;
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        if (strcmp(it.text, text) != 0) continue;
        if (entity != NULL && (it.entity == NULL || strcmp(it.entity, entity) != 0)) continue;
        if (entity == NULL && it.entity != NULL) continue;
        if (out != NULL) *out = it;
        return 1;
    }
    return 0;
}

/* Categories of the plain fact with this text (fails when absent). */
static inline uint32_t fx_cats(const msd_mem_doc *d, const char *text)
{
    msd_mem_item it;
    cr_assert(fx_find(d, text, NULL, &it), "no fact \"%s\"", text);
    return it.categories;
}

/* An export as a NUL-terminated string (free()). */
static inline char *fx_export(const msd_mem_doc *d, msd_mem_format fmt, int include_private, size_t *len)
{
    uint8_t *b = NULL;
    size_t n = 0;
    cr_assert_eq(msd_mem_export(&b, &n, d, fmt, include_private), MSD_OK);
    return mt_cstr(b, n, len);
}

static inline void fx_fact(msd_mem_doc *d, uint8_t id[MSD_MEM_ID_SIZE], const char *text, uint32_t cats,
                           uint32_t imp, int imported, unsigned dev)
{
    msd_mem_fact_in in;
    memset(&in, 0, sizeof in);
    in.text = text;
    in.categories = cats;
    in.type = MSD_MEM_SEMANTIC;
    in.importance = imp;
    in.imported = imported;
    cr_assert_eq(msd_mem_add_fact(d, id, &in, mt_dev(dev)), MSD_OK, "add %s", text);
}

#endif
