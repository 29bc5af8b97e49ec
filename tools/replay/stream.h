/* Seeded block-stream generator for multi-validator replay and conformance
 * vectors. From a seed, the generator drives ONE instance through the public
 * host ABI (module/memsync.h): blocks of transactions made of call frames
 * nested at random depths (a checkpoint per frame, revert_to when a frame
 * reverts), static frames, every function of spec/IMemSync.sol with valid and
 * invalid arguments, signed and direct, bad ABI encodings, forbidden call
 * kinds, value, wrong chain, random and exactly-too-little gas, eth_call
 * (simulate), abandoned proposals (discard_block) and reorgs (rollback_to a
 * few blocks back, then a different branch).
 *
 * The generator only keeps candidate asset ids (taken from createMemory
 * outputs); everything else it needs (heads, epochs, owners, grants, nonces)
 * it asks the instance with simulate before building a call ("aux" queries).
 * So the stream is a function of the seed and of the module's own outputs:
 * two instances that agree on every output run the same stream.
 *
 * Every host operation is reported to an observer, in order. */
#ifndef MS_REPLAY_STREAM_H
#define MS_REPLAY_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "module/memsync.h"

typedef enum rs_ev_type {
    RS_EV_CALL = 1,       /* execute */
    RS_EV_SIMULATE,       /* simulate (eth_call) */
    RS_EV_CHECKPOINT,     /* frame begins: checkpoint (the id itself is not consensus) */
    RS_EV_REVERT,         /* frame reverts: revert_to its checkpoint */
    RS_EV_BEGIN,          /* a block starts (context in blk) */
    RS_EV_COMMIT,         /* commit_block: rc, root, pending log count/hash before it */
    RS_EV_DISCARD,        /* discard_block */
    RS_EV_ROLLBACK,       /* rollback_to(height): rc, then committed() root */
    RS_EV_ROOT_AT         /* root_at(height): rc, root */
} rs_ev_type;

typedef struct rs_event {
    rs_ev_type type;
    int aux;                    /* a query the generator made for itself */
    uint64_t index;             /* running index of calls/simulates in the block */
    int frame;                  /* frame id (CHECKPOINT/REVERT), depth-first numbering per block */
    ms_block_context blk;       /* CALL/SIMULATE/BEGIN */
    const ms_message *msg;      /* CALL/SIMULATE */
    const ms_result *res;       /* CALL/SIMULATE */
    uint64_t height;            /* COMMIT/ROLLBACK/ROOT_AT */
    ms_rc rc;                   /* lifecycle functions */
    ms_bytes32 root;            /* COMMIT/ROLLBACK/ROOT_AT */
    size_t log_count;           /* COMMIT: surviving pending logs before the commit */
    uint8_t log_hash[32];       /* COMMIT: rs_logs_hash of them */
} rs_event;

typedef void (*rs_observer)(void *ctx, const rs_event *ev);

typedef struct rs_gen rs_gen;

/** Options of a stream. */
typedef struct rs_options {
    uint64_t seed;
    int curated;        /* 1: play the curated scenario (every error) instead of random blocks */
    int small_blocks;   /* fewer calls per block (conformance vectors) */
    int max_ct_body;    /* largest random envelope body (0: default 700) */
    int compact;        /* vectors: smallest POW2 bucket only, no oversized ciphertext in random blocks */
} rs_options;

/** A generator bound to one module instance. cfg must be the instance's config.
 *  Returns NULL on allocation or crypto initialisation failure. */
rs_gen *rs_new(const ms_module *m, ms_instance *inst, const ms_config *cfg, const rs_options *opt,
               rs_observer obs, void *obs_ctx);
void rs_free(rs_gen *g);

/** Run one step of the stream: at most one reorg or abandoned proposal, then
 *  one committed block. Returns 1 while the stream goes on, 0 when a curated
 *  scenario is over, -1 on a host failure (a lifecycle call that should have
 *  succeeded did not, MS_FATAL, poisoning); the message is in rs_error. */
int rs_step(rs_gen *g);

/** The last committed height the generator knows. */
uint64_t rs_height(const rs_gen *g);
const char *rs_error(const rs_gen *g);

/** Counts of generated calls (for the closing summary). */
typedef struct rs_stats {
    uint64_t calls, simulates, aux, reverted_frames, static_frames, reorgs, discards, blocks;
    uint64_t status[4];
} rs_stats;
void rs_get_stats(const rs_gen *g, rs_stats *s);

/** Digest of one call result: keccak256 of status u8 | gas_used u64 | output_size u64 | output |
 *  log_count u64 | each log (address 20 | topic_count u32 | topics | data_size u64 | data). */
void rs_result_hash(uint8_t out[32], const ms_result *r);
/** keccak256 over the logs alone, encoded as in rs_result_hash (count first). */
void rs_logs_hash(uint8_t out[32], const ms_log *logs, size_t n);

/** Function name of a selector, "?" when unknown (never NULL). */
const char *rs_fn_name(uint32_t selector);

#endif
