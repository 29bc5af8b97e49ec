/* Shared fixture of the contract-call tests; see call_fixture.h. */
#include "call_fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/keccak.h"
#include "crypto/eip712.h"
#include "module/instance.h"
#include "storage/journal.h"

cf_env CF;
cf_key CF_ALICE, CF_BOB, CF_CAROL, CF_DAVE, CF_EVE;
const uint8_t CF_ZERO20[20];
const uint8_t CF_ZERO32[32];

/* ------------------------------------------------------------ tracking */

static void **g_allocs;
static size_t g_nallocs, g_capallocs;
static ms_instance *g_insts[16];
static char g_dirs[16][64];
static size_t g_ndirs;
static secp256k1_context *g_secp;

void *cf_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    cr_assert_not_null(p, "out of memory");
    if (g_nallocs == g_capallocs) {
        g_capallocs = g_capallocs ? 2 * g_capallocs : 256;
        g_allocs = realloc(g_allocs, g_capallocs * sizeof *g_allocs);
        cr_assert_not_null(g_allocs);
    }
    g_allocs[g_nallocs++] = p;
    return p;
}

static void track_inst(ms_instance *i)
{
    for (size_t k = 0; k < 16; k++) {
        if (g_insts[k] == NULL) {
            g_insts[k] = i;
            return;
        }
    }
    cr_assert_fail("too many instances");
}

static void untrack_inst(ms_instance *i)
{
    for (size_t k = 0; k < 16; k++) {
        if (g_insts[k] == i) g_insts[k] = NULL;
    }
}

void cf_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *ent;
    char path[512];
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) cf_rmdir(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

const char *cf_tmpdir(void)
{
    cr_assert_lt(g_ndirs, 16u);
    char *d = g_dirs[g_ndirs];
    snprintf(d, 64, "/tmp/ms-calls-XXXXXX");
    cr_assert_not_null(mkdtemp(d), "mkdtemp");
    g_ndirs++;
    return d;
}

/* ----------------------------------------------------------------- keys */

static void make_key(cf_key *k, uint8_t fill)
{
    memset(k->sk, fill, 32);
    secp256k1_pubkey pk;
    cr_assert(secp256k1_ec_pubkey_create(g_secp, &pk, k->sk));
    uint8_t ser[65];
    size_t len = sizeof ser;
    secp256k1_ec_pubkey_serialize(g_secp, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    ms_keccak256(h, ser + 1, 64);
    memcpy(k->addr, h + 12, 20);
}

ms_address cf_addr(const uint8_t a20[20])
{
    ms_address a;
    memcpy(a.bytes, a20, 20);
    return a;
}

void cf_sign(uint8_t sig65[65], const cf_key *k, const uint8_t digest32[32])
{
    secp256k1_ecdsa_recoverable_signature s;
    cr_assert(secp256k1_ecdsa_sign_recoverable(g_secp, &s, digest32, k->sk, NULL, NULL));
    int recid = -1;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(g_secp, sig65, &recid, &s);
    cr_assert(recid == 0 || recid == 1);
    sig65[64] = (uint8_t)(27 + recid);
}

int cf_recover(uint8_t out20[20], const uint8_t digest32[32], const uint8_t sig65[65])
{
    secp256k1_ecdsa_recoverable_signature s;
    if (sig65[64] != 27 && sig65[64] != 28) return 0;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(g_secp, &s, sig65, sig65[64] - 27)) return 0;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(g_secp, &pk, &s, digest32)) return 0;
    uint8_t ser[65];
    size_t len = sizeof ser;
    secp256k1_ec_pubkey_serialize(g_secp, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    ms_keccak256(h, ser + 1, 64);
    memcpy(out20, h + 12, 20);
    return 1;
}

void cf_unrecoverable_r(uint8_t r32[32])
{
    uint8_t sig[65], digest[32], out[20];
    memset(digest, 0x5a, 32);
    memset(sig, 0, sizeof sig);
    sig[63] = 1; /* s = 1 */
    sig[64] = 27;
    for (unsigned r = 1; r < 1000; r++) {
        sig[30] = (uint8_t)(r >> 8);
        sig[31] = (uint8_t)r;
        if (!cf_recover(out, digest, sig)) {
            memcpy(r32, sig, 32);
            return;
        }
    }
    cr_assert_fail("no unrecoverable r below 1000");
}

void cf_negate_s(uint8_t s32[32])
{
    static const uint8_t n[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
        0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
    };
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = (int)n[i] - (int)s32[i] - borrow;
        borrow = d < 0;
        s32[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* ---------------------------------------------------------- environment */

ms_config cf_default_config(void)
{
    ms_config c;
    ms_module_get()->default_config(&c);
    return c;
}

void cf_env_open(cf_env *e, const ms_config *cfg)
{
    memset(e, 0, sizeof *e);
    e->m = ms_module_get();
    if (cfg != NULL) e->cfg = *cfg;
    else e->m->default_config(&e->cfg);
    snprintf(e->dir, sizeof e->dir, "%s", cf_tmpdir());
    const ms_rc rc = e->m->create(&e->inst, &e->cfg, e->dir);
    cr_assert_eq(rc, MS_OK, "create: %s", e->m->rc_string(rc));
    track_inst(e->inst);
    e->blk.number = CF_BLOCK;
    e->blk.timestamp = CF_TIME;
    e->blk.chain_id = e->cfg.chain_id;
}

void cf_env_close(cf_env *e)
{
    if (e->inst != NULL) {
        untrack_inst(e->inst);
        e->m->destroy(e->inst);
        e->inst = NULL;
    }
    cf_rmdir(e->dir);
}

void cf_env_reopen(cf_env *e)
{
    untrack_inst(e->inst);
    e->m->destroy(e->inst);
    e->inst = NULL;
    const ms_rc rc = e->m->create(&e->inst, &e->cfg, e->dir);
    cr_assert_eq(rc, MS_OK, "reopen: %s", e->m->rc_string(rc));
    track_inst(e->inst);
}

void cf_setup(void)
{
    g_secp = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    make_key(&CF_ALICE, 0x11);
    make_key(&CF_BOB, 0x22);
    make_key(&CF_CAROL, 0x33);
    make_key(&CF_DAVE, 0x44);
    make_key(&CF_EVE, 0x55);
    cf_env_open(&CF, NULL);
}

void cf_setup_with(const ms_config *cfg)
{
    cf_env_close(&CF);
    cf_env_open(&CF, cfg);
}

void cf_teardown(void)
{
    for (size_t k = 0; k < 16; k++) {
        if (g_insts[k] != NULL) {
            ms_module_get()->destroy(g_insts[k]);
            g_insts[k] = NULL;
        }
    }
    CF.inst = NULL;
    for (size_t k = 0; k < g_ndirs; k++) cf_rmdir(g_dirs[k]);
    g_ndirs = 0;
    for (size_t k = 0; k < g_nallocs; k++) free(g_allocs[k]);
    free(g_allocs);
    g_allocs = NULL;
    g_nallocs = g_capallocs = 0;
    if (g_secp != NULL) secp256k1_context_destroy(g_secp);
    g_secp = NULL;
}

/* ------------------------------------------------------------ byte data */

cf_buf cf_concat(cf_buf a, const uint8_t *b, size_t n)
{
    cf_buf r;
    r.n = a.n + n;
    r.p = cf_alloc(r.n);
    if (a.n) memcpy(r.p, a.p, a.n);
    if (n) memcpy(r.p + a.n, b, n);
    return r;
}

cf_buf cf_dup(const uint8_t *p, size_t n)
{
    cf_buf r;
    r.n = n;
    r.p = cf_alloc(n);
    if (n) memcpy(r.p, p, n);
    return r;
}

const uint8_t *cf_b32(uint8_t tag, uint8_t v)
{
    uint8_t *w = cf_alloc(32);
    memset(w, v, 32);
    w[0] = tag;
    return w;
}

const uint8_t *cf_u256(uint64_t v)
{
    return cf_u256_hi(0, v);
}

const uint8_t *cf_u256_hi(uint8_t hi, uint64_t v)
{
    uint8_t *w = cf_alloc(32);
    memset(w, hi, 24);
    for (int i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8 * i));
    return w;
}

const uint8_t *cf_aw(const uint8_t a20[20])
{
    uint8_t *w = cf_alloc(32);
    memcpy(w + 12, a20, 20);
    return w;
}

const uint8_t *cf_ct(size_t len, uint64_t epoch, uint8_t seed)
{
    cr_assert_geq(len, 50u);
    uint8_t *c = cf_alloc(len);
    c[0] = 1;
    c[1] = 1;
    for (int i = 0; i < 8; i++) c[2 + i] = (uint8_t)(epoch >> (56 - 8 * i));
    uint32_t x = 0x9e3779b9u ^ seed;
    for (size_t i = 10; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c[i] = (uint8_t)x;
    }
    c[10] |= 1; /* nonce never all zero */
    return c;
}

void cf_keccak(uint8_t out32[32], const uint8_t *p, size_t n)
{
    ms_keccak256(out32, p, n);
}

void cf_asset_id(uint8_t out32[32], const uint8_t precompile20[20], const uint8_t owner20[20],
                 const uint8_t salt32[32])
{
    uint8_t b[72];
    memcpy(b, precompile20, 20);
    memcpy(b + 20, owner20, 20);
    memcpy(b + 40, salt32, 32);
    ms_keccak256(out32, b, sizeof b);
}

static void be64(uint8_t *o, uint64_t v)
{
    for (int i = 0; i < 8; i++) o[i] = (uint8_t)(v >> (56 - 8 * i));
}

void cf_version_hash(uint8_t out32[32], const uint8_t prev32[32], const uint8_t id32[32], uint64_t v,
                     const uint8_t ct_hash32[32], uint64_t epoch, const uint8_t author20[20])
{
    uint8_t b[32 + 32 + 8 + 32 + 8 + 20];
    memcpy(b, prev32, 32);
    memcpy(b + 32, id32, 32);
    be64(b + 64, v);
    memcpy(b + 72, ct_hash32, 32);
    be64(b + 104, epoch);
    memcpy(b + 112, author20, 20);
    ms_keccak256(out32, b, sizeof b);
}

/* ------------------------------------------------------------ encoding */

typedef struct enc_arg {
    char t;
    uint8_t word[32];
    const uint8_t *p;
    size_t n;
} enc_arg;

cf_buf cf_enc(uint32_t selector, const char *fmt, ...)
{
    enc_arg args[16];
    size_t na = strlen(fmt);
    cr_assert_leq(na, 16u);
    va_list ap;
    va_start(ap, fmt);
    size_t tail = 0;
    for (size_t i = 0; i < na; i++) {
        enc_arg *a = &args[i];
        memset(a, 0, sizeof *a);
        a->t = fmt[i];
        switch (fmt[i]) {
        case 'w': memcpy(a->word, va_arg(ap, const uint8_t *), 32); break;
        case 'u': be64(a->word + 24, va_arg(ap, uint64_t)); break;
        case 'a': memcpy(a->word + 12, va_arg(ap, const uint8_t *), 20); break;
        case 'b':
            a->p = va_arg(ap, const uint8_t *);
            a->n = va_arg(ap, size_t);
            tail += 32 + 32 * cf_words(a->n);
            break;
        default: cr_assert_fail("bad fmt %c", fmt[i]);
        }
    }
    va_end(ap);
    cf_buf r;
    r.n = 4 + 32 * na + tail;
    r.p = cf_alloc(r.n);
    r.p[0] = (uint8_t)(selector >> 24);
    r.p[1] = (uint8_t)(selector >> 16);
    r.p[2] = (uint8_t)(selector >> 8);
    r.p[3] = (uint8_t)selector;
    size_t off = 32 * na;
    for (size_t i = 0; i < na; i++) {
        uint8_t *h = r.p + 4 + 32 * i;
        if (args[i].t != 'b') {
            memcpy(h, args[i].word, 32);
            continue;
        }
        be64(h + 24, off);
        be64(r.p + 4 + off + 24, args[i].n);
        if (args[i].n) memcpy(r.p + 4 + off + 32, args[i].p, args[i].n);
        off += 32 + 32 * cf_words(args[i].n);
    }
    return r;
}

cf_buf cf_cd_create(const uint8_t salt[32], const uint8_t meta[32], const uint8_t *ct, size_t n)
{
    return cf_enc(MS_FN_CREATE_MEMORY, "wwb", salt, meta, ct, n);
}

cf_buf cf_cd_create_signed(const uint8_t owner[20], const uint8_t salt[32], const uint8_t meta[32],
                           const uint8_t *ct, size_t n, uint64_t nonce, uint64_t deadline, const uint8_t *sig,
                           size_t sig_len)
{
    return cf_enc(MS_FN_CREATE_MEMORY_SIGNED, "awwbuub", owner, salt, meta, ct, n, nonce, deadline, sig, sig_len);
}

cf_buf cf_cd_append(const uint8_t id[32], uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t n)
{
    return cf_enc(MS_FN_APPEND_VERSION, "wuub", id, expected, epoch, ct, n);
}

cf_buf cf_cd_append_signed(const uint8_t id[32], uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t n,
                           const uint8_t signer[20], uint64_t nonce, uint64_t deadline, const uint8_t *sig,
                           size_t sig_len)
{
    return cf_enc(MS_FN_APPEND_VERSION_SIGNED, "wuubauub", id, expected, epoch, ct, n, signer, nonce, deadline,
                  sig, sig_len);
}

cf_buf cf_cd_transfer(const uint8_t id[32], const uint8_t to[20])
{
    return cf_enc(MS_FN_TRANSFER_OWNERSHIP, "wa", id, to);
}

cf_buf cf_cd_transfer_signed(const uint8_t id[32], const uint8_t to[20], uint64_t nonce, uint64_t deadline,
                             const uint8_t *sig, size_t sig_len)
{
    return cf_enc(MS_FN_TRANSFER_OWNERSHIP_SIGNED, "wauub", id, to, nonce, deadline, sig, sig_len);
}

cf_buf cf_cd_grant(const uint8_t id[32], const uint8_t grantee[20], uint64_t perms, uint64_t expiry,
                   const uint8_t *wk, size_t n)
{
    return cf_enc(MS_FN_GRANT_ACCESS, "wauub", id, grantee, perms, expiry, wk, n);
}

cf_buf cf_cd_revoke(const uint8_t id[32], const uint8_t grantee[20])
{
    return cf_enc(MS_FN_REVOKE_ACCESS, "wa", id, grantee);
}

cf_buf cf_cd_rotate(const uint8_t id[32])
{
    return cf_enc(MS_FN_ROTATE_KEY, "w", id);
}

cf_buf cf_cd_shred(const uint8_t id[32])
{
    return cf_enc(MS_FN_SHRED_MEMORY, "w", id);
}

cf_buf cf_cd_shred_versions(const uint8_t id[32], uint64_t upto)
{
    return cf_enc(MS_FN_SHRED_VERSIONS, "wu", id, upto);
}

cf_buf cf_cd_get_head(const uint8_t id[32])
{
    return cf_enc(MS_FN_GET_HEAD, "w", id);
}

cf_buf cf_cd_get_version(const uint8_t id[32], uint64_t v)
{
    return cf_enc(MS_FN_GET_VERSION, "wu", id, v);
}

cf_buf cf_cd_get_version_info(const uint8_t id[32], uint64_t v)
{
    return cf_enc(MS_FN_GET_VERSION_INFO, "wu", id, v);
}

cf_buf cf_cd_get_grants(const uint8_t id[32])
{
    return cf_enc(MS_FN_GET_GRANTS, "w", id);
}

cf_buf cf_cd_get_grant(const uint8_t id[32], const uint8_t grantee[20])
{
    return cf_enc(MS_FN_GET_GRANT, "wa", id, grantee);
}

cf_buf cf_cd_nonce_of(const uint8_t who[20])
{
    return cf_enc(MS_FN_NONCE_OF, "a", who);
}

cf_buf cf_cd_domain(void)
{
    return cf_enc(MS_FN_DOMAIN_SEPARATOR, "");
}

/* ------------------------------------------------------------- EIP-712 */

static void deadline_word(uint8_t w[32], uint64_t d)
{
    memset(w, 0, 32);
    be64(w + 24, d);
}

void cf_digest_create(uint8_t out32[32], uint64_t chain, const uint8_t vc20[20], const uint8_t owner[20],
                      const uint8_t salt[32], const uint8_t meta[32], const uint8_t *ct, size_t n, uint64_t nonce,
                      uint64_t deadline)
{
    uint8_t domain[32];
    ms_eip712_create m;
    ms_eip712_domain(domain, chain, vc20);
    memcpy(m.owner, owner, 20);
    memcpy(m.salt, salt, 32);
    memcpy(m.metadata, meta, 32);
    ms_keccak256(m.ciphertext_hash, ct, n);
    m.nonce = nonce;
    deadline_word(m.deadline, deadline);
    ms_eip712_create_digest(out32, domain, &m);
}

void cf_digest_append(uint8_t out32[32], uint64_t chain, const uint8_t vc20[20], const uint8_t id[32],
                      uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t n, const uint8_t signer[20],
                      uint64_t nonce, uint64_t deadline)
{
    uint8_t domain[32];
    ms_eip712_append m;
    ms_eip712_domain(domain, chain, vc20);
    memcpy(m.asset_id, id, 32);
    m.expected_version = expected;
    m.key_epoch = epoch;
    ms_keccak256(m.ciphertext_hash, ct, n);
    memcpy(m.signer, signer, 20);
    m.nonce = nonce;
    deadline_word(m.deadline, deadline);
    ms_eip712_append_digest(out32, domain, &m);
}

void cf_digest_transfer(uint8_t out32[32], uint64_t chain, const uint8_t vc20[20], const uint8_t id[32],
                        const uint8_t to[20], uint64_t nonce, uint64_t deadline)
{
    uint8_t domain[32];
    ms_eip712_transfer m;
    ms_eip712_domain(domain, chain, vc20);
    memcpy(m.asset_id, id, 32);
    memcpy(m.new_owner, to, 20);
    m.nonce = nonce;
    deadline_word(m.deadline, deadline);
    ms_eip712_transfer_digest(out32, domain, &m);
}

cf_buf cf_signed_create(const cf_env *e, const cf_key *k, const uint8_t owner[20], const uint8_t salt[32],
                        const uint8_t meta[32], const uint8_t *ct, size_t n, uint64_t nonce, uint64_t deadline)
{
    uint8_t d[32], sig[65];
    cf_digest_create(d, e->cfg.chain_id, e->cfg.precompile_address.bytes, owner, salt, meta, ct, n, nonce, deadline);
    cf_sign(sig, k, d);
    return cf_cd_create_signed(owner, salt, meta, ct, n, nonce, deadline, sig, 65);
}

cf_buf cf_signed_append(const cf_env *e, const cf_key *k, const uint8_t id[32], uint64_t expected, uint64_t epoch,
                        const uint8_t *ct, size_t n, const uint8_t signer[20], uint64_t nonce, uint64_t deadline)
{
    uint8_t d[32], sig[65];
    cf_digest_append(d, e->cfg.chain_id, e->cfg.precompile_address.bytes, id, expected, epoch, ct, n, signer, nonce,
                     deadline);
    cf_sign(sig, k, d);
    return cf_cd_append_signed(id, expected, epoch, ct, n, signer, nonce, deadline, sig, 65);
}

cf_buf cf_signed_transfer(const cf_env *e, const cf_key *k, const uint8_t id[32], const uint8_t to[20],
                          uint64_t nonce, uint64_t deadline)
{
    uint8_t d[32], sig[65];
    cf_digest_transfer(d, e->cfg.chain_id, e->cfg.precompile_address.bytes, id, to, nonce, deadline);
    cf_sign(sig, k, d);
    return cf_cd_transfer_signed(id, to, nonce, deadline, sig, 65);
}

/* --------------------------------------------------------------- calls */

ms_message cf_msg(const uint8_t caller20[20], cf_buf cd)
{
    ms_message m;
    memset(&m, 0, sizeof m);
    m.kind = MS_CALL;
    m.is_static = 0;
    memcpy(m.caller.bytes, caller20, 20);
    m.input = cd.p;
    m.input_size = cd.n;
    m.gas = CF_GAS;
    return m;
}

void cf_res_free(cf_res *r)
{
    free(r->out);
    for (size_t i = 0; i < r->log_count; i++) free(r->logs[i].data);
    free(r->logs);
    memset(r, 0, sizeof *r);
}

void cf_exec_into(cf_env *e, cf_res *r, const ms_message *m, int simulate)
{
    cf_res_free(r);
    ms_result res;
    memset(&res, 0xAB, sizeof res);
    r->rc = simulate ? e->m->simulate(e->inst, &res, &e->blk, m) : e->m->execute(e->inst, &res, &e->blk, m);
    if (r->rc != MS_OK) return;
    r->status = res.status;
    r->gas_used = res.gas_used;
    cr_assert_leq(res.gas_used, m->gas, "gas_used %llu above the limit %llu", (unsigned long long)res.gas_used,
                  (unsigned long long)m->gas);
    /* [HOST-19], [HOST-21]: no logs unless SUCCESS; no output on OOG / FATAL. */
    if (res.status != MS_SUCCESS) {
        cr_assert_null(res.logs, "logs must be NULL unless SUCCESS (status %d)", (int)res.status);
        cr_assert_eq(res.log_count, 0u);
    }
    if (res.status == MS_OUT_OF_GAS || res.status == MS_FATAL) {
        cr_assert_null(res.output, "output must be NULL on status %d", (int)res.status);
        cr_assert_eq(res.output_size, 0u);
    }
    cr_assert(res.output_size == 0 || res.output != NULL);
    cr_assert_eq(res.output_size % 32 == 0 || res.status == MS_REVERT, 1, "output is whole words");
    if (res.status == MS_REVERT) cr_assert_eq(res.output_size % 32, 4u, "revert data is selector + words");
    r->out_size = res.output_size;
    r->out = malloc(res.output_size ? res.output_size : 1);
    cr_assert_not_null(r->out);
    if (res.output_size) memcpy(r->out, res.output, res.output_size);
    r->log_count = res.log_count;
    r->logs = calloc(res.log_count ? res.log_count : 1, sizeof *r->logs);
    cr_assert_not_null(r->logs);
    for (size_t i = 0; i < res.log_count; i++) {
        const ms_log *l = &res.logs[i];
        cf_log *c = &r->logs[i];
        memcpy(c->address, l->address.bytes, 20);
        c->topic_count = l->topic_count;
        cr_assert_leq(l->topic_count, 4u);
        for (uint32_t t = 0; t < l->topic_count; t++) memcpy(c->topics[t], l->topics[t].bytes, 32);
        c->data_size = l->data_size;
        c->data = malloc(l->data_size ? l->data_size : 1);
        cr_assert_not_null(c->data);
        if (l->data_size) memcpy(c->data, l->data, l->data_size);
    }
}

static cf_res *tracked_res(void)
{
    cf_res *r = cf_alloc(sizeof *r);
    return r;
}

static cf_res *keep(cf_res *r)
{
    /* Move the malloc'd parts into tracked memory so teardown frees them. */
    cf_buf o = cf_dup(r->out, r->out_size);
    cf_log *logs = cf_alloc((r->log_count ? r->log_count : 1) * sizeof *logs);
    for (size_t i = 0; i < r->log_count; i++) {
        logs[i] = r->logs[i];
        logs[i].data = cf_dup(r->logs[i].data, r->logs[i].data_size).p;
        free(r->logs[i].data);
    }
    free(r->out);
    free(r->logs);
    r->out = o.p;
    r->logs = logs;
    return r;
}

cf_res *cf_exec_msg(cf_env *e, const ms_message *m)
{
    cf_res *r = tracked_res();
    cf_exec_into(e, r, m, 0);
    cr_assert_eq(r->rc, MS_OK, "execute rc %d", (int)r->rc);
    return keep(r);
}

cf_res *cf_sim_msg(cf_env *e, const ms_message *m)
{
    cf_res *r = tracked_res();
    cf_exec_into(e, r, m, 1);
    cr_assert_eq(r->rc, MS_OK, "simulate rc %d", (int)r->rc);
    return keep(r);
}

cf_res *cf_call(cf_env *e, const uint8_t caller20[20], cf_buf cd)
{
    const ms_message m = cf_msg(caller20, cd);
    return cf_exec_msg(e, &m);
}

cf_res *cf_call_gas(cf_env *e, const uint8_t caller20[20], cf_buf cd, uint64_t gas)
{
    ms_message m = cf_msg(caller20, cd);
    m.gas = gas;
    return cf_exec_msg(e, &m);
}

cf_res *cf_sim(cf_env *e, const uint8_t caller20[20], cf_buf cd)
{
    const ms_message m = cf_msg(caller20, cd);
    return cf_sim_msg(e, &m);
}

const uint8_t *cf_out_word(const cf_res *r, size_t i)
{
    cr_assert_geq(r->out_size, 32 * (i + 1), "output has %zu bytes, word %zu wanted", r->out_size, i);
    return r->out + 32 * i;
}

uint64_t cf_out_u64(const cf_res *r, size_t i)
{
    const uint8_t *w = cf_out_word(r, i);
    for (int k = 0; k < 24; k++) cr_assert_eq(w[k], 0, "output word %zu has high bits", i);
    uint64_t v = 0;
    for (int k = 24; k < 32; k++) v = (v << 8) | w[k];
    return v;
}

/* ------------------------------------------------------- assertions */

static void hex(char *o, size_t cap, const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < cap; i++) {
        snprintf(o + k, cap - k, "%02x", p[i]);
        k += 2;
        /* A space after the selector and after each following word. */
        if (i + 1 < n && (i + 1) % 32 == 4 && k + 2 < cap) o[k++] = ' ';
    }
    o[k < cap ? k : cap - 1] = 0;
}

void cf_assert_bytes_at(const char *file, int line, const char *what, const uint8_t *got, size_t got_n,
                        const uint8_t *want, size_t want_n)
{
    if (got_n == want_n && (want_n == 0 || memcmp(got, want, want_n) == 0)) return;
    static char g[4096], w[4096];
    hex(g, sizeof g, got, got_n);
    hex(w, sizeof w, want, want_n);
    cr_assert_fail("%s:%d: %s differs\n  got  (%zu) %s\n  want (%zu) %s", file, line, what, got_n, g, want_n, w);
}

static const char *status_name(ms_status s)
{
    switch (s) {
    case MS_SUCCESS: return "SUCCESS";
    case MS_REVERT: return "REVERT";
    case MS_OUT_OF_GAS: return "OUT_OF_GAS";
    case MS_FATAL: return "FATAL";
    }
    return "?";
}

void cf_assert_revert_at(const char *file, int line, const cf_res *r, cf_buf want)
{
    if (r->status != MS_REVERT) {
        static char g[4096];
        hex(g, sizeof g, r->out, r->out_size);
        cr_assert_fail("%s:%d: status %s, want REVERT (output %s)", file, line, status_name(r->status), g);
    }
    cf_assert_bytes_at(file, line, "revert data", r->out, r->out_size, want.p, want.n);
    cr_assert_eq(r->log_count, 0u, "%s:%d: a reverted call reported logs", file, line);
}

void cf_assert_success_at(const char *file, int line, const cf_res *r)
{
    if (r->status != MS_SUCCESS) {
        static char g[4096];
        hex(g, sizeof g, r->out, r->out_size);
        cr_assert_fail("%s:%d: status %s, want SUCCESS (output %s)", file, line, status_name(r->status), g);
    }
    cr_assert_gt(r->gas_used, 0u, "%s:%d: success with gas_used 0", file, line);
}

void cf_assert_oog_at(const char *file, int line, const cf_res *r, uint64_t limit)
{
    cr_assert_eq(r->status, MS_OUT_OF_GAS, "%s:%d: limit %llu: status %s, want OUT_OF_GAS", file, line,
                 (unsigned long long)limit, status_name(r->status));
    cr_assert_eq(r->gas_used, limit, "%s:%d: OOG gas_used %llu != limit %llu", file, line,
                 (unsigned long long)r->gas_used, (unsigned long long)limit);
    cr_assert_eq(r->out_size, 0u, "%s:%d: OOG with %zu output bytes", file, line, r->out_size);
    cr_assert_eq(r->log_count, 0u, "%s:%d: OOG with logs", file, line);
}

void cf_assert_log_at(const char *file, int line, const cf_env *e, const cf_log *l, const uint8_t topic0[32],
                      unsigned n_topics, const uint8_t *const *topics, unsigned n_data,
                      const uint8_t *const *data)
{
    cf_assert_bytes_at(file, line, "log address", l->address, 20, e->cfg.precompile_address.bytes, 20);
    cr_assert_eq(l->topic_count, 1u + n_topics, "%s:%d: topic count %u, want %u", file, line, l->topic_count,
                 1u + n_topics);
    cf_assert_bytes_at(file, line, "topic0", l->topics[0], 32, topic0, 32);
    for (unsigned i = 0; i < n_topics; i++) cf_assert_bytes_at(file, line, "indexed topic", l->topics[1 + i], 32, topics[i], 32);
    uint8_t *want = cf_alloc(32 * n_data + 1);
    for (unsigned i = 0; i < n_data; i++) memcpy(want + 32 * i, data[i], 32);
    cf_assert_bytes_at(file, line, "log data", l->data, l->data_size, want, 32 * (size_t)n_data);
}

/* ----------------------------------------------------------- snapshots */

void cf_snapshot(cf_env *e, cf_snap *s)
{
    memset(s, 0, sizeof *s);
    const ms_overlay_entry *const *entries;
    size_t count;
    cr_assert(ms_journal_sorted(e->inst->st.journal, &entries, &count));
    ms_keccak h;
    uint8_t b[8];
    ms_keccak_init(&h);
    for (size_t i = 0; i < count; i++) {
        be64(b, entries[i]->klen);
        ms_keccak_update(&h, b, 8);
        ms_keccak_update(&h, entries[i]->key, entries[i]->klen);
        b[0] = (uint8_t)(entries[i]->deleted != 0);
        ms_keccak_update(&h, b, 1);
        if (!entries[i]->deleted) {
            be64(b, entries[i]->vlen);
            ms_keccak_update(&h, b, 8);
            ms_keccak_update(&h, entries[i]->val, entries[i]->vlen);
        }
    }
    ms_keccak_final(&h, s->overlay);
    s->overlay_n = count;

    const ms_log *logs;
    size_t n;
    cr_assert_eq(e->m->pending_logs(e->inst, &logs, &n), MS_OK);
    ms_keccak_init(&h);
    for (size_t i = 0; i < n; i++) {
        ms_keccak_update(&h, logs[i].address.bytes, 20);
        b[0] = (uint8_t)logs[i].topic_count;
        ms_keccak_update(&h, b, 1);
        for (uint32_t t = 0; t < logs[i].topic_count; t++) ms_keccak_update(&h, logs[i].topics[t].bytes, 32);
        be64(b, logs[i].data_size);
        ms_keccak_update(&h, b, 8);
        ms_keccak_update(&h, logs[i].data, logs[i].data_size);
    }
    ms_keccak_final(&h, s->logs);
    s->logs_n = n;
}

void cf_assert_unchanged_at(const char *file, int line, cf_env *e, const cf_snap *before)
{
    cf_snap now;
    cf_snapshot(e, &now);
    cr_assert_eq(now.overlay_n, before->overlay_n, "%s:%d: overlay has %zu entries, had %zu", file, line,
                 now.overlay_n, before->overlay_n);
    cr_assert(memcmp(now.overlay, before->overlay, 32) == 0, "%s:%d: overlay contents changed", file, line);
    cr_assert_eq(now.logs_n, before->logs_n, "%s:%d: %zu pending logs, had %zu", file, line, now.logs_n,
                 before->logs_n);
    cr_assert(memcmp(now.logs, before->logs, 32) == 0, "%s:%d: pending logs changed", file, line);
}

size_t cf_pending_log_count(cf_env *e)
{
    const ms_log *logs;
    size_t n;
    cr_assert_eq(e->m->pending_logs(e->inst, &logs, &n), MS_OK);
    return n;
}

void cf_commit(cf_env *e, uint8_t root32[32])
{
    uint64_t h;
    ms_bytes32 r;
    cr_assert_eq(e->m->committed(e->inst, &h, &r), MS_OK);
    const ms_rc rc = e->m->commit_block(e->inst, &r, h + 1);
    cr_assert_eq(rc, MS_OK, "commit_block: %s", e->m->rc_string(rc));
    if (root32 != NULL) memcpy(root32, r.bytes, 32);
}

/* ------------------------------------------------------ typed helpers */

void cf_create(cf_env *e, uint8_t id_out[32], const cf_key *owner, uint8_t salt_tag, const uint8_t *ct, size_t n)
{
    const uint8_t *salt = cf_b32(salt_tag, 0x5a);
    cf_res *r = cf_call(e, owner->addr, cf_cd_create(salt, cf_b32(0xEE, 0x01), ct, n));
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 32u);
    uint8_t want[32];
    cf_asset_id(want, e->cfg.precompile_address.bytes, owner->addr, salt);
    CF_BYTES(r->out, 32, want, 32);
    memcpy(id_out, r->out, 32);
}

void cf_append(cf_env *e, const cf_key *who, const uint8_t id[32], uint64_t expected, uint64_t epoch,
               const uint8_t *ct, size_t n)
{
    cf_res *r = cf_call(e, who->addr, cf_cd_append(id, expected, epoch, ct, n));
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 64u);
    cr_assert_eq(cf_out_u64(r, 0), expected + 1);
}

void cf_grant(cf_env *e, const cf_key *owner, const uint8_t id[32], const uint8_t grantee[20], uint64_t perms,
              uint64_t expiry, const uint8_t *wk, size_t n)
{
    cf_res *r = cf_call(e, owner->addr, cf_cd_grant(id, grantee, perms, expiry, wk, n));
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 0u);
}

static void word_addr(uint8_t out20[20], const uint8_t *w)
{
    for (int k = 0; k < 12; k++) cr_assert_eq(w[k], 0, "address word has high bits");
    memcpy(out20, w + 12, 20);
}

void cf_get_head(cf_env *e, cf_head *h, const uint8_t id[32])
{
    cf_res *r = cf_call(e, CF_BOB.addr, cf_cd_get_head(id));
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 6 * 32u);
    word_addr(h->owner, cf_out_word(r, 0));
    h->version = cf_out_u64(r, 1);
    memcpy(h->head_hash, cf_out_word(r, 2), 32);
    h->key_epoch = cf_out_u64(r, 3);
    h->flags = cf_out_u64(r, 4);
    memcpy(h->metadata, cf_out_word(r, 5), 32);
}

void cf_get_vinfo(cf_env *e, cf_vinfo *v, const uint8_t id[32], uint64_t version)
{
    cf_res *r = cf_call(e, CF_BOB.addr, cf_cd_get_version_info(id, version));
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 6 * 32u);
    memcpy(v->version_hash, cf_out_word(r, 0), 32);
    memcpy(v->ct_hash, cf_out_word(r, 1), 32);
    v->key_epoch = cf_out_u64(r, 2);
    word_addr(v->author, cf_out_word(r, 3));
    v->block = cf_out_u64(r, 4);
    v->state = cf_out_u64(r, 5);
}

uint64_t cf_nonce_of(cf_env *e, const uint8_t who[20])
{
    cf_res *r = cf_call(e, CF_BOB.addr, cf_cd_nonce_of(who));
    CF_SUCCESS(r);
    cr_assert_eq(r->out_size, 32u);
    return cf_out_u64(r, 0);
}

size_t cf_get_grants(cf_env *e, const uint8_t id[32], uint8_t (*grantees)[20], uint64_t *perms,
                     uint64_t *expiries, uint64_t *epochs, size_t cap)
{
    cf_res *r = cf_call(e, CF_BOB.addr, cf_cd_get_grants(id));
    CF_SUCCESS(r);
    cr_assert_geq(r->out_size, 4 * 32u);
    /* Strict canonical layout: offsets 0x80, then consecutive arrays. */
    const uint64_t off0 = cf_out_u64(r, 0);
    cr_assert_eq(off0, 4 * 32u);
    const uint64_t n = cf_out_u64(r, off0 / 32);
    cr_assert_leq(n, cap);
    cr_assert_eq(r->out_size, 32 * (4 + 4 * (1 + n)), "getGrants output size");
    for (unsigned k = 0; k < 4; k++) {
        const uint64_t off = cf_out_u64(r, k);
        cr_assert_eq(off, 32 * (4 + k * (1 + n)), "array %u offset", k);
        cr_assert_eq(cf_out_u64(r, off / 32), n, "array %u length", k);
        for (uint64_t i = 0; i < n; i++) {
            const size_t wi = off / 32 + 1 + i;
            switch (k) {
            case 0: word_addr(grantees[i], cf_out_word(r, wi)); break;
            case 1: perms[i] = cf_out_u64(r, wi); break;
            case 2: expiries[i] = cf_out_u64(r, wi); break;
            default: epochs[i] = cf_out_u64(r, wi); break;
            }
        }
    }
    return n;
}

/* ------------------------------------------------------------------ gas */

uint64_t cf_words(uint64_t n)
{
    return (n + 31) / 32;
}

uint64_t cf_hash_gas(const ms_config *c, uint64_t n)
{
    return c->gas.hash_base + c->gas.hash_word * cf_words(n);
}

uint64_t cf_log_gas(const ms_config *c, unsigned topics_incl_topic0, unsigned data_words)
{
    return c->gas.log_base + c->gas.log_topic * topics_incl_topic0 + c->gas.log_data_byte * 32u * data_words;
}

uint64_t cf_base_gas(const ms_config *c, size_t input_size)
{
    return c->gas.call_min + c->gas.input_word * cf_words(input_size);
}

uint64_t cf_drop_gas(const ms_config *c, uint64_t len)
{
    const uint64_t per_byte = (c->gas.stored_byte + 3) / 4;
    return c->gas.state_read + 2 * c->gas.state_write + per_byte * len;
}
