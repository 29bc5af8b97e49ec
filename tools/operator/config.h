/* The chain config from the module's defaults plus command-line flags, and
 * an explanation of which rule of spec/host-abi.md [HOST-38]/[HOST-39] a
 * config breaks (the module itself only answers MS_ERR_CONFIG). */
#ifndef MS_OPERATOR_CONFIG_H
#define MS_OPERATOR_CONFIG_H

#include <stddef.h>

#include "module/memsync.h"
#include "util.h"

/* The config flags, in the order op_config_opts lists them. */
#define OP_CONFIG_FLAGS \
    "  --chain-id N            chain id (default 31337)\n" \
    "  --address 0x..          precompile address, 20 bytes (default 0x...4d53)\n" \
    "  --max-ciphertext N      bytes per ciphertext, envelope included (50..1048576)\n" \
    "  --max-wrapped-key N     bytes per wrapped key (0..1024)\n" \
    "  --max-grants N          grants per asset (1..256)\n" \
    "  --retained N            K, ciphertexts kept per asset (1..1024)\n" \
    "  --bucket-policy P       none | pow2 (or 0 | 1)\n" \
    "  --reorg-depth N         R, committed blocks rollback_to can undo (1..4096)\n" \
    "  --activation-height N   first block in which calls run\n" \
    "  --gas-NAME N            one gas price of spec/gas.md, e.g. --gas-call_min 200\n"

#define OP_CONFIG_NOPTS 21

/** Appends the config options to opts (which must have OP_CONFIG_NOPTS free
 *  entries from index at). Returns the new count. */
size_t op_config_opts(op_opt *opts, size_t at);

/** Defaults of m, then the flags present in opts. Returns 1, or 0 with a
 *  message (a value that does not parse). */
int op_config_build(ms_config *cfg, const ms_module *m, const op_opt *opts, size_t n, const char *cmd);

/** [HOST-52] for cfg: the most keys and the largest undo record (bytes) a
 *  block of MS_MAX_BLOCK_GAS gas could produce. Returns 0 when unbounded
 *  (gas.state_write 0). */
int op_block_limits(const ms_config *cfg, uint64_t *keys, uint64_t *undo_bytes);

/** The first rule of [HOST-38]/[HOST-39]/[HOST-52] that cfg breaks, or NULL. */
const char *op_config_problem(const ms_config *cfg, char *buf, size_t cap);

/** One-line-per-field description. */
void op_config_print(FILE *f, const ms_config *cfg);

#endif
