/* Keccak-256 as Ethereum uses it (original padding 0x01, not SHA3's 0x06). */
#ifndef MS_ABI_KECCAK_H
#define MS_ABI_KECCAK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_keccak {
    uint64_t state[25];
    size_t pos;              /* bytes absorbed into the current 136-byte block */
} ms_keccak;

/** Start a hash. Out: h. */
void ms_keccak_init(ms_keccak *h);

/** Absorb len bytes. In/Out: h. In: data (may be NULL when len is 0). */
void ms_keccak_update(ms_keccak *h, const uint8_t *data, size_t len);

/** Finish. Out: out32. h must be re-initialised before reuse. */
void ms_keccak_final(ms_keccak *h, uint8_t out32[32]);

/* The 24 round constants of keccak-f[1600] (iota), for the batched
 * implementation in keccak_batch.c. */
extern const uint64_t ms_keccak_rc[24];

/** One-shot Keccak-256. Out: out32. In: data, len. */
void ms_keccak256(uint8_t out32[32], const uint8_t *data, size_t len);

#endif
