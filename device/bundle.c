/* The portable bundle (spec/bundle.md): writer, hostile-input parser and
 * verifier. One format, one encoding per bundle, so the owner's signature
 * covers exactly the bytes a reader parses. */
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "crypto/signature.h"
#include "device/internal.h"

#define MSD_BUNDLE_MAGIC "MemSyncB"
#define MSD_BUNDLE_FORMAT 1u
#define MSD_BUNDLE_HEADER 242u        /* bytes before the version count's end, see spec/bundle.md */
#define MSD_BUNDLE_VERSION_FIXED 113u
#define MSD_BUNDLE_GRANT_FIXED 41u
#define MSD_BUNDLE_EPOCH_FIXED 12u
#define MSD_BUNDLE_PROOF_FIXED 44u
#define MSD_BUNDLE_DOMAIN "MemSync/bundle/v1"

static const uint8_t msd_zero32[32];

/* ------------------------------------------------------------ digest, sign */

/* The signed digest: keccak256(domain tag || every byte before the signature).
 * The tag keeps a bundle signature from ever being a valid signature of a
 * transaction or an EIP-712 action (those start with other bytes). */
static void msd_bundle_digest(uint8_t out32[32], const uint8_t *body, size_t len)
{
    ms_keccak h;
    ms_keccak_init(&h);
    ms_keccak_update(&h, (const uint8_t *)MSD_BUNDLE_DOMAIN, sizeof MSD_BUNDLE_DOMAIN - 1);
    ms_keccak_update(&h, body, len);
    ms_keccak_final(&h, out32);
}

/* ------------------------------------------------------------------ writer */

static uint8_t *msd_put(uint8_t *p, const void *src, size_t n)
{
    if (n > 0) memcpy(p, src, n);
    return p + n;
}

static uint8_t *msd_put64(uint8_t *p, uint64_t v)
{
    msd_put_be64(p, v);
    return p + 8;
}

static uint8_t *msd_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Adds n to *total unless that passes the cap; returns 0 on overflow. */
static int msd_add(uint64_t *total, uint64_t n)
{
    if (n > MSD_BUNDLE_MAX_SIZE || *total > MSD_BUNDLE_MAX_SIZE - n) return 0;
    *total += n;
    return 1;
}

/* The same rules the parser enforces, so a written bundle always parses. */
static int msd_bundle_fields_ok(const msd_bundle *b, uint64_t *size)
{
    uint64_t total = MSD_BUNDLE_HEADER;
    if (b->version_count != b->head_version || b->version_count > MSD_BUNDLE_MAX_VERSIONS ||
        (b->versions == NULL && b->version_count > 0))
        return 0;
    if (!b->has_salt && memcmp(b->salt, msd_zero32, 32) != 0) return 0;
    if (b->has_salt != 0 && b->has_salt != 1) return 0;
    for (size_t i = 0; i < b->version_count; i++) {
        const msd_bundle_version *v = &b->versions[i];
        if (v->version != i + 1 || v->state < 1 || v->state > 3) return 0;
        if ((v->state == 1) != (v->ciphertext_len > 0) || v->ciphertext_len > MSD_BUNDLE_MAX_CIPHERTEXT ||
            (v->ciphertext == NULL && v->ciphertext_len > 0))
            return 0;
        if (!msd_add(&total, MSD_BUNDLE_VERSION_FIXED + (uint64_t)v->ciphertext_len)) return 0;
    }
    if (b->grant_count > MSD_BUNDLE_MAX_GRANTS || (b->grants == NULL && b->grant_count > 0)) return 0;
    if (!msd_add(&total, 4)) return 0;
    for (size_t i = 0; i < b->grant_count; i++) {
        const msd_bundle_grant *g = &b->grants[i];
        if ((g->permissions != 1 && g->permissions != 3) || g->wrapped_key_len > MSD_BUNDLE_MAX_WRAPPED ||
            (g->wrapped_key == NULL && g->wrapped_key_len > 0))
            return 0;
        if (!msd_add(&total, MSD_BUNDLE_GRANT_FIXED + (uint64_t)g->wrapped_key_len)) return 0;
    }
    if (b->epoch_key_count > MSD_BUNDLE_MAX_EPOCH_KEYS || (b->epoch_keys == NULL && b->epoch_key_count > 0))
        return 0;
    if (!msd_add(&total, 4)) return 0;
    for (size_t i = 0; i < b->epoch_key_count; i++) {
        const msd_bundle_epoch_key *k = &b->epoch_keys[i];
        if (k->epoch == 0 || k->epoch > b->key_epoch || (i > 0 && k->epoch <= b->epoch_keys[i - 1].epoch) ||
            k->wrapped_len == 0 || k->wrapped_len > MSD_BUNDLE_MAX_WRAPPED || k->wrapped == NULL)
            return 0;
        if (!msd_add(&total, MSD_BUNDLE_EPOCH_FIXED + (uint64_t)k->wrapped_len)) return 0;
    }
    if (b->proof_len > MSD_BUNDLE_MAX_PROOF || (b->proof == NULL && b->proof_len > 0)) return 0;
    if (b->proof_len == 0 && (b->proof_height != 0 || memcmp(b->proof_root, msd_zero32, 32) != 0)) return 0;
    if (!msd_add(&total, MSD_BUNDLE_PROOF_FIXED + (uint64_t)b->proof_len + MSD_SIGNATURE_SIZE)) return 0;
    if (b->key_epoch == 0 || total > (uint64_t)SIZE_MAX) return 0;
    *size = total;
    return 1;
}

/* Every field before the signature, in order, into buf (which holds the size
 * msd_bundle_fields_ok computed). Returns the end of what was written. */
static uint8_t *msd_bundle_serialize(uint8_t *buf, const msd_bundle *b)
{
    uint8_t *p = buf;
    p = msd_put(p, MSD_BUNDLE_MAGIC, 8);
    *p++ = MSD_BUNDLE_FORMAT;
    *p++ = (uint8_t)(b->has_salt ? 1 : 0);
    p = msd_put64(p, b->chain_id);
    p = msd_put(p, b->precompile, 20);
    p = msd_put(p, b->asset_id, 32);
    p = msd_put(p, b->owner, 20);
    p = msd_put(p, b->owner_x25519, 32);
    p = msd_put(p, b->salt, 32);
    p = msd_put(p, b->metadata, 32);
    p = msd_put64(p, b->head_version);
    p = msd_put(p, b->head_hash, 32);
    p = msd_put64(p, b->key_epoch);
    p = msd_put32(p, b->flags);
    p = msd_put32(p, (uint32_t)b->version_count);
    for (size_t i = 0; i < b->version_count; i++) {
        const msd_bundle_version *v = &b->versions[i];
        p = msd_put64(p, v->version);
        *p++ = v->state;
        p = msd_put64(p, v->key_epoch);
        p = msd_put(p, v->author, 20);
        p = msd_put64(p, v->block_number);
        p = msd_put(p, v->ciphertext_hash, 32);
        p = msd_put(p, v->version_hash, 32);
        p = msd_put32(p, (uint32_t)v->ciphertext_len);
        p = msd_put(p, v->ciphertext, v->ciphertext_len);
    }
    p = msd_put32(p, (uint32_t)b->grant_count);
    for (size_t i = 0; i < b->grant_count; i++) {
        const msd_bundle_grant *g = &b->grants[i];
        p = msd_put(p, g->grantee, 20);
        *p++ = g->permissions;
        p = msd_put64(p, g->expiry);
        p = msd_put64(p, g->key_epoch);
        p = msd_put32(p, (uint32_t)g->wrapped_key_len);
        p = msd_put(p, g->wrapped_key, g->wrapped_key_len);
    }
    p = msd_put32(p, (uint32_t)b->epoch_key_count);
    for (size_t i = 0; i < b->epoch_key_count; i++) {
        p = msd_put64(p, b->epoch_keys[i].epoch);
        p = msd_put32(p, (uint32_t)b->epoch_keys[i].wrapped_len);
        p = msd_put(p, b->epoch_keys[i].wrapped, b->epoch_keys[i].wrapped_len);
    }
    p = msd_put64(p, b->proof_height);
    p = msd_put(p, b->proof_root, 32);
    p = msd_put32(p, (uint32_t)b->proof_len);
    p = msd_put(p, b->proof, b->proof_len);
    return p;
}

msd_status msd_bundle_write(uint8_t **out, size_t *out_len, const msd_bundle *b, const msd_identity *id)
{
    if (out == NULL || out_len == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    *out_len = 0;
    uint64_t size = 0;
    if (b == NULL || id == NULL || !msd_bundle_fields_ok(b, &size)) return MSD_ERR_ARGS;
    uint8_t addr[MSD_ADDRESS_SIZE];
    msd_identity_address(id, addr);
    if (memcmp(addr, b->owner, 20) != 0) return MSD_ERR_ARGS;
    uint8_t *buf = malloc((size_t)size);
    if (buf == NULL) return MSD_ERR_NOMEM;
    uint8_t *p = msd_bundle_serialize(buf, b);
    const size_t body = (size_t)(p - buf);
    uint8_t digest[32];
    msd_bundle_digest(digest, buf, body);
    msd_status st = msd_sign_digest(p, id, digest);
    if (st != MSD_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = body + MSD_SIGNATURE_SIZE;
    return MSD_OK;
}

/* ------------------------------------------------------------------ parser */

typedef struct msd_reader {
    const uint8_t *p;
    size_t left;
} msd_reader;

static int msd_take(msd_reader *r, const uint8_t **p, size_t n)
{
    if (r->left < n) return 0;
    *p = r->p;
    r->p += n;
    r->left -= n;
    return 1;
}

static int msd_copy(msd_reader *r, void *dst, size_t n)
{
    const uint8_t *p;
    if (!msd_take(r, &p, n)) return 0;
    memcpy(dst, p, n);
    return 1;
}

static int msd_u8(msd_reader *r, uint8_t *v)
{
    return msd_copy(r, v, 1);
}

static int msd_u32(msd_reader *r, uint32_t *v)
{
    const uint8_t *p;
    if (!msd_take(r, &p, 4)) return 0;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return 1;
}

static int msd_u64(msd_reader *r, uint64_t *v)
{
    const uint8_t *p;
    if (!msd_take(r, &p, 8)) return 0;
    *v = msd_get_be64(p);
    return 1;
}

/* The parsed bundle and the arrays it owns; msd_bundle is the first member so
 * the public pointer converts back. */
typedef struct msd_bundle_owned {
    msd_bundle b;
    msd_bundle_version *versions;
    msd_bundle_grant *grants;
    msd_bundle_epoch_key *epoch_keys;
} msd_bundle_owned;

void msd_bundle_free(msd_bundle *b)
{
    if (b == NULL) return;
    msd_bundle_owned *o = (msd_bundle_owned *)b;
    free(o->versions);
    free(o->grants);
    free(o->epoch_keys);
    free(o);
}

/* Allocate n elements only if n is within cap and the bytes left could hold
 * n entries of at least min_entry bytes: a count never allocates more than
 * the input justifies. Returns 1 (n = 0 gives NULL), 0 format error, -1 no
 * memory. */
static int msd_alloc_array(void **arr, size_t elem, uint32_t n, uint32_t cap, size_t min_entry, size_t left)
{
    *arr = NULL;
    if (n > cap || (uint64_t)n * min_entry > left) return 0;
    if (n == 0) return 1;
    *arr = calloc(n, elem);
    return *arr != NULL ? 1 : -1;
}

static msd_status msd_parse_versions(msd_reader *r, msd_bundle_owned *o)
{
    msd_bundle *b = &o->b;
    uint32_t n;
    if (!msd_u32(r, &n) || n != b->head_version) return MSD_ERR_BUNDLE;
    void *arr;
    int a = msd_alloc_array(&arr, sizeof *o->versions, n, MSD_BUNDLE_MAX_VERSIONS, MSD_BUNDLE_VERSION_FIXED,
                            r->left);
    o->versions = arr;
    if (a <= 0) return a < 0 ? MSD_ERR_NOMEM : MSD_ERR_BUNDLE;
    for (uint32_t i = 0; i < n; i++) {
        msd_bundle_version *v = &o->versions[i];
        uint32_t ct_len;
        if (!msd_u64(r, &v->version) || !msd_u8(r, &v->state) || !msd_u64(r, &v->key_epoch) ||
            !msd_copy(r, v->author, 20) || !msd_u64(r, &v->block_number) || !msd_copy(r, v->ciphertext_hash, 32) ||
            !msd_copy(r, v->version_hash, 32) || !msd_u32(r, &ct_len))
            return MSD_ERR_BUNDLE;
        if (v->version != (uint64_t)i + 1 || v->state < 1 || v->state > 3 || (v->state == 1) != (ct_len > 0) ||
            ct_len > MSD_BUNDLE_MAX_CIPHERTEXT)
            return MSD_ERR_BUNDLE;
        if (ct_len > 0 && !msd_take(r, &v->ciphertext, ct_len)) return MSD_ERR_BUNDLE;
        v->ciphertext_len = ct_len;
    }
    b->versions = o->versions;
    b->version_count = n;
    return MSD_OK;
}

static msd_status msd_parse_grants(msd_reader *r, msd_bundle_owned *o)
{
    uint32_t n;
    if (!msd_u32(r, &n)) return MSD_ERR_BUNDLE;
    void *arr;
    int a = msd_alloc_array(&arr, sizeof *o->grants, n, MSD_BUNDLE_MAX_GRANTS, MSD_BUNDLE_GRANT_FIXED, r->left);
    o->grants = arr;
    if (a <= 0) return a < 0 ? MSD_ERR_NOMEM : MSD_ERR_BUNDLE;
    for (uint32_t i = 0; i < n; i++) {
        msd_bundle_grant *g = &o->grants[i];
        uint32_t wk_len;
        if (!msd_copy(r, g->grantee, 20) || !msd_u8(r, &g->permissions) || !msd_u64(r, &g->expiry) ||
            !msd_u64(r, &g->key_epoch) || !msd_u32(r, &wk_len))
            return MSD_ERR_BUNDLE;
        if ((g->permissions != 1 && g->permissions != 3) || wk_len > MSD_BUNDLE_MAX_WRAPPED) return MSD_ERR_BUNDLE;
        if (wk_len > 0 && !msd_take(r, &g->wrapped_key, wk_len)) return MSD_ERR_BUNDLE;
        g->wrapped_key_len = wk_len;
    }
    o->b.grants = o->grants;
    o->b.grant_count = n;
    return MSD_OK;
}

static msd_status msd_parse_epoch_keys(msd_reader *r, msd_bundle_owned *o)
{
    uint32_t n;
    if (!msd_u32(r, &n)) return MSD_ERR_BUNDLE;
    void *arr;
    int a = msd_alloc_array(&arr, sizeof *o->epoch_keys, n, MSD_BUNDLE_MAX_EPOCH_KEYS, MSD_BUNDLE_EPOCH_FIXED,
                            r->left);
    o->epoch_keys = arr;
    if (a <= 0) return a < 0 ? MSD_ERR_NOMEM : MSD_ERR_BUNDLE;
    for (uint32_t i = 0; i < n; i++) {
        msd_bundle_epoch_key *k = &o->epoch_keys[i];
        uint32_t len;
        if (!msd_u64(r, &k->epoch) || !msd_u32(r, &len)) return MSD_ERR_BUNDLE;
        if (k->epoch == 0 || k->epoch > o->b.key_epoch || (i > 0 && k->epoch <= o->epoch_keys[i - 1].epoch) ||
            len == 0 || len > MSD_BUNDLE_MAX_WRAPPED || !msd_take(r, &k->wrapped, len))
            return MSD_ERR_BUNDLE;
        k->wrapped_len = len;
    }
    o->b.epoch_keys = o->epoch_keys;
    o->b.epoch_key_count = n;
    return MSD_OK;
}

static msd_status msd_parse_all(msd_reader *r, msd_bundle_owned *o)
{
    msd_bundle *b = &o->b;
    uint8_t magic[8], format, hflags;
    if (!msd_copy(r, magic, 8) || memcmp(magic, MSD_BUNDLE_MAGIC, 8) != 0) return MSD_ERR_BUNDLE;
    if (!msd_u8(r, &format) || format != MSD_BUNDLE_FORMAT) return MSD_ERR_BUNDLE;
    if (!msd_u8(r, &hflags) || (hflags & ~1u) != 0) return MSD_ERR_BUNDLE;
    b->has_salt = hflags & 1u;
    if (!msd_u64(r, &b->chain_id) || !msd_copy(r, b->precompile, 20) || !msd_copy(r, b->asset_id, 32) ||
        !msd_copy(r, b->owner, 20) || !msd_copy(r, b->owner_x25519, 32) || !msd_copy(r, b->salt, 32) ||
        !msd_copy(r, b->metadata, 32) || !msd_u64(r, &b->head_version) || !msd_copy(r, b->head_hash, 32) ||
        !msd_u64(r, &b->key_epoch) || !msd_u32(r, &b->flags))
        return MSD_ERR_BUNDLE;
    if (!b->has_salt && memcmp(b->salt, msd_zero32, 32) != 0) return MSD_ERR_BUNDLE;
    if (b->key_epoch == 0 || b->head_version > MSD_BUNDLE_MAX_VERSIONS) return MSD_ERR_BUNDLE;
    msd_status st = msd_parse_versions(r, o);
    if (st == MSD_OK) st = msd_parse_grants(r, o);
    if (st == MSD_OK) st = msd_parse_epoch_keys(r, o);
    if (st != MSD_OK) return st;
    uint32_t plen;
    if (!msd_u64(r, &b->proof_height) || !msd_copy(r, b->proof_root, 32) || !msd_u32(r, &plen) ||
        plen > MSD_BUNDLE_MAX_PROOF)
        return MSD_ERR_BUNDLE;
    if (plen == 0 && (b->proof_height != 0 || memcmp(b->proof_root, msd_zero32, 32) != 0)) return MSD_ERR_BUNDLE;
    if (plen > 0 && !msd_take(r, &b->proof, plen)) return MSD_ERR_BUNDLE;
    b->proof_len = plen;
    if (!msd_copy(r, b->signature, MSD_SIGNATURE_SIZE) || r->left != 0) return MSD_ERR_BUNDLE;
    return MSD_OK;
}

msd_status msd_bundle_parse(msd_bundle **out, const uint8_t *buf, size_t len)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (buf == NULL && len > 0) return MSD_ERR_ARGS;
    if ((uint64_t)len > MSD_BUNDLE_MAX_SIZE) return MSD_ERR_BUNDLE;
    msd_bundle_owned *o = calloc(1, sizeof *o);
    if (o == NULL) return MSD_ERR_NOMEM;
    msd_reader r = {buf, len};
    msd_status st = msd_parse_all(&r, o);
    if (st != MSD_OK) {
        msd_bundle_free(&o->b);
        return st;
    }
    *out = &o->b;
    return MSD_OK;
}

/* ---------------------------------------------------------------- verifier */

/* The bytes a parsed bundle came from are not kept, so the body is
 * serialised again; the format has exactly one encoding per bundle (the
 * parser refuses every other), so this is the parsed input byte for byte. */
static msd_status msd_bundle_body_digest(const msd_bundle *b, uint8_t digest[32])
{
    uint64_t size = 0;
    if (!msd_bundle_fields_ok(b, &size)) return MSD_ERR_BUNDLE;
    uint8_t *buf = malloc((size_t)size);
    if (buf == NULL) return MSD_ERR_NOMEM;
    uint8_t *p = msd_bundle_serialize(buf, b);
    msd_bundle_digest(digest, buf, (size_t)(p - buf));
    free(buf);
    return MSD_OK;
}

static msd_status msd_bundle_check_signature(const msd_bundle *b)
{
    uint8_t digest[32], signer[20];
    msd_status st = msd_bundle_body_digest(b, digest);
    if (st != MSD_OK) return st;
    ms_verifier *ver = ms_verifier_create();
    if (ver == NULL) return MSD_ERR_NOMEM;
    /* ms_signature_recover refuses high s, so no second signature of the same
     * body (s' = n - s) passes either. */
    ms_sig_err e = ms_signature_recover(signer, ver, digest, b->signature, MSD_SIGNATURE_SIZE);
    ms_verifier_destroy(ver);
    if (e != MS_SIG_OK || memcmp(signer, b->owner, 20) != 0) return MSD_ERR_BUNDLE_SIGNATURE;
    return MSD_OK;
}

msd_status msd_bundle_verify(const msd_bundle *b, msd_chain_result *chain, uint64_t trusted_height,
                             const uint8_t *trusted_root32)
{
    if (chain != NULL) memset(chain, 0, sizeof *chain);
    if (b == NULL) return MSD_ERR_ARGS;
    msd_status st = msd_bundle_check_signature(b);
    if (st != MSD_OK) return st;
    msd_chain_version *cv = NULL;
    if (b->version_count > 0) {
        cv = calloc(b->version_count, sizeof *cv);
        if (cv == NULL) return MSD_ERR_NOMEM;
    }
    for (size_t i = 0; i < b->version_count; i++) {
        const msd_bundle_version *v = &b->versions[i];
        cv[i].version = v->version;
        cv[i].key_epoch = v->key_epoch;
        memcpy(cv[i].author, v->author, 20);
        memcpy(cv[i].version_hash, v->version_hash, 32);
        cv[i].ciphertext_hash = v->ciphertext_hash;
        cv[i].ciphertext = v->ciphertext;
        cv[i].ciphertext_len = v->ciphertext_len;
    }
    msd_chain_result res;
    st = msd_chain_verify(&res, b->asset_id, NULL, cv, b->version_count, b->head_hash);
    free(cv);
    if (chain != NULL) *chain = res;
    if (st != MSD_OK) return st;
    /* A caller that names a trusted root wants the bundle anchored to it; a
     * bundle without a proof cannot be, and passing would tell it otherwise. */
    if (b->proof_len == 0) return trusted_root32 != NULL ? MSD_ERR_PROOF : MSD_OK;
    msd_asset_state a;
    st = trusted_root32 != NULL
             ? msd_verify_asset_proof(&a, b->proof, b->proof_len, trusted_height, trusted_root32, b->asset_id)
             : msd_verify_asset_proof(&a, b->proof, b->proof_len, b->proof_height, b->proof_root, b->asset_id);
    if (st != MSD_OK) return MSD_ERR_PROOF;
    if (!a.present || memcmp(a.owner, b->owner, 20) != 0 || a.head_version != b->head_version ||
        memcmp(a.head_hash, b->head_hash, 32) != 0 || a.key_epoch != b->key_epoch || a.flags != b->flags ||
        memcmp(a.metadata, b->metadata, 32) != 0)
        return MSD_ERR_PROOF;
    return MSD_OK;
}
