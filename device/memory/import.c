/* msd_mem_import: the dispatcher, the all-or-nothing rule, and the record
 * helpers every format shares (spec/memory-search.md §4).
 *
 * All or nothing [MSR-35]: the import first runs on a clone of the document;
 * only when that run succeeds does it run again on the document itself. The
 * public API has no way to swap a clone's contents into the caller's handle,
 * so this costs a second pass, but a file that is not of the format, a full
 * document or an allocation failure in the first pass leaves the caller's
 * document untouched. The second pass makes the same calls in the same order
 * on the same state, so it meets the same outcome (only fresh ids differ).
 */
#include "device/memory/memimport.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int msr_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!space((unsigned char)s[i])) return 0;
    return 1;
}

json_t *msr_json_load(const char *s, size_t n)
{
    json_error_t err;
    return json_loadb(s, n, 0, &err);
}

msd_status msr_each_line(msr_import *im, const uint8_t *buf, size_t len, msr_line_fn fn, void *arg)
{
    size_t i = 0;
    while (i < len) {
        const uint8_t *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len, n = end - i;
        if (n > 0 && buf[i + n - 1] == '\r') n--;
        msd_status st = fn(im, (const char *)buf + i, n, arg);
        if (st != MSD_OK) return st;
        i = end + 1;
    }
    return MSD_OK;
}

/* --------------------------------------------------------------- dedup */

/* The dedup key of a plain fact [MSR-30]: its normalised text. (Graph
 * records are compared exactly by the graph calls [MSR-31].) */
static void dedup_key(msr_buf *k, const char *text, size_t n)
{
    msr_put_normalised(k, text, n);
}

static msd_status seen_build(msr_import *im)
{
    const size_t count = msd_mem_count(im->doc);
    msr_buf k = {0};
    msd_status st = MSD_OK;
    for (size_t i = 0; st == MSD_OK && i < count; i++) {
        msd_mem_item it;
        if (msd_mem_item_at(im->doc, i, &it) != MSD_OK || it.kind != MSD_MEM_FACT || it.entity != NULL) continue;
        k.len = 0;
        dedup_key(&k, it.text, strlen(it.text));
        st = k.oom ? MSD_ERR_NOMEM : msr_set_add(&im->seen, k.p, k.len);
    }
    msr_buf_wipe(&k);
    return st;
}

/* 1 when the text is new (remembered as seen when add), 0 when seen; -1 on NOMEM. */
static int seen_check(msr_import *im, const char *text, size_t n, int add)
{
    msr_buf k = {0};
    dedup_key(&k, text, n);
    int r = -1;
    if (!k.oom) r = msr_set_has(&im->seen, k.p, k.len) ? 0 : 1;
    if (r == 1 && add && msr_set_add(&im->seen, k.p, k.len) != MSD_OK) r = -1;
    msr_buf_wipe(&k);
    return r;
}

/* -------------------------------------------------------------- records */

void msr_import_invalid(msr_import *im)
{
    im->rep.skipped++;
}

/* Counts the outcome of an add: added or already there (MSD_OK), this
 * record invalid (MSD_OK, counted as skipped), or an error that stops the
 * import. */
static msd_status count_add(msr_import *im, msd_status st, int changed)
{
    switch (st) {
    case MSD_OK:
        im->valid++;
        if (changed) im->rep.added++;
        else im->rep.duplicates++;
        return MSD_OK;
    case MSD_ERR_ARGS:
    case MSD_ERR_MEM_NOT_FOUND:
        /* Bad UTF-8, an empty name, a relation to nowhere: this record only. */
        im->rep.skipped++;
        return MSD_OK;
    default:
        /* NOMEM, or TOO_LARGE once texts are within their cap: the document is full. */
        return st;
    }
}

msd_status msr_import_fact(msr_import *im, const char *text, size_t n, uint32_t cats, const char *xid)
{
    while (n > 0 && space((unsigned char)text[0])) text++, n--;
    while (n > 0 && space((unsigned char)text[n - 1])) n--;
    if (n == 0 || n > MSD_MEM_MAX_TEXT || !msr_utf8_valid(text, n)) {
        im->rep.skipped++;
        return MSD_OK;
    }
    int fresh = seen_check(im, text, n, 0);
    if (fresh < 0) return MSD_ERR_NOMEM;
    if (fresh == 0) {
        im->valid++;
        im->rep.duplicates++;
        return MSD_OK;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL) return MSD_ERR_NOMEM;
    memcpy(copy, text, n);
    copy[n] = '\0';
    if (xid != NULL && (strlen(xid) > MSR_MAX_XID || !msr_utf8_valid(xid, strlen(xid)))) xid = NULL;
    const msd_mem_fact_in in = {
        .text = copy, .categories = cats, .type = MSD_MEM_SEMANTIC, .importance = 50,
        .entity = NULL, .tool = im->tool, .imported = 1, .foreign_id = xid,
    };
    msd_status st = msd_mem_add_fact(im->doc, NULL, &in, im->device);
    if (st == MSD_OK && seen_check(im, copy, n, 1) < 0) st = MSD_ERR_NOMEM;
    sodium_memzero(copy, n);
    free(copy);
    return count_add(im, st, 1);
}

/* Over-long strings are this record's fault, not a full document's. */
static int too_long(const char *a, const char *b, const char *c)
{
    return strlen(a) > MSD_MEM_MAX_TEXT || strlen(b) > MSD_MEM_MAX_TEXT || (c != NULL && strlen(c) > MSD_MEM_MAX_TEXT);
}

msd_status msr_import_entity(msr_import *im, const char *name, const char *type, int *ok)
{
    *ok = 0;
    if (too_long(name, type, NULL)) {
        im->rep.skipped++;
        return MSD_OK;
    }
    int changed = 0;
    msd_status st = msd_mem_graph_add_entity(im->doc, name, type, im->tool, 1, im->device, &changed);
    *ok = st == MSD_OK;
    return count_add(im, st, changed);
}

msd_status msr_import_observation(msr_import *im, const char *entity, const char *text)
{
    if (too_long(entity, text, NULL)) {
        im->rep.skipped++;
        return MSD_OK;
    }
    /* Exact, as the server's add_observations compares [MSR-31]: the graph
     * call reports an observation the entity has as unchanged. */
    int changed = 0;
    msd_status st = msd_mem_graph_add_observation(im->doc, entity, text, im->tool, 1, im->device, &changed);
    return count_add(im, st, changed);
}

msd_status msr_import_relation(msr_import *im, const char *from, const char *to, const char *type)
{
    if (too_long(from, to, type)) {
        im->rep.skipped++;
        return MSD_OK;
    }
    int changed = 0;
    msd_status st = msd_mem_graph_add_relation(im->doc, from, to, type, im->tool, 1, im->device, &changed);
    return count_add(im, st, changed);
}

/* ------------------------------------------------------------ dispatch */

static const char *format_tool(msd_mem_format fmt)
{
    switch (fmt) {
    case MSD_MEM_FORMAT_MCP_MEMORY: return "mcp-memory";
    case MSD_MEM_FORMAT_OPENMEMORY: return "openmemory";
    default: return "text";
    }
}

/* One run of a format reader on doc [MSR-34]. */
static msd_status run(msd_mem_doc *doc, msd_mem_import_report *rep, msd_mem_format fmt, const uint8_t *buf,
                      size_t len, const char *tool, const uint8_t *device)
{
    msr_import im;
    memset(&im, 0, sizeof im);
    im.doc = doc;
    im.tool = tool != NULL ? tool : format_tool(fmt);
    im.device = device;
    msd_status st = seen_build(&im);
    if (st == MSD_OK) {
        switch (fmt) {
        case MSD_MEM_FORMAT_MCP_MEMORY: st = msr_import_mcp(&im, buf, len); break;
        case MSD_MEM_FORMAT_OPENMEMORY: st = msr_import_openmemory(&im, buf, len); break;
        default: st = msr_import_text(&im, buf, len); break;
        }
    }
    /* Not of the format at all: no valid record, and at least one invalid. */
    if (st == MSD_OK && im.valid == 0 && im.rep.skipped > 0) st = MSD_ERR_IMPORT;
    msr_set_free(&im.seen);
    *rep = im.rep;
    return st;
}

msd_status msd_mem_import(msd_mem_doc *doc, msd_mem_import_report *rep, msd_mem_format fmt, const uint8_t *buf,
                          size_t len, const char *tool, const uint8_t device[MSD_MEM_DEVICE_SIZE])
{
    msd_mem_import_report r = {0, 0, 0};
    if (rep != NULL) *rep = r;
    if (doc == NULL || (buf == NULL && len != 0) || device == NULL) return MSD_ERR_ARGS;
    if (tool != NULL && (tool[0] == '\0' || strlen(tool) > MSD_MEM_MAX_TOOL || !msr_utf8_valid(tool, strlen(tool))))
        return MSD_ERR_ARGS;
    if (buf == NULL) buf = (const uint8_t *)"";
    msd_status st;
    if (fmt == MSD_MEM_FORMAT_JSON) {
        st = msr_import_json(doc, &r, buf, len);
    } else if (fmt == MSD_MEM_FORMAT_MCP_MEMORY || fmt == MSD_MEM_FORMAT_OPENMEMORY || fmt == MSD_MEM_FORMAT_TEXT) {
        msd_mem_doc *trial = NULL;
        st = msd_mem_clone(&trial, doc);
        if (st == MSD_OK) st = run(trial, &r, fmt, buf, len, tool, device);
        msd_mem_free(trial);
        if (st == MSD_OK && r.added > 0) st = run(doc, &r, fmt, buf, len, tool, device);
    } else {
        return MSD_ERR_ARGS;
    }
    if (st == MSD_OK && rep != NULL) *rep = r;
    return st;
}
