/* Shredding: the ciphertext bytes leave state on every node; the version
 * records and their hashes stay, so history remains verifiable. */
#include <string.h>

#include "abi/selectors.h"
#include "module/ops.h"

/* Deleting a ciphertext costs its bytes: commit copies every deleted byte
 * into the block's undo record (and reads it back when it is not cached),
 * so a flat price per version let one block of shreds of large versions
 * make every validator move hundreds of megabytes. Its length is known only
 * from the stored value, hence the read (charged R) before the price.
 * Measured (bench.c's signed append, every one pruning, 8 interleaved runs
 * each, 2026-12-07): this read is about 10% of the append's execute, but
 * a length known without it (a version record that carried it, a
 * consensus change) would only move the read into commit's batched undo
 * read: execute 47.3 -> 42.8 us, commit_block 28.4 -> 31.6 us per append,
 * the whole 1.5% faster. Dropping the read altogether would also need the
 * bytes out of the undo record (deleted R blocks later instead) and a
 * price without the length. */
ms_outcome ms_drop_ciphertext(ms_call *c, const uint8_t id[32], uint64_t v, ms_version *rec, uint8_t state)
{
    if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
    ms_key key;
    const uint8_t *ct;
    size_t len;
    ms_key_ciphertext(&key, id, v);
    /* [ST-5]: a retained version's ciphertext exists; absent is corruption. */
    MS_TRY_STATE(ms_state_get(c->st, &ct, &len, &key));
    const uint64_t cost = ms_gas_add(ms_gas_mul(c->cfg->gas.state_write, 2), ms_gas_mul(ms_deleted_byte_price(c), len));
    if (!ms_charge(c, cost)) return MS_OUT_OOG;
    rec->state = state;
    MS_TRY_STATE(ms_state_delete(c->st, &key));
    MS_TRY_STATE(ms_state_put_version(c->st, id, v, rec));
    return MS_OUT_OK;
}

/* Only versions newer than head - K can still hold bytes (older ones were
 * pruned when they fell out of retention), so a shred touches at most K. */
static ms_outcome shred_upto(ms_call *c, ms_asset *a, const uint8_t id[32], uint64_t upto)
{
    const uint64_t k = c->cfg->retained_versions;
    uint64_t first = a->head_version > k ? a->head_version - k + 1 : 1;
    if (first <= a->shredded_upto) first = a->shredded_upto + 1;
    for (uint64_t v = first; v <= upto; v++) {
        ms_version rec;
        if (!ms_charge_reads(c, 1)) return MS_OUT_OOG;
        MS_TRY_STATE(ms_state_get_version(c->st, &rec, id, v));
        if (rec.state != MS_VERSION_RETAINED) continue;
        MS_CHECK(ms_drop_ciphertext(c, id, v, &rec, MS_VERSION_SHREDDED));
    }
    if (upto > a->shredded_upto) a->shredded_upto = upto;
    return MS_OUT_OK;
}

static ms_outcome finish(ms_call *c, const ms_asset *a, const uint8_t id[32], uint64_t upto)
{
    if (!ms_charge_writes(c, 1)) return MS_OUT_OOG;
    MS_TRY_STATE(ms_state_put_asset(c->st, id, a));
    const uint8_t topic0[32] = MS_EV_MEMORY_SHREDDED;
    const ms_word topics[1] = { ms_w_b32(id) };
    const ms_word data[1] = { ms_w_u64(upto) };
    return ms_emit(c, topic0, 1, topics, 1, data);
}

ms_outcome ms_op_shred_memory(ms_call *c)
{
    uint8_t id[32];
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_owner(c, &a, id, c->msg->caller.bytes));
    MS_CHECK(shred_upto(c, &a, id, a.head_version));
    MS_CHECK(ms_revoke_all(c, &a, id));
    a.flags |= MS_ASSET_SHREDDED;
    return finish(c, &a, id, a.head_version);
}

ms_outcome ms_op_shred_versions(ms_call *c)
{
    uint8_t id[32];
    uint64_t upto;
    MS_DECODE(c, ms_abi_word(id, &c->args, 0));
    MS_DECODE(c, ms_abi_uint(&upto, &c->args, 1, 64));
    ms_asset a;
    MS_CHECK(ms_load_live_asset(c, &a, id));
    MS_CHECK(ms_require_owner(c, &a, id, c->msg->caller.bytes));
    if (upto == 0 || upto > a.head_version) {
        return ms_fail(c, MS_E_INVALID_VERSION_RANGE, 2, ms_w_u64(upto), ms_w_u64(a.head_version));
    }
    MS_CHECK(shred_upto(c, &a, id, upto));
    return finish(c, &a, id, upto);
}
