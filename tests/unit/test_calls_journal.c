/* Blocks and the journal through the host ABI: nested checkpoints, stale
 * ids, simulate, commit/discard, persistence only at commit, heights,
 * instances and directory locks, config validation, the documented root
 * formula, and determinism across instances. */
#include <criterion/criterion.h>
#include <string.h>

#include "abi/keccak.h"
#include "call_fixture.h"
#include "crypto/smt_verify.h"
#include "module/instance.h"
#include "storage/journal.h"
#include "storage/records.h"

#define G (&CF.cfg)

TestSuite(calls_journal, .init = cf_setup, .fini = cf_teardown);

static uint64_t head_version(cf_env *e, const uint8_t id[32])
{
    cf_head h;
    cf_get_head(e, &h, id);
    return h.version;
}

static int asset_exists(cf_env *e, const uint8_t id[32])
{
    cf_res *r = cf_call(e, CF_BOB.addr, cf_cd_get_head(id));
    if (r->status == MS_SUCCESS) return 1;
    CF_REVERT(r, cf_err(MS_E_ASSET_NOT_FOUND, "w", id));
    return 0;
}

Test(calls_journal, nested_checkpoints_revert_one_level_at_a_time)
{
    uint8_t id[32];
    uint64_t cp[5];
    size_t logs[5];
    cf_snap snaps[5];
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp[0]), MS_OK);
    logs[0] = cf_pending_log_count(&CF);
    cf_snapshot(&CF, &snaps[0]);
    cr_assert_eq(logs[0], 0u);
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0); /* level 1: +1 log */
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp[1]), MS_OK);
    logs[1] = cf_pending_log_count(&CF);
    cf_snapshot(&CF, &snaps[1]);
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50); /* level 2: +1 */
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp[2]), MS_OK);
    logs[2] = cf_pending_log_count(&CF);
    cf_snapshot(&CF, &snaps[2]);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(50, 1, 2), 50); /* level 3: +1 */
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);   /* level 3: +1 */
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp[3]), MS_OK);
    logs[3] = cf_pending_log_count(&CF);
    cf_snapshot(&CF, &snaps[3]);
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_rotate(id))); /* level 4: +1 */
    cf_append(&CF, &CF_ALICE, id, 2, 2, cf_ct(50, 2, 3), 50); /* level 4: +1 */
    logs[4] = cf_pending_log_count(&CF);
    cr_assert_eq(logs[1], 1u);
    cr_assert_eq(logs[2], 2u);
    cr_assert_eq(logs[3], 4u);
    cr_assert_eq(logs[4], 6u);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 3u);
    cr_assert_eq(h.key_epoch, 2u);

    cr_assert_eq(CF.m->revert_to(CF.inst, cp[3]), MS_OK);
    CF_UNCHANGED(&CF, &snaps[3]);
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 2u);
    cr_assert_eq(h.key_epoch, 1u);
    cr_assert_eq(cf_pending_log_count(&CF), 4u);
    /* the id stays live: revert to it again, after new work */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_rotate(id)));
    cr_assert_eq(CF.m->revert_to(CF.inst, cp[3]), MS_OK);
    CF_UNCHANGED(&CF, &snaps[3]);

    cr_assert_eq(CF.m->revert_to(CF.inst, cp[2]), MS_OK);
    CF_UNCHANGED(&CF, &snaps[2]);
    cr_assert_eq(head_version(&CF, id), 1u);
    /* [HOST-27]: the inner id (a later position) is no longer live */
    cr_assert_eq(CF.m->revert_to(CF.inst, cp[3]), MS_ERR_CHECKPOINT);
    CF_UNCHANGED(&CF, &snaps[2]);
    cr_assert_eq(cf_pending_log_count(&CF), 2u);
    uint8_t gr[1][20];
    uint64_t p[1], e[1], ep[1];
    cr_assert_eq(cf_get_grants(&CF, id, gr, p, e, ep, 1), 0u);

    cr_assert_eq(CF.m->revert_to(CF.inst, cp[1]), MS_OK);
    CF_UNCHANGED(&CF, &snaps[1]);
    cr_assert_eq(head_version(&CF, id), 0u);
    cr_assert_eq(cf_pending_log_count(&CF), 1u);

    cr_assert_eq(CF.m->revert_to(CF.inst, cp[0]), MS_OK);
    CF_UNCHANGED(&CF, &snaps[0]);
    cr_assert(!asset_exists(&CF, id));
    cr_assert_eq(cf_pending_log_count(&CF), 0u);
    cr_assert_eq(snaps[0].overlay_n, 0u);

    /* Committing now gives the root of an empty block. */
    cf_env twin;
    cf_env_open(&twin, NULL);
    uint8_t r1[32], r2[32];
    cf_commit(&CF, r1);
    cf_commit(&twin, r2);
    CF_BYTES(r1, 32, r2, 32);
    cf_env_close(&twin);
}

Test(calls_journal, checkpoint_ids_from_earlier_blocks_are_refused)
{
    uint64_t cp0, cp1, cp_mid;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp0), MS_OK);
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp_mid), MS_OK);
    cf_commit(&CF, NULL);
    /* block 2 */
    cf_snap s;
    cf_snapshot(&CF, &s);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp0), MS_ERR_CHECKPOINT);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp_mid), MS_ERR_CHECKPOINT);
    CF_UNCHANGED(&CF, &s);
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cf_snapshot(&CF, &s);
    /* the old ids are refused even when the journal is now long enough */
    cr_assert_eq(CF.m->revert_to(CF.inst, cp0), MS_ERR_CHECKPOINT);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp_mid), MS_ERR_CHECKPOINT);
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(head_version(&CF, id), 1u);
    /* after a discarded block too */
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp1), MS_OK);
    cr_assert_eq(CF.m->discard_block(CF.inst), MS_OK);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp1), MS_ERR_CHECKPOINT);
    /* an id beyond the journal of this block */
    uint64_t now;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &now), MS_OK);
    cr_assert_eq(CF.m->revert_to(CF.inst, now + 1000), MS_ERR_CHECKPOINT);
    cr_assert_eq(CF.m->revert_to(CF.inst, now), MS_OK);
}

Test(calls_journal, simulate_leaves_no_trace)
{
    cf_env twin;
    cf_env_open(&twin, NULL);
    uint8_t id[32], id2[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_create(&twin, id2, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_snap s;
    cf_snapshot(&CF, &s);
    /* successful writes, simulated */
    const cf_buf cds[] = {
        cf_cd_append(id, 1, 1, cf_ct(60, 1, 2), 60),
        cf_cd_grant(id, CF_BOB.addr, 3, 0, NULL, 0),
        cf_cd_rotate(id),
        cf_cd_shred(id),
        cf_cd_transfer(id, CF_CAROL.addr),
        cf_cd_create(cf_b32(9, 9), CF_ZERO32, cf_ct(50, 1, 3), 50),
        cf_signed_create(&CF, &CF_DAVE, CF_DAVE.addr, cf_b32(9, 9), CF_ZERO32, NULL, 0, 0, CF_TIME),
    };
    for (size_t i = 0; i < sizeof cds / sizeof cds[0]; i++) {
        cf_res *r = cf_sim(&CF, CF_ALICE.addr, cds[i]);
        CF_SUCCESS(r);
        cr_assert_gt(r->log_count, 0u, "case %zu: the simulated result reports its logs", i);
        CF_UNCHANGED(&CF, &s);
        /* the same outcome as a real execution on the twin, rolled back there */
        uint64_t cp;
        cr_assert_eq(twin.m->checkpoint(twin.inst, &cp), MS_OK);
        cf_res *x = cf_call(&twin, CF_ALICE.addr, cds[i]);
        cr_assert_eq(x->status, r->status);
        cr_assert_eq(x->gas_used, r->gas_used);
        CF_BYTES(r->out, r->out_size, x->out, x->out_size);
        cr_assert_eq(x->log_count, r->log_count);
        for (size_t k = 0; k < r->log_count; k++) {
            CF_BYTES(r->logs[k].data, r->logs[k].data_size, x->logs[k].data, x->logs[k].data_size);
            CF_BYTES(r->logs[k].topics[0], 32, x->logs[k].topics[0], 32);
        }
        cr_assert_eq(twin.m->revert_to(twin.inst, cp), MS_OK);
    }
    /* failures and out of gas, simulated */
    CF_REVERT(cf_sim(&CF, CF_EVE.addr, cf_cd_rotate(id)), cf_err(MS_E_NOT_AUTHORIZED, "wa", id, CF_EVE.addr));
    ms_message m = cf_msg(CF_ALICE.addr, cds[0]);
    m.gas = 1000;
    CF_OOG(cf_sim_msg(&CF, &m), 1000);
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(cf_nonce_of(&CF, CF_DAVE.addr), 0u);
    /* a checkpoint taken before simulate is still usable after it */
    uint64_t cp;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_OK);
    CF_SUCCESS(cf_sim(&CF, CF_ALICE.addr, cds[0]));
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(60, 1, 2), 60);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp), MS_OK);
    CF_UNCHANGED(&CF, &s);
    uint8_t r1[32], r2[32];
    cf_commit(&CF, r1);
    cf_commit(&twin, r2);
    CF_BYTES(r1, 32, r2, 32);
    cf_env_close(&twin);
}

Test(calls_journal, nothing_reaches_disk_before_commit)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cr_assert(asset_exists(&CF, id));
    cf_env_reopen(&CF); /* destroy without commit */
    cr_assert(!asset_exists(&CF, id));
    uint64_t h;
    ms_bytes32 root;
    cr_assert_eq(CF.m->committed(CF.inst, &h, &root), MS_OK);
    cr_assert_eq(h, 0u);
    cr_assert(memcmp(root.bytes, CF_ZERO32, 32) == 0);
    cr_assert_eq(cf_pending_log_count(&CF), 0u);

    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_head before;
    cf_get_head(&CF, &before, id);
    uint8_t r1[32];
    cf_commit(&CF, r1);
    /* a pending second block is lost on reopen, the committed one is not */
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(50, 1, 2), 50);
    cf_env_reopen(&CF);
    cf_head after;
    cf_get_head(&CF, &after, id);
    cr_assert_eq(after.version, 1u);
    CF_BYTES(after.head_hash, 32, before.head_hash, 32);
    cr_assert_eq(CF.m->committed(CF.inst, &h, &root), MS_OK);
    cr_assert_eq(h, 1u);
    CF_BYTES(root.bytes, 32, r1, 32);
    cf_res *v = cf_call(&CF, CF_BOB.addr, cf_cd_get_version(id, 1));
    CF_SUCCESS(v);
    CF_BYTES(v->out + 6 * 32, 50, cf_ct(50, 1, 1), 50);
}

Test(calls_journal, commit_heights)
{
    ms_bytes32 root;
    uint64_t h;
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_snap s;
    cf_snapshot(&CF, &s);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 0), MS_ERR_HEIGHT);
    CF_UNCHANGED(&CF, &s); /* the pending block survives the refusal */
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 5), MS_OK);
    uint8_t r5[32];
    memcpy(r5, root.bytes, 32);
    cr_assert(memcmp(r5, CF_ZERO32, 32) != 0);
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50);
    cf_snapshot(&CF, &s);
    memset(root.bytes, 0xAA, 32);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 5), MS_ERR_HEIGHT);
    CF_BYTES(root.bytes, 32, CF_ZERO32, 32); /* [HOST-29]: zeroed first */
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 4), MS_ERR_HEIGHT);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 0), MS_ERR_HEIGHT);
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(CF.m->committed(CF.inst, &h, &root), MS_OK);
    cr_assert_eq(h, 5u);
    CF_BYTES(root.bytes, 32, r5, 32);
    /* After the first block, heights are consecutive ([HOST-29]). */
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 7), MS_ERR_HEIGHT);
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 6), MS_OK);
    cr_assert_eq(head_version(&CF, id), 1u);
    cr_assert_eq(cf_pending_log_count(&CF), 0u);
    cr_assert_eq(CF.m->committed(CF.inst, &h, &root), MS_OK);
    cr_assert_eq(h, 6u);
    /* The root is a state root: an empty block leaves it as it was. */
    uint8_t r6[32];
    memcpy(r6, root.bytes, 32);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 7), MS_OK);
    CF_BYTES(root.bytes, 32, r6, 32);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, UINT64_MAX), MS_ERR_HEIGHT);
}

Test(calls_journal, discard_block)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_commit(&CF, NULL);
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    cr_assert_eq(cf_pending_log_count(&CF), 2u);
    cr_assert_eq(CF.m->discard_block(CF.inst), MS_OK);
    cr_assert_eq(cf_pending_log_count(&CF), 0u);
    cf_snap s;
    cf_snapshot(&CF, &s);
    cr_assert_eq(s.overlay_n, 0u);
    cr_assert_eq(head_version(&CF, id), 0u);
    /* the committed part is intact and the block can be redone */
    cf_append(&CF, &CF_ALICE, id, 0, 1, cf_ct(50, 1, 9), 50);
    /* twin: same first block, then the redone block only */
    cf_env twin;
    cf_env_open(&twin, NULL);
    uint8_t id2[32];
    cf_create(&twin, id2, &CF_ALICE, 1, NULL, 0);
    cf_commit(&twin, NULL);
    cf_append(&twin, &CF_ALICE, id2, 0, 1, cf_ct(50, 1, 9), 50);
    uint8_t r1[32], r2[32];
    cf_commit(&CF, r1);
    cf_commit(&twin, r2);
    CF_BYTES(r1, 32, r2, 32);
    cf_env_close(&twin);
}

Test(calls_journal, failed_calls_leave_the_root_unchanged)
{
    cf_env twin;
    cf_env_open(&twin, NULL);
    cf_env *envs[2] = { &CF, &twin };
    uint8_t roots[2][32];
    for (int k = 0; k < 2; k++) {
        cf_env *e = envs[k];
        const int noisy = k == 0;
        uint8_t id[32];
        cf_create(e, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
        if (noisy) {
            cf_call(e, CF_EVE.addr, cf_cd_append(id, 1, 1, cf_ct(50, 1, 2), 50));           /* NotAuthorized */
            cf_call(e, CF_ALICE.addr, cf_cd_append(id, 0, 1, cf_ct(50, 1, 2), 50));         /* VersionConflict */
            cf_call_gas(e, CF_ALICE.addr, cf_cd_append(id, 1, 1, cf_ct(50, 1, 2), 50), 9000); /* OOG mid-way */
            cf_call(e, CF_EVE.addr, cf_signed_append(e, &CF_BOB, id, 1, 1, cf_ct(50, 1, 2), 50, CF_ALICE.addr, 0,
                                                     CF_TIME)); /* WrongSigner */
            cf_call(e, CF_ALICE.addr, cf_cd_grant(id, CF_ALICE.addr, 1, 0, NULL, 0));        /* InvalidAddress */
            ms_message m = cf_msg(CF_ALICE.addr, cf_cd_rotate(id));
            m.kind = MS_STATICCALL;
            cf_exec_msg(e, &m);                                                              /* static */
        }
        cf_append(e, &CF_ALICE, id, 1, 1, cf_ct(50, 1, 2), 50);
        if (noisy) {
            cf_call_gas(e, CF_ALICE.addr, cf_cd_shred(id), 12000); /* OOG after some shredding */
            cf_call(e, CF_ALICE.addr, cf_cd_create(cf_b32(1, 0x5a), CF_ZERO32, NULL, 0)); /* AssetExists */
        }
        cf_grant(e, &CF_ALICE, id, CF_BOB.addr, 3, 0, NULL, 0);
        cf_commit(e, roots[k]);
    }
    CF_BYTES(roots[0], 32, roots[1], 32);
    cf_env_close(&twin);
}

/* root_h = keccak256("MemSync.root.v1" || prev || height u64 BE || changes),
 * changes = keccak256 over the sorted writes (klen u32 | key | op u8 | vlen u32 | value). */
/* Every write of the pending block, as (key, value or deleted), copied
 * before the commit clears it. */
typedef struct written {
    ms_key key;
    int deleted;
    uint8_t *val;
    size_t vlen;
} written;

static size_t capture_writes(cf_env *e, written *out, size_t cap)
{
    const ms_overlay_entry *const *entries;
    size_t count;
    cr_assert(ms_journal_sorted(e->inst->st.journal, &entries, &count));
    cr_assert_leq(count, cap);
    for (size_t i = 0; i < count; i++) {
        memcpy(out[i].key.bytes, entries[i]->key, entries[i]->klen);
        out[i].key.len = entries[i]->klen;
        out[i].deleted = entries[i]->deleted;
        out[i].vlen = entries[i]->deleted ? 0 : entries[i]->vlen;
        out[i].val = cf_alloc(out[i].vlen + 1);
        if (out[i].vlen) memcpy(out[i].val, entries[i]->val, out[i].vlen);
    }
    return count;
}

/* The committed root proves every value the block wrote and the absence of
 * every key it deleted (spec/state.md): checked through the storage-level
 * prover and the tree verifier, whatever the record type. */
static void assert_root_commits(cf_env *e, const written *w, size_t n, const uint8_t root[32], uint64_t height)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t bundle[MS_STATE_PROOF_MAX];
        size_t len = 0;
        cr_assert_eq(ms_state_prove(&e->inst->st, bundle, sizeof bundle, &len, height, &w[i].key), MS_OK);
        /* bundle: format | height 8 | root 32 | klen | key | present | vlen 4 | value | plen 4 | proof */
        const size_t at = 1 + 8 + 32 + 1 + w[i].key.len;
        cr_assert_eq(bundle[at], w[i].deleted ? 0 : 1, "presence of key %zu", i);
        const size_t poff = at + 1 + 4 + w[i].vlen + 4;
        cr_assert_leq(poff, len);
        const ms_smt_verify_status v =
            w[i].deleted ? ms_smt_verify_non_inclusion(root, w[i].key.bytes, w[i].key.len, bundle + poff, len - poff)
                         : ms_smt_verify_inclusion(root, w[i].key.bytes, w[i].key.len, w[i].val, w[i].vlen,
                                                   bundle + poff, len - poff);
        cr_assert_eq(v, MS_SMT_VERIFY_OK, "key %zu of %zu", i, n);
    }
}

Test(calls_journal, root_commits_to_every_write)
{
    static written w[64];
    uint8_t got[32];
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, (const uint8_t *)"key", 3);
    size_t n = capture_writes(&CF, w, 64);
    cr_assert_gt(n, 4u);
    cf_commit(&CF, got);
    assert_root_commits(&CF, w, n, got, 1);
    /* a block with deletions (shred revokes the grant, drops the ciphertext) */
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred(id)));
    n = capture_writes(&CF, w, 64);
    cf_commit(&CF, got);
    assert_root_commits(&CF, w, n, got, 2);
}

Test(calls_journal, two_instances_are_independent)
{
    cf_env b;
    cf_env_open(&b, NULL);
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cr_assert(!asset_exists(&b, id));
    cr_assert_eq(cf_pending_log_count(&b), 0u);
    uint64_t cpb;
    cr_assert_eq(b.m->checkpoint(b.inst, &cpb), MS_OK);
    cf_create(&b, id, &CF_ALICE, 1, cf_ct(50, 1, 1), 50);
    cr_assert_eq(head_version(&b, id), 1u);
    cr_assert_eq(head_version(&CF, id), 0u);
    uint8_t ra[32], rb[32];
    cf_commit(&CF, ra);
    cr_assert_eq(head_version(&b, id), 1u);
    cr_assert_eq(cf_pending_log_count(&b), 2u);
    cf_commit(&b, rb);
    cr_assert(memcmp(ra, rb, 32) != 0);
    /* a config difference stays per instance */
    ms_config c = cf_default_config();
    c.chain_id = 5;
    cf_env other;
    cf_env_open(&other, &c);
    CF_SUCCESS(cf_call(&other, CF_ALICE.addr, cf_cd_domain()));
    CF.blk.chain_id = 5;
    CF_REVERT(cf_call(&CF, CF_ALICE.addr, cf_cd_domain()), cf_err(MS_E_WRONG_CHAIN, "uu", (uint64_t)CF_CHAIN, (uint64_t)5));
    cf_env_close(&other);
    cf_env_close(&b);
}

Test(calls_journal, same_directory_twice_is_locked)
{
    ms_instance *second = (ms_instance *)0x1;
    cr_assert_eq(CF.m->create(&second, &CF.cfg, CF.dir), MS_ERR_LOCKED);
    cr_assert_null(second);
    /* the first instance is unaffected */
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_commit(&CF, NULL);
    /* after destroy, the directory can be opened again, and is locked again */
    cf_env_reopen(&CF);
    cr_assert(asset_exists(&CF, id));
    ms_instance *third = (ms_instance *)0x1;
    cr_assert_eq(CF.m->create(&third, &CF.cfg, CF.dir), MS_ERR_LOCKED);
    cr_assert_null(third);
}

Test(calls_journal, colliding_or_invalid_configs_are_refused)
{
    const char *d = cf_tmpdir();
    const unsigned lows[] = { 0x00, 0x01, 0x02, 0x09, 0x0a, 0x11, 0x100, 0x400, 0x800, 0x805, 0x807, 0x900 };
    for (size_t i = 0; i < sizeof lows / sizeof lows[0]; i++) {
        ms_config c = cf_default_config();
        memset(c.precompile_address.bytes, 0, 20);
        c.precompile_address.bytes[18] = (uint8_t)(lows[i] >> 8);
        c.precompile_address.bytes[19] = (uint8_t)lows[i];
        ms_instance *inst = (ms_instance *)0x1;
        cr_assert_eq(CF.m->create(&inst, &c, d), MS_ERR_CONFIG, "address 0x%x accepted", lows[i]);
        cr_assert_null(inst);
    }
    /* limits of memsync.h */
    for (int k = 0; k < 12; k++) {
        ms_config c = cf_default_config();
        switch (k) {
        case 0: c.max_ciphertext = MS_MAX_CIPHERTEXT_CEILING + 1; break;
        case 1: c.max_wrapped_key = MS_MAX_WRAPPED_KEY_CEILING + 1; break;
        case 2: c.max_grants = MS_MAX_GRANTS_CEILING + 1; break;
        case 3: c.retained_versions = 0; break;
        case 4: c.retained_versions = MS_MAX_RETAINED_CEILING + 1; break;
        case 5: c.gas.call_min = 0; break;
        case 6: c.bucket_policy = 2; break;
        case 7: c.chain_id = 0; break;
        case 8: c.max_ciphertext = 49; break;
        case 9: c.max_grants = 0; break;
        case 10: c.reorg_depth = 0; break;
        default: c.reorg_depth = MS_MAX_REORG_DEPTH + 1; break;
        }
        ms_instance *inst = (ms_instance *)0x1;
        cr_assert_eq(CF.m->create(&inst, &c, d), MS_ERR_CONFIG, "case %d accepted", k);
        cr_assert_null(inst);
    }
    /* the ceilings themselves are accepted */
    ms_config c = cf_default_config();
    c.max_ciphertext = MS_MAX_CIPHERTEXT_CEILING;
    c.max_wrapped_key = MS_MAX_WRAPPED_KEY_CEILING;
    c.max_grants = MS_MAX_GRANTS_CEILING;
    c.retained_versions = MS_MAX_RETAINED_CEILING;
    cf_env ok;
    cf_env_open(&ok, &c);
    cf_env_close(&ok);
}

/* ----------------------------------------------------------- determinism */

typedef struct trace {
    cf_res *calls[64];
    size_t n;
    uint8_t roots[4][32];
} trace;

static void rec(trace *t, cf_res *r)
{
    cr_assert_lt(t->n, 64u);
    t->calls[t->n++] = r;
}

static void scenario(cf_env *e, trace *t)
{
    uint8_t id[32];
    const uint8_t *salt = cf_b32(0x77, 0x01);
    cf_asset_id(id, e->cfg.precompile_address.bytes, CF_ALICE.addr, salt);
    e->blk.number = 10;
    rec(t, cf_call(e, CF_ALICE.addr, cf_cd_create(salt, cf_b32(2, 2), cf_ct(80, 1, 1), 80)));
    rec(t, cf_call(e, CF_ALICE.addr, cf_cd_grant(id, CF_BOB.addr, 3, 0, (const uint8_t *)"wk-bob", 6)));
    rec(t, cf_call(e, CF_ALICE.addr, cf_cd_grant(id, CF_CAROL.addr, 1, CF_TIME + 9, NULL, 0)));
    rec(t, cf_call(e, CF_BOB.addr, cf_cd_append(id, 1, 1, cf_ct(90, 1, 2), 90)));
    rec(t, cf_call(e, CF_CAROL.addr, cf_cd_append(id, 2, 1, cf_ct(90, 1, 3), 90))); /* revert */
    cf_commit(e, t->roots[0]);
    e->blk.number = 11;
    e->blk.timestamp = CF_TIME + 12;
    rec(t, cf_call(e, CF_EVE.addr, cf_signed_append(e, &CF_ALICE, id, 2, 1, cf_ct(70, 1, 4), 70, CF_ALICE.addr, 0,
                                                    CF_TIME + 100)));
    rec(t, cf_call(e, CF_ALICE.addr, cf_cd_rotate(id)));
    uint64_t cp;
    cr_assert_eq(e->m->checkpoint(e->inst, &cp), MS_OK);
    rec(t, cf_call(e, CF_ALICE.addr, cf_cd_revoke(id, CF_BOB.addr)));
    cr_assert_eq(e->m->revert_to(e->inst, cp), MS_OK);
    rec(t, cf_call(e, CF_ALICE.addr, cf_cd_shred_versions(id, 2)));
    rec(t, cf_sim(e, CF_ALICE.addr, cf_cd_shred(id)));
    rec(t, cf_call(e, CF_BOB.addr, cf_cd_get_grants(id)));
    rec(t, cf_call(e, CF_BOB.addr, cf_cd_get_version(id, 3)));
    cf_commit(e, t->roots[1]);
    e->blk.number = 12;
    rec(t, cf_call(e, CF_EVE.addr, cf_signed_transfer(e, &CF_ALICE, id, CF_DAVE.addr, 1, CF_TIME + 100)));
    rec(t, cf_call(e, CF_DAVE.addr, cf_cd_shred(id)));
    rec(t, cf_call(e, CF_DAVE.addr, cf_cd_get_head(id)));
    rec(t, cf_call(e, CF_DAVE.addr, cf_cd_get_version_info(id, 3)));
    cf_commit(e, t->roots[2]);
}

Test(calls_journal, determinism_across_instances)
{
    cf_env b;
    cf_env_open(&b, NULL);
    trace ta, tb;
    memset(&ta, 0, sizeof ta);
    memset(&tb, 0, sizeof tb);
    scenario(&CF, &ta);
    scenario(&b, &tb);
    cr_assert_eq(ta.n, tb.n);
    size_t successes = 0, reverts = 0;
    for (size_t i = 0; i < ta.n; i++) {
        const cf_res *x = ta.calls[i], *y = tb.calls[i];
        cr_assert_eq(x->status, y->status, "call %zu", i);
        cr_assert_eq(x->gas_used, y->gas_used, "call %zu", i);
        CF_BYTES(x->out, x->out_size, y->out, y->out_size);
        cr_assert_eq(x->log_count, y->log_count, "call %zu", i);
        for (size_t k = 0; k < x->log_count; k++) {
            CF_BYTES(x->logs[k].address, 20, y->logs[k].address, 20);
            cr_assert_eq(x->logs[k].topic_count, y->logs[k].topic_count);
            CF_BYTES(x->logs[k].topics[0], 32 * x->logs[k].topic_count, y->logs[k].topics[0],
                     32 * y->logs[k].topic_count);
            CF_BYTES(x->logs[k].data, x->logs[k].data_size, y->logs[k].data, y->logs[k].data_size);
        }
        successes += x->status == MS_SUCCESS;
        reverts += x->status == MS_REVERT;
    }
    cr_assert_eq(reverts, 1u, "the scenario has exactly one revert (Carol is read-only)");
    cr_assert_eq(successes, ta.n - 1);
    for (int k = 0; k < 3; k++) CF_BYTES(ta.roots[k], 32, tb.roots[k], 32);
    cr_assert(memcmp(ta.roots[0], ta.roots[1], 32) != 0);
    /* and a reopened instance reports the same committed root */
    cf_env_reopen(&b);
    uint64_t h;
    ms_bytes32 r;
    cr_assert_eq(b.m->committed(b.inst, &h, &r), MS_OK);
    CF_BYTES(r.bytes, 32, ta.roots[2], 32);
    cf_env_close(&b);
}

Test(calls_journal, argument_errors_of_execute)
{
    ms_result res;
    ms_message m = cf_msg(CF_ALICE.addr, cf_cd_domain());
    m.input = NULL; /* with input_size 4 */
    memset(&res, 0x5a, sizeof res);
    cr_assert_eq(CF.m->execute(CF.inst, &res, &CF.blk, &m), MS_ERR_ARGUMENT);
    cr_assert_eq(res.status, 0);
    cr_assert_eq(res.gas_used, 0u);
    cr_assert_eq(res.output_size, 0u);
    cr_assert_eq(res.log_count, 0u);
    cr_assert_eq(CF.m->simulate(CF.inst, &res, &CF.blk, &m), MS_ERR_ARGUMENT);
    m = cf_msg(CF_ALICE.addr, cf_cd_domain());
    cr_assert_eq(CF.m->execute(NULL, &res, &CF.blk, &m), MS_ERR_ARGUMENT);
    cr_assert_eq(CF.m->execute(CF.inst, NULL, &CF.blk, &m), MS_ERR_ARGUMENT);
    cr_assert_eq(CF.m->execute(CF.inst, &res, NULL, &m), MS_ERR_ARGUMENT);
    cr_assert_eq(CF.m->execute(CF.inst, &res, &CF.blk, NULL), MS_ERR_ARGUMENT);
    uint64_t id;
    cr_assert_eq(CF.m->checkpoint(CF.inst, NULL), MS_ERR_ARGUMENT);
    cr_assert_eq(CF.m->checkpoint(NULL, &id), MS_ERR_ARGUMENT);
    ms_bytes32 root;
    cr_assert_eq(CF.m->commit_block(CF.inst, NULL, 1), MS_ERR_ARGUMENT);
    cr_assert_eq(CF.m->commit_block(NULL, &root, 1), MS_ERR_ARGUMENT);
    const ms_log *logs;
    size_t n;
    cr_assert_eq(CF.m->pending_logs(CF.inst, NULL, &n), MS_ERR_ARGUMENT);
    cr_assert_eq(CF.m->pending_logs(CF.inst, &logs, NULL), MS_ERR_ARGUMENT);
    ms_instance *out = (ms_instance *)0x1;
    cr_assert_eq(CF.m->create(&out, NULL, CF.dir), MS_ERR_ARGUMENT);
    cr_assert_null(out);
    cr_assert_eq(CF.m->create(NULL, &CF.cfg, CF.dir), MS_ERR_ARGUMENT);
    CF.m->destroy(NULL);
    /* an empty input may come as NULL */
    m = cf_msg(CF_ALICE.addr, cf_cd_domain());
    m.input = NULL;
    m.input_size = 0;
    cf_res *r = cf_exec_msg(&CF, &m);
    CF_REVERT(r, cf_err(MS_E_INVALID_CALLDATA, "u", (uint64_t)1));
    cr_assert_eq(r->gas_used, 200u);
    cr_assert_eq(cf_pending_log_count(&CF), 0u);
}

Test(calls_journal, activation_height)
{
    ms_config c = cf_default_config();
    c.activation_height = 150;
    cf_setup_with(&c);
    cf_snap s;
    cf_snapshot(&CF, &s);
    const cf_buf cds[] = {
        cf_cd_create(cf_b32(1, 1), CF_ZERO32, NULL, 0),
        cf_cd_get_head(CF_ZERO32),
        cf_dup((const uint8_t *)"x", 1),
    };
    CF.blk.number = 149;
    for (size_t i = 0; i < 3; i++) {
        cf_res *r = cf_call(&CF, CF_ALICE.addr, cds[i]);
        cr_assert_eq(r->status, MS_SUCCESS, "case %zu", i);
        cr_assert_eq(r->gas_used, 0u);
        cr_assert_eq(r->out_size, 0u);
        cr_assert_eq(r->log_count, 0u);
        CF_UNCHANGED(&CF, &s);
    }
    CF.blk.number = 150;
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cds[0]));
    CF_REVERT(cf_call(&CF, CF_ALICE.addr, cds[1]), cf_err(MS_E_ASSET_NOT_FOUND, "w", CF_ZERO32));
}

Test(calls_journal, fatal_fault_poisons_the_instance)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    uint8_t root1[32];
    cf_commit(&CF, root1);
    /* Corrupt the asset record in the pending overlay (white box): a record
     * that does not decode is a local fault, never a revert. */
    ms_key k;
    ms_key_asset(&k, id);
    const uint8_t junk[3] = { 1, 2, 3 };
    cr_assert(ms_journal_put(CF.inst->st.journal, k.bytes, k.len, junk, sizeof junk));
    ms_message m = cf_msg(CF_BOB.addr, cf_cd_get_head(id));
    m.gas = 50000;
    cf_res *r = cf_exec_msg(&CF, &m);
    cr_assert_eq(r->status, MS_FATAL);
    cr_assert_eq(r->gas_used, 50000u);
    cr_assert_eq(r->out_size, 0u);
    cr_assert_eq(r->log_count, 0u);
    ms_result res;
    cr_assert_eq(CF.m->execute(CF.inst, &res, &CF.blk, &m), MS_ERR_POISONED);
    cr_assert_eq(CF.m->simulate(CF.inst, &res, &CF.blk, &m), MS_ERR_POISONED);
    uint64_t cp = 99;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_ERR_POISONED);
    cr_assert_eq(cp, 0u);
    cr_assert_eq(CF.m->revert_to(CF.inst, 0), MS_ERR_POISONED);
    ms_bytes32 root;
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 9), MS_ERR_POISONED);
    cr_assert_eq(CF.m->discard_block(CF.inst), MS_ERR_POISONED);
    const ms_log *logs;
    size_t n;
    cr_assert_eq(CF.m->pending_logs(CF.inst, &logs, &n), MS_ERR_POISONED);
    uint64_t h;
    cr_assert_eq(CF.m->committed(CF.inst, &h, &root), MS_OK);
    cr_assert_eq(h, 1u);
    CF_BYTES(root.bytes, 32, root1, 32);
    /* restart from the committed state: the corruption never reached disk */
    cf_env_reopen(&CF);
    cf_head hd;
    cf_get_head(&CF, &hd, id);
    CF_BYTES(hd.owner, 20, CF_ALICE.addr, 20);
}

Test(calls_journal, result_views_survive_journal_and_block_calls)
{
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 1, 0, NULL, 0);
    ms_message m = cf_msg(CF_ALICE.addr, cf_cd_transfer(id, CF_CAROL.addr));
    ms_result res;
    uint64_t cp;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_OK);
    cr_assert_eq(CF.m->execute(CF.inst, &res, &CF.blk, &m), MS_OK);
    cr_assert_eq(res.status, MS_SUCCESS);
    cr_assert_eq(res.log_count, 2u);
    uint8_t t0[2][32], d0[2][64];
    size_t dn[2];
    for (int i = 0; i < 2; i++) {
        memcpy(t0[i], res.logs[i].topics[res.logs[i].topic_count - 1].bytes, 32);
        dn[i] = res.logs[i].data_size;
        memcpy(d0[i], res.logs[i].data, dn[i]);
    }
    /* [HOST-22]: checkpoint, revert_to, commit_block, discard_block, committed keep them intact */
    uint64_t cp2, h;
    ms_bytes32 root;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp2), MS_OK);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp), MS_OK);
    cr_assert_eq(CF.m->committed(CF.inst, &h, &root), MS_OK);
    cr_assert_eq(CF.m->commit_block(CF.inst, &root, 1), MS_OK);
    cr_assert_eq(CF.m->discard_block(CF.inst), MS_OK);
    for (int i = 0; i < 2; i++) {
        CF_BYTES(res.logs[i].topics[res.logs[i].topic_count - 1].bytes, 32, t0[i], 32);
        CF_BYTES(res.logs[i].data, res.logs[i].data_size, d0[i], dn[i]);
        CF_BYTES(res.logs[i].address.bytes, 20, CF.cfg.precompile_address.bytes, 20);
    }
    CF_BYTES(res.logs[1].topics[3].bytes, 32, cf_aw(CF_CAROL.addr), 32);
    /* the transfer was reverted before the commit: Alice still owns it and Bob's grant is back */
    cf_head hd;
    cf_get_head(&CF, &hd, id);
    CF_BYTES(hd.owner, 20, CF_ALICE.addr, 20);
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, cf_cd_get_grant(id, CF_BOB.addr)));
}
