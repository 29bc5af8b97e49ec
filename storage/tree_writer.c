/* The tree's unlogged write, after the commit returns (spec/storage.md
 * [ST-24], spec/host-abi.md [HOST-54]). A big block's tree records skip
 * RocksDB's log: a crash loses them and the next open rebuilds them from
 * the undo records. So nothing waits for them to reach the memtable but
 * the next call that reads the tree's records: the next commit, a
 * rollback, a root or a proof. Until then they are written on a thread of
 * their own, beside the next block's execution, which reads only state
 * records (the node cache already holds the new version's nodes, settled
 * before the commit returned). Measured: about 0.85 us per write of a
 * 10,000-write commit_block, a sixth of it. */
#include "storage/state.h"

#include <string.h>

#include "memsync.h"

/* The write and the flush accounting after it. Returns an ms_rc. */
static int tree_write(ms_state *st)
{
    ms_tree_write *w = &st->tree_write;
    uint64_t t0 = w->timed ? ms_state_clock_ns() : 0;
    int rc = w->fail ? MS_ERR_IO : ms_rc_from_kv(ms_kv_write_unlogged(st->kv, st->tree_batch));
    if (w->timed) {
        const uint64_t t1 = ms_state_clock_ns();
        w->write_ns = t1 - t0;
        t0 = t1;
    }
    w->flushed = 0;
    if (rc == MS_OK) rc = ms_state_tree_unlogged(st, w->height, w->reorg_depth, w->big, &w->flushed);
    if (w->timed) w->flush_ns = ms_state_clock_ns() - t0;
    return rc;
}

static void *tree_write_thread(void *arg)
{
    ms_state *st = arg;
    st->tree_write.result = tree_write(st);
    return NULL;
}

int ms_state_tree_write_start(ms_state *st, uint64_t height, uint32_t reorg_depth, int big, int timed)
{
    ms_tree_write *w = &st->tree_write;
    w->height = height;
    w->reorg_depth = reorg_depth;
    w->big = big;
    w->timed = timed;
    w->write_ns = w->flush_ns = 0;
    /* Taken here, so that a test's flag set during a write in flight
     * fails the next one, as it says, not that one. */
    w->fail = st->fail_tree_write;
    st->fail_tree_write = 0;
    if (pthread_create(&w->thread, NULL, tree_write_thread, st) == 0) {
        w->running = 1;
        return MS_OK;
    }
    /* No thread: written here; the commit empties the batch, as after a
     * commit that wrote none. */
    const int rc = tree_write(st);
    if (w->rc == MS_OK) w->rc = rc;
    return rc;
}

int ms_state_tree_join(ms_state *st, ms_commit_times *times)
{
    ms_tree_write *w = &st->tree_write;
    if (w->running) {
        const uint64_t t0 = times != NULL ? ms_state_clock_ns() : 0;
        pthread_join(w->thread, NULL);
        w->running = 0;
        if (w->rc == MS_OK) w->rc = w->result;
        ms_state_release_batch(st, &st->tree_batch);
        if (times != NULL) {
            times->prev_wait_ns = ms_state_clock_ns() - t0;
            times->prev_write_ns = w->write_ns;
            times->prev_flush_ns = w->flush_ns;
            times->prev_flushes = (uint64_t)w->flushed;
        }
    }
    return w->rc;
}
