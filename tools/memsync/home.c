/* The owner's local keyring under --home. Each memory's folder is named by
 * the chain, the contract and the asset, since the asset id alone does not
 * name the chain (the same owner and salt give the same id on every chain):
 *   key                 the passphrase-encrypted key file (spec/device.md §2)
 *   assets/<chain id>-<precompile hex>-<assetId hex>/
 *     salt              the creation salt (32 bytes), when this device created the asset
 *     epoch-<n>         the data key of epoch n sealed to this identity's X25519 key: the
 *                       chain-bound format (149 bytes, spec/device.md [DEV-36]); a grant kept
 *                       as received may be of the 120-byte format of older grants
 *     grantee-<address hex>  a grantee's X25519 public key (32 bytes), for rotations
 *     revoke-<address hex>   a revocation in progress: the key epoch it started at (u64 BE)
 * The layout of older versions, assets/<assetId hex>/, is read when the new
 * folder lacks a file (a legacy fallback) and never written. An epoch file is
 * never overwritten: it is created exclusively, an identical key already
 * there is accepted, and another key is an error that names the file.
 * Nothing in it is a clear secret: the seed is under the passphrase, data keys
 * are sealed boxes that only this identity opens. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

int home_asset_dir(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32], int create)
{
    char hex[65], pre[41];
    hex_of(hex, asset, 32);
    hex_of(pre, o->precompile, 20);
    if ((size_t)snprintf(buf, cap, "%s/assets", o->home) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    if (create) {
        int rc = mkdir_p(o->home);
        if (rc == CLI_OK) rc = mkdir_p(buf);
        if (rc != CLI_OK) return rc;
    }
    if ((size_t)snprintf(buf, cap, "%s/assets/%llu-%s-%s", o->home, (unsigned long long)o->chain_id, pre, hex) >= cap)
        return cli_fail(CLI_USAGE, "--home path too long");
    return create ? mkdir_p(buf) : CLI_OK;
}

int home_legacy_asset_dir(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32])
{
    char hex[65];
    hex_of(hex, asset, 32);
    if ((size_t)snprintf(buf, cap, "%s/assets/%s", o->home, hex) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    return CLI_OK;
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

static int blob_path(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32], const char *name, int create,
                     int legacy)
{
    char dir[4096];
    int rc = legacy ? home_legacy_asset_dir(dir, sizeof dir, o, asset) : home_asset_dir(dir, sizeof dir, o, asset, create);
    if (rc != CLI_OK) return rc;
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    return CLI_OK;
}

int home_store_blob(const cli_opts *o, const uint8_t asset[32], const char *name, const uint8_t *p, size_t n)
{
    char path[4200];
    int rc = blob_path(path, sizeof path, o, asset, name, 1, 0);
    return rc != CLI_OK ? rc : cli_write_file(path, p, n, 1);
}

int home_remove_blob(const cli_opts *o, const uint8_t asset[32], const char *name)
{
    char path[4200];
    int rc = blob_path(path, sizeof path, o, asset, name, 0, 0);
    if (rc != CLI_OK) return rc;
    if (unlink(path) != 0 && errno != ENOENT) return cli_fail(CLI_IO, "cannot remove %s: %s", path, strerror(errno));
    return CLI_OK;
}

/* The file `name` of the memory: its folder's, else (absent there) the
 * legacy folder's. Reads up to cap bytes. Returns CLI_OK with *len (the
 * file's whole size when it fits), or CLI_NO_KEY when neither exists or it
 * is larger than cap (quietly). */
static int read_blob(const cli_opts *o, const uint8_t asset[32], const char *name, uint8_t *p, size_t cap,
                     size_t *len, int *legacy)
{
    *len = 0;
    if (legacy != NULL) *legacy = 0;
    for (int old = 0; old < 2; old++) {
        char path[4200];
        int rc = blob_path(path, sizeof path, o, asset, name, 0, old);
        if (rc != CLI_OK) return rc;
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            if (errno == ENOENT) continue;
            return CLI_NO_KEY;
        }
        setvbuf(f, NULL, _IONBF, 0);
        uint8_t extra;
        const size_t got = fread(p, 1, cap, f);
        const int more = fread(&extra, 1, 1, f) == 1;
        fclose(f);
        if (more) return CLI_NO_KEY;
        *len = got;
        if (legacy != NULL) *legacy = old;
        return CLI_OK;
    }
    return CLI_NO_KEY;
}

/* Returns CLI_OK, or CLI_NO_KEY when absent or of another size (quietly). */
int home_load_blob(const cli_opts *o, const uint8_t asset[32], const char *name, uint8_t *p, size_t n)
{
    size_t len = 0;
    int rc = read_blob(o, asset, name, p, n, &len, NULL);
    if (rc != CLI_OK) return rc;
    return len == n ? CLI_OK : CLI_NO_KEY;
}

static void epoch_name(char name[64], uint64_t epoch)
{
    snprintf(name, 64, "epoch-%llu", (unsigned long long)epoch);
}

int home_load_wrapped(const cli_opts *o, const uint8_t asset[32], uint64_t epoch, uint8_t *wrapped, size_t cap,
                      size_t *len)
{
    char name[64];
    epoch_name(name, epoch);
    *len = 0;
    if (cap < MSD_WRAPPED_KEY_SIZE) return CLI_INTERNAL;
    size_t got = 0;
    int rc = read_blob(o, asset, name, wrapped, cap, &got, NULL);
    if (rc != CLI_OK) return rc;
    if (got != MSD_WRAPPED_KEY_SIZE && got != MSD_WRAPPED_KEY_V2_SIZE) return CLI_NO_KEY;
    *len = got;
    return CLI_OK;
}

/* 1 when the epoch file of the memory's own folder exists (not the legacy one). */
static int has_own_epoch_file(const cli_opts *o, const uint8_t asset[32], uint64_t epoch)
{
    char name[64], path[4200];
    epoch_name(name, epoch);
    struct stat st;
    return blob_path(path, sizeof path, o, asset, name, 0, 0) == CLI_OK && lstat(path, &st) == 0;
}

/* Create path with data, exclusively: a temporary file in the same folder,
 * synced, then link()ed to path, which fails when path exists; so a crash
 * never leaves a half-written key file and nothing is ever replaced.
 * Returns CLI_OK, CLI_IO (printed), or -1 (quietly) when path exists. */
static int create_exclusive(const char *path, const uint8_t *data, size_t len)
{
    char tmp[4300];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= sizeof tmp)
        return cli_fail(CLI_USAGE, "--home path too long");
    int fd = mkstemp(tmp);
    if (fd < 0) return cli_fail(CLI_IO, "cannot create a file next to %s: %s", path, strerror(errno));
    size_t done = 0;
    int ok = 1;
    while (ok && done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = 0;
        else done += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    int rc = CLI_OK;
    if (!ok) {
        rc = cli_fail(CLI_IO, "cannot write %s", tmp);
    } else if (link(tmp, path) != 0) {
        rc = errno == EEXIST ? -1 : cli_fail(CLI_IO, "cannot create %s: %s", path, strerror(errno));
    }
    unlink(tmp);
    return rc;
}

static int key_exists_error(const char *path, uint64_t epoch, const cli_opts *o)
{
    return cli_fail(CLI_IO,
                    "%s already holds another key of epoch %llu for this memory on chain %llu, and key files are never "
                    "overwritten. Keep it if versions of that epoch were written under it; if it is stale (left by an "
                    "older memsync, or copied in by hand), move it out of %s and run the command again",
                    path, (unsigned long long)epoch, (unsigned long long)o->chain_id, o->home);
}

/* Keep wrapped as the file of epoch. An existing file is accepted when it is
 * byte-identical or, with id given, opens to the same key. */
static int store_epoch(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch,
                       const uint8_t *wrapped, size_t len)
{
    char name[64], path[4200];
    epoch_name(name, epoch);
    int rc = blob_path(path, sizeof path, o, asset, name, 1, 0);
    if (rc != CLI_OK) return rc;
    rc = create_exclusive(path, wrapped, len);
    if (rc != -1) return rc;
    uint8_t have[MSD_WRAPPED_KEY_MAX + 1];
    FILE *f = fopen(path, "rb");
    size_t got = 0;
    if (f != NULL) {
        got = fread(have, 1, sizeof have, f);
        fclose(f);
    }
    if (f == NULL || got == 0) return cli_fail(CLI_IO, "cannot keep the key of epoch %llu: %s exists and cannot be "
                                                       "read as a key file (move it away and run the command again)",
                                               (unsigned long long)epoch, path);
    if (got == len && memcmp(have, wrapped, len) == 0) return CLI_OK;
    int same = 0;
    if (id != NULL) {
        msd_data_key *a = NULL, *b = NULL;
        if (msd_unwrap_key_bound(&a, NULL, id, have, got, o->chain_id, o->precompile, asset, epoch) == MSD_OK &&
            msd_unwrap_key_bound(&b, NULL, id, wrapped, len, o->chain_id, o->precompile, asset, epoch) == MSD_OK)
            same = msd_data_key_equal(a, b);
        msd_data_key_destroy(a);
        msd_data_key_destroy(b);
    }
    return same ? CLI_OK : key_exists_error(path, epoch, o);
}

int home_store_wrapped(const cli_opts *o, const uint8_t asset[32], uint64_t epoch, const uint8_t *wrapped,
                       size_t len)
{
    return store_epoch(o, NULL, asset, epoch, wrapped, len);
}

int home_store_wrapped_for(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch,
                           const uint8_t *wrapped, size_t len)
{
    return store_epoch(o, id, asset, epoch, wrapped, len);
}

int home_store_key_for_me(const cli_opts *o, const msd_identity *id, const msd_data_key *key)
{
    uint8_t pk[32], asset[32], wk[MSD_WRAPPED_KEY_V2_SIZE];
    msd_identity_x25519_public(id, pk);
    const uint64_t epoch = msd_data_key_info(key, asset);
    msd_status s = msd_wrap_key_bound(wk, key, o->chain_id, o->precompile, pk);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "wrap: %s", msd_strerror(s));
    return store_epoch(o, id, asset, epoch, wk, sizeof wk);
}

int home_load_data_key(msd_data_key **out, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                       uint64_t epoch)
{
    *out = NULL;
    uint8_t wk[MSD_WRAPPED_KEY_MAX];
    size_t len;
    int rc = home_load_wrapped(o, asset, epoch, wk, sizeof wk, &len);
    if (rc != CLI_OK) return rc;
    msd_status s = msd_unwrap_key_bound(out, NULL, id, wk, len, o->chain_id, o->precompile, asset, epoch);
    if (s != MSD_OK) return cli_fail(CLI_NO_KEY, "the kept key of epoch %llu does not open: %s",
                                     (unsigned long long)epoch, msd_strerror(s));
    return CLI_OK;
}

int home_load_own_data_key(msd_data_key **out, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                           uint64_t epoch)
{
    *out = NULL;
    if (!has_own_epoch_file(o, asset, epoch)) return CLI_NO_KEY;
    return home_load_data_key(out, o, id, asset, epoch);
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
    uint8_t wk[MSD_WRAPPED_KEY_MAX];
    size_t len;
    if (home_load_wrapped(o, asset, epoch, wk, sizeof wk, &len) == CLI_OK) return CLI_OK;
    msd_data_key *key = NULL;
    msd_status s = msd_data_key_derive(&key, id, o->chain_id, o->precompile, asset, epoch);
    if (s != MSD_OK) return cli_fail(cli_exit_of(s), "data key: %s", msd_strerror(s));
    int rc = home_store_key_for_me(o, id, key);
    msd_data_key_destroy(key);
    return rc;
}
