/* libFuzzer harness for the MCP server's line handler (tools/memsync/mcp/,
 * spec/mcp.md): hostile byte streams through the stdio line reader
 * (mcp_reader_feed, a small line cap so over-long lines are reached) into
 * mcp_handle_line, with every tool running against an in-memory memory
 * document (no key file, no disk, no chain: the store is the mcp_store
 * interface, backed here by a msd_mem_doc that each input starts afresh).
 *
 * Input: byte 0 picks the setup (bit 0: initialize first; bits 1-2: the
 * version offered; bit 3: --include-private; bit 4: a chain is "configured";
 * bit 5: updates fail after the edit, as a chain that refuses); the rest is
 * the stream of lines.
 *
 * Invariants beyond "no crash, no leak, no UB":
 * - every emitted line is one JSON text, an object (or, on a 2025-03-26
 *   connection, a non-empty array of objects), with no raw newline [MCP-1];
 * - every message has jsonrpc "2.0" and exactly one of result and error;
 *   an id, when present, is a string or an integer [MCP-7]; an error code is
 *   one of the codes of [MCP-6];
 * - a tools/call result has a content array, and isError or (from
 *   2025-06-18) structuredContent is consistent with it [MCP-20];
 * - no more lines come out than lines went in (one answer per line at most). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "device/memory/memory.h"
#include "tools/memsync/mcp/mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c)) __builtin_trap();                                                                                    \
    } while (0)

#define LINE_CAP 4096u

/* ----------------------------------------------------- in-memory store */

typedef struct mem_store {
    msd_mem_doc *doc;
    int fail_after_edit;     /* update: run the edit, keep it, report CLI_NODE (14) like a chain that is down */
} mem_store;

static const uint8_t DEVICE[MSD_MEM_DEVICE_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8};
static msd_mem_doc *seed_doc;   /* a few facts, entities and a relation; cloned per input */

static int st_load(void *ctx, msd_mem_doc **doc)
{
    mem_store *m = ctx;
    return msd_mem_clone(doc, m->doc) == MSD_OK ? 0 : 16;
}

static int st_update(void *ctx, mcp_edit_fn fn, void *arg, int shred_after)
{
    (void)shred_after;
    mem_store *m = ctx;
    msd_mem_doc *copy = NULL;
    if (msd_mem_clone(&copy, m->doc) != MSD_OK) return 16;
    const int rc = fn(copy, DEVICE, arg);
    if (rc != 0) {
        msd_mem_free(copy);
        return rc;
    }
    msd_mem_free(m->doc);
    m->doc = copy;
    return m->fail_after_edit ? 14 : 0;
}

static int st_sync(void *ctx, mcp_sync_info *info)
{
    mem_store *m = ctx;
    info->version = msd_mem_clock(m->doc);
    info->pulled = 0;
    info->pushed = 1;
    info->conflicts = 0;
    return m->fail_after_edit ? 23 : 0;
}

/* ---------------------------------------------------------- invariants */

typedef struct sink {
    size_t lines;
    const mcp_server *srv;
} sink;

static int known_code(json_int_t c)
{
    return c == MCP_PARSE_ERROR || c == MCP_INVALID_REQUEST || c == MCP_METHOD_NOT_FOUND || c == MCP_INVALID_PARAMS ||
           c == MCP_INTERNAL_ERROR || c == MCP_RESOURCE_NOT_FOUND || c == MCP_UNSUPPORTED_VERSION;
}

static void check_message(json_t *m)
{
    CHECK(json_is_object(m));
    const char *v = json_string_value(json_object_get(m, "jsonrpc"));
    CHECK(v != NULL && strcmp(v, "2.0") == 0);
    json_t *id = json_object_get(m, "id");
    CHECK(id == NULL || json_is_string(id) || json_is_integer(id));
    json_t *result = json_object_get(m, "result"), *error = json_object_get(m, "error");
    CHECK((result != NULL) != (error != NULL));
    if (error != NULL) {
        CHECK(json_is_object(error));
        CHECK(json_is_integer(json_object_get(error, "code")));
        CHECK(known_code(json_integer_value(json_object_get(error, "code"))));
        CHECK(json_is_string(json_object_get(error, "message")));
        return;
    }
    CHECK(id != NULL);
    CHECK(json_is_object(result));
    json_t *content = json_object_get(result, "content");
    if (content != NULL) {   /* a tools/call result */
        CHECK(json_is_array(content) && json_array_size(content) >= 1);
        json_t *first = json_array_get(content, 0);
        CHECK(json_is_string(json_object_get(first, "text")));
        json_t *is_error = json_object_get(result, "isError");
        json_t *sc = json_object_get(result, "structuredContent");
        CHECK(is_error == NULL || json_is_true(is_error));
        CHECK(!(is_error != NULL && sc != NULL));
        CHECK(sc == NULL || json_is_object(sc));
    }
}

static void emit(void *ctx, const char *line, size_t len)
{
    sink *s = ctx;
    s->lines++;
    CHECK(strlen(line) == len);
    CHECK(memchr(line, '\n', len) == NULL);
    json_error_t je;
    json_t *v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    CHECK(v != NULL);
    if (json_is_array(v)) {
        CHECK(strcmp(s->srv->version, "2025-03-26") == 0 && json_array_size(v) > 0);
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) check_message(m);
    } else {
        check_message(v);
    }
    json_decref(v);
}

/* ---------------------------------------------------------------- entry */

static void build_seed(void)
{
    if (msd_mem_new(&seed_doc) != MSD_OK) abort();
    const char *facts[] = {"prefers concise answers", "works on a C server", "blood type is zero negative"};
    const uint32_t cats[] = {MSD_CAT_PRODUCTIVITY, MSD_CAT_CAREER, MSD_CAT_PRIVATE | MSD_CAT_HEALTH};
    for (int i = 0; i < 3; i++) {
        msd_mem_fact_in in;
        memset(&in, 0, sizeof in);
        in.text = facts[i];
        in.categories = cats[i];
        in.type = MSD_MEM_SEMANTIC;
        in.importance = 50;
        in.imported = i == 1;
        if (msd_mem_add_fact(seed_doc, NULL, &in, DEVICE) != MSD_OK) abort();
    }
    if (msd_mem_graph_add_entity(seed_doc, "Mia", "person", "fuzz", 0, DEVICE, NULL) != MSD_OK ||
        msd_mem_graph_add_entity(seed_doc, "Lisbon", "city", "fuzz", 1, DEVICE, NULL) != MSD_OK ||
        msd_mem_graph_add_observation(seed_doc, "Mia", "likes tea", "fuzz", 0, DEVICE, NULL) != MSD_OK ||
        msd_mem_graph_add_relation(seed_doc, "Mia", "Lisbon", "lives_in", "fuzz", 0, DEVICE, NULL) != MSD_OK)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (msd_init() != MSD_OK) abort();
    build_seed();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    static const char *const VERSIONS[] = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"};
    const uint8_t flags = data[0];
    mem_store ms = {NULL, (flags >> 5) & 1};
    if (msd_mem_clone(&ms.doc, seed_doc) != MSD_OK) return 0;
    const mcp_store store = {&ms, st_load, st_update, st_sync, (flags >> 4) & 1};
    mcp_server s;
    mcp_server_init(&s, &store, (flags >> 3) & 1);
    sink out = {0, &s};

    size_t lines_in = 0;
    if (flags & 1) {
        char init[256];
        const int n = snprintf(init, sizeof init,
                               "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                               "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}",
                               VERSIONS[(flags >> 1) & 3]);
        mcp_handle_line(&s, (const uint8_t *)init, (size_t)n, emit, &out);
        CHECK(out.lines == 1 && s.initialized);
        lines_in++;
    }

    /* The stream, fed in two pieces so a line may straddle reads. */
    mcp_reader r;
    mcp_reader_init(&r, LINE_CAP);
    const uint8_t *p = data + 1;
    const size_t n = size - 1, cut = n > 0 ? (size_t)data[n] % (n + 1) : 0;
    for (size_t i = 0; i < n; i++) lines_in += p[i] == '\n';
    lines_in++;   /* the last, unterminated line */
    int rc = mcp_reader_feed(&r, &s, p, cut, emit, &out);
    if (rc == 0) rc = mcp_reader_feed(&r, &s, p + cut, n - cut, emit, &out);
    if (rc == 0) mcp_reader_finish(&r, &s, emit, &out);
    mcp_reader_free(&r);
    CHECK(out.lines <= lines_in);
    msd_mem_free(ms.doc);
    return 0;
}
