/* Issue 14 item 4, storage side: a block beyond the storage limits of
 * spec/host-abi.md [HOST-52] is a defined fatal error, never a silent drop.
 * RocksDB's write batch refuses a value of 2^32 bytes or more and its C API
 * drops that refusal, so such a put used to vanish from a batch that was
 * then written "successfully" (an undo record of a huge block would have
 * been lost, and every later reorg through it with it). Here: the kv
 * boundary refuses the whole batch, the undo writer refuses a record that
 * does not fit, and commit_block reports MS_ERR_IO, writes nothing and
 * poisons the instance. The config side (no accepted config can reach the
 * limits) is in test_config_limits.c. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "call_fixture.h"
#include "module/instance.h"
#include "storage/kv.h"
#include "storage/undo.h"
#include "test_util.h"

/* ------------------------------------------------------------------ kv */

static char g_dir[64];

static void kv_dir_setup(void)
{
    strcpy(g_dir, "/tmp/ms-lim-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
}

static void kv_dir_teardown(void)
{
    ms_test_rmtree(g_dir);
}

TestSuite(kv_limits, .init = kv_dir_setup, .fini = kv_dir_teardown);

static int kv_has(const ms_kv *kv, const char *key)
{
    uint8_t *v = NULL;
    size_t n = 0;
    const ms_kv_status s = ms_kv_get(kv, &v, &n, (const uint8_t *)key, strlen(key));
    free(v);
    cr_assert(s == MS_KV_OK || s == MS_KV_NOT_FOUND);
    return s == MS_KV_OK;
}

/* The length is checked before the bytes are read: the small buffers below
 * stand for values of 2^32 bytes and more without allocating them. */
Test(kv_limits, an_oversized_value_refuses_the_whole_batch)
{
    ms_kv *kv = NULL;
    cr_assert_eq(ms_kv_open(&kv, g_dir), MS_KV_OK);
    const uint8_t small[8] = {1, 2, 3};
    const size_t sizes[3] = {MS_KV_VALUE_MAX + 1, MS_KV_VALUE_MAX + 4096, SIZE_MAX};
    cr_assert_eq(MS_KV_VALUE_MAX, (size_t)UINT32_MAX, "RocksDB's limit");
    for (int i = 0; i < 3; i++) {
        ms_kv_batch *b = ms_kv_batch_create();
        cr_assert_not_null(b);
        ms_kv_batch_put(b, (const uint8_t *)"before", 6, small, sizeof small);
        ms_kv_batch_put(b, (const uint8_t *)"huge", 4, small, sizes[i]);
        ms_kv_batch_put(b, (const uint8_t *)"after", 5, small, sizeof small);
        cr_assert_eq(ms_kv_write(kv, b, 1), MS_KV_TOO_LARGE, "value of %zu bytes", sizes[i]);
        ms_kv_batch_destroy(b);
        cr_assert_eq(kv_has(kv, "before"), 0, "nothing of the batch is written");
        cr_assert_eq(kv_has(kv, "huge"), 0);
        cr_assert_eq(kv_has(kv, "after"), 0);
    }
    /* An oversized key, in a put and in a delete, refuses the batch too. */
    ms_kv_batch *b = ms_kv_batch_create();
    ms_kv_batch_put(b, (const uint8_t *)"k1", 2, small, 1);
    ms_kv_batch_put(b, small, MS_KV_VALUE_MAX + 1, small, 1);
    cr_assert_eq(ms_kv_write(kv, b, 1), MS_KV_TOO_LARGE);
    ms_kv_batch_destroy(b);
    b = ms_kv_batch_create();
    ms_kv_batch_put(b, (const uint8_t *)"k1", 2, small, 1);
    ms_kv_batch_delete(b, small, MS_KV_VALUE_MAX + 1);
    cr_assert_eq(ms_kv_write(kv, b, 1), MS_KV_TOO_LARGE);
    ms_kv_batch_destroy(b);
    cr_assert_eq(kv_has(kv, "k1"), 0);
    /* A normal batch still writes. */
    b = ms_kv_batch_create();
    ms_kv_batch_put(b, (const uint8_t *)"k1", 2, small, 1);
    cr_assert_eq(ms_kv_write(kv, b, 1), MS_KV_OK);
    ms_kv_batch_destroy(b);
    cr_assert_eq(kv_has(kv, "k1"), 1);
    ms_kv_close(kv);
}

/* ---------------------------------------------------------------- undo */

Test(undo_writer, writes_the_documented_layout)
{
    ms_buf buf;
    ms_buf_init(&buf);
    ms_undo_writer w;
    ms_undo_begin(&w, &buf, 0x0102030405060708u, MS_UNDO_RECORD_MAX);
    ms_undo_add(&w, (const uint8_t *)"\x01" "ab", 3, 1, (const uint8_t *)"xyz", 3);
    ms_undo_add(&w, (const uint8_t *)"\x02" "c", 2, 0, NULL, 0);
    ms_undo_add(&w, (const uint8_t *)"\x03", 1, 1, NULL, 0);
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_OK);
    /* prev u64 | count u32 | { klen u8 | key | present u8 | [vlen u32 | value] } */
    static const uint8_t want[] = {
        1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 3,
        3, 1, 'a', 'b', 1, 0, 0, 0, 3, 'x', 'y', 'z',
        2, 2, 'c', 0,
        1, 3, 1, 0, 0, 0, 0,
    };
    CF_BYTES(buf.data, buf.size, want, sizeof want);
    ms_undo_reader r;
    ms_undo_entry e;
    cr_assert_eq(ms_undo_open(&r, buf.data, buf.size), 1);
    cr_assert_eq(r.prev, 0x0102030405060708u);
    cr_assert_eq(ms_undo_next(&r, &e), 1);
    cr_assert(e.present && e.vlen == 3 && memcmp(e.val, "xyz", 3) == 0);
    cr_assert_eq(ms_undo_next(&r, &e), 1);
    cr_assert(!e.present && e.klen == 2);
    cr_assert_eq(ms_undo_next(&r, &e), 1);
    cr_assert(e.present && e.vlen == 0);
    cr_assert_eq(ms_undo_next(&r, &e), 0);
    ms_buf_free(&buf);
}

Test(undo_writer, refuses_what_its_fields_or_a_rocksdb_value_cannot_hold)
{
    cr_assert_eq(MS_UNDO_RECORD_MAX, MS_KV_VALUE_MAX);
    ms_buf buf;
    ms_buf_init(&buf);
    ms_undo_writer w;
    const uint8_t small[4] = {9};
    uint8_t key[256];
    memset(key, 0x04, sizeof key);

    /* A value whose length does not fit vlen u32 (never read). */
    ms_undo_begin(&w, &buf, 1, MS_UNDO_RECORD_MAX);
    ms_undo_add(&w, key, 3, 1, small, (size_t)UINT32_MAX + 1);
    cr_assert_eq(w.status, MS_UNDO_TOO_LARGE);
    ms_undo_add(&w, key, 3, 0, NULL, 0);   /* later adds do nothing */
    cr_assert_eq(w.count, 0u);
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_TOO_LARGE);

    /* A key whose length does not fit klen u8. */
    ms_undo_begin(&w, &buf, 1, MS_UNDO_RECORD_MAX);
    ms_undo_add(&w, key, 256, 0, NULL, 0);
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_TOO_LARGE);
    ms_undo_begin(&w, &buf, 1, MS_UNDO_RECORD_MAX);
    ms_undo_add(&w, key, 255, 0, NULL, 0);
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_OK);

    /* The record's maximum, to the byte: header 12, then an entry of
     * 2 + 3 + 4 + 4 = 13 bytes fits a maximum of 25 and not of 24. */
    ms_undo_begin(&w, &buf, 1, 25);
    ms_undo_add(&w, key, 3, 1, small, 4);
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_OK);
    cr_assert_eq(buf.size, 25u);
    ms_undo_begin(&w, &buf, 1, 24);
    ms_undo_add(&w, key, 3, 1, small, 4);
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_TOO_LARGE);
    ms_undo_begin(&w, &buf, 1, 11);   /* not even the header */
    cr_assert_eq(ms_undo_finish(&w), MS_UNDO_TOO_LARGE);
    ms_buf_free(&buf);
}

/* -------------------------------------------------------------- commit */

TestSuite(block_limits, .init = cf_setup, .fini = cf_teardown);

static uint64_t committed_height(cf_env *e)
{
    uint64_t h;
    ms_bytes32 r;
    cr_assert_eq(e->m->committed(e->inst, &h, &r), MS_OK);
    return h;
}

/* A block whose undo record exceeds the limit (lowered to 4 KiB here, as a
 * real one needs 4 GiB): commit_block fails with MS_ERR_IO before writing
 * anything, the instance is poisoned, and a restart finds the block before.
 * With `big`, the block counts as big (MS_STATE_UNLOGGED_MIN lowered to
 * 1): its undo record is built on a second thread while the tree's update
 * runs, which then has nothing to write either. */
static void undo_over_the_limit(int big)
{
    uint8_t id[32], root1[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(3000, 1, 1), 3000);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(3000, 1, 2), 3000);
    cf_commit(&CF, root1);
    CF.inst->st.max_undo = 4096;
    if (big) CF.inst->st.unlogged_min = 1;
    /* Shredding both versions puts 6,000 bytes of ciphertext into the undo. */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred(id)));
    ms_bytes32 r;
    cr_assert_eq(CF.m->commit_block(CF.inst, &r, 2), MS_ERR_IO);
    cr_assert(ms_is_zero(r.bytes, 32), "no root on failure");
    cr_assert_eq(committed_height(&CF), 1u);
    uint64_t cp;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_ERR_POISONED);

    cf_env_reopen(&CF);
    cr_assert_eq(committed_height(&CF), 1u);
    ms_bytes32 now;
    uint64_t h;
    cr_assert_eq(CF.m->committed(CF.inst, &h, &now), MS_OK);
    cr_assert_arr_eq(now.bytes, root1, 32, "the store's root is block 1's");
    cf_vinfo v;
    cf_get_vinfo(&CF, &v, id, 2);
    cr_assert_eq(v.state, 1u, "the shred never reached the store");
    /* Under the real limit the same block commits. */
    if (big) CF.inst->st.unlogged_min = 1;
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred(id)));
    cf_commit(&CF, NULL);
    cr_assert_eq(committed_height(&CF), 2u);
}

Test(block_limits, an_undo_record_over_the_limit_is_a_fatal_error)
{
    undo_over_the_limit(0);
}

Test(block_limits, an_undo_record_over_the_limit_built_beside_the_tree_is_a_fatal_error)
{
    undo_over_the_limit(1);
}

/* A big block's tree records reach RocksDB on a thread that outlives
 * commit_block ([ST-24], [HOST-54]). When that write fails (a failing disk,
 * injected here), the block is still durable (its synced batch came
 * first) and commit_block has returned its root; the next call that needs
 * the tree gets MS_ERR_IO, commit_block poisons the instance, and a
 * restart rebuilds the lost tree version from the undo record, to the
 * very root the commit returned. */
Test(block_limits, a_tree_write_failing_after_the_commit_returned_is_a_fatal_error_at_the_next_call)
{
    uint8_t id[32], root1[32], root2[32];
    CF.inst->st.unlogged_min = 1;   /* every block big: its tree written after the return */
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(300, 1, 1), 300);
    cf_commit(&CF, root1);
    CF.inst->st.fail_tree_write = 1;
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(300, 1, 2), 300);
    cf_commit(&CF, root2);
    cr_assert_eq(committed_height(&CF), 2u, "the block itself is durable");

    ms_bytes32 r;
    cr_assert_eq(CF.m->root_at(CF.inst, &r, 2), MS_ERR_IO, "a call reading the tree finds the failure");
    cr_assert_eq(CF.m->root_at(CF.inst, &r, 1), MS_ERR_IO, "and keeps finding it");
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(300, 1, 3), 300);
    cr_assert_eq(CF.m->commit_block(CF.inst, &r, 3), MS_ERR_IO);
    uint64_t cp;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_ERR_POISONED);

    cf_env_reopen(&CF);
    ms_bytes32 now;
    uint64_t h;
    cr_assert_eq(CF.m->committed(CF.inst, &h, &now), MS_OK);
    cr_assert_eq(h, 2u);
    cr_assert_arr_eq(now.bytes, root2, 32, "the reopened store is at block 2's root");
    cr_assert_eq(CF.m->root_at(CF.inst, &r, 2), MS_OK);
    cr_assert_arr_eq(r.bytes, root2, 32, "tree version 2, rebuilt, has the root commit_block returned");
    cr_assert_eq(CF.m->root_at(CF.inst, &r, 1), MS_OK);
    cr_assert_arr_eq(r.bytes, root1, 32);
    cf_vinfo v;
    cf_get_vinfo(&CF, &v, id, 2);
    cr_assert_eq(v.state, 1u, "version 2 is there");
    CF.inst->st.unlogged_min = 1;
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(300, 1, 3), 300);
    cf_commit(&CF, NULL);
    cr_assert_eq(committed_height(&CF), 3u);
}

/* The same for the number of keys one block writes (2^22 for real). */
Test(block_limits, more_entries_than_the_limit_is_a_fatal_error)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(100, 1, 1), 100);   /* asset, version 1, its ciphertext */
    CF.inst->st.max_entries = 2;
    ms_bytes32 r;
    cr_assert_eq(CF.m->commit_block(CF.inst, &r, 1), MS_ERR_IO);
    cr_assert_eq(committed_height(&CF), 0u);
    cf_env_reopen(&CF);
    cr_assert_eq(committed_height(&CF), 0u);
    CF.inst->st.max_entries = 3;
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(100, 1, 1), 100);
    cf_commit(&CF, NULL);   /* exactly at the limit */
    cr_assert_eq(committed_height(&CF), 1u);
}

/* commit_block keeps its write batch, emptied, for the next block
 * (MS_STATE_BATCH_KEEP), and frees one that a block grew past that size:
 * either way the next block starts from an empty batch and the store holds
 * exactly what each block committed (the root a reopened store reports). */
Test(block_limits, the_commit_batch_is_kept_empty_and_freed_above_its_size)
{
    uint8_t id[32], id2[32], id3[32], root[32];
    size_t len = 99;
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(200, 1, 1), 200);
    cf_commit(&CF, root);
    cr_assert_not_null(CF.inst->st.batch, "the batch is kept for the next block");
    cr_assert_not_null(ms_kv_batch_data(CF.inst->st.batch, &len));
    cr_assert_eq(len, 12u, "kept empty: RocksDB's 12-byte header only, not %zu bytes", len);

    CF.inst->st.batch_keep = 64;   /* every block's batch is larger */
    cf_create(&CF, id2, &CF_ALICE, 2, cf_ct(200, 1, 2), 200);
    cf_commit(&CF, root);
    cr_assert_null(CF.inst->st.batch, "a batch above the keep size is freed");
    cf_create(&CF, id3, &CF_ALICE, 3, cf_ct(200, 1, 3), 200);
    cf_commit(&CF, root);
    cr_assert_eq(committed_height(&CF), 3u);

    cf_env_reopen(&CF);
    ms_bytes32 r;
    uint64_t h;
    cr_assert_eq(CF.m->committed(CF.inst, &h, &r), MS_OK);
    cr_assert_eq(h, 3u);
    cr_assert_eq(memcmp(r.bytes, root, 32), 0, "the reopened store holds the last block's root");
}
