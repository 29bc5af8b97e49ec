/* Internals of the memory-document library (device/memory/); not installed.
 *
 * A document keeps its live items and its tombstones in two arrays, each
 * sorted by id (bytewise), so that lookups are binary searches, msd_mem_item_at
 * is an index, and serialising or merging is one ordered walk. An id is never
 * in both arrays. Strings are owned by their item, NUL-terminated, valid
 * UTF-8 without NUL, and wiped when freed. Unknown JSON keys are kept as
 * jansson objects (NULL when there are none, never an empty object, so that
 * equality is a field-by-field comparison). */
#ifndef MSD_MEM_INTERNAL_H
#define MSD_MEM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "device/memory/memory.h"

/* The largest counter or clock: integers stay exact in every JSON reader. */
#define MEM_MAX_COUNTER ((uint64_t)9007199254740991u) /* 2^53 - 1 */

typedef struct mem_item {
    uint8_t id[MSD_MEM_ID_SIZE];
    msd_mem_kind kind;
    char *text;                /* always */
    char *entity;              /* FACT, optional */
    char *etype;               /* ENTITY, may be "" */
    char *from, *to;           /* RELATION */
    uint32_t cats;             /* FACT */
    msd_mem_type type;         /* FACT */
    uint32_t imp;              /* FACT */
    int has_src;               /* "src" present */
    int imported;              /* src.kind == "import" */
    char *tool, *xid;          /* src.tool, src.xid, optional */
    json_t *src_extra;         /* unknown keys of "src", or NULL */
    msd_mem_stamp c, t;
    int has_of;
    uint8_t of[MSD_MEM_ID_SIZE];
    json_t *extra;             /* unknown keys of the item, or NULL */
} mem_item;

typedef struct mem_tomb {
    uint8_t id[MSD_MEM_ID_SIZE];
    msd_mem_stamp t;
} mem_tomb;

struct msd_mem_doc {
    uint64_t clock;
    mem_item **live;           /* sorted by id */
    size_t n_live, cap_live;
    mem_tomb *dead;            /* sorted by id */
    size_t n_dead, cap_dead;
    json_t *extra;             /* unknown top-level keys, or NULL */
};

/* One id's state in a document: live item, tombstone, or absent (both NULL). */
typedef struct mem_ref {
    const mem_item *live;
    const mem_tomb *tomb;
} mem_ref;

/* ------------------------------------------------------------ item.c */

/** A zeroed item, or NULL. */
mem_item *mem_item_new(void);
/** Free an item, wiping its strings. NULL is a no-op. */
void mem_item_free(mem_item *it);
/** Deep copy, or NULL on NOMEM. */
mem_item *mem_item_clone(const mem_item *it);
/** Free a string after wiping it. */
void mem_str_free(char *s);
/** A copy of s (NULL gives NULL with *ok untouched), or NULL with *ok = 0 on NOMEM. */
char *mem_str_dup(const char *s, int *ok);
/** 1 when a and b have the same canonical bytes. */
int mem_item_equal(const mem_item *a, const mem_item *b);
/** 1 when both strings are NULL, or both are equal. */
int mem_str_eq(const char *a, const char *b);
/** 1 when both JSON values are NULL (absent), or both are equal. */
int mem_json_eq(const json_t *a, const json_t *b);
/** 1 when a and b have the same "src" (present or not, kind, tool, xid, unknown keys). */
int mem_src_equal(const mem_item *a, const mem_item *b);
/** Order of two stamps: <0, 0, >0 (counter, then device bytes). */
int mem_stamp_cmp(const msd_mem_stamp *a, const msd_mem_stamp *b);
/** Fill the public view of it (borrowed strings). */
void mem_item_view(msd_mem_item *out, const mem_item *it);
/** 1 when s is valid UTF-8 (no overlong forms, surrogates or code points
 *  above U+10FFFF) of n bytes without NUL. */
int mem_utf8_valid(const char *s, size_t n);
/** Check an API text: MSD_OK, MSD_ERR_ARGS (NULL, empty unless allow_empty,
 *  invalid UTF-8) or MSD_ERR_MEM_TOO_LARGE (over max bytes). */
msd_status mem_check_text(const char *s, size_t max, int allow_empty);
/** 1 when both refs hold the same state (absent, or equal items/tombstones). */
int mem_ref_equal(mem_ref a, mem_ref b);
/** 1 when a wins over b in a merge without base ([MEM-29]); both present.
 *  *oom is set to 1 when a comparison could not allocate. */
int mem_ref_beats(mem_ref a, mem_ref b, int *oom);

/* ------------------------------------------------------------- doc.c */

/** Index of the live item with id, or -1; *pos (may be NULL) gets the insertion point. */
long mem_find_live(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], size_t *pos);
long mem_find_dead(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], size_t *pos);
/** Room for n more live items / tombstones. MSD_OK or MSD_ERR_NOMEM. */
msd_status mem_reserve_live(msd_mem_doc *doc, size_t n);
msd_status mem_reserve_dead(msd_mem_doc *doc, size_t n);
/** Insert (ownership passes to doc) at its sorted place; the id must be new and room reserved. */
void mem_insert_live(msd_mem_doc *doc, mem_item *it);
void mem_insert_dead(msd_mem_doc *doc, const mem_tomb *t);
/** The state of id in doc. */
mem_ref mem_lookup(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE]);

/* Walks a document's live items and tombstones together in id order. */
typedef struct mem_cursor {
    const msd_mem_doc *doc;
    size_t il, id;
} mem_cursor;
void mem_cursor_init(mem_cursor *c, const msd_mem_doc *doc);
/** The next id's state, or a ref with both NULL at the end. */
mem_ref mem_cursor_peek(const mem_cursor *c);
void mem_cursor_next(mem_cursor *c);
/** The id of a present ref. */
const uint8_t *mem_ref_id(mem_ref r);

/* ----------------------------------------------------------- emit.c */

/* A growing byte buffer; the old block is wiped when it moves. */
typedef struct mem_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} mem_buf;
void mem_buf_put(mem_buf *b, const void *p, size_t n);
/** Wipe and free the buffer's block. */
void mem_buf_wipe(mem_buf *b);
/** Append the canonical bytes of one item (live) or tombstone. */
void mem_emit_ref(mem_buf *b, mem_ref r);
/** Append a JSON string as jansson writes it (spec [MEM-32]). */
void mem_emit_string(mem_buf *b, const char *s, size_t n);
/** Append a JSON value in canonical form (keys sorted, compact). */
void mem_emit_json(mem_buf *b, const json_t *v);
/** Compare the canonical bytes of two refs (memcmp order). */
int mem_ref_bytes_cmp(mem_ref a, mem_ref b, int *oom);
/** Compare the canonical bytes of two JSON values; NULL (absent) sorts first. */
int mem_json_bytes_cmp(const json_t *a, const json_t *b, int *oom);

/* --------------------------------------------------------- change.c */

/** The next stamp (clock + 1, device), not yet committed to the clock.
 *  MSD_ERR_MEM_TOO_LARGE when the clock is at its maximum. */
msd_status mem_next_stamp(const msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                          msd_mem_stamp *out);
/** Add a fully built live item with a fresh random id, stamped c = t = next
 *  stamp. Frees it on error. id_out may be NULL. */
msd_status mem_add_item(msd_mem_doc *doc, mem_item *it, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                        uint8_t id_out[MSD_MEM_ID_SIZE]);
/** Set the "src" of a new item. MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM. */
msd_status mem_set_src(mem_item *it, const char *tool, int imported, const char *xid);

#endif
