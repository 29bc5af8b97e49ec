/* ms_kv: RocksDB behind status codes. Each test gets a fresh mkdtemp
 * directory, removed in the fixture's fini (which runs on failure too). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/kv.h"
#include "test_util.h"

static char kv_dir[64];

static void kv_setup(void)
{
    strcpy(kv_dir, "/tmp/ms-kv-XXXXXX");
    cr_assert_not_null(mkdtemp(kv_dir));
}

static void kv_teardown(void)
{
    ms_test_rmtree(kv_dir);
}

/* A subdirectory of the fixture dir, so teardown removes it as well. */
static void kv_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", kv_dir, name);
}

static ms_kv *kv_open_ok(const char *dir)
{
    ms_kv *kv = NULL;
    cr_assert_eq(ms_kv_open(&kv, dir), MS_KV_OK);
    cr_assert_not_null(kv);
    return kv;
}

static void kv_put1(ms_kv *kv, const void *k, size_t klen, const void *v, size_t vlen, int sync)
{
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    ms_kv_batch_put(b, k, klen, v, vlen);
    cr_assert_eq(ms_kv_write(kv, b, sync), MS_KV_OK);
    ms_kv_batch_destroy(b);
}

static void kv_expect(const ms_kv *kv, const void *k, size_t klen, const void *v, size_t vlen)
{
    uint8_t *got = (uint8_t *)1;
    size_t glen = 99;
    cr_assert_eq(ms_kv_get(kv, &got, &glen, k, klen), MS_KV_OK);
    cr_assert_eq(glen, vlen);
    if (vlen == 0) cr_assert_null(got);
    else cr_assert_arr_eq(got, v, vlen);
    free(got);
}

static void kv_expect_missing(const ms_kv *kv, const void *k, size_t klen)
{
    uint8_t *got = (uint8_t *)1;
    size_t glen = 99;
    cr_assert_eq(ms_kv_get(kv, &got, &glen, k, klen), MS_KV_NOT_FOUND);
    cr_assert_null(got);
    cr_assert_eq(glen, 0);
}

TestSuite(kv, .init = kv_setup, .fini = kv_teardown);

Test(kv, batch_put_get_delete)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    ms_kv_batch *b = ms_kv_batch_create();
    cr_assert_not_null(b);
    ms_kv_batch_put(b, (const uint8_t *)"alpha", 5, (const uint8_t *)"one", 3);
    ms_kv_batch_put(b, (const uint8_t *)"beta", 4, (const uint8_t *)"two", 3);
    cr_assert_eq(ms_kv_write(kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    kv_expect(kv, "alpha", 5, "one", 3);
    kv_expect(kv, "beta", 4, "two", 3);

    b = ms_kv_batch_create();
    ms_kv_batch_delete(b, (const uint8_t *)"alpha", 5);
    ms_kv_batch_put(b, (const uint8_t *)"beta", 4, (const uint8_t *)"TWO!", 4);
    cr_assert_eq(ms_kv_write(kv, b, 1), MS_KV_OK);
    ms_kv_batch_destroy(b);
    kv_expect_missing(kv, "alpha", 5);
    kv_expect(kv, "beta", 4, "TWO!", 4);
    ms_kv_close(kv);
}

Test(kv, batch_applies_in_order)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    ms_kv_batch *b = ms_kv_batch_create();
    ms_kv_batch_put(b, (const uint8_t *)"x", 1, (const uint8_t *)"1", 1);
    ms_kv_batch_delete(b, (const uint8_t *)"x", 1);
    ms_kv_batch_delete(b, (const uint8_t *)"y", 1);
    ms_kv_batch_put(b, (const uint8_t *)"y", 1, (const uint8_t *)"2", 1);
    cr_assert_eq(ms_kv_write(kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    kv_expect_missing(kv, "x", 1);
    kv_expect(kv, "y", 1, "2", 1);
    ms_kv_close(kv);
}

Test(kv, not_found)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    kv_expect_missing(kv, "nope", 4);
    kv_expect_missing(kv, "", 0);
    ms_kv_close(kv);
}

Test(kv, reopen_keeps_data)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    kv_put1(kv, "persist", 7, "me", 2, 1);
    kv_put1(kv, "unsynced", 8, "too", 3, 0);
    ms_kv_close(kv);
    kv = kv_open_ok(kv_dir);
    kv_expect(kv, "persist", 7, "me", 2);
    kv_expect(kv, "unsynced", 8, "too", 3); /* a clean close flushes the WAL */
    ms_kv_close(kv);
}

Test(kv, open_creates_missing_dir)
{
    char sub[128];
    kv_path(sub, sizeof sub, "fresh");
    ms_kv *kv = kv_open_ok(sub);
    kv_put1(kv, "k", 1, "v", 1, 0);
    kv_expect(kv, "k", 1, "v", 1);
    ms_kv_close(kv);
}

Test(kv, same_dir_twice_in_process_is_locked)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    ms_kv *second = (ms_kv *)1;
    cr_assert_eq(ms_kv_open(&second, kv_dir), MS_KV_LOCKED);
    cr_assert_null(second);
    /* The failed open must not disturb the holder. */
    kv_put1(kv, "k", 1, "v", 1, 0);
    kv_expect(kv, "k", 1, "v", 1);
    ms_kv_close(kv);
    kv = kv_open_ok(kv_dir);
    kv_expect(kv, "k", 1, "v", 1);
    ms_kv_close(kv);
}

/* The other RocksDB message ("While lock file"): another process holds the
 * lock. The child opens first, so the parent's RocksDB has no record of the
 * lock and must learn of it from fcntl. */
Test(kv, dir_held_by_other_process_is_locked)
{
    int up[2], down[2];
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        ms_kv *kv = NULL;
        char c = (ms_kv_open(&kv, kv_dir) == MS_KV_OK) ? 'y' : 'n';
        if (write(up[1], &c, 1) != 1) _exit(2);
        if (read(down[0], &c, 1) != 1) _exit(3);
        ms_kv_close(kv);
        _exit(0);
    }
    char c = 0;
    cr_assert_eq(read(up[0], &c, 1), 1);
    cr_assert_eq(c, 'y', "child could not open the store");
    ms_kv *kv = (ms_kv *)1;
    const ms_kv_status s = ms_kv_open(&kv, kv_dir);
    c = 'x';
    cr_assert_eq(write(down[1], &c, 1), 1);
    int wst = 0;
    cr_assert_eq(waitpid(pid, &wst, 0), pid);
    cr_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    cr_assert_eq(s, MS_KV_LOCKED);
    cr_assert_null(kv);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
}

static void kv_expect_io_on_file(const char *name)
{
    char path[128];
    kv_path(path, sizeof path, name);
    const int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "x", 1), 1);
    close(fd);
    ms_kv *kv = (ms_kv *)1;
    cr_assert_eq(ms_kv_open(&kv, path), MS_KV_IO);
    cr_assert_null(kv);
}

Test(kv, regular_file_path_is_io)
{
    kv_expect_io_on_file("plain");
}

/* The path is part of RocksDB's message; a path mentioning "lock" must not
 * turn an I/O error into MS_KV_LOCKED. */
Test(kv, regular_file_named_lock_is_io)
{
    kv_expect_io_on_file("blocks-LOCK");
}

Test(kv, empty_value_round_trip)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    kv_put1(kv, "empty", 5, NULL, 0, 0);
    kv_expect(kv, "empty", 5, NULL, 0);
    ms_kv_close(kv);
    kv = kv_open_ok(kv_dir);
    kv_expect(kv, "empty", 5, NULL, 0);
    kv_expect_missing(kv, "empty!", 6);
    ms_kv_close(kv);
}

Test(kv, binary_keys_with_zero_bytes)
{
    static const uint8_t k0[] = {0};
    static const uint8_t k00[] = {0, 0};
    static const uint8_t ka0b[] = {'a', 0, 'b'};
    static const uint8_t ka0c[] = {'a', 0, 'c'};
    static const uint8_t kff[] = {0xff, 0, 0xff};
    ms_kv *kv = kv_open_ok(kv_dir);
    ms_kv_batch *b = ms_kv_batch_create();
    ms_kv_batch_put(b, NULL, 0, (const uint8_t *)"E", 1);
    ms_kv_batch_put(b, k0, sizeof k0, (const uint8_t *)"A", 1);
    ms_kv_batch_put(b, k00, sizeof k00, (const uint8_t *)"B\0", 2);
    ms_kv_batch_put(b, ka0b, sizeof ka0b, (const uint8_t *)"C", 1);
    ms_kv_batch_put(b, ka0c, sizeof ka0c, (const uint8_t *)"\0D", 2);
    ms_kv_batch_put(b, kff, sizeof kff, (const uint8_t *)"F", 1);
    cr_assert_eq(ms_kv_write(kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);
    kv_expect(kv, "", 0, "E", 1);
    kv_expect(kv, k0, sizeof k0, "A", 1);
    kv_expect(kv, k00, sizeof k00, "B\0", 2);
    kv_expect(kv, ka0b, sizeof ka0b, "C", 1);
    kv_expect(kv, ka0c, sizeof ka0c, "\0D", 2);
    kv_expect(kv, kff, sizeof kff, "F", 1);
    kv_expect_missing(kv, "a", 1);
    kv_expect_missing(kv, ka0b, 2);
    ms_kv_close(kv);
}

Test(kv, null_batch_is_nomem)
{
    ms_kv *kv = kv_open_ok(kv_dir);
    ms_kv_batch_put(NULL, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1);
    ms_kv_batch_delete(NULL, (const uint8_t *)"k", 1);
    cr_assert_eq(ms_kv_write(kv, NULL, 1), MS_KV_NOMEM);
    kv_expect_missing(kv, "k", 1);
    ms_kv_batch_destroy(NULL);
    ms_kv_close(NULL);
    ms_kv_close(kv);
}

Test(kv, large_value)
{
    enum { N = 1 << 20 };
    uint8_t *big = malloc(N);
    cr_assert_not_null(big);
    for (size_t i = 0; i < N; i++) big[i] = (uint8_t)(i * 131u + 7u);
    ms_kv *kv = kv_open_ok(kv_dir);
    kv_put1(kv, "big", 3, big, N, 1);
    kv_expect(kv, "big", 3, big, N);
    ms_kv_close(kv);
    free(big);
}

typedef struct scan_log {
    char keys[8][4];
    size_t n;
    size_t stop_after; /* 0: never stop */
} scan_log;

static int scan_take(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    scan_log *l = ctx;
    cr_assert(klen < sizeof l->keys[0] && l->n < 8);
    cr_assert_eq(vlen, 1);
    cr_assert_eq(val[0], key[klen - 1]);
    memcpy(l->keys[l->n], key, klen);
    l->keys[l->n][klen] = '\0';
    l->n++;
    return l->stop_after == 0 || l->n < l->stop_after;
}

/* Ascending byte order whatever the write order; a prefix bounds the scan
 * on both sides; a callback returning 0 stops it; deleted keys are absent. */
Test(kv, scan_order_prefix_and_stop)
{
    static const char *const keys[] = {"bz", "a", "bb", "c", "b\xff", "ba", "b"};
    ms_kv *kv = kv_open_ok(kv_dir);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const size_t n = strlen(keys[i]);
        kv_put1(kv, keys[i], n, &keys[i][n - 1], 1, 0);
    }
    ms_kv_batch *b = ms_kv_batch_create();
    ms_kv_batch_delete(b, (const uint8_t *)"bz", 2);
    cr_assert_eq(ms_kv_write(kv, b, 0), MS_KV_OK);
    ms_kv_batch_destroy(b);

    scan_log all = {{{0}}, 0, 0};
    cr_assert_eq(ms_kv_scan(kv, NULL, 0, scan_take, &all), MS_KV_OK);
    static const char *const want_all[] = {"a", "b", "ba", "bb", "b\xff", "c"};
    cr_assert_eq(all.n, 6);
    for (size_t i = 0; i < 6; i++) cr_assert_str_eq(all.keys[i], want_all[i]);

    scan_log pre = {{{0}}, 0, 0};
    cr_assert_eq(ms_kv_scan(kv, (const uint8_t *)"b", 1, scan_take, &pre), MS_KV_OK);
    cr_assert_eq(pre.n, 4);
    cr_assert_str_eq(pre.keys[0], "b");
    cr_assert_str_eq(pre.keys[3], "b\xff");

    scan_log stop = {{{0}}, 0, 2};
    cr_assert_eq(ms_kv_scan(kv, (const uint8_t *)"b", 1, scan_take, &stop), MS_KV_OK);
    cr_assert_eq(stop.n, 2);
    cr_assert_str_eq(stop.keys[1], "ba");

    scan_log none = {{{0}}, 0, 0};
    cr_assert_eq(ms_kv_scan(kv, (const uint8_t *)"d", 1, scan_take, &none), MS_KV_OK);
    cr_assert_eq(none.n, 0);
    ms_kv_close(kv);
}
