/* zlib's working memory, wiped before it is freed (device/memory/zwipe.c).
 * Internal to the device library; not installed.
 *
 * deflate's window and hash chains and inflate's window hold the plaintext
 * that passed through the stream, and zlib's default allocator frees them
 * as they are. The memory library's streams (pack.c, import_openmemory.c)
 * install these hooks through z_stream.zalloc / zfree / opaque instead:
 * each block carries its size in a small header, and is wiped whole with
 * sodium_memzero before free. The opaque pointer is an optional tally of
 * the blocks, so that tests can check that every block zlib took was wiped
 * once the stream ended.
 */
#ifndef MSD_MEM_ZWIPE_H
#define MSD_MEM_ZWIPE_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "device/memory/memory.h"

/* What the hooks did for the streams that share one tally. Zero it before
 * the first stream; it only grows. Not thread-safe: one tally per thread. */
typedef struct mem_ztally {
    size_t allocated;        /* blocks handed to zlib */
    size_t wiped;            /* blocks wiped and freed */
    size_t bytes_allocated;  /* bytes zlib asked for (headers not counted) */
    size_t bytes_wiped;      /* of those, wiped and freed */
} mem_ztally;

/** Install the wiping hooks on a stream; call before deflateInit* or
 *  inflateInit*. Every block the stream allocates is then wiped when zlib
 *  frees it, which deflateEnd / inflateEnd does for all that remain.
 *  Args:  s:     the stream (non-NULL); its other fields are untouched.
 *  In:    tally: counts the blocks, or NULL to count nothing. */
void mem_zwipe_use(z_stream *s, mem_ztally *tally);

/** The byte count of a zlib block request with its header.
 *  Returns 1 and sets *total to header + items * size, or 0 (and leaves
 *  *total untouched) when that does not fit in a size_t. */
int mem_zwipe_total(size_t items, size_t size, size_t *total);

/** zlib's alloc_func: items * size bytes aligned for any type, or Z_NULL
 *  (out of memory, or a size that overflows). opaque: a mem_ztally or NULL. */
voidpf mem_zalloc(voidpf opaque, uInt items, uInt size);

/** zlib's free_func: wipes the whole block, then frees it. Z_NULL is a no-op. */
void mem_zfree(voidpf opaque, voidpf block);

/* The library's zlib streams, with the tally of their hooks (NULL: none).
 * The public functions call these with NULL; tests pass a tally. */

/** msd_mem_pack (pack.c), its deflate stream counted in tally. */
msd_status mem_pack_tallied(uint8_t **out, size_t *len, const msd_mem_doc *doc, mem_ztally *tally);
/** msd_mem_unpack (pack.c), its inflate stream counted in tally. */
msd_status mem_unpack_tallied(msd_mem_doc **out, const uint8_t *buf, size_t len, mem_ztally *tally);
/** The OPENMEMORY importer's gzip reader (import_openmemory.c): a gzip
 *  stream of one or more members, inflated whole (*out malloc'd, wipe
 *  before free), up to MSD_MEM_MAX_DOC bytes [MSR-48]. Returns MSD_OK,
 *  MSD_ERR_IMPORT when it does not inflate, or MSD_ERR_NOMEM. */
msd_status msr_gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, mem_ztally *tally);

#endif
