/* Structured calldata for fuzz_call: turns fuzz bytes into mostly
 * well-formed calls on a small world (3 keys, a handful of asset ids), with
 * real EIP-712 signatures and current nonces on request. Random bytes alone
 * almost never get past ABI decoding, ownership and signature checks; this
 * lets the fuzzer spend its time in the operations and their state machine. */
#ifndef MS_FUZZ_CALL_GEN_H
#define MS_FUZZ_CALL_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_input.h"
#include "memsync.h"

#define CG_KEYS 3u
#define CG_SALTS 4u
/* ids[0] is the known asset; then keys x salts. */
#define CG_IDS (1u + CG_KEYS * CG_SALTS)
#define CG_BASE_TIME 1700000000u
#define CG_CD_CAP 16384u

typedef struct cg_world {
    const ms_module *m;
    ms_instance *inst;
    ms_config cfg;
    uint8_t sk[CG_KEYS][32];
    uint8_t addr[CG_KEYS][20];
    uint8_t ids[CG_IDS][32];
    uint8_t known_salt[32];
    uint64_t round;           /* salts include it: see cg_world_set_round */
} cg_world;

/** Keys, addresses and the id table for w->cfg (call before any build). */
void cg_world_init(cg_world *w);

/** Start a new round of assets: ids[1..] become keccak(precompile, key,
 *  salt(round, s)), ids no call has used yet. Shredding is permanent, so
 *  without fresh ids a long run ends with every asset shredded and the
 *  write paths (appends, pruning, grants) unreachable. */
void cg_world_set_round(cg_world *w, uint64_t round);

/** The salt word of salt index s in the current round: round (8 bytes BE),
 *  zeros, s in the last byte. */
void cg_salt(uint8_t out32[32], const cg_world *w, unsigned s);

/** A valid envelope of total length len (>= 50) for key epoch, body from seed. */
void cg_envelope(uint8_t *out, size_t len, uint64_t epoch, uint8_t seed);

/** Build calldata for one call from the stream. blk is the block the call
 *  will run in (its chain id and time shape signatures and deadlines).
 *  Returns the calldata length (<= CG_CD_CAP). */
size_t cg_build(uint8_t *cd, fz_in *in, const cg_world *w, const ms_block_context *blk);

/** A plain ABI call with up to 2 static words (for the harness's own queries). */
size_t cg_simple(uint8_t *cd, uint32_t selector, const uint8_t *w0, const uint8_t *w1);

/** createMemory(salt, metadata, ct) calldata. */
size_t cg_create_call(uint8_t *cd, const uint8_t salt[32], const uint8_t meta[32], const uint8_t *ct, size_t n);

#endif
