/* Scratch directories of the benchmarks: one recursive removal, shared by
 * the programs that build stores of their own (bench_smt, bench_commit).
 * Header-only, static inline. */
#ifndef MS_BENCH_DIRS_H
#define MS_BENCH_DIRS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** Remove path and everything below it; a missing path is not an error. */
static inline void bench_rm_rf(const char *path)
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
                const int n = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                if (n < 0 || (size_t)n >= sizeof sub) continue;   /* deeper than any store's files */
                bench_rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

#endif
