/* The envelope payload (spec/memory.md §5, [MEM-37]..[MEM-39]): the
 * canonical JSON itself, or 0x01 || u32 big-endian length || zlib stream of
 * it, whichever is shorter. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "device/memory/internal.h"

#define PACK_ZLIB 0x01u
#define PACK_HEADER 5u

msd_status msd_mem_pack(uint8_t **out, size_t *len, const msd_mem_doc *doc)
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
    uLongf zcap = compressBound((uLong)n);
    uint8_t *z = malloc(PACK_HEADER + (size_t)zcap);
    if (z == NULL) {
        sodium_memzero(json, n);
        free(json);
        return MSD_ERR_NOMEM;
    }
    const int zr = compress2(z + PACK_HEADER, &zcap, json, (uLong)n, 9);
    if (zr == Z_OK && PACK_HEADER + (size_t)zcap < n) {
        z[0] = PACK_ZLIB;
        z[1] = (uint8_t)(n >> 24);
        z[2] = (uint8_t)(n >> 16);
        z[3] = (uint8_t)(n >> 8);
        z[4] = (uint8_t)n;
        sodium_memzero(json, n);
        free(json);
        *out = z;
        *len = PACK_HEADER + (size_t)zcap;
        return MSD_OK;
    }
    sodium_memzero(z, PACK_HEADER + compressBound((uLong)n));
    free(z);
    if (zr == Z_MEM_ERROR) {
        sodium_memzero(json, n);
        free(json);
        return MSD_ERR_NOMEM;
    }
    *out = json;
    *len = n;
    return MSD_OK;
}

/* Inflate exactly want bytes from the whole of in ([MEM-39]). */
static msd_status inflate_exact(uint8_t *dst, size_t want, const uint8_t *in, size_t n)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit(&s) != Z_OK) return MSD_ERR_NOMEM;
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

msd_status msd_mem_unpack(msd_mem_doc **out, const uint8_t *buf, size_t len)
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
    msd_status st = inflate_exact(plain, want, buf + PACK_HEADER, len - PACK_HEADER);
    if (st == MSD_OK) st = msd_mem_parse(out, plain, want);
    sodium_memzero(plain, want);
    free(plain);
    return st;
}
