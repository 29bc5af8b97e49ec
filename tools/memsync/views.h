/* The read functions of IMemSync through chain_call, decoded (spec/abi.md §2.13-2.18). */
#ifndef MEMSYNC_VIEWS_H
#define MEMSYNC_VIEWS_H

#include "chain.h"

typedef struct view_head {
    int exists;
    uint8_t owner[20];
    uint64_t version;
    uint8_t head_hash[32];
    uint64_t key_epoch;
    uint32_t flags;
    uint8_t metadata[32];
} view_head;

typedef struct view_version {
    uint8_t version_hash[32];
    uint8_t ciphertext_hash[32];
    uint64_t key_epoch;
    uint8_t author[20];
    uint64_t block_number;
    uint8_t state;             /* 1 retained, 2 pruned, 3 shredded */
} view_version;

typedef struct view_grant {
    uint8_t grantee[20];
    uint8_t permissions;
    uint64_t expiry;
    uint64_t key_epoch;
} view_grant;

/* Each returns CLI_OK, CLI_REVERTED (unexpected revert, printed), CLI_NODE. */
int view_head_of(chain *c, const uint8_t asset[32], view_head *h);        /* AssetNotFound: exists = 0 */
int view_nonce_of(chain *c, const uint8_t addr[20], uint64_t *nonce);
int view_version_info(chain *c, const uint8_t asset[32], uint64_t v, view_version *out);
/** getVersion: ct gets the ciphertext (empty, *retained = 0, when pruned or shredded). */
int view_ciphertext(chain *c, const uint8_t asset[32], uint64_t v, ms_buf *ct, int *retained);
/** getGrants: *out malloc'd (free()), *n entries. */
int view_grants(chain *c, const uint8_t asset[32], view_grant **out, size_t *n);
/** getGrant: *found = 0 on GrantNotFound; wk gets the wrapped key. */
int view_grant_of(chain *c, const uint8_t asset[32], const uint8_t grantee[20], view_grant *g, ms_buf *wk, int *found);

#endif
