/* Host-ABI tests: the module is loaded exactly as a node loads it (dlopen of
 * MS_TEST_MODULE, the one entry symbol) and driven through module/memsync.h
 * only, with a tiny calldata encoder of its own. The reference host program
 * (MS_TEST_HOST) is run twice on a fresh data directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi/selectors.h"
#include "module/memsync.h"

/* ------------------------------------------------------------ fixtures */

static void *g_handle;
static const ms_module *M;

static void load_module(void)
{
    const char *path = getenv("MS_TEST_MODULE");
    cr_assert_not_null(path, "set MS_TEST_MODULE to the path of libmemsync.so");
    g_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(g_handle, "dlopen(%s): %s", path, dlerror());
    void *sym = dlsym(g_handle, MS_MODULE_ENTRY_NAME);
    cr_assert_not_null(sym, "%s not exported", MS_MODULE_ENTRY_NAME);
    ms_module_get_fn get;
    memcpy(&get, &sym, sizeof get);
    M = get();
    cr_assert_not_null(M);
    cr_assert_eq(M->abi_version, MS_ABI_VERSION);
}

static void unload_module(void)
{
    if (g_handle != NULL) dlclose(g_handle);
    g_handle = NULL;
    M = NULL;
}

TestSuite(host, .init = load_module, .fini = unload_module);

/* A fresh directory under /tmp; removed (one level deep, as RocksDB writes it). */
static void make_dir(char path[64])
{
    strcpy(path, "/tmp/memsync-host-test-XXXXXX");
    cr_assert_not_null(mkdtemp(path));
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) return;
    struct dirent *e;
    char file[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
    }
    closedir(d);
    rmdir(path);
}

static ms_instance *open_instance(const char *dir)
{
    ms_config cfg;
    M->default_config(&cfg);
    ms_instance *inst = NULL;
    const ms_rc rc = M->create(&inst, &cfg, dir);
    cr_assert_eq(rc, MS_OK, "create(%s): %s", dir, M->rc_string(rc));
    cr_assert_not_null(inst);
    return inst;
}

/* ------------------------------------------------------ tiny ABI encoder */

typedef struct calldata {
    uint8_t b[512];
    size_t n;
} calldata;

static void put_sel(calldata *c, uint32_t sel)
{
    c->n = 0;
    for (int i = 3; i >= 0; i--) c->b[c->n++] = (uint8_t)(sel >> (8 * i));
}

static void put_word(calldata *c, const uint8_t w[32])
{
    memcpy(c->b + c->n, w, 32);
    c->n += 32;
}

static void put_u64(calldata *c, uint64_t v)
{
    uint8_t w[32] = {0};
    for (int i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8 * i));
    put_word(c, w);
}

static void fill(uint8_t w[32], uint8_t byte)
{
    memset(w, byte, 32);
}

/* A well-formed 50-byte envelope for key epoch 1 (the module never decrypts). */
static const uint8_t ENVELOPE[50] = {
    1, 1, 0, 0, 0, 0, 0, 0, 0, 1,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
};

/* createMemory(salt, metadata, ciphertext) with salt = metadata = byte. */
static void cd_create(calldata *c, uint8_t salt_byte, int with_version)
{
    uint8_t w[32];
    put_sel(c, MS_FN_CREATE_MEMORY);
    fill(w, salt_byte);
    put_word(c, w);
    put_word(c, w);
    put_u64(c, 0x60);
    const size_t len = with_version ? sizeof ENVELOPE : 0;
    put_u64(c, len);
    memset(c->b + c->n, 0, 64);
    memcpy(c->b + c->n, ENVELOPE, len);
    c->n += (len + 31) / 32 * 32;
}

static void cd_get_head(calldata *c, const uint8_t id[32])
{
    put_sel(c, MS_FN_GET_HEAD);
    put_word(c, id);
}

/* ------------------------------------------------------------- calling */

static const ms_block_context BLOCK = {.number = 1, .timestamp = 1700000012u, .chain_id = 31337u};

static ms_message message(const calldata *c, uint8_t caller_byte)
{
    ms_message m;
    memset(&m, 0, sizeof m);
    m.kind = MS_CALL;
    memset(m.caller.bytes, caller_byte, 20);
    m.input = c->b;
    m.input_size = c->n;
    m.gas = 1000000u;
    return m;
}

static ms_result call(ms_instance *inst, const calldata *c, uint8_t caller_byte)
{
    ms_result r;
    const ms_message m = message(c, caller_byte);
    cr_assert_eq(M->execute(inst, &r, &BLOCK, &m), MS_OK);
    return r;
}

static uint32_t revert_selector(const ms_result *r)
{
    cr_assert_eq(r->status, MS_REVERT);
    cr_assert_geq(r->output_size, 4u);
    return ((uint32_t)r->output[0] << 24) | ((uint32_t)r->output[1] << 16) | ((uint32_t)r->output[2] << 8) |
           r->output[3];
}

/* createMemory from caller 0xAA; returns the asset id. */
static void create_memory(ms_instance *inst, uint8_t salt_byte, int with_version, uint8_t id[32])
{
    calldata c;
    cd_create(&c, salt_byte, with_version);
    const ms_result r = call(inst, &c, 0xAA);
    cr_assert_eq(r.status, MS_SUCCESS, "createMemory status %d", (int)r.status);
    cr_assert_eq(r.output_size, 32u);
    memcpy(id, r.output, 32);
}

/* getHead: 1 if the asset exists (version out), 0 on AssetNotFound. */
static int head_version(ms_instance *inst, const uint8_t id[32], uint64_t *version)
{
    calldata c;
    cd_get_head(&c, id);
    const ms_result r = call(inst, &c, 0x01);
    if (r.status != MS_SUCCESS) {
        cr_assert_eq(revert_selector(&r), MS_E_ASSET_NOT_FOUND);
        return 0;
    }
    cr_assert_eq(r.output_size, 6u * 32u);
    static const uint8_t owner[20] = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                                      0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
    cr_assert_arr_eq(r.output + 12, owner, 20);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | r.output[32 + 24 + i];
    *version = v;
    return 1;
}

static size_t pending_count(ms_instance *inst)
{
    const ms_log *logs;
    size_t n = 99;
    cr_assert_eq(M->pending_logs(inst, &logs, &n), MS_OK);
    return n;
}

/* ---------------------------------------------------------------- tests */

Test(host, module_description)
{
    cr_assert_eq(M->abi_version, MS_ABI_VERSION);
    cr_assert_not_null(M->name);
    cr_assert_str_eq(M->name, "memsync");
    cr_assert_not_null(M->version);
    unsigned a, b, c;
    cr_assert_eq(sscanf(M->version, "%u.%u.%u", &a, &b, &c), 3, "version '%s' is not x.y.z", M->version);
    cr_assert_eq(M->schema_version, MS_SCHEMA_VERSION);
    cr_assert(M->default_config && M->create && M->destroy && M->execute && M->simulate && M->checkpoint &&
              M->revert_to && M->commit_block && M->discard_block && M->committed && M->pending_logs &&
              M->rc_string);
    ms_config cfg;
    M->default_config(&cfg);
    cr_assert_eq(cfg.chain_id, 31337u);
    cr_assert_eq(cfg.precompile_address.bytes[18], 0x4D);
    cr_assert_eq(cfg.precompile_address.bytes[19], 0x53);
}

Test(host, create_execute_commit_destroy_round_trip)
{
    char dir[64];
    make_dir(dir);
    ms_instance *inst = open_instance(dir);
    uint64_t h = 99;
    ms_bytes32 root, zero;
    memset(&zero, 0, sizeof zero);
    cr_assert_eq(M->committed(inst, &h, &root), MS_OK);
    cr_assert_eq(h, 0u);
    cr_assert_arr_eq(root.bytes, zero.bytes, 32);

    uint8_t id[32];
    uint64_t v = 0;
    create_memory(inst, 0x11, 1, id);
    cr_assert(head_version(inst, id, &v));
    cr_assert_eq(v, 1u);
    cr_assert_eq(pending_count(inst), 2u, "MemoryCreated + VersionAppended");

    ms_bytes32 root1;
    cr_assert_eq(M->commit_block(inst, &root1, 1), MS_OK);
    cr_assert(memcmp(root1.bytes, zero.bytes, 32) != 0);
    cr_assert_eq(pending_count(inst), 0u);
    cr_assert_eq(M->commit_block(inst, &root, 1), MS_ERR_HEIGHT);
    M->destroy(inst);

    inst = open_instance(dir);
    cr_assert_eq(M->committed(inst, &h, &root), MS_OK);
    cr_assert_eq(h, 1u);
    cr_assert_arr_eq(root.bytes, root1.bytes, 32);
    cr_assert(head_version(inst, id, &v), "the committed asset survives a restart");
    cr_assert_eq(v, 1u);
    M->destroy(inst);
    M->destroy(NULL);
    remove_dir(dir);
}

Test(host, two_instances_in_one_process)
{
    char d1[64], d2[64];
    make_dir(d1);
    make_dir(d2);
    ms_instance *a = open_instance(d1);
    ms_instance *b = open_instance(d2);
    uint8_t ida[32], idb[32];
    uint64_t v;
    create_memory(a, 0x21, 1, ida);
    create_memory(b, 0x22, 0, idb);
    cr_assert(head_version(a, ida, &v));
    cr_assert_eq(v, 1u);
    cr_assert(head_version(b, idb, &v));
    cr_assert_eq(v, 0u);
    cr_assert_not(head_version(b, ida, &v), "instances do not share state");
    cr_assert_not(head_version(a, idb, &v));

    ms_bytes32 r;
    uint64_t h;
    cr_assert_eq(M->commit_block(a, &r, 5), MS_OK);
    cr_assert_eq(M->commit_block(b, &r, 9), MS_OK);
    cr_assert_eq(M->committed(a, &h, &r), MS_OK);
    cr_assert_eq(h, 5u);
    cr_assert_eq(M->committed(b, &h, &r), MS_OK);
    cr_assert_eq(h, 9u);
    M->destroy(a);
    M->destroy(b);
    remove_dir(d1);
    remove_dir(d2);
}

Test(host, same_directory_twice_is_locked)
{
    char dir[64];
    make_dir(dir);
    ms_instance *first = open_instance(dir);
    ms_config cfg;
    M->default_config(&cfg);
    ms_instance *second = (ms_instance *)&cfg;   /* must be overwritten with NULL */
    cr_assert_eq(M->create(&second, &cfg, dir), MS_ERR_LOCKED);
    cr_assert_null(second);
    M->destroy(first);
    cr_assert_eq(M->create(&second, &cfg, dir), MS_OK, "the lock is released by destroy");
    M->destroy(second);
    remove_dir(dir);
}

Test(host, rc_string_is_never_null)
{
    for (int rc = MS_OK; rc <= MS_ERR_POISONED; rc++) {
        const char *s = M->rc_string((ms_rc)rc);
        cr_assert_not_null(s, "rc %d", rc);
        cr_assert_gt(strlen(s), 0u, "rc %d", rc);
    }
    const int unknown[] = {-1, 11, 999, 0x7fffffff};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = M->rc_string((ms_rc)unknown[i]);
        cr_assert_not_null(s);
        cr_assert_gt(strlen(s), 0u);
    }
    cr_assert_str_neq(M->rc_string(MS_OK), M->rc_string(MS_ERR_LOCKED));
}

Test(host, simulate_leaves_no_trace)
{
    char d1[64], d2[64];
    make_dir(d1);
    make_dir(d2);
    ms_instance *inst = open_instance(d1);
    ms_instance *empty = open_instance(d2);

    calldata c;
    cd_create(&c, 0x31, 1);
    const ms_message m = message(&c, 0xAA);
    ms_result r;
    cr_assert_eq(M->simulate(inst, &r, &BLOCK, &m), MS_OK);
    cr_assert_eq(r.status, MS_SUCCESS);
    cr_assert_eq(r.log_count, 2u, "simulate reports the logs of the call");
    cr_assert_eq(r.output_size, 32u);
    uint8_t id[32];
    memcpy(id, r.output, 32);

    cr_assert_eq(pending_count(inst), 0u);
    uint64_t v;
    cr_assert_not(head_version(inst, id, &v), "the simulated asset does not exist");
    cr_assert_eq(M->simulate(inst, &r, &BLOCK, &m), MS_OK);
    cr_assert_eq(r.status, MS_SUCCESS, "a second simulate does not see AssetExists");

    ms_bytes32 r1, r2;
    cr_assert_eq(M->commit_block(inst, &r1, 1), MS_OK);
    cr_assert_eq(M->commit_block(empty, &r2, 1), MS_OK);
    cr_assert_arr_eq(r1.bytes, r2.bytes, 32, "the root equals that of an empty block");
    M->destroy(inst);
    M->destroy(empty);
    remove_dir(d1);
    remove_dir(d2);
}

Test(host, revert_to_nested)
{
    char dir[64];
    make_dir(dir);
    ms_instance *inst = open_instance(dir);
    uint8_t a[32], b[32], c[32];
    uint64_t cp0, cp1, cp2, v;

    cr_assert_eq(M->checkpoint(inst, &cp0), MS_OK);
    create_memory(inst, 0x41, 0, a);
    cr_assert_eq(M->checkpoint(inst, &cp1), MS_OK);
    create_memory(inst, 0x42, 0, b);
    cr_assert_eq(M->checkpoint(inst, &cp2), MS_OK);
    create_memory(inst, 0x43, 0, c);
    cr_assert_eq(pending_count(inst), 3u);

    cr_assert_eq(M->revert_to(inst, cp2), MS_OK);
    cr_assert_eq(pending_count(inst), 2u);
    cr_assert_not(head_version(inst, c, &v));
    cr_assert(head_version(inst, b, &v));
    cr_assert_eq(M->revert_to(inst, cp2), MS_OK, "a checkpoint stays live after revert_to");
    cr_assert_eq(pending_count(inst), 2u);

    create_memory(inst, 0x43, 0, c);   /* re-doable after the revert */
    cr_assert_eq(M->revert_to(inst, cp1), MS_OK);
    cr_assert_eq(pending_count(inst), 1u);
    cr_assert_not(head_version(inst, b, &v));
    cr_assert_not(head_version(inst, c, &v));
    cr_assert(head_version(inst, a, &v));

    cr_assert_eq(M->revert_to(inst, cp0), MS_OK);
    cr_assert_eq(pending_count(inst), 0u);
    cr_assert_not(head_version(inst, a, &v));

    create_memory(inst, 0x44, 0, a);
    ms_bytes32 root;
    cr_assert_eq(M->commit_block(inst, &root, 1), MS_OK);
    cr_assert_eq(M->revert_to(inst, cp0), MS_ERR_CHECKPOINT, "ids of an earlier block die");
    cr_assert(head_version(inst, a, &v), "and reverting to them changes nothing");
    M->destroy(inst);
    remove_dir(dir);
}

/* ---------------------------------------------------- the host program */

static int run_host(const char *dir, char **out)
{
    const char *host = getenv("MS_TEST_HOST");
    const char *module = getenv("MS_TEST_MODULE");
    cr_assert_not_null(host, "set MS_TEST_HOST to the path of memsync-host");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --module '%s' --data '%s' 2>&1", host, module, dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[n] = '\0';
    const int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(host, host_program_runs_and_resumes, .timeout = 120)
{
    char dir[64];
    make_dir(dir);
    char *first, *second;
    const int rc1 = run_host(dir, &first);
    cr_assert_eq(rc1, 0, "first run exited %d:\n%s", rc1, first);
    cr_assert_not_null(strstr(first, "VersionConflict"));
    cr_assert_not_null(strstr(first, "NotAuthorized"));
    cr_assert_not_null(strstr(first, "fresh data directory"));
    const char *fin = strstr(first, "final committed height: ");
    cr_assert_not_null(fin);
    unsigned long long height = 0;
    cr_assert_eq(sscanf(fin, "final committed height: %llu", &height), 1);
    cr_assert_gt(height, 0u);

    const int rc2 = run_host(dir, &second);
    cr_assert_eq(rc2, 0, "second run exited %d:\n%s", rc2, second);
    char expect[96];
    snprintf(expect, sizeof expect, "resumed from committed height %llu ", height);
    cr_assert_not_null(strstr(second, expect), "second run does not resume at %llu", height);
    cr_assert_not_null(strstr(second, "VersionConflict"));
    cr_assert_not_null(strstr(second, "NotAuthorized"));
    free(first);
    free(second);
    remove_dir(dir);
}
