/* memsync-operator: see, check and move a MemSync module's state.
 * Each subcommand is in its own cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "exitcodes.h"
#include "util.h"

static const char EXIT_CODES[] =
    "exit codes:\n"
    "  0   OK: the command did what was asked and every check passed\n"
    "  1   bad command line\n"
    "  2   the module cannot be loaded, lacks ms_module_get, or speaks another host ABI\n"
    "  3   the data directory is locked (MS_ERR_LOCKED): a node or another tool has it open\n"
    "  4   the data directory is missing, not a MemSync store, unreadable, refused by the\n"
    "      module (e.g. MS_ERR_SCHEMA), (snapshot import) not empty, or (verify, snapshot\n"
    "      export) left by a crash with a state tree that the module's next open rebuilds\n"
    "  5   verify: a record or the root is corrupt (the first corrupt record is named)\n"
    "  6   verify-proof: the bundle is malformed, built for another block, or does not verify\n"
    "  7   the snapshot file is malformed, fails its checksum, or its records miss its root\n"
    "  8   vectors: the module does not reproduce the conformance vectors\n"
    "  9   config check: the module refuses the config (MS_ERR_CONFIG)\n"
    "  10  a file could not be read or written, or memory ran out\n"
    "  11  the height asked for is not committed or no longer retained\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
    const char *help;
} command;

static const command COMMANDS[] = {
    {"status", cmd_status, "status --data DIR [--module SO] [config flags]",
     "The module's name, version, host ABI and state schema; the committed height and\n"
     "root (as the module opens the directory); and counts of the stored records:\n"
     "assets, versions (retained / pruned / shredded), ciphertexts and their bytes,\n"
     "grants, nonces, undo records, tree records. The directory must not be open in a\n"
     "node (exit 3 if it is).\n"
     "  --data DIR     the data directory\n"
     "  --module SO    the module (default " OP_DEFAULT_MODULE ")\n" OP_CONFIG_FLAGS},
    {"verify", cmd_verify, "verify --data DIR",
     "Recomputes, from the raw records: every asset's version hash chain (spec/abi.md\n"
     "[ABI-21]) and head hash; the keccak256 of every retained ciphertext against its\n"
     "version's ciphertextHash; record encodings ([ST-8]); dense, consistent grant\n"
     "slots; the state tree root from scratch (the recursive definition of\n"
     "spec/state.md), compared with the committed root and the tree's. Names the first\n"
     "corrupt record (table, key hex) and exits 5. Progress on stderr for large stores.\n"
     "  --data DIR     the data directory (not open in a node)\n"},
    {"prove", cmd_prove, "prove --data DIR --asset ID [--version V] [--height H] [--out FILE] [--module SO]",
     "A state proof bundle (spec/state.md \"State proof bundle\") from ms_module.prove:\n"
     "the asset record (head: owner, head version and hash, epoch, flags) or, with\n"
     "--version V >= 1, that version's record (hash, ciphertext hash, state), with\n"
     "the tree's inclusion or non-inclusion proof against the root of height H\n"
     "(default: the committed height; any height the module retains). Without --out\n"
     "the bundle is printed as hex on stdout and the record on stderr; with --out the\n"
     "raw bundle is written to FILE and the record printed on stdout.\n"
     "  --asset ID     32-byte asset id (hex)\n"
     "  --version V    0 (default): the asset record; V >= 1: version V\n"
     "  --height H     a retained height (default: the committed one)\n"
     "  --out FILE     write the bundle's bytes to FILE\n"
     "  config flags as for status (reorg_depth decides which heights are retained)\n"},
    {"verify-proof", cmd_verify_proof, "verify-proof --bundle FILE --height H --root HEX",
     "Checks a bundle (raw bytes or hex, as prove writes them) against the height and\n"
     "root you trust (from a block header) with the standalone verifier\n"
     "(crypto/state_proof.h) only: no module, no RocksDB. Prints what is proved.\n"
     "Exit 6 when the bundle is malformed, for another block, or does not verify.\n"},
    {"snapshot export", cmd_snapshot_export, "snapshot export --data DIR --out FILE [--height H]",
     "Writes every state record (assets, versions, ciphertexts, grants, slots, nonces)\n"
     "of the committed height, or of an earlier height still retained for reorgs\n"
     "(rewound through the undo records), to a checksummed snapshot file\n"
     "(spec/snapshot.md). The records are checked to hash to that height's committed\n"
     "root before anything is written.\n"},
    {"snapshot import", cmd_snapshot_import, "snapshot import --in FILE --data NEWDIR",
     "Checks a snapshot (checksum, format, schema, key order, root recomputed from the\n"
     "records), then writes into a new or empty directory, in one synced batch, the\n"
     "records, the state tree of the snapshot height, the schema, height and root\n"
     "meta records and the source's retention K (spec/storage.md). A node started on\n"
     "NEWDIR must run the same retained_versions; it continues at height+1\n"
     "with the same root as a node that replayed every block; it cannot roll back\n"
     "below the snapshot height.\n"},
    {"vectors", cmd_vectors, "vectors [--module SO] [--dir DIR]",
     "Replays the conformance vectors (default spec/vectors/conformance) against the\n"
     "given module build, as memsync-replay --vectors does: check a build before\n"
     "joining a network. Exit 8 on the first mismatch of any file.\n"},
    {"config check", cmd_config_check, "config check [--module SO] [--quiet] [--data DIR] [config flags]",
     "Builds the chain config from the module's defaults plus the flags, prints it,\n"
     "and asks the module whether it accepts it (create on a scratch directory).\n"
     "With --data, also checks it against that store (closed; nothing is written):\n"
     "its retention K is fixed at its first create ([HOST-53]).\n"
     "Exit 9 with the broken rule (spec/host-abi.md [HOST-38]-[HOST-40], [HOST-52],\n"
     "[HOST-53]) when refused.\n" OP_CONFIG_FLAGS},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fputs("usage: " OP_NAME " COMMAND [options]\n"
          "       " OP_NAME " help COMMAND\n\n"
          "Operator tool for the MemSync precompile module: see, check and move a node's\n"
          "MemSync state. Commands that read a data directory need it closed (no node running on it).\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %s\n", COMMANDS[i].synopsis);
    fputc('\n', f);
    fputs(EXIT_CODES, f);
}

/* Matches "status" or the two-word "snapshot export"; returns the words used. */
static int match(const command *c, int argc, char **argv)
{
    const char *sp = strchr(c->name, ' ');
    if (sp == NULL) return argc >= 1 && strcmp(argv[0], c->name) == 0 ? 1 : 0;
    const size_t n = (size_t)(sp - c->name);
    if (argc >= 2 && strlen(argv[0]) == n && strncmp(argv[0], c->name, n) == 0 && strcmp(argv[1], sp + 1) == 0) return 2;
    return 0;
}

static int help(int argc, char **argv)
{
    if (argc == 0) {
        usage(stdout);
        return OP_EXIT_OK;
    }
    int shown = 0;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *sp = strchr(COMMANDS[i].name, ' ');
        const size_t n = sp ? (size_t)(sp - COMMANDS[i].name) : strlen(COMMANDS[i].name);
        /* "help snapshot" shows both snapshot commands. */
        if (match(&COMMANDS[i], argc, argv) || (argc == 1 && strlen(argv[0]) == n && strncmp(argv[0], COMMANDS[i].name, n) == 0)) {
            printf("usage: " OP_NAME " %s\n\n%s\n", COMMANDS[i].synopsis, COMMANDS[i].help);
            shown = 1;
        }
    }
    if (!shown) {
        op_err("no command '%s' (see `" OP_NAME " --help`)", argv[0]);
        return OP_EXIT_USAGE;
    }
    fputs(EXIT_CODES, stdout);
    return OP_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return OP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return OP_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) return help(argc - 2, argv + 2);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const int used = match(&COMMANDS[i], argc - 1, argv + 1);
        if (used == 0) continue;
        for (int j = 1 + used; j < argc; j++) {
            if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) return help(used, argv + 1);
        }
        return COMMANDS[i].run(argc - 1 - used, argv + 1 + used);
    }
    op_err("unknown command '%s'%s (see `" OP_NAME " --help`)", argv[1],
           strcmp(argv[1], "snapshot") == 0 || strcmp(argv[1], "config") == 0 ? " without its subcommand" : "");
    return OP_EXIT_USAGE;
}
