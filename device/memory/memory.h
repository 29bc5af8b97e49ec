/* MemSync memory documents: the plaintext `memsync.memory/1` that each
 * version of an owner's memory encrypts (spec/memory.md).
 *
 * A document is a set of items, each with a random 128-bit id: facts ("prefers
 * concise answers"), and the entities and relations of a knowledge graph (the
 * model of the official MCP memory server; an observation is a fact that
 * names its entity). Every change carries a stamp (Lamport counter, device
 * id); a forgotten item becomes a compact tombstone. Documents from several
 * devices merge deterministically (msd_mem_merge3), serialise to one
 * canonical byte string, and keep the fields they do not know.
 *
 * Part of the owner's device library (build/libmemsync-device.a), never of
 * libmemsync.so. Links with jansson and zlib besides libsodium.
 *
 * Conventions are those of device/memsync_device.h: functions return an
 * msd_status; pointer arguments must not be NULL unless stated; Out handles
 * are NULL and Out buffers unset on error; "borrowed" pointers stay valid
 * until the document is next changed or freed. Documents are plaintext: the
 * caller clears serialised buffers (sodium_memzero) before freeing them.
 * Nothing here logs, prints or reads the clock.
 */
#ifndef MSD_MEMORY_H
#define MSD_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "device/memsync_device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSD_MEM_FORMAT "memsync.memory/1"
#define MSD_MEM_ID_SIZE 16u
#define MSD_MEM_DEVICE_SIZE 8u

/* Caps, checked on every add and every parse (spec/memory.md §5). */
#define MSD_MEM_MAX_TEXT 4096u            /* one fact's text, entity name, type or relation, bytes of UTF-8 */
#define MSD_MEM_MAX_TOOL 128u             /* a source tool name */
#define MSD_MEM_MAX_ITEMS 200000u         /* items, tombstones included */
#define MSD_MEM_MAX_DOC (64u << 20)       /* serialised document, bytes */

/* The ten categories, as a bit set (spec/memory.md §2.3). */
enum {
    MSD_CAT_IDENTITY = 1u << 0,
    MSD_CAT_CAREER = 1u << 1,
    MSD_CAT_INTERESTS = 1u << 2,
    MSD_CAT_RELATIONSHIPS = 1u << 3,
    MSD_CAT_HEALTH = 1u << 4,
    MSD_CAT_FINANCE = 1u << 5,
    MSD_CAT_LEARNING = 1u << 6,
    MSD_CAT_TRAVEL = 1u << 7,
    MSD_CAT_PRODUCTIVITY = 1u << 8,
    MSD_CAT_PRIVATE = 1u << 9
};
#define MSD_CAT_COUNT 10u
#define MSD_CAT_ALL 0x3ffu

/** The name of category bit index i (0..9), e.g. "career"; NULL beyond. */
const char *msd_mem_category_name(unsigned i);
/** The bit of a category name (exact, lower case), or 0 when unknown. */
uint32_t msd_mem_category_bit(const char *name);

typedef enum msd_mem_type { MSD_MEM_SEMANTIC = 1, MSD_MEM_EPISODIC = 2 } msd_mem_type;
typedef enum msd_mem_kind { MSD_MEM_FACT = 1, MSD_MEM_ENTITY = 2, MSD_MEM_RELATION = 3 } msd_mem_kind;

/** A change's stamp: later = higher counter, then higher device id (bytewise). */
typedef struct msd_mem_stamp {
    uint64_t counter;                       /* Lamport counter, >= 1 */
    uint8_t device[MSD_MEM_DEVICE_SIZE];
} msd_mem_stamp;

/** One live item, as read from a document. Strings are borrowed, NUL-terminated UTF-8. */
typedef struct msd_mem_item {
    uint8_t id[MSD_MEM_ID_SIZE];
    msd_mem_kind kind;
    const char *text;          /* FACT: the fact (or observation); ENTITY: the name; RELATION: relationType */
    const char *entity;        /* FACT: the entity name it observes, or NULL */
    const char *entity_type;   /* ENTITY: entityType */
    const char *from, *to;     /* RELATION: entity names */
    uint32_t categories;       /* FACT: non-empty set of MSD_CAT_*; ENTITY, RELATION: 0 */
    msd_mem_type type;         /* FACT */
    uint32_t importance;       /* FACT: 0..100 */
    const char *tool;          /* which tool or agent wrote it, or NULL */
    int imported;              /* 1: came from an import (untrusted data, never instructions) */
    msd_mem_stamp created;     /* the add */
    msd_mem_stamp updated;     /* the last change (= created when never changed) */
    int has_conflict_of;       /* 1: a conflict copy of the fact conflict_of (spec/memory.md §3) */
    uint8_t conflict_of[MSD_MEM_ID_SIZE];
} msd_mem_item;

typedef struct msd_mem_doc msd_mem_doc;

/* --------------------------------------------------------------- documents */

/** A new, empty document (clock 0). Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM. Out: out. */
msd_status msd_mem_new(msd_mem_doc **out);

/** Free a document (and wipe its strings). NULL is a no-op. */
void msd_mem_free(msd_mem_doc *doc);

/** A deep copy. Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM. Out: out. In: doc. */
msd_status msd_mem_clone(msd_mem_doc **out, const msd_mem_doc *doc);

/** Exchange the contents of a and b (O(1); NULL is a no-op). Args: a, b. */
void msd_mem_swap(msd_mem_doc *a, msd_mem_doc *b);

/** Parse a serialised document (JSON, spec/memory.md §4; canonical or not).
 *  Unknown fields, at the top level and in items, are kept and written back.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_MEM_MALFORMED (not JSON, a field of
 *  the wrong type or out of range, a duplicate id or key, over a cap),
 *  MSD_ERR_MEM_VERSION (a `format` other than memsync.memory/1),
 *  MSD_ERR_NOMEM. Out: out. In: buf, len. */
msd_status msd_mem_parse(msd_mem_doc **out, const uint8_t *buf, size_t len);

/** The canonical bytes of doc: items sorted by id, keys sorted, no
 *  whitespace (spec/memory.md §4). Equal documents give equal bytes.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM.
 *  Out: *out (malloc'd, free() after sodium_memzero), *len. In: doc. */
msd_status msd_mem_serialize(uint8_t **out, size_t *len, const msd_mem_doc *doc);

/** The envelope payload of doc: the canonical bytes, zlib-compressed when
 *  that is shorter (spec/memory.md §5). Out/In as msd_mem_serialize. */
msd_status msd_mem_pack(uint8_t **out, size_t *len, const msd_mem_doc *doc);

/** Read an envelope payload written by msd_mem_pack (either form).
 *  Returns as msd_mem_parse; a payload that does not inflate, or inflates
 *  beyond MSD_MEM_MAX_DOC, is MSD_ERR_MEM_MALFORMED. */
msd_status msd_mem_unpack(msd_mem_doc **out, const uint8_t *buf, size_t len);

/** The document's Lamport clock: at least every stamp in it. */
uint64_t msd_mem_clock(const msd_mem_doc *doc);

/** Number of live items (tombstones excluded), and of tombstones. */
size_t msd_mem_count(const msd_mem_doc *doc);
size_t msd_mem_tombstones(const msd_mem_doc *doc);

/** The i-th live item in id order (0 <= i < msd_mem_count).
 *  Returns MSD_OK or MSD_ERR_ARGS. Out: item (borrowed strings). */
msd_status msd_mem_item_at(const msd_mem_doc *doc, size_t i, msd_mem_item *item);

/** The live item with this id. Returns MSD_OK, MSD_ERR_ARGS,
 *  MSD_ERR_MEM_NOT_FOUND (no such id, or it was forgotten). Out: item. */
msd_status msd_mem_find(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], msd_mem_item *item);

/** 1 when the document holds a tombstone for id. */
int msd_mem_is_forgotten(const msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE]);

/* ------------------------------------------------------------------ changes */

/** What a new fact says. */
typedef struct msd_mem_fact_in {
    const char *text;          /* required, 1..MSD_MEM_MAX_TEXT bytes of valid UTF-8, no NUL */
    uint32_t categories;       /* non-empty subset of MSD_CAT_ALL */
    msd_mem_type type;         /* MSD_MEM_SEMANTIC or MSD_MEM_EPISODIC */
    uint32_t importance;       /* 0..100 (50 is the usual default) */
    const char *entity;        /* NULL, or the entity this observes */
    const char *tool;          /* NULL, or the writing tool, <= MSD_MEM_MAX_TOOL bytes */
    int imported;              /* 1 for imports */
    const char *foreign_id;    /* NULL, or the id the fact had in the imported source (kept as "xid") */
} msd_mem_fact_in;

/** Add a fact with a fresh random id, stamped (clock + 1, device).
 *  Returns MSD_OK, MSD_ERR_ARGS (a field out of range, invalid UTF-8),
 *  MSD_ERR_MEM_TOO_LARGE (text over MSD_MEM_MAX_TEXT, or the document at
 *  MSD_MEM_MAX_ITEMS), MSD_ERR_NOMEM.
 *  Args: doc. Out: id_out (may be NULL). In: in, device. */
msd_status msd_mem_add_fact(msd_mem_doc *doc, uint8_t id_out[MSD_MEM_ID_SIZE], const msd_mem_fact_in *in,
                            const uint8_t device[MSD_MEM_DEVICE_SIZE]);

/** Change a live fact: text (NULL keeps it), categories (0 keeps them),
 *  importance (-1 keeps it). Stamps updated = (clock + 1, device).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_MEM_NOT_FOUND, MSD_ERR_MEM_TOO_LARGE, MSD_ERR_NOMEM. */
msd_status msd_mem_edit_fact(msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], const char *text,
                             uint32_t categories, int importance, const uint8_t device[MSD_MEM_DEVICE_SIZE]);

/** Forget a live item: it becomes a tombstone {id, del, stamp} with no
 *  text. Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_MEM_NOT_FOUND. */
msd_status msd_mem_forget(msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE],
                          const uint8_t device[MSD_MEM_DEVICE_SIZE]);

/* ---------------------------------------------------------- knowledge graph */
/* The official MCP memory server's operations (spec/memory.md §6). Names
 * compare exactly. Entities with the same name that two devices created
 * concurrently read as one entity. Each returns MSD_OK, MSD_ERR_ARGS,
 * MSD_ERR_MEM_TOO_LARGE, MSD_ERR_NOMEM; *changed (may be NULL) says whether
 * the document changed (0 when the entity, observation or relation existed). */

msd_status msd_mem_graph_add_entity(msd_mem_doc *doc, const char *name, const char *entity_type, const char *tool,
                                    int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed);
/** MSD_ERR_MEM_NOT_FOUND when no live entity has this name. The observation
 *  is a fact (type semantic, importance 50, category identity) naming the entity. */
msd_status msd_mem_graph_add_observation(msd_mem_doc *doc, const char *entity, const char *text, const char *tool,
                                         int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed);
msd_status msd_mem_graph_add_relation(msd_mem_doc *doc, const char *from, const char *to, const char *relation_type,
                                      const char *tool, int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                                      int *changed);
/** Forgets the entity, its observations and every relation from or to it. */
msd_status msd_mem_graph_delete_entity(msd_mem_doc *doc, const char *name, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                                       int *changed);
msd_status msd_mem_graph_delete_observation(msd_mem_doc *doc, const char *entity, const char *text,
                                            const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed);
msd_status msd_mem_graph_delete_relation(msd_mem_doc *doc, const char *from, const char *to, const char *relation_type,
                                         const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed);

/** The graph as the official server returns it, as JSON text:
 *  {"entities":[{"name","entityType","observations":[…]}],"relations":[{"from","to","relationType"}]}
 *  (entities in creation order, observations in the order they were added).
 *  query NULL and names NULL: the whole graph (read_graph). query: entities
 *  whose name, type or an observation contains it, case-insensitively
 *  (search_nodes). names (n_names): those entities (open_nodes). Relations
 *  are filtered exactly as the official server filters them for each call
 *  (spec/memory.md §6). Observations in the private category are left out
 *  unless include_private.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM. Out: *json (malloc'd, NUL-terminated). */
msd_status msd_mem_graph_json(char **json, const msd_mem_doc *doc, const char *query, const char *const *names,
                              size_t n_names, int include_private);

/* -------------------------------------------------------------------- merge */

/** Three-way merge (spec/memory.md §3): base is the version both sides
 *  started from (NULL when unknown: then a tombstone beats everything for its
 *  id, otherwise the whole later version wins). Per id: one side unchanged →
 *  the other; a forget beats a concurrent edit; otherwise, when base holds the
 *  item, field by field (a field one side left alone takes the other's value,
 *  one both changed takes the later stamp's), and when both sides changed a
 *  fact's text, the losing version is kept once as a conflict copy whose id
 *  is derived from (id, loser's stamp). Pure and deterministic:
 *  merge3(b, l, r) and merge3(b, r, l) have the same canonical bytes.
 *  Unknown top-level fields: the winner's by clock, then by bytes.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM. Out: out (a new document). */
msd_status msd_mem_merge3(msd_mem_doc **out, const msd_mem_doc *base, const msd_mem_doc *ours,
                          const msd_mem_doc *theirs);

/* ------------------------------------------------------- search and context */

typedef struct msd_mem_filter {
    uint32_t categories;       /* 0: any; else a fact must have one of these */
    msd_mem_type type;         /* 0: any */
    int include_private;       /* 0: facts in `private` are never returned */
    int facts_only;            /* 1: entities and relations are not returned */
} msd_mem_filter;

typedef struct msd_mem_hit {
    uint8_t id[MSD_MEM_ID_SIZE];
    double score;              /* BM25; 0 for a listing */
} msd_mem_hit;

/** Rank live items by BM25 (k1 1.2, b 0.75) over their text, category names
 *  and entity names for query (case-folded alphanumeric tokens), best first,
 *  ties by id; items with score 0 are not returned. An empty query (no
 *  token) lists every item that passes the filter, newest first.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM.
 *  Out: hits (cap entries), *n (number written, <= cap). In: doc, query, f (NULL: defaults). */
msd_status msd_mem_search(msd_mem_hit *hits, size_t cap, size_t *n, const msd_mem_doc *doc, const char *query,
                          const msd_mem_filter *f);

/** The "who I am" context block: Markdown grouped by category (in the order
 *  of the category bits), facts by importance then recency, within max_bytes
 *  (the block never exceeds it; what does not fit is counted in a last
 *  line). `private` is left out unless include_private. Imported facts are
 *  set apart in a quoted section headed as data, not instructions.
 *  Returns MSD_OK, MSD_ERR_ARGS (max_bytes < 64), MSD_ERR_NOMEM.
 *  Out: *out (malloc'd, NUL-terminated), *len. */
msd_status msd_mem_context(char **out, size_t *len, const msd_mem_doc *doc, size_t max_bytes, int include_private);

/* ------------------------------------------------------- import and export */

typedef enum msd_mem_format {
    MSD_MEM_FORMAT_MCP_MEMORY = 1,   /* the official memory server's JSONL graph */
    MSD_MEM_FORMAT_OPENMEMORY = 2,   /* an OpenMemory / mem0 export (memories.json, JSONL, or mem0 JSON) */
    MSD_MEM_FORMAT_TEXT = 3,         /* one fact per line */
    MSD_MEM_FORMAT_MARKDOWN = 4,     /* export only */
    MSD_MEM_FORMAT_JSON = 5          /* export: the canonical document itself; import: the same */
} msd_mem_format;

typedef struct msd_mem_import_report {
    size_t added;              /* items added */
    size_t duplicates;         /* records already present (same normalised text), not added again */
    size_t skipped;            /* records that were not valid and were skipped */
} msd_mem_import_report;

/** Import buf in format fmt into doc. Every added fact is marked imported
 *  (tool = tool, or the format's name); a record whose normalised text the
 *  document already holds is not added again, so importing a file twice
 *  adds nothing.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_IMPORT (the file is not of this
 *  format at all; nothing is added), MSD_ERR_NOMEM. Out: rep (may be NULL). */
msd_status msd_mem_import(msd_mem_doc *doc, msd_mem_import_report *rep, msd_mem_format fmt, const uint8_t *buf,
                          size_t len, const char *tool, const uint8_t device[MSD_MEM_DEVICE_SIZE]);

/** Export doc in format fmt (MCP_MEMORY, MARKDOWN or JSON). The private
 *  category is left out unless include_private. An export in format F
 *  imported into an empty document and exported again in F gives the same
 *  bytes. Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM. Out: *out (malloc'd), *len. */
msd_status msd_mem_export(uint8_t **out, size_t *len, const msd_mem_doc *doc, msd_mem_format fmt,
                          int include_private);

#ifdef __cplusplus
}
#endif

#endif
