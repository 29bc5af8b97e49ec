/* msd_mem_export (spec/memory-search.md §5): the official memory server's
 * JSONL, a Markdown listing, or the canonical document itself.
 */
#include "device/memory/memtext.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The entity that holds plain facts in an MCP_MEMORY export [MSR-61]: the
 * name the official server's suggested prompt gives the user. */
#define DEFAULT_USER "default_user"
#define DEFAULT_USER_TYPE "person"

/* ------------------------------------------------------------ MCP_MEMORY */

/* A string as JavaScript's JSON.stringify writes it [MSR-60]: '"' and '\\'
 * escaped, \b \t \n \f \r, other controls as \u00xx (lower-case hex),
 * everything else (DEL and non-ASCII included) as it is. */
static void js_string(msr_buf *b, const char *s)
{
    static const char hx[] = "0123456789abcdef";
    msr_buf_putc(b, '"');
    size_t run = 0, i = 0;
    for (; s[i] != '\0'; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        msr_buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': msr_buf_puts(b, "\\\""); break;
        case '\\': msr_buf_puts(b, "\\\\"); break;
        case '\b': msr_buf_puts(b, "\\b"); break;
        case '\t': msr_buf_puts(b, "\\t"); break;
        case '\n': msr_buf_puts(b, "\\n"); break;
        case '\f': msr_buf_puts(b, "\\f"); break;
        case '\r': msr_buf_puts(b, "\\r"); break;
        default: {
            const char e[6] = {'\\', 'u', '0', '0', hx[c >> 4], hx[c & 15]};
            msr_buf_put(b, e, sizeof e);
        }
        }
    }
    msr_buf_put(b, s + run, i - run);
    msr_buf_putc(b, '"');
}

/* One node of the export: an entity line and its observations. */
typedef struct node {
    const char *name, *type;
    const char **obs;
    size_t nobs, cap;
} node;

typedef struct graph {
    node *nodes;
    size_t n, cap;
    msr_set names;
    msr_set obs;      /* name NUL text of every listed observation */
    int oom;
} graph;

static node *graph_node(graph *g, const char *name, const char *type)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return &g->nodes[i];
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        node *p = realloc(g->nodes, cap * sizeof *p);
        if (p == NULL) {
            g->oom = 1;
            return NULL;
        }
        g->nodes = p;
        g->cap = cap;
    }
    if (msr_set_add(&g->names, name, strlen(name)) != MSD_OK) {
        g->oom = 1;
        return NULL;
    }
    node *x = &g->nodes[g->n++];
    *x = (node){name, type, NULL, 0, 0};
    return x;
}

/* Adds an observation unless the node lists it already (exactly: an
 * import would find it present, and the round trip would lose it). */
static void node_obs(graph *g, node *x, const char *text)
{
    if (x == NULL || g->oom) return;
    msr_buf k = {0};
    msr_buf_puts(&k, x->name);
    msr_buf_putc(&k, '\0');
    msr_buf_puts(&k, text);
    int dup = !k.oom && msr_set_has(&g->obs, k.p, k.len);
    if (k.oom || (!dup && msr_set_add(&g->obs, k.p, k.len) != MSD_OK)) g->oom = 1;
    msr_buf_wipe(&k);
    if (dup || g->oom) return;
    if (x->nobs == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        const char **p = realloc(x->obs, cap * sizeof *p);
        if (p == NULL) {
            g->oom = 1;
            return;
        }
        x->obs = p;
        x->cap = cap;
    }
    x->obs[x->nobs++] = text;
}

static int created_cmp(const void *pa, const void *pb)
{
    const msd_mem_item *a = pa, *b = pb;
    int s = msr_stamp_cmp(&a->created, &b->created);
    return s != 0 ? s : memcmp(a->id, b->id, MSD_MEM_ID_SIZE);
}

static int has_name(const graph *g, const char *name)
{
    return msr_set_has(&g->names, name, strlen(name));
}

/* [MSR-61]: the graph as msd_mem_graph_json gives it (entities in creation
 * order, observations in the order added, relations); then entities for the
 * names that observations or relations use but no live entity has (type "",
 * in creation order of what needs them); plain facts, oldest first, as
 * observations of default_user (an existing one, or a new last entity). */
static msd_status export_mcp(msr_buf *out, const msd_mem_doc *doc, int include_private)
{
    char *js = NULL;
    msd_status st = msd_mem_graph_json(&js, doc, NULL, NULL, 0, include_private);
    if (st != MSD_OK) return st;
    json_error_t err;
    json_t *root = json_loads(js, 0, &err);
    sodium_memzero(js, strlen(js));
    free(js);
    json_t *ents = json_object_get(root, "entities"), *rels = json_object_get(root, "relations");
    if (!json_is_array(ents) || !json_is_array(rels)) {
        json_decref(root);
        return MSD_ERR_NOMEM; /* the only way graph_json's output fails to load */
    }

    graph g;
    memset(&g, 0, sizeof g);
    for (size_t i = 0; i < json_array_size(ents); i++) {
        json_t *e = json_array_get(ents, i), *obs = json_object_get(e, "observations");
        node *x = graph_node(&g, json_string_value(json_object_get(e, "name")),
                             json_string_value(json_object_get(e, "entityType")));
        for (size_t k = 0; k < json_array_size(obs); k++) node_obs(&g, x, json_string_value(json_array_get(obs, k)));
    }

    /* Facts that graph_json did not place: plain ones, and observations of
     * a name with no live entity (after a concurrent delete). */
    const size_t count = msd_mem_count(doc);
    msd_mem_item *loose = malloc((count ? count : 1) * sizeof *loose);
    size_t nl = 0;
    if (loose == NULL) g.oom = 1;
    for (size_t i = 0; !g.oom && i < count; i++) {
        msd_mem_item it;
        if (msd_mem_item_at(doc, i, &it) != MSD_OK || it.kind != MSD_MEM_FACT || !msr_visible(&it, include_private))
            continue;
        if (it.entity == NULL || !has_name(&g, it.entity)) loose[nl++] = it;
    }
    if (!g.oom) qsort(loose, nl, sizeof *loose, created_cmp);
    for (size_t i = 0; !g.oom && i < nl; i++)
        if (loose[i].entity != NULL) node_obs(&g, graph_node(&g, loose[i].entity, ""), loose[i].text);
    for (size_t i = 0; !g.oom && i < json_array_size(rels); i++) {
        json_t *r = json_array_get(rels, i);
        const char *from = json_string_value(json_object_get(r, "from")), *to = json_string_value(json_object_get(r, "to"));
        if (!has_name(&g, from)) graph_node(&g, from, "");
        if (!g.oom && !has_name(&g, to)) graph_node(&g, to, "");
    }
    node *du = NULL;
    for (size_t i = 0; !g.oom && i < nl; i++) {
        if (loose[i].entity != NULL) continue;
        if (du == NULL) du = graph_node(&g, DEFAULT_USER, DEFAULT_USER_TYPE);
        node_obs(&g, du, loose[i].text);
    }

    /* The server's saveGraph: entity lines, then relation lines, each
     * JSON.stringify'd, joined by "\n", plus a final "\n". */
    for (size_t i = 0; !g.oom && i < g.n; i++) {
        const node *x = &g.nodes[i];
        msr_buf_puts(out, "{\"type\":\"entity\",\"name\":");
        js_string(out, x->name);
        msr_buf_puts(out, ",\"entityType\":");
        js_string(out, x->type);
        msr_buf_puts(out, ",\"observations\":[");
        for (size_t k = 0; k < x->nobs; k++) {
            if (k > 0) msr_buf_putc(out, ',');
            js_string(out, x->obs[k]);
        }
        msr_buf_puts(out, "]}");
        if (i + 1 < g.n || json_array_size(rels) > 0) msr_buf_putc(out, '\n');
    }
    for (size_t i = 0; !g.oom && i < json_array_size(rels); i++) {
        json_t *r = json_array_get(rels, i);
        msr_buf_puts(out, "{\"type\":\"relation\",\"from\":");
        js_string(out, json_string_value(json_object_get(r, "from")));
        msr_buf_puts(out, ",\"to\":");
        js_string(out, json_string_value(json_object_get(r, "to")));
        msr_buf_puts(out, ",\"relationType\":");
        js_string(out, json_string_value(json_object_get(r, "relationType")));
        msr_buf_puts(out, "}");
        if (i + 1 < json_array_size(rels)) msr_buf_putc(out, '\n');
    }
    msr_buf_putc(out, '\n');

    st = g.oom ? MSD_ERR_NOMEM : MSD_OK;
    for (size_t i = 0; i < g.n; i++) free(g.nodes[i].obs);
    free(g.nodes);
    msr_set_free(&g.names);
    msr_set_free(&g.obs);
    free(loose);
    json_decref(root);
    return st;
}

/* -------------------------------------------------------------- MARKDOWN */

/* Facts: first category, importance desc, then oldest first, then id
 * [MSR-63]: the order a TEXT import of the listing recreates. */
static int md_fact_cmp(const void *pa, const void *pb)
{
    const msd_mem_item *a = pa, *b = pb;
    unsigned sa = msr_first_cat(a->categories), sb = msr_first_cat(b->categories);
    if (sa != sb) return sa < sb ? -1 : 1;
    if (a->importance != b->importance) return a->importance > b->importance ? -1 : 1;
    return created_cmp(a, b);
}

/* One line of text, trimmed (a TEXT import trims). */
static void md_text(msr_buf *b, const char *s)
{
    msr_buf t = {0};
    msr_put_oneline(&t, s);
    size_t i = 0, n = t.len;
    while (i < n && t.p[i] == ' ') i++;
    while (n > i && t.p[n - 1] == ' ') n--;
    if (t.oom) b->oom = 1;
    else if (n > i) msr_buf_put(b, t.p + i, n - i);
    msr_buf_wipe(&t);
}

static void md_heading(msr_buf *b, const char *title, int capital)
{
    msr_buf_puts(b, "\n## ");
    msr_buf_putc(b, capital ? (char)(title[0] - 32) : title[0]);
    msr_buf_puts(b, title + 1);
    msr_buf_puts(b, "\n\n");
}

static msd_status export_markdown(msr_buf *out, const msd_mem_doc *doc, int include_private)
{
    const size_t count = msd_mem_count(doc);
    msd_mem_item *f = malloc((count ? count : 1) * sizeof *f), *e = malloc((count ? count : 1) * sizeof *e),
                 *r = malloc((count ? count : 1) * sizeof *r);
    size_t nf = 0, ne = 0, nr = 0;
    if (f == NULL || e == NULL || r == NULL) {
        free(f);
        free(e);
        free(r);
        return MSD_ERR_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        msd_mem_item it;
        if (msd_mem_item_at(doc, i, &it) != MSD_OK || !msr_visible(&it, include_private)) continue;
        if (it.kind == MSD_MEM_FACT) f[nf++] = it;
        else if (it.kind == MSD_MEM_ENTITY) e[ne++] = it;
        else r[nr++] = it;
    }
    qsort(f, nf, sizeof *f, md_fact_cmp);
    qsort(e, ne, sizeof *e, created_cmp);
    qsort(r, nr, sizeof *r, created_cmp);

    msr_buf_puts(out, "# Memory\n");
    unsigned sec = MSD_CAT_COUNT + 1;
    for (size_t i = 0; i < nf; i++) {
        unsigned s = msr_first_cat(f[i].categories);
        if (s != sec) md_heading(out, msd_mem_category_name(s < MSD_CAT_COUNT ? s : 0), 1);
        sec = s;
        msr_buf_puts(out, "- ");
        if (f[i].entity != NULL) {
            md_text(out, f[i].entity);
            msr_buf_puts(out, ": ");
        }
        md_text(out, f[i].text);
        msr_buf_putc(out, '\n');
    }
    if (ne > 0) md_heading(out, "Entities", 0);
    for (size_t i = 0; i < ne; i++) {
        msr_buf_puts(out, "- ");
        md_text(out, e[i].text);
        if (e[i].entity_type != NULL && e[i].entity_type[0] != '\0') {
            msr_buf_puts(out, " (");
            md_text(out, e[i].entity_type);
            msr_buf_putc(out, ')');
        }
        msr_buf_putc(out, '\n');
    }
    if (nr > 0) md_heading(out, "Relations", 0);
    for (size_t i = 0; i < nr; i++) {
        msr_buf_puts(out, "- ");
        md_text(out, r[i].from);
        msr_buf_putc(out, ' ');
        md_text(out, r[i].text);
        msr_buf_putc(out, ' ');
        md_text(out, r[i].to);
        msr_buf_putc(out, '\n');
    }
    free(f);
    free(e);
    free(r);
    return MSD_OK;
}

/* ------------------------------------------------------------------ JSON */

static int is_private_fact(json_t *item)
{
    json_t *kind = json_object_get(item, "kind"), *cat = json_object_get(item, "cat");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "fact") != 0) return 0;
    for (size_t i = 0; i < json_array_size(cat); i++) {
        json_t *c = json_array_get(cat, i);
        if (json_is_string(c) && strcmp(json_string_value(c), msd_mem_category_name(9)) == 0) return 1;
    }
    return 0;
}

/* [MSR-65]: the canonical bytes; without include_private, the private facts
 * are taken out of the tree (no tombstone: an import elsewhere must not
 * forget them) and the rest is parsed and written canonically again. */
static msd_status export_json(uint8_t **out, size_t *len, const msd_mem_doc *doc, int include_private)
{
    uint8_t *canon = NULL;
    size_t clen = 0;
    msd_status st = msd_mem_serialize(&canon, &clen, doc);
    if (st != MSD_OK || include_private) {
        *out = canon;
        *len = clen;
        return st;
    }
    json_error_t err;
    json_t *root = json_loadb((const char *)canon, clen, 0, &err);
    sodium_memzero(canon, clen);
    free(canon);
    json_t *items = json_object_get(root, "items");
    if (!json_is_array(items)) {
        json_decref(root);
        return MSD_ERR_NOMEM;
    }
    for (size_t i = json_array_size(items); i-- > 0;)
        if (is_private_fact(json_array_get(items, i)) && json_array_remove(items, i) != 0) st = MSD_ERR_NOMEM;
    char *text = st == MSD_OK ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (text == NULL) return MSD_ERR_NOMEM;
    msd_mem_doc *pub = NULL;
    st = msd_mem_parse(&pub, (const uint8_t *)text, strlen(text));
    sodium_memzero(text, strlen(text));
    free(text);
    if (st == MSD_OK) st = msd_mem_serialize(out, len, pub);
    else st = MSD_ERR_NOMEM; /* the tree came from our own canonical bytes */
    msd_mem_free(pub);
    return st;
}

msd_status msd_mem_export(uint8_t **out, size_t *len, const msd_mem_doc *doc, msd_mem_format fmt,
                          int include_private)
{
    if (out != NULL) *out = NULL;
    if (len != NULL) *len = 0;
    if (out == NULL || len == NULL || doc == NULL) return MSD_ERR_ARGS;
    if (fmt == MSD_MEM_FORMAT_JSON) return export_json(out, len, doc, include_private);
    msr_buf b = {0};
    msd_status st;
    if (fmt == MSD_MEM_FORMAT_MCP_MEMORY) st = export_mcp(&b, doc, include_private);
    else if (fmt == MSD_MEM_FORMAT_MARKDOWN) st = export_markdown(&b, doc, include_private);
    else return MSD_ERR_ARGS;
    if (st != MSD_OK) {
        msr_buf_wipe(&b);
        return st;
    }
    char *p = NULL;
    st = msr_buf_take(&b, &p, len);
    *out = (uint8_t *)p;
    return st;
}
