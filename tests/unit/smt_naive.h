/* The state tree's two hash rules by hand (spec/state.md "Hashes"), for
 * the tree tests' worked examples. Their naive reference root is the
 * operator tool's op_naive_root (tools/operator/naive_root.h), computed
 * from the recursive definition and sharing nothing with storage/smt.c. */
#ifndef MS_TESTS_SMT_NAIVE_H
#define MS_TESTS_SMT_NAIVE_H

#include <stdint.h>

#include "tools/operator/naive_root.h"

/** Out: out = keccak256(tag || a || b) (a leaf with tag 0x00, a node 0x01). */
void keccak_cat(uint8_t out[32], uint8_t tag, const uint8_t a[32], const uint8_t b[32]);
/** Returns bit i of p, bit 0 the most significant of byte 0. */
unsigned pbit(const uint8_t *p, unsigned i);

#endif
