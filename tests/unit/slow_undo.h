/* A block's undo record (spec/storage.md [ST-17]) built the slow way, for
 * tests to compare with the one commit writes: one committed-store read per
 * overlay key, just before the commit, ignoring what the journal knows. */
#ifndef MS_TEST_SLOW_UNDO_H
#define MS_TEST_SLOW_UNDO_H

#include <stddef.h>
#include <stdint.h>

#include "storage/state.h"

typedef struct slow_undo {
    uint8_t *bytes;   /* malloc'd; the caller frees it */
    size_t n, cap;
} slow_undo;

/** Builds the undo record of st's pending block into u (reset first), and
 *  asserts that every prior the journal knows equals the store. Returns how
 *  many overlay keys have a known prior. */
size_t slow_undo_of_pending(ms_state *st, slow_undo *u);

#endif
