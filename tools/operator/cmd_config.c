/* config check: the config from the module's defaults plus flags, and
 * whether the module accepts it (create on a scratch directory); with
 * --data, also whether an existing store accepts it (its retention K is
 * fixed at its first create, spec/host-abi.md [HOST-53]), read without
 * changing the store. */
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "exitcodes.h"
#include "instance.h"
#include "store.h"
#include "util.h"

/* [HOST-53] against the store in dir. Returns OP_EXIT_OK, OP_EXIT_CONFIG
 * (printed as a refusal) or the store's open error. */
static int check_store(const char *dir, const ms_config *cfg)
{
    op_store s;
    const int code = op_store_open(&s, dir);
    if (code != OP_EXIT_OK) return code;
    int out = OP_EXIT_OK;
    if (s.bad_meta) {
        op_err("config check: a meta record of %s has the wrong size (run verify)", dir);
        out = OP_EXIT_STORE;
    } else if (!s.has_retention) {
        printf("config check: %s records no retention K yet: the next create records K = %u\n", dir,
               (unsigned)cfg->retained_versions);
    } else if (s.retention != cfg->retained_versions) {
        printf("config check: REJECTED for %s: retained_versions %u differs from K = %u, fixed when the store "
               "was first opened (spec/host-abi.md [HOST-53]); the module refuses it with MS_ERR_CONFIG\n",
               dir, (unsigned)cfg->retained_versions, (unsigned)s.retention);
        out = OP_EXIT_CONFIG;
    } else {
        printf("config check: %s was activated with K = %u: matches\n", dir, (unsigned)s.retention);
    }
    op_store_close(&s);
    return out;
}

int cmd_config_check(int argc, char **argv)
{
    op_opt o[3 + OP_CONFIG_NOPTS] = {{"--module", 0, NULL}, {"--quiet", 1, NULL}, {"--data", 0, NULL}};
    const size_t n = op_config_opts(o, 3);
    if (!op_parse_opts("config check", argc, argv, o, n)) return OP_EXIT_USAGE;
    const char *so = op_opt_get(o, n, "--module");
    if (so == NULL) so = OP_DEFAULT_MODULE;
    host_module hm;
    int code = op_load_module(&hm, so);
    if (code != OP_EXIT_OK) return code;
    ms_config cfg;
    if (!op_config_build(&cfg, hm.m, o, n, "config check")) {
        host_unload(&hm);
        return OP_EXIT_USAGE;
    }
    if (op_opt_get(o, n, "--quiet") == NULL) {
        printf("config (module %s %s defaults plus flags):\n", hm.m->name, hm.m->version);
        op_config_print(stdout, &cfg);
        uint64_t keys = 0, undo = 0;
        if (op_block_limits(&cfg, &keys, &undo))
            printf("block limits ([HOST-52]) for a block of %llu gas: at most %llu keys written (limit %u), an undo "
                   "record of at most %llu bytes (limit 4294967295)\n",
                   (unsigned long long)MS_MAX_BLOCK_GAS, (unsigned long long)keys, (unsigned)MS_MAX_BLOCK_ENTRIES,
                   (unsigned long long)undo);
        else
            printf("block limits ([HOST-52]): unbounded (gas.state_write is 0)\n");
    }
    char dir[4096];
    if (!op_tmpdir(dir, sizeof dir)) {
        op_err("config check: cannot create a scratch directory under $TMPDIR");
        host_unload(&hm);
        return OP_EXIT_IO;
    }
    ms_instance *inst = NULL;
    const ms_rc rc = hm.m->create(&inst, &cfg, dir);
    hm.m->destroy(inst);
    op_rm_tree(dir);
    char why[256];
    const char *problem = op_config_problem(&cfg, why, sizeof why);
    if (rc == MS_OK) {
        printf("config check: ACCEPTED by %s %s\n", hm.m->name, hm.m->version);
        if (problem != NULL) printf("  note: this tool expected a refusal: %s\n", problem);
        code = OP_EXIT_OK;
    } else if (rc == MS_ERR_CONFIG) {
        printf("config check: REJECTED by %s %s (MS_ERR_CONFIG): %s\n", hm.m->name, hm.m->version,
               problem != NULL ? problem : "a rule this tool does not know (see spec/host-abi.md [HOST-38])");
        code = OP_EXIT_CONFIG;
    } else {
        op_err("config check: create on a scratch directory failed: %s (%s)", hm.m->rc_string(rc), op_rc_name(rc));
        code = OP_EXIT_STORE;
    }
    const char *data = op_opt_get(o, n, "--data");
    if (code == OP_EXIT_OK && data != NULL) code = check_store(data, &cfg);
    host_unload(&hm);
    return code;
}
