/* Calldata encoders for IMemSync (spec/IMemSync.sol), built on abi/abi_encode.c.
 * Each encoder resets b and writes selector + arguments; check b->failed. */
#ifndef MS_HOST_CALLDATA_H
#define MS_HOST_CALLDATA_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi_encode.h"
#include "module/memsync.h"

void cd_create_memory(ms_buf *b, const uint8_t salt[32], const uint8_t metadata[32],
                      const uint8_t *ct, size_t ct_len);
void cd_append_version(ms_buf *b, const uint8_t id[32], uint64_t expected, uint64_t epoch,
                       const uint8_t *ct, size_t ct_len);
void cd_append_version_signed(ms_buf *b, const uint8_t id[32], uint64_t expected, uint64_t epoch,
                              const uint8_t *ct, size_t ct_len, const uint8_t signer[20],
                              uint64_t nonce, uint64_t deadline, const uint8_t sig[65]);
void cd_transfer_ownership_signed(ms_buf *b, const uint8_t id[32], const uint8_t new_owner[20],
                                  uint64_t nonce, uint64_t deadline, const uint8_t sig[65]);
void cd_grant_access(ms_buf *b, const uint8_t id[32], const uint8_t grantee[20], uint8_t perms,
                     uint64_t expiry, const uint8_t *wrapped, size_t wrapped_len);

/** f(bytes32): getHead, getGrants, rotateKey, shredMemory. */
void cd_id(ms_buf *b, uint32_t selector, const uint8_t id[32]);
/** f(bytes32,uint64): getVersion, getVersionInfo, shredVersions. */
void cd_id_u64(ms_buf *b, uint32_t selector, const uint8_t id[32], uint64_t v);
/** f(bytes32,address): getGrant, revokeAccess, transferOwnership. */
void cd_id_addr(ms_buf *b, uint32_t selector, const uint8_t id[32], const uint8_t addr[20]);
/** f(address): nonceOf. */
void cd_addr(ms_buf *b, uint32_t selector, const uint8_t addr[20]);
/** f(): domainSeparator. */
void cd_none(ms_buf *b, uint32_t selector);

/** A top-level frame carrying the calldata in b (borrowed: keep b alive and
 *  unchanged while the message is used), no value, from caller (NULL: the
 *  zero address); MS_STATICCALL also sets is_static. */
ms_message cd_message(ms_call_kind kind, const uint8_t caller[20], const ms_buf *b, uint64_t gas);

#endif
