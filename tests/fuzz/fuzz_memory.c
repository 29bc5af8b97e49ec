/* libFuzzer harness for memory documents (device/memory/, spec/memory.md):
 * msd_mem_unpack over hostile bytes (both payload forms; '{' goes straight
 * to the JSON parser), then, on success, the invariants below.
 *
 * Invariants checked beyond "no crash, no leak, no UB":
 * - unpack returns only MSD_OK, MSD_ERR_MEM_MALFORMED, MSD_ERR_MEM_VERSION
 *   or MSD_ERR_NOMEM, and *out is NULL on every error;
 * - canonical bytes are a fixed point ([MEM-34]): serialize, parse again,
 *   serialize again gives the same bytes, with the same counts and clock;
 *   pack / unpack gives them too;
 * - the clock is at least every stamp ([MEM-3]) and counts respect the caps;
 * - merge3 laws on the parsed document d ([MEM-30]): merge3(d, d, d),
 *   merge3(empty, d, d), merge3(empty, d, empty), merge3(NULL, d, d) and
 *   merge3(d, empty, d) are all d, byte for byte;
 * - the field-wise merge ([MEM-24], [MEM-25]) on d's own facts, with d as
 *   the base: side L edits the text of up to three facts, side R the
 *   importance of the same facts and the text of the second (a text
 *   conflict); merge3(d, L, R) and merge3(d, R, L) have the same bytes,
 *   merging the result again with either side changes nothing, every text
 *   L alone changed and every importance R alone changed is in the result,
 *   and the clock is the larger side's. */
#include <stdlib.h>
#include <string.h>

#include "device/memory/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c)) __builtin_trap();                                                                                    \
    } while (0)

static void bytes_of(const msd_mem_doc *d, uint8_t **b, size_t *n)
{
    CHECK(msd_mem_serialize(b, n, d) == MSD_OK);
}

static void same(const msd_mem_doc *a, const uint8_t *want, size_t n)
{
    uint8_t *b = NULL;
    size_t m = 0;
    bytes_of(a, &b, &m);
    CHECK(m == n && memcmp(b, want, n) == 0);
    free(b);
}

static void check_merges(const msd_mem_doc *d, const uint8_t *want, size_t n)
{
    msd_mem_doc *empty = NULL, *m = NULL;
    CHECK(msd_mem_new(&empty) == MSD_OK);
    const msd_mem_doc *cases[][3] = {{d, d, d}, {empty, d, d}, {empty, d, empty}, {NULL, d, d}, {d, empty, d}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(msd_mem_merge3(&m, cases[i][0], cases[i][1], cases[i][2]) == MSD_OK);
        same(m, want, n);
        CHECK(msd_mem_clock(m) == msd_mem_clock(d));
        msd_mem_free(m);
    }
    msd_mem_free(empty);
}

static uint8_t *bytes_dup(const msd_mem_doc *d, size_t *n)
{
    uint8_t *b = NULL;
    bytes_of(d, &b, n);
    return b;
}

static void check_stable(const msd_mem_doc *b, const msd_mem_doc *m, const msd_mem_doc *x)
{
    size_t n = 0;
    uint8_t *want = bytes_dup(m, &n);
    msd_mem_doc *s = NULL;
    CHECK(msd_mem_merge3(&s, b, m, x) == MSD_OK);
    same(s, want, n);
    msd_mem_free(s);
    CHECK(msd_mem_merge3(&s, b, x, m) == MSD_OK);
    same(s, want, n);
    msd_mem_free(s);
    free(want);
}

#define FW_FACTS 3

static void check_field_merge(const msd_mem_doc *d)
{
    static const uint8_t dev_l[MSD_MEM_DEVICE_SIZE] = {0xf1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t dev_r[MSD_MEM_DEVICE_SIZE] = {0xf2, 2, 2, 2, 2, 2, 2, 2};
    static const char *const l_text[FW_FACTS] = {"fuzz left 0", "fuzz left 1", "fuzz left 2"};
    uint8_t ids[FW_FACTS][MSD_MEM_ID_SIZE];
    size_t n = 0;
    for (size_t i = 0; i < msd_mem_count(d) && n < FW_FACTS; i++) {
        msd_mem_item it;
        CHECK(msd_mem_item_at(d, i, &it) == MSD_OK);
        if (it.kind == MSD_MEM_FACT) memcpy(ids[n++], it.id, MSD_MEM_ID_SIZE);
    }
    if (n == 0) return;
    msd_mem_doc *l = NULL, *r = NULL, *m = NULL, *m2 = NULL;
    CHECK(msd_mem_clone(&l, d) == MSD_OK && msd_mem_clone(&r, d) == MSD_OK);
    int l_ok[FW_FACTS] = {0}, r_ok[FW_FACTS] = {0};
    for (size_t k = 0; k < n; k++) {
        /* A clock at its end takes no change ([MEM-16]): then a side stays d. */
        const msd_status sl = msd_mem_edit_fact(l, ids[k], l_text[k], 0, -1, dev_l);
        CHECK(sl == MSD_OK || sl == MSD_ERR_MEM_TOO_LARGE);
        l_ok[k] = sl == MSD_OK && k != 1;
        msd_mem_item it;
        CHECK(msd_mem_find(d, ids[k], &it) == MSD_OK);
        const int imp = (int)(it.importance + 1 + k) % 101;
        const msd_status sr = msd_mem_edit_fact(r, ids[k], k == 1 ? "fuzz right 1" : NULL, 0, imp, dev_r);
        CHECK(sr == MSD_OK || sr == MSD_ERR_MEM_TOO_LARGE);
        r_ok[k] = sr == MSD_OK ? imp + 1 : 0;
    }
    CHECK(msd_mem_merge3(&m, d, l, r) == MSD_OK);
    CHECK(msd_mem_merge3(&m2, d, r, l) == MSD_OK);
    size_t mn = 0;
    uint8_t *mb = bytes_dup(m, &mn);
    same(m2, mb, mn);
    free(mb);
    CHECK(msd_mem_clock(m) == (msd_mem_clock(l) > msd_mem_clock(r) ? msd_mem_clock(l) : msd_mem_clock(r)));
    check_stable(d, m, l);
    check_stable(d, m, r);
    for (size_t k = 0; k < n; k++) {
        msd_mem_item it;
        CHECK(msd_mem_find(m, ids[k], &it) == MSD_OK);
        if (l_ok[k]) CHECK(strcmp(it.text, l_text[k]) == 0);
        if (r_ok[k]) CHECK((int)it.importance == r_ok[k] - 1);
    }
    msd_mem_free(m);
    msd_mem_free(m2);
    msd_mem_free(l);
    msd_mem_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msd_mem_doc *d = (msd_mem_doc *)&size;
    const msd_status st = msd_mem_unpack(&d, data, size);
    if (st != MSD_OK) {
        CHECK(st == MSD_ERR_MEM_MALFORMED || st == MSD_ERR_MEM_VERSION || st == MSD_ERR_NOMEM);
        CHECK(d == NULL);
        return 0;
    }
    CHECK(d != NULL);
    CHECK(msd_mem_count(d) + msd_mem_tombstones(d) <= MSD_MEM_MAX_ITEMS);
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        msd_mem_item it;
        CHECK(msd_mem_item_at(d, i, &it) == MSD_OK);
        CHECK(it.created.counter >= 1 && it.created.counter <= msd_mem_clock(d));
        CHECK(it.updated.counter >= 1 && it.updated.counter <= msd_mem_clock(d));
        CHECK(it.text != NULL && it.text[0] != '\0' && strlen(it.text) <= MSD_MEM_MAX_TEXT);
        CHECK(!msd_mem_is_forgotten(d, it.id));
        msd_mem_item again;
        CHECK(msd_mem_find(d, it.id, &again) == MSD_OK && again.text == it.text);
        if (it.kind == MSD_MEM_FACT) CHECK(it.categories != 0 && (it.categories & ~(uint32_t)MSD_CAT_ALL) == 0);
        CHECK(it.importance <= 100);
    }
    uint8_t *b1 = NULL;
    size_t n1 = 0;
    bytes_of(d, &b1, &n1);
    CHECK(n1 > 0 && b1[0] == '{');
    msd_mem_doc *e = NULL;
    CHECK(msd_mem_parse(&e, b1, n1) == MSD_OK);
    CHECK(msd_mem_count(e) == msd_mem_count(d) && msd_mem_tombstones(e) == msd_mem_tombstones(d));
    CHECK(msd_mem_clock(e) == msd_mem_clock(d));
    same(e, b1, n1);
    /* The payload forms. */
    uint8_t *p = NULL;
    size_t pn = 0;
    CHECK(msd_mem_pack(&p, &pn, e) == MSD_OK);
    CHECK(pn <= n1);
    msd_mem_doc *u = NULL;
    CHECK(msd_mem_unpack(&u, p, pn) == MSD_OK);
    same(u, b1, n1);
    msd_mem_free(u);
    free(p);
    /* A clone is the same document. */
    msd_mem_doc *c = NULL;
    CHECK(msd_mem_clone(&c, d) == MSD_OK);
    same(c, b1, n1);
    msd_mem_free(c);
    check_merges(d, b1, n1);
    check_field_merge(d);
    /* The graph view never fails on a parsed document. */
    char *g = NULL;
    CHECK(msd_mem_graph_json(&g, d, NULL, NULL, 0, 1) == MSD_OK && g != NULL);
    free(g);
    CHECK(msd_mem_graph_json(&g, d, "a", NULL, 0, 0) == MSD_OK && g != NULL);
    free(g);
    msd_mem_free(e);
    msd_mem_free(d);
    free(b1);
    return 0;
}
