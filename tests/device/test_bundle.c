/* Version hash chain verification (against spec/vectors/version_hash.json,
 * computed by ethers) and the portable bundle (spec/bundle.md): round trip,
 * every changed byte refused, every truncation refused, hostile counts. */
#include "device_test.h"

#include "abi/keccak.h"

static void unhex(uint8_t *out, size_t n, const char *s)
{
    if (s[0] == '0' && s[1] == 'x') s += 2;
    cr_assert_eq(strlen(s), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* spec/vectors/version_hash.json, "chain": versions 1 and 2. */
#define VH_ASSET "0x159e393919cc5d620e3b6b371223cf7fb3db9ea40e0b0099496ec077fc8e5d0d"
#define VH_CT1 "0x010100000000000000010104070a0d101316191c1f2225282b2e3134373a3d40434600112233445566778899aabbccddeeff"
#define VH_HASH1 "0xf5eafbd58645f177983ed89f8629e08001d9e77e2760bf9994da8320e2ac8793"
#define VH_AUTHOR1 "0x134700bf8ed67441d641a2ccf0c2961c68d19e79"
#define VH_CTHASH2 "0x3234b6e1bfffc4bfd6b002cba7f96b8cfd7b1a939aee7beab9dcd421e4a44c3d"
#define VH_AUTHOR2 "0x8da750662399d7c48b77057a38a2e97cc0672802"
#define VH_HASH2 "0x0be0d0bac57ecc51ec6c61425578920b811f18c6118966c0ffb2e093ef0408cd"

typedef struct vh_fixture {
    uint8_t asset[32], ct1[50], cth2[32];
    msd_chain_version v[2];
} vh_fixture;

static void vh_load(vh_fixture *f)
{
    memset(f, 0, sizeof *f);
    unhex(f->asset, 32, VH_ASSET);
    unhex(f->ct1, sizeof f->ct1, VH_CT1);
    unhex(f->cth2, 32, VH_CTHASH2);
    f->v[0].version = 1;
    f->v[0].key_epoch = 1;
    unhex(f->v[0].author, 20, VH_AUTHOR1);
    unhex(f->v[0].version_hash, 32, VH_HASH1);
    f->v[0].ciphertext = f->ct1;
    f->v[0].ciphertext_len = sizeof f->ct1;
    f->v[1].version = 2;
    f->v[1].key_epoch = 1;
    unhex(f->v[1].author, 20, VH_AUTHOR2);
    unhex(f->v[1].version_hash, 32, VH_HASH2);
    f->v[1].ciphertext_hash = f->cth2;
}

Test(chain, vectors_verify_and_each_break_is_named)
{
    vh_fixture f;
    vh_load(&f);
    msd_chain_result r;
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, f.v[1].version_hash), MSD_OK);
    cr_assert_eq(r.reason, MSD_CHAIN_INTACT);
    /* Starting at version 2 from version 1's hash also holds. */
    cr_assert_eq(msd_chain_verify(&r, f.asset, f.v[0].version_hash, &f.v[1], 1, NULL), MSD_OK);

    f.ct1[40] ^= 1;   /* the ciphertext no longer gives the recorded hash */
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_HASH);
    cr_assert_eq(r.version, 1);
    uint8_t recorded[32];
    vh_load(&f);
    ms_keccak256(recorded, f.ct1, sizeof f.ct1);
    f.v[0].ciphertext_hash = recorded;
    f.ct1[40] ^= 1;
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_CIPHERTEXT);

    vh_load(&f);
    f.v[1].key_epoch = 2;   /* another epoch recorded for version 2 */
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_HASH);
    cr_assert_eq(r.index, 1);

    vh_load(&f);
    uint8_t wrong_parent[32] = {1};
    f.v[1].parent = wrong_parent;
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_PARENT);
    f.v[1].parent = f.v[0].version_hash;
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_OK);

    vh_load(&f);
    f.v[1].version = 3;
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_NUMBERING);

    vh_load(&f);
    f.v[1].ciphertext_hash = NULL;
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, NULL), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_NO_CIPHERTEXT);

    vh_load(&f);
    cr_assert_eq(msd_chain_verify(&r, f.asset, NULL, f.v, 2, f.v[0].version_hash), MSD_ERR_CHAIN);
    cr_assert_eq(r.reason, MSD_CHAIN_HEAD);
    cr_assert_eq(msd_chain_verify(NULL, f.asset, NULL, f.v, 2, NULL), MSD_ERR_ARGS);
}

/* A two-version bundle of asset `f` signed by an owner identity. */
static uint8_t *make_bundle(size_t *len, msd_identity *owner)
{
    static uint8_t ct[2][306], wk[2][MSD_WRAPPED_KEY_SIZE];
    static msd_bundle_version vs[2];
    static msd_bundle_grant g;
    static msd_bundle_epoch_key ek;
    msd_bundle b;
    memset(&b, 0, sizeof b);
    b.chain_id = 31337;
    b.precompile[19] = 0x53;
    msd_identity_address(owner, b.owner);
    msd_identity_x25519_public(owner, b.owner_x25519);
    memset(b.salt, 7, 32);
    b.has_salt = 1;
    msd_asset_id(b.asset_id, b.precompile, b.owner, b.salt);
    b.key_epoch = 1;
    uint8_t prev[32] = {0};
    for (int i = 0; i < 2; i++) {
        memset(ct[i], 0x30 + i, sizeof ct[i]);
        memset(&vs[i], 0, sizeof vs[i]);
        vs[i].version = (uint64_t)i + 1;
        vs[i].state = i == 0 ? 2 : 1;   /* version 1 pruned: hashes only */
        vs[i].key_epoch = 1;
        memcpy(vs[i].author, b.owner, 20);
        vs[i].block_number = 10 + (uint64_t)i;
        ms_keccak256(vs[i].ciphertext_hash, ct[i], sizeof ct[i]);
        if (i == 1) {
            vs[i].ciphertext = ct[i];
            vs[i].ciphertext_len = sizeof ct[i];
        }
        uint8_t p[132];
        memcpy(p, prev, 32);
        memcpy(p + 32, b.asset_id, 32);
        memset(p + 64, 0, 8);
        p[71] = (uint8_t)(i + 1);
        memcpy(p + 72, vs[i].ciphertext_hash, 32);
        memset(p + 104, 0, 8);
        p[111] = 1;
        memcpy(p + 112, b.owner, 20);
        ms_keccak256(vs[i].version_hash, p, sizeof p);
        memcpy(prev, vs[i].version_hash, 32);
    }
    b.head_version = 2;
    memcpy(b.head_hash, prev, 32);
    b.version_count = 2;
    b.versions = vs;
    memset(wk, 0x44, sizeof wk);
    memset(&g, 0, sizeof g);
    g.grantee[0] = 0x99;
    g.permissions = 3;
    g.key_epoch = 1;
    g.wrapped_key = wk[0];
    g.wrapped_key_len = MSD_WRAPPED_KEY_SIZE;
    b.grant_count = 1;
    b.grants = &g;
    ek.epoch = 1;
    ek.wrapped = wk[1];
    ek.wrapped_len = MSD_WRAPPED_KEY_SIZE;
    b.epoch_key_count = 1;
    b.epoch_keys = &ek;
    uint8_t *out = NULL;
    cr_assert_eq(msd_bundle_write(&out, len, &b, owner), MSD_OK);
    return out;
}

static msd_status parse_and_verify(const uint8_t *buf, size_t len)
{
    msd_bundle *b = NULL;
    msd_status st = msd_bundle_parse(&b, buf, len);
    if (st == MSD_OK) st = msd_bundle_verify(b, NULL, 0, NULL);
    msd_bundle_free(b);
    return st;
}

Test(bundle, round_trip_every_byte_and_every_truncation_refused)
{
    dt_init();
    msd_identity *owner = dt_identity_seeded(0x21);
    size_t len;
    uint8_t *buf = make_bundle(&len, owner);
    msd_bundle *b = NULL;
    cr_assert_eq(msd_bundle_parse(&b, buf, len), MSD_OK);
    cr_assert_eq(msd_bundle_verify(b, NULL, 0, NULL), MSD_OK);
    cr_assert_eq(b->version_count, 2);
    cr_assert_eq(b->versions[0].state, 2);
    cr_assert_null(b->versions[0].ciphertext);
    cr_assert_eq(b->versions[1].ciphertext_len, 306);
    cr_assert_eq(b->grant_count, 1);
    cr_assert_eq(b->epoch_key_count, 1);
    msd_bundle_free(b);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            buf[i] ^= (uint8_t)(1u << bit);
            msd_status st = parse_and_verify(buf, len);
            cr_assert(st == MSD_ERR_BUNDLE || st == MSD_ERR_BUNDLE_SIGNATURE || st == MSD_ERR_CHAIN,
                      "byte %zu bit %d: status %d", i, bit, st);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t n = 0; n < len; n++) cr_assert_eq(parse_and_verify(buf, n), MSD_ERR_BUNDLE, "length %zu", n);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    cr_assert_eq(parse_and_verify(longer, len + 1), MSD_ERR_BUNDLE);
    free(longer);
    cr_assert_eq(parse_and_verify(buf, len), MSD_OK);

    /* Signed by someone else than the owner it names: refused. */
    msd_identity *other = dt_identity_seeded(0x22);
    uint8_t *o2 = NULL;
    size_t o2_len;
    cr_assert_eq(msd_bundle_parse(&b, buf, len), MSD_OK);
    cr_assert_eq(msd_bundle_write(&o2, &o2_len, b, other), MSD_ERR_ARGS);
    msd_bundle_free(b);
    msd_identity_destroy(other);
    free(buf);
    msd_identity_destroy(owner);
}

Test(bundle, hostile_counts_fail_before_allocating)
{
    dt_init();
    msd_identity *owner = dt_identity_seeded(0x23);
    size_t len;
    uint8_t *buf = make_bundle(&len, owner);
    /* head version and version count (offsets 186 and 238) set to the cap:
     * the bytes left cannot hold them, so parse refuses without allocating. */
    uint8_t *h = malloc(len);
    memcpy(h, buf, len);
    memset(h + 186, 0, 8);
    h[186 + 5] = 0xff;            /* 0xff0000 versions: within the cap, not within the bytes */
    memcpy(h + 238, h + 190, 4);
    msd_bundle *b = NULL;
    cr_assert_eq(msd_bundle_parse(&b, h, len), MSD_ERR_BUNDLE);
    memset(h + 186, 0xff, 8);
    memset(h + 238, 0xff, 4);
    cr_assert_eq(msd_bundle_parse(&b, h, len), MSD_ERR_BUNDLE);
    cr_assert_null(b);
    cr_assert_eq(msd_bundle_parse(&b, NULL, 0), MSD_ERR_BUNDLE);
    cr_assert_eq(msd_bundle_parse(NULL, buf, len), MSD_ERR_ARGS);
    cr_assert_eq(msd_bundle_parse(&b, NULL, 5), MSD_ERR_ARGS);
    free(h);
    free(buf);
    msd_identity_destroy(owner);
}

/* A trusted root given for a bundle that carries no state proof: nothing
 * anchors it, so the library refuses instead of passing it as intact
 * (spec/bundle.md [BUN-7], issue 14 item 8). Without a trusted root the same
 * bundle verifies: self-consistent only. */
Test(bundle, trusted_root_without_proof_refused)
{
    dt_init();
    msd_identity *owner = dt_identity_seeded(0x24);
    size_t len;
    uint8_t *buf = make_bundle(&len, owner);
    msd_bundle *b = NULL;
    cr_assert_eq(msd_bundle_parse(&b, buf, len), MSD_OK);
    cr_assert_eq(b->proof_len, 0);
    uint8_t root[32];
    memset(root, 0x5c, sizeof root);
    cr_assert_eq(msd_bundle_verify(b, NULL, 7, root), MSD_ERR_PROOF);
    const uint8_t zero[32] = {0};
    cr_assert_eq(msd_bundle_verify(b, NULL, 0, zero), MSD_ERR_PROOF);
    cr_assert_eq(msd_bundle_verify(b, NULL, 0, NULL), MSD_OK);
    msd_bundle_free(b);
    free(buf);
    msd_identity_destroy(owner);
}
