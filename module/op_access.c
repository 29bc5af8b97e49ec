/* Access: grants with a wrapped data key, revocation, key rotation, and
 * ownership transfer (which clears every grant: the new owner decides). */
#include <string.h>

#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "module/ops.h"

static ms_outcome emit_revoked(ms_call *c, const uint8_t id[32], const uint8_t grantee[20])
{
    const uint8_t topic0[32] = MS_EV_ACCESS_REVOKED;
    const ms_word topics[2] = { ms_w_b32(id), ms_w_addr(grantee) };
    return ms_emit(c, topic0, 2, topics, 0, NULL);
}

/* Grants live in slots 0..count-1; removing one moves the last into its slot,
 * so the list stays dense and its order depends only on the call history. */
static ms_outcome remove_grant(ms_call *c, ms_asset *a, const uint8_t id[32], const uint8_t grantee[20], uint32_t slot)
{
    const uint32_t last = a->grant_count - 1;
    ms_key key;
    if (slot != last) {
        uint8_t moved[20];
        ms_grant g;
        if (!ms_charge_reads(c, 2) || !ms_charge_writes(c, 2)) return MS_OUT_OOG;
        MS_TRY_STATE(ms_state_get_slot(c->st, moved, id, last));
        MS_TRY_STATE(ms_state_get_grant(c->st, &g, id, moved));
        g.slot = slot;
        MS_TRY_STATE(ms_state_put_grant(c->st, id, moved, &g));
        ms_key_grant_slot(&key, id, slot);
        MS_TRY_STATE(ms_state_put(c->st, &key, moved, 20));
    }
    if (!ms_charge_writes(c, 2)) return MS_OUT_OOG;
    ms_key_grant_slot(&key, id, last);
    MS_TRY_STATE(ms_state_delete(c->st, &key));
    ms_key_grant(&key, id, grantee);
    MS_TRY_STATE(ms_state_delete(c->st, &key));
    a->grant_count = last;
    return emit_revoked(c, id, grantee);
}

ms_outcome ms_revoke_all(ms_call *c, ms_asset *a, const uint8_t id[32])
{
    /* Last slot first: no grant has to move. */
    while (a->grant_count > 0) {
        uint8_t grantee[20];
        if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
        MS_TRY_STATE(ms_state_get_slot(c->st, grantee, id, a->grant_count - 1));
        MS_CHECK(remove_grant(c, a, id, grantee, a->grant_count - 1));
    }
    return MS_OUT_OK;
}

ms_outcome ms_op_grant_access(ms_call *c)
{
    uint8_t id[32], grantee[20];
    uint64_t permissions, expiry;
    const uint8_t *wrapped;
    size_t wrapped_len;
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_address(grantee, &c->args, 1));
    MS_DECODE(c, ms_abi_uint(&permissions, &c->args, 2, 8));
    MS_DECODE(c, ms_abi_uint(&expiry, &c->args, 3, 64));
    MS_DECODE(c, ms_abi_bytes(&wrapped, &wrapped_len, &c->args, 4, SIZE_MAX));
    if (permissions != MS_PERM_READ && permissions != (MS_PERM_READ | MS_PERM_WRITE)) {
        return ms_fail(c, MS_E_INVALID_PERMISSIONS, 1, ms_w_u64(permissions));
    }
    if (wrapped_len > c->cfg->max_wrapped_key) {
        return ms_fail(c, MS_E_WRAPPED_KEY_TOO_LARGE, 2, ms_w_u64(wrapped_len), ms_w_u64(c->cfg->max_wrapped_key));
    }

    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_owner(c, &a, id, c->msg->caller.bytes));
    if (ms_is_zero(grantee, 20) || memcmp(grantee, a.owner, 20) == 0) {
        return ms_fail(c, MS_E_INVALID_ADDRESS, 1, ms_w_addr(grantee));
    }

    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_grant g;
    const ms_state_status s = ms_state_get_grant(c->st, &g, id, grantee);
    if (s == MS_STATE_FAULT) return MS_OUT_FATAL;
    const int is_new = s == MS_STATE_NOT_FOUND;
    if (is_new && a.grant_count >= c->cfg->max_grants) {
        return ms_fail(c, MS_E_TOO_MANY_GRANTS, 1, ms_w_u64(c->cfg->max_grants));
    }

    uint64_t cost = ms_gas_mul(c->cfg->gas.state_write, is_new ? 3 : 1);
    cost = ms_gas_add(cost, ms_gas_mul(c->cfg->gas.stored_byte, wrapped_len));
    if (!ms_charge(c, cost)) return MS_OUT_OOG;
    const uint32_t slot = is_new ? a.grant_count : g.slot;
    g.permissions = (uint8_t)permissions;
    g.expiry = expiry;
    g.key_epoch = a.key_epoch;
    g.slot = slot;
    g.wrapped_key = wrapped;
    g.wrapped_len = (uint32_t)wrapped_len;
    MS_TRY_STATE(ms_state_put_grant(c->st, id, grantee, &g));
    if (is_new) {
        ms_key key;
        ms_key_grant_slot(&key, id, slot);
        MS_TRY_STATE(ms_state_put(c->st, &key, grantee, 20));
        a.grant_count++;
        MS_TRY_STATE(ms_state_put_asset(c->st, id, &a));
    }

    const uint8_t topic0[32] = MS_EV_ACCESS_GRANTED;
    const ms_word topics[2] = { ms_w_b32(id), ms_w_addr(grantee) };
    const ms_word data[3] = { ms_w_u64(permissions), ms_w_u64(expiry), ms_w_u64(a.key_epoch) };
    return ms_emit(c, topic0, 2, topics, 3, data);
}

ms_outcome ms_op_revoke_access(ms_call *c)
{
    uint8_t id[32], grantee[20];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_address(grantee, &c->args, 1));

    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_owner(c, &a, id, c->msg->caller.bytes));
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_grant g;
    const ms_state_status s = ms_state_get_grant(c->st, &g, id, grantee);
    if (s == MS_STATE_NOT_FOUND) return ms_fail(c, MS_E_GRANT_NOT_FOUND, 2, ms_w_b32(id), ms_w_addr(grantee));
    if (s != MS_STATE_OK || a.grant_count == 0 || g.slot >= a.grant_count) return MS_OUT_FATAL;
    MS_CHECK(remove_grant(c, &a, id, grantee, g.slot));
    if (!ms_charge_writes(c, 1)) return MS_OUT_OOG;
    MS_TRY_STATE(ms_state_put_asset(c->st, id, &a));
    return MS_OUT_OK;
}

ms_outcome ms_op_rotate_key(ms_call *c)
{
    uint8_t id[32];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_owner(c, &a, id, c->msg->caller.bytes));
    if (a.key_epoch == UINT64_MAX) {
        return ms_fail(c, MS_E_KEY_EPOCH_MISMATCH, 2, ms_w_u64(a.key_epoch), ms_w_u64(a.key_epoch));
    }
    if (!ms_charge_writes(c, 1)) return MS_OUT_OOG;
    a.key_epoch++;
    MS_TRY_STATE(ms_state_put_asset(c->st, id, &a));

    const uint8_t topic0[32] = MS_EV_KEY_ROTATED;
    const ms_word topics[1] = { ms_w_b32(id) };
    const ms_word data[1] = { ms_w_u64(a.key_epoch) };
    MS_CHECK(ms_emit(c, topic0, 1, topics, 1, data));
    if (!ms_charge_output(c, 1)) return MS_OUT_OOG;
    ms_abi_put_uint(c->out, a.key_epoch);
    return MS_OUT_OK;
}

static ms_outcome transfer(ms_call *c, ms_asset *a, const uint8_t id[32], const uint8_t new_owner[20])
{
    MS_CHECK(ms_revoke_all(c, a, id));
    if (!ms_charge_writes(c, 1)) return MS_OUT_OOG;
    uint8_t from[20];
    memcpy(from, a->owner, 20);
    memcpy(a->owner, new_owner, 20);
    MS_TRY_STATE(ms_state_put_asset(c->st, id, a));
    const uint8_t topic0[32] = MS_EV_OWNERSHIP_TRANSFERRED;
    const ms_word topics[3] = { ms_w_b32(id), ms_w_addr(from), ms_w_addr(new_owner) };
    return ms_emit(c, topic0, 3, topics, 0, NULL);
}

static ms_outcome check_new_owner(ms_call *c, const ms_asset *a, const uint8_t new_owner[20])
{
    if (ms_is_zero(new_owner, 20) || memcmp(new_owner, a->owner, 20) == 0) {
        return ms_fail(c, MS_E_INVALID_ADDRESS, 1, ms_w_addr(new_owner));
    }
    return MS_OUT_OK;
}

ms_outcome ms_op_transfer_ownership(ms_call *c)
{
    uint8_t id[32], new_owner[20];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_address(new_owner, &c->args, 1));
    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_owner(c, &a, id, c->msg->caller.bytes));
    MS_CHECK(check_new_owner(c, &a, new_owner));
    return transfer(c, &a, id, new_owner);
}

ms_outcome ms_op_transfer_ownership_signed(ms_call *c)
{
    uint8_t id[32], new_owner[20], nonce_word[32], deadline[32];
    const uint8_t *sig;
    size_t sig_len;
    uint64_t nonce;
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_address(new_owner, &c->args, 1));
    MS_DECODE(c, ms_abi_word(nonce_word, &c->args, 2));
    MS_DECODE(c, ms_abi_word(deadline, &c->args, 3));
    MS_DECODE(c, ms_abi_bytes(&sig, &sig_len, &c->args, 4, SIZE_MAX));

    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(check_new_owner(c, &a, new_owner));
    MS_CHECK(ms_signed_begin(c, &nonce, a.owner, nonce_word, deadline, 4));

    ms_eip712_transfer m;
    uint8_t domain[32], digest[32];
    memcpy(m.asset_id, id, 32);
    memcpy(m.new_owner, new_owner, 20);
    m.nonce = nonce;
    memcpy(m.deadline, deadline, 32);
    ms_call_domain(c, domain);
    ms_eip712_transfer_digest(digest, domain, &m);
    MS_CHECK(ms_signed_finish(c, a.owner, nonce, digest, sig, sig_len));
    return transfer(c, &a, id, new_owner);
}
