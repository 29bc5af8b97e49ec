/* Canonical encoding and the envelope payload: the bytes are exactly
 * jansson's compact, key-sorted dump ([MEM-31], [MEM-32]), parse and
 * serialise are inverse ([MEM-34]), and pack / unpack accept their two forms
 * and nothing else ([MEM-37]..[MEM-39]). */
#include <jansson.h>
#include <zlib.h>

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

/* A fixed document (no random id or stamp, so the payload is the same on
 * every run): 24 facts with ids from a fixed splitmix64 sequence. */
static msd_mem_doc *fixed_doc(void)
{
    static const char *const w[] = {"tea", "chess", "Berlin", "piano", "Rust", "running", "poetry", "sailing"};
    const size_t cap = 16384;
    char *j = malloc(cap);
    cr_assert_not_null(j);
    uint64_t st = 0x6d656d73796e63ull;
    size_t o = (size_t)snprintf(j, cap, "{\"format\":\"memsync.memory/1\",\"clock\":24,\"items\":[");
    for (unsigned i = 0; i < 24; i++) {
        const uint64_t a = mt_rand(&st), b = mt_rand(&st);
        o += (size_t)snprintf(j + o, cap - o,
                              "%s{\"id\":\"%016" PRIx64 "%016" PRIx64 "\",\"kind\":\"fact\",\"text\":\"likes %s and %s (%u)\","
                              "\"cat\":[\"interests\"],\"type\":\"semantic\",\"imp\":%u,\"src\":{\"kind\":\"self\"},"
                              "\"c\":[%u,\"0102030405060708\"],\"t\":[%u,\"0102030405060708\"]}",
                              i ? "," : "", a, b, w[a % 8], w[b % 8], i, (unsigned)(a % 101), i + 1, i + 1);
        cr_assert_lt(o, cap);
    }
    o += (size_t)snprintf(j + o, cap - o, "]}");
    cr_assert_lt(o, cap);
    msd_mem_doc *d = mt_parse(j);
    free(j);
    return d;
}

/* What msd_mem_unpack must do with a compressed payload ([MEM-39]), written
 * independently with zlib's one-call uncompress2: the stream inflates to
 * exactly the declared length (an output buffer one byte larger shows an
 * overlong stream), ends with its Adler-32 checked, and uses the whole
 * input. Returns the inflated bytes (malloc'd) or NULL. */
static uint8_t *model_inflate(const uint8_t *p, size_t n)
{
    if (n < 5 || p[0] != 1) return NULL;
    const size_t want = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    if (want == 0 || want > MSD_MEM_MAX_DOC) return NULL;
    uint8_t *out = malloc(want + 1);
    cr_assert_not_null(out);
    uLongf out_len = (uLongf)want + 1;
    uLong in_len = (uLong)(n - 5);
    const int r = uncompress2(out, &out_len, p + 5, &in_len);
    if (r != Z_OK || out_len != want || in_len != n - 5) {
        free(out);
        return NULL;
    }
    return out;
}

/* Every single-bit flip of a fixed compressed payload, region by region.
 * The payload has no integrity of its own (that is the envelope's AEAD):
 * zlib checks the header's FCHECK and the output's Adler-32, which sees
 * every change of one output byte but not every change of several (e.g.
 * +1, -2, +1 on three consecutive bytes keeps both of its sums), so a flip
 * in the deflate data may yield a different document of the same length
 * and Adler-32. Earlier this test asserted "refused or the same document"
 * on a payload with random ids: one run in a few hit such a flip. Now:
 * - byte 0 (the 0x01 marker): refused (no flip of 0x01 gives '{' or 0x01);
 * - bytes 1..4 (u32 declared length): refused (the stream inflates to the
 *   original length, which no longer matches; 0 or over the cap is refused
 *   before anything is allocated);
 * - bytes 5..6 (zlib CMF, FLG): refused (CMF*256+FLG must be a multiple of
 *   31; a flip changes it by a power of two, which never is);
 * - the last 4 bytes (Adler-32): refused (the output is unchanged, the
 *   stored checksum no longer matches it);
 * - the deflate data: unpack accepts exactly when model_inflate does and the
 *   bytes parse, and then gives parse(those bytes); bytes that differ from
 *   the original have its length and its Adler-32. */
Test(mem_codec, pack_every_bit_flip)
{
    msd_mem_doc *d = fixed_doc();
    uint8_t *p = NULL;
    size_t n = 0, len = 0;
    pack(d, &p, &n);
    char *s = mt_bytes(d, &len);
    cr_assert_eq(p[0], 1, "the fixed document must take the compressed form");
    cr_assert_gt(n, 5 + 2 + 4);
    const uLong adler = adler32(adler32(0L, Z_NULL, 0), (const Bytef *)s, (uInt)len);
    size_t refused = 0, same = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        const int deflate_data = i >= 7 && i < n - 4;
        for (unsigned bit = 0; bit < 8; bit++) {
            p[i] ^= (uint8_t)(1u << bit);
            msd_mem_doc *e = (msd_mem_doc *)1;
            const msd_status st = msd_mem_unpack(&e, p, n);
            if (st != MSD_OK) cr_assert_null(e);
            if (!deflate_data) {
                cr_assert_eq(st, MSD_ERR_MEM_MALFORMED, "byte %zu of %zu, bit %u: accepted", i, n, bit);
            } else {
                uint8_t *x = model_inflate(p, n);
                msd_mem_doc *want = NULL;
                const msd_status sw = x != NULL ? msd_mem_parse(&want, x, len) : MSD_ERR_MEM_MALFORMED;
                cr_assert_eq(st, sw, "byte %zu bit %u: unpack %d, model %d", i, bit, (int)st, (int)sw);
                if (st == MSD_OK) {
                    cr_assert(mt_same(e, want), "byte %zu bit %u", i, bit);
                    if (memcmp(x, s, len) == 0) {
                        same++;
                    } else {
                        other++;
                        cr_assert_eq(adler32(adler32(0L, Z_NULL, 0), x, (uInt)len), adler);
                    }
                } else {
                    refused++;
                }
                msd_mem_free(want);
                free(x);
            }
            if (st == MSD_OK) msd_mem_free(e);
            p[i] ^= (uint8_t)(1u << bit);
        }
    }
    fprintf(stderr, "pack_every_bit_flip: %zu-byte payload, deflate-data flips: %zu refused, %zu same document, "
                    "%zu other bytes under the same Adler-32\n",
            n, refused, same, other);
    /* The unflipped payload still reads back. */
    msd_mem_doc *e = NULL;
    cr_assert_eq(msd_mem_unpack(&e, p, n), MSD_OK);
    cr_assert(mt_same(d, e));
    msd_mem_free(e);
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
