/* Client helpers a wallet or device would have: views through eth_call,
 * asset ids, sealing a version, EIP-712 digests, and the per-block report. */
#ifndef MS_HOST_CLIENT_H
#define MS_HOST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "node.h"

typedef struct client_head {
    uint8_t owner[20];
    uint64_t version;
    uint64_t key_epoch;
    uint32_t flags;
} client_head;

typedef struct client {
    node *n;
    ms_buf cd;
    uint8_t domain[32];   /* EIP-712 domain separator computed locally */
} client;

/** A sealed version ready to submit. */
typedef struct client_ct {
    uint8_t env[DEV_MAX_ENVELOPE];
    size_t len;
    uint8_t hash[32];     /* keccak256(env), for EIP-712 */
} client_ct;

void client_init(client *c, node *n);
void client_free(client *c);

/** assetId = keccak256(precompile || owner || salt). */
void client_asset_id(const client *c, uint8_t id[32], const uint8_t owner[20], const uint8_t salt[32]);

/** getHead via eth_call (quiet). Returns 1 on success. */
int client_head_of(client *c, client_head *h, const uint8_t id[32]);
/** nonceOf via eth_call (quiet). Returns 1 on success. */
int client_nonce_of(client *c, uint64_t *nonce, const uint8_t addr[20]);
/** Compare the local domain separator with domainSeparator(); prints the result. */
int client_check_domain(client *c);

/** Encrypt `text` as version `version` of asset `id` under `key` / `epoch`. */
int client_seal(const client *c, client_ct *ct, const uint8_t id[32], uint64_t version, uint64_t epoch,
                const uint8_t key[32], const char *text);

/** EIP-712 signatures by `signer` (deadline as uint64). */
int client_sign_append(const client *c, uint8_t sig[65], const dev_account *signer, const uint8_t id[32],
                       uint64_t expected, uint64_t epoch, const uint8_t ct_hash[32], uint64_t nonce,
                       uint64_t deadline);
int client_sign_transfer(const client *c, uint8_t sig[65], const dev_account *owner, const uint8_t id[32],
                         const uint8_t new_owner[20], uint64_t nonce, uint64_t deadline);

/** Print getHead of a memory and decrypt its head version with the demo data key. */
void client_show_memory(client *c, const char *label, const uint8_t id[32]);

#endif
