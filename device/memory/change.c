/* Local changes: add, edit, forget (spec/memory.md §3.1, [MEM-15]..[MEM-20]). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

msd_status mem_next_stamp(const msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], msd_mem_stamp *out)
{
    /* [MEM-16]: counters stay within 2^53 - 1; a clock at its end takes no change. */
    if (doc->clock >= MEM_MAX_COUNTER) return MSD_ERR_MEM_TOO_LARGE;
    out->counter = doc->clock + 1;
    memcpy(out->device, device, MSD_MEM_DEVICE_SIZE);
    return MSD_OK;
}

msd_status mem_set_src(mem_item *it, const char *tool, int imported, const char *xid)
{
    if (tool != NULL && mem_check_text(tool, MSD_MEM_MAX_TOOL, 0) != MSD_OK) return MSD_ERR_ARGS;
    if (xid != NULL && mem_check_text(xid, MSD_MEM_MAX_TEXT, 0) != MSD_OK) return MSD_ERR_ARGS;
    int ok = 1;
    it->tool = mem_str_dup(tool, &ok);
    it->xid = mem_str_dup(xid, &ok);
    if (!ok) return MSD_ERR_NOMEM;
    it->has_src = 1;
    it->imported = imported != 0;
    return MSD_OK;
}

msd_status mem_add_item(msd_mem_doc *doc, mem_item *it, const uint8_t device[MSD_MEM_DEVICE_SIZE],
                        uint8_t id_out[MSD_MEM_ID_SIZE])
{
    msd_mem_stamp s;
    msd_status st = MSD_ERR_MEM_TOO_LARGE;
    if (doc->n_live + doc->n_dead >= MSD_MEM_MAX_ITEMS || (st = mem_next_stamp(doc, device, &s)) != MSD_OK ||
        (st = mem_reserve_live(doc, 1)) != MSD_OK) {
        mem_item_free(it);
        return st;
    }
    /* 128 random bits; a collision is only conceivable with a broken RNG,
     * and is then still never allowed to replace an item ([MEM-17]). */
    do {
        randombytes_buf(it->id, MSD_MEM_ID_SIZE);
    } while (mem_find_live(doc, it->id, NULL) >= 0 || mem_find_dead(doc, it->id, NULL) >= 0);
    it->c = s;
    it->t = s;
    mem_insert_live(doc, it);
    doc->clock = s.counter;
    if (id_out != NULL) memcpy(id_out, it->id, MSD_MEM_ID_SIZE);
    return MSD_OK;
}

msd_status msd_mem_add_fact(msd_mem_doc *doc, uint8_t id_out[MSD_MEM_ID_SIZE], const msd_mem_fact_in *in,
                            const uint8_t device[MSD_MEM_DEVICE_SIZE])
{
    if (doc == NULL || in == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st = mem_check_text(in->text, MSD_MEM_MAX_TEXT, 0);
    if (st != MSD_OK) return st;
    if (in->entity != NULL && (st = mem_check_text(in->entity, MSD_MEM_MAX_TEXT, 0)) != MSD_OK) return st;
    if (in->categories == 0 || (in->categories & ~(uint32_t)MSD_CAT_ALL) != 0) return MSD_ERR_ARGS;
    if (in->type != MSD_MEM_SEMANTIC && in->type != MSD_MEM_EPISODIC) return MSD_ERR_ARGS;
    if (in->importance > 100) return MSD_ERR_ARGS;
    mem_item *it = mem_item_new();
    if (it == NULL) return MSD_ERR_NOMEM;
    it->kind = MSD_MEM_FACT;
    it->cats = in->categories;
    it->type = in->type;
    it->imp = in->importance;
    int ok = 1;
    it->text = mem_str_dup(in->text, &ok);
    it->entity = mem_str_dup(in->entity, &ok);
    st = ok ? mem_set_src(it, in->tool, in->imported, in->foreign_id) : MSD_ERR_NOMEM;
    if (st != MSD_OK) {
        mem_item_free(it);
        return st;
    }
    return mem_add_item(doc, it, device, id_out);
}

msd_status msd_mem_edit_fact(msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE], const char *text,
                             uint32_t categories, int importance, const uint8_t device[MSD_MEM_DEVICE_SIZE])
{
    if (doc == NULL || id == NULL || device == NULL) return MSD_ERR_ARGS;
    msd_status st;
    if (text != NULL && (st = mem_check_text(text, MSD_MEM_MAX_TEXT, 0)) != MSD_OK) return st;
    if ((categories & ~(uint32_t)MSD_CAT_ALL) != 0) return MSD_ERR_ARGS;
    if (importance < -1 || importance > 100) return MSD_ERR_ARGS;
    const long i = mem_find_live(doc, id, NULL);
    if (i < 0 || doc->live[i]->kind != MSD_MEM_FACT) return MSD_ERR_MEM_NOT_FOUND;
    mem_item *it = doc->live[i];
    const int new_text = text != NULL && strcmp(text, it->text) != 0;
    const int new_cats = categories != 0 && categories != it->cats;
    const int new_imp = importance >= 0 && (uint32_t)importance != it->imp;
    /* [MEM-18]: an edit that changes nothing is no change (no stamp), so it
     * cannot start a conflict. */
    if (!new_text && !new_cats && !new_imp) return MSD_OK;
    msd_mem_stamp s;
    if ((st = mem_next_stamp(doc, device, &s)) != MSD_OK) return st;
    if (new_text) {
        int ok = 1;
        char *d = mem_str_dup(text, &ok);
        if (!ok) return MSD_ERR_NOMEM;
        mem_str_free(it->text);
        it->text = d;
    }
    if (new_cats) it->cats = categories;
    if (new_imp) it->imp = (uint32_t)importance;
    it->t = s;
    doc->clock = s.counter;
    return MSD_OK;
}

msd_status msd_mem_forget(msd_mem_doc *doc, const uint8_t id[MSD_MEM_ID_SIZE],
                          const uint8_t device[MSD_MEM_DEVICE_SIZE])
{
    if (doc == NULL || id == NULL || device == NULL) return MSD_ERR_ARGS;
    const long i = mem_find_live(doc, id, NULL);
    if (i < 0) return MSD_ERR_MEM_NOT_FOUND;
    mem_tomb t;
    msd_status st = mem_next_stamp(doc, device, &t.t);
    if (st != MSD_OK || (st = mem_reserve_dead(doc, 1)) != MSD_OK) return st;
    memcpy(t.id, id, MSD_MEM_ID_SIZE);
    /* [MEM-19]: everything but the id goes, unknown keys included. */
    mem_item_free(doc->live[i]);
    memmove(doc->live + i, doc->live + i + 1, (doc->n_live - (size_t)i - 1) * sizeof *doc->live);
    doc->n_live--;
    mem_insert_dead(doc, &t);
    doc->clock = t.t.counter;
    return MSD_OK;
}
