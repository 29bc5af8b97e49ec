/* EIP-712 signing of the three signed actions and their relayer calldata
 * (spec/eip712.md, spec/abi.md §2.3, §2.5, §2.7). */
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "abi/abi_encode.h"
#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "device/internal.h"

msd_status msd_sign_digest(uint8_t sig65[MSD_SIGNATURE_SIZE], const msd_identity *id, const uint8_t digest32[32])
{
    if (sig65 == NULL) return MSD_ERR_ARGS;
    memset(sig65, 0, MSD_SIGNATURE_SIZE);
    if (id == NULL || digest32 == NULL) return MSD_ERR_ARGS;
    secp256k1_ecdsa_recoverable_signature sig;
    /* NULL nonce function: RFC 6979; libsecp256k1 always returns low s. */
    if (!msd_public(secp256k1_ecdsa_sign_recoverable(id->secp, &sig, digest32, id->sign_sk, NULL, NULL)))
        return MSD_ERR_SIGN;
    MSD_DECLASSIFY(&sig, sizeof sig);
    int recid = 0;
    if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(id->secp, sig65, &recid, &sig) || recid < 0 ||
        recid > 1) {
        memset(sig65, 0, MSD_SIGNATURE_SIZE);
        return MSD_ERR_SIGN;
    }
    sig65[64] = (uint8_t)(27 + recid);
    return MSD_OK;
}

/* One ABI argument: a static word or a dynamic `bytes`. */
typedef struct msd_arg {
    int dynamic;
    uint8_t word[32];
    const uint8_t *data;
    size_t len;
} msd_arg;

static msd_arg msd_w_word(const uint8_t w[32])
{
    msd_arg a = {0};
    memcpy(a.word, w, 32);
    return a;
}

static msd_arg msd_w_u64(uint64_t v)
{
    msd_arg a = {0};
    msd_put_be64(a.word + 24, v);
    return a;
}

static msd_arg msd_w_addr(const uint8_t addr[20])
{
    msd_arg a = {0};
    memcpy(a.word + 12, addr, 20);
    return a;
}

static msd_arg msd_w_bytes(const uint8_t *p, size_t len)
{
    msd_arg a = {0};
    a.dynamic = 1;
    a.data = p;
    a.len = len;
    return a;
}

/* selector || heads || tails into cd; the size needed is always reported. */
static msd_status msd_encode(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint32_t selector, const msd_arg *args,
                             size_t n)
{
    ms_buf b;
    ms_buf_init(&b);
    ms_abi_put_selector(&b, selector);
    uint64_t tail = 32u * (uint64_t)n;   /* offsets count from the first argument */
    for (size_t i = 0; i < n; i++) {
        if (args[i].dynamic) {
            ms_abi_put_uint(&b, tail);
            tail += 32u * (uint64_t)ms_abi_bytes_tail_words(args[i].len);
        } else {
            ms_abi_put_word(&b, args[i].word);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (args[i].dynamic) ms_abi_put_bytes_tail(&b, args[i].data, args[i].len);
    msd_status st = MSD_OK;
    if (b.failed) {
        st = MSD_ERR_NOMEM;
    } else if (b.size > cd_cap) {
        *cd_len = b.size;
        st = MSD_ERR_BUFFER;
    } else {
        memcpy(cd, b.data, b.size);
        *cd_len = b.size;
    }
    ms_buf_free(&b);
    return st;
}

static void msd_deadline_word(uint8_t w[32], uint64_t deadline)
{
    memset(w, 0, 32);
    msd_put_be64(w + 24, deadline);
}

/* Common argument checks; zero the outputs. */
static int msd_sign_args_ok(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65, const msd_identity *id,
                            const uint8_t *precompile20, const uint8_t *ct, size_t ct_len)
{
    if (cd_len == NULL) return 0;
    *cd_len = 0;
    if (sig65 != NULL) memset(sig65, 0, MSD_SIGNATURE_SIZE);
    if (cd == NULL && cd_cap > 0) return 0;
    if (cd != NULL) memset(cd, 0, cd_cap);
    return id != NULL && precompile20 != NULL && !(ct == NULL && ct_len > 0);
}

static msd_status msd_sign_finish(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                  const msd_identity *id, const uint8_t digest[32], uint32_t selector,
                                  msd_arg *args, size_t n, size_t sig_arg)
{
    uint8_t sig[MSD_SIGNATURE_SIZE];
    msd_status st = msd_sign_digest(sig, id, digest);
    if (st != MSD_OK) return st;
    args[sig_arg] = msd_w_bytes(sig, sizeof sig);
    st = msd_encode(cd, cd_cap, cd_len, selector, args, n);
    if (st == MSD_OK && sig65 != NULL) memcpy(sig65, sig, sizeof sig);
    return st;
}

msd_status msd_sign_create_memory(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                  const msd_identity *id, uint64_t chain_id, const uint8_t precompile20[20],
                                  const uint8_t salt32[32], const uint8_t metadata32[32],
                                  const uint8_t *ct, size_t ct_len, uint64_t nonce, uint64_t deadline)
{
    if (!msd_sign_args_ok(cd, cd_cap, cd_len, sig65, id, precompile20, ct, ct_len) || salt32 == NULL ||
        metadata32 == NULL)
        return MSD_ERR_ARGS;
    ms_eip712_create m;
    memcpy(m.owner, id->addr, 20);
    memcpy(m.salt, salt32, 32);
    memcpy(m.metadata, metadata32, 32);
    ms_keccak256(m.ciphertext_hash, ct, ct_len);
    m.nonce = nonce;
    msd_deadline_word(m.deadline, deadline);
    uint8_t domain[32], digest[32];
    ms_eip712_domain(domain, chain_id, precompile20);
    ms_eip712_create_digest(digest, domain, &m);
    msd_arg a[7] = {msd_w_addr(id->addr), msd_w_word(salt32), msd_w_word(metadata32), msd_w_bytes(ct, ct_len),
                    msd_w_u64(nonce), msd_w_word(m.deadline), {0}};
    return msd_sign_finish(cd, cd_cap, cd_len, sig65, id, digest, MS_FN_CREATE_MEMORY_SIGNED, a, 7, 6);
}

msd_status msd_sign_append_version(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                   const msd_identity *id, uint64_t chain_id, const uint8_t precompile20[20],
                                   const uint8_t asset_id32[32], uint64_t expected_version, uint64_t key_epoch,
                                   const uint8_t *ct, size_t ct_len, uint64_t nonce, uint64_t deadline)
{
    if (!msd_sign_args_ok(cd, cd_cap, cd_len, sig65, id, precompile20, ct, ct_len) || asset_id32 == NULL)
        return MSD_ERR_ARGS;
    ms_eip712_append m;
    memcpy(m.asset_id, asset_id32, 32);
    m.expected_version = expected_version;
    m.key_epoch = key_epoch;
    ms_keccak256(m.ciphertext_hash, ct, ct_len);
    memcpy(m.signer, id->addr, 20);
    m.nonce = nonce;
    msd_deadline_word(m.deadline, deadline);
    uint8_t domain[32], digest[32];
    ms_eip712_domain(domain, chain_id, precompile20);
    ms_eip712_append_digest(digest, domain, &m);
    msd_arg a[8] = {msd_w_word(asset_id32), msd_w_u64(expected_version), msd_w_u64(key_epoch),
                    msd_w_bytes(ct, ct_len), msd_w_addr(id->addr), msd_w_u64(nonce), msd_w_word(m.deadline), {0}};
    return msd_sign_finish(cd, cd_cap, cd_len, sig65, id, digest, MS_FN_APPEND_VERSION_SIGNED, a, 8, 7);
}

msd_status msd_sign_transfer_ownership(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                       const msd_identity *id, uint64_t chain_id, const uint8_t precompile20[20],
                                       const uint8_t asset_id32[32], const uint8_t new_owner20[20],
                                       uint64_t nonce, uint64_t deadline)
{
    if (!msd_sign_args_ok(cd, cd_cap, cd_len, sig65, id, precompile20, NULL, 0) || asset_id32 == NULL ||
        new_owner20 == NULL)
        return MSD_ERR_ARGS;
    ms_eip712_transfer m;
    memcpy(m.asset_id, asset_id32, 32);
    memcpy(m.new_owner, new_owner20, 20);
    m.nonce = nonce;
    msd_deadline_word(m.deadline, deadline);
    uint8_t domain[32], digest[32];
    ms_eip712_domain(domain, chain_id, precompile20);
    ms_eip712_transfer_digest(digest, domain, &m);
    msd_arg a[5] = {msd_w_word(asset_id32), msd_w_addr(new_owner20), msd_w_u64(nonce), msd_w_word(m.deadline),
                    {0}};
    return msd_sign_finish(cd, cd_cap, cd_len, sig65, id, digest, MS_FN_TRANSFER_OWNERSHIP_SIGNED, a, 5, 4);
}
