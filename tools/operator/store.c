#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "storage/smt.h"
#include "exitcodes.h"
#include "util.h"

int op_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    const size_t n = alen < blen ? alen : blen;
    const int c = n > 0 ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return alen < blen ? -1 : alen > blen;
}

const char *op_table_name(uint8_t tag)
{
    switch (tag) {
    case MS_TAG_META: return "meta";
    case MS_TAG_ASSET: return "asset";
    case MS_TAG_VERSION: return "version";
    case MS_TAG_CIPHERTEXT: return "ciphertext";
    case MS_TAG_GRANT: return "grant";
    case MS_TAG_GRANT_SLOT: return "grant slot";
    case MS_TAG_NONCE: return "nonce";
    case MS_TAG_UNDO: return "undo";
    default: return tag >= 0x10 && tag <= 0x13 ? "state tree" : "unknown";
    }
}

static int read_meta(op_store *s, uint8_t which, uint8_t *out, size_t size, int *has)
{
    ms_key k;
    ms_key_meta(&k, which);
    uint8_t *v = NULL;
    size_t n = 0;
    const ms_kv_status st = ms_kv_get(s->kv, &v, &n, k.bytes, k.len);
    *has = 0;
    if (st == MS_KV_NOT_FOUND) return 1;
    if (st != MS_KV_OK) return 0;
    if (n == size) {
        memcpy(out, v, size);
        *has = 1;
    } else {
        s->bad_meta = 1;
    }
    free(v);
    return 1;
}

int op_store_open(op_store *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    if (!op_is_store_dir(dir)) {
        op_err("data directory %s does not exist or holds no MemSync store (no RocksDB CURRENT file)", dir);
        return OP_EXIT_STORE;
    }
    const ms_kv_status ks = ms_kv_open(&s->kv, dir);
    if (ks == MS_KV_LOCKED) {
        op_err("data directory %s is locked (MS_ERR_LOCKED): a node or another tool has it open; "
               "stop it, then run this command again",
               dir);
        return OP_EXIT_LOCKED;
    }
    if (ks != MS_KV_OK) {
        op_err("cannot open data directory %s: %s", dir, ks == MS_KV_NOMEM ? "out of memory" : "RocksDB I/O error");
        return ks == MS_KV_NOMEM ? OP_EXIT_IO : OP_EXIT_STORE;
    }
    uint8_t schema[4], height[8], retention[4];
    if (!read_meta(s, MS_META_SCHEMA, schema, 4, &s->has_schema) ||
        !read_meta(s, MS_META_HEIGHT, height, 8, &s->has_height) ||
        !read_meta(s, MS_META_ROOT, s->root, 32, &s->has_root) ||
        !read_meta(s, MS_META_RETENTION, retention, 4, &s->has_retention)) {
        op_err("cannot read the meta records of %s (RocksDB I/O error)", dir);
        op_store_close(s);
        return OP_EXIT_STORE;
    }
    if (s->has_schema) s->schema = ms_get_be32(schema);
    if (s->has_height) s->height = ms_get_be64(height);
    if (s->has_retention) s->retention = ms_get_be32(retention);
    return OP_EXIT_OK;
}

int op_store_tree_current(op_store *s, const char *cmd)
{
    ms_smt *t = NULL;
    uint64_t latest = 0;
    const int ok = ms_smt_open(&t, s->kv, 0) == MS_SMT_OK && ms_smt_info(t, &latest, NULL, NULL) == MS_SMT_OK;
    ms_smt_close(t);
    /* A tree that does not decode is verify's to report. */
    if (!ok || latest >= s->height) return OP_EXIT_OK;
    op_err("%s: the state tree of %s is at version %llu, behind the committed height %llu: a crash took its "
           "newest versions, which the module rebuilds from the undo records when it next opens the store "
           "(spec/storage.md [ST-24]); run `memsync-operator status --module MODULE.so --data %s` (or start the "
           "node) once, then this command again",
           cmd, s->dir, (unsigned long long)latest, (unsigned long long)s->height, s->dir);
    return OP_EXIT_STORE;
}

void op_store_close(op_store *s)
{
    ms_kv_close(s->kv);
    s->kv = NULL;
}

typedef struct loader {
    op_recs *r;
    int keep_ct;
    int nomem;
    op_progress prog;
} loader;

static int load_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    loader *l = ctx;
    op_recs *r = l->r;
    const uint8_t tag = klen > 0 ? key[0] : 0xff;
    if (klen == 0 || klen > MS_KEY_MAX || tag < MS_TAG_ASSET || tag > MS_TAG_NONCE) {
        if (klen > 0 && tag == MS_TAG_META) r->n_meta++;
        else if (klen > 0 && tag == MS_TAG_UNDO) r->n_undo++;
        else if (klen > 0 && tag >= 0x10 && tag <= 0x13) r->n_tree++;
        else {
            if (r->n_other++ == 0) {
                r->other_klen = klen < sizeof r->other_key ? klen : sizeof r->other_key;
                memcpy(r->other_key, key, r->other_klen);
            }
        }
        return 1;
    }
    if (r->n == r->cap) {
        const size_t cap = r->cap ? r->cap * 2 : 1024;
        op_rec *nv = realloc(r->v, cap * sizeof *nv);
        if (nv == NULL) {
            l->nomem = 1;
            return 0;
        }
        r->v = nv;
        r->cap = cap;
    }
    op_rec *e = &r->v[r->n];
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, klen);
    e->klen = (uint8_t)klen;
    e->vlen = vlen;
    ms_keccak256(e->vhash, val, vlen);
    if (vlen > 0 && (l->keep_ct || tag != MS_TAG_CIPHERTEXT)) {
        e->val = malloc(vlen);
        if (e->val == NULL) {
            l->nomem = 1;
            return 0;
        }
        memcpy(e->val, val, vlen);
    }
    r->n++;
    op_progress_tick(&l->prog);
    return 1;
}

int op_store_load(op_store *s, op_recs *out, int keep_ciphertext)
{
    memset(out, 0, sizeof *out);
    loader l;
    memset(&l, 0, sizeof l);
    l.r = out;
    l.keep_ct = keep_ciphertext;
    op_progress_init(&l.prog, "state records read", 100000);
    const ms_kv_status st = ms_kv_scan(s->kv, NULL, 0, load_one, &l);
    op_progress_done(&l.prog);
    if (l.nomem) {
        op_err("out of memory while reading %s", s->dir);
        return OP_EXIT_IO;
    }
    if (st != MS_KV_OK) {
        op_err("RocksDB I/O error while reading %s", s->dir);
        return OP_EXIT_STORE;
    }
    return OP_EXIT_OK;
}

void op_recs_free(op_recs *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->v[i].val);
    free(r->v);
    memset(r, 0, sizeof *r);
}

size_t op_recs_lower(const op_recs *r, const uint8_t *key, size_t klen)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (op_key_cmp(r->v[mid].key, r->v[mid].klen, key, klen) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const op_rec *op_recs_find(const op_recs *r, const uint8_t *key, size_t klen)
{
    const size_t i = op_recs_lower(r, key, klen);
    if (i < r->n && op_key_cmp(r->v[i].key, r->v[i].klen, key, klen) == 0) return &r->v[i];
    return NULL;
}
