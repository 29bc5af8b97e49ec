/* libFuzzer harness for the whole call entry, through ms_module_get().
 *
 * One instance per process (a fresh mkdtemp directory); state persists
 * across inputs like a chain's pending block: inputs may take or roll back
 * to checkpoints, and every MS_FUZZ_COMMIT_EVERY inputs (default 64, 0 = never)
 * the block is committed at the next height. A crash can therefore depend
 * on earlier inputs; run a reproducer with MS_FUZZ_COMMIT_EVERY=0 first.
 * Every MS_FUZZ_ROUND_INPUTS inputs (default 48) the generator switches to
 * fresh asset ids (call_gen.h), so shredded assets do not pile up.
 *
 * Input: [control][call]... with up to 8 calls; each call is
 *   [ctx][gas][who][mode][calldata generator bytes...]
 * See pick_* below for what each byte means.
 *
 * Invariants (each a trap):
 *   - rc is MS_OK, status is SUCCESS, REVERT or OUT_OF_GAS (never FATAL:
 *     nothing injects I/O faults here), gas_used <= gas;
 *   - OUT_OF_GAS: gas_used == gas, no output, no logs;
 *   - REVERT: selector + whole words, the selector is an MS_E_* error, no logs;
 *   - SUCCESS: output is whole words, the logs are the precompile's and
 *     the pending log count grows by exactly log_count;
 *   - the context rules of the call entry (chain, kind, value, call_min,
 *     short input, unknown selector, static write) give the documented
 *     error and gas;
 *   - anything but an executed SUCCESS leaves the pending state exactly as
 *     it was: journal length, overlay contents, pending logs and the known
 *     asset's getHead bytes (simulate must leave it too, whatever the status);
 *   - simulate and execute of the same call agree on status, gas, output
 *     and log count;
 *   - revert_to restores that same fingerprint of its checkpoint, and ids
 *     from before a commit are refused. */
#include <stdlib.h>
#include <string.h>

#include "abi/selectors.h"
#include "call_gen.h"
#include "fuzz_input.h"
#include "memsync.h"
#include "module/instance.h"
#include "storage/journal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cg_world W;
static char g_dir[512];
static uint64_t g_height;         /* last committed height */
static uint64_t g_inputs;
static uint64_t g_commit_every = 64;     /* MS_FUZZ_COMMIT_EVERY */
static uint64_t g_round_inputs = 48;   /* inputs per round of fresh asset ids */
static int g_verbose;             /* MS_FUZZ_VERBOSE=1: one line per call, for reproducers */
static uint8_t g_cd[CG_CD_CAP + 256];

/* ------------------------------------------------------- fingerprint */

typedef struct fp {
    uint64_t journal_len;
    size_t overlay_n;
    uint64_t overlay_hash;
    size_t logs_n;
    uint64_t logs_hash;
    ms_status head_status;
    size_t head_n;
    uint8_t head[256];
} fp;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static uint8_t g_known_cd[64];
static size_t g_known_n;

/* The pending state as the host can see it, plus two cheap internals
 * (journal length, overlay contents) that catch a partial write to any
 * key, not only to the known asset. */
static void fingerprint(fp *f)
{
    memset(f, 0, sizeof *f);
    ms_journal *j = W.inst->st.journal;
    f->journal_len = ms_journal_checkpoint(j);
    const ms_overlay_entry *const *e;
    FZ_CHECK(ms_journal_sorted(j, &e, &f->overlay_n));
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < f->overlay_n; i++) {
        h = fnv(h, &e[i]->klen, sizeof e[i]->klen);
        h = fnv(h, e[i]->key, e[i]->klen);
        h = fnv(h, &e[i]->deleted, sizeof e[i]->deleted);
        h = fnv(h, &e[i]->vlen, sizeof e[i]->vlen);
        if (e[i]->vlen > 0) h = fnv(h, e[i]->val, e[i]->vlen);
    }
    f->overlay_hash = h;

    const ms_log *logs;
    FZ_CHECK(W.m->pending_logs(W.inst, &logs, &f->logs_n) == MS_OK);
    h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < f->logs_n; i++) {
        h = fnv(h, &logs[i].address, sizeof logs[i].address);
        h = fnv(h, &logs[i].topic_count, sizeof logs[i].topic_count);
        h = fnv(h, logs[i].topics, sizeof logs[i].topics);
        h = fnv(h, logs[i].data, logs[i].data_size);
    }
    f->logs_hash = h;

    ms_block_context blk = { g_height + 1, CG_BASE_TIME, W.cfg.chain_id };
    ms_message m;
    memset(&m, 0, sizeof m);
    m.kind = MS_STATICCALL;
    m.input = g_known_cd;
    m.input_size = g_known_n;
    m.gas = 1000000;
    ms_result r;
    FZ_CHECK(W.m->simulate(W.inst, &r, &blk, &m) == MS_OK);
    f->head_status = r.status;
    f->head_n = r.output_size < sizeof f->head ? r.output_size : sizeof f->head;
    if (f->head_n > 0) memcpy(f->head, r.output, f->head_n);
}

static int fp_equal(const fp *a, const fp *b)
{
    return a->journal_len == b->journal_len && a->overlay_n == b->overlay_n &&
           a->overlay_hash == b->overlay_hash && a->logs_n == b->logs_n && a->logs_hash == b->logs_hash &&
           a->head_status == b->head_status && a->head_n == b->head_n && memcmp(a->head, b->head, a->head_n) == 0;
}

/* ------------------------------------------------------- checkpoints */

#define MAX_CPS 8
static uint64_t g_cp_id[MAX_CPS];
static fp g_cp_fp[MAX_CPS];
static size_t g_ncp;
static uint64_t g_stale_cp;      /* an id from an earlier block, or 0 */
static int g_have_stale;

static void drop_checkpoints(void)
{
    if (g_ncp > 0) {
        g_stale_cp = g_cp_id[0];
        g_have_stale = 1;
    }
    g_ncp = 0;
}

static void control(fz_in *in)
{
    const uint8_t c = fz_u8(in);
    if (c < 0x20) {
        if (g_ncp == MAX_CPS) return;
        FZ_CHECK(W.m->checkpoint(W.inst, &g_cp_id[g_ncp]) == MS_OK);
        fingerprint(&g_cp_fp[g_ncp]);
        g_ncp++;
    } else if (c < 0x40) {
        if (g_ncp == 0) return;
        const size_t i = fz_u8(in) % g_ncp;
        FZ_CHECK(W.m->revert_to(W.inst, g_cp_id[i]) == MS_OK);
        fp now;
        fingerprint(&now);
        FZ_CHECK(fp_equal(&now, &g_cp_fp[i]));
        g_ncp = i + 1;   /* later checkpoints are gone: keep the stack ordered */
    } else if (c < 0x48) {
        /* An id from an earlier block must be refused, never reinterpreted. */
        if (g_have_stale) FZ_CHECK(W.m->revert_to(W.inst, g_stale_cp) == MS_ERR_CHECKPOINT);
    } else if (c == 0xFF) {
        FZ_CHECK(W.m->discard_block(W.inst) == MS_OK);
        drop_checkpoints();
        fp now;
        fingerprint(&now);
        FZ_CHECK(now.journal_len == 0 && now.overlay_n == 0 && now.logs_n == 0);
    }
}

static void commit(void)
{
    ms_bytes32 root;
    FZ_CHECK(W.m->commit_block(W.inst, &root, g_height) == MS_ERR_HEIGHT);   /* not above: refused */
    FZ_CHECK(W.m->commit_block(W.inst, &root, g_height + 1) == MS_OK);
    g_height++;
    drop_checkpoints();
}

/* --------------------------------------------------------------- init */

static void rm_tree(const char *dir)
{
    /* RocksDB writes plain files only, one level deep. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_call: could not remove %s\n", dir);
}

static void at_exit(void)
{
    W.m->destroy(W.inst);
    rm_tree(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *every = getenv("MS_FUZZ_COMMIT_EVERY");
    if (every != NULL) g_commit_every = strtoull(every, NULL, 10);
    g_verbose = getenv("MS_FUZZ_VERBOSE") != NULL;
    const char *round = getenv("MS_FUZZ_ROUND_INPUTS");
    if (round != NULL && strtoull(round, NULL, 10) > 0) g_round_inputs = strtoull(round, NULL, 10);

    W.m = ms_module_get();
    FZ_CHECK(W.m->abi_version == MS_ABI_VERSION);
    W.m->default_config(&W.cfg);
    /* Small limits so the fuzzer reaches every boundary: too many grants,
     * pruning, too-large ciphertexts and wrapped keys. */
    W.cfg.max_ciphertext = 4096;
    W.cfg.max_wrapped_key = 64;
    W.cfg.max_grants = 2;
    W.cfg.retained_versions = 3;
    cg_world_init(&W);

    /* run.sh points TMPDIR at its scratch directory, so data directories
     * left behind by crashing processes are cleaned up with it. */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/ms-fuzz-call-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    FZ_CHECK(mkdtemp(g_dir) != NULL);
    FZ_CHECK(W.m->create(&W.inst, &W.cfg, g_dir) == MS_OK);
    atexit(at_exit);

    /* The known asset: owner key 0, one version, committed at height 1, so
     * every later input has a fixed record to watch. */
    static uint8_t cd[512], ct[100];
    uint8_t meta[32];
    memset(meta, 0x6D, 32);
    cg_envelope(ct, sizeof ct, 1, 0x42);
    const size_t n = cg_create_call(cd, W.known_salt, meta, ct, sizeof ct);
    ms_block_context blk = { 1, CG_BASE_TIME, W.cfg.chain_id };
    ms_message m;
    memset(&m, 0, sizeof m);
    m.kind = MS_CALL;
    memcpy(m.caller.bytes, W.addr[0], 20);
    m.input = cd;
    m.input_size = n;
    m.gas = 10000000;
    ms_result r;
    FZ_CHECK(W.m->execute(W.inst, &r, &blk, &m) == MS_OK && r.status == MS_SUCCESS);
    FZ_CHECK(r.output_size == 32 && memcmp(r.output, W.ids[0], 32) == 0);
    commit();

    g_known_n = cg_simple(g_known_cd, MS_FN_GET_HEAD, W.ids[0], NULL);
    return 0;
}

/* ------------------------------------------------------------- checks */

static const uint32_t ERRORS[] = {
    MS_E_ASSET_EXISTS, MS_E_ASSET_IS_SHREDDED, MS_E_ASSET_NOT_FOUND, MS_E_CALL_KIND_NOT_ALLOWED,
    MS_E_CIPHERTEXT_TOO_LARGE, MS_E_GRANT_NOT_FOUND, MS_E_INVALID_ADDRESS, MS_E_INVALID_CALLDATA,
    MS_E_INVALID_ENVELOPE, MS_E_INVALID_NONCE, MS_E_INVALID_PERMISSIONS, MS_E_INVALID_SIGNATURE,
    MS_E_INVALID_VERSION_RANGE, MS_E_KEY_EPOCH_MISMATCH, MS_E_NOT_AUTHORIZED, MS_E_SIGNATURE_EXPIRED,
    MS_E_TOO_MANY_GRANTS, MS_E_UNKNOWN_FUNCTION, MS_E_VALUE_NOT_ACCEPTED, MS_E_VERSION_CONFLICT,
    MS_E_VERSION_NOT_FOUND, MS_E_VERSION_PRUNED, MS_E_VERSION_SHREDDED, MS_E_WRAPPED_KEY_TOO_LARGE,
    MS_E_WRITE_IN_STATIC_CONTEXT, MS_E_WRONG_CHAIN, MS_E_WRONG_SIGNER,
};

static const uint32_t WRITES[] = {
    MS_FN_CREATE_MEMORY, MS_FN_CREATE_MEMORY_SIGNED, MS_FN_APPEND_VERSION, MS_FN_APPEND_VERSION_SIGNED,
    MS_FN_TRANSFER_OWNERSHIP, MS_FN_TRANSFER_OWNERSHIP_SIGNED, MS_FN_GRANT_ACCESS, MS_FN_REVOKE_ACCESS,
    MS_FN_ROTATE_KEY, MS_FN_SHRED_MEMORY, MS_FN_SHRED_VERSIONS,
};
static const uint32_t READS[] = {
    MS_FN_GET_HEAD, MS_FN_GET_VERSION, MS_FN_GET_VERSION_INFO, MS_FN_GET_GRANTS,
    MS_FN_GET_GRANT, MS_FN_NONCE_OF, MS_FN_DOMAIN_SEPARATOR, MS_FN_EIP712_DOMAIN,
};

static int in_list(uint32_t v, const uint32_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == v) return 1;
    }
    return 0;
}
#define IN(v, list) in_list((v), (list), sizeof(list) / sizeof((list)[0]))

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A copy of the result: the next host call reuses the instance's buffers. */
typedef struct res {
    ms_status status;
    uint64_t gas_used;
    size_t out_n;
    uint32_t err;        /* revert selector */
    size_t log_count;
} res;

static void check_result(const ms_result *r, const ms_message *m, const ms_block_context *blk, res *out)
{
    FZ_CHECK(r->status == MS_SUCCESS || r->status == MS_REVERT || r->status == MS_OUT_OF_GAS);
    FZ_CHECK(r->gas_used <= m->gas);
    FZ_CHECK((r->output != NULL) == (r->output_size > 0));
    out->status = r->status;
    out->gas_used = r->gas_used;
    out->out_n = r->output_size;
    out->log_count = r->log_count;
    out->err = 0;
    switch (r->status) {
    case MS_OUT_OF_GAS:
        FZ_CHECK(r->gas_used == m->gas && r->output_size == 0 && r->log_count == 0);
        break;
    case MS_REVERT:
        FZ_CHECK(r->output_size >= 4 && (r->output_size - 4) % 32 == 0 && r->log_count == 0);
        out->err = be32(r->output);
        FZ_CHECK(IN(out->err, ERRORS));
        break;
    default:
        FZ_CHECK(r->output_size % 32 == 0);
        for (size_t i = 0; i < r->log_count; i++) {
            FZ_CHECK(memcmp(r->logs[i].address.bytes, W.cfg.precompile_address.bytes, 20) == 0);
            FZ_CHECK(r->logs[i].topic_count >= 1 && r->logs[i].topic_count <= 4);
        }
        break;
    }

    /* The call entry's context rules, in their documented order. */
    static const uint8_t zero32[32];
    const int value = memcmp(m->value.bytes, zero32, 32) != 0;
    if (blk->chain_id != W.cfg.chain_id) {
        FZ_CHECK(out->status == MS_REVERT && out->err == MS_E_WRONG_CHAIN && out->gas_used == m->gas);
        return;
    }
    if (m->kind != MS_CALL && m->kind != MS_STATICCALL) {
        FZ_CHECK(out->status == MS_REVERT && out->err == MS_E_CALL_KIND_NOT_ALLOWED && out->gas_used == m->gas);
        return;
    }
    if (value) {
        FZ_CHECK(out->status == MS_REVERT && out->err == MS_E_VALUE_NOT_ACCEPTED && out->gas_used == m->gas);
        return;
    }
    if (m->gas < W.cfg.gas.call_min) {
        FZ_CHECK(out->status == MS_OUT_OF_GAS);
        return;
    }
    if (m->input_size < 4) {
        FZ_CHECK(out->status == MS_REVERT && out->err == MS_E_INVALID_CALLDATA && out->gas_used == W.cfg.gas.call_min);
        return;
    }
    const uint32_t sel = be32(m->input);
    if (!IN(sel, WRITES) && !IN(sel, READS)) {
        FZ_CHECK(out->status == MS_REVERT && out->err == MS_E_UNKNOWN_FUNCTION && out->gas_used == W.cfg.gas.call_min);
        return;
    }
    if (IN(sel, WRITES) && (m->is_static || m->kind == MS_STATICCALL)) {
        FZ_CHECK(out->status == MS_REVERT && out->err == MS_E_WRITE_IN_STATIC_CONTEXT && out->gas_used == m->gas);
        return;
    }
    /* Context errors belong to the entry alone. */
    FZ_CHECK(out->err != MS_E_WRONG_CHAIN && out->err != MS_E_CALL_KIND_NOT_ALLOWED &&
             out->err != MS_E_VALUE_NOT_ACCEPTED && out->err != MS_E_WRITE_IN_STATIC_CONTEXT &&
             out->err != MS_E_UNKNOWN_FUNCTION);
    /* Reads never log. */
    if (IN(sel, READS)) FZ_CHECK(out->log_count == 0);
}

/* --------------------------------------------------------------- calls */

static uint64_t pick_gas(fz_in *in)
{
    static const uint64_t table[] = { 0, 1, 199, 200, 201, 203, 1000, 2999, 5000, 10000, 20000, 30000, 50000, 100000 };
    const uint8_t b = fz_u8(in);
    if (b < 0xC0) return 10000000;
    if (b < 0xF0) return table[b % (sizeof table / sizeof table[0])];
    return fz_u64(in);
}

static void one_call(fz_in *in)
{
    const uint8_t ctx = fz_u8(in), who = fz_u8(in);
    ms_message m;
    memset(&m, 0, sizeof m);
    /* Mostly CALL; STATICCALL, DELEGATECALL, CALLCODE less often. Kinds
     * outside the enum would be host misuse, not tested here. */
    const unsigned k = ctx & 0x0F;
    m.kind = k < 10 ? MS_CALL : k < 13 ? MS_STATICCALL : k < 14 ? MS_DELEGATECALL : k < 15 ? MS_CALLCODE : MS_CALL;
    m.is_static = (ctx & 0x70) == 0x70;
    if ((ctx & 0x80) && (ctx & 0x70) == 0x60) m.value.bytes[31 - (who & 31)] = 1;
    memcpy(m.caller.bytes, W.addr[who % CG_KEYS], 20);
    m.gas = pick_gas(in);

    ms_block_context blk = { g_height + 1, CG_BASE_TIME, W.cfg.chain_id };
    static const int64_t dt[] = { 0, 0, 0, 0, 1, -1, 1000000, -1000000 };
    blk.timestamp = (uint64_t)((int64_t)CG_BASE_TIME + dt[(who >> 2) & 7]);
    if ((who & 0xE0) == 0xE0) blk.chain_id = W.cfg.chain_id + 1;
    const int simulate = (who & 0xE0) == 0xC0;

    /* Calldata: structured, a real selector then raw bytes, or all raw. */
    const uint8_t mode = fz_u8(in);
    size_t n;
    if (mode < 0xC0) {
        n = cg_build(g_cd, in, &W, &blk);
    } else if (mode < 0xF0) {
        static const uint32_t all[] = {
            MS_FN_CREATE_MEMORY, MS_FN_CREATE_MEMORY_SIGNED, MS_FN_APPEND_VERSION, MS_FN_APPEND_VERSION_SIGNED,
            MS_FN_TRANSFER_OWNERSHIP, MS_FN_TRANSFER_OWNERSHIP_SIGNED, MS_FN_GRANT_ACCESS, MS_FN_REVOKE_ACCESS,
            MS_FN_ROTATE_KEY, MS_FN_SHRED_MEMORY, MS_FN_SHRED_VERSIONS, MS_FN_GET_HEAD, MS_FN_GET_VERSION,
            MS_FN_GET_VERSION_INFO, MS_FN_GET_GRANTS, MS_FN_GET_GRANT, MS_FN_NONCE_OF, MS_FN_DOMAIN_SEPARATOR,
            MS_FN_EIP712_DOMAIN,
        };
        const uint32_t sel = all[mode % (sizeof all / sizeof all[0])];
        for (int i = 0; i < 4; i++) g_cd[i] = (uint8_t)(sel >> (24 - 8 * i));
        const size_t raw = (size_t)fz_u64n(in, 2) % 1024;
        fz_bytes(in, g_cd + 4, raw);
        n = 4 + raw;
    } else {
        n = fz_u8(in);
        fz_bytes(in, g_cd, n);
    }
    /* An exact-size heap copy so ASan sees a read past the calldata; empty
     * calldata is a NULL pointer, as the header allows. */
    uint8_t *input = NULL;
    if (n > 0) {
        input = malloc(n);
        FZ_CHECK(input != NULL);
        memcpy(input, g_cd, n);
    }
    m.input = input;
    m.input_size = n;

    fp before, after;
    fingerprint(&before);
    ms_result r;
    /* Before an execute, simulate the same call: a node's eth_call and its
     * block execution must agree byte for byte (status, gas, output, log
     * count), and the simulation must leave no trace. */
    res sim;
    memset(&sim, 0, sizeof sim);
    static uint8_t sim_out[CG_CD_CAP * 2];
    if (!simulate) {
        FZ_CHECK(W.m->simulate(W.inst, &r, &blk, &m) == MS_OK);
        check_result(&r, &m, &blk, &sim);
        FZ_CHECK(sim.out_n <= sizeof sim_out);
        if (sim.out_n > 0) memcpy(sim_out, r.output, sim.out_n);
        fingerprint(&after);
        FZ_CHECK(fp_equal(&before, &after));
    }
    const ms_rc rc = simulate ? W.m->simulate(W.inst, &r, &blk, &m) : W.m->execute(W.inst, &r, &blk, &m);
    FZ_CHECK(rc == MS_OK);
    FZ_CHECK(r.status != MS_FATAL);
    res got;
    check_result(&r, &m, &blk, &got);
    if (!simulate) {
        FZ_CHECK(got.status == sim.status && got.gas_used == sim.gas_used && got.out_n == sim.out_n &&
                 got.log_count == sim.log_count);
        FZ_CHECK(got.out_n == 0 || memcmp(r.output, sim_out, got.out_n) == 0);
    }
    if (g_verbose) {
        fprintf(stderr, "call %s kind=%d static=%d caller=%u gas=%llu n=%zu sel=%08x -> status=%d gas_used=%llu err=%08x logs=%zu\n",
                simulate ? "sim" : "exe", (int)m.kind, m.is_static, who % CG_KEYS, (unsigned long long)m.gas, n,
                n >= 4 ? be32(g_cd) : 0u, (int)got.status, (unsigned long long)got.gas_used, got.err, got.log_count);
    }
    fingerprint(&after);
    if (simulate || got.status != MS_SUCCESS) {
        FZ_CHECK(fp_equal(&before, &after));
    } else {
        FZ_CHECK(after.logs_n == before.logs_n + got.log_count);
    }
    free(input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    /* Rounds (48 inputs) and blocks (64) do not line up, so most rounds
     * straddle a commit: assets created before it are changed after it,
     * through the committed store rather than the overlay. */
    if (g_inputs / g_round_inputs != W.round) cg_world_set_round(&W, g_inputs / g_round_inputs);
    control(&in);
    for (int i = 0; i < 8 && in.n > 0; i++) one_call(&in);
    g_inputs++;
    if (g_commit_every != 0 && g_inputs % g_commit_every == 0) commit();
    return 0;
}
