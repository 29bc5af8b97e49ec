/* prove: a state proof bundle from the module (ms_module.prove), written as
 * hex to stdout or as bytes to a file, with the record it proves. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "crypto/state_proof.h"
#include "describe.h"
#include "exitcodes.h"
#include "instance.h"
#include "util.h"

static int make_bundle(const ms_module *m, ms_instance *inst, uint8_t *buf, size_t *len, uint64_t *height,
                       const char *hopt, const ms_bytes32 *id, uint64_t version, const ms_config *cfg)
{
    uint64_t last = 0;
    ms_bytes32 root;
    m->committed(inst, &last, &root);
    *height = last;
    if (hopt != NULL && !text_u64(hopt, height)) {
        op_err("prove: --height: '%s' is not a number", hopt);
        return OP_EXIT_USAGE;
    }
    if (last == 0) {
        op_err("prove: the store has no committed block yet: nothing to prove");
        return OP_EXIT_HEIGHT;
    }
    const ms_rc rc = m->prove(inst, buf, MS_STATE_PROOF_MAX, len, *height, id, version);
    if (rc == MS_ERR_HEIGHT) {
        op_err("prove: height %llu is not retained: the module keeps the roots of at most the last %u blocks "
               "(reorg_depth) up to the committed height %llu",
               (unsigned long long)*height, (unsigned)cfg->reorg_depth, (unsigned long long)last);
        return OP_EXIT_HEIGHT;
    }
    if (rc != MS_OK) {
        op_err("prove: the module failed: %s (%s)", m->rc_string(rc), op_rc_name(rc));
        return rc == MS_ERR_CORRUPT ? OP_EXIT_CORRUPT : OP_EXIT_STORE;
    }
    /* Self-check against the module's own root of that height. */
    ms_bytes32 at;
    if (m->root_at(inst, &at, *height) != MS_OK) {
        op_err("prove: root_at(%llu) failed", (unsigned long long)*height);
        return OP_EXIT_STORE;
    }
    ms_state_proof p;
    if (ms_state_proof_verify(&p, buf, *len, *height, at.bytes) != MS_STATE_PROOF_OK) {
        op_err("prove: the module's bundle does not verify against its own root of height %llu: report this",
               (unsigned long long)*height);
        return OP_EXIT_PROOF;
    }
    return OP_EXIT_OK;
}

int cmd_prove(int argc, char **argv)
{
    op_opt o[6 + OP_CONFIG_NOPTS] = {{"--module", 0, NULL}, {"--data", 0, NULL},   {"--asset", 0, NULL},
                                     {"--version", 0, NULL}, {"--height", 0, NULL}, {"--out", 0, NULL}};
    const size_t n = op_config_opts(o, 6);
    if (!op_parse_opts("prove", argc, argv, o, n) || !op_require("prove", o, n, "--data") ||
        !op_require("prove", o, n, "--asset"))
        return OP_EXIT_USAGE;
    const char *so = op_opt_get(o, n, "--module"), *dir = op_opt_get(o, n, "--data");
    const char *vopt = op_opt_get(o, n, "--version"), *out = op_opt_get(o, n, "--out");
    if (so == NULL) so = OP_DEFAULT_MODULE;
    ms_bytes32 id;
    uint64_t version = 0;
    if (!text_hex_exact(id.bytes, 32, op_opt_get(o, n, "--asset"))) {
        op_err("prove: --asset: not a 32-byte hex asset id");
        return OP_EXIT_USAGE;
    }
    if (vopt != NULL && !text_u64(vopt, &version)) {
        op_err("prove: --version: '%s' is not a number", vopt);
        return OP_EXIT_USAGE;
    }

    host_module hm;
    int code = op_load_module(&hm, so);
    if (code != OP_EXIT_OK) return code;
    ms_config cfg;
    ms_instance *inst = NULL;
    if (!op_config_build(&cfg, hm.m, o, n, "prove")) code = OP_EXIT_USAGE;
    if (code == OP_EXIT_OK) code = op_open_instance(&inst, hm.m, &cfg, dir, 0);
    uint8_t buf[MS_STATE_PROOF_MAX];
    size_t len = 0;
    uint64_t height = 0;
    if (code == OP_EXIT_OK)
        code = make_bundle(hm.m, inst, buf, &len, &height, op_opt_get(o, n, "--height"), &id, version, &cfg);
    hm.m->destroy(inst);
    host_unload(&hm);
    if (code != OP_EXIT_OK) return code;

    ms_state_proof p;
    ms_state_proof_verify(&p, buf, len, height, buf + 9);
    FILE *info = out != NULL ? stdout : stderr;
    fprintf(info, "proof of %s at height %llu, root ", p.present ? "inclusion" : "non-inclusion",
            (unsigned long long)height);
    op_hex(info, p.root, 32);
    fprintf(info, " (%zu bytes)\n", len);
    op_describe_record(info, p.key, p.key_len, p.present, p.value, p.value_len);
    if (out != NULL) {
        if (!op_write_file(out, buf, len)) return OP_EXIT_IO;
        fprintf(info, "bundle written to %s\n", out);
    } else {
        op_hex(stdout, buf, len);
        putchar('\n');
    }
    return OP_EXIT_OK;
}
