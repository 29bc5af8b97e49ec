/* Reads. Confidentiality comes from encryption, not from read checks: all
 * state is public chain data, so reads are open to every caller. */
#include <string.h>

#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "module/ops.h"

ms_outcome ms_op_get_head(ms_call *c)
{
    uint8_t id[32];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    ms_asset a;
    MS_CHECK(ms_load_asset(c, &a, id));
    if (!ms_charge_output(c, 6)) return MS_OUT_OOG;
    ms_abi_put_address(c->out, a.owner);
    ms_abi_put_uint(c->out, a.head_version);
    ms_abi_put_word(c->out, a.head_hash);
    ms_abi_put_uint(c->out, a.key_epoch);
    ms_abi_put_uint(c->out, a.flags);
    ms_abi_put_word(c->out, a.metadata);
    return MS_OUT_OK;
}

/* Arguments (bytes32 assetId, uint64 version) and the record of that
 * version, or AssetNotFound / VersionNotFound. */
static ms_outcome load_version(ms_call *c, ms_version *v, uint8_t id[32], uint64_t *version)
{
    ms_asset a;
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_uint(version, &c->args, 1, 64));
    MS_CHECK(ms_load_asset(c, &a, id));
    if (*version == 0 || *version > a.head_version) {
        return ms_fail(c, MS_E_VERSION_NOT_FOUND, 2, ms_w_b32(id), ms_w_u64(*version));
    }
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    MS_TRY_STATE(ms_state_get_version(c->st, v, id, *version));
    return MS_OUT_OK;
}

ms_outcome ms_op_get_version(ms_call *c)
{
    uint8_t id[32];
    uint64_t version;
    ms_version v;
    MS_CHECK(load_version(c, &v, id, &version));
    if (v.state == MS_VERSION_PRUNED) return ms_fail(c, MS_E_VERSION_PRUNED, 2, ms_w_b32(id), ms_w_u64(version));
    if (v.state == MS_VERSION_SHREDDED) {
        return ms_fail(c, MS_E_VERSION_SHREDDED, 2, ms_w_b32(id), ms_w_u64(version));
    }

    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_key key;
    const uint8_t *ct;
    size_t ct_len;
    ms_key_ciphertext(&key, id, version);
    MS_TRY_STATE(ms_state_get(c->st, &ct, &ct_len, &key));
    if (!ms_charge_output(c, ms_gas_add(5, ms_abi_bytes_tail_words(ct_len)))) return MS_OUT_OOG;
    ms_abi_put_uint(c->out, 5 * 32);   /* offset of the bytes tail */
    ms_abi_put_uint(c->out, v.key_epoch);
    ms_abi_put_address(c->out, v.author);
    ms_abi_put_uint(c->out, v.block);
    ms_abi_put_word(c->out, v.version_hash);
    ms_abi_put_bytes_tail(c->out, ct, ct_len);
    return MS_OUT_OK;
}

ms_outcome ms_op_get_version_info(ms_call *c)
{
    uint8_t id[32];
    uint64_t version;
    ms_version v;
    MS_CHECK(load_version(c, &v, id, &version));
    if (!ms_charge_output(c, 6)) return MS_OUT_OOG;
    ms_abi_put_word(c->out, v.version_hash);
    ms_abi_put_word(c->out, v.ciphertext_hash);
    ms_abi_put_uint(c->out, v.key_epoch);
    ms_abi_put_address(c->out, v.author);
    ms_abi_put_uint(c->out, v.block);
    ms_abi_put_uint(c->out, v.state);
    return MS_OUT_OK;
}

ms_outcome ms_op_get_grants(ms_call *c)
{
    uint8_t id[32];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    ms_asset a;
    MS_CHECK(ms_load_asset(c, &a, id));
    const uint64_t n = a.grant_count;
    if (n > MS_MAX_GRANTS_CEILING) return MS_OUT_FATAL;
    /* Four arrays: an offset each, then a length word and n words each. */
    if (!ms_charge_reads(c, 2 * n)) return MS_OUT_OOG;
    if (!ms_charge_output(c, 4 + 4 * (1 + n))) return MS_OUT_OOG;

    uint8_t grantees[MS_MAX_GRANTS_CEILING][20];
    ms_grant grants[MS_MAX_GRANTS_CEILING];
    for (uint32_t i = 0; i < n; i++) {
        MS_TRY_STATE(ms_state_get_slot(c->st, grantees[i], id, i));
        MS_TRY_STATE(ms_state_get_grant(c->st, &grants[i], id, grantees[i]));
        grants[i].wrapped_key = NULL;   /* points into storage that the next read reuses */
    }
    const uint64_t array_words = 1 + n;
    for (uint64_t k = 0; k < 4; k++) ms_abi_put_uint(c->out, 32 * (4 + k * array_words));
    ms_abi_put_uint(c->out, n);
    for (uint32_t i = 0; i < n; i++) ms_abi_put_address(c->out, grantees[i]);
    ms_abi_put_uint(c->out, n);
    for (uint32_t i = 0; i < n; i++) ms_abi_put_uint(c->out, grants[i].permissions);
    ms_abi_put_uint(c->out, n);
    for (uint32_t i = 0; i < n; i++) ms_abi_put_uint(c->out, grants[i].expiry);
    ms_abi_put_uint(c->out, n);
    for (uint32_t i = 0; i < n; i++) ms_abi_put_uint(c->out, grants[i].key_epoch);
    return MS_OUT_OK;
}

ms_outcome ms_op_get_grant(ms_call *c)
{
    uint8_t id[32], grantee[20];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_address(grantee, &c->args, 1));
    ms_asset a;
    MS_CHECK(ms_load_asset(c, &a, id));
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_grant g;
    const ms_state_status s = ms_state_get_grant(c->st, &g, id, grantee);
    if (s == MS_STATE_NOT_FOUND) return ms_fail(c, MS_E_GRANT_NOT_FOUND, 2, ms_w_b32(id), ms_w_addr(grantee));
    if (s != MS_STATE_OK) return MS_OUT_FATAL;
    if (!ms_charge_output(c, ms_gas_add(4, ms_abi_bytes_tail_words(g.wrapped_len)))) return MS_OUT_OOG;
    ms_abi_put_uint(c->out, g.permissions);
    ms_abi_put_uint(c->out, g.expiry);
    ms_abi_put_uint(c->out, g.key_epoch);
    ms_abi_put_uint(c->out, 4 * 32);
    ms_abi_put_bytes_tail(c->out, g.wrapped_key, g.wrapped_len);
    return MS_OUT_OK;
}

ms_outcome ms_op_nonce_of(ms_call *c)
{
    uint8_t who[20];
    uint64_t nonce;
    MS_DECODE(c, ms_abi_address(who, &c->args, 0));
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    MS_TRY_STATE(ms_state_get_nonce(c->st, &nonce, who));
    if (!ms_charge_output(c, 1)) return MS_OUT_OOG;
    ms_abi_put_uint(c->out, nonce);
    return MS_OUT_OK;
}

ms_outcome ms_op_domain_separator(ms_call *c)
{
    uint8_t domain[32];
    if (!ms_charge(c, ms_domain_cost(c)) || !ms_charge_output(c, 1)) return MS_OUT_OOG;
    ms_call_domain(c, domain);
    ms_abi_put_word(c->out, domain);
    return MS_OUT_OK;
}

/* EIP-5267 (spec/abi.md [ABI-31]): the domain of [SIG-1] as its parts, so
 * that wallets read it instead of hard-coding it. No hashing: every part is
 * a constant, the config or the block context. */
ms_outcome ms_op_eip712_domain(ms_call *c)
{
    enum { HEAD_WORDS = 7, WORDS = HEAD_WORDS + 2 + 2 + 1 };
    if (!ms_charge_output(c, WORDS)) return MS_OUT_OOG;
    uint8_t fields[32] = {0};
    fields[0] = 0x0f;   /* bytes1: name, version, chainId, verifyingContract */
    const size_t name_len = sizeof MS_EIP712_NAME - 1, version_len = sizeof MS_EIP712_VERSION - 1;
    ms_abi_put_word(c->out, fields);
    ms_abi_put_uint(c->out, 32u * HEAD_WORDS);                      /* name */
    ms_abi_put_uint(c->out, 32u * (HEAD_WORDS + 2));                /* version */
    ms_abi_put_uint(c->out, c->block->chain_id);
    ms_abi_put_address(c->out, c->cfg->precompile_address.bytes);
    ms_abi_put_word(c->out, (const uint8_t[32]){0});                /* salt: none */
    ms_abi_put_uint(c->out, 32u * (HEAD_WORDS + 4));                /* extensions */
    ms_abi_put_bytes_tail(c->out, (const uint8_t *)MS_EIP712_NAME, name_len);
    ms_abi_put_bytes_tail(c->out, (const uint8_t *)MS_EIP712_VERSION, version_len);
    ms_abi_put_uint(c->out, 0);                                     /* no extensions */
    return MS_OUT_OK;
}
