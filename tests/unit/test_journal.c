/* ms_journal: overlay, undo journal, pending logs. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/journal.h"

/* ------------------------------------------------------------- helpers */

/* Expected overlay state of one key. */
enum { J_ABSENT, J_DELETED, J_VALUE };

#define J_DEL ((const char *)1) /* "deleted" in a string expectation */

static const uint8_t *jb(const char *s)
{
    return (const uint8_t *)s;
}

static void j_put(ms_journal *j, const char *k, const char *v)
{
    cr_assert_eq(ms_journal_put(j, jb(k), strlen(k), jb(v), strlen(v)), 1);
}

static void j_del(ms_journal *j, const char *k)
{
    cr_assert_eq(ms_journal_delete(j, jb(k), strlen(k)), 1);
}

/* exp: NULL absent, J_DEL deleted, else the value. */
static void j_expect(const ms_journal *j, const char *k, const char *exp)
{
    const uint8_t *val = NULL;
    size_t vlen = 0;
    int deleted = -1;
    const int found = ms_journal_get(j, &val, &vlen, &deleted, jb(k), strlen(k));
    if (exp == NULL) {
        cr_assert_eq(found, 0, "key '%s' should be absent", k);
    } else if (exp == J_DEL) {
        cr_assert_eq(found, 1, "key '%s' should be present", k);
        cr_assert_eq(deleted, 1, "key '%s' should be deleted", k);
        cr_assert_eq(vlen, 0);
    } else {
        cr_assert_eq(found, 1, "key '%s' should be present", k);
        cr_assert_eq(deleted, 0, "key '%s' should not be deleted", k);
        cr_assert_eq(vlen, strlen(exp), "key '%s' length %zu, want %zu", k, vlen, strlen(exp));
        if (vlen > 0) cr_assert_arr_eq(val, exp, vlen, "key '%s' value", k);
    }
}

/* Six keys a..f; exp[i] as in j_expect. Also checks the entry count,
 * given extra entries for other keys. */
static void j_expect6(const ms_journal *j, const char *const exp[6], size_t extra)
{
    static const char *const keys[6] = {"a", "b", "c", "d", "e", "f"};
    size_t present = extra;
    for (int i = 0; i < 6; i++) {
        j_expect(j, keys[i], exp[i]);
        present += exp[i] != NULL;
    }
    cr_assert_eq(ms_journal_size(j), present);
}

static int j_keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    const size_t n = alen < blen ? alen : blen;
    const int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return (alen > blen) - (alen < blen);
}

/* ------------------------------------------------------------ basics */

Test(journal, put_get_delete_overwrite)
{
    ms_journal *j = ms_journal_create();
    cr_assert_not_null(j);
    j_expect(j, "k", NULL);
    cr_assert_eq(ms_journal_size(j), 0);
    j_put(j, "k", "v1");
    j_expect(j, "k", "v1");
    j_put(j, "k", "longer value 2");
    j_expect(j, "k", "longer value 2");
    j_put(j, "k", "");
    j_expect(j, "k", "");
    j_del(j, "k");
    j_expect(j, "k", J_DEL);
    j_del(j, "k");
    j_expect(j, "k", J_DEL);
    j_put(j, "k", "back");
    j_expect(j, "k", "back");
    /* Deleting a key the overlay never saw records a tombstone for commit. */
    j_del(j, "other");
    j_expect(j, "other", J_DEL);
    cr_assert_eq(ms_journal_size(j), 2);
    ms_journal_destroy(j);
}

/* The value hash a caller gives with a put (a ciphertext's hash) goes to
 * commit only while that exact value is the key's: a later put or delete,
 * or a revert that restores an older value, drops it (the tree then hashes
 * the value itself). */
static const ms_overlay_entry *j_entry(ms_journal *j, const char *key)
{
    const ms_overlay_entry *const *es;
    size_t n;
    cr_assert(ms_journal_sorted(j, &es, &n));
    for (size_t i = 0; i < n; i++) {
        if (es[i]->klen == strlen(key) && memcmp(es[i]->key, key, es[i]->klen) == 0) return es[i];
    }
    cr_assert_fail("no entry for %s", key);
    return NULL;
}

Test(journal, value_hash_hint_lives_only_with_its_value)
{
    ms_journal *j = ms_journal_create();
    cr_assert_not_null(j);
    uint8_t h[32];
    memset(h, 0xab, sizeof h);
    cr_assert(ms_journal_put_hashed(j, (const uint8_t *)"a", 1, (const uint8_t *)"v1", 2, h));
    const ms_overlay_entry *e = j_entry(j, "a");
    cr_assert_eq(e->value_hashed, 1);
    cr_assert_arr_eq(e->value_hash, h, 32);
    const uint64_t cp = ms_journal_checkpoint(j);
    j_put(j, "a", "v2");
    cr_assert_eq(j_entry(j, "a")->value_hashed, 0, "a plain put drops the hint");
    cr_assert(ms_journal_revert(j, cp));
    j_expect(j, "a", "v1");
    cr_assert_eq(j_entry(j, "a")->value_hashed, 0, "a revert does not bring a hint back");
    cr_assert(ms_journal_put_hashed(j, (const uint8_t *)"b", 1, (const uint8_t *)"w", 1, h));
    j_del(j, "b");
    cr_assert_eq(j_entry(j, "b")->value_hashed, 0, "a delete has no value hash");
    /* Reverting the put that created the key removes the key and its hint. */
    const uint64_t cp2 = ms_journal_checkpoint(j);
    cr_assert(ms_journal_put_hashed(j, (const uint8_t *)"c", 1, (const uint8_t *)"x", 1, h));
    cr_assert(ms_journal_revert(j, cp2));
    j_expect(j, "c", NULL);
    ms_journal_destroy(j);
}

Test(journal, keys_and_values_are_copied)
{
    ms_journal *j = ms_journal_create();
    char k[4] = "key", v[4] = "val";
    cr_assert_eq(ms_journal_put(j, jb(k), 3, jb(v), 3), 1);
    k[0] = 'X';
    v[0] = 'X';
    j_expect(j, "key", "val");
    j_expect(j, "Xey", NULL);
    ms_journal_destroy(j);
}

Test(journal, empty_key_and_binary_keys)
{
    static const uint8_t z1[] = {0}, z2[] = {0, 0};
    ms_journal *j = ms_journal_create();
    cr_assert_eq(ms_journal_put(j, NULL, 0, jb("E"), 1), 1);
    cr_assert_eq(ms_journal_put(j, z1, 1, jb("1"), 1), 1);
    cr_assert_eq(ms_journal_put(j, z2, 2, jb("2"), 1), 1);
    const uint8_t *val;
    size_t vlen;
    int del;
    cr_assert_eq(ms_journal_get(j, &val, &vlen, &del, NULL, 0), 1);
    cr_assert(vlen == 1 && val[0] == 'E');
    cr_assert_eq(ms_journal_get(j, &val, &vlen, &del, z1, 1), 1);
    cr_assert(vlen == 1 && val[0] == '1');
    cr_assert_eq(ms_journal_get(j, &val, &vlen, &del, z2, 2), 1);
    cr_assert(vlen == 1 && val[0] == '2');
    cr_assert_eq(ms_journal_size(j), 3);
    ms_journal_destroy(j);
}

/* ------------------------------------------------------ checkpoints */

Test(journal, nested_checkpoints_five_levels)
{
    /* Expected contents of a..f after each level's writes. */
    static const char *const lvl[6][6] = {
        {"A0", "B0-long-value", J_DEL, NULL, NULL, NULL},
        {"A1xx", J_DEL, J_DEL, "", NULL, NULL},
        {J_DEL, "b2", J_DEL, "", "E2", NULL},
        {"", "b2", "C3", J_DEL, "E2", NULL},
        {"", "B4-much-longer-value-than-before", "C3", J_DEL, J_DEL, "F4"},
        {"A5", "B4-much-longer-value-than-before", "C3", J_DEL, J_DEL, J_DEL},
    };
    ms_journal *j = ms_journal_create();
    uint64_t cp[6];

    j_put(j, "a", "A0");
    j_put(j, "b", "B0-long-value");
    j_del(j, "c");
    j_expect6(j, lvl[0], 0);
    cp[0] = ms_journal_checkpoint(j);

    j_put(j, "a", "A1xx");
    j_del(j, "b");
    j_put(j, "d", "");
    j_expect6(j, lvl[1], 0);
    cp[1] = ms_journal_checkpoint(j);

    j_put(j, "b", "b2");
    j_del(j, "a");
    j_put(j, "e", "temp");
    j_put(j, "e", "E2");
    j_expect6(j, lvl[2], 0);
    cp[2] = ms_journal_checkpoint(j);

    j_put(j, "a", "");
    j_del(j, "d");
    j_put(j, "c", "C3");
    j_expect6(j, lvl[3], 0);
    cp[3] = ms_journal_checkpoint(j);

    j_del(j, "e");
    j_put(j, "f", "F4");
    j_put(j, "b", "B4-much-longer-value-than-before");
    j_expect6(j, lvl[4], 0);
    cp[4] = ms_journal_checkpoint(j);

    j_put(j, "a", "A5");
    j_del(j, "f");
    j_put(j, "g", "gone");
    j_del(j, "g");
    j_expect6(j, lvl[5], 1);
    j_expect(j, "g", J_DEL);
    cp[5] = ms_journal_checkpoint(j);

    for (int i = 1; i < 6; i++) cr_assert_gt(cp[i], cp[i - 1]);
    for (int lv = 4; lv >= 0; lv--) {
        cr_assert_eq(ms_journal_revert(j, cp[lv]), 1);
        cr_assert_eq(ms_journal_checkpoint(j), cp[lv]);
        j_expect6(j, lvl[lv], 0);
        j_expect(j, "g", NULL);
    }
    cr_assert_eq(ms_journal_revert(j, 0), 1);
    cr_assert_eq(ms_journal_size(j), 0);
    static const char *const none[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    j_expect6(j, none, 0);

    /* Still usable after a full revert. */
    j_put(j, "a", "again");
    j_expect(j, "a", "again");
    ms_journal_destroy(j);
}

Test(journal, revert_beyond_length_fails_and_changes_nothing)
{
    ms_journal *j = ms_journal_create();
    cr_assert_eq(ms_journal_revert(j, 1), 0);
    cr_assert_eq(ms_journal_revert(j, 0), 1);
    j_put(j, "a", "1");
    const uint64_t cp = ms_journal_checkpoint(j);
    j_put(j, "a", "2");
    const uint64_t len = ms_journal_checkpoint(j);
    cr_assert_eq(ms_journal_revert(j, len + 1), 0);
    cr_assert_eq(ms_journal_revert(j, UINT64_MAX), 0);
    j_expect(j, "a", "2");
    cr_assert_eq(ms_journal_checkpoint(j), len);
    cr_assert_eq(ms_journal_revert(j, len), 1); /* a no-op, but live */
    j_expect(j, "a", "2");
    cr_assert_eq(ms_journal_revert(j, cp), 1);
    j_expect(j, "a", "1");
    ms_journal_destroy(j);
}

Test(journal, revert_twice_is_idempotent)
{
    ms_journal *j = ms_journal_create();
    j_put(j, "a", "1");
    j_del(j, "b");
    const uint64_t cp = ms_journal_checkpoint(j);
    j_put(j, "a", "2");
    j_put(j, "b", "3");
    j_put(j, "c", "4");
    cr_assert_eq(ms_journal_log(j, jb("L"), 1), 1);
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(ms_journal_revert(j, cp), 1);
        cr_assert_eq(ms_journal_checkpoint(j), cp);
        j_expect(j, "a", "1");
        j_expect(j, "b", J_DEL);
        j_expect(j, "c", NULL);
        cr_assert_eq(ms_journal_size(j), 2);
        const ms_pending_log *logs;
        size_t n;
        ms_journal_logs(j, &logs, &n);
        cr_assert_eq(n, 0);
    }
    ms_journal_destroy(j);
}

Test(journal, logs_appended_then_reverted)
{
    ms_journal *j = ms_journal_create();
    const ms_pending_log *logs;
    size_t n;
    ms_journal_logs(j, &logs, &n);
    cr_assert_eq(n, 0);

    cr_assert_eq(ms_journal_log(j, jb("first"), 5), 1);
    j_put(j, "k", "v");
    const uint64_t cp = ms_journal_checkpoint(j);
    cr_assert_eq(ms_journal_log(j, jb("second"), 6), 1);
    cr_assert_eq(ms_journal_log(j, NULL, 0), 1);
    j_put(j, "k", "w");
    cr_assert_eq(ms_journal_log(j, jb("fourth\0x"), 8), 1);

    ms_journal_logs(j, &logs, &n);
    cr_assert_eq(n, 4);
    cr_assert(logs[0].len == 5 && memcmp(logs[0].bytes, "first", 5) == 0);
    cr_assert(logs[1].len == 6 && memcmp(logs[1].bytes, "second", 6) == 0);
    cr_assert_eq(logs[2].len, 0);
    cr_assert(logs[3].len == 8 && memcmp(logs[3].bytes, "fourth\0x", 8) == 0);

    cr_assert_eq(ms_journal_revert(j, cp), 1);
    ms_journal_logs(j, &logs, &n);
    cr_assert_eq(n, 1);
    cr_assert(logs[0].len == 5 && memcmp(logs[0].bytes, "first", 5) == 0);
    j_expect(j, "k", "v");

    cr_assert_eq(ms_journal_revert(j, 0), 1);
    ms_journal_logs(j, &logs, &n);
    cr_assert_eq(n, 0);
    ms_journal_destroy(j);
}

Test(journal, clear_leaves_usable_empty_journal)
{
    ms_journal *j = ms_journal_create();
    j_put(j, "a", "1");
    j_del(j, "b");
    cr_assert_eq(ms_journal_log(j, jb("L"), 1), 1);
    const ms_overlay_entry *const *es;
    size_t n;
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    ms_journal_clear(j);
    cr_assert_eq(ms_journal_size(j), 0);
    cr_assert_eq(ms_journal_checkpoint(j), 0);
    j_expect(j, "a", NULL);
    j_expect(j, "b", NULL);
    const ms_pending_log *logs;
    ms_journal_logs(j, &logs, &n);
    cr_assert_eq(n, 0);
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert_eq(n, 0);
    ms_journal_clear(j); /* twice is fine */
    j_put(j, "a", "2");
    j_expect(j, "a", "2");
    cr_assert_eq(ms_journal_revert(j, 0), 1);
    j_expect(j, "a", NULL);
    ms_journal_destroy(j);
    ms_journal_destroy(NULL);
}

/* --------------------------------------------------------------- sorted */

Test(journal, sorted_order_by_bytes_shorter_first)
{
    /* Inserted out of order; the expected order is listed below. */
    static const struct { const char *k; size_t len; } in[] = {
        {"ab", 2}, {"\xff", 1}, {"a", 1}, {"", 0}, {"abc", 3}, {"a\0", 2},
        {"b", 1}, {"\x00", 1}, {"aa\xff", 3}, {"ab\0\0", 4}, {"\x80", 1},
    };
    static const struct { const char *k; size_t len; } want[] = {
        {"", 0}, {"\x00", 1}, {"a", 1}, {"a\0", 2}, {"aa\xff", 3}, {"ab", 2},
        {"ab\0\0", 4}, {"abc", 3}, {"b", 1}, {"\x80", 1}, {"\xff", 1},
    };
    const size_t n_in = sizeof in / sizeof in[0];
    ms_journal *j = ms_journal_create();
    for (size_t i = 0; i < n_in; i++) {
        if (i % 3 == 0) cr_assert_eq(ms_journal_delete(j, jb(in[i].k), in[i].len), 1);
        else cr_assert_eq(ms_journal_put(j, jb(in[i].k), in[i].len, jb("v"), 1), 1);
    }
    const ms_overlay_entry *const *es;
    size_t n;
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert_eq(n, n_in);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(es[i]->klen, want[i].len, "position %zu", i);
        if (want[i].len) cr_assert_arr_eq(es[i]->key, want[i].k, want[i].len, "position %zu", i);
    }

    /* The cache must follow changes: add a key, then revert it away. */
    const uint64_t cp = ms_journal_checkpoint(j);
    cr_assert_eq(ms_journal_put(j, jb("aa"), 2, jb("x"), 1), 1);
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert_eq(n, n_in + 1);
    cr_assert(es[4]->klen == 2 && memcmp(es[4]->key, "aa", 2) == 0);
    cr_assert_eq(ms_journal_revert(j, cp), 1);
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert_eq(n, n_in);
    cr_assert(es[4]->klen == 3 && memcmp(es[4]->key, "aa\xff", 3) == 0);

    /* Entries carry the current state, not the state when first sorted. */
    cr_assert_eq(ms_journal_put(j, jb("b"), 1, jb("new"), 3), 1);
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert(es[8]->vlen == 3 && memcmp(es[8]->val, "new", 3) == 0 && !es[8]->deleted);
    ms_journal_destroy(j);
}

/* --------------------------------------------------- randomized model */

/* Keys: every string of length 0..3 over {0x00, 0x61, 0xff}, so there are
 * common prefixes, zero bytes, and bytes above 0x7f (unsigned order). */
#define M_KEYS 40
#define M_VMAX 12
#define M_STACK 48
#define M_LOGS 10000
#define M_OPS 10000

typedef struct m_entry {
    int state;
    size_t vlen;
    uint8_t val[M_VMAX];
} m_entry;

typedef struct m_snap {
    uint64_t cp;
    m_entry e[M_KEYS];
    size_t nlogs;
} m_snap;

typedef struct m_log {
    size_t len;
    uint8_t bytes[8];
} m_log;

typedef struct m_state {
    uint64_t seed, rng;
    int op;
    m_entry e[M_KEYS];
    m_snap stack[M_STACK];
    int depth;
    m_log logs[M_LOGS];
    size_t nlogs;
} m_state;

static uint64_t m_next(m_state *m)
{
    uint64_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    m->rng = x;
    return x;
}

static size_t m_key(uint8_t out[3], int id)
{
    static const uint8_t alpha[3] = {0x00, 0x61, 0xff};
    size_t len = 0;
    int base = 0, span = 1;
    while (id >= base + span) {
        base += span;
        span *= 3;
        len++;
    }
    int rest = id - base;
    for (size_t i = len; i-- > 0;) {
        out[i] = alpha[rest % 3];
        rest /= 3;
    }
    return len;
}

/* Every model assertion names the seed and step that reproduce it. */
#define M_FMT "seed=0x%016llx op=%d"
#define M_ARGS (unsigned long long)m->seed, m->op

static void m_check_all(const m_state *m, const ms_journal *j)
{
    size_t present = 0;
    for (int id = 0; id < M_KEYS; id++) {
        uint8_t k[3];
        const size_t klen = m_key(k, id);
        const uint8_t *val = NULL;
        size_t vlen = 0;
        int deleted = 0;
        const int found = ms_journal_get(j, &val, &vlen, &deleted, k, klen);
        const m_entry *e = &m->e[id];
        cr_assert_eq(found, e->state != J_ABSENT, M_FMT ": key %d presence", M_ARGS, id);
        if (!found) continue;
        present++;
        cr_assert_eq(deleted, e->state == J_DELETED, M_FMT ": key %d deleted flag", M_ARGS, id);
        cr_assert_eq(vlen, e->vlen, M_FMT ": key %d length", M_ARGS, id);
        if (vlen) cr_assert_arr_eq(val, e->val, vlen, M_FMT ": key %d value", M_ARGS, id);
    }
    cr_assert_eq(ms_journal_size(j), present, M_FMT, M_ARGS);
    const ms_pending_log *logs;
    size_t n;
    ms_journal_logs(j, &logs, &n);
    cr_assert_eq(n, m->nlogs, M_FMT, M_ARGS);
    if (n > 0) {
        cr_assert_eq(logs[n - 1].len, m->logs[n - 1].len, M_FMT, M_ARGS);
        if (logs[n - 1].len) cr_assert_arr_eq(logs[n - 1].bytes, m->logs[n - 1].bytes, logs[n - 1].len, M_FMT, M_ARGS);
    }
}

static void m_check_deep(const m_state *m, ms_journal *j)
{
    const ms_pending_log *logs;
    size_t n;
    ms_journal_logs(j, &logs, &n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(logs[i].len, m->logs[i].len, M_FMT ": log %zu", M_ARGS, i);
        if (logs[i].len) cr_assert_arr_eq(logs[i].bytes, m->logs[i].bytes, logs[i].len, M_FMT ": log %zu", M_ARGS, i);
    }
    const ms_overlay_entry *const *es;
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1, M_FMT, M_ARGS);
    cr_assert_eq(n, ms_journal_size(j), M_FMT, M_ARGS);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            cr_assert_lt(j_keycmp(es[i - 1]->key, es[i - 1]->klen, es[i]->key, es[i]->klen), 0,
                         M_FMT ": sorted position %zu", M_ARGS, i);
        }
        /* Each sorted entry is the model's current entry for that key. */
        int id = 0;
        uint8_t k[3];
        while (id < M_KEYS && j_keycmp(k, m_key(k, id), es[i]->key, es[i]->klen) != 0) id++;
        cr_assert_lt(id, M_KEYS, M_FMT ": sorted position %zu unknown key", M_ARGS, i);
        const m_entry *e = &m->e[id];
        cr_assert_neq(e->state, J_ABSENT, M_FMT ": sorted position %zu", M_ARGS, i);
        cr_assert_eq(es[i]->deleted, e->state == J_DELETED, M_FMT ": sorted position %zu", M_ARGS, i);
        cr_assert_eq(es[i]->vlen, e->vlen, M_FMT ": sorted position %zu", M_ARGS, i);
        if (e->vlen) cr_assert_arr_eq(es[i]->val, e->val, e->vlen, M_FMT ": sorted position %zu", M_ARGS, i);
    }
}

static void m_clear_model(m_state *m)
{
    memset(m->e, 0, sizeof m->e);
    m->nlogs = 0;
    m->depth = 0;
}

static void m_step(m_state *m, ms_journal *j)
{
    const unsigned r = (unsigned)(m_next(m) % 100);
    const int id = (int)(m_next(m) % M_KEYS);
    uint8_t k[3];
    const size_t klen = m_key(k, id);
    if (r < 40) {
        m_entry *e = &m->e[id];
        uint8_t v[M_VMAX];
        const size_t vlen = (size_t)(m_next(m) % (M_VMAX + 1));
        for (size_t i = 0; i < vlen; i++) v[i] = (uint8_t)m_next(m);
        cr_assert_eq(ms_journal_put(j, k, klen, v, vlen), 1, M_FMT, M_ARGS);
        e->state = J_VALUE;
        e->vlen = vlen;
        memcpy(e->val, v, vlen);
    } else if (r < 60) {
        cr_assert_eq(ms_journal_delete(j, k, klen), 1, M_FMT, M_ARGS);
        m->e[id].state = J_DELETED;
        m->e[id].vlen = 0;
    } else if (r < 70) {
        if (m->nlogs == M_LOGS) return;
        m_log *l = &m->logs[m->nlogs];
        l->len = (size_t)(m_next(m) % 9);
        for (size_t i = 0; i < l->len; i++) l->bytes[i] = (uint8_t)m_next(m);
        cr_assert_eq(ms_journal_log(j, l->bytes, l->len), 1, M_FMT, M_ARGS);
        m->nlogs++;
    } else if (r < 82) {
        if (m->depth == M_STACK) return;
        m_snap *s = &m->stack[m->depth++];
        s->cp = ms_journal_checkpoint(j);
        memcpy(s->e, m->e, sizeof s->e);
        s->nlogs = m->nlogs;
    } else if (r < 94) {
        if (m->depth == 0) return;
        const int lv = (int)(m_next(m) % (uint64_t)m->depth);
        const m_snap *s = &m->stack[lv];
        cr_assert_eq(ms_journal_revert(j, s->cp), 1, M_FMT, M_ARGS);
        cr_assert_eq(ms_journal_checkpoint(j), s->cp, M_FMT, M_ARGS);
        memcpy(m->e, s->e, sizeof m->e);
        m->nlogs = s->nlogs;
        /* Sometimes keep the checkpoint live for another revert. */
        m->depth = (m_next(m) & 1) ? lv + 1 : lv;
    } else if (r < 96) {
        const uint64_t len = ms_journal_checkpoint(j);
        cr_assert_eq(ms_journal_revert(j, len + 1 + m_next(m) % 5), 0, M_FMT, M_ARGS);
        cr_assert_eq(ms_journal_checkpoint(j), len, M_FMT, M_ARGS);
    } else if (r < 97) {
        cr_assert_eq(ms_journal_revert(j, 0), 1, M_FMT, M_ARGS);
        m_clear_model(m);
    } else if (r < 98) {
        ms_journal_clear(j);
        m_clear_model(m);
    } else {
        m_check_deep(m, j);
    }
}

Test(journal, randomized_against_model)
{
    static m_state model; /* large; keep it off the stack */
    m_state *m = &model;
    memset(m, 0, sizeof *m);
    m->seed = 0x9e3779b97f4a7c15u;
    m->rng = m->seed;
    ms_journal *j = ms_journal_create();
    cr_assert_not_null(j);
    for (m->op = 0; m->op < M_OPS; m->op++) {
        m_step(m, j);
        m_check_all(m, j);
    }
    m_check_deep(m, j);
    ms_journal_destroy(j);
}

/* --------------------------------------------------------------- growth */

#define G_KEYS 100000u

static size_t g_key(uint8_t out[6], uint32_t i)
{
    /* Varying lengths, and a shared prefix so buckets see similar keys. */
    out[0] = 'g';
    out[1] = (uint8_t)(i >> 24);
    out[2] = (uint8_t)(i >> 16);
    out[3] = (uint8_t)(i >> 8);
    out[4] = (uint8_t)i;
    out[5] = (uint8_t)(i * 7u);
    return 5 + (i & 1);
}

static void g_expect(const ms_journal *j, uint32_t i, int present)
{
    uint8_t k[6];
    const size_t klen = g_key(k, i);
    const uint8_t *val;
    size_t vlen;
    int del;
    const int found = ms_journal_get(j, &val, &vlen, &del, k, klen);
    cr_assert_eq(found, present, "key %u", i);
    if (!present) return;
    cr_assert_eq(del, i % 10 == 0, "key %u", i);
    if (del) return;
    cr_assert_eq(vlen, 4, "key %u", i);
    cr_assert(memcmp(val, &i, 4) == 0, "key %u", i);
}

Test(journal, table_growth_100k_keys)
{
    ms_journal *j = ms_journal_create();
    uint64_t half = 0;
    for (uint32_t i = 0; i < G_KEYS; i++) {
        if (i == G_KEYS / 2) half = ms_journal_checkpoint(j);
        uint8_t k[6];
        const size_t klen = g_key(k, i);
        if (i % 10 == 0) cr_assert_eq(ms_journal_delete(j, k, klen), 1);
        else cr_assert_eq(ms_journal_put(j, k, klen, (const uint8_t *)&i, 4), 1);
    }
    cr_assert_eq(ms_journal_size(j), G_KEYS);
    for (uint32_t i = 0; i < G_KEYS; i++) g_expect(j, i, 1);

    const ms_overlay_entry *const *es;
    size_t n;
    cr_assert_eq(ms_journal_sorted(j, &es, &n), 1);
    cr_assert_eq(n, G_KEYS);
    for (size_t i = 1; i < n; i++) {
        cr_assert_lt(j_keycmp(es[i - 1]->key, es[i - 1]->klen, es[i]->key, es[i]->klen), 0);
    }

    cr_assert_eq(ms_journal_revert(j, half), 1);
    cr_assert_eq(ms_journal_size(j), G_KEYS / 2);
    for (uint32_t i = 0; i < G_KEYS; i++) g_expect(j, i, i < G_KEYS / 2);
    cr_assert_eq(ms_journal_revert(j, 0), 1);
    cr_assert_eq(ms_journal_size(j), 0);
    for (uint32_t i = 0; i < G_KEYS; i += 97) g_expect(j, i, 0);
    ms_journal_destroy(j);
}

/* ------------------------------------------------------ fault injection
 *
 * A second copy of journal.c, compiled here with its public names
 * prefixed (so it links beside the library's) and its allocator failing on
 * demand. It checks that a failed put/delete/log/sorted leaves the overlay,
 * the logs and the journal length exactly as they were. */

static long oom_budget = -1; /* allocations left before failing; -1: never */

static int oom_fail(void)
{
    if (oom_budget == 0) return 1;
    if (oom_budget > 0) oom_budget--;
    return 0;
}

static void *oom_malloc(size_t n)
{
    return oom_fail() ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_fail() ? NULL : realloc(p, n);
}

static void *oom_calloc(size_t c, size_t n)
{
    return oom_fail() ? NULL : calloc(c, n);
}

#undef MS_STORAGE_JOURNAL_H
#define ms_overlay_entry oomj_overlay_entry
#define ms_pending_log oomj_pending_log
#define ms_journal oomj_journal
#define ms_journal_create oomj_create
#define ms_journal_create_keyed oomj_create_keyed
#define ms_journal_probes oomj_probes
#define ms_journal_longest_chain oomj_longest_chain
#define ms_journal_destroy oomj_destroy
#define ms_journal_get oomj_get
#define ms_journal_put oomj_put
#define ms_journal_delete oomj_delete
#define ms_journal_put_hashed oomj_put_hashed
#define ms_journal_log oomj_log
#define ms_journal_logs oomj_logs
#define ms_journal_checkpoint oomj_checkpoint
#define ms_journal_revert oomj_revert
#define ms_journal_sorted oomj_sorted
#define ms_journal_size oomj_size
#define ms_journal_clear oomj_clear
#define ms_journal_note_prior oomj_note_prior
#define ms_journal_prior oomj_prior
#define malloc(n) oom_malloc(n)
#define realloc(p, n) oom_realloc(p, n)
#define calloc(c, n) oom_calloc(c, n)
#include "storage/journal.c"
#undef malloc
#undef realloc
#undef calloc
#undef ms_overlay_entry
#undef ms_pending_log
#undef ms_journal
#undef ms_journal_create
#undef ms_journal_create_keyed
#undef ms_journal_probes
#undef ms_journal_longest_chain
#undef ms_journal_destroy
#undef ms_journal_get
#undef ms_journal_put
#undef ms_journal_delete
#undef ms_journal_put_hashed
#undef ms_journal_log
#undef ms_journal_logs
#undef ms_journal_checkpoint
#undef ms_journal_revert
#undef ms_journal_sorted
#undef ms_journal_size
#undef ms_journal_clear

static void oom_name(char k[4], size_t i)
{
    k[0] = 'k';
    k[1] = (char)('0' + i / 10 % 10);
    k[2] = (char)('0' + i % 10);
    k[3] = 0;
}

/* Keys "k00".."k15" as a fixed base state: 16 entries, 16 journal records,
 * one log, and a warm sorted cache, so the next new key must grow the undo
 * vector, the node array and the bucket table at once. */
static oomj_journal *oom_base(void)
{
    oom_budget = -1;
    oomj_journal *j = oomj_create();
    cr_assert_not_null(j);
    for (int i = 0; i < 15; i++) {
        char k[4];
        oom_name(k, (size_t)i);
        cr_assert_eq(oomj_put(j, jb(k), 3, jb(k), (size_t)(i % 4)), 1);
    }
    cr_assert_eq(oomj_delete(j, jb("k15"), 3), 1);
    const oomj_overlay_entry *const *es;
    size_t n;
    cr_assert_eq(oomj_sorted(j, &es, &n), 1);
    return j;
}

static void oom_expect_base(oomj_journal *j, uint64_t cp, size_t nlogs)
{
    cr_assert_eq(oomj_checkpoint(j), cp);
    cr_assert_eq(oomj_size(j), 16);
    for (int i = 0; i < 16; i++) {
        char k[4];
        oom_name(k, (size_t)i);
        const uint8_t *val;
        size_t vlen;
        int del;
        cr_assert_eq(oomj_get(j, &val, &vlen, &del, jb(k), 3), 1, "%s", k);
        cr_assert_eq(del, i == 15, "%s", k);
        cr_assert_eq(vlen, i == 15 ? 0 : (size_t)(i % 4), "%s", k);
        if (vlen) cr_assert_arr_eq(val, k, vlen, "%s", k);
    }
    cr_assert_eq(oomj_get(j, &(const uint8_t *){0}, &(size_t){0}, &(int){0}, jb("new"), 3), 0);
    const oomj_pending_log *logs;
    size_t n;
    oomj_logs(j, &logs, &n);
    cr_assert_eq(n, nlogs);
    const oomj_overlay_entry *const *es;
    cr_assert_eq(oomj_sorted(j, &es, &n), 1);
    cr_assert_eq(n, 16);
    for (size_t i = 0; i < n; i++) {
        char k[4];
        oom_name(k, i);
        cr_assert_arr_eq(es[i]->key, k, 3);
    }
}

enum { OOM_PUT_NEW, OOM_PUT_OLD, OOM_DEL_NEW, OOM_DEL_OLD, OOM_LOG, OOM_OPS };

static int oom_apply(oomj_journal *j, int op)
{
    switch (op) {
    case OOM_PUT_NEW: return oomj_put(j, jb("new"), 3, jb("value"), 5);
    case OOM_PUT_OLD: return oomj_put(j, jb("k03"), 3, jb("value"), 5);
    case OOM_DEL_NEW: return oomj_delete(j, jb("new"), 3);
    case OOM_DEL_OLD: return oomj_delete(j, jb("k03"), 3);
    default: return oomj_log(j, jb("log"), 3);
    }
}

Test(journal, failed_allocation_changes_nothing)
{
    for (int op = 0; op < OOM_OPS; op++) {
        int failures = 0;
        for (long budget = 0;; budget++) {
            oomj_journal *j = oom_base();
            const uint64_t cp = oomj_checkpoint(j);
            oom_budget = budget;
            const int ok = oom_apply(j, op);
            oom_budget = -1;
            if (!ok) {
                failures++;
                oom_expect_base(j, cp, 0);
                /* Still usable: the same operation now succeeds. */
                cr_assert_eq(oom_apply(j, op), 1, "op %d", op);
            }
            cr_assert_eq(oomj_checkpoint(j), cp + 1, "op %d budget %ld", op, budget);
            cr_assert_eq(oomj_revert(j, cp), 1);
            oom_expect_base(j, cp, 0);
            oomj_destroy(j);
            if (ok) break;
            cr_assert_lt(budget, 16, "op %d never succeeded", op);
        }
        cr_assert_gt(failures, 0, "op %d allocated nothing", op);
    }
}

Test(journal, failed_sorted_and_create)
{
    oom_budget = 0;
    cr_assert_null(oomj_create());
    oom_budget = -1;

    oomj_journal *j = oom_base();
    const uint64_t cp = oomj_checkpoint(j);
    cr_assert_eq(oomj_put(j, jb("new"), 3, jb("v"), 1), 1); /* invalidates the cache */
    const oomj_overlay_entry *const *es;
    size_t n;
    oom_budget = 0;
    cr_assert_eq(oomj_sorted(j, &es, &n), 0);
    oom_budget = -1;
    cr_assert_eq(oomj_sorted(j, &es, &n), 1);
    cr_assert_eq(n, 17);
    cr_assert_arr_eq(es[16]->key, "new", 3);
    /* Revert frees but never allocates. */
    oom_budget = 0;
    cr_assert_eq(oomj_revert(j, cp), 1);
    cr_assert_eq(oomj_revert(j, 0), 1);
    oom_budget = -1;
    cr_assert_eq(oomj_size(j), 0);
    oomj_destroy(j);
}
