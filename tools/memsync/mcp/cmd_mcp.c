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

/* [MCP-44] Every jansson allocation is wiped when freed: requests and
 * results hold memory text, and so do the documents the library parses.
 * The pointers stay plain malloc() ones, because callers free json_dumps()
 * output with free(); glibc tells the block's size. */
#ifdef __GLIBC__
#include <malloc.h>

static void wipe_free(void *p)
{
    if (p == NULL) return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

static void wipe_allocations(void)
{
    json_set_alloc_funcs(malloc, wipe_free);
}
#else
static void wipe_allocations(void)
{
}
#endif

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
    wipe_allocations();
    memstore *m = NULL;
    int rc = memstore_open(&m, o);
    if (rc != CLI_OK) return rc;
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
