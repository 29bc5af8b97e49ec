/* EIP-712 signed actions: malformed signatures of every kind, wrong signer,
 * foreign domains (chain id, verifying contract), nonces and deadlines, for
 * createMemorySigned, appendVersionSigned and transferOwnershipSigned. */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"
#include "crypto/eip712.h"

#define G (&CF.cfg)

enum { FN_CREATE = 0, FN_APPEND = 1, FN_TRANSFER = 2 };
static const char *const FN_NAME[] = { "createMemorySigned", "appendVersionSigned", "transferOwnershipSigned" };

static uint8_t g_id[32];
static const uint8_t *g_ct;
static const size_t g_n = 90;

/* Alice's asset (head 0) for append and transfer. */
static void prepare(void)
{
    cf_create(&CF, g_id, &CF_ALICE, 1, NULL, 0);
    g_ct = cf_ct(g_n, 1, 0x42);
}

static const uint8_t *salt(void)
{
    return cf_b32(0x5a, 0x17);
}

static void digest_for(int fn, uint8_t d[32], uint64_t chain, const uint8_t *vc, uint64_t nonce, uint64_t deadline)
{
    switch (fn) {
    case FN_CREATE:
        cf_digest_create(d, chain, vc, CF_ALICE.addr, salt(), cf_b32(1, 1), g_ct, g_n, nonce, deadline);
        break;
    case FN_APPEND:
        cf_digest_append(d, chain, vc, g_id, 0, 1, g_ct, g_n, CF_ALICE.addr, nonce, deadline);
        break;
    default: cf_digest_transfer(d, chain, vc, g_id, CF_BOB.addr, nonce, deadline); break;
    }
}

static cf_buf cd_for(int fn, uint64_t nonce, uint64_t deadline, const uint8_t *sig, size_t sig_len)
{
    switch (fn) {
    case FN_CREATE:
        return cf_cd_create_signed(CF_ALICE.addr, salt(), cf_b32(1, 1), g_ct, g_n, nonce, deadline, sig, sig_len);
    case FN_APPEND:
        return cf_cd_append_signed(g_id, 0, 1, g_ct, g_n, CF_ALICE.addr, nonce, deadline, sig, sig_len);
    default: return cf_cd_transfer_signed(g_id, CF_BOB.addr, nonce, deadline, sig, sig_len);
    }
}

/* A correct signature by k over this env's domain. */
static void good_sig(int fn, uint8_t sig[65], const cf_key *k, uint64_t nonce, uint64_t deadline)
{
    uint8_t d[32];
    digest_for(fn, d, G->chain_id, G->precompile_address.bytes, nonce, deadline);
    cf_sign(sig, k, d);
}

/* Gas charged up to (excluding) the signature recovery. */
static uint64_t gas_before_recovery(int fn, size_t cd_n)
{
    const uint64_t domain = cf_hash_gas(G, 7) + cf_hash_gas(G, 1) + cf_hash_gas(G, 82) + cf_hash_gas(G, 160);
    const unsigned fields = fn == FN_CREATE ? 6 : fn == FN_APPEND ? 7 : 4;
    uint64_t g = cf_base_gas(G, cd_n) + G->gas.state_read /* nonce */ + domain + cf_hash_gas(G, 160) +
                 cf_hash_gas(G, 32u * (1 + fields)) + cf_hash_gas(G, 66);
    if (fn == FN_CREATE || fn == FN_APPEND) g += cf_hash_gas(G, g_n);
    if (fn != FN_CREATE) g += G->gas.state_read; /* the asset */
    return g;
}

static void expect_rejected(int fn, cf_buf cd, cf_buf err, uint64_t gas, const char *what)
{
    cf_snap s;
    cf_snapshot(&CF, &s);
    cf_res *r = cf_call(&CF, CF_EVE.addr, cd);
    if (r->status != MS_REVERT) cr_assert_fail("%s / %s: not a revert", FN_NAME[fn], what);
    CF_REVERT(r, err);
    cr_assert_eq(r->gas_used, gas, "%s / %s: gas %llu want %llu", FN_NAME[fn], what, (unsigned long long)r->gas_used,
                 (unsigned long long)gas);
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
}

static cf_buf sig_err(uint64_t reason)
{
    return cf_err(MS_E_INVALID_SIGNATURE, "u", reason);
}

TestSuite(calls_signed, .init = cf_setup, .fini = cf_teardown);

Test(calls_signed, malformed_signatures)
{
    prepare();
    for (int fn = 0; fn < 3; fn++) {
        const uint64_t dl = CF_TIME + 10;
        uint8_t good[65], sig[66];
        good_sig(fn, good, &CF_ALICE, 0, dl);

        /* Sanity: the good one passes (simulated, so nothing is consumed). */
        cf_res *ok = cf_sim(&CF, CF_EVE.addr, cd_for(fn, 0, dl, good, 65));
        CF_SUCCESS(ok);

        const uint64_t g65 = gas_before_recovery(fn, cd_for(fn, 0, dl, good, 65).n);

        /* high s: the malleated twin (n - s, v flipped) */
        memcpy(sig, good, 65);
        cf_negate_s(sig + 32);
        sig[64] = (uint8_t)(sig[64] == 27 ? 28 : 27);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(5), g65, "high s");

        /* v out of range */
        const uint8_t vs[] = { 0, 1, 26, 29, 255 };
        for (size_t i = 0; i < sizeof vs; i++) {
            memcpy(sig, good, 65);
            sig[64] = vs[i];
            expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(2), g65, "v");
        }
        /* r = 0, r = n */
        memcpy(sig, good, 65);
        memset(sig, 0, 32);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(3), g65, "r = 0");
        memcpy(sig, good, 65);
        memset(sig, 0, 32);
        cf_negate_s(sig); /* n - 0 = n */
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(3), g65, "r = n");
        /* s = 0, s = n (n > n/2, but "s >= n" is reason 4) */
        memcpy(sig, good, 65);
        memset(sig + 32, 0, 32);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(4), g65, "s = 0");
        memcpy(sig, good, 65);
        memset(sig + 32, 0, 32);
        cf_negate_s(sig + 32);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(4), g65, "s = n");

        /* wrong lengths */
        const size_t lens[] = { 0, 64, 66 };
        for (size_t i = 0; i < 3; i++) {
            memcpy(sig, good, 65);
            sig[65] = 0;
            const cf_buf cd = cd_for(fn, 0, dl, lens[i] ? sig : NULL, lens[i]);
            expect_rejected(fn, cd, sig_err(1), gas_before_recovery(fn, cd.n), "length");
        }

        /* unrecoverable: r is not the x of any curve point; charged the recovery */
        memset(sig, 0, 65);
        cf_unrecoverable_r(sig);
        sig[63] = 1;
        sig[64] = 27;
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), sig_err(6), g65 + G->gas.signature, "unrecoverable");
    }
}

Test(calls_signed, wrong_signer_and_foreign_domains)
{
    prepare();
    for (int fn = 0; fn < 3; fn++) {
        const uint64_t dl = CF_TIME + 10;
        uint8_t sig[65], d[32], rec[20];
        const uint64_t g = gas_before_recovery(fn, cd_for(fn, 0, dl, sig, 65).n) + G->gas.signature;

        /* Bob signs Alice's action. */
        good_sig(fn, sig, &CF_BOB, 0, dl);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), cf_err(MS_E_WRONG_SIGNER, "aa", CF_ALICE.addr, CF_BOB.addr), g,
                        "wrong signer");

        /* Alice signs for chain 1: recovery over our domain yields someone else. */
        uint8_t right[32];
        digest_for(fn, right, G->chain_id, G->precompile_address.bytes, 0, dl);
        digest_for(fn, d, 1, G->precompile_address.bytes, 0, dl);
        cf_sign(sig, &CF_ALICE, d);
        cr_assert(cf_recover(rec, right, sig));
        cr_assert(memcmp(rec, CF_ALICE.addr, 20) != 0);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), cf_err(MS_E_WRONG_SIGNER, "aa", CF_ALICE.addr, rec), g,
                        "other chain id");

        /* Alice signs for another verifying contract. */
        uint8_t vc[20];
        memcpy(vc, G->precompile_address.bytes, 20);
        vc[19] ^= 1;
        digest_for(fn, d, G->chain_id, vc, 0, dl);
        cf_sign(sig, &CF_ALICE, d);
        cr_assert(cf_recover(rec, right, sig));
        cr_assert(memcmp(rec, CF_ALICE.addr, 20) != 0);
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), cf_err(MS_E_WRONG_SIGNER, "aa", CF_ALICE.addr, rec), g,
                        "other verifying contract");

        /* A signature over different content (deadline) is a wrong signer too. */
        good_sig(fn, sig, &CF_ALICE, 0, dl + 1);
        cr_assert(cf_recover(rec, right, sig));
        expect_rejected(fn, cd_for(fn, 0, dl, sig, 65), cf_err(MS_E_WRONG_SIGNER, "aa", CF_ALICE.addr, rec), g,
                        "other deadline");
    }
}

Test(calls_signed, instance_on_another_chain_rejects_our_signatures)
{
    ms_config c = cf_default_config();
    c.chain_id = 1;
    cf_setup_with(&c);
    g_ct = cf_ct(g_n, 1, 0x42);
    uint8_t sig[65], d[32], right[32], rec[20];
    digest_for(FN_CREATE, d, CF_CHAIN, G->precompile_address.bytes, 0, CF_TIME);
    digest_for(FN_CREATE, right, 1, G->precompile_address.bytes, 0, CF_TIME);
    cf_sign(sig, &CF_ALICE, d);
    cr_assert(cf_recover(rec, right, sig));
    cf_res *r = cf_call(&CF, CF_EVE.addr, cd_for(FN_CREATE, 0, CF_TIME, sig, 65));
    CF_REVERT(r, cf_err(MS_E_WRONG_SIGNER, "aa", CF_ALICE.addr, rec));
    cf_sign(sig, &CF_ALICE, right);
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, cd_for(FN_CREATE, 0, CF_TIME, sig, 65)));
}

Test(calls_signed, nonces_replay_and_order)
{
    prepare();
    for (int fn = 0; fn < 3; fn++) {
        const uint64_t dl = CF_TIME;
        uint8_t sig[65];
        /* A future nonce. */
        good_sig(fn, sig, &CF_ALICE, 5, dl);
        cf_buf cd = cd_for(fn, 5, dl, sig, 65);
        uint64_t g = cf_base_gas(G, cd.n) + G->gas.state_read + (fn != FN_CREATE ? G->gas.state_read : 0) +
                     (fn == FN_CREATE ? cf_hash_gas(G, g_n) : 0);
        expect_rejected(fn, cd, cf_err(MS_E_INVALID_NONCE, "uu", (uint64_t)0, (uint64_t)5), g, "future nonce");
        /* A nonce word above 2^64 */
        cd = cd_for(fn, 0, dl, sig, 65);
        const size_t slot = fn == FN_CREATE ? 4 : fn == FN_APPEND ? 5 : 2;
        cd.p[4 + 32 * slot] = 0x80;
        uint8_t *given = cf_alloc(32);
        given[0] = 0x80;
        expect_rejected(fn, cd, cf_err(MS_E_INVALID_NONCE, "uw", (uint64_t)0, given), g, "nonce word");
        /* The nonce is checked before the signature. */
        memset(sig, 0, 65);
        cd = cd_for(fn, 1, dl, sig, 65);
        expect_rejected(fn, cd, cf_err(MS_E_INVALID_NONCE, "uu", (uint64_t)0, (uint64_t)1), g, "nonce before sig");
    }
}

Test(calls_signed, replayed_signatures_are_refused)
{
    prepare();
    uint8_t sig[65];
    /* create with nonce 0 */
    good_sig(FN_CREATE, sig, &CF_ALICE, 0, CF_TIME);
    const cf_buf c0 = cd_for(FN_CREATE, 0, CF_TIME, sig, 65);
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, c0));
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 1u);
    cf_snap s;
    cf_snapshot(&CF, &s);
    cf_res *r = cf_call(&CF, CF_EVE.addr, c0);
    CF_REVERT(r, cf_err(MS_E_INVALID_NONCE, "uu", (uint64_t)1, (uint64_t)0));
    CF_UNCHANGED(&CF, &s);

    /* append with nonce 1 */
    good_sig(FN_APPEND, sig, &CF_ALICE, 1, CF_TIME);
    const cf_buf a1 = cd_for(FN_APPEND, 1, CF_TIME, sig, 65);
    r = cf_call(&CF, CF_EVE.addr, a1);
    CF_SUCCESS(r);
    cr_assert_eq(cf_out_u64(r, 0), 1u);
    cf_snapshot(&CF, &s);
    r = cf_call(&CF, CF_EVE.addr, a1);
    CF_REVERT(r, cf_err(MS_E_INVALID_NONCE, "uu", (uint64_t)2, (uint64_t)1));
    CF_UNCHANGED(&CF, &s);

    /* transfer with nonce 2, Bob hands it back, the signature is replayed */
    good_sig(FN_TRANSFER, sig, &CF_ALICE, 2, CF_TIME);
    const cf_buf t2 = cd_for(FN_TRANSFER, 2, CF_TIME, sig, 65);
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, t2));
    CF_SUCCESS(cf_call(&CF, CF_BOB.addr, cf_cd_transfer(g_id, CF_ALICE.addr)));
    cf_snapshot(&CF, &s);
    r = cf_call(&CF, CF_EVE.addr, t2);
    CF_REVERT(r, cf_err(MS_E_INVALID_NONCE, "uu", (uint64_t)3, (uint64_t)2));
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 3u);
    cr_assert_eq(cf_nonce_of(&CF, CF_BOB.addr), 0u);
    cr_assert_eq(cf_nonce_of(&CF, CF_EVE.addr), 0u);
}

Test(calls_signed, deadlines)
{
    prepare();
    for (int fn = 0; fn < 3; fn++) {
        uint8_t sig[65];
        const uint64_t past[] = { 0, CF_TIME - 1 };
        for (int i = 0; i < 2; i++) {
            good_sig(fn, sig, &CF_ALICE, 0, past[i]);
            const cf_buf cd = cd_for(fn, 0, past[i], sig, 65);
            const uint64_t g = cf_base_gas(G, cd.n) + (fn == FN_CREATE ? cf_hash_gas(G, g_n) : G->gas.state_read);
            expect_rejected(fn, cd, cf_err(MS_E_SIGNATURE_EXPIRED, "uu", past[i], (uint64_t)CF_TIME), g, "expired");
            /* expiry is checked before the nonce */
            good_sig(fn, sig, &CF_ALICE, 9, past[i]);
            expect_rejected(fn, cd_for(fn, 9, past[i], sig, 65),
                            cf_err(MS_E_SIGNATURE_EXPIRED, "uu", past[i], (uint64_t)CF_TIME), g, "expired+nonce");
        }
        /* deadline == timestamp is still valid; later too */
        good_sig(fn, sig, &CF_ALICE, 0, CF_TIME);
        CF_SUCCESS(cf_sim(&CF, CF_EVE.addr, cd_for(fn, 0, CF_TIME, sig, 65)));
        good_sig(fn, sig, &CF_ALICE, 0, UINT64_MAX);
        CF_SUCCESS(cf_sim(&CF, CF_EVE.addr, cd_for(fn, 0, UINT64_MAX, sig, 65)));
        /* the same signature expires once the block time passes it */
        good_sig(fn, sig, &CF_ALICE, 0, CF_TIME);
        CF.blk.timestamp = CF_TIME + 1;
        const cf_buf cd = cd_for(fn, 0, CF_TIME, sig, 65);
        const uint64_t g = cf_base_gas(G, cd.n) + (fn == FN_CREATE ? cf_hash_gas(G, g_n) : G->gas.state_read);
        expect_rejected(fn, cd, cf_err(MS_E_SIGNATURE_EXPIRED, "uu", (uint64_t)CF_TIME, (uint64_t)CF_TIME + 1), g,
                        "after block time moved");
        CF.blk.timestamp = CF_TIME;
    }
}

Test(calls_signed, append_signer_must_be_owner_or_live_writer)
{
    prepare();
    cf_grant(&CF, &CF_ALICE, g_id, CF_CAROL.addr, 1, 0, NULL, 0);          /* read only */
    cf_grant(&CF, &CF_ALICE, g_id, CF_DAVE.addr, 3, CF_TIME - 1, NULL, 0); /* expired writer */
    const cf_key *who[] = { &CF_BOB, &CF_CAROL, &CF_DAVE };
    for (int i = 0; i < 3; i++) {
        const cf_buf cd = cf_signed_append(&CF, who[i], g_id, 0, 1, g_ct, g_n, who[i]->addr, 0, CF_TIME);
        cf_snap s;
        cf_snapshot(&CF, &s);
        cf_res *r = cf_call(&CF, CF_ALICE.addr, cd); /* even relayed by the owner */
        CF_REVERT(r, cf_err(MS_E_NOT_AUTHORIZED, "wa", g_id, who[i]->addr));
        const uint64_t g = gas_before_recovery(FN_APPEND, cd.n) + G->gas.signature + G->gas.state_write +
                           (i == 0 ? G->gas.state_read : G->gas.state_read);
        cr_assert_eq(r->gas_used, g, "signer %d gas %llu want %llu", i, (unsigned long long)r->gas_used,
                     (unsigned long long)g);
        CF_UNCHANGED(&CF, &s);
        cr_assert_eq(cf_nonce_of(&CF, who[i]->addr), 0u);
    }
    /* The expired writer works again at its expiry second exactly. */
    CF.blk.timestamp = CF_TIME - 1;
    const cf_buf cd = cf_signed_append(&CF, &CF_DAVE, g_id, 0, 1, g_ct, g_n, CF_DAVE.addr, 0, CF_TIME);
    cf_res *r = cf_call(&CF, CF_EVE.addr, cd);
    CF_SUCCESS(r);
    cf_vinfo vi;
    cf_get_vinfo(&CF, &vi, g_id, 1);
    CF_BYTES(vi.author, 20, CF_DAVE.addr, 20);
    cr_assert_eq(cf_nonce_of(&CF, CF_DAVE.addr), 1u);
}

Test(calls_signed, append_signed_checks_head_and_epoch_after_signature)
{
    prepare();
    /* expected 3 while head is 0, signed correctly: VersionConflict after the nonce is consumed (rolled back). */
    const cf_buf cd = cf_signed_append(&CF, &CF_ALICE, g_id, 3, 1, g_ct, g_n, CF_ALICE.addr, 0, CF_TIME);
    cf_snap s;
    cf_snapshot(&CF, &s);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cd), cf_err(MS_E_VERSION_CONFLICT, "uu", (uint64_t)3, (uint64_t)0));
    CF_UNCHANGED(&CF, &s);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
    /* epoch 2 with an envelope of epoch 2 while the asset is at 1 */
    const uint8_t *ct2 = cf_ct(g_n, 2, 3);
    const cf_buf cd2 = cf_signed_append(&CF, &CF_ALICE, g_id, 0, 2, ct2, g_n, CF_ALICE.addr, 0, CF_TIME);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cd2), cf_err(MS_E_KEY_EPOCH_MISMATCH, "uu", (uint64_t)1, (uint64_t)2));
    CF_UNCHANGED(&CF, &s);
}

Test(calls_signed, transfer_signed_must_be_signed_by_current_owner)
{
    prepare();
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_transfer(g_id, CF_CAROL.addr)));
    /* Alice's signature is now a wrong signer: the owner is Carol. */
    const cf_buf cd = cf_signed_transfer(&CF, &CF_ALICE, g_id, CF_BOB.addr, 0, CF_TIME);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cd), cf_err(MS_E_WRONG_SIGNER, "aa", CF_CAROL.addr, CF_ALICE.addr));
    /* Carol's nonce is the one checked. */
    const cf_buf cd2 = cf_signed_transfer(&CF, &CF_CAROL, g_id, CF_BOB.addr, 0, CF_TIME);
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, cd2));
    cr_assert_eq(cf_nonce_of(&CF, CF_CAROL.addr), 1u);
    cr_assert_eq(cf_nonce_of(&CF, CF_ALICE.addr), 0u);
    /* InvalidAddress is checked before the deadline and the signature. */
    uint8_t zero_sig[65] = { 0 };
    const cf_buf cd3 = cf_cd_transfer_signed(g_id, CF_BOB.addr, 7, 0, zero_sig, 65);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cd3), cf_err(MS_E_INVALID_ADDRESS, "a", CF_BOB.addr));
    const cf_buf cd4 = cf_cd_transfer_signed(g_id, CF_ZERO20, 7, 0, zero_sig, 65);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cd4), cf_err(MS_E_INVALID_ADDRESS, "a", CF_ZERO20));
}

Test(calls_signed, deadline_words_above_2_64_never_expire)
{
    prepare();
    /* Build the digest by hand with a deadline word of 2^64 (above any timestamp). */
    uint8_t dl[32] = { 0 };
    dl[23] = 1;
    ms_eip712_transfer m;
    memcpy(m.asset_id, g_id, 32);
    memcpy(m.new_owner, CF_BOB.addr, 20);
    m.nonce = 0;
    memcpy(m.deadline, dl, 32);
    uint8_t domain[32], digest[32], sig[65];
    ms_eip712_domain(domain, G->chain_id, G->precompile_address.bytes);
    ms_eip712_transfer_digest(digest, domain, &m);
    cf_sign(sig, &CF_ALICE, digest);
    cf_buf cd = cf_enc(MS_FN_TRANSFER_OWNERSHIP_SIGNED, "wawwb", g_id, CF_BOB.addr, cf_u256(0), dl, sig, (size_t)65);
    CF.blk.timestamp = UINT64_MAX;
    CF_SUCCESS(cf_call(&CF, CF_EVE.addr, cd));
    cf_head h;
    cf_get_head(&CF, &h, g_id);
    CF_BYTES(h.owner, 20, CF_BOB.addr, 20);
}

Test(calls_signed, zero_address_never_matches_a_signer)
{
    prepare();
    uint8_t d[32], sig[65], rec[20];
    cf_digest_create(d, G->chain_id, G->precompile_address.bytes, CF_ZERO20, salt(), cf_b32(1, 1), NULL, 0, 0, CF_TIME);
    cf_sign(sig, &CF_ALICE, d);
    cr_assert(cf_recover(rec, d, sig));
    const cf_buf cd = cf_cd_create_signed(CF_ZERO20, salt(), cf_b32(1, 1), NULL, 0, 0, CF_TIME, sig, 65);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, cd), cf_err(MS_E_WRONG_SIGNER, "aa", CF_ZERO20, CF_ALICE.addr));
    cf_digest_append(d, G->chain_id, G->precompile_address.bytes, g_id, 0, 1, g_ct, g_n, CF_ZERO20, 0, CF_TIME);
    cf_sign(sig, &CF_ALICE, d);
    const cf_buf ca = cf_cd_append_signed(g_id, 0, 1, g_ct, g_n, CF_ZERO20, 0, CF_TIME, sig, 65);
    CF_REVERT(cf_call(&CF, CF_EVE.addr, ca), cf_err(MS_E_WRONG_SIGNER, "aa", CF_ZERO20, CF_ALICE.addr));
}
