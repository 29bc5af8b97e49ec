/* Test helper of tests/operator/run.sh: damages stores and files on purpose,
 * and holds a data directory's lock. Links storage/kv.c and the operator's
 * read-only scanner; never the module.
 *   poke hold DIR READYFILE             lock DIR, create READYFILE, sleep (60 s at most)
 *   poke flip-value DIR TAG OFFSET      flip a bit of byte OFFSET of the first record of table TAG
 *                                       (hex byte); prints the record's key as 0x-hex
 *   poke put DIR KEYHEX VALHEX          put one key
 *   poke flip-file FILE OFFSET          flip a bit of byte OFFSET of FILE (negative: from the end)
 *   poke resum FILE                     rewrite FILE's last 32 bytes as the keccak256 of the bytes
 *                                       before them (a snapshot edited on purpose then passes its
 *                                       checksum, so the check under test is the one that fires) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/keccak.h"
#include "storage/kv.h"

static int unhex(uint8_t *out, size_t cap, size_t *n, const char *s)
{
    if (s[0] == '0' && s[1] == 'x') s += 2;
    const size_t len = strlen(s);
    if (len % 2 || len / 2 > cap) return 0;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (uint8_t)v;
    }
    *n = len / 2;
    return 1;
}

typedef struct first {
    uint8_t key[256];
    size_t klen;
} first;

static int take_first(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    first *f = ctx;
    f->klen = klen < sizeof f->key ? klen : sizeof f->key;
    memcpy(f->key, key, f->klen);
    return 0;
}

static int put(ms_kv *kv, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    ms_kv_batch *b = ms_kv_batch_create();
    ms_kv_batch_put(b, k, kl, v, vl);
    const int ok = ms_kv_write(kv, b, 1) == MS_KV_OK;
    ms_kv_batch_destroy(b);
    return ok;
}

/* poke resum FILE: see the header comment. Returns 0, or 1 on any failure. */
static int resum(const char *path)
{
    FILE *f = fopen(path, "r+b");
    if (f == NULL) return 1;
    uint8_t *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    int rc = 1;
    if (len >= 32 && (buf = malloc((size_t)len)) != NULL && fseek(f, 0, SEEK_SET) == 0 &&
        fread(buf, 1, (size_t)len, f) == (size_t)len) {
        uint8_t sum[32];
        ms_keccak256(sum, buf, (size_t)len - 32);
        if (fseek(f, len - 32, SEEK_SET) == 0 && fwrite(sum, 1, 32, f) == 32) rc = 0;
    }
    free(buf);
    if (fclose(f) != 0) rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "hold") == 0) {
        ms_kv *kv = NULL;
        if (ms_kv_open(&kv, argv[2]) != MS_KV_OK) return 1;
        FILE *f = fopen(argv[3], "w");
        if (f != NULL) fclose(f);
        for (int i = 0; i < 60; i++) sleep(1);
        ms_kv_close(kv);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "flip-value") == 0) {
        ms_kv *kv = NULL;
        uint8_t tag = (uint8_t)strtoul(argv[3], NULL, 16);
        const size_t off = strtoul(argv[4], NULL, 10);
        first f = {{0}, 0};
        if (ms_kv_open(&kv, argv[2]) != MS_KV_OK) return 1;
        ms_kv_scan(kv, &tag, 1, take_first, &f);
        uint8_t *v = NULL;
        size_t vl = 0;
        if (f.klen == 0 || ms_kv_get(kv, &v, &vl, f.key, f.klen) != MS_KV_OK || off >= vl) return 1;
        v[off] ^= 0x01;
        if (!put(kv, f.key, f.klen, v, vl)) return 1;
        printf("0x");
        for (size_t i = 0; i < f.klen; i++) printf("%02x", f.key[i]);
        printf("\n");
        free(v);
        ms_kv_close(kv);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "put") == 0) {
        ms_kv *kv = NULL;
        uint8_t k[256], v[4096];
        size_t kl = 0, vl = 0;
        if (!unhex(k, sizeof k, &kl, argv[3]) || !unhex(v, sizeof v, &vl, argv[4])) return 2;
        if (ms_kv_open(&kv, argv[2]) != MS_KV_OK || !put(kv, k, kl, v, vl)) return 1;
        ms_kv_close(kv);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "flip-file") == 0) {
        FILE *f = fopen(argv[2], "r+b");
        if (f == NULL) return 1;
        long off = strtol(argv[3], NULL, 10);
        if (fseek(f, off, off < 0 ? SEEK_END : SEEK_SET) != 0) return 1;
        const long pos = ftell(f);
        const int c = fgetc(f);
        if (c == EOF || fseek(f, pos, SEEK_SET) != 0) return 1;
        fputc(c ^ 0x01, f);
        return fclose(f) == 0 ? 0 : 1;
    }
    if (argc == 3 && strcmp(argv[1], "resum") == 0) return resum(argv[2]);
    fputs("usage: poke hold|flip-value|put|flip-file|resum ...\n", stderr);
    return 2;
}
