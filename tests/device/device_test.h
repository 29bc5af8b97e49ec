/* Helpers shared by the device library's tests. */
#ifndef MSD_DEVICE_TEST_H
#define MSD_DEVICE_TEST_H

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/memsync_device.h"

/* A context with recognisable fields; the asset id depends on `tag`. */
static inline msd_context dt_context(uint8_t tag, uint64_t version, uint64_t epoch)
{
    msd_context c;
    memset(&c, 0, sizeof c);
    c.chain_id = 31337;
    c.precompile[18] = 0x4d;
    c.precompile[19] = 0x53;
    memset(c.asset_id, tag, sizeof c.asset_id);
    c.version = version;
    c.key_epoch = epoch;
    return c;
}

static inline msd_identity *dt_identity_seeded(uint8_t fill)
{
    uint8_t seed[MSD_SEED_SIZE];
    memset(seed, fill, sizeof seed);
    msd_identity *id = NULL;
    cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);
    return id;
}

/* 1 if needle (n bytes) occurs in hay (h bytes). */
static inline int dt_contains(const uint8_t *hay, size_t h, const uint8_t *needle, size_t n)
{
    if (n == 0 || h < n) return 0;
    for (size_t i = 0; i + n <= h; i++)
        if (memcmp(hay + i, needle, n) == 0) return 1;
    return 0;
}

/* 1 if any 8-byte window of secret (len bytes) occurs in hay. */
static inline int dt_leaks(const uint8_t *hay, size_t h, const uint8_t *secret, size_t len)
{
    for (size_t i = 0; i + 8 <= len; i++)
        if (dt_contains(hay, h, secret + i, 8)) return 1;
    return 0;
}

static inline void dt_init(void)
{
    cr_assert_eq(msd_init(), MSD_OK);
}

#endif
