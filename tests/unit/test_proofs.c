/* State proofs for light clients: ms_module.prove and the standalone
 * verifier (crypto/state_proof.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"
#include "crypto/state_proof.h"
#include "storage/records.h"

typedef struct proof {
    uint8_t bytes[MS_STATE_PROOF_MAX];
    size_t len;
} proof;

static void prove(proof *p, uint64_t height, const uint8_t id[32], uint64_t version)
{
    ms_bytes32 a;
    memcpy(a.bytes, id, 32);
    const ms_rc rc = CF.m->prove(CF.inst, p->bytes, sizeof p->bytes, &p->len, height, &a, version);
    cr_assert_eq(rc, MS_OK, "prove: %s", CF.m->rc_string(rc));
}

static void root_at(uint8_t out[32], uint64_t height)
{
    ms_bytes32 r;
    cr_assert_eq(CF.m->root_at(CF.inst, &r, height), MS_OK);
    memcpy(out, r.bytes, 32);
}

/* Verify against the trusted root of height; returns the decoded asset. */
static ms_state_proof verify_ok(const proof *p, uint64_t height, const uint8_t root[32])
{
    ms_state_proof sp;
    cr_assert_eq(ms_state_proof_verify(&sp, p->bytes, p->len, height, root), MS_STATE_PROOF_OK);
    return sp;
}

static ms_asset head_of(const ms_state_proof *sp)
{
    ms_asset a;
    cr_assert(sp->present);
    cr_assert(ms_asset_decode(&a, sp->value, sp->value_len));
    return a;
}

Test(proofs, head_at_current_and_earlier_heights, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], r1[32], r2[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(80, 1, 1), 80);
    cf_commit(&CF, r1);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(80, 1, 2), 80);
    cf_commit(&CF, r2);

    proof p;
    prove(&p, 2, id, 0);
    ms_state_proof sp = verify_ok(&p, 2, r2);
    ms_asset a = head_of(&sp);
    cr_assert_eq(sp.height, 2u);
    cr_assert_eq(a.head_version, 2u);
    cf_head h;
    cf_get_head(&CF, &h, id);
    CF_BYTES(a.head_hash, 32, h.head_hash, 32);

    /* The head as it was at height 1, against height 1's root. */
    uint8_t kept[32];
    root_at(kept, 1);
    CF_BYTES(kept, 32, r1, 32);
    prove(&p, 1, id, 0);
    sp = verify_ok(&p, 1, r1);
    a = head_of(&sp);
    cr_assert_eq(a.head_version, 1u);
    /* ... and it does not pass as height 2's state. */
    cr_assert_eq(ms_state_proof_verify(&sp, p.bytes, p.len, 2, r2), MS_STATE_PROOF_WRONG_ROOT);
    cr_assert_eq(ms_state_proof_verify(&sp, p.bytes, p.len, 2, r1), MS_STATE_PROOF_WRONG_ROOT);
}

Test(proofs, version_hash, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], root[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(80, 1, 1), 80);
    cf_append(&CF, &CF_ALICE, id, 1, 1, cf_ct(80, 1, 2), 80);
    cf_commit(&CF, root);
    proof p;
    prove(&p, 1, id, 2);
    ms_state_proof sp = verify_ok(&p, 1, root);
    ms_version v;
    cr_assert(sp.present);
    cr_assert(ms_version_decode(&v, sp.value, sp.value_len));
    cf_vinfo info;
    cf_get_vinfo(&CF, &info, id, 2);
    CF_BYTES(v.version_hash, 32, info.version_hash, 32);
    CF_BYTES(v.ciphertext_hash, 32, info.ct_hash, 32);
}

Test(proofs, never_created_asset_is_proved_absent, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], root[32], other[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_commit(&CF, root);
    memset(other, 0x42, 32);
    proof p;
    prove(&p, 1, other, 0);
    ms_state_proof sp = verify_ok(&p, 1, root);
    cr_assert_eq(sp.present, 0);
    cr_assert_eq(sp.value_len, 0u);
    /* and a version beyond the head is absent too */
    prove(&p, 1, id, 1);
    sp = verify_ok(&p, 1, root);
    cr_assert_eq(sp.present, 0);
}

Test(proofs, shredded_asset_says_so, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], root[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(80, 1, 1), 80);
    CF_SUCCESS(cf_call(&CF, CF_ALICE.addr, cf_cd_shred(id)));
    cf_commit(&CF, root);
    proof p;
    prove(&p, 1, id, 0);
    ms_state_proof sp = verify_ok(&p, 1, root);
    const ms_asset a = head_of(&sp);
    cr_assert_eq(a.flags & MS_ASSET_SHREDDED, MS_ASSET_SHREDDED);
    prove(&p, 1, id, 1);
    sp = verify_ok(&p, 1, root);
    ms_version v;
    cr_assert(ms_version_decode(&v, sp.value, sp.value_len));
    cr_assert_eq(v.state, MS_VERSION_SHREDDED);
}

Test(proofs, any_changed_byte_fails, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], root[32], absent[32];
    cf_create(&CF, id, &CF_ALICE, 1, cf_ct(80, 1, 1), 80);
    for (uint8_t k = 2; k < 6; k++) cf_create(&CF, absent, &CF_BOB, k, NULL, 0);
    cf_commit(&CF, root);
    memset(absent, 0x42, 32);
    proof both[2];
    prove(&both[0], 1, id, 0);       /* inclusion */
    prove(&both[1], 1, absent, 0);   /* non-inclusion */
    for (int w = 0; w < 2; w++) {
        proof p = both[w];
        verify_ok(&p, 1, root);
        for (size_t i = 0; i < p.len; i++) {
            for (unsigned mask = 0x01; mask <= 0x80; mask <<= 7) {
                p.bytes[i] ^= (uint8_t)mask;
                ms_state_proof sp;
                cr_assert_neq(ms_state_proof_verify(&sp, p.bytes, p.len, 1, root), MS_STATE_PROOF_OK,
                              "proof %d byte %zu mask %u", w, i, mask);
                p.bytes[i] ^= (uint8_t)mask;
            }
        }
        /* a changed trusted root, a truncated or extended bundle */
        for (size_t i = 0; i < 32; i++) {
            uint8_t bad[32];
            memcpy(bad, root, 32);
            bad[i] ^= 1;
            ms_state_proof sp;
            cr_assert_neq(ms_state_proof_verify(&sp, p.bytes, p.len, 1, bad), MS_STATE_PROOF_OK);
        }
        ms_state_proof sp;
        cr_assert_eq(ms_state_proof_verify(&sp, p.bytes, p.len - 1, 1, root), MS_STATE_PROOF_MALFORMED);
        cr_assert_eq(ms_state_proof_verify(&sp, p.bytes, p.len + 1, 1, root), MS_STATE_PROOF_MALFORMED);
    }
}

Test(proofs, errors, .init = cf_setup, .fini = cf_teardown)
{
    uint8_t id[32], root[32];
    cf_create(&CF, id, &CF_ALICE, 1, NULL, 0);
    cf_commit(&CF, root);
    ms_bytes32 a;
    memcpy(a.bytes, id, 32);
    uint8_t small[64];
    size_t len = 99;
    cr_assert_eq(CF.m->prove(CF.inst, small, sizeof small, &len, 1, &a, 0), MS_ERR_ARGUMENT);
    cr_assert_eq(len, 0u);
    uint8_t buf[MS_STATE_PROOF_MAX];
    cr_assert_eq(CF.m->prove(CF.inst, buf, sizeof buf, &len, 2, &a, 0), MS_ERR_HEIGHT);
    cr_assert_eq(CF.m->prove(CF.inst, NULL, sizeof buf, &len, 1, &a, 0), MS_ERR_ARGUMENT);
}
