/* The call entry: context checks, selector dispatch, and the all-or-nothing
 * rule (a call that does not succeed leaves no write and no log). */
#include <string.h>

#include "abi/selectors.h"
#include "module/instance.h"
#include "module/ops.h"

typedef struct ms_op {
    uint32_t selector;
    int writes;              /* refused in a static frame */
    ms_outcome (*run)(ms_call *c);
} ms_op;

/* Nineteen entries: a linear scan is as fast as anything cleverer here. */
static const ms_op OPS[] = {
#define OP(sel, w, fn) { sel, w, fn }
    OP(MS_FN_CREATE_MEMORY, 1, ms_op_create_memory),
    OP(MS_FN_CREATE_MEMORY_SIGNED, 1, ms_op_create_memory_signed),
    OP(MS_FN_APPEND_VERSION, 1, ms_op_append_version),
    OP(MS_FN_APPEND_VERSION_SIGNED, 1, ms_op_append_version_signed),
    OP(MS_FN_TRANSFER_OWNERSHIP, 1, ms_op_transfer_ownership),
    OP(MS_FN_TRANSFER_OWNERSHIP_SIGNED, 1, ms_op_transfer_ownership_signed),
    OP(MS_FN_GRANT_ACCESS, 1, ms_op_grant_access),
    OP(MS_FN_REVOKE_ACCESS, 1, ms_op_revoke_access),
    OP(MS_FN_ROTATE_KEY, 1, ms_op_rotate_key),
    OP(MS_FN_SHRED_MEMORY, 1, ms_op_shred_memory),
    OP(MS_FN_SHRED_VERSIONS, 1, ms_op_shred_versions),
    OP(MS_FN_GET_HEAD, 0, ms_op_get_head),
    OP(MS_FN_GET_VERSION, 0, ms_op_get_version),
    OP(MS_FN_GET_VERSION_INFO, 0, ms_op_get_version_info),
    OP(MS_FN_GET_GRANTS, 0, ms_op_get_grants),
    OP(MS_FN_GET_GRANT, 0, ms_op_get_grant),
    OP(MS_FN_NONCE_OF, 0, ms_op_nonce_of),
    OP(MS_FN_DOMAIN_SEPARATOR, 0, ms_op_domain_separator),
    OP(MS_FN_EIP712_DOMAIN, 0, ms_op_eip712_domain),
#undef OP
};

static const ms_op *find_op(uint32_t selector)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        if (OPS[i].selector == selector) return &OPS[i];
    }
    return NULL;
}

/* Violations of the call context consume all gas, like an invalid opcode,
 * but still return a decodable error. */
static ms_outcome violate(ms_call *c, ms_outcome o)
{
    c->gas_used = c->gas_limit;
    return o;
}

static ms_outcome run(ms_call *c)
{
    const ms_message *m = c->msg;
    const ms_config *cfg = c->cfg;

    if (c->block->chain_id != cfg->chain_id) {
        return violate(c, ms_fail(c, MS_E_WRONG_CHAIN, 2, ms_w_u64(cfg->chain_id), ms_w_u64(c->block->chain_id)));
    }
    /* DELEGATECALL and CALLCODE would let a contract act with its caller's
     * identity: refused before any work. */
    if (m->kind != MS_CALL && m->kind != MS_STATICCALL) {
        /* The error argument is a uint8: a host passing a kind above 255 sees 255. */
        const uint64_t kind = (uint64_t)m->kind > 255 ? 255 : (uint64_t)m->kind;
        return violate(c, ms_fail(c, MS_E_CALL_KIND_NOT_ALLOWED, 1, ms_w_u64(kind)));
    }
    if (!ms_is_zero(m->value.bytes, 32)) return violate(c, ms_fail(c, MS_E_VALUE_NOT_ACCEPTED, 0));

    if (!ms_charge(c, cfg->gas.call_min)) return MS_OUT_OOG;
    if (m->input_size < 4) return ms_fail_calldata(c, MS_ABI_SHORT);
    const uint32_t selector = ms_get_be32(m->input);
    const ms_op *op = find_op(selector);
    if (op == NULL) return ms_fail(c, MS_E_UNKNOWN_FUNCTION, 1, ms_w_sel(selector));
    if (op->writes && (m->is_static || m->kind == MS_STATICCALL)) {
        return violate(c, ms_fail(c, MS_E_WRITE_IN_STATIC_CONTEXT, 0));
    }
    if (!ms_charge(c, ms_gas_mul(cfg->gas.input_word, ms_words(m->input_size)))) return MS_OUT_OOG;

    c->args.data = m->input + 4;
    c->args.size = m->input_size - 4;
    return op->run(c);
}

ms_rc ms_dispatch(ms_instance *inst, ms_result *result, const ms_block_context *block, const ms_message *msg)
{
    memset(result, 0, sizeof *result);
    if (inst->poisoned) return MS_ERR_POISONED;
    if (msg->input == NULL && msg->input_size != 0) return MS_ERR_ARGUMENT;

    ms_buf_reset(&inst->out);
    /* Before activation the address is an empty account: success, no output,
     * no gas, no state touched. */
    if (block->number < inst->cfg.activation_height) {
        result->status = MS_SUCCESS;
        return MS_OK;
    }
    ms_call c;
    memset(&c, 0, sizeof c);
    c.cfg = &inst->cfg;
    c.st = &inst->st;
    c.verifier = inst->verifier;
    c.block = block;
    c.msg = msg;
    c.gas_limit = msg->gas;
    c.out = &inst->out;
    c.domain = &inst->domain;

    const uint64_t cp = ms_journal_checkpoint(inst->st.journal);
    const ms_pending_log *logs;
    size_t logs_before, logs_after;
    ms_journal_logs(inst->st.journal, &logs, &logs_before);

    ms_outcome o = run(&c);
    if (o == MS_OUT_OK && c.out->failed) o = MS_OUT_FATAL;
    if (o == MS_OUT_OK) {
        ms_journal_logs(inst->st.journal, &logs, &logs_after);
        if (!ms_export_logs(inst, logs_before, logs_after)) o = MS_OUT_FATAL;
    }
    if (o != MS_OUT_OK) ms_journal_revert(inst->st.journal, cp);

    switch (o) {
    case MS_OUT_OK:
        result->status = MS_SUCCESS;
        result->logs = inst->logs;
        result->log_count = logs_after - logs_before;
        break;
    case MS_OUT_REVERT:
        result->status = MS_REVERT;
        break;
    case MS_OUT_OOG:
        result->status = MS_OUT_OF_GAS;
        c.gas_used = c.gas_limit;
        ms_buf_reset(c.out);
        break;
    default:
        result->status = MS_FATAL;
        c.gas_used = c.gas_limit;
        ms_buf_reset(c.out);
        inst->poisoned = 1;
        break;
    }
    result->gas_used = c.gas_used;
    result->output = c.out->size > 0 ? c.out->data : NULL;
    result->output_size = c.out->size;
    return MS_OK;
}
