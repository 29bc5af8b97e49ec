/* ms_key_sort: a block's overlay entries in the store's key order, checked
 * against a plain byte-by-byte comparison on random, tied-prefix, short
 * and prefix-of-each-other keys. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/key_sort.h"
#include "tests/unit/test_util.h"

/* The order written out byte by byte, independent of ms_key_cmp. */
static int ref_cmp(const ms_overlay_entry *a, const ms_overlay_entry *b)
{
    for (size_t i = 0; i < a->klen && i < b->klen; i++) {
        if (a->key[i] != b->key[i]) return a->key[i] < b->key[i] ? -1 : 1;
    }
    return a->klen == b->klen ? 0 : a->klen < b->klen ? -1 : 1;
}

static int ref_qsort_cmp(const void *pa, const void *pb)
{
    return ref_cmp(*(const ms_overlay_entry *const *)pa, *(const ms_overlay_entry *const *)pb);
}

typedef struct keyset {
    ms_overlay_entry *e;
    const ms_overlay_entry **p;
    size_t n;       /* distinct keys, in p */
    size_t made;    /* keys made, in e (duplicates too) */
} keyset;

/* n keys from gen, duplicates dropped, in a shuffled order. */
static void keyset_make(keyset *ks, size_t n, uint64_t *rng,
                        size_t (*gen)(uint8_t *key, size_t i, uint64_t *rng))
{
    ks->e = calloc(n + 1, sizeof *ks->e);
    ks->p = calloc(n + 1, sizeof *ks->p);
    ks->made = n;
    cr_assert(ks->e != NULL && ks->p != NULL);
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[64];
        ks->e[i].klen = gen(buf, i, rng);
        ks->e[i].key = ks->e[i].klen ? malloc(ks->e[i].klen) : NULL;
        if (ks->e[i].klen) memcpy(ks->e[i].key, buf, ks->e[i].klen);
        ks->p[i] = &ks->e[i];
    }
    qsort(ks->p, n, sizeof *ks->p, ref_qsort_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || ref_cmp(ks->p[m - 1], ks->p[i]) != 0) ks->p[m++] = ks->p[i];
    }
    ks->n = m;
    for (size_t i = m; i > 1; i--) {
        const size_t k = (size_t)(ms_test_splitmix64(rng) % i);
        const ms_overlay_entry *t = ks->p[i - 1];
        ks->p[i - 1] = ks->p[k];
        ks->p[k] = t;
    }
}

static void keyset_free(keyset *ks)
{
    for (size_t i = 0; i < ks->made; i++) free(ks->e[i].key);
    free(ks->p);
    free(ks->e);
}

/* Sorts ks->p and checks: strictly ascending by ref_cmp (so a
 * permutation of distinct keys, given the same count), every entry still
 * there, and the same result from a reversed start. */
static void check_sort(keyset *ks)
{
    const size_t n = ks->n;
    const ms_overlay_entry **rev = malloc((n + 1) * sizeof *rev);
    cr_assert(rev != NULL);
    for (size_t i = 0; i < n; i++) rev[i] = ks->p[n - 1 - i];
    cr_assert_eq(ms_key_sort(ks->p, n), 1);
    cr_assert_eq(ms_key_sort(rev, n), 1);
    for (size_t i = 1; i < n; i++) {
        cr_assert_lt(ref_cmp(ks->p[i - 1], ks->p[i]), 0, "entries %zu and %zu out of order (n %zu)", i - 1, i, n);
        cr_assert_lt(ms_key_cmp(&ks->p[i - 1], &ks->p[i]), 0);
    }
    for (size_t i = 0; i < n; i++) cr_assert_eq(ks->p[i], rev[i], "entry %zu depends on the input order", i);
    free(rev);
}

/* 33-byte asset keys: a tag and a random id. */
static size_t gen_asset(uint8_t *key, size_t i, uint64_t *rng)
{
    (void)i;
    key[0] = 0x01;
    for (size_t b = 1; b < 33; b += 8) {
        const uint64_t r = ms_test_splitmix64(rng);
        for (size_t k = 0; k < 8 && b + k < 33; k++) key[b + k] = (uint8_t)(r >> (8 * k));
    }
    return 33;
}

/* Keys sharing their first 20 bytes: every prefix ties. */
static size_t gen_shared(uint8_t *key, size_t i, uint64_t *rng)
{
    (void)i;
    memset(key, 0x5a, 20);
    const uint64_t r = ms_test_splitmix64(rng);
    for (size_t k = 0; k < 8; k++) key[20 + k] = (uint8_t)(r >> (8 * k));
    return 20 + (size_t)(r % 9);
}

/* Short keys of a small alphabet (0, 1, 0xff): empty keys, keys that are
 * prefixes of others, keys differing only in trailing zeros. */
static size_t gen_short(uint8_t *key, size_t i, uint64_t *rng)
{
    (void)i;
    static const uint8_t alphabet[3] = {0x00, 0x01, 0xff};
    const uint64_t r = ms_test_splitmix64(rng);
    const size_t len = (size_t)(r % 13);
    for (size_t k = 0; k < len; k++) key[k] = alphabet[(r >> (8 + 2 * k)) % 3];
    return len;
}

/* A mix: a shared 9-byte prefix for a third of the keys, short keys for
 * another third, random ones for the rest. */
static size_t gen_mixed(uint8_t *key, size_t i, uint64_t *rng)
{
    switch (i % 3) {
    case 0: {
        memset(key, 0x5a, 9);
        const uint64_t r = ms_test_splitmix64(rng);
        for (size_t k = 0; k < 8; k++) key[9 + k] = (uint8_t)(r >> (8 * k));
        return 9 + (size_t)(r % 9);
    }
    case 1: return gen_short(key, i, rng);
    default: return gen_asset(key, i, rng);
    }
}

typedef size_t (*key_gen)(uint8_t *key, size_t i, uint64_t *rng);

/* n keys from gen, sorted and checked. Out: *distinct (how many keys
 * were distinct), *first_klen (the first sorted key's length). */
static void sort_keys(uint64_t *rng, size_t n, key_gen gen, size_t *distinct, size_t *first_klen)
{
    keyset ks;
    keyset_make(&ks, n, rng, gen);
    check_sort(&ks);
    *distinct = ks.n;
    *first_klen = ks.n ? ks.p[0]->klen : 0;
    keyset_free(&ks);
}

/* One test's keys, under its own seed (sort_keys). */
static void sort_case(const char *test, size_t n, key_gen gen, size_t *distinct, size_t *first_klen)
{
    uint64_t rng = ms_test_seed("key_sort", test);
    sort_keys(&rng, n, gen, distinct, first_klen);
}

Test(key_sort, random_asset_keys_in_byte_order)
{
    size_t distinct, first;
    sort_case("random_asset_keys_in_byte_order", 10000, gen_asset, &distinct, &first);
    cr_assert_eq(distinct, 10000);
}

Test(key_sort, keys_with_one_prefix_are_compared_whole)
{
    size_t distinct, first;
    sort_case("keys_with_one_prefix_are_compared_whole", 5000, gen_shared, &distinct, &first);
    cr_assert_gt(distinct, 4000);
}

Test(key_sort, short_and_prefix_keys_order_shorter_first)
{
    size_t distinct, first;
    sort_case("short_and_prefix_keys_order_shorter_first", 4000, gen_short, &distinct, &first);
    cr_assert_gt(distinct, 1000);
    cr_assert_eq(first, 0, "the empty key is among them, first");
}

Test(key_sort, every_size_around_the_radix_threshold)
{
    uint64_t rng = ms_test_seed("key_sort", "every_size_around_the_radix_threshold");
    for (size_t n = 0; n < 140; n++) {
        size_t distinct, first;
        sort_keys(&rng, n, gen_mixed, &distinct, &first);
    }
}

Test(key_sort, a_mixed_block)
{
    size_t distinct, first;
    sort_case("a_mixed_block", 9000, gen_mixed, &distinct, &first);
    cr_assert_gt(distinct, 6000);
}
