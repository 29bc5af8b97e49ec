/* The owner's memory at 5,000 facts (issue 11): recall and merge, in
 * milliseconds.
 *
 * Recall is what an AI tool's "what do I know about X" costs on the device:
 * the memory's envelope (the packed document encrypted with the device
 * library, as stored on chain) is decrypted, unpacked and searched (BM25, top
 * 10). Merge is msd_mem_merge3 of two 5,000-fact documents that share a
 * 4,000-fact base: each side added 1,000 facts of its own and edited or
 * forgot some base facts, a few of them the same ones (so conflict copies and
 * forget-beats-edit are exercised).
 *
 * Facts are seeded random words (4 to 20 from a 400-word list; a fixed
 * seed, so every run measures the same documents). Each figure is the median
 * of ROUNDS rounds timed with CLOCK_MONOTONIC; plaintext buffers are wiped.
 *
 * Usage: bench_memory [--json FILE] [--rounds N]. Exit status 0, or 2 on an
 * error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "device/memory/memory.h"
#include "device/memsync_device.h"

#define FACTS 5000
#define BASE 4000
#define DEFAULT_ROUNDS 15

static void die(const char *what, msd_status st)
{
    fprintf(stderr, "bench_memory: %s: %s\n", what, msd_strerror(st));
    exit(2);
}

static uint64_t rng_state = 0x6d656d73796e63ull; /* fixed: the same documents every run */

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A pronounceable 400-word vocabulary: consonant-vowel syllables. */
static char vocab[400][12];

static void make_vocab(void)
{
    static const char C[] = "bcdfghklmnprstvz", V[] = "aeiou";
    for (int i = 0; i < 400; i++) {
        int n = 0, syl = 2 + (int)(rng() % 3);
        for (int s = 0; s < syl; s++) {
            vocab[i][n++] = C[rng() % 16];
            vocab[i][n++] = V[rng() % 5];
        }
        vocab[i][n] = '\0';
    }
}

static void random_text(char *out, size_t cap)
{
    size_t len = 0;
    int words = 4 + (int)(rng() % 17);
    for (int w = 0; w < words && len + 14 < cap; w++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", w ? " " : "", vocab[rng() % 400]);
}

static const uint8_t *device(unsigned n)
{
    static uint8_t d[4][MSD_MEM_DEVICE_SIZE];
    memset(d[n], 0xb0, MSD_MEM_DEVICE_SIZE);
    d[n][MSD_MEM_DEVICE_SIZE - 1] = (uint8_t)n;
    return d[n];
}

static void add_random(msd_mem_doc *doc, unsigned dev, uint8_t id[MSD_MEM_ID_SIZE])
{
    char text[256];
    random_text(text, sizeof text);
    const msd_mem_fact_in in = {
        .text = text,
        .categories = 1u << (rng() % 9),
        .type = rng() % 4 == 0 ? MSD_MEM_EPISODIC : MSD_MEM_SEMANTIC,
        .importance = (uint32_t)(rng() % 101),
        .tool = "bench",
    };
    msd_status st = msd_mem_add_fact(doc, id, &in, device(dev));
    if (st != MSD_OK) die("add", st);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    int rounds = DEFAULT_ROUNDS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
            if (rounds < 1 || rounds > 1000) rounds = DEFAULT_ROUNDS;
        } else {
            fprintf(stderr, "usage: bench_memory [--json FILE] [--rounds N]\n");
            return 2;
        }
    }
    msd_status st = msd_init();
    if (st != MSD_OK) die("init", st);
    make_vocab();

    /* ------------------------------------------------ the stored envelope */
    msd_mem_doc *doc = NULL;
    if ((st = msd_mem_new(&doc)) != MSD_OK) die("new", st);
    for (int i = 0; i < FACTS; i++) add_random(doc, (unsigned)(i % 3), NULL);
    uint8_t *packed = NULL, *canon = NULL;
    size_t packed_len = 0, canon_len = 0;
    if ((st = msd_mem_pack(&packed, &packed_len, doc)) != MSD_OK) die("pack", st);
    if ((st = msd_mem_serialize(&canon, &canon_len, doc)) != MSD_OK) die("serialize", st);
    sodium_memzero(canon, canon_len);
    free(canon);

    msd_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.chain_id = 31337;
    ctx.precompile[19] = 0x4d;
    memset(ctx.asset_id, 0xa5, sizeof ctx.asset_id);
    ctx.version = 1;
    ctx.key_epoch = 1;
    msd_data_key *key = NULL;
    if ((st = msd_data_key_generate(&key, ctx.asset_id, ctx.key_epoch)) != MSD_OK) die("key", st);
    const size_t env_cap = 50u + MSD_MAX_PADDED;
    uint8_t *env = malloc(env_cap), *pt = malloc(MSD_MAX_PADDED);
    if (env == NULL || pt == NULL) die("malloc", MSD_ERR_NOMEM);
    size_t env_len = 0;
    if ((st = msd_encrypt(env, env_cap, &env_len, key, &ctx, packed, packed_len)) != MSD_OK) die("encrypt", st);
    sodium_memzero(packed, packed_len);
    free(packed);

    /* ------------------------------------------------------------- recall */
    double *t_dec = malloc((size_t)rounds * sizeof(double)), *t_unp = malloc((size_t)rounds * sizeof(double)),
           *t_sea = malloc((size_t)rounds * sizeof(double)), *t_all = malloc((size_t)rounds * sizeof(double)),
           *t_mrg = malloc((size_t)rounds * sizeof(double));
    if (!t_dec || !t_unp || !t_sea || !t_all || !t_mrg) die("malloc", MSD_ERR_NOMEM);
    size_t hits_found = 0;
    for (int r = 0; r < rounds; r++) {
        char query[64]; /* three vocabulary words */
        snprintf(query, sizeof query, "%s %s %s", vocab[rng() % 400], vocab[rng() % 400], vocab[rng() % 400]);
        const double t0 = now_ms();
        size_t pt_len = 0;
        if ((st = msd_decrypt(pt, MSD_MAX_PADDED, &pt_len, key, &ctx, env, env_len)) != MSD_OK) die("decrypt", st);
        const double t1 = now_ms();
        msd_mem_doc *got = NULL;
        if ((st = msd_mem_unpack(&got, pt, pt_len)) != MSD_OK) die("unpack", st);
        const double t2 = now_ms();
        msd_mem_hit hits[10];
        size_t n = 0;
        if ((st = msd_mem_search(hits, 10, &n, got, query, NULL)) != MSD_OK) die("search", st);
        const double t3 = now_ms();
        hits_found += n;
        t_dec[r] = t1 - t0;
        t_unp[r] = t2 - t1;
        t_sea[r] = t3 - t2;
        t_all[r] = t3 - t0;
        sodium_memzero(pt, pt_len);
        msd_mem_free(got);
    }

    /* -------------------------------------------------------------- merge */
    msd_mem_doc *base = NULL, *left = NULL, *right = NULL;
    uint8_t(*ids)[MSD_MEM_ID_SIZE] = malloc(BASE * sizeof *ids);
    if (ids == NULL) die("malloc", MSD_ERR_NOMEM);
    if ((st = msd_mem_new(&base)) != MSD_OK) die("new", st);
    for (int i = 0; i < BASE; i++) add_random(base, 0, ids[i]);
    if ((st = msd_mem_clone(&left, base)) != MSD_OK || (st = msd_mem_clone(&right, base)) != MSD_OK) die("clone", st);
    for (int i = 0; i < FACTS - BASE; i++) {
        add_random(left, 1, NULL);
        add_random(right, 2, NULL);
    }
    /* Concurrent changes on the base: 200 edits and 50 forgets a side,
     * of which 40 edits hit the same facts (conflict copies) and 10 facts
     * are edited on one side and forgotten on the other. */
    char text[256];
    for (int i = 0; i < 200; i++) {
        random_text(text, sizeof text);
        if ((st = msd_mem_edit_fact(left, ids[i], text, 0, -1, device(1))) != MSD_OK) die("edit", st);
        random_text(text, sizeof text);
        if ((st = msd_mem_edit_fact(right, ids[160 + i], text, 0, -1, device(2))) != MSD_OK) die("edit", st);
    }
    for (int i = 0; i < 50; i++) {
        if ((st = msd_mem_forget(left, ids[1000 + i], device(1))) != MSD_OK) die("forget", st);
        if ((st = msd_mem_forget(right, ids[(i < 10 ? 0 : 2000) + i], device(2))) != MSD_OK) die("forget", st);
    }
    size_t merged_items = 0;
    for (int r = 0; r < rounds; r++) {
        msd_mem_doc *m = NULL;
        const double t0 = now_ms();
        if ((st = msd_mem_merge3(&m, base, left, right)) != MSD_OK) die("merge", st);
        t_mrg[r] = now_ms() - t0;
        merged_items = msd_mem_count(m);
        msd_mem_free(m);
    }

    const double dec = median(t_dec, rounds), unp = median(t_unp, rounds), sea = median(t_sea, rounds),
                 all = median(t_all, rounds), mrg = median(t_mrg, rounds);
    printf("memory at %d facts: packed %zu bytes, envelope %zu bytes (median of %d rounds)\n", FACTS, packed_len,
           env_len, rounds);
    printf("  %-34s %9s\n", "operation", "ms");
    printf("  %-34s %9.3f\n", "recall: decrypt", dec);
    printf("  %-34s %9.3f\n", "recall: unpack (inflate, parse)", unp);
    printf("  %-34s %9.3f\n", "recall: search, top 10", sea);
    printf("  %-34s %9.3f\n", "recall (all three)", all);
    printf("  %-34s %9.3f\n", "merge3 of two 5,000-fact documents", mrg);
    printf("  (%zu items after the merge; %zu hits over the recall rounds)\n", merged_items, hits_found);

    if (json != NULL) {
        FILE *f = fopen(json, "w");
        if (f == NULL) die("open --json file", MSD_ERR_IO);
        fprintf(f,
                "{\"facts\":%d,\"rounds\":%d,\"packed_bytes\":%zu,\"envelope_bytes\":%zu,"
                "\"recall_decrypt_ms\":%.4f,\"recall_unpack_ms\":%.4f,\"recall_search_ms\":%.4f,"
                "\"recall_ms\":%.4f,\"merge_ms\":%.4f,\"merged_items\":%zu}\n",
                FACTS, rounds, packed_len, env_len, dec, unp, sea, all, mrg, merged_items);
        if (fclose(f) != 0) die("write --json file", MSD_ERR_IO);
    }
    free(t_dec);
    free(t_unp);
    free(t_sea);
    free(t_all);
    free(t_mrg);
    free(ids);
    free(env);
    sodium_memzero(pt, MSD_MAX_PADDED);
    free(pt);
    msd_data_key_destroy(key);
    msd_mem_free(doc);
    msd_mem_free(base);
    msd_mem_free(left);
    msd_mem_free(right);
    return 0;
}
