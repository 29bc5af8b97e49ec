/* Internals shared by the device library's sources; not installed. */
#ifndef MSD_INTERNAL_H
#define MSD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>

#include "device/memsync_device.h"

/* Both handles live in sodium_malloc'd memory (guard pages, mlock where the
 * system allows it, wiped by sodium_free). */
struct msd_identity {
    uint8_t seed[MSD_SEED_SIZE];
    uint8_t sign_sk[32];                     /* secp256k1 secret key */
    uint8_t box_sk[32];                      /* X25519 secret scalar (clamped when used) */
    uint8_t box_pk[MSD_X25519_PUBLIC_SIZE];
    uint8_t addr[MSD_ADDRESS_SIZE];
    secp256k1_context *secp;                 /* signing context, blinded at creation */
};

struct msd_data_key {
    uint8_t key[MSD_DATA_KEY_SIZE];
    uint8_t asset_id[32];
    uint64_t epoch;
};

void msd_put_be64(uint8_t p[8], uint64_t v);
uint64_t msd_get_be64(const uint8_t p[8]);

/** A zeroed identity in locked memory with only `seed` to be filled, or NULL. */
msd_identity *msd_identity_alloc(void);
/** Derive every key of id from id->seed. Returns MSD_OK or MSD_ERR_INIT. */
msd_status msd_identity_derive(msd_identity *id);

#endif
