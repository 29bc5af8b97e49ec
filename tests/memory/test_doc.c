/* Documents: the known-answer canonical bytes, every malformed input, and
 * the errors and stamps of add / edit / forget (spec/memory.md §2-§4). */
#include "mem_test.h"

TestSuite(mem_doc, .init = mt_init);

#define ID1 "11111111111111111111111111111111"
#define ID2 "22222222222222222222222222222222"
#define ID3 "33333333333333333333333333333333"
#define DEVA "0102030405060708"

/* A fact with every field, for the malformed cases to alter. */
#define FACT_FIELDS                                                                                                    \
    "\"id\":\"" ID2 "\",\"kind\":\"fact\",\"text\":\"t\",\"cat\":[\"career\"],\"type\":\"semantic\",\"imp\":5,"        \
    "\"c\":[1,\"" DEVA "\"],\"t\":[1,\"" DEVA "\"]"
#define DOC_OF(items) "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[" items "]}"

/* [MEM-35]: the known answer of spec/memory.md §4.3. */
Test(mem_doc, known_answer_canonical_bytes)
{
    static const char in[] =
        "{ \"items\": [\n"
        "  {\"kind\":\"fact\",\"id\":\"" ID2 "\",\"text\":\"Prefers \\\"concise\\\" answers\\n\",\"cat\":[\"career\","
        "\"identity\"],\"type\":\"semantic\",\"imp\":70,\"src\":{\"tool\":\"claude\",\"kind\":\"self\"},\"c\":[1,\"" DEVA
        "\"],\"t\":[3,\"" DEVA "\"],\"zz\":{\"b\":1,\"a\":[true,null]}},\n"
        "  {\"id\":\"" ID1 "\",\"del\":1,\"t\":[2,\"a0a1a2a3a4a5a6a7\"]},\n"
        "  {\"kind\":\"entity\",\"id\":\"" ID3 "\",\"text\":\"Ada\",\"etype\":\"person\",\"c\":[4,\"" DEVA "\"],\"t\":[4,\"" DEVA
        "\"]}\n"
        " ],\n"
        " \"format\": \"memsync.memory/1\", \"clock\": 2, \"x-note\": \"kept\" }\n";
    static const char want[] =
        "{\"clock\":4,\"format\":\"memsync.memory/1\",\"items\":["
        "{\"del\":1,\"id\":\"" ID1 "\",\"t\":[2,\"a0a1a2a3a4a5a6a7\"]},"
        "{\"c\":[1,\"" DEVA "\"],\"cat\":[\"identity\",\"career\"],\"id\":\"" ID2 "\",\"imp\":70,\"kind\":\"fact\","
        "\"src\":{\"kind\":\"self\",\"tool\":\"claude\"},\"t\":[3,\"" DEVA "\"],\"text\":\"Prefers \\\"concise\\\" "
        "answers\\n\",\"type\":\"semantic\",\"zz\":{\"a\":[true,null],\"b\":1}},"
        "{\"c\":[4,\"" DEVA "\"],\"etype\":\"person\",\"id\":\"" ID3 "\",\"kind\":\"entity\",\"t\":[4,\"" DEVA "\"],"
        "\"text\":\"Ada\"}],\"x-note\":\"kept\"}";
    msd_mem_doc *d = mt_parse(in);
    char *s = mt_bytes(d, NULL);
    cr_assert_str_eq(s, want);
    cr_assert_eq(msd_mem_clock(d), 4); /* raised to the largest stamp ([MEM-3]) */
    cr_assert_eq(msd_mem_count(d), 2);
    cr_assert_eq(msd_mem_tombstones(d), 1);
    /* Canonical input is a fixed point. */
    msd_mem_doc *e = mt_parse(s);
    char *s2 = mt_bytes(e, NULL);
    cr_assert_str_eq(s2, want);
    /* The public view of the fact. */
    msd_mem_item it;
    uint8_t id2[16];
    memset(id2, 0x22, 16);
    cr_assert_eq(msd_mem_find(d, id2, &it), MSD_OK);
    cr_assert_eq(it.kind, MSD_MEM_FACT);
    cr_assert_str_eq(it.text, "Prefers \"concise\" answers\n");
    cr_assert_eq(it.categories, MSD_CAT_IDENTITY | MSD_CAT_CAREER);
    cr_assert_eq(it.importance, 70);
    cr_assert_str_eq(it.tool, "claude");
    cr_assert_eq(it.imported, 0);
    cr_assert_eq(it.created.counter, 1);
    cr_assert_eq(it.updated.counter, 3);
    cr_assert_eq(it.updated.device[7], 8);
    cr_assert_null(it.entity);
    uint8_t id1[16];
    memset(id1, 0x11, 16);
    cr_assert(msd_mem_is_forgotten(d, id1));
    cr_assert_eq(msd_mem_find(d, id1, &it), MSD_ERR_MEM_NOT_FOUND);
    cr_assert_eq(msd_mem_item_at(d, 1, &it), MSD_OK);
    cr_assert_eq(it.kind, MSD_MEM_ENTITY);
    cr_assert_str_eq(it.entity_type, "person");
    cr_assert_eq(msd_mem_item_at(d, 2, &it), MSD_ERR_ARGS);
    free(s);
    free(s2);
    msd_mem_free(d);
    msd_mem_free(e);
}

Test(mem_doc, empty_document)
{
    msd_mem_doc *d = mt_new();
    char *s = mt_bytes(d, NULL);
    cr_assert_str_eq(s, "{\"clock\":0,\"format\":\"memsync.memory/1\",\"items\":[]}");
    cr_assert_eq(msd_mem_count(d), 0);
    cr_assert_eq(msd_mem_clock(d), 0);
    msd_mem_doc *e = mt_parse(s);
    cr_assert(mt_same(d, e));
    free(s);
    msd_mem_free(d);
    msd_mem_free(e);
}

typedef struct bad_case {
    const char *json;
    msd_status want;
} bad_case;

static const bad_case bad_cases[] = {
    {"", MSD_ERR_MEM_MALFORMED},
    {"not json", MSD_ERR_MEM_MALFORMED},
    {"[]", MSD_ERR_MEM_MALFORMED},
    {"null", MSD_ERR_MEM_MALFORMED},
    {"\"memsync.memory/1\"", MSD_ERR_MEM_MALFORMED},
    {"{}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":1,\"clock\":0,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":null,\"clock\":0,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/2\",\"clock\":0,\"items\":[]}", MSD_ERR_MEM_VERSION},
    {"{\"format\":\"memsync.memory/2\"}", MSD_ERR_MEM_VERSION},
    {"{\"format\":\"\",\"clock\":0,\"items\":[]}", MSD_ERR_MEM_VERSION},
    {"{\"format\":\"memsync.memory/1\",\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":-1,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":1.0,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":1e3,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":\"1\",\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":9007199254740992,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":99999999999999999999999,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":{}}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[1]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[]} x", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0,\"clock\":0,\"items\":[]}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[],\"x\":{\"y\":[1.5]}}", MSD_ERR_MEM_MALFORMED},
    {"{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[],\"x\":-0.0}", MSD_ERR_MEM_MALFORMED},
    /* items */
    {DOC_OF("{" FACT_FIELDS ",\"kind\":\"fact\"}"), MSD_ERR_MEM_MALFORMED}, /* duplicate key */
    {DOC_OF("{" FACT_FIELDS "},{" FACT_FIELDS "}"), MSD_ERR_MEM_MALFORMED}, /* duplicate id */
    {DOC_OF("{" FACT_FIELDS "},{\"id\":\"" ID2 "\",\"del\":1,\"t\":[1,\"" DEVA "\"]}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID2 "\",\"del\":1,\"t\":[1,\"" DEVA "\"]},{\"id\":\"" ID2 "\",\"del\":1,\"t\":[2,\"" DEVA
            "\"]}"),
     MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"zz\":0.5}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"zz\":{\"a\":[{\"b\":2.0}]}}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"etype\":\"x\"}"), MSD_ERR_MEM_MALFORMED}, /* a key of another kind */
    {DOC_OF("{" FACT_FIELDS ",\"from\":\"x\"}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"del\":1}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"of\":\"" ID1 "x\"}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"entity\":\"\"}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"src\":{}}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"src\":{\"kind\":\"other\"}}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"src\":{\"kind\":\"self\",\"tool\":\"\"}}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"src\":{\"kind\":\"self\",\"tool\":7}}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"src\":{\"kind\":\"self\",\"q\":1.25}}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{" FACT_FIELDS ",\"src\":\"self\"}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID2 "\",\"kind\":\"note\",\"text\":\"t\",\"c\":[1,\"" DEVA "\"],\"t\":[1,\"" DEVA "\"]}"),
     MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID2 "\",\"text\":\"t\",\"c\":[1,\"" DEVA "\"],\"t\":[1,\"" DEVA "\"]}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID2 "\",\"kind\":\"entity\",\"text\":\"t\",\"c\":[1,\"" DEVA "\"],\"t\":[1,\"" DEVA "\"]}"),
     MSD_ERR_MEM_MALFORMED}, /* entity without etype */
    {DOC_OF("{\"id\":\"" ID2 "\",\"kind\":\"relation\",\"text\":\"t\",\"from\":\"a\",\"c\":[1,\"" DEVA "\"],\"t\":[1,\"" DEVA
            "\"]}"),
     MSD_ERR_MEM_MALFORMED}, /* relation without to */
    {DOC_OF("{\"id\":\"" ID2 "\",\"kind\":\"entity\",\"text\":\"t\",\"etype\":\"p\",\"of\":\"" ID1 "\",\"c\":[1,\"" DEVA
            "\"],\"t\":[1,\"" DEVA "\"]}"),
     MSD_ERR_MEM_MALFORMED}, /* "of" only on facts */
    /* tombstones */
    {DOC_OF("{\"id\":\"" ID1 "\",\"del\":1,\"t\":[1,\"" DEVA "\"],\"text\":\"x\"}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID1 "\",\"del\":2,\"t\":[1,\"" DEVA "\"]}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID1 "\",\"del\":true,\"t\":[1,\"" DEVA "\"]}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID1 "\",\"del\":1}"), MSD_ERR_MEM_MALFORMED},
    {DOC_OF("{\"id\":\"" ID1 "\",\"del\":1,\"x\":[1,\"" DEVA "\"]}"), MSD_ERR_MEM_MALFORMED},
};

/* Field replacements in the full fact, each malformed. */
static const char *const bad_fields[][2] = {
    {"\"id\":\"" ID2 "\"", "\"id\":\"2222222222222222222222222222222A\""},
    {"\"id\":\"" ID2 "\"", "\"id\":\"222222222222222222222222222222\""},
    {"\"id\":\"" ID2 "\"", "\"id\":\"22222222222222222222222222222g22\""},
    {"\"id\":\"" ID2 "\"", "\"id\":2"},
    {"\"text\":\"t\"", "\"text\":\"\""},
    {"\"text\":\"t\"", "\"text\":1"},
    {"\"text\":\"t\"", "\"text\":null"},
    {"\"text\":\"t\"", "\"text\":\"a\\u0000b\""},
    {"\"text\":\"t\"", "\"text\":\"\\ud800\""},
    {"\"text\":\"t\"", "\"text\":\"\xff\""},
    {"\"text\":\"t\"", "\"text\":\"\xc0\xaf\""},
    {"\"cat\":[\"career\"]", "\"cat\":[]"},
    {"\"cat\":[\"career\"]", "\"cat\":[\"bogus\"]"},
    {"\"cat\":[\"career\"]", "\"cat\":[\"Career\"]"},
    {"\"cat\":[\"career\"]", "\"cat\":[\"career\",\"career\"]"},
    {"\"cat\":[\"career\"]", "\"cat\":\"career\""},
    {"\"cat\":[\"career\"]", "\"cat\":[1]"},
    {"\"type\":\"semantic\"", "\"type\":\"Semantic\""},
    {"\"type\":\"semantic\"", "\"type\":1"},
    {"\"imp\":5", "\"imp\":101"},
    {"\"imp\":5", "\"imp\":-1"},
    {"\"imp\":5", "\"imp\":5.0"},
    {"\"imp\":5", "\"imp\":true"},
    {"\"imp\":5", "\"imp\":\"5\""},
    {"\"c\":[1,", "\"c\":[0,"},
    {"\"c\":[1,", "\"c\":[-1,"},
    {"\"c\":[1,", "\"c\":[9007199254740992,"},
    {"\"c\":[1,", "\"c\":[1.0,"},
    {"\"t\":[1,\"" DEVA "\"]", "\"t\":[1,\"01020304050607\"]"},
    {"\"t\":[1,\"" DEVA "\"]", "\"t\":[1,\"010203040506070G\"]"},
    {"\"t\":[1,\"" DEVA "\"]", "\"t\":[1,\"" DEVA "\",2]"},
    {"\"t\":[1,\"" DEVA "\"]", "\"t\":[1]"},
    {"\"t\":[1,\"" DEVA "\"]", "\"t\":{\"1\":\"" DEVA "\"}"},
    {"\"kind\":\"fact\"", "\"kind\":\"FACT\""},
    {"\"kind\":\"fact\"", "\"kind\":null"},
};

static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    cr_assert_not_null(p, "%s not in %s", from, s);
    const size_t a = (size_t)(p - s), nf = strlen(from), nt = strlen(to), n = strlen(s);
    char *r = malloc(n - nf + nt + 1);
    memcpy(r, s, a);
    memcpy(r + a, to, nt);
    memcpy(r + a + nt, p + nf, n - a - nf + 1);
    return r;
}

Test(mem_doc, malformed_inputs)
{
    /* The base case parses. */
    msd_mem_doc *ok = mt_parse(DOC_OF("{" FACT_FIELDS "}"));
    msd_mem_free(ok);
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
        cr_assert_eq(mt_parse_status(bad_cases[i].json), bad_cases[i].want, "case %zu: %s", i, bad_cases[i].json);
    for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
        char *j = replace(DOC_OF("{" FACT_FIELDS "}"), bad_fields[i][0], bad_fields[i][1]);
        cr_assert_eq(mt_parse_status(j), MSD_ERR_MEM_MALFORMED, "field %zu: %s", i, j);
        free(j);
    }
    /* Every proper prefix of a valid document is malformed. */
    static const char full[] = DOC_OF("{" FACT_FIELDS "}");
    for (size_t n = 0; n + 1 < sizeof full; n++) {
        msd_mem_doc *d = NULL;
        cr_assert_eq(msd_mem_parse(&d, (const uint8_t *)full, n), MSD_ERR_MEM_MALFORMED, "prefix %zu", n);
        cr_assert_null(d);
    }
    msd_mem_doc *d = (msd_mem_doc *)1;
    cr_assert_eq(msd_mem_parse(&d, NULL, 3), MSD_ERR_ARGS);
    cr_assert_null(d);
    cr_assert_eq(msd_mem_parse(NULL, (const uint8_t *)"{}", 2), MSD_ERR_ARGS);
}

Test(mem_doc, accepted_variations)
{
    /* Any key order, whitespace, category order, empty entity type, and a
     * text exactly at the cap. */
    char *text = malloc(MSD_MEM_MAX_TEXT + 1);
    memset(text, 'a', MSD_MEM_MAX_TEXT);
    text[MSD_MEM_MAX_TEXT] = '\0';
    char *json = malloc(2 * MSD_MEM_MAX_TEXT);
    snprintf(json, 2 * MSD_MEM_MAX_TEXT,
             "{ \"items\" : [ {\"t\":[7,\"" DEVA "\"],\"c\":[1,\"" DEVA "\"],\"imp\":0,\"type\":\"episodic\","
             "\"cat\":[\"private\",\"identity\",\"travel\"],\"text\":\"%s\",\"kind\":\"fact\",\"id\":\"" ID1 "\"},"
             "{\"id\":\"" ID2 "\",\"kind\":\"entity\",\"text\":\"E\",\"etype\":\"\",\"c\":[2,\"" DEVA "\"],\"t\":[2,\"" DEVA
             "\"]},"
             "{\"id\":\"" ID3 "\",\"kind\":\"relation\",\"text\":\"knows\",\"from\":\"E\",\"to\":\"F\",\"c\":[3,\"" DEVA
             "\"],\"t\":[3,\"" DEVA "\"],\"src\":{\"kind\":\"import\",\"xid\":\"r-1\",\"w\":[1,{\"z\":null}]}}"
             "], \"clock\" : 0, \"format\" : \"memsync.memory/1\" }",
             text);
    msd_mem_doc *d = mt_parse(json);
    cr_assert_eq(msd_mem_clock(d), 7);
    msd_mem_item it;
    cr_assert_eq(msd_mem_item_at(d, 0, &it), MSD_OK);
    cr_assert_eq(it.categories, MSD_CAT_PRIVATE | MSD_CAT_IDENTITY | MSD_CAT_TRAVEL);
    cr_assert_eq(it.type, MSD_MEM_EPISODIC);
    cr_assert_eq(strlen(it.text), MSD_MEM_MAX_TEXT);
    cr_assert_eq(msd_mem_item_at(d, 2, &it), MSD_OK);
    cr_assert_eq(it.kind, MSD_MEM_RELATION);
    cr_assert_eq(it.imported, 1);
    cr_assert_null(it.tool);
    char *s = mt_bytes(d, NULL);
    cr_assert(strstr(s, "\"cat\":[\"identity\",\"travel\",\"private\"]") != NULL);
    cr_assert(strstr(s, "\"src\":{\"kind\":\"import\",\"w\":[1,{\"z\":null}],\"xid\":\"r-1\"}") != NULL);
    free(s);
    msd_mem_free(d);
    /* One byte over the text cap is malformed. */
    char *t2 = malloc(MSD_MEM_MAX_TEXT + 2);
    memset(t2, 'b', MSD_MEM_MAX_TEXT + 1);
    t2[MSD_MEM_MAX_TEXT + 1] = '\0';
    char *j2 = replace(DOC_OF("{" FACT_FIELDS "}"), "\"text\":\"t\"", "\"text\":\"@\"");
    char *j3 = replace(j2, "@", t2);
    cr_assert_eq(mt_parse_status(j3), MSD_ERR_MEM_MALFORMED);
    free(j2);
    free(j3);
    free(t2);
    free(text);
    free(json);
}

Test(mem_doc, caps_on_parse)
{
    /* Over MSD_MEM_MAX_DOC bytes: refused before decoding. */
    const size_t n = (size_t)MSD_MEM_MAX_DOC + 1;
    uint8_t *big = malloc(n);
    cr_assert_not_null(big);
    memset(big, ' ', n);
    static const char head[] = "{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[]}";
    memcpy(big, head, sizeof head - 1);
    msd_mem_doc *d = NULL;
    cr_assert_eq(msd_mem_parse(&d, big, n), MSD_ERR_MEM_MALFORMED);
    cr_assert_eq(msd_mem_parse(&d, big, n - 1), MSD_OK); /* trailing spaces are JSON whitespace */
    msd_mem_free(d);
    free(big);
    /* More than MSD_MEM_MAX_ITEMS items. */
    const size_t items = (size_t)MSD_MEM_MAX_ITEMS + 1;
    const size_t len = 64 + items * 3;
    char *j = malloc(len);
    size_t o = (size_t)snprintf(j, len, "{\"format\":\"memsync.memory/1\",\"clock\":0,\"items\":[");
    for (size_t i = 0; i < items; i++) {
        memcpy(j + o, i ? ",{}" : "{}", i ? 3 : 2);
        o += i ? 3 : 2;
    }
    memcpy(j + o, "]}", 3);
    cr_assert_eq(msd_mem_parse(&d, (const uint8_t *)j, o + 2), MSD_ERR_MEM_MALFORMED);
    cr_assert_null(d);
    free(j);
}

/* A document of exactly MSD_MEM_MAX_ITEMS tombstones takes no new item. */
Test(mem_doc, item_cap_on_add, .timeout = 60)
{
    const size_t items = MSD_MEM_MAX_ITEMS;
    const size_t len = 64 + items * 80;
    char *j = malloc(len);
    size_t o = (size_t)snprintf(j, len, "{\"format\":\"memsync.memory/1\",\"clock\":1,\"items\":[");
    for (size_t i = 0; i < items; i++)
        o += (size_t)snprintf(j + o, len - o, "%s{\"id\":\"%032zx\",\"del\":1,\"t\":[1,\"" DEVA "\"]}", i ? "," : "", i);
    o += (size_t)snprintf(j + o, len - o, "]}");
    msd_mem_doc *d = NULL;
    cr_assert_eq(msd_mem_parse(&d, (const uint8_t *)j, o), MSD_OK);
    free(j);
    cr_assert_eq(msd_mem_tombstones(d), items);
    msd_mem_fact_in in = {.text = "x", .categories = MSD_CAT_CAREER, .type = MSD_MEM_SEMANTIC, .importance = 1};
    cr_assert_eq(msd_mem_add_fact(d, NULL, &in, mt_dev(1)), MSD_ERR_MEM_TOO_LARGE);
    int changed = 1;
    cr_assert_eq(msd_mem_graph_add_entity(d, "E", "t", NULL, 0, mt_dev(1), &changed), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(changed, 0);
    cr_assert_eq(msd_mem_count(d), 0);
    msd_mem_free(d);
}

Test(mem_doc, add_edit_forget_stamps)
{
    msd_mem_doc *d = mt_new();
    uint8_t a[16], b[16];
    msd_mem_fact_in in = {.text = "likes tea",
                          .categories = MSD_CAT_INTERESTS | MSD_CAT_HEALTH,
                          .type = MSD_MEM_EPISODIC,
                          .importance = 80,
                          .entity = "Me",
                          .tool = "cursor",
                          .imported = 1,
                          .foreign_id = "om-17"};
    cr_assert_eq(msd_mem_add_fact(d, a, &in, mt_dev(3)), MSD_OK);
    cr_assert_eq(msd_mem_clock(d), 1);
    msd_mem_item it;
    cr_assert_eq(msd_mem_find(d, a, &it), MSD_OK);
    cr_assert_eq(it.created.counter, 1);
    cr_assert_eq(memcmp(it.created.device, mt_dev(3), 8), 0);
    cr_assert_eq(mt_same(d, d), 1);
    cr_assert_eq(it.updated.counter, 1);
    cr_assert_str_eq(it.text, "likes tea");
    cr_assert_str_eq(it.entity, "Me");
    cr_assert_str_eq(it.tool, "cursor");
    cr_assert_eq(it.imported, 1);
    cr_assert_eq(it.type, MSD_MEM_EPISODIC);
    cr_assert_eq(it.has_conflict_of, 0);
    char *s = mt_bytes(d, NULL);
    cr_assert(strstr(s, "\"src\":{\"kind\":\"import\",\"tool\":\"cursor\",\"xid\":\"om-17\"}") != NULL, "%s", s);
    free(s);
    mt_add(d, b, "works at ACME", MSD_CAT_CAREER, 4);
    cr_assert_eq(msd_mem_clock(d), 2);
    /* Edit: new t, c kept, clock + 1. */
    cr_assert_eq(msd_mem_edit_fact(d, a, "likes green tea", 0, -1, mt_dev(5)), MSD_OK);
    cr_assert_eq(msd_mem_find(d, a, &it), MSD_OK);
    cr_assert_str_eq(it.text, "likes green tea");
    cr_assert_eq(it.created.counter, 1);
    cr_assert_eq(it.updated.counter, 3);
    cr_assert_eq(memcmp(it.updated.device, mt_dev(5), 8), 0);
    cr_assert_eq(it.categories, MSD_CAT_INTERESTS | MSD_CAT_HEALTH);
    cr_assert_eq(it.importance, 80);
    cr_assert_eq(msd_mem_edit_fact(d, a, NULL, MSD_CAT_PRIVATE, 0, mt_dev(5)), MSD_OK);
    cr_assert_eq(msd_mem_find(d, a, &it), MSD_OK);
    cr_assert_eq(it.categories, MSD_CAT_PRIVATE);
    cr_assert_eq(it.importance, 0);
    cr_assert_eq(msd_mem_clock(d), 4);
    /* [MEM-18]: an edit that changes nothing takes no stamp. */
    char *before = mt_bytes(d, NULL);
    cr_assert_eq(msd_mem_edit_fact(d, a, "likes green tea", MSD_CAT_PRIVATE, 0, mt_dev(6)), MSD_OK);
    cr_assert_eq(msd_mem_edit_fact(d, a, NULL, 0, -1, mt_dev(6)), MSD_OK);
    char *after = mt_bytes(d, NULL);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    /* Forget: a tombstone with the new stamp, nothing else. */
    cr_assert_eq(msd_mem_forget(d, a, mt_dev(7)), MSD_OK);
    cr_assert_eq(msd_mem_clock(d), 5);
    cr_assert_eq(msd_mem_count(d), 1);
    cr_assert_eq(msd_mem_tombstones(d), 1);
    cr_assert(msd_mem_is_forgotten(d, a));
    cr_assert(!msd_mem_is_forgotten(d, b));
    cr_assert_eq(msd_mem_find(d, a, &it), MSD_ERR_MEM_NOT_FOUND);
    s = mt_bytes(d, NULL);
    cr_assert(strstr(s, "green") == NULL);
    cr_assert(strstr(s, "om-17") == NULL);
    char want[128];
    char hex[33];
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", a[i]);
    snprintf(want, sizeof want, "{\"del\":1,\"id\":\"%s\",\"t\":[5,\"d0d0d0d0d0d0d007\"]}", hex);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    free(s);
    /* Forgotten and unknown ids. */
    cr_assert_eq(msd_mem_forget(d, a, mt_dev(7)), MSD_ERR_MEM_NOT_FOUND);
    cr_assert_eq(msd_mem_edit_fact(d, a, "x", 0, -1, mt_dev(7)), MSD_ERR_MEM_NOT_FOUND);
    uint8_t none[16] = {0};
    cr_assert_eq(msd_mem_edit_fact(d, none, "x", 0, -1, mt_dev(7)), MSD_ERR_MEM_NOT_FOUND);
    cr_assert_eq(msd_mem_forget(d, none, mt_dev(7)), MSD_ERR_MEM_NOT_FOUND);
    cr_assert_eq(msd_mem_clock(d), 5);
    msd_mem_free(d);
}

Test(mem_doc, change_errors)
{
    msd_mem_doc *d = mt_new();
    msd_mem_fact_in in = {.text = "ok", .categories = MSD_CAT_CAREER, .type = MSD_MEM_SEMANTIC, .importance = 50};
    const uint8_t *dev = mt_dev(1);
    uint8_t id[16];
    cr_assert_eq(msd_mem_add_fact(NULL, id, &in, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_add_fact(d, id, NULL, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_add_fact(d, id, &in, NULL), MSD_ERR_ARGS);
    char *big = malloc(MSD_MEM_MAX_TEXT + 2);
    memset(big, 'x', MSD_MEM_MAX_TEXT + 1);
    big[MSD_MEM_MAX_TEXT + 1] = '\0';
    char tool[MSD_MEM_MAX_TOOL + 2];
    memset(tool, 'k', sizeof tool - 1);
    tool[sizeof tool - 1] = '\0';
    struct {
        msd_mem_fact_in in;
        msd_status want;
    } cases[] = {
        {{.text = NULL, .categories = 1, .type = 1}, MSD_ERR_ARGS},
        {{.text = "", .categories = 1, .type = 1}, MSD_ERR_ARGS},
        {{.text = "\xff", .categories = 1, .type = 1}, MSD_ERR_ARGS},
        {{.text = "a\xc0\xaf", .categories = 1, .type = 1}, MSD_ERR_ARGS},      /* overlong */
        {{.text = "\xed\xa0\x80", .categories = 1, .type = 1}, MSD_ERR_ARGS},   /* surrogate */
        {{.text = "\xf4\x90\x80\x80", .categories = 1, .type = 1}, MSD_ERR_ARGS}, /* > U+10FFFF */
        {{.text = "\xe2\x82", .categories = 1, .type = 1}, MSD_ERR_ARGS},       /* truncated */
        {{.text = big, .categories = 1, .type = 1}, MSD_ERR_MEM_TOO_LARGE},
        {{.text = "t", .categories = 0, .type = 1}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 0x400, .type = 1}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 0}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 3}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 1, .importance = 101}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 1, .tool = tool}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 1, .tool = ""}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 1, .entity = ""}, MSD_ERR_ARGS},
        {{.text = "t", .categories = 1, .type = 1, .entity = big}, MSD_ERR_MEM_TOO_LARGE},
        {{.text = "t", .categories = 1, .type = 1, .foreign_id = "\xff"}, MSD_ERR_ARGS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(msd_mem_add_fact(d, id, &cases[i].in, dev), cases[i].want, "case %zu", i);
    cr_assert_eq(msd_mem_count(d), 0);
    cr_assert_eq(msd_mem_clock(d), 0);
    /* At the cap exactly, and multi-byte UTF-8, are fine. */
    big[MSD_MEM_MAX_TEXT] = '\0';
    in.text = big;
    cr_assert_eq(msd_mem_add_fact(d, NULL, &in, dev), MSD_OK);
    in.text = "caf\xc3\xa9 \xf0\x9f\x8d\xb5";
    cr_assert_eq(msd_mem_add_fact(d, id, &in, dev), MSD_OK);
    tool[MSD_MEM_MAX_TOOL] = '\0';
    in.tool = tool;
    cr_assert_eq(msd_mem_add_fact(d, NULL, &in, dev), MSD_OK);
    /* Edit errors leave the fact as it was. */
    big[MSD_MEM_MAX_TEXT] = 'x';
    cr_assert_eq(msd_mem_edit_fact(d, id, big, 0, -1, dev), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_edit_fact(d, id, "", 0, -1, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(d, id, "\xff", 0, -1, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(d, id, NULL, 0x800, -1, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(d, id, NULL, 0, 101, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(d, id, NULL, 0, -2, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(NULL, id, NULL, 0, 1, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(d, NULL, NULL, 0, 1, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_edit_fact(d, id, NULL, 0, 1, NULL), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_forget(d, NULL, dev), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_forget(d, id, NULL), MSD_ERR_ARGS);
    msd_mem_item it;
    cr_assert_eq(msd_mem_find(d, id, &it), MSD_OK);
    cr_assert_str_eq(it.text, "caf\xc3\xa9 \xf0\x9f\x8d\xb5");
    cr_assert_eq(msd_mem_clock(d), 3);
    /* An entity is not a fact: edit_fact does not find it. */
    int changed = 0;
    cr_assert_eq(msd_mem_graph_add_entity(d, "Ada", "person", NULL, 0, dev, &changed), MSD_OK);
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        if (it.kind == MSD_MEM_ENTITY) {
            uint8_t eid[16];
            memcpy(eid, it.id, 16);
            cr_assert_eq(msd_mem_edit_fact(d, eid, "x", 0, -1, dev), MSD_ERR_MEM_NOT_FOUND);
        }
    }
    free(big);
    msd_mem_free(d);
}

Test(mem_doc, clock_limit)
{
    msd_mem_doc *d = mt_parse("{\"format\":\"memsync.memory/1\",\"clock\":9007199254740990,\"items\":[]}");
    uint8_t id[16];
    mt_add(d, id, "last", 0, 1);
    cr_assert_eq(msd_mem_clock(d), 9007199254740991u);
    msd_mem_fact_in in = {.text = "x", .categories = 1, .type = 1};
    cr_assert_eq(msd_mem_add_fact(d, NULL, &in, mt_dev(1)), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_edit_fact(d, id, "y", 0, -1, mt_dev(1)), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_forget(d, id, mt_dev(1)), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_count(d), 1);
    /* It still round-trips. */
    char *s = mt_bytes(d, NULL);
    msd_mem_doc *e = mt_parse(s);
    cr_assert(mt_same(d, e));
    free(s);
    msd_mem_free(d);
    msd_mem_free(e);
}

Test(mem_doc, order_find_clone)
{
    msd_mem_doc *d = mt_new();
    uint8_t ids[50][16];
    for (int i = 0; i < 50; i++) {
        char t[32];
        snprintf(t, sizeof t, "fact %d", i);
        mt_add(d, ids[i], t, 0, 1);
    }
    for (int i = 0; i < 50; i += 3) cr_assert_eq(msd_mem_forget(d, ids[i], mt_dev(2)), MSD_OK);
    cr_assert_eq(msd_mem_count(d), 33);
    cr_assert_eq(msd_mem_tombstones(d), 17);
    msd_mem_item prev, it;
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        if (i > 0) cr_assert_lt(memcmp(prev.id, it.id, 16), 0);
        prev = it;
    }
    for (int i = 0; i < 50; i++) {
        const msd_status st = msd_mem_find(d, ids[i], &it);
        cr_assert_eq(st, i % 3 == 0 ? MSD_ERR_MEM_NOT_FOUND : MSD_OK);
        cr_assert_eq(msd_mem_is_forgotten(d, ids[i]), i % 3 == 0);
    }
    msd_mem_doc *c = mt_clone(d);
    cr_assert(mt_same(c, d));
    cr_assert_eq(msd_mem_edit_fact(c, ids[1], "changed", 0, -1, mt_dev(3)), MSD_OK);
    cr_assert(!mt_same(c, d));
    cr_assert_eq(msd_mem_find(d, ids[1], &it), MSD_OK);
    cr_assert_str_eq(it.text, "fact 1");
    msd_mem_doc *o = (msd_mem_doc *)1;
    cr_assert_eq(msd_mem_clone(&o, NULL), MSD_ERR_ARGS);
    cr_assert_null(o);
    cr_assert_eq(msd_mem_new(NULL), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_item_at(NULL, 0, &it), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_find(d, NULL, &it), MSD_ERR_ARGS);
    msd_mem_free(NULL);
    msd_mem_free(c);
    msd_mem_free(d);
}

Test(mem_doc, unknown_fields_survive_edits)
{
    msd_mem_doc *d = mt_parse(DOC_OF("{" FACT_FIELDS ",\"zz\":{\"k\":[1,\"v\"]},\"src\":{\"kind\":\"self\",\"q\":7}}"));
    uint8_t id[16];
    memset(id, 0x22, 16);
    cr_assert_eq(msd_mem_edit_fact(d, id, "new text", MSD_CAT_HEALTH, 9, mt_dev(1)), MSD_OK);
    char *s = mt_bytes(d, NULL);
    cr_assert(strstr(s, "\"zz\":{\"k\":[1,\"v\"]}") != NULL, "%s", s);
    cr_assert(strstr(s, "\"src\":{\"kind\":\"self\",\"q\":7}") != NULL, "%s", s);
    cr_assert(strstr(s, "\"text\":\"new text\"") != NULL, "%s", s);
    free(s);
    cr_assert_eq(msd_mem_forget(d, id, mt_dev(1)), MSD_OK);
    s = mt_bytes(d, NULL);
    cr_assert(strstr(s, "zz") == NULL);
    free(s);
    msd_mem_free(d);
}

Test(mem_doc, categories)
{
    static const char *const names[] = {"identity", "career",   "interests", "relationships", "health",
                                        "finance",  "learning", "travel",    "productivity",  "private"};
    for (unsigned i = 0; i < MSD_CAT_COUNT; i++) {
        cr_assert_str_eq(msd_mem_category_name(i), names[i]);
        cr_assert_eq(msd_mem_category_bit(names[i]), 1u << i);
    }
    cr_assert_eq(MSD_CAT_PRIVATE, 1u << 9);
    cr_assert_null(msd_mem_category_name(10));
    cr_assert_null(msd_mem_category_name(~0u));
    cr_assert_eq(msd_mem_category_bit("Career"), 0);
    cr_assert_eq(msd_mem_category_bit("careers"), 0);
    cr_assert_eq(msd_mem_category_bit(""), 0);
    cr_assert_eq(msd_mem_category_bit(NULL), 0);
}
