/* The version hash chain of a memory (spec/abi.md [ABI-21]): the module
 * computes it when a version is appended, the owner's device recomputes it
 * to verify what a node or a bundle serves. One function for both, so the
 * two cannot drift apart. */
#ifndef MS_CRYPTO_VERSION_HASH_H
#define MS_CRYPTO_VERSION_HASH_H

#include <stdint.h>

/** versionHash = keccak256(prevHash 32 | assetId 32 | version u64 BE |
 *  ciphertextHash 32 | keyEpoch u64 BE | author 20), i.e. Solidity's
 *  abi.encodePacked(bytes32, bytes32, uint64, bytes32, uint64, address).
 *  Pure and deterministic; no argument may be NULL.
 *  Out: out32. In: prev32 (32 zero bytes for version 1), asset_id32,
 *  version, ct_hash32 (keccak256 of the ciphertext), key_epoch, author20. */
void ms_version_hash(uint8_t out32[32], const uint8_t prev32[32], const uint8_t asset_id32[32], uint64_t version,
                     const uint8_t ct_hash32[32], uint64_t key_epoch, const uint8_t author20[20]);

#endif
