/* server/discover (spec/mcp.md [MCP-14]): what a 2026-07-28 client learns
 * before, or instead of, any other request: the versions served, the
 * capabilities and the instructions. It is the stdio probe of a dual-era
 * client, so it answers on any process, initialized or not. resultType,
 * the cache hints and the server's name are added by modern.c [MCP-15]. */
#include <stdio.h>

#include "mcp.h"

json_t *mcp_discover(mcp_server *s, json_t *params, mcp_error *err)
{
    (void)s;
    (void)params;   /* nothing beyond _meta, checked by the caller [MCP-13] */
    json_t *r = json_object();
    /* The same capabilities and instructions as initialize gives [MCP-11]:
     * one server, two ways to ask. */
    int ok = r != NULL && json_object_set_new(r, "supportedVersions", mcp_supported_versions()) == 0 &&
             json_object_set_new(r, "capabilities", mcp_capabilities()) == 0 &&
             json_object_set_new(r, "instructions", json_string(mcp_instructions())) == 0;
    if (!ok) {
        json_decref(r);
        return mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
    }
    fprintf(stderr, "memsync mcp: discovered, protocol %s\n", MCP_MODERN_VERSION);
    return r;
}
