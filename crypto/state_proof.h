/* Standalone verifier of MemSync state proof bundles (spec/state.md, "State
 * proof bundle"): what a light client or the owner's device runs to check a
 * memory's head, or one version's hash, against a block's state root without
 * trusting the node that served it. Needs only Keccak-256; no RocksDB, no
 * module, no allocation. */
#ifndef MS_CRYPTO_STATE_PROOF_H
#define MS_CRYPTO_STATE_PROOF_H

#include <stddef.h>
#include <stdint.h>

typedef enum ms_state_proof_status {
    MS_STATE_PROOF_OK = 0,
    MS_STATE_PROOF_MALFORMED = 1,     /* does not parse, unknown format, bad key */
    MS_STATE_PROOF_WRONG_ROOT = 2,    /* built for another block (height or root) than the trusted one */
    MS_STATE_PROOF_INVALID = 3        /* the tree proof does not show this record under the root */
} ms_state_proof_status;

/** What a verified bundle proves. Pointers borrow the bundle's bytes. */
typedef struct ms_state_proof {
    uint64_t height;
    uint8_t root[32];
    const uint8_t *key;        /* 0x01 || assetId (head) or 0x02 || assetId || version u64 */
    size_t key_len;
    int present;               /* 0: the record does not exist at that height */
    const uint8_t *value;      /* the record (spec/storage.md) when present */
    size_t value_len;
} ms_state_proof;

/** Check a bundle against the height and root the caller trusts (from a
 *  block header). Returns MS_STATE_PROOF_OK and fills out, or an error (out
 *  zeroed). In: bundle, len, trusted_height, trusted_root32. */
ms_state_proof_status ms_state_proof_verify(ms_state_proof *out, const uint8_t *bundle, size_t len,
                                            uint64_t trusted_height, const uint8_t trusted_root32[32]);

#endif
