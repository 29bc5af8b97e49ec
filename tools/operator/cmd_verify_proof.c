/* verify-proof: check a state proof bundle against a trusted (height, root)
 * with the standalone verifier alone (crypto/state_proof.h): no module, no
 * RocksDB. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "crypto/state_proof.h"
#include "describe.h"
#include "exitcodes.h"
#include "util.h"

int cmd_verify_proof(int argc, char **argv)
{
    op_opt o[] = {{"--bundle", 0, NULL}, {"--height", 0, NULL}, {"--root", 0, NULL}};
    const size_t n = sizeof o / sizeof o[0];
    if (!op_parse_opts("verify-proof", argc, argv, o, n) || !op_require("verify-proof", o, n, "--bundle") ||
        !op_require("verify-proof", o, n, "--height") || !op_require("verify-proof", o, n, "--root"))
        return OP_EXIT_USAGE;
    uint64_t height = 0;
    uint8_t root[32];
    if (!text_u64(op_opt_get(o, n, "--height"), &height)) {
        op_err("verify-proof: --height: not a number");
        return OP_EXIT_USAGE;
    }
    if (!text_hex_exact(root, 32, op_opt_get(o, n, "--root"))) {
        op_err("verify-proof: --root: not a 32-byte hex root");
        return OP_EXIT_USAGE;
    }
    uint8_t *file = NULL, *bundle = NULL;
    size_t flen = 0, len = 0;
    if (!op_read_file(op_opt_get(o, n, "--bundle"), &file, &flen)) return OP_EXIT_IO;
    /* Hex (as `prove` prints it) or the raw bytes (`prove --out`): a raw
     * bundle starts with its format byte 0x01, never a hex digit. */
    if (!op_parse_hex_alloc(&bundle, &len, (const char *)file, flen)) {
        bundle = file;
        len = flen;
        file = NULL;
    }
    ms_state_proof p;
    const ms_state_proof_status st = ms_state_proof_verify(&p, bundle, len, height, root);
    int code = OP_EXIT_OK;
    switch (st) {
    case MS_STATE_PROOF_OK:
        printf("OK: %s proof verified at height %llu under root ", p.present ? "inclusion" : "non-inclusion",
               (unsigned long long)height);
        op_hex(stdout, root, 32);
        putchar('\n');
        if (!op_describe_record(stdout, p.key, p.key_len, p.present, p.value, p.value_len))
            printf("(the proved record does not decode as spec/storage.md says)\n");
        break;
    case MS_STATE_PROOF_MALFORMED:
        op_err("verify-proof: FAILED: the bundle is malformed (it does not parse as spec/state.md "
               "\"State proof bundle\" says, or names a key that is neither an asset nor a version)");
        code = OP_EXIT_PROOF;
        break;
    case MS_STATE_PROOF_WRONG_ROOT:
        op_err("verify-proof: FAILED: the bundle was built for another block (its height or root is not "
               "the trusted height %llu and root)",
               (unsigned long long)height);
        code = OP_EXIT_PROOF;
        break;
    default:
        op_err("verify-proof: FAILED: the tree proof does not show this record under the root");
        code = OP_EXIT_PROOF;
        break;
    }
    free(file);
    free(bundle);
    return code;
}
