#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module/memsync.h"
#include "storage/records.h"
#include "store.h"
#include "util.h"

size_t op_state_key_len(uint8_t tag)
{
    switch (tag) {
    case MS_TAG_ASSET: return 33;
    case MS_TAG_VERSION: return 41;
    case MS_TAG_CIPHERTEXT: return 41;
    case MS_TAG_GRANT: return 53;
    case MS_TAG_GRANT_SLOT: return 37;
    case MS_TAG_NONCE: return 21;
    default: return 0;
    }
}

static void put(op_snap_writer *w, const uint8_t *p, size_t n)
{
    if (w->failed || n == 0) return;
    ms_keccak_update(&w->h, p, n);
    if (fwrite(p, 1, n, w->f) != n) w->failed = 1;
}

int op_snap_write_begin(op_snap_writer *w, const char *path, uint32_t schema, uint64_t height,
                        const uint8_t root32[32], uint64_t count, uint32_t retention)
{
    memset(w, 0, sizeof *w);
    w->f = fopen(path, "wb");
    if (w->f == NULL) {
        op_err("cannot create %s: %s", path, strerror(errno));
        return 0;
    }
    ms_keccak_init(&w->h);
    uint8_t hdr[OP_SNAP_HEADER_SIZE];
    memcpy(hdr, OP_SNAP_MAGIC, 8);
    ms_put_be32(hdr + 8, OP_SNAP_FORMAT);
    ms_put_be32(hdr + 12, schema);
    ms_put_be64(hdr + 16, height);
    memcpy(hdr + 24, root32, 32);
    ms_put_be64(hdr + 56, count);
    /* K after format 1's fields, so format 1's offsets stay valid in format 2. */
    ms_put_be32(hdr + 64, retention);
    put(w, hdr, sizeof hdr);
    return 1;
}

void op_snap_write_record(op_snap_writer *w, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    uint8_t kl = (uint8_t)klen, vl[4];
    ms_put_be32(vl, (uint32_t)vlen);
    put(w, &kl, 1);
    put(w, key, klen);
    put(w, vl, 4);
    put(w, val, vlen);
}

int op_snap_write_end(op_snap_writer *w, const char *path)
{
    uint8_t sum[32];
    ms_keccak_final(&w->h, sum);
    if (!w->failed && fwrite(sum, 1, 32, w->f) != 32) w->failed = 1;
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0) w->failed = 1;
    if (fclose(w->f) != 0) w->failed = 1;
    w->f = NULL;
    if (w->failed) op_err("cannot write %s", path);
    return !w->failed;
}

/* Largest value of each table: spec/storage.md [ST-4]..[ST-7] and the ceilings of memsync.h. */
static int value_size_ok(uint8_t tag, size_t vlen)
{
    switch (tag) {
    case MS_TAG_ASSET: return vlen == MS_ASSET_RECORD_SIZE;
    case MS_TAG_VERSION: return vlen == MS_VERSION_RECORD_SIZE;
    case MS_TAG_CIPHERTEXT: return vlen <= MS_MAX_CIPHERTEXT_CEILING;
    case MS_TAG_GRANT: return vlen >= MS_GRANT_FIXED_SIZE && vlen <= MS_GRANT_FIXED_SIZE + MS_MAX_WRAPPED_KEY_CEILING;
    case MS_TAG_GRANT_SLOT: return vlen == 20;
    case MS_TAG_NONCE: return vlen == 8;
    default: return 0;
    }
}

/* Header length of a known format, 0 for any other. */
static size_t header_size(uint32_t format)
{
    return format == OP_SNAP_FORMAT ? OP_SNAP_HEADER_SIZE : format == OP_SNAP_FORMAT_V1 ? OP_SNAP_HEADER_V1_SIZE : 0;
}

/* Magic, format, length and checksum: everything that must hold before any
 * header field can be trusted. Sets s->format; returns the header length, or
 * 0 with a message. */
static size_t check_frame(op_snapshot *s, const uint8_t *b, size_t len)
{
    if (len < OP_SNAP_HEADER_V1_SIZE + OP_SNAP_CHECKSUM_SIZE || memcmp(b, OP_SNAP_MAGIC, 8) != 0) {
        op_err("not a MemSync snapshot (no \"" OP_SNAP_MAGIC "\" header)");
        return 0;
    }
    s->format = ms_get_be32(b + 8);
    const size_t hdr = header_size(s->format);
    if (hdr == 0) {
        op_err("snapshot format %u is not supported (this tool reads formats %u and %u)", (unsigned)s->format,
               (unsigned)OP_SNAP_FORMAT_V1, (unsigned)OP_SNAP_FORMAT);
        return 0;
    }
    /* Format 1's minimum length is checked above: a shorter format-2 file ends inside K. */
    if (len < hdr + OP_SNAP_CHECKSUM_SIZE) {
        op_err("snapshot is truncated: its %zu bytes end inside the format %u header's retention K field "
               "(%u-byte header, then the %u-byte checksum)",
               len, (unsigned)s->format, (unsigned)hdr, (unsigned)OP_SNAP_CHECKSUM_SIZE);
        return 0;
    }
    const size_t body = len - OP_SNAP_CHECKSUM_SIZE;
    uint8_t sum[32];
    ms_keccak256(sum, b, body);
    if (memcmp(sum, b + body, 32) != 0) {
        op_err("snapshot checksum mismatch: the file is damaged or was altered");
        return 0;
    }
    return hdr;
}

/* The header's fields after the frame is checked. Returns 1, or 0 with a message. */
static int read_header(op_snapshot *s, const uint8_t *b, size_t len, uint32_t schema)
{
    s->schema = ms_get_be32(b + 12);
    s->height = ms_get_be64(b + 16);
    memcpy(s->root, b + 24, 32);
    s->count = ms_get_be64(b + 56);
    s->retention = s->format == OP_SNAP_FORMAT ? ms_get_be32(b + 64) : 0;
    if (s->schema != schema) {
        op_err("snapshot of state schema %u: this module reads schema %u", (unsigned)s->schema, (unsigned)schema);
        return 0;
    }
    if (s->height == 0) {
        op_err("snapshot height is 0: a snapshot is taken at a committed block (height >= 1)");
        return 0;
    }
    /* [SN-6]: the module's range of retained_versions (module/config.c); any
     * other K would leave a store no config can open ([HOST-53]). 0 is "none". */
    if (s->retention > MS_MAX_RETAINED_CEILING) {
        op_err("snapshot retention K %u is outside 1..%u (retained_versions, spec/host-abi.md [HOST-53]; "
               "0 means none recorded)",
               (unsigned)s->retention, (unsigned)MS_MAX_RETAINED_CEILING);
        return 0;
    }
    /* Each record takes at least 1 + 21 + 4 bytes: bound the count before allocating. */
    const size_t room = len - OP_SNAP_CHECKSUM_SIZE - header_size(s->format);
    if (s->count > room / 26) {
        op_err("snapshot names %llu records, more than its %zu bytes can hold", (unsigned long long)s->count, len);
        return 0;
    }
    return 1;
}

/* Record i at b + *p (body: the length before the checksum): framing, key
 * table, value size, ascending order. Returns 1, or 0 with a message. */
static int read_record(op_snapshot *s, uint64_t i, const uint8_t *b, size_t body, size_t *p)
{
    op_snap_rec *r = &s->recs[i];
    if (body - *p < 1) goto truncated;
    r->klen = b[(*p)++];
    if (body - *p < r->klen + 4) goto truncated;
    r->key = b + *p;
    *p += r->klen;
    r->vlen = ms_get_be32(b + *p);
    *p += 4;
    if (body - *p < r->vlen) goto truncated;
    r->val = b + *p;
    *p += r->vlen;
    char kh[2 * MS_KEY_MAX + 3];
    if (r->klen == 0 || op_state_key_len(r->key[0]) != r->klen) {
        op_err("snapshot record %llu: key %s is not a state key (spec/storage.md [ST-3])", (unsigned long long)i,
               r->klen <= MS_KEY_MAX ? op_hex_str(kh, r->key, r->klen) : "(too long)");
        return 0;
    }
    if (!value_size_ok(r->key[0], r->vlen)) {
        op_err("snapshot record %llu: %s %s has a value of %zu bytes, not a valid size", (unsigned long long)i,
               op_table_name(r->key[0]), op_hex_str(kh, r->key, r->klen), r->vlen);
        return 0;
    }
    if (i > 0 && op_key_cmp(s->recs[i - 1].key, s->recs[i - 1].klen, r->key, r->klen) >= 0) {
        op_err("snapshot record %llu: key %s is not above the previous key (records must be in "
               "strictly ascending key order)",
               (unsigned long long)i, op_hex_str(kh, r->key, r->klen));
        return 0;
    }
    return 1;
truncated:
    op_err("snapshot is truncated: fewer than the %llu records its header names", (unsigned long long)s->count);
    return 0;
}

int op_snap_parse(op_snapshot *s, const uint8_t *b, size_t len, uint32_t schema)
{
    memset(s, 0, sizeof *s);
    const size_t hdr = check_frame(s, b, len);
    if (hdr == 0 || !read_header(s, b, len, schema)) return 0;
    s->recs = malloc((s->count ? s->count : 1) * sizeof *s->recs);
    if (s->recs == NULL) {
        op_err("out of memory for %llu snapshot records", (unsigned long long)s->count);
        return 0;
    }
    const size_t body = len - OP_SNAP_CHECKSUM_SIZE;
    size_t p = hdr;
    for (uint64_t i = 0; i < s->count; i++) {
        if (!read_record(s, i, b, body, &p)) goto bad;
    }
    if (p != body) {
        op_err("snapshot has %zu bytes after its %llu records", body - p, (unsigned long long)s->count);
        goto bad;
    }
    return 1;
bad:
    op_snap_free(s);
    return 0;
}

void op_snap_free(op_snapshot *s)
{
    free(s->recs);
    s->recs = NULL;
}
