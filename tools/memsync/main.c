/* memsync: the owner's command line (keys, envelopes, signatures, grants,
 * chain commands and portable bundles). Usage: memsync --help. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: memsync COMMAND [options]\n"
    "\n"
    "Keys (the passphrase comes from MEMSYNC_PASSPHRASE or --passphrase-file FILE, never argv):\n"
    "  keygen   [--fast-kdf]                  new identity, key file HOME/key (mode 0600)\n"
    "  address                                print the address and the X25519 public key\n"
    "Offline:\n"
    "  encrypt  --asset ID|--salt S --version N --epoch E --in PLAIN --out ENVELOPE [--new-key]\n"
    "  decrypt  --asset ID --version N --epoch E --in ENVELOPE --out PLAIN [--wrapped-key FILE]\n"
    "  sign     create   --salt S [--metadata M] --in ENVELOPE --nonce N --deadline T\n"
    "  sign     append   --asset ID --expected V --epoch E --in ENVELOPE --nonce N --deadline T\n"
    "  sign     transfer --asset ID --new-owner ADDR --nonce N --deadline T\n"
    "           prints the EIP-712 digest, the signature and the calldata for a relayer\n"
    "  verify   --in BUNDLE [--trusted-height H --trusted-root R]\n"
    "Chain (with --rpc URL, e.g. http://127.0.0.1:8545, or --node DIR for a local module instance):\n"
    "  push     --asset ID|--salt S --in PLAIN [--metadata M]   new version, signed, sent by the relayer\n"
    "  pull     --asset ID [--version N] --out PLAIN|-          decrypt the head or a retained version\n"
    "  grants   --asset ID                                       list the grants\n"
    "  grant    --asset ID --grantee ADDR --grantee-key X25519 [--write] [--expiry T]   (offline: --epoch E)\n"
    "  revoke   --asset ID --grantee ADDR    revoke, rotate the key, rewrap it for the remaining grantees\n"
    "  export   --asset ID --out BUNDLE      the signed portable bundle (spec/bundle.md)\n"
    "  import   --in BUNDLE                  verify, then replay it into this chain and keyring\n"
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
    "  15 the contract reverted; 16 internal error.\n";

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
    S("--trusted-root", trusted_root),
};

static int parse_args(cli_opts *o, int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int done = 0;
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
        if (o->action == NULL && a[0] != '-') {
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
        {"sign", cmd_sign}, {"grant", cmd_grant}, {"revoke", cmd_revoke}, {"push", cmd_push},
        {"pull", cmd_pull}, {"grants", cmd_grants}, {"export", cmd_export}, {"import", cmd_import},
        {"verify", cmd_verify},
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
    int rc = parse_args(&o, argc, argv, 2);
    if (rc != CLI_OK) return rc;
    if (o.action != NULL && fn != cmd_sign) return cli_fail(CLI_USAGE, "unexpected argument %s", o.action);
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
    return fn(&o);
}
