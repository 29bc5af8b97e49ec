/* JSON-RPC 2.0 over one line: parse, check the message, dispatch, answer
 * (spec/mcp.md §2-§3). Every input line gets either no answer (blank,
 * notification, a response from the client) or exactly one line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

json_t *mcp_fail(mcp_error *err, int code, const char *fmt, ...)
{
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* vsnprintf may cut a multi-byte character: keep the message valid UTF-8. */
    const size_t n = strlen(err->message);
    err->message[mcp_utf8_prefix(err->message, n, n)] = '\0';
    return NULL;
}

/* {"jsonrpc":"2.0","id":id,"error":{code,message,data?}}; id NULL: omitted
 * (an unreadable id: both MCP schemas type id as string|integer, so `null`
 * would be invalid) [MCP-7]. Takes data. */
static json_t *error_response(json_t *id, int code, const char *message, json_t *data)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (e == NULL) e = json_pack("{s:i, s:s}", "code", code, "message", "error");
    if (e != NULL && data != NULL) json_object_set(e, "data", data);
    json_decref(data);
    json_t *r = json_pack("{s:s}", "jsonrpc", "2.0");
    if (r == NULL || e == NULL) {
        json_decref(r);
        json_decref(e);
        return NULL;
    }
    if (id != NULL) json_object_set(r, "id", id);
    json_object_set_new(r, "error", e);
    return r;
}

static json_t *result_response(json_t *id, json_t *result)
{
    json_t *r = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
    return r;
}

typedef struct method {
    const char *name;
    mcp_method_fn fn;
    int before_init;          /* allowed before initialize */
} method;

static const method METHODS[] = {
    {"initialize", mcp_initialize, 1},
    {"ping", mcp_ping, 1},
    {"tools/list", mcp_tools_list, 0},
    {"tools/call", mcp_tools_call, 0},
    {"resources/list", mcp_resources_list, 0},
    {"resources/templates/list", mcp_resource_templates_list, 0},
    {"resources/read", mcp_resources_read, 0},
    {"prompts/list", mcp_prompts_list, 0},
    {"prompts/get", mcp_prompts_get, 0},
};

static void notification(mcp_server *s, const char *name)
{
    /* Nothing is ever answered [MCP-5]; `cancelled` has nothing to stop: every
     * request is answered before the next line is read. */
    if (strcmp(name, "notifications/initialized") == 0 && s->initialized) s->client_ready = 1;
}

/* The response to a request whose method ran: its result, or the error in
 * err (a result of NULL with no code means memory ran out). name: the
 * method, for the log (never one read from the input that no table knows). */
static json_t *answer(json_t *id, const char *name, json_t *result, mcp_error *err)
{
    if (result == NULL) {
        if (err->code == 0) mcp_fail(err, MCP_INTERNAL_ERROR, "Internal error: out of memory");
        fprintf(stderr, "memsync mcp: %s failed (%d)\n", name, err->code);
        return error_response(id, err->code, err->message, err->data);
    }
    json_t *r = result_response(id, result);
    if (r == NULL) return error_response(id, MCP_INTERNAL_ERROR, "Internal error: out of memory", NULL);
    return r;
}

/* One message (object or not). Returns the response, or NULL for none. */
static json_t *handle_message(mcp_server *s, json_t *m)
{
    if (!json_is_object(m)) return error_response(NULL, MCP_INVALID_REQUEST, "Invalid Request: a message is a JSON object", NULL);
    json_t *id = json_object_get(m, "id");
    const int id_ok = id != NULL && (json_is_string(id) || json_is_integer(id));
    json_t *reply_id = id_ok ? id : NULL;
    const char *jv = json_string_value(json_object_get(m, "jsonrpc"));
    if (jv == NULL || strcmp(jv, "2.0") != 0)
        return error_response(reply_id, MCP_INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"", NULL);
    json_t *mj = json_object_get(m, "method");
    if (mj == NULL) {
        /* A response to a request of ours: this server sends none, so it is dropped. */
        if (id_ok && (json_object_get(m, "result") != NULL || json_object_get(m, "error") != NULL)) return NULL;
        return error_response(reply_id, MCP_INVALID_REQUEST, "Invalid Request: no method", NULL);
    }
    if (!json_is_string(mj)) return error_response(reply_id, MCP_INVALID_REQUEST, "Invalid Request: method must be a string", NULL);
    const char *name = json_string_value(mj);
    if (id == NULL) {
        notification(s, name);
        return NULL;
    }
    if (!id_ok)
        return error_response(NULL, MCP_INVALID_REQUEST, "Invalid Request: id must be a string or an integer", NULL);
    json_t *params = json_object_get(m, "params");
    if (params != NULL && !json_is_object(params))
        return error_response(id, MCP_INVALID_PARAMS, "Invalid params: params must be an object", NULL);

    if (mcp_is_modern(name, params)) {
        /* [MCP-12] A 2026-07-28 request: served on its own, before, without
         * or after initialize; nothing of the legacy connection applies. */
        s->requests++;
        mcp_error err = {0, "", NULL};
        const char *known = NULL;
        json_t *result = mcp_modern_request(s, name, params, &err, &known);
        if (result == NULL && known == NULL) {
            /* Refused before any method ran: logged without the method's name,
             * which may be anything the client wrote. */
            fprintf(stderr, "memsync mcp: a %s request was refused (%d)\n", MCP_MODERN_VERSION, err.code);
            return error_response(id, err.code, err.message, err.data);
        }
        return answer(id, known, result, &err);
    }

    const method *fn = NULL;
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (strcmp(name, METHODS[i].name) == 0) fn = &METHODS[i];
    s->requests++;
    if (fn == NULL) {
        char msg[160];
        const size_t n = mcp_utf8_prefix(name, strlen(name), 100);
        snprintf(msg, sizeof msg, "Method not found: %.*s", (int)n, name);
        return error_response(id, MCP_METHOD_NOT_FOUND, msg, NULL);
    }
    if (!fn->before_init && !s->initialized)
        return error_response(id, MCP_INVALID_REQUEST,
                              "Server not initialized: the first request must be initialize", NULL);
    json_t *empty = NULL;
    if (params == NULL) params = empty = json_object();
    mcp_error err = {0, "", NULL};
    json_t *result = params != NULL ? fn->fn(s, params, &err) : NULL;
    json_decref(empty);
    return answer(id, fn->name, result, &err);
}

static void emit_json(json_t *v, mcp_emit_fn emit, void *ctx)
{
    char *line = mcp_dump(v);
    if (line == NULL) {
        /* Out of memory while writing: a fixed answer rather than silence. */
        static const char OOM[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":\"Internal error: out of memory\"}}";
        emit(ctx, OOM, sizeof OOM - 1);
        return;
    }
    emit(ctx, line, strlen(line));
    mcp_free_text(line);
}

static void emit_error(json_t *id, int code, const char *message, mcp_emit_fn emit, void *ctx)
{
    json_t *r = error_response(id, code, message, NULL);
    emit_json(r, emit, ctx);
    json_decref(r);
}

void mcp_handle_oversize(mcp_server *s, size_t len, mcp_emit_fn emit, void *ctx)
{
    (void)s;
    char msg[160];
    snprintf(msg, sizeof msg, "Invalid Request: a message of over %zu bytes (the line limit is %u bytes); it was discarded",
             len, (unsigned)MCP_MAX_LINE);
    emit_error(NULL, MCP_INVALID_REQUEST, msg, emit, ctx);
}

static int blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

void mcp_handle_line(mcp_server *s, const uint8_t *line, size_t len, mcp_emit_fn emit, void *ctx)
{
    if (len > 0 && line[len - 1] == '\r') len--;
    if (blank(line, len)) return;   /* [MCP-1] blank lines are not messages */
    json_error_t je;
    json_t *m = json_loadb((const char *)line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (m == NULL) {
        /* No part of the input is echoed: it may be memory text. */
        char msg[160];
        snprintf(msg, sizeof msg, "Parse error: not one JSON text in UTF-8 (at byte %d)", je.position);
        emit_error(NULL, MCP_PARSE_ERROR, msg, emit, ctx);
        return;
    }
    if (json_is_array(m)) {
        /* [MCP-8] Batches exist in 2025-03-26 only. */
        if (strcmp(s->version, "2025-03-26") != 0) {
            emit_error(NULL, MCP_INVALID_REQUEST,
                       s->initialized ? "Invalid Request: batches are not part of this protocol version"
                                      : "Invalid Request: a batch cannot come before initialize",
                       emit, ctx);
        } else if (json_array_size(m) == 0) {
            emit_error(NULL, MCP_INVALID_REQUEST, "Invalid Request: an empty batch", emit, ctx);
        } else if (json_array_size(m) > MCP_MAX_BATCH) {
            /* A cap on the answer's size: [1,1,...] in 4 MiB would otherwise ask for ~200 MB of errors. */
            emit_error(NULL, MCP_INVALID_REQUEST, "Invalid Request: a batch of over " MCP_STR(MCP_MAX_BATCH) " messages",
                       emit, ctx);
        } else {
            json_t *out = json_array();
            size_t i;
            json_t *el;
            json_array_foreach(m, i, el) {
                /* initialize inside a batch meets "already initialized":
                 * a batch only exists once the connection is 2025-03-26. */
                json_t *r = handle_message(s, el);
                if (r != NULL && out != NULL) json_array_append_new(out, r);
                else json_decref(r);
            }
            if (out == NULL) emit_error(NULL, MCP_INTERNAL_ERROR, "Internal error: out of memory", emit, ctx);
            else if (json_array_size(out) > 0) emit_json(out, emit, ctx);
            json_decref(out);
        }
    } else {
        json_t *r = handle_message(s, m);
        if (r != NULL) emit_json(r, emit, ctx);
        json_decref(r);
    }
    json_decref(m);
}

void mcp_server_init(mcp_server *s, const mcp_store *store, int include_private)
{
    memset(s, 0, sizeof *s);
    s->store = *store;
    s->include_private = include_private != 0;
}
