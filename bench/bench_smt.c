/* Per-write cost of the state tree's root update (storage/smt.h) at 1
 * thousand, 100 thousand and 1 million entries (asset-shaped keys), and the
 * peak memory of a process updating the 1-million tree. The target (issue
 * 3): the 1M per-write cost within 2x of the 1k cost; the run exits 1 when
 * the median 1M/1k ratio is above 2.00.
 *
 * A "write" is one updated state value: hashing its key and value
 * (ms_smt_op_set), ms_smt_apply for a block holding it (node reads,
 * hashing, node writes, stale list, pruning to the last KEEP_R versions)
 * and the unsynced ms_kv_write of that block's batch. The fsync of a real
 * commit is left out: it costs the same at any size and would hide the
 * difference being measured.
 *
 * The gated figure uses blocks of one write: the whole root update of one
 * write, nothing shared with other writes. Blocks of 16 and of 1,000
 * writes are reported too, for information: within a block the top levels
 * are shared, and a block of 1,000 writes rewrites nearly every node of the
 * 1k tree, so its per-write cost there is a share of the whole tree, not of
 * a path (the ratio grows; see spec/gas.md "State tree").
 *
 * Entries are asset-shaped: a 33-byte asset key and a 124-byte record each.
 * (A module asset also has version and ciphertext records: 1M assets of the
 * module are a few million entries.)
 *
 * Method. The three trees are built (1M in versions of 10,000 new keys, in
 * a child process), the benchmark waits until RocksDB has no flush or
 * compaction running or pending (ms_kv_busy): a node's store has long
 * digested its history, while a bulk load of 1M keys seconds earlier would
 * run its compactions during the measurement of the large tree. Each tree
 * is then warmed up as a long-running node would be (min(2n, 200,000)
 * writes, so that the node cache holds what its policy keeps; the cache has
 * BENCH_CACHE nodes, default MS_SMT_CACHE_DEFAULT as the module uses). Each
 * round runs BLOCKS_PER_ROUND blocks on the 1k, the 100k and the 1M tree in
 * turn (tens of milliseconds each), so that the load of a shared machine
 * weighs on the trees alike; the reported ratio is the median of the
 * rounds' ratios, the times are medians over the rounds. The calling
 * thread's CPU time is shown as well, as a check on the wall time.
 *
 * Memory. The 1M tree is built in one child process and exercised (open,
 * warm-up, MEM_BLOCKS single-write blocks) in another, which reports its
 * peak resident set (getrusage ru_maxrss): the memory of a process updating
 * a 1M-entry tree, without the other trees or the bulk load's batches.
 *
 * Usage: bench_smt [--keep DIR] [--json FILE]   (default: a fresh mkdtemp
 * directory under /tmp, removed at the end; with --keep, the trees in DIR
 * are kept and reused by the next run with the same DIR). --json writes the
 * figures as JSON. Exit status 0 when the target holds, 1 when it does not,
 * 2 on an error. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/kv.h"
#include "storage/smt.h"

#define NTREES 3
#define ROUNDS 25
#define BLOCKS_PER_ROUND 300
#define WARMUP_BLOCKS 1000
#define WARMUP_WRITES_MAX 200000u
#define MEM_BLOCKS 5000
#define BIG_ROUNDS 3
#define BIG_BLOCK 1000u
#define BUILD_BATCH 10000u
#define KEEP_R 64u   /* versions kept: the module's default reorg_depth */
#define SETTLE_MAX_S 300
#ifndef BENCH_CACHE
#define BENCH_CACHE MS_SMT_CACHE_DEFAULT
#endif

static const uint64_t sizes[NTREES] = {1000u, 100000u, 1000000u};
static const char *const names[NTREES] = {"1k", "100k", "1M"};

static void die(const char *what, int s)
{
    fprintf(stderr, "bench_smt: %s failed (status %d)\n", what, s);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x5eedu;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* An asset-shaped key (tag 0x01 || 32-byte id) and a 124-byte record. */
static void make_kv(uint8_t key[33], uint8_t val[124], uint64_t i, uint64_t round)
{
    key[0] = 0x01;
    for (unsigned k = 0; k < 32; k++) key[1 + k] = (uint8_t)((i * 0x9e3779b97f4a7c15u) >> (8 * (k % 8))) ^ (uint8_t)(k * 31);
    for (unsigned k = 0; k < 8; k++) key[25 + k] = (uint8_t)(i >> (8 * k));
    for (unsigned k = 0; k < 124; k++) val[k] = (uint8_t)(i + round * 7 + k);
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            const struct dirent *de;
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

typedef struct tree {
    ms_kv *kv;
    ms_smt *t;
    uint64_t version;
    uint64_t n;
    uint32_t *perm;   /* entry indices, partially shuffled to pick distinct keys */
    ms_smt_op *ops;   /* BIG_BLOCK ops */
} tree;

static void commit(tree *tr, ms_smt_op *ops, size_t n)
{
    ms_kv_batch *b = ms_kv_batch_create();
    if (b == NULL) die("ms_kv_batch_create", 0);
    tr->version++;
    uint64_t keep = tr->version > KEEP_R ? tr->version - KEEP_R : 0;
    uint8_t root[32];
    ms_smt_status s = ms_smt_apply(tr->t, b, tr->version, ops, n, keep, root);
    if (s != MS_SMT_OK) die("ms_smt_apply", (int)s);
    ms_kv_status ks = ms_kv_write(tr->kv, b, 0);
    if (ks != MS_KV_OK) die("ms_kv_write", (int)ks);
    ms_kv_batch_destroy(b);
}

/* Open the tree in dir, building its n entries unless a kept directory
 * already holds them. Returns the build time in seconds (0 when reused). */
static double open_tree(tree *tr, const char *dir, uint64_t n)
{
    memset(tr, 0, sizeof *tr);
    if (ms_kv_open(&tr->kv, dir) != MS_KV_OK) die("ms_kv_open", 0);
    if (ms_smt_open(&tr->t, tr->kv, BENCH_CACHE) != MS_SMT_OK) die("ms_smt_open", 0);
    tr->n = n;
    tr->perm = malloc(n * sizeof *tr->perm);
    tr->ops = malloc(BIG_BLOCK * sizeof *tr->ops);
    if (tr->perm == NULL || tr->ops == NULL) die("malloc", 0);
    for (uint64_t i = 0; i < n; i++) tr->perm[i] = (uint32_t)i;
    uint64_t have = 0;
    if (ms_smt_info(tr->t, &tr->version, NULL, NULL) != MS_SMT_OK) die("ms_smt_info", 0);
    if (tr->version > 0 && ms_smt_root(tr->t, tr->version, NULL, &have) == MS_SMT_OK && have == n) return 0;
    if (tr->version > 0) die("a kept directory with another tree", 0);
    ms_smt_op *ops = malloc(BUILD_BATCH * sizeof *ops);
    if (ops == NULL) die("malloc", 0);
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < BUILD_BATCH && i < n; k++, i++) {
            uint8_t key[33], val[124];
            make_kv(key, val, i, 0);
            ms_smt_op_set(&ops[k], key, sizeof key, val, sizeof val, 0);
        }
        commit(tr, ops, k);
    }
    uint64_t entries = 0;
    if (ms_smt_root(tr->t, tr->version, NULL, &entries) != MS_SMT_OK || entries != n) die("entry count", 0);
    free(ops);
    return (double)(now_ns() - t0) / 1e9;
}

static void close_tree(tree *tr)
{
    ms_smt_close(tr->t);
    ms_kv_close(tr->kv);
    free(tr->perm);
    free(tr->ops);
}

/* Wait (at most SETTLE_MAX_S) until RocksDB has no flush or compaction left.
 * Returns the seconds waited. */
static double settle(tree *tr)
{
    uint64_t t0 = now_ns();
    while (ms_kv_busy(tr->kv) && now_ns() - t0 < (uint64_t)SETTLE_MAX_S * 1000000000u) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return (double)(now_ns() - t0) / 1e9;
}

/* `blocks` blocks of `per_block` writes, each updating a distinct random
 * existing entry. Returns the wall time per write in ns; *cpu (may be NULL)
 * gets the calling thread's CPU time per write (RocksDB's background
 * threads excluded), which a busy machine disturbs less. */
static double run_round(tree *tr, unsigned per_block, unsigned blocks, double *cpu)
{
    uint64_t t_all = 0, c0 = cpu_ns();
    for (unsigned bl = 0; bl < blocks; bl++) {
        uint64_t t0 = now_ns();
        for (unsigned w = 0; w < per_block; w++) {   /* partial Fisher-Yates: distinct keys */
            uint64_t j = w + rng() % (tr->n - w);
            uint32_t x = tr->perm[w];
            tr->perm[w] = tr->perm[j];
            tr->perm[j] = x;
            uint8_t key[33], val[124];
            make_kv(key, val, tr->perm[w], tr->version + 1);
            ms_smt_op_set(&tr->ops[w], key, sizeof key, val, sizeof val, 0);
        }
        commit(tr, tr->ops, per_block);
        t_all += now_ns() - t0;
    }
    if (cpu != NULL) *cpu = (double)(cpu_ns() - c0) / ((double)blocks * per_block);
    return (double)t_all / ((double)blocks * per_block);
}

/* Bring a tree to the state of a long-running node: every node a random
 * write can reach has been touched, so the node cache holds what its policy
 * keeps (min(2n, 200,000) writes in blocks of 1,000, then single writes). */
static void warm_up(tree *tr)
{
    uint64_t writes = 2 * tr->n < WARMUP_WRITES_MAX ? 2 * tr->n : WARMUP_WRITES_MAX;
    run_round(tr, BIG_BLOCK, (unsigned)(writes / BIG_BLOCK), NULL);
    run_round(tr, 1, WARMUP_BLOCKS, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
    double s[ROUNDS];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Runs fn(dir) in a child process; the child writes one double to the pipe. */
static double in_child(double (*fn)(const char *), const char *dir)
{
    int fd[2];
    if (pipe(fd) != 0) die("pipe", 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork", 0);
    if (pid == 0) {
        close(fd[0]);
        double v = fn(dir);
        if (write(fd[1], &v, sizeof v) != (ssize_t)sizeof v) _exit(2);
        _exit(0);
    }
    close(fd[1]);
    double v = 0;
    ssize_t got = read(fd[0], &v, sizeof v);
    close(fd[0]);
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || got != (ssize_t)sizeof v) {
        die("the 1M child process", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    return v;
}

static double child_build(const char *dir)
{
    tree tr;
    double s = open_tree(&tr, dir, sizes[NTREES - 1]);
    close_tree(&tr);
    return s;
}

/* Peak RSS (MiB) of a process that opens the 1M tree and updates it. */
static double child_memory(const char *dir)
{
    tree tr;
    open_tree(&tr, dir, sizes[NTREES - 1]);
    warm_up(&tr);
    run_round(&tr, 1, MEM_BLOCKS, NULL);
    run_round(&tr, BIG_BLOCK, 2, NULL);
    close_tree(&tr);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (double)ru.ru_maxrss / 1024.0;   /* KiB on Linux */
}

int main(int argc, char **argv)
{
    char base[256];
    const char *keep_dir = NULL, *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) keep_dir = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
        else {
            fprintf(stderr, "usage: bench_smt [--keep DIR] [--json FILE]\n");
            return 2;
        }
    }
    if (keep_dir == NULL) {
        strcpy(base, "/tmp/ms-bench-smt-XXXXXX");
        if (mkdtemp(base) == NULL) die("mkdtemp", 0);
    } else {
        snprintf(base, sizeof base, "%s", keep_dir);
        mkdir(base, 0700);
    }
    char dirs[NTREES][300];
    for (int k = 0; k < NTREES; k++) snprintf(dirs[k], sizeof dirs[k], "%s/%s", base, names[k]);

    printf("bench_smt: per-write root update (op hashing + apply + unsynced batch write), node cache %u nodes,\n"
           "  %d rounds of %d single-write blocks per tree, trees taken in turn; ratio = median of the rounds' ratios\n",
           (unsigned)BENCH_CACHE, ROUNDS, BLOCKS_PER_ROUND);
    const double build_large = in_child(child_build, dirs[NTREES - 1]);
    const double rss_mib = in_child(child_memory, dirs[NTREES - 1]);

    tree trees[NTREES];
    double build_s[NTREES], settle_s[NTREES];
    for (int k = 0; k < NTREES; k++) {
        build_s[k] = open_tree(&trees[k], dirs[k], sizes[k]);
        if (k == NTREES - 1) build_s[k] = build_large;
    }
    for (int k = 0; k < NTREES; k++) {
        settle_s[k] = settle(&trees[k]);
        printf("  %-4s tree: %7" PRIu64 " entries, built in %.1f s, settled in %.1f s\n", names[k], sizes[k],
               build_s[k], settle_s[k]);
    }
    for (int k = 0; k < NTREES; k++) warm_up(&trees[k]);
    for (int k = 0; k < NTREES; k++) settle(&trees[k]);

    double t1[NTREES][ROUNDS], r1[NTREES][ROUNDS], t16[NTREES][ROUNDS], r16[NTREES][ROUNDS];
    double c1[NTREES][ROUNDS], rc1[NTREES][ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < NTREES; k++) t1[k][round] = run_round(&trees[k], 1, BLOCKS_PER_ROUND, &c1[k][round]);
        for (int k = 0; k < NTREES; k++) t16[k][round] = run_round(&trees[k], 16, BLOCKS_PER_ROUND / 16, NULL);
        for (int k = 0; k < NTREES; k++) {
            r1[k][round] = t1[k][round] / t1[0][round];
            rc1[k][round] = c1[k][round] / c1[0][round];
            r16[k][round] = t16[k][round] / t16[0][round];
        }
    }
    double tb[NTREES][BIG_ROUNDS], rb[NTREES][BIG_ROUNDS];
    for (int round = 0; round < BIG_ROUNDS; round++) {
        for (int k = 0; k < NTREES; k++) tb[k][round] = run_round(&trees[k], BIG_BLOCK, 1, NULL);
        for (int k = 0; k < NTREES; k++) rb[k][round] = tb[k][round] / tb[0][round];
    }
    for (int k = 0; k < NTREES; k++) close_tree(&trees[k]);

    double m1[NTREES], mr1[NTREES], mc1[NTREES], mrc1[NTREES], m16[NTREES], mr16[NTREES], mb[NTREES], mrb[NTREES];
    for (int k = 0; k < NTREES; k++) {
        m1[k] = median(t1[k], ROUNDS);
        mr1[k] = median(r1[k], ROUNDS);
        mc1[k] = median(c1[k], ROUNDS);
        mrc1[k] = median(rc1[k], ROUNDS);
        m16[k] = median(t16[k], ROUNDS);
        mr16[k] = median(r16[k], ROUNDS);
        mb[k] = median(tb[k], BIG_ROUNDS);
        mrb[k] = median(rb[k], BIG_ROUNDS);
    }
    const double ratio = mr1[NTREES - 1];
    double rmin = r1[NTREES - 1][0], rmax = rmin;
    for (int r = 1; r < ROUNDS; r++) {
        if (r1[NTREES - 1][r] < rmin) rmin = r1[NTREES - 1][r];
        if (r1[NTREES - 1][r] > rmax) rmax = r1[NTREES - 1][r];
    }

    printf("%-26s %10s %10s %10s %12s %12s\n", "ns per write", "1k", "100k", "1M", "100k/1k", "1M/1k");
    printf("%-26s %10.0f %10.0f %10.0f %12.2f %12.2f\n", "blocks of 1 write (gated)", m1[0], m1[1], m1[2], mr1[1], mr1[2]);
    printf("%-26s %10.0f %10.0f %10.0f %12.2f %12.2f\n", "  same, thread CPU time", mc1[0], mc1[1], mc1[2], mrc1[1],
           mrc1[2]);
    printf("%-26s %10.0f %10.0f %10.0f %12.2f %12.2f\n", "blocks of 16 writes", m16[0], m16[1], m16[2], mr16[1], mr16[2]);
    printf("%-26s %10.0f %10.0f %10.0f %12.2f %12.2f\n", "blocks of 1,000 writes", mb[0], mb[1], mb[2], mrb[1], mrb[2]);
    printf("peak RSS of a process updating the 1M tree: %.1f MiB\n", rss_mib);
    printf("bench_smt: 1M/1k per-write ratio %.2f (rounds %.2f..%.2f; target <= 2.00): %s\n", ratio, rmin, rmax,
           ratio <= 2.0 ? "ok" : "ABOVE TARGET");

    if (json != NULL) {
        FILE *f = fopen(json, "w");
        if (f == NULL) die("fopen json", 0);
        fprintf(f, "{\n  \"unit\": \"ns per write (median of rounds)\",\n  \"node_cache_nodes\": %u,\n", (unsigned)BENCH_CACHE);
        fprintf(f, "  \"entries\": [%" PRIu64 ", %" PRIu64 ", %" PRIu64 "],\n", sizes[0], sizes[1], sizes[2]);
        fprintf(f, "  \"blocks_of_1\": [%.0f, %.0f, %.0f],\n", m1[0], m1[1], m1[2]);
        fprintf(f, "  \"blocks_of_1_thread_cpu\": [%.0f, %.0f, %.0f],\n", mc1[0], mc1[1], mc1[2]);
        fprintf(f, "  \"blocks_of_16\": [%.0f, %.0f, %.0f],\n", m16[0], m16[1], m16[2]);
        fprintf(f, "  \"blocks_of_1000\": [%.0f, %.0f, %.0f],\n", mb[0], mb[1], mb[2]);
        fprintf(f, "  \"ratio_100k_1k\": %.3f,\n  \"ratio_1m_1k\": %.3f,\n", mr1[1], ratio);
        fprintf(f, "  \"ratio_1m_1k_rounds\": [");
        for (int r = 0; r < ROUNDS; r++) fprintf(f, "%s%.3f", r ? ", " : "", r1[NTREES - 1][r]);
        fprintf(f, "],\n  \"ratio_1m_1k_thread_cpu\": %.3f,\n", mrc1[2]);
        fprintf(f, "  \"ratio_1m_1k_blocks_of_16\": %.3f,\n  \"ratio_1m_1k_blocks_of_1000\": %.3f,\n", mr16[2], mrb[2]);
        fprintf(f, "  \"peak_rss_mib_1m\": %.1f,\n  \"target_ratio\": 2.0,\n  \"ok\": %s\n}\n", rss_mib,
                ratio <= 2.0 ? "true" : "false");
        if (fclose(f) != 0) die("write json", 0);
    }
    if (keep_dir == NULL) rm_rf(base);
    return ratio <= 2.0 ? 0 : 1;
}
