/* Structured calldata for fuzz_call; see call_gen.h. Every choice is one
 * fuzz byte, and most choices have a "raw" branch, so the fuzzer can still
 * reach any encoding the structured branches would never produce. */
#include "call_gen.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"

static secp256k1_context *g_secp;

/* ------------------------------------------------------------ helpers */

static void put_u64(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 32);
    for (int i = 31; i >= 24; i--, v >>= 8) w[i] = (uint8_t)v;
}

static uint64_t low64(const uint8_t *w)
{
    uint64_t v = 0;
    for (unsigned i = 24; i < 32; i++) v = (v << 8) | w[i];
    return v;
}

void cg_salt(uint8_t out32[32], const cg_world *w, unsigned s)
{
    memset(out32, 0, 32);
    for (int i = 0; i < 8; i++) out32[i] = (uint8_t)(w->round >> (56 - 8 * i));
    out32[31] = (uint8_t)s;
}

void cg_envelope(uint8_t *out, size_t len, uint64_t epoch, uint8_t seed)
{
    out[0] = 1;
    out[1] = 1;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(epoch >> (56 - 8 * i));
    for (size_t i = 10; i < len; i++) out[i] = (uint8_t)(seed + 7 * i + 1);
    out[10] |= 1;   /* the nonce is never all zero */
}

static void asset_id(uint8_t out[32], const uint8_t pre[20], const uint8_t owner[20], const uint8_t salt[32])
{
    uint8_t buf[72];
    memcpy(buf, pre, 20);
    memcpy(buf + 20, owner, 20);
    memcpy(buf + 40, salt, 32);
    ms_keccak256(out, buf, sizeof buf);
}

void cg_world_init(cg_world *w)
{
    g_secp = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (g_secp == NULL) abort();
    for (unsigned k = 0; k < CG_KEYS; k++) {
        memset(w->sk[k], 0x11 * (k + 1), 32);
        secp256k1_pubkey pk;
        if (!secp256k1_ec_pubkey_create(g_secp, &pk, w->sk[k])) abort();
        uint8_t ser[65], h[32];
        size_t n = sizeof ser;
        secp256k1_ec_pubkey_serialize(g_secp, ser, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
        ms_keccak256(h, ser + 1, 64);
        memcpy(w->addr[k], h + 12, 20);
    }
    memset(w->known_salt, 0x4B, 32);
    asset_id(w->ids[0], w->cfg.precompile_address.bytes, w->addr[0], w->known_salt);
    cg_world_set_round(w, 0);
}

void cg_world_set_round(cg_world *w, uint64_t round)
{
    w->round = round;
    for (unsigned k = 0; k < CG_KEYS; k++) {
        for (unsigned s = 0; s < CG_SALTS; s++) {
            uint8_t salt[32];
            cg_salt(salt, w, s);
            asset_id(w->ids[1 + k * CG_SALTS + s], w->cfg.precompile_address.bytes, w->addr[k], salt);
        }
    }
}

/* ------------------------------------------------------------ encoder */

typedef struct cg_arg {
    int dyn;
    uint8_t word[32];
    const uint8_t *p;
    size_t n;
} cg_arg;

static size_t encode(uint8_t *cd, uint32_t sel, const cg_arg *a, size_t nargs)
{
    size_t len = 4, tail = 32 * nargs;
    for (int i = 0; i < 4; i++) cd[i] = (uint8_t)(sel >> (24 - 8 * i));
    for (size_t i = 0; i < nargs; i++) {
        if (!a[i].dyn) {
            memcpy(cd + len, a[i].word, 32);
        } else {
            put_u64(cd + len, tail);
            const size_t padded = (a[i].n + 31) / 32 * 32;
            put_u64(cd + 4 + tail, a[i].n);
            memset(cd + 4 + tail + 32, 0, padded);
            if (a[i].n > 0) memcpy(cd + 4 + tail + 32, a[i].p, a[i].n);
            tail += 32 + padded;
        }
        len += 32;
    }
    return 4 + tail;
}

size_t cg_simple(uint8_t *cd, uint32_t selector, const uint8_t *w0, const uint8_t *w1)
{
    cg_arg a[2];
    memset(a, 0, sizeof a);
    size_t n = 0;
    if (w0 != NULL) memcpy(a[n++].word, w0, 32);
    if (w1 != NULL) memcpy(a[n++].word, w1, 32);
    return encode(cd, selector, a, n);
}

size_t cg_create_call(uint8_t *cd, const uint8_t salt[32], const uint8_t meta[32], const uint8_t *ct, size_t n)
{
    cg_arg a[3];
    memset(a, 0, sizeof a);
    memcpy(a[0].word, salt, 32);
    memcpy(a[1].word, meta, 32);
    a[2] = (cg_arg){ 1, { 0 }, ct, n };
    return encode(cd, MS_FN_CREATE_MEMORY, a, 3);
}

/* ------------------------------------------------------------ queries */

/* Reads through simulate, so the pending state is untouched. The result
 * points into the instance and dies at the next call. */
static int query(const cg_world *w, const uint8_t *cd, size_t n, ms_result *r)
{
    ms_block_context blk = { 1, CG_BASE_TIME, w->cfg.chain_id };
    ms_message m;
    memset(&m, 0, sizeof m);
    m.kind = MS_CALL;
    memcpy(m.caller.bytes, w->addr[0], 20);
    m.input = cd;
    m.input_size = n;
    m.gas = 10000000;
    return w->m->simulate(w->inst, r, &blk, &m) == MS_OK && r->status == MS_SUCCESS;
}

static uint64_t q_nonce(const cg_world *w, const uint8_t addr[20])
{
    uint8_t word[32], cd[64];
    memset(word, 0, 32);
    memcpy(word + 12, addr, 20);
    ms_result r;
    if (!query(w, cd, cg_simple(cd, MS_FN_NONCE_OF, word, NULL), &r) || r.output_size < 32) return 0;
    return low64(r.output);
}

typedef struct cg_head {
    uint8_t owner[20];
    uint64_t version, epoch;
} cg_head;

static void q_head(const cg_world *w, cg_head *h, const uint8_t id[32])
{
    uint8_t cd[64];
    ms_result r;
    memset(h, 0, sizeof *h);
    if (!query(w, cd, cg_simple(cd, MS_FN_GET_HEAD, id, NULL), &r) || r.output_size < 192) return;
    memcpy(h->owner, r.output + 12, 20);
    h->version = low64(r.output + 32);
    h->epoch = low64(r.output + 96);
}

/* ---------------------------------------------------------- generators */

typedef struct cg_ctx {
    fz_in *in;
    const cg_world *w;
    const ms_block_context *blk;
    uint8_t ct[8192];
    size_t ct_n;
    uint8_t sig[256];
    size_t sig_n;
    uint8_t wk[512];
    size_t wk_n;
} cg_ctx;

static void gen_id(cg_ctx *g, uint8_t out[32])
{
    const uint8_t b = fz_u8(g->in);
    if (b < 0xF0) memcpy(out, g->w->ids[b % CG_IDS], 32);
    else fz_bytes(g->in, out, 32);
}

static void gen_addr(cg_ctx *g, uint8_t word[32])
{
    const uint8_t b = fz_u8(g->in);
    memset(word, 0, 32);
    switch (b % 8) {
    case 3: break;                                                     /* zero address */
    case 4: memcpy(word + 12, g->w->cfg.precompile_address.bytes, 20); break;
    case 5: fz_bytes(g->in, word + 12, 20); break;
    case 6: fz_bytes(g->in, word, 32); break;                          /* dirty high bytes */
    default: memcpy(word + 12, g->w->addr[(b >> 3) % CG_KEYS], 20); break;
    }
}

/* Versions, epochs, expiries: small numbers, the asset's live values, the
 * block time, or anything. */
static void gen_u64(cg_ctx *g, uint8_t word[32], const uint8_t id[32], int what)
{
    const uint8_t b = fz_u8(g->in);
    if (b < 0x80) {
        put_u64(word, b & 0x0F);
    } else if (b < 0xC0 && id != NULL) {
        cg_head h;
        q_head(g->w, &h, id);
        put_u64(word, (what == 'e' ? h.epoch : h.version) + (b & 1));
    } else if (b < 0xE0) {
        put_u64(word, g->blk->timestamp + (uint64_t)(b & 3) - 1);
    } else if (b < 0xF0) {
        put_u64(word, fz_u64(g->in));
    } else {
        fz_bytes(g->in, word, 32);
    }
}

static void gen_ct(cg_ctx *g, uint64_t epoch)
{
    static const size_t lens[] = { 50, 51, 66, 306, 562, 4096, 4097, 8192 };
    const uint8_t b = fz_u8(g->in);
    if (b < 0x20) {
        g->ct_n = 0;
    } else if (b < 0xE0) {
        g->ct_n = lens[b % 8];
        cg_envelope(g->ct, g->ct_n, (b & 0x08) ? fz_u8(g->in) : epoch, fz_u8(g->in));
    } else {
        g->ct_n = fz_u8(g->in);
        fz_bytes(g->in, g->ct, g->ct_n);
    }
}

static void gen_nonce(cg_ctx *g, uint8_t word[32], const uint8_t signer[20])
{
    const uint8_t b = fz_u8(g->in);
    if (b < 0xC0) put_u64(word, q_nonce(g->w, signer));
    else if (b < 0xE0) put_u64(word, q_nonce(g->w, signer) + 1);
    else fz_bytes(g->in, word, 32);
}

static void gen_deadline(cg_ctx *g, uint8_t word[32])
{
    const uint8_t b = fz_u8(g->in);
    if (b < 0x80) memset(word, 0xFF, 32);                      /* never expires */
    else if (b < 0xC0) put_u64(word, g->blk->timestamp + (uint64_t)(b & 3) - 1);
    else if (b < 0xE0) put_u64(word, b & 0x0F);                /* long expired */
    else fz_bytes(g->in, word, 32);
}

/* Signature mode, drawn before the digest is known. */
static uint8_t gen_sig_mode(cg_ctx *g)
{
    return fz_u8(g->in);
}

static int key_of(const cg_world *w, const uint8_t addr[20])
{
    for (unsigned k = 0; k < CG_KEYS; k++) {
        if (memcmp(w->addr[k], addr, 20) == 0) return (int)k;
    }
    return 0;
}

static const uint8_t N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static void fin_sig(cg_ctx *g, uint8_t mode, const uint8_t digest[32], const uint8_t signer[20])
{
    const unsigned m = mode % 8;
    if (m == 6) {
        g->sig_n = 65;
        fz_bytes(g->in, g->sig, 65);
        return;
    }
    if (m == 7) {
        g->sig_n = fz_u8(g->in);
        fz_bytes(g->in, g->sig, g->sig_n);
        return;
    }
    const int k = m == 4 ? (int)((mode >> 3) % CG_KEYS) : key_of(g->w, signer);
    secp256k1_ecdsa_recoverable_signature rs;
    int recid = 0;
    if (!secp256k1_ecdsa_sign_recoverable(g_secp, &rs, digest, g->w->sk[k], NULL, NULL)) abort();
    secp256k1_ecdsa_recoverable_signature_serialize_compact(g_secp, g->sig, &recid, &rs);
    g->sig[64] = (uint8_t)(27 + recid);
    g->sig_n = 65;
    if (m == 5) {
        /* The malleated twin (n - s, flipped v): valid math, refused by EIP-2. */
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
            const int d = (int)N[i] - (int)g->sig[32 + i] - borrow;
            borrow = d < 0;
            g->sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
        }
        g->sig[64] ^= 1;
    }
}

static void gen_wk(cg_ctx *g)
{
    static const size_t lens[] = { 0, 1, 32, 64, 65, 300 };
    const uint8_t b = fz_u8(g->in);
    g->wk_n = lens[b % 6];
    memset(g->wk, b, g->wk_n);
}

static void domain(const cg_ctx *g, uint8_t out[32])
{
    ms_eip712_domain(out, g->blk->chain_id, g->w->cfg.precompile_address.bytes);
}

/* ------------------------------------------------------------ builders */

static const uint32_t FNS[] = {
    MS_FN_CREATE_MEMORY, MS_FN_CREATE_MEMORY_SIGNED, MS_FN_APPEND_VERSION, MS_FN_APPEND_VERSION_SIGNED,
    MS_FN_TRANSFER_OWNERSHIP, MS_FN_TRANSFER_OWNERSHIP_SIGNED, MS_FN_GRANT_ACCESS, MS_FN_REVOKE_ACCESS,
    MS_FN_ROTATE_KEY, MS_FN_SHRED_MEMORY, MS_FN_SHRED_VERSIONS, MS_FN_GET_HEAD, MS_FN_GET_VERSION,
    MS_FN_GET_VERSION_INFO, MS_FN_GET_GRANTS, MS_FN_GET_GRANT, MS_FN_NONCE_OF, MS_FN_DOMAIN_SEPARATOR,
    MS_FN_EIP712_DOMAIN,
};

static size_t build_fn(uint8_t *cd, cg_ctx *g, uint32_t sel)
{
    cg_arg a[8];
    memset(a, 0, sizeof a);
    uint8_t dom[32], digest[32], cth[32];
    switch (sel) {
    case MS_FN_CREATE_MEMORY: {
        cg_salt(a[0].word, g->w, fz_u8(g->in) % (CG_SALTS + 1));
        put_u64(a[1].word, fz_u8(g->in));
        gen_ct(g, 1);
        a[2] = (cg_arg){ 1, { 0 }, g->ct, g->ct_n };
        return encode(cd, sel, a, 3);
    }
    case MS_FN_CREATE_MEMORY_SIGNED: {
        gen_addr(g, a[0].word);
        cg_salt(a[1].word, g->w, fz_u8(g->in) % (CG_SALTS + 1));
        put_u64(a[2].word, fz_u8(g->in));
        gen_ct(g, 1);
        gen_nonce(g, a[4].word, a[0].word + 12);
        gen_deadline(g, a[5].word);
        const uint8_t sm = gen_sig_mode(g);
        ms_eip712_create m;
        memcpy(m.owner, a[0].word + 12, 20);
        memcpy(m.salt, a[1].word, 32);
        memcpy(m.metadata, a[2].word, 32);
        ms_keccak256(cth, g->ct, g->ct_n);
        memcpy(m.ciphertext_hash, cth, 32);
        m.nonce = low64(a[4].word);
        memcpy(m.deadline, a[5].word, 32);
        domain(g, dom);
        ms_eip712_create_digest(digest, dom, &m);
        fin_sig(g, sm, digest, m.owner);
        a[3] = (cg_arg){ 1, { 0 }, g->ct, g->ct_n };
        a[6] = (cg_arg){ 1, { 0 }, g->sig, g->sig_n };
        return encode(cd, sel, a, 7);
    }
    case MS_FN_APPEND_VERSION:
    case MS_FN_APPEND_VERSION_SIGNED: {
        gen_id(g, a[0].word);
        gen_u64(g, a[1].word, a[0].word, 'v');
        gen_u64(g, a[2].word, a[0].word, 'e');
        gen_ct(g, low64(a[2].word));
        a[3] = (cg_arg){ 1, { 0 }, g->ct, g->ct_n };
        if (sel == MS_FN_APPEND_VERSION) return encode(cd, sel, a, 4);
        gen_addr(g, a[4].word);
        gen_nonce(g, a[5].word, a[4].word + 12);
        gen_deadline(g, a[6].word);
        const uint8_t sm = gen_sig_mode(g);
        ms_eip712_append m;
        memcpy(m.asset_id, a[0].word, 32);
        m.expected_version = low64(a[1].word);
        m.key_epoch = low64(a[2].word);
        ms_keccak256(cth, g->ct, g->ct_n);
        memcpy(m.ciphertext_hash, cth, 32);
        memcpy(m.signer, a[4].word + 12, 20);
        m.nonce = low64(a[5].word);
        memcpy(m.deadline, a[6].word, 32);
        domain(g, dom);
        ms_eip712_append_digest(digest, dom, &m);
        fin_sig(g, sm, digest, m.signer);
        a[7] = (cg_arg){ 1, { 0 }, g->sig, g->sig_n };
        return encode(cd, sel, a, 8);
    }
    case MS_FN_TRANSFER_OWNERSHIP:
    case MS_FN_REVOKE_ACCESS:
    case MS_FN_GET_GRANT:
        gen_id(g, a[0].word);
        gen_addr(g, a[1].word);
        return encode(cd, sel, a, 2);
    case MS_FN_TRANSFER_OWNERSHIP_SIGNED: {
        gen_id(g, a[0].word);
        gen_addr(g, a[1].word);
        cg_head h;
        q_head(g->w, &h, a[0].word);   /* the current owner signs */
        gen_nonce(g, a[2].word, h.owner);
        gen_deadline(g, a[3].word);
        const uint8_t sm = gen_sig_mode(g);
        ms_eip712_transfer m;
        memcpy(m.asset_id, a[0].word, 32);
        memcpy(m.new_owner, a[1].word + 12, 20);
        m.nonce = low64(a[2].word);
        memcpy(m.deadline, a[3].word, 32);
        domain(g, dom);
        ms_eip712_transfer_digest(digest, dom, &m);
        fin_sig(g, sm, digest, h.owner);
        a[4] = (cg_arg){ 1, { 0 }, g->sig, g->sig_n };
        return encode(cd, sel, a, 5);
    }
    case MS_FN_GRANT_ACCESS: {
        gen_id(g, a[0].word);
        gen_addr(g, a[1].word);
        const uint8_t p = fz_u8(g->in);
        static const uint8_t perms[] = { 1, 3, 1, 3, 0, 2, 4, 0xFF };
        put_u64(a[2].word, perms[p % 8]);
        if (p >= 0xF8) a[2].word[0] = 1;   /* dirty uint8 */
        gen_u64(g, a[3].word, NULL, 'x');
        gen_wk(g);
        a[4] = (cg_arg){ 1, { 0 }, g->wk, g->wk_n };
        return encode(cd, sel, a, 5);
    }
    case MS_FN_ROTATE_KEY:
    case MS_FN_SHRED_MEMORY:
    case MS_FN_GET_HEAD:
    case MS_FN_GET_GRANTS:
        gen_id(g, a[0].word);
        return encode(cd, sel, a, 1);
    case MS_FN_SHRED_VERSIONS:
    case MS_FN_GET_VERSION:
    case MS_FN_GET_VERSION_INFO:
        gen_id(g, a[0].word);
        gen_u64(g, a[1].word, a[0].word, 'v');
        return encode(cd, sel, a, 2);
    case MS_FN_NONCE_OF:
        gen_addr(g, a[0].word);
        return encode(cd, sel, a, 1);
    default:
        return encode(cd, sel, a, 0);
    }
}

size_t cg_build(uint8_t *cd, fz_in *in, const cg_world *w, const ms_block_context *blk)
{
    static cg_ctx g;   /* large buffers: not on the stack */
    g.in = in;
    g.w = w;
    g.blk = blk;
    const uint32_t sel = FNS[fz_u8(in) % (sizeof FNS / sizeof FNS[0])];
    size_t n = build_fn(cd, &g, sel);
    /* Now and then damage a well-formed encoding: truncate it or append. */
    const uint8_t t = fz_u8(in);
    if (t >= 0xF8 && n > 4) {
        n -= 1 + fz_u8(in) % (n - 4);
    } else if (t >= 0xF0) {
        const size_t extra = fz_u8(in) % 64;
        fz_bytes(in, cd + n, extra);
        n += extra;
    }
    return n;
}
