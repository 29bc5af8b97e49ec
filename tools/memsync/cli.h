/* The `memsync` owner's command line: shared options, exit codes and helpers.
 * Secrets (seed, private keys, data keys) stay inside the device library's
 * handles; the tool prints addresses, public keys, hashes, ciphertext and
 * signatures only. */
#ifndef MEMSYNC_CLI_H
#define MEMSYNC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "device/memsync_device.h"
#include "text.h"

/* Exit codes (also printed by --help and listed in the README). */
enum {
    CLI_OK = 0,
    CLI_USAGE = 1,        /* bad command line */
    CLI_IO = 2,           /* a file is missing, unreadable or cannot be written */
    CLI_KEYFILE = 3,      /* the key file is not a MemSync key file (corrupt, truncated) */
    CLI_PASSPHRASE = 4,   /* wrong passphrase (or the key file's encrypted part was altered) */
    CLI_MALFORMED = 5,    /* the input is not a MemSync envelope */
    CLI_WRONG_EPOCH = 6,  /* the envelope is from another key epoch */
    CLI_WRONG_KEY = 7,    /* the data key does not open this envelope */
    CLI_WRONG_AD = 8,     /* right key, other chain/contract/asset/version (associated data) */
    CLI_TAMPERED = 9,     /* right key and context, but the ciphertext was altered */
    CLI_NO_KEY = 10,      /* no data key for this asset and epoch (not granted, or revoked) */
    CLI_BUNDLE = 11,      /* not a valid bundle (format) */
    CLI_BUNDLE_SIG = 12,  /* the bundle's signature fails: altered */
    CLI_CHAIN_BROKEN = 13,/* a version hash chain or state proof does not verify, or heads differ */
    CLI_NODE = 14,        /* the node could not be reached or loaded, or answered nonsense */
    CLI_REVERTED = 15,    /* the contract reverted the call (the error is printed) */
    CLI_INTERNAL = 16,    /* out of memory, crypto library initialisation */
    CLI_MEM_MALFORMED = 17,/* a memory document (on chain or in the home) is not valid */
    CLI_MEM_VERSION = 18, /* a memory document of an unknown format version */
    CLI_MEM_TOO_LARGE = 19,/* a fact over its cap, or a memory that no longer fits */
    CLI_NOT_FOUND = 20,   /* no fact with this id */
    CLI_PHRASE = 21,      /* not a valid recovery phrase (word list or checksum) */
    CLI_IMPORT = 22,      /* the import file is not in the named format */
    CLI_CONFLICT = 23,    /* sync gave up: the memory kept changing under it (retry later) */
    CLI_LOCKED = 24,      /* another memsync process held the home's lock too long */
    CLI_UNANCHORED = 25   /* verify: the bundle is self-consistent but no trusted root anchors it */
};

/* Options shared by the commands; unset strings are NULL. */
typedef struct cli_opts {
    const char *home;            /* --home, MEMSYNC_HOME, or ~/.memsync */
    const char *passphrase_file; /* --passphrase-file (else MEMSYNC_PASSPHRASE) */
    const char *rpc;             /* --rpc URL */
    const char *node;            /* --node DIR: a local module instance */
    const char *module;          /* --module PATH of libmemsync.so */
    const char *relayer_key_file;
    uint64_t chain_id;
    uint8_t precompile[20];
    /* command arguments */
    const char *in, *out, *asset, *salt, *metadata, *grantee, *grantee_key, *new_owner, *wrapped_key;
    const char *trusted_root;
    uint64_t version, epoch, nonce, deadline, expiry, expected, trusted_height;
    int has_version, has_epoch, has_nonce, has_deadline, has_expected;
    int write_perm, fast_kdf, new_key;
    const char *action;          /* sign: create | append | transfer; the TEXT, QUERY, ID or FILE of the memory commands */
    /* memory commands and the MCP server */
    uint32_t categories;         /* --category C (repeatable), as MSD_CAT_* bits; 0: none given */
    int mem_type;                /* --type semantic|episodic: msd_mem_type, 0: none given */
    int importance;              /* --importance 0..100, -1: none given */
    uint64_t limit, max_bytes;   /* --limit N, --max-bytes N (0: default) */
    int json;                    /* --json */
    int include_private;         /* --include-private: the `private` category may be shown (never the default) */
    const char *format;          /* --format F (import, export) */
    const char *text;            /* --text T (edit) */
} cli_opts;

/* util.c; hex options are read with text_hex_exact (tools/host/text.h) */
void cli_print_field(const char *label, const uint8_t *p, size_t n);   /* "label     0x...\n" on stdout */
int cli_read_file(const char *path, uint8_t **data, size_t *len, size_t max);  /* CLI_OK or CLI_IO */
int cli_write_file(const char *path, const uint8_t *data, size_t len, int private_mode);
int cli_exit_of(msd_status st);                             /* map a library status to an exit code */
int cli_fail(int code, const char *fmt, ...);               /* print "memsync: ..." to stderr, return code */
void cli_wipe_json_allocations(void);                       /* jansson's frees wipe first (glibc) */

/* home.c: the owner's local keyring under --home */
#define PASS_MAX 1024u
/* The passphrase from --passphrase-file (its first line) or MEMSYNC_PASSPHRASE, into pass (cap bytes). */
int home_read_passphrase(char *pass, size_t cap, size_t *len, const cli_opts *o);
/* A new key file HOME/key for id under pass (refused when empty or when the file exists); prints its path. */
int home_write_key(const cli_opts *o, const msd_identity *id, const char *pass, size_t plen);
int home_open_identity(msd_identity **out, const cli_opts *o);
int home_key_path(char *buf, size_t cap, const cli_opts *o);
int home_asset_dir(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32], int create);
/* The data key of (asset, epoch), kept sealed to the identity's own X25519 key. */
int home_load_data_key(msd_data_key **out, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                       uint64_t epoch);
int home_store_wrapped(const cli_opts *o, const uint8_t asset[32], uint64_t epoch, const uint8_t *wrapped,
                       size_t len);
int home_load_wrapped(const cli_opts *o, const uint8_t asset[32], uint64_t epoch, uint8_t *wrapped, size_t cap,
                      size_t *len);
int home_store_key_for_me(const cli_opts *o, const msd_identity *id, const msd_data_key *key);
/* The owner's key of (asset, epoch) into the keyring when it is not there: derived from the seed
 * (spec/device.md §6), so a restored home opens every epoch of its own memories. */
int home_ensure_owner_key(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch);
int home_store_blob(const cli_opts *o, const uint8_t asset[32], const char *name, const uint8_t *p, size_t n);
int home_load_blob(const cli_opts *o, const uint8_t asset[32], const char *name, uint8_t *p, size_t n);

/* The asset named by --asset, or derived from --salt (and the identity's address). */
int cli_asset_of(uint8_t asset[32], const cli_opts *o, const msd_identity *id, int *from_salt, uint8_t salt[32]);

/* cmd_crypt.c: envelopes with the keyring's (or --wrapped-key's) data key; malloc'd outputs */
/* The associated data of version `version` of asset on the chain of o (spec/envelope.md [ENV-8]). */
msd_context cli_context(const cli_opts *o, const uint8_t asset[32], uint64_t version, uint64_t epoch);
/* Decrypt ct as version v of epoch under key, quietly: MSD_OK with *pt (malloc'd; the caller wipes
 * and frees it), else the status and *pt NULL. */
msd_status cli_try_open(uint8_t **pt, size_t *pt_len, const cli_opts *o, const uint8_t asset[32], uint64_t v,
                        uint64_t epoch, const msd_data_key *key, const uint8_t *ct, size_t ct_len);
int cli_encrypt_buffer(uint8_t **env, size_t *env_len, const cli_opts *o, const msd_identity *id,
                       const uint8_t asset[32], uint64_t version, uint64_t epoch, const uint8_t *pt, size_t pt_len,
                       int allow_new_key);
int cli_decrypt_buffer(uint8_t **pt, size_t *pt_len, const cli_opts *o, const msd_identity *id,
                       const uint8_t asset[32], uint64_t version, uint64_t epoch, const uint8_t *env, size_t env_len);

/* commands */
int cmd_keygen(const cli_opts *o);
int cmd_address(const cli_opts *o);
int cmd_encrypt(const cli_opts *o);
int cmd_decrypt(const cli_opts *o);
int cmd_sign(const cli_opts *o);
int cmd_grant(const cli_opts *o);
int cmd_revoke(const cli_opts *o);
int cmd_push(const cli_opts *o);
int cmd_pull(const cli_opts *o);
int cmd_grants(const cli_opts *o);
int cmd_export(const cli_opts *o);
int cmd_import(const cli_opts *o);
int cmd_verify(const cli_opts *o);
/* cmd_memory.c: the memory commands (spec/memory-sync.md) */
int cmd_remember(const cli_opts *o);
int cmd_edit(const cli_opts *o);
int cmd_recall(const cli_opts *o);
int cmd_list(const cli_opts *o);
int cmd_forget(const cli_opts *o);
int cmd_context(const cli_opts *o);
int cmd_sync(const cli_opts *o);
int cmd_recovery_phrase(const cli_opts *o);
int cmd_restore(const cli_opts *o);
int cmd_mem_import(const cli_opts *o);
int cmd_mem_export(const cli_opts *o);
/* mcp/: the stdio MCP server */
int cmd_mcp(const cli_opts *o);

/* ---- issue 14 (owner's side): the keyring keyed by chain, rotation, transfer */

/* home.c. The memory's keyring folder is HOME/assets/<chain id>-<precompile>-<asset>/
 * (home_asset_dir); the legacy HOME/assets/<asset>/ is read when it lacks a file. */
int home_legacy_asset_dir(char *buf, size_t cap, const cli_opts *o, const uint8_t asset[32]);
/* home_store_wrapped, but an existing file that opens (with id) to the same key is accepted too. */
int home_store_wrapped_for(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch,
                           const uint8_t *wrapped, size_t len);
/* home_load_data_key from the memory's own folder only (never the legacy one): CLI_NO_KEY when absent. */
int home_load_own_data_key(msd_data_key **out, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                           uint64_t epoch);
int home_remove_blob(const cli_opts *o, const uint8_t asset[32], const char *name);

/* cmd_crypt.c: encrypt pt as `version` of asset under key (its epoch); *env malloc'd. */
int cli_encrypt_with_key(uint8_t **env, size_t *env_len, const cli_opts *o, const msd_data_key *key,
                         const uint8_t asset[32], uint64_t version, const uint8_t *pt, size_t pt_len);

/* rotate.c: the owner's key rotation, shared by revoke, rotate, push and (to
 * come) the memory commands' sync. `c` is a chain of chain.h. */
struct chain;
/** The owner's rotation, resumable: (1) before anything is sent, every
 *  grantee that will need the new key has its X25519 key in the keyring and
 *  the owner's key of the target epoch is kept; (2) revokeAccess(revoke20)
 *  when revoke20 is not NULL; (3) rotateKey when `rotate` (else the current
 *  epoch is the target: resuming after rotateKey was mined); (4) grantAccess
 *  again, with the target epoch's key, for every remaining grant of an older
 *  epoch. The target epoch's key is derived from the seed (spec/device.md
 *  [DEV-31]). Out: *epoch (the target epoch), *rewrapped (may be NULL). */
int cli_rotation(struct chain *c, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                 const uint8_t *revoke20, int rotate, uint64_t *epoch, size_t *rewrapped);
/** The data key the owner writes (or grants) the current key epoch under:
 *  the first of the keyring's key, the legacy keyring's and the derived key
 *  that opens the head version when the head is of the current epoch (a key
 *  found this way is kept in the keyring), else the keyring's or the derived
 *  key. Returns CLI_OK with *key, CLI_WRONG_KEY (quietly) when the head is of
 *  the current epoch and none of them opens it (its writer used a key this
 *  identity does not hold, e.g. the owner before a transfer), or an error. */
int cli_owner_current_key(struct chain *c, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                          msd_data_key **key, uint64_t *epoch);
/** The epoch and key of the owner's next write: cli_owner_current_key, and
 *  when that is CLI_WRONG_KEY (after a transfer of ownership), rotateKey
 *  first (cli_rotation) and the new epoch's derived key, so that one epoch
 *  never has two keys. Out: *key, *epoch, *rotated (may be NULL). The memory
 *  commands' sync calls it before writing a version of an owned memory. */
int cli_owner_write_key(struct chain *c, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                        msd_data_key **key, uint64_t *epoch, int *rotated);
int cmd_rotate(const cli_opts *o);
/* cmd_chain.c */
int cmd_transfer(const cli_opts *o);

#endif
