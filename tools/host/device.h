/* The client side: demo keys, EIP-712 signing with libsecp256k1, envelope
 * encryption with libsodium XChaCha20-Poly1305-IETF, and key wrapping.
 * DEMO KEYS ONLY: every secret here derives from a fixed, public seed. */
#ifndef MS_HOST_DEVICE_H
#define MS_HOST_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#define DEV_MAX_PLAINTEXT 1000u
#define DEV_MAX_ENVELOPE 2048u
#define DEV_WRAPPED_KEY_SIZE 80u   /* sealed box: 32-byte ephemeral key + 32 + 16 */

/** One demo account: secp256k1 key, its Ethereum address, an X25519 key pair
 *  (to receive wrapped data keys). */
typedef struct dev_account {
    const char *name;
    uint8_t sk[32];
    uint8_t addr[20];
    uint8_t box_pk[32];
    uint8_t box_sk[32];
} dev_account;

/** Where a ciphertext belongs: the associated data of spec/envelope.md. */
typedef struct dev_context {
    uint64_t chain_id;
    uint8_t precompile[20];
    uint8_t asset_id[32];
    uint64_t version;
    uint64_t key_epoch;
} dev_context;

/** sodium_init and a secp256k1 context. Returns 1 on success. */
int dev_init(void);
void dev_shutdown(void);

/** Derive the demo account `name` from the demo seed. Returns 1 on success. */
int dev_account_make(dev_account *a, const char *name);

/** r || s || v (v = 27 + recovery id) over a 32-byte digest. Returns 1 on success. */
int dev_sign(uint8_t sig65[65], const uint8_t digest32[32], const dev_account *a);

/** The owner's demo data key of an asset and key epoch (from the demo seed). */
void dev_data_key(uint8_t key32[32], const uint8_t asset_id[32], uint64_t key_epoch);

/** Pad, encrypt and wrap plaintext into an envelope (crypto/envelope.h).
 *  Out: env (capacity DEV_MAX_ENVELOPE), env_len. Returns 1 on success. */
int dev_seal(uint8_t *env, size_t *env_len, const uint8_t key32[32], const dev_context *c,
             const char *plaintext);

/** Check the header, decrypt and unpad. Out: text (NUL-terminated, capacity
 *  DEV_MAX_PLAINTEXT + 1). Returns 1 on success, 0 if it does not authenticate. */
int dev_open(char *text, const uint8_t key32[32], const dev_context *c, const uint8_t *env, size_t env_len);

/** Seal a data key to a grantee's X25519 key (a sealed box, deterministic for
 *  the demo). Out: wrapped (DEV_WRAPPED_KEY_SIZE bytes). Returns 1 on success. */
int dev_wrap_key(uint8_t wrapped[DEV_WRAPPED_KEY_SIZE], const uint8_t key32[32], const dev_account *to);
/** Open a wrapped key with the grantee's X25519 key. Returns 1 on success. */
int dev_unwrap_key(uint8_t key32[32], const uint8_t *wrapped, size_t len, const dev_account *me);

#endif
