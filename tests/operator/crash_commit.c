/* Test helper of tests/operator/run.sh: leaves a store as a crash would.
 *   crash_commit MODULE.so DIR N
 * Opens DIR through the module with the default config, commits N empty
 * blocks above its height, then ends the process with _exit, without
 * destroy: the blocks are committed (their logged batches are synced), and
 * the state tree's records of those blocks, written outside RocksDB's log
 * and not yet flushed, are lost (spec/storage.md [ST-24]). N stays below
 * the flush bound min(reorg_depth, 32), so the tree is left behind the
 * committed height. Exit 0 never happens: 3 on success (so that a caller
 * cannot mistake an orderly exit for the crash), 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tools/host/loader.h"

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
