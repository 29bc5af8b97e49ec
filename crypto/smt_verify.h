/* Standalone verifier of state-tree proofs (spec/state.md, "Proofs"). It
 * depends on abi/keccak.h only, so it runs on the owner's device without
 * RocksDB or the module. It never allocates and never reads outside
 * proof[0 .. len).
 *
 * Proof format, version 1 (all integers big-endian):
 *
 *   off  size        field
 *   0    1           format = 0x01
 *   1    1           kind: 0x01 inclusion (the key holds a value)
 *                          0x02 non-inclusion, the key's position is an empty subtree
 *                          0x03 non-inclusion, the key's position holds another key's leaf
 *   2    32          path = keccak256(key): the key this proof is about
 *   34   2           depth D, 0..256: the terminal subtree is at binary depth D
 *   36   ceil(D/8)   sibling bitmap: bit d (byte d/8, mask 0x80 >> d%8) is 1 when the
 *                    sibling at depth d is not the empty subtree; bits >= D are 0
 *   ..   32          kind 0x01: valueHash = keccak256(value)
 *        64          kind 0x03: leafPath32 || leafValueHash32 of the other leaf
 *        0           kind 0x02
 *   ..   32 * n      the non-empty siblings, depth 0 first (n = bits set in the bitmap)
 *
 * The sibling at depth d is the subtree at depth d+1 whose prefix is the
 * first d bits of path followed by the complement of path bit d. Bit i of a
 * 32-byte path is (path[i/8] >> (7 - i%8)) & 1.
 *
 * A proof is accepted only in its canonical form: exact length; bitmap
 * padding zero; every sibling marked non-empty is not 32 zero bytes; when
 * D > 0 the sibling at depth D-1 is non-empty (a subtree with one leaf is
 * that leaf, so no canonical path ends beside an empty sibling); for kind
 * 0x03 the other leaf's path differs from path and shares its first D bits. */
#ifndef MS_CRYPTO_SMT_VERIFY_H
#define MS_CRYPTO_SMT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#define MS_SMT_PROOF_FORMAT 0x01u
#define MS_SMT_PROOF_INCLUSION 0x01u
#define MS_SMT_PROOF_ABSENT_EMPTY 0x02u
#define MS_SMT_PROOF_ABSENT_LEAF 0x03u
#define MS_SMT_PROOF_MAX_DEPTH 256u
/* 36 + 32 (bitmap of 256 bits) + 64 + 256 * 32 */
#define MS_SMT_PROOF_MAX_SIZE 8324u

typedef enum ms_smt_verify_status {
    MS_SMT_VERIFY_OK = 0,
    MS_SMT_VERIFY_MALFORMED = 1,  /* does not parse, or is not canonical */
    MS_SMT_VERIFY_WRONG_KEY = 2,  /* the proof is about another key */
    MS_SMT_VERIFY_WRONG_KIND = 3, /* inclusion expected and non-inclusion given, or the reverse */
    MS_SMT_VERIFY_WRONG_VALUE = 4,/* an inclusion proof for another value */
    MS_SMT_VERIFY_MISMATCH = 5    /* well formed, but does not lead to root */
} ms_smt_verify_status;

/** Check a proof about key against root32 and say what it proves.
 *  Out: present (1: the key holds the value whose hash is value_hash32;
 *  0: the key is absent, value_hash32 zero). Out values are written only on
 *  MS_SMT_VERIFY_OK; present and value_hash32 may be NULL.
 *  In: root32, key (klen bytes), proof (len bytes). */
ms_smt_verify_status ms_smt_verify(const uint8_t root32[32], const uint8_t *key, size_t klen,
                                   const uint8_t *proof, size_t len, int *present,
                                   uint8_t value_hash32[32]);

/** MS_SMT_VERIFY_OK when proof shows that key holds exactly value
 *  (val may be NULL when vlen is 0) under root32. */
ms_smt_verify_status ms_smt_verify_inclusion(const uint8_t root32[32], const uint8_t *key, size_t klen,
                                             const uint8_t *val, size_t vlen, const uint8_t *proof,
                                             size_t len);

/** MS_SMT_VERIFY_OK when proof shows that key is absent under root32. */
ms_smt_verify_status ms_smt_verify_non_inclusion(const uint8_t root32[32], const uint8_t *key, size_t klen,
                                                 const uint8_t *proof, size_t len);

/* Hashing rules shared by the tree and the verifier (spec/state.md). */

/** The 65-byte preimages of the two hashes below, for callers that hash
 *  many at once (storage/smt_apply.c, abi/keccak_batch.h).
 *  Out: out65 = 0x00 || path32 || value_hash32, or 0x01 || left32 || right32. */
void ms_smt_leaf_preimage(uint8_t out65[65], const uint8_t path32[32], const uint8_t value_hash32[32]);
void ms_smt_internal_preimage(uint8_t out65[65], const uint8_t left32[32], const uint8_t right32[32]);

/** Out: out32 = keccak256(0x00 || path32 || value_hash32). */
void ms_smt_hash_leaf(uint8_t out32[32], const uint8_t path32[32], const uint8_t value_hash32[32]);
/** Out: out32 = keccak256(0x01 || left32 || right32). out32 may alias an input. */
void ms_smt_hash_internal(uint8_t out32[32], const uint8_t left32[32], const uint8_t right32[32]);

#endif
