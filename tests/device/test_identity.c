/* Device identity derivation (spec/device.md §1) and the key file (§2). */
#include "device_test.h"

#include <secp256k1.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/keccak.h"

/* Cheapest accepted Argon2id cost, to keep the suite fast. */
#define OPS MSD_KEYFILE_OPSLIMIT_MIN
#define MEM MSD_KEYFILE_MEMLIMIT_MIN

static char dir[64];

static void setup(void)
{
    dt_init();
    snprintf(dir, sizeof dir, "/tmp/msd-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(identity, .init = setup, .fini = teardown);

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* The derivation recomputed from the spec with plain libsodium/libsecp256k1. */
Test(identity, derivation_follows_spec)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)i;
    msd_identity *id = NULL;
    cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);

    uint8_t sk[32], pub65[65], h[32], box_sk[32], box_pk[32], addr[20], pk[32];
    cr_assert_eq(crypto_kdf_derive_from_key(sk, 32, 1, "MSsecp1k", seed), 0);
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey p;
    cr_assert(secp256k1_ec_pubkey_create(ctx, &p, sk));
    size_t l = 65;
    secp256k1_ec_pubkey_serialize(ctx, pub65, &l, &p, SECP256K1_EC_UNCOMPRESSED);
    secp256k1_context_destroy(ctx);
    ms_keccak256(h, pub65 + 1, 64);
    msd_identity_address(id, addr);
    cr_assert_arr_eq(addr, h + 12, 20);

    cr_assert_eq(crypto_kdf_derive_from_key(box_sk, 32, 1, "MSx25519", seed), 0);
    cr_assert_eq(crypto_scalarmult_base(box_pk, box_sk), 0);
    msd_identity_x25519_public(id, pk);
    cr_assert_arr_eq(pk, box_pk, 32);
    msd_identity_destroy(id);
}

/* Known answer computed with @noble/hashes and @noble/curves (spec/device.md
 * §1.3): seed 00 01 02 ... 1f. */
Test(identity, known_answer)
{
    static const uint8_t want_addr[20] = {0x98, 0x87, 0xd4, 0x13, 0xee, 0xbb, 0xc4, 0x08, 0x8a, 0x6b,
                                          0xbf, 0x21, 0x00, 0x31, 0x42, 0x22, 0x61, 0x72, 0x36, 0x3b};
    static const uint8_t want_pk[32] = {0x7b, 0x41, 0x70, 0x91, 0x85, 0x67, 0xa3, 0x3a, 0x56, 0x9a, 0xbd,
                                        0x26, 0x1c, 0xfc, 0x97, 0x83, 0x36, 0x1b, 0xd7, 0xd3, 0x46, 0xb9,
                                        0xd3, 0xd0, 0x36, 0x92, 0x0c, 0x88, 0xa1, 0x8a, 0x37, 0x6b};
    uint8_t seed[32], addr[20], pk[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)i;
    msd_identity *id = NULL;
    cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);
    msd_identity_address(id, addr);
    msd_identity_x25519_public(id, pk);
    cr_assert_arr_eq(addr, want_addr, 20);
    cr_assert_arr_eq(pk, want_pk, 32);
    msd_identity_destroy(id);
}

Test(identity, deterministic_and_distinct)
{
    msd_identity *a = dt_identity_seeded(1), *b = dt_identity_seeded(1), *c = dt_identity_seeded(2), *r = NULL;
    cr_assert_eq(msd_identity_generate(&r), MSD_OK);
    uint8_t aa[20], ba[20], ca[20], ra[20], ap[32], bp[32], cp[32];
    msd_identity_address(a, aa);
    msd_identity_address(b, ba);
    msd_identity_address(c, ca);
    msd_identity_address(r, ra);
    msd_identity_x25519_public(a, ap);
    msd_identity_x25519_public(b, bp);
    msd_identity_x25519_public(c, cp);
    cr_assert_arr_eq(aa, ba, 20);
    cr_assert_arr_eq(ap, bp, 32);
    cr_assert(memcmp(aa, ca, 20) != 0 && memcmp(ap, cp, 32) != 0 && memcmp(aa, ra, 20) != 0);
    msd_identity_destroy(a);
    msd_identity_destroy(b);
    msd_identity_destroy(c);
    msd_identity_destroy(r);
    msd_identity_destroy(NULL);
    cr_assert_eq(msd_identity_from_seed(NULL, ap), MSD_ERR_ARGS);
    cr_assert_eq(msd_identity_from_seed(&a, NULL), MSD_ERR_ARGS);
    cr_assert_null(a);
}

Test(identity, keyfile_round_trip_mode_0600)
{
    char path[128];
    path_of(path, sizeof path, "owner.key");
    msd_identity *id = NULL, *back = NULL;
    cr_assert_eq(msd_identity_generate(&id), MSD_OK);
    cr_assert_eq(msd_keyfile_write(path, id, "correct horse", 13, OPS, MEM), MSD_OK);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    cr_assert_eq((size_t)st.st_size, MSD_KEYFILE_SIZE);
    cr_assert_eq(msd_keyfile_read(&back, path, "correct horse", 13), MSD_OK);
    uint8_t a1[20], a2[20], p1[32], p2[32];
    msd_identity_address(id, a1);
    msd_identity_address(back, a2);
    msd_identity_x25519_public(id, p1);
    msd_identity_x25519_public(back, p2);
    cr_assert_arr_eq(a1, a2, 20);
    cr_assert_arr_eq(p1, p2, 32);
    /* No temporary file is left behind. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    cr_assert_eq(system(cmd), 0);
    msd_identity_destroy(id);
    msd_identity_destroy(back);
}

Test(identity, keyfile_wrong_passphrase)
{
    char path[128];
    path_of(path, sizeof path, "k");
    msd_identity *id = dt_identity_seeded(3), *back = NULL;
    cr_assert_eq(msd_keyfile_write(path, id, "right", 5, OPS, MEM), MSD_OK);
    cr_assert_eq(msd_keyfile_read(&back, path, "wrong", 5), MSD_ERR_PASSPHRASE);
    cr_assert_null(back);
    cr_assert_eq(msd_keyfile_read(&back, path, "righ", 4), MSD_ERR_PASSPHRASE);
    cr_assert_eq(msd_keyfile_read(&back, path, "", 0), MSD_ERR_PASSPHRASE);
    cr_assert_eq(msd_keyfile_read(&back, path, "right", 5), MSD_OK);
    msd_identity_destroy(back);
    msd_identity_destroy(id);
}

Test(identity, keyfile_empty_passphrase_and_defaults_refused_range)
{
    char path[128];
    path_of(path, sizeof path, "k");
    msd_identity *id = dt_identity_seeded(4), *back = NULL;
    cr_assert_eq(msd_keyfile_write(path, id, NULL, 0, 1, MEM), MSD_ERR_ARGS);
    cr_assert_eq(msd_keyfile_write(path, id, NULL, 0, OPS, 1024), MSD_ERR_ARGS);
    cr_assert_eq(msd_keyfile_write(path, id, NULL, 0, OPS, MEM), MSD_OK);
    cr_assert_eq(msd_keyfile_read(&back, path, NULL, 0), MSD_OK);
    msd_identity_destroy(back);
    msd_identity_destroy(id);
}

Test(identity, keyfile_never_overwritten)
{
    char path[128];
    path_of(path, sizeof path, "k");
    msd_identity *a = dt_identity_seeded(5), *b = dt_identity_seeded(6), *back = NULL;
    cr_assert_eq(msd_keyfile_write(path, a, "p", 1, OPS, MEM), MSD_OK);
    cr_assert_eq(msd_keyfile_write(path, b, "p", 1, OPS, MEM), MSD_ERR_EXISTS);
    cr_assert_eq(msd_keyfile_read(&back, path, "p", 1), MSD_OK);
    uint8_t x[20], y[20];
    msd_identity_address(a, x);
    msd_identity_address(back, y);
    cr_assert_arr_eq(x, y, 20);
    msd_identity_destroy(a);
    msd_identity_destroy(b);
    msd_identity_destroy(back);
}

static void write_file(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(d, 1, n, f), n);
    fclose(f);
}

static size_t read_file(const char *path, uint8_t *d, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    const size_t n = fread(d, 1, cap, f);
    fclose(f);
    return n;
}

Test(identity, keyfile_corrupt_missing_and_altered)
{
    char path[128], bad[128];
    path_of(path, sizeof path, "k");
    path_of(bad, sizeof bad, "bad");
    msd_identity *id = dt_identity_seeded(7), *back = NULL;
    cr_assert_eq(msd_keyfile_write(path, id, "pw", 2, OPS, MEM), MSD_OK);
    uint8_t f[MSD_KEYFILE_SIZE + 8];
    cr_assert_eq(read_file(path, f, sizeof f), MSD_KEYFILE_SIZE);

    path_of(bad, sizeof bad, "missing");
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_IO);
    path_of(bad, sizeof bad, "bad");
    write_file(bad, f, MSD_KEYFILE_SIZE - 1);                       /* truncated */
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_KEYFILE);
    unlink(bad);
    f[MSD_KEYFILE_SIZE] = 0;
    write_file(bad, f, MSD_KEYFILE_SIZE + 1);                       /* trailing byte */
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_KEYFILE);
    unlink(bad);
    uint8_t g[MSD_KEYFILE_SIZE];
    memcpy(g, f, sizeof g);
    g[0] ^= 1;                                                       /* magic */
    write_file(bad, g, sizeof g);
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_KEYFILE);
    unlink(bad);
    memcpy(g, f, sizeof g);
    g[8] = 2;                                                        /* unknown version */
    write_file(bad, g, sizeof g);
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_KEYFILE);
    unlink(bad);
    memcpy(g, f, sizeof g);
    g[19] = 200;                                                     /* opslimit out of range */
    write_file(bad, g, sizeof g);
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_KEYFILE);
    unlink(bad);
    memcpy(g, f, sizeof g);
    g[100] ^= 0x40;                                                  /* encrypted seed */
    write_file(bad, g, sizeof g);
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_PASSPHRASE);
    unlink(bad);
    memcpy(g, f, sizeof g);
    g[30] ^= 1;                                                      /* salt */
    write_file(bad, g, sizeof g);
    cr_assert_eq(msd_keyfile_read(&back, bad, "pw", 2), MSD_ERR_PASSPHRASE);
    cr_assert_null(back);
    msd_identity_destroy(id);
}
