/* `memsync mcp`: the owner's memory as a stdio MCP server (spec/mcp.md).
 *
 * The server is a state (mcp_server) and a line handler: mcp_handle_line
 * takes one line of bytes, whatever they are, and answers through a
 * callback with at most one JSON-RPC line. The stdio loop (transport.c)
 * cuts stdin into lines under a cap and writes the answers to stdout; the
 * fuzz harness and tests drive the handler directly. The memory itself is
 * reached through mcp_store, so the same code runs over memstore (the CLI,
 * cmd_mcp.c) or over a document held in memory (tests/fuzz/fuzz_mcp.c).
 *
 * Two eras are served on one process: the legacy one (an initialize
 * handshake, then requests shaped by the negotiated version: lifecycle.c)
 * and 2026-07-28, where each request carries its version in params._meta
 * and is served on its own (modern.c, discover.c). A request's era is read
 * from the request alone [MCP-12].
 *
 * Nothing here writes memory text to stderr: logs name methods, tools and
 * error codes only [MCP-2].
 */
#ifndef MEMSYNC_MCP_H
#define MEMSYNC_MCP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "device/memory/memory.h"

#define MCP_SERVER_NAME "memsync"
#define MCP_SERVER_TITLE "MemSync"
#define MCP_SERVER_VERSION "1.0.0"
#define MCP_LATEST_VERSION "2025-11-25"
/* [MCP-12] The stateless era: no initialize, the version in every request's
 * params._meta under these reserved keys; results name the server under
 * MCP_META_SERVER. */
#define MCP_MODERN_VERSION "2026-07-28"
#define MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_CLIENT "io.modelcontextprotocol/clientInfo"
#define MCP_META_SERVER "io.modelcontextprotocol/serverInfo"

/* [MCP-3] The longest line read: 4 MiB, newline excluded. A longer line is
 * read to its end, discarded, and answered with -32600 without an id. */
#define MCP_MAX_LINE (4u << 20)
/* [MCP-8] The most messages in one batch (2025-03-26 connections only). */
#define MCP_MAX_BATCH 256
#define MCP_STR_(x) #x
#define MCP_STR(x) MCP_STR_(x)

/* JSON-RPC 2.0 and MCP error codes [MCP-6]. */
enum {
    MCP_PARSE_ERROR = -32700,
    MCP_INVALID_REQUEST = -32600,   /* also: a request before initialize, an unsupported batch, a line over the cap */
    MCP_METHOD_NOT_FOUND = -32601,
    MCP_INVALID_PARAMS = -32602,    /* also: an unknown tool or prompt */
    MCP_INTERNAL_ERROR = -32603,
    MCP_RESOURCE_NOT_FOUND = -32002,   /* legacy era only; 2026-07-28 answers -32602 [MCP-17] */
    MCP_UNSUPPORTED_VERSION = -32022   /* a 2026-07-28-style request naming a version not served that way [MCP-13] */
};

/* ------------------------------------------------------------------ store */

/* A change to the document, run under the store's lock on its freshest
 * copy: returns 0 (CLI_OK) to save it, any other code to drop it. Same
 * signature as memstore_edit_fn. */
typedef int (*mcp_edit_fn)(msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], void *arg);

typedef struct mcp_sync_info {
    uint64_t version;      /* the chain's head afterwards */
    int pulled, pushed;
    unsigned conflicts;
} mcp_sync_info;

/* Where the memory lives. Each function returns 0 (CLI_OK) or an exit code
 * of tools/memsync/cli.h. */
typedef struct mcp_store {
    void *ctx;
    /* A copy of the current document (local: no pull). Out: *doc. */
    int (*load)(void *ctx, msd_mem_doc **doc);
    /* Apply fn under the lock and save it (then push, with a chain). */
    int (*update)(void *ctx, mcp_edit_fn fn, void *arg, int shred_after);
    /* Pull, merge, push. CLI_USAGE when no chain is configured. */
    int (*sync)(void *ctx, mcp_sync_info *info);
    int has_chain;
} mcp_store;

/* ----------------------------------------------------------------- server */

typedef struct mcp_server {
    mcp_store store;
    int include_private;                 /* --include-private: the `private` category may be returned */
    int initialized;                     /* initialize was answered */
    int client_ready;                    /* notifications/initialized came */
    char version[16];                    /* the negotiated protocol version, "" before initialize */
    char client[MSD_MEM_MAX_TOOL + 1];   /* clientInfo.name: the `tool` of the facts it writes */
    unsigned long requests;              /* requests answered (for the exit log) */
    /* The 2026-07-28 request being served, set and cleared around it: no
     * state of that era outlives its request [MCP-12] [MCP-16]. */
    int modern;                               /* 1 while one is served: results take the newest shapes */
    char req_client[MSD_MEM_MAX_TOOL + 1];    /* its clientInfo.name, "mcp" when absent */
} mcp_server;

/* Receives one complete JSON-RPC message (NUL-terminated, no newline). */
typedef void (*mcp_emit_fn)(void *ctx, const char *line, size_t len);

/** Set up a server over store. Args: s. In: store (copied), include_private. */
void mcp_server_init(mcp_server *s, const mcp_store *store, int include_private);

/** The line handler [MCP-1]: one line (without its newline; a final CR is
 *  ignored), any bytes. Emits nothing (blank line, notification, response
 *  from the client) or exactly one line: a response, an error, or, on a
 *  2025-03-26 connection, a batch array. Never fails. */
void mcp_handle_line(mcp_server *s, const uint8_t *line, size_t len, mcp_emit_fn emit, void *ctx);

/** The answer to a line over the cap (transport.c calls it when it drops one). */
void mcp_handle_oversize(mcp_server *s, size_t len, mcp_emit_fn emit, void *ctx);

/* -------------------------------------------------------------- transport */

/* Cuts a byte stream into lines of at most max bytes (transport.c). */
typedef struct mcp_reader {
    uint8_t *buf;
    size_t len, cap, max;
    size_t dropped;          /* > 0: the current line went over max; bytes seen so far */
} mcp_reader;

void mcp_reader_init(mcp_reader *r, size_t max);
void mcp_reader_free(mcp_reader *r);
/** Feed n bytes; every complete line goes to mcp_handle_line (or
 *  mcp_handle_oversize). Returns 0, or -1 when out of memory. */
int mcp_reader_feed(mcp_reader *r, mcp_server *s, const uint8_t *p, size_t n, mcp_emit_fn emit, void *ctx);
/** End of input: a last line without a newline is handled too. */
void mcp_reader_finish(mcp_reader *r, mcp_server *s, mcp_emit_fn emit, void *ctx);

/** Serve in_fd → out_fd until end of input [MCP-1]. Returns 0 at a clean
 *  end, 1 when out_fd broke (the client went away) or memory ran out. */
int mcp_serve(mcp_server *s, int in_fd, int out_fd);

/* ------------------------------------------------------- internal: methods */

/* A method's failure: the JSON-RPC error to answer. */
typedef struct mcp_error {
    int code;
    char message[256];
    json_t *data;            /* NULL, or owned */
} mcp_error;

/* Sets err (message printf-style) and returns NULL, for `return mcp_fail(...)`. */
json_t *mcp_fail(mcp_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef json_t *(*mcp_method_fn)(mcp_server *s, json_t *params, mcp_error *err);

/* lifecycle.c */
json_t *mcp_initialize(mcp_server *s, json_t *params, mcp_error *err);
json_t *mcp_ping(mcp_server *s, json_t *params, mcp_error *err);
/** 1 when the version of the request being served is at least v
 *  ("YYYY-MM-DD"): the negotiated one, or 2026-07-28 for a modern request. */
int mcp_at_least(const mcp_server *s, const char *v);
const char *mcp_instructions(void);
/** The server's capabilities [MCP-11], the same in both eras. NULL when out of memory. */
json_t *mcp_capabilities(void);
/** {name, version} plus title from 2025-06-18 (see mcp_at_least). NULL when out of memory. */
json_t *mcp_server_info(const mcp_server *s);
/** Every version served, newest first: 2026-07-28 per request, the legacy
 *  ones through initialize [MCP-14]. NULL when out of memory. */
json_t *mcp_supported_versions(void);
/** The `tool` recorded on the facts the current request writes: the
 *  modern request's clientInfo.name, else the connection's [MCP-11] [MCP-16]. */
const char *mcp_client_name(const mcp_server *s);
/** Out: out, a client's name as the `tool` of its facts: name (may be NULL)
 *  cut to MSD_MEM_MAX_TOOL bytes on a character boundary, "mcp" when NULL
 *  or empty [MCP-11] [MCP-16]. */
void mcp_tool_name(char out[MSD_MEM_MAX_TOOL + 1], const char *name);
/* modern.c */
/** 1 when a request (its method, and params: an object or NULL) is one of
 *  the 2026-07-28 era [MCP-12]. */
int mcp_is_modern(const char *method, json_t *params);
/** Serve a 2026-07-28 request: the _meta checks [MCP-13], the method, then
 *  resultType, ttlMs, cacheScope and _meta [MCP-15]. Returns the result, or
 *  NULL with err set. Out: *known: the method's name when it is one served
 *  in this era (for the log), else NULL. */
json_t *mcp_modern_request(mcp_server *s, const char *method, json_t *params, mcp_error *err, const char **known);
/* discover.c */
json_t *mcp_discover(mcp_server *s, json_t *params, mcp_error *err);
/* tools.c */
json_t *mcp_tools_list(mcp_server *s, json_t *params, mcp_error *err);
json_t *mcp_tools_call(mcp_server *s, json_t *params, mcp_error *err);
/* resources.c */
json_t *mcp_resources_list(mcp_server *s, json_t *params, mcp_error *err);
json_t *mcp_resource_templates_list(mcp_server *s, json_t *params, mcp_error *err);
json_t *mcp_resources_read(mcp_server *s, json_t *params, mcp_error *err);
/* prompts.c */
json_t *mcp_prompts_list(mcp_server *s, json_t *params, mcp_error *err);
json_t *mcp_prompts_get(mcp_server *s, json_t *params, mcp_error *err);

/* --------------------------------------------------------- internal: tools */

/* What a tool returns [MCP-20]: on success `structured` (and `text` when the
 * text block is not the compact JSON of it); on failure `error`, a sentence
 * for the model (isError: true). */
typedef struct mcp_tool_out {
    json_t *structured;
    char *text;             /* malloc'd or NULL */
    char *error;            /* malloc'd or NULL */
    const char *note;       /* NULL, or a second text block (the imported-data notice) */
} mcp_tool_out;

/* Returns 0 (structured set) or -1 (error set, via mcp_tool_error). */
typedef int (*mcp_tool_fn)(mcp_server *s, json_t *args, mcp_tool_out *out);

typedef struct mcp_tool {
    const char *name, *title, *description;
    const char *input_schema, *output_schema;   /* JSON texts */
    unsigned char read_only, destructive, idempotent;
    mcp_tool_fn fn;
} mcp_tool;

extern const mcp_tool mcp_memsync_tools[];
extern const size_t mcp_memsync_tool_count;
extern const mcp_tool mcp_graph_tools[];
extern const size_t mcp_graph_tool_count;

/** The context block (tools_memsync.c; also the memsync://context
 *  resource). Returns 0 with *text (malloc'd, wipe before free) and *len,
 *  or -1 with out->error set. */
int mcp_context_text(mcp_server *s, size_t max_bytes, char **text, size_t *len, mcp_tool_out *out);
#define MCP_CONTEXT_DEFAULT 4096u
/** Set out->error (printf-style) and return -1. */
int mcp_tool_error(mcp_tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** A sentence for a store failure (an exit code of cli.h). */
const char *mcp_store_error(int rc);
/** 1 when rc, returned by update after the edit ran, means "saved on this
 *  device, not yet on chain" (the next sync sends it) [MCP-31]. */
int mcp_saved_locally(int rc);
/** The outcome of store.update(...) = rc whose edit ran (applied) or not:
 *  0 when the change is saved (*pending = 1: on this device only, for the
 *  next sync), else -1 with out->error set [MCP-31]. */
int mcp_update_outcome(const mcp_server *s, int rc, int applied, mcp_tool_out *out, int *pending);

/* ---------------------------------------------------------- internal: util */

/** Length of the longest prefix of s (valid UTF-8) of at most max bytes that
 *  ends on a character boundary. */
size_t mcp_utf8_prefix(const char *s, size_t len, size_t max);
/** 32 lower-case hex digits of an id. */
void mcp_hex_id(char out[2 * MSD_MEM_ID_SIZE + 1], const uint8_t id[MSD_MEM_ID_SIZE]);
/** Parse 32 hex digits (either case). Returns 1 on success. */
int mcp_parse_id(uint8_t id[MSD_MEM_ID_SIZE], const char *s);
/** The text JavaScript's JSON.stringify(v, null, 2) gives (objects, arrays,
 *  strings, integers, booleans, null), malloc'd; NULL when out of memory. */
char *mcp_js_stringify(const json_t *v);
/** Compact JSON text of v (malloc'd) or NULL. */
char *mcp_dump(const json_t *v);
/** Wipe and free a NUL-terminated malloc'd string (it may hold memory text). */
void mcp_free_text(char *s);

#endif
