/* MemSync device library: everything that happens on the owner's device.
 *
 * The chain module (libmemsync.so) stores ciphertext and never decrypts; this
 * library is the other half. It holds the device identity (a secp256k1 key
 * for signing, an X25519 key for receiving wrapped data keys), encrypts and
 * decrypts memory envelopes (spec/envelope.md), wraps data keys for grantees
 * and signs the EIP-712 actions (spec/eip712.md). Formats and derivations:
 * spec/device.md. It is never linked into the module: build it as
 * build/libmemsync-device.a and link it with -lsodium -lsecp256k1.
 *
 * Conventions (as in libsecp256k1):
 *  - Every function returning msd_status returns MSD_OK on success and an
 *    error otherwise; msd_strerror gives a fixed English text that never
 *    contains key material or user data.
 *  - "Args" are objects the function uses; "Out" are written by the
 *    function; "In" are only read. Pointer arguments must not be NULL unless
 *    stated; a NULL where one is required is MSD_ERR_ARGS.
 *  - On any error, every Out buffer that could hold secret or partial data is
 *    zeroed, and every Out handle is set to NULL.
 *  - Secret material (seed, private keys, data keys) lives only inside the
 *    opaque handles msd_identity and msd_data_key. Handles are allocated with
 *    sodium_malloc (guard pages, locked in memory where the system allows,
 *    wiped when freed) and owned by the caller, who releases them with the
 *    matching *_destroy function. Plaintext returned by msd_decrypt is in the
 *    caller's buffer; the caller should clear it (sodium_memzero) after use.
 *  - Randomness comes from libsodium's randombytes_buf only.
 *  - Thread safety: after msd_init, distinct handles may be used from
 *    different threads; one handle must not be used by two threads at once.
 */
#ifndef MEMSYNC_DEVICE_H
#define MEMSYNC_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

typedef enum msd_status {
    MSD_OK = 0,
    MSD_ERR_ARGS = 1,            /* NULL pointer, size or value out of range */
    MSD_ERR_INIT = 2,            /* libsodium or libsecp256k1 could not start */
    MSD_ERR_NOMEM = 3,           /* an allocation failed */
    MSD_ERR_BUFFER = 4,          /* an Out buffer is too small (the needed size is reported) */
    MSD_ERR_IO = 5,              /* a file could not be opened, read or written */
    MSD_ERR_EXISTS = 6,          /* the key file already exists (never overwritten) */
    MSD_ERR_KEYFILE = 7,         /* not a MemSync key file, unknown version or parameters, truncated */
    MSD_ERR_PASSPHRASE = 8,      /* the key file does not open with this passphrase (or was altered) */
    MSD_ERR_MALFORMED = 9,       /* the envelope is not one this library writes (header, length, padding) */
    MSD_ERR_WRONG_EPOCH = 10,    /* the envelope header's key epoch differs from the context's */
    MSD_ERR_WRONG_KEY = 11,      /* the data key does not match the envelope (key check failed) */
    MSD_ERR_WRONG_CONTEXT = 12,  /* right key, but the envelope belongs to another chain, contract,
                                    asset or version (associated data differs) */
    MSD_ERR_TAMPERED = 13,       /* right key and context, but ciphertext or tag was altered */
    MSD_ERR_NOT_FOR_ME = 14,     /* a wrapped key that does not open with this identity */
    MSD_ERR_WRONG_GRANT = 15,    /* a wrapped key that opens, but for another asset or epoch */
    MSD_ERR_EPOCH_LIMIT = 16,    /* the key epoch cannot advance past 2^64 - 1 */
    MSD_ERR_SIGN = 17,           /* signing failed (never for a valid identity) */
    MSD_ERR_CHAIN = 18,          /* a version hash chain is broken (msd_chain_result says where) */
    MSD_ERR_PROOF = 19,          /* a state proof does not verify, or proves other values */
    MSD_ERR_BUNDLE = 20,         /* not a bundle of a known format: truncated, over a cap, bad field */
    MSD_ERR_BUNDLE_SIGNATURE = 21,/* the bundle's signature does not recover to its owner (altered) */
    MSD_ERR_MEM_MALFORMED = 22,  /* not a memory document: not JSON, a bad field, a duplicate id, over a cap */
    MSD_ERR_MEM_VERSION = 23,    /* a memory document of another format version */
    MSD_ERR_MEM_TOO_LARGE = 24,  /* a fact, or the document, over its cap */
    MSD_ERR_MEM_NOT_FOUND = 25,  /* no live fact (or entity) with this id or name */
    MSD_ERR_MNEMONIC = 26,       /* not a recovery phrase: not 24 words, an unknown word, or the checksum fails */
    MSD_ERR_IMPORT = 27          /* the import file is not of the named format */
} msd_status;

/** Returns a static, human-readable description of s (never NULL, never
 *  containing secrets). Unknown values give "unknown error". */
const char *msd_strerror(msd_status s);

/** Initialise libsodium. Call once before anything else (idempotent, thread
 *  safe as sodium_init is). Returns MSD_OK or MSD_ERR_INIT. */
msd_status msd_init(void);

/* ---------------------------------------------------------------- identity */

/** A device identity: a secp256k1 signing key (its Ethereum address is the
 *  owner/signer on chain) and an X25519 key pair (grantees receive data keys
 *  sealed to its public key), both derived from one 32-byte seed
 *  (spec/device.md §1). Opaque; owned by the caller. */
typedef struct msd_identity msd_identity;

#define MSD_SEED_SIZE 32u
#define MSD_ADDRESS_SIZE 20u
#define MSD_X25519_PUBLIC_SIZE 32u

/** Create an identity from a fresh random seed.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM, MSD_ERR_INIT.
 *  Out: out (a new handle, free with msd_identity_destroy; NULL on error). */
msd_status msd_identity_generate(msd_identity **out);

/** Derive an identity from a given seed (deterministic).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM, MSD_ERR_INIT.
 *  Out: out (a new handle). In: seed32 (copied; the caller clears its copy). */
msd_status msd_identity_from_seed(msd_identity **out, const uint8_t seed32[MSD_SEED_SIZE]);

/** Wipe and free an identity. NULL is a no-op. Args: id. */
void msd_identity_destroy(msd_identity *id);

/** Out: addr20 = the Ethereum address of the signing key. Args: id. */
void msd_identity_address(const msd_identity *id, uint8_t addr20[MSD_ADDRESS_SIZE]);

/** Out: pk32 = the X25519 public key to which grants are sealed. Args: id. */
void msd_identity_x25519_public(const msd_identity *id, uint8_t pk32[MSD_X25519_PUBLIC_SIZE]);

/* ---------------------------------------------------------------- key file */

/* Argon2id cost (crypto_pwhash). 0, 0 selects the defaults, which are
 * libsodium's MODERATE values. Values outside [MIN, MAX] are refused when
 * writing and when reading (a file cannot make the reader spend unbounded
 * memory or time). */
#define MSD_KEYFILE_OPSLIMIT_DEFAULT 3u
#define MSD_KEYFILE_MEMLIMIT_DEFAULT (256u * 1024u * 1024u)
#define MSD_KEYFILE_OPSLIMIT_MIN 2u
#define MSD_KEYFILE_OPSLIMIT_MAX 16u
#define MSD_KEYFILE_MEMLIMIT_MIN (64u * 1024u * 1024u)
#define MSD_KEYFILE_MEMLIMIT_MAX (1024u * 1024u * 1024u)
#define MSD_KEYFILE_SIZE 116u

/** Write the identity's seed to a new key file at path, encrypted under the
 *  passphrase (Argon2id + XChaCha20-Poly1305, spec/device.md §2). The file is
 *  created with mode 0600 and is never overwritten: an existing path is
 *  MSD_ERR_EXISTS. The data goes to a temporary file in the same folder,
 *  is synced, then linked into place.
 *  Returns MSD_OK, MSD_ERR_ARGS (incl. limits out of range), MSD_ERR_EXISTS,
 *  MSD_ERR_IO, MSD_ERR_NOMEM (Argon2id could not get its memory).
 *  Args: id. In: path, pass (pass_len bytes, any content; may be empty),
 *  opslimit, memlimit (0, 0 for the defaults). */
msd_status msd_keyfile_write(const char *path, const msd_identity *id, const char *pass, size_t pass_len,
                             uint64_t opslimit, size_t memlimit);

/** Open a key file. A wrong passphrase is MSD_ERR_PASSPHRASE (the same as a
 *  file whose encrypted part was altered: the two cannot be told apart);
 *  a file that is not a key file of a known version is MSD_ERR_KEYFILE.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_IO, MSD_ERR_KEYFILE,
 *  MSD_ERR_PASSPHRASE, MSD_ERR_NOMEM.
 *  Out: out (a new handle). In: path, pass, pass_len. */
msd_status msd_keyfile_read(msd_identity **out, const char *path, const char *pass, size_t pass_len);

/* ---------------------------------------------------------------- data keys */

/** A 32-byte data key of one (asset, key epoch). Opaque; owned by the caller. */
typedef struct msd_data_key msd_data_key;

#define MSD_DATA_KEY_SIZE 32u

/** Draw a new random data key for asset_id and key_epoch (>= 1).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM.
 *  Out: out (a new handle). In: asset_id32, key_epoch. */
msd_status msd_data_key_generate(msd_data_key **out, const uint8_t asset_id32[32], uint64_t key_epoch);

/** Load a data key from raw bytes (e.g. one kept by another implementation).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOMEM.
 *  Out: out. In: asset_id32, key_epoch (>= 1), key32 (copied). */
msd_status msd_data_key_import(msd_data_key **out, const uint8_t asset_id32[32], uint64_t key_epoch,
                               const uint8_t key32[MSD_DATA_KEY_SIZE]);

/** Wipe and free a data key. NULL is a no-op. Args: key. */
void msd_data_key_destroy(msd_data_key *key);

/** The labels the key was created with. Args: key. Out: asset_id32 (may be
 *  NULL). Returns the key epoch. */
uint64_t msd_data_key_info(const msd_data_key *key, uint8_t asset_id32[32]);

/* ---------------------------------------------------------------- envelopes */

/** Where a ciphertext belongs: the associated data of spec/envelope.md [ENV-8]. */
typedef struct msd_context {
    uint64_t chain_id;
    uint8_t precompile[20];   /* the MemSync precompile address */
    uint8_t asset_id[32];     /* see msd_asset_id */
    uint64_t version;         /* the version the envelope becomes: 1, or expectedVersion + 1 */
    uint64_t key_epoch;       /* the epoch of the data key (also in the envelope header) */
} msd_context;

/* The padded plaintext is a power of two from 256 to MSD_MAX_PADDED bytes
 * and holds a 32-byte key/context check, the message, then ISO/IEC 7816-4
 * padding (spec/device.md §3). The module's default max_ciphertext (65536)
 * accepts padded sizes up to 32768, i.e. messages up to 32735 bytes. */
#define MSD_MAX_PADDED (1u << 24)
#define MSD_CHECK_SIZE 32u
#define MSD_MAX_PLAINTEXT (MSD_MAX_PADDED - MSD_CHECK_SIZE - 1u)

/** The envelope size for a message of pt_len bytes (50 + bucket), or 0 when
 *  pt_len > MSD_MAX_PLAINTEXT. */
size_t msd_envelope_size(size_t pt_len);

/** assetId = keccak256(precompile || owner || salt) (spec/abi.md [ABI-20]).
 *  Out: out32. In: precompile20, owner20, salt32. */
void msd_asset_id(uint8_t out32[32], const uint8_t precompile20[20], const uint8_t owner20[20],
                  const uint8_t salt32[32]);

/** Pad and encrypt a message into an envelope (XChaCha20-Poly1305-IETF with
 *  a fresh random nonce and the associated data of ctx). The header epoch is
 *  ctx->key_epoch, which must equal the key's epoch.
 *  Returns MSD_OK, MSD_ERR_ARGS (pt_len too large, epoch mismatch),
 *  MSD_ERR_BUFFER (*env_len = the size needed), MSD_ERR_NOMEM.
 *  Args: key. Out: env (env_cap bytes), env_len. In: ctx, pt (may be NULL if
 *  pt_len is 0), pt_len. */
msd_status msd_encrypt(uint8_t *env, size_t env_cap, size_t *env_len, const msd_data_key *key,
                       const msd_context *ctx, const uint8_t *pt, size_t pt_len);

/** Check, decrypt and unpad an envelope. Errors are checked in this order:
 *  MSD_ERR_MALFORMED (header or length: what the module's check would refuse
 *  under the power-of-two bucket policy), MSD_ERR_WRONG_EPOCH (header epoch
 *  != ctx->key_epoch), then authentication. When the tag does not verify,
 *  the 32-byte check at the start of the plaintext tells why (spec/device.md
 *  §3.3): MSD_ERR_WRONG_KEY, MSD_ERR_WRONG_CONTEXT or MSD_ERR_TAMPERED. The
 *  diagnosis reads those 32 bytes without authentication and releases none of
 *  them; whatever the error, no plaintext is returned. An alteration of the
 *  nonce or of the first 16 ciphertext bytes is reported as MSD_ERR_WRONG_KEY.
 *  Returns the above, MSD_OK, MSD_ERR_ARGS, MSD_ERR_BUFFER (*pt_len = the
 *  message length; pt is zeroed), MSD_ERR_NOMEM.
 *  Args: key. Out: pt (pt_cap bytes; may be NULL if pt_cap is 0), pt_len.
 *  In: ctx, env, env_len. */
msd_status msd_decrypt(uint8_t *pt, size_t pt_cap, size_t *pt_len, const msd_data_key *key,
                       const msd_context *ctx, const uint8_t *env, size_t env_len);

/* ------------------------------------------------------------------- grants */

/* A wrapped key is a libsodium sealed box (crypto_box_seal) of
 * key (32) || assetId (32) || keyEpoch u64 BE (8): 48 + 72 bytes. It fits the
 * module's default max_wrapped_key (256). */
#define MSD_WRAPPED_KEY_SIZE 120u

/** Seal a data key to a grantee's X25519 public key (an anonymous sealed
 *  box; the grantee learns the key, asset and epoch, nothing identifies the
 *  sender). This is the `wrappedKey` of grantAccess; the owner also wraps
 *  each epoch's key for itself to keep it.
 *  Returns MSD_OK, MSD_ERR_ARGS (e.g. a low-order public key).
 *  Args: key. Out: out (MSD_WRAPPED_KEY_SIZE bytes). In: grantee_pk32. */
msd_status msd_wrap_key(uint8_t out[MSD_WRAPPED_KEY_SIZE], const msd_data_key *key,
                        const uint8_t grantee_pk32[MSD_X25519_PUBLIC_SIZE]);

/** Open a wrapped key with the identity's X25519 key and check that it is the
 *  key of asset_id32 at key_epoch. It also opens the chain-bound format
 *  (msd_wrap_key_bound, MSD_WRAPPED_KEY_V2_SIZE bytes) but, having no chain
 *  to compare with, does not check its chain id and precompile: callers
 *  that know the chain use msd_unwrap_key_bound.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOT_FOR_ME (wrong length, sealed to
 *  another key, or altered), MSD_ERR_WRONG_GRANT (opens, but for another
 *  asset or epoch), MSD_ERR_NOMEM.
 *  Args: id. Out: out (a new handle). In: wrapped, wrapped_len, asset_id32,
 *  key_epoch. */
msd_status msd_unwrap_key(msd_data_key **out, const msd_identity *id, const uint8_t *wrapped, size_t wrapped_len,
                          const uint8_t asset_id32[32], uint64_t key_epoch);

/** Rotation (revocation): a fresh random key for epoch old->epoch + 1 of the
 *  same asset, wrapped for each remaining recipient (include the owner's own
 *  X25519 key to keep the new key). Write versions after the on-chain
 *  rotateKey under the new key. What rotation cannot do: a revoked grantee
 *  keeps every key it received and every plaintext it decrypted; only
 *  versions written after the rotation are closed to it (spec/device.md §4).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_EPOCH_LIMIT, MSD_ERR_NOMEM.
 *  Args: old. Out: out (a new handle), wrapped (n * MSD_WRAPPED_KEY_SIZE
 *  bytes, recipient i at offset i * MSD_WRAPPED_KEY_SIZE; may be NULL if n is
 *  0). In: recipient_pks (n keys of 32 bytes), n. */
msd_status msd_rotate(msd_data_key **out, uint8_t *wrapped, const msd_data_key *old,
                      const uint8_t (*recipient_pks)[MSD_X25519_PUBLIC_SIZE], size_t n);

/* ------------------------------------------------------------------ signing */

#define MSD_SIGNATURE_SIZE 65u

/** Sign a 32-byte digest: ECDSA over secp256k1 with RFC 6979 nonces, low s,
 *  r || s || v with v = 27 + recovery id (spec/eip712.md [SIG-7]).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_SIGN.
 *  Args: id. Out: sig65. In: digest32. */
msd_status msd_sign_digest(uint8_t sig65[MSD_SIGNATURE_SIZE], const msd_identity *id, const uint8_t digest32[32]);

/** Signed actions, ready for a relayer: each signs the EIP-712 digest the
 *  module checks (crypto/eip712.c) and writes the complete calldata
 *  (selector and ABI arguments) of the *Signed function. The signer is the
 *  identity's address; nonce is nonceOf(signer); deadline is a unix time
 *  (the signature is refused after it).
 *  Each returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_BUFFER (*cd_len = size needed),
 *  MSD_ERR_NOMEM, MSD_ERR_SIGN.
 *  Args: id. Out: cd (cd_cap bytes), cd_len, sig65 (may be NULL).
 *  In: the action's fields; chain_id and precompile20 form the domain. */

/** createMemorySigned(owner = identity, salt, metadata, ct, nonce, deadline, sig). */
msd_status msd_sign_create_memory(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                  const msd_identity *id, uint64_t chain_id, const uint8_t precompile20[20],
                                  const uint8_t salt32[32], const uint8_t metadata32[32],
                                  const uint8_t *ct, size_t ct_len, uint64_t nonce, uint64_t deadline);

/** appendVersionSigned(asset, expectedVersion, keyEpoch, ct, signer = identity, nonce, deadline, sig). */
msd_status msd_sign_append_version(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                   const msd_identity *id, uint64_t chain_id, const uint8_t precompile20[20],
                                   const uint8_t asset_id32[32], uint64_t expected_version, uint64_t key_epoch,
                                   const uint8_t *ct, size_t ct_len, uint64_t nonce, uint64_t deadline);

/** transferOwnershipSigned(asset, newOwner, nonce, deadline, sig); the identity must be the owner. */
msd_status msd_sign_transfer_ownership(uint8_t *cd, size_t cd_cap, size_t *cd_len, uint8_t *sig65,
                                       const msd_identity *id, uint64_t chain_id, const uint8_t precompile20[20],
                                       const uint8_t asset_id32[32], const uint8_t new_owner20[20],
                                       uint64_t nonce, uint64_t deadline);


/* ----------------------------------------------------------------- recovery */
/* The seed is the 256-bit entropy of a standard BIP-39 English phrase of 24
 * words (spec/device.md §6): the phrase alone restores the identity, and with
 * it every key and salt below. */

#define MSD_MNEMONIC_WORDS 24u
#define MSD_MNEMONIC_MAX 256u     /* a phrase, NUL included, always fits */

/** The identity's recovery phrase: 24 lower-case words separated by single
 *  spaces, NUL-terminated. It is the seed: clear it after use.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_BUFFER (cap < MSD_MNEMONIC_MAX).
 *  Args: id. Out: out (cap bytes). */
msd_status msd_identity_mnemonic(char *out, size_t cap, const msd_identity *id);

/** The identity of a recovery phrase: words separated by any ASCII
 *  whitespace, upper or lower case. Returns MSD_OK, MSD_ERR_ARGS,
 *  MSD_ERR_MNEMONIC (not 24 words, a word not in the English list, or the
 *  checksum fails), MSD_ERR_NOMEM, MSD_ERR_INIT.
 *  Out: out (a new handle). In: phrase (len bytes, need not be NUL-terminated). */
msd_status msd_identity_from_mnemonic(msd_identity **out, const char *phrase, size_t len);

/** The salt of the owner's memory shard `shard` (0 first), derived from the
 *  seed, so that a new device finds the memory with the phrase alone:
 *  assetId = msd_asset_id(precompile, address, salt). Args: id. Out: salt32. */
void msd_memory_salt(uint8_t salt32[32], const msd_identity *id, uint32_t shard);

/** The owner's data key of (chain, precompile, asset, key epoch), derived
 *  from the seed (spec/device.md §6): a lost device loses no key. Grantees
 *  receive it wrapped as before. Returns MSD_OK, MSD_ERR_ARGS (epoch 0),
 *  MSD_ERR_NOMEM. Args: id. Out: out (a new handle). In: the labels. */
msd_status msd_data_key_derive(msd_data_key **out, const msd_identity *id, uint64_t chain_id,
                               const uint8_t precompile20[20], const uint8_t asset_id32[32], uint64_t key_epoch);

/* ------------------------------------------------------- version hash chain */

/** One version as a reader obtained it (getVersionInfo / getVersion, or a
 *  bundle). versionHash(v) = keccak256(prevHash || assetId || v u64 ||
 *  ciphertextHash || keyEpoch u64 || author) (spec/abi.md [ABI-21]). */
typedef struct msd_chain_version {
    uint64_t version;
    uint64_t key_epoch;
    uint8_t author[20];
    uint8_t version_hash[32];          /* the recorded versionHash */
    const uint8_t *ciphertext_hash;    /* the recorded ciphertextHash (32 bytes), or NULL */
    const uint8_t *ciphertext;         /* the ciphertext when retained, else NULL */
    size_t ciphertext_len;
    const uint8_t *parent;             /* a recorded prevHash (32 bytes), or NULL */
} msd_chain_version;

/** Why a link is broken, in the order the checks run for each version. */
typedef enum msd_chain_break {
    MSD_CHAIN_INTACT = 0,
    MSD_CHAIN_NUMBERING = 1,   /* version numbers do not run first, first+1, ... (or a version 0) */
    MSD_CHAIN_NO_CIPHERTEXT = 2,/* neither the ciphertext nor its hash is given */
    MSD_CHAIN_CIPHERTEXT = 3,  /* keccak256(ciphertext) differs from the recorded ciphertextHash */
    MSD_CHAIN_PARENT = 4,      /* the recorded prevHash differs from the previous version's hash */
    MSD_CHAIN_HASH = 5,        /* the recomputed versionHash differs from the recorded one */
    MSD_CHAIN_HEAD = 6         /* the last versionHash differs from the expected head hash */
} msd_chain_break;

typedef struct msd_chain_result {
    msd_chain_break reason;    /* MSD_CHAIN_INTACT when the chain holds */
    size_t index;              /* index into the array of the first broken link */
    uint64_t version;          /* its version number */
} msd_chain_result;

/** Recompute the version hash chain of asset_id32 over versions[0..n) and
 *  name the first broken link. For each version, in order: numbering, the
 *  ciphertext hash (keccak256 of the ciphertext when given; it must equal a
 *  recorded ciphertext_hash when both are given), the recorded parent, the
 *  version hash. The chain starts from prev32 (the versionHash of the version
 *  before versions[0]; NULL means 32 zero bytes, which versions[0].version = 1
 *  requires). head32, when not NULL, must equal the last version hash (with
 *  n = 0: prev32, or zero).
 *  Returns MSD_OK (res->reason = MSD_CHAIN_INTACT), MSD_ERR_CHAIN (res says
 *  where and why), MSD_ERR_ARGS (res NULL, or versions NULL with n > 0).
 *  Out: res. In: asset_id32, prev32, versions, n, head32. */
msd_status msd_chain_verify(msd_chain_result *res, const uint8_t asset_id32[32], const uint8_t *prev32,
                            const msd_chain_version *versions, size_t n, const uint8_t *head32);

/** The asset record (spec/storage.md [ST-4]) that a state proof shows. */
typedef struct msd_asset_state {
    int present;               /* 0: the asset does not exist at that height */
    uint8_t owner[20];
    uint64_t head_version;
    uint8_t head_hash[32];
    uint64_t key_epoch;
    uint32_t flags;
    uint8_t metadata[32];
    uint32_t grant_count;
    uint64_t shredded_up_to;
} msd_asset_state;

/** Check a state proof bundle (spec/state.md "State proof bundle", verified
 *  by crypto/state_proof.c) about the asset record of asset_id32 against a
 *  trusted (height, root) from a block header, and decode the record.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_PROOF (malformed, another block,
 *  another key, does not lead to the root, or a record that does not decode).
 *  Out: st (zeroed on error). In: proof, proof_len, trusted_height,
 *  trusted_root32, asset_id32. */
msd_status msd_verify_asset_proof(msd_asset_state *st, const uint8_t *proof, size_t proof_len,
                                  uint64_t trusted_height, const uint8_t trusted_root32[32],
                                  const uint8_t asset_id32[32]);

/* ------------------------------------------------------------------ bundle */

/* The portable bundle (spec/bundle.md): one memory's whole history as one
 * signed file. Caps, checked before any allocation: */
#define MSD_BUNDLE_MAX_SIZE (1ull << 32)      /* whole file, bytes */
#define MSD_BUNDLE_MAX_VERSIONS (1u << 24)
#define MSD_BUNDLE_MAX_CIPHERTEXT (MSD_MAX_PADDED + 50u)
#define MSD_BUNDLE_MAX_GRANTS 4096u
#define MSD_BUNDLE_MAX_WRAPPED 4096u          /* one wrapped key, bytes */
#define MSD_BUNDLE_MAX_EPOCH_KEYS (1u << 20)
#define MSD_BUNDLE_MAX_PROOF 16384u

typedef struct msd_bundle_version {
    uint64_t version;
    uint8_t state;                 /* 1 retained, 2 pruned, 3 shredded (spec/abi.md [ABI-25]) */
    uint64_t key_epoch;
    uint8_t author[20];
    uint64_t block_number;
    uint8_t ciphertext_hash[32];
    uint8_t version_hash[32];
    const uint8_t *ciphertext;     /* state 1: the envelope; otherwise NULL, length 0 */
    size_t ciphertext_len;
} msd_bundle_version;

typedef struct msd_bundle_grant {
    uint8_t grantee[20];
    uint8_t permissions;           /* 1 read, 3 read + write */
    uint64_t expiry;
    uint64_t key_epoch;
    const uint8_t *wrapped_key;    /* as stored by grantAccess (may be empty) */
    size_t wrapped_key_len;
} msd_bundle_grant;

typedef struct msd_bundle_epoch_key {
    uint64_t epoch;
    const uint8_t *wrapped;        /* the epoch's data key sealed to owner_x25519 */
    size_t wrapped_len;
} msd_bundle_epoch_key;

/** A bundle in memory. Pointers inside borrow either the caller's arrays (to
 *  write) or the parsed buffer (after msd_bundle_parse): keep it alive. */
typedef struct msd_bundle {
    uint64_t chain_id;
    uint8_t precompile[20];
    uint8_t asset_id[32];
    uint8_t owner[20];             /* the signer of the bundle */
    uint8_t owner_x25519[32];      /* the key the epoch keys are sealed to */
    int has_salt;                  /* 1: salt is the creation salt (needed to import) */
    uint8_t salt[32];
    uint8_t metadata[32];
    uint64_t head_version;
    uint8_t head_hash[32];
    uint64_t key_epoch;
    uint32_t flags;
    size_t version_count;          /* versions 1..head_version, in order */
    const msd_bundle_version *versions;
    size_t grant_count;
    const msd_bundle_grant *grants;
    size_t epoch_key_count;        /* strictly increasing epochs */
    const msd_bundle_epoch_key *epoch_keys;
    uint64_t proof_height;         /* 0 with proof_len 0: no state proof */
    uint8_t proof_root[32];
    const uint8_t *proof;          /* state proof bundle of the asset record */
    size_t proof_len;
    uint8_t signature[MSD_SIGNATURE_SIZE];   /* filled by write and parse */
} msd_bundle;

/** Serialise b and sign it with id (whose address must be b->owner).
 *  Returns MSD_OK, MSD_ERR_ARGS (a field outside the format's rules or caps,
 *  or id is not the owner), MSD_ERR_NOMEM, MSD_ERR_SIGN.
 *  Args: id. Out: *out (malloc'd, free with free()), *out_len. In: b. */
msd_status msd_bundle_write(uint8_t **out, size_t *out_len, const msd_bundle *b, const msd_identity *id);

/** Parse a bundle from buf[0..len). The parser trusts nothing: every read
 *  is bounds-checked, every count and length is checked against its cap and
 *  against the bytes left before anything is allocated, every field must be
 *  canonical, and no byte may follow the signature. It does not check the
 *  signature or the hashes (msd_bundle_verify does). Safe on any input:
 *  the fuzz target of the format.
 *  Returns MSD_OK, MSD_ERR_ARGS (NULL out or buf with len > 0),
 *  MSD_ERR_BUNDLE (any format error), MSD_ERR_NOMEM.
 *  Out: *out (a new bundle whose pointers borrow buf; free it with
 *  msd_bundle_free; NULL on error). In: buf, len. */
msd_status msd_bundle_parse(msd_bundle **out, const uint8_t *buf, size_t len);

/** Free a parsed bundle (not buf). NULL is a no-op. */
void msd_bundle_free(msd_bundle *b);

/** Check a parsed bundle: the signature recovers to b->owner (low s), the
 *  version chain 1..head recomputes to head_hash (msd_chain_verify), and a
 *  state proof, when present, verifies against trusted (height, root) — or
 *  against the bundle's own (proof_height, proof_root) when trusted_root32
 *  is NULL — and shows an asset record with this owner, head, head hash, key
 *  epoch, flags and metadata. A trusted root given for a bundle without a
 *  proof is MSD_ERR_PROOF (nothing anchors it). Without a trusted root, MSD_OK
 *  means self-consistent only: anyone can re-sign a bundle with their own
 *  key, so it does not show that the memory is on any chain (spec/bundle.md
 *  [BUN-7]).
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_BUNDLE_SIGNATURE, MSD_ERR_CHAIN
 *  (chain filled when not NULL), MSD_ERR_PROOF.
 *  Out: chain (may be NULL). In: b, trusted_height, trusted_root32. */
msd_status msd_bundle_verify(const msd_bundle *b, msd_chain_result *chain, uint64_t trusted_height,
                             const uint8_t *trusted_root32);

/* --------------------------------------------------- chain-bound wrapped keys */
/* Added after the formats above (append-only): a wrapped key that names the
 * chain and contract too, so a grant made for one chain is refused on
 * another even when the asset id and epoch agree (the asset id does not
 * contain the chain id). spec/device.md [DEV-36]..[DEV-38]. The 120-byte
 * format of msd_wrap_key stays readable for grants made before. */

#define MSD_WRAPPED_KEY_V2 2u          /* the format byte of a chain-bound wrapped key */
/* 0x02 || crypto_box_seal(key (32) || assetId (32) || keyEpoch u64 BE ||
 * chainId u64 BE || precompile (20)): 1 + 48 + 100 bytes. Within the
 * module's default max_wrapped_key (256). */
#define MSD_WRAPPED_KEY_V2_SIZE 149u
#define MSD_WRAPPED_KEY_MAX MSD_WRAPPED_KEY_V2_SIZE   /* the largest wrapped key this library reads */

/** Seal a data key to a grantee's X25519 public key, bound to (chain_id,
 *  precompile20) as well as to the key's asset and epoch. This is the
 *  `wrappedKey` of grantAccess that the memsync tool writes.
 *  Returns MSD_OK, MSD_ERR_ARGS (NULL, or a low-order public key).
 *  Args: key. Out: out (MSD_WRAPPED_KEY_V2_SIZE bytes; zeroed on error).
 *  In: chain_id, precompile20, grantee_pk32. */
msd_status msd_wrap_key_bound(uint8_t out[MSD_WRAPPED_KEY_V2_SIZE], const msd_data_key *key, uint64_t chain_id,
                              const uint8_t precompile20[20], const uint8_t grantee_pk32[MSD_X25519_PUBLIC_SIZE]);

/** Open a wrapped key of either format for (chain_id, precompile20,
 *  asset_id32, key_epoch). A chain-bound key must name all four; a key of
 *  the 120-byte format (made before chains were bound) names no chain, is
 *  checked for asset and epoch only, and sets *legacy to 1.
 *  Returns MSD_OK, MSD_ERR_ARGS, MSD_ERR_NOT_FOR_ME (another length, an
 *  unknown format byte, sealed to another key, or altered),
 *  MSD_ERR_WRONG_GRANT (opens, but for another chain, contract, asset or
 *  epoch), MSD_ERR_NOMEM.
 *  Args: id. Out: out (a new handle), legacy (may be NULL; 0 unless the
 *  legacy format was accepted). In: wrapped, wrapped_len, chain_id,
 *  precompile20, asset_id32, key_epoch. */
msd_status msd_unwrap_key_bound(msd_data_key **out, int *legacy, const msd_identity *id, const uint8_t *wrapped,
                                size_t wrapped_len, uint64_t chain_id, const uint8_t precompile20[20],
                                const uint8_t asset_id32[32], uint64_t key_epoch);

/** 1 when a and b hold the same key bytes for the same asset and epoch, else
 *  0 (also when either is NULL). The key bytes are compared in constant time.
 *  For a keyring that must tell a second copy of a key from another key
 *  without seeing either. In: a, b. */
int msd_data_key_equal(const msd_data_key *a, const msd_data_key *b);

#ifdef __cplusplus
}
#endif

#endif
