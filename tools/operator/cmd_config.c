/* config check: the config from the module's defaults plus flags, and
 * whether the module accepts it (create on a scratch directory). */
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "exitcodes.h"
#include "instance.h"
#include "util.h"

int cmd_config_check(int argc, char **argv)
{
    op_opt o[2 + OP_CONFIG_NOPTS] = {{"--module", 0, NULL}, {"--quiet", 1, NULL}};
    const size_t n = op_config_opts(o, 2);
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
    host_unload(&hm);
    return code;
}
