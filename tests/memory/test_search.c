/* msd_mem_search: BM25 against hand-computed scores, tie-breaks, filters
 * (private above all), the listing order, UTF-8 tokens and their case
 * fold, determinism and speed at 5,000 facts (spec/memory-search.md §1-§2). */

#include "fixture.h"

#include "device/memory/memtext.h"

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
    cr_assert_eq(search(d, "CAFÉ", NULL, hits, 2), 1, "Latin-1 capitals fold");
    cr_assert_eq(search(d, "SÃO", NULL, hits, 2), 1);
    cr_assert_eq(search(d, "sao", NULL, hits, 2), 0, "no accent stripping");
    cr_assert_eq(search(d, "cafe", NULL, hits, 2), 0);
    cr_assert_eq(search(d, "東京", NULL, hits, 2), 1);
    cr_assert_eq(search(d, "東", NULL, hits, 2), 0, "tokens are whole runs");
    msd_mem_free(d);
}

/* ------------------------------------------------------- the case fold */

/* The fold of in (as msr_fold_copy gives it, out of place and in place) is
 * want, byte for byte, and of the same length; the token hash is that of the
 * fold; the fold of the fold is the fold. */
static void expect_fold(const char *in, size_t n, const char *want)
{
    char out[64], inplace[64];
    cr_assert_lt(n, sizeof out - 1);
    memset(out, 0x5a, sizeof out);
    msr_fold_copy(out, in, n);
    cr_assert_eq((unsigned char)out[n], 0x5a, "wrote past the end");
    cr_assert(memcmp(out, want, n) == 0, "fold of \"%.*s\" is \"%.*s\", expected \"%s\"", (int)n, in, (int)n, out, want);
    memcpy(inplace, in, n);
    msr_fold_copy(inplace, inplace, n);
    cr_assert(memcmp(inplace, want, n) == 0, "in place: \"%.*s\"", (int)n, in);
    cr_assert_eq(msr_tok_hash(in, n), msr_tok_hash(want, n), "hash of \"%.*s\"", (int)n, in);
    msr_fold_copy(inplace, inplace, n);
    cr_assert(memcmp(inplace, want, n) == 0, "fold twice: \"%.*s\"", (int)n, in);
}

/* in and want are C strings of the same length. */
static void fold_is(const char *in, const char *want)
{
    cr_assert_eq(strlen(in), strlen(want), "test data: \"%s\" vs \"%s\"", in, want);
    expect_fold(in, strlen(in), want);
}

static void fold_unchanged(const char *in, size_t n)
{
    expect_fold(in, n, in);
}

Test(search, fold_each_rule_at_its_ends) /* [MSR-1] */
{
    /* capital, small: each row of the table, first and last pair */
    static const char *const PAIRS[][2] = {
        {"A", "a"}, {"Z", "z"},                          /* ASCII */
        {"À", "à"}, {"Ö", "ö"}, {"Ø", "ø"}, {"Þ", "þ"},  /* U+00C0-D6, U+00D8-DE */
        {"Ā", "ā"}, {"Į", "į"},                          /* U+0100-012F even */
        {"Ĳ", "ĳ"}, {"Ķ", "ķ"},                          /* U+0132-0137 even */
        {"Ĺ", "ĺ"}, {"Ň", "ň"},                          /* U+0139-0148 odd */
        {"Ŋ", "ŋ"}, {"Ő", "ő"}, {"Œ", "œ"}, {"Ŷ", "ŷ"},  /* U+014A-0177 even */
        {"Ÿ", "ÿ"},                                      /* U+0178 -> U+00FF */
        {"Ź", "ź"}, {"Ž", "ž"},                          /* U+0179-017E odd */
        {"Ȁ", "ȁ"}, {"Ș", "ș"}, {"Ț", "ț"}, {"Ȟ", "ȟ"},  /* U+0200-021F even */
        {"Ȣ", "ȣ"}, {"Ȳ", "ȳ"},                          /* U+0222-0233 even */
        {"Ά", "ά"},                                      /* U+0386 */
        {"Έ", "έ"}, {"Ί", "ί"},                          /* U+0388-038A */
        {"Ό", "ό"},                                      /* U+038C */
        {"Ύ", "ύ"}, {"Ώ", "ώ"},                          /* U+038E-038F */
        {"Α", "α"}, {"Ρ", "ρ"}, {"Σ", "σ"}, {"Ω", "ω"}, {"Ϋ", "ϋ"}, /* U+0391-03A1, U+03A3-03AB */
        {"ς", "σ"},                                      /* final sigma */
        {"Ѐ", "ѐ"}, {"Џ", "џ"},                          /* U+0400-040F */
        {"А", "а"}, {"Я", "я"},                          /* U+0410-042F */
        {"Ѡ", "ѡ"}, {"Ҁ", "ҁ"},                          /* U+0460-0481 even */
        {"Ҋ", "ҋ"}, {"Ґ", "ґ"}, {"Ҿ", "ҿ"},              /* U+048A-04BF even */
        {"Ӏ", "ӏ"},                                      /* U+04C0 -> U+04CF */
        {"Ӂ", "ӂ"}, {"Ӎ", "ӎ"},                          /* U+04C1-04CE odd */
        {"Ӑ", "ӑ"}, {"Ԯ", "ԯ"},                          /* U+04D0-052F even */
        {"Ա", "ա"}, {"Ֆ", "ֆ"},                          /* U+0531-0556 */
    };
    for (size_t i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        fold_is(PAIRS[i][0], PAIRS[i][1]);
        fold_is(PAIRS[i][1], PAIRS[i][1]); /* a small letter is its own fold (ς excepted, see above) */
    }
    fold_is("ΟΔΟΣ οδος", "οδοσ οδοσ");
    fold_is("Élodie ÉLODIE Москва ŁÓDŹ Ωμέγα STRAẞE", "élodie élodie москва łódź ωμέγα straẞe");
    fold_is("ȘTEFAN ҐАНОК ԵՐԵՎԱՆ", "ștefan ґанок երեվան");
}

Test(search, fold_leaves_the_rest_alone) /* [MSR-1] */
{
    static const char *const SAME[] = {
        "×", "÷", "ß", "ı", "ĸ", "ŉ", "ſ", "µ", "ΐ", "ΰ", "ƀ", "Ƞ", "Ǆ", "ȴ", "\xd2\x82", "ՙ", "¿", "\xc2\xa0", /* 2-byte, not in the table */
        "İ",                                        /* U+0130: its fold changes the length */
        "ẞ", "東京", "\xe2\x80\x94", "😀",          /* 3- and 4-byte sequences */
        "0123456789 _-.,;:!?[]{}@`~\x7f",            /* not letters */
    };
    for (size_t i = 0; i < sizeof SAME / sizeof SAME[0]; i++) fold_unchanged(SAME[i], strlen(SAME[i]));
    /* Invalid or truncated UTF-8: no crash, bytes unchanged (ASCII still folds). */
    fold_unchanged("\xc3", 1);                      /* a lead byte at the end */
    fold_unchanged("ab\xc3", 3);
    expect_fold("\xc3" "A", 2, "\xc3" "a");         /* a lead byte before ASCII */
    expect_fold("\xd0" "\xd0\x90", 3, "\xd0" "\xd0\xb0"); /* a lead byte before a character */
    fold_unchanged("\xc1\x81", 2);                  /* overlong "A" */
    fold_unchanged("\xc0\x80", 2);                  /* overlong NUL */
    fold_unchanged("\x80\x80\xbf", 3);              /* lone continuation bytes */
    fold_unchanged("\xf8\x88\x80\x80\x80", 5);      /* no such lead */
    fold_unchanged("\xed\xa0\x80", 3);              /* a surrogate */
    expect_fold("\xe1\xba", 2, "\xe1\xba");          /* a truncated 3-byte sequence */
    /* The fold stops at n: the lead byte of É is not paired with a byte past it. */
    fold_unchanged("\xc3\x89", 1);
    /* NUL is a byte like others here (tokens never hold one). */
    expect_fold("\x00" "\xc3\x89", 3, "\x00" "\xc3\xa9");
}

/* Every code point with a 2-byte encoding: the fold stays there, is
 * idempotent, maps 337 of them (the table's count) and no two but Σ and ς
 * to the same small letter. */
Test(search, fold_table_exhaustive) /* [MSR-1] */
{
    static uint16_t to[0x800];
    size_t changed = 0;
    for (uint32_t c = 0x80; c < 0x800; c++) {
        const uint32_t f = msr_fold_cp(c);
        cr_assert(f >= 0x80 && f < 0x800, "U+%04X -> U+%04X", c, f);
        cr_assert_eq(msr_fold_cp(f), f, "U+%04X: fold not idempotent", c);
        if (f != c) {
            changed++;
            cr_assert(to[f] == 0 || (f == 0x3c3 && (c == 0x3c2 || to[f] == 0x3c2)), "U+%04X and U+%04X -> U+%04X", to[f],
                      c, f);
            to[f] = (uint16_t)c;
            /* The encoded form is what msr_fold_at gives. */
            const unsigned char in[2] = {(unsigned char)(0xc0 | (c >> 6)), (unsigned char)(0x80 | (c & 0x3f))};
            unsigned char out[2];
            cr_assert_eq(msr_fold_at(in, 2, 0, out), 2);
            cr_assert(out[0] == (0xc0 | (f >> 6)) && out[1] == (0x80 | (f & 0x3f)), "U+%04X encoded", c);
        }
    }
    cr_assert_eq(changed, 30 + 62 + 25 + 34 + 48 + 100 + 38,
                 "Latin-1 30, Latin Extended-A 62, Latin Extended-B 25, Greek 34, Cyrillic 48 + 100, Armenian 38");
    for (uint32_t c = 0; c < 0x80; c++) cr_assert_eq(msr_fold_cp(c), (c >= 'A' && c <= 'Z') ? c + 32 : c);
    cr_assert_eq(msr_fold_cp(0x1e9e), 0x1e9e, "ẞ is 3 bytes");
    cr_assert_eq(msr_fold_cp(0x10400), 0x10400, "Deseret is 4 bytes");
}

/* Random byte strings, biased to 2-byte leads and continuation bytes:
 * folding twice is folding once, nothing is written past the end, and a
 * byte stays ASCII or non-ASCII (so the tokens of a text and of its fold
 * are the same ranges) and never becomes NUL. */
Test(search, fold_property_random_bytes) /* [MSR-1] */
{
    const uint64_t seed = mt_seed("search.fold_property_random_bytes");
    uint64_t st = seed;
    unsigned char in[80], once[81], twice[81];
    for (int round = 0; round < 20000; round++) {
        const size_t n = (size_t)mt_below(&st, 65);
        for (size_t i = 0; i < n; i++) {
            const uint64_t r = mt_rand(&st);
            switch (r % 4) {
            case 0: in[i] = (unsigned char)(r >> 8); break;                       /* any byte */
            case 1: in[i] = (unsigned char)(0xc2 + (r >> 8) % 30); break;         /* a 2-byte lead */
            case 2: in[i] = (unsigned char)(0x80 + (r >> 8) % 64); break;         /* a continuation */
            default: in[i] = (unsigned char)(0x40 + (r >> 8) % 32); break;        /* ASCII around A-Z */
            }
        }
        once[n] = twice[n] = 0xa5;
        msr_fold_copy((char *)once, (const char *)in, n);
        memcpy(twice, once, n);
        msr_fold_copy((char *)twice, (const char *)twice, n);
        cr_assert_eq(once[n], 0xa5, "seed %" PRIu64 ": wrote past the end", seed);
        cr_assert(memcmp(once, twice, n) == 0, "seed %" PRIu64 " round %d: fold not idempotent", seed, round);
        cr_assert_eq(msr_tok_hash((const char *)in, n), msr_tok_hash((const char *)once, n), "seed %" PRIu64, seed);
        size_t i = 0;
        while (i < n && (in[i] < 0x80) == (once[i] < 0x80) && (in[i] == 0) == (once[i] == 0)) i++;
        cr_assert_eq(i, n, "seed %" PRIu64 " round %d: byte %zu changed class", seed, round, i);
    }
}

/* The import dedup key folds the same way (a local key, no identity). */
Test(search, dedup_key_folds_too) /* [MSR-30] */
{
    static const char *const IN[][2] = {
        {"  Élodie   ÉLODIE\tМОСКВА  ", "élodie élodie москва"},
        {"ŁÓDŹ\r\nΟΔΟΣ", "łódź οδοσ"},
        {"\xc3 \xc3", "\xc3 \xc3"}, /* a lead byte before a space stays, the space collapses as before */
        {"İ ẞ ×", "İ ẞ ×"},
    };
    for (size_t i = 0; i < sizeof IN / sizeof IN[0]; i++) {
        msr_buf b = {0};
        msr_put_normalised(&b, IN[i][0], strlen(IN[i][0]));
        cr_assert(!b.oom);
        cr_assert_eq(b.len, strlen(IN[i][1]), "%s", IN[i][0]);
        cr_assert(memcmp(b.p, IN[i][1], b.len) == 0, "%s: %s", IN[i][0], b.p);
        msr_buf_wipe(&b);
    }
}

Test(search, european_capitals_match_small_letters) /* [MSR-1] */
{
    msd_mem_doc *d = mt_new();
    uint8_t moscow[MSD_MEM_ID_SIZE], elodie[MSD_MEM_ID_SIZE], greek[MSD_MEM_ID_SIZE], polish[MSD_MEM_ID_SIZE];
    fx_fact(d, moscow, "Встреча в Москве в мае", MSD_CAT_TRAVEL, 50, 0, 1);
    fx_fact(d, elodie, "ÉLODIE is my sister", MSD_CAT_RELATIONSHIPS, 50, 0, 1);
    fx_fact(d, greek, "Ωμέγα ΟΔΟΣ", MSD_CAT_TRAVEL, 50, 0, 1);
    fx_fact(d, polish, "Mieszkam w ŁODZI", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(d, NULL, "Die STRASSE ist lang", MSD_CAT_IDENTITY, 50, 0, 1);
    msd_mem_hit hits[5];
    const struct {
        const char *q;
        const uint8_t *want;
    } CASES[] = {
        {"москве", moscow}, {"МОСКВЕ", moscow}, {"élodie", elodie}, {"Élodie", elodie},
        {"ωμέγα", greek},   {"οδος", greek},    {"ΟΔΟς", greek},    {"łodzi", polish},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        cr_assert_eq(search(d, CASES[i].q, NULL, hits, 5), 1, "%s", CASES[i].q);
        cr_assert(memcmp(hits[0].id, CASES[i].want, MSD_MEM_ID_SIZE) == 0, "%s", CASES[i].q);
    }
    cr_assert_eq(search(d, "elodie", NULL, hits, 5), 0, "no accent stripping");
    cr_assert_eq(search(d, "moskve", NULL, hits, 5), 0);
    cr_assert_eq(search(d, "straße", NULL, hits, 5), 0, "ß is not folded to ss (a length change)");
    msd_mem_free(d);
}

/* Case changes nothing in BM25: a capitalised copy of the corpus scores
 * the same bits, and every spelling of a word counts as the same term. */
Test(search, fold_keeps_bm25_scores) /* [MSR-1], [MSR-4] */
{
    msd_mem_doc *a = mt_new(), *b = mt_new();
    fx_fact(a, NULL, "élodie lives in москва", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(a, NULL, "élodie élodie loves tea", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(a, NULL, "walks in the park", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(b, NULL, "ÉLODIE lives in Москва", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(b, NULL, "Élodie éLODIE loves tea", MSD_CAT_IDENTITY, 50, 0, 1);
    fx_fact(b, NULL, "Walks in the park", MSD_CAT_IDENTITY, 50, 0, 1);
    msd_mem_hit ha[3], hb[3];
    const size_t na = search(a, "Élodie МОСКВА", NULL, ha, 3), nb = search(b, "élodie москва", NULL, hb, 3);
    cr_assert_eq(na, 2);
    cr_assert_eq(nb, 2);
    for (size_t i = 0; i < na; i++) cr_assert_eq(ha[i].score, hb[i].score, "hit %zu", i);
    msd_mem_free(a);
    msd_mem_free(b);
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
