/* Test helper for tests/cli/run.sh: prints, in hex, one line each, every
 * secret the memsync tool must never print: the seed and both secret keys of
 * a key file, and each data key kept in the keyring folders given. Only the
 * test uses it, to grep the tool's outputs for them. Usage:
 *   cli-secrets KEYFILE [ASSET_HEX EPOCH_FILE...]  (passphrase from MEMSYNC_PASSPHRASE) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/internal.h"

static void hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

static int unhex(uint8_t *out, size_t n, const char *s)
{
    if (s[0] == '0' && s[1] == 'x') s += 2;
    if (strlen(s) != 2 * n) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *pass = getenv("MEMSYNC_PASSPHRASE");
    if (argc < 2 || pass == NULL || msd_init() != MSD_OK) return 1;
    msd_identity *id;
    if (msd_keyfile_read(&id, argv[1], pass, strlen(pass)) != MSD_OK) return 1;
    hex(id->seed, sizeof id->seed);
    hex(id->sign_sk, sizeof id->sign_sk);
    hex(id->box_sk, sizeof id->box_sk);
    uint8_t asset[32];
    if (argc >= 3 && !unhex(asset, 32, argv[2])) return 1;
    for (int i = 3; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        uint8_t wk[MSD_WRAPPED_KEY_MAX];   /* either format: 120 or 149 bytes */
        const size_t n = f != NULL ? fread(wk, 1, sizeof wk, f) : 0;
        if (f == NULL || (n != MSD_WRAPPED_KEY_SIZE && n != MSD_WRAPPED_KEY_V2_SIZE)) return 1;
        fclose(f);
        const char *dash = strrchr(argv[i], '-');
        msd_data_key *k;
        if (dash == NULL || msd_unwrap_key(&k, id, wk, n, asset, strtoull(dash + 1, NULL, 10)) != MSD_OK)
            return 1;
        hex(k->key, sizeof k->key);
        msd_data_key_destroy(k);
    }
    msd_identity_destroy(id);
    return 0;
}
