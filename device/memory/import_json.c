/* JSON import: a MemSync document (an msd_mem_export JSON, or any
 * memsync.memory/1 bytes) merged into doc exactly as msd_mem_merge3(NULL,
 * doc, it): ids and stamps kept, so importing it again adds nothing
 * (spec/memory-search.md §4.4, [MSR-55]). Provenance is kept as recorded:
 * this is the owner's own format, a backup, not foreign data.
 */
#include "device/memory/memimport.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int same_bytes(const msd_mem_doc *a, const msd_mem_doc *b, msd_status *st)
{
    uint8_t *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    *st = msd_mem_serialize(&x, &nx, a);
    if (*st == MSD_OK) *st = msd_mem_serialize(&y, &ny, b);
    int same = *st == MSD_OK && nx == ny && memcmp(x, y, nx) == 0;
    if (x != NULL) sodium_memzero(x, nx);
    if (y != NULL) sodium_memzero(y, ny);
    free(x);
    free(y);
    return same;
}

msd_status msr_import_json(msd_mem_doc *doc, msd_mem_import_report *rep, const uint8_t *buf, size_t len)
{
    /* Not JSON, or JSON without a "format": not a MemSync document at all.
     * A document that is one, but malformed or of another version, keeps
     * the parser's own error [MSR-56]. */
    json_t *probe = msr_json_load((const char *)buf, len);
    const int is_doc = json_is_object(probe) && json_object_get(probe, "format") != NULL;
    json_decref(probe);
    if (!is_doc) return MSD_ERR_IMPORT;
    msd_mem_doc *in = NULL, *merged = NULL;
    msd_status st = msd_mem_parse(&in, buf, len);
    if (st != MSD_OK) return st;
    st = msd_mem_merge3(&merged, NULL, doc, in);

    /* The report: items of the file live in the result; new ones added. */
    msd_mem_import_report r = {0, 0, 0};
    const size_t n_in = msd_mem_count(in);
    for (size_t i = 0; st == MSD_OK && i < n_in; i++) {
        msd_mem_item a, b;
        if (msd_mem_item_at(in, i, &a) != MSD_OK) continue;
        if (msd_mem_find(doc, a.id, &b) == MSD_OK) r.duplicates++;
        else if (msd_mem_find(merged, a.id, &b) == MSD_OK) r.added++;
    }
    if (st == MSD_OK && !same_bytes(doc, merged, &st) && st == MSD_OK) {
        msd_mem_swap(doc, merged);   /* the merge result replaces the caller's contents in place */
    }
    if (st == MSD_OK) *rep = r;
    msd_mem_free(in);
    msd_mem_free(merged);
    return st;
}
