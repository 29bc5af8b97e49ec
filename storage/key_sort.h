/* Ascending key order for a block's overlay entries: the order of the
 * store's keys, of its undo record ([ST-17]) and of its logged batch. */
#ifndef MS_KEY_SORT_H
#define MS_KEY_SORT_H

#include <stddef.h>

#include "storage/journal.h"

/** Sort entries[0..n) by key: unsigned bytes, the shorter key first on a
 *  common prefix. The keys must be distinct: the order is then total, and
 *  the result is a function of the keys alone, whatever their first order
 *  (consensus bytes follow it).
 *  Returns 1, or 0 when out of memory (entries are then unchanged).
 *  In/Out: entries (n pointers, reordered; the entries are only read). */
int ms_key_sort(const ms_overlay_entry **entries, size_t n);

/** The same order as a qsort comparator over two `const ms_overlay_entry *`:
 *  negative, 0 or positive. */
int ms_key_cmp(const void *pa, const void *pb);

#endif
