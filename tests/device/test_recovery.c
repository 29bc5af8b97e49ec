/* Recovery phrase and seed-derived keys (spec/device.md §6): BIP-39 round
 * trips and reference vectors, the phrase parser's rules and errors, memory
 * salts and derived data keys, and the known answers of
 * spec/vectors/recovery.json (computed with @scure/bip39 and @noble/hashes by
 * tests/device/interop/recovery_vectors.mjs).
 *
 * Random seeds come from MSD_TEST_SEED (decimal) when set, else from
 * randombytes; the value is printed so a failure can be replayed. */
#include "device_test.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include <jansson.h>

#include "device/internal.h"

#define VECTORS "spec/vectors/recovery.json"

TestSuite(recovery, .init = dt_init);

/* ------------------------------------------------------------- helpers */

static uint64_t test_seed(void)
{
    const char *env = getenv("MSD_TEST_SEED");
    uint64_t s = 0;
    if (env != NULL && *env != '\0') {
        char *end = NULL;
        errno = 0;
        s = strtoull(env, &end, 10);
        cr_assert(errno == 0 && end != NULL && *end == '\0', "MSD_TEST_SEED must be a decimal u64");
    } else {
        randombytes_buf(&s, sizeof s);
    }
    fprintf(stderr, "test_recovery: MSD_TEST_SEED=%llu\n", (unsigned long long)s);
    return s;
}

/* The i-th 32-byte seed of run `run`: BLAKE2b-256(run u64 || i u64). */
static void nth_seed(uint8_t seed[32], uint64_t run, uint64_t i)
{
    uint8_t in[16];
    msd_put_be64(in, run);
    msd_put_be64(in + 8, i);
    crypto_generichash(seed, 32, in, sizeof in, NULL, 0);
}

static void phrase_of(char out[MSD_MNEMONIC_MAX], const msd_identity *id)
{
    cr_assert_eq(msd_identity_mnemonic(out, MSD_MNEMONIC_MAX, id), MSD_OK);
}

static msd_status from_phrase(msd_identity **id, const char *phrase)
{
    return msd_identity_from_mnemonic(id, phrase, strlen(phrase));
}

static void assert_same_identity(const msd_identity *a, const msd_identity *b)
{
    cr_assert_arr_eq(a->seed, b->seed, MSD_SEED_SIZE);
    uint8_t x[32], y[32];
    msd_identity_address(a, x);
    msd_identity_address(b, y);
    cr_assert_arr_eq(x, y, MSD_ADDRESS_SIZE);
    msd_identity_x25519_public(a, x);
    msd_identity_x25519_public(b, y);
    cr_assert_arr_eq(x, y, 32);
}

/* 24 lower-case words of 3..8 letters, single spaces, nothing else. */
static void assert_canonical(const char *p)
{
    const size_t n = strlen(p);
    cr_assert(n > 0 && n < MSD_MNEMONIC_MAX);
    unsigned words = 1, letters = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ') {
            cr_assert(letters >= 3 && letters <= 8, "word of %u letters in \"%s\"", letters, p);
            words++;
            letters = 0;
        } else {
            cr_assert(p[i] >= 'a' && p[i] <= 'z', "byte 0x%02x in \"%s\"", (unsigned)(uint8_t)p[i], p);
            letters++;
        }
    }
    cr_assert(letters >= 3 && letters <= 8);
    cr_assert_eq(words, MSD_MNEMONIC_WORDS);
}

/* ------------------------------------------------------ BIP-39 encoding */

/* The BIP-39 reference vectors for 256-bit entropy (trezor/python-mnemonic
 * vectors.json); interop.mjs checks these strings against @scure/bip39. */
Test(recovery, bip39_reference_vectors)
{
    static const struct {
        uint8_t fill;
        const char *phrase;
    } v[] = {
        {0x00, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
               "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"},
        {0x7f, "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
               "legal winner thank year wave sausage worth title"},
        {0x80, "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor "
               "acoustic avoid letter advice cage absurd amount doctor acoustic bless"},
        {0xff, "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        msd_identity *id = dt_identity_seeded(v[i].fill), *back = NULL;
        char p[MSD_MNEMONIC_MAX];
        phrase_of(p, id);
        cr_assert_str_eq(p, v[i].phrase);
        cr_assert_eq(from_phrase(&back, v[i].phrase), MSD_OK);
        assert_same_identity(id, back);
        msd_identity_destroy(back);
        msd_identity_destroy(id);
    }
}

Test(recovery, round_trip_random_seeds)
{
    const uint64_t run = test_seed();
    for (uint64_t i = 0; i < 64; i++) {
        uint8_t seed[32];
        nth_seed(seed, run, i);
        msd_identity *id = NULL, *back = NULL;
        cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);
        char p[MSD_MNEMONIC_MAX];
        phrase_of(p, id);
        assert_canonical(p);
        cr_assert_eq(from_phrase(&back, p), MSD_OK, "seed %llu: \"%s\"", (unsigned long long)i, p);
        cr_assert_arr_eq(back->seed, seed, 32);
        assert_same_identity(id, back);
        /* The recovered identity gives the same phrase again. */
        char q[MSD_MNEMONIC_MAX];
        phrase_of(q, back);
        cr_assert_str_eq(p, q);
        msd_identity_destroy(back);
        msd_identity_destroy(id);
    }
}

/* The phrase is written only within MSD_MNEMONIC_MAX bytes and ends in NUL;
 * every byte after it is zero. */
Test(recovery, phrase_buffer)
{
    msd_identity *id = dt_identity_seeded(0x7f);
    char buf[MSD_MNEMONIC_MAX + 8];
    memset(buf, 'x', sizeof buf);
    cr_assert_eq(msd_identity_mnemonic(buf, sizeof buf, id), MSD_OK);
    const size_t n = strlen(buf);
    for (size_t i = n; i < sizeof buf; i++) cr_assert_eq(buf[i], 0);

    /* Too small: MSD_ERR_BUFFER, and nothing of the phrase is left behind. */
    memset(buf, 'x', sizeof buf);
    cr_assert_eq(msd_identity_mnemonic(buf, MSD_MNEMONIC_MAX - 1, id), MSD_ERR_BUFFER);
    for (size_t i = 0; i < MSD_MNEMONIC_MAX - 1; i++) cr_assert_eq(buf[i], 0);
    cr_assert_eq(msd_identity_mnemonic(buf, 0, id), MSD_ERR_BUFFER);
    cr_assert_eq(msd_identity_mnemonic(NULL, sizeof buf, id), MSD_ERR_ARGS);
    cr_assert_eq(msd_identity_mnemonic(buf, sizeof buf, NULL), MSD_ERR_ARGS);
    msd_identity_destroy(id);
}

/* -------------------------------------------------------- phrase parser */

static const char *const LEGAL =
    "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
    "legal winner thank year wave sausage worth title";

Test(recovery, case_and_whitespace_accepted)
{
    msd_identity *want = dt_identity_seeded(0x7f);
    static const char *const variants[] = {
        "LEGAL WINNER THANK YEAR WAVE SAUSAGE WORTH USEFUL LEGAL WINNER THANK YEAR WAVE SAUSAGE WORTH USEFUL "
        "LEGAL WINNER THANK YEAR WAVE SAUSAGE WORTH TITLE",
        "Legal wInNeR thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
        "legal winner thank year wave sausage worth Title",
        "  legal\twinner\nthank  year wave\r\nsausage worth useful legal winner thank year wave sausage worth "
        "useful\vlegal\fwinner thank year wave sausage worth title \n",
        "\n\n\tlegal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
        "legal winner thank year wave sausage worth title",
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        msd_identity *id = NULL;
        cr_assert_eq(from_phrase(&id, variants[i]), MSD_OK, "variant %zu", i);
        assert_same_identity(want, id);
        msd_identity_destroy(id);
    }
    /* Not NUL-terminated: only len bytes are read. */
    char buf[400];
    const size_t n = strlen(LEGAL);
    memcpy(buf, LEGAL, n);
    memcpy(buf + n, "zoo zoo", 8);
    msd_identity *id = NULL;
    cr_assert_eq(msd_identity_from_mnemonic(&id, buf, n), MSD_OK);
    assert_same_identity(want, id);
    msd_identity_destroy(id);
    msd_identity_destroy(want);
}

static void expect_mnemonic_error(const char *phrase, size_t len, const char *why)
{
    msd_identity *id = (msd_identity *)(uintptr_t)1;   /* must be reset to NULL */
    cr_assert_eq(msd_identity_from_mnemonic(&id, phrase, len), MSD_ERR_MNEMONIC, "%s", why);
    cr_assert_null(id, "%s", why);
}

static void expect_bad(const char *phrase, const char *why)
{
    expect_mnemonic_error(phrase, strlen(phrase), why);
}

/* The invalid phrases below are also given to @scure/bip39 by interop.mjs,
 * which confirms that BIP-39 rejects them (checksum cases included). */
Test(recovery, invalid_phrases)
{
    char buf[600];
    /* 23 and 25 words. */
    const char *last = strrchr(LEGAL, ' ');
    expect_mnemonic_error(LEGAL, (size_t)(last - LEGAL), "23 words");
    snprintf(buf, sizeof buf, "%s legal", LEGAL);
    expect_bad(buf, "25 words");
    snprintf(buf, sizeof buf, "%s %s", LEGAL, LEGAL);
    expect_bad(buf, "48 words");
    /* A valid 12-word BIP-39 phrase: the library takes only 24 words. */
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank yellow", "12 words");
    expect_bad("", "empty");
    expect_mnemonic_error("x", 0, "length 0");
    expect_bad(" \t\n ", "only whitespace");
    /* Unknown words: a typo, a prefix, a word too long, a digit, non-ASCII. */
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth "
               "useful legal winner thank year wave sausage worth titel",
               "unknown word");
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth "
               "useful legal winner thank year wave sausage worth tit",
               "prefix of a word");
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth "
               "useful legal winner thank year wave sausage worth titlelegal",
               "two words run together");
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth "
               "useful legal winner thank year wave sausage worth title1",
               "a digit");
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth "
               "useful legal winner thank year wave sausage worth t\xc3\xaftle",
               "non-ASCII letter");
    expect_bad("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth "
               "useful legal winner thank year wave sausage worth title,",
               "punctuation");
    /* A NUL inside the given length is not whitespace. */
    snprintf(buf, sizeof buf, "%s", LEGAL);
    const size_t n = strlen(buf);
    buf[n] = '\0';
    buf[n + 1] = '\0';
    expect_mnemonic_error(buf, n + 1, "trailing NUL byte");
    memcpy(buf, LEGAL, n);
    buf[5] = '\0';   /* "legal\0winner" */
    expect_mnemonic_error(buf, n, "NUL between words");
    /* Checksum: two words swapped; the last word changed; all abandon. */
    expect_bad("winner legal thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
               "legal winner thank year wave sausage worth title",
               "words 1 and 2 swapped");
    expect_bad("letter advice absurd cage amount doctor acoustic avoid letter advice cage absurd amount doctor "
               "acoustic avoid letter advice cage absurd amount doctor acoustic bless",
               "words 3 and 4 swapped");
    expect_bad("letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor "
               "acoustic avoid letter advice cage absurd amount doctor acoustic blast",
               "last word changed");
    expect_bad("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
               "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
               "abandon x24");
}

Test(recovery, null_arguments)
{
    msd_identity *id = NULL;
    cr_assert_eq(msd_identity_from_mnemonic(NULL, LEGAL, strlen(LEGAL)), MSD_ERR_ARGS);
    cr_assert_eq(msd_identity_from_mnemonic(&id, NULL, 10), MSD_ERR_ARGS);
    cr_assert_eq(msd_identity_from_mnemonic(&id, NULL, 0), MSD_ERR_ARGS);
    cr_assert_null(id);
}

/* A random word replaced by each neighbour in the list changes the checksum
 * with probability 255/256: over many seeds, most such phrases are refused,
 * and every accepted one decodes to a different seed (never the original). */
Test(recovery, altered_word_mostly_refused)
{
    const uint64_t run = test_seed();
    unsigned refused = 0, total = 0;
    for (uint64_t i = 0; i < 40; i++) {
        uint8_t seed[32];
        nth_seed(seed, run ^ 0x5a5a5a5a5a5a5a5aull, i);
        msd_identity *id = NULL;
        cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);
        char p[MSD_MNEMONIC_MAX];
        phrase_of(p, id);
        /* Swap the first two words when they differ. */
        char a[16], b[16], rest[MSD_MNEMONIC_MAX];
        cr_assert_eq(sscanf(p, "%15s %15s %255[^\n]", a, b, rest), 3);
        if (strcmp(a, b) != 0) {
            char q[2 * MSD_MNEMONIC_MAX];
            snprintf(q, sizeof q, "%s %s %s", b, a, rest);
            msd_identity *other = NULL;
            const msd_status st = from_phrase(&other, q);
            total++;
            if (st == MSD_ERR_MNEMONIC) {
                refused++;
                cr_assert_null(other);
            } else {
                cr_assert_eq(st, MSD_OK);
                cr_assert(memcmp(other->seed, seed, 32) != 0);
                msd_identity_destroy(other);
            }
        }
        msd_identity_destroy(id);
    }
    /* Expected about total/256 accepted; 4 or more has probability < 1e-5. */
    cr_assert(total >= 30 && refused + 3 >= total, "%u of %u swapped phrases refused", refused, total);
}

/* ---------------------------------------------------------- derivations */

Test(recovery, memory_salts)
{
    msd_identity *a = dt_identity_seeded(0x31), *a2 = dt_identity_seeded(0x31), *b = dt_identity_seeded(0x32);
    uint8_t s[4][32], t[32], want[32], seed[32];
    msd_memory_salt(s[0], a, 0);
    msd_memory_salt(s[1], a, 1);
    msd_memory_salt(s[2], a, UINT32_MAX);
    msd_memory_salt(s[3], b, 0);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) cr_assert(memcmp(s[i], s[j], 32) != 0, "salts %d and %d equal", i, j);
    /* Stable: another handle of the same seed, and the same handle again. */
    msd_memory_salt(t, a2, 1);
    cr_assert_arr_eq(t, s[1], 32);
    msd_memory_salt(t, a, 1);
    cr_assert_arr_eq(t, s[1], 32);
    /* As spec/device.md §6 writes it: subkey id shard + 1, context MSmemslt. */
    memset(seed, 0x31, sizeof seed);
    cr_assert_eq(crypto_kdf_derive_from_key(want, 32, 1, "MSmemslt", seed), 0);
    cr_assert_arr_eq(s[0], want, 32);
    cr_assert_eq(crypto_kdf_derive_from_key(want, 32, (uint64_t)UINT32_MAX + 1u, "MSmemslt", seed), 0);
    cr_assert_arr_eq(s[2], want, 32);
    /* The salt is not one of the identity's keys. */
    cr_assert(memcmp(s[0], a->box_sk, 32) != 0 && memcmp(s[0], a->sign_sk, 32) != 0);
    /* A NULL identity gives zeros, a NULL output is ignored. */
    msd_memory_salt(t, NULL, 0);
    for (int i = 0; i < 32; i++) cr_assert_eq(t[i], 0);
    msd_memory_salt(NULL, a, 0);
    msd_identity_destroy(a);
    msd_identity_destroy(a2);
    msd_identity_destroy(b);
}

typedef struct labels {
    uint64_t chain;
    uint8_t pre[20];
    uint8_t asset[32];
    uint64_t epoch;
} labels;

static msd_data_key *derive(const msd_identity *id, const labels *l)
{
    msd_data_key *k = NULL;
    cr_assert_eq(msd_data_key_derive(&k, id, l->chain, l->pre, l->asset, l->epoch), MSD_OK);
    cr_assert_not_null(k);
    uint8_t asset[32];
    cr_assert_eq(msd_data_key_info(k, asset), l->epoch);
    cr_assert_arr_eq(asset, l->asset, 32);
    return k;
}

static msd_context ctx_of(const labels *l, uint64_t version)
{
    msd_context c;
    memset(&c, 0, sizeof c);
    c.chain_id = l->chain;
    memcpy(c.precompile, l->pre, 20);
    memcpy(c.asset_id, l->asset, 32);
    c.version = version;
    c.key_epoch = l->epoch;
    return c;
}

Test(recovery, data_keys_differ_per_label)
{
    msd_identity *id = dt_identity_seeded(0x41), *other = dt_identity_seeded(0x42);
    labels base;
    memset(&base, 0, sizeof base);
    base.chain = 31337;
    base.pre[19] = 0x53;
    memset(base.asset, 0xa1, 32);
    base.epoch = 1;
    labels v[5];
    for (int i = 0; i < 5; i++) v[i] = base;
    v[1].chain = 31338;
    v[2].pre[0] ^= 1;
    v[3].asset[31] ^= 1;
    v[4].epoch = 2;
    msd_data_key *k[6];
    for (int i = 0; i < 5; i++) k[i] = derive(id, &v[i]);
    k[5] = derive(other, &base);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++) cr_assert(memcmp(k[i]->key, k[j]->key, 32) != 0, "keys %d and %d equal", i, j);

    /* Stable, and as the spec writes it. */
    msd_data_key *again = derive(id, &base);
    cr_assert_arr_eq(again->key, k[0]->key, 32);
    uint8_t seed[32], sub[32], msg[18 + 8 + 20 + 32 + 8], want[32];
    memset(seed, 0x41, sizeof seed);
    cr_assert_eq(crypto_kdf_derive_from_key(sub, 32, 1, "MSdatkey", seed), 0);
    memcpy(msg, "memsync.data-key/1", 18);
    msd_put_be64(msg + 18, base.chain);
    memcpy(msg + 26, base.pre, 20);
    memcpy(msg + 46, base.asset, 32);
    msd_put_be64(msg + 78, base.epoch);
    cr_assert_eq(crypto_generichash(want, 32, msg, sizeof msg, sub, 32), 0);
    cr_assert_arr_eq(k[0]->key, want, 32);

    /* Black box: an envelope under one derived key does not open under the
     * key of another chain id, precompile or identity (same asset, epoch). */
    const msd_context c = ctx_of(&base, 1);
    uint8_t env[512], pt[512];
    size_t env_len = 0, len = 0;
    cr_assert_eq(msd_encrypt(env, sizeof env, &env_len, k[0], &c, (const uint8_t *)"remember", 8), MSD_OK);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, again, &c, env, env_len), MSD_OK);
    cr_assert_eq(len, 8);
    cr_assert_eq(memcmp(pt, "remember", 8), 0);
    const int same_labels[] = {1, 2, 5};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, k[same_labels[i]], &c, env, env_len), MSD_ERR_WRONG_KEY);
    for (int i = 0; i < 6; i++) msd_data_key_destroy(k[i]);
    msd_data_key_destroy(again);
    msd_identity_destroy(id);
    msd_identity_destroy(other);
}

/* The recovery story: a device writes under a derived key; a new device
 * with only the phrase finds the memory (salt -> assetId) and reads it. */
Test(recovery, new_device_reads_with_the_phrase)
{
    msd_identity *old = NULL, *fresh = NULL;
    cr_assert_eq(msd_identity_generate(&old), MSD_OK);
    char p[MSD_MNEMONIC_MAX];
    phrase_of(p, old);
    labels l;
    memset(&l, 0, sizeof l);
    l.chain = 31337;
    l.pre[18] = 0x4d;
    l.pre[19] = 0x53;
    l.epoch = 3;
    uint8_t addr[20], salt[32];
    msd_identity_address(old, addr);
    msd_memory_salt(salt, old, 0);
    msd_asset_id(l.asset, l.pre, addr, salt);
    msd_data_key *k = derive(old, &l);
    const msd_context c = ctx_of(&l, 7);
    uint8_t env[512], pt[512];
    size_t env_len = 0, len = 0;
    cr_assert_eq(msd_encrypt(env, sizeof env, &env_len, k, &c, (const uint8_t *)"a memory", 8), MSD_OK);
    msd_data_key_destroy(k);
    msd_identity_destroy(old);

    cr_assert_eq(from_phrase(&fresh, p), MSD_OK);
    sodium_memzero(p, sizeof p);
    labels l2 = l;
    msd_identity_address(fresh, addr);
    msd_memory_salt(salt, fresh, 0);
    msd_asset_id(l2.asset, l2.pre, addr, salt);
    cr_assert_arr_eq(l2.asset, l.asset, 32);
    msd_data_key *k2 = derive(fresh, &l2);
    cr_assert_eq(msd_decrypt(pt, sizeof pt, &len, k2, &c, env, env_len), MSD_OK);
    cr_assert_eq(len, 8);
    cr_assert_eq(memcmp(pt, "a memory", 8), 0);
    msd_data_key_destroy(k2);
    msd_identity_destroy(fresh);
}

Test(recovery, data_key_derive_arguments)
{
    msd_identity *id = dt_identity_seeded(0x41);
    uint8_t pre[20] = {0}, asset[32] = {0};
    msd_data_key *k = (msd_data_key *)(uintptr_t)1;
    cr_assert_eq(msd_data_key_derive(&k, id, 1, pre, asset, 0), MSD_ERR_ARGS);
    cr_assert_null(k);
    cr_assert_eq(msd_data_key_derive(NULL, id, 1, pre, asset, 1), MSD_ERR_ARGS);
    cr_assert_eq(msd_data_key_derive(&k, NULL, 1, pre, asset, 1), MSD_ERR_ARGS);
    cr_assert_eq(msd_data_key_derive(&k, id, 1, NULL, asset, 1), MSD_ERR_ARGS);
    cr_assert_eq(msd_data_key_derive(&k, id, 1, pre, NULL, 1), MSD_ERR_ARGS);
    cr_assert_null(k);
    cr_assert_eq(msd_data_key_derive(&k, id, 1, pre, asset, UINT64_MAX), MSD_OK);
    msd_data_key_destroy(k);
    msd_identity_destroy(id);
}

/* ----------------------------------------------- spec/vectors/recovery.json */

static void hex_field(uint8_t *out, size_t n, json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    cr_assert_not_null(s, "%s: missing %s", VECTORS, name);
    size_t got = 0;
    cr_assert_eq(sodium_hex2bin(out, n, s, strlen(s), NULL, &got, NULL), 0, "%s: bad hex %s", VECTORS, name);
    cr_assert_eq(got, n, "%s: %s is %zu bytes, not %zu", VECTORS, name, got, n);
}

static uint64_t u64_field(json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    cr_assert_not_null(s, "%s: missing %s", VECTORS, name);
    cr_assert(isdigit((unsigned char)s[0]));
    char *end = NULL;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 10);
    cr_assert(errno == 0 && *end == '\0', "%s: bad u64 %s", VECTORS, name);
    return (uint64_t)v;
}

Test(recovery, known_answers)
{
    json_error_t err;
    json_t *root = json_load_file(VECTORS, 0, &err);
    cr_assert_not_null(root, "%s: %s (line %d); run from the repository root", VECTORS, err.text, err.line);
    json_t *seeds = json_object_get(root, "seeds");
    cr_assert(json_is_array(seeds) && json_array_size(seeds) >= 4);
    size_t i, references = 0, salts = 0, keys = 0;
    json_t *v;
    json_array_foreach(seeds, i, v) {
        uint8_t seed[32], addr[20], got_addr[20];
        hex_field(seed, 32, v, "seed");
        hex_field(addr, 20, v, "address");
        const char *phrase = json_string_value(json_object_get(v, "phrase"));
        cr_assert_not_null(phrase);
        references += json_is_true(json_object_get(v, "bip39_reference"));

        msd_identity *id = NULL, *back = NULL;
        cr_assert_eq(msd_identity_from_seed(&id, seed), MSD_OK);
        char p[MSD_MNEMONIC_MAX];
        phrase_of(p, id);
        cr_assert_str_eq(p, phrase, "seed %zu", i);
        cr_assert_eq(from_phrase(&back, phrase), MSD_OK);
        cr_assert_arr_eq(back->seed, seed, 32);
        msd_identity_address(back, got_addr);
        cr_assert_arr_eq(got_addr, addr, 20);

        size_t j;
        json_t *s;
        json_array_foreach(json_object_get(v, "memory_salts"), j, s) {
            const json_int_t shard = json_integer_value(json_object_get(s, "shard"));
            cr_assert(json_is_integer(json_object_get(s, "shard")) && shard >= 0 && shard <= (json_int_t)UINT32_MAX);
            uint8_t want[32], got[32];
            hex_field(want, 32, s, "salt");
            msd_memory_salt(got, back, (uint32_t)shard);
            cr_assert_arr_eq(got, want, 32, "seed %zu shard %lld", i, (long long)shard);
            salts++;
        }
        json_t *d;
        json_array_foreach(json_object_get(v, "data_keys"), j, d) {
            labels l;
            uint8_t want[32];
            l.chain = u64_field(d, "chain_id");
            l.epoch = u64_field(d, "key_epoch");
            hex_field(l.pre, 20, d, "precompile");
            hex_field(l.asset, 32, d, "asset_id");
            hex_field(want, 32, d, "key");
            msd_data_key *k = derive(back, &l);
            cr_assert_arr_eq(k->key, want, 32, "seed %zu data key %zu", i, j);
            msd_data_key_destroy(k);
            if (j == 0) {
                /* The first label's asset is the owner's shard 0. */
                uint8_t salt[32], asset[32];
                msd_memory_salt(salt, back, 0);
                msd_asset_id(asset, l.pre, got_addr, salt);
                cr_assert_arr_eq(asset, l.asset, 32);
            }
            keys++;
        }
        msd_identity_destroy(back);
        msd_identity_destroy(id);
    }
    cr_assert_eq(references, 4, "the four BIP-39 reference seeds");
    cr_assert(salts >= 2 * json_array_size(seeds) && keys >= 2 * json_array_size(seeds));
    json_decref(root);
}
