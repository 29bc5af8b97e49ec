/* One call in flight inside the module: the context every operation gets,
 * gas metering, revert-data and event helpers. Internal to the module. */
#ifndef MS_MODULE_CALL_H
#define MS_MODULE_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi_decode.h"
#include "abi/abi_encode.h"
#include "crypto/signature.h"
#include "memsync.h"
#include "storage/state.h"

/** How an operation ended. Every path that is not MS_OUT_OK leaves the
 *  caller to roll back the call's writes. */
typedef enum ms_outcome {
    MS_OUT_OK = 0,
    MS_OUT_REVERT = 1,    /* c->out holds a custom error */
    MS_OUT_OOG = 2,       /* gas ran out at a charge point */
    MS_OUT_FATAL = 3      /* local fault: poison the instance */
} ms_outcome;

/* The last EIP-712 domain separator an instance computed, with the chain id
 * and precompile address it was computed for: a node asks for the same pair
 * call after call. A speed-up only: gas is charged all the same. */
typedef struct ms_domain_memo {
    int valid;
    uint64_t chain_id;
    uint8_t address[20];
    uint8_t domain[32];
} ms_domain_memo;

typedef struct ms_call {
    const ms_config *cfg;
    ms_state *st;
    const ms_verifier *verifier;
    const ms_block_context *block;
    const ms_message *msg;
    ms_abi_args args;       /* input after the selector */
    uint64_t gas_limit;
    uint64_t gas_used;
    ms_buf *out;
    ms_domain_memo *domain;  /* the instance's; NULL: compute every time */
} ms_call;

/* ------------------------------------------------------------------- gas */

/** Saturating arithmetic: an overflow prices the call out of any limit. */
uint64_t ms_gas_add(uint64_t a, uint64_t b);
uint64_t ms_gas_mul(uint64_t a, uint64_t b);
/** 32-byte words needed for n bytes, rounded up. */
uint64_t ms_words(uint64_t n);

/** Charge amount before the work it pays for. Returns 1, or 0 when it does
 *  not fit in the remaining gas (then gas_used becomes the limit). */
int ms_charge(ms_call *c, uint64_t amount);
/** Price of hashing n bytes once. */
uint64_t ms_hash_cost(const ms_call *c, uint64_t n);

/* Shorthands for the common charge points; each returns ms_charge's result. */
int ms_charge_reads(ms_call *c, uint64_t n);
int ms_charge_writes(ms_call *c, uint64_t n);
int ms_charge_hash(ms_call *c, uint64_t bytes);
int ms_charge_output(ms_call *c, uint64_t words);
/** The price of one deleted ciphertext byte, ceil(stored_byte / 4):
 *  X(c) = this * c ([GAS-21]). */
uint64_t ms_deleted_byte_price(const ms_call *c);

/* --------------------------------------------------------------- words */

typedef struct ms_word { uint8_t b[32]; } ms_word;

ms_word ms_w_u64(uint64_t v);
ms_word ms_w_addr(const uint8_t addr20[20]);
ms_word ms_w_b32(const uint8_t b32[32]);
ms_word ms_w_sel(uint32_t selector);   /* bytes4, left-aligned */

/** 1 if the n bytes at p are all zero (addresses, values, high words). */
int ms_is_zero(const uint8_t *p, size_t n);

/* -------------------------------------------------------------- reverts */

/** Write the custom error `selector(words...)` (n static words) to c->out
 *  and return MS_OUT_REVERT. */
ms_outcome ms_fail(ms_call *c, uint32_t selector, unsigned n, ...);

/** InvalidCalldata(reason) from a decoder error. */
ms_outcome ms_fail_calldata(ms_call *c, ms_abi_err err);

/** Map a state status that is not OK to an outcome: FAULT is fatal; a
 *  NOT_FOUND where a record must exist is corruption, hence fatal too. */
#define MS_TRY_STATE(expr) \
    do { if ((expr) != MS_STATE_OK) return MS_OUT_FATAL; } while (0)

/* --------------------------------------------------------------- events */

/** Emit a log from the precompile address: topic0, then n_topics indexed
 *  words, then n_data static data words. Charges log gas first.
 *  Returns MS_OUT_OK, MS_OUT_OOG or MS_OUT_FATAL. */
ms_outcome ms_emit(ms_call *c, const uint8_t topic0[32], unsigned n_topics, const ms_word *topics,
                   unsigned n_data, const ms_word *data);

/** Serialized log layout in the journal: address 20 | topic count 1 |
 *  topics 32*n | data. */
#define MS_LOG_HEADER_SIZE 21u

#endif
