/* `memsync mcp`: the MCP server over the owner's memory store (memstore),
 * on stdin/stdout until end of input (spec/mcp.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "mcp.h"
#include "tools/memsync/memstore.h"

static int store_load(void *ctx, msd_mem_doc **doc)
{
    /* [MCP-30] Reads use the local copy: no chain round trip per call. */
    return memstore_load(ctx, doc, 0);
}

static int store_update(void *ctx, mcp_edit_fn fn, void *arg, int shred_after)
{
    return memstore_update(ctx, fn, arg, shred_after);
}

static int store_sync(void *ctx, mcp_sync_info *info)
{
    memstore_sync_report rep;
    memset(&rep, 0, sizeof rep);
    const int rc = memstore_sync(ctx, &rep, 0);
    info->version = rep.version;
    info->pulled = rep.pulled;
    info->pushed = rep.pushed;
    info->conflicts = rep.conflicts;
    return rc;
}

int cmd_mcp(const cli_opts *o)
{
    if (isatty(STDIN_FILENO))
        fputs("memsync mcp: an MCP server speaks JSON-RPC on stdin; start it from an AI tool (see README)\n", stderr);
    memstore *m = NULL;
    int rc = memstore_open(&m, o);
    if (rc != CLI_OK) return rc;
    /* [MCP-30] One pull at start, so the first reads see what other devices
     * wrote; a chain that cannot be reached now is no reason not to serve. */
    if (memstore_has_chain(m)) {
        msd_mem_doc *doc = NULL;
        if (memstore_load(m, &doc, 1) != CLI_OK)
            fputs("memsync mcp: the first pull failed; serving the local copy (the sync tool retries)\n", stderr);
        msd_mem_free(doc);
    }
    /* A client that goes away shows as a failed write, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    const mcp_store store = {m, store_load, store_update, store_sync, memstore_has_chain(m)};
    mcp_server s;
    mcp_server_init(&s, &store, o->include_private);
    fprintf(stderr, "memsync mcp: serving on stdio, memory %s%s\n",
            store.has_chain ? "synced through the chain" : "on this device only",
            o->include_private ? ", private category included" : "");
    rc = mcp_serve(&s, STDIN_FILENO, STDOUT_FILENO);
    fprintf(stderr, "memsync mcp: end of input after %lu requests\n", s.requests);
    memstore_close(m);
    return rc == 0 ? CLI_OK : CLI_IO;
}
