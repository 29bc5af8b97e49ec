/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012) and the per-instance random key it is used with.
 *
 * The pending block's hash table (storage/journal.c) places keys that
 * callers choose (grantees, salts, nonceOf arguments). With a public hash
 * function a caller could grind keys into one bucket and make every lookup
 * of the block walk them all. A keyed PRF whose key no caller knows leaves
 * nothing to grind. The key only steers lookups: no result, gas figure,
 * stored byte or iteration order depends on it (spec/storage.md [ST-23]). */
#ifndef MS_STORAGE_SIPHASH_H
#define MS_STORAGE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define MS_SIPHASH_KEY_SIZE 16u

/** SipHash-2-4 of in under key16, as the reference implementation defines
 *  it (key and message words little-endian).
 *  Returns: the 64-bit tag. In: key16, in (len bytes; may be NULL when len
 *  is 0). */
uint64_t ms_siphash24(const uint8_t key16[MS_SIPHASH_KEY_SIZE], const uint8_t *in, size_t len);

/** Fill key16 from the kernel's random source (getrandom, which blocks only
 *  until the pool is first initialised after boot).
 *  Returns: 1, or 0 when the kernel gave no randomness (key16 is then
 *  zeroed; the caller must refuse to continue rather than use it). */
int ms_siphash_random_key(uint8_t key16[MS_SIPHASH_KEY_SIZE]);

#endif
