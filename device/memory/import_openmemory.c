/* OPENMEMORY import (spec/memory-search.md §4.2, [MSR-45]..): the exports
 * of mem0's OpenMemory and of mem0 itself.
 *  (a) memories.json, OpenMemory's relational dump
 *      (openmemory/api/app/routers/backup.py _export_sqlite): memories[] with
 *      content, state and category_ids, categories[] {id, name}, and the
 *      memory_categories[] link table;
 *  (b) memories.jsonl(.gz), one {id, content, state, categories:[names]} per
 *      line, gzip-compressed or not;
 *  (c) mem0's get_all: {"results":[{id, memory, ...}]}, or a bare array.
 * Only active memories are imported (state absent or "active").
 */
#include "device/memory/memimport.h"
#include "device/memory/zwipe.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* OpenMemory's own category names (its categorisation prompt) that mean
 * one of MemSync's ten [MSR-47]; MemSync's names map to themselves. */
static const struct {
    const char *name;
    uint32_t bit;
} ALIASES[] = {
    {"personal", MSD_CAT_IDENTITY},       {"preferences", MSD_CAT_INTERESTS}, {"entertainment", MSD_CAT_INTERESTS},
    {"work", MSD_CAT_CAREER},             {"education", MSD_CAT_LEARNING},    {"projects", MSD_CAT_PRODUCTIVITY},
    {"organization", MSD_CAT_PRODUCTIVITY}, {"goals", MSD_CAT_PRODUCTIVITY},
};

static uint32_t category_bit(const char *name)
{
    const char *s = name;
    size_t n = strlen(s);
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    uint32_t bit = msr_cat_of(s, n);
    for (size_t i = 0; bit == 0 && i < sizeof ALIASES / sizeof ALIASES[0]; i++) {
        const char *a = ALIASES[i].name;
        if (strlen(a) != n) continue;
        size_t j = 0;
        while (j < n && msr_fold((unsigned char)s[j]) == (unsigned char)a[j]) j++;
        if (j == n) bit = ALIASES[i].bit;
    }
    return bit;
}

/* Categories given as names, or as {name} objects, or as ids via a table. */
static uint32_t categories_of(json_t *list, json_t *id_to_name)
{
    uint32_t cats = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        const char *name = NULL;
        if (id_to_name != NULL && json_is_string(c)) {
            json_t *v = json_object_get(id_to_name, json_string_value(c));
            name = json_is_string(v) ? json_string_value(v) : NULL;
        } else if (json_is_string(c)) {
            name = json_string_value(c);
        } else if (json_is_object(c) && json_is_string(json_object_get(c, "name"))) {
            name = json_string_value(json_object_get(c, "name"));
        }
        if (name != NULL) cats |= category_bit(name);
    }
    return cats;
}

/* One memory record. links: memory id -> [category ids] from the link
 * table (memories.json), or NULL. */
static msd_status record(msr_import *im, json_t *m, json_t *id_to_name, json_t *links)
{
    if (!json_is_object(m)) {
        msr_import_invalid(im);
        return MSD_OK;
    }
    json_t *text = json_object_get(m, "content");
    if (text == NULL) text = json_object_get(m, "memory");
    json_t *state = json_object_get(m, "state");
    if (!json_is_string(text) || !(state == NULL || json_is_null(state) || json_is_string(state))) {
        msr_import_invalid(im);
        return MSD_OK;
    }
    if (json_is_string(state) && strcmp(json_string_value(state), "active") != 0) {
        im->valid++; /* a real record, deliberately left out [MSR-46] */
        return MSD_OK;
    }

    char idbuf[32];
    const char *xid = NULL;
    json_t *id = json_object_get(m, "id");
    if (json_is_string(id)) {
        xid = json_string_value(id);
    } else if (json_is_integer(id)) {
        snprintf(idbuf, sizeof idbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        xid = idbuf;
    }

    uint32_t cats = 0;
    json_t *names = json_object_get(m, "categories"), *ids = json_object_get(m, "category_ids");
    if (json_is_array(names)) cats |= categories_of(names, NULL);
    if (json_is_array(ids)) cats |= categories_of(ids, id_to_name);
    else if (links != NULL && xid != NULL) cats |= categories_of(json_object_get(links, xid), id_to_name);
    if (cats == 0) cats = MSD_CAT_IDENTITY;

    const char *s = json_string_value(text);
    return msr_import_fact(im, s, json_string_length(text) == strlen(s) ? strlen(s) : 0, cats, xid);
}

/* (a) memories.json */
static msd_status relational(msr_import *im, json_t *root)
{
    json_t *id_to_name = json_object(), *links = json_object();
    msd_status st = id_to_name != NULL && links != NULL ? MSD_OK : MSD_ERR_NOMEM;
    json_t *cats = json_object_get(root, "categories");
    for (size_t i = 0; st == MSD_OK && i < json_array_size(cats); i++) {
        json_t *c = json_array_get(cats, i), *id = json_object_get(c, "id"), *name = json_object_get(c, "name");
        if (json_is_string(id) && json_is_string(name) && json_object_set(id_to_name, json_string_value(id), name) != 0)
            st = MSD_ERR_NOMEM;
    }
    json_t *mc = json_object_get(root, "memory_categories");
    for (size_t i = 0; st == MSD_OK && i < json_array_size(mc); i++) {
        json_t *l = json_array_get(mc, i), *mid = json_object_get(l, "memory_id"), *cid = json_object_get(l, "category_id");
        if (!json_is_string(mid) || !json_is_string(cid)) continue;
        json_t *arr = json_object_get(links, json_string_value(mid));
        if (arr == NULL) {
            arr = json_array();
            if (arr == NULL || json_object_set_new(links, json_string_value(mid), arr) != 0) st = MSD_ERR_NOMEM;
        }
        if (st == MSD_OK && json_array_append(arr, cid) != 0) st = MSD_ERR_NOMEM;
    }
    json_t *mems = json_object_get(root, "memories");
    for (size_t i = 0; st == MSD_OK && i < json_array_size(mems); i++)
        st = record(im, json_array_get(mems, i), id_to_name, links);
    json_decref(id_to_name);
    json_decref(links);
    return st;
}

static msd_status jsonl_line(msr_import *im, const char *s, size_t n, void *arg)
{
    (void)arg;
    if (msr_blank(s, n)) return MSD_OK;
    json_t *o = msr_json_load(s, n);
    msd_status st = record(im, o, NULL, NULL); /* NULL (not JSON) counts as invalid */
    json_decref(o);
    return st;
}

/* A gzip stream (one or more members) inflated, up to MSD_MEM_MAX_DOC
 * bytes [MSR-48]. Returns MSD_ERR_IMPORT when it does not inflate. zlib's
 * window holds the plaintext: the hooks of zwipe.h wipe it at inflateEnd,
 * which every path reaches. */
msd_status msr_gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, mem_ztally *tally)
{
    msr_buf b = {0};
    z_stream z;
    memset(&z, 0, sizeof z);
    mem_zwipe_use(&z, tally);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return MSD_ERR_NOMEM; /* a failed init holds nothing */
    msd_status st = MSD_OK;
    size_t used = 0;
    uint8_t chunk[16384];
    while (st == MSD_OK) {
        size_t avail = len - used;
        z.next_in = (Bytef *)(uintptr_t)(in + used);
        z.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        int r = inflate(&z, Z_NO_FLUSH);
        used += (size_t)(z.next_in - (in + used));
        msr_buf_put(&b, chunk, sizeof chunk - z.avail_out);
        sodium_memzero(chunk, sizeof chunk);
        if (b.oom || r == Z_MEM_ERROR) st = MSD_ERR_NOMEM;
        else if (b.len > MSD_MEM_MAX_DOC) st = MSD_ERR_IMPORT;
        else if (r == Z_STREAM_END && used == len) break;
        else if (r == Z_STREAM_END) st = inflateReset(&z) == Z_OK ? MSD_OK : MSD_ERR_IMPORT; /* another member */
        else if (r != Z_OK) st = MSD_ERR_IMPORT; /* corrupt, or truncated (no progress: Z_BUF_ERROR) */
    }
    inflateEnd(&z);
    if (st != MSD_OK) {
        msr_buf_wipe(&b);
        return st;
    }
    char *p;
    st = msr_buf_take(&b, &p, out_len);
    *out = (uint8_t *)p;
    return st;
}

msd_status msr_import_openmemory(msr_import *im, const uint8_t *buf, size_t len)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
        msd_status st = msr_gunzip(buf, len, &plain, &plain_len, NULL);
        if (st != MSD_OK) return st;
        buf = plain;
        len = plain_len;
    }
    msd_status st = MSD_OK;
    json_t *root = msr_json_load((const char *)buf, len);
    if (root == NULL) {
        /* Not one JSON value: JSON lines (b). */
        st = msr_each_line(im, buf, len, jsonl_line, NULL);
    } else if (json_is_object(root) && json_is_array(json_object_get(root, "memories"))) {
        st = relational(im, root);
    } else if (json_is_object(root) && json_is_array(json_object_get(root, "results"))) {
        json_t *r = json_object_get(root, "results");
        for (size_t i = 0; st == MSD_OK && i < json_array_size(r); i++) st = record(im, json_array_get(r, i), NULL, NULL);
    } else if (json_is_array(root)) {
        for (size_t i = 0; st == MSD_OK && i < json_array_size(root); i++)
            st = record(im, json_array_get(root, i), NULL, NULL);
    } else if (json_is_object(root) && (json_object_get(root, "content") != NULL || json_object_get(root, "memory") != NULL)) {
        st = record(im, root, NULL, NULL); /* JSON lines with a single line */
    } else {
        st = MSD_ERR_IMPORT; /* JSON, but none of these shapes */
    }
    json_decref(root);
    if (plain != NULL) {
        sodium_memzero(plain, plain_len);
        free(plain);
    }
    return st;
}
