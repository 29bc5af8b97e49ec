/* Shared state of the importers (import.c and import_*.c; spec/memory-search.md
 * §4). Internal to the device library, built on the public API only.
 *
 * Each importer reads records and hands them to msr_import_fact /
 * _observation / _entity / _relation, which validate, dedup and count them.
 * Those return MSD_OK for a record that was added, found already present or
 * skipped as invalid (the report says which), and an error only for a
 * failure that must stop the whole import (MSD_ERR_NOMEM, or the document
 * being full).
 */
#ifndef MSD_MEMIMPORT_H
#define MSD_MEMIMPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "device/memory/memtext.h"

/* A foreign id longer than this is not kept (the record still is) [MSR-33]. */
#define MSR_MAX_XID 256u

typedef struct msr_import {
    msd_mem_doc *doc;
    const char *tool;
    const uint8_t *device;
    msd_mem_import_report rep;
    size_t valid;              /* records of the format: added, duplicate, or ignored as inactive */
    msr_set seen;              /* dedup keys of the document's live facts [MSR-30] */
} msr_import;

/** A plain fact (no entity): trimmed, checked, deduped, added with
 *  type semantic, importance 50, imported = 1. cats: a non-empty category
 *  set. xid: the foreign id or NULL. */
msd_status msr_import_fact(msr_import *im, const char *text, size_t n, uint32_t cats, const char *xid);
/** An entity (exact name; a present one counts as a duplicate). *ok = 1
 *  when the entity exists afterwards (its observations can be added). */
msd_status msr_import_entity(msr_import *im, const char *name, const char *type, int *ok);
/** An observation of a live entity, verbatim (a duplicate when the entity
 *  has it already, exactly, as the official server compares). */
msd_status msr_import_observation(msr_import *im, const char *entity, const char *text);
/** A relation (exact; a present one counts as a duplicate). */
msd_status msr_import_relation(msr_import *im, const char *from, const char *to, const char *type);
/** Counts one invalid record. */
void msr_import_invalid(msr_import *im);

/** The format readers: they return MSD_OK (records counted in im), or
 *  MSD_ERR_IMPORT when the buffer is not of the format at all [MSR-34],
 *  or a fatal error from the helpers above. */
msd_status msr_import_text(msr_import *im, const uint8_t *buf, size_t len);
msd_status msr_import_mcp(msr_import *im, const uint8_t *buf, size_t len);
msd_status msr_import_openmemory(msr_import *im, const uint8_t *buf, size_t len);

/** The JSON format: the canonical document merged in (import_json.c). */
msd_status msr_import_json(msd_mem_doc *doc, msd_mem_import_report *rep, const uint8_t *buf, size_t len);

/** Splits buf into lines at '\n' (a trailing '\r' removed); calls fn for
 *  each, stopping at the first error fn returns. */
typedef msd_status (*msr_line_fn)(msr_import *im, const char *line, size_t n, void *arg);
msd_status msr_each_line(msr_import *im, const uint8_t *buf, size_t len, msr_line_fn fn, void *arg);

/** 1 when s[0..n) holds only ASCII whitespace. */
int msr_blank(const char *s, size_t n);

/** A JSON object parsed from s[0..n) (NULL when it is not JSON). */
json_t *msr_json_load(const char *s, size_t n);

#endif
