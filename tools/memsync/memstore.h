/* The owner's memory on this device and on chain (spec/memory.md §7): the
 * memory document, its local copy in the home, and the sync that merges it
 * with the chain's head. Used by the memory commands (cmd_memory.c) and the
 * MCP server (mcp/).
 *
 * The memory of an identity is found without any local state: its asset is
 * msd_asset_id(precompile, owner, msd_memory_salt(identity, 0)). Another
 * owner's memory (as a write grantee) is named with --asset.
 *
 * Local state, under HOME/memory/<chain id>-<asset>/ (mode 0700):
 *   device   this home's 8-byte device id (random, made on first use)
 *   base     the version this home last pulled or pushed: u64 BE version,
 *            then its envelope as stored on chain
 *   local    the working document: an envelope under a key derived from the
 *            seed, never readable without the key file
 *   lock     flock()ed by every process for each read-modify-write, so two
 *            processes on one home never lose each other's changes
 *
 * Every function returns CLI_OK or an exit code of cli.h, after printing one
 * line "memsync: ..." on stderr that never contains memory text.
 */
#ifndef MEMSYNC_MEMSTORE_H
#define MEMSYNC_MEMSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "device/memory/memory.h"

typedef struct memstore memstore;

/** Open the memory of o: the identity from the key file (passphrase from
 *  MEMSYNC_PASSPHRASE or --passphrase-file), this home's device id, and the
 *  chain when --rpc or --node is given (else the memory is local only until
 *  a sync with a chain). Out: *out (free with memstore_close). */
int memstore_open(memstore **out, const cli_opts *o);
void memstore_close(memstore *m);

/** 1 when a chain is configured (--rpc or --node). */
int memstore_has_chain(const memstore *m);
/** This home's device id (stamps of its changes). */
const uint8_t *memstore_device(const memstore *m);
/** The memory's asset id (32 bytes). */
const uint8_t *memstore_asset(const memstore *m);

/** A copy of the current local document (pulling from the chain first
 *  when pull is 1 and a chain is configured). Out: *doc (free with msd_mem_free). */
int memstore_load(memstore *m, msd_mem_doc **doc, int pull);

/** A change: fn edits the document in place and returns CLI_OK (or an exit
 *  code, and then nothing is written). It runs under the home's lock on the
 *  freshest local document; the result is saved, and when a chain is
 *  configured it is pushed (compare-and-swap on the head version; on
 *  VersionConflict the head is pulled, merged three-way and pushed again, a
 *  bounded number of times: CLI_CONFLICT when it gives up, with the change
 *  kept locally for the next sync). */
typedef int (*memstore_edit_fn)(msd_mem_doc *doc, const uint8_t device[MSD_MEM_DEVICE_SIZE], void *arg);
/*  shred_after = 1 (a forget): once pushed, shred every older version (as memstore_sync). */
int memstore_update(memstore *m, memstore_edit_fn fn, void *arg, int shred_after);

typedef struct memstore_sync_report {
    uint64_t version;          /* the chain's head version afterwards (0: no memory on chain yet) */
    int pulled;                /* 1: the chain had versions this home had not seen */
    int pushed;                /* 1: a new version was written */
    unsigned conflicts;        /* VersionConflicts met and merged */
    uint64_t shredded_up_to;   /* > 0: versions 1..shredded_up_to were shredded (forget) */
} memstore_sync_report;

/** Pull, merge, push (CLI_USAGE without a chain). When the pushed version
 *  forgets something (it holds more tombstones than the chain's head had),
 *  or forgot is 1, and this identity owns the memory, every version below
 *  the new head is shredded afterwards, so no forgotten text stays in the
 *  chain's state. Out: rep (may be NULL). */
int memstore_sync(memstore *m, memstore_sync_report *rep, int forgot);

#endif
