/* Names and ABI decoding of IMemSync calls, outputs, custom errors and events,
 * driven by signature tables (spec/IMemSync.sol) and abi/selectors.h. */
#ifndef MS_HOST_DECODE_H
#define MS_HOST_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "module/memsync.h"

/** Big-endian selector of the first 4 bytes (0 when n < 4). */
uint32_t dec_selector(const uint8_t *p, size_t n);

/** Function name for a selector ("?" when unknown). */
const char *dec_function_name(uint32_t selector);
/** Custom error name for a selector (NULL when unknown). */
const char *dec_error_name(uint32_t selector);

/** "name(arg=value, ...)" for calldata; 32-byte values are abbreviated. */
void dec_print_call(FILE *f, const uint8_t *input, size_t n);
/** "field=value, ..." for the return data of function `selector`. */
void dec_print_output(FILE *f, uint32_t selector, const uint8_t *out, size_t n);
/** "Name(arg=value, ...)" for revert data (or raw hex if unknown). */
void dec_print_error(FILE *f, const uint8_t *out, size_t n);
/** "Name(field=value, ...)" for one log (indexed fields from topics). */
void dec_print_event(FILE *f, const ms_log *log);

/** Accessors on ABI-encoded return data; return 1 on success, 0 if malformed. */
int dec_word(uint8_t w[32], const uint8_t *out, size_t n, size_t slot);
int dec_u64(uint64_t *v, const uint8_t *out, size_t n, size_t slot);
int dec_bytes(const uint8_t **p, size_t *len, const uint8_t *out, size_t n, size_t slot);

/** Hex helpers: 0x-prefixed lowercase. */
void dec_hex(FILE *f, const uint8_t *p, size_t n);

#endif
