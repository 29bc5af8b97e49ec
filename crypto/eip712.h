/* EIP-712 typed-data digests of MemSync's signed actions (spec/eip712.md).
 * The digest is exactly what eth_signTypedData_v4 signs:
 *   keccak256(0x19 0x01 || domainSeparator || hashStruct(message)).
 * Domain: EIP712Domain(string name,string version,uint256 chainId,
 *         address verifyingContract) with name "MemSync", version "1". */
#ifndef MS_CRYPTO_EIP712_H
#define MS_CRYPTO_EIP712_H

#include <stdint.h>

/** The domain's name and version (spec/eip712.md [SIG-1]), also returned
 *  by eip712Domain(). Each fits one 32-byte word. */
#define MS_EIP712_NAME "MemSync"
#define MS_EIP712_VERSION "1"

/** Out: out32 = domain separator for chain_id and the precompile address. */
void ms_eip712_domain(uint8_t out32[32], uint64_t chain_id, const uint8_t verifying_contract20[20]);

/** CreateMemory(address owner,bytes32 salt,bytes32 metadata,
 *               bytes32 ciphertextHash,uint256 nonce,uint256 deadline) */
typedef struct ms_eip712_create {
    uint8_t owner[20];
    uint8_t salt[32];
    uint8_t metadata[32];
    uint8_t ciphertext_hash[32];   /* keccak256 of the ciphertext (of "" when none) */
    uint64_t nonce;
    uint8_t deadline[32];          /* uint256, big-endian */
} ms_eip712_create;

/** AppendVersion(bytes32 assetId,uint64 expectedVersion,uint64 keyEpoch,
 *                bytes32 ciphertextHash,address signer,uint256 nonce,uint256 deadline) */
typedef struct ms_eip712_append {
    uint8_t asset_id[32];
    uint64_t expected_version;
    uint64_t key_epoch;
    uint8_t ciphertext_hash[32];
    uint8_t signer[20];
    uint64_t nonce;
    uint8_t deadline[32];
} ms_eip712_append;

/** TransferOwnership(bytes32 assetId,address newOwner,uint256 nonce,uint256 deadline) */
typedef struct ms_eip712_transfer {
    uint8_t asset_id[32];
    uint8_t new_owner[20];
    uint64_t nonce;
    uint8_t deadline[32];
} ms_eip712_transfer;

/* Nonces are uint256 in the type strings but uint64 here on purpose: a
 * signer's nonce is a counter that can never pass 2^64, and the module
 * rejects a larger nonce word before any digest is built. */

/** Digests to sign or recover from. In: domain32 (from ms_eip712_domain). */
void ms_eip712_create_digest(uint8_t out32[32], const uint8_t domain32[32], const ms_eip712_create *m);
void ms_eip712_append_digest(uint8_t out32[32], const uint8_t domain32[32], const ms_eip712_append *m);
void ms_eip712_transfer_digest(uint8_t out32[32], const uint8_t domain32[32], const ms_eip712_transfer *m);

#endif
