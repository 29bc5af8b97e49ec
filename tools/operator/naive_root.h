/* The state root recomputed from scratch, straight from the recursive
 * definition of spec/state.md ("Definition of the root"): no node store, no
 * caching, shares nothing with storage/smt.c but the two hash rules. */
#ifndef MS_OPERATOR_NAIVE_ROOT_H
#define MS_OPERATOR_NAIVE_ROOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct op_leaf {
    uint8_t path[32];       /* keccak256(key) */
    uint8_t value_hash[32]; /* keccak256(value) */
} op_leaf;

/** Sorts leaves by path, then computes H(S, 0). Returns 1, or 0 when two
 *  leaves share a path. Out: root32. */
int op_naive_root(uint8_t root32[32], op_leaf *leaves, size_t n);

#endif
