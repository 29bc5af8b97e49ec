/* The state records of an earlier retained height: the current records with
 * the undo records of the blocks above it applied in reverse (spec/storage.md
 * [ST-17], [ST-18]), as a rollback would leave them, without writing. */
#ifndef MS_OPERATOR_STATE_AT_H
#define MS_OPERATOR_STATE_AT_H

#include <stdint.h>

#include "store.h"

/** Rewind recs (loaded at the store's committed height, values kept) to
 *  height. Returns an OP_EXIT_* code (OP_EXIT_HEIGHT when height is above
 *  the committed one, was never committed, or is older than the undo records
 *  kept for reorgs). */
int op_state_rewind(op_store *s, op_recs *recs, uint64_t height);

/** The naive root (naive_root.h) over recs. Returns an OP_EXIT_* code. */
int op_recs_root(const op_recs *recs, uint8_t root32[32]);

#endif
