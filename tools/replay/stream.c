/* Seeded block-stream generator (see stream.h). */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/abi_encode.h"
#include "abi/keccak.h"
#include "abi/selectors.h"
#include "crypto/eip712.h"
#include "crypto/envelope.h"
#include "tools/host/device.h"

#define NACC 20
#define MAX_ASSETS 64
#define GENESIS_TIME 1700000000u
#define BLOCK_TIME 12u
#define BIG_GAS 3000000u

/* Functions, in a fixed order (indices are part of the stream). */
enum {
    F_CREATE, F_CREATE_SIGNED, F_APPEND, F_APPEND_SIGNED, F_TRANSFER, F_TRANSFER_SIGNED, F_GRANT, F_REVOKE,
    F_ROTATE, F_SHRED, F_SHRED_VERSIONS, F_GET_HEAD, F_GET_VERSION, F_GET_VERSION_INFO, F_GET_GRANTS,
    F_GET_GRANT, F_NONCE_OF, F_DOMAIN, F_EIP712_DOMAIN, F_COUNT
};

static const struct {
    uint32_t sel;
    const char *name;
    int write;
    int weight;
} FN[F_COUNT] = {
    {MS_FN_CREATE_MEMORY, "createMemory", 1, 10},
    {MS_FN_CREATE_MEMORY_SIGNED, "createMemorySigned", 1, 6},
    {MS_FN_APPEND_VERSION, "appendVersion", 1, 16},
    {MS_FN_APPEND_VERSION_SIGNED, "appendVersionSigned", 1, 8},
    {MS_FN_TRANSFER_OWNERSHIP, "transferOwnership", 1, 3},
    {MS_FN_TRANSFER_OWNERSHIP_SIGNED, "transferOwnershipSigned", 1, 2},
    {MS_FN_GRANT_ACCESS, "grantAccess", 1, 8},
    {MS_FN_REVOKE_ACCESS, "revokeAccess", 1, 4},
    {MS_FN_ROTATE_KEY, "rotateKey", 1, 3},
    {MS_FN_SHRED_MEMORY, "shredMemory", 1, 1},
    {MS_FN_SHRED_VERSIONS, "shredVersions", 1, 3},
    {MS_FN_GET_HEAD, "getHead", 0, 6},
    {MS_FN_GET_VERSION, "getVersion", 0, 6},
    {MS_FN_GET_VERSION_INFO, "getVersionInfo", 0, 4},
    {MS_FN_GET_GRANTS, "getGrants", 0, 3},
    {MS_FN_GET_GRANT, "getGrant", 0, 3},
    {MS_FN_NONCE_OF, "nonceOf", 0, 2},
    {MS_FN_DOMAIN_SEPARATOR, "domainSeparator", 0, 1},
    {MS_FN_EIP712_DOMAIN, "eip712Domain", 0, 1},
};

/* Argument-level flaws a builder understands (others are ignored: valid call). */
enum {
    S_NONE, S_NOT_OWNER, S_UNKNOWN_ASSET, S_STALE, S_EPOCH, S_ENV, S_OVERSIZE, S_EXPIRED, S_NONCE,
    S_WRONG_KEY, S_SIG, S_ZERO_ADDR, S_SELF_ADDR, S_PERMS, S_BIG_WK, S_DUP_SALT, S_RANGE, S_EMPTY_CT,
    S_FAR_DEADLINE, S_COUNT
};

/* Call-level flaws, applied to any function after it is built. */
enum {
    G_NONE, G_SHORT, G_UNKNOWN, G_DELEGATE, G_CALLCODE, G_STATICKIND, G_VALUE, G_CHAIN, G_TRUNC, G_DIRTY,
    G_OFFSET, G_LENGTH, G_TRAIL, G_FLIP, G_COUNT
};

/* Gas policies. */
enum { GAS_BIG, GAS_RANDOM, GAS_TINY, GAS_EXACT, GAS_EXACT_MINUS1 };

typedef struct asset {
    uint8_t id[32];
    uint8_t salt[32];
    int creator;
} asset_t;

typedef struct head_info {
    uint8_t owner[20];
    uint64_t version, epoch;
    uint32_t flags;
    int found;
} head_info;

struct rs_gen {
    const ms_module *m;
    ms_instance *inst;
    ms_config cfg;
    rs_options opt;
    rs_observer obs;
    void *obs_ctx;
    uint64_t s[4];
    dev_account acc[NACC];
    char acc_names[NACC][24];
    asset_t assets[MAX_ASSETS];
    int nassets;
    uint64_t height;
    uint64_t branch;
    ms_block_context blk;
    int in_block;
    uint64_t call_index;
    int frame_counter;
    ms_buf cd, qb;
    size_t dyn_pos[4];      /* positions in cd of the dynamic head words of the last encoding */
    int ndyn;
    uint8_t *ctbuf;         /* ciphertext scratch, max_ciphertext + 64 */
    size_t ctcap;
    int failed;
    char err[256];
    rs_stats st;
    /* curated-scenario knobs (-1: random) */
    int force_asset;
    int force_reason;
    int cur_step;
};

/* ------------------------------------------------------------------ rng */
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(rs_gen *g)
{
    uint64_t *s = g->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static uint64_t rnd(rs_gen *g, uint64_t n) { return n == 0 ? 0 : next(g) % n; }
static int chance(rs_gen *g, unsigned percent) { return rnd(g, 1000) < (uint64_t)percent * 10u; }

static void rnd_bytes(rs_gen *g, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        const uint64_t v = next(g);
        for (size_t j = 0; j < 8 && i + j < n; j++) p[i + j] = (uint8_t)(v >> (8 * j));
    }
}

static void seed_rng(rs_gen *g, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        g->s[i] = z ^ (z >> 31);
    }
}

/* ------------------------------------------------------------- helpers */
static void fail(rs_gen *g, const char *what, ms_rc rc)
{
    if (g->failed) return;
    g->failed = 1;
    snprintf(g->err, sizeof g->err, "%s: %s (rc %d)", what, g->m->rc_string(rc), (int)rc);
}

static void fail_msg(rs_gen *g, const char *msg)
{
    if (g->failed) return;
    g->failed = 1;
    snprintf(g->err, sizeof g->err, "%s", msg);
}

static void put_u64_word(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 32);
    for (unsigned i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8u * i));
}

static uint64_t word_low64(const uint8_t w[32])
{
    uint64_t x = 0;
    for (int i = 24; i < 32; i++) x = (x << 8) | w[i];
    return x;
}

static int acc_index(const rs_gen *g, const uint8_t addr[20])
{
    for (int i = 0; i < NACC; i++)
        if (memcmp(g->acc[i].addr, addr, 20) == 0) return i;
    return -1;
}

static int other_acc(rs_gen *g, int not_this)
{
    if (not_this < 0) return (int)rnd(g, NACC);
    int i = (int)rnd(g, NACC - 1);
    if (i >= not_this) i++;
    return i;
}

static void emit(rs_gen *g, rs_event *ev)
{
    if (g->obs != NULL) g->obs(g->obs_ctx, ev);
}

/* ------------------------------------------------------------ encoding */
typedef struct arg {
    int dyn;
    uint8_t w[32];
    const uint8_t *p;
    size_t n;
} arg;

static arg a_word(const uint8_t w[32])
{
    arg a;
    memset(&a, 0, sizeof a);
    memcpy(a.w, w, 32);
    return a;
}

static arg a_u64(uint64_t v)
{
    arg a;
    memset(&a, 0, sizeof a);
    put_u64_word(a.w, v);
    return a;
}

static arg a_addr(const uint8_t addr[20])
{
    arg a;
    memset(&a, 0, sizeof a);
    memcpy(a.w + 12, addr, 20);
    return a;
}

static arg a_bytes(const uint8_t *p, size_t n)
{
    arg a;
    memset(&a, 0, sizeof a);
    a.dyn = 1;
    a.p = p;
    a.n = n;
    return a;
}

static void encode(rs_gen *g, ms_buf *b, uint32_t sel, const arg *a, size_t n)
{
    ms_buf_reset(b);
    ms_abi_put_selector(b, sel);
    size_t tail = 32 * n;
    if (b == &g->cd) g->ndyn = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].dyn) {
            if (b == &g->cd && g->ndyn < 4) g->dyn_pos[g->ndyn++] = b->size;
            ms_abi_put_uint(b, (uint64_t)tail);
            tail += 32 * ms_abi_bytes_tail_words(a[i].n);
        } else {
            ms_abi_put_word(b, a[i].w);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (a[i].dyn) ms_abi_put_bytes_tail(b, a[i].p, a[i].n);
}

/* ------------------------------------------------------------- calling */
/* Execute or simulate one message; reports it. Returns 0 if the host failed. */
static int do_call(rs_gen *g, ms_result *r, const ms_message *msg, const ms_block_context *blk, int simulate,
                   int aux)
{
    memset(r, 0, sizeof *r);
    if (g->failed) return 0;
    const ms_rc rc = simulate ? g->m->simulate(g->inst, r, blk, msg) : g->m->execute(g->inst, r, blk, msg);
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = simulate ? RS_EV_SIMULATE : RS_EV_CALL;
    ev.aux = aux;
    ev.index = g->call_index++;
    ev.blk = *blk;
    ev.msg = msg;
    ev.res = r;
    ev.rc = rc;
    emit(g, &ev);
    if (aux) g->st.aux++;
    else if (simulate) g->st.simulates++;
    else g->st.calls++;
    if (rc != MS_OK) {
        fail(g, simulate ? "simulate" : "execute", rc);
        return 0;
    }
    if (!aux && r->status <= 3) g->st.status[r->status]++;
    if (r->status == MS_FATAL) {
        fail_msg(g, "a call returned MS_FATAL (the instance is poisoned)");
        return 0;
    }
    return 1;
}

/* An eth_call the generator makes for itself, from the zero address. */
static int query(rs_gen *g, ms_result *r)
{
    ms_message msg;
    memset(&msg, 0, sizeof msg);
    msg.kind = MS_STATICCALL;
    msg.is_static = 1;
    msg.input = g->qb.data;
    msg.input_size = g->qb.size;
    msg.gas = BIG_GAS;
    return do_call(g, r, &msg, &g->blk, 1, 1) && r->status == MS_SUCCESS;
}

static void query_head(rs_gen *g, head_info *h, const uint8_t id[32])
{
    memset(h, 0, sizeof *h);
    const arg a[] = {a_word(id)};
    encode(g, &g->qb, MS_FN_GET_HEAD, a, 1);
    ms_result r;
    if (!query(g, &r) || r.output_size < 6 * 32) return;
    memcpy(h->owner, r.output + 12, 20);
    h->version = word_low64(r.output + 32);
    h->epoch = word_low64(r.output + 96);
    h->flags = (uint32_t)word_low64(r.output + 128);
    h->found = 1;
}

static uint64_t query_nonce(rs_gen *g, const uint8_t addr[20])
{
    const arg a[] = {a_addr(addr)};
    encode(g, &g->qb, MS_FN_NONCE_OF, a, 1);
    ms_result r;
    if (!query(g, &r) || r.output_size < 32) return 0;
    return word_low64(r.output);
}

/* Grantees of an asset (up to cap); returns the count. */
static int query_grantees(rs_gen *g, int *idx, int cap, const uint8_t id[32])
{
    const arg a[] = {a_word(id)};
    encode(g, &g->qb, MS_FN_GET_GRANTS, a, 1);
    ms_result r;
    if (!query(g, &r) || r.output_size < 4 * 32) return 0;
    const uint64_t off = word_low64(r.output);
    if (off > r.output_size - 32) return 0;
    const uint64_t n = word_low64(r.output + off);
    int k = 0;
    for (uint64_t i = 0; i < n && k < cap; i++) {
        const uint64_t p = off + 32 + 32 * i;
        if (p + 32 > r.output_size) break;
        const int j = acc_index(g, r.output + p + 12);
        if (j >= 0) idx[k++] = j;
    }
    return k;
}

/* ------------------------------------------------------------- assets */
static void add_asset(rs_gen *g, const uint8_t id[32], const uint8_t salt[32], int creator)
{
    int slot = g->nassets < MAX_ASSETS ? g->nassets++ : (int)rnd(g, MAX_ASSETS);
    memcpy(g->assets[slot].id, id, 32);
    memcpy(g->assets[slot].salt, salt, 32);
    g->assets[slot].creator = creator;
}

/* Choose an asset id; fills h via getHead. Returns the list index or -1. */
static int pick_asset(rs_gen *g, uint8_t id[32], head_info *h, int flaw)
{
    int k = -1;
    if (flaw == S_UNKNOWN_ASSET || g->nassets == 0) {
        rnd_bytes(g, id, 32);
    } else {
        k = g->force_asset >= 0 && g->force_asset < g->nassets ? g->force_asset : (int)rnd(g, (uint64_t)g->nassets);
        memcpy(id, g->assets[k].id, 32);
    }
    query_head(g, h, id);
    if (!h->found && k >= 0 && g->force_asset < 0 && chance(g, 50)) {
        g->assets[k] = g->assets[--g->nassets];   /* gone (reverted frame, reorg): forget it mostly */
        k = -1;
    }
    return k;
}

/* -------------------------------------------------------- ciphertexts */
static size_t body_len(rs_gen *g)
{
    if (g->cfg.bucket_policy == MS_BUCKETS_POW2) return MS_ENVELOPE_TAG_SIZE + (256u << rnd(g, g->opt.compact ? 1 : 2));
    const int maxb = g->opt.max_ct_body > 16 ? g->opt.max_ct_body : 700;
    return 16 + (size_t)rnd(g, (uint64_t)maxb - 15);
}

/* Build a ciphertext into g->ctbuf for key epoch `epoch`; flaw S_ENV makes it
 * invalid (reason forced or random), S_OVERSIZE one byte over the maximum. */
static size_t make_ct(rs_gen *g, uint64_t epoch, int flaw)
{
    size_t len = MS_ENVELOPE_HEADER_SIZE + body_len(g);
    if (flaw == S_OVERSIZE) len = (size_t)g->cfg.max_ciphertext + 1;
    if (len > g->ctcap) len = g->ctcap;
    uint8_t *e = g->ctbuf;
    rnd_bytes(g, e, len);
    e[0] = 1;
    e[1] = 1;
    for (unsigned i = 0; i < 8; i++) e[2 + i] = (uint8_t)(epoch >> (56 - 8 * i));
    e[10] |= 1;   /* nonce never all zero */
    if (flaw == S_ENV) {
        int reason = g->force_reason > 0 ? g->force_reason : 1 + (int)rnd(g, 6);
        if (reason == 6 && g->cfg.bucket_policy != MS_BUCKETS_POW2) reason = 1 + (int)rnd(g, 5);
        switch (reason) {
        case 1: len = (size_t)rnd(g, 50); break;
        case 2: e[0] = (uint8_t)(2 + rnd(g, 250)); break;
        case 3: e[1] = (uint8_t)(2 + rnd(g, 250)); break;
        case 4: e[9] ^= (uint8_t)(1 + rnd(g, 255)); break;
        case 5: memset(e + 10, 0, 24); break;
        default: len = MS_ENVELOPE_HEADER_SIZE + 300; break;   /* not a power-of-two bucket */
        }
    }
    return len;
}

/* ---------------------------------------------------------- signatures */
static const uint8_t SECP_N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                   0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static void deadline_word(rs_gen *g, uint8_t w[32], int flaw)
{
    const uint64_t ts = g->blk.timestamp;
    if (flaw == S_EXPIRED) put_u64_word(w, ts - 1 - rnd(g, 1000));
    else if (flaw == S_FAR_DEADLINE) memset(w, 0xff, 32);   /* >= 2^64: never expires */
    else put_u64_word(w, ts + rnd(g, 3600));                /* includes deadline == now */
}

/* Sign digest by acc[signer] (or another account for S_WRONG_KEY), then spoil
 * the signature for S_SIG. Returns the signature length (65 unless spoiled). */
static size_t make_sig(rs_gen *g, uint8_t sig[72], const uint8_t digest[32], int signer, int flaw)
{
    int who = signer;
    if (flaw == S_WRONG_KEY) who = other_acc(g, signer);
    memset(sig, 0, 72);
    if (!dev_sign(sig, digest, &g->acc[who])) return 65;
    if (flaw != S_SIG) return 65;
    const int reason = g->force_reason > 0 ? g->force_reason : 1 + (int)rnd(g, 6);
    switch (reason) {
    case 1: return chance(g, 50) ? 64 : 66;
    case 2: sig[64] = (uint8_t)(chance(g, 50) ? 29 : rnd(g, 27)); break;
    case 3:
        if (chance(g, 50)) memset(sig, 0, 32);
        else memcpy(sig, SECP_N, 32);
        break;
    case 4: memset(sig + 32, 0, 32); break;
    case 5: {
        /* s := n - s (the high twin), v flipped: a valid but non-canonical signature */
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
            int d = (int)SECP_N[i] - (int)sig[32 + i] - borrow;
            borrow = d < 0;
            sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
        }
        sig[64] = (uint8_t)(sig[64] == 27 ? 28 : 27);
        break;
    }
    default:
        /* r = a small x with no curve point (x = 5: 5^3 + 7 = 132 is not a square mod p
         * per the generator's coverage check; if it were, this is WrongSigner) */
        memset(sig, 0, 32);
        sig[31] = 5;
        break;
    }
    return 65;
}

/* ------------------------------------------------------------ builders */
typedef struct call {
    int fn;
    ms_message msg;
    ms_block_context blk;
    int caller;
    /* createMemory bookkeeping */
    uint8_t salt[32];
    int creator;
} call;

static void set_caller(rs_gen *g, call *c, int who)
{
    c->caller = who;
    memcpy(c->msg.caller.bytes, g->acc[who].addr, 20);
}

/* Owner index of h (or a random account when the asset is unknown). */
static int owner_of(rs_gen *g, const head_info *h)
{
    const int o = h->found ? acc_index(g, h->owner) : -1;
    return o >= 0 ? o : (int)rnd(g, NACC);
}

static void domain_now(const rs_gen *g, uint8_t d[32])
{
    ms_eip712_domain(d, g->blk.chain_id, g->cfg.precompile_address.bytes);
}

static void build(rs_gen *g, call *c, int fn, int flaw)
{
    uint8_t id[32], w[32], sig[72], dl[32], dom[32], cth[32], salt[32], meta[32];
    head_info h;
    size_t ctl = 0, sigl = 65;
    c->fn = fn;
    c->creator = -1;
    set_caller(g, c, (int)rnd(g, NACC));
    domain_now(g, dom);

    switch (fn) {
    case F_CREATE:
    case F_CREATE_SIGNED: {
        int owner = (int)rnd(g, NACC);
        rnd_bytes(g, salt, 32);
        if (flaw == S_DUP_SALT && g->nassets > 0) {
            const int k = g->force_asset >= 0 && g->force_asset < g->nassets ? g->force_asset
                                                                             : (int)rnd(g, (uint64_t)g->nassets);
            memcpy(salt, g->assets[k].salt, 32);
            owner = g->assets[k].creator;
        }
        rnd_bytes(g, meta, 32);
        if (flaw != S_EMPTY_CT && (flaw == S_ENV || flaw == S_OVERSIZE || chance(g, 80)))
            ctl = make_ct(g, 1, flaw);
        ms_keccak256(cth, g->ctbuf, ctl);
        memcpy(c->salt, salt, 32);
        c->creator = owner;
        if (fn == F_CREATE) {
            set_caller(g, c, owner);
            const arg a[] = {a_word(salt), a_word(meta), a_bytes(g->ctbuf, ctl)};
            encode(g, &g->cd, FN[fn].sel, a, 3);
        } else {
            uint64_t nonce = query_nonce(g, g->acc[owner].addr);
            ms_eip712_create m;
            memset(&m, 0, sizeof m);
            memcpy(m.owner, g->acc[owner].addr, 20);
            memcpy(m.salt, salt, 32);
            memcpy(m.metadata, meta, 32);
            memcpy(m.ciphertext_hash, cth, 32);
            m.nonce = nonce;
            deadline_word(g, dl, flaw);
            memcpy(m.deadline, dl, 32);
            uint8_t digest[32];
            ms_eip712_create_digest(digest, dom, &m);
            sigl = make_sig(g, sig, digest, owner, flaw);
            if (flaw == S_NONCE) nonce = nonce > 0 && chance(g, 50) ? nonce - 1 : nonce + 1 + rnd(g, 3);
            uint8_t ow[20];
            memcpy(ow, g->acc[owner].addr, 20);
            if (flaw == S_ZERO_ADDR) memset(ow, 0, 20);
            const arg a[] = {a_addr(ow), a_word(salt), a_word(meta), a_bytes(g->ctbuf, ctl), a_u64(nonce),
                             a_word(dl), a_bytes(sig, sigl)};
            encode(g, &g->cd, FN[fn].sel, a, 7);
        }
        break;
    }
    case F_APPEND:
    case F_APPEND_SIGNED: {
        pick_asset(g, id, &h, flaw);
        const int owner = owner_of(g, &h);
        int author = owner;
        if (flaw == S_NOT_OWNER) {
            author = other_acc(g, owner);
        } else if (chance(g, 35)) {
            /* a write grantee, if any (maybe expired or read-only: then NotAuthorized) */
            int gi[16];
            const int ng = query_grantees(g, gi, 16, id);
            if (ng > 0) author = gi[rnd(g, (uint64_t)ng)];
        }
        uint64_t expected = h.version, epoch = h.epoch ? h.epoch : 1;
        if (flaw == S_STALE) expected = expected > 0 && chance(g, 60) ? expected - 1 - rnd(g, expected) : expected + 1;
        if (flaw == S_EPOCH) epoch = epoch > 1 && chance(g, 60) ? epoch - 1 : epoch + 1;
        ctl = make_ct(g, epoch, flaw == S_EMPTY_CT ? S_NONE : flaw);
        if (flaw == S_EMPTY_CT) ctl = 0;
        ms_keccak256(cth, g->ctbuf, ctl);
        if (fn == F_APPEND) {
            set_caller(g, c, author);
            const arg a[] = {a_word(id), a_u64(expected), a_u64(epoch), a_bytes(g->ctbuf, ctl)};
            encode(g, &g->cd, FN[fn].sel, a, 4);
        } else {
            uint64_t nonce = query_nonce(g, g->acc[author].addr);
            ms_eip712_append m;
            memset(&m, 0, sizeof m);
            memcpy(m.asset_id, id, 32);
            m.expected_version = expected;
            m.key_epoch = epoch;
            memcpy(m.ciphertext_hash, cth, 32);
            memcpy(m.signer, g->acc[author].addr, 20);
            m.nonce = nonce;
            deadline_word(g, dl, flaw);
            memcpy(m.deadline, dl, 32);
            uint8_t digest[32];
            ms_eip712_append_digest(digest, dom, &m);
            sigl = make_sig(g, sig, digest, author, flaw);
            if (flaw == S_NONCE) nonce = nonce > 0 && chance(g, 50) ? nonce - 1 : nonce + 1 + rnd(g, 3);
            const arg a[] = {a_word(id), a_u64(expected), a_u64(epoch), a_bytes(g->ctbuf, ctl),
                             a_addr(g->acc[author].addr), a_u64(nonce), a_word(dl), a_bytes(sig, sigl)};
            encode(g, &g->cd, FN[fn].sel, a, 8);
        }
        break;
    }
    case F_TRANSFER:
    case F_TRANSFER_SIGNED: {
        pick_asset(g, id, &h, flaw);
        const int owner = owner_of(g, &h);
        uint8_t to[20];
        memcpy(to, g->acc[other_acc(g, owner)].addr, 20);
        if (flaw == S_ZERO_ADDR) memset(to, 0, 20);
        if (flaw == S_SELF_ADDR) memcpy(to, g->acc[owner].addr, 20);
        if (fn == F_TRANSFER) {
            set_caller(g, c, flaw == S_NOT_OWNER ? other_acc(g, owner) : owner);
            const arg a[] = {a_word(id), a_addr(to)};
            encode(g, &g->cd, FN[fn].sel, a, 2);
        } else {
            uint64_t nonce = query_nonce(g, g->acc[owner].addr);
            ms_eip712_transfer m;
            memset(&m, 0, sizeof m);
            memcpy(m.asset_id, id, 32);
            memcpy(m.new_owner, to, 20);
            m.nonce = nonce;
            deadline_word(g, dl, flaw);
            memcpy(m.deadline, dl, 32);
            uint8_t digest[32];
            ms_eip712_transfer_digest(digest, dom, &m);
            sigl = make_sig(g, sig, digest, owner, flaw == S_NOT_OWNER ? S_WRONG_KEY : flaw);
            if (flaw == S_NONCE) nonce = nonce > 0 && chance(g, 50) ? nonce - 1 : nonce + 1 + rnd(g, 3);
            const arg a[] = {a_word(id), a_addr(to), a_u64(nonce), a_word(dl), a_bytes(sig, sigl)};
            encode(g, &g->cd, FN[fn].sel, a, 5);
        }
        break;
    }
    case F_GRANT: {
        pick_asset(g, id, &h, flaw);
        const int owner = owner_of(g, &h);
        set_caller(g, c, flaw == S_NOT_OWNER ? other_acc(g, owner) : owner);
        uint8_t to[20];
        memcpy(to, g->acc[other_acc(g, owner)].addr, 20);
        if (flaw == S_ZERO_ADDR) memset(to, 0, 20);
        if (flaw == S_SELF_ADDR) memcpy(to, g->acc[owner].addr, 20);
        uint64_t perms = chance(g, 60) ? 3 : 1;
        if (flaw == S_PERMS) {
            static const uint64_t bad[] = {0, 2, 4, 5, 7, 255};
            perms = bad[rnd(g, 6)];
        }
        uint64_t expiry = 0;
        const unsigned e = (unsigned)rnd(g, 10);
        if (e >= 5 && e < 8) expiry = g->blk.timestamp + rnd(g, 120);   /* soon: expires on a later block */
        else if (e == 8) expiry = g->blk.timestamp - 1 - rnd(g, 50);  /* already expired */
        else if (e == 9) expiry = g->blk.timestamp;                    /* the expiry second itself counts */
        size_t wl = (size_t)rnd(g, (uint64_t)(g->cfg.max_wrapped_key < 96 ? g->cfg.max_wrapped_key : 96) + 1);
        if (flaw == S_BIG_WK) wl = (size_t)g->cfg.max_wrapped_key + 1 + (size_t)rnd(g, 8);
        if (wl > g->ctcap) wl = g->ctcap;
        rnd_bytes(g, g->ctbuf, wl);
        const arg a[] = {a_word(id), a_addr(to), a_u64(perms), a_u64(expiry), a_bytes(g->ctbuf, wl)};
        encode(g, &g->cd, FN[fn].sel, a, 5);
        break;
    }
    case F_REVOKE:
    case F_GET_GRANT: {
        pick_asset(g, id, &h, flaw);
        const int owner = owner_of(g, &h);
        if (fn == F_REVOKE) set_caller(g, c, flaw == S_NOT_OWNER ? other_acc(g, owner) : owner);
        int gi[16];
        const int ng = flaw == S_RANGE ? 0 : query_grantees(g, gi, 16, id);
        const int who = ng > 0 && chance(g, 85) ? gi[rnd(g, (uint64_t)ng)] : other_acc(g, owner);
        const arg a[] = {a_word(id), a_addr(g->acc[who].addr)};
        encode(g, &g->cd, FN[fn].sel, a, 2);
        break;
    }
    case F_ROTATE:
    case F_SHRED:
    case F_GET_HEAD:
    case F_GET_GRANTS: {
        pick_asset(g, id, &h, flaw);
        const int owner = owner_of(g, &h);
        if (FN[fn].write) set_caller(g, c, flaw == S_NOT_OWNER ? other_acc(g, owner) : owner);
        const arg a[] = {a_word(id)};
        encode(g, &g->cd, FN[fn].sel, a, 1);
        break;
    }
    case F_SHRED_VERSIONS:
    case F_GET_VERSION:
    case F_GET_VERSION_INFO: {
        pick_asset(g, id, &h, flaw);
        const int owner = owner_of(g, &h);
        if (FN[fn].write) set_caller(g, c, flaw == S_NOT_OWNER ? other_acc(g, owner) : owner);
        uint64_t v;
        const uint64_t k = g->cfg.retained_versions;
        if (g->force_reason >= 1000) v = h.version - (uint64_t)(g->force_reason - 1000);
        else if (g->force_reason >= 0) v = (uint64_t)g->force_reason;
        else if (flaw == S_RANGE) v = chance(g, 50) ? 0 : h.version + 1 + rnd(g, 3);
        else if (flaw == S_STALE || fn == F_SHRED_VERSIONS) v = h.version > 0 ? 1 + rnd(g, h.version) : 0;
        else v = h.version > k ? h.version - rnd(g, k) : (h.version > 0 ? 1 + rnd(g, h.version) : 0);
        const arg a[] = {a_word(id), a_u64(v)};
        encode(g, &g->cd, FN[fn].sel, a, 2);
        break;
    }
    case F_NONCE_OF: {
        uint8_t addr[20];
        if (chance(g, 80)) memcpy(addr, g->acc[rnd(g, NACC)].addr, 20);
        else rnd_bytes(g, addr, 20);
        const arg a[] = {a_addr(addr)};
        encode(g, &g->cd, FN[fn].sel, a, 1);
        break;
    }
    default: {
        encode(g, &g->cd, FN[fn].sel, NULL, 0);
        if (chance(g, 20)) {   /* extra input is ignored but paid for */
            rnd_bytes(g, w, 32);
            ms_buf_put(&g->cd, w, 1 + (size_t)rnd(g, 32));
        }
        break;
    }
    }
    c->msg.kind = MS_CALL;
    c->msg.input = g->cd.data;
    c->msg.input_size = g->cd.size;
    c->msg.gas = BIG_GAS;
    c->blk = g->blk;
}

/* Call-level flaws: context violations and ABI damage. */
static void spoil(rs_gen *g, call *c, int gflaw)
{
    ms_buf *b = &g->cd;
    switch (gflaw) {
    case G_SHORT: b->size = (size_t)rnd(g, 4); break;
    case G_UNKNOWN: {
        uint32_t s;
        for (;;) {
            s = (uint32_t)next(g);
            int known = 0;
            for (int i = 0; i < F_COUNT; i++) known |= FN[i].sel == s;
            if (!known) break;
        }
        if (b->size < 4) b->size = 4;
        b->data[0] = (uint8_t)(s >> 24);
        b->data[1] = (uint8_t)(s >> 16);
        b->data[2] = (uint8_t)(s >> 8);
        b->data[3] = (uint8_t)s;
        break;
    }
    case G_DELEGATE: c->msg.kind = MS_DELEGATECALL; break;
    case G_CALLCODE: c->msg.kind = MS_CALLCODE; break;
    case G_STATICKIND: c->msg.kind = MS_STATICCALL; break;
    case G_VALUE: c->msg.value.bytes[31 - rnd(g, 32)] = (uint8_t)(1 + rnd(g, 255)); break;
    case G_CHAIN: c->blk.chain_id = g->cfg.chain_id + 1 + rnd(g, 1000); break;
    case G_TRUNC:
        if (b->size > 4) b->size = 4 + (size_t)rnd(g, b->size - 4);
        break;
    case G_DIRTY: {
        const size_t words = (b->size - 4) / 32;
        if (words > 0) b->data[4 + 32 * rnd(g, words < 8 ? words : 8) + rnd(g, 12)] |= (uint8_t)(1 + rnd(g, 255));
        break;
    }
    case G_OFFSET:
        if (g->ndyn > 0) {
            const size_t p = g->dyn_pos[rnd(g, (uint64_t)g->ndyn)];
            if (chance(g, 50)) b->data[p + rnd(g, 24)] = 0x80;
            else put_u64_word(b->data + p, b->size - 4 - 31 + rnd(g, 64));
        }
        break;
    case G_LENGTH:
        if (g->ndyn > 0) {
            const size_t p = g->dyn_pos[rnd(g, (uint64_t)g->ndyn)];
            const uint64_t off = word_low64(b->data + p);
            if (4 + off + 32 <= b->size) {
                const uint64_t len = word_low64(b->data + 4 + off);
                put_u64_word(b->data + 4 + off, chance(g, 50) ? len + 33 + rnd(g, 100) : UINT64_MAX - rnd(g, 4));
            }
        }
        break;
    case G_TRAIL: {
        uint8_t t[64];
        rnd_bytes(g, t, sizeof t);
        ms_buf_put(b, t, 1 + (size_t)rnd(g, 64));
        break;
    }
    case G_FLIP:
        if (b->size > 4) b->data[4 + rnd(g, b->size - 4)] ^= (uint8_t)(1 + rnd(g, 255));
        break;
    default: break;
    }
    c->msg.input = b->data;
    c->msg.input_size = b->size;
}

/* After a successful create, remember the asset (id from the module's output). */
static void after(rs_gen *g, const call *c, const ms_result *r)
{
    if ((c->fn == F_CREATE || c->fn == F_CREATE_SIGNED) && r->status == MS_SUCCESS && r->output_size >= 32 &&
        c->creator >= 0)
        add_asset(g, r->output, c->salt, c->creator);
}

/* Build, spoil and run one call with a gas policy. */
static int run_call(rs_gen *g, int fn, int sflaw, int gflaw, int gas_policy, int is_static, int simulate)
{
    call c;
    memset(&c, 0, sizeof c);
    build(g, &c, fn, sflaw);
    if (g->failed) return 0;
    spoil(g, &c, gflaw);
    c.msg.is_static = is_static;
    ms_result r;
    uint8_t simhash[32];
    int have_sim = 0;
    switch (gas_policy) {
    case GAS_RANDOM: c.msg.gas = rnd(g, 40000); break;
    case GAS_TINY: c.msg.gas = g->cfg.gas.call_min - 1 + rnd(g, 60); break;
    case GAS_EXACT:
    case GAS_EXACT_MINUS1:
        /* gas estimation: simulate, then run with exactly the gas used (or one less) */
        if (!do_call(g, &r, &c.msg, &c.blk, 1, 0)) return 0;
        rs_result_hash(simhash, &r);
        have_sim = gas_policy == GAS_EXACT;
        c.msg.gas = r.gas_used - (gas_policy == GAS_EXACT_MINUS1 && r.gas_used > 0 ? 1 : 0);
        break;
    default: break;
    }
    if (!do_call(g, &r, &c.msg, &c.blk, simulate, 0)) return 0;
    if (have_sim) {
        /* [HOST-33]: simulate runs the call exactly as execute; with exactly the
         * gas it reported used, execute must give the same result. */
        uint8_t h[32];
        rs_result_hash(h, &r);
        if (memcmp(h, simhash, 32) != 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "invariant: %s executed with the gas simulate reported (%llu) differs from the simulation",
                     FN[fn].name, (unsigned long long)c.msg.gas);
            fail_msg(g, msg);
            return 0;
        }
    }
    if (!simulate) after(g, &c, &r);
    return 1;
}

static int pick_fn(rs_gen *g)
{
    int total = 0;
    for (int i = 0; i < F_COUNT; i++) total += FN[i].weight;
    int x = (int)rnd(g, (uint64_t)total);
    for (int i = 0; i < F_COUNT; i++) {
        if (x < FN[i].weight) return i;
        x -= FN[i].weight;
    }
    return F_GET_HEAD;
}

static int random_call(rs_gen *g, int is_static, int simulate)
{
    const int fn = pick_fn(g);
    int sflaw = S_NONE, gflaw = G_NONE, gas = GAS_BIG;
    const unsigned r = (unsigned)rnd(g, 100);
    if (r < 27) sflaw = 1 + (int)rnd(g, S_COUNT - 1);
    if (sflaw == S_OVERSIZE && g->opt.compact) sflaw = S_ENV;
    else if (r < 37) gflaw = 1 + (int)rnd(g, G_COUNT - 1);
    const unsigned q = (unsigned)rnd(g, 100);
    if (q < 6) gas = GAS_RANDOM;
    else if (q < 9) gas = GAS_TINY;
    else if (q < 13) gas = GAS_EXACT;
    else if (q < 17) gas = GAS_EXACT_MINUS1;
    return run_call(g, fn, sflaw, gflaw, gas, is_static, simulate);
}

/* ------------------------------------------------------------- frames */
static int frame(rs_gen *g, int depth, int is_static, int (*body)(rs_gen *, int, int), int revert)
{
    const int fid = g->frame_counter++;
    uint64_t cp = 0;
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RS_EV_CHECKPOINT;
    ev.frame = fid;
    ev.rc = g->m->checkpoint(g->inst, &cp);
    emit(g, &ev);
    if (ev.rc != MS_OK) {
        fail(g, "checkpoint", ev.rc);
        return 0;
    }
    if (is_static) g->st.static_frames++;
    if (!body(g, depth, is_static)) return 0;
    if (revert < 0) revert = chance(g, depth == 0 ? 12 : 22);
    if (revert) {
        ev.type = RS_EV_REVERT;
        ev.rc = g->m->revert_to(g->inst, cp);
        emit(g, &ev);
        g->st.reverted_frames++;
        if (ev.rc != MS_OK) {
            fail(g, "revert_to", ev.rc);
            return 0;
        }
    }
    return 1;
}

static int random_body(rs_gen *g, int depth, int is_static)
{
    const int n = 1 + (int)rnd(g, 3);
    for (int i = 0; i < n; i++) {
        int ok;
        if (depth < 6 && chance(g, 25)) ok = frame(g, depth + 1, is_static || chance(g, 12), random_body, -1);
        else ok = random_call(g, is_static, 0);
        if (!ok) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------- blocks */
static void begin_block(rs_gen *g)
{
    g->blk.number = g->height + 1;
    g->blk.timestamp = GENESIS_TIME + BLOCK_TIME * g->blk.number + (g->branch % 7);
    g->blk.chain_id = g->cfg.chain_id;
    g->call_index = 0;
    g->frame_counter = 0;
    g->in_block = 1;
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RS_EV_BEGIN;
    ev.blk = g->blk;
    emit(g, &ev);
}

static int commit(rs_gen *g)
{
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RS_EV_COMMIT;
    const ms_log *logs = NULL;
    size_t n = 0;
    ms_rc rc = g->m->pending_logs(g->inst, &logs, &n);
    if (rc != MS_OK) {
        fail(g, "pending_logs", rc);
        return 0;
    }
    ev.log_count = n;
    rs_logs_hash(ev.log_hash, logs, n);
    ev.height = g->blk.number;
    ev.rc = g->m->commit_block(g->inst, &ev.root, ev.height);
    emit(g, &ev);
    g->in_block = 0;
    if (ev.rc != MS_OK) {
        fail(g, "commit_block", ev.rc);
        return 0;
    }
    g->height = ev.height;
    g->st.blocks++;
    return 1;
}

static int discard(rs_gen *g)
{
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RS_EV_DISCARD;
    ev.rc = g->m->discard_block(g->inst);
    emit(g, &ev);
    g->in_block = 0;
    g->st.discards++;
    if (ev.rc != MS_OK) {
        fail(g, "discard_block", ev.rc);
        return 0;
    }
    return 1;
}

/* rollback_to(h); `expect_ok` 0 for deliberately invalid requests. */
static int rollback(rs_gen *g, uint64_t h, int expect_ok)
{
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RS_EV_ROLLBACK;
    ev.height = h;
    ev.rc = g->m->rollback_to(g->inst, h);
    uint64_t ch = 0;
    g->m->committed(g->inst, &ch, &ev.root);
    emit(g, &ev);
    if (ev.rc == MS_OK) {
        g->height = ch;
        g->branch++;
        g->in_block = 0;
        g->st.reorgs++;
    } else if (expect_ok || ev.rc == MS_ERR_POISONED || ev.rc == MS_ERR_IO || ev.rc == MS_ERR_CORRUPT) {
        fail(g, "rollback_to", ev.rc);
        return 0;
    }
    return 1;
}

static void root_at(rs_gen *g, uint64_t h)
{
    rs_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RS_EV_ROOT_AT;
    ev.height = h;
    ev.rc = g->m->root_at(g->inst, &ev.root, h);
    emit(g, &ev);
}

static int random_block(rs_gen *g, int abandon)
{
    begin_block(g);
    const int ntx = 1 + (int)rnd(g, g->opt.small_blocks ? 3 : 6);
    for (int i = 0; i < ntx; i++) {
        int ok;
        if (chance(g, 12)) ok = random_call(g, chance(g, 20), 1);   /* eth_call between transactions */
        else ok = frame(g, 0, chance(g, 5), random_body, -1);
        if (!ok) return 0;
    }
    if (abandon) return discard(g);
    if (chance(g, 8) && g->height > 0) root_at(g, g->height - rnd(g, (uint64_t)g->cfg.reorg_depth + 3));
    return commit(g);
}

static int random_step(rs_gen *g)
{
    const unsigned r = (unsigned)rnd(g, 1000);
    const uint64_t R = g->cfg.reorg_depth;
    if (r < 30 && g->height >= 2) {
        const uint64_t maxd = g->height < 5 ? g->height : 5;
        if (!rollback(g, g->height - 1 - rnd(g, maxd), 1)) return -1;
    } else if (r < 34 && g->height > R + 1) {
        if (!rollback(g, g->height - R - 1 - rnd(g, 3), 0)) return -1;   /* too deep: MS_ERR_REORG_DEPTH */
    } else if (r < 38) {
        if (!rollback(g, g->height + 1 + rnd(g, 3), 0)) return -1;       /* above: MS_ERR_HEIGHT */
    } else if (r < 60) {
        if (!random_block(g, 1)) return -1;                              /* abandoned proposal */
    }
    return random_block(g, 0) ? 1 : -1;
}

/* ----------------------------------------------------- curated scenario */
/* One call with forced choices. */
static int cc(rs_gen *g, int fn, int sflaw, int asset, int reason)
{
    g->force_asset = asset;
    g->force_reason = reason;
    const int ok = run_call(g, fn, sflaw, G_NONE, GAS_BIG, 0, 0);
    g->force_asset = -1;
    g->force_reason = -1;
    return ok;
}

static int cg(rs_gen *g, int fn, int gflaw, int asset, int gas, int is_static)
{
    g->force_asset = asset;
    const int ok = run_call(g, fn, S_NONE, gflaw, gas, is_static, 0);
    g->force_asset = -1;
    return ok;
}

static int body_write_then_nested_revert(rs_gen *g, int depth, int is_static)
{
    (void)depth;
    if (!cg(g, F_APPEND, G_NONE, 0, GAS_BIG, is_static)) return 0;
    return frame(g, 1, is_static, random_body, 1);
}

static int body_static(rs_gen *g, int depth, int is_static)
{
    (void)depth;
    return cg(g, F_ROTATE, G_NONE, 0, GAS_BIG, is_static) && cg(g, F_GET_HEAD, G_NONE, 0, GAS_BIG, is_static);
}

static int body_append(rs_gen *g, int depth, int is_static)
{
    (void)depth;
    return cg(g, F_APPEND, G_NONE, 0, GAS_BIG, is_static);
}

static int curated_step(rs_gen *g)
{
    int ok = 1;
    const int step = g->cur_step++;
    if (step == 9) {
        /* reorg two blocks back, then a different branch; invalid requests first */
        ok = rollback(g, g->height + 1, 0) && rollback(g, 0, 0) && rollback(g, g->height - 2, 1);
        if (!ok) return -1;
        root_at(g, g->height + 1);
        root_at(g, g->height);
    }
    if (step == 12) return 0;
    if (step == 10) {
        /* an abandoned proposal */
        begin_block(g);
        if (!cc(g, F_CREATE, S_NONE, -1, -1) || !discard(g)) return -1;
    }
    begin_block(g);
    switch (step) {
    case 0:   /* creation */
        for (int i = 0; i < 3; i++) ok = ok && cc(g, F_CREATE, S_NONE, -1, -1);
        ok = ok && cc(g, F_CREATE, S_EMPTY_CT, -1, -1) && cc(g, F_CREATE_SIGNED, S_NONE, -1, -1) &&
             cc(g, F_CREATE_SIGNED, S_FAR_DEADLINE, -1, -1) && cc(g, F_CREATE, S_DUP_SALT, 0, -1) &&
             cc(g, F_CREATE_SIGNED, S_DUP_SALT, 1, -1) && cc(g, F_CREATE, S_OVERSIZE, -1, -1);
        for (int r = 1; r <= 6; r++) ok = ok && cc(g, F_CREATE, S_ENV, -1, r);
        break;
    case 1:   /* signatures */
        ok = cc(g, F_CREATE_SIGNED, S_EXPIRED, -1, -1) && cc(g, F_CREATE_SIGNED, S_NONCE, -1, -1) &&
             cc(g, F_CREATE_SIGNED, S_WRONG_KEY, -1, -1) && cc(g, F_CREATE_SIGNED, S_ZERO_ADDR, -1, -1);
        for (int r = 1; r <= 6; r++) ok = ok && cc(g, F_CREATE_SIGNED, S_SIG, -1, r);
        ok = ok && cc(g, F_NONCE_OF, S_NONE, -1, -1) && cc(g, F_DOMAIN, S_NONE, -1, -1) &&
             cc(g, F_EIP712_DOMAIN, S_NONE, -1, -1);
        break;
    case 2:   /* appends, retention, conflicts */
        for (int i = 0; i < 5; i++) ok = ok && cc(g, F_APPEND, S_NONE, 0, -1);
        ok = ok && cc(g, F_APPEND_SIGNED, S_NONE, 0, -1) && cc(g, F_APPEND, S_STALE, 0, -1) &&
             cc(g, F_APPEND, S_EPOCH, 0, -1) && cc(g, F_APPEND, S_NOT_OWNER, 0, -1) &&
             cc(g, F_APPEND, S_UNKNOWN_ASSET, -1, -1) && cc(g, F_APPEND, S_EMPTY_CT, 0, -1) &&
             cc(g, F_APPEND, S_OVERSIZE, 0, -1) && cc(g, F_APPEND_SIGNED, S_NONCE, 0, -1) &&
             cc(g, F_APPEND_SIGNED, S_EXPIRED, 0, -1) && cc(g, F_APPEND_SIGNED, S_WRONG_KEY, 0, -1) &&
             cc(g, F_APPEND_SIGNED, S_NOT_OWNER, 0, -1) && cc(g, F_APPEND_SIGNED, S_STALE, 0, -1);
        for (int r = 1; r <= 6; r++) ok = ok && cc(g, F_APPEND, S_ENV, 0, r);
        ok = ok && cc(g, F_GET_VERSION, S_NONE, 0, 1) && cc(g, F_GET_VERSION, S_NONE, 0, 1000) &&
             cc(g, F_GET_VERSION, S_NONE, 0, 0) && cc(g, F_GET_VERSION, S_NONE, 0, 99) &&
             cc(g, F_GET_VERSION_INFO, S_NONE, 0, 1) && cc(g, F_GET_VERSION_INFO, S_NONE, 0, 1000) &&
             cc(g, F_GET_HEAD, S_NONE, 0, -1) && cc(g, F_GET_HEAD, S_UNKNOWN_ASSET, -1, -1);
        break;
    case 3:   /* grants */
        for (int i = 0; i < 10; i++) ok = ok && cc(g, F_GRANT, S_NONE, 1, -1);
        ok = ok && cc(g, F_GRANT, S_PERMS, 1, -1) && cc(g, F_GRANT, S_BIG_WK, 1, -1) &&
             cc(g, F_GRANT, S_ZERO_ADDR, 1, -1) && cc(g, F_GRANT, S_SELF_ADDR, 1, -1) &&
             cc(g, F_GRANT, S_NOT_OWNER, 1, -1) && cc(g, F_GET_GRANTS, S_NONE, 1, -1) &&
             cc(g, F_GET_GRANT, S_NONE, 1, -1) && cc(g, F_GET_GRANT, S_RANGE, 1, -1) &&
             cc(g, F_REVOKE, S_NONE, 1, -1) && cc(g, F_REVOKE, S_RANGE, 1, -1) &&
             cc(g, F_REVOKE, S_NOT_OWNER, 1, -1);
        for (int i = 0; i < 4; i++) ok = ok && cc(g, F_APPEND, S_NONE, 1, -1);   /* some by grantees */
        ok = ok && cc(g, F_APPEND_SIGNED, S_NONE, 1, -1) && cc(g, F_GET_GRANTS, S_NONE, 1, -1);
        break;
    case 4:   /* keys and ownership */
        ok = cc(g, F_ROTATE, S_NONE, 1, -1) && cc(g, F_ROTATE, S_NOT_OWNER, 1, -1) &&
             cc(g, F_APPEND, S_EPOCH, 1, -1) && cc(g, F_APPEND, S_NONE, 1, -1) &&
             cc(g, F_TRANSFER, S_ZERO_ADDR, 1, -1) && cc(g, F_TRANSFER, S_SELF_ADDR, 1, -1) &&
             cc(g, F_TRANSFER, S_NOT_OWNER, 1, -1) && cc(g, F_TRANSFER, S_NONE, 1, -1) &&
             cc(g, F_TRANSFER_SIGNED, S_EXPIRED, 1, -1) && cc(g, F_TRANSFER_SIGNED, S_WRONG_KEY, 1, -1) &&
             cc(g, F_TRANSFER_SIGNED, S_NONCE, 1, -1) && cc(g, F_TRANSFER_SIGNED, S_ZERO_ADDR, 1, -1) &&
             cc(g, F_TRANSFER_SIGNED, S_NONE, 1, -1) && cc(g, F_TRANSFER_SIGNED, S_FAR_DEADLINE, 1, -1) &&
             cc(g, F_GRANT, S_NONE, 1, -1) && cc(g, F_TRANSFER, S_NONE, 1, -1) && cc(g, F_GET_HEAD, S_NONE, 1, -1);
        break;
    case 5:   /* shredding */
        ok = cc(g, F_SHRED_VERSIONS, S_NONE, 0, 1001) && cc(g, F_SHRED_VERSIONS, S_RANGE, 0, -1) &&
             cc(g, F_SHRED_VERSIONS, S_NOT_OWNER, 0, -1) && cc(g, F_GET_VERSION, S_NONE, 0, 1001) &&
             cc(g, F_GET_VERSION_INFO, S_NONE, 0, 1001) && cc(g, F_GET_VERSION, S_NONE, 0, 1000) &&
             cc(g, F_SHRED, S_NOT_OWNER, 2, -1) && cc(g, F_SHRED, S_NONE, 2, -1) &&
             cc(g, F_SHRED, S_NONE, 2, -1) && cc(g, F_APPEND, S_NONE, 2, -1) &&
             cc(g, F_GRANT, S_NONE, 2, -1) && cc(g, F_GET_HEAD, S_NONE, 2, -1) &&
             cc(g, F_GET_VERSION, S_NONE, 2, 1) && cc(g, F_SHRED_VERSIONS, S_NONE, 2, 1);
        break;
    case 6:   /* context violations and ABI damage */
        for (int gf = 1; gf < G_COUNT; gf++) ok = ok && cg(g, gf == G_STATICKIND ? F_ROTATE : F_APPEND, gf, 0, GAS_BIG, 0);
        ok = ok && cg(g, F_GRANT, G_OFFSET, 0, GAS_BIG, 0) && cg(g, F_GRANT, G_LENGTH, 0, GAS_BIG, 0) &&
             cg(g, F_GET_HEAD, G_STATICKIND, 0, GAS_BIG, 0) && cg(g, F_GET_HEAD, G_TRUNC, 0, GAS_BIG, 0) &&
             cg(g, F_DOMAIN, G_DELEGATE, -1, GAS_BIG, 0) && cg(g, F_APPEND, G_NONE, 0, GAS_BIG, 1);
        break;
    case 7:   /* gas */
        ok = cg(g, F_APPEND, G_NONE, 0, GAS_EXACT_MINUS1, 0) && cg(g, F_APPEND, G_NONE, 0, GAS_EXACT, 0) &&
             cg(g, F_APPEND_SIGNED, G_NONE, 0, GAS_EXACT_MINUS1, 0) && cg(g, F_GET_GRANTS, G_NONE, 1, GAS_EXACT, 0) &&
             cg(g, F_GET_HEAD, G_NONE, 0, GAS_TINY, 0) && cg(g, F_CREATE, G_NONE, -1, GAS_RANDOM, 0) &&
             cg(g, F_APPEND, G_NONE, 0, GAS_RANDOM, 0);
        break;
    case 8:   /* frames: a write that survives, nested frames that revert, a static frame */
        ok = frame(g, 0, 0, body_write_then_nested_revert, 0) && frame(g, 0, 0, body_write_then_nested_revert, 1) &&
             frame(g, 0, 1, body_static, 0) && frame(g, 0, 0, body_append, 1) && frame(g, 0, 0, body_append, 0) &&
             run_call(g, F_GET_HEAD, S_NONE, G_NONE, GAS_BIG, 0, 1) &&
             run_call(g, F_APPEND, S_NONE, G_NONE, GAS_BIG, 0, 1);
        break;
    default:   /* random blocks (also on the new branch after the reorg) */
        for (int i = 0; i < 3 && ok; i++) ok = frame(g, 0, 0, random_body, -1);
        break;
    }
    if (!ok) return -1;
    return commit(g) ? 1 : -1;
}

/* ------------------------------------------------------------- public */
rs_gen *rs_new(const ms_module *m, ms_instance *inst, const ms_config *cfg, const rs_options *opt,
               rs_observer obs, void *obs_ctx)
{
    if (!dev_init()) return NULL;
    rs_gen *g = calloc(1, sizeof *g);
    if (g == NULL) return NULL;
    g->m = m;
    g->inst = inst;
    g->cfg = *cfg;
    g->opt = *opt;
    g->obs = obs;
    g->obs_ctx = obs_ctx;
    g->force_asset = -1;
    g->force_reason = -1;
    seed_rng(g, opt->seed);
    for (int i = 0; i < NACC; i++) {
        snprintf(g->acc_names[i], sizeof g->acc_names[i], "replay-%02u", (unsigned)i);
        if (!dev_account_make(&g->acc[i], g->acc_names[i])) {
            free(g);
            return NULL;
        }
    }
    ms_buf_init(&g->cd);
    ms_buf_init(&g->qb);
    g->ctcap = (size_t)cfg->max_ciphertext + 64;
    if (g->ctcap < 4096) g->ctcap = 4096;
    g->ctbuf = calloc(1, g->ctcap);
    if (g->ctbuf == NULL) {
        free(g);
        return NULL;
    }
    ms_bytes32 r;
    uint64_t h = 0;
    m->committed(inst, &h, &r);
    g->height = h;
    return g;
}

void rs_free(rs_gen *g)
{
    if (g == NULL) return;
    ms_buf_free(&g->cd);
    ms_buf_free(&g->qb);
    free(g->ctbuf);
    free(g);
}

int rs_step(rs_gen *g)
{
    if (g->failed) return -1;
    const int r = g->opt.curated ? curated_step(g) : random_step(g);
    return g->failed ? -1 : r;
}

uint64_t rs_height(const rs_gen *g) { return g->height; }
const char *rs_error(const rs_gen *g) { return g->err; }
void rs_get_stats(const rs_gen *g, rs_stats *s) { *s = g->st; }

static void put_be(ms_keccak *k, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    ms_keccak_update(k, b, bytes);
}

static void hash_logs(ms_keccak *k, const ms_log *logs, size_t n)
{
    put_be(k, n, 8);
    for (size_t i = 0; i < n; i++) {
        const ms_log *l = &logs[i];
        ms_keccak_update(k, l->address.bytes, 20);
        put_be(k, l->topic_count, 4);
        for (uint32_t t = 0; t < l->topic_count && t < 4; t++) ms_keccak_update(k, l->topics[t].bytes, 32);
        put_be(k, l->data_size, 8);
        ms_keccak_update(k, l->data, l->data_size);
    }
}

void rs_result_hash(uint8_t out[32], const ms_result *r)
{
    ms_keccak k;
    ms_keccak_init(&k);
    put_be(&k, (uint64_t)r->status, 1);
    put_be(&k, r->gas_used, 8);
    put_be(&k, r->output_size, 8);
    ms_keccak_update(&k, r->output, r->output_size);
    hash_logs(&k, r->logs, r->log_count);
    ms_keccak_final(&k, out);
}

void rs_logs_hash(uint8_t out[32], const ms_log *logs, size_t n)
{
    ms_keccak k;
    ms_keccak_init(&k);
    hash_logs(&k, logs, n);
    ms_keccak_final(&k, out);
}

const char *rs_fn_name(uint32_t selector)
{
    for (int i = 0; i < F_COUNT; i++)
        if (FN[i].sel == selector) return FN[i].name;
    return "?";
}
