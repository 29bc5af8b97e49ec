/* When the tree's unlogged versions reach the disk (spec/storage.md
 * [ST-24]). A big block's commit writes the tree's records without RocksDB's
 * log; they are on disk once a memtable flush has written them to a table
 * file. At most ms_state_tree_lag_max(R) versions may wait for that, since a
 * crash loses them and only that many have undo records to rebuild from.
 *
 * Rather than flush at every bound, which stops the commit for the flush's
 * whole write, a commit learns from RocksDB which versions its own flushes
 * (of a full memtable) already took: memtables hold consecutive writes, so
 * once no immutable memtable is left, all but the active memtable's entries
 * are on disk, and a version is on disk when the entries written up to it
 * are. A commit waits for a flush only at the bound, or halfway there after
 * a small block (one out of the log only because an earlier big one was),
 * which brings the tree back into the log. It never starts one in the
 * background: measured, the extra small table files made the next blocks'
 * reads slower (a signed append's execution 8% slower in make bench) than
 * the waits they saved. */
#include "storage/state.h"

#include <string.h>

#include "memsync.h"

void ms_state_tree_durable(ms_state *st, uint64_t height)
{
    st->tree_durable = height;
    st->unflushed = 0;
}

/* Advance tree_durable over the versions RocksDB has flushed. Reading the
 * memtables' state can only fail to learn, never learn too much: an error
 * leaves everything as it was. */
static void learn_flushed(ms_state *st)
{
    uint64_t active = 0, immutable = 0;
    if (st->unflushed == 0 || ms_kv_memtables(st->kv, &active, &immutable) != MS_KV_OK || immutable != 0) return;
    /* Entries RocksDB holds that this handle did not write (the log replayed
     * at open) only make `active` larger, and so the estimate smaller. */
    const uint64_t written = ms_kv_entries_written(st->kv);
    const uint64_t on_disk = written > active ? written - active : 0;
    unsigned k = 0;
    while (k < st->unflushed && st->unflushed_entries[k] <= on_disk) k++;
    if (k == 0) return;
    st->tree_durable = st->unflushed_from + k - 1;
    st->unflushed_from += k;
    memmove(st->unflushed_entries, st->unflushed_entries + k, (st->unflushed - k) * sizeof st->unflushed_entries[0]);
    st->unflushed -= k;
}

int ms_state_tree_unlogged(ms_state *st, uint64_t height, uint32_t reorg_depth, int big, int *flushed)
{
    *flushed = 0;
    const uint64_t bound = ms_state_tree_lag_max(reorg_depth);
    /* Every commit since tree_durable's went out of the log (a logged one
     * would have moved it), one height after the other: the versions
     * waiting are unflushed_from, unflushed_from + 1, ..., height. They
     * are fewer than the bound before this one, so the record has room;
     * were it full, the bound below flushes at once (unflushed <= lag). */
    if (st->unflushed == 0) st->unflushed_from = height;
    if (st->unflushed < MS_STATE_TREE_LAG_CAP) st->unflushed_entries[st->unflushed++] = ms_kv_entries_written(st->kv);
    learn_flushed(st);
    const uint64_t lag = height - st->tree_durable;
    /* Halfway to the bound after a small block, the memtables hold little
     * more than the big block before it: waiting for their flush now lets
     * the next small blocks log their trees again. */
    if (lag >= bound || (2 * lag >= bound && !big)) {
        const int rc = ms_rc_from_kv(ms_kv_flush(st->kv));
        if (rc != MS_OK) return rc;
        ms_state_tree_durable(st, height);
        *flushed = 1;
    }
    return MS_OK;
}
