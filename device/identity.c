/* Device identity: one seed, two keys (spec/device.md §1), and the
 * passphrase-protected key file that keeps the seed (§2). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <secp256k1.h>
#include <sodium.h>

#include "abi/keccak.h"
#include "device/internal.h"

/* ------------------------------------------------------------- utilities */

void msd_put_be64(uint8_t p[8], uint64_t v)
{
    for (unsigned i = 0; i < 8u; i++) p[i] = (uint8_t)(v >> (56u - 8u * i));
}

uint64_t msd_get_be64(const uint8_t p[8])
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8u; i++) v = (v << 8) | p[i];
    return v;
}

const char *msd_strerror(msd_status s)
{
    switch (s) {
    case MSD_OK: return "success";
    case MSD_ERR_ARGS: return "invalid argument";
    case MSD_ERR_INIT: return "cryptographic library could not be initialised";
    case MSD_ERR_NOMEM: return "out of memory";
    case MSD_ERR_BUFFER: return "output buffer too small";
    case MSD_ERR_IO: return "file could not be opened, read or written";
    case MSD_ERR_EXISTS: return "key file already exists";
    case MSD_ERR_KEYFILE: return "not a MemSync key file, or an unsupported version";
    case MSD_ERR_PASSPHRASE: return "wrong passphrase, or the key file was altered";
    case MSD_ERR_MALFORMED: return "malformed envelope";
    case MSD_ERR_WRONG_EPOCH: return "envelope was written under another key epoch";
    case MSD_ERR_WRONG_KEY: return "wrong data key for this envelope";
    case MSD_ERR_WRONG_CONTEXT: return "envelope belongs to another chain, asset or version";
    case MSD_ERR_TAMPERED: return "envelope ciphertext was altered";
    case MSD_ERR_NOT_FOR_ME: return "wrapped key is not sealed to this identity, or was altered";
    case MSD_ERR_WRONG_GRANT: return "wrapped key belongs to another asset or key epoch";
    case MSD_ERR_EPOCH_LIMIT: return "key epoch cannot advance further";
    case MSD_ERR_SIGN: return "signing failed";
    case MSD_ERR_CHAIN: return "version hash chain is broken";
    case MSD_ERR_PROOF: return "state proof does not verify";
    case MSD_ERR_BUNDLE: return "not a valid MemSync bundle (truncated, over a limit, or a bad field)";
    case MSD_ERR_BUNDLE_SIGNATURE: return "bundle signature does not match its owner: the bundle was altered";
    case MSD_ERR_MEM_MALFORMED: return "not a valid memory document (malformed, a bad field or a duplicate id)";
    case MSD_ERR_MEM_VERSION: return "memory document of an unknown format version";
    case MSD_ERR_MEM_TOO_LARGE: return "fact or memory document too large";
    case MSD_ERR_MEM_NOT_FOUND: return "no such fact";
    case MSD_ERR_MNEMONIC: return "not a valid recovery phrase (24 English BIP-39 words with a valid checksum)";
    case MSD_ERR_IMPORT: return "the file is not in the named import format";
    }
    return "unknown error";
}

msd_status msd_init(void)
{
    return sodium_init() < 0 ? MSD_ERR_INIT : MSD_OK;
}

/* -------------------------------------------------------------- identity */

/* crypto_kdf contexts (8 bytes each); spec/device.md §1. */
static const char msd_ctx_sign[crypto_kdf_CONTEXTBYTES + 1] = "MSsecp1k";
static const char msd_ctx_box[crypto_kdf_CONTEXTBYTES + 1] = "MSx25519";
#define MSD_SIGN_KEY_TRIES 16u

msd_identity *msd_identity_alloc(void)
{
    if (sodium_init() < 0) return NULL;
    msd_identity *id = sodium_malloc(sizeof *id);
    if (id == NULL) return NULL;
    sodium_memzero(id, sizeof *id);
    return id;
}

msd_status msd_identity_derive(msd_identity *id)
{
    if (id->secp == NULL) {
        id->secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        if (id->secp == NULL) return MSD_ERR_INIT;
        uint8_t blind[32];
        randombytes_buf(blind, sizeof blind);
        const int ok = secp256k1_context_randomize(id->secp, blind);
        sodium_memzero(blind, sizeof blind);
        if (!ok) return MSD_ERR_INIT;
    }
    /* Signing key: the first subkey id 1, 2, ... that is a valid scalar
     * (a miss has probability about 2^-128 per try). */
    int found = 0;
    for (uint64_t sub = 1; sub <= MSD_SIGN_KEY_TRIES && !found; sub++) {
        if (crypto_kdf_derive_from_key(id->sign_sk, sizeof id->sign_sk, sub, msd_ctx_sign, id->seed) != 0)
            return MSD_ERR_INIT;
        found = msd_public(secp256k1_ec_seckey_verify(id->secp, id->sign_sk));
    }
    if (!found) return MSD_ERR_INIT;
    secp256k1_pubkey pub;
    if (!msd_public(secp256k1_ec_pubkey_create(id->secp, &pub, id->sign_sk))) return MSD_ERR_INIT;
    MSD_DECLASSIFY(&pub, sizeof pub);
    uint8_t ser[65];
    size_t ser_len = sizeof ser;
    secp256k1_ec_pubkey_serialize(id->secp, ser, &ser_len, &pub, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    ms_keccak256(h, ser + 1, 64);
    memcpy(id->addr, h + 12, sizeof id->addr);

    /* X25519: the derived 32 bytes are the secret scalar (clamped by X25519). */
    if (crypto_kdf_derive_from_key(id->box_sk, sizeof id->box_sk, 1, msd_ctx_box, id->seed) != 0)
        return MSD_ERR_INIT;
    if (crypto_scalarmult_base(id->box_pk, id->box_sk) != 0) return MSD_ERR_INIT;
    return MSD_OK;
}

void msd_identity_destroy(msd_identity *id)
{
    if (id == NULL) return;
    if (id->secp != NULL) secp256k1_context_destroy(id->secp);
    sodium_free(id);   /* wipes */
}

static msd_status msd_identity_finish(msd_identity **out, msd_identity *id)
{
    const msd_status st = msd_identity_derive(id);
    if (st != MSD_OK) {
        msd_identity_destroy(id);
        *out = NULL;
        return st;
    }
    *out = id;
    return MSD_OK;
}

msd_status msd_identity_generate(msd_identity **out)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    msd_identity *id = msd_identity_alloc();
    if (id == NULL) return MSD_ERR_NOMEM;
    randombytes_buf(id->seed, sizeof id->seed);
    return msd_identity_finish(out, id);
}

msd_status msd_identity_from_seed(msd_identity **out, const uint8_t seed32[MSD_SEED_SIZE])
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (seed32 == NULL) return MSD_ERR_ARGS;
    msd_identity *id = msd_identity_alloc();
    if (id == NULL) return MSD_ERR_NOMEM;
    memcpy(id->seed, seed32, sizeof id->seed);
    return msd_identity_finish(out, id);
}

void msd_identity_address(const msd_identity *id, uint8_t addr20[MSD_ADDRESS_SIZE])
{
    memcpy(addr20, id->addr, MSD_ADDRESS_SIZE);
}

void msd_identity_x25519_public(const msd_identity *id, uint8_t pk32[MSD_X25519_PUBLIC_SIZE])
{
    memcpy(pk32, id->box_pk, MSD_X25519_PUBLIC_SIZE);
}

/* -------------------------------------------------------------- key file */

/* Layout (spec/device.md §2), 116 bytes:
 *   0  8  magic "MemSyncK"
 *   8  1  format version 1
 *   9  1  KDF 1 = Argon2id v1.3 (crypto_pwhash_ALG_ARGON2ID13)
 *   10 1  AEAD 1 = XChaCha20-Poly1305-IETF
 *   11 1  reserved, 0
 *   12 8  opslimit, u64 big-endian
 *   20 8  memlimit in bytes, u64 big-endian
 *   28 16 salt
 *   44 24 nonce
 *   68 48 encrypted seed (32) and tag (16); associated data = bytes 0..67 */
#define KF_MAGIC "MemSyncK"
#define KF_VERSION 1u
#define KF_KDF_ARGON2ID13 1u
#define KF_AEAD_XCHACHA 1u
#define KF_HEADER 68u

static int msd_limits_ok(uint64_t ops, uint64_t mem)
{
    return ops >= MSD_KEYFILE_OPSLIMIT_MIN && ops <= MSD_KEYFILE_OPSLIMIT_MAX &&
           mem >= MSD_KEYFILE_MEMLIMIT_MIN && mem <= MSD_KEYFILE_MEMLIMIT_MAX;
}

/* Argon2id key of the file; Returns MSD_OK or MSD_ERR_NOMEM. */
static msd_status msd_keyfile_kek(uint8_t kek[32], const char *pass, size_t pass_len, const uint8_t salt[16],
                                  uint64_t ops, uint64_t mem)
{
    if (crypto_pwhash(kek, 32, pass_len ? pass : "", (unsigned long long)pass_len, salt,
                      (unsigned long long)ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(kek, 32);
        return MSD_ERR_NOMEM;
    }
    return MSD_OK;
}

static int msd_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += (size_t)w;
        n -= (size_t)w;
    }
    return 1;
}

/* fsync the folder holding path, so the new name survives a crash. */
static void msd_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (slash == NULL) {
        dir = strdup(".");
    } else {
        const size_t n = slash == path ? 1u : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir != NULL) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (dir == NULL) return;
    const int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

msd_status msd_keyfile_write(const char *path, const msd_identity *id, const char *pass, size_t pass_len,
                             uint64_t opslimit, size_t memlimit)
{
    if (path == NULL || id == NULL || (pass == NULL && pass_len > 0)) return MSD_ERR_ARGS;
    if (opslimit == 0 && memlimit == 0) {
        opslimit = MSD_KEYFILE_OPSLIMIT_DEFAULT;
        memlimit = MSD_KEYFILE_MEMLIMIT_DEFAULT;
    }
    if (!msd_limits_ok(opslimit, (uint64_t)memlimit)) return MSD_ERR_ARGS;
    struct stat st;
    if (lstat(path, &st) == 0) return MSD_ERR_EXISTS;   /* early, before the costly hash */

    uint8_t file[MSD_KEYFILE_SIZE];
    memcpy(file, KF_MAGIC, 8);
    file[8] = KF_VERSION;
    file[9] = KF_KDF_ARGON2ID13;
    file[10] = KF_AEAD_XCHACHA;
    file[11] = 0;
    msd_put_be64(file + 12, opslimit);
    msd_put_be64(file + 20, (uint64_t)memlimit);
    randombytes_buf(file + 28, 16);
    randombytes_buf(file + 44, 24);

    uint8_t kek[32];
    msd_status rc = msd_keyfile_kek(kek, pass, pass_len, file + 28, opslimit, memlimit);
    if (rc != MSD_OK) return rc;
    crypto_aead_xchacha20poly1305_ietf_encrypt(file + KF_HEADER, NULL, id->seed, MSD_SEED_SIZE, file, KF_HEADER,
                                               NULL, file + 44, kek);
    sodium_memzero(kek, sizeof kek);

    const size_t plen = strlen(path);
    char *tmp = malloc(plen + 12);
    if (tmp == NULL) return MSD_ERR_NOMEM;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmpXXXXXX", 11);
    const int fd = mkstemp(tmp);   /* created 0600 */
    if (fd < 0) {
        free(tmp);
        return MSD_ERR_IO;
    }
    rc = MSD_OK;
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || !msd_write_all(fd, file, sizeof file) || fsync(fd) != 0) rc = MSD_ERR_IO;
    if (close(fd) != 0 && rc == MSD_OK) rc = MSD_ERR_IO;
    if (rc == MSD_OK && link(tmp, path) != 0) rc = errno == EEXIST ? MSD_ERR_EXISTS : MSD_ERR_IO;
    (void)unlink(tmp);
    free(tmp);
    if (rc == MSD_OK) msd_sync_dir(path);
    return rc;
}

msd_status msd_keyfile_read(msd_identity **out, const char *path, const char *pass, size_t pass_len)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (path == NULL || (pass == NULL && pass_len > 0)) return MSD_ERR_ARGS;
    const int fd = open(path, O_RDONLY);
    if (fd < 0) return MSD_ERR_IO;
    uint8_t file[MSD_KEYFILE_SIZE + 1];
    size_t n = 0;
    while (n < sizeof file) {
        const ssize_t r = read(fd, file + n, sizeof file - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            close(fd);
            return MSD_ERR_IO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (n != MSD_KEYFILE_SIZE || memcmp(file, KF_MAGIC, 8) != 0 || file[8] != KF_VERSION ||
        file[9] != KF_KDF_ARGON2ID13 || file[10] != KF_AEAD_XCHACHA || file[11] != 0)
        return MSD_ERR_KEYFILE;
    const uint64_t ops = msd_get_be64(file + 12), mem = msd_get_be64(file + 20);
    if (!msd_limits_ok(ops, mem)) return MSD_ERR_KEYFILE;

    uint8_t kek[32];
    msd_status rc = msd_keyfile_kek(kek, pass, pass_len, file + 28, ops, mem);
    if (rc != MSD_OK) return rc;
    msd_identity *id = msd_identity_alloc();
    if (id == NULL) {
        sodium_memzero(kek, sizeof kek);
        return MSD_ERR_NOMEM;
    }
    const int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(id->seed, NULL, NULL, file + KF_HEADER,
                                                               MSD_SEED_SIZE + 16u, file, KF_HEADER, file + 44, kek);
    sodium_memzero(kek, sizeof kek);
    if (bad) {
        msd_identity_destroy(id);
        return MSD_ERR_PASSPHRASE;
    }
    return msd_identity_finish(out, id);
}
