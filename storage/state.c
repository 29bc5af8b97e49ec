#include "storage/state.h"

#include <stdlib.h>
#include <string.h>

#include "memsync.h"
#include "abi/abi_encode.h"
#include "storage/state_root.h"

static int rc_from_kv(ms_kv_status s)
{
    switch (s) {
    case MS_KV_OK: return MS_OK;
    case MS_KV_LOCKED: return MS_ERR_LOCKED;
    case MS_KV_NOMEM: return MS_ERR_NOMEM;
    default: return MS_ERR_IO;
    }
}

/* Reads a meta value of exactly want bytes; a missing key leaves out as is. */
static int read_meta(ms_kv *kv, uint8_t which, uint8_t *out, size_t want, int *found)
{
    ms_key k;
    uint8_t *val = NULL;
    size_t vlen = 0;
    ms_key_meta(&k, which);
    ms_kv_status s = ms_kv_get(kv, &val, &vlen, k.bytes, k.len);
    *found = 0;
    if (s == MS_KV_NOT_FOUND) return MS_OK;
    if (s != MS_KV_OK) return rc_from_kv(s);
    int rc = MS_OK;
    if (vlen != want) rc = MS_ERR_CORRUPT;
    else memcpy(out, val, want);
    free(val);
    *found = (rc == MS_OK);
    return rc;
}

static int write_schema(ms_kv *kv)
{
    ms_key k;
    uint8_t v[4];
    ms_key_meta(&k, MS_META_SCHEMA);
    ms_put_be32(v, MS_SCHEMA_VERSION);
    ms_kv_batch *b = ms_kv_batch_create();
    if (b == NULL) return MS_ERR_NOMEM;
    ms_kv_batch_put(b, k.bytes, k.len, v, sizeof v);
    int rc = rc_from_kv(ms_kv_write(kv, b, 1));
    ms_kv_batch_destroy(b);
    return rc;
}

int ms_state_open(ms_state *st, const char *dir)
{
    memset(st, 0, sizeof *st);
    int rc = rc_from_kv(ms_kv_open(&st->kv, dir));
    if (rc != MS_OK) return rc;

    uint8_t schema[4], height[8];
    int found_schema, found_height, found_root;
    rc = read_meta(st->kv, MS_META_SCHEMA, schema, sizeof schema, &found_schema);
    if (rc == MS_OK && found_schema && ms_get_be32(schema) != MS_SCHEMA_VERSION) rc = MS_ERR_SCHEMA;
    if (rc == MS_OK) rc = read_meta(st->kv, MS_META_HEIGHT, height, sizeof height, &found_height);
    if (rc == MS_OK) rc = read_meta(st->kv, MS_META_ROOT, st->root, sizeof st->root, &found_root);
    if (rc == MS_OK && !found_schema) {
        /* A store with committed blocks but no schema was not written by us. */
        rc = (found_height || found_root) ? MS_ERR_SCHEMA : write_schema(st->kv);
    }
    if (rc == MS_OK && found_height != found_root) rc = MS_ERR_CORRUPT;
    if (rc == MS_OK) {
        st->height = found_height ? ms_get_be64(height) : 0;
        st->journal = ms_journal_create();
        if (st->journal == NULL) rc = MS_ERR_NOMEM;
    }
    if (rc != MS_OK) ms_state_close(st);
    return rc;
}

void ms_state_close(ms_state *st)
{
    if (st->journal != NULL) ms_journal_destroy(st->journal);
    if (st->kv != NULL) ms_kv_close(st->kv);
    free(st->scratch);
    memset(st, 0, sizeof *st);
}

ms_state_status ms_state_get(ms_state *st, const uint8_t **val, size_t *vlen, const ms_key *key)
{
    int deleted = 0;
    *val = NULL;
    *vlen = 0;
    if (ms_journal_get(st->journal, val, vlen, &deleted, key->bytes, key->len)) {
        return deleted ? MS_STATE_NOT_FOUND : MS_STATE_OK;
    }
    free(st->scratch);
    st->scratch = NULL;
    ms_kv_status s = ms_kv_get(st->kv, &st->scratch, vlen, key->bytes, key->len);
    if (s == MS_KV_NOT_FOUND) return MS_STATE_NOT_FOUND;
    if (s != MS_KV_OK) return MS_STATE_FAULT;
    *val = st->scratch;
    return MS_STATE_OK;
}

ms_state_status ms_state_put(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen)
{
    return ms_journal_put(st->journal, key->bytes, key->len, val, vlen) ? MS_STATE_OK : MS_STATE_FAULT;
}

ms_state_status ms_state_delete(ms_state *st, const ms_key *key)
{
    return ms_journal_delete(st->journal, key->bytes, key->len) ? MS_STATE_OK : MS_STATE_FAULT;
}

ms_state_status ms_state_get_asset(ms_state *st, ms_asset *a, const uint8_t asset32[32])
{
    ms_key k;
    const uint8_t *val;
    size_t vlen;
    ms_key_asset(&k, asset32);
    memset(a, 0, sizeof *a);
    ms_state_status s = ms_state_get(st, &val, &vlen, &k);
    if (s != MS_STATE_OK) return s;
    return ms_asset_decode(a, val, vlen) ? MS_STATE_OK : MS_STATE_FAULT;
}

ms_state_status ms_state_put_asset(ms_state *st, const uint8_t asset32[32], const ms_asset *a)
{
    ms_key k;
    uint8_t rec[MS_ASSET_RECORD_SIZE];
    ms_key_asset(&k, asset32);
    ms_asset_encode(rec, a);
    return ms_state_put(st, &k, rec, sizeof rec);
}

ms_state_status ms_state_get_version(ms_state *st, ms_version *v, const uint8_t asset32[32], uint64_t version)
{
    ms_key k;
    const uint8_t *val;
    size_t vlen;
    ms_key_version(&k, asset32, version);
    memset(v, 0, sizeof *v);
    ms_state_status s = ms_state_get(st, &val, &vlen, &k);
    if (s != MS_STATE_OK) return s;
    return ms_version_decode(v, val, vlen) ? MS_STATE_OK : MS_STATE_FAULT;
}

ms_state_status ms_state_put_version(ms_state *st, const uint8_t asset32[32], uint64_t version, const ms_version *v)
{
    ms_key k;
    uint8_t rec[MS_VERSION_RECORD_SIZE];
    ms_key_version(&k, asset32, version);
    ms_version_encode(rec, v);
    return ms_state_put(st, &k, rec, sizeof rec);
}

ms_state_status ms_state_get_grant(ms_state *st, ms_grant *g, const uint8_t asset32[32], const uint8_t grantee20[20])
{
    ms_key k;
    const uint8_t *val;
    size_t vlen;
    ms_key_grant(&k, asset32, grantee20);
    memset(g, 0, sizeof *g);
    ms_state_status s = ms_state_get(st, &val, &vlen, &k);
    if (s != MS_STATE_OK) return s;
    return ms_grant_decode(g, val, vlen) ? MS_STATE_OK : MS_STATE_FAULT;
}

ms_state_status ms_state_put_grant(ms_state *st, const uint8_t asset32[32], const uint8_t grantee20[20], const ms_grant *g)
{
    ms_key k;
    uint8_t rec[MS_GRANT_FIXED_SIZE + MS_MAX_WRAPPED_KEY_CEILING];
    if (g->wrapped_len > MS_MAX_WRAPPED_KEY_CEILING) return MS_STATE_FAULT;
    ms_key_grant(&k, asset32, grantee20);
    ms_grant_encode(rec, g);
    return ms_state_put(st, &k, rec, MS_GRANT_FIXED_SIZE + (size_t)g->wrapped_len);
}

ms_state_status ms_state_get_slot(ms_state *st, uint8_t grantee20[20], const uint8_t asset32[32], uint32_t slot)
{
    ms_key k;
    const uint8_t *val;
    size_t vlen;
    ms_key_grant_slot(&k, asset32, slot);
    memset(grantee20, 0, 20);
    ms_state_status s = ms_state_get(st, &val, &vlen, &k);
    if (s != MS_STATE_OK) return s;
    if (vlen != 20) return MS_STATE_FAULT;
    memcpy(grantee20, val, 20);
    return MS_STATE_OK;
}

ms_state_status ms_state_get_nonce(ms_state *st, uint64_t *nonce, const uint8_t addr20[20])
{
    ms_key k;
    const uint8_t *val;
    size_t vlen;
    ms_key_nonce(&k, addr20);
    *nonce = 0;
    ms_state_status s = ms_state_get(st, &val, &vlen, &k);
    if (s == MS_STATE_NOT_FOUND) return MS_STATE_OK;
    if (s != MS_STATE_OK) return s;
    if (vlen != 8) return MS_STATE_FAULT;
    *nonce = ms_get_be64(val);
    return MS_STATE_OK;
}

ms_state_status ms_state_put_nonce(ms_state *st, const uint8_t addr20[20], uint64_t nonce)
{
    ms_key k;
    uint8_t v[8];
    ms_key_nonce(&k, addr20);
    ms_put_be64(v, nonce);
    return ms_state_put(st, &k, v, sizeof v);
}

/* Undo record of one block (spec/storage.md): count u32, then per key in
 * ascending order: klen u8 | key | present u8 | [vlen u32 | value], the
 * committed value the block overwrote. */
static int build_undo(ms_state *st, ms_buf *undo, const ms_overlay_entry *const *entries, size_t count)
{
    uint8_t be[4];
    ms_put_be32(be, (uint32_t)count);
    ms_buf_put(undo, be, 4);
    for (size_t i = 0; i < count; i++) {
        const ms_overlay_entry *e = entries[i];
        uint8_t *old = NULL;
        size_t olen = 0;
        const ms_kv_status s = ms_kv_get(st->kv, &old, &olen, e->key, e->klen);
        if (s != MS_KV_OK && s != MS_KV_NOT_FOUND) return rc_from_kv(s);
        const uint8_t klen = (uint8_t)e->klen, present = s == MS_KV_OK;
        ms_buf_put(undo, &klen, 1);
        ms_buf_put(undo, e->key, e->klen);
        ms_buf_put(undo, &present, 1);
        if (present) {
            ms_put_be32(be, (uint32_t)olen);
            ms_buf_put(undo, be, 4);
            ms_buf_put(undo, old, olen);
        }
        free(old);
    }
    return undo->failed ? MS_ERR_NOMEM : MS_OK;
}

static void put_head(ms_kv_batch *b, uint64_t height, const uint8_t root[32])
{
    ms_key k;
    uint8_t hbuf[8];
    ms_put_be64(hbuf, height);
    ms_key_meta(&k, MS_META_HEIGHT);
    ms_kv_batch_put(b, k.bytes, k.len, hbuf, sizeof hbuf);
    ms_key_meta(&k, MS_META_ROOT);
    ms_kv_batch_put(b, k.bytes, k.len, root, 32);
}

int ms_state_commit(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth)
{
    const ms_overlay_entry *const *entries;
    size_t count;
    if (!ms_journal_sorted(st->journal, &entries, &count)) return MS_ERR_NOMEM;

    uint8_t root[32];
    ms_state_root_next(root, st->root, height, entries, count);

    ms_buf undo;
    ms_buf_init(&undo);
    int rc = build_undo(st, &undo, entries, count);
    ms_kv_batch *b = rc == MS_OK ? ms_kv_batch_create() : NULL;
    if (rc == MS_OK && b == NULL) rc = MS_ERR_NOMEM;
    if (rc == MS_OK) {
        for (size_t i = 0; i < count; i++) {
            const ms_overlay_entry *e = entries[i];
            if (e->deleted) ms_kv_batch_delete(b, e->key, e->klen);
            else ms_kv_batch_put(b, e->key, e->klen, e->val, e->vlen);
        }
        ms_key k;
        ms_key_undo(&k, height);
        ms_kv_batch_put(b, k.bytes, k.len, undo.data, undo.size);
        ms_key_root_at(&k, height);
        ms_kv_batch_put(b, k.bytes, k.len, root, 32);
        /* Keep the undo of the last R blocks and the roots of the R + 1
         * heights a rollback can return to. */
        if (height > reorg_depth) {
            ms_key_undo(&k, height - reorg_depth);
            ms_kv_batch_delete(b, k.bytes, k.len);
            ms_key_root_at(&k, height - reorg_depth - 1);
            ms_kv_batch_delete(b, k.bytes, k.len);
        }
        put_head(b, height, root);
        rc = rc_from_kv(ms_kv_write(st->kv, b, 1));
    }
    ms_kv_batch_destroy(b);
    ms_buf_free(&undo);
    if (rc != MS_OK) return rc;

    ms_journal_clear(st->journal);
    st->height = height;
    memcpy(st->root, root, 32);
    memcpy(root32, root, 32);
    return MS_OK;
}

int ms_state_root_at(ms_state *st, uint8_t root32[32], uint64_t height, uint32_t reorg_depth)
{
    memset(root32, 0, 32);
    if (height > st->height || st->height - height > reorg_depth) return MS_ERR_HEIGHT;
    if (height == st->height) {
        memcpy(root32, st->root, 32);
        return MS_OK;
    }
    if (height == 0) return MS_OK;
    ms_key k;
    uint8_t *val = NULL;
    size_t vlen = 0;
    ms_key_root_at(&k, height);
    const ms_kv_status s = ms_kv_get(st->kv, &val, &vlen, k.bytes, k.len);
    int rc = s == MS_KV_NOT_FOUND ? MS_ERR_HEIGHT : rc_from_kv(s);
    if (rc == MS_OK && vlen != 32) rc = MS_ERR_CORRUPT;
    if (rc == MS_OK) memcpy(root32, val, 32);
    free(val);
    return rc;
}

/* Queue the inverse of one block's undo record into b. */
static int apply_undo(ms_state *st, ms_kv_batch *b, uint64_t height)
{
    ms_key k;
    uint8_t *rec = NULL;
    size_t len = 0;
    ms_key_undo(&k, height);
    const ms_kv_status s = ms_kv_get(st->kv, &rec, &len, k.bytes, k.len);
    if (s == MS_KV_NOT_FOUND) return MS_ERR_REORG_DEPTH;   /* pruned under an earlier, smaller R */
    if (s != MS_KV_OK) return rc_from_kv(s);
    int rc = len >= 4 ? MS_OK : MS_ERR_CORRUPT;
    size_t pos = 4;
    const uint32_t n = rc == MS_OK ? ms_get_be32(rec) : 0;
    for (uint32_t i = 0; i < n && rc == MS_OK; i++) {
        if (len - pos < 1 || len - pos - 1 < (size_t)rec[pos] + 1) { rc = MS_ERR_CORRUPT; break; }
        const size_t klen = rec[pos];
        const uint8_t *key = rec + pos + 1;
        const uint8_t present = rec[pos + 1 + klen];
        pos += 2 + klen;
        if (!present) {
            ms_kv_batch_delete(b, key, klen);
            continue;
        }
        if (len - pos < 4) { rc = MS_ERR_CORRUPT; break; }
        const size_t vlen = ms_get_be32(rec + pos);
        pos += 4;
        if (len - pos < vlen) { rc = MS_ERR_CORRUPT; break; }
        ms_kv_batch_put(b, key, klen, rec + pos, vlen);
        pos += vlen;
    }
    if (rc == MS_OK && pos != len) rc = MS_ERR_CORRUPT;
    if (rc == MS_OK) {
        ms_kv_batch_delete(b, k.bytes, k.len);
        ms_key_root_at(&k, height);
        ms_kv_batch_delete(b, k.bytes, k.len);
    }
    free(rec);
    return rc;
}

int ms_state_rollback(ms_state *st, uint64_t height, uint32_t reorg_depth)
{
    if (height > st->height) return MS_ERR_HEIGHT;
    if (st->height - height > reorg_depth) return MS_ERR_REORG_DEPTH;
    ms_journal_clear(st->journal);
    if (height == st->height) return MS_OK;

    uint8_t root[32];
    int rc = ms_state_root_at(st, root, height, reorg_depth);
    if (rc == MS_ERR_HEIGHT) rc = MS_ERR_REORG_DEPTH;
    ms_kv_batch *b = rc == MS_OK ? ms_kv_batch_create() : NULL;
    if (rc == MS_OK && b == NULL) rc = MS_ERR_NOMEM;
    /* Newest block first: for a key changed in several blocks, the batch's
     * last write is the value from before height + 1. */
    for (uint64_t h = st->height; rc == MS_OK && h > height; h--) rc = apply_undo(st, b, h);
    if (rc == MS_OK) {
        put_head(b, height, root);
        rc = rc_from_kv(ms_kv_write(st->kv, b, 1));
    }
    ms_kv_batch_destroy(b);
    if (rc != MS_OK) return rc;
    st->height = height;
    memcpy(st->root, root, 32);
    return MS_OK;
}
