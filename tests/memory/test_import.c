/* msd_mem_import: every format's mapping, exact counts and categories, dedup
 * on a second import, and files that are not of the format leaving the
 * document unchanged (spec/memory-search.md §4). */
#include <zlib.h>

#include "fixture.h"

TestSuite(import, .init = mt_init);

static void expect(const msd_mem_import_report *r, size_t added, size_t dup, size_t skipped)
{
    cr_assert_eq(r->added, added, "added %zu, expected %zu", r->added, added);
    cr_assert_eq(r->duplicates, dup, "duplicates %zu, expected %zu", r->duplicates, dup);
    cr_assert_eq(r->skipped, skipped, "skipped %zu, expected %zu", r->skipped, skipped);
}

/* Every live item is marked imported, by tool. */
static void all_imported(const msd_mem_doc *d, const char *tool)
{
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        msd_mem_item it;
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        cr_assert_eq(it.imported, 1, "item %s not marked imported", it.text);
        cr_assert_not_null(it.tool);
        cr_assert_str_eq(it.tool, tool);
    }
}

/* A document with one fact of the owner's, to show a failed import leaves it as it was. */
static msd_mem_doc *seeded(void)
{
    msd_mem_doc *d = mt_new();
    fx_fact(d, NULL, "Prefers concise answers.", MSD_CAT_PRODUCTIVITY, 70, 0, 1);
    return d;
}

static void refused(msd_mem_format fmt, const char *fixture, msd_status want)
{
    msd_mem_doc *d = seeded();
    char *before = mt_bytes(d, NULL);
    msd_mem_import_report r = {9, 9, 9};
    cr_assert_eq(fx_import(d, &r, fmt, fixture), want, "%s", fixture);
    expect(&r, 0, 0, 0);
    char *after = mt_bytes(d, NULL);
    cr_assert_str_eq(before, after, "%s changed the document", fixture);
    free(before);
    free(after);
    msd_mem_free(d);
}

/* ------------------------------------------------------------ MCP_MEMORY */

Test(import, mcp_fixture_counts_and_second_import) /* [MSR-40], [MSR-42] */
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_MCP_MEMORY, "mcp-memory.jsonl"), MSD_OK);
    expect(&r, 4 + 6 + 3, 0, 0); /* entities, observations, relations */
    cr_assert_eq(msd_mem_count(d), 13);
    all_imported(d, "mcp-memory");
    msd_mem_item it;
    cr_assert(fx_find(d, "Speaks fluent Spanish", "John_Smith", &it));
    cr_assert_eq(it.kind, MSD_MEM_FACT);
    cr_assert_eq(it.categories, MSD_CAT_IDENTITY);
    cr_assert(fx_find(d, "Tab\there and back\\slash", "Ana \"Nani\" Costa", NULL));
    cr_assert(fx_find(d, "works_at", NULL, &it));
    cr_assert_eq(it.kind, MSD_MEM_RELATION);
    cr_assert_str_eq(it.from, "John_Smith");
    cr_assert_str_eq(it.to, "Anthropic");
    cr_assert(fx_find(d, "Lisbon", NULL, &it));
    cr_assert_eq(it.kind, MSD_MEM_ENTITY);
    cr_assert_str_eq(it.entity_type, "city");

    /* File order is creation order: John_Smith before Anthropic. */
    msd_mem_item a, b;
    cr_assert(fx_find(d, "John_Smith", NULL, &a));
    cr_assert(fx_find(d, "Anthropic", NULL, &b));
    cr_assert_lt(a.created.counter, b.created.counter);

    char *once = mt_bytes(d, NULL);
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_MCP_MEMORY, "mcp-memory.jsonl"), MSD_OK);
    expect(&r, 0, 13, 0);
    char *twice = mt_bytes(d, NULL);
    cr_assert_str_eq(once, twice, "a second import changed the document");
    free(once);
    free(twice);
    msd_mem_free(d);
}

Test(import, mcp_mixed_valid_and_invalid_lines) /* [MSR-41] */
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_MCP_MEMORY, "mcp-memory-mixed.jsonl"), MSD_OK);
    /* Added: Bob, "Likes chess" (Bob), Dan, "Likes chess" (Dan), Dan->Bob.
     * Duplicate: Dan's repeated "Likes chess". Skipped: not JSON, Eve (an
     * observation not a string), Carol (no entityType), Bob->Nobody (no such
     * entity), a relation without "to", an unknown type, an array, Dan's "". */
    expect(&r, 5, 1, 8);
    cr_assert(fx_find(d, "Likes chess", "Bob", NULL));
    cr_assert(fx_find(d, "Likes chess", "Dan", NULL));
    cr_assert_not(fx_find(d, "Eve", NULL, NULL));
    cr_assert_not(fx_find(d, "Carol", NULL, NULL));
    cr_assert_eq(msd_mem_count(d), 5);
    msd_mem_free(d);
}

Test(import, mcp_not_the_format) /* [MSR-34] */
{
    refused(MSD_MEM_FORMAT_MCP_MEMORY, "mcp-memory-bad.jsonl", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_MCP_MEMORY, "mem0.json", MSD_ERR_IMPORT); /* pretty-printed JSON: no line is a record */
    refused(MSD_MEM_FORMAT_MCP_MEMORY, "facts.txt", MSD_ERR_IMPORT);
}

Test(import, mcp_empty_file_is_an_empty_graph)
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_MCP_MEMORY, "\n"), MSD_OK);
    expect(&r, 0, 0, 0);
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_MCP_MEMORY, NULL, 0, NULL, mt_dev(1)), MSD_OK);
    cr_assert_eq(msd_mem_count(d), 0);
    msd_mem_free(d);
}

/* ------------------------------------------------------------------ TEXT */

Test(import, text_fixture) /* [MSR-50]..[MSR-53] */
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_TEXT, "facts.txt"), MSD_OK);
    expect(&r, 12, 1, 0);
    cr_assert_eq(msd_mem_count(d), 12);
    all_imported(d, "text");
    /* Bullets and numbering stripped; the default category is identity. */
    static const char *const identity[] = {
        "Lives in Lisbon, Portugal", "Works as a backend engineer at Acme", "Prefers concise answers",
        "Plays the cello on weekends", "Is learning Rust", "Runs 10 km every Sunday", "Drinks coffee without sugar",
        "[unknown-tag] Keeps bracketed text that is not a category",
    };
    for (size_t i = 0; i < sizeof identity / sizeof identity[0]; i++)
        cr_assert_eq(fx_cats(d, identity[i]), MSD_CAT_IDENTITY, "%s", identity[i]);
    /* A category heading sets the category until the next heading. */
    cr_assert_eq(fx_cats(d, "Leads the payments team"), MSD_CAT_CAREER);
    cr_assert_eq(fx_cats(d, "Mentors two junior engineers"), MSD_CAT_CAREER);
    /* A leading [category] tag. */
    cr_assert_eq(fx_cats(d, "Visited Japan in 2023"), MSD_CAT_TRAVEL);
    cr_assert_eq(fx_cats(d, "Allergic to penicillin"), MSD_CAT_HEALTH | MSD_CAT_PRIVATE);
    msd_mem_item it;
    cr_assert(fx_find(d, "Is learning Rust", NULL, &it));
    cr_assert_eq(it.type, MSD_MEM_SEMANTIC);
    cr_assert_eq(it.importance, 50);
    cr_assert_not(fx_find(d, "My memories (copied from ChatGPT)", NULL, NULL));

    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_TEXT, "facts.txt"), MSD_OK);
    expect(&r, 0, 13, 0);
    cr_assert_eq(msd_mem_count(d), 12);
    msd_mem_free(d);
}

Test(import, text_dedup_against_own_facts_and_line_endings) /* [MSR-30] */
{
    msd_mem_doc *d = seeded();
    msd_mem_import_report r;
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT,
                               "\xef\xbb\xbf  prefers   CONCISE\tanswers.  \r\n\r\n1) New fact\r\n- new   FACT\r\n"),
                 MSD_OK);
    expect(&r, 1, 2, 0);
    cr_assert(fx_find(d, "New fact", NULL, NULL));
    cr_assert_eq(msd_mem_count(d), 2);
    /* Punctuation is not normalised away. */
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT, "Prefers concise answers"), MSD_OK);
    expect(&r, 1, 0, 0);
    msd_mem_free(d);
}

Test(import, text_markers_kept_once)
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT,
                               "- 1. First item\n- - dash\n#hashtag is text\n####### seven is text\n- # not a heading\n"
                               "1.5 litres of water a day\n* \n1.\n***\n== \n"),
                 MSD_OK);
    expect(&r, 6, 0, 0);
    cr_assert(fx_find(d, "1. First item", NULL, NULL));
    cr_assert(fx_find(d, "- dash", NULL, NULL));
    cr_assert(fx_find(d, "#hashtag is text", NULL, NULL));
    cr_assert(fx_find(d, "####### seven is text", NULL, NULL));
    cr_assert(fx_find(d, "# not a heading", NULL, NULL));
    cr_assert(fx_find(d, "1.5 litres of water a day", NULL, NULL));
    msd_mem_free(d);
}

Test(import, text_invalid_lines) /* [MSR-34] */
{
    refused(MSD_MEM_FORMAT_TEXT, "facts-bad.txt", MSD_ERR_IMPORT);
    /* One good line among bad ones: imported, the rest counted. */
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT, "good line\nbad \xff line\n"), MSD_OK);
    expect(&r, 1, 0, 1);
    /* Too long for a fact. */
    char *big = malloc(MSD_MEM_MAX_TEXT + 3);
    memset(big, 'a', MSD_MEM_MAX_TEXT + 1);
    big[MSD_MEM_MAX_TEXT + 1] = '\n';
    big[MSD_MEM_MAX_TEXT + 2] = '\0';
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT, big), MSD_ERR_IMPORT);
    big[MSD_MEM_MAX_TEXT] = '\n'; /* exactly at the cap */
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT, big), MSD_OK);
    expect(&r, 1, 0, 0);
    free(big);
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_TEXT, ""), MSD_OK);
    expect(&r, 0, 0, 0);
    msd_mem_free(d);
}

/* ------------------------------------------------------------ OPENMEMORY */

Test(import, openmemory_relational_dump) /* [MSR-45]..[MSR-47] */
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, "openmemory-memories.json"), MSD_OK);
    /* Four active memories; archived and deleted ones left out; content null skipped. */
    expect(&r, 4, 0, 1);
    all_imported(d, "openmemory");
    cr_assert_eq(fx_cats(d, "Works at Globex as a data scientist"), MSD_CAT_CAREER);  /* "work"; "ai, ml & technology" dropped */
    cr_assert_eq(fx_cats(d, "Is vegetarian"), MSD_CAT_HEALTH);
    cr_assert_eq(fx_cats(d, "Is planning a trip to Kyoto"), MSD_CAT_TRAVEL);          /* from memory_categories */
    cr_assert_eq(fx_cats(d, "Enjoys sci-fi novels"), MSD_CAT_IDENTITY);               /* nothing maps */
    cr_assert_not(fx_find(d, "Used to live in Berlin", NULL, NULL));
    cr_assert_not(fx_find(d, "Deleted memory text", NULL, NULL));
    /* The foreign id is kept as src.xid. */
    char *bytes = mt_bytes(d, NULL);
    cr_assert_not_null(strstr(bytes, "\"xid\":\"m0000000-0000-4000-8000-000000000001\""));
    free(bytes);
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, "openmemory-memories.json"), MSD_OK);
    expect(&r, 0, 4, 1);
    msd_mem_free(d);
}

Test(import, openmemory_jsonl_and_gzip)
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, "openmemory.jsonl"), MSD_OK);
    expect(&r, 4, 0, 0); /* the paused memory is left out */
    cr_assert_eq(fx_cats(d, "Has a dog named Pixel"), MSD_CAT_IDENTITY);
    cr_assert_eq(fx_cats(d, "Is saving for a house"), MSD_CAT_FINANCE | MSD_CAT_PRODUCTIVITY);
    cr_assert_eq(fx_cats(d, "Takes the train to work"), MSD_CAT_TRAVEL | MSD_CAT_CAREER);
    cr_assert_eq(fx_cats(d, "Watches Formula 1"), MSD_CAT_IDENTITY);
    cr_assert_not(fx_find(d, "Old paused memory", NULL, NULL));
    char *plain = mt_bytes(d, NULL);

    /* The gzip form adds nothing more... */
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, "openmemory.jsonl.gz"), MSD_OK);
    expect(&r, 0, 4, 0);
    /* ...and into an empty document gives the same facts. */
    msd_mem_doc *z = mt_new();
    cr_assert_eq(fx_import(z, &r, MSD_MEM_FORMAT_OPENMEMORY, "openmemory.jsonl.gz"), MSD_OK);
    expect(&r, 4, 0, 0);
    cr_assert_eq(fx_cats(z, "Is saving for a house"), MSD_CAT_FINANCE | MSD_CAT_PRODUCTIVITY);

    /* Two gzip members one after the other read as one stream. */
    size_t n = 0;
    uint8_t *gz = fx_read("openmemory.jsonl.gz", &n);
    uint8_t *two = malloc(2 * n);
    memcpy(two, gz, n);
    memcpy(two + n, gz, n);
    msd_mem_doc *w = mt_new();
    cr_assert_eq(msd_mem_import(w, &r, MSD_MEM_FORMAT_OPENMEMORY, two, 2 * n, NULL, mt_dev(2)), MSD_OK);
    expect(&r, 4, 4, 0);
    free(two);
    free(gz);
    free(plain);
    msd_mem_free(w);
    msd_mem_free(z);
    msd_mem_free(d);
}

Test(import, mem0_results_and_bare_list)
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, "mem0.json"), MSD_OK);
    expect(&r, 3, 0, 0);
    cr_assert_eq(fx_cats(d, "Name is Alice"), MSD_CAT_IDENTITY);
    cr_assert_eq(fx_cats(d, "Is allergic to nuts"), MSD_CAT_HEALTH);
    cr_assert_eq(fx_cats(d, "Prefers dark mode in every editor"), MSD_CAT_INTERESTS);
    cr_assert_eq(fx_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, "mem0-list.json"), MSD_OK);
    expect(&r, 1, 1, 2); /* "Name is Alice" again; a non-string memory and a string are skipped */
    char *bytes = mt_bytes(d, NULL);
    cr_assert_not_null(strstr(bytes, "\"xid\":\"17\""), "an integer id is kept as its decimal text");
    free(bytes);
    msd_mem_free(d);
}

Test(import, openmemory_not_the_format) /* [MSR-34] */
{
    refused(MSD_MEM_FORMAT_OPENMEMORY, "openmemory-bad.json", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_OPENMEMORY, "openmemory-truncated.json", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_OPENMEMORY, "openmemory-truncated.jsonl.gz", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_OPENMEMORY, "mcp-memory-bad.jsonl", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_OPENMEMORY, "facts.txt", MSD_ERR_IMPORT);
}

Test(import, gzip_bomb_is_refused) /* [MSR-48] */
{
    /* 65 MiB of zeros compress to about 64 KiB. */
    const size_t big = (size_t)MSD_MEM_MAX_DOC + (1u << 20);
    uint8_t *zeros = calloc(1, big);
    uLong cap = compressBound((uLong)big) + 64;
    uint8_t *gz = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = zeros;
    z.avail_in = (uInt)big;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    free(zeros);
    msd_mem_doc *d = seeded();
    msd_mem_import_report r;
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_OPENMEMORY, gz, n, NULL, mt_dev(1)), MSD_ERR_IMPORT);
    cr_assert_eq(msd_mem_count(d), 1);
    free(gz);
    msd_mem_free(d);
}

/* ------------------------------------------------------------------ JSON */


Test(import, json_merges_the_document) /* [MSR-55] */
{
    msd_mem_doc *src = mt_new();
    uint8_t id[MSD_MEM_ID_SIZE];
    fx_fact(src, id, "Lives in Porto", MSD_CAT_IDENTITY, 80, 0, 3);
    fx_fact(src, NULL, "Learning Japanese", MSD_CAT_LEARNING, 40, 0, 3);
    size_t n = 0;
    char *json = fx_export(src, MSD_MEM_FORMAT_JSON, 1, &n);
    msd_mem_doc *d = seeded(), *d0 = mt_clone(d);
    msd_mem_import_report r;
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_JSON, (const uint8_t *)json, n, NULL, mt_dev(1)), MSD_OK);
    expect(&r, 2, 0, 0);
    msd_mem_item it;
    cr_assert_eq(msd_mem_find(d, id, &it), MSD_OK, "the id is kept");
    cr_assert_str_eq(it.text, "Lives in Porto");
    cr_assert_eq(it.importance, 80);
    cr_assert_eq(msd_mem_count(d), 3);
    /* Exactly a merge without base. */
    msd_mem_doc *parsed = mt_parse(json), *m = mt_merge(NULL, d0, parsed);
    cr_assert(mt_same(d, m));
    msd_mem_free(parsed);
    msd_mem_free(m);
    msd_mem_free(d0);
    char *once = mt_bytes(d, NULL);
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_JSON, (const uint8_t *)json, n, NULL, mt_dev(1)), MSD_OK);
    expect(&r, 0, 2, 0);
    char *twice = mt_bytes(d, NULL);
    cr_assert_str_eq(once, twice);
    free(once);
    free(twice);
    free(json);
    msd_mem_free(src);
    msd_mem_free(d);
}

Test(import, json_errors) /* [MSR-56] */
{
    refused(MSD_MEM_FORMAT_JSON, "facts.txt", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_JSON, "mem0.json", MSD_ERR_IMPORT);
    refused(MSD_MEM_FORMAT_JSON, "mcp-memory.jsonl", MSD_ERR_IMPORT);
    msd_mem_doc *d = seeded();
    char *before = mt_bytes(d, NULL);
    msd_mem_import_report r;
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_JSON, "{\"format\":\"memsync.memory/2\",\"clock\":0,\"items\":[]}"),
                 MSD_ERR_MEM_VERSION);
    cr_assert_eq(fx_import_str(d, &r, MSD_MEM_FORMAT_JSON,
                               "{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[{\"id\":\"zz\"}]}"),
                 MSD_ERR_MEM_MALFORMED);
    char *after = mt_bytes(d, NULL);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    msd_mem_free(d);
}

/* ------------------------------------------------------------- arguments */

Test(import, tool_and_arguments)
{
    msd_mem_doc *d = mt_new();
    msd_mem_import_report r;
    const char *txt = "Uses Vim\n";
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_TEXT, (const uint8_t *)txt, strlen(txt), "chatgpt", mt_dev(1)),
                 MSD_OK);
    all_imported(d, "chatgpt");
    char tool[MSD_MEM_MAX_TOOL + 2];
    memset(tool, 't', sizeof tool - 1);
    tool[sizeof tool - 1] = '\0';
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_TEXT, (const uint8_t *)txt, 9, tool, mt_dev(1)), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_TEXT, (const uint8_t *)txt, 9, "", mt_dev(1)), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(NULL, &r, MSD_MEM_FORMAT_TEXT, (const uint8_t *)txt, 9, NULL, mt_dev(1)), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_TEXT, NULL, 9, NULL, mt_dev(1)), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_TEXT, (const uint8_t *)txt, 9, NULL, NULL), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(d, &r, MSD_MEM_FORMAT_MARKDOWN, (const uint8_t *)txt, 9, NULL, mt_dev(1)), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(d, &r, (msd_mem_format)99, (const uint8_t *)txt, 9, NULL, mt_dev(1)), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_import(d, NULL, MSD_MEM_FORMAT_TEXT, (const uint8_t *)"Another\n", 8, NULL, mt_dev(1)), MSD_OK);
    cr_assert_eq(msd_mem_count(d), 2);
    msd_mem_free(d);
}
