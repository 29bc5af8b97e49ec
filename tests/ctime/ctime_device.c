/* Constant-time check of the device library's secret-dependent paths, in the
 * manner of libsecp256k1's ctime tests: secrets are marked undefined with
 * memcheck's client requests, every operation runs, and memcheck reports any
 * branch or memory index that depends on them ("Conditional jump or move
 * depends on uninitialised value(s)", "Use of uninitialised value"). Run
 * under `valgrind --error-exitcode=...` (make test-ctime); outside valgrind
 * the client requests do nothing and this is only a smoke run.
 *
 * Secret: the identity seed and everything derived from it (secp256k1 and
 * X25519 secret keys, the recovery phrase, derived data keys), data keys
 * (imported, generated, rotated), plaintexts.
 * Public, unmarked (VALGRIND_MAKE_MEM_DEFINED) where they leave the device:
 * addresses and X25519 public keys, signatures and calldata, envelopes and
 * wrapped keys, memory salts (they go on chain inside the assetId), the
 * length of a recovery phrase (the caller passes it), and the status codes
 * whose value is the public outcome.
 * The device library declassifies the same kinds of values where they become
 * public inside one call (MSD_DECLASSIFY in device/internal.h, active only
 * in this build, -DMSD_CTIME_TEST).
 *
 * Not covered: the key file (Argon2id indexes memory by password-derived
 * data in its data-dependent half by design; spec/device.md §2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "device/internal.h"
#include "device/memsync_device.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int failures;

/* Status checks happen after declassifying the status: whether a call
 * succeeded is public (it is what the device shows or sends). */
#define EXPECT(call, want)                                                                 \
    do {                                                                                   \
        msd_status st_ = (call);                                                           \
        PUBLIC(&st_, sizeof st_);                                                          \
        if (st_ != (want)) {                                                               \
            fprintf(stderr, "ctime: %s:%d: %s = %d, expected %d\n", __FILE__, __LINE__, #call, \
                    (int)st_, (int)(want));                                                \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + 31u * i);
}

static msd_identity *identity(uint8_t tag)
{
    uint8_t seed[MSD_SEED_SIZE];
    fill(seed, sizeof seed, tag);
    SECRET(seed, sizeof seed);
    msd_identity *id = NULL;
    EXPECT(msd_identity_from_seed(&id, seed), MSD_OK);
    PUBLIC(&id, sizeof id);
    if (id == NULL) {
        fprintf(stderr, "ctime: no identity\n");
        exit(2);
    }
    /* The handle keeps the seed and both secret keys: still undefined. */
    uint8_t vbits[sizeof id->sign_sk];
    if (RUNNING_ON_VALGRIND && VALGRIND_GET_VBITS(id->sign_sk, vbits, sizeof vbits) == 1 &&
        vbits[0] != 0xFF) {
        fprintf(stderr, "ctime: the signing key lost its secret marking\n");
        failures++;
    }
    return id;
}

static void signing(const msd_identity *id)
{
    uint8_t digest[32], sig[MSD_SIGNATURE_SIZE];
    fill(digest, sizeof digest, 0x42);
    EXPECT(msd_sign_digest(sig, id, digest), MSD_OK);
    PUBLIC(sig, sizeof sig);

    uint8_t pre[20], salt[32], meta[32], asset[32], to[20], ct[306];
    fill(pre, sizeof pre, 1);
    fill(salt, sizeof salt, 2);
    fill(meta, sizeof meta, 3);
    fill(asset, sizeof asset, 4);
    fill(to, sizeof to, 5);
    fill(ct, sizeof ct, 6);
    uint8_t cd[1024];
    size_t cd_len = 0;
    EXPECT(msd_sign_create_memory(cd, sizeof cd, &cd_len, sig, id, 31337, pre, salt, meta, ct, sizeof ct, 0,
                                  1700000000u),
           MSD_OK);
    PUBLIC(cd, sizeof cd);
    PUBLIC(sig, sizeof sig);
    PUBLIC(&cd_len, sizeof cd_len);
    EXPECT(msd_sign_append_version(cd, sizeof cd, &cd_len, sig, id, 31337, pre, asset, 1, 1, ct, sizeof ct, 1,
                                   1700000000u),
           MSD_OK);
    PUBLIC(cd, sizeof cd);
    PUBLIC(sig, sizeof sig);
    PUBLIC(&cd_len, sizeof cd_len);
    EXPECT(msd_sign_transfer_ownership(cd, sizeof cd, &cd_len, sig, id, 31337, pre, asset, to, 2, 1700000000u),
           MSD_OK);
    PUBLIC(cd, sizeof cd);
    PUBLIC(sig, sizeof sig);
}

static void envelopes(const msd_identity *owner, const msd_identity *grantee)
{
    msd_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.chain_id = 31337;
    fill(ctx.precompile, sizeof ctx.precompile, 7);
    fill(ctx.asset_id, sizeof ctx.asset_id, 8);
    ctx.version = 1;
    ctx.key_epoch = 1;

    uint8_t raw[MSD_DATA_KEY_SIZE];
    fill(raw, sizeof raw, 9);
    SECRET(raw, sizeof raw);
    msd_data_key *key = NULL;
    EXPECT(msd_data_key_import(&key, ctx.asset_id, 1, raw), MSD_OK);
    PUBLIC(&key, sizeof key);

    /* Plaintexts of several lengths (the padding's position is secret; the
     * length of the padded bucket is public). */
    static const size_t lens[] = { 0, 1, 100, 223, 224, 1000 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t pt[1000], back[1000], env[4096];
        fill(pt, sizeof pt, (uint8_t)(10 + i));
        SECRET(pt, sizeof pt);
        size_t env_len = 0, back_len = 0;
        EXPECT(msd_encrypt(env, sizeof env, &env_len, key, &ctx, pt, lens[i]), MSD_OK);
        PUBLIC(env, sizeof env);
        PUBLIC(&env_len, sizeof env_len);
        EXPECT(msd_decrypt(back, sizeof back, &back_len, key, &ctx, env, env_len), MSD_OK);
        /* The message length is public: the owner's screen shows it. */
        PUBLIC(&back_len, sizeof back_len);
        PUBLIC(back, sizeof back);
        PUBLIC(pt, sizeof pt);
        if (back_len != lens[i] || memcmp(back, pt, lens[i]) != 0) {
            fprintf(stderr, "ctime: round trip of %zu bytes failed\n", lens[i]);
            failures++;
        }
        /* Failures whose kind is the public outcome: wrong key, context, tamper. */
        msd_context other = ctx;
        other.version = 2;
        EXPECT(msd_decrypt(back, sizeof back, &back_len, key, &other, env, env_len), MSD_ERR_WRONG_CONTEXT);
        env[env_len - 1] ^= 1;
        EXPECT(msd_decrypt(back, sizeof back, &back_len, key, &ctx, env, env_len), MSD_ERR_TAMPERED);
    }

    /* Wrap to the grantee, unwrap with its (secret) X25519 key, rotate. */
    uint8_t gpk[MSD_X25519_PUBLIC_SIZE], wrapped[MSD_WRAPPED_KEY_SIZE];
    msd_identity_x25519_public(grantee, gpk);
    EXPECT(msd_wrap_key(wrapped, key, gpk), MSD_OK);
    PUBLIC(wrapped, sizeof wrapped);
    msd_data_key *opened = NULL;
    EXPECT(msd_unwrap_key(&opened, grantee, wrapped, sizeof wrapped, ctx.asset_id, 1), MSD_OK);
    PUBLIC(&opened, sizeof opened);
    msd_data_key *nope = NULL;
    EXPECT(msd_unwrap_key(&nope, owner, wrapped, sizeof wrapped, ctx.asset_id, 1), MSD_ERR_NOT_FOR_ME);
    EXPECT(msd_unwrap_key(&nope, grantee, wrapped, sizeof wrapped, ctx.asset_id, 2), MSD_ERR_WRONG_GRANT);

    uint8_t opk[MSD_X25519_PUBLIC_SIZE];
    msd_identity_x25519_public(owner, opk);
    uint8_t pks[2][MSD_X25519_PUBLIC_SIZE];
    memcpy(pks[0], opk, sizeof opk);
    memcpy(pks[1], gpk, sizeof gpk);
    uint8_t rewrapped[2 * MSD_WRAPPED_KEY_SIZE];
    msd_data_key *next = NULL;
    EXPECT(msd_rotate(&next, rewrapped, key, (const uint8_t(*)[MSD_X25519_PUBLIC_SIZE])pks, 2), MSD_OK);
    PUBLIC(&next, sizeof next);
    PUBLIC(rewrapped, sizeof rewrapped);
    if (next != NULL) {
        /* A random key is "defined" to memcheck; mark it secret and use it. */
        SECRET(next->key, sizeof next->key);
        uint8_t env[512];
        size_t env_len = 0;
        msd_context c2 = ctx;
        c2.key_epoch = 2;
        EXPECT(msd_encrypt(env, sizeof env, &env_len, next, &c2, (const uint8_t *)"rotated", 7), MSD_OK);
        PUBLIC(env, sizeof env);
        PUBLIC(&env_len, sizeof env_len);
    }
    msd_data_key_destroy(next);
    msd_data_key_destroy(opened);
    msd_data_key_destroy(key);
}

/* Recovery phrase both ways and the seed-derived salt and data key
 * (spec/device.md §6): the word list is scanned whole, never indexed by a
 * word's value, and words are placed and parsed with masks. */
static void recovery(const msd_identity *id)
{
    char phrase[MSD_MNEMONIC_MAX];
    EXPECT(msd_identity_mnemonic(phrase, sizeof phrase, id), MSD_OK);
    /* Every byte of the output still depends on the seed (memcheck keeps
     * bits that a mask cannot set as defined zeros, so test for any
     * undefined bit, not all). */
    uint8_t vbits[MSD_MNEMONIC_MAX];
    if (RUNNING_ON_VALGRIND && VALGRIND_GET_VBITS(phrase, vbits, sizeof vbits) == 1) {
        size_t defined = 0;
        for (size_t i = 0; i < sizeof vbits; i++) defined += vbits[i] == 0;
        if (defined != 0) {
            fprintf(stderr, "ctime: %zu bytes of the recovery phrase lost their secret marking\n", defined);
            failures++;
        }
    }
    /* Its length is public (the caller passes it): measure a declassified copy. */
    char copy[MSD_MNEMONIC_MAX];
    memcpy(copy, phrase, sizeof copy);
    PUBLIC(copy, sizeof copy);
    const size_t len = strnlen(copy, sizeof copy);
    memset(copy, 0, sizeof copy);

    msd_identity *back = NULL;
    EXPECT(msd_identity_from_mnemonic(&back, phrase, len), MSD_OK);
    PUBLIC(&back, sizeof back);
    if (back != NULL) {
        uint8_t a[MSD_ADDRESS_SIZE], b[MSD_ADDRESS_SIZE];
        msd_identity_address(id, a);
        msd_identity_address(back, b);
        if (memcmp(a, b, sizeof a) != 0) {
            fprintf(stderr, "ctime: the phrase did not restore the identity\n");
            failures++;
        }
    }
    msd_identity_destroy(back);

    /* Upper case and mixed whitespace; and a phrase whose checksum fails.
     * Both marked secret as typed-in phrases are. */
    char typed[] = "LEGAL winner\tTHANK year wave sausage worth useful legal winner thank year wave "
                   "sausage worth useful\nlegal winner thank year wave sausage worth Title  ";
    char swapped[] = "winner legal thank year wave sausage worth useful legal winner thank year wave "
                     "sausage worth useful legal winner thank year wave sausage worth title";
    SECRET(typed, sizeof typed);
    SECRET(swapped, sizeof swapped);
    EXPECT(msd_identity_from_mnemonic(&back, typed, sizeof typed - 1), MSD_OK);
    PUBLIC(&back, sizeof back);
    msd_identity_destroy(back);
    back = NULL;
    EXPECT(msd_identity_from_mnemonic(&back, swapped, sizeof swapped - 1), MSD_ERR_MNEMONIC);
    PUBLIC(&back, sizeof back);

    uint8_t salt[32], pre[20], asset[32];
    msd_memory_salt(salt, id, 0);
    PUBLIC(salt, sizeof salt);
    fill(pre, sizeof pre, 12);
    msd_asset_id(asset, pre, (const uint8_t *)"01234567890123456789", salt);
    msd_data_key *k = NULL;
    EXPECT(msd_data_key_derive(&k, id, 31337, pre, asset, 1), MSD_OK);
    PUBLIC(&k, sizeof k);
    if (k != NULL) {
        msd_context c;
        memset(&c, 0, sizeof c);
        c.chain_id = 31337;
        memcpy(c.precompile, pre, sizeof pre);
        memcpy(c.asset_id, asset, sizeof asset);
        c.version = 1;
        c.key_epoch = 1;
        uint8_t env[512];
        size_t env_len = 0;
        EXPECT(msd_encrypt(env, sizeof env, &env_len, k, &c, (const uint8_t *)"derived", 7), MSD_OK);
        PUBLIC(env, sizeof env);
        PUBLIC(&env_len, sizeof env_len);
    }
    msd_data_key_destroy(k);
}

int main(void)
{
    if (msd_init() != MSD_OK) return 2;
    msd_identity *owner = identity(0x11);
    msd_identity *grantee = identity(0x22);
    uint8_t addr[MSD_ADDRESS_SIZE];
    msd_identity_address(owner, addr);
    /* Addresses are public by construction: derived inside the call and
     * declassified there, so no unmarking here; a use must not report. */
    if (addr[0] == 0x5a) printf("ctime: (address starts with 5a)\n");

    signing(owner);
    envelopes(owner, grantee);
    recovery(owner);
    msd_identity_destroy(grantee);
    msd_identity_destroy(owner);
    if (!RUNNING_ON_VALGRIND) printf("ctime: not under valgrind: smoke run only\n");
    printf("ctime: %s\n", failures == 0 ? "1 passed, 0 failed" : "0 passed, 1 failed");
    return failures == 0 ? 0 : 1;
}
