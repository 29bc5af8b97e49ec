/* The contract operations (spec/abi.md) and the checks they share. Each
 * operation decodes its own arguments, charges gas before each piece of work,
 * and returns an ms_outcome; the dispatcher rolls back anything but OK. */
#ifndef MS_MODULE_OPS_H
#define MS_MODULE_OPS_H

#include "module/call.h"

ms_outcome ms_op_create_memory(ms_call *c);
ms_outcome ms_op_create_memory_signed(ms_call *c);
ms_outcome ms_op_append_version(ms_call *c);
ms_outcome ms_op_append_version_signed(ms_call *c);
ms_outcome ms_op_transfer_ownership(ms_call *c);
ms_outcome ms_op_transfer_ownership_signed(ms_call *c);
ms_outcome ms_op_grant_access(ms_call *c);
ms_outcome ms_op_revoke_access(ms_call *c);
ms_outcome ms_op_rotate_key(ms_call *c);
ms_outcome ms_op_shred_memory(ms_call *c);
ms_outcome ms_op_shred_versions(ms_call *c);
ms_outcome ms_op_get_head(ms_call *c);
ms_outcome ms_op_get_version(ms_call *c);
ms_outcome ms_op_get_version_info(ms_call *c);
ms_outcome ms_op_get_grants(ms_call *c);
ms_outcome ms_op_get_grant(ms_call *c);
ms_outcome ms_op_nonce_of(ms_call *c);
ms_outcome ms_op_domain_separator(ms_call *c);
ms_outcome ms_op_eip712_domain(ms_call *c);

/* ------------------------------------------------------- shared checks */

/** Read an asset (one charged read). AssetNotFound when absent. */
ms_outcome ms_load_asset(ms_call *c, ms_asset *a, const uint8_t id[32]);
/** As ms_load_asset, and AssetIsShredded for a shredded asset. */
ms_outcome ms_load_live_asset(ms_call *c, ms_asset *a, const uint8_t id[32]);
/** NotAuthorized unless account is the owner. */
ms_outcome ms_require_owner(ms_call *c, const ms_asset *a, const uint8_t id[32], const uint8_t account[20]);
/** NotAuthorized unless account is the owner or holds an unexpired write
 *  grant (one charged read when it is not the owner). */
ms_outcome ms_require_writer(ms_call *c, const ms_asset *a, const uint8_t id[32], const uint8_t account[20]);

/** Size and envelope policy of a ciphertext claiming key_epoch. */
ms_outcome ms_check_ciphertext(ms_call *c, const uint8_t *ct, size_t len, uint64_t key_epoch);

/** Append version head+1 (ciphertext already validated and hashed): writes
 *  the version, its ciphertext and the updated asset *a, prunes the version
 *  that falls out of retention, emits VersionAppended. Out: hash32. */
ms_outcome ms_append_core(ms_call *c, uint8_t hash32[32], ms_asset *a, const uint8_t id[32],
                          const uint8_t author[20], uint64_t key_epoch, const uint8_t *ct, size_t ct_len,
                          const uint8_t ct_hash[32]);

/** Delete the ciphertext of retained version v (its record rec, read by the
 *  caller) and rewrite the record with state (pruned or shredded): charge
 *  R, read the ciphertext for its length c, charge 2W + X(c) ([GAS-21]),
 *  delete, write. Shared by PRUNE and SHRED (spec/abi.md). */
ms_outcome ms_drop_ciphertext(ms_call *c, const uint8_t id[32], uint64_t v, ms_version *rec, uint8_t state);

/** Revoke every grant of an asset (slot order), updating a->grant_count. */
ms_outcome ms_revoke_all(ms_call *c, ms_asset *a, const uint8_t id[32]);

/* ------------------------------------------------------ signed actions */

/** First half of a signed action: deadline, then the claimed signer's nonce.
 *  Charges the nonce read and the typed-data hashing of n_fields fields.
 *  Out: nonce (the signer's current nonce).
 *  In: nonce_word, deadline_word (raw uint256 words from calldata). */
ms_outcome ms_signed_begin(ms_call *c, uint64_t *nonce, const uint8_t signer[20], const uint8_t nonce_word[32],
                           const uint8_t deadline_word[32], unsigned n_fields);

/** Second half: check and recover the signature over digest, require the
 *  claimed signer, and consume the nonce. */
ms_outcome ms_signed_finish(ms_call *c, const uint8_t signer[20], uint64_t nonce, const uint8_t digest[32],
                            const uint8_t *sig, size_t sig_len);

/** Gas of computing the EIP-712 domain separator (four Keccak-256 hashes). */
uint64_t ms_domain_cost(const ms_call *c);

/** The EIP-712 domain of this call (current chain id, precompile address). */
void ms_call_domain(const ms_call *c, uint8_t out32[32]);

/** Decode helper: on failure writes InvalidCalldata and returns 0. */
#define MS_DECODE(c, expr)                                   \
    do {                                                     \
        const ms_abi_err e_ = (expr);                        \
        if (e_ != MS_ABI_OK) return ms_fail_calldata((c), e_); \
    } while (0)

/** Return any outcome but OK at once. */
#define MS_CHECK(expr)                                   \
    do {                                                 \
        const ms_outcome o_ = (expr);                    \
        if (o_ != MS_OUT_OK) return o_;                  \
    } while (0)

#endif
