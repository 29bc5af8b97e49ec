/* `memsync mcp`: the MCP server over the owner's memory store (memstore),
 * on stdin/stdout until end of input (spec/mcp.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mcp.h"
#include "tools/memsync/memstore.h"

/* The store behind the server: the memory, and when it last pulled. */
typedef struct server_store {
    memstore *m;
    time_t last_pull;
} server_store;

/* [MCP-30] Reads use the local copy, pulled again from the chain when the
 * last pull is more than PULL_EVERY_SECONDS old: no chain round trip per
 * call, and another device's changes show within that time. A chain that
 * cannot be reached then is no reason not to answer from the local copy. */
#define PULL_EVERY_SECONDS 30

static int pull_due(const server_store *st, time_t now)
{
    return memstore_has_chain(st->m) && (now < st->last_pull || now - st->last_pull >= PULL_EVERY_SECONDS);
}

static int store_load(void *ctx, msd_mem_doc **doc)
{
    server_store *st = ctx;
    const time_t now = time(NULL);
    if (!pull_due(st, now)) return memstore_load(st->m, doc, 0);
    st->last_pull = now;
    if (memstore_load(st->m, doc, 1) == CLI_OK) return CLI_OK;
    fputs("memsync mcp: a pull failed; serving the local copy\n", stderr);
    return memstore_load(st->m, doc, 0);
}

static int store_update(void *ctx, mcp_edit_fn fn, void *arg, int shred_after)
{
    const server_store *st = ctx;
    return memstore_update(st->m, fn, arg, shred_after);
}

static int store_sync(void *ctx, mcp_sync_info *info)
{
    const server_store *st = ctx;
    memstore_sync_report rep;
    memset(&rep, 0, sizeof rep);
    const int rc = memstore_sync(st->m, &rep, 0);
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
    /* [MCP-30] One pull at start, so the first reads see what other devices wrote. */
    server_store st = {m, 0};
    msd_mem_doc *first = NULL;
    if (memstore_has_chain(m) && store_load(&st, &first) != CLI_OK)
        fputs("memsync mcp: the local copy could not be read\n", stderr);
    msd_mem_free(first);
    /* A client that goes away shows as a failed write, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    const mcp_store store = {&st, store_load, store_update, store_sync, memstore_has_chain(m)};
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
