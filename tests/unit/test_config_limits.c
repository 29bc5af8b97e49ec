/* Issue 14 item 4, config side (spec/host-abi.md [HOST-52]): create refuses
 * a config under which one block of MS_MAX_BLOCK_GAS gas could write more
 * than MS_MAX_BLOCK_ENTRIES keys (the state tree's limit per version:
 * commit_block would fail on every validator at once) or need an undo
 * record over 2^32 - 1 bytes (RocksDB's largest value). The bounds follow
 * from gas: every key written was paid W, every deleted ciphertext byte
 * ceil(stored_byte / 4) more. The boundaries below are those of the
 * spec's inequalities, to the unit. The storage side (the same limits met
 * anyway are a fatal error, never a silent drop) is in
 * test_storage_limits.c. */
#include <criterion/criterion.h>

#include "call_fixture.h"

TestSuite(config_limits, .init = cf_setup, .fini = cf_teardown);

static ms_rc create_with(const ms_config *c)
{
    const ms_module *m = ms_module_get();
    ms_instance *inst = NULL;
    const ms_rc rc = m->create(&inst, c, cf_tmpdir());
    if (rc == MS_OK) m->destroy(inst);
    else cr_assert_null(inst);
    return rc;
}

static ms_rc with_gas(uint64_t state_write, uint64_t stored_byte)
{
    ms_config c = cf_default_config();
    c.gas.state_write = state_write;
    c.gas.stored_byte = stored_byte;
    return create_with(&c);
}

Test(config_limits, the_constants)
{
    cr_assert_eq(MS_MAX_BLOCK_ENTRIES, 4194304u);
    cr_assert_eq(MS_MAX_BLOCK_GAS, 1000000000u);
    const ms_config d = cf_default_config();
    cr_assert_eq(create_with(&d), MS_OK, "the defaults are within the limits");
    /* At the defaults (W 2000, 16 per deleted byte) a block of 10^9 gas writes at most
     * 500,000 keys: an eighth of the limit. */
    cr_assert_leq(MS_MAX_BLOCK_GAS / d.gas.state_write * 8, MS_MAX_BLOCK_ENTRIES);
}

/* Keys: G / W <= 2^22, so W >= 239 (and W = 0 is never accepted). */
Test(config_limits, keys_per_block)
{
    cr_assert_eq(with_gas(0, 64), MS_ERR_CONFIG, "free writes: any number of keys");
    cr_assert_eq(with_gas(1, 64), MS_ERR_CONFIG);
    cr_assert_eq(with_gas(238, 1u << 20), MS_ERR_CONFIG, "10^9 / 238 = 4,201,680 keys");
    cr_assert_gt(MS_MAX_BLOCK_GAS / 238u, MS_MAX_BLOCK_ENTRIES);
    cr_assert_leq(MS_MAX_BLOCK_GAS / 239u, MS_MAX_BLOCK_ENTRIES);
}

/* Undo record, records other than ciphertexts: each key's entry is at most
 * 59 bytes of framing and a 1,049-byte grant (the ceiling's wrapped key)
 * for W: 10^9 * 1,108 <= (2^32 - 13) * W, so W >= 258. */
Test(config_limits, undo_of_replaced_records)
{
    cr_assert_eq(with_gas(257, 64), MS_ERR_CONFIG);
    cr_assert_eq(with_gas(258, 64), MS_OK);
    cr_assert_eq(with_gas(UINT64_MAX, 64), MS_OK, "saturating arithmetic");
}

/* Undo record, deleted ciphertexts: an entry of 59 + c bytes for W + ceil(B/4)*c,
 * c up to the ceiling (1 MiB) whatever max_ciphertext is now. Free
 * deletion (stored_byte 0) needs W >= 244,155; any price of 1 or more holds
 * at the default W. */
Test(config_limits, undo_of_deleted_ciphertexts)
{
    cr_assert_eq(with_gas(2000, 0), MS_ERR_CONFIG, "deleting free: 524 bytes of undo per gas");
    cr_assert_eq(with_gas(244154, 0), MS_ERR_CONFIG);
    cr_assert_eq(with_gas(244155, 0), MS_OK);
    cr_assert_eq(with_gas(2000, 1), MS_OK, "1 gas per deleted byte");
    cr_assert_eq(with_gas(258, 1), MS_OK);
    /* A small max_ciphertext does not relax the rule: a store may hold
     * ciphertexts from a larger one. */
    ms_config c = cf_default_config();
    c.max_ciphertext = 64;
    c.gas.stored_byte = 0;
    cr_assert_eq(create_with(&c), MS_ERR_CONFIG);
}
