/* Who may act: asset owners, write grantees, and EIP-712 signers. */
#include <string.h>

#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "module/ops.h"

ms_outcome ms_load_asset(ms_call *c, ms_asset *a, const uint8_t id[32])
{
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    const ms_state_status s = ms_state_get_asset(c->st, a, id);
    if (s == MS_STATE_NOT_FOUND) return ms_fail(c, MS_E_ASSET_NOT_FOUND, 1, ms_w_b32(id));
    return s == MS_STATE_OK ? MS_OUT_OK : MS_OUT_FATAL;
}

ms_outcome ms_load_live_asset(ms_call *c, ms_asset *a, const uint8_t id[32])
{
    const ms_outcome o = ms_load_asset(c, a, id);
    if (o != MS_OUT_OK) return o;
    if (a->flags & MS_ASSET_SHREDDED) return ms_fail(c, MS_E_ASSET_IS_SHREDDED, 1, ms_w_b32(id));
    return MS_OUT_OK;
}

ms_outcome ms_require_owner(ms_call *c, const ms_asset *a, const uint8_t id[32], const uint8_t account[20])
{
    if (memcmp(a->owner, account, 20) == 0) return MS_OUT_OK;
    return ms_fail(c, MS_E_NOT_AUTHORIZED, 2, ms_w_b32(id), ms_w_addr(account));
}

ms_outcome ms_require_writer(ms_call *c, const ms_asset *a, const uint8_t id[32], const uint8_t account[20])
{
    if (memcmp(a->owner, account, 20) == 0) return MS_OUT_OK;
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_grant g;
    const ms_state_status s = ms_state_get_grant(c->st, &g, id, account);
    if (s == MS_STATE_FAULT) return MS_OUT_FATAL;
    /* A grant is usable up to and including its expiry second. */
    const int live = s == MS_STATE_OK && (g.permissions & MS_PERM_WRITE) &&
                     (g.expiry == 0 || c->block->timestamp <= g.expiry);
    if (live) return MS_OUT_OK;
    return ms_fail(c, MS_E_NOT_AUTHORIZED, 2, ms_w_b32(id), ms_w_addr(account));
}

uint64_t ms_domain_cost(const ms_call *c)
{
    /* name, version, the domain type string, then the 5-word domain struct. */
    return ms_gas_add(ms_gas_add(ms_hash_cost(c, 7), ms_hash_cost(c, 1)),
                      ms_gas_add(ms_hash_cost(c, 82), ms_hash_cost(c, 160)));
}

void ms_call_domain(const ms_call *c, uint8_t out32[32])
{
    const uint64_t chain_id = c->block->chain_id;
    const uint8_t *address = c->cfg->precompile_address.bytes;
    ms_domain_memo *m = c->domain;
    if (m == NULL) {
        ms_eip712_domain(out32, chain_id, address);
        return;
    }
    if (!m->valid || m->chain_id != chain_id || memcmp(m->address, address, 20) != 0) {
        ms_eip712_domain(m->domain, chain_id, address);
        m->chain_id = chain_id;
        memcpy(m->address, address, 20);
        m->valid = 1;
    }
    memcpy(out32, m->domain, 32);
}

ms_outcome ms_signed_begin(ms_call *c, uint64_t *nonce, const uint8_t signer[20], const uint8_t nonce_word[32],
                           const uint8_t deadline_word[32], unsigned n_fields)
{
    *nonce = 0;
    /* Expired when deadline < timestamp; a deadline above 2^64 never expires. */
    if (ms_is_zero(deadline_word, 24)) {
        const uint64_t deadline = ms_get_be64(deadline_word + 24);
        if (deadline < c->block->timestamp) {
            return ms_fail(c, MS_E_SIGNATURE_EXPIRED, 2, ms_w_b32(deadline_word), ms_w_u64(c->block->timestamp));
        }
    }
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    if (ms_state_get_nonce(c->st, nonce, signer) != MS_STATE_OK) return MS_OUT_FATAL;
    const ms_word expected = ms_w_u64(*nonce);
    if (memcmp(expected.b, nonce_word, 32) != 0) {
        return ms_fail(c, MS_E_INVALID_NONCE, 2, expected, ms_w_b32(nonce_word));
    }
    /* Struct type string (<= 160 bytes), struct (1 + n_fields words), digest (66 bytes). */
    uint64_t cost = ms_gas_add(ms_domain_cost(c), ms_hash_cost(c, 160));
    cost = ms_gas_add(cost, ms_gas_add(ms_hash_cost(c, 32u * (1u + n_fields)), ms_hash_cost(c, 66)));
    return ms_charge(c, cost) ? MS_OUT_OK : MS_OUT_OOG;
}

ms_outcome ms_signed_finish(ms_call *c, const uint8_t signer[20], uint64_t nonce, const uint8_t digest[32],
                            const uint8_t *sig, size_t sig_len)
{
    ms_sig_err e = ms_signature_check(sig, sig_len);
    if (e != MS_SIG_OK) return ms_fail(c, MS_E_INVALID_SIGNATURE, 1, ms_w_u64((uint64_t)e));
    if (!ms_charge(c, c->cfg->gas.signature)) return MS_OUT_OOG;
    uint8_t recovered[20];
    e = ms_signature_recover(recovered, c->verifier, digest, sig, sig_len);
    if (e != MS_SIG_OK) return ms_fail(c, MS_E_INVALID_SIGNATURE, 1, ms_w_u64((uint64_t)e));
    if (memcmp(recovered, signer, 20) != 0) {
        return ms_fail(c, MS_E_WRONG_SIGNER, 2, ms_w_addr(signer), ms_w_addr(recovered));
    }
    if (!ms_charge_writes(c, 1)) return MS_OUT_OOG;
    return ms_state_put_nonce(c->st, signer, nonce + 1) == MS_STATE_OK ? MS_OUT_OK : MS_OUT_FATAL;
}
