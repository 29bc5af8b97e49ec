/* Issue 14 item 2: the pending block's hash table under keys chosen to
 * collide. Until the fix the overlay placed keys with FNV-1a, a public
 * function: a caller could grind grantees (or salts, or signers) whose keys
 * share one bucket and make every write of the block walk all of them,
 * quadratic work in the block (measured about 200x slower). The keys below
 * all collide under that old bucket function; with the keyed hash
 * (storage/siphash.h) the journal's work on them must stay linear. Work is
 * counted in node comparisons (ms_journal_probes), never in wall time. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/journal.h"

#define FLOOD_N 4096u        /* keys; the old table has 4096 buckets for them */
#define FLOOD_BITS 12u       /* log2 of that bucket count */
#define FLOOD_KLEN 53u       /* a grant key: 0x04 | asset id | grantee */

/* The bucket function the overlay used before: FNV-1a 64, Fibonacci
 * mixing, the top log2(buckets) bits. Kept here only to build the attack. */
static uint64_t old_fnv_step(uint64_t h, uint8_t byte)
{
    return (h ^ byte) * UINT64_C(0x100000001b3);
}

static uint64_t old_fnv(const uint8_t *key, size_t klen)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < klen; i++) h = old_fnv_step(h, key[i]);
    return h;
}

static uint64_t old_bucket(uint64_t fnv, unsigned bits)
{
    return (fnv * UINT64_C(0x9e3779b97f4a7c15)) >> (64u - bits);
}

/* FLOOD_N grant keys of one asset whose grantees' last 8 bytes are ground
 * until the old bucket matches the first key's at 4096 buckets, hence at
 * every smaller table too (the top bits nest): the whole block in one chain
 * at every size the table passes through. About 16.7M tries of 8 bytes. */
static uint8_t (*flood_keys(void))[FLOOD_KLEN]
{
    uint8_t (*keys)[FLOOD_KLEN] = calloc(FLOOD_N, sizeof *keys);
    cr_assert_not_null(keys);
    uint8_t k[FLOOD_KLEN];
    k[0] = 0x04;
    for (unsigned i = 1; i < FLOOD_KLEN - 8; i++) k[i] = (uint8_t)(i * 29 + 7);
    uint64_t prefix = UINT64_C(0xcbf29ce484222325);
    for (unsigned i = 0; i < FLOOD_KLEN - 8; i++) prefix = old_fnv_step(prefix, k[i]);
    uint64_t target = 0;
    size_t n = 0;
    for (uint64_t ctr = 0; n < FLOOD_N; ctr++) {
        uint64_t h = prefix;
        for (unsigned b = 0; b < 8; b++) h = old_fnv_step(h, (uint8_t)(ctr >> (56 - 8 * b)));
        if (n == 0) target = old_bucket(h, FLOOD_BITS);
        if (old_bucket(h, FLOOD_BITS) != target) continue;
        memcpy(keys[n], k, FLOOD_KLEN - 8);
        for (unsigned b = 0; b < 8; b++) keys[n][FLOOD_KLEN - 8 + b] = (uint8_t)(ctr >> (56 - 8 * b));
        n++;
    }
    return keys;
}

static uint8_t (*g_keys)[FLOOD_KLEN];

static void flood_setup(void)
{
    g_keys = flood_keys();
}

static void flood_teardown(void)
{
    free(g_keys);
    g_keys = NULL;
}

TestSuite(journal_flood, .init = flood_setup, .fini = flood_teardown);

Test(journal_flood, keys_collide_under_the_old_bucket_function)
{
    const uint64_t b0 = old_bucket(old_fnv(g_keys[0], FLOOD_KLEN), FLOOD_BITS);
    for (size_t i = 0; i < FLOOD_N; i++) {
        cr_assert_eq(old_bucket(old_fnv(g_keys[i], FLOOD_KLEN), FLOOD_BITS), b0, "key %zu", i);
        if (i > 0) cr_assert(memcmp(g_keys[i], g_keys[i - 1], FLOOD_KLEN) != 0);
    }
    /* So the old table, at every size up to 4096 buckets, chained them all:
     * inserting key i compared i nodes, 8,386,560 for the block. */
}

/* One block's worth of journal work on the colliding keys: put each, note
 * its prior, overwrite it, delete half, look every key up, revert half of
 * the block and write again. Returns the writes' node comparisons. */
static uint64_t block_work(ms_journal *j)
{
    const uint64_t before = ms_journal_probes(j);
    const uint8_t v1[8] = {1}, v2[40] = {2};
    for (size_t i = 0; i < FLOOD_N; i++) {
        cr_assert_eq(ms_journal_put(j, g_keys[i], FLOOD_KLEN, v1, sizeof v1), 1);
        cr_assert_eq(ms_journal_note_prior(j, g_keys[i], FLOOD_KLEN, 0, NULL, 0), 1);
    }
    const uint64_t half = ms_journal_checkpoint(j);
    for (size_t i = 0; i < FLOOD_N; i++) {
        if (i % 2) cr_assert_eq(ms_journal_delete(j, g_keys[i], FLOOD_KLEN), 1);
        else cr_assert_eq(ms_journal_put(j, g_keys[i], FLOOD_KLEN, v2, sizeof v2), 1);
    }
    for (size_t i = 0; i < FLOOD_N; i++) {
        const uint8_t *val;
        size_t vlen;
        int del;
        cr_assert_eq(ms_journal_get(j, &val, &vlen, &del, g_keys[i], FLOOD_KLEN), 1, "key %zu", i);
        cr_assert_eq(del, (int)(i % 2));
        cr_assert_eq(vlen, i % 2 ? 0u : sizeof v2);
    }
    cr_assert_eq(ms_journal_revert(j, half), 1);
    for (size_t i = 0; i < FLOOD_N; i++) {
        cr_assert_eq(ms_journal_put(j, g_keys[i], FLOOD_KLEN, v2, sizeof v2), 1);
    }
    /* Still a correct overlay, sorted by key whatever the placement. */
    const ms_overlay_entry *const *es;
    size_t n;
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert_eq(n, FLOOD_N);
    for (size_t i = 1; i < n; i++) cr_assert(memcmp(es[i - 1]->key, es[i]->key, FLOOD_KLEN) < 0);
    return ms_journal_probes(j) - before;
}

/* 4N writes and N prior notes: at a load factor of at most 1 each compares
 * about 1.5 nodes on average, so 8 per operation leaves a wide margin; the
 * old function needed N^2 / 2 for the first N puts alone. One lookup
 * compares at most the longest chain: a handful, never N. */
static void assert_linear(ms_journal *j, const char *what)
{
    const uint64_t ops = 5u * FLOOD_N;
    const uint64_t probes = block_work(j);
    cr_assert_leq(probes, 8u * ops, "%s: %llu node comparisons for %llu operations", what,
                  (unsigned long long)probes, (unsigned long long)ops);
    const size_t longest = ms_journal_longest_chain(j);
    cr_assert_leq(longest, 16u, "%s: a chain of %zu of %u keys", what, longest, FLOOD_N);
    cr_assert_lt(probes, (uint64_t)FLOOD_N * (FLOOD_N - 1) / 2 / 50, "%s: not far below the quadratic", what);
}

Test(journal_flood, colliding_keys_cost_linear_work_under_fixed_keys)
{
    /* Fixed keys make these runs reproducible; an attacker knows none. */
    static const uint8_t fixed[3][16] = { {0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                          {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88} };
    for (int k = 0; k < 3; k++) {
        ms_journal *j = ms_journal_create_keyed(fixed[k]);
        cr_assert_not_null(j);
        assert_linear(j, k == 0 ? "key 0" : k == 1 ? "key 1" : "key 2");
        /* A cleared journal keeps its key and stays linear for the next block. */
        ms_journal_clear(j);
        assert_linear(j, "after clear");
        ms_journal_destroy(j);
    }
}

Test(journal_flood, colliding_keys_cost_linear_work_under_a_random_key)
{
    ms_journal *j = ms_journal_create();
    cr_assert_not_null(j);
    assert_linear(j, "random key");
    ms_journal_destroy(j);
}
