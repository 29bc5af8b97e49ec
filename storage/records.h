/* Key layout and record encodings of the module's state (spec/storage.md).
 * Keys are a one-byte table tag followed by fixed-width big-endian fields,
 * so that byte order is key order and every key has one encoding. Records
 * are fixed-layout big-endian byte strings; a record that does not decode
 * is corruption, never a revert. */
#ifndef MS_STORAGE_RECORDS_H
#define MS_STORAGE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

enum {
    MS_TAG_META = 0x00,
    MS_TAG_ASSET = 0x01,
    MS_TAG_VERSION = 0x02,
    MS_TAG_CIPHERTEXT = 0x03,
    MS_TAG_GRANT = 0x04,
    MS_TAG_GRANT_SLOT = 0x05,
    MS_TAG_NONCE = 0x06,
    MS_TAG_UNDO = 0x07          /* per committed block: how to undo it (reorgs) */
};

enum { MS_META_SCHEMA = 0x01, MS_META_HEIGHT = 0x02, MS_META_ROOT = 0x03, MS_META_ROOT_AT = 0x04,
       MS_META_RETENTION = 0x05 /* K, fixed at the store's first create (spec/storage.md [ST-9]) */ };

#define MS_KEY_MAX 53u   /* tag + asset id + grantee, the longest key */

typedef struct ms_key {
    uint8_t bytes[MS_KEY_MAX];
    size_t len;
} ms_key;

void ms_key_meta(ms_key *k, uint8_t which);
void ms_key_asset(ms_key *k, const uint8_t asset32[32]);
void ms_key_version(ms_key *k, const uint8_t asset32[32], uint64_t version);
void ms_key_ciphertext(ms_key *k, const uint8_t asset32[32], uint64_t version);
void ms_key_grant(ms_key *k, const uint8_t asset32[32], const uint8_t grantee20[20]);
void ms_key_grant_slot(ms_key *k, const uint8_t asset32[32], uint32_t slot);
void ms_key_nonce(ms_key *k, const uint8_t addr20[20]);
void ms_key_undo(ms_key *k, uint64_t height);
void ms_key_root_at(ms_key *k, uint64_t height);

/* Asset flags. */
#define MS_ASSET_SHREDDED 0x1u

typedef struct ms_asset {
    uint8_t owner[20];
    uint64_t head_version;      /* 0: no version yet */
    uint8_t head_hash[32];      /* hash of the head version; zero when none */
    uint64_t key_epoch;         /* starts at 1 */
    uint32_t flags;
    uint8_t metadata[32];
    uint32_t grant_count;
    uint64_t shredded_upto;     /* versions 1..shredded_upto are shredded */
    uint64_t created_block;
} ms_asset;
#define MS_ASSET_RECORD_SIZE 124u

/* Version states, as getVersionInfo reports them. */
enum { MS_VERSION_RETAINED = 1, MS_VERSION_PRUNED = 2, MS_VERSION_SHREDDED = 3 };

typedef struct ms_version {
    uint8_t version_hash[32];
    uint8_t ciphertext_hash[32];
    uint64_t key_epoch;
    uint8_t author[20];
    uint64_t block;
    uint8_t state;
} ms_version;
#define MS_VERSION_RECORD_SIZE 101u

typedef struct ms_grant {
    uint8_t permissions;        /* bit 0 read, bit 1 write */
    uint64_t expiry;            /* unix seconds; 0 = none */
    uint64_t key_epoch;         /* epoch of the wrapped key */
    uint32_t slot;              /* index in the asset's grant list */
    const uint8_t *wrapped_key; /* points into the decoded buffer */
    uint32_t wrapped_len;
} ms_grant;
#define MS_GRANT_FIXED_SIZE 25u

#define MS_PERM_READ 0x1u
#define MS_PERM_WRITE 0x2u

void ms_asset_encode(uint8_t out[MS_ASSET_RECORD_SIZE], const ms_asset *a);
/** Returns 1, or 0 if the bytes are not an asset record. */
int ms_asset_decode(ms_asset *a, const uint8_t *buf, size_t len);

void ms_version_encode(uint8_t out[MS_VERSION_RECORD_SIZE], const ms_version *v);
int ms_version_decode(ms_version *v, const uint8_t *buf, size_t len);

/** Out: out must hold MS_GRANT_FIXED_SIZE + g->wrapped_len bytes. */
void ms_grant_encode(uint8_t *out, const ms_grant *g);
int ms_grant_decode(ms_grant *g, const uint8_t *buf, size_t len);

/* Big-endian helpers used by every encoding in the project. */
void ms_put_be64(uint8_t out[8], uint64_t v);
void ms_put_be32(uint8_t out[4], uint32_t v);
uint64_t ms_get_be64(const uint8_t in[8]);
uint32_t ms_get_be32(const uint8_t in[4]);

#endif
