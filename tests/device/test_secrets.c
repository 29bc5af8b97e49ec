/* No secret in any output, and no decrypting code in the module. */
#include "device_test.h"

#include <stdio.h>
#include <unistd.h>

TestSuite(secrets, .init = dt_init);

/* Every buffer the library hands out, for a known seed, data key and
 * passphrase: none contains 8 consecutive bytes of a secret. */
Test(secrets, no_secret_in_outputs)
{
    uint8_t seed[32], raw_key[32], sign_sk[32], box_sk[32];
    randombytes_buf(seed, sizeof seed);
    randombytes_buf(raw_key, sizeof raw_key);
    cr_assert_eq(crypto_kdf_derive_from_key(sign_sk, 32, 1, "MSsecp1k", seed), 0);
    cr_assert_eq(crypto_kdf_derive_from_key(box_sk, 32, 1, "MSx25519", seed), 0);
    static const char pass[] = "Tr0ub4dor&3 zebra quartz lantern";
    static const char secret_text[] = "my private memory: the combination is 4-8-15-16";
    const uint8_t *secrets[] = {seed, raw_key, sign_sk, box_sk, (const uint8_t *)pass,
                                (const uint8_t *)secret_text};
    const size_t secret_lens[] = {32, 32, 32, 32, sizeof pass - 1, sizeof secret_text - 1};

    msd_identity *id = NULL, *peer = dt_identity_seeded(0x77);
    cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);
    const msd_context c = dt_context(0x10, 1, 1);
    msd_data_key *k = NULL, *k2 = NULL;
    cr_assert_eq(msd_data_key_import(&k, c.asset_id, 1, raw_key), MSD_OK);

    uint8_t out[8][1024];
    size_t out_len[8] = {0};
    uint8_t pk[32], peer_pk[32];
    msd_identity_x25519_public(id, pk);
    msd_identity_x25519_public(peer, peer_pk);
    cr_assert_eq(msd_encrypt(out[0], 1024, &out_len[0], k, &c, (const uint8_t *)secret_text, sizeof secret_text - 1),
                 MSD_OK);
    cr_assert_eq(msd_wrap_key(out[1], k, pk), MSD_OK);
    out_len[1] = MSD_WRAPPED_KEY_SIZE;
    cr_assert_eq(msd_wrap_key(out[2], k, peer_pk), MSD_OK);
    out_len[2] = MSD_WRAPPED_KEY_SIZE;
    cr_assert_eq(msd_sign_append_version(out[3], 1024, &out_len[3], NULL, id, 31337, c.precompile, c.asset_id, 0, 1,
                                         out[0], out_len[0], 0, 0),
                 MSD_OK);
    cr_assert_eq(msd_sign_digest(out[4], id, c.asset_id), MSD_OK);
    out_len[4] = 65;
    msd_identity_address(id, out[5]);
    memcpy(out[5] + 20, pk, 32);
    out_len[5] = 52;
    uint8_t pks[1][32];
    memcpy(pks[0], peer_pk, 32);
    cr_assert_eq(msd_rotate(&k2, out[6], k, (const uint8_t(*)[32])pks, 1), MSD_OK);
    out_len[6] = MSD_WRAPPED_KEY_SIZE;

    char dir[] = "/tmp/msd-secret-XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/key", dir);
    cr_assert_eq(msd_keyfile_write(path, id, pass, sizeof pass - 1, MSD_KEYFILE_OPSLIMIT_MIN,
                                   MSD_KEYFILE_MEMLIMIT_MIN),
                 MSD_OK);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    out_len[7] = fread(out[7], 1, 1024, f);
    fclose(f);
    unlink(path);
    rmdir(dir);
    cr_assert_eq(out_len[7], MSD_KEYFILE_SIZE);

    for (size_t o = 0; o < 8; o++)
        for (size_t s = 0; s < sizeof secrets / sizeof secrets[0]; s++)
            cr_assert_not(dt_leaks(out[o], out_len[o], secrets[s], secret_lens[s]), "output %zu holds secret %zu", o,
                          s);

    /* Error texts are fixed strings: none holds a secret either. */
    for (int s = 0; s <= 20; s++) {
        const char *t = msd_strerror((msd_status)s);
        cr_assert_not_null(t);
        cr_assert_gt(strlen(t), 0);
        for (size_t j = 0; j < sizeof secrets / sizeof secrets[0]; j++)
            cr_assert_not(dt_leaks((const uint8_t *)t, strlen(t), secrets[j], secret_lens[j]));
    }
    msd_data_key_destroy(k);
    msd_data_key_destroy(k2);
    msd_identity_destroy(id);
    msd_identity_destroy(peer);
}

static const char *module_path(void)
{
    const char *p = getenv("MSD_TEST_MODULE");
    return p != NULL ? p : "build/libmemsync.so";
}

/* The module links no AEAD, no box, no libsodium at all: every dynamic
 * symbol (defined or imported) and every needed library is checked. */
Test(secrets, decrypt_path_absent_from_module)
{
    const char *so = module_path();
    cr_assert_eq(access(so, R_OK), 0, "%s not built", so);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "nm -D '%s' 2>&1", so);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[512];
    size_t lines = 0;
    while (fgets(line, sizeof line, p) != NULL) {
        lines++;
        cr_assert_null(strstr(line, "crypto_aead"), "module symbol: %s", line);
        cr_assert_null(strstr(line, "crypto_box"), "module symbol: %s", line);
        cr_assert_null(strstr(line, "crypto_secretbox"), "module symbol: %s", line);
        cr_assert_null(strstr(line, "crypto_stream"), "module symbol: %s", line);
        cr_assert_null(strstr(line, "sodium"), "module symbol: %s", line);
        cr_assert_null(strstr(line, "msd_"), "module symbol: %s", line);
    }
    cr_assert_eq(pclose(p), 0, "nm failed on %s", so);
    cr_assert_gt(lines, 0);
    snprintf(cmd, sizeof cmd, "readelf -d '%s' | grep NEEDED | grep -c sodium", so);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(line, sizeof line, p));
    pclose(p);
    cr_assert_str_eq(line, "0\n", "libmemsync.so needs libsodium");
}
