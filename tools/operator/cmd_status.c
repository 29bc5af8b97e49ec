/* status: the module's identity, the committed height and root, and counts
 * of the state records. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "exitcodes.h"
#include "instance.h"
#include "store.h"
#include "util.h"

typedef struct counts {
    uint64_t assets, shredded_assets, versions, retained, pruned, shredded, bad_versions;
    uint64_t ciphertexts, ct_bytes, grants, slots, nonces, undo, tree, meta, other, keys, key_bytes, val_bytes;
    op_progress prog;
} counts;

static int count_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    counts *c = ctx;
    c->keys++;
    c->key_bytes += klen;
    c->val_bytes += vlen;
    op_progress_tick(&c->prog);
    switch (klen > 0 ? key[0] : 0xff) {
    case MS_TAG_META: c->meta++; break;
    case MS_TAG_ASSET:
        c->assets++;
        if (vlen == MS_ASSET_RECORD_SIZE && (ms_get_be32(val + 68) & MS_ASSET_SHREDDED)) c->shredded_assets++;
        break;
    case MS_TAG_VERSION:
        c->versions++;
        if (vlen != MS_VERSION_RECORD_SIZE) c->bad_versions++;
        else if (val[100] == MS_VERSION_RETAINED) c->retained++;
        else if (val[100] == MS_VERSION_PRUNED) c->pruned++;
        else if (val[100] == MS_VERSION_SHREDDED) c->shredded++;
        else c->bad_versions++;
        break;
    case MS_TAG_CIPHERTEXT:
        c->ciphertexts++;
        c->ct_bytes += vlen;
        break;
    case MS_TAG_GRANT: c->grants++; break;
    case MS_TAG_GRANT_SLOT: c->slots++; break;
    case MS_TAG_NONCE: c->nonces++; break;
    case MS_TAG_UNDO: c->undo++; break;
    default:
        if (key[0] >= 0x10 && key[0] <= 0x13) c->tree++;
        else c->other++;
    }
    return 1;
}

int cmd_status(int argc, char **argv)
{
    op_opt o[2 + OP_CONFIG_NOPTS] = {{"--module", 0, NULL}, {"--data", 0, NULL}};
    const size_t n = op_config_opts(o, 2);
    if (!op_parse_opts("status", argc, argv, o, n) || !op_require("status", o, n, "--data")) return OP_EXIT_USAGE;
    const char *so = op_opt_get(o, n, "--module");
    const char *dir = op_opt_get(o, n, "--data");
    if (so == NULL) so = OP_DEFAULT_MODULE;

    host_module hm;
    int code = op_load_module(&hm, so);
    if (code != OP_EXIT_OK) return code;
    ms_config cfg;
    if (!op_config_build(&cfg, hm.m, o, n, "status")) {
        host_unload(&hm);
        return OP_EXIT_USAGE;
    }
    printf("module      %s %s (host ABI %u, state schema %u) from %s\n", hm.m->name, hm.m->version,
           (unsigned)hm.m->abi_version, (unsigned)hm.m->schema_version, so);
    ms_instance *inst = NULL;
    code = op_open_instance(&inst, hm.m, &cfg, dir, 0);
    if (code != OP_EXIT_OK) {
        host_unload(&hm);
        return code;
    }
    uint64_t height = 0;
    ms_bytes32 root;
    hm.m->committed(inst, &height, &root);
    hm.m->destroy(inst);
    host_unload(&hm);

    printf("data        %s\n", dir);
    printf("height      %llu\nroot        ", (unsigned long long)height);
    op_hex(stdout, root.bytes, 32);
    putchar('\n');

    op_store s;
    code = op_store_open(&s, dir);
    if (code != OP_EXIT_OK) return code;
    counts c;
    memset(&c, 0, sizeof c);
    op_progress_init(&c.prog, "keys counted", 250000);
    const ms_kv_status ks = ms_kv_scan(s.kv, NULL, 0, count_one, &c);
    op_progress_done(&c.prog);
    const int stored_ok = s.has_schema && s.has_height == s.has_root && !s.bad_meta &&
                          (!s.has_height || (s.height == height && memcmp(s.root, root.bytes, 32) == 0));
    printf("schema      %u (stored)\n", (unsigned)s.schema);
    /* K is fixed once a create recorded it ([HOST-53]): a node on this store
     * must run this retained_versions, a restored one included. */
    if (s.has_retention) printf("retention   K %u (stored)\n", (unsigned)s.retention);
    else printf("retention   none stored\n");
    op_store_close(&s);
    if (ks != MS_KV_OK) {
        op_err("RocksDB I/O error while counting the records of %s", dir);
        return OP_EXIT_STORE;
    }
    printf("assets      %llu (%llu shredded)\n", (unsigned long long)c.assets, (unsigned long long)c.shredded_assets);
    printf("versions    %llu (retained %llu, pruned %llu, shredded %llu%s)\n", (unsigned long long)c.versions,
           (unsigned long long)c.retained, (unsigned long long)c.pruned, (unsigned long long)c.shredded,
           c.bad_versions ? ", some undecodable: run verify" : "");
    printf("ciphertext  %llu stored, %llu bytes\n", (unsigned long long)c.ciphertexts, (unsigned long long)c.ct_bytes);
    printf("grants      %llu (%llu slots)\n", (unsigned long long)c.grants, (unsigned long long)c.slots);
    printf("nonces      %llu\n", (unsigned long long)c.nonces);
    printf("undo        %llu blocks retained for reorgs\n", (unsigned long long)c.undo);
    printf("tree        %llu node store records\n", (unsigned long long)c.tree);
    printf("total       %llu keys, %llu key bytes, %llu value bytes\n", (unsigned long long)c.keys,
           (unsigned long long)c.key_bytes, (unsigned long long)c.val_bytes);
    if (c.other > 0) printf("unknown     %llu keys outside every table: run verify\n", (unsigned long long)c.other);
    if (!stored_ok) {
        op_err("the meta records of %s disagree with what the module reports: run verify", dir);
        return OP_EXIT_CORRUPT;
    }
    return OP_EXIT_OK;
}
