/* msd_mem_search: BM25 against hand-computed scores, tie-breaks, filters
 * (private above all), the listing order, UTF-8 tokens, determinism and
 * speed at 5,000 facts (spec/memory-search.md §1-§2). */

#include "fixture.h"

TestSuite(search, .init = mt_init);

/* The known corpus: every fact in identity (its name is a token too). */
static const char *const CORPUS[] = {
    "I like green tea",          /* d1 */
    "Tea tea TEA every morning", /* d2 */
    "Coffee is better than tea", /* d3 */
    "Green garden",              /* d4 */
    "Walks in the park",         /* d5 */
};
#define NC (sizeof CORPUS / sizeof CORPUS[0])

static msd_mem_doc *corpus(uint8_t ids[NC][MSD_MEM_ID_SIZE])
{
    msd_mem_doc *d = mt_new();
    for (size_t i = 0; i < NC; i++) fx_fact(d, ids[i], CORPUS[i], MSD_CAT_IDENTITY, 50, 0, 1);
    return d;
}

static size_t search(const msd_mem_doc *d, const char *q, const msd_mem_filter *f, msd_mem_hit *hits, size_t cap)
{
    size_t n = 99;
    cr_assert_eq(msd_mem_search(hits, cap, &n, d, q, f), MSD_OK, "search %s", q);
    return n;
}

/* Index (0-based) of the corpus fact with this id. */
static size_t which(uint8_t ids[NC][MSD_MEM_ID_SIZE], const uint8_t *id)
{
    for (size_t i = 0; i < NC; i++)
        if (memcmp(ids[i], id, MSD_MEM_ID_SIZE) == 0) return i;
    cr_assert_fail("unknown id");
    return NC;
}

typedef struct expect_hit {
    size_t doc; /* 1-based, as d1..d5 */
    double score;
} expect_hit;

static void check(const char *q, const expect_hit *want, size_t nwant)
{
    uint8_t ids[NC][MSD_MEM_ID_SIZE];
    msd_mem_doc *d = corpus(ids);
    msd_mem_hit hits[NC];
    size_t n = search(d, q, NULL, hits, NC);
    cr_assert_eq(n, nwant, "%s: %zu hits, expected %zu", q, n, nwant);
    for (size_t i = 0; i < n; i++) {
        double diff = hits[i].score - want[i].score;
        cr_assert(diff < 1e-12 && diff > -1e-12, "%s: hit %zu score %.17g, expected %.17g", q, i, hits[i].score,
                  want[i].score);
        /* The document: exactly, or any of those tied with it (ties are
         * checked to be in id order). */
        const size_t got = which(ids, hits[i].id) + 1;
        int ok = 0;
        for (size_t j = 0; j < nwant; j++) ok |= want[j].score == want[i].score && want[j].doc == got;
        cr_assert(ok, "%s: hit %zu is d%zu", q, i, got);
        if (i > 0 && want[i].score == want[i - 1].score) {
            cr_assert_eq(hits[i].score, hits[i - 1].score, "%s: a tie must be exact", q);
            cr_assert_lt(memcmp(hits[i - 1].id, hits[i].id, MSD_MEM_ID_SIZE), 0, "%s: tie not by id", q);
        }
    }
    msd_mem_free(d);
}

/* Scores computed independently (Python, the formulas of [MSR-4]/[MSR-5],
 * k1 1.2, b 0.75, IDF ln(1 + (N - n + 0.5)/(n + 0.5)), lengths counting the
 * category name "identity"). */
Test(search, bm25_hand_computed) /* [MSR-4], [MSR-5] */
{
    const expect_hit green_tea[] = {
        {1, 1.414465238086587}, {4, 1.0467560990100977}, {2, 0.8121865079533642}, {3, 0.4982320595008033}};
    check("green tea", green_tea, 4);
    const expect_hit tea[] = {{2, 0.8121865079533642}, {1, 0.5389965007326871}, {3, 0.4982320595008033}};
    check("Tea", tea, 3);
    check("  TEA?! ", tea, 3);
    /* A repeated query term counts once. */
    const expect_hit garden[] = {{4, 2.704281965566489}, {1, 0.8754687373538999}};
    check("GREEN green garden", garden, 2);
    const expect_hit cat[] = {{4, 0.10403534205281814}, {1, 0.0870113769896297}, {5, 0.0870113769896297},
                              {2, 0.08043068461226276}, {3, 0.08043068461226276}};
    check("identity", cat, 5);
    const expect_hit tie[] = {{2, 1.28144856910242}, {3, 1.28144856910242}};
    check("morning coffee", tie, 2);
    check("absent words", NULL, 0);
}

Test(search, equal_texts_tie_by_id) /* [MSR-6] */
{
    msd_mem_doc *d = mt_new();
    for (int i = 0; i < 8; i++) fx_fact(d, NULL, "same words here", MSD_CAT_IDENTITY, 50, 0, (unsigned)i);
    fx_fact(d, NULL, "other", MSD_CAT_IDENTITY, 50, 0, 1);
    msd_mem_hit hits[10];
    size_t n = search(d, "words", NULL, hits, 10);
    cr_assert_eq(n, 8);
    for (size_t i = 1; i < n; i++) {
        cr_assert_eq(hits[i].score, hits[0].score);
        cr_assert_lt(memcmp(hits[i - 1].id, hits[i].id, MSD_MEM_ID_SIZE), 0);
    }
    /* cap cuts the ranked list. */
    msd_mem_hit top[3];
    cr_assert_eq(search(d, "words", NULL, top, 3), 3);
    cr_assert(memcmp(top, hits, sizeof top) == 0);
    cr_assert_eq(search(d, "words", NULL, NULL, 0), 0);
    msd_mem_free(d);
}

Test(search, private_never_without_the_flag) /* [MSR-7], [MSR-70] */
{
    msd_mem_doc *d = mt_new(), *pub = mt_new();
    uint8_t secret[MSD_MEM_ID_SIZE];
    fx_fact(d, NULL, "Blood type is O negative", MSD_CAT_HEALTH, 50, 0, 1);
    fx_fact(pub, NULL, "Blood type is O negative", MSD_CAT_HEALTH, 50, 0, 1);
    fx_fact(d, secret, "Blood test results: type 2 diabetes", MSD_CAT_HEALTH | MSD_CAT_PRIVATE, 90, 0, 1);
    fx_fact(d, NULL, "Private bank PIN blood", MSD_CAT_PRIVATE, 90, 1, 1);
    msd_mem_hit hits[5], ph[5];
    size_t n = search(d, "blood type", NULL, hits, 5);
    cr_assert_eq(n, 1);
    /* Filtered first: the private facts do not even move the score. */
    cr_assert_eq(search(pub, "blood type", NULL, ph, 5), 1);
    cr_assert_eq(hits[0].score, ph[0].score);
    cr_assert_eq(search(d, "", NULL, hits, 5), 1, "a listing hides private facts too");
    cr_assert_eq(search(d, "private", NULL, hits, 5), 0, "the category name does not find them");
    const msd_mem_filter cats = {MSD_CAT_PRIVATE, 0, 0, 0};
    cr_assert_eq(search(d, "blood", &cats, hits, 5), 0, "asking for the category is not consent");
    const msd_mem_filter with = {0, 0, 1, 0};
    cr_assert_eq(search(d, "blood type", &with, hits, 5), 3);
    int found = 0;
    for (size_t i = 0; i < 3; i++) found |= memcmp(hits[i].id, secret, MSD_MEM_ID_SIZE) == 0;
    cr_assert(found);
    msd_mem_free(d);
    msd_mem_free(pub);
}

Test(search, filters_and_graph_items) /* [MSR-2], [MSR-7] */
{
    msd_mem_doc *d = mt_new();
    uint8_t career[MSD_MEM_ID_SIZE], trip[MSD_MEM_ID_SIZE];
    fx_fact(d, career, "Works on the Rust compiler", MSD_CAT_CAREER, 50, 0, 1);
    msd_mem_fact_in in;
    memset(&in, 0, sizeof in);
    in.text = "Rust conference trip in May";
    in.categories = MSD_CAT_TRAVEL;
    in.type = MSD_MEM_EPISODIC;
    in.importance = 50;
    cr_assert_eq(msd_mem_add_fact(d, trip, &in, mt_dev(1)), MSD_OK);
    cr_assert_eq(msd_mem_graph_add_entity(d, "Rustacean_Station", "podcast", NULL, 0, mt_dev(1), NULL), MSD_OK);
    cr_assert_eq(msd_mem_graph_add_entity(d, "Ferris", "mascot", NULL, 0, mt_dev(1), NULL), MSD_OK);
    cr_assert_eq(msd_mem_graph_add_observation(d, "Ferris", "Is a crab", NULL, 0, mt_dev(1), NULL), MSD_OK);
    cr_assert_eq(msd_mem_graph_add_relation(d, "Ferris", "Rustacean_Station", "appears_on", NULL, 0, mt_dev(1), NULL),
                 MSD_OK);
    msd_mem_hit hits[8];
    cr_assert_eq(search(d, "rust", NULL, hits, 8), 2);
    const msd_mem_filter c = {MSD_CAT_CAREER | MSD_CAT_HEALTH, 0, 0, 0};
    cr_assert_eq(search(d, "rust", &c, hits, 8), 1);
    cr_assert(memcmp(hits[0].id, career, MSD_MEM_ID_SIZE) == 0);
    const msd_mem_filter t = {0, MSD_MEM_EPISODIC, 0, 0};
    cr_assert_eq(search(d, "rust", &t, hits, 8), 1);
    cr_assert(memcmp(hits[0].id, trip, MSD_MEM_ID_SIZE) == 0);
    /* Entity type, entity name of an observation, relation type and ends. */
    msd_mem_item it;
    cr_assert_eq(search(d, "mascot", NULL, hits, 8), 1);
    cr_assert_eq(msd_mem_find(d, hits[0].id, &it), MSD_OK);
    cr_assert_eq(it.kind, MSD_MEM_ENTITY);
    cr_assert_eq(search(d, "crab ferris", NULL, hits, 8), 3); /* observation, entity, relation */
    cr_assert_eq(msd_mem_find(d, hits[0].id, &it), MSD_OK);
    cr_assert_str_eq(it.text, "Is a crab");
    cr_assert_eq(search(d, "appears", NULL, hits, 8), 1);
    cr_assert_eq(search(d, "station", NULL, hits, 8), 2);
    const msd_mem_filter fo = {0, 0, 0, 1};
    cr_assert_eq(search(d, "station ferris crab", &fo, hits, 8), 1);
    cr_assert_eq(search(d, "travel", NULL, hits, 8), 1, "category names are indexed");
    msd_mem_free(d);
}

Test(search, listing_newest_first) /* [MSR-8] */
{
    msd_mem_doc *d = mt_new();
    uint8_t a[MSD_MEM_ID_SIZE], b[MSD_MEM_ID_SIZE], c[MSD_MEM_ID_SIZE];
    fx_fact(d, a, "first", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(d, b, "second", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(d, c, "third", MSD_CAT_IDENTITY, 50, 0, 1);
    cr_assert_eq(msd_mem_edit_fact(d, a, "first, edited", 0, -1, mt_dev(1)), MSD_OK);
    msd_mem_hit hits[4];
    const char *const queries[] = {"", "   ", "?!-", "\xe2\x80\x94"};
    for (size_t q = 0; q < 3; q++) {
        cr_assert_eq(search(d, queries[q], NULL, hits, 4), 3);
        cr_assert(memcmp(hits[0].id, a, MSD_MEM_ID_SIZE) == 0);
        cr_assert(memcmp(hits[1].id, c, MSD_MEM_ID_SIZE) == 0);
        cr_assert(memcmp(hits[2].id, b, MSD_MEM_ID_SIZE) == 0);
        cr_assert_eq(hits[0].score, 0.0);
    }
    /* An em dash is three bytes >= 0x80: a token, found nowhere. */
    cr_assert_eq(search(d, queries[3], NULL, hits, 4), 0);
    msd_mem_free(d);
}

Test(search, utf8_tokens) /* [MSR-1] */
{
    msd_mem_doc *d = mt_new();
    fx_fact(d, NULL, "Café in São Paulo", MSD_CAT_TRAVEL, 50, 0, 1);
    fx_fact(d, NULL, "東京 trip", MSD_CAT_TRAVEL, 50, 0, 1);
    msd_mem_hit hits[2];
    cr_assert_eq(search(d, "são", NULL, hits, 2), 1);
    cr_assert_eq(search(d, "CAFé", NULL, hits, 2), 1, "ASCII letters fold");
    cr_assert_eq(search(d, "CAFÉ", NULL, hits, 2), 0, "non-ASCII letters do not fold");
    cr_assert_eq(search(d, "sao", NULL, hits, 2), 0);
    cr_assert_eq(search(d, "東京", NULL, hits, 2), 1);
    cr_assert_eq(search(d, "東", NULL, hits, 2), 0, "tokens are whole runs");
    msd_mem_free(d);
}

Test(search, arguments)
{
    msd_mem_doc *d = mt_new();
    msd_mem_hit hits[1];
    size_t n = 7;
    cr_assert_eq(msd_mem_search(hits, 1, &n, NULL, "x", NULL), MSD_ERR_ARGS);
    cr_assert_eq(n, 0);
    cr_assert_eq(msd_mem_search(hits, 1, &n, d, NULL, NULL), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_search(hits, 1, NULL, d, "x", NULL), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_search(NULL, 1, &n, d, "x", NULL), MSD_ERR_ARGS);
    const msd_mem_filter bad_cat = {1u << 10, 0, 0, 0}, bad_type = {0, (msd_mem_type)3, 0, 0};
    cr_assert_eq(msd_mem_search(hits, 1, &n, d, "x", &bad_cat), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_search(hits, 1, &n, d, "x", &bad_type), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_search(hits, 1, &n, d, "x", NULL), MSD_OK);
    cr_assert_eq(n, 0);
    msd_mem_free(d);
}

/* 5,000 facts of seeded random words. */
static msd_mem_doc *big_doc(uint64_t seed)
{
    static const char *const W[] = {"tea", "coffee", "rust", "lisbon", "cello", "garden", "python", "running",
                                    "jazz", "paris", "bread", "cycling", "chess", "novel", "piano", "hiking",
                                    "sushi", "math", "camera", "yoga", "kotlin", "opera", "soccer", "tokyo"};
    uint64_t st = seed;
    msd_mem_doc *d = mt_new();
    char text[256];
    for (int i = 0; i < 5000; i++) {
        size_t len = 0;
        unsigned words = 5 + mt_below(&st, 15);
        for (unsigned w = 0; w < words; w++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", w ? " " : "",
                                    W[mt_below(&st, sizeof W / sizeof W[0])]);
        fx_fact(d, NULL, text, 1u << mt_below(&st, 9), mt_below(&st, 101), 0, mt_below(&st, 4));
    }
    return d;
}

/* Speed is measured by make bench (bench/bench_memory.c), not asserted here. */
Test(search, deterministic_at_5000_facts, .timeout = 60)
{
    msd_mem_doc *d = big_doc(mt_seed("search 5000"));
    msd_mem_doc *c = mt_clone(d);
    msd_mem_hit a[10], b[10];
    size_t na = search(d, "tea in lisbon with jazz piano", NULL, a, 10);
    size_t nb = search(c, "tea in lisbon with jazz piano", NULL, b, 10);
    cr_assert_eq(na, 10);
    cr_assert_eq(na, nb);
    cr_assert(memcmp(a, b, na * sizeof a[0]) == 0, "same document, same hits and scores");
    for (size_t i = 1; i < na; i++) cr_assert_geq(a[i - 1].score, a[i].score);
    msd_mem_free(c);
    msd_mem_free(d);
}
