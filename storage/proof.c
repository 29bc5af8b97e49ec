/* State proof bundles: a record's value at a retained height together with
 * the tree's proof of it (spec/state.md, "State proof bundle"). */
#include <stdlib.h>
#include <string.h>

#include "memsync.h"
#include "storage/smt.h"
#include "storage/state.h"
#include "storage/undo.h"

/* The committed value of key at height: the current value, unless a block
 * above height changed it, in which case the undo record of the lowest such
 * block holds the value from before it. Out: *val is malloc'd (caller frees). */
static int value_at(ms_state *st, int *present, uint8_t **val, size_t *vlen, const ms_key *key, uint64_t height)
{
    *val = NULL;
    *vlen = 0;
    ms_kv_status s = ms_kv_get(st->kv, val, vlen, key->bytes, key->len);
    if (s != MS_KV_OK && s != MS_KV_NOT_FOUND) return ms_rc_from_kv(s);
    *present = s == MS_KV_OK;
    uint64_t h = st->height;
    while (h > height) {
        ms_key uk;
        uint8_t *rec = NULL;
        size_t len = 0;
        ms_key_undo(&uk, h);
        s = ms_kv_get(st->kv, &rec, &len, uk.bytes, uk.len);
        if (s == MS_KV_NOT_FOUND) return MS_ERR_HEIGHT;
        if (s != MS_KV_OK) return ms_rc_from_kv(s);
        ms_undo_reader r;
        ms_undo_entry e;
        int more = ms_undo_open(&r, rec, len) ? 1 : -1;
        while (more > 0 && (more = ms_undo_next(&r, &e)) > 0) {
            if (e.klen != key->len || memcmp(e.key, key->bytes, e.klen) != 0) continue;
            free(*val);
            *val = NULL;
            *vlen = 0;
            *present = e.present;
            if (e.present && e.vlen > 0) {
                *val = malloc(e.vlen);
                if (*val == NULL) more = -2;
                else memcpy(*val, e.val, e.vlen);
                *vlen = e.vlen;
            }
            break;
        }
        h = r.prev;
        free(rec);
        if (more == -2) return MS_ERR_NOMEM;
        if (more < 0) return MS_ERR_CORRUPT;
    }
    return MS_OK;
}

int ms_state_prove(ms_state *st, uint8_t *out, size_t cap, size_t *out_len, uint64_t height, const ms_key *key)
{
    *out_len = 0;
    uint8_t root[32];
    int rc = ms_state_root_at(st, root, height);
    if (rc != MS_OK) return rc;
    int present = 0;
    uint8_t *val = NULL;
    size_t vlen = 0;
    rc = value_at(st, &present, &val, &vlen, key, height);
    /* format 1 | height 8 | root 32 | klen 1 | key | present 1 | vlen 4 | value | plen 4 | proof */
    const size_t head = 1 + 8 + 32 + 1 + key->len + 1 + 4;
    if (rc == MS_OK && (cap < head + 4 || cap - head - 4 < vlen)) rc = MS_ERR_ARGUMENT;
    if (rc == MS_OK) {
        size_t p = 0;
        out[p++] = MS_STATE_PROOF_FORMAT;
        ms_put_be64(out + p, height);
        p += 8;
        memcpy(out + p, root, 32);
        p += 32;
        out[p++] = (uint8_t)key->len;
        memcpy(out + p, key->bytes, key->len);
        p += key->len;
        out[p++] = (uint8_t)present;
        ms_put_be32(out + p, (uint32_t)vlen);
        p += 4;
        if (vlen > 0) memcpy(out + p, val, vlen);
        p += vlen;
        size_t plen = 0;
        int proved_present = 0;
        rc = ms_rc_from_smt(ms_smt_prove(st->smt, height, key->bytes, key->len, out + p + 4, cap - p - 4, &plen,
                                         &proved_present));
        /* The tree and the undo chain are written together; disagreeing is damage. */
        if (rc == MS_OK && proved_present != present) rc = MS_ERR_CORRUPT;
        if (rc == MS_OK) {
            ms_put_be32(out + p, (uint32_t)plen);
            *out_len = p + 4 + plen;
        }
    }
    free(val);
    return rc;
}
