/* Issue 14 item 1: commit work per gas is bounded whatever the mix of
 * calls. commit_block reads every deleted ciphertext that it does not hold
 * already and copies it into the block's undo record; while deletion was
 * priced per version, a block of shreds of large versions made every
 * validator move about 25 bytes per gas (367 MB for a 30M-gas block), a
 * hundred times what ordinary writes cost. Deleted bytes are now priced
 * ([GAS-21]): each mix below, deletions and ordinary writes alike, moves
 * at most MAX_BYTES_PER_GAS through RocksDB in its block's commit (bytes
 * read plus the batch written: state values, tree nodes, the undo record),
 * counted by storage/kv.h, never timed. Measured: 0.12 to 0.13 bytes per
 * gas for the deletion mixes, 0.12 to 0.28 for the ordinary ones. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_fixture.h"
#include "module/instance.h"
#include "storage/kv.h"

/* Bytes per 1,000 gas: about twice the costliest mix measured (ordinary
 * writes in small blocks, whose tree nodes are shared by few writes). */
#define MAX_BYTES_PER_KGAS 500u

static uint64_t g_gas;

static void block_call(const cf_key *k, cf_buf cd)
{
    cf_res *r = cf_call(&CF, k->addr, cd);
    CF_SUCCESS(r);
    g_gas += r->gas_used;
}

/* Commit the pending block; returns the bytes it moved per 1,000 gas of
 * the block's calls. */
static uint64_t commit_cost(const char *what)
{
    uint64_t r0, w0, r1, w1;
    ms_kv_io_bytes(CF.inst->st.kv, &r0, &w0);
    cf_commit(&CF, NULL);
    ms_kv_io_bytes(CF.inst->st.kv, &r1, &w1);
    const uint64_t bytes = (r1 - r0) + (w1 - w0);
    cr_assert_gt(g_gas, 0u);
    const uint64_t per_kgas = bytes * 1000u / g_gas;
    if (getenv("MS_TEST_VERBOSE") != NULL) fprintf(stderr, "%-40s %4llu bytes per 1,000 gas\n", what, (unsigned long long)per_kgas);
    cr_assert_leq(per_kgas, MAX_BYTES_PER_KGAS, "%s: %llu bytes (read %llu, written %llu) for %llu gas", what,
                  (unsigned long long)bytes, (unsigned long long)(r1 - r0), (unsigned long long)(w1 - w0),
                  (unsigned long long)g_gas);
    g_gas = 0;
    return per_kgas;
}

/* n committed assets of Alice, each with K = 8 versions of len bytes. */
static void full_assets(uint8_t (*ids)[32], int n, uint8_t salt0, size_t len)
{
    for (int a = 0; a < n; a++) {
        cf_create(&CF, ids[a], &CF_ALICE, (uint8_t)(salt0 + a), cf_ct(len, 1, (uint8_t)a), len);
        for (uint64_t v = 1; v < 8; v++) cf_append(&CF, &CF_ALICE, ids[a], v, 1, cf_ct(len, 1, (uint8_t)(a + v)), len);
    }
    cf_commit(&CF, NULL);
    g_gas = 0;
}

TestSuite(commit_cost, .init = cf_setup, .fini = cf_teardown);

Test(commit_cost, deletions_move_no_more_bytes_per_gas_than_writes)
{
    const size_t MAX = CF.cfg.max_ciphertext;
    cr_assert_eq(MAX, 65536u);
    uint8_t shred[4][32], prune[4][32], versions[4][32], plain[4][32];
    full_assets(shred, 4, 0x10, MAX);
    full_assets(prune, 4, 0x20, MAX);
    full_assets(versions, 4, 0x30, MAX);
    full_assets(plain, 4, 0x40, 1024);

    /* The worst mixes of deletion: every byte deleted was committed, so
     * commit reads it back and writes it into the undo record. */
    for (int a = 0; a < 4; a++) block_call(&CF_ALICE, cf_cd_shred(shred[a]));
    const uint64_t shreds = commit_cost("shredMemory of 8 x 64 KiB");
    for (int a = 0; a < 4; a++) block_call(&CF_ALICE, cf_cd_shred_versions(versions[a], 8));
    const uint64_t shred_versions = commit_cost("shredVersions of 8 x 64 KiB");
    /* The cheapest append that prunes a 64 KiB version: 50 bytes. */
    for (int round = 0; round < 2; round++)
        for (int a = 0; a < 4; a++)
            block_call(&CF_ALICE, cf_cd_append(prune[a], 8 + (uint64_t)round, 1, cf_ct(50, 1, 9), 50));
    const uint64_t prunes = commit_cost("appends of 50 B pruning 64 KiB");

    /* Ordinary writes, for comparison. */
    for (int i = 0; i < 100; i++) block_call(&CF_BOB, cf_cd_create(cf_b32((uint8_t)i, 0x77), CF_ZERO32, NULL, 0));
    const uint64_t creates = commit_cost("createMemory without a version");
    for (int a = 0; a < 4; a++) block_call(&CF_ALICE, cf_cd_append(plain[a], 8, 1, cf_ct(1024, 1, 9), 1024));
    const uint64_t appends = commit_cost("appends of 1 KiB pruning 1 KiB");
    uint8_t *wk = cf_alloc(CF.cfg.max_wrapped_key);
    for (int round = 0; round < 2; round++)
        for (int g = 0; g < 16; g++) {
            uint8_t grantee[20];
            memset(grantee, g + 1, 20);
            /* Granted with the largest key, then rewritten with none. */
            block_call(&CF_ALICE, cf_cd_grant(plain[0], grantee, 1, 0, round ? NULL : wk,
                                              round ? 0 : CF.cfg.max_wrapped_key));
            if (round == 0 && g == 15) commit_cost("grants of the largest wrapped key");
        }
    const uint64_t regrants = commit_cost("grants rewritten without a key");

    /* Deletion is no longer a class apart: within twice the costliest
     * ordinary mix (it was a hundred times before). */
    uint64_t ordinary = creates > appends ? creates : appends;
    if (regrants > ordinary) ordinary = regrants;
    const uint64_t deletion[3] = {shreds, shred_versions, prunes};
    for (int i = 0; i < 3; i++) {
        cr_assert_leq(deletion[i], 2 * ordinary, "deletion mix %d: %llu bytes per 1,000 gas, ordinary %llu", i,
                      (unsigned long long)deletion[i], (unsigned long long)ordinary);
    }
}

/* The price follows the bytes: at any max_ciphertext up to the ceiling,
 * shredding K versions of it pays ceil(stored_byte / 4) per deleted byte
 * on top of the flat part. */
Test(commit_cost, a_shred_pays_for_every_deleted_byte)
{
    ms_config c = cf_default_config();
    c.max_ciphertext = MS_MAX_CIPHERTEXT_CEILING;
    c.retained_versions = 2;
    c.gas.stored_byte = 7;   /* 2 per deleted byte */
    cf_setup_with(&c);
    uint8_t id[32];
    const size_t len[2] = {MS_MAX_CIPHERTEXT_CEILING, 3000};
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(len[0], 1, 1), len[0]);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(len[1], 1, 2), len[1]);
    cf_commit(&CF, NULL);
    const cf_buf cd = cf_cd_shred(id);
    /* One gas short of the first drop's price: out of gas, nothing changed. */
    const uint64_t first = cf_base_gas(&c, cd.n) + 2 * c.gas.state_read + cf_drop_gas(&c, len[0]);
    cf_snap s;
    cf_snapshot(&CF, &s);
    CF_OOG(cf_call_gas(&CF, CF_ALICE.addr, cd, first - 1), first - 1);
    CF_UNCHANGED(&CF, &s);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cd);
    CF_SUCCESS(r);
    const uint64_t want = cf_base_gas(&c, cd.n) + c.gas.state_read + 2 * c.gas.state_read + cf_drop_gas(&c, len[0]) +
                          cf_drop_gas(&c, len[1]) + c.gas.state_write + cf_log_gas(&c, 2, 1);
    cr_assert_eq(r->gas_used, want, "gas %llu want %llu", (unsigned long long)r->gas_used, (unsigned long long)want);
    cr_assert_eq(cf_drop_gas(&c, len[0]) - cf_drop_gas(&c, 0), 2u * MS_MAX_CIPHERTEXT_CEILING);
}
