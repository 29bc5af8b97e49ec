/* vectors: replay the conformance vectors against a module build (the
 * replayer of memsync-replay --vectors, tools/replay/vectors.c). */
#include <stdio.h>

#include "commands.h"
#include "exitcodes.h"
#include "tools/replay/vectors.h"
#include "util.h"

int cmd_vectors(int argc, char **argv)
{
    op_opt o[] = {{"--module", 0, NULL}, {"--dir", 0, NULL}};
    const size_t n = sizeof o / sizeof o[0];
    if (!op_parse_opts("vectors", argc, argv, o, n)) return OP_EXIT_USAGE;
    const char *so = op_opt_get(o, n, "--module"), *dir = op_opt_get(o, n, "--dir");
    if (so == NULL) so = OP_DEFAULT_MODULE;
    if (dir == NULL) dir = "spec/vectors/conformance";
    fflush(stdout);
    const int r = vec_check(dir, so);
    fflush(stdout);
    if (r == 0) {
        printf("vectors: OK: %s reproduces every conformance vector of %s\n", so, dir);
        return OP_EXIT_OK;
    }
    if (r == 1) {
        op_err("vectors: %s does NOT reproduce the conformance vectors of %s (first mismatch of each file above): "
               "do not join a network with this build",
               so, dir);
        return OP_EXIT_VECTORS;
    }
    op_err("vectors: cannot run: the module did not load, or %s holds no *.json vector file", dir);
    return OP_EXIT_LOAD;
}
