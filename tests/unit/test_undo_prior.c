/* The committed values a block replaced, as the journal learns them from
 * the block's own reads (ms_journal_note_prior) instead of commit reading
 * every written key again: the journal's bookkeeping, and the undo record
 * commit writes, byte for byte against one built the slow way (a store
 * read per overlay key just before the commit). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "call_fixture.h"
#include "slow_undo.h"
#include "module/instance.h"
#include "storage/journal.h"
#include "storage/kv.h"
#include "storage/records.h"

static const uint8_t *ub(const char *s)
{
    return (const uint8_t *)s;
}

static void expect_prior(const ms_journal *j, const char *key, int known, int present, const char *val)
{
    const ms_overlay_entry *const *es;
    size_t n;
    cr_assert(ms_journal_sorted((ms_journal *)j, &es, &n));
    for (size_t i = 0; i < n; i++) {
        if (es[i]->klen != strlen(key) || memcmp(es[i]->key, key, es[i]->klen) != 0) continue;
        int p = -1;
        const uint8_t *v = NULL;
        size_t vlen = 0;
        cr_assert_eq(ms_journal_prior(j, es[i], &p, &v, &vlen), known, "%s: known", key);
        if (!known) return;
        cr_assert_eq(p, present, "%s: present", key);
        if (present) {
            cr_assert_eq(vlen, strlen(val), "%s: length", key);
            cr_assert(vlen == 0 || memcmp(v, val, vlen) == 0, "%s: value", key);
        }
        return;
    }
    cr_assert_fail("%s: not in the overlay", key);
}

Test(undo_prior, journal_keeps_the_first_note_of_an_overlay_key)
{
    ms_journal *j = ms_journal_create();
    cr_assert_not_null(j);

    /* Only keys with an overlay entry are noted. */
    cr_assert_eq(ms_journal_note_prior(j, ub("k1"), 2, 1, ub("old"), 3), 1);
    cr_assert_eq(ms_journal_size(j), 0u);
    cr_assert(ms_journal_put(j, ub("k1"), 2, ub("new"), 3));
    expect_prior(j, "k1", 0, 0, NULL);
    cr_assert_eq(ms_journal_note_prior(j, ub("k1"), 2, 1, ub("old"), 3), 1);
    expect_prior(j, "k1", 1, 1, "old");
    /* The committed value cannot change within a block: the first note stays. */
    cr_assert_eq(ms_journal_note_prior(j, ub("k1"), 2, 0, NULL, 0), 1);
    expect_prior(j, "k1", 1, 1, "old");

    /* A later put, delete and their revert keep the node and its prior. */
    const uint64_t cp = ms_journal_checkpoint(j);
    cr_assert(ms_journal_put(j, ub("k1"), 2, ub("newer"), 5));
    cr_assert(ms_journal_delete(j, ub("k1"), 2));
    expect_prior(j, "k1", 1, 1, "old");
    cr_assert(ms_journal_revert(j, cp));
    expect_prior(j, "k1", 1, 1, "old");

    /* Absent and empty priors; a deleted key. */
    cr_assert(ms_journal_delete(j, ub("k2"), 2));
    cr_assert_eq(ms_journal_note_prior(j, ub("k2"), 2, 0, NULL, 0), 1);
    expect_prior(j, "k2", 1, 0, NULL);
    cr_assert(ms_journal_put(j, ub("k3"), 2, ub("x"), 1));
    cr_assert_eq(ms_journal_note_prior(j, ub("k3"), 2, 1, NULL, 0), 1);
    expect_prior(j, "k3", 1, 1, "");

    /* A node reverted away takes its prior with it; a new put starts unknown. */
    cr_assert(ms_journal_revert(j, cp));
    cr_assert_eq(ms_journal_size(j), 1u);
    cr_assert(ms_journal_put(j, ub("k2"), 2, ub("y"), 1));
    expect_prior(j, "k2", 0, 0, NULL);

    /* The note is a copy. */
    uint8_t buf[4] = { 'a', 'b', 'c', 'd' };
    cr_assert(ms_journal_put(j, ub("k4"), 2, ub("z"), 1));
    cr_assert_eq(ms_journal_note_prior(j, ub("k4"), 2, 1, buf, sizeof buf), 1);
    memset(buf, 0, sizeof buf);
    expect_prior(j, "k4", 1, 1, "abcd");

    ms_journal_clear(j);
    cr_assert_eq(ms_journal_size(j), 0u);
    cr_assert(ms_journal_put(j, ub("k1"), 2, ub("new"), 3));
    expect_prior(j, "k1", 0, 0, NULL);
    ms_journal_destroy(j);
}

/* ------------------------------------------------ undo records of blocks */

TestSuite(undo_record, .init = cf_setup, .fini = cf_teardown);

/* Commit, then the stored undo record must equal the slow one. */
static size_t commit_and_compare(cf_env *e, uint8_t root[32])
{
    slow_undo u = { NULL, 0, 0 };
    const size_t known = slow_undo_of_pending(&e->inst->st, &u);
    cf_commit(e, root);
    ms_key k;
    ms_key_undo(&k, e->inst->st.height);
    uint8_t *rec = NULL;
    size_t len = 0;
    cr_assert_eq(ms_kv_get(e->inst->st.kv, &rec, &len, k.bytes, k.len), MS_KV_OK);
    CF_BYTES(rec, len, u.bytes, u.n);
    free(rec);
    free(u.bytes);
    return known;
}

static void signed_append(cf_env *e, const cf_key *owner, const uint8_t id[32], uint64_t expected, uint64_t nonce,
                          uint8_t seed)
{
    const uint8_t *ct = cf_ct(300, 1, seed);
    cf_res *r = cf_call(e, CF_EVE.addr, cf_signed_append(e, owner, id, expected, 1, ct, 300, owner->addr, nonce,
                                                         CF_TIME + 1000));
    CF_SUCCESS(r);
}

Test(undo_record, a_read_then_written_key_needs_no_second_read)
{
    ms_config c = cf_default_config();
    c.retained_versions = 2;
    cf_setup_with(&c);
    uint8_t id[32], root[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(64, 1, 1), 64);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(64, 1, 2), 64);
    commit_and_compare(&CF, root);

    /* A signed append that prunes version 1: it writes the nonce, version 3,
     * its ciphertext, the asset record, version 1's record and the delete
     * of its ciphertext. It read the nonce, the asset record and version 1's
     * record before writing them, version 3 and its ciphertext are new
     * (above the committed head), and version 1's 64-byte ciphertext is in
     * the record cache since its block committed: all six are known. */
    signed_append(&CF, &CF_ALICE, id, 2, 0, 3);
    cr_assert_eq(ms_journal_size(CF.inst->st.journal), 6u);
    cr_assert_eq(commit_and_compare(&CF, root), 6u);

    /* A pruned ciphertext too large for the record cache but within the
     * block's ring of recent reads (MS_STATE_RECENT_MAX): the prune reads
     * it for its length ([GAS-21]), so its prior is known too. Versions 4
     * and 5 hold 600 bytes each; the signed append of version 6 prunes 4. */
    cf_append(&CF, &CF_ALICE, id, 3, 1, cf_ct(600, 1, 4), 600);
    cf_append(&CF, &CF_ALICE, id, 4, 1, cf_ct(600, 1, 5), 600);
    commit_and_compare(&CF, root);
    signed_append(&CF, &CF_ALICE, id, 5, 1, 6);
    cr_assert_eq(ms_journal_size(CF.inst->st.journal), 6u);
    cr_assert_eq(commit_and_compare(&CF, root), 6u);

    /* Beyond the ring's bound the prior stays unknown until commit reads
     * it: versions 7 and 8 hold 3,000 bytes; version 9 prunes 7. */
    cf_append(&CF, &CF_ALICE, id, 6, 1, cf_ct(3000, 1, 7), 3000);
    cf_append(&CF, &CF_ALICE, id, 7, 1, cf_ct(3000, 1, 8), 3000);
    commit_and_compare(&CF, root);
    signed_append(&CF, &CF_ALICE, id, 8, 2, 9);
    cr_assert_eq(ms_journal_size(CF.inst->st.journal), 6u);
    cr_assert_eq(commit_and_compare(&CF, root), 5u);
}

Test(undo_record, equals_a_store_read_per_key_over_mixed_blocks)
{
    ms_config c = cf_default_config();
    c.retained_versions = 2;
    c.reorg_depth = 16;
    cf_setup_with(&c);
    uint8_t a[32], b[32], d[32], roots[12][32];
    cf_create(&CF, a, &CF_ALICE, 1, cf_ct(64, 1, 1), 64);
    cf_create(&CF, b, &CF_BOB, 2, cf_ct(64, 1, 2), 64);
    cf_create(&CF, d, &CF_CAROL, 3, NULL, 0);
    commit_and_compare(&CF, roots[1]);

    uint64_t va = 1, vb = 1, nonce_a = 0;
    for (int blk = 2; blk <= 11; blk++) {
        /* Reads first (served again from memory on repeat), then writes. */
        cf_head h;
        cf_get_head(&CF, &h, a);
        cf_get_head(&CF, &h, a);
        cr_assert_eq(h.version, va);
        signed_append(&CF, &CF_ALICE, a, va++, nonce_a++, (uint8_t)blk);
        /* The same asset twice in a block, and a failed call between. */
        cf_append(&CF, &CF_ALICE, a, va++, 1, cf_ct(80, 1, (uint8_t)(blk + 40)), 80);
        CF_REVERT(cf_call(&CF, CF_ALICE.addr, cf_cd_append(a, 1, 1, cf_ct(80, 1, 9), 80)),
                  cf_err(MS_E_VERSION_CONFLICT, "ww", cf_u256(1), cf_u256(va)));
        /* A checkpoint the host reverts: its writes leave the overlay. */
        uint64_t cp;
        cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_OK);
        cf_append(&CF, &CF_ALICE, a, va, 1, cf_ct(70, 1, (uint8_t)blk), 70);
        cr_assert_eq(CF.m->revert_to(CF.inst, cp), MS_OK);
        if (blk % 2 == 0 && blk < 9) cf_append(&CF, &CF_BOB, b, vb++, 1, cf_ct(70, 1, (uint8_t)(blk + 80)), 70);
        /* Grants come and go; a key put and deleted in one block. */
        uint8_t wk[40];
        memset(wk, blk, sizeof wk);
        if (blk % 3 == 0) {
            cf_grant(&CF, &CF_CAROL, d, CF_DAVE.addr, 3, 0, wk, sizeof wk);
        } else if (blk % 3 == 1) {
            cf_grant(&CF, &CF_CAROL, d, CF_EVE.addr, 1, 0, wk, sizeof wk);
            CF_SUCCESS(cf_call(&CF, CF_CAROL.addr, cf_cd_revoke(d, CF_EVE.addr)));
        }
        if (blk == 7) CF_SUCCESS(cf_call(&CF, CF_BOB.addr, cf_cd_shred_versions(b, vb - 1)));
        if (blk == 9) CF_SUCCESS(cf_call(&CF, CF_BOB.addr, cf_cd_shred(b)));
        commit_and_compare(&CF, roots[blk]);
    }
    /* An empty block. */
    commit_and_compare(&CF, roots[0]);
    cr_assert_eq(memcmp(roots[0], roots[11], 32), 0);

    /* The records roll every block back to its root. */
    for (int t = 11; t >= 1; t -= 3) {
        cr_assert_eq(CF.m->rollback_to(CF.inst, (uint64_t)t), MS_OK);
        uint64_t height;
        ms_bytes32 r;
        cr_assert_eq(CF.m->committed(CF.inst, &height, &r), MS_OK);
        cr_assert_eq(height, (uint64_t)t);
        CF_BYTES(r.bytes, 32, roots[t], 32);
    }
}
