/* Committed small records kept across blocks: a bounded, set-associative
 * cache of what the committed store holds (a value, or that the key is
 * absent) for the records a call reads again and again: asset records,
 * version records, nonces, grant slots. A read from RocksDB's memtable or
 * block cache costs a few microseconds of skip-list and block search; the
 * hit here costs one short hash and a memcmp, and it also hands the block's
 * undo record the committed value of a key the block then writes.
 *
 * Coherence is the owner's duty (storage/state.c): fill it only with values
 * read from the committed store, put every key a commit wrote after the
 * write succeeded, and clear it on a rollback or a failed commit. It changes
 * speed only, never results: nothing is iterated, and eviction depends on
 * keys and access order alone, never on addresses.
 *
 * Memory: MS_RCACHE_SETS * MS_RCACHE_WAYS entries of about 190 bytes,
 * allocated once by ms_rcache_create (6 MiB); nothing allocates afterwards. */
#ifndef MS_STORAGE_RECORD_CACHE_H
#define MS_STORAGE_RECORD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/records.h"

#define MS_RCACHE_SETS 8192u
#define MS_RCACHE_WAYS 4u
/* Larger values (ciphertexts, grants with a wrapped key) are not kept. */
#define MS_RCACHE_VALUE_MAX 128u

typedef struct ms_rcache_entry {
    uint64_t used;                 /* last access stamp; 0: free */
    uint8_t key[MS_KEY_MAX];
    uint8_t klen;
    uint8_t present;               /* 0: the committed store has no such key */
    uint8_t vlen;
    uint8_t val[MS_RCACHE_VALUE_MAX];
} ms_rcache_entry;

typedef struct ms_rcache ms_rcache;

/** Returns a new empty cache, or NULL when out of memory. */
ms_rcache *ms_rcache_create(void);
void ms_rcache_destroy(ms_rcache *c);

/** The entry for key, or NULL. The entry stays valid until the next put or
 *  clear. In: key (klen bytes, borrowed). */
const ms_rcache_entry *ms_rcache_find(ms_rcache *c, const uint8_t *key, size_t klen);

/** Record what the committed store holds for key: present with vlen bytes of
 *  val, or absent (present 0, val ignored). A value longer than
 *  MS_RCACHE_VALUE_MAX, or a key longer than MS_KEY_MAX, is not kept, and
 *  any older entry for the key is dropped. Replaces the set's least recently
 *  used entry when the set is full. Returns the entry, or NULL when not kept. */
const ms_rcache_entry *ms_rcache_put(ms_rcache *c, const uint8_t *key, size_t klen, int present,
                                     const uint8_t *val, size_t vlen);

/** Forget every entry. */
void ms_rcache_clear(ms_rcache *c);

#endif
