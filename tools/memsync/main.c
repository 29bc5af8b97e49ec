/* memsync: the owner's command line (keys, envelopes, signatures, grants,
 * chain commands and portable bundles). Usage: memsync --help. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device/memory/memory.h"

static const char USAGE[] =
    "usage: memsync COMMAND [options]\n"
    "\n"
    "Keys (the passphrase comes from MEMSYNC_PASSPHRASE or --passphrase-file FILE, never argv):\n"
    "  keygen   [--fast-kdf]                  new identity, key file HOME/key (mode 0600)\n"
    "  address                                print the address and the X25519 public key\n"
    "Offline:\n"
    "  encrypt  --asset ID|--salt S --version N --epoch E --in PLAIN --out ENVELOPE [--new-key]\n"
    "  decrypt  --asset ID --version N --epoch E --in ENVELOPE --out PLAIN|- [--wrapped-key FILE]\n"
    "  sign     create   --salt S [--metadata M] --in ENVELOPE --nonce N --deadline T\n"
    "  sign     append   --asset ID --expected V --epoch E --in ENVELOPE --nonce N --deadline T\n"
    "  sign     transfer --asset ID --new-owner ADDR --nonce N --deadline T\n"
    "           prints the EIP-712 digest, the signature and the calldata for a relayer\n"
    "  verify   --in BUNDLE [--trusted-height H --trusted-root R]   without a trusted root: exit 25,\n"
    "           self-consistent but not anchored (anyone can re-sign a bundle)\n"
    "Chain (with --rpc URL, e.g. http://127.0.0.1:8545, or --node DIR for a local module instance):\n"
    "  push     --asset ID|--salt S --in PLAIN [--metadata M]   new version, signed, sent by the relayer\n"
    "  pull     --asset ID [--version N] --out PLAIN|-          decrypt the head or a retained version\n"
    "  grants   --asset ID                                       list the grants\n"
    "  grant    --asset ID --grantee ADDR --grantee-key X25519 [--write] [--expiry T]   (offline: --epoch E)\n"
    "  revoke   --asset ID --grantee ADDR    revoke, rotate the key, rewrap it for the remaining grantees\n"
    "           (stopped half-way? run it again: it finishes the rotation and the rewrapping)\n"
    "  rotate   --asset ID                   rotate the key and rewrap it for the grantees\n"
    "  transfer --asset ID --new-owner ADDR  signed transfer of ownership, sent by the relayer (grants end)\n"
    "  export   --asset ID --out BUNDLE      the signed portable bundle (spec/bundle.md)\n"
    "  import   --in BUNDLE                  verify, then replay it into this chain and keyring\n"
    "Memory (your own, found from your identity; --asset ID for one granted to you). With --rpc or --node each\n"
    "change is merged and pushed at once; without, it stays on this device until `sync`:\n"
    "  remember TEXT [--category C]... [--type semantic|episodic] [--importance 0-100]   prints the fact's id\n"
    "  recall   QUERY [--limit N] [--category C]... [--json]   ranked search (BM25)\n"
    "  list     [--category C]... [--type T] [--limit N] [--json]\n"
    "  edit     ID [--text T] [--category C]... [--importance N]   change a fact (the later change wins)\n"
    "  forget   ID                     tombstone, push, and shred every older version on chain\n"
    "  context  [--max-bytes N] [--include-private]          the Markdown \"who I am\" block\n"
    "  sync                            pull, merge, push (retried on conflicts)\n"
    "  import   --format mcp-memory|openmemory|text|json FILE\n"
    "  export   --format mcp-memory|markdown|json [--out FILE] [--include-private]\n"
    "  recovery-phrase                 print the 24-word phrase of this identity\n"
    "  restore  [--rpc URL|--node DIR] < PHRASE   new key file from the phrase, then recover the memory\n"
    "  mcp      [--include-private]    the MCP server on stdin/stdout for AI tools (spec/mcp.md)\n"
    "  Categories: identity career interests relationships health finance learning travel productivity private;\n"
    "  `private` is never shown unless --include-private.\n"
    "\n"
    "Numbers are decimal or 0x-hex. Common options: --home DIR (MEMSYNC_HOME, default ~/.memsync), --chain-id N (31337),\n"
    "  --precompile ADDR (0x0000000000000000000000000000000000004d53), --module PATH (MEMSYNC_MODULE,\n"
    "  libmemsync.so for --node), --relayer-key-file FILE (a dev account key in hex, for --rpc).\n"
    "\n"
    "Exit codes: 0 success; 1 usage; 2 file missing or unreadable; 3 not a key file (corrupt);\n"
    "  4 wrong passphrase; 5 not an envelope; 6 wrong key epoch; 7 wrong data key;\n"
    "  8 wrong associated data (other chain, contract, asset or version); 9 tampered ciphertext;\n"
    "  10 no data key (not granted or revoked); 11 not a valid bundle; 12 bundle signature fails\n"
    "  (altered); 13 hash chain, state proof or head mismatch; 14 node unreachable or failing;\n"
    "  15 the contract reverted; 16 internal error; 17 memory document malformed; 18 memory document of an\n"
    "  unknown format version; 19 fact or memory too large; 20 no such fact; 21 not a valid recovery phrase;\n"
    "  22 import file not in the named format; 23 sync gave up on conflicts (change kept locally);\n"
    "  24 the home is locked by another process for too long; 25 verify: the bundle is self-consistent but\n"
    "  not anchored (no --trusted-root).\n";

typedef struct opt_str {
    const char *name;
    size_t off;
} opt_str;

#define S(n, f) {n, offsetof(cli_opts, f)}
static const opt_str STRS[] = {
    S("--home", home), S("--passphrase-file", passphrase_file), S("--rpc", rpc), S("--node", node),
    S("--module", module), S("--relayer-key-file", relayer_key_file), S("--in", in), S("--out", out),
    S("--asset", asset), S("--salt", salt), S("--metadata", metadata), S("--grantee", grantee),
    S("--grantee-key", grantee_key), S("--new-owner", new_owner), S("--wrapped-key", wrapped_key),
    S("--trusted-root", trusted_root), S("--format", format), S("--text", text),
};

/* The memory options that are not plain strings or numbers. */
static int parse_memory_option(cli_opts *o, int argc, char **argv, int *i, int *done)
{
    const char *a = argv[*i];
    *done = 1;
    if (strcmp(a, "--json") == 0) { o->json = 1; return CLI_OK; }
    if (strcmp(a, "--include-private") == 0) { o->include_private = 1; return CLI_OK; }
    const int has_value = *i + 1 < argc;
    const char *v = has_value ? argv[*i + 1] : NULL;
    if (strcmp(a, "--category") == 0) {
        const uint32_t bit = v != NULL ? msd_mem_category_bit(v) : 0;
        if (bit == 0)
            return cli_fail(CLI_USAGE, "--category is one of identity, career, interests, relationships, health, "
                                       "finance, learning, travel, productivity, private");
        o->categories |= bit;
    } else if (strcmp(a, "--type") == 0) {
        if (v != NULL && strcmp(v, "semantic") == 0) o->mem_type = MSD_MEM_SEMANTIC;
        else if (v != NULL && strcmp(v, "episodic") == 0) o->mem_type = MSD_MEM_EPISODIC;
        else return cli_fail(CLI_USAGE, "--type is semantic or episodic");
    } else if (strcmp(a, "--importance") == 0) {
        uint64_t n = 0;
        if (v == NULL || !text_u64(v, &n) || n > 100) return cli_fail(CLI_USAGE, "--importance is 0 to 100");
        o->importance = (int)n;
    } else if (strcmp(a, "--limit") == 0 || strcmp(a, "--max-bytes") == 0) {
        uint64_t n = 0;
        if (v == NULL || !text_u64(v, &n) || n == 0) return cli_fail(CLI_USAGE, "%s needs a positive number", a);
        if (a[2] == 'l') o->limit = n; else o->max_bytes = n;
    } else {
        *done = 0;
        return CLI_OK;
    }
    (*i)++;
    return CLI_OK;
}

static int parse_args(cli_opts *o, int argc, char **argv, int first)
{
    int positional_only = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int done = 0;
        if (!positional_only && strcmp(a, "--") == 0) { positional_only = 1; continue; }
        if (positional_only) {
            if (o->action != NULL) return cli_fail(CLI_USAGE, "unexpected argument %s", a);
            o->action = a;
            continue;
        }
        int rc = parse_memory_option(o, argc, argv, &i, &done);
        if (rc != CLI_OK) return rc;
        if (done) continue;
        for (size_t k = 0; k < sizeof STRS / sizeof STRS[0]; k++) {
            if (strcmp(a, STRS[k].name) == 0) {
                if (i + 1 >= argc) return cli_fail(CLI_USAGE, "%s needs a value", a);
                *(const char **)((char *)o + STRS[k].off) = argv[++i];
                done = 1;
            }
        }
        if (done) continue;
        if (strcmp(a, "--write") == 0) { o->write_perm = 1; continue; }
        if (strcmp(a, "--fast-kdf") == 0) { o->fast_kdf = 1; continue; }
        if (strcmp(a, "--new-key") == 0) { o->new_key = 1; continue; }
        if (strcmp(a, "--passphrase") == 0)
            return cli_fail(CLI_USAGE, "a passphrase on the command line is refused: use MEMSYNC_PASSPHRASE or "
                                       "--passphrase-file");
        struct { const char *name; uint64_t *v; int *has; } nums[] = {
            {"--version", &o->version, &o->has_version}, {"--epoch", &o->epoch, &o->has_epoch},
            {"--nonce", &o->nonce, &o->has_nonce}, {"--deadline", &o->deadline, &o->has_deadline},
            {"--expiry", &o->expiry, NULL}, {"--expected", &o->expected, &o->has_expected},
            {"--chain-id", &o->chain_id, NULL}, {"--trusted-height", &o->trusted_height, NULL},
        };
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
            if (strcmp(a, nums[k].name) == 0) {
                if (i + 1 >= argc || !text_u64(argv[i + 1], nums[k].v))
                    return cli_fail(CLI_USAGE, "%s needs an unsigned 64-bit number", a);
                if (nums[k].has != NULL) *nums[k].has = 1;
                i++;
                done = 1;
            }
        }
        if (done) continue;
        if (strcmp(a, "--precompile") == 0) {
            if (i + 1 >= argc || !text_hex_exact(o->precompile, 20, argv[i + 1]))
                return cli_fail(CLI_USAGE, "--precompile needs a 20-byte address");
            i++;
            continue;
        }
        if (o->action == NULL && (a[0] != '-' || a[1] == '\0')) {
            o->action = a;
            continue;
        }
        return cli_fail(CLI_USAGE, "unknown option %s (see memsync --help)", a);
    }
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    static const struct { const char *name; int (*fn)(const cli_opts *); } CMDS[] = {
        {"keygen", cmd_keygen}, {"address", cmd_address}, {"encrypt", cmd_encrypt}, {"decrypt", cmd_decrypt},
        {"sign", cmd_sign}, {"grant", cmd_grant}, {"revoke", cmd_revoke}, {"rotate", cmd_rotate},
        {"transfer", cmd_transfer}, {"push", cmd_push},
        {"pull", cmd_pull}, {"grants", cmd_grants}, {"export", cmd_export}, {"import", cmd_import},
        {"verify", cmd_verify}, {"remember", cmd_remember}, {"edit", cmd_edit}, {"recall", cmd_recall}, {"list", cmd_list},
        {"forget", cmd_forget}, {"context", cmd_context}, {"sync", cmd_sync},
        {"recovery-phrase", cmd_recovery_phrase}, {"restore", cmd_restore}, {"mcp", cmd_mcp},
    };
    int (*fn)(const cli_opts *) = NULL;
    for (size_t k = 0; k < sizeof CMDS / sizeof CMDS[0]; k++)
        if (strcmp(argv[1], CMDS[k].name) == 0) fn = CMDS[k].fn;
    if (fn == NULL) return cli_fail(CLI_USAGE, "unknown command %s (see memsync --help)", argv[1]);

    cli_opts o;
    memset(&o, 0, sizeof o);
    o.chain_id = 31337;
    o.precompile[18] = 0x4d;
    o.precompile[19] = 0x53;
    o.importance = -1;
    int rc = parse_args(&o, argc, argv, 2);
    if (rc != CLI_OK) return rc;
    /* import and export are the memory's with --format, the bundle's without. */
    if (fn == cmd_import && o.format != NULL) fn = cmd_mem_import;
    if (fn == cmd_export && o.format != NULL) fn = cmd_mem_export;
    const int takes_argument = fn == cmd_sign || fn == cmd_remember || fn == cmd_edit || fn == cmd_recall || fn == cmd_forget ||
                               fn == cmd_mem_import;
    if (o.action != NULL && !takes_argument) return cli_fail(CLI_USAGE, "unexpected argument %s", o.action);
    static char home[4096];
    if (o.home == NULL) o.home = getenv("MEMSYNC_HOME");
    if (o.home == NULL) {
        const char *h = getenv("HOME");
        if (h == NULL) return cli_fail(CLI_USAGE, "give --home DIR (no HOME)");
        if ((size_t)snprintf(home, sizeof home, "%s/.memsync", h) >= sizeof home)
            return cli_fail(CLI_USAGE, "HOME is too long: give --home DIR");
        o.home = home;
    }
    if (o.module == NULL) o.module = getenv("MEMSYNC_MODULE");
    if (msd_init() != MSD_OK) return cli_fail(CLI_INTERNAL, "libsodium could not be initialised");
    cli_wipe_json_allocations();
    return fn(&o);
}
