/* The record cache (storage/record_cache.h) and its use by ms_state.
 *
 * The cache keeps committed small records across blocks. A stale or foreign
 * entry would not crash anything: a call would quietly read an old asset
 * record or nonce, or a rollback would restore the wrong prior value, and
 * the state root would diverge from other nodes. So these tests check:
 * - the cache alone: present, absent and empty values, replacement, the
 *   value and key size limits (a too-large value also drops an older entry),
 *   that under heavy eviction a find answers only with the value put for
 *   that very key, and LRU eviction within a set, on keys found to share a
 *   set through the public interface alone (the hash is not exposed);
 * - through ms_state: every read equals what the committed store holds
 *   across commits, deletes, values growing past and shrinking under
 *   MS_RCACHE_VALUE_MAX, absent keys written later, and rollbacks (checked
 *   against expected values and against a reopened store, which starts
 *   cold), and that undo records built from priors served by the warm cache
 *   equal ones built by reading the store, so each rollback restores the
 *   exact values of its height. Every entry the cache holds is also
 *   compared with the store after each commit and rollback. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memsync.h"
#include "storage/journal.h"
#include "storage/kv.h"
#include "storage/record_cache.h"
#include "storage/records.h"
#include "storage/state.h"
#include "slow_undo.h"
#include "test_util.h"

/* ------------------------------------------------------ the cache alone */

static const uint8_t *ub(const char *s)
{
    return (const uint8_t *)s;
}

static ms_rcache *rc_new(void)
{
    ms_rcache *c = ms_rcache_create();
    cr_assert_not_null(c);
    return c;
}

/* The entry for key must exist and hold exactly (present, val). */
static void expect_entry(ms_rcache *c, const uint8_t *key, size_t klen, int present, const uint8_t *val, size_t vlen)
{
    const ms_rcache_entry *e = ms_rcache_find(c, key, klen);
    cr_assert_not_null(e, "key of %zu bytes (first %02x): not cached", klen, key[0]);
    cr_assert_eq(e->klen, klen);
    cr_assert_eq(memcmp(e->key, key, klen), 0, "an entry for another key");
    cr_assert_eq(e->present, present ? 1 : 0);
    if (present) {
        cr_assert_eq(e->vlen, vlen);
        cr_assert(vlen == 0 || memcmp(e->val, val, vlen) == 0, "value differs");
    }
}

static void expect_none(ms_rcache *c, const uint8_t *key, size_t klen)
{
    cr_assert_null(ms_rcache_find(c, key, klen), "key of %zu bytes (first %02x): unexpectedly cached", klen,
                   klen > 0 ? key[0] : 0);
}

Test(record_cache, present_absent_empty_and_replaced_values)
{
    ms_rcache *c = rc_new();
    expect_none(c, ub("k1"), 2);

    const ms_rcache_entry *e = ms_rcache_put(c, ub("k1"), 2, 1, ub("one"), 3);
    cr_assert_not_null(e);
    cr_assert_eq(e->present, 1);
    expect_entry(c, ub("k1"), 2, 1, ub("one"), 3);

    /* Absent: the value passed is ignored. */
    cr_assert_not_null(ms_rcache_put(c, ub("k2"), 2, 0, ub("junk"), 4));
    expect_entry(c, ub("k2"), 2, 0, NULL, 0);

    /* Empty values, with and without a pointer. */
    cr_assert_not_null(ms_rcache_put(c, ub("k3"), 2, 1, NULL, 0));
    expect_entry(c, ub("k3"), 2, 1, NULL, 0);
    cr_assert_not_null(ms_rcache_put(c, ub("k4"), 2, 1, ub("x"), 0));
    expect_entry(c, ub("k4"), 2, 1, NULL, 0);

    /* Prefixes and extensions of a cached key are other keys. */
    expect_none(c, ub("k"), 1);
    expect_none(c, ub("k1x"), 3);
    expect_none(c, ub("k5"), 2);

    /* Replacement: value, absent, empty, value again. */
    cr_assert_not_null(ms_rcache_put(c, ub("k1"), 2, 1, ub("uno!"), 4));
    expect_entry(c, ub("k1"), 2, 1, ub("uno!"), 4);
    cr_assert_not_null(ms_rcache_put(c, ub("k1"), 2, 0, NULL, 0));
    expect_entry(c, ub("k1"), 2, 0, NULL, 0);
    cr_assert_not_null(ms_rcache_put(c, ub("k1"), 2, 1, NULL, 0));
    expect_entry(c, ub("k1"), 2, 1, NULL, 0);
    cr_assert_not_null(ms_rcache_put(c, ub("k1"), 2, 1, ub("back"), 4));
    expect_entry(c, ub("k1"), 2, 1, ub("back"), 4);
    /* A shorter value leaves nothing of the longer one. */
    cr_assert_not_null(ms_rcache_put(c, ub("k1"), 2, 1, ub("b"), 1));
    expect_entry(c, ub("k1"), 2, 1, ub("b"), 1);
    expect_entry(c, ub("k2"), 2, 0, NULL, 0);

    /* The cache copies the value. */
    uint8_t buf[MS_RCACHE_VALUE_MAX];
    memset(buf, 0x5a, sizeof buf);
    cr_assert_not_null(ms_rcache_put(c, ub("k6"), 2, 1, buf, 7));
    memset(buf, 0, sizeof buf);
    const uint8_t want7[7] = { 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a };
    expect_entry(c, ub("k6"), 2, 1, want7, 7);

    /* Exactly MS_RCACHE_VALUE_MAX bytes are kept. */
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 3 + 1);
    cr_assert_not_null(ms_rcache_put(c, ub("k7"), 2, 1, buf, sizeof buf));
    expect_entry(c, ub("k7"), 2, 1, buf, sizeof buf);
    ms_rcache_destroy(c);
}

Test(record_cache, a_too_large_value_is_not_kept_and_drops_the_older_entry)
{
    ms_rcache *c = rc_new();
    uint8_t big[MS_RCACHE_VALUE_MAX + 1];
    memset(big, 0x77, sizeof big);

    /* Never cached: not kept, and the neighbours are untouched. */
    cr_assert_not_null(ms_rcache_put(c, ub("other"), 5, 1, ub("v"), 1));
    cr_assert_null(ms_rcache_put(c, ub("big"), 3, 1, big, sizeof big));
    expect_none(c, ub("big"), 3);
    cr_assert_null(ms_rcache_put(c, ub("big"), 3, 1, big, 1000));
    expect_none(c, ub("big"), 3);

    /* A small value, then a large one: the small one must not stay. */
    cr_assert_not_null(ms_rcache_put(c, ub("grow"), 4, 1, ub("small"), 5));
    expect_entry(c, ub("grow"), 4, 1, ub("small"), 5);
    cr_assert_null(ms_rcache_put(c, ub("grow"), 4, 1, big, sizeof big));
    expect_none(c, ub("grow"), 4);

    /* An absent entry, then a large value. */
    cr_assert_not_null(ms_rcache_put(c, ub("born"), 4, 0, NULL, 0));
    expect_entry(c, ub("born"), 4, 0, NULL, 0);
    cr_assert_null(ms_rcache_put(c, ub("born"), 4, 1, big, sizeof big));
    expect_none(c, ub("born"), 4);

    /* An empty value, then a large one. */
    cr_assert_not_null(ms_rcache_put(c, ub("empty"), 5, 1, NULL, 0));
    cr_assert_null(ms_rcache_put(c, ub("empty"), 5, 1, big, sizeof big));
    expect_none(c, ub("empty"), 5);

    /* And back to small. */
    cr_assert_not_null(ms_rcache_put(c, ub("grow"), 4, 1, ub("again"), 5));
    expect_entry(c, ub("grow"), 4, 1, ub("again"), 5);
    expect_entry(c, ub("other"), 5, 1, ub("v"), 1);
    ms_rcache_destroy(c);
}

Test(record_cache, key_lengths_zero_and_over_the_maximum_are_refused)
{
    ms_rcache *c = rc_new();
    uint8_t key[MS_KEY_MAX + 1];
    for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(0xc0 + i);

    cr_assert_null(ms_rcache_put(c, key, 0, 1, ub("v"), 1));
    cr_assert_null(ms_rcache_find(c, key, 0));

    /* The longest key is kept whole. */
    cr_assert_not_null(ms_rcache_put(c, key, MS_KEY_MAX, 1, ub("max"), 3));
    expect_entry(c, key, MS_KEY_MAX, 1, ub("max"), 3);
    expect_none(c, key, MS_KEY_MAX - 1);

    /* One byte more is refused, not truncated to the kept key. */
    cr_assert_null(ms_rcache_put(c, key, MS_KEY_MAX + 1, 1, ub("over"), 4));
    cr_assert_null(ms_rcache_find(c, key, MS_KEY_MAX + 1));
    expect_entry(c, key, MS_KEY_MAX, 1, ub("max"), 3);

    /* A one-byte key. */
    cr_assert_not_null(ms_rcache_put(c, key, 1, 0, NULL, 0));
    expect_entry(c, key, 1, 0, NULL, 0);
    ms_rcache_destroy(c);
}

/* Generated keys of 5 to 53 bytes (unique in their first five), with a
 * value of 0 to 128 bytes depending on the key and a generation, and one
 * key in eleven absent. */
#define MANY_KEYS 200000u

static size_t many_key(uint8_t k[MS_KEY_MAX], uint32_t i)
{
    const size_t len = 5 + i % (MS_KEY_MAX - 4);
    k[0] = (uint8_t)(i % 7);
    ms_put_be32(k + 1, i);
    for (size_t j = 5; j < len; j++) k[j] = (uint8_t)(i * 13u + j);
    return len;
}

static size_t many_val(uint8_t v[MS_RCACHE_VALUE_MAX], uint32_t i, uint32_t gen, int *present)
{
    const size_t len = (i + gen * 17u) % (MS_RCACHE_VALUE_MAX + 1);
    for (size_t j = 0; j < len; j++) v[j] = (uint8_t)(i * 7u + gen * 29u + j);
    *present = (i + gen) % 11 != 0;
    return len;
}

/* A find answers with nothing, or with exactly what was last put for
 * that key: never a value of another key, never an older value. */
static size_t check_many(ms_rcache *c, uint32_t replaced_from)
{
    size_t hits = 0;
    for (uint32_t i = 0; i < MANY_KEYS; i++) {
        uint8_t k[MS_KEY_MAX], v[MS_RCACHE_VALUE_MAX];
        int present;
        const size_t klen = many_key(k, i);
        const size_t vlen = many_val(v, i, i >= replaced_from ? 1 : 0, &present);
        const ms_rcache_entry *e = ms_rcache_find(c, k, klen);
        if (e == NULL) continue;
        hits++;
        cr_assert_eq(e->klen, klen, "key %u: another key's entry", i);
        cr_assert_eq(memcmp(e->key, k, klen), 0, "key %u: another key's entry", i);
        cr_assert_eq(e->present, present, "key %u: presence", i);
        if (present) {
            cr_assert_eq(e->vlen, vlen, "key %u: value length", i);
            cr_assert(vlen == 0 || memcmp(e->val, v, vlen) == 0, "key %u: value", i);
        }
    }
    return hits;
}

Test(record_cache, under_eviction_a_find_returns_only_the_keys_own_value)
{
    ms_rcache *c = rc_new();
    uint8_t k[MS_KEY_MAX], v[MS_RCACHE_VALUE_MAX];
    int present;
    for (uint32_t i = 0; i < MANY_KEYS; i++) {
        const size_t klen = many_key(k, i);
        const size_t vlen = many_val(v, i, 0, &present);
        cr_assert_not_null(ms_rcache_put(c, k, klen, present, v, vlen));
        /* The key just put is always there. */
        expect_entry(c, k, klen, present, v, vlen);
    }
    /* The last MS_RCACHE_WAYS puts are each among the newest of their set. */
    for (uint32_t i = MANY_KEYS - MS_RCACHE_WAYS; i < MANY_KEYS; i++) {
        const size_t klen = many_key(k, i);
        const size_t vlen = many_val(v, i, 0, &present);
        expect_entry(c, k, klen, present, v, vlen);
    }
    size_t hits = check_many(c, MANY_KEYS);
    cr_assert_geq(hits, MS_RCACHE_WAYS);
    cr_assert_leq(hits, (size_t)MS_RCACHE_SETS * MS_RCACHE_WAYS, "more entries than the cache holds");

    /* New values for the last quarter, newest key first: no find may
     * answer with a replaced value. */
    const uint32_t from = MANY_KEYS - MANY_KEYS / 4;
    for (uint32_t i = MANY_KEYS; i-- > from;) {
        const size_t klen = many_key(k, i);
        const size_t vlen = many_val(v, i, 1, &present);
        cr_assert_not_null(ms_rcache_put(c, k, klen, present, v, vlen));
        expect_entry(c, k, klen, present, v, vlen);
    }
    hits = check_many(c, from);
    cr_assert_geq(hits, MS_RCACHE_WAYS);
    cr_assert_leq(hits, (size_t)MS_RCACHE_SETS * MS_RCACHE_WAYS);

    ms_rcache_clear(c);
    cr_assert_eq(check_many(c, from), 0u, "clear left entries");
    ms_rcache_destroy(c);
}

/* Keys that share one set, found through the public interface: put an
 * anchor key first, then candidates; the anchor, the least recently used,
 * is evicted exactly when MS_RCACHE_WAYS candidates share its set. The
 * first candidate count that evicts it ends with a member of the set;
 * known members put up front find the next one with fewer candidates. */
#define CAND_KLEN 9u
#define CAND_LIMIT 2000000u

static void cand_key(uint8_t k[CAND_KLEN], uint64_t i)
{
    k[0] = MS_TAG_NONCE;
    ms_put_be64(k + 1, i);
}

static int is_known(const uint64_t *known, size_t nknown, uint64_t i)
{
    for (size_t j = 0; j < nknown; j++) {
        if (known[j] == i) return 1;
    }
    return 0;
}

static int anchor_evicted(ms_rcache *c, const uint64_t *known, size_t nknown, uint64_t n)
{
    uint8_t k[CAND_KLEN];
    ms_rcache_clear(c);
    cand_key(k, 0);
    cr_assert_not_null(ms_rcache_put(c, k, sizeof k, 1, k, sizeof k));
    for (size_t j = 0; j < nknown; j++) {
        cand_key(k, known[j]);
        cr_assert_not_null(ms_rcache_put(c, k, sizeof k, 1, k, sizeof k));
    }
    for (uint64_t i = 1; i <= n; i++) {
        if (is_known(known, nknown, i)) continue;
        cand_key(k, i);
        cr_assert_not_null(ms_rcache_put(c, k, sizeof k, 1, k, sizeof k));
    }
    cand_key(k, 0);
    return ms_rcache_find(c, k, sizeof k) == NULL;
}

/* Out: group[0] the anchor (candidate 0), group[1..MS_RCACHE_WAYS] the
 * candidate numbers of members of its set. */
static void find_set_group(ms_rcache *c, uint64_t group[MS_RCACHE_WAYS + 1])
{
    group[0] = 0;
    for (size_t found = 0; found < MS_RCACHE_WAYS; found++) {
        const uint64_t *known = group + 1;
        uint64_t lo = 0, hi = 4096;   /* lo: does not evict; hi: does */
        while (!anchor_evicted(c, known, found, hi)) {
            cr_assert_lt(hi, CAND_LIMIT, "no eviction after %u candidates: a set holds more than %u ways",
                         CAND_LIMIT, MS_RCACHE_WAYS);
            lo = hi;
            hi *= 2;
        }
        while (hi - lo > 1) {
            const uint64_t mid = lo + (hi - lo) / 2;
            if (anchor_evicted(c, known, found, mid)) hi = mid;
            else lo = mid;
        }
        cr_assert(!is_known(known, found, hi));
        group[1 + found] = hi;
    }
}

static void put_cand(ms_rcache *c, uint64_t i, uint8_t tag)
{
    uint8_t k[CAND_KLEN], v[CAND_KLEN + 1];
    cand_key(k, i);
    memcpy(v, k, CAND_KLEN);
    v[CAND_KLEN] = tag;
    cr_assert_not_null(ms_rcache_put(c, k, sizeof k, 1, v, sizeof v));
}

/* Found with the value put_cand(.., tag) put, or (tag < 0) not cached. */
static void expect_cand(ms_rcache *c, uint64_t i, int tag)
{
    uint8_t k[CAND_KLEN], v[CAND_KLEN + 1];
    cand_key(k, i);
    if (tag < 0) {
        cr_assert_null(ms_rcache_find(c, k, sizeof k), "candidate %llu: should have been evicted",
                       (unsigned long long)i);
        return;
    }
    memcpy(v, k, CAND_KLEN);
    v[CAND_KLEN] = (uint8_t)tag;
    const ms_rcache_entry *e = ms_rcache_find(c, k, sizeof k);
    cr_assert_not_null(e, "candidate %llu: evicted", (unsigned long long)i);
    cr_assert_eq(e->vlen, sizeof v);
    cr_assert_eq(memcmp(e->val, v, sizeof v), 0, "candidate %llu: value", (unsigned long long)i);
}

Test(record_cache, a_full_set_evicts_its_least_recently_used_entry)
{
    cr_assert_eq(MS_RCACHE_WAYS, 4u, "the steps below are written for four ways");
    ms_rcache *c = rc_new();
    uint64_t g[MS_RCACHE_WAYS + 1];
    find_set_group(c, g);

    /* Fill the set: g0 g1 g2 g3, oldest first. */
    ms_rcache_clear(c);
    for (unsigned i = 0; i < 4; i++) put_cand(c, g[i], 1);
    for (unsigned i = 0; i < 4; i++) expect_cand(c, g[i], 1);
    /* Touch g0: g1 is now the least recently used, g4 replaces it. */
    expect_cand(c, g[0], 1);
    put_cand(c, g[4], 1);
    expect_cand(c, g[1], -1);
    expect_cand(c, g[0], 1);
    expect_cand(c, g[2], 1);
    expect_cand(c, g[3], 1);
    expect_cand(c, g[4], 1);
    /* Those finds left g0 least recently used. */
    put_cand(c, g[1], 2);
    expect_cand(c, g[0], -1);
    expect_cand(c, g[1], 2);
    expect_cand(c, g[2], 1);
    expect_cand(c, g[3], 1);
    expect_cand(c, g[4], 1);

    /* Replacing a key's value reuses its way: nothing else leaves. */
    for (unsigned r = 3; r < 13; r++) put_cand(c, g[1], (uint8_t)r);
    expect_cand(c, g[1], 12);
    expect_cand(c, g[2], 1);
    expect_cand(c, g[3], 1);
    expect_cand(c, g[4], 1);

    /* A too-large value frees its way: the next new key evicts nobody. */
    uint8_t k[CAND_KLEN], big[MS_RCACHE_VALUE_MAX + 1];
    memset(big, 1, sizeof big);
    cand_key(k, g[2]);
    cr_assert_null(ms_rcache_put(c, k, sizeof k, 1, big, sizeof big));
    expect_cand(c, g[2], -1);
    put_cand(c, g[0], 7);
    expect_cand(c, g[0], 7);
    expect_cand(c, g[1], 12);
    expect_cand(c, g[3], 1);
    expect_cand(c, g[4], 1);

    /* A key found over and over outlives a stream of puts to its set. */
    for (unsigned round = 0; round < 20; round++) {
        expect_cand(c, g[3], 1);
        put_cand(c, g[round % 2 == 0 ? 2 : 0], (uint8_t)round);
        put_cand(c, g[round % 2 == 0 ? 1 : 4], (uint8_t)round);
        put_cand(c, g[round % 2 == 0 ? 4 : 1], (uint8_t)round);
    }
    expect_cand(c, g[3], 1);

    ms_rcache_clear(c);
    for (unsigned i = 0; i < 5; i++) expect_cand(c, g[i], -1);
    put_cand(c, g[2], 9);
    expect_cand(c, g[2], 9);
    ms_rcache_destroy(c);
}

/* ------------------------------------------------------ through ms_state */

static char rc_dir[64];

static void rcs_setup(void)
{
    strcpy(rc_dir, "/tmp/ms-rcache-XXXXXX");
    cr_assert_not_null(mkdtemp(rc_dir));
}

static void rcs_teardown(void)
{
    ms_test_rmtree(rc_dir);
}

TestSuite(record_cache_state, .init = rcs_setup, .fini = rcs_teardown);

#define DEPTH 16u

static void st_open_ok(ms_state *st)
{
    cr_assert_eq(ms_state_open(st, rc_dir, DEPTH), MS_OK);
}

static void key_of(ms_key *k, unsigned i)
{
    uint8_t addr[20];
    memset(addr, 0xab, sizeof addr);
    ms_put_be32(addr + 16, i);
    ms_key_nonce(k, addr);
}

/* A model value: what a key should read at some height. */
typedef struct model_val {
    int present;
    size_t len;
    unsigned gen;    /* distinguishes values of one length */
} model_val;

#define VAL_BUF 3000u

static void val_bytes(uint8_t *out, unsigned key, const model_val *m)
{
    for (size_t j = 0; j < m->len; j++) out[j] = (uint8_t)(key * 37u + m->gen * 101u + j * 7u + (j >> 8));
}

static void put_model(ms_state *st, unsigned key, const model_val *m)
{
    ms_key k;
    key_of(&k, key);
    if (!m->present) {
        cr_assert_eq(ms_state_delete(st, &k), MS_STATE_OK);
        return;
    }
    static uint8_t buf[VAL_BUF];
    cr_assert_leq(m->len, VAL_BUF);
    val_bytes(buf, key, m);
    cr_assert_eq(ms_state_put(st, &k, buf, m->len), MS_STATE_OK);
}

static void expect_model(ms_state *st, unsigned key, const model_val *m, const char *when)
{
    ms_key k;
    key_of(&k, key);
    const uint8_t *v = (const uint8_t *)1;
    size_t n = 99;
    const ms_state_status s = ms_state_get(st, &v, &n, &k);
    if (!m->present) {
        cr_assert_eq(s, MS_STATE_NOT_FOUND, "%s: key %u should be absent, status %d (len %zu)", when, key, (int)s, n);
        return;
    }
    cr_assert_eq(s, MS_STATE_OK, "%s: key %u should be present, status %d", when, key, (int)s);
    cr_assert_eq(n, m->len, "%s: key %u length %zu, want %zu", when, key, n, m->len);
    static uint8_t want[VAL_BUF];
    val_bytes(want, key, m);
    cr_assert(n == 0 || memcmp(v, want, n) == 0, "%s: key %u value (gen %u)", when, key, m->gen);
}

/* Whatever the cache holds for these keys equals the committed store. */
static void cache_matches_store(ms_state *st, unsigned nkeys, const char *when)
{
    for (unsigned i = 0; i < nkeys; i++) {
        ms_key k;
        key_of(&k, i);
        const ms_rcache_entry *e = ms_rcache_find(st->records, k.bytes, k.len);
        if (e == NULL) continue;
        uint8_t *got = NULL;
        size_t n = 0;
        const ms_kv_status s = ms_kv_get(st->kv, &got, &n, k.bytes, k.len);
        cr_assert(s == MS_KV_OK || s == MS_KV_NOT_FOUND);
        cr_assert_eq(e->present, s == MS_KV_OK, "%s: key %u cached presence differs from the store", when, i);
        if (s == MS_KV_OK) {
            cr_assert_eq(e->vlen, n, "%s: key %u cached length differs from the store", when, i);
            cr_assert(n == 0 || memcmp(e->val, got, n) == 0, "%s: key %u cached value differs from the store",
                      when, i);
        }
        free(got);
    }
}

/* Whether the cache holds (present, value) for key: a read now is served
 * from it. */
static int cached_as(ms_state *st, unsigned key, const model_val *m)
{
    ms_key k;
    key_of(&k, key);
    const ms_rcache_entry *e = ms_rcache_find(st->records, k.bytes, k.len);
    if (e == NULL || e->present != (m->present ? 1 : 0)) return 0;
    if (!m->present) return 1;
    static uint8_t want[VAL_BUF];
    val_bytes(want, key, m);
    return e->vlen == m->len && (m->len == 0 || memcmp(e->val, want, m->len) == 0);
}

static void commit_ok(ms_state *st, uint64_t height)
{
    uint8_t root[32];
    cr_assert_eq(ms_state_commit(st, root, height, DEPTH), MS_OK, "commit of height %llu",
                 (unsigned long long)height);
    cr_assert_eq(st->height, height);
}

static void rollback_ok(ms_state *st, uint64_t height)
{
    cr_assert_eq(ms_state_rollback(st, height, DEPTH), MS_OK, "rollback to %llu", (unsigned long long)height);
    cr_assert_eq(st->height, height);
}

enum { KA, KB, KC, KD, NK };

Test(record_cache_state, reads_follow_commits_deletes_size_changes_and_rollbacks)
{
    ms_state st;
    st_open_ok(&st);
    model_val at[8][NK];      /* expected value of each key at each height */
    memset(at, 0, sizeof at);

    /* Height 1: A small, C small; B and D absent. */
    at[1][KA] = (model_val){ 1, 2, 1 };
    at[1][KC] = (model_val){ 1, 100, 1 };
    put_model(&st, KA, &at[1][KA]);
    put_model(&st, KC, &at[1][KC]);
    expect_model(&st, KB, &at[1][KB], "h1 pending");   /* B's absence is cached */
    commit_ok(&st, 1);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[1][i], "h1");
    cr_assert(cached_as(&st, KA, &at[1][KA]), "a committed small value is served from the cache");
    cr_assert(cached_as(&st, KB, &at[1][KB]), "a read absence is served from the cache");
    cache_matches_store(&st, NK, "h1");

    /* Height 2: A replaced, B and D written after being read as absent. */
    memcpy(at[2], at[1], sizeof at[1]);
    at[2][KA] = (model_val){ 1, 2, 2 };
    at[2][KB] = (model_val){ 1, 4, 2 };
    at[2][KD] = (model_val){ 1, 0, 2 };        /* an empty value */
    expect_model(&st, KA, &at[1][KA], "h2 before write");
    put_model(&st, KA, &at[2][KA]);
    expect_model(&st, KA, &at[2][KA], "h2 pending");
    put_model(&st, KB, &at[2][KB]);
    put_model(&st, KD, &at[2][KD]);
    commit_ok(&st, 2);
    /* The commit put what it wrote, before any read. */
    cr_assert(cached_as(&st, KA, &at[2][KA]) && cached_as(&st, KB, &at[2][KB]) && cached_as(&st, KD, &at[2][KD]));
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[2][i], "h2");
    cache_matches_store(&st, NK, "h2");

    /* A block dropped before its commit leaves the committed reads. */
    model_val junk = { 1, 50, 99 };
    put_model(&st, KA, &junk);
    put_model(&st, KB, &(model_val){ 0, 0, 0 });
    expect_model(&st, KA, &junk, "pending junk");
    rollback_ok(&st, 2);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[2][i], "h2 after a dropped block");

    /* Height 3: A deleted, C grows past the cache's limit, D gets a value. */
    memcpy(at[3], at[2], sizeof at[2]);
    at[3][KA] = (model_val){ 0, 0, 3 };
    at[3][KC] = (model_val){ 1, 1000, 3 };
    at[3][KD] = (model_val){ 1, 9, 3 };
    expect_model(&st, KC, &at[2][KC], "h3 before write");
    put_model(&st, KA, &at[3][KA]);
    put_model(&st, KC, &at[3][KC]);
    put_model(&st, KD, &at[3][KD]);
    commit_ok(&st, 3);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[3][i], "h3");
    cache_matches_store(&st, NK, "h3");

    /* Height 4: A back, C small again, B deleted. */
    memcpy(at[4], at[3], sizeof at[3]);
    at[4][KA] = (model_val){ 1, 7, 4 };
    at[4][KB] = (model_val){ 0, 0, 4 };
    at[4][KC] = (model_val){ 1, 60, 4 };
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[3][i], "h4 before write");
    for (unsigned i = KA; i <= KC; i++) put_model(&st, i, &at[4][i]);
    commit_ok(&st, 4);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[4][i], "h4");
    cache_matches_store(&st, NK, "h4");

    /* Height 5: on both sides of the limit: A exactly at it, C one over. */
    memcpy(at[5], at[4], sizeof at[4]);
    at[5][KA] = (model_val){ 1, MS_RCACHE_VALUE_MAX, 5 };
    at[5][KC] = (model_val){ 1, MS_RCACHE_VALUE_MAX + 1, 5 };
    put_model(&st, KA, &at[5][KA]);
    put_model(&st, KC, &at[5][KC]);
    commit_ok(&st, 5);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[5][i], "h5");
    cache_matches_store(&st, NK, "h5");

    /* Height 6: C shrinks to empty, A to one byte. */
    memcpy(at[6], at[5], sizeof at[5]);
    at[6][KA] = (model_val){ 1, 1, 6 };
    at[6][KC] = (model_val){ 1, 0, 6 };
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[5][i], "h6 before write");
    put_model(&st, KA, &at[6][KA]);
    put_model(&st, KC, &at[6][KC]);
    commit_ok(&st, 6);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[6][i], "h6");

    /* Roll back over blocks the cache learned from, with every key read
     * (so cached) just before. */
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[6][i], "h6 warm");
    rollback_ok(&st, 4);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[4][i], "rolled back to 4");
    cache_matches_store(&st, NK, "rolled back to 4");
    rollback_ok(&st, 2);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[2][i], "rolled back to 2");
    cache_matches_store(&st, NK, "rolled back to 2");

    /* A reopened store starts cold: the same reads. */
    ms_state_close(&st);
    st_open_ok(&st);
    cr_assert_eq(st.height, 2u);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[2][i], "reopened at 2");

    /* A new height 3 on top of the rollback. */
    memcpy(at[7], at[2], sizeof at[2]);
    at[7][KA] = (model_val){ 1, 30, 7 };
    at[7][KC] = (model_val){ 0, 0, 7 };
    put_model(&st, KA, &at[7][KA]);
    put_model(&st, KC, &at[7][KC]);
    commit_ok(&st, 3);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[7][i], "new h3");
    cache_matches_store(&st, NK, "new h3");
    rollback_ok(&st, 2);
    for (unsigned i = 0; i < NK; i++) expect_model(&st, i, &at[2][i], "new h3 rolled back");
    ms_state_close(&st);
}

/* ---------------------------------- undo records from cached priors */

/* Commit; the stored undo record must equal the slow one. Returns the
 * number of priors the journal knew. */
static size_t commit_compare_undo(ms_state *st, uint64_t height)
{
    slow_undo u = { NULL, 0, 0 };
    const size_t known = slow_undo_of_pending(st, &u);
    commit_ok(st, height);
    ms_key k;
    ms_key_undo(&k, height);
    uint8_t *rec = NULL;
    size_t len = 0;
    cr_assert_eq(ms_kv_get(st->kv, &rec, &len, k.bytes, k.len), MS_KV_OK);
    cr_assert_eq(len, u.n, "height %llu: undo record length", (unsigned long long)height);
    cr_assert_eq(memcmp(rec, u.bytes, len), 0, "height %llu: undo record bytes", (unsigned long long)height);
    free(rec);
    free(u.bytes);
    return known;
}

#define UK 48u          /* keys */
#define UBLOCKS 14u     /* heights 1..UBLOCKS */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A new value for key in block h: mostly small (the cache's case), some at
 * and over the limit, some larger than a recent read keeps, some deletes. */
static model_val next_val(uint64_t *s, unsigned gen)
{
    const unsigned r = (unsigned)(rng_next(s) % 20);
    model_val m = { 1, 0, gen };
    if (r < 3) m.present = 0;
    else if (r < 12) m.len = 1 + (size_t)(rng_next(s) % MS_RCACHE_VALUE_MAX);
    else if (r < 13) m.len = 0;
    else if (r < 15) m.len = MS_RCACHE_VALUE_MAX;
    else if (r < 17) m.len = MS_RCACHE_VALUE_MAX + 1 + (size_t)(rng_next(s) % 900);
    else if (r < 19) m.len = 8;
    else m.len = VAL_BUF;
    return m;
}

/* One block on top of cur: read-modify-write of some keys (priors from the
 * cache when warm), blind writes of others, reads alone of the rest. */
static void run_block(ms_state *st, uint64_t *s, model_val cur[UK], unsigned gen)
{
    for (unsigned i = 0; i < UK; i++) {
        const unsigned r = (unsigned)(rng_next(s) % 10);
        if (r < 5) {
            expect_model(st, i, &cur[i], "before a write");
            cur[i] = next_val(s, gen);
            put_model(st, i, &cur[i]);
            if (r == 0) {   /* written twice in the block */
                cur[i] = next_val(s, gen + 1000);
                put_model(st, i, &cur[i]);
            }
        } else if (r < 7) {
            cur[i] = next_val(s, gen);
            put_model(st, i, &cur[i]);
        } else if (r < 9) {
            expect_model(st, i, &cur[i], "read only");
        }
    }
}

static void expect_height(ms_state *st, const model_val want[UK], uint64_t h, const char *when)
{
    char what[64];
    snprintf(what, sizeof what, "%s %llu", when, (unsigned long long)h);
    for (unsigned i = 0; i < UK; i++) expect_model(st, i, &want[i], what);
    cache_matches_store(st, UK, what);
}

Test(record_cache_state, undo_from_cached_priors_restores_every_height)
{
    ms_state st;
    st_open_ok(&st);
    static model_val at[UBLOCKS + 1][UK];   /* at[0]: nothing written */
    memset(at, 0, sizeof at);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t known = 0, cached_priors = 0;

    for (uint64_t h = 1; h <= UBLOCKS; h++) {
        memcpy(at[h], at[h - 1], sizeof at[h]);
        /* Small committed values of the last block are warm in the cache. */
        if (h > 1) {
            for (unsigned i = 0; i < UK; i++) {
                if (at[h - 1][i].present && at[h - 1][i].len <= MS_RCACHE_VALUE_MAX &&
                    cached_as(&st, i, &at[h - 1][i]))
                    cached_priors++;
            }
        }
        run_block(&st, &seed, at[h], (unsigned)h);
        known += commit_compare_undo(&st, h);
        /* The commit itself taught the cache what it wrote (no read since). */
        for (unsigned i = 0; i < UK; i++) {
            const model_val *m = &at[h][i], *was = &at[h - 1][i];
            const int written = m->present != was->present || m->len != was->len || m->gen != was->gen;
            if (written && (!m->present || m->len <= MS_RCACHE_VALUE_MAX))
                cr_assert(cached_as(&st, i, m), "height %llu: key %u written but not cached", (unsigned long long)h, i);
        }
        expect_height(&st, at[h], h, "committed");
    }
    /* The test exercised what it is about: priors from the warm cache. */
    cr_assert_gt(cached_priors, UK, "too few committed values were cached across blocks (%zu)", cached_priors);
    cr_assert_gt(known, UK, "too few priors were known to the journal (%zu)", known);

    /* One block at a time, every key read (cache warm) before each step. */
    for (uint64_t h = UBLOCKS; h-- > 8;) {
        rollback_ok(&st, h);
        expect_height(&st, at[h], h, "rolled back to");
    }

    /* New blocks 9.. on top of height 8, built from the re-warmed cache. */
    static model_val at2[UBLOCKS + 1][UK];
    memcpy(at2, at, sizeof at);
    seed ^= 0x5555u;
    for (uint64_t h = 9; h <= 11; h++) {
        memcpy(at2[h], at2[h - 1], sizeof at2[h]);
        run_block(&st, &seed, at2[h], (unsigned)(h + 500));
        commit_compare_undo(&st, h);
        expect_height(&st, at2[h], h, "recommitted");
    }
    for (uint64_t h = 11; h-- > 1;) {
        rollback_ok(&st, h);
        expect_height(&st, at2[h], h, "rolled back again to");
    }

    /* A cold reopen reads the same. */
    ms_state_close(&st);
    st_open_ok(&st);
    cr_assert_eq(st.height, 1u);
    expect_height(&st, at[1], 1, "reopened at");
    ms_state_close(&st);
}
