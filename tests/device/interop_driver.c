/* The C side of the interoperability check (tests/device/interop/interop.mjs).
 *
 *   interop_driver c2js DIR   write DIR/c2js.txt: an identity's seed and public
 *                             keys, an envelope, a key wrapped for a grantee
 *                             (both formats: 120-byte and chain-bound) and a
 *                             signature, for @noble to check
 *   interop_driver js2c DIR   read DIR/js2c.txt written by @noble and check
 *                             that this library opens its envelope and its
 *                             wrapped keys (chain-bound: only for the chain it
 *                             names), and diagnoses a tampered copy
 *   interop_driver words DIR  write DIR/words.txt: the compiled BIP-39 word
 *                             list, one word a line, for @scure to compare
 *   interop_driver rec-c2js DIR
 *                             write DIR/rec-c2js.txt: random seeds with their
 *                             recovery phrase, memory salts and derived data
 *                             keys (spec/device.md §6), for @scure/@noble
 *   interop_driver rec-js2c DIR
 *                             read DIR/phrases.txt (one phrase a line, in
 *                             hex) and write DIR/phrases-out.txt: for each,
 *                             "ok ADDRESS X25519 PHRASE-HEX" (the identity
 *                             and its canonical phrase) or "err CODE"
 *
 * Files are lines of `name=value`, values in hex or decimal. TEST DATA ONLY:
 * the seeds and keys written here are throwaway. Exit 0 when all is well. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/bip39_english.h"
#include "device/internal.h"   /* the raw bytes of a derived data key */
#include "device/memsync_device.h"

#define MAX_VALUE 70000u
#define REC_SEEDS 16u

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
    uint8_t wrapped[MSD_WRAPPED_KEY_SIZE], wrapped2[MSD_WRAPPED_KEY_V2_SIZE];
    if ((st = msd_wrap_key(wrapped, k, gpk)) != MSD_OK) return fail("wrap", st);
    if ((st = msd_wrap_key_bound(wrapped2, k, c.chain_id, c.precompile, gpk)) != MSD_OK) return fail("wrap bound", st);
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
    put_hex(f, "wrapped2", wrapped2, sizeof wrapped2);
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
    uint8_t seed[32], raw[32], wrapped[256], wrapped2[256];
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
    const size_t w2_len = get_hex(file, "wrapped2", wrapped2, sizeof wrapped2);

    msd_identity *id = NULL;
    msd_data_key *imported = NULL, *unwrapped = NULL;
    msd_status st = msd_identity_from_seed(&id, seed);
    if (st != MSD_OK) return fail("identity", st);
    if ((st = msd_unwrap_key(&unwrapped, id, wrapped, w_len, c.asset_id, c.key_epoch)) != MSD_OK)
        return fail("unwrap the @noble sealed box", st);
    if ((st = msd_data_key_import(&imported, c.asset_id, c.key_epoch, raw)) != MSD_OK) return fail("import", st);
    /* The chain-bound format (spec/device.md [DEV-36]): opens for the chain
     * and contract it names, is refused for another chain or contract; the
     * 120-byte format opens, flagged as legacy. */
    msd_data_key *bound = NULL;
    int legacy = -1;
    if ((st = msd_unwrap_key_bound(&bound, &legacy, id, wrapped2, w2_len, c.chain_id, c.precompile, c.asset_id,
                                   c.key_epoch)) != MSD_OK)
        return fail("unwrap the @noble chain-bound wrapped key", st);
    if (legacy != 0 || !msd_data_key_equal(bound, imported)) return fail("@noble chain-bound key differs", MSD_ERR_WRONG_GRANT);
    msd_data_key_destroy(bound);
    bound = NULL;
    st = msd_unwrap_key_bound(&bound, NULL, id, wrapped2, w2_len, c.chain_id + 1, c.precompile, c.asset_id, c.key_epoch);
    if (st != MSD_ERR_WRONG_GRANT) return fail("@noble chain-bound key on another chain: expected WRONG_GRANT, got", st);
    uint8_t other_pre[20];
    memcpy(other_pre, c.precompile, 20);
    other_pre[19] ^= 0x80;
    st = msd_unwrap_key_bound(&bound, NULL, id, wrapped2, w2_len, c.chain_id, other_pre, c.asset_id, c.key_epoch);
    if (st != MSD_ERR_WRONG_GRANT) return fail("@noble chain-bound key for another contract: expected WRONG_GRANT, got", st);
    if ((st = msd_unwrap_key_bound(&bound, &legacy, id, wrapped, w_len, c.chain_id + 1, c.precompile, c.asset_id,
                                   c.key_epoch)) != MSD_OK || legacy != 1)
        return fail("the @noble legacy wrapped key through msd_unwrap_key_bound", st);
    msd_data_key_destroy(bound);
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
    printf("interop_driver: js2c: envelope, sealed boxes (both formats) and diagnosis ok\n");
    return 0;
}

/* ---------------------------------------------------------------- recovery */

static int words(const char *dir)
{
    char path[4096];
    path_in(path, sizeof path, dir, "words.txt");
    FILE *f = fopen(path, "w");
    if (f == NULL) return fail("open words.txt", MSD_ERR_IO);
    for (unsigned i = 0; i < MSD_BIP39_WORDS; i++) fprintf(f, "%s\n", msd_bip39_english[i]);
    return fclose(f) == 0 ? 0 : fail("write words.txt", MSD_ERR_IO);
}

static uint64_t random_u64(void)
{
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    return v;
}

static int rec_c2js(const char *dir)
{
    char path[4096], name[64];
    path_in(path, sizeof path, dir, "rec-c2js.txt");
    FILE *f = fopen(path, "w");
    if (f == NULL) return fail("open rec-c2js.txt", MSD_ERR_IO);
    fprintf(f, "count=%u\n", REC_SEEDS);
    for (unsigned i = 0; i < REC_SEEDS; i++) {
        uint8_t seed[32], salt[32], pre[20], asset[32];
        randombytes_buf(seed, sizeof seed);
        msd_identity *id = NULL;
        msd_status st = msd_identity_from_seed(&id, seed);
        if (st != MSD_OK) return fail("identity", st);
        char phrase[MSD_MNEMONIC_MAX];
        if ((st = msd_identity_mnemonic(phrase, sizeof phrase, id)) != MSD_OK) return fail("mnemonic", st);
        snprintf(name, sizeof name, "seed.%u", i);
        put_hex(f, name, seed, 32);
        fprintf(f, "phrase.%u=%s\n", i, phrase);
        /* Shards 0, 1, the largest, and a random one. */
        const uint32_t shards[4] = {0, 1, UINT32_MAX, (uint32_t)random_u64()};
        for (unsigned s = 0; s < 4; s++) {
            msd_memory_salt(salt, id, shards[s]);
            fprintf(f, "shard.%u.%u=%lu\n", i, s, (unsigned long)shards[s]);
            snprintf(name, sizeof name, "salt.%u.%u", i, s);
            put_hex(f, name, salt, 32);
        }
        /* Random labels; epoch >= 1. */
        const uint64_t chain = random_u64(), epoch = random_u64() | 1u;
        randombytes_buf(pre, sizeof pre);
        randombytes_buf(asset, sizeof asset);
        msd_data_key *k = NULL;
        if ((st = msd_data_key_derive(&k, id, chain, pre, asset, epoch)) != MSD_OK) return fail("derive", st);
        fprintf(f, "chain.%u=%llu\nepoch.%u=%llu\n", i, (unsigned long long)chain, i, (unsigned long long)epoch);
        snprintf(name, sizeof name, "precompile.%u", i);
        put_hex(f, name, pre, 20);
        snprintf(name, sizeof name, "asset.%u", i);
        put_hex(f, name, asset, 32);
        snprintf(name, sizeof name, "datakey.%u", i);
        put_hex(f, name, k->key, 32);
        msd_data_key_destroy(k);
        msd_identity_destroy(id);
    }
    return fclose(f) == 0 ? 0 : fail("write rec-c2js.txt", MSD_ERR_IO);
}

static int rec_js2c(const char *dir)
{
    char path[4096];
    path_in(path, sizeof path, dir, "phrases.txt");
    FILE *in = fopen(path, "r");
    if (in == NULL) return fail("open phrases.txt", MSD_ERR_IO);
    path_in(path, sizeof path, dir, "phrases-out.txt");
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fclose(in);
        return fail("open phrases-out.txt", MSD_ERR_IO);
    }
    static char line[8192];
    static uint8_t phrase[4096];
    unsigned n = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        size_t l = strlen(line), len = 0;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = '\0';
        if (sodium_hex2bin(phrase, sizeof phrase, line, l, NULL, &len, NULL) != 0) {
            fclose(in);
            fclose(out);
            return fail("phrases.txt: bad hex line", MSD_ERR_ARGS);
        }
        msd_identity *id = NULL;
        const msd_status st = msd_identity_from_mnemonic(&id, (const char *)phrase, len);
        if (st != MSD_OK) {
            fprintf(out, "err %d\n", (int)st);
        } else {
            uint8_t addr[20], pk[32];
            char canon[MSD_MNEMONIC_MAX];
            msd_identity_address(id, addr);
            msd_identity_x25519_public(id, pk);
            const msd_status st2 = msd_identity_mnemonic(canon, sizeof canon, id);
            fputs("ok ", out);
            for (size_t i = 0; i < 20; i++) fprintf(out, "%02x", addr[i]);
            fputc(' ', out);
            for (size_t i = 0; i < 32; i++) fprintf(out, "%02x", pk[i]);
            fputc(' ', out);
            for (size_t i = 0; st2 == MSD_OK && canon[i] != '\0'; i++) fprintf(out, "%02x", (uint8_t)canon[i]);
            fputc('\n', out);
        }
        msd_identity_destroy(id);
        n++;
    }
    fclose(in);
    if (fclose(out) != 0) return fail("write phrases-out.txt", MSD_ERR_IO);
    printf("interop_driver: rec-js2c: %u phrases parsed\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const char *dir);
    } cmds[] = {{"c2js", c2js}, {"js2c", js2c}, {"words", words}, {"rec-c2js", rec_c2js}, {"rec-js2c", rec_js2c}};
    if (argc == 3) {
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
            if (strcmp(argv[1], cmds[i].name) != 0) continue;
            if (msd_init() != MSD_OK) return fail("init", MSD_ERR_INIT);
            return cmds[i].run(argv[2]);
        }
    }
    fprintf(stderr, "usage: %s c2js|js2c|words|rec-c2js|rec-js2c DIR\n", argv[0]);
    return 2;
}
