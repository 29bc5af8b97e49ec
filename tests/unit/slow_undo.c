#include "slow_undo.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "storage/journal.h"
#include "storage/kv.h"
#include "storage/records.h"

static void su_put(slow_undo *u, const void *p, size_t n)
{
    if (u->n + n > u->cap) {
        u->cap = (u->n + n) * 2;
        u->bytes = realloc(u->bytes, u->cap);
        cr_assert_not_null(u->bytes);
    }
    if (n > 0) memcpy(u->bytes + u->n, p, n);
    u->n += n;
}

size_t slow_undo_of_pending(ms_state *st, slow_undo *u)
{
    const ms_overlay_entry *const *es;
    size_t n, known = 0;
    uint8_t be[8];
    cr_assert(ms_journal_sorted(st->journal, &es, &n));
    u->n = 0;
    ms_put_be64(be, st->height);
    su_put(u, be, 8);
    ms_put_be32(be, (uint32_t)n);
    su_put(u, be, 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t *old = NULL;
        size_t olen = 0;
        const ms_kv_status s = ms_kv_get(st->kv, &old, &olen, es[i]->key, es[i]->klen);
        cr_assert(s == MS_KV_OK || s == MS_KV_NOT_FOUND);
        const uint8_t klen = (uint8_t)es[i]->klen, present = s == MS_KV_OK;
        su_put(u, &klen, 1);
        su_put(u, es[i]->key, es[i]->klen);
        su_put(u, &present, 1);
        if (present) {
            ms_put_be32(be, (uint32_t)olen);
            su_put(u, be, 4);
            su_put(u, old, olen);
        }
        int p = 0;
        const uint8_t *pv = NULL;
        size_t plen = 0;
        if (ms_journal_prior(st->journal, es[i], &p, &pv, &plen)) {
            known++;
            cr_assert_eq(p, present, "entry %zu: prior presence differs from the store", i);
            if (present) {
                cr_assert_eq(plen, olen, "entry %zu: prior length differs from the store", i);
                cr_assert(olen == 0 || memcmp(pv, old, olen) == 0, "entry %zu: prior differs from the store", i);
            }
        }
        free(old);
    }
    return known;
}
