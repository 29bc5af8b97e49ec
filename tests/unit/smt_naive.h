/* The state tree's root computed naively from its recursive definition
 * (spec/state.md "Definition of the root"), shared by the tree tests as
 * the reference the stored tree must match. */
#ifndef MS_TESTS_SMT_NAIVE_H
#define MS_TESTS_SMT_NAIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nleaf {
    uint8_t path[32], vh[32];
} nleaf;

/** Out: out = keccak256(tag || a || b) (a leaf with tag 0x00, a node 0x01). */
void keccak_cat(uint8_t out[32], uint8_t tag, const uint8_t a[32], const uint8_t b[32]);
/** Returns bit i of p, bit 0 the most significant of byte 0. */
unsigned pbit(const uint8_t *p, unsigned i);
/** qsort order of leaves by path. */
int nleaf_cmp(const void *a, const void *b);
/** Out: out, the hash of the n leaves ls (sorted by path, all sharing their
 *  first `depth` bits), as the recursion defines it. */
void naive_root(uint8_t out[32], const nleaf *ls, size_t n, unsigned depth);

#endif
