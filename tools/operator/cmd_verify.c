/* verify: recompute every version hash chain, every retained ciphertext's
 * hash, the grant slots and the state root from the raw records, and name
 * the first corrupt record. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "commands.h"
#include "exitcodes.h"
#include "module/memsync.h"
#include "state_at.h"
#include "storage/smt.h"
#include "store.h"
#include "util.h"

typedef struct verifier {
    op_store *s;
    op_recs r;
    uint64_t assets, versions, ciphertexts, grants;
} verifier;

/* Names the corrupt record: table, key hex and what is wrong. */
static int corrupt(const uint8_t *key, size_t klen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int corrupt(const uint8_t *key, size_t klen, const char *fmt, ...)
{
    char kh[2 * 64 + 3];
    if (klen > 64) klen = 64;
    fprintf(stderr, OP_NAME ": verify: CORRUPT record: table %s, key %s: ", klen ? op_table_name(key[0]) : "?",
            op_hex_str(kh, key, klen));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return OP_EXIT_CORRUPT;
}

static const op_rec *find(const verifier *v, const ms_key *k)
{
    return op_recs_find(&v->r, k->bytes, k->len);
}

static int decode_asset(const op_rec *e, ms_asset *a)
{
    return e != NULL && e->klen == 33 && ms_asset_decode(a, e->val, e->vlen);
}

/* Every record decodes ([ST-8]) and belongs to an existing asset. */
static int check_record(verifier *v, const op_rec *e)
{
    const uint8_t tag = e->key[0];
    size_t want = 0;
    switch (tag) {
    case MS_TAG_ASSET: want = 33; break;
    case MS_TAG_VERSION: case MS_TAG_CIPHERTEXT: want = 41; break;
    case MS_TAG_GRANT: want = 53; break;
    case MS_TAG_GRANT_SLOT: want = 37; break;
    case MS_TAG_NONCE: want = 21; break;
    default: break;
    }
    if (e->klen != want) return corrupt(e->key, e->klen, "key of %u bytes, the table's keys have %zu", e->klen, want);
    if (tag == MS_TAG_NONCE) {
        return e->vlen == 8 ? OP_EXIT_OK : corrupt(e->key, e->klen, "nonce value of %zu bytes, not 8", e->vlen);
    }
    ms_asset a;
    if (tag == MS_TAG_ASSET) {
        v->assets++;
        return decode_asset(e, &a) ? OP_EXIT_OK
                                   : corrupt(e->key, e->klen, "asset record does not decode ([ST-4], [ST-8])");
    }
    ms_key ak;
    ms_key_asset(&ak, e->key + 1);
    if (!decode_asset(find(v, &ak), &a))
        return corrupt(e->key, e->klen, "belongs to asset %s, which has no valid asset record",
                       op_hex_str((char[67]){0}, e->key + 1, 32));
    if (tag == MS_TAG_VERSION) {
        v->versions++;
        ms_version ver;
        const uint64_t n = ms_get_be64(e->key + 33);
        if (!ms_version_decode(&ver, e->val, e->vlen))
            return corrupt(e->key, e->klen, "version record does not decode ([ST-5], [ST-8])");
        if (n == 0 || n > a.head_version)
            return corrupt(e->key, e->klen, "version %llu outside 1..headVersion %llu", (unsigned long long)n,
                           (unsigned long long)a.head_version);
        if (n <= a.shredded_upto && ver.state == MS_VERSION_RETAINED)
            return corrupt(e->key, e->klen, "version %llu is retained but at or below shreddedUpTo %llu",
                           (unsigned long long)n, (unsigned long long)a.shredded_upto);
        return OP_EXIT_OK;
    }
    if (tag == MS_TAG_CIPHERTEXT) {
        v->ciphertexts++;
        ms_key vk;
        ms_version ver;
        ms_key_version(&vk, e->key + 1, ms_get_be64(e->key + 33));
        const op_rec *vr = find(v, &vk);
        if (vr == NULL || !ms_version_decode(&ver, vr->val, vr->vlen))
            return corrupt(e->key, e->klen, "ciphertext without a valid version record");
        if (ver.state != MS_VERSION_RETAINED)
            return corrupt(e->key, e->klen, "ciphertext stored for a version in state %u (only retained versions keep one)",
                           (unsigned)ver.state);
        if (memcmp(ver.ciphertext_hash, e->vhash, 32) != 0)
            return corrupt(e->key, e->klen, "keccak256 of the ciphertext is not its version record's ciphertextHash");
        return OP_EXIT_OK;
    }
    if (tag == MS_TAG_GRANT) {
        v->grants++;
        ms_grant g;
        if (!ms_grant_decode(&g, e->val, e->vlen))
            return corrupt(e->key, e->klen, "grant record does not decode ([ST-6], [ST-8])");
        if (g.slot >= a.grant_count)
            return corrupt(e->key, e->klen, "grant in slot %u, but the asset has grantCount %u", (unsigned)g.slot,
                           (unsigned)a.grant_count);
        ms_key sk;
        ms_key_grant_slot(&sk, e->key + 1, g.slot);
        const op_rec *sr = find(v, &sk);
        if (sr == NULL || sr->vlen != 20 || memcmp(sr->val, e->key + 33, 20) != 0)
            return corrupt(e->key, e->klen, "grant slot %u does not name this grantee", (unsigned)g.slot);
        return OP_EXIT_OK;
    }
    /* grant slot */
    const uint32_t slot = ms_get_be32(e->key + 33);
    if (e->vlen != 20) return corrupt(e->key, e->klen, "slot value of %zu bytes, not a 20-byte address", e->vlen);
    if (slot >= a.grant_count)
        return corrupt(e->key, e->klen, "slot %u at or above grantCount %u (slots must be dense)", (unsigned)slot,
                       (unsigned)a.grant_count);
    ms_key gk;
    ms_grant g;
    ms_key_grant(&gk, e->key + 1, e->val);
    const op_rec *gr = find(v, &gk);
    if (gr == NULL || !ms_grant_decode(&g, gr->val, gr->vlen) || g.slot != slot)
        return corrupt(e->key, e->klen, "slot %u names a grantee whose grant record is missing or in another slot",
                       (unsigned)slot);
    return OP_EXIT_OK;
}

/* The version hash chain of one asset ([ABI-21]), its head, and its grant slots. */
static int check_asset(verifier *v, const op_rec *e)
{
    ms_asset a;
    ms_asset_decode(&a, e->val, e->vlen);
    const uint8_t *id = e->key + 1;
    uint8_t prev[32] = {0};
    for (uint64_t n = 1; n <= a.head_version; n++) {
        ms_key vk;
        ms_version ver;
        ms_key_version(&vk, id, n);
        const op_rec *vr = find(v, &vk);
        if (vr == NULL)
            return corrupt(vk.bytes, vk.len, "version %llu of %llu is missing", (unsigned long long)n,
                           (unsigned long long)a.head_version);
        ms_version_decode(&ver, vr->val, vr->vlen);
        uint8_t p[132], h[32];
        memcpy(p, prev, 32);
        memcpy(p + 32, id, 32);
        ms_put_be64(p + 64, n);
        memcpy(p + 72, ver.ciphertext_hash, 32);
        ms_put_be64(p + 104, ver.key_epoch);
        memcpy(p + 112, ver.author, 20);
        ms_keccak256(h, p, sizeof p);
        if (memcmp(h, ver.version_hash, 32) != 0)
            return corrupt(vk.bytes, vk.len, "versionHash is not keccak256(prev || assetId || v || ciphertextHash || "
                                             "keyEpoch || author) ([ABI-21]): the hash chain breaks here");
        if (ver.state == MS_VERSION_RETAINED) {
            ms_key ck;
            ms_key_ciphertext(&ck, id, n);
            if (find(v, &ck) == NULL)
                return corrupt(vk.bytes, vk.len, "version is retained but its ciphertext is missing");
        }
        memcpy(prev, h, 32);
    }
    if (memcmp(prev, a.head_hash, 32) != 0)
        return corrupt(e->key, e->klen, "headHash is not the hash of version %llu (the last of the chain)",
                       (unsigned long long)a.head_version);
    for (uint32_t s = 0; s < a.grant_count; s++) {
        ms_key sk;
        ms_key_grant_slot(&sk, id, s);
        if (find(v, &sk) == NULL)
            return corrupt(e->key, e->klen, "grantCount is %u but grant slot %u is missing", (unsigned)a.grant_count,
                           (unsigned)s);
    }
    /* Grants beyond grantCount: each grant's slot is below grantCount and
     * slots are unique (one record per slot), so count them. */
    uint8_t lo[33];
    lo[0] = MS_TAG_GRANT;
    memcpy(lo + 1, id, 32);
    size_t i = op_recs_lower(&v->r, lo, sizeof lo), count = 0;
    for (; i < v->r.n && v->r.v[i].klen == 53 && memcmp(v->r.v[i].key, lo, 33) == 0; i++) count++;
    if (count != a.grant_count)
        return corrupt(e->key, e->klen, "grantCount is %u but %zu grant records exist", (unsigned)a.grant_count,
                       count);
    return OP_EXIT_OK;
}

/* The root recomputed from every record; on a mismatch, the tree names the record. */
static int check_root(verifier *v)
{
    op_store *s = v->s;
    uint8_t root[32];
    if (v->r.n >= 100000) fprintf(stderr, "  ... recomputing the root from %zu records\n", v->r.n);
    int code = op_recs_root(&v->r, root);
    if (code != OP_EXIT_OK) return code;
    const uint8_t zero[32] = {0};
    const uint8_t *want = s->has_root ? s->root : zero;
    if (memcmp(root, want, 32) == 0) return OP_EXIT_OK;
    ms_smt *t = NULL;
    uint64_t latest = 0, entries = 0;
    if (ms_smt_open(&t, s->kv, 0) != MS_SMT_OK || ms_smt_info(t, &latest, NULL, NULL) != MS_SMT_OK ||
        ms_smt_root(t, latest, NULL, &entries) != MS_SMT_OK) {
        ms_smt_close(t);
        fprintf(stderr, OP_NAME ": verify: CORRUPT: the root recomputed from the records differs from the committed "
                        "root, and the state tree cannot be read to locate the record\n");
        return OP_EXIT_CORRUPT;
    }
    for (size_t i = 0; i < v->r.n; i++) {
        int present = 0;
        uint8_t vh[32];
        if (ms_smt_get(t, latest, v->r.v[i].key, v->r.v[i].klen, &present, vh) != MS_SMT_OK) break;
        if (!present || memcmp(vh, v->r.v[i].vhash, 32) != 0) {
            ms_smt_close(t);
            return corrupt(v->r.v[i].key, v->r.v[i].klen, "%s: the committed state root does not cover this value",
                           present ? "its value differs from the one the state tree holds"
                                   : "the state tree does not hold this key");
        }
    }
    ms_smt_close(t);
    fprintf(stderr, OP_NAME ": verify: CORRUPT: the root recomputed from the %zu records differs from the committed "
                    "root; the state tree holds %llu entries (a record %s)\n",
            v->r.n, (unsigned long long)entries, entries > v->r.n ? "was deleted from the store" : "is inconsistent");
    return OP_EXIT_CORRUPT;
}

static int check_meta(const op_store *s)
{
    ms_key k;
    if (s->bad_meta) {
        ms_key_meta(&k, MS_META_SCHEMA);
        return corrupt(k.bytes, 1, "a meta record (schema, height, root or retention) has the wrong size ([ST-9])");
    }
    if (!s->has_schema || s->schema != MS_SCHEMA_VERSION) {
        ms_key_meta(&k, MS_META_SCHEMA);
        return corrupt(k.bytes, k.len, "schema %s (this tool checks schema %u)", s->has_schema ? "unknown" : "missing",
                       (unsigned)MS_SCHEMA_VERSION);
    }
    if (s->has_height != s->has_root) {
        ms_key_meta(&k, s->has_height ? MS_META_ROOT : MS_META_HEIGHT);
        return corrupt(k.bytes, k.len, "missing while the other of height and root is present ([ST-20])");
    }
    return OP_EXIT_OK;
}

static int check_tree_head(const op_store *s)
{
    ms_smt *t = NULL;
    uint64_t latest = 0;
    uint8_t root[32];
    const int ok = ms_smt_open(&t, s->kv, 0) == MS_SMT_OK && ms_smt_info(t, &latest, NULL, root) == MS_SMT_OK;
    ms_smt_close(t);
    const uint8_t tree_meta = MS_SMT_TAG_META;
    if (!ok) return corrupt(&tree_meta, 1, "the state tree's records do not decode");
    const uint8_t zero[32] = {0};
    if (latest != s->height || memcmp(root, s->has_root ? s->root : zero, 32) != 0)
        return corrupt(&tree_meta, 1, "the tree's latest version %llu and root differ from the committed height "
                                      "%llu and root ([ST-16])",
                       (unsigned long long)latest, (unsigned long long)s->height);
    return OP_EXIT_OK;
}

int cmd_verify(int argc, char **argv)
{
    op_opt o[] = {{"--data", 0, NULL}};
    if (!op_parse_opts("verify", argc, argv, o, 1) || !op_require("verify", o, 1, "--data")) return OP_EXIT_USAGE;
    op_store s;
    int code = op_store_open(&s, op_opt_get(o, 1, "--data"));
    if (code != OP_EXIT_OK) return code;
    verifier v;
    memset(&v, 0, sizeof v);
    v.s = &s;
    code = check_meta(&s);
    if (code == OP_EXIT_OK) code = op_store_tree_current(&s, "verify");
    if (code == OP_EXIT_OK) code = op_store_load(&s, &v.r, 0);
    if (code == OP_EXIT_OK && v.r.n_other > 0)
        code = corrupt(v.r.other_key, v.r.other_klen, "a key outside every table of spec/storage.md [ST-3]");
    op_progress p;
    op_progress_init(&p, "records checked", 100000);
    for (size_t i = 0; code == OP_EXIT_OK && i < v.r.n; i++) {
        code = check_record(&v, &v.r.v[i]);
        op_progress_tick(&p);
    }
    for (size_t i = 0; code == OP_EXIT_OK && i < v.r.n && v.r.v[i].key[0] == MS_TAG_ASSET; i++) {
        code = check_asset(&v, &v.r.v[i]);
        op_progress_tick(&p);
    }
    op_progress_done(&p);
    if (code == OP_EXIT_OK) code = check_tree_head(&s);
    if (code == OP_EXIT_OK) code = check_root(&v);
    if (code == OP_EXIT_OK) {
        printf("verify: OK: %s at height %llu: %llu assets, %llu version hashes chained, %llu ciphertexts hashed, "
               "%llu grants; root recomputed from %zu records equals the committed root ",
               s.dir, (unsigned long long)s.height, (unsigned long long)v.assets, (unsigned long long)v.versions,
               (unsigned long long)v.ciphertexts, (unsigned long long)v.grants, v.r.n);
        op_hex(stdout, s.root, 32);
        putchar('\n');
    } else if (code == OP_EXIT_CORRUPT) {
        fprintf(stderr, OP_NAME ": verify: FAILED: %s is corrupt (exit %d)\n", s.dir, code);
    }
    op_recs_free(&v.r);
    op_store_close(&s);
    return code;
}
