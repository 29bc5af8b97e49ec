#include "crypto/version_hash.h"

#include <string.h>

#include "abi/keccak.h"

static void ms_vh_put_be64(uint8_t p[8], uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}

void ms_version_hash(uint8_t out32[32], const uint8_t prev32[32], const uint8_t asset_id32[32], uint64_t version,
                     const uint8_t ct_hash32[32], uint64_t key_epoch, const uint8_t author20[20])
{
    uint8_t p[132];
    memcpy(p, prev32, 32);
    memcpy(p + 32, asset_id32, 32);
    ms_vh_put_be64(p + 64, version);
    memcpy(p + 72, ct_hash32, 32);
    ms_vh_put_be64(p + 104, key_epoch);
    memcpy(p + 112, author20, 20);
    ms_keccak256(out32, p, sizeof p);
}
