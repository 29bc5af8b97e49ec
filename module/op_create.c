/* createMemory and createMemorySigned. The asset id is derived from the
 * precompile, the owner and a salt, so a device knows it before creating
 * the asset and can bind its first ciphertext to it. */
#include <string.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "module/ops.h"

/* assetId = keccak256(abi.encodePacked(address precompile, address owner, bytes32 salt)) */
static void asset_id(uint8_t out32[32], const uint8_t precompile[20], const uint8_t owner[20], const uint8_t salt[32])
{
    uint8_t buf[72];
    memcpy(buf, precompile, 20);
    memcpy(buf + 20, owner, 20);
    memcpy(buf + 40, salt, 32);
    ms_keccak256(out32, buf, sizeof buf);
}

static ms_outcome create(ms_call *c, const uint8_t owner[20], const uint8_t salt[32], const uint8_t metadata[32],
                         const uint8_t *ct, size_t ct_len, const uint8_t ct_hash[32])
{
    uint8_t id[32];
    if (!ms_charge_hash(c, 72)) return MS_OUT_OOG;
    asset_id(id, c->cfg->precompile_address.bytes, owner, salt);

    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_asset a;
    const ms_state_status s = ms_state_get_asset(c->st, &a, id);
    if (s == MS_STATE_OK) return ms_fail(c, MS_E_ASSET_EXISTS, 1, ms_w_b32(id));
    if (s != MS_STATE_NOT_FOUND) return MS_OUT_FATAL;

    if (!ms_charge_writes(c, 1)) return MS_OUT_OOG;
    memset(&a, 0, sizeof a);
    memcpy(a.owner, owner, 20);
    a.key_epoch = 1;
    memcpy(a.metadata, metadata, 32);
    a.created_block = c->block->number;
    MS_TRY_STATE(ms_state_put_asset(c->st, id, &a));

    const uint8_t topic0[32] = MS_EV_MEMORY_CREATED;
    const ms_word topics[2] = { ms_w_b32(id), ms_w_addr(owner) };
    const ms_word data[1] = { ms_w_b32(metadata) };
    MS_CHECK(ms_emit(c, topic0, 2, topics, 1, data));

    if (ct_len > 0) {
        uint8_t hash[32];
        MS_CHECK(ms_append_core(c, hash, &a, id, owner, 1, ct, ct_len, ct_hash));
    }
    if (!ms_charge_output(c, 1)) return MS_OUT_OOG;
    ms_abi_put_word(c->out, id);
    return MS_OUT_OK;
}

/* The first version is optional: an empty ciphertext means none. */
static ms_outcome check_and_hash(ms_call *c, uint8_t ct_hash[32], const uint8_t *ct, size_t ct_len)
{
    if (ct_len > 0) MS_CHECK(ms_check_ciphertext(c, ct, ct_len, 1));
    if (!ms_charge_hash(c, ct_len)) return MS_OUT_OOG;
    ms_keccak256(ct_hash, ct, ct_len);
    return MS_OUT_OK;
}

ms_outcome ms_op_create_memory(ms_call *c)
{
    uint8_t salt[32], metadata[32], ct_hash[32];
    const uint8_t *ct;
    size_t ct_len;
    MS_DECODE(c, ms_abi_word(salt, &c->args, 0));
    MS_DECODE(c, ms_abi_word(metadata, &c->args, 1));
    MS_DECODE(c, ms_abi_bytes(&ct, &ct_len, &c->args, 2, SIZE_MAX));
    MS_CHECK(check_and_hash(c, ct_hash, ct, ct_len));
    return create(c, c->msg->caller.bytes, salt, metadata, ct, ct_len, ct_hash);
}

ms_outcome ms_op_create_memory_signed(ms_call *c)
{
    uint8_t owner[20], salt[32], metadata[32], nonce_word[32], deadline[32], ct_hash[32];
    const uint8_t *ct, *sig;
    size_t ct_len, sig_len;
    uint64_t nonce;
    MS_DECODE(c, ms_abi_address(owner, &c->args, 0));
    MS_DECODE(c, ms_abi_word(salt, &c->args, 1));
    MS_DECODE(c, ms_abi_word(metadata, &c->args, 2));
    MS_DECODE(c, ms_abi_bytes(&ct, &ct_len, &c->args, 3, SIZE_MAX));
    MS_DECODE(c, ms_abi_word(nonce_word, &c->args, 4));
    MS_DECODE(c, ms_abi_word(deadline, &c->args, 5));
    MS_DECODE(c, ms_abi_bytes(&sig, &sig_len, &c->args, 6, SIZE_MAX));
    MS_CHECK(check_and_hash(c, ct_hash, ct, ct_len));
    MS_CHECK(ms_signed_begin(c, &nonce, owner, nonce_word, deadline, 6));

    ms_eip712_create m;
    uint8_t domain[32], digest[32];
    memcpy(m.owner, owner, 20);
    memcpy(m.salt, salt, 32);
    memcpy(m.metadata, metadata, 32);
    memcpy(m.ciphertext_hash, ct_hash, 32);
    m.nonce = nonce;
    memcpy(m.deadline, deadline, 32);
    ms_call_domain(c, domain);
    ms_eip712_create_digest(digest, domain, &m);
    MS_CHECK(ms_signed_finish(c, owner, nonce, digest, sig, sig_len));
    return create(c, owner, salt, metadata, ct, ct_len, ct_hash);
}
