/* make bench: every contract function at typical and worst-case inputs,
 * through the public header (the .so is loaded with dlopen), as ns per call,
 * gas per call and million gas per second. Each figure is the median of
 * several rounds. Blocks are filled to 30 million gas, as on a chain, and
 * each commit's time is shared by the block's calls in proportion to gas.
 *
 * Then:
 * - per core: an owner's direct append and reads of a retained version
 *   (warm cache), from the table, against 200,000 calls per second.
 * Then, on a fresh store so that they do not depend on the table, ratios
 * measured in one run, each the median of interleaved rounds (the
 * machine's load weighs on both sides alike), with the rounds that missed
 * the target counted:
 * - a signed 1 KiB append through execute against its physical limit (the
 *   same inputs through libsecp256k1 and Keccak, and the append's records
 *   put into a RocksDB write batch, called directly); issue 6's target
 *   0.85. Then the same with each side's block write added (the limit's
 *   synced batch; the module's commit_block, which also builds the state
 *   root and the undo record); issue 15's target 0.80. Each side runs a
 *   round's blocks back to back; the tree's write that a commit_block
 *   leaves running (spec/host-abi.md [HOST-54]) runs beside the module's
 *   next block, and the last one is waited for within the module's time.
 *   Before the counted rounds, R blocks of appends (R = the config's
 *   reorg_depth, 64) fill the reorg window, so that every counted commit
 *   prunes tree nodes as a chain past height R does;
 * - commit_block of blocks of 1,000 and 10,000 new records, state root
 *   included, against a synced RocksDB batch of the same records alone;
 *   issue 15's target: at most 1.5 times the batch at 10,000. The tree's
 *   write the commit leaves running is waited for before the batch is
 *   timed, and printed on its own. Likewise R blocks of each size fill the
 *   window first (for 10,000 writes the store then holds about 1M
 *   records), both stores alike.
 * Last, the process's peak resident memory over the whole run (instances
 * and the bench's own buffers) against MS_MEMORY_BOUND_MIB.
 *
 * Exit status 1 (issue 15: a target missed in most rounds fails the run,
 * one noisy round does not):
 * - a case of the table below the 60 Mgas/s anchor (EIP-7904), by its
 *   median over ROUNDS;
 * - the signed append with the block writes below 0.80, or commit_block of
 *   10,000 writes above 1.5 times the batch, in more than half of the
 *   rounds (an odd number, so this is also when the median misses);
 * - a peak RSS above MS_MEMORY_BOUND_MIB.
 * Reported only: the per-core rates, issue 6's execute-only 0.85 (as
 * before issue 15) and the 1,000-write commit. Exit status 2: an error.
 *
 * Usage: bench MODULE.so [JSON_OUT] [--no-table] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <rocksdb/c.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "abi/abi_encode.h"
#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "memsync.h"

#define ROUNDS 5
#define ITERS 200                  /* at least this many timed calls per round */
#define BLOCK_GAS 30000000u        /* a block is committed when this much gas is used */
#define CASE_GAS (2u * BLOCK_GAS)  /* and at least this much timed gas per round */
#define TARGET_MGAS 60

typedef struct bench {
    const ms_module *m;
    ms_instance *inst;
    ms_config cfg;
    ms_block_context block;
    secp256k1_context *secp;
    uint8_t owner_key[32], owner[20];
    uint8_t writer_key[32], writer[20];
    uint64_t height;
    uint64_t salt_counter;
    ms_buf cd;
    uint8_t last_id[32];
    uint64_t block_gas;        /* gas of every call in the pending block */
    uint64_t block_timed_gas;  /* of which timed calls */
} bench;

static void die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void address_of(bench *b, uint8_t out[20], const uint8_t key[32])
{
    secp256k1_pubkey pk;
    uint8_t ser[65];
    size_t n = sizeof ser;
    uint8_t h[32];
    if (!secp256k1_ec_pubkey_create(b->secp, &pk, key)) die("bad key");
    secp256k1_ec_pubkey_serialize(b->secp, ser, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
    ms_keccak256(h, ser + 1, 64);
    memcpy(out, h + 12, 20);
}

static void sign(bench *b, uint8_t sig[65], const uint8_t digest[32], const uint8_t key[32])
{
    secp256k1_ecdsa_recoverable_signature rs;
    int recid;
    if (!secp256k1_ecdsa_sign_recoverable(b->secp, &rs, digest, key, NULL, NULL)) die("sign");
    secp256k1_ecdsa_recoverable_signature_serialize_compact(b->secp, sig, &recid, &rs);
    sig[64] = (uint8_t)(27 + recid);
}

/* Execute calldata cd as `from`; returns the result (statuses checked by callers). */
static ms_result call_cd(bench *b, const uint8_t from[20], const ms_buf *cd)
{
    ms_message msg;
    ms_result r;
    memset(&msg, 0, sizeof msg);
    msg.kind = MS_CALL;
    memcpy(msg.caller.bytes, from, 20);
    msg.input = cd->data;
    msg.input_size = cd->size;
    msg.gas = 100000000;
    if (b->m->execute(b->inst, &r, &b->block, &msg) != MS_OK) die("execute");
    if (r.status == MS_FATAL) die("fatal status");
    b->block_gas += r.gas_used;
    return r;
}

static ms_result call(bench *b, const uint8_t from[20]) { return call_cd(b, from, &b->cd); }

static void commit(bench *b)
{
    ms_bytes32 root;
    b->height++;
    b->block.number = b->height + 1;
    if (b->m->commit_block(b->inst, &root, b->height) != MS_OK) die("commit");
    b->block_gas = 0;
    b->block_timed_gas = 0;
}

/* Wait for the tree's write that the last commit_block left running
 * (spec/host-abi.md [HOST-54]): a root query at that height joins it.
 * Returns the time it took. */
static uint64_t settle(bench *b)
{
    ms_bytes32 root;
    const uint64_t t0 = now_ns();
    if (b->m->root_at(b->inst, &root, b->height) != MS_OK) die("root_at");
    return now_ns() - t0;
}

static void envelope(uint8_t *ct, size_t len, uint64_t epoch, uint64_t seed)
{
    memset(ct, 0, len);
    ct[0] = 1;
    ct[1] = 1;
    for (int i = 0; i < 8; i++) ct[2 + i] = (uint8_t)(epoch >> (56 - 8 * i));
    for (size_t i = 10; i < len; i++) ct[i] = (uint8_t)(seed * 131u + i * 7u + 1u);
}

/* ------------------------------------------------------------- calldata */

static void cd_create(bench *b, const uint8_t owner[20], const uint8_t *ct, size_t len)
{
    uint8_t salt[32] = {0};
    b->salt_counter++;
    for (int i = 0; i < 8; i++) salt[24 + i] = (uint8_t)(b->salt_counter >> (56 - 8 * i));
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_CREATE_MEMORY);
    ms_abi_put_word(&b->cd, salt);
    ms_abi_put_word(&b->cd, salt);
    ms_abi_put_uint(&b->cd, 96);
    ms_abi_put_bytes_tail(&b->cd, ct, len);
    /* The asset id, as the module derives it. */
    uint8_t pre[72];
    memcpy(pre, b->cfg.precompile_address.bytes, 20);
    memcpy(pre + 20, owner, 20);
    memcpy(pre + 40, salt, 32);
    ms_keccak256(b->last_id, pre, sizeof pre);
}

static void cd_append(bench *b, const uint8_t id[32], uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t len)
{
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_APPEND_VERSION);
    ms_abi_put_word(&b->cd, id);
    ms_abi_put_uint(&b->cd, expected);
    ms_abi_put_uint(&b->cd, epoch);
    ms_abi_put_uint(&b->cd, 128);
    ms_abi_put_bytes_tail(&b->cd, ct, len);
}

/* appendVersionSigned calldata into cd; the signature is also left in sig. */
static void encode_append_signed(bench *b, ms_buf *cd, uint8_t sig[65], const uint8_t id[32], uint64_t expected,
                                 const uint8_t *ct, size_t len, const uint8_t key[32], const uint8_t signer[20],
                                 uint64_t nonce)
{
    ms_eip712_append m;
    uint8_t domain[32], digest[32];
    memset(&m, 0, sizeof m);
    memcpy(m.asset_id, id, 32);
    m.expected_version = expected;
    m.key_epoch = 1;
    ms_keccak256(m.ciphertext_hash, ct, len);
    memcpy(m.signer, signer, 20);
    m.nonce = nonce;
    memset(m.deadline, 0xff, 32);
    ms_eip712_domain(domain, b->cfg.chain_id, b->cfg.precompile_address.bytes);
    ms_eip712_append_digest(digest, domain, &m);
    sign(b, sig, digest, key);
    ms_buf_reset(cd);
    ms_abi_put_selector(cd, MS_FN_APPEND_VERSION_SIGNED);
    ms_abi_put_word(cd, id);
    ms_abi_put_uint(cd, expected);
    ms_abi_put_uint(cd, 1);
    ms_abi_put_uint(cd, 256);
    ms_abi_put_address(cd, signer);
    ms_abi_put_uint(cd, nonce);
    ms_abi_put_word(cd, m.deadline);
    ms_abi_put_uint(cd, 256 + 32 * ms_abi_bytes_tail_words(len));
    ms_abi_put_bytes_tail(cd, ct, len);
    ms_abi_put_bytes_tail(cd, sig, 65);
}

static void cd_append_signed(bench *b, const uint8_t id[32], uint64_t expected, const uint8_t *ct, size_t len,
                             const uint8_t key[32], const uint8_t signer[20], uint64_t nonce)
{
    uint8_t sig[65];
    encode_append_signed(b, &b->cd, sig, id, expected, ct, len, key, signer, nonce);
}

static void cd_id(bench *b, uint32_t sel, const uint8_t id[32])
{
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, sel);
    ms_abi_put_word(&b->cd, id);
}

static void cd_id_u64(bench *b, uint32_t sel, const uint8_t id[32], uint64_t v)
{
    cd_id(b, sel, id);
    ms_abi_put_uint(&b->cd, v);
}

static void cd_grant(bench *b, const uint8_t id[32], const uint8_t grantee[20], uint8_t perms, size_t wrapped_len)
{
    uint8_t wrapped[MS_MAX_WRAPPED_KEY_CEILING];
    memset(wrapped, 0xA5, sizeof wrapped);
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_GRANT_ACCESS);
    ms_abi_put_word(&b->cd, id);
    ms_abi_put_address(&b->cd, grantee);
    ms_abi_put_uint(&b->cd, perms);
    ms_abi_put_uint(&b->cd, 0);
    ms_abi_put_uint(&b->cd, 160);
    ms_abi_put_bytes_tail(&b->cd, wrapped, wrapped_len);
}

/* ---------------------------------------------------------------- cases */

typedef struct sample {
    uint64_t ns;     /* timed work, commits included */
    uint64_t exec_ns; /* of which the calls themselves */
    uint64_t gas;    /* gas of the timed calls */
    uint64_t calls;
} sample;

typedef void (*case_fn)(bench *b, sample *s);

/* Time one call of b->cd as `from`; add it to s. Returns the result. */
static ms_result timed(bench *b, sample *s, const uint8_t from[20], ms_status want)
{
    const uint64_t t0 = now_ns();
    const ms_result r = call(b, from);
    const uint64_t dt = now_ns() - t0;
    s->ns += dt;
    s->exec_ns += dt;
    s->gas += r.gas_used;
    s->calls++;
    b->block_timed_gas += r.gas_used;
    if (r.status != want) {
        fprintf(stderr, "bench: unexpected status %d (want %d)\n", (int)r.status, (int)want);
        exit(2);
    }
    return r;
}

/* A chain syncs once per block, not per call: the commit's time is shared
 * by the block's calls in proportion to their gas, and a block counts as
 * at least BLOCK_GAS so that a small final block is not overcharged. */
static void timed_commit(bench *b, sample *s)
{
    const uint64_t timed_gas = b->block_timed_gas;
    const uint64_t total = b->block_gas > BLOCK_GAS ? b->block_gas : BLOCK_GAS;
    const uint64_t t0 = now_ns();
    commit(b);
    s->ns += (now_ns() - t0) * timed_gas / total;
}

static void maybe_commit(bench *b, sample *s)
{
    if (b->block_gas >= BLOCK_GAS) timed_commit(b, s);
}

/* Keep going until both the call count and the gas of a round are reached. */
static int more(const sample *s, uint64_t i)
{
    return i < ITERS || s->gas < CASE_GAS;
}

static uint8_t big_ct[MS_MAX_CIPHERTEXT_CEILING];

static void new_asset(bench *b, size_t ct_len)
{
    envelope(big_ct, ct_len, 1, b->salt_counter);
    cd_create(b, b->owner, big_ct, ct_len);
    if (call(b, b->owner).status != MS_SUCCESS) die("setup create");
}

static void run_appends(bench *b, sample *s, size_t len, int signed_by_writer)
{
    new_asset(b, 0);
    uint8_t id[32];
    memcpy(id, b->last_id, 32);
    if (signed_by_writer) {
        cd_grant(b, id, b->writer, 3, 80);
        if (call(b, b->owner).status != MS_SUCCESS) die("setup grant");
    }
    commit(b);
    /* Past version K every append also prunes: the costlier path. */
    const uint64_t warm = b->cfg.retained_versions;
    uint64_t nonce = 0;
    for (uint64_t v = 0; v < warm || more(s, v - warm); v++) {
        envelope(big_ct, len, 1, v);
        if (signed_by_writer) {
            ms_result r;
            ms_buf_reset(&b->cd);
            ms_abi_put_selector(&b->cd, MS_FN_NONCE_OF);
            ms_abi_put_address(&b->cd, b->writer);
            r = call(b, b->writer);
            nonce = 0;
            for (int i = 24; i < 32; i++) nonce = (nonce << 8) | r.output[i];
            cd_append_signed(b, id, v, big_ct, len, b->writer_key, b->writer, nonce);
        } else {
            cd_append(b, id, v, 1, big_ct, len);
        }
        if (v < warm) {
            if (call(b, b->owner).status != MS_SUCCESS) die("setup append");
        } else {
            timed(b, s, b->owner, MS_SUCCESS);
        }
        maybe_commit(b, s);
    }
    timed_commit(b, s);
}

static void case_append_min(bench *b, sample *s) { run_appends(b, s, 50, 0); }
static void case_append_1k(bench *b, sample *s) { run_appends(b, s, 1024, 0); }
static void case_append_max(bench *b, sample *s) { run_appends(b, s, b->cfg.max_ciphertext, 0); }
static void case_append_signed_min(bench *b, sample *s) { run_appends(b, s, 50, 1); }
static void case_append_signed_1k(bench *b, sample *s) { run_appends(b, s, 1024, 1); }

static void run_creates(bench *b, sample *s, size_t len)
{
    for (uint64_t i = 0; more(s, i); i++) {
        envelope(big_ct, len, 1, i);
        cd_create(b, b->owner, big_ct, len);
        timed(b, s, b->owner, MS_SUCCESS);
        maybe_commit(b, s);
    }
    timed_commit(b, s);
}

static void case_create_empty(bench *b, sample *s) { run_creates(b, s, 0); }
static void case_create_min(bench *b, sample *s) { run_creates(b, s, 50); }
static void case_create_1k(bench *b, sample *s) { run_creates(b, s, 1024); }

/* An asset with K retained versions of len bytes and `grants` grants. */
static void full_asset(bench *b, size_t len, uint32_t grants)
{
    new_asset(b, 0);
    uint8_t id[32];
    memcpy(id, b->last_id, 32);
    for (uint64_t v = 0; v < b->cfg.retained_versions; v++) {
        envelope(big_ct, len, 1, v);
        cd_append(b, id, v, 1, big_ct, len);
        if (call(b, b->owner).status != MS_SUCCESS) die("setup append");
    }
    for (uint32_t g = 0; g < grants; g++) {
        uint8_t grantee[20] = {0x77};
        grantee[19] = (uint8_t)(g + 1);
        cd_grant(b, id, grantee, 1, b->cfg.max_wrapped_key);
        if (call(b, b->owner).status != MS_SUCCESS) die("setup grant");
    }
    memcpy(b->last_id, id, 32);
}

/* Reads cycle over more assets than the state's recent-read memo holds
 * (MS_STATE_RECENT records, replaced in turn), so every call goes to
 * RocksDB's block cache: warm, as a busy node's would be, but never served
 * by the memo of the previous call. */
#define READ_SET 16

static void run_reads(bench *b, sample *s, size_t len, void (*make)(bench *b, const uint8_t id[32]))
{
    uint8_t ids[READ_SET][32];
    for (unsigned k = 0; k < READ_SET; k++) {
        full_asset(b, len, b->cfg.max_grants);
        memcpy(ids[k], b->last_id, 32);
    }
    commit(b);
    for (uint64_t i = 0; more(s, i); i++) {
        make(b, ids[i % READ_SET]);
        timed(b, s, b->owner, MS_SUCCESS);
    }
}

static void mk_head(bench *b, const uint8_t id[32]) { cd_id(b, MS_FN_GET_HEAD, id); }
static void mk_version(bench *b, const uint8_t id[32]) { cd_id_u64(b, MS_FN_GET_VERSION, id, b->cfg.retained_versions); }
static void mk_info(bench *b, const uint8_t id[32]) { cd_id_u64(b, MS_FN_GET_VERSION_INFO, id, 1); }
static void mk_grants(bench *b, const uint8_t id[32]) { cd_id(b, MS_FN_GET_GRANTS, id); }
static void mk_grant(bench *b, const uint8_t id[32])
{
    uint8_t grantee[20] = {0x77};
    grantee[19] = 1;
    cd_id(b, MS_FN_GET_GRANT, id);
    ms_abi_put_address(&b->cd, grantee);
}
/* A signer per asset of the read set (never seen: the bloom filter's path),
 * so that no call is served by the previous call's memo. */
static void mk_nonce(bench *b, const uint8_t id[32])
{
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_NONCE_OF);
    ms_abi_put_address(&b->cd, id);
}
static void mk_domain(bench *b, const uint8_t id[32])
{
    (void)id;
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_DOMAIN_SEPARATOR);
}
static void mk_eip712_domain(bench *b, const uint8_t id[32])
{
    (void)id;
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_EIP712_DOMAIN);
}

static void case_get_head(bench *b, sample *s) { run_reads(b, s, 50, mk_head); }
static void case_get_version_1k(bench *b, sample *s) { run_reads(b, s, 1024, mk_version); }
static void case_get_version_max(bench *b, sample *s) { run_reads(b, s, b->cfg.max_ciphertext, mk_version); }
static void case_get_version_info(bench *b, sample *s) { run_reads(b, s, 50, mk_info); }
static void case_get_grants_max(bench *b, sample *s) { run_reads(b, s, 50, mk_grants); }
static void case_get_grant(bench *b, sample *s) { run_reads(b, s, 50, mk_grant); }
static void case_nonce_of(bench *b, sample *s) { run_reads(b, s, 50, mk_nonce); }
static void case_domain(bench *b, sample *s) { run_reads(b, s, 50, mk_domain); }
static void case_eip712_domain(bench *b, sample *s) { run_reads(b, s, 50, mk_eip712_domain); }

static void case_unknown_selector(bench *b, sample *s)
{
    for (uint64_t i = 0; more(s, i); i++) {
        ms_buf_reset(&b->cd);
        ms_abi_put_selector(&b->cd, 0xdeadbeefu);
        timed(b, s, b->owner, MS_REVERT);
    }
}

static void case_grant_revoke(bench *b, sample *s)
{
    full_asset(b, 50, b->cfg.max_grants - 1);
    commit(b);
    uint8_t id[32];
    memcpy(id, b->last_id, 32);
    uint8_t first[20] = {0x77};
    first[19] = 1;
    for (uint64_t i = 0; more(s, i); i++) {
        uint8_t grantee[20] = {0x55, 0x55};
        for (int k = 0; k < 8; k++) grantee[12 + k] = (uint8_t)(i >> (8 * k));
        cd_grant(b, id, grantee, 3, b->cfg.max_wrapped_key);
        timed(b, s, b->owner, MS_SUCCESS);
        /* Revoking the first slot moves the last grant: the costlier path. */
        cd_id(b, MS_FN_REVOKE_ACCESS, id);
        ms_abi_put_address(&b->cd, first);
        timed(b, s, b->owner, MS_SUCCESS);
        /* Back to max - 1 grants, untimed. */
        cd_grant(b, id, first, 1, 32);
        if (call(b, b->owner).status != MS_SUCCESS) die("setup regrant");
        cd_id(b, MS_FN_REVOKE_ACCESS, id);
        ms_abi_put_address(&b->cd, grantee);
        if (call(b, b->owner).status != MS_SUCCESS) die("setup revoke");
        maybe_commit(b, s);
    }
    timed_commit(b, s);
}

static void case_rotate(bench *b, sample *s)
{
    new_asset(b, 0);
    uint8_t id[32];
    memcpy(id, b->last_id, 32);
    for (uint64_t i = 0; more(s, i); i++) {
        cd_id(b, MS_FN_ROTATE_KEY, id);
        timed(b, s, b->owner, MS_SUCCESS);
        maybe_commit(b, s);
    }
    timed_commit(b, s);
}

/* The largest revocation and shredding work: max grants, K retained versions. */
static void run_destructive(bench *b, sample *s, int shred)
{
    for (uint64_t i = 0; i < ITERS / 10 || s->gas < CASE_GAS; i++) {
        full_asset(b, 50, b->cfg.max_grants);
        uint8_t id[32];
        memcpy(id, b->last_id, 32);
        if (shred) {
            cd_id(b, MS_FN_SHRED_MEMORY, id);
        } else {
            cd_id(b, MS_FN_TRANSFER_OWNERSHIP, id);
            ms_abi_put_address(&b->cd, b->writer);
        }
        timed(b, s, b->owner, MS_SUCCESS);
        maybe_commit(b, s);
    }
    timed_commit(b, s);
}

static void case_transfer(bench *b, sample *s) { run_destructive(b, s, 0); }
static void case_shred(bench *b, sample *s) { run_destructive(b, s, 1); }

/* Deletion's worst mix (issue 14): shreds of committed assets holding K
 * max-size versions, so that commit reads every deleted ciphertext back and
 * copies it into the block's undo record. The assets are written and
 * committed untimed; the shreds and their block's commit are timed. */
static void case_shred_max(bench *b, sample *s)
{
    enum { BATCH = 4 };
    for (uint64_t i = 0; i < ITERS / 20 || s->gas < CASE_GAS;) {
        uint8_t ids[BATCH][32];
        for (int k = 0; k < BATCH; k++) {
            full_asset(b, b->cfg.max_ciphertext, 0);
            memcpy(ids[k], b->last_id, 32);
        }
        commit(b);
        for (int k = 0; k < BATCH; k++, i++) {
            cd_id(b, MS_FN_SHRED_MEMORY, ids[k]);
            timed(b, s, b->owner, MS_SUCCESS);
        }
        timed_commit(b, s);
    }
}

static void case_wrong_signer(bench *b, sample *s)
{
    new_asset(b, 0);
    uint8_t id[32];
    memcpy(id, b->last_id, 32);
    envelope(big_ct, 50, 1, 1);
    /* Signed by the writer but claiming the owner: full recovery, then revert. */
    cd_append_signed(b, id, 0, big_ct, 50, b->writer_key, b->owner, 0);
    for (uint64_t i = 0; more(s, i); i++) timed(b, s, b->owner, MS_REVERT);
}

typedef struct bench_case {
    const char *name;
    const char *input;
    case_fn fn;
} bench_case;

static const bench_case CASES[] = {
    { "unknown selector", "4 bytes", case_unknown_selector },
    { "createMemory", "no version", case_create_empty },
    { "createMemory", "first version 50 B", case_create_min },
    { "createMemory", "first version 1 KiB", case_create_1k },
    { "appendVersion", "owner, 50 B, prunes", case_append_min },
    { "appendVersion", "owner, 1 KiB, prunes", case_append_1k },
    { "appendVersion", "owner, max size, prunes", case_append_max },
    { "appendVersionSigned", "grantee, 50 B, prunes", case_append_signed_min },
    { "appendVersionSigned", "grantee, 1 KiB, prunes", case_append_signed_1k },
    { "appendVersionSigned", "wrong signer (revert)", case_wrong_signer },
    { "grantAccess+revokeAccess", "max wrapped key, swap", case_grant_revoke },
    { "rotateKey", "", case_rotate },
    { "transferOwnership", "max grants revoked", case_transfer },
    { "shredMemory", "K versions, max grants", case_shred },
    { "shredMemory", "K max-size, committed", case_shred_max },
    { "getHead", "", case_get_head },
    { "getVersion", "1 KiB", case_get_version_1k },
    { "getVersion", "max size", case_get_version_max },
    { "getVersionInfo", "", case_get_version_info },
    { "getGrants", "max grants", case_get_grants_max },
    { "getGrant", "max wrapped key", case_get_grant },
    { "nonceOf", "", case_nonce_of },
    { "domainSeparator", "", case_domain },
    { "eip712Domain", "", case_eip712_domain },
};

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------- rounds against targets
 * Issue 15: a target is judged on interleaved rounds, each giving one ratio
 * in thousandths; the figure is their median and a target fails the run
 * only when most rounds miss it. Rounds are kept in their order for the
 * JSON, so the median is taken on a copy. */
#define MAX_ROUNDS 41

static uint64_t median_of(const uint64_t *v, int n)
{
    uint64_t tmp[MAX_ROUNDS];
    if (n < 1 || n > MAX_ROUNDS) die("rounds out of range");
    memcpy(tmp, v, (size_t)n * sizeof tmp[0]);
    qsort(tmp, (size_t)n, sizeof tmp[0], cmp_u64);
    return tmp[n / 2];
}

/* Rounds below `at_least` (a floor target) or above `at_most` (a ceiling). */
static int missed_below(const uint64_t *v, int n, uint64_t at_least)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += v[i] < at_least;
    return k;
}

static int missed_above(const uint64_t *v, int n, uint64_t at_most)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += v[i] > at_most;
    return k;
}

static int most_rounds(int missed, int n) { return 2 * missed > n; }

/* Thousandths as a decimal, for the text and the JSON alike. */
static void put_permille(FILE *f, uint64_t p)
{
    fprintf(f, "%llu.%03llu", (unsigned long long)(p / 1000), (unsigned long long)(p % 1000));
}

static void put_rounds(FILE *f, const char *sep, const uint64_t *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) fputs(sep, f);
        put_permille(f, v[i]);
    }
}

static void open_instance(bench *b, const char *so_path, char *dir)
{
    void *h = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) die(dlerror());
    ms_module_get_fn get;
    *(void **)&get = dlsym(h, MS_MODULE_ENTRY_NAME);
    if (get == NULL) die("entry symbol missing");
    b->m = get();
    if (b->m->abi_version != MS_ABI_VERSION) die("ABI version mismatch");
    b->m->default_config(&b->cfg);
    if (mkdtemp(dir) == NULL) die("mkdtemp");
    const ms_rc rc = b->m->create(&b->inst, &b->cfg, dir);
    if (rc != MS_OK) die(b->m->rc_string(rc));
}

static void remove_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", dir);
}

/* Replace the instance with one on an empty store, so that figures after
 * the table do not depend on which cases ran before: the commit's reads
 * (undo records, tree nodes) slow down as the store grows. */
static void fresh_instance(bench *b, char *dir)
{
    b->m->destroy(b->inst);
    remove_dir(dir);
    memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
    if (mkdtemp(dir) == NULL) die("mkdtemp");
    const ms_rc rc = b->m->create(&b->inst, &b->cfg, dir);
    if (rc != MS_OK) die(b->m->rc_string(rc));
    b->block_gas = 0;
    b->block_timed_gas = 0;
}

/* --------------------------------------- physical limit of a signed append
 * What a signed 1 KiB append cannot avoid, measured in the same run as the
 * module and on the same inputs: the ciphertext hash, the EIP-712 digest
 * (domain separator included, as it depends on the block's chain id), the
 * signer's recovery with libsecp256k1 (parse, recover, serialize, address
 * hash), and the records the append writes (nonce, version record,
 * ciphertext, asset record, and the pruned ciphertext's delete and version
 * record) put into a RocksDB write batch. Not in the limit: calldata
 * decoding, the envelope check, reads, gas metering, logs and the pending
 * block's journal. That is issue 6's ratio: the call against the raw cost of
 * its work.
 *
 * Each block's batch is then written, synced, and the module's block
 * committed, and both are timed too: the ratio with the writes has issue
 * 15's target of 0.80, lower than issue 6's because commit_block does more
 * than the limit's write can stand for: it builds the state root (a Keccak
 * per tree level per changed record) and the undo record a reorg needs,
 * and writes their records as well. Block commits have their own figures
 * below. */

#define POOL 512                   /* owners and assets; a block touches each at most once */
#define SIGNED_CT 1024u
#define LIMIT_ROUNDS 9              /* odd: most rounds miss exactly when the median does */
#define LIMIT_BLOCKS 2              /* blocks per round, each filled to BLOCK_GAS */
#define LIMIT_TARGET_PERMILLE 850   /* limit time / module time, execute only, issue 6 */
#define WHOLE_TARGET_PERMILLE 800   /* the same with each side's block write, issue 15 */
#define CORE_TARGET 200000u         /* calls per second per core, issue 6 */
_Static_assert(LIMIT_ROUNDS % 2 == 1 && LIMIT_ROUNDS <= MAX_ROUNDS, "LIMIT_ROUNDS: odd, at most MAX_ROUNDS");

typedef struct pool {
    uint8_t key[POOL][32];
    uint8_t addr[POOL][20];
    uint8_t id[POOL][32];
    uint64_t head[POOL];
    uint64_t nonce[POOL];
    uint32_t next;
} pool;

/* One owner-signed append, relayed by another account. */
typedef struct item {
    uint32_t who;
    uint64_t expected, nonce;
    uint8_t sig[65];
    uint8_t ct[SIGNED_CT];
    ms_buf cd;
} item;

typedef struct limit {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_writeoptions_t *wsync;
    rocksdb_writebatch_t *wb;
    secp256k1_context *secp;
    char dir[32];
} limit;

static void limit_open(limit *l)
{
    char *err = NULL;
    memcpy(l->dir, "/tmp/memsync-limit-XXXXXX", 26);
    if (mkdtemp(l->dir) == NULL) die("mkdtemp");
    l->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(l->opts, 1);
    l->db = rocksdb_open(l->opts, l->dir, &err);
    if (err != NULL || l->db == NULL) die("limit: rocksdb_open");
    l->wsync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(l->wsync, 1);
    l->wb = rocksdb_writebatch_create();
    l->secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
}

static void limit_close(limit *l)
{
    rocksdb_writebatch_destroy(l->wb);
    rocksdb_writeoptions_destroy(l->wsync);
    rocksdb_close(l->db);
    rocksdb_options_destroy(l->opts);
    secp256k1_context_destroy(l->secp);
}

/* tag | asset id | version (u64 big-endian): 41 bytes. */
static void key_id_u64(uint8_t k[41], uint8_t tag, const uint8_t id[32], uint64_t v)
{
    k[0] = tag;
    memcpy(k + 1, id, 32);
    for (int i = 0; i < 8; i++) k[33 + i] = (uint8_t)(v >> (56 - 8 * i));
}

/* The limit's work for one block of items; returns its time in ns, of
 * which *write_ns gets the synced write. Tags and key layouts are those of
 * spec/storage.md. */
static uint64_t limit_block(const bench *b, limit *l, const pool *p, const item *it, size_t n, uint64_t *write_ns)
{
    const uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        const item *x = &it[i];
        ms_eip712_append m;
        uint8_t domain[32], digest[32], ser[65], h[32], rec[124], k[41];
        memset(&m, 0, sizeof m);
        memcpy(m.asset_id, p->id[x->who], 32);
        m.expected_version = x->expected;
        m.key_epoch = 1;
        ms_keccak256(m.ciphertext_hash, x->ct, SIGNED_CT);
        memcpy(m.signer, p->addr[x->who], 20);
        m.nonce = x->nonce;
        memset(m.deadline, 0xff, 32);
        ms_eip712_domain(domain, b->cfg.chain_id, b->cfg.precompile_address.bytes);
        ms_eip712_append_digest(digest, domain, &m);

        secp256k1_ecdsa_recoverable_signature rs;
        secp256k1_pubkey pk;
        size_t ser_len = sizeof ser;
        if (!secp256k1_ecdsa_recoverable_signature_parse_compact(l->secp, &rs, x->sig, x->sig[64] - 27) ||
            !secp256k1_ecdsa_recover(l->secp, &pk, &rs, digest) ||
            !secp256k1_ec_pubkey_serialize(l->secp, ser, &ser_len, &pk, SECP256K1_EC_UNCOMPRESSED)) {
            die("limit: recovery failed");
        }
        ms_keccak256(h, ser + 1, 64);
        if (memcmp(h + 12, m.signer, 20) != 0) die("limit: wrong signer recovered");

        const uint64_t v = x->expected + 1;
        uint8_t nk[21], nv[8];
        nk[0] = 0x06;
        memcpy(nk + 1, m.signer, 20);
        for (int j = 0; j < 8; j++) nv[j] = (uint8_t)((x->nonce + 1) >> (56 - 8 * j));
        rocksdb_writebatch_put(l->wb, (const char *)nk, sizeof nk, (const char *)nv, sizeof nv);
        memset(rec, 0, sizeof rec);
        memcpy(rec, digest, 32);
        memcpy(rec + 32, m.ciphertext_hash, 32);
        key_id_u64(k, 0x02, m.asset_id, v);
        rocksdb_writebatch_put(l->wb, (const char *)k, sizeof k, (const char *)rec, 101);
        key_id_u64(k, 0x03, m.asset_id, v);
        rocksdb_writebatch_put(l->wb, (const char *)k, sizeof k, (const char *)x->ct, SIGNED_CT);
        k[0] = 0x01;   /* the asset key is the version key's first 33 bytes */
        rocksdb_writebatch_put(l->wb, (const char *)k, 33, (const char *)rec, 124);
        if (v > b->cfg.retained_versions) {
            key_id_u64(k, 0x03, m.asset_id, v - b->cfg.retained_versions);
            rocksdb_writebatch_delete(l->wb, (const char *)k, sizeof k);
            k[0] = 0x02;
            rocksdb_writebatch_put(l->wb, (const char *)k, sizeof k, (const char *)rec, 101);
        }
    }
    char *err = NULL;
    const uint64_t t1 = now_ns();
    rocksdb_write(l->db, l->wsync, l->wb, &err);
    if (err != NULL) die("limit: rocksdb_write");
    const uint64_t t2 = now_ns();
    *write_ns += t2 - t1;
    rocksdb_writebatch_clear(l->wb);
    return t2 - t0;
}

static void pool_setup(bench *b, pool *p)
{
    memset(p, 0, sizeof *p);
    for (uint32_t i = 0; i < POOL; i++) {
        p->key[i][0] = 0x33;
        for (int j = 0; j < 4; j++) p->key[i][28 + j] = (uint8_t)((i + 1) >> (24 - 8 * j));
        address_of(b, p->addr[i], p->key[i]);
        cd_create(b, p->addr[i], big_ct, 0);
        if (call(b, p->addr[i]).status != MS_SUCCESS) die("pool create");
        memcpy(p->id[i], b->last_id, 32);
        /* K versions first, so that every timed append prunes one. */
        for (uint64_t v = 0; v < b->cfg.retained_versions; v++) {
            envelope(big_ct, SIGNED_CT, 1, v);
            cd_append(b, p->id[i], v, 1, big_ct, SIGNED_CT);
            if (call(b, p->addr[i]).status != MS_SUCCESS) die("pool append");
            if (b->block_gas >= BLOCK_GAS) commit(b);
        }
        p->head[i] = b->cfg.retained_versions;
    }
    commit(b);
}

/* The next n appends, one per asset (n <= POOL), each signed by its owner. */
static void prepare_block(bench *b, pool *p, item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        item *x = &it[i];
        const uint32_t who = p->next;
        p->next = (p->next + 1) % POOL;
        x->who = who;
        x->expected = p->head[who]++;
        x->nonce = p->nonce[who]++;
        envelope(x->ct, SIGNED_CT, 1, ++b->salt_counter);
        encode_append_signed(b, &x->cd, x->sig, p->id[who], x->expected, x->ct, SIGNED_CT, p->key[who], p->addr[who],
                             x->nonce);
    }
}

/* The module's work for the same block: execute each append (relayed by
 * another account), then commit_block. Out: commit_ns, the commit's share. */
static uint64_t module_block(bench *b, const item *it, size_t n, uint64_t *commit_ns)
{
    const uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        if (call_cd(b, b->writer, &it[i].cd).status != MS_SUCCESS) die("signed append failed");
    }
    const uint64_t t1 = now_ns();
    commit(b);
    const uint64_t t2 = now_ns();
    *commit_ns += t2 - t1;
    return t2 - t0;
}

typedef struct limit_result {
    size_t per_block;
    uint64_t gas_per_call;
    /* Medians per append over the rounds. */
    uint64_t limit_ns;              /* the limit's work up to its write batch */
    uint64_t exec_ns;               /* the module's execute */
    uint64_t permille;              /* median of the rounds' limit / execute: issue 6's ratio */
    uint64_t write_ns;              /* the limit's synced batch write */
    uint64_t commit_ns;             /* the module's commit_block */
    uint64_t whole_permille;        /* median of the rounds' (limit + write) / (execute + commit) */
    /* Each counted round's ratios, in round order, and the rounds missing their targets. */
    uint64_t round_permille[LIMIT_ROUNDS], round_whole_permille[LIMIT_ROUNDS];
    int missed, whole_missed;
} limit_result;

static void measure_limit(bench *b, limit_result *res)
{
    static pool p;
    limit l;
    memset(&l, 0, sizeof l);
    limit_open(&l);
    pool_setup(b, &p);

    /* One untimed append gives the gas per call and thus the block size. */
    item probe;
    ms_buf_init(&probe.cd);
    prepare_block(b, &p, &probe, 1);
    const ms_result r = call_cd(b, b->writer, &probe.cd);
    if (r.status != MS_SUCCESS) die("signed append probe");
    commit(b);
    ms_buf_free(&probe.cd);
    res->gas_per_call = r.gas_used;
    size_t n = (size_t)((BLOCK_GAS + r.gas_used - 1) / r.gas_used);
    if (n > POOL) n = POOL;
    res->per_block = n;

    item *it = calloc(n * LIMIT_BLOCKS, sizeof *it);
    if (it == NULL) die("out of memory");
    for (size_t i = 0; i < n * LIMIT_BLOCKS; i++) ms_buf_init(&it[i].cd);
    uint64_t lim[LIMIT_ROUNDS], exe[LIMIT_ROUNDS], com[LIMIT_ROUNDS], wri[LIMIT_ROUNDS];
    uint64_t *const ratio = res->round_permille, *const whole_ratio = res->round_whole_permille;
    /* Steady state: past its reorg window a chain's every commit also
     * prunes the tree nodes that the block R heights below made stale.
     * The window is filled with append blocks first, untimed, both sides
     * alike. */
    const uint64_t warm_to = b->height + b->cfg.reorg_depth;
    while (b->height < warm_to) {
        uint64_t ignored = 0;
        prepare_block(b, &p, it, n);
        (void)limit_block(b, &l, &p, it, n, &ignored);
        (void)module_block(b, it, n, &ignored);
    }
    (void)settle(b);
    /* Round 0 warms both stores and is not counted; the order alternates so
     * that drift in the machine's load weighs on both sides alike. */
    for (int round = 0; round <= LIMIT_ROUNDS; round++) {
        uint64_t lns = 0, mns = 0, cns = 0, wns = 0;
        for (int blk = 0; blk < LIMIT_BLOCKS; blk++) prepare_block(b, &p, it + (size_t)blk * n, n);
        /* Each side runs its blocks back to back, as a chain does: the
         * module's tree write after one commit_block runs beside the next
         * block's execution, never beside the limit's work. The last one is
         * waited for at the end of the side's time, and counted in its
         * commit time. */
        for (int side = 0; side < 2; side++) {
            if ((round + side) % 2 == 0) {
                for (int blk = 0; blk < LIMIT_BLOCKS; blk++) lns += limit_block(b, &l, &p, it + (size_t)blk * n, n, &wns);
            } else {
                for (int blk = 0; blk < LIMIT_BLOCKS; blk++) mns += module_block(b, it + (size_t)blk * n, n, &cns);
                const uint64_t sns = settle(b);
                mns += sns;
                cns += sns;
            }
        }
        if (round == 0) continue;
        /* Both sides time their blocks whole; the writes are their parts. */
        const uint64_t appends = n * LIMIT_BLOCKS;
        lim[round - 1] = (lns - wns) / appends;
        exe[round - 1] = (mns - cns) / appends;
        com[round - 1] = cns / appends;
        wri[round - 1] = wns / appends;
        ratio[round - 1] = (lns - wns) * 1000u / (mns - cns);
        whole_ratio[round - 1] = lns * 1000u / mns;
    }
    res->limit_ns = median_of(lim, LIMIT_ROUNDS);
    res->exec_ns = median_of(exe, LIMIT_ROUNDS);
    res->commit_ns = median_of(com, LIMIT_ROUNDS);
    res->write_ns = median_of(wri, LIMIT_ROUNDS);
    res->permille = median_of(ratio, LIMIT_ROUNDS);
    res->whole_permille = median_of(whole_ratio, LIMIT_ROUNDS);
    res->missed = missed_below(ratio, LIMIT_ROUNDS, LIMIT_TARGET_PERMILLE);
    res->whole_missed = missed_below(whole_ratio, LIMIT_ROUNDS, WHOLE_TARGET_PERMILLE);

    for (size_t i = 0; i < n * LIMIT_BLOCKS; i++) ms_buf_free(&it[i].cd);
    free(it);
    limit_close(&l);
    remove_dir(l.dir);
}

/* ------------------------------------------------------- block commits
 * commit_block of a block of `writes` new records (createMemory without a
 * first version writes exactly one, its asset record: key 01 || assetId,
 * 33 bytes, value 124 bytes, spec/storage.md [ST-4]), state root included,
 * against the least a block of those records costs: the same keys (the
 * real asset ids) with 124-byte values put into a RocksDB write batch and
 * written synced, in a store of its own that grows round by round like the
 * module's. Issue 15's target is about what commit_block adds to that
 * write (state root, undo record, its own batch), hence "alone".
 *
 * Round 0 warms both stores and is not counted; in the counted rounds the
 * two sides alternate which goes first, after the block's creates (untimed),
 * and each round gives the ratio commit / batch. There are COMMIT_ROUNDS of
 * them because the floor has a cycle of its own: RocksDB's memtable takes
 * inserts about twice as fast when nearly empty as when nearly full, and
 * 10,000 records of 157 bytes fill the batch's 64 MiB memtable in about 40
 * blocks (the module's, which also takes the tree's records, in about 4).
 * With 7 rounds every run counted the same few blocks of that cycle: a
 * median from one phase of it (measured 1.3x over three rounds with the
 * batch's memtable full, 2.3 to 3.5x over the next four, after its
 * flush). 41 rounds span a whole cycle. 10,000 creates use about
 * 48.5 M gas, more than one 30 M block: the figure is for the commit's
 * scaling. */
#define COMMIT_ROUNDS 41                /* odd: most rounds miss exactly when the median does */
#define COMMIT_TARGET_WRITES 10000u     /* the block size the target is for */
#define COMMIT_TARGET_PERMILLE 1500     /* at most 1.5 times the synced batch, issue 15 */
_Static_assert(COMMIT_ROUNDS % 2 == 1 && COMMIT_ROUNDS <= MAX_ROUNDS, "COMMIT_ROUNDS: odd, at most MAX_ROUNDS");

typedef struct commit_result {
    size_t writes;
    /* Medians over the counted rounds. */
    uint64_t commit_ns;    /* the module's commit_block */
    uint64_t batch_ns;     /* the batch from its first put to the synced write's return */
    uint64_t put_ns;       /* of which the puts */
    uint64_t tree_after_ns; /* the tree's write left running by commit_block, waited for after it
                               returned (median of the commit-first rounds; not in commit_ns) */
    uint64_t permille;     /* median of the rounds' commit / batch */
    uint64_t round_permille[COMMIT_ROUNDS];
    int has_target;
    int missed;            /* rounds above COMMIT_TARGET_PERMILLE (only with a target) */
} commit_result;

/* The batch side of one round: the block's asset records, synced. Out:
 * *put_ns, the part spent putting them into the batch. */
static uint64_t batch_block(const bench *b, limit *l, const uint8_t *ids, size_t n, uint64_t *put_ns)
{
    /* An asset record as createMemory writes it (owner, key epoch 1, the
     * creation block); the same bytes for every record, as only the sizes
     * matter to the write. */
    uint8_t rec[124], key[33];
    memset(rec, 0, sizeof rec);
    memcpy(rec, b->owner, 20);
    rec[67] = 1;
    for (int i = 0; i < 8; i++) rec[116 + i] = (uint8_t)(b->block.number >> (56 - 8 * i));
    key[0] = 0x01;
    char *err = NULL;
    const uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        memcpy(key + 1, ids + 32 * i, 32);
        rocksdb_writebatch_put(l->wb, (const char *)key, sizeof key, (const char *)rec, sizeof rec);
    }
    const uint64_t t1 = now_ns();
    rocksdb_write(l->db, l->wsync, l->wb, &err);
    if (err != NULL) die("batch: rocksdb_write");
    const uint64_t t2 = now_ns();
    rocksdb_writebatch_clear(l->wb);
    *put_ns = t1 - t0;
    return t2 - t0;
}

/* A block's executions before its commit: n createMemory calls, untimed;
 * Out: ids (32 bytes each, the new assets' ids, for the batch side). */
static void create_block(bench *b, uint8_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cd_create(b, b->owner, big_ct, 0);
        if (call(b, b->owner).status != MS_SUCCESS) die("commit block create");
        memcpy(ids + 32 * i, b->last_id, 32);
    }
}

static void measure_commit(bench *b, limit *l, size_t writes, commit_result *res)
{
    uint64_t com[COMMIT_ROUNDS], bat[COMMIT_ROUNDS], put[COMMIT_ROUNDS];
    uint64_t tree_after[COMMIT_ROUNDS];   /* the counted commit-first rounds' settle() */
    size_t n_after = 0;
    uint8_t *ids = malloc(writes * 32);
    if (ids == NULL) die("out of memory");
    memset(res, 0, sizeof *res);
    res->writes = writes;
    res->has_target = writes == COMMIT_TARGET_WRITES;
    commit(b);
    /* Steady state, as in measure_limit: the reorg window is filled with
     * blocks of this size first (untimed, both stores alike), so that each
     * counted commit prunes what a block like it made stale R heights
     * below, on the store such a chain has grown to. */
    const uint64_t warm_to = b->height + b->cfg.reorg_depth;
    while (b->height < warm_to) {
        create_block(b, ids, writes);
        uint64_t ignored = 0;
        commit(b);
        (void)settle(b);
        (void)batch_block(b, l, ids, writes, &ignored);
    }
    for (int round = 0; round <= COMMIT_ROUNDS; round++) {
        create_block(b, ids, writes);
        uint64_t cns, bns, pns;
        if (round % 2 == 0) {
            const uint64_t t0 = now_ns();
            commit(b);
            cns = now_ns() - t0;
            /* The tree's write the commit left running ([HOST-54]) would
             * run beside the batch's timing: waited for first (in the
             * other order it runs beside the next round's creates). */
            const uint64_t sns = settle(b);
            if (round > 0) tree_after[n_after++] = sns;
            bns = batch_block(b, l, ids, writes, &pns);
        } else {
            bns = batch_block(b, l, ids, writes, &pns);
            const uint64_t t0 = now_ns();
            commit(b);
            cns = now_ns() - t0;
        }
        if (round == 0) continue;
        com[round - 1] = cns;
        bat[round - 1] = bns;
        put[round - 1] = pns;
        res->round_permille[round - 1] = cns * 1000u / (bns ? bns : 1);
    }
    res->commit_ns = median_of(com, COMMIT_ROUNDS);
    res->batch_ns = median_of(bat, COMMIT_ROUNDS);
    res->put_ns = median_of(put, COMMIT_ROUNDS);
    res->tree_after_ns = n_after ? median_of(tree_after, (int)n_after) : 0;
    res->permille = median_of(res->round_permille, COMMIT_ROUNDS);
    if (res->has_target) res->missed = missed_above(res->round_permille, COMMIT_ROUNDS, COMMIT_TARGET_PERMILLE);
    free(ids);
}

/* Issue 6: an owner's direct append and reads of a retained version (warm
 * cache) at CORE_TARGET calls per second on one core. */
static const char *const CORE_CASES[][2] = {
    { "appendVersion", "owner, 50 B, prunes" },
    { "appendVersion", "owner, 1 KiB, prunes" },
    { "getVersion", "1 KiB" },
    { "getVersionInfo", "" },
};
#define N_CORE_CASES (sizeof CORE_CASES / sizeof CORE_CASES[0])

static int is_core_case(const bench_case *c)
{
    for (size_t i = 0; i < N_CORE_CASES; i++) {
        if (strcmp(c->name, CORE_CASES[i][0]) == 0 && strcmp(c->input, CORE_CASES[i][1]) == 0) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench MODULE.so [JSON_OUT] [--no-table]\n");
        return 2;
    }
    /* --no-table: only the figures after the table, for profiling; no JSON. */
    const int no_table = argc > 3 && strcmp(argv[3], "--no-table") == 0;
    bench b;
    memset(&b, 0, sizeof b);
    char dir[] = "/tmp/memsync-bench-XXXXXX";
    open_instance(&b, argv[1], dir);
    b.secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    memset(b.owner_key, 0x11, 32);
    memset(b.writer_key, 0x22, 32);
    address_of(&b, b.owner, b.owner_key);
    address_of(&b, b.writer, b.writer_key);
    b.block.chain_id = b.cfg.chain_id;
    b.block.number = 1;
    b.block.timestamp = 1700000000;
    ms_buf_init(&b.cd);

    FILE *json = argc > 2 && !no_table ? fopen(argv[2], "w") : NULL;
    if (json) fprintf(json, "{\n  \"target_mgas_per_s\": %d,\n  \"cases\": [\n", TARGET_MGAS);
    printf("%-26s %-26s %10s %10s %12s %8s\n", "function", "input", "gas/call", "ns/call", "calls/s", "Mgas/s");
    int failed = 0;
    const size_t n_cases = no_table ? 0 : sizeof CASES / sizeof CASES[0];
    uint64_t core_rate[N_CORE_CASES], core_exec_rate[N_CORE_CASES];
    size_t core_of[N_CORE_CASES], n_core = 0;
    for (size_t i = 0; i < n_cases; i++) {
        uint64_t ns[ROUNDS], exec_ns[ROUNDS], mgas[ROUNDS], gas_per_call = 0;
        for (int r = 0; r < ROUNDS; r++) {
            sample s = { 0, 0, 0, 0 };
            CASES[i].fn(&b, &s);
            ns[r] = s.ns / s.calls;
            exec_ns[r] = s.exec_ns / s.calls;
            gas_per_call = s.gas / s.calls;
            mgas[r] = s.ns ? s.gas * 1000u / s.ns : 0;
        }
        qsort(ns, ROUNDS, sizeof ns[0], cmp_u64);
        qsort(mgas, ROUNDS, sizeof mgas[0], cmp_u64);
        qsort(exec_ns, ROUNDS, sizeof exec_ns[0], cmp_u64);
        const uint64_t med_ns = ns[ROUNDS / 2], med_mgas = mgas[ROUNDS / 2];
        const uint64_t rate = med_ns ? 1000000000u / med_ns : 0;
        const int ok = med_mgas >= TARGET_MGAS;
        failed |= !ok;
        if (is_core_case(&CASES[i]) && n_core < N_CORE_CASES) {
            core_of[n_core] = i;
            core_exec_rate[n_core] = exec_ns[ROUNDS / 2] ? 1000000000u / exec_ns[ROUNDS / 2] : 0;
            core_rate[n_core++] = rate;
        }
        printf("%-26s %-26s %10llu %10llu %12llu %8llu%s\n", CASES[i].name, CASES[i].input,
               (unsigned long long)gas_per_call, (unsigned long long)med_ns, (unsigned long long)rate,
               (unsigned long long)med_mgas, ok ? "" : "  BELOW TARGET");
        if (json) {
            fprintf(json,
                    "    {\"function\": \"%s\", \"input\": \"%s\", \"gas_per_call\": %llu, \"ns_per_call\": %llu, "
                    "\"calls_per_s\": %llu, \"mgas_per_s\": %llu}%s\n",
                    CASES[i].name, CASES[i].input, (unsigned long long)gas_per_call, (unsigned long long)med_ns,
                    (unsigned long long)rate, (unsigned long long)med_mgas, i + 1 < n_cases ? "," : "");
        }
    }

    printf("\nper core (target %u calls/s; the rows above, one thread; a write's rate includes\n"
           "its share of the block commit, the execute-only rate is for reference):\n", CORE_TARGET);
    for (size_t i = 0; i < n_core; i++) {
        printf("  %-16s %-22s %8llu calls/s (execute only %8llu)  %s\n", CASES[core_of[i]].name,
               CASES[core_of[i]].input, (unsigned long long)core_rate[i], (unsigned long long)core_exec_rate[i],
               core_rate[i] >= CORE_TARGET ? "meets target" : "BELOW TARGET");
    }

    fresh_instance(&b, dir);
    limit_result lr;
    measure_limit(&b, &lr);
    printf("\nsigned 1 KiB append (owner-signed, relayed, prunes) against its physical limit,\n"
           "%zu appends per block (%llu gas each), %d blocks per round, medians of %d interleaved rounds,\n"
           "after %u blocks that fill the reorg window (every counted commit prunes):\n",
           lr.per_block, (unsigned long long)lr.gas_per_call, LIMIT_BLOCKS, LIMIT_ROUNDS,
           (unsigned)b.cfg.reorg_depth);
    printf("  limit  (keccak ct + EIP-712 + recover + puts into a RocksDB write batch) %8llu ns/append\n",
           (unsigned long long)lr.limit_ns);
    printf("  module (execute: calldata, checks, reads, the same work, gas, log)      %8llu ns/append\n",
           (unsigned long long)lr.exec_ns);
    const int limit_fails = most_rounds(lr.missed, LIMIT_ROUNDS);
    const int whole_fails = most_rounds(lr.whole_missed, LIMIT_ROUNDS);
    printf("  module at ");
    put_permille(stdout, lr.permille);
    printf(" of the limit (target 0.%03d): %s, missed in %d of %d rounds (reported, not gated)\n",
           LIMIT_TARGET_PERMILLE, limit_fails ? "BELOW TARGET" : "meets target", lr.missed, LIMIT_ROUNDS);
    printf("    rounds: ");
    put_rounds(stdout, " ", lr.round_permille, LIMIT_ROUNDS);
    printf("\n  with each side's block write added (commit_block also builds the state root\n"
           "  and the undo record, and writes their records too):\n");
    printf("    limit's synced batch write                                          %8llu ns/append\n",
           (unsigned long long)lr.write_ns);
    printf("    module's commit_block                                               %8llu ns/append\n",
           (unsigned long long)lr.commit_ns);
    printf("    module with its commit at ");
    put_permille(stdout, lr.whole_permille);
    printf(" of the limit with its write (target 0.%03d): %s, missed in %d of %d rounds\n",
           WHOLE_TARGET_PERMILLE, whole_fails ? "BELOW TARGET" : "meets target", lr.whole_missed, LIMIT_ROUNDS);
    printf("      rounds: ");
    put_rounds(stdout, " ", lr.round_whole_permille, LIMIT_ROUNDS);
    printf("\n");

    static const size_t COMMIT_WRITES[2] = { 1000, COMMIT_TARGET_WRITES };
    commit_result cr[2];
    limit batch;
    memset(&batch, 0, sizeof batch);
    limit_open(&batch);
    printf("\nblock commit with state root (createMemory, one new asset record each, on the store\n"
           "of the signed appends above) against a synced RocksDB batch of the same records\n"
           "(33 B keys, 124 B values, its own store), medians of %d interleaved rounds, each size\n"
           "after %u blocks of it that fill the reorg window (every counted commit prunes):\n",
           COMMIT_ROUNDS, (unsigned)b.cfg.reorg_depth);
    int commit_fails = 0, commit_missed = 0;
    for (int i = 0; i < 2; i++) {
        measure_commit(&b, &batch, COMMIT_WRITES[i], &cr[i]);
        const unsigned long long w = (unsigned long long)cr[i].writes;
        printf("  %6llu writes: commit_block %8llu us, %6llu ns per write; synced batch %8llu us, %6llu ns per write"
               " (puts %llu of them)\n",
               w, (unsigned long long)(cr[i].commit_ns / 1000), (unsigned long long)cr[i].commit_ns / w,
               (unsigned long long)(cr[i].batch_ns / 1000), (unsigned long long)cr[i].batch_ns / w,
               (unsigned long long)cr[i].put_ns / w);
        printf("    then the tree's write that commit_block leaves running ([HOST-54]): %llu us more when waited for\n"
               "    at once (in a chain it runs beside the next block's execution); with it, ",
               (unsigned long long)(cr[i].tree_after_ns / 1000));
        put_permille(stdout, cr[i].batch_ns ? (cr[i].commit_ns + cr[i].tree_after_ns) * 1000u / cr[i].batch_ns : 0);
        printf(" times the batch\n");
        printf("    commit_block at ");
        put_permille(stdout, cr[i].permille);
        if (cr[i].has_target) {
            const int fails = most_rounds(cr[i].missed, COMMIT_ROUNDS);
            commit_fails |= fails;
            commit_missed = cr[i].missed;
            printf(" times the batch (target at most ");
            put_permille(stdout, COMMIT_TARGET_PERMILLE);
            printf("): %s, missed in %d of %d rounds\n", fails ? "ABOVE TARGET" : "meets target", cr[i].missed,
                   COMMIT_ROUNDS);
        } else {
            printf(" times the batch (no target)\n");
        }
        printf("      rounds: ");
        put_rounds(stdout, " ", cr[i].round_permille, COMMIT_ROUNDS);
        printf("\n");
    }
    limit_close(&batch);
    remove_dir(batch.dir);

    /* The high-water mark of the whole run: the table's instance, the fresh
     * one and the bench's own buffers (pool, blocks, ids). Linux reports
     * KiB; rounded up to MiB so that a printed value never understates. */
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) die("getrusage");
    const unsigned long long peak_kib = (unsigned long long)ru.ru_maxrss;
    const unsigned long long peak_mib = (peak_kib + 1023) / 1024;
    const int rss_fails = peak_kib > (unsigned long long)MS_MEMORY_BOUND_MIB * 1024u;
    printf("\npeak RSS of the bench process (instance + its own buffers): %llu MiB (bound %u MiB): %s\n", peak_mib,
           (unsigned)MS_MEMORY_BOUND_MIB, rss_fails ? "ABOVE BOUND" : "ok");

    const int exit_status = failed || whole_fails || commit_fails || rss_fails;
    if (json) {
        fprintf(json, "  ],\n  \"per_core\": {\"target_calls_per_s\": %u, \"cases\": [\n", CORE_TARGET);
        for (size_t i = 0; i < n_core; i++) {
            fprintf(json,
                    "    {\"function\": \"%s\", \"input\": \"%s\", \"calls_per_s\": %llu, "
                    "\"execute_only_calls_per_s\": %llu, \"meets_target\": %s}%s\n",
                    CASES[core_of[i]].name, CASES[core_of[i]].input, (unsigned long long)core_rate[i],
                    (unsigned long long)core_exec_rate[i],
                    core_rate[i] >= CORE_TARGET ? "true" : "false", i + 1 < n_core ? "," : "");
        }
        fprintf(json,
                "  ]},\n  \"signed_append_limit\": {\"ciphertext_bytes\": %u, \"appends_per_block\": %zu, "
                "\"gas_per_call\": %llu, \"blocks_per_round\": %d, \"rounds\": %d, \"limit_ns_per_append\": %llu, "
                "\"module_execute_ns_per_append\": %llu, \"module_of_limit\": ",
                SIGNED_CT, lr.per_block, (unsigned long long)lr.gas_per_call, LIMIT_BLOCKS, LIMIT_ROUNDS,
                (unsigned long long)lr.limit_ns, (unsigned long long)lr.exec_ns);
        put_permille(json, lr.permille);
        fprintf(json, ", \"target\": 0.%03d, \"meets_target\": %s, \"rounds_below_target\": %d, \"round_module_of_limit\": [",
                LIMIT_TARGET_PERMILLE, limit_fails ? "false" : "true", lr.missed);
        put_rounds(json, ", ", lr.round_permille, LIMIT_ROUNDS);
        fprintf(json, "], \"limit_write_ns_per_append\": %llu, \"module_commit_ns_per_append\": %llu, "
                "\"with_block_writes_module_of_limit\": ",
                (unsigned long long)lr.write_ns, (unsigned long long)lr.commit_ns);
        put_permille(json, lr.whole_permille);
        fprintf(json, ", \"with_block_writes_target\": 0.%03d, \"with_block_writes_meets_target\": %s, "
                "\"with_block_writes_rounds_below_target\": %d, \"with_block_writes_round_module_of_limit\": [",
                WHOLE_TARGET_PERMILLE, whole_fails ? "false" : "true", lr.whole_missed);
        put_rounds(json, ", ", lr.round_whole_permille, LIMIT_ROUNDS);
        fprintf(json, "]},\n  \"block_commit\": [\n");
        for (int i = 0; i < 2; i++) {
            const unsigned long long w = (unsigned long long)cr[i].writes;
            fprintf(json,
                    "    {\"writes\": %llu, \"commit_ns\": %llu, \"ns_per_write\": %llu, \"rounds\": %d, "
                    "\"synced_batch_ns\": %llu, \"synced_batch_ns_per_write\": %llu, \"synced_batch_put_ns\": %llu, "
                    "\"tree_write_after_return_ns\": %llu, \"commit_over_batch\": ",
                    w, (unsigned long long)cr[i].commit_ns, (unsigned long long)cr[i].commit_ns / w, COMMIT_ROUNDS,
                    (unsigned long long)cr[i].batch_ns, (unsigned long long)cr[i].batch_ns / w,
                    (unsigned long long)cr[i].put_ns, (unsigned long long)cr[i].tree_after_ns);
            put_permille(json, cr[i].permille);
            fprintf(json, ", \"round_commit_over_batch\": [");
            put_rounds(json, ", ", cr[i].round_permille, COMMIT_ROUNDS);
            if (cr[i].has_target) {
                fprintf(json, "], \"target_at_most\": ");
                put_permille(json, COMMIT_TARGET_PERMILLE);
                fprintf(json, ", \"meets_target\": %s, \"rounds_above_target\": %d}",
                        most_rounds(cr[i].missed, COMMIT_ROUNDS) ? "false" : "true", cr[i].missed);
            } else {
                fprintf(json, "], \"target_at_most\": null, \"meets_target\": null, \"rounds_above_target\": null}");
            }
            fprintf(json, "%s\n", i == 0 ? "," : "");
        }
        fprintf(json,
                "  ],\n  \"peak_rss\": {\"kib\": %llu, \"mib\": %llu, \"bound_mib\": %u, \"within_bound\": %s},\n"
                "  \"exit_status\": %d\n}\n",
                peak_kib, peak_mib, (unsigned)MS_MEMORY_BOUND_MIB, rss_fails ? "false" : "true", exit_status);
        fclose(json);
    }
    b.m->destroy(b.inst);
    secp256k1_context_destroy(b.secp);
    ms_buf_free(&b.cd);
    remove_dir(dir);
    if (failed) fprintf(stderr, "bench: FAILED: a function runs below %d Mgas/s\n", TARGET_MGAS);
    if (whole_fails) {
        fprintf(stderr, "bench: FAILED: the signed append with the block writes below 0.%03d of its limit in %d of %d rounds\n",
                WHOLE_TARGET_PERMILLE, lr.whole_missed, LIMIT_ROUNDS);
    }
    if (commit_fails) {
        fprintf(stderr, "bench: FAILED: commit_block of %u writes above ", COMMIT_TARGET_WRITES);
        put_permille(stderr, COMMIT_TARGET_PERMILLE);
        fprintf(stderr, " times the synced batch in %d of %d rounds\n", commit_missed, COMMIT_ROUNDS);
    }
    if (rss_fails) fprintf(stderr, "bench: FAILED: peak RSS above %u MiB\n", (unsigned)MS_MEMORY_BOUND_MIB);
    if (exit_status) return 1;
    if (!no_table) printf("bench: every function at or above %d Mgas/s (medians of %d rounds)\n", TARGET_MGAS, ROUNDS);
    printf("bench: every gated target met (most rounds; peak RSS within %u MiB)\n", (unsigned)MS_MEMORY_BOUND_MIB);
    return 0;
}
