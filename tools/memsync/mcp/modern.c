/* The 2026-07-28 era (spec/mcp.md §4a): a request that names its protocol
 * version in params._meta is served on its own, with no initialize and
 * nothing kept from other requests. This file tells such a request from a
 * legacy one [MCP-12], checks its _meta [MCP-13], runs the method (the same
 * code as the legacy era, shaped for the newest version), and adds the
 * fields every result of this era carries [MCP-15]. */
#include <stdio.h>
#include <string.h>

#include "mcp.h"

/* [MCP-15] Cache hints. The tool, prompt and resource lists and the
 * discover answer are fixed for the life of the binary: an hour, so a
 * client that keeps its cache across an upgrade of memsync is stale for an
 * hour at most. The context resource changes with every write (this
 * client's own remember, another client's, another device's sync): 0, stale
 * at once, so a client never shows a context without the fact it just
 * stored. Every result is "private": it comes from one user's memory, and
 * over stdio no cache is shared anyway. */
#define TTL_FIXED_MS 3600000
#define TTL_MEMORY_MS 0
#define NOT_CACHEABLE (-1)

typedef struct modern_method {
    const char *name;
    mcp_method_fn fn;
    int ttl_ms;          /* NOT_CACHEABLE: no ttlMs/cacheScope (not a CacheableResult) */
} modern_method;

/* [MCP-13] The methods of this era. ping, logging/setLevel and
 * resources/subscribe were removed by 2026-07-28; initialize never reaches
 * here (it is legacy whatever its _meta) [MCP-12]. */
static const modern_method METHODS[] = {
    {"server/discover", mcp_discover, TTL_FIXED_MS},
    {"tools/list", mcp_tools_list, TTL_FIXED_MS},
    {"tools/call", mcp_tools_call, NOT_CACHEABLE},
    {"resources/list", mcp_resources_list, TTL_FIXED_MS},
    {"resources/templates/list", mcp_resource_templates_list, TTL_FIXED_MS},
    {"resources/read", mcp_resources_read, TTL_MEMORY_MS},
    {"prompts/list", mcp_prompts_list, TTL_FIXED_MS},
    {"prompts/get", mcp_prompts_get, NOT_CACHEABLE},
};

int mcp_is_modern(const char *method, json_t *params)
{
    /* [MCP-12] The reserved key is what marks the era: a legacy client never
     * sends it, so every legacy request is served exactly as before.
     * json_object_get of NULL or of a non-object is NULL. */
    if (strcmp(method, "initialize") == 0) return 0;
    return json_object_get(json_object_get(params, "_meta"), MCP_META_VERSION) != NULL;
}

/* [MCP-13] The _meta of a request already known to be modern. Returns 0,
 * or -1 with err set. Sets s->req_client. */
static int check_meta(mcp_server *s, json_t *meta, mcp_error *err)
{
    const char *asked = json_string_value(json_object_get(meta, MCP_META_VERSION));
    if (asked == NULL) {
        mcp_fail(err, MCP_INVALID_PARAMS, "Invalid params: _meta[\"" MCP_META_VERSION "\"] must be a string");
        return -1;
    }
    if (strcmp(asked, MCP_MODERN_VERSION) != 0) {
        /* The legacy versions are served through initialize only; a client
         * that names one here picks it from `supported` and initializes. The
         * echo is cut like a method name: it is the client's own string. */
        const size_t n = mcp_utf8_prefix(asked, strlen(asked), 100);
        /* json_object_set_new always takes its value (a NULL one fails). */
        json_t *data = json_object();
        if (data != NULL && (json_object_set_new(data, "supported", mcp_supported_versions()) != 0 ||
                             json_object_set_new(data, "requested", json_stringn(asked, n)) != 0)) {
            json_decref(data);
            data = NULL;
        }
        if (data == NULL) {
            mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
            return -1;
        }
        mcp_fail(err, MCP_UNSUPPORTED_VERSION, "Unsupported protocol version");
        err->data = data;
        return -1;
    }
    if (!json_is_object(json_object_get(meta, MCP_META_CAPABILITIES))) {
        mcp_fail(err, MCP_INVALID_PARAMS, "Invalid params: _meta[\"" MCP_META_CAPABILITIES "\"] must be an object");
        return -1;
    }
    json_t *info = json_object_get(meta, MCP_META_CLIENT);
    const char *name = json_string_value(json_object_get(info, "name"));
    if (info != NULL && (name == NULL || !json_is_string(json_object_get(info, "version")))) {
        mcp_fail(err, MCP_INVALID_PARAMS,
                 "Invalid params: _meta[\"" MCP_META_CLIENT "\"] must be an object with a string name and version");
        return -1;
    }
    /* [MCP-16] The writing tool of this request only, cut as initialize cuts it. */
    mcp_tool_name(s->req_client, name);
    return 0;
}

/* [MCP-15] resultType, the cache hints when the result is cacheable, and the
 * server's name in _meta. Takes result; returns it, or NULL (out of memory). */
static json_t *complete(const mcp_server *s, json_t *result, const modern_method *m)
{
    /* json_object_set_new always takes its value (a NULL one fails). */
    json_t *meta = json_object();
    int ok = meta != NULL && json_object_set_new(meta, MCP_META_SERVER, mcp_server_info(s)) == 0 &&
             json_object_set_new(result, "resultType", json_string("complete")) == 0;
    if (ok && m->ttl_ms != NOT_CACHEABLE)
        ok = json_object_set_new(result, "ttlMs", json_integer(m->ttl_ms)) == 0 &&
             json_object_set_new(result, "cacheScope", json_string("private")) == 0;
    if (ok) ok = json_object_set_new(result, "_meta", meta) == 0;
    else json_decref(meta);
    if (!ok) {
        json_decref(result);
        return NULL;
    }
    return result;
}

json_t *mcp_modern_request(mcp_server *s, const char *method, json_t *params, mcp_error *err, const char **known)
{
    *known = NULL;
    const modern_method *m = NULL;
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (strcmp(method, METHODS[i].name) == 0) m = &METHODS[i];
    json_t *result = NULL;
    /* The version first: what else a request must carry, and which methods
     * exist, depend on it. */
    if (check_meta(s, json_object_get(params, "_meta"), err) != 0) {
        /* err is set */
    } else if (m == NULL) {
        const size_t n = mcp_utf8_prefix(method, strlen(method), 100);
        mcp_fail(err, MCP_METHOD_NOT_FOUND, "Method not found: %.*s (not a method of protocol " MCP_MODERN_VERSION ")",
                 (int)n, method);
    } else {
        *known = m->name;
        /* Served as the newest version, with this request's client; both
         * are cleared before the next line is read [MCP-12] [MCP-16]. */
        s->modern = 1;
        result = m->fn(s, params, err);
        if (result != NULL && (result = complete(s, result, m)) == NULL)
            mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
        s->modern = 0;
    }
    memset(s->req_client, 0, sizeof s->req_client);
    return result;
}
