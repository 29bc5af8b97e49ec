#include "storage/undo.h"

#include <string.h>

#include "storage/records.h"

enum { MS_UNDO_HEADER = 12 };   /* prev u64 | count u32 */

void ms_undo_begin(ms_undo_writer *w, ms_buf *buf, uint64_t prev, size_t max)
{
    uint8_t head[MS_UNDO_HEADER];
    ms_put_be64(head, prev);
    ms_put_be32(head + 8, 0);   /* patched by ms_undo_finish */
    w->buf = buf;
    w->max = max;
    w->count = 0;
    w->status = MS_UNDO_OK;
    ms_buf_reset(buf);
    if (max < MS_UNDO_HEADER) w->status = MS_UNDO_TOO_LARGE;
    else ms_buf_put(buf, head, sizeof head);
}

void ms_undo_add(ms_undo_writer *w, const uint8_t *key, size_t klen, int present, const uint8_t *val,
                 size_t vlen)
{
    if (w->status != MS_UNDO_OK) return;
    /* klen u8 | key | present u8 | [vlen u32 | value]; every sum below is
     * checked against max before it is formed, so none can wrap. */
    const size_t fixed = 2 + klen + (present ? 4u : 0u);
    const size_t body = present ? vlen : 0;
    if (klen > UINT8_MAX || body > UINT32_MAX || w->count == UINT32_MAX || body > w->max ||
        fixed > w->max - body || w->buf->size > w->max - body - fixed) {
        w->status = MS_UNDO_TOO_LARGE;
        return;
    }
    uint8_t be[4];
    const uint8_t k8 = (uint8_t)klen, flag = present ? 1 : 0;
    ms_buf_put(w->buf, &k8, 1);
    ms_buf_put(w->buf, key, klen);
    ms_buf_put(w->buf, &flag, 1);
    if (present) {
        ms_put_be32(be, (uint32_t)body);
        ms_buf_put(w->buf, be, 4);
        ms_buf_put(w->buf, val, body);
    }
    w->count++;
}

ms_undo_status ms_undo_finish(ms_undo_writer *w)
{
    if (w->status == MS_UNDO_OK && w->buf->failed) w->status = MS_UNDO_NOMEM;
    if (w->status == MS_UNDO_OK) ms_put_be32(w->buf->data + 8, w->count);
    return w->status;
}

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
