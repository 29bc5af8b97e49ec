/* Canonical encoding and the envelope payload: the bytes are exactly
 * jansson's compact, key-sorted dump ([MEM-31], [MEM-32]), parse and
 * serialise are inverse ([MEM-34]), and pack / unpack accept their two forms
 * and nothing else ([MEM-37]..[MEM-39]). */
#include <jansson.h>
#include <zlib.h>

#include "device/memory/internal.h"
#include "mem_test.h"

TestSuite(mem_codec, .init = mt_init);

/* What jansson itself writes for the same JSON value. */
static char *jansson_canonical(const char *s)
{
    json_error_t err;
    json_t *v = json_loads(s, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(v, "%s", err.text);
    char *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);
    return out;
}

Test(mem_codec, strings_escape_like_jansson)
{
    msd_mem_doc *d = mt_new();
    /* Every control character, quotes, backslash, slash, DEL, 2/3/4-byte
     * UTF-8 and U+2028. */
    char hostile[200];
    size_t n = 0;
    for (int c = 1; c < 0x20; c++) hostile[n++] = (char)c;
    static const char tail[] = "\"\\/\x7f caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 <\\u0041>";
    memcpy(hostile + n, tail, sizeof tail);
    msd_mem_fact_in in = {.text = hostile,
                          .categories = MSD_CAT_ALL,
                          .type = MSD_MEM_EPISODIC,
                          .importance = 100,
                          .entity = "\"E\"\n",
                          .tool = "t\\o\x01ol",
                          .foreign_id = "\x1f"};
    cr_assert_eq(msd_mem_add_fact(d, NULL, &in, mt_dev(1)), MSD_OK);
    int ch = 0;
    cr_assert_eq(msd_mem_graph_add_entity(d, "\"E\"\n", "\t", "x", 1, mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(msd_mem_graph_add_entity(d, "F\x7f", "", NULL, 0, mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(msd_mem_graph_add_relation(d, "\"E\"\n", "F\x7f", "r\\", NULL, 0, mt_dev(2), &ch), MSD_OK);
    char *s = mt_bytes(d, NULL);
    char *j = jansson_canonical(s);
    cr_assert_str_eq(s, j);
    cr_assert(strstr(s, "\\u0001\\u0002") != NULL);
    cr_assert(strstr(s, "\\u001F") != NULL);
    cr_assert(strstr(s, "\\b\\t\\n\\u000B\\f\\r") != NULL);
    free(j);
    /* And it parses back to the same bytes. */
    msd_mem_doc *e = mt_parse(s);
    char *s2 = mt_bytes(e, NULL);
    cr_assert_str_eq(s, s2);
    free(s);
    free(s2);
    msd_mem_free(d);
    msd_mem_free(e);
}

Test(mem_codec, unknown_fields_canonical)
{
    static const char in[] =
        "{\"z\":{\"b\":[3,{\"y\":null,\"x\":false}],\"a\":\"\\u00e9\\n\"},\"format\":\"memsync.memory/1\",\"clock\":0,"
        "\"\xc3\xa9\":1,\"A\":-5,\"items\":[{\"id\":\"00000000000000000000000000000001\",\"kind\":\"relation\","
        "\"text\":\"r\",\"from\":\"a\",\"to\":\"b\",\"c\":[1,\"0000000000000000\"],\"t\":[2,\"ffffffffffffffff\"],"
        "\"~\":[],\"0\":{},\"src\":{\"kind\":\"self\",\"a\":\"\"}}]}";
    msd_mem_doc *d = mt_parse(in);
    char *s = mt_bytes(d, NULL);
    char *j = jansson_canonical(s);
    cr_assert_str_eq(s, j);
    char *k = jansson_canonical(in);
    /* Only the clock differs from jansson's dump of the input ([MEM-3]). */
    char *k2 = strstr(k, "\"clock\":0");
    cr_assert_not_null(k2);
    k2[8] = '2';
    cr_assert_str_eq(s, k);
    free(s);
    free(j);
    free(k);
    msd_mem_free(d);
}

/* Random documents: serialise, parse, serialise gives the same bytes, and
 * they are jansson's canonical form. */
Test(mem_codec, random_round_trips)
{
    uint64_t st = mt_seed("mem_codec.random_round_trips");
    for (int round = 0; round < 40; round++) {
        msd_mem_doc *d = mt_new();
        uint8_t ids[64][16];
        size_t n = 0;
        const unsigned ops = 1 + mt_below(&st, 60);
        for (unsigned k = 0; k < ops; k++) {
            char text[64];
            snprintf(text, sizeof text, "f%u \"q\" \\ %u", k, (unsigned)mt_below(&st, 1000));
            const unsigned op = n == 0 ? 0 : mt_below(&st, 4);
            if (op <= 1 && n < 64) {
                msd_mem_fact_in in = {.text = text,
                                      .categories = 1u + mt_below(&st, MSD_CAT_ALL),
                                      .type = 1 + (int)mt_below(&st, 2),
                                      .importance = mt_below(&st, 101)};
                cr_assert_eq(msd_mem_add_fact(d, ids[n], &in, mt_dev(mt_below(&st, 4))), MSD_OK);
                n++;
            } else if (op == 2) {
                (void)msd_mem_edit_fact(d, ids[mt_below(&st, (unsigned)n)], text, 0, (int)mt_below(&st, 101),
                                        mt_dev(mt_below(&st, 4)));
            } else {
                (void)msd_mem_forget(d, ids[mt_below(&st, (unsigned)n)], mt_dev(mt_below(&st, 4)));
            }
        }
        size_t len = 0;
        char *s = mt_bytes(d, &len);
        char *j = jansson_canonical(s);
        cr_assert_str_eq(s, j);
        msd_mem_doc *e = mt_parse(s);
        cr_assert(mt_same(d, e));
        cr_assert_eq(msd_mem_clock(d), msd_mem_clock(e));
        cr_assert_eq(msd_mem_count(d), msd_mem_count(e));
        cr_assert_eq(msd_mem_tombstones(d), msd_mem_tombstones(e));
        free(s);
        free(j);
        msd_mem_free(d);
        msd_mem_free(e);
    }
}

/* ----------------------------------------------------------------- pack */

static void pack(const msd_mem_doc *d, uint8_t **p, size_t *n)
{
    cr_assert_eq(msd_mem_pack(p, n, d), MSD_OK);
}

static msd_status unpack_status(const uint8_t *p, size_t n)
{
    msd_mem_doc *d = (msd_mem_doc *)1;
    const msd_status st = msd_mem_unpack(&d, p, n);
    if (st != MSD_OK) cr_assert_null(d);
    msd_mem_free(st == MSD_OK ? d : NULL);
    return st;
}

/* A compressed payload of arbitrary plaintext with a declared length. */
static uint8_t *zpack(const void *plain, size_t n, uint32_t declared, size_t *out_len)
{
    uLongf cap = compressBound((uLong)n);
    uint8_t *z = malloc(5 + cap);
    cr_assert_eq(compress2(z + 5, &cap, plain, (uLong)n, 9), Z_OK);
    z[0] = 1;
    z[1] = (uint8_t)(declared >> 24);
    z[2] = (uint8_t)(declared >> 16);
    z[3] = (uint8_t)(declared >> 8);
    z[4] = (uint8_t)declared;
    *out_len = 5 + cap;
    return z;
}

Test(mem_codec, pack_plain_and_compressed)
{
    /* Small (zlib would not be shorter): the JSON itself. */
    msd_mem_doc *d = mt_new();
    uint8_t *p = NULL;
    size_t n = 0;
    pack(d, &p, &n);
    size_t len = 0;
    char *s = mt_bytes(d, &len);
    cr_assert_eq(p[0], '{');
    cr_assert_eq(n, len);
    cr_assert_eq(memcmp(p, s, n), 0);
    msd_mem_doc *e = NULL;
    cr_assert_eq(msd_mem_unpack(&e, p, n), MSD_OK);
    cr_assert(mt_same(d, e));
    msd_mem_free(e);
    free(p);
    free(s);
    /* Larger and repetitive: compressed, shorter, and the same document. */
    for (int i = 0; i < 200; i++) mt_add(d, NULL, "prefers concise answers in the morning", MSD_CAT_PRODUCTIVITY, 2);
    pack(d, &p, &n);
    s = mt_bytes(d, &len);
    cr_assert_eq(p[0], 1);
    cr_assert_lt(n, len);
    cr_assert_eq(((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]), len);
    cr_assert_eq(msd_mem_unpack(&e, p, n), MSD_OK);
    cr_assert(mt_same(d, e));
    msd_mem_free(e);
    /* The plain form of the same document is read too. */
    cr_assert_eq(msd_mem_unpack(&e, (const uint8_t *)s, len), MSD_OK);
    cr_assert(mt_same(d, e));
    msd_mem_free(e);
    /* A flipped bit in the declared length, the zlib header, the stream or
     * its Adler-32 is refused, or reads as the same document: some deflate
     * bits do not change the output (the padding after the last block, a
     * match distance that points at equal bytes), and Adler-32 checks the
     * output. Integrity itself is the envelope's AEAD. */
    size_t accepted = 0;
    for (size_t i = 0; i < n; i++) {
        for (unsigned bit = 0; bit < 8; bit += 3) {
            p[i] ^= (uint8_t)(1u << bit);
            e = NULL;
            const msd_status st = msd_mem_unpack(&e, p, n);
            if (st == MSD_OK) {
                accepted++;
                cr_assert(mt_same(d, e), "byte %zu bit %u", i, bit);
                msd_mem_free(e);
            } else {
                cr_assert_null(e);
            }
            p[i] ^= (uint8_t)(1u << bit);
        }
    }
    cr_assert_lt(accepted, n / 4);
    /* Truncated, or a byte appended. */
    for (size_t k = 0; k < n; k++) cr_assert_eq(unpack_status(p, k), MSD_ERR_MEM_MALFORMED, "cut %zu", k);
    uint8_t *q = malloc(n + 1);
    memcpy(q, p, n);
    q[n] = 0;
    cr_assert_eq(unpack_status(q, n + 1), MSD_ERR_MEM_MALFORMED);
    free(q);
    free(p);
    free(s);
    msd_mem_free(d);
}

Test(mem_codec, unpack_refuses)
{
    static const char doc[] = "{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[]}";
    const size_t dn = sizeof doc - 1;
    size_t n = 0;
    uint8_t *z;
    /* The declared length must be exact. */
    z = zpack(doc, dn, (uint32_t)dn, &n);
    cr_assert_eq(unpack_status(z, n), MSD_OK);
    free(z);
    z = zpack(doc, dn, (uint32_t)dn + 1, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    z = zpack(doc, dn, (uint32_t)dn - 1, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    z = zpack(doc, dn, 0, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    /* Over the cap, declared: refused before allocating. */
    z = zpack(doc, dn, (uint32_t)MSD_MEM_MAX_DOC + 1, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    z = zpack(doc, dn, 0xffffffffu, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    /* A bomb: declared MAX_DOC, inflating to one byte more. */
    const size_t big = (size_t)MSD_MEM_MAX_DOC + 1;
    char *zeros = calloc(1, big);
    z = zpack(zeros, big, (uint32_t)MSD_MEM_MAX_DOC, &n);
    cr_assert_lt(n, 200000);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    free(zeros);
    /* Inflates fine but is not a document. */
    z = zpack("[1,2,3]", 7, 7, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_MALFORMED);
    free(z);
    static const char v2[] = "{\"format\":\"memsync.memory/2\"}";
    z = zpack(v2, sizeof v2 - 1, sizeof v2 - 1, &n);
    cr_assert_eq(unpack_status(z, n), MSD_ERR_MEM_VERSION);
    free(z);
    /* Neither form. */
    static const uint8_t other[] = {0x02, 0, 0, 0, 1, 0x78, 0x9c};
    cr_assert_eq(unpack_status(other, sizeof other), MSD_ERR_MEM_MALFORMED);
    cr_assert_eq(unpack_status((const uint8_t *)" {}", 3), MSD_ERR_MEM_MALFORMED);
    cr_assert_eq(unpack_status((const uint8_t *)"\x01\x00\x00", 3), MSD_ERR_MEM_MALFORMED);
    cr_assert_eq(unpack_status((const uint8_t *)"", 0), MSD_ERR_MEM_MALFORMED);
    msd_mem_doc *d = (msd_mem_doc *)1;
    cr_assert_eq(msd_mem_unpack(&d, NULL, 1), MSD_ERR_ARGS);
    cr_assert_null(d);
    uint8_t *p = (uint8_t *)1;
    size_t len = 9;
    cr_assert_eq(msd_mem_pack(&p, &len, NULL), MSD_ERR_ARGS);
    cr_assert_null(p);
    cr_assert_eq(len, 0);
    cr_assert_eq(msd_mem_serialize(&p, NULL, NULL), MSD_ERR_ARGS);
}

/* ------------------------------------------------- fast reader vs jansson */

/* [MEM-33]: the single-pass reader accepts only what the reference parser
 * accepts, and builds the same document; canonical bytes always take the
 * fast path. */
static void differential(const char *json, size_t n, int must_be_fast)
{
    msd_mem_doc *f = NULL, *r = NULL;
    const msd_status sf = mem_parse_fast(&f, (const uint8_t *)json, n);
    const msd_status sr = mem_parse_reference(&r, (const uint8_t *)json, n);
    if (sf == MSD_OK) {
        cr_assert_eq(sr, MSD_OK, "fast accepted what the reference refuses: %.*s", (int)n, json);
        cr_assert(mt_same(f, r), "%.*s", (int)n, json);
        cr_assert_eq(msd_mem_clock(f), msd_mem_clock(r));
    } else {
        cr_assert_eq(sf, MSD_ERR_MEM_MALFORMED);
        cr_assert_null(f);
    }
    if (must_be_fast) cr_assert_eq(sf, MSD_OK, "canonical input left the fast path: %.*s", (int)n, json);
    /* msd_mem_parse gives the reference's answer either way. */
    msd_mem_doc *p = NULL;
    cr_assert_eq(msd_mem_parse(&p, (const uint8_t *)json, n), sr);
    if (sr == MSD_OK) cr_assert(mt_same(p, r));
    msd_mem_free(f);
    msd_mem_free(r);
    msd_mem_free(p);
}

#define HDR "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":["
#define FACT(extra)                                                                                                    \
    "{\"id\":\"22222222222222222222222222222222\",\"kind\":\"fact\",\"text\":\"t\",\"cat\":[\"career\"],"             \
    "\"type\":\"semantic\",\"imp\":5,\"c\":[1,\"0102030405060708\"],\"t\":[1,\"0102030405060708\"]" extra "}"

Test(mem_codec, fast_reader_agrees)
{
    static const char *const cases[] = {
        HDR FACT("") "]}",
        HDR FACT(",\"\\u0065ntity\":\"E\"") "]}",          /* an escaped known key */
        HDR FACT(",\"\\u0065\\u006etity\":\"E\"") "]}",    /* long when raw */
        HDR FACT(",\"text\":\"u\"") "]}",                  /* repeated key */
        HDR FACT(",\"tex\\u0074\":\"u\"") "]}",            /* repeated once decoded */
        HDR FACT(",\"z\":1,\"z\":2") "]}",
        HDR FACT(",\"z\":1,\"\\u007a\":1") "]}",
        HDR FACT(",\"z\":-0") "]}",
        HDR FACT(",\"z\":[1,{\"a\":\"\\ud83d\\ude00\"}]") "]}",
        HDR FACT(",\"z\":\"\\ud83d\"") "]}",
        HDR FACT(",\"z\":\"\\u0000\"") "]}",
        HDR FACT(",\"z\":1.5") "]}",
        HDR FACT(",\"z\":tru") "]}",
        HDR FACT(",\"z\":[1,2}") "]}",
        HDR FACT(",\"z\":\"\xed\xa0\x80\"") "]}",
        HDR FACT(",\"entity\":\"a\\/b\\\\c\\\"d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"") "]}",
        HDR FACT(",\"entity\":\"\\ud800\"") "]}",
        HDR FACT(",\"entity\":\"\\udc00\"") "]}",
        HDR FACT(",\"entity\":\"\\ud800\\u0041\"") "]}",
        HDR FACT(",\"entity\":\"\\u0000\"") "]}",
        HDR FACT(",\"entity\":\"\\x\"") "]}",
        HDR FACT(",\"entity\":\"\\u12\"") "]}",
        HDR FACT(",\"entity\":\"\xc3\"") "]}",
        HDR FACT(",\"entity\":\"\xc3\\u00a9\"") "]}",
        HDR FACT(",\"entity\":\"\xe2\x82\xac\"") "]}",
        HDR FACT(",\"entity\":\"\xf4\x90\x80\x80\"") "]}",
        HDR FACT(",\"entity\":\"tab\there\"") "]}",
        HDR FACT(",\"entity\":\"\\") "]}",
        HDR FACT(",\"src\":{\"kind\":\"self\",\"kind\":\"self\"}") "]}",
        HDR FACT(",\"src\":{\"kind\":\"self\",\"tool\":\"a\",\"tool\":\"b\"}") "]}",
        HDR FACT(",\"src\":{\"kind\":\"import\",\"\\u0074ool\":\"a\",\"w\":{\"x\":[]}}") "]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":-0,\"items\":[]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":01,\"items\":[]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"clock\":1,\"items\":[]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[],\"items\":[]}",
        "{\"format\":\"memsync.memory/1\",\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[]}",
        "{\"format\":\"memsync.memory/\\u0031\",\"clock\":1,\"items\":[]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[],\"x\":{\"y\":[[[[[[[[[[1]]]]]]]]]]}}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[]}\n\t ",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[]}x",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[]}{}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[],}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[,]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":1 \"items\":[]}",
        "{\"format\":\"memsync.memory/1\",\"clock\":18446744073709551616,\"items\":[]}",
        HDR "{\"id\":\"11111111111111111111111111111111\",\"del\":1,\"t\":[1,\"0102030405060708\"]}]}",
        HDR "{\"id\":\"11111111111111111111111111111111\",\"del\":1,\"t\":[1,\"0102030405060708\"],\"z\":1}]}",
        HDR "{\"id\":\"11111111111111111111111111111111\",\"del\":01,\"t\":[1,\"0102030405060708\"]}]}",
        HDR "{\"id\":\"11111111111111111111111111111111\",\"del\":1,\"kind\":\"fact\",\"t\":[1,\"0102030405060708\"]}]}",
        HDR FACT("") "," FACT("") "]}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) differential(cases[i], strlen(cases[i]), 0);
    /* Nesting: up to the reader's own limit and beyond, and past jansson's 2048. */
    static const unsigned depths[] = {200, 256, 257, 2040, 2044, 2045, 2046, 2100};
    for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
        const unsigned n = depths[k];
        const size_t cap = 512 + 2 * (size_t)n;
        char *j = malloc(cap);
        size_t o = (size_t)snprintf(j, cap, HDR FACT(",\"z\":"));
        o -= 1; /* drop the item's closing brace */
        for (unsigned i = 0; i < n; i++) j[o++] = '[';
        for (unsigned i = 0; i < n; i++) j[o++] = ']';
        o += (size_t)snprintf(j + o, cap - o, "}]}");
        differential(j, o, 0);
        free(j);
    }
    /* Every malformed case of test_doc.c is refused by both (it is the
     * reference that answers); and every canonical document is fast. */
    uint64_t st = mt_seed("mem_codec.fast_reader_agrees");
    for (int round = 0; round < 30; round++) {
        msd_mem_doc *d = mt_new();
        for (unsigned k = 0, n = mt_below(&st, 30); k < n; k++) {
            char text[64];
            snprintf(text, sizeof text, "x\"%u\\\n\x01 caf\xc3\xa9 \xf0\x9f\x98\x80", (unsigned)mt_rand(&st));
            uint8_t id[16];
            mt_add(d, id, text, 1u + mt_below(&st, MSD_CAT_ALL), mt_below(&st, 5));
            if (mt_below(&st, 3) == 0) cr_assert_eq(msd_mem_forget(d, id, mt_dev(1)), MSD_OK);
        }
        size_t len = 0;
        char *s = mt_bytes(d, &len);
        differential(s, len, 1);
        /* Every prefix: never accepted by the fast path alone. */
        for (size_t cut = 0; cut < len; cut += 1 + len / 97) differential(s, cut, 0);
        free(s);
        msd_mem_free(d);
    }
}
