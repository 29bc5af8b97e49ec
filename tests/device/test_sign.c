/* EIP-712 signing and relayer calldata (spec/eip712.md, spec/abi.md): the
 * signatures pass the module's static checks and recover to the device
 * address through crypto/signature.h. */
#include "device_test.h"

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "crypto/signature.h"

static ms_verifier *ver;

static void setup(void)
{
    dt_init();
    ver = ms_verifier_create();
    cr_assert_not_null(ver);
}

static void teardown(void)
{
    ms_verifier_destroy(ver);
}

TestSuite(sign, .init = setup, .fini = teardown);

static const uint8_t precompile[20] = {[18] = 0x4d, [19] = 0x53};

static uint64_t word_u64(const uint8_t *w)
{
    for (int i = 0; i < 24; i++) cr_assert_eq(w[i], 0);
    uint64_t v = 0;
    for (int i = 24; i < 32; i++) v = (v << 8) | w[i];
    return v;
}

static uint32_t selector_of(const uint8_t *cd)
{
    return (uint32_t)cd[0] << 24 | (uint32_t)cd[1] << 16 | (uint32_t)cd[2] << 8 | cd[3];
}

/* The `bytes` argument whose head is at slot `slot`. */
static const uint8_t *bytes_arg(const uint8_t *cd, size_t cd_len, size_t slot, size_t *len)
{
    const uint8_t *args = cd + 4;
    const uint64_t off = word_u64(args + 32 * slot);
    cr_assert_leq(off + 32, cd_len - 4);
    *len = (size_t)word_u64(args + off);
    cr_assert_leq(off + 32 + *len, cd_len - 4);
    return args + off + 32;
}

static void expect_recovers(const uint8_t digest[32], const uint8_t sig[65], const msd_identity *id)
{
    uint8_t addr[20], got[20];
    msd_identity_address(id, addr);
    cr_assert_eq(ms_signature_check(sig, 65), MS_SIG_OK);
    cr_assert(sig[64] == 27 || sig[64] == 28);
    cr_assert_eq(ms_signature_recover(got, ver, digest, sig, 65), MS_SIG_OK);
    cr_assert_arr_eq(got, addr, 20);
}

Test(sign, digest_rfc6979_low_s)
{
    msd_identity *id = dt_identity_seeded(0x33);
    uint8_t d[32], s1[65], s2[65];
    for (int i = 0; i < 100; i++) {
        ms_keccak256(d, (const uint8_t *)&i, sizeof i);
        cr_assert_eq(msd_sign_digest(s1, id, d), MSD_OK);
        cr_assert_eq(msd_sign_digest(s2, id, d), MSD_OK);
        cr_assert_arr_eq(s1, s2, 65, "RFC 6979: deterministic");
        expect_recovers(d, s1, id);
    }
    msd_identity_destroy(id);
}

Test(sign, create_memory_signed)
{
    msd_identity *id = dt_identity_seeded(0x34);
    uint8_t addr[20], salt[32], meta[32], ct[306], cd[1024], sig[65];
    msd_identity_address(id, addr);
    memset(salt, 0x5a, 32);
    memset(meta, 0x6b, 32);
    for (size_t i = 0; i < sizeof ct; i++) ct[i] = (uint8_t)i;
    size_t n = 0;
    cr_assert_eq(msd_sign_create_memory(cd, sizeof cd, &n, sig, id, 31337, precompile, salt, meta, ct, sizeof ct, 4,
                                        1893456000),
                 MSD_OK);
    cr_assert_eq(selector_of(cd), MS_FN_CREATE_MEMORY_SIGNED);
    cr_assert_eq(n, 4 + 32 * 7 + 32 + 320 + 32 + 96);
    cr_assert_arr_eq(cd + 4 + 12, addr, 20);
    cr_assert_arr_eq(cd + 4 + 32, salt, 32);
    cr_assert_arr_eq(cd + 4 + 64, meta, 32);
    cr_assert_eq(word_u64(cd + 4 + 128), 4);
    cr_assert_eq(word_u64(cd + 4 + 160), 1893456000);
    size_t l = 0;
    const uint8_t *p = bytes_arg(cd, n, 3, &l);
    cr_assert_eq(l, sizeof ct);
    cr_assert_arr_eq(p, ct, l);
    p = bytes_arg(cd, n, 6, &l);
    cr_assert_eq(l, 65);
    cr_assert_arr_eq(p, sig, 65);

    ms_eip712_create m;
    memcpy(m.owner, addr, 20);
    memcpy(m.salt, salt, 32);
    memcpy(m.metadata, meta, 32);
    ms_keccak256(m.ciphertext_hash, ct, sizeof ct);
    m.nonce = 4;
    memset(m.deadline, 0, 32);
    memcpy(m.deadline + 28, (const uint8_t[]){0x70, 0xdb, 0xd8, 0x80}, 4);
    uint8_t dom[32], d[32];
    ms_eip712_domain(dom, 31337, precompile);
    ms_eip712_create_digest(d, dom, &m);
    expect_recovers(d, sig, id);

    /* Empty ciphertext (an asset without a first version). */
    cr_assert_eq(msd_sign_create_memory(cd, sizeof cd, &n, sig, id, 31337, precompile, salt, meta, NULL, 0, 0, 0),
                 MSD_OK);
    cr_assert_eq(n, 4 + 32 * 7 + 32 + 32 + 96);
    msd_identity_destroy(id);
}

Test(sign, append_version_signed)
{
    msd_identity *id = dt_identity_seeded(0x35);
    uint8_t addr[20], asset[32], ct[50 + 256], cd[1024], sig[65];
    msd_identity_address(id, addr);
    memset(asset, 0x11, 32);
    memset(ct, 0xcc, sizeof ct);
    size_t n = 0;
    cr_assert_eq(msd_sign_append_version(cd, sizeof cd, &n, sig, id, 1, precompile, asset, 7, 3, ct, sizeof ct, 9,
                                         UINT64_MAX),
                 MSD_OK);
    cr_assert_eq(selector_of(cd), MS_FN_APPEND_VERSION_SIGNED);
    cr_assert_arr_eq(cd + 4, asset, 32);
    cr_assert_eq(word_u64(cd + 4 + 32), 7);
    cr_assert_eq(word_u64(cd + 4 + 64), 3);
    cr_assert_arr_eq(cd + 4 + 128 + 12, addr, 20);
    cr_assert_eq(word_u64(cd + 4 + 160), 9);
    cr_assert_eq(word_u64(cd + 4 + 192), UINT64_MAX);
    size_t l = 0;
    const uint8_t *p = bytes_arg(cd, n, 7, &l);
    cr_assert_eq(l, 65);
    cr_assert_arr_eq(p, sig, 65);

    ms_eip712_append m;
    memcpy(m.asset_id, asset, 32);
    m.expected_version = 7;
    m.key_epoch = 3;
    ms_keccak256(m.ciphertext_hash, ct, sizeof ct);
    memcpy(m.signer, addr, 20);
    m.nonce = 9;
    memset(m.deadline, 0, 24);
    memset(m.deadline + 24, 0xff, 8);
    uint8_t dom[32], d[32];
    ms_eip712_domain(dom, 1, precompile);
    ms_eip712_append_digest(d, dom, &m);
    expect_recovers(d, sig, id);
    msd_identity_destroy(id);
}

Test(sign, transfer_ownership_signed)
{
    msd_identity *id = dt_identity_seeded(0x36);
    uint8_t asset[32], to[20], cd[512], sig[65];
    memset(asset, 0x22, 32);
    memset(to, 0x99, 20);
    size_t n = 0;
    cr_assert_eq(msd_sign_transfer_ownership(cd, sizeof cd, &n, sig, id, 31337, precompile, asset, to, 0, 5), MSD_OK);
    cr_assert_eq(selector_of(cd), MS_FN_TRANSFER_OWNERSHIP_SIGNED);
    cr_assert_eq(n, 4 + 32 * 5 + 32 + 96);
    cr_assert_arr_eq(cd + 4, asset, 32);
    cr_assert_arr_eq(cd + 4 + 32 + 12, to, 20);
    ms_eip712_transfer m;
    memcpy(m.asset_id, asset, 32);
    memcpy(m.new_owner, to, 20);
    m.nonce = 0;
    memset(m.deadline, 0, 32);
    m.deadline[31] = 5;
    uint8_t dom[32], d[32];
    ms_eip712_domain(dom, 31337, precompile);
    ms_eip712_transfer_digest(d, dom, &m);
    expect_recovers(d, sig, id);

    /* A short buffer reports the size and writes nothing. */
    uint8_t small[16];
    memset(small, 0xee, sizeof small);
    cr_assert_eq(msd_sign_transfer_ownership(small, sizeof small, &n, NULL, id, 31337, precompile, asset, to, 0, 5),
                 MSD_ERR_BUFFER);
    cr_assert_eq(n, 4 + 32 * 5 + 32 + 96);
    const uint8_t zero[16] = {0};
    cr_assert_arr_eq(small, zero, 16);
    cr_assert_eq(msd_sign_transfer_ownership(cd, sizeof cd, &n, NULL, NULL, 31337, precompile, asset, to, 0, 5),
                 MSD_ERR_ARGS);
    msd_identity_destroy(id);
}

/* The worked example's asset id formula (spec/abi.md [ABI-20]). */
Test(sign, asset_id)
{
    uint8_t owner[20], salt[32], in[72], want[32], got[32];
    memset(owner, 0x8d, 20);
    memset(salt, 0xad, 32);
    memcpy(in, precompile, 20);
    memcpy(in + 20, owner, 20);
    memcpy(in + 40, salt, 32);
    ms_keccak256(want, in, 72);
    msd_asset_id(got, precompile, owner, salt);
    cr_assert_arr_eq(got, want, 32);
}
