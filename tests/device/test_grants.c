/* Grants and rotation (spec/device.md §4): wrapped keys, and a revoked
 * grantee locked out of versions written after the rotation. */
#include "device_test.h"

TestSuite(grants, .init = dt_init);

#define ENV_CAP 1024

Test(grants, wrap_unwrap_round_trip)
{
    const msd_context c = dt_context(9, 1, 1);
    msd_identity *alice = dt_identity_seeded(0xa1), *eve = dt_identity_seeded(0xee);
    msd_data_key *k = NULL, *got = NULL;
    cr_assert_eq(msd_data_key_generate(&k, c.asset_id, 1), MSD_OK);
    uint8_t pk[32], w[MSD_WRAPPED_KEY_SIZE], w2[MSD_WRAPPED_KEY_SIZE], env[ENV_CAP], pt[64];
    msd_identity_x25519_public(alice, pk);
    cr_assert_eq(msd_wrap_key(w, k, pk), MSD_OK);
    cr_assert_eq(msd_wrap_key(w2, k, pk), MSD_OK);
    cr_assert(memcmp(w, w2, sizeof w) != 0, "fresh ephemeral key each time");

    size_t n = 0, len = 0;
    cr_assert_eq(msd_encrypt(env, sizeof env, &n, k, &c, (const uint8_t *)"shared", 6), MSD_OK);
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w, c.asset_id, 1), MSD_OK);
    uint8_t asset[32];
    cr_assert_eq(msd_data_key_info(got, asset), 1);
    cr_assert_arr_eq(asset, c.asset_id, 32);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, got, &c, env, n), MSD_OK);
    cr_assert_eq(len, 6);
    cr_assert_arr_eq(pt, "shared", 6);
    msd_data_key_destroy(got);

    /* Someone else, the wrong expectations, alterations. */
    cr_assert_eq(msd_unwrap_key(&got, eve, w, sizeof w, c.asset_id, 1), MSD_ERR_NOT_FOR_ME);
    cr_assert_null(got);
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w, c.asset_id, 2), MSD_ERR_WRONG_GRANT);
    uint8_t other[32];
    memset(other, 1, sizeof other);
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w, other, 1), MSD_ERR_WRONG_GRANT);
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w - 1, c.asset_id, 1), MSD_ERR_NOT_FOR_ME);
    w[60] ^= 1;
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w, c.asset_id, 1), MSD_ERR_NOT_FOR_ME);
    w[60] ^= 1;
    /* A low-order public key is refused. */
    const uint8_t zero_pk[32] = {0};
    cr_assert_eq(msd_wrap_key(w2, k, zero_pk), MSD_ERR_ARGS);
    msd_data_key_destroy(k);
    msd_identity_destroy(alice);
    msd_identity_destroy(eve);
}

/* Owner grants alice and bob at epoch 1, writes v1; revokes bob by rotating
 * to epoch 2 for the owner and alice, writes v2. */
Test(grants, revoked_grantee_cannot_read_after_rotation)
{
    msd_identity *owner = dt_identity_seeded(0x01), *alice = dt_identity_seeded(0xa1),
                 *bob = dt_identity_seeded(0xb0);
    uint8_t pk_owner[32], pk_alice[32], pk_bob[32];
    msd_identity_x25519_public(owner, pk_owner);
    msd_identity_x25519_public(alice, pk_alice);
    msd_identity_x25519_public(bob, pk_bob);

    const msd_context c1 = dt_context(0x42, 1, 1);
    msd_data_key *k1 = NULL;
    cr_assert_eq(msd_data_key_generate(&k1, c1.asset_id, 1), MSD_OK);
    uint8_t w_alice1[MSD_WRAPPED_KEY_SIZE], w_bob1[MSD_WRAPPED_KEY_SIZE];
    cr_assert_eq(msd_wrap_key(w_alice1, k1, pk_alice), MSD_OK);
    cr_assert_eq(msd_wrap_key(w_bob1, k1, pk_bob), MSD_OK);
    uint8_t v1[ENV_CAP], v2[ENV_CAP], pt[64];
    size_t n1 = 0, n2 = 0, len = 0;
    cr_assert_eq(msd_encrypt(v1, sizeof v1, &n1, k1, &c1, (const uint8_t *)"before", 6), MSD_OK);

    /* Revoke bob: rotation. */
    uint8_t rem[2][32];
    memcpy(rem[0], pk_owner, 32);
    memcpy(rem[1], pk_alice, 32);
    uint8_t wrapped2[2 * MSD_WRAPPED_KEY_SIZE];
    msd_data_key *k2 = NULL;
    cr_assert_eq(msd_rotate(&k2, wrapped2, k1, (const uint8_t(*)[32])rem, 2), MSD_OK);
    uint8_t asset[32];
    cr_assert_eq(msd_data_key_info(k2, asset), 2);
    cr_assert_arr_eq(asset, c1.asset_id, 32);
    const msd_context c2 = dt_context(0x42, 2, 2);
    cr_assert_eq(msd_encrypt(v2, sizeof v2, &n2, k2, &c2, (const uint8_t *)"after", 5), MSD_OK);

    /* Alice, remaining, reads v2 with her new wrapped key. */
    msd_data_key *a2 = NULL;
    cr_assert_eq(msd_unwrap_key(&a2, alice, wrapped2 + MSD_WRAPPED_KEY_SIZE, MSD_WRAPPED_KEY_SIZE, c2.asset_id, 2),
                 MSD_OK);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, a2, &c2, v2, n2), MSD_OK);
    cr_assert_arr_eq(pt, "after", 5);
    /* The owner keeps the new key through its own wrapped copy. */
    msd_data_key *o2 = NULL;
    cr_assert_eq(msd_unwrap_key(&o2, owner, wrapped2, MSD_WRAPPED_KEY_SIZE, c2.asset_id, 2), MSD_OK);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, o2, &c2, v2, n2), MSD_OK);

    /* Bob: his epoch-1 key does not open v2, and no epoch-2 wrap opens for him. */
    msd_data_key *b1 = NULL, *b2 = NULL;
    cr_assert_eq(msd_unwrap_key(&b1, bob, w_bob1, sizeof w_bob1, c1.asset_id, 1), MSD_OK);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, b1, &c2, v2, n2), MSD_ERR_WRONG_KEY);
    cr_assert_eq(len, 0);
    msd_context c2_as_epoch1 = c2;
    c2_as_epoch1.key_epoch = 1;
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, b1, &c2_as_epoch1, v2, n2), MSD_ERR_WRONG_EPOCH);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(msd_unwrap_key(&b2, bob, wrapped2 + i * MSD_WRAPPED_KEY_SIZE, MSD_WRAPPED_KEY_SIZE,
                                    c2.asset_id, 2),
                     MSD_ERR_NOT_FOR_ME);
    /* What rotation cannot do: bob still reads what was written before it. */
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, b1, &c1, v1, n1), MSD_OK);
    cr_assert_arr_eq(pt, "before", 6);
    /* Alice's old key reads v1 too. */
    msd_data_key *a1 = NULL;
    cr_assert_eq(msd_unwrap_key(&a1, alice, w_alice1, sizeof w_alice1, c1.asset_id, 1), MSD_OK);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, a1, &c1, v1, n1), MSD_OK);

    msd_data_key *arr[] = {k1, k2, a1, a2, o2, b1};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) msd_data_key_destroy(arr[i]);
    msd_identity_destroy(owner);
    msd_identity_destroy(alice);
    msd_identity_destroy(bob);
}

Test(grants, rotation_limits)
{
    uint8_t asset[32] = {0}, w[MSD_WRAPPED_KEY_SIZE];
    msd_data_key *last = NULL, *next = NULL;
    cr_assert_eq(msd_data_key_generate(&last, asset, UINT64_MAX), MSD_OK);
    cr_assert_eq(msd_rotate(&next, NULL, last, NULL, 0), MSD_ERR_EPOCH_LIMIT);
    cr_assert_null(next);
    cr_assert_eq(msd_data_key_generate(&next, asset, 0), MSD_ERR_ARGS);
    msd_data_key_destroy(last);
    cr_assert_eq(msd_data_key_generate(&last, asset, 1), MSD_OK);
    const uint8_t bad[1][32] = {{0}};
    memset(w, 0x55, sizeof w);
    cr_assert_eq(msd_rotate(&next, w, last, bad, 1), MSD_ERR_ARGS);
    cr_assert_null(next);
    const uint8_t zero[MSD_WRAPPED_KEY_SIZE] = {0};
    cr_assert_arr_eq(w, zero, sizeof w);
    cr_assert_eq(msd_rotate(&next, NULL, last, NULL, 0), MSD_OK);   /* nobody but a later self-wrap */
    cr_assert_eq(msd_data_key_info(next, NULL), 2);
    msd_data_key_destroy(last);
    msd_data_key_destroy(next);
}

/* The chain-bound wrapped key (spec/device.md [DEV-36]..[DEV-38], issue 14
 * item 6): it opens only for the chain and contract it names, as well as the
 * asset and epoch; the 120-byte format of older grants still opens, flagged
 * as legacy. */
Test(grants, bound_wrap_names_its_chain)
{
    const msd_context c = dt_context(0x61, 1, 3);
    msd_identity *alice = dt_identity_seeded(0xa1), *eve = dt_identity_seeded(0xee);
    msd_data_key *k = NULL, *got = NULL;
    cr_assert_eq(msd_data_key_generate(&k, c.asset_id, 3), MSD_OK);
    uint8_t pk[32], w[MSD_WRAPPED_KEY_V2_SIZE], w2[MSD_WRAPPED_KEY_V2_SIZE], old[MSD_WRAPPED_KEY_SIZE];
    msd_identity_x25519_public(alice, pk);
    cr_assert_eq(msd_wrap_key_bound(w, k, c.chain_id, c.precompile, pk), MSD_OK);
    cr_assert_eq(w[0], MSD_WRAPPED_KEY_V2);
    cr_assert_eq(msd_wrap_key_bound(w2, k, c.chain_id, c.precompile, pk), MSD_OK);
    cr_assert(memcmp(w, w2, sizeof w) != 0, "fresh ephemeral key each time");

    int legacy = -1;
    cr_assert_eq(msd_unwrap_key_bound(&got, &legacy, alice, w, sizeof w, c.chain_id, c.precompile, c.asset_id, 3),
                 MSD_OK);
    cr_assert_eq(legacy, 0);
    cr_assert(msd_data_key_equal(got, k));
    msd_data_key_destroy(got);
    got = NULL;

    /* Another chain, another contract, another asset, another epoch. */
    uint8_t pre2[20];
    memcpy(pre2, c.precompile, 20);
    pre2[0] ^= 1;
    uint8_t asset2[32];
    memset(asset2, 0x62, sizeof asset2);
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, c.chain_id + 1, c.precompile, c.asset_id, 3),
                 MSD_ERR_WRONG_GRANT);
    cr_assert_null(got);
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, c.chain_id, pre2, c.asset_id, 3),
                 MSD_ERR_WRONG_GRANT);
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, c.chain_id, c.precompile, asset2, 3),
                 MSD_ERR_WRONG_GRANT);
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, c.chain_id, c.precompile, c.asset_id, 2),
                 MSD_ERR_WRONG_GRANT);
    /* Someone else, a wrong length, an unknown format byte, an alteration. */
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, eve, w, sizeof w, c.chain_id, c.precompile, c.asset_id, 3),
                 MSD_ERR_NOT_FOR_ME);
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w - 1, c.chain_id, c.precompile, c.asset_id, 3),
                 MSD_ERR_NOT_FOR_ME);
    w[0] = 3;
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, c.chain_id, c.precompile, c.asset_id, 3),
                 MSD_ERR_NOT_FOR_ME);
    w[0] = MSD_WRAPPED_KEY_V2;
    w[100] ^= 1;
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, c.chain_id, c.precompile, c.asset_id, 3),
                 MSD_ERR_NOT_FOR_ME);
    w[100] ^= 1;
    cr_assert_null(got);

    /* msd_unwrap_key has no chain to compare: it opens the bound format for
     * its asset and epoch, whatever chain it names. */
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w, c.asset_id, 3), MSD_OK);
    msd_data_key_destroy(got);
    got = NULL;
    cr_assert_eq(msd_unwrap_key(&got, alice, w, sizeof w, c.asset_id, 4), MSD_ERR_WRONG_GRANT);

    /* The legacy format: opens for any chain, flagged. */
    cr_assert_eq(msd_wrap_key(old, k, pk), MSD_OK);
    cr_assert_eq(msd_unwrap_key_bound(&got, &legacy, alice, old, sizeof old, 999, pre2, c.asset_id, 3), MSD_OK);
    cr_assert_eq(legacy, 1);
    cr_assert(msd_data_key_equal(got, k));
    msd_data_key_destroy(got);
    got = NULL;
    cr_assert_eq(msd_unwrap_key_bound(&got, &legacy, alice, old, sizeof old, 999, pre2, c.asset_id, 2),
                 MSD_ERR_WRONG_GRANT);
    cr_assert_eq(legacy, 0);

    /* Arguments. */
    const uint8_t zero_pk[32] = {0};
    cr_assert_eq(msd_wrap_key_bound(w2, k, 1, c.precompile, zero_pk), MSD_ERR_ARGS);
    const uint8_t zero[MSD_WRAPPED_KEY_V2_SIZE] = {0};
    cr_assert_arr_eq(w2, zero, sizeof w2);
    cr_assert_eq(msd_wrap_key_bound(w2, k, 1, NULL, pk), MSD_ERR_ARGS);
    cr_assert_eq(msd_unwrap_key_bound(NULL, NULL, alice, w, sizeof w, 1, c.precompile, c.asset_id, 3), MSD_ERR_ARGS);
    cr_assert_eq(msd_unwrap_key_bound(&got, NULL, alice, w, sizeof w, 1, NULL, c.asset_id, 3), MSD_ERR_ARGS);
    msd_data_key_destroy(k);
    msd_identity_destroy(alice);
    msd_identity_destroy(eve);
}

Test(grants, data_key_equal)
{
    uint8_t asset[32], other[32], raw[32];
    memset(asset, 1, sizeof asset);
    memset(other, 2, sizeof other);
    memset(raw, 0x33, sizeof raw);
    msd_data_key *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    cr_assert_eq(msd_data_key_import(&a, asset, 1, raw), MSD_OK);
    cr_assert_eq(msd_data_key_import(&b, asset, 1, raw), MSD_OK);
    cr_assert_eq(msd_data_key_import(&c, asset, 2, raw), MSD_OK);
    cr_assert_eq(msd_data_key_import(&d, other, 1, raw), MSD_OK);
    cr_assert_eq(msd_data_key_equal(a, b), 1);
    cr_assert_eq(msd_data_key_equal(a, c), 0);
    cr_assert_eq(msd_data_key_equal(a, d), 0);
    cr_assert_eq(msd_data_key_equal(a, NULL), 0);
    msd_data_key_destroy(b);
    raw[31] ^= 1;
    cr_assert_eq(msd_data_key_import(&b, asset, 1, raw), MSD_OK);
    cr_assert_eq(msd_data_key_equal(a, b), 0);
    msd_data_key *arr[] = {a, b, c, d};
    for (size_t i = 0; i < 4; i++) msd_data_key_destroy(arr[i]);
}
