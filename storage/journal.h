/* The pending block: an in-memory overlay of key/value writes over the
 * committed store, with an undo journal for nested checkpoints.
 *
 * Every put or delete records the key's previous overlay entry in the
 * journal *before* changing it, so ms_journal_revert(cp) restores exactly
 * the overlay as it was when ms_journal_checkpoint returned cp. Logs are
 * journaled too: reverting drops the logs appended after cp.
 *
 * Nothing here touches disk: ms_journal_sorted hands the surviving writes,
 * in ascending key order (memcmp, shorter first on a common prefix), to the
 * code that commits them. Iteration order never depends on addresses or on
 * hashing.
 *
 * Lookups go through a hash table keyed with a secret random key
 * (SipHash-2-4, storage/siphash.h), so that keys chosen by callers cannot
 * be ground into one chain; the key changes placement only. */
#ifndef MS_STORAGE_JOURNAL_H
#define MS_STORAGE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

/** One overlay entry. A deleted key has deleted = 1 and no value. */
typedef struct ms_overlay_entry {
    uint8_t *key;
    size_t klen;
    uint8_t *val;
    size_t vlen;
    int deleted;
    /* keccak256(val), when the caller that put it already had it
     * (ms_journal_put_hashed): the state tree then skips hashing the value
     * again at commit. Any later put, delete or revert of the key clears it. */
    int value_hashed;
    uint8_t value_hash[32];
} ms_overlay_entry;

/** One pending log, stored as opaque bytes by the journal. */
typedef struct ms_pending_log {
    uint8_t *bytes;
    size_t len;
} ms_pending_log;

typedef struct ms_journal ms_journal;

/** Returns a new empty journal whose bucket hash is keyed with key16 (16
 *  bytes, copied), or NULL when out of memory. The key must be secret and
 *  random for the journal to resist keys chosen to collide. */
ms_journal *ms_journal_create_keyed(const uint8_t key16[16]);

/** ms_journal_create_keyed with a key from the kernel's random source.
 *  Returns NULL when out of memory or when no randomness was available. */
ms_journal *ms_journal_create(void);
void ms_journal_destroy(ms_journal *j);

/** Look a key up in the overlay only.
 *  Returns 1 if the overlay has an entry (then *val, *vlen and *deleted describe
 *  it; *val points into the journal and is valid until the next change;
 *  an empty value is *val == NULL with *vlen == 0, not an absent key),
 *  0 if the key must be read from the committed store. */
int ms_journal_get(const ms_journal *j, const uint8_t **val, size_t *vlen, int *deleted,
                   const uint8_t *key, size_t klen);

/** Write or delete a key. Returns 1 on success, 0 when out of memory (the
 *  overlay is then unchanged). Values and keys are copied. */
int ms_journal_put(ms_journal *j, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
int ms_journal_delete(ms_journal *j, const uint8_t *key, size_t klen);
/** ms_journal_put with the value's keccak256 (hash32), which the caller
 *  computed from exactly these bytes (NULL: not known, as ms_journal_put).
 *  Returns 1, or 0 when out of memory. */
int ms_journal_put_hashed(ms_journal *j, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                          const uint8_t hash32[32]);

/** Remember what key held in the committed store before the pending block
 *  (present, and then its value, copied), for the block's undo record. Only
 *  a key with an overlay entry is noted, and only its first note counts: the
 *  committed value cannot change while the block is pending. Returns 1, or
 *  0 when out of memory (nothing is noted; the prior stays unknown, which
 *  is always safe). */
int ms_journal_note_prior(ms_journal *j, const uint8_t *key, size_t klen, int present, const uint8_t *val,
                          size_t vlen);

/** The noted prior of an overlay entry e (one of ms_journal_sorted's).
 *  Returns 1 when known (then *present, and *val and *vlen when present;
 *  *val points into the journal, valid until the entry is reverted away or
 *  the journal cleared), 0 when unknown. */
int ms_journal_prior(const ms_journal *j, const ms_overlay_entry *e, int *present, const uint8_t **val,
                     size_t *vlen);

/** Append a log (copied). Returns 1, or 0 when out of memory. */
int ms_journal_log(ms_journal *j, const uint8_t *bytes, size_t len);

/** The surviving logs, in order. Valid until the next change. */
void ms_journal_logs(const ms_journal *j, const ms_pending_log **logs, size_t *count);

/** Current journal length: a checkpoint id. */
uint64_t ms_journal_checkpoint(const ms_journal *j);

/** Undo every change after checkpoint cp. Returns 1, or 0 if cp is greater
 *  than the journal length (not live). Any cp up to the length is accepted,
 *  so callers keep checkpoints stack-ordered. Never allocates. */
int ms_journal_revert(ms_journal *j, uint64_t cp);

/** Overlay entries in ascending key order. Returns 1 and an array of
 *  pointers owned by the journal (valid until the next change), or 0 when
 *  out of memory. */
int ms_journal_sorted(ms_journal *j, const ms_overlay_entry *const **entries, size_t *count);

/** Number of overlay entries. */
size_t ms_journal_size(const ms_journal *j);

/** Work counters, for tests that bound the cost of colliding keys: the
 *  overlay entries compared by every put, delete and prior note since the
 *  journal was created (a clear keeps the count), and the longest bucket
 *  chain now (what one lookup compares at most). */
uint64_t ms_journal_probes(const ms_journal *j);
size_t ms_journal_longest_chain(const ms_journal *j);

/** Forget everything (after a commit or a discarded block); the hash key
 *  stays. */
void ms_journal_clear(ms_journal *j);

#endif
