/* make bench: every contract function at typical and worst-case inputs,
 * through the public header (the .so is loaded with dlopen), as ns per call,
 * gas per call and million gas per second. Each figure is the median of
 * several rounds. Blocks are filled to 30 million gas, as on a chain, and
 * each commit's time is shared by the block's calls in proportion to gas. The run fails if any case is below the 60 Mgas/s
 * anchor (EIP-7904).
 *
 * Usage: bench MODULE.so [JSON_OUT] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Execute calldata b->cd as `from`; returns the result (statuses checked by callers). */
static ms_result call(bench *b, const uint8_t from[20])
{
    ms_message msg;
    ms_result r;
    memset(&msg, 0, sizeof msg);
    msg.kind = MS_CALL;
    memcpy(msg.caller.bytes, from, 20);
    msg.input = b->cd.data;
    msg.input_size = b->cd.size;
    msg.gas = 100000000;
    if (b->m->execute(b->inst, &r, &b->block, &msg) != MS_OK) die("execute");
    if (r.status == MS_FATAL) die("fatal status");
    b->block_gas += r.gas_used;
    return r;
}

static void commit(bench *b)
{
    ms_bytes32 root;
    b->height++;
    b->block.number = b->height + 1;
    if (b->m->commit_block(b->inst, &root, b->height) != MS_OK) die("commit");
    b->block_gas = 0;
    b->block_timed_gas = 0;
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

static void cd_create(bench *b, const uint8_t *ct, size_t len)
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
    memcpy(pre + 20, b->owner, 20);
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

static void cd_append_signed(bench *b, const uint8_t id[32], uint64_t expected, const uint8_t *ct, size_t len,
                             const uint8_t key[32], const uint8_t signer[20], uint64_t nonce)
{
    ms_eip712_append m;
    uint8_t domain[32], digest[32], sig[65];
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
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_APPEND_VERSION_SIGNED);
    ms_abi_put_word(&b->cd, id);
    ms_abi_put_uint(&b->cd, expected);
    ms_abi_put_uint(&b->cd, 1);
    ms_abi_put_uint(&b->cd, 256);
    ms_abi_put_address(&b->cd, signer);
    ms_abi_put_uint(&b->cd, nonce);
    ms_abi_put_word(&b->cd, m.deadline);
    ms_abi_put_uint(&b->cd, 256 + 32 * ms_abi_bytes_tail_words(len));
    ms_abi_put_bytes_tail(&b->cd, ct, len);
    ms_abi_put_bytes_tail(&b->cd, sig, 65);
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
    uint64_t gas;    /* gas of the timed calls */
    uint64_t calls;
} sample;

typedef void (*case_fn)(bench *b, sample *s);

/* Time one call of b->cd as `from`; add it to s. Returns the result. */
static ms_result timed(bench *b, sample *s, const uint8_t from[20], ms_status want)
{
    const uint64_t t0 = now_ns();
    const ms_result r = call(b, from);
    s->ns += now_ns() - t0;
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
    cd_create(b, big_ct, ct_len);
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
        cd_create(b, big_ct, len);
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

static void run_reads(bench *b, sample *s, size_t len, void (*make)(bench *b, const uint8_t id[32]))
{
    full_asset(b, len, b->cfg.max_grants);
    commit(b);
    uint8_t id[32];
    memcpy(id, b->last_id, 32);
    for (uint64_t i = 0; more(s, i); i++) {
        make(b, id);
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
static void mk_nonce(bench *b, const uint8_t id[32])
{
    (void)id;
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_NONCE_OF);
    ms_abi_put_address(&b->cd, b->owner);
}
static void mk_domain(bench *b, const uint8_t id[32])
{
    (void)id;
    ms_buf_reset(&b->cd);
    ms_abi_put_selector(&b->cd, MS_FN_DOMAIN_SEPARATOR);
}

static void case_get_head(bench *b, sample *s) { run_reads(b, s, 50, mk_head); }
static void case_get_version_1k(bench *b, sample *s) { run_reads(b, s, 1024, mk_version); }
static void case_get_version_max(bench *b, sample *s) { run_reads(b, s, b->cfg.max_ciphertext, mk_version); }
static void case_get_version_info(bench *b, sample *s) { run_reads(b, s, 50, mk_info); }
static void case_get_grants_max(bench *b, sample *s) { run_reads(b, s, 50, mk_grants); }
static void case_get_grant(bench *b, sample *s) { run_reads(b, s, 50, mk_grant); }
static void case_nonce_of(bench *b, sample *s) { run_reads(b, s, 50, mk_nonce); }
static void case_domain(bench *b, sample *s) { run_reads(b, s, 50, mk_domain); }

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
    { "getHead", "", case_get_head },
    { "getVersion", "1 KiB", case_get_version_1k },
    { "getVersion", "max size", case_get_version_max },
    { "getVersionInfo", "", case_get_version_info },
    { "getGrants", "max grants", case_get_grants_max },
    { "getGrant", "max wrapped key", case_get_grant },
    { "nonceOf", "", case_nonce_of },
    { "domainSeparator", "", case_domain },
};

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench MODULE.so [JSON_OUT]\n");
        return 2;
    }
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

    FILE *json = argc > 2 ? fopen(argv[2], "w") : NULL;
    if (json) fprintf(json, "{\n  \"target_mgas_per_s\": %d,\n  \"cases\": [\n", TARGET_MGAS);
    printf("%-26s %-26s %10s %10s %12s %8s\n", "function", "input", "gas/call", "ns/call", "calls/s", "Mgas/s");
    int failed = 0;
    const size_t n_cases = sizeof CASES / sizeof CASES[0];
    for (size_t i = 0; i < n_cases; i++) {
        uint64_t ns[ROUNDS], mgas[ROUNDS], gas_per_call = 0;
        for (int r = 0; r < ROUNDS; r++) {
            sample s = { 0, 0, 0 };
            CASES[i].fn(&b, &s);
            ns[r] = s.ns / s.calls;
            gas_per_call = s.gas / s.calls;
            mgas[r] = s.ns ? s.gas * 1000u / s.ns : 0;
        }
        qsort(ns, ROUNDS, sizeof ns[0], cmp_u64);
        qsort(mgas, ROUNDS, sizeof mgas[0], cmp_u64);
        const uint64_t med_ns = ns[ROUNDS / 2], med_mgas = mgas[ROUNDS / 2];
        const int ok = med_mgas >= TARGET_MGAS;
        failed |= !ok;
        printf("%-26s %-26s %10llu %10llu %12llu %8llu%s\n", CASES[i].name, CASES[i].input,
               (unsigned long long)gas_per_call, (unsigned long long)med_ns,
               (unsigned long long)(med_ns ? 1000000000u / med_ns : 0), (unsigned long long)med_mgas,
               ok ? "" : "  BELOW TARGET");
        if (json) {
            fprintf(json,
                    "    {\"function\": \"%s\", \"input\": \"%s\", \"gas_per_call\": %llu, \"ns_per_call\": %llu, "
                    "\"mgas_per_s\": %llu}%s\n",
                    CASES[i].name, CASES[i].input, (unsigned long long)gas_per_call, (unsigned long long)med_ns,
                    (unsigned long long)med_mgas, i + 1 < n_cases ? "," : "");
        }
    }
    if (json) {
        fprintf(json, "  ]\n}\n");
        fclose(json);
    }
    b.m->destroy(b.inst);
    secp256k1_context_destroy(b.secp);
    ms_buf_free(&b.cd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", dir);
    if (failed) {
        fprintf(stderr, "bench: FAILED: a function runs below %d Mgas/s\n", TARGET_MGAS);
        return 1;
    }
    printf("bench: every function at or above %d Mgas/s (medians of %d rounds)\n", TARGET_MGAS, ROUNDS);
    return 0;
}
