/* Reorgs (rollback_to, root_at) and the activation height. */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"

/* Three blocks: create, append, grant. Roots are returned per height. */
static void three_blocks(uint8_t id[32], uint8_t roots[4][32])
{
    memset(roots[0], 0, 32);
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(100, 1, 1), 100);
    cf_commit(&CF, roots[1]);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(100, 1, 2), 100);
    cf_commit(&CF, roots[2]);
    cf_grant(&CF, &CF_ALICE, id, CF_BOB.addr, 3, 0, (const uint8_t *)"wrapped", 7);
    cf_commit(&CF, roots[3]);
}

static uint64_t committed_height(ms_bytes32 *root)
{
    uint64_t h;
    cr_assert_eq(CF.m->committed(CF.inst, &h, root), MS_OK);
    return h;
}

Test(reorg, rollback_restores_state_and_root, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], roots[4][32];
    three_blocks(id, roots);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 1), MS_OK);

    ms_bytes32 root;
    cr_assert_eq(committed_height(&root), 1u);
    CF_BYTES(root.bytes, 32, roots[1], 32);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 1u);
    cr_assert_eq(cf_get_grants(&CF, id, NULL, NULL, NULL, NULL, 0), 0u);

    /* The same state survives a restart. */
    cf_env_reopen(&CF);
    cr_assert_eq(committed_height(&root), 1u);
    CF_BYTES(root.bytes, 32, roots[1], 32);
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 1u);
}

Test(reorg, replaying_the_same_blocks_gives_the_same_roots, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], roots[4][32], again[32];
    three_blocks(id, roots);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 1), MS_OK);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(100, 1, 2), 100);
    cf_commit(&CF, again);
    CF_BYTES(again, 32, roots[2], 32);
}

Test(reorg, a_different_branch_then_goes_forward, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], roots[4][32], branch[32];
    three_blocks(id, roots);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 1), MS_OK);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(200, 1, 9), 200);
    cf_commit(&CF, branch);
    cr_assert_neq(memcmp(branch, roots[2], 32), 0);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 2u);
}

Test(reorg, rollback_to_zero_empties_the_store, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], roots[4][32];
    three_blocks(id, roots);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 0), MS_OK);
    ms_bytes32 root;
    cr_assert_eq(committed_height(&root), 0u);
    CF_BYTES(root.bytes, 32, CF_ZERO32, 32);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_cd_get_head(id));
    CF_REVERT(r, cf_err(MS_E_ASSET_NOT_FOUND, "w", id));
}

Test(reorg, root_at_every_retained_height, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], roots[4][32];
    three_blocks(id, roots);
    for (uint64_t h = 0; h <= 3; h++) {
        ms_bytes32 root;
        cr_assert_eq(CF.m->root_at(CF.inst, &root, h), MS_OK, "height %llu", (unsigned long long)h);
        CF_BYTES(root.bytes, 32, roots[h], 32);
    }
    ms_bytes32 root;
    cr_assert_eq(CF.m->root_at(CF.inst, &root, 4), MS_ERR_HEIGHT);
}

Test(reorg, window_is_enforced, .init = cf_setup, .fini = cf_teardown)
{
    ms_config cfg = cf_default_config();
    cfg.reorg_depth = 2;
    cf_setup_with(&cfg);
    uint8_t id[32], roots[4][32];
    three_blocks(id, roots);
    ms_bytes32 root;
    cr_assert_eq(CF.m->rollback_to(CF.inst, 0), MS_ERR_REORG_DEPTH);
    cr_assert_eq(CF.m->root_at(CF.inst, &root, 0), MS_ERR_HEIGHT);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 4), MS_ERR_HEIGHT);
    /* The refused calls changed nothing. */
    cr_assert_eq(committed_height(&root), 3u);
    CF_BYTES(root.bytes, 32, roots[3], 32);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 1), MS_OK);
    cr_assert_eq(committed_height(&root), 1u);
    CF_BYTES(root.bytes, 32, roots[1], 32);
}

Test(reorg, rollback_drops_the_pending_block_and_its_checkpoints, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], roots[4][32];
    three_blocks(id, roots);
    uint64_t cp;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_OK);
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(100, 1, 3), 100);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 3), MS_OK);
    cr_assert_eq(cf_pending_log_count(&CF), 0u);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp), MS_ERR_CHECKPOINT);
    cf_head h;
    cf_get_head(&CF, &h, id);
    cr_assert_eq(h.version, 2u);
}

Test(activation, calls_before_activation_touch_nothing, .init = cf_setup, .fini = cf_teardown)
{
    ms_config cfg = cf_default_config();
    cfg.activation_height = CF_BLOCK + 1;
    cf_setup_with(&cfg);
    cf_res *r = cf_call(&CF, CF_ALICE.addr, cf_cd_create(cf_b32(1, 1), cf_b32(2, 2), NULL, 0));
    cr_assert_eq(r->status, MS_SUCCESS);
    cr_assert_eq(r->gas_used, 0u);
    cr_assert_eq(r->out_size, 0u);
    cr_assert_eq(cf_pending_log_count(&CF), 0u);

    CF.blk.number = CF_BLOCK + 1;
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cr_assert_eq(cf_pending_log_count(&CF), 1u);
}

Test(config, reorg_depth_limits, .init = cf_setup, .fini = cf_teardown)
{
    ms_config cfg = cf_default_config();
    ms_instance *inst = NULL;
    cfg.reorg_depth = 0;
    cr_assert_eq(ms_module_get()->create(&inst, &cfg, cf_tmpdir()), MS_ERR_CONFIG);
    cfg.reorg_depth = MS_MAX_REORG_DEPTH + 1;
    cr_assert_eq(ms_module_get()->create(&inst, &cfg, cf_tmpdir()), MS_ERR_CONFIG);
    cr_assert_null(inst);
}

Test(reorg, floor_is_highest_height_minus_window_and_refusals_change_nothing, .init = cf_setup, .fini = cf_teardown)
{
    ms_config cfg = cf_default_config();
    cfg.reorg_depth = 2;
    cf_setup_with(&cfg);
    uint8_t id[32], roots[4][32], r4[32];
    three_blocks(id, roots);
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(100, 1, 4), 100);
    cf_commit(&CF, r4);
    /* M = 4: the floor is 2, and a rollback does not lower M. */
    cr_assert_eq(CF.m->rollback_to(CF.inst, 3), MS_OK);
    cf_append(&CF, &CF_ALICE, id, 2, 1, cf_ct(100, 1, 5), 100);
    const size_t pending = cf_pending_log_count(&CF);
    cr_assert_gt(pending, 0u);
    uint64_t cp;
    cr_assert_eq(CF.m->checkpoint(CF.inst, &cp), MS_OK);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 1), MS_ERR_REORG_DEPTH);
    ms_bytes32 root;
    cr_assert_eq(CF.m->root_at(CF.inst, &root, 1), MS_ERR_HEIGHT);
    /* The refusal left the pending block and its checkpoints as they were. */
    cr_assert_eq(cf_pending_log_count(&CF), pending);
    cr_assert_eq(CF.m->revert_to(CF.inst, cp), MS_OK);
    cr_assert_eq(committed_height(&root), 3u);
    CF_BYTES(root.bytes, 32, roots[3], 32);
    cr_assert_eq(CF.m->rollback_to(CF.inst, 2), MS_OK);
    cr_assert_eq(committed_height(&root), 2u);
    CF_BYTES(root.bytes, 32, roots[2], 32);
}
