/* Solidity ABI encoding into a growable buffer (return data, revert data,
 * event data). A failed allocation latches `failed`; later puts are no-ops,
 * so a caller checks once at the end. */
#ifndef MS_ABI_ENCODE_H
#define MS_ABI_ENCODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_buf {
    uint8_t *data;
    size_t size;
    size_t cap;
    int failed;     /* non-zero after an allocation failure */
} ms_buf;

void ms_buf_init(ms_buf *b);
void ms_buf_free(ms_buf *b);
/** Empty the buffer, keep its memory, clear `failed`. */
void ms_buf_reset(ms_buf *b);
/** Returns 1 on success, 0 on allocation failure (and sets failed). */
int ms_buf_reserve(ms_buf *b, size_t extra);
void ms_buf_put(ms_buf *b, const uint8_t *data, size_t len);

/** A 4-byte selector, big-endian. */
void ms_abi_put_selector(ms_buf *b, uint32_t selector);
/** One 32-byte word as is. */
void ms_abi_put_word(ms_buf *b, const uint8_t word32[32]);
/** An unsigned integer, left-padded to 32 bytes. */
void ms_abi_put_uint(ms_buf *b, uint64_t v);
/** An address, left-padded to 32 bytes. */
void ms_abi_put_address(ms_buf *b, const uint8_t addr20[20]);
/** The tail of a `bytes` value: length word, data, zero padding to 32. */
void ms_abi_put_bytes_tail(ms_buf *b, const uint8_t *data, size_t len);

/** Words needed by a `bytes` tail of len bytes (length word included). */
size_t ms_abi_bytes_tail_words(size_t len);

#endif
