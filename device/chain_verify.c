/* Offline verification of a memory's version hash chain (spec/abi.md
 * [ABI-21]) and of a state proof of its asset record (spec/state.md), so a
 * reader need not trust the node or the bundle that served the versions. */
#include <string.h>

#include "abi/keccak.h"
#include "crypto/state_proof.h"
#include "crypto/version_hash.h"
#include "device/internal.h"

static const uint8_t msd_zero32[32];

static msd_status msd_chain_broken(msd_chain_result *res, msd_chain_break why, size_t i, uint64_t version)
{
    res->reason = why;
    res->index = i;
    res->version = version;
    return MSD_ERR_CHAIN;
}

msd_status msd_chain_verify(msd_chain_result *res, const uint8_t asset_id32[32], const uint8_t *prev32,
                            const msd_chain_version *versions, size_t n, const uint8_t *head32)
{
    if (res == NULL) return MSD_ERR_ARGS;
    memset(res, 0, sizeof *res);
    if (asset_id32 == NULL || (versions == NULL && n > 0)) return MSD_ERR_ARGS;
    uint8_t prev[32];
    memcpy(prev, prev32 != NULL ? prev32 : msd_zero32, 32);
    for (size_t i = 0; i < n; i++) {
        const msd_chain_version *v = &versions[i];
        /* Version 1 has no predecessor, so only a zero prevHash can precede it;
         * later versions must follow their predecessor by exactly one. */
        const int numbering_ok = v->version != 0 &&
                                 (i == 0 ? (v->version != 1 || memcmp(prev, msd_zero32, 32) == 0)
                                         : v->version == versions[i - 1].version + 1);
        if (!numbering_ok) return msd_chain_broken(res, MSD_CHAIN_NUMBERING, i, v->version);
        uint8_t ct_hash[32];
        if (v->ciphertext != NULL) {
            ms_keccak256(ct_hash, v->ciphertext, v->ciphertext_len);
            if (v->ciphertext_hash != NULL && memcmp(ct_hash, v->ciphertext_hash, 32) != 0)
                return msd_chain_broken(res, MSD_CHAIN_CIPHERTEXT, i, v->version);
        } else if (v->ciphertext_hash != NULL) {
            memcpy(ct_hash, v->ciphertext_hash, 32);
        } else {
            return msd_chain_broken(res, MSD_CHAIN_NO_CIPHERTEXT, i, v->version);
        }
        if (v->parent != NULL && memcmp(v->parent, prev, 32) != 0)
            return msd_chain_broken(res, MSD_CHAIN_PARENT, i, v->version);
        uint8_t h[32];
        ms_version_hash(h, prev, asset_id32, v->version, ct_hash, v->key_epoch, v->author);
        if (memcmp(h, v->version_hash, 32) != 0) return msd_chain_broken(res, MSD_CHAIN_HASH, i, v->version);
        memcpy(prev, h, 32);
    }
    if (head32 != NULL && memcmp(prev, head32, 32) != 0)
        return msd_chain_broken(res, MSD_CHAIN_HEAD, n == 0 ? 0 : n - 1, n == 0 ? 0 : versions[n - 1].version);
    return MSD_OK;
}

static uint32_t msd_get_be32(const uint8_t p[4])
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

msd_status msd_verify_asset_proof(msd_asset_state *st, const uint8_t *proof, size_t proof_len,
                                  uint64_t trusted_height, const uint8_t trusted_root32[32],
                                  const uint8_t asset_id32[32])
{
    if (st == NULL) return MSD_ERR_ARGS;
    memset(st, 0, sizeof *st);
    if (proof == NULL || trusted_root32 == NULL || asset_id32 == NULL) return MSD_ERR_ARGS;
    ms_state_proof p;
    if (ms_state_proof_verify(&p, proof, proof_len, trusted_height, trusted_root32) != MS_STATE_PROOF_OK)
        return MSD_ERR_PROOF;
    /* The asset key is 0x01 || assetId (spec/storage.md [ST-3]). */
    if (p.key_len != 33 || p.key[0] != 0x01 || memcmp(p.key + 1, asset_id32, 32) != 0) return MSD_ERR_PROOF;
    if (!p.present) return MSD_OK;
    if (p.value_len != 124) return MSD_ERR_PROOF;
    const uint8_t *r = p.value;
    st->present = 1;
    memcpy(st->owner, r, 20);
    st->head_version = msd_get_be64(r + 20);
    memcpy(st->head_hash, r + 28, 32);
    st->key_epoch = msd_get_be64(r + 60);
    st->flags = msd_get_be32(r + 68);
    memcpy(st->metadata, r + 72, 32);
    st->grant_count = msd_get_be32(r + 104);
    st->shredded_up_to = msd_get_be64(r + 108);
    return MSD_OK;
}
