/* The owner's local keyring under --home:
 *   key                             the passphrase-encrypted key file (spec/device.md §2)
 *   assets/<assetId hex>/salt       the creation salt (32 bytes), when this device created the asset
 *   assets/<assetId hex>/epoch-<n>  the data key of epoch n sealed to this identity's X25519 key (120 bytes)
 *   assets/<assetId hex>/grantee-<address hex>  a grantee's X25519 public key (32 bytes), for rotations
 * Nothing in it is a clear secret: the seed is under the passphrase, data keys
 * are sealed boxes that only this identity opens. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"


static int mkdir_p(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return CLI_OK;
    return cli_fail(CLI_IO, "cannot create folder %s: %s", path, strerror(errno));
}

int home_key_path(char *buf, size_t cap, const cli_opts *o)
{
    if ((size_t)snprintf(buf, cap, "%s/key", o->home) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    return CLI_OK;
}

int home_asset_dir(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32], int create)
{
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", asset[i]);
    if ((size_t)snprintf(buf, cap, "%s/assets", o->home) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    if (create) {
        int rc = mkdir_p(o->home);
        if (rc == CLI_OK) rc = mkdir_p(buf);
        if (rc != CLI_OK) return rc;
    }
    if ((size_t)snprintf(buf, cap, "%s/assets/%s", o->home, hex) >= cap)
        return cli_fail(CLI_USAGE, "--home path too long");
    return create ? mkdir_p(buf) : CLI_OK;
}

/* The passphrase from --passphrase-file (its first line) or MEMSYNC_PASSPHRASE;
 * never from argv, where other users of the machine could read it. A file
 * that cannot be read, or whose first line does not fit, is an error: reading
 * it as an empty or cut passphrase would protect a new key file with less than
 * the owner typed. */
int home_read_passphrase(char *pass, size_t cap, size_t *len, const cli_opts *o)
{
    *len = 0;
    if (o->passphrase_file != NULL) {
        FILE *f = fopen(o->passphrase_file, "rb");
        if (f == NULL) return cli_fail(CLI_IO, "cannot open passphrase file %s: %s", o->passphrase_file, strerror(errno));
        setvbuf(f, NULL, _IONBF, 0);   /* no stdio buffer keeps a copy on the heap */
        size_t n = fread(pass, 1, cap, f);
        const int failed = ferror(f);
        fclose(f);
        size_t i = 0;
        while (i < n && pass[i] != '\n' && pass[i] != '\r') i++;
        sodium_memzero(pass + i, cap - i);
        if (!failed && i < cap) {
            *len = i;
            return CLI_OK;
        }
        sodium_memzero(pass, cap);
        if (failed) return cli_fail(CLI_IO, "cannot read passphrase file %s", o->passphrase_file);
        return cli_fail(CLI_USAGE, "passphrase longer than %u bytes", PASS_MAX - 1);
    }
    const char *env = getenv("MEMSYNC_PASSPHRASE");
    if (env == NULL)
        return cli_fail(CLI_USAGE, "no passphrase: set MEMSYNC_PASSPHRASE or pass --passphrase-file FILE");
    size_t n = strlen(env);
    if (n >= cap) return cli_fail(CLI_USAGE, "passphrase longer than %u bytes", PASS_MAX - 1);
    memcpy(pass, env, n);
    *len = n;
    return CLI_OK;
}

int home_open_identity(msd_identity **out, const cli_opts *o)
{
    *out = NULL;
    char path[4096];
    int rc = home_key_path(path, sizeof path, o);
    if (rc != CLI_OK) return rc;
    struct stat st;
    if (stat(path, &st) != 0)
        return cli_fail(CLI_IO, "no key file at %s (create one with `memsync keygen`)", path);
    char pass[PASS_MAX];
    size_t plen;
    rc = home_read_passphrase(pass, sizeof pass, &plen, o);
    if (rc != CLI_OK) return rc;
    msd_status s = msd_keyfile_read(out, path, pass, plen);
    sodium_memzero(pass, sizeof pass);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "key file %s: %s", path, msd_strerror(s));
    return CLI_OK;
}

/* The public half only: the address and the X25519 key grantors seal to. */
static void print_identity(const msd_identity *id)
{
    uint8_t addr[20], pk[32];
    msd_identity_address(id, addr);
    msd_identity_x25519_public(id, pk);
    cli_print_field("address", addr, 20);
    cli_print_field("x25519", pk, 32);
}

int cmd_keygen(const cli_opts *o)
{
    char pass[PASS_MAX];
    size_t plen;
    int rc = home_read_passphrase(pass, sizeof pass, &plen, o);
    if (rc != CLI_OK) return rc;
    msd_identity *id = NULL;
    msd_status s = msd_identity_generate(&id);
    if (s != MSD_OK) {
        sodium_memzero(pass, sizeof pass);
        return cli_fail(cli_exit_of(s), "keygen: %s", msd_strerror(s));
    }
    rc = home_write_key(o, id, pass, plen);
    sodium_memzero(pass, sizeof pass);
    if (rc == CLI_OK) print_identity(id);
    msd_identity_destroy(id);
    return rc;
}

int home_write_key(const cli_opts *o, const msd_identity *id, const char *pass, size_t plen)
{
    char path[4096];
    int rc = home_key_path(path, sizeof path, o);
    if (rc == CLI_OK) rc = mkdir_p(o->home);
    if (rc != CLI_OK) return rc;
    if (plen == 0) return cli_fail(CLI_USAGE, "an empty passphrase is refused: the key file would keep the seed in clear");
    msd_status s = msd_keyfile_write(path, id, pass, plen, o->fast_kdf ? MSD_KEYFILE_OPSLIMIT_MIN : 0,
                                     o->fast_kdf ? MSD_KEYFILE_MEMLIMIT_MIN : 0);
    if (s == MSD_ERR_EXISTS) return cli_fail(CLI_IO, "%s already exists; it is never overwritten", path);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "key file: %s", msd_strerror(s));
    printf("key file  %s\n", path);
    return CLI_OK;
}

int cmd_address(const cli_opts *o)
{
    msd_identity *id;
    int rc = home_open_identity(&id, o);
    if (rc != CLI_OK) return rc;
    print_identity(id);
    msd_identity_destroy(id);
    return CLI_OK;
}

static int blob_path(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32], const char *name, int create)
{
    char dir[4096];
    int rc = home_asset_dir(dir, sizeof dir, o, asset, create);
    if (rc != CLI_OK) return rc;
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    return CLI_OK;
}

int home_store_blob(const cli_opts *o, const uint8_t asset[32], const char *name, const uint8_t *p, size_t n)
{
    char path[4200];
    int rc = blob_path(path, sizeof path, o, asset, name, 1);
    return rc != CLI_OK ? rc : cli_write_file(path, p, n, 1);
}

/* Returns CLI_OK, or CLI_NO_KEY when absent or of another size (quietly). */
int home_load_blob(const cli_opts *o, const uint8_t asset[32], const char *name, uint8_t *p, size_t n)
{
    char path[4200];
    int rc = blob_path(path, sizeof path, o, asset, name, 0);
    if (rc != CLI_OK) return rc;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return CLI_NO_KEY;
    uint8_t extra;
    size_t got = fread(p, 1, n, f);
    int more = fread(&extra, 1, 1, f) == 1;
    fclose(f);
    return got == n && !more ? CLI_OK : CLI_NO_KEY;
}

int home_store_wrapped(const cli_opts *o, const uint8_t asset[32], uint64_t epoch, const uint8_t *wrapped,
                       size_t len)
{
    char name[64];
    snprintf(name, sizeof name, "epoch-%llu", (unsigned long long)epoch);
    return home_store_blob(o, asset, name, wrapped, len);
}

int home_load_wrapped(const cli_opts *o, const uint8_t asset[32], uint64_t epoch, uint8_t *wrapped, size_t cap,
                      size_t *len)
{
    char name[64];
    snprintf(name, sizeof name, "epoch-%llu", (unsigned long long)epoch);
    *len = 0;
    if (cap < MSD_WRAPPED_KEY_SIZE) return CLI_INTERNAL;
    int rc = home_load_blob(o, asset, name, wrapped, MSD_WRAPPED_KEY_SIZE);
    if (rc == CLI_OK) *len = MSD_WRAPPED_KEY_SIZE;
    return rc;
}

int home_store_key_for_me(const cli_opts *o, const msd_identity *id, const msd_data_key *key)
{
    uint8_t pk[32], asset[32], wk[MSD_WRAPPED_KEY_SIZE];
    msd_identity_x25519_public(id, pk);
    const uint64_t epoch = msd_data_key_info(key, asset);
    msd_status s = msd_wrap_key(wk, key, pk);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "wrap: %s", msd_strerror(s));
    return home_store_wrapped(o, asset, epoch, wk, sizeof wk);
}

int home_load_data_key(msd_data_key **out, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                       uint64_t epoch)
{
    *out = NULL;
    uint8_t wk[MSD_WRAPPED_KEY_SIZE];
    size_t len;
    int rc = home_load_wrapped(o, asset, epoch, wk, sizeof wk, &len);
    if (rc != CLI_OK) return rc;
    msd_status s = msd_unwrap_key(out, id, wk, len, asset, epoch);
    if (s != MSD_OK) return cli_fail(CLI_NO_KEY, "the kept key of epoch %llu does not open: %s",
                                     (unsigned long long)epoch, msd_strerror(s));
    return CLI_OK;
}

int cli_asset_of(uint8_t asset[32], const cli_opts *o, const msd_identity *id, int *from_salt, uint8_t salt[32])
{
    if (from_salt != NULL) *from_salt = 0;
    if (o->asset != NULL) {
        if (!text_hex_exact(asset, 32, o->asset)) return cli_fail(CLI_USAGE, "--asset needs 32 bytes of hex");
        return CLI_OK;
    }
    if (o->salt == NULL) return cli_fail(CLI_USAGE, "give --asset ID or --salt HEX");
    uint8_t s[32];
    if (!text_hex_exact(s, 32, o->salt)) return cli_fail(CLI_USAGE, "--salt needs 32 bytes of hex");
    if (id == NULL) return cli_fail(CLI_USAGE, "--salt needs the owner's key");
    uint8_t owner[20];
    msd_identity_address(id, owner);
    msd_asset_id(asset, o->precompile, owner, s);
    if (from_salt != NULL) *from_salt = 1;
    if (salt != NULL) memcpy(salt, s, 32);
    return CLI_OK;
}

int home_ensure_owner_key(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch)
{
    uint8_t wk[MSD_WRAPPED_KEY_SIZE];
    size_t len;
    if (home_load_wrapped(o, asset, epoch, wk, sizeof wk, &len) == CLI_OK) return CLI_OK;
    msd_data_key *key = NULL;
    msd_status s = msd_data_key_derive(&key, id, o->chain_id, o->precompile, asset, epoch);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "data key: %s", msd_strerror(s));
    int rc = home_store_key_for_me(o, id, key);
    msd_data_key_destroy(key);
    return rc;
}
