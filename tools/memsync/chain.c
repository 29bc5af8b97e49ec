/* The local node: libmemsync.so loaded with dlopen through module/memsync.h
 * only (as tools/host does), one committed block per transaction. It lets an
 * owner keep, replay and prove a memory with no network; --rpc goes to rpc.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calldata.h"
#include "chain.h"
#include "decode.h"
#include "loader.h"
#include "module/memsync.h"

#define CHAIN_GAS 30000000u

struct chain {
    rpc *r;                  /* --rpc */
    host_module hm;          /* --node */
    ms_instance *inst;
    ms_config cfg;
    uint8_t relayer[20];
};

int chain_open(chain **out, const cli_opts *o)
{
    *out = NULL;
    if ((o->rpc == NULL) == (o->node == NULL)) return cli_fail(CLI_USAGE, "give exactly one of --rpc URL or --node DIR");
    chain *c = calloc(1, sizeof *c);
    if (c == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    if (o->rpc != NULL) {
        int rc = rpc_open(&c->r, o);
        if (rc != CLI_OK) {
            free(c);
            return rc;
        }
        *out = c;
        return CLI_OK;
    }
    const char *path = o->module != NULL ? o->module : "libmemsync.so.1";
    if (host_load(&c->hm, path) != 0) {
        free(c);
        return cli_fail(CLI_NODE, "cannot load the module %s (give --module PATH or MEMSYNC_MODULE)", path);
    }
    c->hm.m->default_config(&c->cfg);
    c->cfg.chain_id = o->chain_id;
    memcpy(c->cfg.precompile_address.bytes, o->precompile, 20);
    ms_rc rc = c->hm.m->create(&c->inst, &c->cfg, o->node);
    if (rc != MS_OK) {
        int code = cli_fail(CLI_NODE, "cannot open the local node %s: %s", o->node, c->hm.m->rc_string(rc));
        host_unload(&c->hm);
        free(c);
        return code;
    }
    /* Relayed transactions come from a fixed address: in a local node nobody pays gas. */
    memcpy(c->relayer, "local-node-relayer!!", 20);
    *out = c;
    return CLI_OK;
}

void chain_close(chain *c)
{
    if (c == NULL) return;
    if (c->r != NULL) rpc_close(c->r);
    if (c->inst != NULL) c->hm.m->destroy(c->inst);
    host_unload(&c->hm);
    free(c);
}

static ms_block_context next_block(const chain *c)
{
    uint64_t h = 0;
    ms_bytes32 root;
    c->hm.m->committed(c->inst, &h, &root);
    ms_block_context b = {.number = h + 1, .timestamp = (uint64_t)time(NULL), .chain_id = c->cfg.chain_id};
    return b;
}

int chain_call(chain *c, const ms_buf *cd, ms_buf *out, int *reverted)
{
    ms_buf_reset(out);
    *reverted = 0;
    if (cd->failed) return cli_fail(CLI_INTERNAL, "out of memory");
    if (c->r != NULL) return rpc_call(c->r, cd, out, reverted);
    ms_block_context b = next_block(c);
    const ms_message m = cd_message(MS_STATICCALL, NULL, cd, CHAIN_GAS);
    ms_result res;
    if (c->hm.m->simulate(c->inst, &res, &b, &m) != MS_OK || res.status == MS_FATAL)
        return cli_fail(CLI_NODE, "the local node failed");
    *reverted = res.status != MS_SUCCESS;
    ms_buf_put(out, res.output, res.output_size);
    return out->failed ? cli_fail(CLI_INTERNAL, "out of memory") : CLI_OK;
}

int chain_report_revert(const uint8_t *p, size_t n)
{
    fputs("memsync: the contract reverted: ", stderr);
    if (n == 0)
        fputs("(no revert data: out of gas or not the MemSync precompile)", stderr);
    else
        dec_print_error(stderr, p, n);
    fputc('\n', stderr);
    return CLI_REVERTED;
}

int chain_try_send(chain *c, const msd_identity *from, const ms_buf *cd, ms_buf *revert)
{
    ms_buf_reset(revert);
    if (cd->failed) return cli_fail(CLI_INTERNAL, "out of memory");
    if (c->r != NULL) {
        int reverted = 0;
        int rc = rpc_send(c->r, from, cd, revert, &reverted);
        if (rc == CLI_OK && reverted) rc = CLI_REVERTED;
        return rc;
    }
    ms_block_context b = next_block(c);
    uint8_t caller[20];
    if (from != NULL)
        msd_identity_address(from, caller);
    else
        memcpy(caller, c->relayer, 20);
    const ms_message m = cd_message(MS_CALL, caller, cd, CHAIN_GAS);
    uint64_t cp;
    ms_result res;
    if (c->hm.m->checkpoint(c->inst, &cp) != MS_OK || c->hm.m->execute(c->inst, &res, &b, &m) != MS_OK ||
        res.status == MS_FATAL)
        return cli_fail(CLI_NODE, "the local node failed");
    if (res.status != MS_SUCCESS) {
        ms_buf_put(revert, res.output, res.output_size);
        c->hm.m->discard_block(c->inst);
        return revert->failed ? cli_fail(CLI_INTERNAL, "out of memory") : CLI_REVERTED;
    }
    ms_bytes32 root;
    ms_rc rc = c->hm.m->commit_block(c->inst, &root, b.number);
    if (rc != MS_OK) return cli_fail(CLI_NODE, "the local node could not commit: %s", c->hm.m->rc_string(rc));
    return CLI_OK;
}

int chain_send(chain *c, const msd_identity *from, const ms_buf *cd)
{
    ms_buf rev;
    ms_buf_init(&rev);
    int rc = chain_try_send(c, from, cd, &rev);
    if (rc == CLI_REVERTED) rc = chain_report_revert(rev.data, rev.size);
    ms_buf_free(&rev);
    return rc;
}

int chain_prove(chain *c, const uint8_t asset[32], uint8_t *proof, size_t cap, size_t *len, uint64_t *height,
                uint8_t root[32])
{
    if (c->r != NULL) return CLI_NODE;
    ms_bytes32 r, id;
    if (c->hm.m->committed(c->inst, height, &r) != MS_OK || *height == 0) return CLI_NODE;
    memcpy(id.bytes, asset, 32);
    if (c->hm.m->prove(c->inst, proof, cap, len, *height, &id, 0) != MS_OK) return CLI_NODE;
    memcpy(root, r.bytes, 32);
    return CLI_OK;
}
