/* appendVersion and appendVersionSigned: compare-and-swap on the head,
 * hash-chained versions, ciphertext retention. */
#include <string.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "crypto/envelope.h"
#include "crypto/version_hash.h"
#include "module/ops.h"

ms_outcome ms_check_ciphertext(ms_call *c, const uint8_t *ct, size_t len, uint64_t key_epoch)
{
    if (len > c->cfg->max_ciphertext) {
        return ms_fail(c, MS_E_CIPHERTEXT_TOO_LARGE, 2, ms_w_u64(len), ms_w_u64(c->cfg->max_ciphertext));
    }
    const ms_env_err e = ms_envelope_check(ct, len, key_epoch, c->cfg->bucket_policy);
    if (e != MS_ENV_OK) return ms_fail(c, MS_E_INVALID_ENVELOPE, 1, ms_w_u64((uint64_t)e));
    return MS_OUT_OK;
}

/* Retention: when version v is appended, version v - K loses its bytes. */
static ms_outcome prune(ms_call *c, const uint8_t id[32], uint64_t new_version)
{
    const uint64_t k = c->cfg->retained_versions;
    if (new_version <= k) return MS_OUT_OK;
    const uint64_t old = new_version - k;
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_version v;
    MS_TRY_STATE(ms_state_get_version(c->st, &v, id, old));
    if (v.state != MS_VERSION_RETAINED) return MS_OUT_OK;   /* already shredded */
    return ms_drop_ciphertext(c, id, old, &v, MS_VERSION_PRUNED);
}

ms_outcome ms_append_core(ms_call *c, uint8_t hash32[32], ms_asset *a, const uint8_t id[32],
                          const uint8_t author[20], uint64_t key_epoch, const uint8_t *ct, size_t ct_len,
                          const uint8_t ct_hash[32])
{
    const uint64_t version = a->head_version + 1;
    /* Version record, ciphertext, asset record; the bytes stored; the hash. */
    uint64_t cost = ms_gas_mul(c->cfg->gas.state_write, 3);
    cost = ms_gas_add(cost, ms_gas_mul(c->cfg->gas.stored_byte, ct_len));
    cost = ms_gas_add(cost, ms_hash_cost(c, 132));
    if (!ms_charge(c, cost)) return MS_OUT_OOG;

    ms_version v;
    memset(&v, 0, sizeof v);
    ms_version_hash(v.version_hash, a->head_hash, id, version, ct_hash, key_epoch, author);
    memcpy(v.ciphertext_hash, ct_hash, 32);
    v.key_epoch = key_epoch;
    memcpy(v.author, author, 20);
    v.block = c->block->number;
    v.state = MS_VERSION_RETAINED;

    /* The head only grows within a block (a call that fails is reverted), so
     * version and ciphertext keys above the committed head are new. */
    ms_key key;
    ms_key_ciphertext(&key, id, version);
    MS_TRY_STATE(ms_state_put_new_version(c->st, id, version, &v));
    /* ct_hash is keccak256(ct), computed above for the version hash: the
     * state tree takes it instead of hashing the ciphertext again. */
    MS_TRY_STATE(ms_state_put_new_hashed(c->st, &key, ct, ct_len, ct_hash));
    a->head_version = version;
    memcpy(a->head_hash, v.version_hash, 32);
    MS_TRY_STATE(ms_state_put_asset(c->st, id, a));

    const ms_outcome o = prune(c, id, version);
    if (o != MS_OUT_OK) return o;

    const ms_word topics[2] = { ms_w_b32(id), ms_w_addr(author) };
    const ms_word data[4] = { ms_w_u64(version), ms_w_b32(v.version_hash), ms_w_b32(ct_hash), ms_w_u64(key_epoch) };
    const uint8_t topic0[32] = MS_EV_VERSION_APPENDED;
    memcpy(hash32, v.version_hash, 32);
    return ms_emit(c, topic0, 2, topics, 4, data);
}

static ms_outcome hash_ciphertext(ms_call *c, uint8_t out32[32], const uint8_t *ct, size_t len)
{
    if (!ms_charge_hash(c, len)) return MS_OUT_OOG;
    ms_keccak256(out32, ct, len);
    return MS_OUT_OK;
}

static ms_outcome return_version(ms_call *c, uint64_t version, const uint8_t hash32[32])
{
    if (!ms_charge_output(c, 2)) return MS_OUT_OOG;
    ms_abi_put_uint(c->out, version);
    ms_abi_put_word(c->out, hash32);
    return MS_OUT_OK;
}

/* Checks shared by both entry points once the author is known. */
static ms_outcome check_head(ms_call *c, const ms_asset *a, uint64_t expected, uint64_t key_epoch)
{
    if (expected != a->head_version) {
        return ms_fail(c, MS_E_VERSION_CONFLICT, 2, ms_w_u64(expected), ms_w_u64(a->head_version));
    }
    if (key_epoch != a->key_epoch) {
        return ms_fail(c, MS_E_KEY_EPOCH_MISMATCH, 2, ms_w_u64(a->key_epoch), ms_w_u64(key_epoch));
    }
    return MS_OUT_OK;
}

ms_outcome ms_op_append_version(ms_call *c)
{
    uint8_t id[32], ct_hash[32], hash[32];
    uint64_t expected, key_epoch;
    const uint8_t *ct;
    size_t ct_len;
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_uint(&expected, &c->args, 1, 64));
    MS_DECODE(c, ms_abi_uint(&key_epoch, &c->args, 2, 64));
    MS_DECODE(c, ms_abi_bytes(&ct, &ct_len, &c->args, 3, SIZE_MAX));
    MS_CHECK(ms_check_ciphertext(c, ct, ct_len, key_epoch));

    ms_asset a;
    const uint8_t *author = c->msg->caller.bytes;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_writer(c, &a, id, author));
    MS_CHECK(check_head(c, &a, expected, key_epoch));
    MS_CHECK(hash_ciphertext(c, ct_hash, ct, ct_len));
    MS_CHECK(ms_append_core(c, hash, &a, id, author, key_epoch, ct, ct_len, ct_hash));
    return return_version(c, a.head_version, hash);
}

ms_outcome ms_op_append_version_signed(ms_call *c)
{
    uint8_t id[32], ct_hash[32], hash[32], signer[20], nonce_word[32], deadline[32];
    uint64_t expected, key_epoch, nonce;
    const uint8_t *ct, *sig;
    size_t ct_len, sig_len;
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_uint(&expected, &c->args, 1, 64));
    MS_DECODE(c, ms_abi_uint(&key_epoch, &c->args, 2, 64));
    MS_DECODE(c, ms_abi_bytes(&ct, &ct_len, &c->args, 3, SIZE_MAX));
    MS_DECODE(c, ms_abi_address(signer, &c->args, 4));
    MS_DECODE(c, ms_abi_word(nonce_word, &c->args, 5));
    MS_DECODE(c, ms_abi_word(deadline, &c->args, 6));
    MS_DECODE(c, ms_abi_bytes(&sig, &sig_len, &c->args, 7, SIZE_MAX));
    MS_CHECK(ms_check_ciphertext(c, ct, ct_len, key_epoch));

    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_signed_begin(c, &nonce, signer, nonce_word, deadline, 7));
    MS_CHECK(hash_ciphertext(c, ct_hash, ct, ct_len));

    ms_eip712_append m;
    uint8_t domain[32], digest[32];
    memcpy(m.asset_id, id, 32);
    m.expected_version = expected;
    m.key_epoch = key_epoch;
    memcpy(m.ciphertext_hash, ct_hash, 32);
    memcpy(m.signer, signer, 20);
    m.nonce = nonce;
    memcpy(m.deadline, deadline, 32);
    ms_call_domain(c, domain);
    ms_eip712_append_digest(digest, domain, &m);
    MS_CHECK(ms_signed_finish(c, signer, nonce, digest, sig, sig_len));

    MS_CHECK(ms_require_writer(c, &a, id, signer));
    MS_CHECK(check_head(c, &a, expected, key_epoch));
    MS_CHECK(ms_append_core(c, hash, &a, id, signer, key_epoch, ct, ct_len, ct_hash));
    return return_version(c, a.head_version, hash);
}
