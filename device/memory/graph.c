/* Knowledge-graph changes with the official MCP memory server's semantics
 * (spec/memory.md §6, [MEM-40]..[MEM-47]). Entities, observations and
 * relations are items; every name comparison is exact (bytewise). */
#include <stdlib.h>
#include <string.h>

#include "device/memory/internal.h"

static void set_changed(int *changed, int v)
{
    if (changed != NULL) *changed = v;
}

static int is_entity(const mem_item *it, const char *name)
{
    return it->kind == MSD_MEM_ENTITY && strcmp(it->text, name) == 0;
}

static int is_observation(const mem_item *it, const char *entity)
{
    return it->kind == MSD_MEM_FACT && it->entity != NULL && strcmp(it->entity, entity) == 0;
}

static int entity_exists(const msd_mem_doc *doc, const char *name)
{
    for (size_t i = 0; i < doc->n_live; i++)
        if (is_entity(doc->live[i], name)) return 1;
    return 0;
}

/* Check an optional tool name. */
static msd_status check_tool(const char *tool)
{
    return tool == NULL || mem_check_text(tool, MSD_MEM_MAX_TOOL, 0) == MSD_OK ? MSD_OK : MSD_ERR_ARGS;
}

/* Build and add a new item of kind with its strings (b, c may be NULL). */
static msd_status add_new(msd_mem_doc *doc, msd_mem_kind kind, const char *text, const char *a, const char *b,
                          const char *tool, int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE])
{
    mem_item *it = mem_item_new();
    if (it == NULL) return MSD_ERR_NOMEM;
    it->kind = kind;
    int ok = 1;
    it->text = mem_str_dup(text, &ok);
    switch (kind) {
    case MSD_MEM_ENTITY: it->etype = mem_str_dup(a, &ok); break;
    case MSD_MEM_RELATION:
        it->from = mem_str_dup(a, &ok);
        it->to = mem_str_dup(b, &ok);
        break;
    default:
        /* [MEM-43]: an observation is a semantic identity fact of importance 50. */
        it->entity = mem_str_dup(a, &ok);
        it->cats = MSD_CAT_IDENTITY;
        it->type = MSD_MEM_SEMANTIC;
        it->imp = 50;
        break;
    }
    msd_status st = ok ? mem_set_src(it, tool, imported, NULL) : MSD_ERR_NOMEM;
    if (st != MSD_OK) {
        mem_item_free(it);
        return st;
    }
    return mem_add_item(doc, it, device, NULL);
}

msd_status msd_mem_graph_add_entity(msd_mem_doc *doc, const char *name, const char *entity_type, const char *tool,
                                    int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed)
{
    set_changed(changed, 0);
    if (doc == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st;
    if ((st = mem_check_text(name, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(entity_type, MSD_MEM_MAX_TEXT, 1)) != MSD_OK || (st = check_tool(tool)) != MSD_OK)
        return st;
    /* [MEM-42]: an existing name is kept as it is (its type too). */
    if (entity_exists(doc, name)) return MSD_OK;
    st = add_new(doc, MSD_MEM_ENTITY, name, entity_type, NULL, tool, imported, device);
    if (st == MSD_OK) set_changed(changed, 1);
    return st;
}

msd_status msd_mem_graph_add_observation(msd_mem_doc *doc, const char *entity, const char *text, const char *tool,
                                         int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed)
{
    set_changed(changed, 0);
    if (doc == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st;
    if ((st = mem_check_text(entity, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(text, MSD_MEM_MAX_TEXT, 0)) != MSD_OK || (st = check_tool(tool)) != MSD_OK)
        return st;
    if (!entity_exists(doc, entity)) return MSD_ERR_MEM_NOT_FOUND;
    /* [MEM-43]: an observation the entity already has is skipped. */
    for (size_t i = 0; i < doc->n_live; i++)
        if (is_observation(doc->live[i], entity) && strcmp(doc->live[i]->text, text) == 0) return MSD_OK;
    st = add_new(doc, MSD_MEM_FACT, text, entity, NULL, tool, imported, device);
    if (st == MSD_OK) set_changed(changed, 1);
    return st;
}

static int is_relation(const mem_item *it, const char *from, const char *to, const char *type)
{
    return it->kind == MSD_MEM_RELATION && strcmp(it->from, from) == 0 && strcmp(it->to, to) == 0 &&
           strcmp(it->text, type) == 0;
}

msd_status msd_mem_graph_add_relation(msd_mem_doc *doc, const char *from, const char *to, const char *relation_type,
                                      const char *tool, int imported, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                                      int *changed)
{
    set_changed(changed, 0);
    if (doc == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st;
    if ((st = mem_check_text(from, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(to, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(relation_type, MSD_MEM_MAX_TEXT, 0)) != MSD_OK || (st = check_tool(tool)) != MSD_OK)
        return st;
    /* [MEM-44]: both ends must exist (createRelations throws otherwise). */
    if (!entity_exists(doc, from) || !entity_exists(doc, to)) return MSD_ERR_MEM_NOT_FOUND;
    for (size_t i = 0; i < doc->n_live; i++)
        if (is_relation(doc->live[i], from, to, relation_type)) return MSD_OK;
    st = add_new(doc, MSD_MEM_RELATION, relation_type, from, to, tool, imported, device);
    if (st == MSD_OK) set_changed(changed, 1);
    return st;
}

/* Forget every live item that matches; ids are collected first because each
 * forget moves the array. */
typedef int (*match_fn)(const mem_item *it, const char *a, const char *b, const char *c);

static msd_status forget_matching(msd_mem_doc *doc, match_fn match, const char *a, const char *b, const char *c,
                                  const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed)
{
    size_t n = 0;
    for (size_t i = 0; i < doc->n_live; i++) n += match(doc->live[i], a, b, c) != 0;
    if (n == 0) return MSD_OK;
    uint8_t(*ids)[MSD_MEM_ID_SIZE] = malloc(n * sizeof *ids);
    if (ids == NULL) return MSD_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < doc->n_live; i++)
        if (match(doc->live[i], a, b, c)) memcpy(ids[k++], doc->live[i]->id, MSD_MEM_ID_SIZE);
    /* Room for every tombstone first, so that the batch is not cut half way
     * by an allocation failure. */
    msd_status st = mem_reserve_dead(doc, n);
    if (st == MSD_OK && doc->clock > MEM_MAX_COUNTER - n) st = MSD_ERR_MEM_TOO_LARGE;
    for (size_t i = 0; i < n && st == MSD_OK; i++) st = msd_mem_forget(doc, ids[i], device);
    free(ids);
    if (st == MSD_OK) set_changed(changed, 1);
    return st;
}

/* [MEM-45]: the entity (every live one of that name), its observations and
 * every relation from or to it. */
static int match_entity_cascade(const mem_item *it, const char *name, const char *b, const char *c)
{
    (void)b;
    (void)c;
    return is_entity(it, name) || is_observation(it, name) ||
           (it->kind == MSD_MEM_RELATION && (strcmp(it->from, name) == 0 || strcmp(it->to, name) == 0));
}

static int match_observation(const mem_item *it, const char *entity, const char *text, const char *c)
{
    (void)c;
    return is_observation(it, entity) && strcmp(it->text, text) == 0;
}

static int match_relation(const mem_item *it, const char *from, const char *to, const char *type)
{
    return is_relation(it, from, to, type);
}

msd_status msd_mem_graph_delete_entity(msd_mem_doc *doc, const char *name, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                                       int *changed)
{
    set_changed(changed, 0);
    if (doc == NULL || device == NULL) return MSD_ERR_ARGS;
    const msd_status st = mem_check_text(name, MSD_MEM_MAX_TEXT, 0);
    if (st != MSD_OK) return st;
    return forget_matching(doc, match_entity_cascade, name, NULL, NULL, device, changed);
}

msd_status msd_mem_graph_delete_observation(msd_mem_doc *doc, const char *entity, const char *text,
                                            const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed)
{
    set_changed(changed, 0);
    if (doc == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st;
    if ((st = mem_check_text(entity, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(text, MSD_MEM_MAX_TEXT, 0)) != MSD_OK)
        return st;
    /* [MEM-46] */
    return forget_matching(doc, match_observation, entity, text, NULL, device, changed);
}

msd_status msd_mem_graph_delete_relation(msd_mem_doc *doc, const char *from, const char *to, const char *relation_type,
                                         const uint8_t device[MSD_MEM_DEVICE_SIZE], int *changed)
{
    set_changed(changed, 0);
    if (doc == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st;
    if ((st = mem_check_text(from, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(to, MSD_MEM_MAX_TEXT, 0)) != MSD_OK ||
        (st = mem_check_text(relation_type, MSD_MEM_MAX_TEXT, 0)) != MSD_OK)
        return st;
    /* [MEM-47] */
    return forget_matching(doc, match_relation, from, to, relation_type, device, changed);
}
