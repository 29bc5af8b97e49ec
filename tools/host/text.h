/* Numbers and bytes from command-line text, for the tools (memsync,
 * memsync-operator): one rule per kind of value, so every option taking a
 * number, an address, an id or a key accepts the same spellings. */
#ifndef MS_HOST_TEXT_H
#define MS_HOST_TEXT_H

#include <stddef.h>
#include <stdint.h>

/** The value of one hex digit (either case).
 *  Returns 0..15, or -1 when c is not a hex digit. */
int text_hex_digit(int c);

/** Exactly n bytes of hex, with an optional 0x/0X prefix and nothing else.
 *  Returns 1 on success; 0 when s is NULL, of another length or not hex
 *  (out may then be partly written).
 *  Out: out[0..n). In: s (NUL-terminated). */
int text_hex_exact(uint8_t *out, size_t n, const char *s);

/** An unsigned 64-bit number: decimal digits, or 0x/0X and 1 to 16 hex
 *  digits. No sign, no spaces, no octal (a leading 0 is still decimal).
 *  Returns 1 on success; 0 when s is NULL, empty, malformed or above
 *  2^64 - 1 (*v unchanged).
 *  Out: *v. In: s (NUL-terminated). */
int text_u64(const char *s, uint64_t *v);

#endif
