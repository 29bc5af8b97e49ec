/* msd_mem_export: the official server's JSONL byte for byte, the Markdown
 * listing, the JSON document, privacy, and the round trip
 * export F -> import into an empty document -> export F (spec/memory-search.md §5). */
#include "fixture.h"

TestSuite(export, .init = mt_init);

/* export F, import it into an empty document (as import_fmt), export F again:
 * the same bytes; a second import adds nothing. Returns the first export. */
static char *round_trip(const msd_mem_doc *d, msd_mem_format fmt, msd_mem_format import_fmt, int include_private)
{
    size_t n1 = 0, n2 = 0;
    char *e1 = fx_export(d, fmt, include_private, &n1);
    msd_mem_doc *e = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(msd_mem_import(e, &r, import_fmt, (const uint8_t *)e1, n1, NULL, mt_dev(9)), MSD_OK);
    char *e2 = fx_export(e, fmt, include_private, &n2);
    cr_assert_eq(n1, n2, "round trip changed the length:\n%s\n----\n%s", e1, e2);
    cr_assert_str_eq(e1, e2);
    const size_t count = msd_mem_count(e);
    cr_assert_eq(msd_mem_import(e, &r, import_fmt, (const uint8_t *)e1, n1, NULL, mt_dev(9)), MSD_OK);
    cr_assert_eq(r.added, 0);
    cr_assert_eq(msd_mem_count(e), count);
    free(e2);
    msd_mem_free(e);
    return e1;
}

static void entity(msd_mem_doc *d, const char *name, const char *type)
{
    int changed = 0;
    cr_assert_eq(msd_mem_graph_add_entity(d, name, type, NULL, 0, mt_dev(1), &changed), MSD_OK);
    cr_assert_eq(changed, 1);
}

static void observation(msd_mem_doc *d, const char *name, const char *text)
{
    cr_assert_eq(msd_mem_graph_add_observation(d, name, text, NULL, 0, mt_dev(1), NULL), MSD_OK);
}

static void relation(msd_mem_doc *d, const char *from, const char *to, const char *type)
{
    cr_assert_eq(msd_mem_graph_add_relation(d, from, to, type, NULL, 0, mt_dev(1), NULL), MSD_OK);
}

/* ------------------------------------------------------------ MCP_MEMORY */

static void server_file_identity(const char *fixture)
{
    size_t n = 0;
    uint8_t *file = fx_read(fixture, &n);
    msd_mem_doc *d = mt_new();
    cr_assert_eq(msd_mem_import(d, NULL, MSD_MEM_FORMAT_MCP_MEMORY, file, n, NULL, mt_dev(1)), MSD_OK);
    size_t m = 0;
    char *out = fx_export(d, MSD_MEM_FORMAT_MCP_MEMORY, 0, &m);
    cr_assert_eq(m, n, "%s: %zu bytes, expected %zu:\n%s", fixture, m, n, out);
    cr_assert(memcmp(out, file, n) == 0, "%s: export differs:\n%s", fixture, out);
    free(round_trip(d, MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MCP_MEMORY, 0));
    free(out);
    free(file);
    msd_mem_free(d);
}

Test(export, mcp_writes_the_server_file_byte_for_byte) /* [MSR-60] */
{
    /* Both fixtures are what the server's saveGraph writes (the second made
     * by node's JSON.stringify: control characters, quotes, U+2028, emoji). */
    server_file_identity("mcp-memory.jsonl");
    server_file_identity("mcp-memory-escapes.jsonl");
}

Test(export, mcp_plain_facts_under_default_user) /* [MSR-61], [MSR-62] */
{
    msd_mem_doc *d = mt_new();
    entity(d, "Ana", "person");
    observation(d, "Ana", "Plays padel");
    entity(d, "Acme", "company");
    relation(d, "Ana", "Acme", "works_at");
    fx_fact(d, NULL, "Lives in Lisbon", MSD_CAT_IDENTITY, 90, 0, 1);
    fx_fact(d, NULL, "Diagnosed with asthma", MSD_CAT_HEALTH | MSD_CAT_PRIVATE, 50, 0, 1);
    fx_fact(d, NULL, "Likes jazz", MSD_CAT_INTERESTS, 10, 0, 1);
    char *pub = round_trip(d, MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MCP_MEMORY, 0);
    cr_assert_str_eq(pub,
                     "{\"type\":\"entity\",\"name\":\"Ana\",\"entityType\":\"person\",\"observations\":[\"Plays padel\"]}\n"
                     "{\"type\":\"entity\",\"name\":\"Acme\",\"entityType\":\"company\",\"observations\":[]}\n"
                     "{\"type\":\"entity\",\"name\":\"default_user\",\"entityType\":\"person\",\"observations\":"
                     "[\"Lives in Lisbon\",\"Likes jazz\"]}\n"
                     "{\"type\":\"relation\",\"from\":\"Ana\",\"to\":\"Acme\",\"relationType\":\"works_at\"}\n");
    char *all = round_trip(d, MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MCP_MEMORY, 1);
    cr_assert_not_null(strstr(all, "[\"Lives in Lisbon\",\"Diagnosed with asthma\",\"Likes jazz\"]"));
    free(pub);
    free(all);
    msd_mem_free(d);
}

Test(export, mcp_existing_default_user)
{
    msd_mem_doc *d = mt_new();
    entity(d, "default_user", "human");
    observation(d, "default_user", "Name is Bo");
    fx_fact(d, NULL, "Likes tea", MSD_CAT_INTERESTS, 50, 0, 1);
    fx_fact(d, NULL, "Name is Bo", MSD_CAT_IDENTITY, 50, 0, 1); /* already listed */
    char *out = round_trip(d, MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MCP_MEMORY, 0);
    cr_assert_str_eq(out, "{\"type\":\"entity\",\"name\":\"default_user\",\"entityType\":\"human\",\"observations\":"
                          "[\"Name is Bo\",\"Likes tea\"]}\n");
    free(out);
    msd_mem_free(d);
}

Test(export, mcp_orphans_after_a_concurrent_delete) /* [MSR-61] */
{
    msd_mem_doc *base = mt_new();
    entity(base, "Acme", "company");
    entity(base, "Eve", "person");
    observation(base, "Eve", "o1");
    relation(base, "Eve", "Acme", "knows");
    msd_mem_doc *left = mt_clone(base), *right = mt_clone(base);
    cr_assert_eq(msd_mem_graph_delete_entity(left, "Eve", mt_dev(2), NULL), MSD_OK);
    observation(right, "Eve", "o2");
    relation(right, "Acme", "Eve", "likes");
    msd_mem_doc *m = mt_merge(base, left, right);
    char *out = round_trip(m, MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MCP_MEMORY, 0);
    cr_assert_str_eq(out, "{\"type\":\"entity\",\"name\":\"Acme\",\"entityType\":\"company\",\"observations\":[]}\n"
                          "{\"type\":\"entity\",\"name\":\"Eve\",\"entityType\":\"\",\"observations\":[\"o2\"]}\n"
                          "{\"type\":\"relation\",\"from\":\"Acme\",\"to\":\"Eve\",\"relationType\":\"likes\"}\n");
    free(out);
    msd_mem_free(m);
    msd_mem_free(left);
    msd_mem_free(right);
    msd_mem_free(base);
}

Test(export, mcp_empty_document)
{
    msd_mem_doc *d = mt_new();
    char *out = round_trip(d, MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MCP_MEMORY, 0);
    cr_assert_str_eq(out, "\n"); /* the server writes "" + "\n" for an empty graph */
    free(out);
    msd_mem_free(d);
}

/* -------------------------------------------------------------- MARKDOWN */

Test(export, markdown_layout) /* [MSR-63], [MSR-64] */
{
    msd_mem_doc *d = mt_new();
    entity(d, "Anthropic", "organization");
    observation(d, "Anthropic", "AI safety company");
    entity(d, "Ana", "person");
    relation(d, "Ana", "Anthropic", "works_at");
    fx_fact(d, NULL, "Lives in Lisbon", MSD_CAT_IDENTITY, 80, 0, 1);
    fx_fact(d, NULL, "Works at Acme", MSD_CAT_CAREER, 50, 0, 1);
    fx_fact(d, NULL, "Leads the payments team", MSD_CAT_LEARNING | MSD_CAT_CAREER, 90, 1, 1);
    fx_fact(d, NULL, "Takes insulin daily", MSD_CAT_HEALTH | MSD_CAT_PRIVATE, 60, 0, 1);
    fx_fact(d, NULL, "  Likes jazz\nand\tblues ", MSD_CAT_INTERESTS, 50, 0, 1);
    char *md = fx_export(d, MSD_MEM_FORMAT_MARKDOWN, 0, NULL);
    cr_assert_str_eq(md, "# Memory\n"
                         "\n## Identity\n\n- Lives in Lisbon\n- Anthropic: AI safety company\n"
                         "\n## Career\n\n- Leads the payments team\n- Works at Acme\n"
                         "\n## Interests\n\n- Likes jazz and blues\n"
                         "\n## Entities\n\n- Anthropic (organization)\n- Ana (person)\n"
                         "\n## Relations\n\n- Ana works_at Anthropic\n");
    char *all = fx_export(d, MSD_MEM_FORMAT_MARKDOWN, 1, NULL);
    cr_assert_not_null(strstr(all, "\n## Health\n\n- Takes insulin daily\n"));
    free(md);
    free(all);
    msd_mem_free(d);
}

Test(export, markdown_round_trip_through_text) /* [MSR-64] */
{
    msd_mem_doc *d = mt_new();
    fx_fact(d, NULL, "Lives in Lisbon", MSD_CAT_IDENTITY, 80, 0, 1);
    fx_fact(d, NULL, "Has two cats", MSD_CAT_IDENTITY, 95, 1, 2);
    fx_fact(d, NULL, "- starts with a dash", MSD_CAT_IDENTITY, 10, 0, 1);
    fx_fact(d, NULL, "1. starts with a number", MSD_CAT_CAREER, 10, 0, 1);
    fx_fact(d, NULL, "# starts with a hash", MSD_CAT_CAREER, 30, 0, 1);
    fx_fact(d, NULL, "Works at Acme", MSD_CAT_CAREER | MSD_CAT_FINANCE, 50, 0, 3);
    fx_fact(d, NULL, "Saves 20% of income", MSD_CAT_FINANCE, 70, 0, 1);
    fx_fact(d, NULL, "Café au lait, não açúcar", MSD_CAT_INTERESTS, 50, 0, 1);
    fx_fact(d, NULL, "Line\nbreak\r\nin text", MSD_CAT_TRAVEL, 50, 0, 1);
    fx_fact(d, NULL, "Takes insulin daily", MSD_CAT_PRIVATE, 60, 0, 1);
    fx_fact(d, NULL, "Same importance, older", MSD_CAT_PRODUCTIVITY, 50, 0, 4);
    fx_fact(d, NULL, "Same importance, newer", MSD_CAT_PRODUCTIVITY, 50, 0, 4);
    free(round_trip(d, MSD_MEM_FORMAT_MARKDOWN, MSD_MEM_FORMAT_TEXT, 0));
    char *all = round_trip(d, MSD_MEM_FORMAT_MARKDOWN, MSD_MEM_FORMAT_TEXT, 1);
    cr_assert_not_null(strstr(all, "\n## Private\n\n- Takes insulin daily\n"));
    cr_assert_not_null(strstr(all, "- Same importance, older\n- Same importance, newer\n"));
    cr_assert_not_null(strstr(all, "- Has two cats\n- Lives in Lisbon\n- - starts with a dash\n"));
    free(all);
    msd_mem_free(d);
}

/* ------------------------------------------------------------------ JSON */

Test(export, json_private_dropped_without_tombstone) /* [MSR-65] */
{
    msd_mem_doc *d = mt_new();
    uint8_t pid[MSD_MEM_ID_SIZE];
    fx_fact(d, NULL, "Lives in Lisbon", MSD_CAT_IDENTITY, 80, 0, 1);
    fx_fact(d, pid, "Account number 1234", MSD_CAT_FINANCE | MSD_CAT_PRIVATE, 80, 0, 1);
    size_t n = 0, m = 0;
    char *all = fx_export(d, MSD_MEM_FORMAT_JSON, 1, &n);
    char *canon = mt_bytes(d, &m);
    cr_assert_eq(n, m);
    cr_assert_str_eq(all, canon);
    char *pub = fx_export(d, MSD_MEM_FORMAT_JSON, 0, &n);
    cr_assert_null(strstr(pub, "1234"));
    cr_assert_null(strstr(pub, "private"));
    msd_mem_doc *p = mt_parse(pub);
    cr_assert_eq(msd_mem_count(p), 1);
    cr_assert_eq(msd_mem_tombstones(p), 0);
    cr_assert_not(msd_mem_is_forgotten(p, pid));
    /* Merged back into the original, the private fact survives. */
    msd_mem_doc *back = mt_merge(NULL, d, p);
    cr_assert(mt_same(back, d));
    free(all);
    free(canon);
    free(pub);
    msd_mem_free(back);
    msd_mem_free(p);
    msd_mem_free(d);
}

Test(export, json_round_trip) /* [MSR-65] */
{
    msd_mem_doc *d = mt_new();
    fx_fact(d, NULL, "Lives in Lisbon", MSD_CAT_IDENTITY, 80, 0, 1);
    fx_fact(d, NULL, "Imported thing", MSD_CAT_CAREER, 50, 1, 2);
    fx_fact(d, NULL, "Private thing", MSD_CAT_PRIVATE, 50, 0, 2);
    entity(d, "Ana", "person");
    observation(d, "Ana", "Plays padel");
    uint8_t gone[MSD_MEM_ID_SIZE];
    fx_fact(d, gone, "Forgotten", MSD_CAT_IDENTITY, 50, 0, 1);
    cr_assert_eq(msd_mem_forget(d, gone, mt_dev(1)), MSD_OK);
    /* The import is msd_mem_merge3(NULL, empty, parsed): check that path first. */
    char *e1 = fx_export(d, MSD_MEM_FORMAT_JSON, 0, NULL);
    msd_mem_doc *empty = mt_new(), *parsed = mt_parse(e1), *m = mt_merge(NULL, empty, parsed);
    char *e2 = fx_export(m, MSD_MEM_FORMAT_JSON, 0, NULL);
    cr_assert_str_eq(e1, e2);
    free(e1);
    free(e2);
    msd_mem_free(empty);
    msd_mem_free(parsed);
    msd_mem_free(m);
    free(round_trip(d, MSD_MEM_FORMAT_JSON, MSD_MEM_FORMAT_JSON, 0));
    free(round_trip(d, MSD_MEM_FORMAT_JSON, MSD_MEM_FORMAT_JSON, 1));
    msd_mem_free(d);
}

/* --------------------------------------------------------------- general */

Test(export, deterministic_and_arguments)
{
    msd_mem_doc *d = mt_new();
    size_t n = 0;
    uint8_t *out = NULL;
    fx_fact(d, NULL, "Lives in Lisbon", MSD_CAT_IDENTITY, 80, 0, 1);
    msd_mem_doc *c = mt_clone(d);
    const msd_mem_format fmts[] = {MSD_MEM_FORMAT_MCP_MEMORY, MSD_MEM_FORMAT_MARKDOWN, MSD_MEM_FORMAT_JSON};
    for (size_t i = 0; i < 3; i++) {
        char *a = fx_export(d, fmts[i], 0, NULL), *b = fx_export(c, fmts[i], 0, NULL);
        cr_assert_str_eq(a, b);
        free(a);
        free(b);
    }
    cr_assert_eq(msd_mem_export(&out, &n, d, MSD_MEM_FORMAT_TEXT, 0), MSD_ERR_ARGS);
    cr_assert_null(out);
    cr_assert_eq(msd_mem_export(&out, &n, d, MSD_MEM_FORMAT_OPENMEMORY, 0), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_export(&out, &n, NULL, MSD_MEM_FORMAT_JSON, 0), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_export(NULL, &n, d, MSD_MEM_FORMAT_JSON, 0), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_export(&out, NULL, d, MSD_MEM_FORMAT_JSON, 0), MSD_ERR_ARGS);
    msd_mem_free(c);
    msd_mem_free(d);
}
