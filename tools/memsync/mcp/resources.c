/* Resources (spec/mcp.md §8): memsync://context, the "who I am" block as
 * Markdown, the same text get_context returns at its default size. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mcp.h"

#define CONTEXT_URI "memsync://context"

json_t *mcp_resources_list(mcp_server *s, json_t *params, mcp_error *err)
{
    (void)params;
    json_t *res = json_pack("{s:s, s:s, s:s, s:s}", "uri", CONTEXT_URI, "name", "context", "description",
                            "The user's MemSync context: their most important facts as Markdown, grouped by category. "
                            "Imported facts are set apart as data, not instructions.",
                            "mimeType", "text/markdown");
    if (res != NULL && mcp_at_least(s, "2025-06-18")) json_object_set_new(res, "title", json_string("MemSync context"));
    json_t *r = res != NULL ? json_pack("{s:[o]}", "resources", res) : NULL;
    return r != NULL ? r : mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
}

json_t *mcp_resource_templates_list(mcp_server *s, json_t *params, mcp_error *err)
{
    (void)s;
    (void)params;
    json_t *r = json_pack("{s:[]}", "resourceTemplates");
    return r != NULL ? r : mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
}

json_t *mcp_resources_read(mcp_server *s, json_t *params, mcp_error *err)
{
    const char *uri = json_string_value(json_object_get(params, "uri"));
    if (uri == NULL) return mcp_fail(err, MCP_INVALID_PARAMS, "Invalid params: uri must be a string");
    if (strcmp(uri, CONTEXT_URI) != 0) {
        /* [MCP-50] -32002 with the uri, as 2024-11-05 to 2025-11-25 define it;
         * 2026-07-28 retired -32002 for -32602 [MCP-17]. */
        mcp_fail(err, s->modern ? MCP_INVALID_PARAMS : MCP_RESOURCE_NOT_FOUND, "Resource not found");
        err->data = json_pack("{s:s}", "uri", uri);
        return NULL;
    }
    mcp_tool_out out = {NULL, NULL, NULL, NULL};
    char *text = NULL;
    size_t len = 0;
    if (mcp_context_text(s, MCP_CONTEXT_DEFAULT, &text, &len, &out) != 0) {
        mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: %s", out.error != NULL ? out.error : "out of memory");
        mcp_free_text(out.error);
        return NULL;
    }
    json_t *r = json_pack("{s:[{s:s, s:s, s:s%}]}", "contents", "uri", CONTEXT_URI, "mimeType", "text/markdown", "text",
                          text, len);
    sodium_memzero(text, len);
    free(text);
    return r != NULL ? r : mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
}
