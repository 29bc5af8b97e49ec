/* The deterministic block stream of the crash test and the state digest.
 * Everything a block does is drawn from cg_hash(seed, height) and from the
 * state the earlier blocks left, which is itself unique; the schedule of
 * commits and rollbacks (crash_test.c) never influences a block's calls. */
#include "crash.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "tools/host/calldata.h"

#define TS0 1700000000u
#define TS_STEP 12u

/* ------------------------------------------------------------------ rng */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t cg_hash(uint64_t a, uint64_t b)
{
    return mix64(mix64(a + 0x9e3779b97f4a7c15ull) ^ (b * 0xd6e8feb86659fd93ull + 0x632be59bd9b4e019ull));
}

void cg_rng_seed(cg_rng *r, uint64_t seed) { r->s = seed; }

uint64_t cg_next(cg_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return mix64(r->s);
}

uint64_t cg_below(cg_rng *r, uint64_t n) { return cg_next(r) % n; }

static void fill(cg_rng *r, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        const uint64_t v = cg_next(r);
        for (size_t j = 0; j < 8 && i + j < n; j++) out[i + j] = (uint8_t)(v >> (8 * j));
    }
}

/* ---------------------------------------------------------------- bytes */

static void be64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t word_u64(const uint8_t *w) /* low 8 bytes of a 32-byte word */
{
    uint64_t v = 0;
    for (unsigned i = 24; i < 32; i++) v = v << 8 | w[i];
    return v;
}

void cg_hex32(char out[65], const uint8_t b[32])
{
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[64] = '\0';
}

static int nib(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

int cg_unhex32(uint8_t out[32], const char *s)
{
    for (unsigned i = 0; i < 32; i++) {
        const int hi = nib(s[2 * i]), lo = hi < 0 ? -1 : nib(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

/* ------------------------------------------------------------- context */

int cg_init(cg_ctx *c, const ms_module *m, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->seed = seed;
    m->default_config(&c->cfg);
    c->cfg.reorg_depth = CG_REORG_DEPTH;
    static const char *const names[CG_ACCOUNTS] = {"crash-alice", "crash-bob", "crash-carol", "crash-dave"};
    for (unsigned i = 0; i < CG_ACCOUNTS; i++)
        if (!dev_account_make(&c->acct[i], names[i])) return 0;
    ms_eip712_domain(c->domain, c->cfg.chain_id, c->cfg.precompile_address.bytes);
    ms_buf_init(&c->cd);
    c->env = malloc(CG_MAX_ENVELOPE);
    c->pt = malloc(CG_MAX_ENVELOPE);
    return c->env != NULL && c->pt != NULL;
}

void cg_free(cg_ctx *c)
{
    ms_buf_free(&c->cd);
    free(c->env);
    free(c->pt);
    c->env = c->pt = NULL;
}

/* --------------------------------------------------------------- calls */

/* Execute c->cd as a plain CALL from account `who` in block h. */
static int exec(cg_ctx *c, ms_result *res, uint64_t h, unsigned who)
{
    if (c->cd.failed) {
        snprintf(c->err, sizeof c->err, "calldata encoding failed (out of memory)");
        return 0;
    }
    const ms_block_context blk = {h, TS0 + TS_STEP * h, c->cfg.chain_id};
    ms_message msg;
    memset(&msg, 0, sizeof msg);
    msg.kind = MS_CALL;
    memcpy(msg.caller.bytes, c->acct[who].addr, 20);
    msg.input = c->cd.data;
    msg.input_size = c->cd.size;
    msg.gas = CG_GAS;
    const ms_rc rc = c->m->execute(c->inst, res, &blk, &msg);
    c->calls++;
    if (rc != MS_OK) {
        snprintf(c->err, sizeof c->err, "execute (block %llu, selector %02x%02x%02x%02x): %s",
                 (unsigned long long)h, c->cd.data[0], c->cd.data[1], c->cd.data[2], c->cd.data[3],
                 c->m->rc_string(rc));
        return 0;
    }
    if (res->status == MS_FATAL) {
        snprintf(c->err, sizeof c->err, "execute (block %llu, selector %02x%02x%02x%02x): MS_FATAL",
                 (unsigned long long)h, c->cd.data[0], c->cd.data[1], c->cd.data[2], c->cd.data[3]);
        return 0;
    }
    return 1;
}

typedef struct head {
    int exists;
    unsigned owner;       /* account index (CG_ACCOUNTS if not one of ours) */
    uint64_t version;
    uint64_t epoch;
    uint64_t flags;
} head;

static int read_head(cg_ctx *c, head *hd, uint64_t h, const uint8_t id[32])
{
    memset(hd, 0, sizeof *hd);
    cd_id(&c->cd, MS_FN_GET_HEAD, id);
    ms_result res;
    if (!exec(c, &res, h, 0)) return 0;
    if (res.status != MS_SUCCESS) return 1;
    if (res.output_size < 6 * 32) {
        snprintf(c->err, sizeof c->err, "getHead returned %zu bytes", res.output_size);
        return 0;
    }
    hd->exists = 1;
    hd->owner = CG_ACCOUNTS;
    for (unsigned i = 0; i < CG_ACCOUNTS; i++)
        if (memcmp(res.output + 12, c->acct[i].addr, 20) == 0) hd->owner = i;
    hd->version = word_u64(res.output + 32);
    hd->epoch = word_u64(res.output + 96);
    hd->flags = word_u64(res.output + 128);
    return 1;
}

/* ----------------------------------------------------------- the stream */

static unsigned creates_in(uint64_t seed, uint64_t blk) /* 1 or 2 assets per block */
{
    return 1u + (unsigned)(cg_hash(seed ^ 0xc7ea7e5ull, blk) % 2u);
}

/* Asset i of block blk: creator, salt, metadata, id (pure function of seed). */
static void asset_of(const cg_ctx *c, uint64_t blk, unsigned i, unsigned *owner, uint8_t salt[32],
                     uint8_t meta[32], uint8_t id[32])
{
    cg_rng r;
    cg_rng_seed(&r, cg_hash(cg_hash(c->seed ^ 0xa55e7ull, blk), i));
    *owner = (unsigned)cg_below(&r, CG_ACCOUNTS);
    fill(&r, salt, 32);
    fill(&r, meta, 32);
    uint8_t pre[72];
    memcpy(pre, c->cfg.precompile_address.bytes, 20);
    memcpy(pre + 20, c->acct[*owner].addr, 20);
    memcpy(pre + 40, salt, 32);
    ms_keccak256(id, pre, sizeof pre);
}

/* A random existing-or-not asset of blocks 1..h. */
static void pick_asset(const cg_ctx *c, cg_rng *r, uint64_t h, uint8_t id[32])
{
    const uint64_t blk = 1 + cg_below(r, h);
    const unsigned i = (unsigned)cg_below(r, creates_in(c->seed, blk));
    unsigned owner;
    uint8_t salt[32], meta[32];
    asset_of(c, blk, i, &owner, salt, meta, id);
}

/* Plaintext length: mostly up to 32 KiB (log-spread), sometimes 40-60 KB. */
static size_t pick_size(cg_rng *r)
{
    if (cg_below(r, 100) < 6) return 40000 + (size_t)cg_below(r, CG_MAX_ENVELOPE - 50 - 40000 + 1);
    const unsigned bits = 4 + (unsigned)cg_below(r, 12);
    return (size_t)cg_below(r, (uint64_t)1 << bits);
}

/* A real XChaCha20-Poly1305 envelope (spec/envelope.md) into c->env. */
static size_t seal(cg_ctx *c, cg_rng *r, const uint8_t id[32], uint64_t version, uint64_t epoch)
{
    const size_t n = pick_size(r);
    uint8_t *e = c->env;
    e[0] = 1;
    e[1] = 1;
    be64(e + 2, epoch);
    fill(r, e + 10, 24);
    e[10] |= 1;   /* never an all-zero nonce */
    uint8_t key[32], pseed[randombytes_SEEDBYTES];
    dev_data_key(key, id, epoch);
    fill(r, pseed, sizeof pseed);
    randombytes_buf_deterministic(c->pt, n, pseed);
    uint8_t ad[86];
    memcpy(ad, "MemSync/v1", 10);
    be64(ad + 10, c->cfg.chain_id);
    memcpy(ad + 18, c->cfg.precompile_address.bytes, 20);
    memcpy(ad + 38, id, 32);
    be64(ad + 70, version);
    be64(ad + 78, epoch);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(e + 34, &clen, c->pt, n, ad, sizeof ad, NULL, e + 10, key);
    return 34 + (size_t)clen;
}

enum op_kind {
    OP_APPEND_OWNER, OP_APPEND_OTHER, OP_APPEND_SIGNED, OP_GRANT, OP_REVOKE, OP_ROTATE,
    OP_TRANSFER, OP_SHRED_VERSIONS, OP_SHRED_MEMORY, OP_FRAME
};

static enum op_kind pick_kind(cg_rng *r)
{
    const uint64_t u = cg_below(r, 100);
    if (u < 34) return OP_APPEND_OWNER;
    if (u < 42) return OP_APPEND_OTHER;
    if (u < 49) return OP_APPEND_SIGNED;
    if (u < 62) return OP_GRANT;
    if (u < 67) return OP_REVOKE;
    if (u < 72) return OP_ROTATE;
    if (u < 76) return OP_TRANSFER;
    if (u < 79) return OP_SHRED_VERSIONS;
    if (u < 80) return OP_SHRED_MEMORY;
    return OP_FRAME;
}

static int do_op(cg_ctx *c, cg_rng *r, uint64_t h, enum op_kind kind, int depth);

/* A frame the EVM later reverts, possibly holding an inner reverted frame. */
static int do_frame(cg_ctx *c, cg_rng *r, uint64_t h, int depth)
{
    static const enum op_kind inner[] = {OP_APPEND_OWNER, OP_GRANT, OP_ROTATE, OP_APPEND_SIGNED, OP_TRANSFER};
    uint64_t cp;
    ms_rc rc = c->m->checkpoint(c->inst, &cp);
    if (rc != MS_OK) goto lifecycle;
    const uint64_t pattern = cg_below(r, 3);
    const unsigned n = 1 + (unsigned)cg_below(r, 2);
    for (unsigned i = 0; i < n; i++)
        if (!do_op(c, r, h, inner[cg_below(r, 5)], depth + 1)) return 0;
    if (pattern == 0) {                     /* the whole frame reverts */
        if ((rc = c->m->revert_to(c->inst, cp)) != MS_OK) goto lifecycle;
        if (cg_below(r, 2) && (rc = c->m->revert_to(c->inst, cp)) != MS_OK) goto lifecycle;
    } else if (pattern == 1 && depth < 2) { /* an inner frame reverts, the outer one survives */
        if (!do_frame(c, r, h, depth + 1)) return 0;
        if (!do_op(c, r, h, OP_APPEND_OWNER, depth + 1)) return 0;
    } else {                                /* survives; a sibling frame then reverts */
        uint64_t cp2;
        if ((rc = c->m->checkpoint(c->inst, &cp2)) != MS_OK) goto lifecycle;
        if (!do_op(c, r, h, inner[cg_below(r, 5)], depth + 1)) return 0;
        if ((rc = c->m->revert_to(c->inst, cp2)) != MS_OK) goto lifecycle;
    }
    return 1;
lifecycle:
    snprintf(c->err, sizeof c->err, "checkpoint/revert_to in block %llu: %s", (unsigned long long)h,
             c->m->rc_string(rc));
    return 0;
}

static int do_op(cg_ctx *c, cg_rng *r, uint64_t h, enum op_kind kind, int depth)
{
    if (kind == OP_FRAME) return depth < 3 ? do_frame(c, r, h, depth) : 1;
    uint8_t id[32];
    pick_asset(c, r, h, id);
    head hd;
    if (!read_head(c, &hd, h, id)) return 0;
    const unsigned owner = hd.exists && hd.owner < CG_ACCOUNTS ? hd.owner : 0;
    const unsigned other = (owner + 1 + (unsigned)cg_below(r, CG_ACCOUNTS - 1)) % CG_ACCOUNTS;
    ms_result res;
    switch (kind) {
    case OP_APPEND_OWNER:
    case OP_APPEND_OTHER: {
        const unsigned who = kind == OP_APPEND_OWNER ? owner : other;
        const size_t len = seal(c, r, id, hd.version + 1, hd.epoch ? hd.epoch : 1);
        cd_append_version(&c->cd, id, hd.version, hd.epoch ? hd.epoch : 1, c->env, len);
        return exec(c, &res, h, who);
    }
    case OP_APPEND_SIGNED: {
        const unsigned signer = cg_below(r, 4) ? owner : other;
        cd_addr(&c->cd, MS_FN_NONCE_OF, c->acct[signer].addr);
        if (!exec(c, &res, h, 0)) return 0;
        const uint64_t nonce = res.status == MS_SUCCESS && res.output_size >= 32 ? word_u64(res.output) : 0;
        const uint64_t epoch = hd.epoch ? hd.epoch : 1;
        const size_t len = seal(c, r, id, hd.version + 1, epoch);
        ms_eip712_append m;
        memset(&m, 0, sizeof m);
        memcpy(m.asset_id, id, 32);
        m.expected_version = hd.version;
        m.key_epoch = epoch;
        ms_keccak256(m.ciphertext_hash, c->env, len);
        memcpy(m.signer, c->acct[signer].addr, 20);
        m.nonce = nonce;
        const uint64_t deadline = TS0 + TS_STEP * h + 3600;
        be64(m.deadline + 24, deadline);
        uint8_t digest[32], sig[65];
        ms_eip712_append_digest(digest, c->domain, &m);
        if (!dev_sign(sig, digest, &c->acct[signer])) {
            snprintf(c->err, sizeof c->err, "dev_sign failed");
            return 0;
        }
        cd_append_version_signed(&c->cd, id, hd.version, epoch, c->env, len, c->acct[signer].addr, nonce,
                                 deadline, sig);
        return exec(c, &res, h, (unsigned)cg_below(r, CG_ACCOUNTS));   /* any relayer */
    }
    case OP_GRANT: {
        uint8_t wrapped[256];
        const size_t wl = (size_t)cg_below(r, 2) ? DEV_WRAPPED_KEY_SIZE : (size_t)cg_below(r, sizeof wrapped + 1);
        fill(r, wrapped, wl);
        const uint8_t perms = cg_below(r, 2) ? 3 : 1;
        const uint64_t expiry = cg_below(r, 3) ? 0 : TS0 + TS_STEP * (h + cg_below(r, 20));
        cd_grant_access(&c->cd, id, c->acct[other].addr, perms, expiry, wrapped, wl);
        return exec(c, &res, h, owner);
    }
    case OP_REVOKE:
        cd_id_addr(&c->cd, MS_FN_REVOKE_ACCESS, id, c->acct[other].addr);
        return exec(c, &res, h, owner);
    case OP_ROTATE:
        cd_id(&c->cd, MS_FN_ROTATE_KEY, id);
        return exec(c, &res, h, owner);
    case OP_TRANSFER:
        cd_id_addr(&c->cd, MS_FN_TRANSFER_OWNERSHIP, id, c->acct[other].addr);
        return exec(c, &res, h, owner);
    case OP_SHRED_VERSIONS:
        cd_id_u64(&c->cd, MS_FN_SHRED_VERSIONS, id, hd.version ? 1 + cg_below(r, hd.version) : 1);
        return exec(c, &res, h, owner);
    case OP_SHRED_MEMORY:
        cd_id(&c->cd, MS_FN_SHRED_MEMORY, id);
        return exec(c, &res, h, owner);
    case OP_FRAME:
        break;
    }
    return 1;
}

/* One block in three also creates CG_BULK_CREATES memories without a
 * version: enough state writes that the commit writes the state tree's
 * records outside RocksDB's log (MS_STATE_UNLOGGED_MIN, spec/storage.md
 * [ST-24]), so that the kills also take unlogged tree versions, which the
 * reopen must rebuild. Their assets are under the root, not the digest. */
#define CG_BULK_CREATES 300u

static int bulk(cg_ctx *c, uint64_t h)
{
    if (cg_hash(c->seed ^ 0xb01cull, h) % 3u != 0) return 1;
    for (unsigned i = 0; i < CG_BULK_CREATES; i++) {
        cg_rng r;
        cg_rng_seed(&r, cg_hash(cg_hash(c->seed ^ 0xb01c5a17ull, h), i));
        uint8_t salt[32], meta[32];
        fill(&r, salt, 32);
        fill(&r, meta, 32);
        cd_create_memory(&c->cd, salt, meta, c->env, 0);
        ms_result res;
        if (!exec(c, &res, h, i % CG_ACCOUNTS)) return 0;
        if (res.status != MS_SUCCESS) {
            snprintf(c->err, sizeof c->err, "bulk createMemory %u in block %llu: status %d", i,
                     (unsigned long long)h, (int)res.status);
            return 0;
        }
    }
    return 1;
}

int cg_block(cg_ctx *c, uint64_t h)
{
    cg_rng r;
    cg_rng_seed(&r, cg_hash(c->seed, h));
    ms_result res;
    const unsigned nc = creates_in(c->seed, h);
    for (unsigned i = 0; i < nc; i++) {
        unsigned owner;
        uint8_t salt[32], meta[32], id[32];
        asset_of(c, h, i, &owner, salt, meta, id);
        const size_t len = cg_below(&r, 4) ? seal(c, &r, id, 1, 1) : 0;
        cd_create_memory(&c->cd, salt, meta, c->env, len);
        if (!exec(c, &res, h, owner)) return 0;
        if (res.status != MS_SUCCESS) {
            snprintf(c->err, sizeof c->err, "createMemory in block %llu: status %d", (unsigned long long)h,
                     (int)res.status);
            return 0;
        }
    }
    const unsigned nops = 3 + (unsigned)cg_below(&r, 4);
    for (unsigned i = 0; i < nops; i++)
        if (!do_op(c, &r, h, pick_kind(&r), 0)) return 0;
    return bulk(c, h);
}

/* ---------------------------------------------------------------- digest */

static int absorb_call(cg_ctx *c, ms_keccak *k, uint64_t h, ms_result *res)
{
    if (!exec(c, res, h, 0)) return 0;
    uint8_t hdr[12];
    be64(hdr, (uint64_t)res->status);
    hdr[8] = (uint8_t)(res->output_size >> 24);
    hdr[9] = (uint8_t)(res->output_size >> 16);
    hdr[10] = (uint8_t)(res->output_size >> 8);
    hdr[11] = (uint8_t)res->output_size;
    ms_keccak_update(k, c->cd.data, c->cd.size);
    ms_keccak_update(k, hdr, sizeof hdr);
    ms_keccak_update(k, res->output, res->output_size);
    return 1;
}

int cg_digest(cg_ctx *c, uint64_t h, uint8_t out32[32])
{
    ms_keccak k;
    ms_keccak_init(&k);
    ms_result res;
    const uint64_t rb = h + 1;   /* reads run in the block after the store's height */
    for (uint64_t blk = 1; blk <= h + 1; blk++) {
        for (unsigned i = 0; i < creates_in(c->seed, blk); i++) {
            unsigned owner;
            uint8_t salt[32], meta[32], id[32];
            asset_of(c, blk, i, &owner, salt, meta, id);
            cd_id(&c->cd, MS_FN_GET_HEAD, id);
            if (!absorb_call(c, &k, rb, &res)) return 0;
            if (res.status != MS_SUCCESS) continue;
            const uint64_t version = word_u64(res.output + 32);
            cd_id(&c->cd, MS_FN_GET_GRANTS, id);
            if (!absorb_call(c, &k, rb, &res)) return 0;
            for (uint64_t v = 1; v <= version; v++) {
                cd_id_u64(&c->cd, MS_FN_GET_VERSION_INFO, id, v);
                if (!absorb_call(c, &k, rb, &res)) return 0;
            }
            if (version > 0) {   /* the head's ciphertext (or why it is gone) */
                cd_id_u64(&c->cd, MS_FN_GET_VERSION, id, version);
                if (!absorb_call(c, &k, rb, &res)) return 0;
            }
        }
    }
    for (unsigned a = 0; a < CG_ACCOUNTS; a++) {
        cd_addr(&c->cd, MS_FN_NONCE_OF, c->acct[a].addr);
        if (!absorb_call(c, &k, rb, &res)) return 0;
    }
    ms_keccak_final(&k, out32);
    return 1;
}
