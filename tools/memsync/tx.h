/* Legacy (type 0) Ethereum transactions with EIP-155 replay protection:
 * RLP encoding and signing, by a raw dev-account key or by the identity. */
#ifndef MEMSYNC_TX_H
#define MEMSYNC_TX_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi_encode.h"
#include "cli.h"

typedef struct tx_key {
    uint8_t sk[32];          /* cleared by tx_key_clear */
    uint8_t address[20];
} tx_key;

typedef struct tx_legacy {
    uint64_t nonce, gas_price, gas, chain_id;
    uint8_t to[20];
    const uint8_t *data;
    size_t data_len;
} tx_legacy;

/** A secp256k1 key in hex (optional 0x, surrounding whitespace) from path. */
int tx_key_load(tx_key *k, const char *path);
void tx_key_clear(tx_key *k);

/** RLP of the signed transaction into raw (reset first). Return CLI_OK or an exit code. */
int tx_sign_key(ms_buf *raw, const tx_legacy *t, const tx_key *k);
int tx_sign_identity(ms_buf *raw, const tx_legacy *t, const msd_identity *id);

/** RLP helpers (exposed for tests). */
void rlp_put_bytes(ms_buf *b, const uint8_t *p, size_t n);
void rlp_put_uint(ms_buf *b, uint64_t v);
void rlp_wrap_list(ms_buf *out, const ms_buf *payload);

#endif
