/* memsync-host: the reference host. Loads libmemsync.so the way a node does
 * (dlopen + the one entry symbol), opens an instance on a data directory and
 * plays the demo scenario over several blocks. */
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "device.h"
#include "exitcodes.h"
#include "loader.h"
#include "node.h"
#include "scenario.h"

static void usage(FILE *f)
{
    fputs("usage: memsync-host [--module PATH] [--data DIR] [--help]\n"
          "\n"
          "Loads the MemSync precompile module with dlopen, opens an instance with the\n"
          "default chain config on DIR and plays a demo over six blocks: create, two\n"
          "devices racing (VersionConflict), an AI tool granted then revoked\n"
          "(NotAuthorized), key rotation, retention pruning, a signed ownership\n"
          "transfer and shredding. Running again on the same DIR resumes after the\n"
          "last committed block with new memories. All keys are DEMO KEYS ONLY.\n"
          "\n"
          "options:\n"
          "  --module PATH  the module (default build/libmemsync.so)\n"
          "  --data DIR     the data directory (default ./data; created if missing)\n"
          "  --help         this text\n"
          "\n"
          "exit codes:\n"
          "  0  the scenario ran and every call behaved as expected\n"
          "  1  bad command line\n"
          "  2  the module cannot be loaded or lacks " MS_MODULE_ENTRY_NAME "\n"
          "  3  the module's ABI version is not the one this host speaks\n"
          "  4  the instance could not be created (e.g. data directory locked)\n"
          "  5  a call or lifecycle function did not do what the scenario expected\n"
          "  6  the module reported a fatal fault (instance poisoned)\n"
          "  7  libsodium / libsecp256k1 initialisation failed\n",
          f);
}

static int parse_args(int argc, char **argv, const char **module, const char **data)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        const char **dst = strcmp(a, "--module") == 0 ? module : strcmp(a, "--data") == 0 ? data : NULL;
        if (dst == NULL) {
            fprintf(stderr, "memsync-host: unknown option '%s'\n", a);
            usage(stderr);
            return HOST_EXIT_USAGE;
        }
        if (i + 1 >= argc || argv[i + 1][0] == '\0') {
            fprintf(stderr, "memsync-host: %s needs a value\n", a);
            return HOST_EXIT_USAGE;
        }
        *dst = argv[++i];
    }
    return HOST_EXIT_OK;
}

static int run(const ms_module *m, const char *module_path, const char *data_dir)
{
    printf("MemSync reference host: module %s %s (host ABI %u, schema %u) from %s\n", m->name, m->version,
           (unsigned)m->abi_version, (unsigned)m->schema_version, module_path);
    node n;
    memset(&n, 0, sizeof n);
    n.m = m;
    n.out = stdout;
    m->default_config(&n.cfg);
    const ms_rc rc = m->create(&n.inst, &n.cfg, data_dir);
    if (rc != MS_OK) {
        fprintf(stderr, "memsync-host: cannot open data directory %s: %s (rc %d)\n", data_dir, m->rc_string(rc),
                (int)rc);
        return HOST_EXIT_INSTANCE;
    }
    uint64_t height = 0;
    ms_bytes32 root;
    m->committed(n.inst, &height, &root);
    printf("chain id %llu, precompile ", (unsigned long long)n.cfg.chain_id);
    dec_hex(stdout, n.cfg.precompile_address.bytes, 20);
    printf(", data directory %s\n", data_dir);
    if (height == 0) {
        printf("fresh data directory: starting at block 1\n");
    } else {
        printf("resumed from committed height %llu (root ", (unsigned long long)height);
        dec_hex(stdout, root.bytes, 32);
        printf("): continuing at block %llu with new salts\n", (unsigned long long)(height + 1));
    }
    int code = HOST_EXIT_CRYPTO;
    if (dev_init()) code = scenario_run(&n, height);
    else fputs("memsync-host: libsodium or libsecp256k1 failed to initialise\n", stderr);
    dev_shutdown();
    m->destroy(n.inst);
    fflush(stdout);
    return code;
}

int main(int argc, char **argv)
{
    const char *module_path = "build/libmemsync.so";
    const char *data_dir = "./data";
    const int pa = parse_args(argc, argv, &module_path, &data_dir);
    if (pa < 0) return HOST_EXIT_OK;
    if (pa != HOST_EXIT_OK) return pa;

    host_module hm;
    const int lc = host_load(&hm, module_path);
    if (lc != HOST_EXIT_OK) return lc;
    const int code = run(hm.m, module_path, data_dir);
    host_unload(&hm);
    return code;
}
