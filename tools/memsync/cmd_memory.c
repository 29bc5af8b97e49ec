/* The memory commands: remember, recall, list, forget, context, sync, import,
 * export (spec/memory-sync.md §3). Each works on the identity's own memory
 * (found from the seed) or, with --asset, on a memory this identity was
 * granted; with --rpc or --node it syncs with the chain, else it stays on
 * this device until `memsync sync`. Fact text goes to stdout only where the
 * command's purpose is to show it (recall, list, context, export). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "memstore.h"

#define IMPORT_MAX (64u * 1024u * 1024u)
#define LIST_DEFAULT_LIMIT 1000000u
#define RECALL_DEFAULT_LIMIT 10u
#define CONTEXT_DEFAULT_BYTES 4096u

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int parse_fact_id(uint8_t id[MSD_MEM_ID_SIZE], const char *s)
{
    if (s == NULL) return cli_fail(CLI_USAGE, "give the fact's id (32 hex digits, as remember and list print it)");
    if (!text_hex_exact(id, MSD_MEM_ID_SIZE, s)) return cli_fail(CLI_USAGE, "a fact id is 32 hex digits");
    return CLI_OK;
}

/* Report the outcome of a change that was saved on this device. */
static int after_change(int rc, const memstore *m)
{
    if (rc != CLI_OK && rc != CLI_USAGE && rc != CLI_NOT_FOUND && rc != CLI_MEM_TOO_LARGE && memstore_has_chain(m))
        fputs("memsync: the change is saved on this device; `memsync sync` sends it later\n", stderr);
    return rc;
}

/* ---------------------------------------------------------------- remember */

typedef struct remember_arg {
    const cli_opts *o;
    uint8_t id[MSD_MEM_ID_SIZE];
} remember_arg;

static int do_remember(msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], void *p)
{
    remember_arg *a = p;
    const msd_mem_fact_in in = {
        .text = a->o->action,
        .categories = a->o->categories != 0 ? a->o->categories : MSD_CAT_IDENTITY,
        .type = a->o->mem_type != 0 ? (msd_mem_type)a->o->mem_type : MSD_MEM_SEMANTIC,
        .importance = a->o->importance >= 0 ? (uint32_t)a->o->importance : 50u,
        .tool = "memsync-cli",
    };
    msd_status s = msd_mem_add_fact(doc, a->id, &in, device);
    if (s == MSD_ERR_ARGS) return cli_fail(CLI_USAGE, "a fact is 1 to %u bytes of UTF-8 text", MSD_MEM_MAX_TEXT);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "remember: %s", msd_strerror(s));
    return CLI_OK;
}

int cmd_remember(const cli_opts *o)
{
    if (o->action == NULL) return cli_fail(CLI_USAGE, "remember needs the fact's TEXT");
    memstore *m;
    int rc = memstore_open(&m, o);
    if (rc != CLI_OK) return rc;
    remember_arg a = {.o = o};
    rc = memstore_update(m, do_remember, &a, 0);
    if (rc == CLI_OK || (rc != CLI_USAGE && rc != CLI_MEM_TOO_LARGE && !sodium_is_zero(a.id, sizeof a.id))) {
        char hex[2 * MSD_MEM_ID_SIZE + 1];
        hex_of(hex, a.id, sizeof a.id);
        printf("%s\n", hex);
    }
    rc = after_change(rc, m);
    memstore_close(m);
    return rc;
}

/* ------------------------------------------------------------ recall, list */

static void category_names(char *buf, size_t cap, uint32_t cats)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < MSD_CAT_COUNT; i++) {
        if (!(cats & (1u << i))) continue;
        int w = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", msd_mem_category_name(i));
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
}

static json_t *item_json(const msd_mem_item *it, double score, int with_score)
{
    char hex[2 * MSD_MEM_ID_SIZE + 1];
    hex_of(hex, it->id, sizeof it->id);
    json_t *cats = json_array();
    for (unsigned i = 0; i < MSD_CAT_COUNT; i++)
        if (it->categories & (1u << i)) json_array_append_new(cats, json_string(msd_mem_category_name(i)));
    static const char *const KINDS[] = {"", "fact", "entity", "relation"};
    json_t *j = json_pack("{s:s, s:s, s:s?, s:o}", "id", hex, "kind", KINDS[it->kind], "text", it->text,
                          "categories", cats);
    if (j == NULL) return NULL;
    if (it->kind == MSD_MEM_FACT) {
        json_object_set_new(j, "type", json_string(it->type == MSD_MEM_EPISODIC ? "episodic" : "semantic"));
        json_object_set_new(j, "importance", json_integer(it->importance));
    }
    if (it->entity != NULL) json_object_set_new(j, "entity", json_string(it->entity));
    if (it->entity_type != NULL) json_object_set_new(j, "entityType", json_string(it->entity_type));
    if (it->from != NULL) json_object_set_new(j, "from", json_string(it->from));
    if (it->to != NULL) json_object_set_new(j, "to", json_string(it->to));
    if (it->imported) json_object_set_new(j, "imported", json_true());
    if (it->has_conflict_of) {
        hex_of(hex, it->conflict_of, sizeof it->conflict_of);
        json_object_set_new(j, "conflictOf", json_string(hex));
    }
    if (with_score) json_object_set_new(j, "score", json_real(score));
    return j;
}

static int print_hits(const cli_opts *o, const msd_mem_doc *doc, const msd_mem_hit *hits, size_t n, int with_score)
{
    json_t *arr = o->json ? json_array() : NULL;
    if (o->json && arr == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        msd_mem_item it;
        if (msd_mem_find(doc, hits[i].id, &it) != MSD_OK) continue;
        if (arr != NULL) {
            json_t *j = item_json(&it, hits[i].score, with_score);
            if (j == NULL || json_array_append_new(arr, j) != 0) {
                json_decref(arr);
                return cli_fail(CLI_INTERNAL, "out of memory");
            }
            continue;
        }
        char hex[2 * MSD_MEM_ID_SIZE + 1], cats[160];
        hex_of(hex, it.id, sizeof it.id);
        category_names(cats, sizeof cats, it.categories);
        if (it.kind == MSD_MEM_FACT)
            printf("%s  [%s]%s%s%s  %s\n", hex, cats, it.entity != NULL ? " (" : "", it.entity != NULL ? it.entity : "",
                   it.entity != NULL ? ")" : "", it.text);
        else if (it.kind == MSD_MEM_ENTITY)
            printf("%s  entity %s (%s)\n", hex, it.text, it.entity_type != NULL ? it.entity_type : "");
        else
            printf("%s  relation %s %s %s\n", hex, it.from, it.text, it.to);
    }
    if (arr != NULL) {
        char *s = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
        if (s == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
        puts(s);
        sodium_memzero(s, strlen(s));
        free(s);
    }
    return CLI_OK;
}

static int search_and_print(const cli_opts *o, const char *query, uint64_t limit, int with_score)
{
    memstore *m;
    int rc = memstore_open(&m, o);
    if (rc != CLI_OK) return rc;
    msd_mem_doc *doc = NULL;
    rc = memstore_load(m, &doc, 1);
    msd_mem_hit *hits = NULL;
    size_t n = 0;
    if (rc == CLI_OK) {
        const size_t cap = msd_mem_count(doc) < limit ? msd_mem_count(doc) : (size_t)limit;
        hits = calloc(cap > 0 ? cap : 1, sizeof *hits);
        if (hits == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
        const msd_mem_filter f = {.categories = o->categories, .type = (msd_mem_type)o->mem_type,
                                  .include_private = o->include_private};
        msd_status s = rc == CLI_OK ? msd_mem_search(hits, cap, &n, doc, query, &f) : MSD_OK;
        if (s != MSD_OK) rc = cli_fail(cli_exit_of(s), "search: %s", msd_strerror(s));
    }
    if (rc == CLI_OK) rc = print_hits(o, doc, hits, n, with_score);
    free(hits);
    msd_mem_free(doc);
    memstore_close(m);
    return rc;
}

int cmd_recall(const cli_opts *o)
{
    if (o->action == NULL) return cli_fail(CLI_USAGE, "recall needs a QUERY");
    return search_and_print(o, o->action, o->limit != 0 ? o->limit : RECALL_DEFAULT_LIMIT, 1);
}

int cmd_list(const cli_opts *o)
{
    if (o->action != NULL) return cli_fail(CLI_USAGE, "list takes no argument (use recall QUERY to search)");
    return search_and_print(o, "", o->limit != 0 ? o->limit : LIST_DEFAULT_LIMIT, 0);
}

/* -------------------------------------------------------------------- edit */

typedef struct edit_arg {
    const cli_opts *o;
    uint8_t id[MSD_MEM_ID_SIZE];
} edit_arg;

static int do_edit(msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], void *p)
{
    const edit_arg *a = p;
    msd_status s = msd_mem_edit_fact(doc, a->id, a->o->text, a->o->categories, a->o->importance, device);
    if (s == MSD_ERR_MEM_NOT_FOUND) return cli_fail(CLI_NOT_FOUND, "no fact with this id (never added, or forgotten)");
    if (s == MSD_ERR_ARGS) return cli_fail(CLI_USAGE, "a fact is 1 to %u bytes of UTF-8 text", MSD_MEM_MAX_TEXT);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "edit: %s", msd_strerror(s));
    return CLI_OK;
}

int cmd_edit(const cli_opts *o)
{
    edit_arg a = {.o = o};
    int rc = parse_fact_id(a.id, o->action);
    if (rc == CLI_OK && o->text == NULL && o->categories == 0 && o->importance < 0)
        rc = cli_fail(CLI_USAGE, "edit needs --text T, --category C or --importance N");
    memstore *m = NULL;
    if (rc == CLI_OK) rc = memstore_open(&m, o);
    if (rc == CLI_OK) {
        rc = after_change(memstore_update(m, do_edit, &a, 0), m);
        if (rc == CLI_OK) printf("edited\n");
    }
    memstore_close(m);
    return rc;
}

/* ------------------------------------------------------------------ forget */

static int do_forget(msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], void *p)
{
    msd_status s = msd_mem_forget(doc, p, device);
    if (s == MSD_ERR_MEM_NOT_FOUND) return cli_fail(CLI_NOT_FOUND, "no fact with this id (never added, or already forgotten)");
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "forget: %s", msd_strerror(s));
    return CLI_OK;
}

int cmd_forget(const cli_opts *o)
{
    uint8_t id[MSD_MEM_ID_SIZE];
    int rc = parse_fact_id(id, o->action);
    if (rc != CLI_OK) return rc;
    memstore *m;
    if ((rc = memstore_open(&m, o)) != CLI_OK) return rc;
    rc = memstore_update(m, do_forget, id, 1);
    if (rc == CLI_OK) printf("forgotten%s\n", memstore_has_chain(m) ? "; older versions shredded on chain" : " on this device");
    rc = after_change(rc, m);
    memstore_close(m);
    return rc;
}

/* ----------------------------------------------------------------- context */

int cmd_context(const cli_opts *o)
{
    if (o->action != NULL) return cli_fail(CLI_USAGE, "context takes no argument");
    memstore *m;
    int rc = memstore_open(&m, o);
    if (rc != CLI_OK) return rc;
    msd_mem_doc *doc = NULL;
    rc = memstore_load(m, &doc, 1);
    char *text = NULL;
    size_t len = 0;
    if (rc == CLI_OK) {
        const size_t max = o->max_bytes != 0 ? (size_t)o->max_bytes : CONTEXT_DEFAULT_BYTES;
        msd_status s = msd_mem_context(&text, &len, doc, max, o->include_private);
        if (s == MSD_ERR_ARGS) rc = cli_fail(CLI_USAGE, "--max-bytes must be at least 64");
        else if (s != MSD_OK) rc = cli_fail(cli_exit_of(s), "context: %s", msd_strerror(s));
    }
    if (rc == CLI_OK) fwrite(text, 1, len, stdout);
    if (text != NULL) sodium_memzero(text, len);
    free(text);
    msd_mem_free(doc);
    memstore_close(m);
    return rc;
}

/* -------------------------------------------------------------------- sync */

int cmd_sync(const cli_opts *o)
{
    if (o->action != NULL) return cli_fail(CLI_USAGE, "sync takes no argument");
    memstore *m;
    int rc = memstore_open(&m, o);
    if (rc != CLI_OK) return rc;
    memstore_sync_report rep;
    rc = memstore_sync(m, &rep, 0);
    if (rc == CLI_OK) {
        printf("version   %llu%s%s\n", (unsigned long long)rep.version, rep.pulled ? " (pulled and merged)" : "",
               rep.pushed ? " (pushed)" : "");
        if (rep.conflicts > 0) printf("conflicts %u merged\n", rep.conflicts);
        if (rep.shredded_up_to > 0) printf("shredded  versions 1..%llu\n", (unsigned long long)rep.shredded_up_to);
        cli_print_field("asset", memstore_asset(m), 32);
    }
    memstore_close(m);
    return rc;
}

/* ---------------------------------------------------------- import, export */

static int parse_format(msd_mem_format *f, const char *s, int for_import)
{
    static const struct { const char *name; msd_mem_format f; int import, export; } FORMATS[] = {
        {"mcp-memory", MSD_MEM_FORMAT_MCP_MEMORY, 1, 1}, {"openmemory", MSD_MEM_FORMAT_OPENMEMORY, 1, 0},
        {"text", MSD_MEM_FORMAT_TEXT, 1, 0},             {"markdown", MSD_MEM_FORMAT_MARKDOWN, 0, 1},
        {"json", MSD_MEM_FORMAT_JSON, 1, 1},
    };
    for (size_t i = 0; s != NULL && i < sizeof FORMATS / sizeof FORMATS[0]; i++)
        if (strcmp(s, FORMATS[i].name) == 0 && (for_import ? FORMATS[i].import : FORMATS[i].export)) {
            *f = FORMATS[i].f;
            return CLI_OK;
        }
    return cli_fail(CLI_USAGE, for_import ? "--format is one of mcp-memory, openmemory, text, json"
                                          : "--format is one of mcp-memory, markdown, json");
}

typedef struct import_arg {
    msd_mem_format f;
    const uint8_t *buf;
    size_t len;
    msd_mem_import_report rep;
} import_arg;

static int do_import(msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], void *p)
{
    import_arg *a = p;
    msd_status s = msd_mem_import(doc, &a->rep, a->f, a->buf, a->len, NULL, device);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "import: %s (nothing was added)", msd_strerror(s));
    return CLI_OK;
}

int cmd_mem_import(const cli_opts *o)
{
    import_arg a;
    memset(&a, 0, sizeof a);
    int rc = parse_format(&a.f, o->format, 1);
    const char *path = o->action != NULL ? o->action : o->in;
    if (rc == CLI_OK && path == NULL) rc = cli_fail(CLI_USAGE, "import needs the FILE to read");
    uint8_t *buf = NULL;
    if (rc == CLI_OK) rc = cli_read_file(path, &buf, &a.len, IMPORT_MAX);
    memstore *m = NULL;
    if (rc == CLI_OK) rc = memstore_open(&m, o);
    if (rc == CLI_OK) {
        a.buf = buf;
        rc = memstore_update(m, do_import, &a, 0);
        if (rc == CLI_OK || a.rep.added > 0)
            printf("added %zu, already present %zu, skipped %zu\n", a.rep.added, a.rep.duplicates, a.rep.skipped);
        rc = after_change(rc, m);
    }
    if (buf != NULL) sodium_memzero(buf, a.len);
    free(buf);
    memstore_close(m);
    return rc;
}

int cmd_mem_export(const cli_opts *o)
{
    msd_mem_format f;
    int rc = parse_format(&f, o->format, 0);
    if (rc == CLI_OK && o->action != NULL) rc = cli_fail(CLI_USAGE, "export writes to --out FILE or standard output");
    memstore *m = NULL;
    if (rc == CLI_OK) rc = memstore_open(&m, o);
    msd_mem_doc *doc = NULL;
    if (rc == CLI_OK) rc = memstore_load(m, &doc, 1);
    uint8_t *out = NULL;
    size_t len = 0;
    if (rc == CLI_OK) {
        msd_status s = msd_mem_export(&out, &len, doc, f, o->include_private);
        if (s != MSD_OK) rc = cli_fail(cli_exit_of(s), "export: %s", msd_strerror(s));
    }
    if (rc == CLI_OK) {
        if (o->out == NULL || strcmp(o->out, "-") == 0) {
            if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) rc = cli_fail(CLI_IO, "cannot write standard output");
        } else {
            rc = cli_write_file(o->out, out, len, 1);
        }
    }
    if (out != NULL) sodium_memzero(out, len);
    free(out);
    msd_mem_free(doc);
    memstore_close(m);
    return rc;
}
