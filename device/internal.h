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

/* Constant-time test hook (tests/ctime, built with -DMSD_CTIME_TEST): a
 * value computed from secrets that the call makes public anyway (a status
 * the caller sees, a public key, a signature, the length of a decrypted
 * message) is marked defined for valgrind's memcheck, as libsecp256k1's
 * secp256k1_declassify does. Compiles to nothing in every other build. */
#ifdef MSD_CTIME_TEST
#include <valgrind/memcheck.h>
#define MSD_DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define MSD_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/** Returns v, declassified (see MSD_DECLASSIFY): for results that decide a
 *  public outcome (valid or not, authentic or not). */
static inline int msd_public(int v)
{
    MSD_DECLASSIFY(&v, sizeof v);
    return v;
}

void msd_put_be64(uint8_t p[8], uint64_t v);
uint64_t msd_get_be64(const uint8_t p[8]);

/** A zeroed identity in locked memory with only `seed` to be filled, or NULL. */
msd_identity *msd_identity_alloc(void);
/** Derive every key of id from id->seed. Returns MSD_OK or MSD_ERR_INIT. */
msd_status msd_identity_derive(msd_identity *id);

#endif
