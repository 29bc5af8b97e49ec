#include "kv_scan.h"

#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

struct ms_kv_reader {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_readoptions_t *ropts;
};

static void reader_free(ms_kv_reader *r)
{
    if (r->db != NULL) rocksdb_close(r->db);
    if (r->ropts != NULL) rocksdb_readoptions_destroy(r->ropts);
    if (r->opts != NULL) rocksdb_options_destroy(r->opts);
    free(r);
}

ms_kv_status ms_kv_reader_open(ms_kv_reader **out, const char *dir)
{
    *out = NULL;
    ms_kv_reader *r = calloc(1, sizeof *r);
    if (r == NULL) return MS_KV_NOMEM;
    r->opts = rocksdb_options_create();
    r->ropts = rocksdb_readoptions_create();
    if (r->opts == NULL || r->ropts == NULL) {
        reader_free(r);
        return MS_KV_NOMEM;
    }
    /* A scan reads every block once: keep it out of any cache. */
    rocksdb_readoptions_set_fill_cache(r->ropts, 0);
    char *err = NULL;
    r->db = rocksdb_open_for_read_only(r->opts, dir, 0, &err);
    if (err != NULL || r->db == NULL) {
        rocksdb_free(err);
        reader_free(r);
        return MS_KV_IO;
    }
    *out = r;
    return MS_KV_OK;
}

void ms_kv_reader_close(ms_kv_reader *r)
{
    if (r != NULL) reader_free(r);
}

ms_kv_status ms_kv_scan(ms_kv_reader *r, const uint8_t *prefix, size_t plen, ms_kv_scan_fn fn, void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator(r->db, r->ropts);
    if (it == NULL) return MS_KV_NOMEM;
    if (plen > 0) rocksdb_iter_seek(it, (const char *)prefix, plen);
    else rocksdb_iter_seek_to_first(it);
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const char *k = rocksdb_iter_key(it, &klen);
        if (plen > 0 && (klen < plen || memcmp(k, prefix, plen) != 0)) break;
        const char *v = rocksdb_iter_value(it, &vlen);
        if (!fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen)) break;
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (err != NULL) {
        rocksdb_free(err);
        return MS_KV_IO;
    }
    return MS_KV_OK;
}
