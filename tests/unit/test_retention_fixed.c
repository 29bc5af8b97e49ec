/* Issue 14 item 3: retention K is fixed for the life of a store
 * (spec/host-abi.md [HOST-53], spec/storage.md [ST-9]). Pruning and
 * shredding visit only the last K versions; a K lowered at an upgrade would
 * leave the ciphertexts between the old and the new K where neither
 * reaches. The first create records K in the store; a later create with
 * another K is refused (MS_ERR_CONFIG) and changes nothing. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_fixture.h"
#include "storage/kv.h"
#include "storage/records.h"

TestSuite(retention_fixed, .init = cf_setup, .fini = cf_teardown);

/* An instance of our own over a directory that outlives it (removed at
 * teardown), so that the test decides when it is destroyed. */
static ms_rc open_k(cf_env *e, const char *dir, uint32_t k)
{
    memset(e, 0, sizeof *e);
    e->m = ms_module_get();
    e->m->default_config(&e->cfg);
    e->cfg.retained_versions = k;
    snprintf(e->dir, sizeof e->dir, "%s", dir);
    e->blk.number = CF_BLOCK;
    e->blk.timestamp = CF_TIME;
    e->blk.chain_id = e->cfg.chain_id;
    const ms_rc rc = e->m->create(&e->inst, &e->cfg, e->dir);
    if (rc != MS_OK) cr_assert_null(e->inst);
    return rc;
}

static void close_env(cf_env *e)
{
    e->m->destroy(e->inst);
    e->inst = NULL;
}

/* The raw meta record 00 05, read with no instance open: its length, or
 * -1 when absent. */
static long meta_k(const char *dir, uint8_t out[8])
{
    ms_kv *kv = NULL;
    cr_assert_eq(ms_kv_open(&kv, dir), MS_KV_OK);
    ms_key key;
    ms_key_meta(&key, MS_META_RETENTION);
    uint8_t *v = NULL;
    size_t n = 0;
    const ms_kv_status s = ms_kv_get(kv, &v, &n, key.bytes, key.len);
    cr_assert(s == MS_KV_OK || s == MS_KV_NOT_FOUND);
    if (s == MS_KV_OK && n <= 8) memcpy(out, v, n);
    free(v);
    ms_kv_close(kv);
    return s == MS_KV_OK ? (long)n : -1;
}

static void set_meta_k(const char *dir, const uint8_t *v, size_t n)
{
    ms_kv *kv = NULL;
    cr_assert_eq(ms_kv_open(&kv, dir), MS_KV_OK);
    ms_key key;
    ms_key_meta(&key, MS_META_RETENTION);
    ms_kv_batch *b = ms_kv_batch_create();
    if (v == NULL) ms_kv_batch_delete(b, key.bytes, key.len);
    else ms_kv_batch_put(b, key.bytes, key.len, v, n);
    cr_assert_eq(ms_kv_write(kv, b, 1), MS_KV_OK);
    ms_kv_batch_destroy(b);
    ms_kv_close(kv);
}

static uint64_t height_of(cf_env *e)
{
    uint64_t h;
    ms_bytes32 r;
    cr_assert_eq(e->m->committed(e->inst, &h, &r), MS_OK);
    return h;
}

Test(retention_fixed, the_first_create_records_k_and_another_k_is_refused)
{
    const char *dir = cf_tmpdir();
    cf_env e;
    cr_assert_eq(open_k(&e, dir, 8), MS_OK);
    /* A memory with ten versions under K = 8: versions 1 and 2 pruned. */
    uint8_t id[32];
    cf_create(&e, id, &CF_ALICE, 1, cf_ct(60, 1, 1), 60);
    for (uint64_t v = 1; v < 10; v++) cf_append(&e, &CF_ALICE, id, v, 1, cf_ct(60, 1, (uint8_t)(v + 1)), 60);
    cf_commit(&e, NULL);
    close_env(&e);
    uint8_t raw[8];
    cr_assert_eq(meta_k(dir, raw), 4);
    cr_assert(memcmp(raw, "\x00\x00\x00\x08", 4) == 0, "K = 8 as a big-endian u32");

    /* Lowering or raising K is refused, and nothing is written: the store
     * still records 8 and opens with it, at the same height. */
    const uint32_t others[] = {1, 4, 7, 9, 16, MS_MAX_RETAINED_CEILING};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        cr_assert_eq(open_k(&e, dir, others[i]), MS_ERR_CONFIG, "K = %u", (unsigned)others[i]);
        cr_assert_eq(meta_k(dir, raw), 4);
        cr_assert(memcmp(raw, "\x00\x00\x00\x08", 4) == 0);
    }
    cr_assert_eq(open_k(&e, dir, 8), MS_OK, "the refusals released the directory");
    cr_assert_eq(height_of(&e), 1u);
    cf_vinfo vi;
    cf_get_vinfo(&e, &vi, id, 2);
    cr_assert_eq(vi.state, 2u, "version 2 was pruned under K = 8");
    cf_get_vinfo(&e, &vi, id, 3);
    cr_assert_eq(vi.state, 1u, "version 3 is retained under K = 8");
    /* Retention keeps working under the recorded K: version 11 prunes 3. */
    cf_append(&e, &CF_ALICE, id, 10, 1, cf_ct(60, 1, 11), 60);
    cf_get_vinfo(&e, &vi, id, 3);
    cr_assert_eq(vi.state, 2u);
    close_env(&e);
}

/* A store written before K was recorded takes the K of its next create,
 * and keeps it from then on. */
Test(retention_fixed, a_store_without_the_record_takes_the_next_k)
{
    const char *dir = cf_tmpdir();
    cf_env e;
    cr_assert_eq(open_k(&e, dir, 8), MS_OK);
    uint8_t id[32];
    cf_create(&e, id, &CF_ALICE, 1, cf_ct(60, 1, 1), 60);
    cf_commit(&e, NULL);
    close_env(&e);
    set_meta_k(dir, NULL, 0);
    uint8_t raw[8];
    cr_assert_eq(meta_k(dir, raw), -1);

    cr_assert_eq(open_k(&e, dir, 3), MS_OK);
    cr_assert_eq(height_of(&e), 1u);
    close_env(&e);
    cr_assert_eq(meta_k(dir, raw), 4);
    cr_assert(memcmp(raw, "\x00\x00\x00\x03", 4) == 0);
    cr_assert_eq(open_k(&e, dir, 8), MS_ERR_CONFIG);
    cr_assert_eq(open_k(&e, dir, 3), MS_OK);
    close_env(&e);
}

/* A record of the wrong size is corruption, not a K. */
Test(retention_fixed, a_record_of_the_wrong_size_is_corrupt)
{
    const char *dir = cf_tmpdir();
    cf_env e;
    cr_assert_eq(open_k(&e, dir, 8), MS_OK);
    close_env(&e);
    const uint8_t five[5] = {0, 0, 0, 0, 8}, three[3] = {0, 0, 8};
    set_meta_k(dir, five, sizeof five);
    cr_assert_eq(open_k(&e, dir, 8), MS_ERR_CORRUPT);
    set_meta_k(dir, three, sizeof three);
    cr_assert_eq(open_k(&e, dir, 8), MS_ERR_CORRUPT);
    set_meta_k(dir, (const uint8_t *)"\x00\x00\x00\x08", 4);
    cr_assert_eq(open_k(&e, dir, 8), MS_OK);
    close_env(&e);
}
