/* The graph as the official memory server returns it: read_graph,
 * search_nodes and open_nodes (spec/memory.md §6, [MEM-48]..[MEM-52]). */
#include <stdlib.h>
#include <string.h>

#include "device/memory/internal.h"
#include "device/memory/memtext.h"

/* Creation order: created stamp, then id. */
static int by_created(const mem_item *a, const mem_item *b)
{
    const int c = mem_stamp_cmp(&a->c, &b->c);
    return c != 0 ? c : memcmp(a->id, b->id, MSD_MEM_ID_SIZE);
}

static int cmp_created(const void *x, const void *y)
{
    return by_created(*(mem_item *const *)x, *(mem_item *const *)y);
}

static int cmp_name_created(const void *x, const void *y)
{
    const mem_item *a = *(mem_item *const *)x, *b = *(mem_item *const *)y;
    const int c = strcmp(a->text, b->text);
    return c != 0 ? c : by_created(a, b);
}

/* Observations: by entity, text, creation (to drop repeated texts). */
static int cmp_obs_text(const void *x, const void *y)
{
    const mem_item *a = *(mem_item *const *)x, *b = *(mem_item *const *)y;
    int c = strcmp(a->entity, b->entity);
    if (c == 0) c = strcmp(a->text, b->text);
    return c != 0 ? c : by_created(a, b);
}

/* Observations: by entity, creation (the order they are listed in). */
static int cmp_obs_created(const void *x, const void *y)
{
    const mem_item *a = *(mem_item *const *)x, *b = *(mem_item *const *)y;
    const int c = strcmp(a->entity, b->entity);
    return c != 0 ? c : by_created(a, b);
}

static int cmp_rel_triple(const void *x, const void *y)
{
    const mem_item *a = *(mem_item *const *)x, *b = *(mem_item *const *)y;
    int c = strcmp(a->from, b->from);
    if (c == 0) c = strcmp(a->to, b->to);
    if (c == 0) c = strcmp(a->text, b->text);
    return c != 0 ? c : by_created(a, b);
}

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int in_sorted(const char *const *set, size_t n, const char *s)
{
    return n > 0 && bsearch(&s, set, n, sizeof *set, cmp_cstr) != NULL;
}

/* [MEM-50]: case-insensitive substring: the fold of hay ([MSR-1], the same
 * length as hay) contains fq, the query's fold. scratch receives hay's fold
 * (memory text: the caller wipes it). Returns 1, 0, or -1 when out of memory. */
static int contains_ci(msr_buf *scratch, const char *hay, const char *fq)
{
    if (fq[0] == '\0') return 1;
    const size_t n = strlen(hay);
    scratch->len = 0;
    msr_buf_put(scratch, hay, n);
    if (scratch->oom) return -1;
    msr_fold_copy(scratch->p, scratch->p, n); /* never yields a NUL byte: strstr sees it all */
    return strstr(scratch->p, fq) != NULL;
}

/* The first index of the block of observations of entity in obs (sorted by entity). */
static size_t obs_lower(mem_item *const *obs, size_t n, const char *entity)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (strcmp(obs[mid]->entity, entity) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct graph {
    mem_item **reps;           /* one entity per name, by creation */
    size_t n_reps;
    mem_item **obs;            /* visible, distinct observations, by entity then creation */
    size_t n_obs;
    mem_item **rels;           /* distinct relations, by creation */
    size_t n_rels;
} graph;

static void graph_free(graph *g)
{
    free(g->reps);
    free(g->obs);
    free(g->rels);
}

/* Keep the first of each run of items equal under same(). */
static size_t keep_first(mem_item **v, size_t n, int (*cmp)(const void *, const void *), int (*same)(const mem_item *, const mem_item *))
{
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (!same(v[k - 1], v[i])) v[k++] = v[i];
    return k;
}

static int same_name(const mem_item *a, const mem_item *b)
{
    return strcmp(a->text, b->text) == 0;
}

static int same_obs(const mem_item *a, const mem_item *b)
{
    return strcmp(a->entity, b->entity) == 0 && strcmp(a->text, b->text) == 0;
}

static int same_rel(const mem_item *a, const mem_item *b)
{
    return strcmp(a->from, b->from) == 0 && strcmp(a->to, b->to) == 0 && strcmp(a->text, b->text) == 0;
}

/* [MEM-41] / [MEM-48]: live entities of one name read as one (the earliest
 * created gives the type); repeated observations and relations read once. */
static int graph_build(graph *g, const msd_mem_doc *doc, int include_private)
{
    memset(g, 0, sizeof *g);
    const size_t n = doc->n_live;
    g->reps = malloc((n ? n : 1) * sizeof *g->reps);
    g->obs = malloc((n ? n : 1) * sizeof *g->obs);
    g->rels = malloc((n ? n : 1) * sizeof *g->rels);
    if (g->reps == NULL || g->obs == NULL || g->rels == NULL) return 0;
    for (size_t i = 0; i < n; i++) {
        mem_item *it = doc->live[i];
        if (it->kind == MSD_MEM_ENTITY)
            g->reps[g->n_reps++] = it;
        else if (it->kind == MSD_MEM_RELATION)
            g->rels[g->n_rels++] = it;
        else if (it->entity != NULL && (include_private || !(it->cats & MSD_CAT_PRIVATE)))
            g->obs[g->n_obs++] = it;
    }
    g->n_reps = keep_first(g->reps, g->n_reps, cmp_name_created, same_name);
    qsort(g->reps, g->n_reps, sizeof *g->reps, cmp_created);
    g->n_obs = keep_first(g->obs, g->n_obs, cmp_obs_text, same_obs);
    qsort(g->obs, g->n_obs, sizeof *g->obs, cmp_obs_created);
    g->n_rels = keep_first(g->rels, g->n_rels, cmp_rel_triple, same_rel);
    qsort(g->rels, g->n_rels, sizeof *g->rels, cmp_created);
    return 1;
}

/* 1 when e matches the folded query fq, 0 when not, -1 when out of memory. */
static int matches_query(const graph *g, const mem_item *e, const char *fq, msr_buf *scratch)
{
    int r = contains_ci(scratch, e->text, fq);
    if (r == 0) r = contains_ci(scratch, e->etype, fq);
    for (size_t k = obs_lower(g->obs, g->n_obs, e->text);
         r == 0 && k < g->n_obs && strcmp(g->obs[k]->entity, e->text) == 0; k++)
        r = contains_ci(scratch, g->obs[k]->text, fq);
    return r;
}

static json_t *entity_json(const graph *g, const mem_item *e)
{
    json_t *o = json_object(), *obs = json_array();
    if (o == NULL || obs == NULL || json_object_set_new(o, "name", json_string(e->text)) != 0 ||
        json_object_set_new(o, "entityType", json_string(e->etype)) != 0) {
        json_decref(o);
        json_decref(obs);
        return NULL;
    }
    for (size_t k = obs_lower(g->obs, g->n_obs, e->text); k < g->n_obs && strcmp(g->obs[k]->entity, e->text) == 0;
         k++) {
        if (json_array_append_new(obs, json_string(g->obs[k]->text)) != 0) {
            json_decref(o);
            json_decref(obs);
            return NULL;
        }
    }
    if (json_object_set_new(o, "observations", obs) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *relation_json(const mem_item *r)
{
    json_t *o = json_object();
    if (o == NULL || json_object_set_new(o, "from", json_string(r->from)) != 0 ||
        json_object_set_new(o, "to", json_string(r->to)) != 0 ||
        json_object_set_new(o, "relationType", json_string(r->text)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

msd_status msd_mem_graph_json(char **json, const msd_mem_doc *doc, const char *query, const char *const *names,
                              size_t n_names, int include_private)
{
    if (json != NULL) *json = NULL;
    if (json == NULL || doc == NULL || (names == NULL && n_names > 0) || (query != NULL && names != NULL))
        return MSD_ERR_ARGS;
    for (size_t i = 0; i < n_names; i++)
        if (names[i] == NULL) return MSD_ERR_ARGS;
    const int filtered = query != NULL || names != NULL;
    graph g;
    const char **want = NULL, **chosen = NULL;
    size_t n_chosen = 0;
    json_t *root = NULL, *ents = NULL, *rels = NULL;
    msr_buf fq = {0}, scratch = {0}; /* the query's fold; a text's fold */
    msd_status st = MSD_ERR_NOMEM;
    if (!graph_build(&g, doc, include_private)) goto done;
    if (query != NULL) {
        const size_t qn = strlen(query);
        msr_buf_put(&fq, query, qn); /* NUL-terminated, even when empty */
        if (fq.oom) goto done;
        msr_fold_copy(fq.p, fq.p, qn);
    }
    want = malloc((n_names ? n_names : 1) * sizeof *want);
    chosen = malloc((g.n_reps ? g.n_reps : 1) * sizeof *chosen);
    root = json_object();
    ents = json_array();
    rels = json_array();
    if (want == NULL || chosen == NULL || root == NULL || ents == NULL || rels == NULL) goto done;
    for (size_t i = 0; i < n_names; i++) want[i] = names[i];
    qsort(want, n_names, sizeof *want, cmp_cstr);
    for (size_t i = 0; i < g.n_reps; i++) {
        const mem_item *e = g.reps[i];
        /* [MEM-49] / [MEM-50] / [MEM-51] */
        if (query != NULL) {
            const int m = matches_query(&g, e, fq.p, &scratch);
            if (m < 0) goto done;
            if (m == 0) continue;
        }
        if (names != NULL && !in_sorted(want, n_names, e->text)) continue;
        chosen[n_chosen++] = e->text;
        json_t *o = entity_json(&g, e);
        if (o == NULL || json_array_append_new(ents, o) != 0) goto done;
    }
    qsort(chosen, n_chosen, sizeof *chosen, cmp_cstr);
    for (size_t i = 0; i < g.n_rels; i++) {
        const mem_item *r = g.rels[i];
        /* Filtered reads: relations with at least one end among the chosen
         * entities; read_graph: all of them. */
        if (filtered && !in_sorted(chosen, n_chosen, r->from) && !in_sorted(chosen, n_chosen, r->to)) continue;
        json_t *o = relation_json(r);
        if (o == NULL || json_array_append_new(rels, o) != 0) goto done;
    }
    if (json_object_set(root, "entities", ents) != 0 || json_object_set(root, "relations", rels) != 0) goto done;
    *json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (*json != NULL) st = MSD_OK;
done:
    msr_buf_wipe(&fq);
    msr_buf_wipe(&scratch);
    json_decref(ents);
    json_decref(rels);
    json_decref(root);
    free(want);
    free(chosen);
    graph_free(&g);
    return st;
}
