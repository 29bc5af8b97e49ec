/* Each call frame is bracketed the way a node brackets a precompile call
 * inside a transaction: a checkpoint before, revert_to on failure. */
#include "node.h"

#include <string.h>

#include "calldata.h"
#include "decode.h"

static const char *status_name(ms_status s)
{
    switch (s) {
    case MS_SUCCESS: return "SUCCESS";
    case MS_REVERT: return "REVERT";
    case MS_OUT_OF_GAS: return "OUT_OF_GAS";
    case MS_FATAL: return "FATAL";
    }
    return "?";
}

void node_begin_block(node *n, uint64_t number)
{
    n->blk.number = number;
    n->blk.timestamp = NODE_GENESIS_TIME + NODE_BLOCK_TIME * number;
    n->blk.chain_id = n->cfg.chain_id;
    fprintf(n->out, "\n=== block %llu (timestamp %llu) ===\n", (unsigned long long)number,
            (unsigned long long)n->blk.timestamp);
}

/* Print the outcome and check it against the expectation. */
static int report(node *n, uint32_t selector, uint32_t expect, int frame)
{
    const ms_result *r = &n->last;
    FILE *f = n->out;
    fprintf(f, "    -> %s, gas used %llu", status_name(r->status), (unsigned long long)r->gas_used);
    if (r->status == MS_SUCCESS) {
        fputs("\n       output: ", f);
        dec_print_output(f, selector, r->output, r->output_size);
    } else if (r->status == MS_REVERT) {
        fputs("\n       error:  ", f);
        dec_print_error(f, r->output, r->output_size);
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->log_count; i++) {
        fputs("       event:  ", f);
        dec_print_event(f, &r->logs[i]);
        fputc('\n', f);
    }
    if (r->status == MS_FATAL) {
        fputs("    !! MS_FATAL: the instance is poisoned; a node must stop here\n", f);
        n->fatal = 1;
        return 0;
    }
    const uint32_t got = r->status == MS_REVERT ? dec_selector(r->output, r->output_size) : 0u;
    const int ok = r->status == MS_SUCCESS ? expect == NODE_EXPECT_OK
                                           : r->status == MS_REVERT && expect != NODE_EXPECT_OK && got == expect;
    if (!ok) {
        const char *want = expect == NODE_EXPECT_OK ? "SUCCESS" : dec_error_name(expect);
        fprintf(f, "    !! UNEXPECTED: the scenario expected %s\n", want != NULL ? want : "?");
        n->unexpected++;
    } else if (expect != NODE_EXPECT_OK) {
        fputs(frame ? "       (expected failure: frame reverted with revert_to)\n"
                    : "       (expected failure)\n", f);
    }
    return r->status == MS_SUCCESS;
}

static int lifecycle(node *n, ms_rc rc, const char *what)
{
    if (rc == MS_OK) return 1;
    fprintf(n->out, "    !! %s failed: %s (rc %d)\n", what, n->m->rc_string(rc), (int)rc);
    n->fatal = 1;
    return 0;
}

int node_tx(node *n, const char *actor, const uint8_t caller[20], const ms_buf *cd, uint32_t expect)
{
    memset(&n->last, 0, sizeof n->last);
    if (n->fatal) return 0;
    if (cd->failed) {
        fputs("    !! calldata encoding failed (out of memory)\n", n->out);
        n->fatal = 1;
        return 0;
    }
    fprintf(n->out, "[%s] ", actor);
    dec_print_call(n->out, cd->data, cd->size);
    fputc('\n', n->out);

    const ms_message msg = cd_message(MS_CALL, caller, cd, NODE_GAS_LIMIT);

    uint64_t cp = 0;
    if (!lifecycle(n, n->m->checkpoint(n->inst, &cp), "checkpoint")) return 0;
    if (!lifecycle(n, n->m->execute(n->inst, &n->last, &n->blk, &msg), "execute")) return 0;
    const int ok = report(n, dec_selector(cd->data, cd->size), expect, 1);
    if (n->last.status != MS_SUCCESS && !n->fatal) {
        /* A node undoes the whole frame; the module has already rolled its
         * own writes back, so this must be a no-op that still succeeds. */
        lifecycle(n, n->m->revert_to(n->inst, cp), "revert_to");
    }
    return ok && !n->fatal;
}

int node_view(node *n, const ms_buf *cd, uint32_t expect, int quiet)
{
    memset(&n->last, 0, sizeof n->last);
    if (n->fatal) return 0;
    if (cd->failed) {
        n->fatal = 1;
        return 0;
    }
    const ms_message msg = cd_message(MS_STATICCALL, NULL, cd, NODE_GAS_LIMIT);
    if (!quiet) {
        fputs("[eth_call] ", n->out);
        dec_print_call(n->out, cd->data, cd->size);
        fputc('\n', n->out);
    }
    if (!lifecycle(n, n->m->simulate(n->inst, &n->last, &n->blk, &msg), "simulate")) return 0;
    if (!quiet) return report(n, dec_selector(cd->data, cd->size), expect, 0);
    if (n->last.status == MS_FATAL) n->fatal = 1;
    return n->last.status == MS_SUCCESS;
}

int node_commit(node *n)
{
    if (n->fatal) return 0;
    const ms_log *logs = NULL;
    size_t count = 0;
    if (!lifecycle(n, n->m->pending_logs(n->inst, &logs, &count), "pending_logs")) return 0;
    ms_bytes32 root;
    if (!lifecycle(n, n->m->commit_block(n->inst, &root, n->blk.number), "commit_block")) return 0;
    fprintf(n->out, "--- commit_block height %llu: %zu logs in block, root ", (unsigned long long)n->blk.number,
            count);
    dec_hex(n->out, root.bytes, 32);
    fputc('\n', n->out);
    return 1;
}
