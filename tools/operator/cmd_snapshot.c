/* snapshot export / import (spec/snapshot.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "exitcodes.h"
#include "module/memsync.h"
#include "naive_root.h"
#include "snapshot.h"
#include "state_at.h"
#include "storage/smt.h"
#include "store.h"
#include "util.h"

/* The K line of export and import: an operator restoring a node must start
 * it with this K, and would otherwise only learn it from a refused create. */
static void print_retention(uint32_t k)
{
    if (k != 0)
        printf("retention K %u: a node on the imported store must run retained_versions %u "
               "(spec/host-abi.md [HOST-53])\n",
               (unsigned)k, (unsigned)k);
    else
        printf("retention K none recorded: the first create over the imported store records its "
               "config's retained_versions\n");
}

static int export_at(op_store *s, const char *out, const char *hopt)
{
    if (!s->has_schema || s->schema != MS_SCHEMA_VERSION || !s->has_height || !s->has_root || s->bad_meta) {
        op_err("snapshot export: %s has no committed block of state schema %u (schema %s, height %s)", s->dir,
               (unsigned)MS_SCHEMA_VERSION, s->has_schema ? "present" : "absent", s->has_height ? "present" : "absent");
        return s->has_schema && s->schema != MS_SCHEMA_VERSION ? OP_EXIT_STORE : OP_EXIT_HEIGHT;
    }
    /* A K the module would never have recorded: carrying it would give the
     * imported store a K no config opens ([HOST-53]). */
    if (s->has_retention && (s->retention < 1 || s->retention > MS_MAX_RETAINED_CEILING)) {
        op_err("snapshot export: %s records retention K %u, outside 1..%u: no config can open it "
               "(spec/host-abi.md [HOST-38], [HOST-53]); no snapshot written",
               s->dir, (unsigned)s->retention, (unsigned)MS_MAX_RETAINED_CEILING);
        return OP_EXIT_CORRUPT;
    }
    uint64_t height = s->height;
    if (hopt != NULL && !text_u64(hopt, &height)) {
        op_err("snapshot export: --height: '%s' is not a number", hopt);
        return OP_EXIT_USAGE;
    }
    if (height == 0) {
        op_err("snapshot export: height 0 is before the first block: nothing to export");
        return OP_EXIT_HEIGHT;
    }
    op_recs recs;
    int code = op_store_load(s, &recs, 1);
    if (code == OP_EXIT_OK && height != s->height) code = op_state_rewind(s, &recs, height);
    uint8_t want[32], got[32];
    if (code == OP_EXIT_OK) {
        /* The root the chain committed at that height, from the tree. */
        ms_smt *t = NULL;
        ms_smt_status ts = ms_smt_open(&t, s->kv, 0);
        if (ts == MS_SMT_OK) ts = ms_smt_root(t, height, want, NULL);
        ms_smt_close(t);
        if (ts == MS_SMT_NOT_RETAINED) {
            op_err("snapshot export: height %llu is not retained by the state tree", (unsigned long long)height);
            code = OP_EXIT_HEIGHT;
        } else if (ts != MS_SMT_OK) {
            op_err("snapshot export: cannot read the state tree's root of height %llu: run verify",
                   (unsigned long long)height);
            code = OP_EXIT_CORRUPT;
        } else if (height == s->height && memcmp(want, s->root, 32) != 0) {
            op_err("snapshot export: the tree's root differs from the committed root: run verify");
            code = OP_EXIT_CORRUPT;
        }
    }
    if (code == OP_EXIT_OK) code = op_recs_root(&recs, got);
    if (code == OP_EXIT_OK && memcmp(got, want, 32) != 0) {
        op_err("snapshot export: the records of height %llu do not hash to its committed root: "
               "the store is corrupt, run verify (no snapshot written)",
               (unsigned long long)height);
        code = OP_EXIT_CORRUPT;
    }
    if (code == OP_EXIT_OK) {
        op_snap_writer w;
        uint64_t bytes = 0;
        /* [SN-6]: K is the store's, not the height's: it is fixed at activation ([ST-9]). */
        const uint32_t k = s->has_retention ? s->retention : 0;
        if (!op_snap_write_begin(&w, out, MS_SCHEMA_VERSION, height, want, recs.n, k)) code = OP_EXIT_IO;
        op_progress p;
        op_progress_init(&p, "records written", 100000);
        for (size_t i = 0; code == OP_EXIT_OK && i < recs.n; i++) {
            op_snap_write_record(&w, recs.v[i].key, recs.v[i].klen, recs.v[i].val, recs.v[i].vlen);
            bytes += recs.v[i].vlen;
            op_progress_tick(&p);
        }
        op_progress_done(&p);
        if (code == OP_EXIT_OK && !op_snap_write_end(&w, out)) code = OP_EXIT_IO;
        if (code == OP_EXIT_OK) {
            printf("snapshot of %s at height %llu: %zu records (%llu value bytes), root ", s->dir,
                   (unsigned long long)height, recs.n, (unsigned long long)bytes);
            op_hex(stdout, want, 32);
            putchar('\n');
            print_retention(s->has_retention ? s->retention : 0);
            printf("written to %s\n", out);
        } else {
            remove(out);
        }
    }
    op_recs_free(&recs);
    return code;
}

int cmd_snapshot_export(int argc, char **argv)
{
    op_opt o[] = {{"--data", 0, NULL}, {"--out", 0, NULL}, {"--height", 0, NULL}};
    const size_t n = sizeof o / sizeof o[0];
    if (!op_parse_opts("snapshot export", argc, argv, o, n) || !op_require("snapshot export", o, n, "--data") ||
        !op_require("snapshot export", o, n, "--out"))
        return OP_EXIT_USAGE;
    op_store s;
    int code = op_store_open(&s, op_opt_get(o, n, "--data"));
    if (code != OP_EXIT_OK) return code;
    code = op_store_tree_current(&s, "snapshot export");
    if (code == OP_EXIT_OK) code = export_at(&s, op_opt_get(o, n, "--out"), op_opt_get(o, n, "--height"));
    op_store_close(&s);
    return code;
}

/* Writes the records, the tree of version `height` and the meta records
 * (with K when the snapshot carries one) in one synced batch. */
static int import_into(const op_snapshot *sn, const char *dir)
{
    ms_kv *kv = NULL;
    const ms_kv_status ks = ms_kv_open(&kv, dir);
    if (ks != MS_KV_OK) {
        op_err("snapshot import: cannot create a store in %s (%s)", dir,
               ks == MS_KV_LOCKED ? "MS_ERR_LOCKED: another process holds it" : "RocksDB I/O error");
        return ks == MS_KV_LOCKED ? OP_EXIT_LOCKED : OP_EXIT_STORE;
    }
    int code = OP_EXIT_OK;
    ms_smt *t = NULL;
    ms_kv_batch *b = ms_kv_batch_create();
    ms_smt_op *ops = malloc((sn->count ? sn->count : 1) * sizeof *ops);
    if (b == NULL || ops == NULL) {
        op_err("snapshot import: out of memory");
        code = OP_EXIT_IO;
    } else if (ms_smt_open(&t, kv, 0) != MS_SMT_OK) {
        op_err("snapshot import: cannot open the state tree in %s", dir);
        code = OP_EXIT_STORE;
    }
    uint8_t root[32];
    if (code == OP_EXIT_OK) {
        for (uint64_t i = 0; i < sn->count; i++) {
            const op_snap_rec *r = &sn->recs[i];
            ms_smt_op_set(&ops[i], r->key, r->klen, r->val, r->vlen, 0);
            ms_kv_batch_put(b, r->key, r->klen, r->val, r->vlen);
        }
        const ms_smt_status ts = ms_smt_apply(t, b, sn->height, ops, (size_t)sn->count, 0, root);
        if (ts != MS_SMT_OK) {
            op_err("snapshot import: building the state tree failed (ms_smt status %d)", (int)ts);
            code = ts == MS_SMT_NOMEM ? OP_EXIT_IO : OP_EXIT_STORE;
        } else if (memcmp(root, sn->root, 32) != 0) {
            op_err("snapshot import: the state tree built from the records does not have the snapshot's root");
            code = OP_EXIT_SNAPSHOT;
        }
    }
    if (code == OP_EXIT_OK) {
        /* spec/storage.md [ST-9], [ST-20]: schema u32, height u64, root, K u32. */
        uint8_t schema[4], height[8];
        ms_key k;
        ms_put_be32(schema, MS_SCHEMA_VERSION);
        ms_put_be64(height, sn->height);
        ms_key_meta(&k, MS_META_SCHEMA);
        ms_kv_batch_put(b, k.bytes, k.len, schema, 4);
        ms_key_meta(&k, MS_META_HEIGHT);
        ms_kv_batch_put(b, k.bytes, k.len, height, 8);
        ms_key_meta(&k, MS_META_ROOT);
        ms_kv_batch_put(b, k.bytes, k.len, sn->root, 32);
        /* [ST-9] 00 05: the source's K, in this same batch, so the first create
         * compares it rather than recording its own config's ([HOST-53]). */
        if (sn->retention != 0) {
            uint8_t kv_k[4];
            ms_put_be32(kv_k, sn->retention);
            ms_key_meta(&k, MS_META_RETENTION);
            ms_kv_batch_put(b, k.bytes, k.len, kv_k, 4);
        }
        if (ms_kv_write(kv, b, 1) != MS_KV_OK) {
            op_err("snapshot import: writing the batch to %s failed", dir);
            code = OP_EXIT_STORE;
        }
    }
    ms_smt_close(t);
    free(ops);
    ms_kv_batch_destroy(b);
    ms_kv_close(kv);
    return code;
}

int cmd_snapshot_import(int argc, char **argv)
{
    op_opt o[] = {{"--in", 0, NULL}, {"--data", 0, NULL}};
    const size_t n = sizeof o / sizeof o[0];
    if (!op_parse_opts("snapshot import", argc, argv, o, n) || !op_require("snapshot import", o, n, "--in") ||
        !op_require("snapshot import", o, n, "--data"))
        return OP_EXIT_USAGE;
    const char *in = op_opt_get(o, n, "--in"), *dir = op_opt_get(o, n, "--data");
    struct stat st;
    const int existed = stat(dir, &st) == 0;
    if (!op_dir_missing_or_empty(dir)) {
        op_err("snapshot import: %s is not empty: import only into a new or empty directory", dir);
        return OP_EXIT_STORE;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!op_read_file(in, &buf, &len)) return OP_EXIT_IO;
    op_snapshot sn;
    if (!op_snap_parse(&sn, buf, len, MS_SCHEMA_VERSION)) {
        free(buf);
        op_err("snapshot import: %s refused; nothing written", in);
        return OP_EXIT_SNAPSHOT;
    }
    int code = OP_EXIT_OK;
    if (sn.count > MS_SMT_MAX_UPDATES) {
        op_err("snapshot import: %llu records is more than one tree version can take (%u)",
               (unsigned long long)sn.count, (unsigned)MS_SMT_MAX_UPDATES);
        code = OP_EXIT_SNAPSHOT;
    }
    /* Check the root independently before anything reaches the disk. */
    op_leaf *l = code == OP_EXIT_OK ? malloc((sn.count ? sn.count : 1) * sizeof *l) : NULL;
    if (code == OP_EXIT_OK && l == NULL) {
        op_err("snapshot import: out of memory");
        code = OP_EXIT_IO;
    }
    if (code == OP_EXIT_OK) {
        for (uint64_t i = 0; i < sn.count; i++) {
            ms_keccak256(l[i].path, sn.recs[i].key, sn.recs[i].klen);
            ms_keccak256(l[i].value_hash, sn.recs[i].val, sn.recs[i].vlen);
        }
        uint8_t root[32];
        if (!op_naive_root(root, l, (size_t)sn.count) || memcmp(root, sn.root, 32) != 0) {
            op_err("snapshot import: the records do not hash to the snapshot's root; nothing written");
            code = OP_EXIT_SNAPSHOT;
        }
    }
    free(l);
    if (code == OP_EXIT_OK) {
        code = import_into(&sn, dir);
        if (code != OP_EXIT_OK) {
            op_rm_tree(dir);
            if (existed) mkdir(dir, 0755);
        }
    }
    if (code == OP_EXIT_OK) {
        printf("imported %llu records at height %llu into %s, root ", (unsigned long long)sn.count,
               (unsigned long long)sn.height, dir);
        op_hex(stdout, sn.root, 32);
        putchar('\n');
        print_retention(sn.retention);
        printf("(rollback below height %llu is not possible on this store: it holds no older blocks)\n",
               (unsigned long long)sn.height);
    }
    op_snap_free(&sn);
    free(buf);
    return code;
}
