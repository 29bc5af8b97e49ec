/* Crash-safety test (issue 3): shared pieces of the driver and the worker.
 *
 * The block stream is a pure function of (seed, height): block h always
 * carries the same calls, so with every earlier block fixed the state and
 * root at each height are unique. The worker (a child that is SIGKILLed)
 * and the reference run (in the driver) both use cg_block; the driver
 * checks a reopened directory with cg_digest, a hash of everything the
 * public read functions return about the stream's assets and accounts. */
#ifndef MS_TESTS_CRASH_H
#define MS_TESTS_CRASH_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi_encode.h"
#include "module/memsync.h"
#include "tools/host/device.h"

#define CG_ACCOUNTS 4u
#define CG_GAS 50000000u
#define CG_REORG_DEPTH 16u      /* R of the test chain config */
#define CG_MAX_ENVELOPE 60000u  /* below the default max_ciphertext (64 KiB) */

/** splitmix64-style mixing: a pure function of (a, b). */
uint64_t cg_hash(uint64_t a, uint64_t b);

typedef struct cg_rng { uint64_t s; } cg_rng;
void cg_rng_seed(cg_rng *r, uint64_t seed);
uint64_t cg_next(cg_rng *r);
/** Uniform in 0..n-1 (n > 0). */
uint64_t cg_below(cg_rng *r, uint64_t n);

typedef struct cg_ctx {
    const ms_module *m;
    ms_instance *inst;      /* set by the caller; cg_* never create or destroy */
    ms_config cfg;          /* defaults with reorg_depth = CG_REORG_DEPTH */
    uint64_t seed;
    dev_account acct[CG_ACCOUNTS];
    uint8_t domain[32];
    ms_buf cd;              /* calldata */
    uint8_t *env;           /* CG_MAX_ENVELOPE */
    uint8_t *pt;            /* CG_MAX_ENVELOPE */
    uint64_t calls;         /* executes so far (statistics) */
    char err[512];          /* why the last cg_* call failed */
} cg_ctx;

/** Accounts, config, buffers. Needs dev_init() first. Returns 1 on success. */
int cg_init(cg_ctx *c, const ms_module *m, uint64_t seed);
void cg_free(cg_ctx *c);

/** Execute the calls of block h (number h) on c->inst's pending block. Does
 *  not commit. Returns 1, or 0 with c->err set (a lifecycle error, MS_FATAL
 *  or an unexpected outcome). */
int cg_block(cg_ctx *c, uint64_t h);

/** Digest of the committed state as seen through the read functions, for a
 *  store at height h (assets of blocks 1..h+1, their versions and grants,
 *  the accounts' nonces). Reads only. Returns 1, or 0 with c->err set. */
int cg_digest(cg_ctx *c, uint64_t h, uint8_t out32[32]);

/** Lowercase hex of 32 bytes into out (65 bytes). */
void cg_hex32(char out[65], const uint8_t b[32]);
/** Parse 64 hex digits. Returns 1 on success. */
int cg_unhex32(uint8_t out[32], const char *s);

#endif
