/* The state commitment returned by commit_block (spec/storage.md, "State
 * commitment"). Schema 1 commits to the whole history of writes: each
 * block's root hashes the previous root, the height and every write of the
 * block in key order, so two validators agree on the root exactly when they
 * agree on every write of every block. */
#ifndef MS_STORAGE_STATE_ROOT_H
#define MS_STORAGE_STATE_ROOT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/journal.h"

/** Out: out32. In: prev32 (the last root, zero before the first block),
 *  height, entries (ascending key order, from ms_journal_sorted), count. */
void ms_state_root_next(uint8_t out32[32], const uint8_t prev32[32], uint64_t height,
                        const ms_overlay_entry *const *entries, size_t count);

#endif
