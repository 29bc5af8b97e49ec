#include "storage/state.h"

#include <stdlib.h>
#include <string.h>

#include "memsync.h"
#include "storage/record_cache.h"
#include "storage/siphash.h"
#include "storage/smt.h"
#include "storage/undo.h"

int ms_rc_from_kv(ms_kv_status s)
{
    switch (s) {
    case MS_KV_OK: return MS_OK;
    case MS_KV_LOCKED: return MS_ERR_LOCKED;
    case MS_KV_NOMEM: return MS_ERR_NOMEM;
    /* MS_KV_TOO_LARGE: a block beyond the storage limits of [HOST-52],
     * which stops every node alike: a fatal storage error, not a revert. */
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
    if (s != MS_KV_OK) return ms_rc_from_kv(s);
    int rc = MS_OK;
    if (vlen != want) rc = MS_ERR_CORRUPT;
    else memcpy(out, val, want);
    free(val);
    *found = (rc == MS_OK);
    return rc;
}

/* A u32 meta record in its own synced batch. */
static int write_meta_u32(ms_kv *kv, uint8_t which, uint32_t value)
{
    ms_key k;
    uint8_t v[4];
    ms_key_meta(&k, which);
    ms_put_be32(v, value);
    ms_kv_batch *b = ms_kv_batch_create();
    if (b == NULL) return MS_ERR_NOMEM;
    ms_kv_batch_put(b, k.bytes, k.len, v, sizeof v);
    int rc = ms_rc_from_kv(ms_kv_write(kv, b, 1));
    ms_kv_batch_destroy(b);
    return rc;
}

int ms_state_open(ms_state *st, const char *dir, uint32_t reorg_depth)
{
    memset(st, 0, sizeof *st);
    st->max_entries = MS_MAX_BLOCK_ENTRIES;
    st->batch_keep = MS_STATE_BATCH_KEEP;
    st->unlogged_min = MS_STATE_UNLOGGED_MIN;
    st->max_undo = MS_UNDO_RECORD_MAX;
    int rc = ms_rc_from_kv(ms_kv_open(&st->kv, dir));
    if (rc != MS_OK) return rc;

    uint8_t schema[4], height[8];
    int found_schema, found_height, found_root;
    rc = read_meta(st->kv, MS_META_SCHEMA, schema, sizeof schema, &found_schema);
    if (rc == MS_OK && found_schema && ms_get_be32(schema) != MS_SCHEMA_VERSION) rc = MS_ERR_SCHEMA;
    if (rc == MS_OK) rc = read_meta(st->kv, MS_META_HEIGHT, height, sizeof height, &found_height);
    if (rc == MS_OK) rc = read_meta(st->kv, MS_META_ROOT, st->root, sizeof st->root, &found_root);
    if (rc == MS_OK && !found_schema) {
        /* A store with committed blocks but no schema was not written by us. */
        rc = (found_height || found_root) ? MS_ERR_SCHEMA : write_meta_u32(st->kv, MS_META_SCHEMA, MS_SCHEMA_VERSION);
    }
    if (rc == MS_OK && found_height != found_root) rc = MS_ERR_CORRUPT;
    if (rc == MS_OK) {
        /* The overlay's bucket key ([ST-23]): per instance, never stored. */
        uint8_t key[MS_SIPHASH_KEY_SIZE];
        st->height = found_height ? ms_get_be64(height) : 0;
        if (!ms_siphash_random_key(key)) rc = MS_ERR_IO;
        else if ((st->journal = ms_journal_create_keyed(key)) == NULL) rc = MS_ERR_NOMEM;
        memset(key, 0, sizeof key);
    }
    if (rc == MS_OK) {
        st->records = ms_rcache_create();
        if (st->records == NULL) rc = MS_ERR_NOMEM;
    }
    if (rc == MS_OK) rc = ms_rc_from_smt(ms_smt_open(&st->smt, st->kv, MS_SMT_CACHE_DEFAULT));
    if (rc == MS_OK) {
        /* [ST-16], [ST-24]: the tree is at the head, or behind it by the
         * versions a crash took from the memtable (rebuilt here); never
         * ahead, since a commit writes the head first. */
        uint64_t latest = 0, oldest = 0;
        uint8_t root[32];
        rc = ms_rc_from_smt(ms_smt_info(st->smt, &latest, &oldest, root));
        if (rc == MS_OK && latest > st->height) rc = MS_ERR_CORRUPT;
        if (rc == MS_OK && latest < st->height) rc = ms_state_rebuild_tree(st, latest, reorg_depth);
        else if (rc == MS_OK && memcmp(root, st->root, 32) != 0) rc = MS_ERR_CORRUPT;
        ms_state_tree_durable(st, st->height);
    }
    if (rc != MS_OK) ms_state_close(st);
    return rc;
}

int ms_state_fix_retention(ms_state *st, uint32_t k)
{
    uint8_t v[4];
    int found = 0;
    const int rc = read_meta(st->kv, MS_META_RETENTION, v, sizeof v, &found);
    if (rc != MS_OK) return rc;
    if (found) return ms_get_be32(v) == k ? MS_OK : MS_ERR_CONFIG;
    /* A fresh directory, or one written before K was recorded. */
    return write_meta_u32(st->kv, MS_META_RETENTION, k);
}

int ms_rc_from_smt(int smt_status)
{
    switch ((ms_smt_status)smt_status) {
    case MS_SMT_OK: return MS_OK;
    case MS_SMT_NOT_RETAINED: return MS_ERR_HEIGHT;
    case MS_SMT_NOMEM: return MS_ERR_NOMEM;
    case MS_SMT_CORRUPT: return MS_ERR_CORRUPT;
    case MS_SMT_ARGUMENT: return MS_ERR_ARGUMENT;
    default: return MS_ERR_IO;
    }
}

void ms_state_release_batch(const ms_state *st, ms_kv_batch **batch)
{
    size_t len = 0;
    (void)ms_kv_batch_data(*batch, &len);
    if (len > st->batch_keep) {
        ms_kv_batch_destroy(*batch);
        *batch = NULL;
    } else {
        ms_kv_batch_clear(*batch);
    }
}

void ms_state_close(ms_state *st)
{
    /* A failed tree write leaves its versions to the next open's rebuild. */
    (void)ms_state_tree_join(st, NULL);
    /* [ST-24]: the tree's unlogged versions go to disk now rather than be
     * rebuilt at the next open (RocksDB's close would flush them too; a
     * failure here only leaves that rebuild). */
    if (st->kv != NULL && st->tree_durable < st->height) (void)ms_kv_flush(st->kv);
    if (st->smt != NULL) ms_smt_close(st->smt);
    if (st->journal != NULL) ms_journal_destroy(st->journal);
    ms_rcache_destroy(st->records);
    ms_kv_batch_destroy(st->batch);
    ms_kv_batch_destroy(st->tree_batch);
    if (st->kv != NULL) ms_kv_close(st->kv);
    free(st->scratch);
    ms_state_forget_reads(st);
    memset(st, 0, sizeof *st);
}

_Static_assert(MS_GRANT_FIXED_SIZE + MS_MAX_WRAPPED_KEY_CEILING <= MS_STATE_RECENT_MAX,
               "every record but a ciphertext fits a recent read");

void ms_state_forget_reads(ms_state *st)
{
    for (unsigned i = 0; i < MS_STATE_RECENT; i++) {
        free(st->recent[i].val);
        st->recent[i].val = NULL;
        st->recent[i].klen = 0;
    }
    st->recent_next = 0;
}

static const ms_recent_read *recent_find(const ms_state *st, const ms_key *key)
{
    for (unsigned i = 0; i < MS_STATE_RECENT; i++) {
        const ms_recent_read *r = &st->recent[i];
        if (r->klen == key->len && memcmp(r->key, key->bytes, key->len) == 0) return r;
    }
    return NULL;
}

/* Takes val (malloc'd or NULL). */
static const ms_recent_read *recent_add(ms_state *st, const ms_key *key, int present, uint8_t *val, size_t vlen)
{
    ms_recent_read *r = &st->recent[st->recent_next];
    st->recent_next = (st->recent_next + 1) % MS_STATE_RECENT;
    free(r->val);
    memcpy(r->key, key->bytes, key->len);
    r->klen = key->len;
    r->present = present;
    r->val = val;
    r->vlen = vlen;
    return r;
}

/* Order: the block's overlay, the record cache, the block's recent larger
 * reads, RocksDB. A value read from RocksDB goes to the record cache when
 * small enough, else to the ring (or, beyond its bound, to scratch). */
ms_state_status ms_state_get(ms_state *st, const uint8_t **val, size_t *vlen, const ms_key *key)
{
    int deleted = 0;
    *val = NULL;
    *vlen = 0;
    if (ms_journal_get(st->journal, val, vlen, &deleted, key->bytes, key->len)) {
        return deleted ? MS_STATE_NOT_FOUND : MS_STATE_OK;
    }
    const ms_rcache_entry *c = ms_rcache_find(st->records, key->bytes, key->len);
    const ms_recent_read *r = c == NULL ? recent_find(st, key) : NULL;
    if (c == NULL && r == NULL) {
        free(st->scratch);
        st->scratch = NULL;
        uint8_t *got = NULL;
        size_t n = 0;
        const ms_kv_status s = ms_kv_get(st->kv, &got, &n, key->bytes, key->len);
        if (s != MS_KV_OK && s != MS_KV_NOT_FOUND) return MS_STATE_FAULT;
        c = ms_rcache_put(st->records, key->bytes, key->len, s == MS_KV_OK, got, n);
        if (c != NULL) {
            free(got);
        } else if (n > MS_STATE_RECENT_MAX) {
            st->scratch = got;
            *val = got;
            *vlen = n;
            return MS_STATE_OK;
        } else {
            r = recent_add(st, key, s == MS_KV_OK, got, n);
        }
    }
    if (c != NULL) {
        if (!c->present) return MS_STATE_NOT_FOUND;
        *val = c->vlen > 0 ? c->val : NULL;
        *vlen = c->vlen;
        return MS_STATE_OK;
    }
    if (!r->present) return MS_STATE_NOT_FOUND;
    *val = r->val;
    *vlen = r->vlen;
    return MS_STATE_OK;
}

/* A write to a key read just before tells the journal its committed value
 * (the record cache and the ring hold committed values only). */
static void note_prior(ms_state *st, const ms_key *key)
{
    /* Out of memory here only leaves the prior unknown: commit reads it. */
    const ms_rcache_entry *c = ms_rcache_find(st->records, key->bytes, key->len);
    if (c != NULL) {
        (void)ms_journal_note_prior(st->journal, key->bytes, key->len, c->present, c->vlen > 0 ? c->val : NULL,
                                    c->vlen);
        return;
    }
    const ms_recent_read *r = recent_find(st, key);
    if (r != NULL) (void)ms_journal_note_prior(st->journal, key->bytes, key->len, r->present, r->val, r->vlen);
}

ms_state_status ms_state_put(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen)
{
    if (!ms_journal_put(st->journal, key->bytes, key->len, val, vlen)) return MS_STATE_FAULT;
    note_prior(st, key);
    return MS_STATE_OK;
}

ms_state_status ms_state_put_new(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen)
{
    return ms_state_put_new_hashed(st, key, val, vlen, NULL);
}

ms_state_status ms_state_put_new_hashed(ms_state *st, const ms_key *key, const uint8_t *val, size_t vlen,
                                        const uint8_t hash32[32])
{
    if (!ms_journal_put_hashed(st->journal, key->bytes, key->len, val, vlen, hash32)) return MS_STATE_FAULT;
    (void)ms_journal_note_prior(st->journal, key->bytes, key->len, 0, NULL, 0);
    return MS_STATE_OK;
}

ms_state_status ms_state_delete(ms_state *st, const ms_key *key)
{
    if (!ms_journal_delete(st->journal, key->bytes, key->len)) return MS_STATE_FAULT;
    note_prior(st, key);
    return MS_STATE_OK;
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

static ms_state_status put_version(ms_state *st, const uint8_t asset32[32], uint64_t version, const ms_version *v,
                                   int is_new)
{
    ms_key k;
    uint8_t rec[MS_VERSION_RECORD_SIZE];
    ms_key_version(&k, asset32, version);
    ms_version_encode(rec, v);
    return is_new ? ms_state_put_new(st, &k, rec, sizeof rec) : ms_state_put(st, &k, rec, sizeof rec);
}

ms_state_status ms_state_put_version(ms_state *st, const uint8_t asset32[32], uint64_t version, const ms_version *v)
{
    return put_version(st, asset32, version, v, 0);
}

ms_state_status ms_state_put_new_version(ms_state *st, const uint8_t asset32[32], uint64_t version,
                                         const ms_version *v)
{
    return put_version(st, asset32, version, v, 1);
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

