/* Helpers shared by the memory-document tests (tests/memory/test_*.c). */
#ifndef MSD_MEM_TEST_H
#define MSD_MEM_TEST_H

#include <criterion/criterion.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/memory/memory.h"

static inline void mt_init(void)
{
    cr_assert_eq(msd_init(), MSD_OK);
}

/* Device ids 0..255: 8 bytes, the last one is n (device 0 sorts first). */
static inline const uint8_t *mt_dev(unsigned n)
{
    static uint8_t devs[256][MSD_MEM_DEVICE_SIZE];
    memset(devs[n & 255u], 0xd0, MSD_MEM_DEVICE_SIZE);
    devs[n & 255u][MSD_MEM_DEVICE_SIZE - 1] = (uint8_t)n;
    return devs[n & 255u];
}

static inline msd_mem_doc *mt_new(void)
{
    msd_mem_doc *d = NULL;
    cr_assert_eq(msd_mem_new(&d), MSD_OK);
    return d;
}

/* A fact with the usual defaults; returns its id in id (may be NULL). */
static inline void mt_add(msd_mem_doc *d, uint8_t id[MSD_MEM_ID_SIZE], const char *text, uint32_t cats,
                          unsigned dev)
{
    msd_mem_fact_in in;
    memset(&in, 0, sizeof in);
    in.text = text;
    in.categories = cats ? cats : MSD_CAT_INTERESTS;
    in.type = MSD_MEM_SEMANTIC;
    in.importance = 50;
    cr_assert_eq(msd_mem_add_fact(d, id, &in, mt_dev(dev)), MSD_OK, "add %s", text);
}

/* The canonical bytes of d, NUL-terminated (free with mt_free_bytes). */
/* b[0..n) as a NUL-terminated string (malloc'd); frees b. */
static inline char *mt_cstr(uint8_t *b, size_t n, size_t *len)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memcpy(s, b, n);
    s[n] = '\0';
    free(b);
    if (len != NULL) *len = n;
    return s;
}

static inline char *mt_bytes(const msd_mem_doc *d, size_t *len)
{
    uint8_t *b = NULL;
    size_t n = 0;
    cr_assert_eq(msd_mem_serialize(&b, &n, d), MSD_OK);
    return mt_cstr(b, n, len);
}

static inline void mt_free_bytes(char *s)
{
    free(s);
}

/* 1 when a and b serialise to the same bytes. */
static inline int mt_same(const msd_mem_doc *a, const msd_mem_doc *b)
{
    size_t na = 0, nb = 0;
    char *x = mt_bytes(a, &na), *y = mt_bytes(b, &nb);
    const int same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static inline msd_mem_doc *mt_parse(const char *json)
{
    msd_mem_doc *d = NULL;
    msd_status st = msd_mem_parse(&d, (const uint8_t *)json, strlen(json));
    cr_assert_eq(st, MSD_OK, "parse failed (%d): %s", (int)st, json);
    return d;
}

static inline msd_status mt_parse_status(const char *json)
{
    msd_mem_doc *d = NULL;
    const msd_status st = msd_mem_parse(&d, (const uint8_t *)json, strlen(json));
    if (st != MSD_OK) cr_assert_null(d);
    msd_mem_free(d);
    return st;
}

static inline msd_mem_doc *mt_clone(const msd_mem_doc *d)
{
    msd_mem_doc *c = NULL;
    cr_assert_eq(msd_mem_clone(&c, d), MSD_OK);
    return c;
}

static inline msd_mem_doc *mt_merge(const msd_mem_doc *b, const msd_mem_doc *l, const msd_mem_doc *r)
{
    msd_mem_doc *m = NULL;
    cr_assert_eq(msd_mem_merge3(&m, b, l, r), MSD_OK);
    return m;
}

/* ------------------------------------------------------ seeded randomness */

/* The run's seed: MSD_TEST_SEED if set, else a fresh one; printed either way. */
static inline uint64_t mt_seed(const char *what)
{
    const char *env = getenv("MSD_TEST_SEED");
    uint64_t s;
    if (env != NULL && *env != '\0')
        s = strtoull(env, NULL, 0);
    else
        randombytes_buf(&s, sizeof s);
    fprintf(stderr, "%s: seed %" PRIu64 " (replay with MSD_TEST_SEED=%" PRIu64 ")\n", what, s, s);
    return s;
}

/* splitmix64 */
static inline uint64_t mt_rand(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline unsigned mt_below(uint64_t *st, unsigned n)
{
    return (unsigned)(mt_rand(st) % n);
}

#endif
