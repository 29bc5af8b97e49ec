/* MCP_MEMORY import: the official memory server's file
 * (modelcontextprotocol/servers src/memory/index.ts, loadGraph), read as
 * that server reads it: lines split at "\n", blank ones ignored, each a JSON
 * object {"type":"entity",name,entityType,observations[]} or
 * {"type":"relation",from,to,relationType}; extra keys are allowed, a line
 * that does not fit is skipped (spec/memory-search.md §4.1, [MSR-40]..).
 * Records go in file order, so the server's creation order is kept.
 */
#include "device/memory/memimport.h"

#include <string.h>

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static msd_status entity_line(msr_import *im, json_t *o)
{
    const char *name = str_field(o, "name"), *type = str_field(o, "entityType");
    json_t *obs = json_object_get(o, "observations");
    /* The server's EntitySchema: all three present, observations all strings. */
    int valid = name != NULL && type != NULL && json_is_array(obs);
    for (size_t i = 0; valid && i < json_array_size(obs); i++) valid = json_is_string(json_array_get(obs, i));
    if (!valid) {
        msr_import_invalid(im);
        return MSD_OK;
    }
    int ok = 0;
    msd_status st = msr_import_entity(im, name, type, &ok);
    for (size_t i = 0; st == MSD_OK && i < json_array_size(obs); i++) {
        if (ok) st = msr_import_observation(im, name, json_string_value(json_array_get(obs, i)));
        else msr_import_invalid(im); /* its entity could not be made */
    }
    return st;
}

static msd_status mcp_line(msr_import *im, const char *s, size_t n, void *arg)
{
    int *first = arg;
    if (*first && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) s += 3, n -= 3;
    *first = 0;
    if (msr_blank(s, n)) return MSD_OK;
    json_t *o = msr_json_load(s, n);
    msd_status st = MSD_OK;
    const char *type = json_is_object(o) ? str_field(o, "type") : NULL;
    if (type != NULL && strcmp(type, "entity") == 0) {
        st = entity_line(im, o);
    } else if (type != NULL && strcmp(type, "relation") == 0) {
        const char *from = str_field(o, "from"), *to = str_field(o, "to"), *rel = str_field(o, "relationType");
        if (from != NULL && to != NULL && rel != NULL) st = msr_import_relation(im, from, to, rel);
        else msr_import_invalid(im);
    } else {
        /* Not JSON, not an object, or a type the server does not store. */
        msr_import_invalid(im);
    }
    json_decref(o);
    return st;
}

msd_status msr_import_mcp(msr_import *im, const uint8_t *buf, size_t len)
{
    int first = 1;
    return msr_each_line(im, buf, len, mcp_line, &first);
}
