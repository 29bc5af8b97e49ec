/* Merge: fixed scenarios for each rule of spec/memory.md §3.2 and property
 * tests over random op logs on 2 and 3 simulated devices ([MEM-21]..[MEM-30]).
 * Every random test prints its seed; MSD_TEST_SEED=N replays it. */
#include <jansson.h>

#include "mem_test.h"

TestSuite(mem_merge, .init = mt_init);

#define ITER 150

/* Number of live items that are conflict copies of id. */
static size_t copies_of(const msd_mem_doc *d, const uint8_t id[16], msd_mem_item *last)
{
    size_t n = 0;
    msd_mem_item it;
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        if (it.has_conflict_of && memcmp(it.conflict_of, id, 16) == 0) {
            n++;
            if (last != NULL) *last = it;
        }
    }
    return n;
}

static size_t all_copies(const msd_mem_doc *d)
{
    size_t n = 0;
    msd_mem_item it;
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        n += it.has_conflict_of != 0;
    }
    return n;
}

static void assert_same(const msd_mem_doc *a, const msd_mem_doc *b, const char *what, uint64_t seed, int iter)
{
    size_t na = 0, nb = 0;
    char *x = mt_bytes(a, &na), *y = mt_bytes(b, &nb);
    cr_assert(na == nb && memcmp(x, y, na) == 0, "%s (seed %" PRIu64 ", iteration %d)\n%s\n%s", what, seed, iter, x, y);
    free(x);
    free(y);
}

static void assert_clock(const msd_mem_doc *m, const msd_mem_doc *b, const msd_mem_doc *l, const msd_mem_doc *r)
{
    uint64_t c = msd_mem_clock(l) > msd_mem_clock(r) ? msd_mem_clock(l) : msd_mem_clock(r);
    if (b != NULL && msd_mem_clock(b) > c) c = msd_mem_clock(b);
    cr_assert_eq(msd_mem_clock(m), c); /* [MEM-27] */
}

/* --------------------------------------------------------- random ops */

static const char *const words[] = {"tea", "coffee", "Berlin", "Rust", "chess", "running", "Ada", "piano"};

/* One random change on d by device dev. */
static void random_op(msd_mem_doc *d, uint64_t *st, unsigned dev)
{
    const size_t n = msd_mem_count(d);
    const unsigned op = n == 0 ? 0 : mt_below(st, 10);
    char text[64];
    snprintf(text, sizeof text, "likes %s %u", words[mt_below(st, 8)], mt_below(st, 4));
    if (op < 4) {
        msd_mem_fact_in in = {.text = text,
                              .categories = 1u << mt_below(st, MSD_CAT_COUNT),
                              .type = MSD_MEM_SEMANTIC,
                              .importance = mt_below(st, 101)};
        cr_assert_eq(msd_mem_add_fact(d, NULL, &in, mt_dev(dev)), MSD_OK);
        return;
    }
    msd_mem_item it;
    cr_assert_eq(msd_mem_item_at(d, mt_below(st, (unsigned)n), &it), MSD_OK);
    uint8_t id[16];
    memcpy(id, it.id, 16);
    if (op < 7 && it.kind == MSD_MEM_FACT) {
        /* Which fields: a non-empty subset of text (1), categories (2),
         * importance (4), so concurrent edits of the same fact often touch
         * different fields ([MEM-24]). */
        const unsigned what = 1u + mt_below(st, 7);
        cr_assert_eq(msd_mem_edit_fact(d, id, (what & 1) ? text : NULL, (what & 2) ? 1u << mt_below(st, 10) : 0,
                                       (what & 4) ? (int)mt_below(st, 101) : -1, mt_dev(dev)),
                     MSD_OK);
    } else if (op < 9) {
        cr_assert_eq(msd_mem_forget(d, id, mt_dev(dev)), MSD_OK);
    } else {
        int ch;
        cr_assert_eq(msd_mem_graph_add_entity(d, words[mt_below(st, 8)], "thing", NULL, 0, mt_dev(dev), &ch), MSD_OK);
    }
}

/* A base document with unknown fields at the top level and in items. */
static msd_mem_doc *seed_doc(uint64_t *st, unsigned n)
{
    msd_mem_doc *d = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":["
                              "{\"id\":\"0123456789abcdef0123456789abcdef\",\"kind\":\"fact\",\"text\":\"seed fact\","
                              "\"cat\":[\"identity\"],\"type\":\"semantic\",\"imp\":50,\"c\":[1,\"00000000000000ff\"],"
                              "\"t\":[1,\"00000000000000ff\"],\"zz\":{\"keep\":[1,2]}}],"
                              "\"x-top\":{\"v\":1}}");
    for (unsigned i = 0; i < n; i++) random_op(d, st, 9);
    return d;
}

static msd_mem_doc *derive(const msd_mem_doc *b, uint64_t *st, unsigned dev, unsigned ops)
{
    msd_mem_doc *d = mt_clone(b);
    for (unsigned i = 0; i < ops; i++) random_op(d, st, dev);
    return d;
}

/* ------------------------------------------------------ fixed scenarios */

Test(mem_merge, forget_beats_concurrent_edit_in_every_order)
{
    for (int order = 0; order < 4; order++) {
        msd_mem_doc *b = mt_new();
        uint8_t f[16];
        mt_add(b, f, "base text", 0, 1);
        msd_mem_doc *l = mt_clone(b), *r = mt_clone(b);
        /* order bit 0: whose stamp is higher; bit 1: which side forgets. */
        if (order & 1) mt_add(l, NULL, "bump", 0, 2), mt_add(l, NULL, "bump2", 0, 2);
        msd_mem_doc *editor = (order & 2) ? l : r, *forgetter = (order & 2) ? r : l;
        cr_assert_eq(msd_mem_edit_fact(editor, f, "edited text", MSD_CAT_HEALTH, 3, mt_dev(5)), MSD_OK);
        cr_assert_eq(msd_mem_forget(forgetter, f, mt_dev(6)), MSD_OK);
        msd_mem_doc *m1 = mt_merge(b, l, r), *m2 = mt_merge(b, r, l), *m3 = mt_merge(NULL, l, r);
        cr_assert(mt_same(m1, m2));
        cr_assert(msd_mem_is_forgotten(m1, f), "order %d", order);
        cr_assert(msd_mem_is_forgotten(m3, f), "order %d", order);
        cr_assert_eq(copies_of(m1, f, NULL), 0);
        cr_assert_eq(all_copies(m1), 0);
        char *s = mt_bytes(m1, NULL);
        cr_assert(strstr(s, "edited") == NULL);
        free(s);
        msd_mem_free(b);
        msd_mem_free(l);
        msd_mem_free(r);
        msd_mem_free(m1);
        msd_mem_free(m2);
        msd_mem_free(m3);
    }
}

Test(mem_merge, concurrent_text_edits_one_copy)
{
    msd_mem_doc *b = mt_new();
    uint8_t f[16];
    mt_add(b, f, "base text", 0, 1);
    msd_mem_doc *l = mt_clone(b), *r = mt_clone(b);
    cr_assert_eq(msd_mem_edit_fact(l, f, "left text", 0, 10, mt_dev(2)), MSD_OK);  /* (2, dev 2) */
    cr_assert_eq(msd_mem_edit_fact(r, f, "right text", 0, 90, mt_dev(3)), MSD_OK); /* (2, dev 3): wins */
    msd_mem_doc *m = mt_merge(b, l, r), *m2 = mt_merge(b, r, l);
    cr_assert(mt_same(m, m2));
    msd_mem_item it, copy;
    cr_assert_eq(msd_mem_find(m, f, &it), MSD_OK);
    cr_assert_str_eq(it.text, "right text");
    cr_assert_eq(it.importance, 90);
    cr_assert_eq(copies_of(m, f, &copy), 1);
    cr_assert_str_eq(copy.text, "left text");
    cr_assert_eq(copy.importance, 10);
    cr_assert_eq(copy.updated.counter, 2);
    cr_assert_eq(memcmp(copy.updated.device, mt_dev(2), 8), 0);
    cr_assert_eq(copy.created.counter, 1);
    /* [MEM-25]: the copy's id. */
    uint8_t in[48], h[32];
    memcpy(in, "memsync.conflict", 16);
    memcpy(in + 16, f, 16);
    memset(in + 32, 0, 8);
    in[39] = 2;
    memcpy(in + 40, mt_dev(2), 8);
    crypto_generichash(h, 32, in, 48, NULL, 0);
    cr_assert_eq(memcmp(copy.id, h, 16), 0);
    cr_assert_eq(msd_mem_count(m), 2);
    /* Merging again adds nothing. */
    msd_mem_doc *a1 = mt_merge(b, m, l), *a2 = mt_merge(b, m, r), *a3 = mt_merge(b, l, m), *a4 = mt_merge(NULL, m, l);
    msd_mem_doc *a5 = mt_merge(l, m, r);
    cr_assert(mt_same(a1, m));
    cr_assert(mt_same(a2, m));
    cr_assert(mt_same(a3, m));
    cr_assert(mt_same(a5, m));
    cr_assert_eq(copies_of(a4, f, NULL), 1);
    /* Without a base there is no copy. */
    msd_mem_doc *n2 = mt_merge(NULL, l, r);
    cr_assert_eq(all_copies(n2), 0);
    cr_assert_eq(msd_mem_find(n2, f, &it), MSD_OK);
    cr_assert_str_eq(it.text, "right text");
    /* Different other fields: both kept ([MEM-24]), no copy. */
    msd_mem_doc *l2 = mt_clone(b), *r2 = mt_clone(b);
    cr_assert_eq(msd_mem_edit_fact(l2, f, NULL, MSD_CAT_TRAVEL, -1, mt_dev(7)), MSD_OK);
    cr_assert_eq(msd_mem_edit_fact(r2, f, NULL, 0, 1, mt_dev(4)), MSD_OK);
    msd_mem_doc *m3 = mt_merge(b, l2, r2);
    cr_assert_eq(all_copies(m3), 0);
    cr_assert_eq(msd_mem_find(m3, f, &it), MSD_OK);
    cr_assert_eq(it.categories, MSD_CAT_TRAVEL);
    cr_assert_eq(it.importance, 1);
    cr_assert_eq(memcmp(it.updated.device, mt_dev(7), 8), 0); /* (2, dev 7) is the later stamp */
    /* One side edits text to the other side's text: equal → no copy. */
    msd_mem_doc *l3 = mt_clone(b), *r3 = mt_clone(b);
    cr_assert_eq(msd_mem_edit_fact(l3, f, "same", 0, -1, mt_dev(2)), MSD_OK);
    cr_assert_eq(msd_mem_edit_fact(r3, f, "same", 0, 5, mt_dev(3)), MSD_OK);
    msd_mem_doc *m4 = mt_merge(b, l3, r3);
    cr_assert_eq(all_copies(m4), 0);
    /* Only one side changed the text: no copy, and the text edit is kept
     * although the other side's stamp (2, dev 3) is the later one. */
    msd_mem_doc *l4 = mt_clone(b), *r4 = mt_clone(b);
    cr_assert_eq(msd_mem_edit_fact(l4, f, "new", 0, -1, mt_dev(2)), MSD_OK);
    cr_assert_eq(msd_mem_edit_fact(r4, f, NULL, 0, 5, mt_dev(3)), MSD_OK);
    msd_mem_doc *m5 = mt_merge(b, l4, r4);
    cr_assert_eq(all_copies(m5), 0);
    cr_assert_eq(msd_mem_find(m5, f, &it), MSD_OK);
    cr_assert_str_eq(it.text, "new");
    cr_assert_eq(it.importance, 5);
    msd_mem_doc *docs[] = {b, l, r, m, m2, a1, a2, a3, a4, a5, n2, l2, r2, m3, l3, r3, m4, l4, r4, m5};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
}

/* A forgotten conflict copy stays forgotten when the conflict is merged again. */
Test(mem_merge, forgotten_copy_stays_forgotten)
{
    msd_mem_doc *b = mt_new();
    uint8_t f[16];
    mt_add(b, f, "base", 0, 1);
    msd_mem_doc *l = mt_clone(b), *r = mt_clone(b);
    cr_assert_eq(msd_mem_edit_fact(l, f, "L", 0, -1, mt_dev(2)), MSD_OK);
    cr_assert_eq(msd_mem_edit_fact(r, f, "R", 0, -1, mt_dev(3)), MSD_OK);
    msd_mem_doc *m = mt_merge(b, l, r);
    msd_mem_item copy;
    cr_assert_eq(copies_of(m, f, &copy), 1);
    uint8_t cid[16];
    memcpy(cid, copy.id, 16);
    cr_assert_eq(msd_mem_forget(m, cid, mt_dev(3)), MSD_OK);
    /* l never saw the merge and pushes again against the old base. */
    msd_mem_doc *again = mt_merge(b, l, m);
    cr_assert(msd_mem_is_forgotten(again, cid));
    cr_assert_eq(copies_of(again, f, NULL), 0);
    cr_assert(mt_same(again, m));
    /* And an edited copy keeps its edit. */
    msd_mem_doc *m2 = mt_merge(b, l, r);
    cr_assert_eq(msd_mem_edit_fact(m2, cid, "L, reworded", 0, -1, mt_dev(3)), MSD_OK);
    msd_mem_doc *again2 = mt_merge(b, l, m2);
    cr_assert(mt_same(again2, m2));
    msd_mem_doc *docs[] = {b, l, r, m, again, m2, again2};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
}

Test(mem_merge, absence_and_additions)
{
    msd_mem_doc *b = mt_new();
    uint8_t f[16], g[16], h[16];
    mt_add(b, f, "kept", 0, 1);
    msd_mem_doc *l = mt_clone(b), *r = mt_clone(b);
    mt_add(l, g, "added left", 0, 2);
    mt_add(r, h, "added right", 0, 3);
    msd_mem_doc *m = mt_merge(b, l, r);
    cr_assert_eq(msd_mem_count(m), 3);
    msd_mem_item it;
    cr_assert_eq(msd_mem_find(m, g, &it), MSD_OK);
    cr_assert_eq(msd_mem_find(m, h, &it), MSD_OK);
    /* [MEM-21]: a side that lacks a base item (no tombstone) has no opinion. */
    msd_mem_doc *empty = mt_new();
    msd_mem_doc *m2 = mt_merge(b, empty, r);
    cr_assert_eq(msd_mem_find(m2, f, &it), MSD_OK);
    cr_assert_eq(msd_mem_find(m2, h, &it), MSD_OK);
    msd_mem_doc *m3 = mt_merge(b, l, empty);
    cr_assert(mt_same(m3, l));
    /* Identity and NULL handling. */
    msd_mem_doc *o = (msd_mem_doc *)1;
    cr_assert_eq(msd_mem_merge3(&o, b, NULL, r), MSD_ERR_ARGS);
    cr_assert_null(o);
    cr_assert_eq(msd_mem_merge3(&o, b, l, NULL), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_merge3(NULL, b, l, r), MSD_ERR_ARGS);
    msd_mem_doc *docs[] = {b, l, r, m, empty, m2, m3};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
}

Test(mem_merge, top_level_unknown_keys)
{
    msd_mem_doc *b = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[],\"a\":1,\"b\":2,\"c\":3}");
    msd_mem_doc *l = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":5,\"items\":[],\"a\":10,\"b\":2,\"c\":30}");
    msd_mem_doc *r = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":4,\"items\":[],\"a\":1,\"c\":31,\"d\":4}");
    msd_mem_doc *m = mt_merge(b, l, r), *m2 = mt_merge(b, r, l);
    char *s = mt_bytes(m, NULL);
    /* a: only l changed; b: r lacks it (no opinion); c: both changed, l has
     * the higher clock; d: r added. */
    cr_assert_str_eq(s, "{\"a\":10,\"b\":2,\"c\":30,\"clock\":5,\"d\":4,\"format\":\"memsync.memory/1\",\"items\":[]}");
    cr_assert(mt_same(m, m2));
    free(s);
    msd_mem_doc *n = mt_merge(NULL, l, r);
    s = mt_bytes(n, NULL);
    cr_assert_str_eq(s, "{\"a\":10,\"b\":2,\"c\":30,\"clock\":5,\"d\":4,\"format\":\"memsync.memory/1\",\"items\":[]}");
    free(s);
    /* Equal clocks: the lower bytes. */
    msd_mem_doc *x = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":4,\"items\":[],\"c\":\"b\"}");
    msd_mem_doc *y = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":4,\"items\":[],\"c\":\"a\"}");
    msd_mem_doc *xy = mt_merge(NULL, x, y), *yx = mt_merge(NULL, y, x);
    cr_assert(mt_same(xy, yx));
    s = mt_bytes(xy, NULL);
    cr_assert(strstr(s, "\"c\":\"a\"") != NULL);
    free(s);
    msd_mem_doc *docs[] = {b, l, r, m, m2, n, x, y, xy, yx};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
}

/* ---------------------------------------------- field by field ([MEM-24]) */

/* A one-fact base: "base text", interests, importance 50, stamp (1, dev 1). */
static msd_mem_doc *fact_base(uint8_t f[16])
{
    msd_mem_doc *b = mt_new();
    mt_add(b, f, "base text", MSD_CAT_INTERESTS, 1);
    return b;
}

/* merge3(b, m, x) == m for each side x: merging the result again adds nothing. */
static void assert_stable(const msd_mem_doc *b, const msd_mem_doc *m, const msd_mem_doc *x, const msd_mem_doc *y)
{
    const msd_mem_doc *sides[2] = {x, y};
    for (int i = 0; i < 2; i++) {
        msd_mem_doc *s1 = mt_merge(b, m, sides[i]), *s2 = mt_merge(b, sides[i], m);
        cr_assert(mt_same(s1, m), "merge3(B,M,side %d) != M", i);
        cr_assert(mt_same(s2, m), "merge3(B,side %d,M) != M", i);
        msd_mem_free(s1);
        msd_mem_free(s2);
    }
}

/* Device A edits the text, device C the categories and importance of the
 * same fact: both edits are kept, in both merge orders and whichever stamp is
 * later, without a conflict copy; merge2 stays whole-item ([MEM-29]). */
Test(mem_merge, text_and_importance_edits_both_kept)
{
    for (int later = 0; later < 2; later++) { /* 1: the text edit has the later stamp */
        uint8_t f[16];
        msd_mem_doc *b = fact_base(f);
        msd_mem_doc *a = mt_clone(b), *c = mt_clone(b);
        cr_assert_eq(msd_mem_edit_fact(a, f, "text from A", 0, -1, mt_dev(later ? 3 : 2)), MSD_OK);
        cr_assert_eq(msd_mem_edit_fact(c, f, NULL, MSD_CAT_HEALTH, 90, mt_dev(later ? 2 : 3)), MSD_OK);
        msd_mem_doc *m1 = mt_merge(b, a, c), *m2 = mt_merge(b, c, a);
        cr_assert(mt_same(m1, m2), "later %d", later);
        msd_mem_item it;
        cr_assert_eq(msd_mem_find(m1, f, &it), MSD_OK);
        cr_assert_str_eq(it.text, "text from A", "later %d", later);
        cr_assert_eq(it.importance, 90, "later %d", later);
        cr_assert_eq(it.categories, MSD_CAT_HEALTH, "later %d", later);
        cr_assert_eq(all_copies(m1), 0);
        cr_assert_eq(msd_mem_count(m1), 1);
        cr_assert_eq(it.updated.counter, 2); /* t: the later stamp, (2, dev 3) */
        cr_assert_eq(memcmp(it.updated.device, mt_dev(3), 8), 0);
        cr_assert_eq(it.created.counter, 1); /* c: unchanged */
        cr_assert_eq(memcmp(it.created.device, mt_dev(1), 8), 0);
        assert_clock(m1, b, a, c);
        assert_stable(b, m1, a, c);
        /* Without a base nothing says which fields changed: the whole later version. */
        msd_mem_doc *n = mt_merge(NULL, a, c);
        cr_assert_eq(msd_mem_find(n, f, &it), MSD_OK);
        cr_assert_str_eq(it.text, later ? "text from A" : "base text");
        cr_assert_eq(it.importance, later ? 50 : 90);
        msd_mem_doc *docs[] = {b, a, c, m1, m2, n};
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
    }
}

/* Both change the text (and each one other field): the later text wins,
 * the other text is kept exactly once as a conflict copy (the losing
 * version whole), and each side's other field is kept. */
Test(mem_merge, text_edits_on_both_sides_one_copy)
{
    uint8_t f[16];
    msd_mem_doc *b = fact_base(f);
    msd_mem_doc *a = mt_clone(b), *c = mt_clone(b);
    cr_assert_eq(msd_mem_edit_fact(a, f, "A's text", 0, 10, mt_dev(3)), MSD_OK);            /* (2, dev 3): later */
    cr_assert_eq(msd_mem_edit_fact(c, f, "C's text", MSD_CAT_TRAVEL, -1, mt_dev(2)), MSD_OK); /* (2, dev 2) */
    msd_mem_doc *m1 = mt_merge(b, a, c), *m2 = mt_merge(b, c, a);
    cr_assert(mt_same(m1, m2));
    msd_mem_item it, copy;
    cr_assert_eq(msd_mem_find(m1, f, &it), MSD_OK);
    cr_assert_str_eq(it.text, "A's text");
    cr_assert_eq(it.importance, 10);
    cr_assert_eq(it.categories, MSD_CAT_TRAVEL);
    cr_assert_eq(memcmp(it.updated.device, mt_dev(3), 8), 0);
    cr_assert_eq(msd_mem_count(m1), 2);
    cr_assert_eq(copies_of(m1, f, &copy), 1);
    cr_assert_str_eq(copy.text, "C's text");
    cr_assert_eq(copy.categories, MSD_CAT_TRAVEL);
    cr_assert_eq(copy.importance, 50);
    cr_assert_eq(copy.updated.counter, 2);
    cr_assert_eq(memcmp(copy.updated.device, mt_dev(2), 8), 0);
    uint8_t in[48], h[32];
    memcpy(in, "memsync.conflict", 16);
    memcpy(in + 16, f, 16);
    memset(in + 32, 0, 8);
    in[39] = 2;
    memcpy(in + 40, mt_dev(2), 8);
    crypto_generichash(h, 32, in, 48, NULL, 0);
    cr_assert_eq(memcmp(copy.id, h, 16), 0);
    assert_stable(b, m1, a, c);
    msd_mem_doc *docs[] = {b, a, c, m1, m2};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
}

/* Both change the categories: the later stamp's categories, no copy; an
 * importance edit of one side alongside is kept. */
Test(mem_merge, category_edits_on_both_sides_later_wins)
{
    for (int later = 0; later < 2; later++) { /* 1: A's stamp is later */
        uint8_t f[16];
        msd_mem_doc *b = fact_base(f);
        msd_mem_doc *a = mt_clone(b), *c = mt_clone(b);
        cr_assert_eq(msd_mem_edit_fact(a, f, NULL, MSD_CAT_TRAVEL, 7, mt_dev(later ? 3 : 2)), MSD_OK);
        cr_assert_eq(msd_mem_edit_fact(c, f, NULL, MSD_CAT_HEALTH | MSD_CAT_CAREER, -1, mt_dev(later ? 2 : 3)),
                     MSD_OK);
        msd_mem_doc *m1 = mt_merge(b, a, c), *m2 = mt_merge(b, c, a);
        cr_assert(mt_same(m1, m2));
        msd_mem_item it;
        cr_assert_eq(msd_mem_find(m1, f, &it), MSD_OK);
        cr_assert_eq(it.categories, later ? MSD_CAT_TRAVEL : (uint32_t)(MSD_CAT_HEALTH | MSD_CAT_CAREER),
                     "later %d", later);
        cr_assert_eq(it.importance, 7);
        cr_assert_str_eq(it.text, "base text");
        cr_assert_eq(all_copies(m1), 0);
        assert_stable(b, m1, a, c);
        msd_mem_doc *docs[] = {b, a, c, m1, m2};
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
    }
}

#define FW_DOC(items) "{\"format\":\"memsync.memory/1\",\"clock\":3,\"items\":[" items "]}"
#define FW_ID4 "\"id\":\"44444444444444444444444444444444\""
#define FW_ID5 "\"id\":\"55555555555555555555555555555555\""
#define FW_ID6 "\"id\":\"66666666666666666666666666666666\""
#define FW_C ",\"c\":[1,\"0000000000000001\"]"

/* Unknown keys, src and type merge field by field too (absence is a state:
 * a key one side removed and the other left alone is removed), and so do
 * entities and relations, which never get a conflict copy. */
Test(mem_merge, unknown_keys_src_and_graph_items_field_wise)
{
    msd_mem_doc *b = mt_parse(FW_DOC(
        "{" FW_ID4 ",\"kind\":\"fact\",\"text\":\"base\",\"cat\":[\"identity\"],\"type\":\"semantic\",\"imp\":50" FW_C
        ",\"t\":[1,\"0000000000000001\"],\"x\":1,\"y\":\"keep\",\"z\":[1],\"src\":{\"kind\":\"self\"}},"
        "{" FW_ID5 ",\"kind\":\"entity\",\"text\":\"Ada\",\"etype\":\"person\"" FW_C ",\"t\":[1,\"0000000000000001\"]},"
        "{" FW_ID6 ",\"kind\":\"relation\",\"text\":\"knows\",\"from\":\"Ada\",\"to\":\"Bob\"" FW_C
        ",\"t\":[1,\"0000000000000001\"]}"));
    /* L (stamps (3, 2)): the fact's text, x, and a new key v; the entity's
     * name; the relation's from and type. */
    msd_mem_doc *l = mt_parse(FW_DOC(
        "{" FW_ID4 ",\"kind\":\"fact\",\"text\":\"left\",\"cat\":[\"identity\"],\"type\":\"semantic\",\"imp\":50" FW_C
        ",\"t\":[3,\"0000000000000002\"],\"x\":2,\"y\":\"keep\",\"z\":[1],\"v\":\"L\",\"src\":{\"kind\":\"self\"}},"
        "{" FW_ID5 ",\"kind\":\"entity\",\"text\":\"Ada L.\",\"etype\":\"person\"" FW_C ",\"t\":[3,\"0000000000000002\"]},"
        "{" FW_ID6 ",\"kind\":\"relation\",\"text\":\"likes\",\"from\":\"Ann\",\"to\":\"Bob\"" FW_C
        ",\"t\":[3,\"0000000000000002\"]}"));
    /* R (stamps (2, 3), earlier): the fact's importance, type, src, x, z,
     * removes y, adds w; the entity's type; the relation's to and type. */
    msd_mem_doc *r = mt_parse(FW_DOC(
        "{" FW_ID4 ",\"kind\":\"fact\",\"text\":\"base\",\"cat\":[\"identity\"],\"type\":\"episodic\",\"imp\":60" FW_C
        ",\"t\":[2,\"0000000000000003\"],\"x\":3,\"z\":[2],\"w\":true,\"src\":{\"kind\":\"import\",\"tool\":\"r\"}},"
        "{" FW_ID5 ",\"kind\":\"entity\",\"text\":\"Ada\",\"etype\":\"scientist\"" FW_C ",\"t\":[2,\"0000000000000003\"]},"
        "{" FW_ID6 ",\"kind\":\"relation\",\"text\":\"met\",\"from\":\"Ada\",\"to\":\"Cy\"" FW_C
        ",\"t\":[2,\"0000000000000003\"]}"));
    msd_mem_doc *m = mt_merge(b, l, r), *m2 = mt_merge(b, r, l);
    cr_assert(mt_same(m, m2));
    char *s = mt_bytes(m, NULL);
    cr_assert_str_eq(
        s, "{\"clock\":3,\"format\":\"memsync.memory/1\",\"items\":["
           "{\"c\":[1,\"0000000000000001\"],\"cat\":[\"identity\"],\"id\":\"44444444444444444444444444444444\",\"imp\":60,"
           "\"kind\":\"fact\",\"src\":{\"kind\":\"import\",\"tool\":\"r\"},\"t\":[3,\"0000000000000002\"],\"text\":\"left\","
           "\"type\":\"episodic\",\"v\":\"L\",\"w\":true,\"x\":2,\"z\":[2]},"
           "{\"c\":[1,\"0000000000000001\"],\"etype\":\"scientist\",\"id\":\"55555555555555555555555555555555\","
           "\"kind\":\"entity\",\"t\":[3,\"0000000000000002\"],\"text\":\"Ada L.\"},"
           "{\"c\":[1,\"0000000000000001\"],\"from\":\"Ann\",\"id\":\"66666666666666666666666666666666\","
           "\"kind\":\"relation\",\"t\":[3,\"0000000000000002\"],\"text\":\"likes\",\"to\":\"Cy\"}]}");
    free(s);
    assert_stable(b, m, l, r);
    msd_mem_doc *docs[] = {b, l, r, m, m2};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
}

/* Random versions of one fact: every key a fact may carry ([MEM-5]) and two
 * unknown keys, each changed or not on each side, with random stamps (equal
 * ones included). The merge must follow the rule key by key: a key one side
 * left as in the base has the other side's value (so no change of a field
 * that the other side left alone is ever lost); a key both changed has the
 * later side's value (either side's on equal stamps); t is the later stamp;
 * exactly one conflict copy, the losing version whole, iff both changed the
 * text to different texts. And it is symmetric and stable. */
#define FW_KEYS 9
static const char *const fw_key[FW_KEYS] = {"text", "cat", "type", "imp", "entity", "src", "of", "u1", "u2"};
static const char *const fw_val[FW_KEYS][4] = {
    {"\"alpha\"", "\"beta\"", "\"gamma\"", "\"delta\""},
    {"[\"identity\"]", "[\"career\"]", "[\"identity\",\"travel\"]", "[\"health\"]"},
    {"\"semantic\"", "\"episodic\"", "\"semantic\"", "\"episodic\""},
    {"5", "50", "77", "100"},
    {NULL, "\"Ada\"", "\"Bob\"", NULL},
    {NULL, "{\"kind\":\"self\"}", "{\"kind\":\"import\",\"tool\":\"x\"}", "{\"tool\":\"y\",\"q\":1,\"kind\":\"self\"}"},
    {NULL, "\"abababababababababababababababab\"", NULL, "\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\""},
    {NULL, "1", "[true,{\"a\":null}]", "\"s\""},
    {NULL, "{}", "-7", "\"s\""},
};
#define FW_X "77777777777777777777777777777777"

typedef struct fw_version {
    int v[FW_KEYS];
    uint64_t counter;
    unsigned dev;
} fw_version;

static char *fw_doc(const fw_version *x)
{
    char *s = malloc(2048);
    cr_assert_not_null(s);
    int n = snprintf(s, 2048,
                     "{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[{\"id\":\"" FW_X
                     "\",\"kind\":\"fact\",\"c\":[1,\"0000000000000001\"],\"t\":[%" PRIu64 ",\"000000000000000%u\"]",
                     x->counter, x->dev);
    for (int k = 0; k < FW_KEYS; k++)
        if (fw_val[k][x->v[k]] != NULL) n += snprintf(s + n, 2048 - (size_t)n, ",\"%s\":%s", fw_key[k], fw_val[k][x->v[k]]);
    snprintf(s + n, 2048 - (size_t)n, "}]}");
    return s;
}

/* The JSON value of key k in version x (NULL when absent; caller decrefs). */
static json_t *fw_json(const fw_version *x, int k)
{
    const char *t = fw_val[k][x->v[k]];
    return t == NULL ? NULL : json_loads(t, JSON_DECODE_ANY, NULL);
}

static int fw_eq(const json_t *a, const json_t *b)
{
    return a == NULL || b == NULL ? a == b : json_equal(a, b);
}

/* The item of id in a serialised document, and the number of other items. */
static json_t *fw_item(json_t *doc, const char *id, json_t **other, size_t *n_other)
{
    json_t *items = json_object_get(doc, "items"), *found = NULL, *o;
    size_t i;
    *n_other = 0;
    json_array_foreach(items, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0) {
            found = o;
        } else {
            (*n_other)++;
            *other = o;
        }
    }
    cr_assert_not_null(found);
    return found;
}

Test(mem_merge, field_wise_model)
{
    uint64_t seed = mt_seed("mem_merge.field_wise_model"), st = seed;
    size_t copies = 0, ties = 0;
    for (int iter = 0; iter < 400; iter++) {
        fw_version vb, vl, vr;
        for (int k = 0; k < FW_KEYS; k++) {
            vb.v[k] = (int)mt_below(&st, 4);
            vl.v[k] = mt_below(&st, 2) ? vb.v[k] : (int)mt_below(&st, 4);
            vr.v[k] = mt_below(&st, 2) ? vb.v[k] : (int)mt_below(&st, 4);
        }
        vb.counter = 1;
        vb.dev = 1;
        vl.counter = 2 + mt_below(&st, 2);
        vl.dev = 2 + mt_below(&st, 2);
        vr.counter = 2 + mt_below(&st, 2);
        vr.dev = 2 + mt_below(&st, 2);
        const int later = vl.counter != vr.counter ? (vl.counter > vr.counter ? 1 : -1)
                                                   : (vl.dev != vr.dev ? (vl.dev > vr.dev ? 1 : -1) : 0);
        ties += later == 0;
        char *sb = fw_doc(&vb), *sl = fw_doc(&vl), *sr = fw_doc(&vr);
        msd_mem_doc *b = mt_parse(sb), *l = mt_parse(sl), *r = mt_parse(sr);
        msd_mem_doc *m = mt_merge(b, l, r), *m2 = mt_merge(b, r, l);
        assert_same(m, m2, "merge3(B,L,R) == merge3(B,R,L)", seed, iter);
        assert_stable(b, m, l, r);
        char *sm = mt_bytes(m, NULL);
        json_t *jm = json_loads(sm, 0, NULL);
        cr_assert_not_null(jm);
        json_t *other = NULL;
        size_t n_other = 0;
        json_t *mi = fw_item(jm, FW_X, &other, &n_other);
        for (int k = 0; k < FW_KEYS; k++) {
            json_t *jb = fw_json(&vb, k), *jl = fw_json(&vl, k), *jr = fw_json(&vr, k);
            const json_t *got = json_object_get(mi, fw_key[k]);
            if (fw_eq(jl, jb))
                cr_assert(fw_eq(got, jr), "%s: only R changed it (seed %" PRIu64 ", iteration %d)\n%s\n%s\n%s\n%s",
                          fw_key[k], seed, iter, sb, sl, sr, sm);
            else if (fw_eq(jr, jb))
                cr_assert(fw_eq(got, jl), "%s: only L changed it (seed %" PRIu64 ", iteration %d)\n%s\n%s\n%s\n%s",
                          fw_key[k], seed, iter, sb, sl, sr, sm);
            else if (later != 0)
                cr_assert(fw_eq(got, later > 0 ? jl : jr), "%s: both changed it (seed %" PRIu64 ", iteration %d)\n%s",
                          fw_key[k], seed, iter, sm);
            else
                cr_assert(fw_eq(got, jl) || fw_eq(got, jr), "%s: tie (seed %" PRIu64 ", iteration %d)", fw_key[k], seed,
                          iter);
            json_decref(jb);
            json_decref(jl);
            json_decref(jr);
        }
        /* t is the later stamp; c is unchanged. */
        const fw_version *w = later >= 0 ? &vl : &vr;
        json_t *t = json_object_get(mi, "t");
        cr_assert_eq((uint64_t)json_integer_value(json_array_get(t, 0)), w->counter);
        cr_assert_eq(json_string_value(json_array_get(t, 1))[15] - '0', (int)w->dev);
        cr_assert_str_eq(json_string_value(json_array_get(json_object_get(mi, "c"), 1)), "0000000000000001");
        /* Exactly one copy iff both changed the text to different texts:
         * the version whose text lost, whole, plus "of". */
        const int conflict = vl.v[0] != vb.v[0] && vr.v[0] != vb.v[0] && vl.v[0] != vr.v[0];
        cr_assert_eq(n_other, (size_t)conflict, "seed %" PRIu64 ", iteration %d\n%s", seed, iter, sm);
        if (conflict) {
            copies++;
            json_t *lt = fw_json(&vl, 0);
            const int l_lost = !json_equal(json_object_get(mi, "text"), lt);
            json_decref(lt);
            if (later != 0) cr_assert_eq(l_lost, later < 0);
            char *sx = l_lost ? sl : sr;
            json_t *jx = json_loads(sx, 0, NULL);
            json_t *want = json_deep_copy(json_array_get(json_object_get(jx, "items"), 0));
            json_object_set_new(want, "id", json_string(json_string_value(json_object_get(other, "id"))));
            json_object_set_new(want, "of", json_string(FW_X));
            cr_assert(json_equal(want, other), "copy (seed %" PRIu64 ", iteration %d)\n%s", seed, iter, sm);
            json_decref(want);
            json_decref(jx);
        }
        json_decref(jm);
        free(sm);
        free(sb);
        free(sl);
        free(sr);
        msd_mem_doc *docs[] = {b, l, r, m, m2};
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) msd_mem_free(docs[i]);
    }
    fprintf(stderr, "field_wise_model: %zu conflict copies, %zu equal stamps\n", copies, ties);
    cr_assert_gt(copies, 0);
    cr_assert_gt(ties, 0);
}

/* ---------------------------------------------------------- properties */

Test(mem_merge, symmetry_identity_clock)
{
    uint64_t seed = mt_seed("mem_merge.symmetry_identity_clock"), st = seed;
    size_t copies = 0;
    for (int i = 0; i < ITER; i++) {
        msd_mem_doc *b = seed_doc(&st, mt_below(&st, 12));
        msd_mem_doc *l = derive(b, &st, 1, mt_below(&st, 8)), *r = derive(b, &st, 2, mt_below(&st, 8));
        /* Often a forced conflict: both sides edit one base fact (text, or
         * one of them forgets it). */
        if (mt_below(&st, 2) && msd_mem_count(b) > 0) {
            msd_mem_item it;
            cr_assert_eq(msd_mem_item_at(b, mt_below(&st, (unsigned)msd_mem_count(b)), &it), MSD_OK);
            uint8_t id[16];
            memcpy(id, it.id, 16);
            if (it.kind == MSD_MEM_FACT && msd_mem_find(l, id, &it) == MSD_OK && msd_mem_find(r, id, &it) == MSD_OK) {
                const unsigned how = mt_below(&st, 4);
                cr_assert_eq(msd_mem_edit_fact(l, id, "left's version", 0, -1, mt_dev(1)), MSD_OK);
                if (how == 0)
                    cr_assert_eq(msd_mem_forget(r, id, mt_dev(2)), MSD_OK);
                else
                    cr_assert_eq(msd_mem_edit_fact(r, id, how == 1 ? "left's version" : "right's version", 0, -1,
                                                   mt_dev(2)),
                                 MSD_OK);
            }
        }
        /* Sometimes the same stamps on both sides: device 1 on both. */
        if (mt_below(&st, 8) == 0) {
            msd_mem_free(r);
            r = derive(b, &st, 1, 1 + mt_below(&st, 4));
        }
        msd_mem_doc *m = mt_merge(b, l, r), *m2 = mt_merge(b, r, l);
        assert_same(m, m2, "merge3(B,L,R) == merge3(B,R,L)", seed, i);
        copies += all_copies(m) - all_copies(b);
        assert_clock(m, b, l, r);
        msd_mem_doc *n1 = mt_merge(NULL, l, r), *n2 = mt_merge(NULL, r, l);
        assert_same(n1, n2, "merge2 commutative", seed, i);
        assert_clock(n1, NULL, l, r);
        msd_mem_doc *i1 = mt_merge(b, l, b), *i2 = mt_merge(b, b, l), *i3 = mt_merge(b, l, l), *i4 = mt_merge(NULL, l, l);
        assert_same(i1, l, "merge3(B,X,B) == X", seed, i);
        assert_same(i2, l, "merge3(B,B,X) == X", seed, i);
        assert_same(i3, l, "merge3(B,X,X) == X", seed, i);
        assert_same(i4, l, "merge2(X,X) == X", seed, i);
        /* The merge is stable: merging its result with either side adds nothing. */
        msd_mem_doc *s1 = mt_merge(b, m, l), *s2 = mt_merge(b, m, r);
        assert_same(s1, m, "merge3(B,M,L) == M", seed, i);
        assert_same(s2, m, "merge3(B,M,R) == M", seed, i);
        /* The result round-trips and keeps the unknown keys. */
        char *x = mt_bytes(m, NULL);
        msd_mem_doc *p = mt_parse(x);
        assert_same(p, m, "parse(serialize(M)) == M", seed, i);
        cr_assert(strstr(x, "\"x-top\":{\"v\":1}") != NULL);
        uint8_t seed_id[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                               0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
        msd_mem_item it;
        if (msd_mem_find(m, seed_id, &it) == MSD_OK) cr_assert(strstr(x, "\"zz\":{\"keep\":[1,2]}") != NULL, "%s", x);
        free(x);
        msd_mem_doc *docs[] = {b, l, r, m, m2, n1, n2, i1, i2, i3, i4, s1, s2, p};
        for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) msd_mem_free(docs[k]);
    }
    fprintf(stderr, "symmetry: %zu conflict copies\n", copies);
    /* The logs are dense enough that text conflicts happen (else the
     * properties above would say little about rule 4). */
    cr_assert_gt(copies, 0, "seed %" PRIu64, seed);
}

Test(mem_merge, merge2_semilattice)
{
    uint64_t seed = mt_seed("mem_merge.merge2_semilattice"), st = seed;
    for (int i = 0; i < ITER; i++) {
        msd_mem_doc *b = seed_doc(&st, mt_below(&st, 10));
        msd_mem_doc *x = derive(b, &st, 1, mt_below(&st, 8)), *y = derive(b, &st, 2, mt_below(&st, 8)),
                    *z = derive(b, &st, 3, mt_below(&st, 8));
        /* Some history in common beyond b. */
        if (mt_below(&st, 2)) {
            msd_mem_doc *t = mt_merge(NULL, x, y);
            msd_mem_free(y);
            y = derive(t, &st, 2, mt_below(&st, 5));
            msd_mem_free(t);
        }
        msd_mem_doc *xy = mt_merge(NULL, x, y), *yz = mt_merge(NULL, y, z);
        msd_mem_doc *l = mt_merge(NULL, xy, z), *r = mt_merge(NULL, x, yz);
        assert_same(l, r, "merge2 associative", seed, i);
        msd_mem_doc *yx = mt_merge(NULL, y, x), *xx = mt_merge(NULL, x, x);
        assert_same(xy, yx, "merge2 commutative", seed, i);
        assert_same(xx, x, "merge2 idempotent", seed, i);
        msd_mem_doc *xyx = mt_merge(NULL, xy, x);
        assert_same(xyx, xy, "merge2 absorbs", seed, i);
        /* Tombstones win: every id forgotten in an input is forgotten in the result. */
        const msd_mem_doc *in[3] = {x, y, z};
        for (int k = 0; k < 3; k++) {
            char *s = mt_bytes(in[k], NULL);
            for (char *p = strstr(s, "{\"del\":1,\"id\":\""); p != NULL; p = strstr(p + 1, "{\"del\":1,\"id\":\"")) {
                uint8_t id[16];
                for (int j = 0; j < 16; j++) {
                    unsigned v;
                    cr_assert_eq(sscanf(p + 15 + 2 * j, "%2x", &v), 1);
                    id[j] = (uint8_t)v;
                }
                cr_assert(msd_mem_is_forgotten(l, id));
            }
            free(s);
        }
        msd_mem_doc *docs[] = {b, x, y, z, xy, yz, l, r, yx, xx, xyx};
        for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) msd_mem_free(docs[k]);
    }
}

/* --------------------------------------------------- device simulation */

#define MAXDEV 3
#define MAXIDS 4096

typedef struct sim {
    msd_mem_doc *head;                 /* the store (chain or file): compare-and-swap of whole versions */
    msd_mem_doc *base[MAXDEV], *local[MAXDEV];
    uint8_t added[MAXIDS][16];         /* every fact ever added */
    size_t n_added;
    uint8_t forgotten[MAXIDS][16];     /* every id ever forgotten */
    size_t n_forgotten;
} sim;

/* Note the ids that a change on local added or forgot (by diffing). */
static void track(sim *s, const msd_mem_doc *before, const msd_mem_doc *after)
{
    msd_mem_item it;
    for (size_t i = 0; i < msd_mem_count(after); i++) {
        cr_assert_eq(msd_mem_item_at(after, i, &it), MSD_OK);
        msd_mem_item old;
        if (msd_mem_find(before, it.id, &old) != MSD_OK && !msd_mem_is_forgotten(before, it.id) && !it.has_conflict_of &&
            s->n_added < MAXIDS)
            memcpy(s->added[s->n_added++], it.id, 16);
    }
    for (size_t i = 0; i < msd_mem_count(before); i++) {
        cr_assert_eq(msd_mem_item_at(before, i, &it), MSD_OK);
        if (msd_mem_is_forgotten(after, it.id) && s->n_forgotten < MAXIDS)
            memcpy(s->forgotten[s->n_forgotten++], it.id, 16);
    }
}

/* Device d syncs: push if nobody pushed since its base, else merge3 and push. */
static void sync_dev(sim *s, int d)
{
    msd_mem_doc *next;
    if (mt_same(s->head, s->base[d])) {
        next = mt_clone(s->local[d]);
    } else {
        next = mt_merge(s->base[d], s->local[d], s->head);
        assert_clock(next, s->base[d], s->local[d], s->head);
    }
    /* A forgotten id never comes back: the store keeps every tombstone it had. */
    for (size_t i = 0; i < s->n_forgotten; i++)
        if (msd_mem_is_forgotten(s->head, s->forgotten[i])) cr_assert(msd_mem_is_forgotten(next, s->forgotten[i]));
    msd_mem_free(s->head);
    msd_mem_free(s->base[d]);
    msd_mem_free(s->local[d]);
    s->head = next;
    s->base[d] = mt_clone(next);
    s->local[d] = mt_clone(next);
}

static void run_sim(int ndev, uint64_t seed, int iter, uint64_t *st)
{
    sim *s = calloc(1, sizeof *s);
    s->head = seed_doc(st, mt_below(st, 6));
    for (int d = 0; d < ndev; d++) {
        s->base[d] = mt_clone(s->head);
        s->local[d] = mt_clone(s->head);
    }
    const unsigned steps = 10 + mt_below(st, 40);
    for (unsigned k = 0; k < steps; k++) {
        const int d = (int)mt_below(st, (unsigned)ndev);
        if (mt_below(st, 3) == 0) {
            sync_dev(s, d);
        } else {
            msd_mem_doc *before = mt_clone(s->local[d]);
            random_op(s->local[d], st, (unsigned)d);
            track(s, before, s->local[d]);
            msd_mem_free(before);
        }
    }
    /* Everyone syncs, in a random order, twice. */
    for (int round = 0; round < 2; round++) {
        int order[MAXDEV] = {0, 1, 2};
        for (int i = ndev - 1; i > 0; i--) {
            const int j = (int)mt_below(st, (unsigned)i + 1);
            const int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < ndev; i++) sync_dev(s, order[i]);
    }
    for (int d = 0; d < ndev; d++) assert_same(s->local[d], s->head, "convergence", seed, iter);
    for (size_t i = 0; i < s->n_forgotten; i++) cr_assert(msd_mem_is_forgotten(s->head, s->forgotten[i]));
    /* Every fact added and not forgotten is there. */
    for (size_t i = 0; i < s->n_added; i++) {
        int forgotten = 0;
        for (size_t j = 0; j < s->n_forgotten && !forgotten; j++)
            forgotten = memcmp(s->added[i], s->forgotten[j], 16) == 0;
        msd_mem_item it;
        if (!forgotten)
            cr_assert_eq(msd_mem_find(s->head, s->added[i], &it), MSD_OK, "seed %" PRIu64 " iteration %d", seed, iter);
    }
    /* The unknown top-level key survived every merge. */
    char *x = mt_bytes(s->head, NULL);
    cr_assert(strstr(x, "\"x-top\":{\"v\":1}") != NULL);
    free(x);
    msd_mem_free(s->head);
    for (int d = 0; d < ndev; d++) {
        msd_mem_free(s->base[d]);
        msd_mem_free(s->local[d]);
    }
    free(s);
}

Test(mem_merge, convergence_two_devices)
{
    uint64_t seed = mt_seed("mem_merge.convergence_two_devices"), st = seed;
    for (int i = 0; i < ITER; i++) run_sim(2, seed, i, &st);
}

Test(mem_merge, convergence_three_devices)
{
    uint64_t seed = mt_seed("mem_merge.convergence_three_devices"), st = seed;
    for (int i = 0; i < ITER; i++) run_sim(3, seed, i, &st);
}

/* Peer to peer without bases: random pairwise merge2 until everyone has
 * seen everyone; all end with the same bytes. */
Test(mem_merge, gossip_merge2_converges)
{
    uint64_t seed = mt_seed("mem_merge.gossip_merge2_converges"), st = seed;
    for (int i = 0; i < ITER / 3; i++) {
        msd_mem_doc *p[MAXDEV];
        msd_mem_doc *b = seed_doc(&st, mt_below(&st, 6));
        for (int d = 0; d < MAXDEV; d++) p[d] = derive(b, &st, (unsigned)d, mt_below(&st, 10));
        for (int k = 0; k < 12; k++) {
            const int a = (int)mt_below(&st, MAXDEV), c = (int)mt_below(&st, MAXDEV);
            msd_mem_doc *m = mt_merge(NULL, p[a], p[c]);
            msd_mem_free(p[a]);
            p[a] = m;
            if (mt_below(&st, 2)) random_op(p[a], &st, (unsigned)a);
        }
        /* Final rounds: a ring twice. */
        for (int k = 0; k < 2 * MAXDEV; k++) {
            const int a = k % MAXDEV, c = (k + 1) % MAXDEV;
            msd_mem_doc *m = mt_merge(NULL, p[a], p[c]);
            msd_mem_free(p[c]);
            p[c] = m;
        }
        for (int d = 1; d < MAXDEV; d++) assert_same(p[0], p[d], "gossip convergence", seed, i);
        msd_mem_free(b);
        for (int d = 0; d < MAXDEV; d++) msd_mem_free(p[d]);
    }
}

/* [MEM-35]: the conflict-copy id of spec/memory.md §4, from documents. */
Test(mem_merge, conflict_copy_known_answer)
{
#define D3(text, t, dev)                                                                                               \
    "{\"format\":\"memsync.memory/1\",\"clock\":3,\"items\":[{\"id\":\"22222222222222222222222222222222\","        \
    "\"kind\":\"fact\",\"text\":\"" text "\",\"cat\":[\"identity\"],\"type\":\"semantic\",\"imp\":50,"                \
    "\"c\":[1,\"0102030405060708\"],\"t\":[" t ",\"" dev "\"]}]}"
    msd_mem_doc *b = mt_parse(D3("base", "1", "0102030405060708"));
    msd_mem_doc *l = mt_parse(D3("left", "3", "0102030405060708"));
    msd_mem_doc *r = mt_parse(D3("right", "3", "0102030405060709"));
#undef D3
    msd_mem_doc *m = mt_merge(b, l, r);
    char *s = mt_bytes(m, NULL);
    cr_assert_str_eq(s, "{\"clock\":3,\"format\":\"memsync.memory/1\",\"items\":["
                        "{\"c\":[1,\"0102030405060708\"],\"cat\":[\"identity\"],\"id\":\"22222222222222222222222222222222\","
                        "\"imp\":50,\"kind\":\"fact\",\"t\":[3,\"0102030405060709\"],\"text\":\"right\",\"type\":\"semantic\"},"
                        "{\"c\":[1,\"0102030405060708\"],\"cat\":[\"identity\"],\"id\":\"b81558ec2f3effe21055b9c463d5f402\","
                        "\"imp\":50,\"kind\":\"fact\",\"of\":\"22222222222222222222222222222222\","
                        "\"t\":[3,\"0102030405060708\"],\"text\":\"left\",\"type\":\"semantic\"}]}");
    free(s);
    msd_mem_free(b);
    msd_mem_free(l);
    msd_mem_free(r);
    msd_mem_free(m);
}
