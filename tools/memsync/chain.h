/* Where the memsync tool meets a chain: a JSON-RPC node (--rpc URL) or a
 * local module instance loaded from libmemsync.so through its public header
 * (--node DIR, one committed block per transaction). Both offer eth_call,
 * transactions and, for the local node, state proofs. */
#ifndef MEMSYNC_CHAIN_H
#define MEMSYNC_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi_encode.h"
#include "cli.h"

typedef struct chain chain;

/** Open the chain named by --rpc or --node. Returns CLI_OK or an exit code (printed). */
int chain_open(chain **out, const cli_opts *o);
void chain_close(chain *c);

/** eth_call of cd to the precompile. Out: out (return or revert data), *reverted.
 *  Returns CLI_OK (whatever the call's outcome) or CLI_NODE. */
int chain_call(chain *c, const ms_buf *cd, ms_buf *out, int *reverted);

/** Print the revert data decoded ("memsync: the contract reverted: ...") on
 *  stderr. Returns CLI_REVERTED. */
int chain_report_revert(const uint8_t *p, size_t n);

/** A transaction to the precompile from `from` (the owner, who signs it),
 *  or from the relayer when from is NULL. Returns CLI_OK when it succeeded,
 *  CLI_REVERTED (revert data decoded on stderr), or CLI_NODE. */
int chain_send(chain *c, const msd_identity *from, const ms_buf *cd);

/** chain_send without printing a revert: CLI_REVERTED with the revert data
 *  in revert (empty when a node mined the transaction but it failed after
 *  its estimate), for callers that retry. */
int chain_try_send(chain *c, const msd_identity *from, const ms_buf *cd, ms_buf *revert);

/** A state proof bundle of the asset record at the latest block.
 *  Returns CLI_OK, or CLI_NODE when the chain offers no proofs (quietly). */
int chain_prove(chain *c, const uint8_t asset[32], uint8_t *proof, size_t cap, size_t *len, uint64_t *height,
                uint8_t root[32]);

/* rpc.c: the JSON-RPC half (opaque to chain.c) */
typedef struct rpc rpc;
int rpc_open(rpc **out, const cli_opts *o);
void rpc_close(rpc *r);
int rpc_call(rpc *r, const ms_buf *cd, ms_buf *out, int *reverted);
int rpc_send(rpc *r, const msd_identity *from, const ms_buf *cd, ms_buf *revert, int *reverted);

#endif
