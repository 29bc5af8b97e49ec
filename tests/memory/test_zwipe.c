/* zlib's working memory is wiped (device/memory/zwipe.h): the pack, unpack
 * and gzip-import streams run on the wiping allocator hooks, every block
 * zlib allocated is wiped when the stream ends (success or error), and the
 * packed bytes stay exactly compress2's level-9 output ([MEM-37], [MEM-38]),
 * computed here independently with zlib's one-call compress2. */
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <zlib.h>

#include "device/memory/zwipe.h"
#include "fixture.h"

TestSuite(zwipe, .init = mt_init);

/* Every block handed to zlib was wiped, byte for byte, and there was at
 * least one. */
static void balanced(const mem_ztally *t, const char *what)
{
    cr_assert_gt(t->allocated, 0, "%s: zlib allocated nothing through the hooks", what);
    cr_assert_eq(t->wiped, t->allocated, "%s: %zu blocks allocated, %zu wiped", what, t->allocated, t->wiped);
    cr_assert_gt(t->bytes_allocated, 0, "%s", what);
    cr_assert_eq(t->bytes_wiped, t->bytes_allocated, "%s: %zu bytes allocated, %zu wiped", what, t->bytes_allocated,
                 t->bytes_wiped);
}

/* The payload [MEM-37] built from compress2(json, level 9): the compressed
 * form when strictly shorter [MEM-38], else the JSON itself. */
static uint8_t *reference_pack(const uint8_t *json, size_t n, size_t *out_len)
{
    uLongf cap = compressBound((uLong)n);
    uint8_t *z = malloc(5 + (size_t)cap);
    cr_assert_not_null(z);
    cr_assert_eq(compress2(z + 5, &cap, json, (uLong)n, 9), Z_OK);
    if (5 + (size_t)cap < n) {
        z[0] = 1;
        z[1] = (uint8_t)(n >> 24);
        z[2] = (uint8_t)(n >> 16);
        z[3] = (uint8_t)(n >> 8);
        z[4] = (uint8_t)n;
        *out_len = 5 + (size_t)cap;
        return z;
    }
    free(z);
    uint8_t *p = malloc(n);
    cr_assert_not_null(p);
    memcpy(p, json, n);
    *out_len = n;
    return p;
}

/* Adds n facts of seeded random words (repetitive enough to compress,
 * varied enough that the deflate window slides on large documents). */
static void add_random_facts(msd_mem_doc *d, uint64_t *st, size_t n)
{
    static const char *const w[] = {"tea",     "chess",  "Berlin", "piano",  "Rust",    "running", "poetry",
                                    "sailing", "Kyoto",  "jazz",   "garden", "cycling", "Lisbon",  "bread",
                                    "Go",      "hiking", "novels", "café",   "violin",  "sushi"};
    char text[512];
    for (size_t i = 0; i < n; i++) {
        size_t o = 0;
        const unsigned words = 3 + mt_below(st, 40);
        for (unsigned k = 0; k < words; k++)
            o += (size_t)snprintf(text + o, sizeof text - o, "%s%s", k ? " " : "", w[mt_below(st, 20)]);
        o += (size_t)snprintf(text + o, sizeof text - o, " %" PRIu64, mt_rand(st) % 100000u);
        cr_assert_lt(o, sizeof text);
        mt_add(d, NULL, text, MSD_CAT_INTERESTS, (unsigned)mt_below(st, 4));
    }
}

/* Pack d through the tallied entry point and the public one: the two agree,
 * equal compress2's payload, unpack to d, and both streams wiped every block. */
static void check_pack(const msd_mem_doc *d, const char *what, int *compressed)
{
    size_t jn = 0;
    char *json = mt_bytes(d, &jn);
    size_t rn = 0;
    uint8_t *ref = reference_pack((const uint8_t *)json, jn, &rn);

    mem_ztally tp = {0};
    uint8_t *p = NULL;
    size_t pn = 0;
    cr_assert_eq(mem_pack_tallied(&p, &pn, d, &tp), MSD_OK, "%s", what);
    balanced(&tp, what);
    cr_assert_eq(pn, rn, "%s: %zu packed bytes, compress2 gives %zu", what, pn, rn);
    cr_assert_eq(memcmp(p, ref, rn), 0, "%s: the packed bytes differ from compress2's", what);
    if (p[0] == 1) *compressed += 1;

    uint8_t *q = NULL;
    size_t qn = 0;
    cr_assert_eq(msd_mem_pack(&q, &qn, d), MSD_OK, "%s", what);
    cr_assert_eq(qn, pn, "%s", what);
    cr_assert_eq(memcmp(q, p, pn), 0, "%s: msd_mem_pack differs from the tallied pack", what);

    mem_ztally tu = {0};
    msd_mem_doc *e = NULL;
    cr_assert_eq(mem_unpack_tallied(&e, p, pn, &tu), MSD_OK, "%s", what);
    cr_assert(mt_same(d, e), "%s: unpack does not give the document back", what);
    if (p[0] == 1)
        balanced(&tu, what);
    else
        cr_assert_eq(tu.allocated, 0, "%s: the plain form runs no inflate", what);
    msd_mem_free(e);
    cr_assert_eq(msd_mem_unpack(&e, q, qn), MSD_OK, "%s", what);
    cr_assert(mt_same(d, e), "%s", what);
    msd_mem_free(e);

    free(q);
    free(p);
    free(ref);
    free(json);
}

/* (1) and (2): the bytes are compress2's, round trips hold, blocks balance. */
Test(zwipe, pack_is_compress2_level9_and_wipes)
{
    uint64_t st = mt_seed("zwipe pack_is_compress2_level9_and_wipes");
    int compressed = 0;
    msd_mem_doc *d = mt_new();
    check_pack(d, "empty document", &compressed); /* plain form */
    add_random_facts(d, &st, 1);
    check_pack(d, "one fact", &compressed);
    for (int i = 0; i < 200; i++) mt_add(d, NULL, "prefers concise answers in the morning", MSD_CAT_PRODUCTIVITY, 2);
    check_pack(d, "repetitive facts", &compressed);
    /* Several hundred KiB: beyond deflate's 32 KiB window, so it slides. */
    add_random_facts(d, &st, 1200);
    size_t jn = 0;
    char *json = mt_bytes(d, &jn);
    free(json);
    cr_assert_gt(jn, (size_t)4 * 32768, "the large document is %zu bytes", jn);
    check_pack(d, "large document", &compressed);
    cr_assert_geq(compressed, 2, "the repetitive and large documents take the compressed form");
    msd_mem_free(d);
}

/* deflate's window (2 x 32 KiB of plaintext) goes through the hooks. */
Test(zwipe, deflate_window_is_counted)
{
    msd_mem_doc *d = mt_new();
    for (int i = 0; i < 50; i++) mt_add(d, NULL, "walks the dog before breakfast", MSD_CAT_HEALTH, 1);
    mem_ztally t = {0};
    uint8_t *p = NULL;
    size_t n = 0;
    cr_assert_eq(mem_pack_tallied(&p, &n, d, &t), MSD_OK);
    cr_assert_eq(p[0], 1);
    balanced(&t, "pack");
    cr_assert_geq(t.bytes_allocated, (size_t)2 * 32768, "the window must be among the blocks (%zu bytes)",
                  t.bytes_allocated);
    free(p);
    msd_mem_free(d);
}

/* Error paths end the stream too: an unpack whose inflate fails or whose
 * length does not match still wipes every block it allocated. */
Test(zwipe, unpack_errors_wipe_every_block)
{
    msd_mem_doc *d = mt_new();
    for (int i = 0; i < 100; i++) mt_add(d, NULL, "reads science fiction on the train", MSD_CAT_LEARNING, 3);
    uint8_t *p = NULL;
    size_t n = 0;
    cr_assert_eq(msd_mem_pack(&p, &n, d), MSD_OK);
    cr_assert_eq(p[0], 1);
    struct {
        const char *what;
        size_t at;   /* byte changed, or n: none */
        uint8_t xor; /* applied to p[at] */
        size_t len;  /* bytes given to unpack */
    } cases[] = {
        {"declared length changed", 4, 0x01, n},   /* inflates to another length than declared */
        {"deflate data corrupted", 7, 0xff, n},    /* inflate refuses or ends elsewhere */
        {"Adler-32 changed", n - 1, 0x01, n},      /* Z_DATA_ERROR at the check */
        {"stream truncated", n, 0, n - 10},        /* no Z_STREAM_END */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *q = malloc(n);
        memcpy(q, p, n);
        if (cases[i].at < n) q[cases[i].at] ^= cases[i].xor;
        mem_ztally t = {0};
        msd_mem_doc *e = NULL;
        cr_assert_eq(mem_unpack_tallied(&e, q, cases[i].len, &t), MSD_ERR_MEM_MALFORMED, "%s", cases[i].what);
        cr_assert_null(e);
        balanced(&t, cases[i].what);
        free(q);
    }
    free(p);
    msd_mem_free(d);
}

/* (3) the allocator's size check refuses items * size (+ its header)
 * beyond SIZE_MAX, and accepts up to the limit exactly. */
Test(zwipe, size_overflow_is_refused)
{
    size_t h = 0;
    cr_assert(mem_zwipe_total(0, 0, &h));
    cr_assert_geq(h, sizeof(size_t), "the header holds the block size");
    cr_assert_eq(h % alignof(max_align_t), 0, "the header keeps max_align_t alignment");

    const size_t untouched = 12345;
    const struct {
        size_t items, size;
    } refused[] = {
        {SIZE_MAX, 2},
        {2, SIZE_MAX},
        {SIZE_MAX / 2 + 1, 2},
        {(size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)}, /* exactly 2^bits */
        {1, SIZE_MAX - h + 1},                                                  /* the header tips it over */
        {SIZE_MAX, SIZE_MAX},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        size_t total = untouched;
        cr_assert_not(mem_zwipe_total(refused[i].items, refused[i].size, &total), "case %zu accepted", i);
        cr_assert_eq(total, untouched, "case %zu wrote *total", i);
    }
    size_t total = 0;
    cr_assert(mem_zwipe_total(1, SIZE_MAX - h, &total));
    cr_assert_eq(total, SIZE_MAX);
    cr_assert(mem_zwipe_total(SIZE_MAX - h, 1, &total));
    cr_assert_eq(total, SIZE_MAX);
    cr_assert(mem_zwipe_total(0, SIZE_MAX, &total));
    cr_assert_eq(total, h);
    cr_assert(mem_zwipe_total(UINT_MAX, UINT_MAX, &total) == (sizeof(size_t) > 4));
}

/* The hooks themselves: aligned, writable blocks of the size asked, each
 * free counted once with its size; Z_NULL and a NULL tally are fine. */
Test(zwipe, hooks_count_and_align)
{
    mem_ztally t = {0};
    void *a = mem_zalloc(&t, 3, 7);
    void *b = mem_zalloc(&t, 1, 1);
    void *c = mem_zalloc(NULL, 10, 10); /* not counted */
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_not_null(c);
    cr_assert_eq((uintptr_t)a % alignof(max_align_t), 0);
    cr_assert_eq((uintptr_t)b % alignof(max_align_t), 0);
    memset(a, 0xa5, 21); /* ASan: exactly 21 bytes are ours */
    memset(b, 0x5a, 1);
    memset(c, 0x33, 100);
    cr_assert_eq(t.allocated, 2);
    cr_assert_eq(t.bytes_allocated, 22);
    cr_assert_eq(t.wiped, 0);
    mem_zfree(&t, a);
    cr_assert_eq(t.wiped, 1);
    cr_assert_eq(t.bytes_wiped, 21);
    mem_zfree(&t, Z_NULL);
    cr_assert_eq(t.wiped, 1);
    mem_zfree(&t, b);
    mem_zfree(NULL, c);
    cr_assert_eq(t.wiped, 2);
    cr_assert_eq(t.bytes_wiped, 22);
}

/* A gzip stream of plain[0..n), members of it concatenated `members` times. */
static uint8_t *gzip_of(const void *plain, size_t n, int members, size_t *out_len)
{
    const size_t cap = (size_t)compressBound((uLong)n) + 64;
    uint8_t *gz = malloc(cap * (size_t)members);
    cr_assert_not_null(gz);
    size_t total = 0;
    for (int m = 0; m < members; m++) {
        z_stream z;
        memset(&z, 0, sizeof z);
        cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = (Bytef *)(uintptr_t)plain;
        z.avail_in = (uInt)n;
        z.next_out = gz + total;
        z.avail_out = (uInt)cap;
        cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
        total += z.total_out;
        deflateEnd(&z);
    }
    *out_len = total;
    return gz;
}

static const char JSONL[] =
    "{\"id\":\"a1\",\"content\":\"Grows tomatoes on the balcony\",\"state\":\"active\",\"categories\":[\"personal\"]}\n"
    "{\"id\":\"a2\",\"content\":\"Learning Portuguese for a move to Lisbon\",\"categories\":[\"education\"]}\n"
    "{\"id\":\"a3\",\"content\":\"Archived note\",\"state\":\"archived\",\"categories\":[]}\n";

/* (4) the gzip import: the reader inflates one or several members exactly,
 * its window included, and wipes every block on success and on error; the
 * importer still reads a small gzip input end to end. */
Test(zwipe, gzip_import_wipes_every_block)
{
    const size_t n = sizeof JSONL - 1;
    size_t gn = 0;
    uint8_t *gz = gzip_of(JSONL, n, 1, &gn);

    mem_ztally t = {0};
    uint8_t *out = NULL;
    size_t on = 0;
    cr_assert_eq(msr_gunzip(gz, gn, &out, &on, &t), MSD_OK);
    cr_assert_eq(on, n);
    cr_assert_eq(memcmp(out, JSONL, n), 0);
    free(out);
    balanced(&t, "gunzip");

    /* Beyond the reader's 16 KiB output chunk, inflate keeps its 32 KiB
     * window of plaintext: it is among the blocks wiped. (A stream that
     * inflates in one call needs no window.) */
    const size_t lines = 600;
    char *big = malloc(lines * 96);
    cr_assert_not_null(big);
    size_t bn = 0;
    for (size_t i = 0; i < lines; i++) {
        const int w = snprintf(big + bn, 96, "{\"id\":\"b%zu\",\"content\":\"Remembers fact number %zu\",\"categories\":[\"work\"]}\n",
                               i, i * 7919u);
        cr_assert(w > 0 && w < 96);
        bn += (size_t)w;
    }
    cr_assert_gt(bn, (size_t)2 * 16384);
    size_t bgn = 0;
    uint8_t *bgz = gzip_of(big, bn, 1, &bgn);
    mem_ztally tb = {0};
    cr_assert_eq(msr_gunzip(bgz, bgn, &out, &on, &tb), MSD_OK);
    cr_assert_eq(on, bn);
    cr_assert_eq(memcmp(out, big, bn), 0);
    free(out);
    balanced(&tb, "gunzip, large");
    cr_assert_geq(tb.bytes_allocated, (size_t)32768, "inflate's window must be among the blocks (%zu bytes)",
                  tb.bytes_allocated);
    msd_mem_doc *bd = mt_new();
    msd_mem_import_report br;
    cr_assert_eq(msd_mem_import(bd, &br, MSD_MEM_FORMAT_OPENMEMORY, bgz, bgn, NULL, mt_dev(4)), MSD_OK);
    cr_assert_eq(msd_mem_count(bd), lines);
    msd_mem_free(bd);
    free(bgz);
    free(big);

    /* Three members: one stream, reset between members, wiped at the end. */
    size_t g3 = 0;
    uint8_t *gz3 = gzip_of(JSONL, n, 3, &g3);
    mem_ztally t3 = {0};
    cr_assert_eq(msr_gunzip(gz3, g3, &out, &on, &t3), MSD_OK);
    cr_assert_eq(on, 3 * n);
    for (int m = 0; m < 3; m++) cr_assert_eq(memcmp(out + (size_t)m * n, JSONL, n), 0);
    free(out);
    balanced(&t3, "gunzip, three members");
    free(gz3);

    /* Truncated and corrupted: refused, and still every block wiped. */
    mem_ztally tt = {0};
    out = NULL;
    cr_assert_eq(msr_gunzip(gz, gn - 12, &out, &on, &tt), MSD_ERR_IMPORT);
    cr_assert_null(out);
    balanced(&tt, "gunzip, truncated");
    uint8_t *bad = malloc(gn);
    memcpy(bad, gz, gn);
    bad[gn - 5] ^= 0x40; /* the CRC-32 */
    mem_ztally tc = {0};
    cr_assert_eq(msr_gunzip(bad, gn, &out, &on, &tc), MSD_ERR_IMPORT);
    cr_assert_null(out);
    balanced(&tc, "gunzip, bad CRC");
    free(bad);

    /* The fixture (a gzip of openmemory.jsonl) inflates to that file. */
    size_t fz = 0, fp = 0;
    uint8_t *fgz = fx_read("openmemory.jsonl.gz", &fz), *fplain = fx_read("openmemory.jsonl", &fp);
    mem_ztally tf = {0};
    cr_assert_eq(msr_gunzip(fgz, fz, &out, &on, &tf), MSD_OK);
    cr_assert_eq(on, fp);
    cr_assert_eq(memcmp(out, fplain, fp), 0);
    balanced(&tf, "gunzip, fixture");
    free(out);
    free(fgz);
    free(fplain);

    /* The importer end to end on the gzip input: the two active memories. */
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, gz, gn, NULL, mt_dev(3)), MSD_OK);
    cr_assert_eq(msd_mem_count(d), 2);
    msd_mem_item it;
    cr_assert(fx_find(d, "Grows tomatoes on the balcony", NULL, &it));
    cr_assert(fx_find(d, "Learning Portuguese for a move to Lisbon", NULL, &it));
    cr_assert_not(fx_find(d, "Archived note", NULL, NULL));
    msd_mem_free(d);
    free(gz);
}
