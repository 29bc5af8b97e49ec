/* Shared fixture of the contract-call tests (tests/unit/test_calls_*.c):
 * a fresh instance over its own temporary data directory, calldata and
 * revert-data encoders, fixed secp256k1 test keys, EIP-712 signing, result
 * copies, and state snapshots (the journal's sorted overlay and the pending
 * logs) to prove that a failed call changed nothing.
 *
 * Every exported name starts with cf_ / CF_: all unit tests link into one
 * binary. Memory handed out by the cf_ helpers lives until cf_teardown. */
#ifndef MS_TEST_CALL_FIXTURE_H
#define MS_TEST_CALL_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "abi/selectors.h"
#include "memsync.h"

/* ---------------------------------------------------------- environment */

#define CF_CHAIN 31337u
#define CF_BLOCK 100u
#define CF_TIME 1700000000u

typedef struct cf_env {
    const ms_module *m;
    ms_config cfg;
    char dir[64];
    ms_instance *inst;
    ms_block_context blk;
} cf_env;

/* The primary instance of a test (opened by cf_setup). */
extern cf_env CF;

/* Criterion .init / .fini: default config, fresh directory. */
void cf_setup(void);
void cf_teardown(void);

/* Open e over a fresh mkdtemp directory with cfg (default when NULL). */
void cf_env_open(cf_env *e, const ms_config *cfg);
/* Destroy the instance (dropping any pending block) and delete the dir. */
void cf_env_close(cf_env *e);
/* Destroy the instance only, then create a new one over the same dir. */
void cf_env_reopen(cf_env *e);
/* Replace CF by an instance with cfg (for tests needing another config). */
void cf_setup_with(const ms_config *cfg);
/* Default config from the module. */
ms_config cf_default_config(void);
/* Create a fresh temporary directory (removed at teardown). */
const char *cf_tmpdir(void);
/* Remove a directory tree of plain files (RocksDB's layout). */
void cf_rmdir(const char *dir);

/* ----------------------------------------------------------------- keys */

typedef struct cf_key {
    uint8_t sk[32];
    uint8_t addr[20];
} cf_key;

extern cf_key CF_ALICE, CF_BOB, CF_CAROL, CF_DAVE, CF_EVE;

ms_address cf_addr(const uint8_t a20[20]);
/* 65-byte r || s || v (v 27/28), RFC 6979 nonce, low s. */
void cf_sign(uint8_t sig65[65], const cf_key *k, const uint8_t digest32[32]);
/* Recover like Ethereum does (for expected WrongSigner arguments). Returns
 * 1 and the address, or 0 if no key recovers. */
int cf_recover(uint8_t out20[20], const uint8_t digest32[32], const uint8_t sig65[65]);
/* The smallest r >= 1 for which no curve point has x == r (unrecoverable). */
void cf_unrecoverable_r(uint8_t r32[32]);
/* s' = n - s (the malleated twin) in place. */
void cf_negate_s(uint8_t s32[32]);

/* ------------------------------------------------------------ byte data */

typedef struct cf_buf {
    uint8_t *p;
    size_t n;
} cf_buf;

/* Tracked allocation, zero-filled, freed at teardown. */
void *cf_alloc(size_t n);
cf_buf cf_concat(cf_buf a, const uint8_t *b, size_t n);
cf_buf cf_dup(const uint8_t *p, size_t n);

/* A word helper: a 32-byte value all `v` except byte 0 = tag (salts, metadata). */
const uint8_t *cf_b32(uint8_t tag, uint8_t v);
/* A uint256 word holding v. */
const uint8_t *cf_u256(uint64_t v);
/* A uint256 word with the high 24 bytes = hi (dirty) and low 8 bytes = v. */
const uint8_t *cf_u256_hi(uint8_t hi, uint64_t v);
/* An address as a 32-byte word. */
const uint8_t *cf_aw(const uint8_t a20[20]);
extern const uint8_t CF_ZERO20[20];
extern const uint8_t CF_ZERO32[32];

/* A valid envelope: version 1, alg 1, epoch, a non-zero nonce, a body of
 * len - 34 pseudo-random bytes derived from seed. len >= 50. */
const uint8_t *cf_ct(size_t len, uint64_t epoch, uint8_t seed);

void cf_keccak(uint8_t out32[32], const uint8_t *p, size_t n);
/* keccak256(abi.encodePacked(precompile, owner, salt)) */
void cf_asset_id(uint8_t out32[32], const uint8_t precompile20[20], const uint8_t owner20[20],
                 const uint8_t salt32[32]);
/* keccak256(prev | id | v u64 | ctHash | epoch u64 | author) */
void cf_version_hash(uint8_t out32[32], const uint8_t prev32[32], const uint8_t id32[32], uint64_t v,
                     const uint8_t ct_hash32[32], uint64_t epoch, const uint8_t author20[20]);

/* ------------------------------------------------------------ encoding */

/* ABI-encode selector + args. fmt, one char per argument:
 *   'w' bytes32 / uint256 word (const uint8_t *32)
 *   'u' uintN <= 64            (uint64_t)
 *   'a' address               (const uint8_t *20)
 *   'b' bytes                 (const uint8_t *, size_t)
 * Standard layout: head, then each tail (length word, data, zero padding). */
cf_buf cf_enc(uint32_t selector, const char *fmt, ...);

/* Calldata of each function. */
cf_buf cf_cd_create(const uint8_t salt[32], const uint8_t meta[32], const uint8_t *ct, size_t n);
cf_buf cf_cd_create_signed(const uint8_t owner[20], const uint8_t salt[32], const uint8_t meta[32],
                           const uint8_t *ct, size_t n, uint64_t nonce, uint64_t deadline, const uint8_t *sig,
                           size_t sig_len);
cf_buf cf_cd_append(const uint8_t id[32], uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t n);
cf_buf cf_cd_append_signed(const uint8_t id[32], uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t n,
                           const uint8_t signer[20], uint64_t nonce, uint64_t deadline, const uint8_t *sig,
                           size_t sig_len);
cf_buf cf_cd_transfer(const uint8_t id[32], const uint8_t to[20]);
cf_buf cf_cd_transfer_signed(const uint8_t id[32], const uint8_t to[20], uint64_t nonce, uint64_t deadline,
                             const uint8_t *sig, size_t sig_len);
cf_buf cf_cd_grant(const uint8_t id[32], const uint8_t grantee[20], uint64_t perms, uint64_t expiry,
                   const uint8_t *wk, size_t n);
cf_buf cf_cd_revoke(const uint8_t id[32], const uint8_t grantee[20]);
cf_buf cf_cd_rotate(const uint8_t id[32]);
cf_buf cf_cd_shred(const uint8_t id[32]);
cf_buf cf_cd_shred_versions(const uint8_t id[32], uint64_t upto);
cf_buf cf_cd_get_head(const uint8_t id[32]);
cf_buf cf_cd_get_version(const uint8_t id[32], uint64_t v);
cf_buf cf_cd_get_version_info(const uint8_t id[32], uint64_t v);
cf_buf cf_cd_get_grants(const uint8_t id[32]);
cf_buf cf_cd_get_grant(const uint8_t id[32], const uint8_t grantee[20]);
cf_buf cf_cd_nonce_of(const uint8_t who[20]);
cf_buf cf_cd_domain(void);

/* EIP-712 digests for an explicit domain (chain id, verifying contract). */
void cf_digest_create(uint8_t out32[32], uint64_t chain, const uint8_t vc20[20], const uint8_t owner[20],
                      const uint8_t salt[32], const uint8_t meta[32], const uint8_t *ct, size_t n, uint64_t nonce,
                      uint64_t deadline);
void cf_digest_append(uint8_t out32[32], uint64_t chain, const uint8_t vc20[20], const uint8_t id[32],
                      uint64_t expected, uint64_t epoch, const uint8_t *ct, size_t n, const uint8_t signer[20],
                      uint64_t nonce, uint64_t deadline);
void cf_digest_transfer(uint8_t out32[32], uint64_t chain, const uint8_t vc20[20], const uint8_t id[32],
                        const uint8_t to[20], uint64_t nonce, uint64_t deadline);

/* Fully signed calldata for the env's domain, signed by k. */
cf_buf cf_signed_create(const cf_env *e, const cf_key *k, const uint8_t owner[20], const uint8_t salt[32],
                        const uint8_t meta[32], const uint8_t *ct, size_t n, uint64_t nonce, uint64_t deadline);
cf_buf cf_signed_append(const cf_env *e, const cf_key *k, const uint8_t id[32], uint64_t expected, uint64_t epoch,
                        const uint8_t *ct, size_t n, const uint8_t signer[20], uint64_t nonce, uint64_t deadline);
cf_buf cf_signed_transfer(const cf_env *e, const cf_key *k, const uint8_t id[32], const uint8_t to[20],
                          uint64_t nonce, uint64_t deadline);

/* --------------------------------------------------------------- calls */

typedef struct cf_log {
    uint8_t address[20];
    uint32_t topic_count;
    uint8_t topics[4][32];
    uint8_t *data;
    size_t data_size;
} cf_log;

typedef struct cf_res {
    ms_rc rc;
    ms_status status;
    uint64_t gas_used;
    uint8_t *out;
    size_t out_size;
    size_t log_count;
    cf_log *logs;
} cf_res;

#define CF_GAS 10000000u

/* The message template: CALL, not static, zero value, CF_GAS. */
ms_message cf_msg(const uint8_t caller20[20], cf_buf cd);

/* Execute (or simulate) into *r (its previous contents are freed; an
 * all-zero cf_res is a valid empty one). */
void cf_exec_into(cf_env *e, cf_res *r, const ms_message *m, int simulate);
void cf_res_free(cf_res *r);
/* Tracked results (freed at teardown). */
cf_res *cf_exec_msg(cf_env *e, const ms_message *m);
cf_res *cf_sim_msg(cf_env *e, const ms_message *m);
cf_res *cf_call(cf_env *e, const uint8_t caller20[20], cf_buf cd);
cf_res *cf_call_gas(cf_env *e, const uint8_t caller20[20], cf_buf cd, uint64_t gas);
cf_res *cf_sim(cf_env *e, const uint8_t caller20[20], cf_buf cd);

/* Output words. */
const uint8_t *cf_out_word(const cf_res *r, size_t i);
uint64_t cf_out_u64(const cf_res *r, size_t i);   /* asserts the high 24 bytes are zero */

/* ------------------------------------------------------- assertions */

/* Revert data: selector + static arguments (same fmt as cf_enc, no 'b'). */
#define cf_err cf_enc

void cf_assert_bytes_at(const char *file, int line, const char *what, const uint8_t *got, size_t got_n,
                        const uint8_t *want, size_t want_n);
void cf_assert_revert_at(const char *file, int line, const cf_res *r, cf_buf want);
void cf_assert_success_at(const char *file, int line, const cf_res *r);
void cf_assert_oog_at(const char *file, int line, const cf_res *r, uint64_t limit);

#define CF_BYTES(got, got_n, want, want_n) cf_assert_bytes_at(__FILE__, __LINE__, #got, got, got_n, want, want_n)
#define CF_REVERT(r, want) cf_assert_revert_at(__FILE__, __LINE__, (r), (want))
#define CF_SUCCESS(r) cf_assert_success_at(__FILE__, __LINE__, (r))
#define CF_OOG(r, limit) cf_assert_oog_at(__FILE__, __LINE__, (r), (limit))

/* Log check: address is the precompile, topic0 and the indexed topics
 * (n_topics words), then the data words (n_data words). */
void cf_assert_log_at(const char *file, int line, const cf_env *e, const cf_log *l, const uint8_t topic0[32],
                      unsigned n_topics, const uint8_t *const *topics, unsigned n_data,
                      const uint8_t *const *data);
#define CF_LOG(e, l, topic0, nt, topics, nd, data) \
    cf_assert_log_at(__FILE__, __LINE__, (e), (l), (topic0), (nt), (topics), (nd), (data))

/* ----------------------------------------------------------- snapshots */

typedef struct cf_snap {
    uint8_t overlay[32];      /* hash of the sorted overlay */
    size_t overlay_n;
    uint8_t logs[32];         /* hash of the pending logs */
    size_t logs_n;
} cf_snap;

void cf_snapshot(cf_env *e, cf_snap *s);
void cf_assert_unchanged_at(const char *file, int line, cf_env *e, const cf_snap *before);
#define CF_UNCHANGED(e, s) cf_assert_unchanged_at(__FILE__, __LINE__, (e), (s))
size_t cf_pending_log_count(cf_env *e);
/* Commit at the next height (committed + 1); returns the root. */
void cf_commit(cf_env *e, uint8_t root32[32]);

/* ------------------------------------------------------ typed helpers */

typedef struct cf_head {
    uint8_t owner[20];
    uint64_t version;
    uint8_t head_hash[32];
    uint64_t key_epoch;
    uint64_t flags;
    uint8_t metadata[32];
} cf_head;

typedef struct cf_vinfo {
    uint8_t version_hash[32];
    uint8_t ct_hash[32];
    uint64_t key_epoch;
    uint8_t author[20];
    uint64_t block;
    uint64_t state;
} cf_vinfo;

/* Successful calls (asserted). */
void cf_create(cf_env *e, uint8_t id_out[32], const cf_key *owner, uint8_t salt_tag, const uint8_t *ct, size_t n);
void cf_append(cf_env *e, const cf_key *who, const uint8_t id[32], uint64_t expected, uint64_t epoch,
               const uint8_t *ct, size_t n);
void cf_grant(cf_env *e, const cf_key *owner, const uint8_t id[32], const uint8_t grantee[20], uint64_t perms,
              uint64_t expiry, const uint8_t *wk, size_t n);
void cf_get_head(cf_env *e, cf_head *h, const uint8_t id[32]);
void cf_get_vinfo(cf_env *e, cf_vinfo *v, const uint8_t id[32], uint64_t version);
uint64_t cf_nonce_of(cf_env *e, const uint8_t who[20]);
/* getGrants, decoded: returns the count; arrays hold up to cap entries. */
size_t cf_get_grants(cf_env *e, const uint8_t id[32], uint8_t (*grantees)[20], uint64_t *perms,
                     uint64_t *expiries, uint64_t *epochs, size_t cap);

/* Gas prices of a config. */
uint64_t cf_words(uint64_t n);
uint64_t cf_hash_gas(const ms_config *c, uint64_t n);
uint64_t cf_log_gas(const ms_config *c, unsigned topics_incl_topic0, unsigned data_words);
uint64_t cf_base_gas(const ms_config *c, size_t input_size);
/* Dropping a retained version's ciphertext of len bytes (prune or shred,
 * beyond the version read): R + 2W + ceil(B / 4) * len ([GAS-21]). */
uint64_t cf_drop_gas(const ms_config *c, uint64_t len);

#endif
