/* EIP-712 digests of MemSync's signed actions (spec/eip712.md).
 * Each struct is hashed field by field straight into one Keccak state, so no
 * encoded buffer exists and no length can overflow. The type strings are the
 * single source of truth: their hashes are taken at call time rather than
 * kept as hand-copied constants that could drift from them. */
#include "crypto/eip712.h"

#include <string.h>

#include "abi/keccak.h"

/* sizeof - 1: the hashed text excludes the terminating NUL. */
#define MS_LIT(s) ((const uint8_t *)(s)), (sizeof(s) - 1u)

static const char ms_domain_type[] =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
static const char ms_create_type[] =
    "CreateMemory(address owner,bytes32 salt,bytes32 metadata,"
    "bytes32 ciphertextHash,uint256 nonce,uint256 deadline)";
static const char ms_append_type[] =
    "AppendVersion(bytes32 assetId,uint64 expectedVersion,uint64 keyEpoch,"
    "bytes32 ciphertextHash,address signer,uint256 nonce,uint256 deadline)";
static const char ms_transfer_type[] =
    "TransferOwnership(bytes32 assetId,address newOwner,uint256 nonce,uint256 deadline)";
static const char ms_domain_name[] = MS_EIP712_NAME;
static const char ms_domain_version[] = MS_EIP712_VERSION;

/* A dynamic field (string, type string) is encoded as the hash of its bytes. */
static void ms_put_hash_of(ms_keccak *h, const uint8_t *data, size_t len)
{
    uint8_t w[32];
    ms_keccak256(w, data, len);
    ms_keccak_update(h, w, sizeof w);
}

/* uint64 and uint256-from-uint64: one 32-byte big-endian word. */
static void ms_put_u64(ms_keccak *h, uint64_t v)
{
    uint8_t w[32] = {0};
    for (unsigned i = 0; i < 8u; i++) w[31u - i] = (uint8_t)(v >> (8u * i));
    ms_keccak_update(h, w, sizeof w);
}

/* address: the 20 bytes right-aligned in a zero word. */
static void ms_put_address(ms_keccak *h, const uint8_t a[20])
{
    uint8_t w[32] = {0};
    memcpy(w + 12, a, 20);
    ms_keccak_update(h, w, sizeof w);
}

/* bytes32 and raw uint256 words are already in their encoded form. */
static void ms_put_word(ms_keccak *h, const uint8_t w[32])
{
    ms_keccak_update(h, w, 32);
}

/* keccak256(0x19 0x01 || domain || hashStruct), where h holds the absorbed
 * struct encoding (typehash first). */
static void ms_finish_digest(uint8_t out32[32], const uint8_t domain32[32], ms_keccak *h)
{
    static const uint8_t prefix[2] = {0x19, 0x01};
    uint8_t struct_hash[32];
    ms_keccak_final(h, struct_hash);

    ms_keccak d;
    ms_keccak_init(&d);
    ms_keccak_update(&d, prefix, sizeof prefix);
    ms_keccak_update(&d, domain32, 32);
    ms_keccak_update(&d, struct_hash, sizeof struct_hash);
    ms_keccak_final(&d, out32);
}

void ms_eip712_domain(uint8_t out32[32], uint64_t chain_id, const uint8_t verifying_contract20[20])
{
    ms_keccak h;
    ms_keccak_init(&h);
    ms_put_hash_of(&h, MS_LIT(ms_domain_type));
    ms_put_hash_of(&h, MS_LIT(ms_domain_name));
    ms_put_hash_of(&h, MS_LIT(ms_domain_version));
    ms_put_u64(&h, chain_id);
    ms_put_address(&h, verifying_contract20);
    ms_keccak_final(&h, out32);
}

void ms_eip712_create_digest(uint8_t out32[32], const uint8_t domain32[32], const ms_eip712_create *m)
{
    ms_keccak h;
    ms_keccak_init(&h);
    ms_put_hash_of(&h, MS_LIT(ms_create_type));
    ms_put_address(&h, m->owner);
    ms_put_word(&h, m->salt);
    ms_put_word(&h, m->metadata);
    ms_put_word(&h, m->ciphertext_hash);
    ms_put_u64(&h, m->nonce);
    ms_put_word(&h, m->deadline);
    ms_finish_digest(out32, domain32, &h);
}

void ms_eip712_append_digest(uint8_t out32[32], const uint8_t domain32[32], const ms_eip712_append *m)
{
    ms_keccak h;
    ms_keccak_init(&h);
    ms_put_hash_of(&h, MS_LIT(ms_append_type));
    ms_put_word(&h, m->asset_id);
    ms_put_u64(&h, m->expected_version);
    ms_put_u64(&h, m->key_epoch);
    ms_put_word(&h, m->ciphertext_hash);
    ms_put_address(&h, m->signer);
    ms_put_u64(&h, m->nonce);
    ms_put_word(&h, m->deadline);
    ms_finish_digest(out32, domain32, &h);
}

void ms_eip712_transfer_digest(uint8_t out32[32], const uint8_t domain32[32], const ms_eip712_transfer *m)
{
    ms_keccak h;
    ms_keccak_init(&h);
    ms_put_hash_of(&h, MS_LIT(ms_transfer_type));
    ms_put_word(&h, m->asset_id);
    ms_put_address(&h, m->new_owner);
    ms_put_u64(&h, m->nonce);
    ms_put_word(&h, m->deadline);
    ms_finish_digest(out32, domain32, &h);
}
