/* Keys and salts derived from the identity seed (spec/device.md §6), so that
 * the recovery phrase alone finds the owner's memories and opens them: a
 * lost device loses nothing, and nothing extra is kept on chain.
 *
 * Both derivations are libsodium's crypto_kdf_derive_from_key (BLAKE2b-256
 * keyed with the seed) under their own 8-byte contexts, distinct from the
 * identity's ("MSsecp1k", "MSx25519"), so every output is an independent
 * PRF value of the seed. */
#include <string.h>

#include <sodium.h>

#include "device/internal.h"

static const char msd_ctx_salt[crypto_kdf_CONTEXTBYTES + 1] = "MSmemslt";
static const char msd_ctx_data[crypto_kdf_CONTEXTBYTES + 1] = "MSdatkey";

/* The domain label of the data key's BLAKE2b input (ASCII, no NUL). */
#define MSD_DATA_KEY_LABEL "memsync.data-key/1"
#define MSD_DATA_KEY_LABEL_LEN (sizeof MSD_DATA_KEY_LABEL - 1u)
#define MSD_DATA_KEY_MSG_LEN (MSD_DATA_KEY_LABEL_LEN + 8u + 20u + 32u + 8u)

void msd_memory_salt(uint8_t salt32[32], const msd_identity *id, uint32_t shard)
{
    if (salt32 == NULL) return;
    /* Subkey id shard + 1: ids start at 1 like the identity's, and a
     * uint32_t shard + 1 cannot overflow the 64-bit id. */
    if (id == NULL || crypto_kdf_derive_from_key(salt32, 32, (uint64_t)shard + 1u, msd_ctx_salt, id->seed) != 0)
        sodium_memzero(salt32, 32);
}

msd_status msd_data_key_derive(msd_data_key **out, const msd_identity *id, uint64_t chain_id,
                               const uint8_t precompile20[20], const uint8_t asset_id32[32], uint64_t key_epoch)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (id == NULL || precompile20 == NULL || asset_id32 == NULL || key_epoch == 0) return MSD_ERR_ARGS;

    /* The labels are public; only the key of the hash is secret. */
    uint8_t msg[MSD_DATA_KEY_MSG_LEN];
    size_t o = 0;
    memcpy(msg + o, MSD_DATA_KEY_LABEL, MSD_DATA_KEY_LABEL_LEN);
    o += MSD_DATA_KEY_LABEL_LEN;
    msd_put_be64(msg + o, chain_id);
    o += 8u;
    memcpy(msg + o, precompile20, 20);
    o += 20u;
    memcpy(msg + o, asset_id32, 32);
    o += 32u;
    msd_put_be64(msg + o, key_epoch);

    uint8_t sub[crypto_generichash_KEYBYTES], key[MSD_DATA_KEY_SIZE];
    msd_status st = MSD_ERR_INIT;
    if (crypto_kdf_derive_from_key(sub, sizeof sub, 1, msd_ctx_data, id->seed) == 0 &&
        crypto_generichash(key, sizeof key, msg, sizeof msg, sub, sizeof sub) == 0)
        st = msd_data_key_import(out, asset_id32, key_epoch, key);
    sodium_memzero(sub, sizeof sub);
    sodium_memzero(key, sizeof key);
    return st;
}
