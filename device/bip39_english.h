/* The BIP-39 English word list (device/bip39_english.c, generated from
 * @scure/bip39 by tests/device/interop/gen_wordlist.mjs). Internal to the
 * device library. */
#ifndef MSD_BIP39_ENGLISH_H
#define MSD_BIP39_ENGLISH_H

#define MSD_BIP39_WORDS 2048u
#define MSD_BIP39_WORD_MAX 8u   /* the longest English word has 8 letters */

/* Entry i is the word of the 11-bit value i: lower-case ASCII letters,
 * NUL-padded to MSD_BIP39_WORD_MAX + 1 bytes (so every entry ends in NUL). */
extern const char msd_bip39_english[MSD_BIP39_WORDS][MSD_BIP39_WORD_MAX + 1];

#endif
