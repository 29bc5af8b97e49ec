/* EIP-712 digests against an independent implementation.
 * Every expected hash below was computed with ethers 6 (TypedDataEncoder
 * .hashDomain / .hash) from the same field values; see each test. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "crypto/eip712.h"
#include "test_util.h"

static void hex32(uint8_t out[32], const char *hex)
{
    cr_assert_eq(ms_test_hex(out, 32, hex), 32u);
}

static void hex20(uint8_t out[20], const char *hex)
{
    cr_assert_eq(ms_test_hex(out, 20, hex), 20u);
}

static void expect32(const uint8_t got[32], const char *hex)
{
    uint8_t want[32];
    hex32(want, hex);
    cr_assert_arr_eq(got, want, 32);
}

/* verifyingContract 0x…4D53 ("MS"), as in the reference config. */
static void domain(uint8_t out[32], uint64_t chain_id)
{
    uint8_t vc[20];
    hex20(vc, "0x0000000000000000000000000000000000004D53");
    ms_eip712_domain(out, chain_id, vc);
}

/* ethers 6 values: owner 0x11…11, salt 0x22…22, metadata 0x33…33,
 * ciphertextHash keccak256(""), nonce 0xfedcba9876543210 (all 64 bits used),
 * deadline 0x80…01 (top and bottom bits of the uint256). */
static ms_eip712_create create_example(void)
{
    ms_eip712_create m;
    memset(m.owner, 0x11, sizeof m.owner);
    memset(m.salt, 0x22, sizeof m.salt);
    memset(m.metadata, 0x33, sizeof m.metadata);
    hex32(m.ciphertext_hash, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    m.nonce = UINT64_C(0xfedcba9876543210);
    hex32(m.deadline, "8000000000000000000000000000000000000000000000000000000000000001");
    return m;
}

/* ethers 6 values: assetId 0xaa…aa, expectedVersion 3,
 * keyEpoch 0x0102030405060708, ciphertextHash keccak256("hello"),
 * signer 0x44…44, nonce 1, deadline 1700000000. */
static ms_eip712_append append_example(void)
{
    ms_eip712_append m;
    memset(m.asset_id, 0xaa, sizeof m.asset_id);
    m.expected_version = 3;
    m.key_epoch = UINT64_C(0x0102030405060708);
    hex32(m.ciphertext_hash, "1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8");
    memset(m.signer, 0x44, sizeof m.signer);
    m.nonce = 1;
    hex32(m.deadline, "000000000000000000000000000000000000000000000000000000006553f100");
    return m;
}

/* ethers 6 values: assetId 0xbb…bb, newOwner 0x55…55, nonce 0,
 * deadline 2^256 - 1. */
static ms_eip712_transfer transfer_example(void)
{
    ms_eip712_transfer m;
    memset(m.asset_id, 0xbb, sizeof m.asset_id);
    memset(m.new_owner, 0x55, sizeof m.new_owner);
    m.nonce = 0;
    memset(m.deadline, 0xff, sizeof m.deadline);
    return m;
}

Test(eip712, domain_separator_matches_ethers)
{
    uint8_t d[32];
    domain(d, 31337);
    expect32(d, "b2b1ff915b4b53bc61e846b2524ad28211739d3c8ad781b5e464887d14c9b1b8");
    domain(d, 1);
    expect32(d, "84b47a893d21af0a89ff07e3035d8901da9d99641df7677b4d3a3fcbd99f0660");
}

Test(eip712, domain_binds_verifying_contract)
{
    uint8_t a[32], b[32], vc[20] = {0};
    vc[18] = 0x4d;
    vc[19] = 0x53;
    ms_eip712_domain(a, 31337, vc);
    vc[0] = 0x01;
    ms_eip712_domain(b, 31337, vc);
    cr_assert(memcmp(a, b, 32) != 0);
}

Test(eip712, domain_binds_full_chain_id)
{
    uint8_t a[32], b[32];
    domain(a, 1);
    domain(b, UINT64_C(0x8000000000000001));
    cr_assert(memcmp(a, b, 32) != 0);
}

Test(eip712, create_digest_matches_ethers)
{
    const ms_eip712_create m = create_example();
    uint8_t d[32], out[32];
    domain(d, 31337);
    ms_eip712_create_digest(out, d, &m);
    expect32(out, "30238e0917c32db83a3a490fe953a79852fc368900895339684732a266571d9d");
    domain(d, 1);
    ms_eip712_create_digest(out, d, &m);
    expect32(out, "ef4b89a803539f0dc83da6880d3b1397c716cad1659dcaeccc2c8277a6fe4b78");
}

Test(eip712, append_digest_matches_ethers)
{
    const ms_eip712_append m = append_example();
    uint8_t d[32], out[32];
    domain(d, 31337);
    ms_eip712_append_digest(out, d, &m);
    expect32(out, "7ac2028b9b5bce56567b10ef87cda42e140155638fc7c306d2c17b0cbdc39639");
    domain(d, 1);
    ms_eip712_append_digest(out, d, &m);
    expect32(out, "231b76579afde0b1293af44a8d03c5d6d9bbd2d49a1af2d2577fbb58b5810992");
}

Test(eip712, transfer_digest_matches_ethers)
{
    const ms_eip712_transfer m = transfer_example();
    uint8_t d[32], out[32];
    domain(d, 31337);
    ms_eip712_transfer_digest(out, d, &m);
    expect32(out, "8101384ff02a96c395849bc507ae30fb5a0c4b3e854abfa3d883ed8121205f44");
    domain(d, 1);
    ms_eip712_transfer_digest(out, d, &m);
    expect32(out, "4b4ccb5282152940b043d64450f413d2dc1c1c1ea54ad50e95dc3fe705812f66");
}

/* Flipping any single bit of any field must change the digest: this catches
 * a field that is skipped or only partly encoded (say, a uint64 truncated to
 * 32 bits), which fixed vectors could miss. Fields are walked by offsetof so
 * that struct padding, which the digest rightly ignores, is never flipped. */
typedef struct field { size_t off, size; } field;
typedef void (*digest_fn)(uint8_t out[32], const uint8_t dom[32], const void *m);

static void each_bit_changes(const void *m0, size_t m_size, const field *f, size_t nf, digest_fn fn)
{
    uint8_t dom[32], base[32], out[32], m[256];
    cr_assert_leq(m_size, sizeof m);
    domain(dom, 31337);
    fn(base, dom, m0);
    size_t covered = 0;
    for (size_t k = 0; k < nf; k++) {
        covered += f[k].size;
        for (size_t bit = 0; bit < f[k].size * 8u; bit++) {
            memcpy(m, m0, m_size);
            m[f[k].off + bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            fn(out, dom, m);
            cr_assert(memcmp(out, base, 32) != 0, "field %zu bit %zu ignored", k, bit);
        }
    }
    /* The table must list every field: members plus padding fill the struct. */
    cr_assert_leq(m_size - covered, 7u);
}

#define FIELD(type, member) { offsetof(type, member), sizeof(((type *)0)->member) }

static void create_fn(uint8_t out[32], const uint8_t dom[32], const void *m)
{
    ms_eip712_create_digest(out, dom, m);
}

static void append_fn(uint8_t out[32], const uint8_t dom[32], const void *m)
{
    ms_eip712_append_digest(out, dom, m);
}

static void transfer_fn(uint8_t out[32], const uint8_t dom[32], const void *m)
{
    ms_eip712_transfer_digest(out, dom, m);
}

Test(eip712, create_every_bit_matters)
{
    static const field f[] = {
        FIELD(ms_eip712_create, owner), FIELD(ms_eip712_create, salt),
        FIELD(ms_eip712_create, metadata), FIELD(ms_eip712_create, ciphertext_hash),
        FIELD(ms_eip712_create, nonce), FIELD(ms_eip712_create, deadline),
    };
    const ms_eip712_create m = create_example();
    each_bit_changes(&m, sizeof m, f, sizeof f / sizeof f[0], create_fn);
}

Test(eip712, append_every_bit_matters)
{
    static const field f[] = {
        FIELD(ms_eip712_append, asset_id), FIELD(ms_eip712_append, expected_version),
        FIELD(ms_eip712_append, key_epoch), FIELD(ms_eip712_append, ciphertext_hash),
        FIELD(ms_eip712_append, signer), FIELD(ms_eip712_append, nonce),
        FIELD(ms_eip712_append, deadline),
    };
    const ms_eip712_append m = append_example();
    each_bit_changes(&m, sizeof m, f, sizeof f / sizeof f[0], append_fn);
}

Test(eip712, transfer_every_bit_matters)
{
    static const field f[] = {
        FIELD(ms_eip712_transfer, asset_id), FIELD(ms_eip712_transfer, new_owner),
        FIELD(ms_eip712_transfer, nonce), FIELD(ms_eip712_transfer, deadline),
    };
    const ms_eip712_transfer m = transfer_example();
    each_bit_changes(&m, sizeof m, f, sizeof f / sizeof f[0], transfer_fn);
}

Test(eip712, digest_binds_domain)
{
    const ms_eip712_transfer m = transfer_example();
    uint8_t d[32], a[32], b[32];
    domain(d, 31337);
    ms_eip712_transfer_digest(a, d, &m);
    d[31] ^= 1;
    ms_eip712_transfer_digest(b, d, &m);
    cr_assert(memcmp(a, b, 32) != 0);
}
