/* Small helpers shared by the unit tests. */
#ifndef MS_TEST_UTIL_H
#define MS_TEST_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
