/* When the tree's unlogged versions reach the disk (spec/storage.md
 * [ST-24]). A big block's commit writes the tree's records without RocksDB's
 * log; they are on disk once a memtable flush has written them to a table
 * file. At most ms_state_tree_lag_max(R) versions may wait for that, since a
 * crash loses them and only that many have undo records to rebuild from.
 *
 * Rather than flush at every bound, which would stop the commit for the
 * flush's whole write, a commit learns from RocksDB which versions its own
 * flushes (a full memtable) already took: memtables hold consecutive
 * writes, so once no immutable memtable is left, all but the active
 * memtable's entries are on disk, and a version is on disk when the entries
 * written up to it are. Halfway to the bound a commit of a big block starts
 * a flush in the background, and waits for one only at the bound; a commit
 * of a small block waits for one there, which brings the tree back into the
 * log (storage/block.c takes a small block's tree records out of it only
 * while earlier versions are not on disk). */
#include "storage/state.h"

#include <string.h>

#include "memsync.h"

void ms_state_tree_durable(ms_state *st, uint64_t height)
{
    st->tree_durable = height;
    st->unflushed = 0;
    st->flush_started = 0;
}

/* Advance tree_durable over the versions RocksDB has flushed. Reading the
 * memtables' state can only fail to learn, never learn too much: an error
 * leaves everything as it was. Returns 1 when a flush is under way (an
 * immutable memtable is waiting for it, or the state could not be read). */
static int learn_flushed(ms_state *st)
{
    uint64_t active = 0, immutable = 0;
    if (ms_kv_memtables(st->kv, &active, &immutable) != MS_KV_OK) return 1;
    if (immutable != 0) return 1;
    if (st->unflushed == 0) return 0;
    /* Entries RocksDB holds that this handle did not write (the log replayed
     * at open) only make `active` larger, and so the estimate smaller. */
    const uint64_t written = ms_kv_entries_written(st->kv);
    const uint64_t on_disk = written > active ? written - active : 0;
    unsigned k = 0;
    while (k < st->unflushed && st->unflushed_entries[k] <= on_disk) k++;
    if (k == 0) return 0;
    st->tree_durable = st->unflushed_height[k - 1];
    memmove(st->unflushed_height, st->unflushed_height + k, (st->unflushed - k) * sizeof st->unflushed_height[0]);
    memmove(st->unflushed_entries, st->unflushed_entries + k, (st->unflushed - k) * sizeof st->unflushed_entries[0]);
    st->unflushed -= k;
    if (st->flush_started != 0 && st->flush_started <= st->tree_durable) st->flush_started = 0;
    return 0;
}

int ms_state_tree_unlogged(ms_state *st, uint64_t height, uint32_t reorg_depth, int big, int *flushed)
{
    *flushed = 0;
    const uint64_t bound = ms_state_tree_lag_max(reorg_depth);
    /* A version beyond the record's room is one the bound flushes at once
     * (room for MS_STATE_TREE_LAG_CAP, the largest bound). */
    if (st->unflushed < MS_STATE_TREE_LAG_CAP) {
        st->unflushed_height[st->unflushed] = height;
        st->unflushed_entries[st->unflushed] = ms_kv_entries_written(st->kv);
        st->unflushed++;
    }
    const int flushing = learn_flushed(st);
    const uint64_t lag = height - st->tree_durable;
    /* Halfway to the bound after a small block (one that went out of the
     * log only because an earlier big one had), the memtables hold little
     * more than that big block: waiting for their flush now lets the next
     * small blocks log their trees again instead of needing flushes. */
    const int half = 2 * lag >= bound;
    if (lag >= bound || st->unflushed == MS_STATE_TREE_LAG_CAP || (half && !big)) {
        const int rc = ms_rc_from_kv(ms_kv_flush(st->kv));
        if (rc != MS_OK) return rc;
        ms_state_tree_durable(st, height);
        *flushed = 1;
        return MS_OK;
    }
    if (st->flush_started == 0 && half && !flushing) {
        /* Not while a flush is under way: RocksDB would make this call wait
         * for it (a flush does not start while one would stall writes). A
         * flush that did not start is started by a later commit, or waited
         * for at the bound. */
        if (ms_kv_flush_start(st->kv) == MS_KV_OK) st->flush_started = height;
    }
    return MS_OK;
}
