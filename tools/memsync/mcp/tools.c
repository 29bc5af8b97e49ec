/* tools/list and tools/call (spec/mcp.md §5): the MemSync tools and the
 * drop-in knowledge-graph tools, shaped for the negotiated version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

static json_t *tool_json(const mcp_server *s, const mcp_tool *t, mcp_error *err)
{
    json_error_t je;
    json_t *in = json_loads(t->input_schema, 0, &je);
    json_t *out = json_loads(t->output_schema, 0, &je);
    json_t *j = json_pack("{s:s, s:s}", "name", t->name, "description", t->description);
    if (in == NULL || out == NULL || j == NULL) {
        json_decref(in);
        json_decref(out);
        json_decref(j);
        return mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: the schema of %s", t->name);
    }
    json_object_set_new(j, "inputSchema", in);
    /* [MCP-21] Fields by the version that introduced them: annotations in
     * 2025-03-26, title and outputSchema in 2025-06-18. */
    if (mcp_at_least(s, "2025-06-18")) {
        json_object_set_new(j, "title", json_string(t->title));
        json_object_set_new(j, "outputSchema", out);
    } else {
        json_decref(out);
    }
    if (mcp_at_least(s, "2025-03-26")) {
        json_t *a = json_pack("{s:b, s:b, s:b, s:b}", "readOnlyHint", t->read_only, "destructiveHint", t->destructive,
                              "idempotentHint", t->idempotent, "openWorldHint", 0);
        if (a == NULL) {
            json_decref(j);
            return mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
        }
        json_object_set_new(j, "annotations", a);
    }
    return j;
}

json_t *mcp_tools_list(mcp_server *s, json_t *params, mcp_error *err)
{
    (void)params;   /* one page: a cursor has nothing to continue */
    json_t *arr = json_array();
    if (arr == NULL) return mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
    const mcp_tool *const sets[2] = {mcp_memsync_tools, mcp_graph_tools};
    const size_t counts[2] = {mcp_memsync_tool_count, mcp_graph_tool_count};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            json_t *t = tool_json(s, &sets[k][i], err);
            if (t == NULL) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, t);
        }
    return json_pack("{s:o}", "tools", arr);
}

static const mcp_tool *find_tool(const char *name)
{
    for (size_t i = 0; i < mcp_memsync_tool_count; i++)
        if (strcmp(name, mcp_memsync_tools[i].name) == 0) return &mcp_memsync_tools[i];
    for (size_t i = 0; i < mcp_graph_tool_count; i++)
        if (strcmp(name, mcp_graph_tools[i].name) == 0) return &mcp_graph_tools[i];
    return NULL;
}

static json_t *text_result(const char *text, int is_error)
{
    json_t *r = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text);
    if (r != NULL && is_error) json_object_set_new(r, "isError", json_true());
    return r;
}

json_t *mcp_tools_call(mcp_server *s, json_t *params, mcp_error *err)
{
    json_t *nj = json_object_get(params, "name");
    if (!json_is_string(nj)) return mcp_fail(err, MCP_INVALID_PARAMS, "Invalid params: name must be a string");
    json_t *args = json_object_get(params, "arguments");
    if (args != NULL && !json_is_object(args))
        return mcp_fail(err, MCP_INVALID_PARAMS, "Invalid params: arguments must be an object");
    const char *name = json_string_value(nj);
    const mcp_tool *t = find_tool(name);
    if (t == NULL) {
        /* [MCP-22] An unknown tool is a protocol error, not a tool result. */
        const size_t n = mcp_utf8_prefix(name, strlen(name), 100);
        return mcp_fail(err, MCP_INVALID_PARAMS, "Invalid params: unknown tool %.*s", (int)n, name);
    }
    json_t *empty = NULL;
    if (args == NULL && (args = empty = json_object()) == NULL)
        return mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");

    mcp_tool_out out = {NULL, NULL, NULL, NULL};
    const int rc = t->fn(s, args, &out);
    json_decref(empty);
    json_t *r = NULL;
    if (rc != 0 || out.structured == NULL) {
        /* [MCP-23] A failing tool is a result with isError, for the model to read. */
        fprintf(stderr, "memsync mcp: tool %s returned an error\n", t->name);
        r = text_result(out.error != NULL ? out.error : "The tool failed (out of memory).", 1);
    } else {
        char *text = out.text != NULL ? out.text : mcp_dump(out.structured);
        out.text = NULL;
        r = text != NULL ? text_result(text, 0) : NULL;
        mcp_free_text(text);
        if (r != NULL && out.note != NULL)
            json_array_append_new(json_object_get(r, "content"), json_pack("{s:s, s:s}", "type", "text", "text", out.note));
        /* [MCP-20] structuredContent from 2025-06-18 (outputSchema came with it). */
        if (r != NULL && mcp_at_least(s, "2025-06-18")) json_object_set(r, "structuredContent", out.structured);
    }
    json_decref(out.structured);
    mcp_free_text(out.text);
    mcp_free_text(out.error);
    if (r == NULL) return mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
    return r;
}
