/* Test helper of tests/operator/run.sh: leaves a store as a crash would.
 *   crash_commit MODULE.so DIR N
 * Opens DIR through the module with the default config, commits N blocks
 * above its height, the first with BIG_BLOCK createMemory calls (enough
 * writes that its state tree's records go outside RocksDB's log, and so the
 * next blocks' until a flush: spec/storage.md [ST-24]), then ends the
 * process with _exit, without destroy. The blocks are committed (their
 * logged batches are synced); the tree's records of those blocks, not yet
 * flushed, are lost. N stays below the flush bound, so the tree is left
 * behind the committed height. Exit 3 on success (so that a caller cannot
 * mistake an orderly exit for the crash), 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/host/calldata.h"
#include "tools/host/loader.h"

#define BIG_BLOCK 300u

/* createMemory(salt i, no version) by account 0x..01 in block h. */
static int create_one(const ms_module *m, ms_instance *inst, const ms_config *cfg, ms_buf *cd, uint64_t h,
                      unsigned i)
{
    uint8_t salt[32] = {0}, meta[32] = {0};
    salt[28] = (uint8_t)(i >> 24);
    salt[29] = (uint8_t)(i >> 16);
    salt[30] = (uint8_t)(i >> 8);
    salt[31] = (uint8_t)i;
    salt[0] = (uint8_t)h;
    cd_create_memory(cd, salt, meta, NULL, 0);
    if (cd->failed) return 0;
    const ms_block_context blk = {h, 1700000000u + h, cfg->chain_id};
    ms_message msg;
    memset(&msg, 0, sizeof msg);
    msg.kind = MS_CALL;
    msg.caller.bytes[19] = 1;
    msg.input = cd->data;
    msg.input_size = cd->size;
    msg.gas = 1000000;
    ms_result res;
    return m->execute(inst, &res, &blk, &msg) == MS_OK && res.status == MS_SUCCESS;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: crash_commit MODULE.so DIR N\n");
        return 1;
    }
    const long n = strtol(argv[3], NULL, 10);
    host_module hm;
    if (n < 1 || n > 31 || host_load(&hm, argv[1]) != 0) return 1;
    ms_config cfg;
    hm.m->default_config(&cfg);
    ms_instance *inst = NULL;
    if (hm.m->create(&inst, &cfg, argv[2]) != MS_OK) {
        fprintf(stderr, "crash_commit: cannot open %s\n", argv[2]);
        return 1;
    }
    uint64_t height = 0;
    ms_bytes32 root;
    if (hm.m->committed(inst, &height, &root) != MS_OK) return 1;
    ms_buf cd;
    ms_buf_init(&cd);
    for (unsigned i = 0; i < BIG_BLOCK; i++) {
        if (!create_one(hm.m, inst, &cfg, &cd, height + 1, i)) {
            fprintf(stderr, "crash_commit: createMemory %u failed\n", i);
            return 1;
        }
    }
    ms_buf_free(&cd);
    for (long i = 1; i <= n; i++) {
        if (hm.m->commit_block(inst, &root, height + (uint64_t)i) != MS_OK) {
            fprintf(stderr, "crash_commit: commit_block %llu failed\n", (unsigned long long)(height + (uint64_t)i));
            return 1;
        }
    }
    printf("committed %llu\n", (unsigned long long)(height + (uint64_t)n));
    fflush(stdout);
    _exit(3);
}
