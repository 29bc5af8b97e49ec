/* Solidity ABI decoding of calldata arguments, bounds-checked and
 * allocation-free: every read is checked against the input first, and a
 * dynamic value is returned as a pointer into the caller's input.
 *
 * Slots are 0-based indices of the 32-byte head words after the selector.
 * Bytes after a well-formed encoding are ignored (spec/abi.md). */
#ifndef MS_ABI_DECODE_H
#define MS_ABI_DECODE_H

#include <stddef.h>
#include <stdint.h>

/** Decoding failures; the numbers are the `reason` of InvalidCalldata. */
typedef enum ms_abi_err {
    MS_ABI_OK = 0,
    MS_ABI_SHORT = 1,       /* a head word lies past the end of the input */
    MS_ABI_OFFSET = 2,      /* a dynamic offset points outside the input */
    MS_ABI_LENGTH = 3,      /* a dynamic length runs past the input or the cap */
    MS_ABI_DIRTY = 4        /* high bits set in an address or narrow integer */
} ms_abi_err;

/** Arguments of one call: the input after the 4-byte selector. */
typedef struct ms_abi_args {
    const uint8_t *data;
    size_t size;
} ms_abi_args;

/** Returns MS_ABI_OK and copies the word, or MS_ABI_SHORT.
 *  Out: out32. In: args, slot. */
ms_abi_err ms_abi_word(uint8_t out32[32], const ms_abi_args *args, size_t slot);

/** A uintN with N <= 64: the top 32-N/8 bytes must be zero (MS_ABI_DIRTY).
 *  Out: out (0 on failure). In: args, slot, bits (8, 16, 32 or 64). */
ms_abi_err ms_abi_uint(uint64_t *out, const ms_abi_args *args, size_t slot, unsigned bits);

/** A uint256 that must fit in 64 bits: larger values give MS_ABI_DIRTY. Used
 *  where a larger value can never be valid (nonces). */
ms_abi_err ms_abi_uint256_as_u64(uint64_t *out, const ms_abi_args *args, size_t slot);

/** An address: the top 12 bytes must be zero. Out: out20. */
ms_abi_err ms_abi_address(uint8_t out20[20], const ms_abi_args *args, size_t slot);

/** A dynamic `bytes` argument whose offset is in head `slot`.
 *  Checks: offset + 32 <= size (else MS_ABI_OFFSET); the length word fits in
 *  64 bits, length <= max_len and offset + 32 + length <= size (else
 *  MS_ABI_LENGTH). Padding after the data is not required.
 *  Out: ptr (into args->data, NULL when the length is 0 or on failure), len. */
ms_abi_err ms_abi_bytes(const uint8_t **ptr, size_t *len, const ms_abi_args *args,
                        size_t slot, size_t max_len);

#endif
