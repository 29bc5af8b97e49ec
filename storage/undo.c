#include "storage/undo.h"

#include <string.h>

#include "storage/records.h"

int ms_undo_open(ms_undo_reader *r, const uint8_t *rec, size_t len)
{
    memset(r, 0, sizeof *r);
    if (rec == NULL || len < 12) return 0;
    r->rec = rec;
    r->len = len;
    r->prev = ms_get_be64(rec);
    r->left = ms_get_be32(rec + 8);
    r->pos = 12;
    return 1;
}

int ms_undo_next(ms_undo_reader *r, ms_undo_entry *e)
{
    memset(e, 0, sizeof *e);
    if (r->left == 0) return r->pos == r->len ? 0 : -1;
    const size_t avail = r->len - r->pos;
    if (avail < 1 || avail - 1 < (size_t)r->rec[r->pos] + 1) return -1;
    e->klen = r->rec[r->pos];
    e->key = r->rec + r->pos + 1;
    e->present = r->rec[r->pos + 1 + e->klen] != 0;
    r->pos += 2 + e->klen;
    if (e->present) {
        if (r->len - r->pos < 4) return -1;
        e->vlen = ms_get_be32(r->rec + r->pos);
        r->pos += 4;
        if (r->len - r->pos < e->vlen) return -1;
        e->val = r->rec + r->pos;
        r->pos += e->vlen;
    }
    r->left--;
    return 1;
}
