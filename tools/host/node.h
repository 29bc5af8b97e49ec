/* The node side of the host: call frames with checkpoint/revert_to, views
 * through simulate, and block commits, each printed with decoded results. */
#ifndef MS_HOST_NODE_H
#define MS_HOST_NODE_H

#include <stdint.h>
#include <stdio.h>

#include "abi/abi_encode.h"
#include "module/memsync.h"

#define NODE_GAS_LIMIT 1000000u
#define NODE_GENESIS_TIME 1700000000u
#define NODE_BLOCK_TIME 12u

typedef struct node {
    const ms_module *m;
    ms_instance *inst;
    ms_config cfg;
    ms_block_context blk;
    FILE *out;
    int unexpected;     /* calls whose outcome differed from the scenario's expectation */
    int fatal;          /* MS_FATAL or a lifecycle failure: stop */
    ms_result last;     /* result of the last call (owned by the instance) */
} node;

/** Expect success (0) or a custom error selector. */
#define NODE_EXPECT_OK 0u

/** Start block `number` (timestamp derived from it). */
void node_begin_block(node *n, uint64_t number);

/** One transaction frame from `caller`: checkpoint, execute, revert_to on any
 *  non-success. Prints the call, status, gas, output or error, and events.
 *  Returns 1 if the call succeeded. n->last holds the result. */
int node_tx(node *n, const char *actor, const uint8_t caller[20], const ms_buf *cd, uint32_t expect);

/** An eth_call (simulate) from the zero address. Prints it unless quiet.
 *  Returns 1 on success; n->last holds the result. */
int node_view(node *n, const ms_buf *cd, uint32_t expect, int quiet);

/** commit_block at the current block number; prints height, root and the
 *  number of surviving logs. Returns 1 on success. */
int node_commit(node *n);

#endif
