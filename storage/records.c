#include "storage/records.h"

#include <string.h>

void ms_put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

void ms_put_be32(uint8_t out[4], uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t ms_get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | in[i];
    return v;
}

uint32_t ms_get_be32(const uint8_t in[4])
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | in[i];
    return v;
}

static void key_start(ms_key *k, uint8_t tag)
{
    memset(k->bytes, 0, sizeof k->bytes);
    k->bytes[0] = tag;
    k->len = 1;
}

static void key_add(ms_key *k, const uint8_t *p, size_t n)
{
    memcpy(k->bytes + k->len, p, n);
    k->len += n;
}

static void key_add_be64(ms_key *k, uint64_t v)
{
    ms_put_be64(k->bytes + k->len, v);
    k->len += 8;
}

void ms_key_meta(ms_key *k, uint8_t which)
{
    key_start(k, MS_TAG_META);
    key_add(k, &which, 1);
}

void ms_key_asset(ms_key *k, const uint8_t asset32[32])
{
    key_start(k, MS_TAG_ASSET);
    key_add(k, asset32, 32);
}

void ms_key_version(ms_key *k, const uint8_t asset32[32], uint64_t version)
{
    key_start(k, MS_TAG_VERSION);
    key_add(k, asset32, 32);
    key_add_be64(k, version);
}

void ms_key_ciphertext(ms_key *k, const uint8_t asset32[32], uint64_t version)
{
    key_start(k, MS_TAG_CIPHERTEXT);
    key_add(k, asset32, 32);
    key_add_be64(k, version);
}

void ms_key_grant(ms_key *k, const uint8_t asset32[32], const uint8_t grantee20[20])
{
    key_start(k, MS_TAG_GRANT);
    key_add(k, asset32, 32);
    key_add(k, grantee20, 20);
}

void ms_key_grant_slot(ms_key *k, const uint8_t asset32[32], uint32_t slot)
{
    key_start(k, MS_TAG_GRANT_SLOT);
    key_add(k, asset32, 32);
    ms_put_be32(k->bytes + k->len, slot);
    k->len += 4;
}

void ms_key_nonce(ms_key *k, const uint8_t addr20[20])
{
    key_start(k, MS_TAG_NONCE);
    key_add(k, addr20, 20);
}

void ms_key_undo(ms_key *k, uint64_t height)
{
    key_start(k, MS_TAG_UNDO);
    key_add_be64(k, height);
}

void ms_key_root_at(ms_key *k, uint64_t height)
{
    const uint8_t which = MS_META_ROOT_AT;
    key_start(k, MS_TAG_META);
    key_add(k, &which, 1);
    key_add_be64(k, height);
}

/* Layout: owner 20 | head_version 8 | head_hash 32 | key_epoch 8 | flags 4 |
 * metadata 32 | grant_count 4 | shredded_upto 8 | created_block 8. */
void ms_asset_encode(uint8_t out[MS_ASSET_RECORD_SIZE], const ms_asset *a)
{
    uint8_t *p = out;
    memcpy(p, a->owner, 20); p += 20;
    ms_put_be64(p, a->head_version); p += 8;
    memcpy(p, a->head_hash, 32); p += 32;
    ms_put_be64(p, a->key_epoch); p += 8;
    ms_put_be32(p, a->flags); p += 4;
    memcpy(p, a->metadata, 32); p += 32;
    ms_put_be32(p, a->grant_count); p += 4;
    ms_put_be64(p, a->shredded_upto); p += 8;
    ms_put_be64(p, a->created_block);
}

int ms_asset_decode(ms_asset *a, const uint8_t *buf, size_t len)
{
    memset(a, 0, sizeof *a);
    if (len != MS_ASSET_RECORD_SIZE) return 0;
    const uint8_t *p = buf;
    memcpy(a->owner, p, 20); p += 20;
    a->head_version = ms_get_be64(p); p += 8;
    memcpy(a->head_hash, p, 32); p += 32;
    a->key_epoch = ms_get_be64(p); p += 8;
    a->flags = ms_get_be32(p); p += 4;
    memcpy(a->metadata, p, 32); p += 32;
    a->grant_count = ms_get_be32(p); p += 4;
    a->shredded_upto = ms_get_be64(p); p += 8;
    a->created_block = ms_get_be64(p);
    return a->key_epoch != 0 && (a->flags & ~MS_ASSET_SHREDDED) == 0;
}

/* Layout: version_hash 32 | ciphertext_hash 32 | key_epoch 8 | author 20 |
 * block 8 | state 1. */
void ms_version_encode(uint8_t out[MS_VERSION_RECORD_SIZE], const ms_version *v)
{
    uint8_t *p = out;
    memcpy(p, v->version_hash, 32); p += 32;
    memcpy(p, v->ciphertext_hash, 32); p += 32;
    ms_put_be64(p, v->key_epoch); p += 8;
    memcpy(p, v->author, 20); p += 20;
    ms_put_be64(p, v->block); p += 8;
    *p = v->state;
}

int ms_version_decode(ms_version *v, const uint8_t *buf, size_t len)
{
    memset(v, 0, sizeof *v);
    if (len != MS_VERSION_RECORD_SIZE) return 0;
    const uint8_t *p = buf;
    memcpy(v->version_hash, p, 32); p += 32;
    memcpy(v->ciphertext_hash, p, 32); p += 32;
    v->key_epoch = ms_get_be64(p); p += 8;
    memcpy(v->author, p, 20); p += 20;
    v->block = ms_get_be64(p); p += 8;
    v->state = *p;
    return v->state >= MS_VERSION_RETAINED && v->state <= MS_VERSION_SHREDDED;
}

/* Layout: permissions 1 | expiry 8 | key_epoch 8 | slot 4 | wrapped_len 4 |
 * wrapped key. */
void ms_grant_encode(uint8_t *out, const ms_grant *g)
{
    uint8_t *p = out;
    *p++ = g->permissions;
    ms_put_be64(p, g->expiry); p += 8;
    ms_put_be64(p, g->key_epoch); p += 8;
    ms_put_be32(p, g->slot); p += 4;
    ms_put_be32(p, g->wrapped_len); p += 4;
    if (g->wrapped_len > 0) memcpy(p, g->wrapped_key, g->wrapped_len);
}

int ms_grant_decode(ms_grant *g, const uint8_t *buf, size_t len)
{
    memset(g, 0, sizeof *g);
    if (len < MS_GRANT_FIXED_SIZE) return 0;
    const uint8_t *p = buf;
    g->permissions = *p++;
    g->expiry = ms_get_be64(p); p += 8;
    g->key_epoch = ms_get_be64(p); p += 8;
    g->slot = ms_get_be32(p); p += 4;
    g->wrapped_len = ms_get_be32(p); p += 4;
    if ((size_t)g->wrapped_len != len - MS_GRANT_FIXED_SIZE) return 0;
    g->wrapped_key = g->wrapped_len > 0 ? p : NULL;
    return g->permissions == MS_PERM_READ || g->permissions == (MS_PERM_READ | MS_PERM_WRITE);
}
