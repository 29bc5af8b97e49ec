/* Small helpers shared by the unit tests. */
#ifndef MS_TEST_UTIL_H
#define MS_TEST_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Decode hex (optional 0x prefix) into out; returns the byte count, or
 * (size_t)-1 on a bad digit, an odd length or a too small buffer. */
static inline size_t ms_test_hex(uint8_t *out, size_t cap, const char *hex)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap) return (size_t)-1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            int d = (c >= '0' && c <= '9') ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
            if (d < 0) return (size_t)-1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

/* Write n bytes as lowercase hex into out (2n + 1 bytes, NUL-terminated),
 * for failure messages. */
static inline void ms_test_hex_of(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* splitmix64: the unit tests' pseudo-random numbers (fast, seedable, and
 * the same on every machine). In/Out: state. */
static inline uint64_t ms_test_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A random test's seed: MS_TEST_SEED when set (replay), else fresh per
 * run. Printed as "suite/test: seed N (replay with MS_TEST_SEED=N)" and
 * flushed, so that a failure can be replayed (and a forked child does not
 * print it again). */
static inline uint64_t ms_test_seed(const char *suite, const char *test)
{
    uint64_t seed;
    const char *env = getenv("MS_TEST_SEED");
    if (env != NULL && env[0] != '\0') {
        seed = strtoull(env, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    }
    printf("%s/%s: seed %llu (replay with MS_TEST_SEED=%llu)\n", suite, test, (unsigned long long)seed,
           (unsigned long long)seed);
    fflush(stdout);
    return seed;
}

/* Remove a directory tree (a test's RocksDB directory). Missing is fine. */
static inline void ms_test_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d != NULL) {
        const struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            char sub[512];
            const int n = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            if (n > 0 && (size_t)n < sizeof sub) ms_test_rmtree(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

#endif
