/* The loadable entry point and the instance lifecycle. The only symbol the
 * shared object exports is ms_module_get; there is no mutable global state,
 * so any number of instances can live in one process. */
#include <stdlib.h>
#include <string.h>

#include "module/call.h"
#include "module/instance.h"

/* Checkpoint ids carry the block generation in their top 24 bits, so an id
 * from an earlier block is refused instead of meaning something new. */
#define CP_LEN_BITS 40
#define CP_LEN_MASK ((UINT64_C(1) << CP_LEN_BITS) - 1)



static const char *rc_string(ms_rc rc)
{
    switch (rc) {
    case MS_OK: return "ok";
    case MS_ERR_ARGUMENT: return "invalid argument";
    case MS_ERR_CONFIG: return "invalid chain configuration";
    case MS_ERR_LOCKED: return "data directory is held by another instance";
    case MS_ERR_IO: return "storage I/O error";
    case MS_ERR_NOMEM: return "out of memory";
    case MS_ERR_SCHEMA: return "data directory has an unknown schema version";
    case MS_ERR_CORRUPT: return "stored state is corrupt";
    case MS_ERR_CHECKPOINT: return "checkpoint is not live";
    case MS_ERR_HEIGHT: return "block height is not above the last committed height";
    case MS_ERR_POISONED: return "instance stopped after a fatal fault";
    case MS_ERR_REORG_DEPTH: return "rollback is deeper than the reorg window";
    }
    return "unknown error";
}

static ms_rc create(ms_instance **out, const ms_config *cfg, const char *data_dir)
{
    if (out == NULL) return MS_ERR_ARGUMENT;
    *out = NULL;
    if (cfg == NULL || data_dir == NULL) return MS_ERR_ARGUMENT;
    if (ms_config_check(cfg) != MS_OK) return MS_ERR_CONFIG;

    ms_instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL) return MS_ERR_NOMEM;
    inst->cfg = *cfg;
    ms_buf_init(&inst->out);
    ms_buf_init(&inst->log_bytes);
    inst->verifier = ms_verifier_create();
    if (inst->verifier == NULL) {
        free(inst);
        return MS_ERR_NOMEM;
    }
    ms_rc rc = (ms_rc)ms_state_open(&inst->st, data_dir, cfg->reorg_depth);
    /* [HOST-53]: K is the store's from its first create on. */
    if (rc == MS_OK) {
        rc = (ms_rc)ms_state_fix_retention(&inst->st, cfg->retained_versions);
        if (rc != MS_OK) ms_state_close(&inst->st);
    }
    if (rc != MS_OK) {
        ms_verifier_destroy(inst->verifier);
        free(inst);
        return rc;
    }
    *out = inst;
    return MS_OK;
}

static void destroy(ms_instance *inst)
{
    if (inst == NULL) return;
    ms_state_close(&inst->st);
    ms_verifier_destroy(inst->verifier);
    ms_buf_free(&inst->out);
    ms_buf_free(&inst->log_bytes);
    free(inst->logs);
    free(inst);
}

int ms_export_logs(ms_instance *inst, size_t from, size_t to)
{
    const ms_pending_log *logs;
    size_t count;
    ms_journal_logs(inst->st.journal, &logs, &count);
    const size_t n = to - from;
    if (n > inst->logs_cap) {
        ms_log *grown = realloc(inst->logs, n * sizeof *grown);
        if (grown == NULL) return 0;
        inst->logs = grown;
        inst->logs_cap = n;
    }
    /* Copy every log first: the buffer may move while it grows. */
    ms_buf_reset(&inst->log_bytes);
    for (size_t i = from; i < to; i++) ms_buf_put(&inst->log_bytes, logs[i].bytes, logs[i].len);
    if (inst->log_bytes.failed) return 0;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *rec = inst->log_bytes.data + off;
        const size_t len = logs[from + i].len;
        ms_log *l = &inst->logs[i];
        memset(l, 0, sizeof *l);
        memcpy(l->address.bytes, rec, 20);
        l->topic_count = rec[20];
        if (l->topic_count > 4 || len < MS_LOG_HEADER_SIZE + 32u * l->topic_count) return 0;
        for (uint32_t t = 0; t < l->topic_count; t++) memcpy(l->topics[t].bytes, rec + MS_LOG_HEADER_SIZE + 32 * t, 32);
        const size_t head = MS_LOG_HEADER_SIZE + 32u * l->topic_count;
        l->data = rec + head;
        l->data_size = len - head;
        off += len;
    }
    return 1;
}

static uint64_t make_cp(const ms_instance *inst, uint64_t len)
{
    return ((uint64_t)(inst->generation & 0xFFFFFFu) << CP_LEN_BITS) | (len & CP_LEN_MASK);
}

static ms_rc execute(ms_instance *inst, ms_result *result, const ms_block_context *block, const ms_message *msg)
{
    if (inst == NULL || result == NULL || block == NULL || msg == NULL) return MS_ERR_ARGUMENT;
    return ms_dispatch(inst, result, block, msg);
}

static ms_rc simulate(ms_instance *inst, ms_result *result, const ms_block_context *block, const ms_message *msg)
{
    if (inst == NULL || result == NULL || block == NULL || msg == NULL) return MS_ERR_ARGUMENT;
    if (inst->poisoned) return MS_ERR_POISONED;
    const uint64_t cp = ms_journal_checkpoint(inst->st.journal);
    const ms_rc rc = ms_dispatch(inst, result, block, msg);
    if (!inst->poisoned) ms_journal_revert(inst->st.journal, cp);
    return rc;
}

static ms_rc checkpoint(ms_instance *inst, uint64_t *id)
{
    if (inst == NULL || id == NULL) return MS_ERR_ARGUMENT;
    *id = 0;
    if (inst->poisoned) return MS_ERR_POISONED;
    *id = make_cp(inst, ms_journal_checkpoint(inst->st.journal));
    return MS_OK;
}

static ms_rc revert_to(ms_instance *inst, uint64_t id)
{
    if (inst == NULL) return MS_ERR_ARGUMENT;
    if (inst->poisoned) return MS_ERR_POISONED;
    if (make_cp(inst, id & CP_LEN_MASK) != id) return MS_ERR_CHECKPOINT;
    return ms_journal_revert(inst->st.journal, id & CP_LEN_MASK) ? MS_OK : MS_ERR_CHECKPOINT;
}

static ms_rc commit_block(ms_instance *inst, ms_bytes32 *root32, uint64_t height)
{
    if (inst == NULL || root32 == NULL) return MS_ERR_ARGUMENT;
    memset(root32, 0, sizeof *root32);
    if (inst->poisoned) return MS_ERR_POISONED;
    const ms_rc rc = (ms_rc)ms_state_commit(&inst->st, root32->bytes, height, inst->cfg.reorg_depth);
    if (rc == MS_ERR_HEIGHT) return rc;   /* refused before anything was written */
    if (rc != MS_OK) {
        /* The disk may hold the batch or not: only a restart can tell. */
        inst->poisoned = 1;
        return rc;
    }
    inst->generation++;
    return MS_OK;
}

static ms_rc discard_block(ms_instance *inst)
{
    if (inst == NULL) return MS_ERR_ARGUMENT;
    if (inst->poisoned) return MS_ERR_POISONED;
    ms_journal_clear(inst->st.journal);
    inst->generation++;
    return MS_OK;
}

static ms_rc rollback_to(ms_instance *inst, uint64_t height)
{
    if (inst == NULL) return MS_ERR_ARGUMENT;
    if (inst->poisoned) return MS_ERR_POISONED;
    const ms_rc rc = (ms_rc)ms_state_rollback(&inst->st, height, inst->cfg.reorg_depth);
    if (rc == MS_ERR_IO || rc == MS_ERR_NOMEM || rc == MS_ERR_CORRUPT) {
        inst->poisoned = 1;
        return rc;
    }
    /* On success the pending block is gone, and with it its checkpoints. */
    if (rc == MS_OK) inst->generation++;
    return rc;
}

static ms_rc root_at(ms_instance *inst, ms_bytes32 *root32, uint64_t height)
{
    if (inst == NULL || root32 == NULL) return MS_ERR_ARGUMENT;
    if (inst->poisoned) return MS_ERR_POISONED;
    return (ms_rc)ms_state_root_at(&inst->st, root32->bytes, height);
}

static ms_rc prove(ms_instance *inst, uint8_t *proof, size_t cap, size_t *proof_len, uint64_t height,
                   const ms_bytes32 *asset_id, uint64_t version)
{
    if (inst == NULL || proof == NULL || proof_len == NULL || asset_id == NULL) return MS_ERR_ARGUMENT;
    *proof_len = 0;
    if (inst->poisoned) return MS_ERR_POISONED;
    ms_key key;
    if (version == 0) ms_key_asset(&key, asset_id->bytes);
    else ms_key_version(&key, asset_id->bytes, version);
    return (ms_rc)ms_state_prove(&inst->st, proof, cap, proof_len, height, &key);
}

static ms_rc committed(const ms_instance *inst, uint64_t *height, ms_bytes32 *root32)
{
    if (inst == NULL || height == NULL || root32 == NULL) return MS_ERR_ARGUMENT;
    *height = inst->st.height;
    memcpy(root32->bytes, inst->st.root, 32);
    return MS_OK;
}

static ms_rc pending_logs(ms_instance *inst, const ms_log **logs, size_t *count)
{
    if (inst == NULL || logs == NULL || count == NULL) return MS_ERR_ARGUMENT;
    *logs = NULL;
    *count = 0;
    if (inst->poisoned) return MS_ERR_POISONED;
    const ms_pending_log *pending;
    size_t n;
    ms_journal_logs(inst->st.journal, &pending, &n);
    if (!ms_export_logs(inst, 0, n)) return MS_ERR_NOMEM;
    *logs = n > 0 ? inst->logs : NULL;
    *count = n;
    return MS_OK;
}

static const ms_module MODULE = {
    .abi_version = MS_ABI_VERSION,
    .name = "memsync",
    .version = "1.0.0",
    .schema_version = MS_SCHEMA_VERSION,
    .default_config = ms_config_default,
    .create = create,
    .destroy = destroy,
    .execute = execute,
    .simulate = simulate,
    .checkpoint = checkpoint,
    .revert_to = revert_to,
    .commit_block = commit_block,
    .discard_block = discard_block,
    .committed = committed,
    .pending_logs = pending_logs,
    .rc_string = rc_string,
    .rollback_to = rollback_to,
    .root_at = root_at,
    .prove = prove,
};

MS_EXPORT const ms_module *ms_module_get(void)
{
    return &MODULE;
}
