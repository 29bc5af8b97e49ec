/* The knowledge graph with the official memory server's semantics
 * (spec/memory.md §6, [MEM-40]..[MEM-52]). */
#include "mem_test.h"

TestSuite(mem_graph, .init = mt_init);

static char *gjson(const msd_mem_doc *d, const char *query, const char *const *names, size_t n, int priv)
{
    char *j = NULL;
    cr_assert_eq(msd_mem_graph_json(&j, d, query, names, n, priv), MSD_OK);
    cr_assert_not_null(j);
    return j;
}

static void expect_graph(const msd_mem_doc *d, const char *query, const char *const *names, size_t n, int priv,
                         const char *want)
{
    char *j = gjson(d, query, names, n, priv);
    cr_assert_str_eq(j, want);
    free(j);
}

static int add_entity(msd_mem_doc *d, const char *name, const char *type, unsigned dev)
{
    int ch = -1;
    cr_assert_eq(msd_mem_graph_add_entity(d, name, type, "claude", 0, mt_dev(dev), &ch), MSD_OK, "%s", name);
    return ch;
}

static int add_obs(msd_mem_doc *d, const char *name, const char *text, unsigned dev)
{
    int ch = -1;
    cr_assert_eq(msd_mem_graph_add_observation(d, name, text, NULL, 0, mt_dev(dev), &ch), MSD_OK, "%s", text);
    return ch;
}

static int add_rel(msd_mem_doc *d, const char *from, const char *to, const char *type, unsigned dev)
{
    int ch = -1;
    cr_assert_eq(msd_mem_graph_add_relation(d, from, to, type, NULL, 0, mt_dev(dev), &ch), MSD_OK);
    return ch;
}

/* The example graph: Ada works at ACME, knows Bob. */
static msd_mem_doc *example(void)
{
    msd_mem_doc *d = mt_new();
    cr_assert_eq(add_entity(d, "Ada", "person", 1), 1);
    cr_assert_eq(add_entity(d, "ACME", "organization", 1), 1);
    cr_assert_eq(add_entity(d, "Bob", "person", 1), 1);
    cr_assert_eq(add_obs(d, "Ada", "Drinks green tea", 1), 1);
    cr_assert_eq(add_obs(d, "Ada", "Writes Rust", 1), 1);
    cr_assert_eq(add_obs(d, "Bob", "Plays chess", 1), 1);
    cr_assert_eq(add_rel(d, "Ada", "ACME", "works_at", 1), 1);
    cr_assert_eq(add_rel(d, "Ada", "Bob", "knows", 1), 1);
    return d;
}

#define ADA "{\"name\":\"Ada\",\"entityType\":\"person\",\"observations\":[\"Drinks green tea\",\"Writes Rust\"]}"
#define ACME "{\"name\":\"ACME\",\"entityType\":\"organization\",\"observations\":[]}"
#define BOB "{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"Plays chess\"]}"
#define WORKS "{\"from\":\"Ada\",\"to\":\"ACME\",\"relationType\":\"works_at\"}"
#define KNOWS "{\"from\":\"Ada\",\"to\":\"Bob\",\"relationType\":\"knows\"}"

Test(mem_graph, read_graph_in_creation_order)
{
    msd_mem_doc *d = example();
    expect_graph(d, NULL, NULL, 0, 0, "{\"entities\":[" ADA "," ACME "," BOB "],\"relations\":[" WORKS "," KNOWS "]}");
    /* The items behind it ([MEM-40], [MEM-43]). */
    cr_assert_eq(msd_mem_count(d), 8);
    msd_mem_item it;
    int obs = 0;
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        if (it.kind == MSD_MEM_FACT) {
            obs++;
            cr_assert_not_null(it.entity);
            cr_assert_eq(it.categories, MSD_CAT_IDENTITY);
            cr_assert_eq(it.type, MSD_MEM_SEMANTIC);
            cr_assert_eq(it.importance, 50);
        } else if (it.kind == MSD_MEM_ENTITY) {
            cr_assert_str_eq(it.tool, "claude");
            cr_assert_not_null(it.entity_type);
        } else {
            cr_assert_not_null(it.from);
            cr_assert_not_null(it.to);
        }
    }
    cr_assert_eq(obs, 3);
    /* It round-trips. */
    char *s = mt_bytes(d, NULL);
    msd_mem_doc *e = mt_parse(s);
    expect_graph(e, NULL, NULL, 0, 0, "{\"entities\":[" ADA "," ACME "," BOB "],\"relations\":[" WORKS "," KNOWS "]}");
    free(s);
    msd_mem_free(e);
    msd_mem_free(d);
}

Test(mem_graph, duplicates_are_no_change)
{
    msd_mem_doc *d = example();
    char *before = mt_bytes(d, NULL);
    /* createEntities skips existing names, keeping the old type. */
    cr_assert_eq(add_entity(d, "Ada", "robot", 2), 0);
    cr_assert_eq(add_obs(d, "Ada", "Writes Rust", 2), 0);
    cr_assert_eq(add_rel(d, "Ada", "ACME", "works_at", 2), 0);
    char *after = mt_bytes(d, NULL);
    cr_assert_str_eq(before, after);
    /* Names compare exactly. */
    cr_assert_eq(add_entity(d, "ada", "person", 2), 1);
    cr_assert_eq(add_obs(d, "Ada", "writes rust", 2), 1);
    cr_assert_eq(add_rel(d, "Ada", "ACME", "Works_at", 2), 1);
    free(before);
    free(after);
    msd_mem_free(d);
}

Test(mem_graph, errors)
{
    msd_mem_doc *d = example();
    const uint8_t *dev = mt_dev(1);
    int ch = 7;
    /* addObservations / createRelations throw on an unknown entity. */
    cr_assert_eq(msd_mem_graph_add_observation(d, "Nobody", "x", NULL, 0, dev, &ch), MSD_ERR_MEM_NOT_FOUND);
    cr_assert_eq(ch, 0);
    cr_assert_eq(msd_mem_graph_add_relation(d, "Ada", "Nobody", "knows", NULL, 0, dev, &ch), MSD_ERR_MEM_NOT_FOUND);
    cr_assert_eq(msd_mem_graph_add_relation(d, "Nobody", "Ada", "knows", NULL, 0, dev, &ch), MSD_ERR_MEM_NOT_FOUND);
    char *big = malloc(MSD_MEM_MAX_TEXT + 2);
    memset(big, 'n', MSD_MEM_MAX_TEXT + 1);
    big[MSD_MEM_MAX_TEXT + 1] = '\0';
    cr_assert_eq(msd_mem_graph_add_entity(d, big, "t", NULL, 0, dev, &ch), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_graph_add_entity(d, "E", big, NULL, 0, dev, &ch), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_graph_add_observation(d, "Ada", big, NULL, 0, dev, &ch), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_graph_add_relation(d, "Ada", "Bob", big, NULL, 0, dev, &ch), MSD_ERR_MEM_TOO_LARGE);
    cr_assert_eq(msd_mem_graph_add_entity(d, "", "t", NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_entity(d, NULL, "t", NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_entity(d, "E", NULL, NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_entity(d, "\xff", "t", NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_entity(d, "E", "t", "", 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_entity(d, "E", "t", NULL, 0, NULL, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_entity(NULL, "E", "t", NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_observation(d, "Ada", "", NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_add_relation(d, "Ada", "Bob", "", NULL, 0, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_delete_entity(d, NULL, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_delete_observation(d, "Ada", NULL, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_delete_relation(d, "Ada", "Bob", NULL, dev, &ch), MSD_ERR_ARGS);
    cr_assert_eq(ch, 0);
    /* An empty entity type is allowed (the official schema is any string). */
    cr_assert_eq(msd_mem_graph_add_entity(d, "Untyped", "", NULL, 0, dev, NULL), MSD_OK);
    char *j = NULL;
    cr_assert_eq(msd_mem_graph_json(NULL, d, NULL, NULL, 0, 0), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_json(&j, NULL, NULL, NULL, 0, 0), MSD_ERR_ARGS);
    const char *names[] = {"Ada"};
    cr_assert_eq(msd_mem_graph_json(&j, d, "x", names, 1, 0), MSD_ERR_ARGS);
    cr_assert_eq(msd_mem_graph_json(&j, d, NULL, NULL, 1, 0), MSD_ERR_ARGS);
    const char *bad[] = {"Ada", NULL};
    cr_assert_eq(msd_mem_graph_json(&j, d, NULL, bad, 2, 0), MSD_ERR_ARGS);
    cr_assert_null(j);
    free(big);
    msd_mem_free(d);
}

Test(mem_graph, search_nodes)
{
    msd_mem_doc *d = example();
    /* Case-insensitive over observations: Ada, with every relation touching her. */
    expect_graph(d, "GREEN TEA", NULL, 0, 0, "{\"entities\":[" ADA "],\"relations\":[" WORKS "," KNOWS "]}");
    /* Over the type: both persons; relations with at least one end among them. */
    expect_graph(d, "Person", NULL, 0, 0, "{\"entities\":[" ADA "," BOB "],\"relations\":[" WORKS "," KNOWS "]}");
    /* Over the name. */
    expect_graph(d, "acm", NULL, 0, 0, "{\"entities\":[" ACME "],\"relations\":[" WORKS "]}");
    expect_graph(d, "chess", NULL, 0, 0, "{\"entities\":[" BOB "],\"relations\":[" KNOWS "]}");
    expect_graph(d, "nothing like it", NULL, 0, 0, "{\"entities\":[],\"relations\":[]}");
    /* "".includes("") is true: every entity. */
    expect_graph(d, "", NULL, 0, 0, "{\"entities\":[" ADA "," ACME "," BOB "],\"relations\":[" WORKS "," KNOWS "]}");
    msd_mem_free(d);
}

/* [MEM-50]: the fold of spec/memory-search.md [MSR-1] on both sides, so
 * capitals of Latin, Greek and Cyrillic letters match small ones. */
Test(mem_graph, search_nodes_folds_european_letters)
{
    msd_mem_doc *d = mt_new();
    cr_assert_eq(add_entity(d, "Élodie Martin", "personne", 1), 1);
    cr_assert_eq(add_entity(d, "Ωμέγα", "ΕΤΑΙΡΕΙΑ", 1), 1);
    cr_assert_eq(add_obs(d, "Élodie Martin", "Живёт в МОСКВЕ", 1), 1);
    cr_assert_eq(add_rel(d, "Élodie Martin", "Ωμέγα", "works_at", 1), 1);
#define ELODIE "{\"name\":\"Élodie Martin\",\"entityType\":\"personne\",\"observations\":[\"Живёт в МОСКВЕ\"]}"
#define OMEGA "{\"name\":\"Ωμέγα\",\"entityType\":\"ΕΤΑΙΡΕΙΑ\",\"observations\":[]}"
#define OMEGA_REL "{\"from\":\"Élodie Martin\",\"to\":\"Ωμέγα\",\"relationType\":\"works_at\"}"
    const char *const elodie[] = {"élodie", "ÉLODIE", "élodie martin", "москве", "в Москве", "ЖИВЁТ"};
    for (size_t i = 0; i < sizeof elodie / sizeof elodie[0]; i++)
        expect_graph(d, elodie[i], NULL, 0, 0, "{\"entities\":[" ELODIE "],\"relations\":[" OMEGA_REL "]}");
    const char *const omega[] = {"ωμέγα", "ΩΜΈΓΑ", "εταιρεια", "Εταιρεία"};
    expect_graph(d, omega[0], NULL, 0, 0, "{\"entities\":[" OMEGA "],\"relations\":[" OMEGA_REL "]}");
    expect_graph(d, omega[1], NULL, 0, 0, "{\"entities\":[" OMEGA "],\"relations\":[" OMEGA_REL "]}");
    expect_graph(d, omega[2], NULL, 0, 0, "{\"entities\":[" OMEGA "],\"relations\":[" OMEGA_REL "]}");
    /* ί is not ι: accents are kept, only case folds. */
    expect_graph(d, omega[3], NULL, 0, 0, "{\"entities\":[],\"relations\":[]}");
    expect_graph(d, "elodie", NULL, 0, 0, "{\"entities\":[],\"relations\":[]}");
    expect_graph(d, "moscow", NULL, 0, 0, "{\"entities\":[],\"relations\":[]}");
    /* A query in the middle of a word, and ASCII still folds as before. */
    expect_graph(d, "LODIE MAR", NULL, 0, 0, "{\"entities\":[" ELODIE "],\"relations\":[" OMEGA_REL "]}");
#undef ELODIE
#undef OMEGA
#undef OMEGA_REL
    msd_mem_free(d);
}

Test(mem_graph, open_nodes)
{
    msd_mem_doc *d = example();
    const char *acme[] = {"ACME"};
    expect_graph(d, NULL, acme, 1, 0, "{\"entities\":[" ACME "],\"relations\":[" WORKS "]}");
    const char *two[] = {"Bob", "ACME", "Nobody"};
    expect_graph(d, NULL, two, 3, 0, "{\"entities\":[" ACME "," BOB "],\"relations\":[" WORKS "," KNOWS "]}");
    const char *none[] = {"ada"};
    expect_graph(d, NULL, none, 1, 0, "{\"entities\":[],\"relations\":[]}");
    expect_graph(d, NULL, none, 0, 0, "{\"entities\":[],\"relations\":[]}");
    msd_mem_free(d);
}

Test(mem_graph, deletes_cascade)
{
    msd_mem_doc *d = example();
    int ch = -1;
    /* deleteEntities: the entity, its observations, relations from or to it. */
    cr_assert_eq(msd_mem_graph_delete_entity(d, "Ada", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(ch, 1);
    expect_graph(d, NULL, NULL, 0, 0, "{\"entities\":[" ACME "," BOB "],\"relations\":[]}");
    cr_assert_eq(msd_mem_count(d), 3);
    cr_assert_eq(msd_mem_tombstones(d), 5);
    char *s = mt_bytes(d, NULL);
    cr_assert(strstr(s, "green tea") == NULL);
    cr_assert(strstr(s, "\"Ada\"") == NULL);
    free(s);
    /* Deleting what is not there: no change. */
    const uint64_t clock = msd_mem_clock(d);
    cr_assert_eq(msd_mem_graph_delete_entity(d, "Ada", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(ch, 0);
    cr_assert_eq(msd_mem_graph_delete_observation(d, "Bob", "Plays go", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(ch, 0);
    cr_assert_eq(msd_mem_graph_delete_relation(d, "Bob", "ACME", "knows", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(ch, 0);
    cr_assert_eq(msd_mem_clock(d), clock);
    /* deleteObservations / deleteRelations. */
    cr_assert_eq(add_rel(d, "Bob", "ACME", "works_at", 1), 1);
    cr_assert_eq(msd_mem_graph_delete_observation(d, "Bob", "Plays chess", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(ch, 1);
    expect_graph(d, NULL, NULL, 0, 0,
                 "{\"entities\":[" ACME ",{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[]}],"
                 "\"relations\":[{\"from\":\"Bob\",\"to\":\"ACME\",\"relationType\":\"works_at\"}]}");
    cr_assert_eq(msd_mem_graph_delete_relation(d, "Bob", "ACME", "works_at", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(ch, 1);
    expect_graph(d, NULL, NULL, 0, 0,
                 "{\"entities\":[" ACME ",{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[]}],"
                 "\"relations\":[]}");
    /* A re-created entity is a new item and starts empty. */
    cr_assert_eq(add_entity(d, "Ada", "person", 3), 1);
    expect_graph(d, "Ada", NULL, 0, 0, "{\"entities\":[{\"name\":\"Ada\",\"entityType\":\"person\",\"observations\":[]}],"
                                       "\"relations\":[]}");
    msd_mem_free(d);
}

Test(mem_graph, private_observations)
{
    msd_mem_doc *d = example();
    /* Mark "Writes Rust" private. */
    msd_mem_item it;
    for (size_t i = 0; i < msd_mem_count(d); i++) {
        cr_assert_eq(msd_mem_item_at(d, i, &it), MSD_OK);
        if (it.kind == MSD_MEM_FACT && strcmp(it.text, "Writes Rust") == 0) {
            uint8_t id[16];
            memcpy(id, it.id, 16);
            cr_assert_eq(msd_mem_edit_fact(d, id, NULL, MSD_CAT_PRIVATE, -1, mt_dev(1)), MSD_OK);
            break;
        }
    }
    char *j = gjson(d, NULL, NULL, 0, 0);
    cr_assert(strstr(j, "Writes Rust") == NULL);
    free(j);
    j = gjson(d, NULL, NULL, 0, 1);
    cr_assert(strstr(j, "Writes Rust") != NULL);
    free(j);
    /* A search never matches on what it would not show. */
    expect_graph(d, "rust", NULL, 0, 0, "{\"entities\":[],\"relations\":[]}");
    j = gjson(d, "rust", NULL, 0, 1);
    cr_assert(strstr(j, "\"name\":\"Ada\"") != NULL);
    free(j);
    msd_mem_free(d);
}

/* [MEM-41]: two devices create the same name (and the same observation and
 * relation) concurrently; after the merge every graph function sees one. */
Test(mem_graph, concurrent_same_names_read_as_one)
{
    msd_mem_doc *b = mt_new();
    cr_assert_eq(add_entity(b, "ACME", "organization", 1), 1);
    msd_mem_doc *l = mt_clone(b), *r = mt_clone(b);
    cr_assert_eq(add_entity(l, "Ada", "person", 2), 1);   /* (2, dev 2): created first */
    cr_assert_eq(add_entity(r, "Ada", "human", 3), 1);    /* (2, dev 3) */
    cr_assert_eq(add_obs(l, "Ada", "Drinks green tea", 2), 1);
    cr_assert_eq(add_obs(r, "Ada", "Drinks green tea", 3), 1);
    cr_assert_eq(add_obs(r, "Ada", "Writes Rust", 3), 1);
    cr_assert_eq(add_rel(l, "Ada", "ACME", "works_at", 2), 1);
    cr_assert_eq(add_rel(r, "Ada", "ACME", "works_at", 3), 1);
    msd_mem_doc *m = mt_merge(b, l, r);
    cr_assert_eq(msd_mem_count(m), 1 + 2 + 3 + 2);
    static const char want[] =
        "{\"entities\":[{\"name\":\"ACME\",\"entityType\":\"organization\",\"observations\":[]},"
        "{\"name\":\"Ada\",\"entityType\":\"person\",\"observations\":[\"Drinks green tea\",\"Writes Rust\"]}],"
        "\"relations\":[{\"from\":\"Ada\",\"to\":\"ACME\",\"relationType\":\"works_at\"}]}";
    expect_graph(m, NULL, NULL, 0, 0, want);
    const char *ada[] = {"Ada"};
    expect_graph(m, NULL, ada, 1, 0,
                 "{\"entities\":[{\"name\":\"Ada\",\"entityType\":\"person\",\"observations\":[\"Drinks green tea\","
                 "\"Writes Rust\"]}],\"relations\":[{\"from\":\"Ada\",\"to\":\"ACME\",\"relationType\":\"works_at\"}]}");
    /* Adding to the name adds nothing new. */
    cr_assert_eq(add_entity(m, "Ada", "x", 4), 0);
    cr_assert_eq(add_obs(m, "Ada", "Writes Rust", 4), 0);
    cr_assert_eq(add_rel(m, "Ada", "ACME", "works_at", 4), 0);
    /* Deleting the name deletes both entities and everything hanging on them. */
    int ch = 0;
    cr_assert_eq(msd_mem_graph_delete_entity(m, "Ada", mt_dev(4), &ch), MSD_OK);
    cr_assert_eq(ch, 1);
    cr_assert_eq(msd_mem_count(m), 1);
    expect_graph(m, NULL, NULL, 0, 0,
                 "{\"entities\":[{\"name\":\"ACME\",\"entityType\":\"organization\",\"observations\":[]}],"
                 "\"relations\":[]}");
    msd_mem_free(b);
    msd_mem_free(l);
    msd_mem_free(r);
    msd_mem_free(m);
}

/* One device deletes an entity while another relates to it: read_graph
 * returns what the store holds, as the official server does; filtered reads
 * return relations touching the chosen entities. */
Test(mem_graph, dangling_relation_after_merge)
{
    msd_mem_doc *b = example();
    msd_mem_doc *l = mt_clone(b), *r = mt_clone(b);
    int ch;
    cr_assert_eq(msd_mem_graph_delete_entity(l, "Bob", mt_dev(2), &ch), MSD_OK);
    cr_assert_eq(add_rel(r, "ACME", "Bob", "employs", 3), 1);
    msd_mem_doc *m = mt_merge(b, l, r);
    char *j = gjson(m, NULL, NULL, 0, 0);
    cr_assert(strstr(j, "\"name\":\"Bob\"") == NULL);
    cr_assert(strstr(j, "employs") != NULL);
    free(j);
    const char *acme[] = {"ACME"};
    j = gjson(m, NULL, acme, 1, 0);
    cr_assert(strstr(j, "employs") != NULL);
    free(j);
    msd_mem_free(b);
    msd_mem_free(l);
    msd_mem_free(r);
    msd_mem_free(m);
}
