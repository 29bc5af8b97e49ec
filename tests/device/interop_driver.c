/* The C side of the interoperability check (tests/device/interop/interop.mjs).
 *
 *   interop_driver c2js DIR   write DIR/c2js.txt: an identity's seed and public
 *                             keys, an envelope, a key wrapped for a grantee
 *                             and a signature, for @noble to check
 *   interop_driver js2c DIR   read DIR/js2c.txt written by @noble and check
 *                             that this library opens its envelope and its
 *                             wrapped key (and diagnoses a tampered copy)
 *
 * Files are lines of `name=value`, values in hex or decimal. TEST DATA ONLY:
 * the seeds and keys written here are throwaway. Exit 0 when all is well. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memsync_device.h"

#define MAX_VALUE 70000u

static int fail(const char *what, msd_status st)
{
    fprintf(stderr, "interop_driver: %s: %s\n", what, msd_strerror(st));
    return 1;
}

static void put_hex(FILE *f, const char *name, const uint8_t *p, size_t n)
{
    fprintf(f, "%s=", name);
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
    fputc('\n', f);
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int c2js(const char *dir)
{
    char path[4096];
    path_in(path, sizeof path, dir, "c2js.txt");
    FILE *f = fopen(path, "w");
    if (f == NULL) return fail("open c2js.txt", MSD_ERR_IO);

    uint8_t seed[32], gseed[32], raw[32], addr[20], pk[32], gpk[32];
    randombytes_buf(seed, sizeof seed);
    randombytes_buf(gseed, sizeof gseed);
    randombytes_buf(raw, sizeof raw);
    msd_identity *id = NULL, *grantee = NULL;
    msd_status st = msd_identity_from_seed(&id, seed);
    if (st == MSD_OK) st = msd_identity_from_seed(&grantee, gseed);
    if (st != MSD_OK) return fail("identity", st);
    msd_identity_address(id, addr);
    msd_identity_x25519_public(id, pk);
    msd_identity_x25519_public(grantee, gpk);
    put_hex(f, "seed", seed, 32);
    put_hex(f, "address", addr, 20);
    put_hex(f, "x25519", pk, 32);
    put_hex(f, "grantee_seed", gseed, 32);
    put_hex(f, "grantee_x25519", gpk, 32);

    msd_context c;
    memset(&c, 0, sizeof c);
    c.chain_id = 31337;
    c.precompile[18] = 0x4d;
    c.precompile[19] = 0x53;
    randombytes_buf(c.asset_id, 32);
    c.version = 5;
    c.key_epoch = 2;
    msd_data_key *k = NULL;
    if ((st = msd_data_key_import(&k, c.asset_id, c.key_epoch, raw)) != MSD_OK) return fail("key", st);
    uint8_t msg[600];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)('a' + i % 26);
    static uint8_t env[2048];
    size_t env_len = 0;
    if ((st = msd_encrypt(env, sizeof env, &env_len, k, &c, msg, sizeof msg)) != MSD_OK) return fail("encrypt", st);
    uint8_t wrapped[MSD_WRAPPED_KEY_SIZE];
    if ((st = msd_wrap_key(wrapped, k, gpk)) != MSD_OK) return fail("wrap", st);
    uint8_t digest[32], sig[65];
    randombytes_buf(digest, sizeof digest);
    if ((st = msd_sign_digest(sig, id, digest)) != MSD_OK) return fail("sign", st);

    put_hex(f, "key", raw, 32);
    fprintf(f, "chain=%llu\nversion=%llu\nepoch=%llu\n", (unsigned long long)c.chain_id,
            (unsigned long long)c.version, (unsigned long long)c.key_epoch);
    put_hex(f, "precompile", c.precompile, 20);
    put_hex(f, "asset", c.asset_id, 32);
    put_hex(f, "plaintext", msg, sizeof msg);
    put_hex(f, "envelope", env, env_len);
    put_hex(f, "wrapped", wrapped, sizeof wrapped);
    put_hex(f, "digest", digest, 32);
    put_hex(f, "signature", sig, 65);
    msd_data_key_destroy(k);
    msd_identity_destroy(id);
    msd_identity_destroy(grantee);
    return fclose(f) == 0 ? 0 : fail("write c2js.txt", MSD_ERR_IO);
}

/* name=value lines; value copied raw. Returns 1 if found. */
static int get_value(const char *file, const char *name, char *out, size_t cap)
{
    const size_t nl = strlen(name);
    const char *p = file;
    while (p != NULL && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1, *e = strchr(v, '\n');
            const size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n + 1 > cap) return 0;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return 0;
}

static char value_buf[2 * MAX_VALUE + 2];

static size_t get_hex(const char *file, const char *name, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (!get_value(file, name, value_buf, sizeof value_buf) ||
        sodium_hex2bin(out, cap, value_buf, strlen(value_buf), NULL, &n, NULL) != 0) {
        fprintf(stderr, "interop_driver: js2c.txt: bad or missing %s\n", name);
        exit(1);
    }
    return n;
}

static uint64_t get_u64(const char *file, const char *name)
{
    char v[32];
    if (!get_value(file, name, v, sizeof v)) {
        fprintf(stderr, "interop_driver: js2c.txt: missing %s\n", name);
        exit(1);
    }
    return strtoull(v, NULL, 10);
}

static int js2c(const char *dir)
{
    char path[4096];
    path_in(path, sizeof path, dir, "js2c.txt");
    FILE *f = fopen(path, "r");
    if (f == NULL) return fail("open js2c.txt", MSD_ERR_IO);
    static char file[8 * MAX_VALUE];
    const size_t fl = fread(file, 1, sizeof file - 1, f);
    fclose(f);
    file[fl] = '\0';

    static uint8_t env[MAX_VALUE], tampered[MAX_VALUE], expect[MAX_VALUE], pt[MAX_VALUE];
    uint8_t seed[32], raw[32], wrapped[256];
    msd_context c;
    memset(&c, 0, sizeof c);
    get_hex(file, "recipient_seed", seed, 32);
    get_hex(file, "key", raw, 32);
    get_hex(file, "precompile", c.precompile, 20);
    get_hex(file, "asset", c.asset_id, 32);
    c.chain_id = get_u64(file, "chain");
    c.version = get_u64(file, "version");
    c.key_epoch = get_u64(file, "epoch");
    const size_t env_len = get_hex(file, "envelope", env, sizeof env);
    const size_t t_len = get_hex(file, "tampered", tampered, sizeof tampered);
    const size_t e_len = get_hex(file, "plaintext", expect, sizeof expect);
    const size_t w_len = get_hex(file, "wrapped", wrapped, sizeof wrapped);

    msd_identity *id = NULL;
    msd_data_key *imported = NULL, *unwrapped = NULL;
    msd_status st = msd_identity_from_seed(&id, seed);
    if (st != MSD_OK) return fail("identity", st);
    if ((st = msd_unwrap_key(&unwrapped, id, wrapped, w_len, c.asset_id, c.key_epoch)) != MSD_OK)
        return fail("unwrap the @noble sealed box", st);
    if ((st = msd_data_key_import(&imported, c.asset_id, c.key_epoch, raw)) != MSD_OK) return fail("import", st);
    const msd_data_key *keys[2] = {unwrapped, imported};
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        if ((st = msd_decrypt(pt, sizeof pt, &len, keys[i], &c, env, env_len)) != MSD_OK)
            return fail("decrypt the @noble envelope", st);
        if (len != e_len || memcmp(pt, expect, len) != 0) return fail("plaintext differs", MSD_ERR_TAMPERED);
    }
    size_t len = 0;
    st = msd_decrypt(pt, sizeof pt, &len, imported, &c, tampered, t_len);
    if (st != MSD_ERR_TAMPERED) return fail("tampered @noble envelope: expected MSD_ERR_TAMPERED, got", st);
    c.version += 1;
    st = msd_decrypt(pt, sizeof pt, &len, imported, &c, env, env_len);
    if (st != MSD_ERR_WRONG_CONTEXT) return fail("@noble envelope at another version: expected WRONG_CONTEXT, got", st);
    msd_data_key_destroy(imported);
    msd_data_key_destroy(unwrapped);
    msd_identity_destroy(id);
    printf("interop_driver: js2c: envelope, sealed box and diagnosis ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "c2js") != 0 && strcmp(argv[1], "js2c") != 0)) {
        fprintf(stderr, "usage: %s c2js|js2c DIR\n", argv[0]);
        return 2;
    }
    if (msd_init() != MSD_OK) return fail("init", MSD_ERR_INIT);
    return strcmp(argv[1], "c2js") == 0 ? c2js(argv[2]) : js2c(argv[2]);
}
