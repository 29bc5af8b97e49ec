/* The envelope payload (spec/memory.md §5, [MEM-37]..[MEM-39]): the
 * canonical JSON itself, or 0x01 || u32 big-endian length || zlib stream of
 * it, whichever is shorter. Both zlib streams run on zwipe.h's hooks, so
 * zlib's window and tables, which hold the plaintext, are wiped when freed. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "device/memory/internal.h"
#include "device/memory/zwipe.h"

#define PACK_ZLIB 0x01u
#define PACK_HEADER 5u

/* Level 9 with zlib's defaults (window 2^15, memLevel 8, default strategy,
 * zlib wrapper): deflateInit(9), i.e. exactly what compress2(..., 9) runs,
 * so the packed bytes are those of compress2. */
#define PACK_LEVEL 9
#define PACK_MEM_LEVEL 8

/* Deflate json[0..n) into a new block *z of PACK_HEADER + *room bytes, the
 * stream at *z + PACK_HEADER, *zlen bytes long. *zr gets zlib's result
 * (Z_STREAM_END when the stream is complete; an init failure leaves *z
 * NULL). MSD_ERR_NOMEM when the block cannot be allocated. The stream is
 * ended on every path. */
static msd_status deflate_json(const uint8_t *json, size_t n, mem_ztally *tally, uint8_t **z, size_t *room,
                               size_t *zlen, int *zr)
{
    *z = NULL;
    *room = *zlen = 0;
    z_stream s;
    memset(&s, 0, sizeof s);
    mem_zwipe_use(&s, tally);
    *zr = deflateInit2(&s, PACK_LEVEL, Z_DEFLATED, MAX_WBITS, PACK_MEM_LEVEL, Z_DEFAULT_STRATEGY);
    if (*zr != Z_OK) return MSD_OK; /* the caller reads *zr; a failed init holds nothing */
    /* n <= MSD_MEM_MAX_DOC (64 MiB): it and its bound fit a uInt. */
    const uLong bound = deflateBound(&s, (uLong)n);
    *z = malloc(PACK_HEADER + (size_t)bound);
    if (*z == NULL) {
        deflateEnd(&s);
        return MSD_ERR_NOMEM;
    }
    *room = (size_t)bound;
    s.next_in = (Bytef *)(uintptr_t)json;
    s.avail_in = (uInt)n;
    s.next_out = *z + PACK_HEADER;
    s.avail_out = (uInt)bound;
    *zr = deflate(&s, Z_FINISH);
    *zlen = (size_t)s.total_out;
    deflateEnd(&s);
    return MSD_OK;
}

msd_status mem_pack_tallied(uint8_t **out, size_t *len, const msd_mem_doc *doc, mem_ztally *tally)
{
    if (out != NULL) *out = NULL;
    if (len != NULL) *len = 0;
    if (out == NULL || len == NULL || doc == NULL) return MSD_ERR_ARGS;
    uint8_t *json = NULL;
    size_t n = 0;
    msd_status st = msd_mem_serialize(&json, &n, doc);
    if (st != MSD_OK) return st;
    /* A payload that no reader would accept is refused here ([MEM-36]). */
    if (n > MSD_MEM_MAX_DOC) {
        sodium_memzero(json, n);
        free(json);
        return MSD_ERR_MEM_TOO_LARGE;
    }
    uint8_t *z = NULL;
    size_t room = 0, zlen = 0;
    int zr = Z_OK;
    st = deflate_json(json, n, tally, &z, &room, &zlen, &zr);
    if (st == MSD_OK && zr == Z_STREAM_END && PACK_HEADER + zlen < n) {
        z[0] = PACK_ZLIB;
        z[1] = (uint8_t)(n >> 24);
        z[2] = (uint8_t)(n >> 16);
        z[3] = (uint8_t)(n >> 8);
        z[4] = (uint8_t)n;
        sodium_memzero(json, n);
        free(json);
        *out = z;
        *len = PACK_HEADER + zlen;
        return MSD_OK;
    }
    if (z != NULL) {
        sodium_memzero(z, PACK_HEADER + room);
        free(z);
    }
    if (st == MSD_ERR_NOMEM || zr == Z_MEM_ERROR) {
        sodium_memzero(json, n);
        free(json);
        return MSD_ERR_NOMEM;
    }
    /* Not shorter (or zlib declined): the plain form. */
    *out = json;
    *len = n;
    return MSD_OK;
}

msd_status msd_mem_pack(uint8_t **out, size_t *len, const msd_mem_doc *doc)
{
    return mem_pack_tallied(out, len, doc, NULL);
}

/* Inflate exactly want bytes from the whole of in ([MEM-39]). */
static msd_status inflate_exact(uint8_t *dst, size_t want, const uint8_t *in, size_t n, mem_ztally *tally)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    mem_zwipe_use(&s, tally);
    if (inflateInit(&s) != Z_OK) return MSD_ERR_NOMEM; /* a failed init holds nothing */
    s.next_in = (Bytef *)(uintptr_t)in;
    s.avail_in = (uInt)n;
    s.next_out = dst;
    s.avail_out = (uInt)want;
    int r = inflate(&s, Z_FINISH);
    msd_status st = MSD_OK;
    if (r == Z_MEM_ERROR)
        st = MSD_ERR_NOMEM;
    else if (r != Z_STREAM_END || s.total_out != want || s.avail_in != 0)
        st = MSD_ERR_MEM_MALFORMED;
    inflateEnd(&s);
    return st;
}

msd_status mem_unpack_tallied(msd_mem_doc **out, const uint8_t *buf, size_t len, mem_ztally *tally)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (buf == NULL) return MSD_ERR_ARGS;
    if (len == 0) return MSD_ERR_MEM_MALFORMED;
    if (buf[0] == '{') return msd_mem_parse(out, buf, len);
    if (buf[0] != PACK_ZLIB || len < PACK_HEADER) return MSD_ERR_MEM_MALFORMED;
    /* The zlib stream is far smaller than MSD_MEM_MAX_DOC in any payload
     * that passes, so uInt (32 bits) holds every length checked here. */
    if (len - PACK_HEADER > MSD_MEM_MAX_DOC) return MSD_ERR_MEM_MALFORMED;
    const size_t want = (size_t)buf[1] << 24 | (size_t)buf[2] << 16 | (size_t)buf[3] << 8 | buf[4];
    if (want == 0 || want > MSD_MEM_MAX_DOC) return MSD_ERR_MEM_MALFORMED;
    uint8_t *plain = malloc(want);
    if (plain == NULL) return MSD_ERR_NOMEM;
    msd_status st = inflate_exact(plain, want, buf + PACK_HEADER, len - PACK_HEADER, tally);
    if (st == MSD_OK) st = msd_mem_parse(out, plain, want);
    sodium_memzero(plain, want);
    free(plain);
    return st;
}

msd_status msd_mem_unpack(msd_mem_doc **out, const uint8_t *buf, size_t len)
{
    return mem_unpack_tallied(out, buf, len, NULL);
}
