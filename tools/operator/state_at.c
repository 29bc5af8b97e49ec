#include "state_at.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "exitcodes.h"
#include "naive_root.h"
#include "storage/undo.h"
#include "util.h"

typedef struct ovr {
    op_rec rec;       /* the value before the block (val NULL and vlen 0 when absent) */
    int present;
    uint64_t seq;     /* later = a lower block: wins */
} ovr;

static int ovr_cmp(const void *a, const void *b)
{
    const ovr *x = a, *y = b;
    const int c = op_key_cmp(x->rec.key, x->rec.klen, y->rec.key, y->rec.klen);
    if (c != 0) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int rec_cmp(const void *a, const void *b)
{
    const op_rec *x = a, *y = b;
    return op_key_cmp(x->key, x->klen, y->key, y->klen);
}

static int push_rec(op_recs *r, const op_rec *e)
{
    if (r->n == r->cap) {
        const size_t cap = r->cap ? r->cap * 2 : 64;
        op_rec *nv = realloc(r->v, cap * sizeof *nv);
        if (nv == NULL) return 0;
        r->v = nv;
        r->cap = cap;
    }
    r->v[r->n++] = *e;
    return 1;
}

int op_state_rewind(op_store *s, op_recs *recs, uint64_t height)
{
    if (height > s->height) {
        op_err("height %llu is above the committed height %llu", (unsigned long long)height,
               (unsigned long long)s->height);
        return OP_EXIT_HEIGHT;
    }
    ovr *ov = NULL;
    size_t n = 0, cap = 0;
    uint64_t seq = 0, h = s->height;
    int code = OP_EXIT_OK;
    while (code == OP_EXIT_OK && h > height) {
        ms_key uk;
        uint8_t *rec = NULL;
        size_t len = 0;
        ms_key_undo(&uk, h);
        const ms_kv_status ks = ms_kv_get(s->kv, &rec, &len, uk.bytes, uk.len);
        if (ks == MS_KV_NOT_FOUND) {
            op_err("height %llu is older than the blocks kept for reorgs (the undo record of block %llu is gone)",
                   (unsigned long long)height, (unsigned long long)h);
            code = OP_EXIT_HEIGHT;
            break;
        }
        if (ks != MS_KV_OK) {
            op_err("RocksDB I/O error reading the undo record of block %llu", (unsigned long long)h);
            code = OP_EXIT_STORE;
            break;
        }
        ms_undo_reader r;
        ms_undo_entry e;
        int more = ms_undo_open(&r, rec, len) ? 1 : -1;
        while (more > 0 && (more = ms_undo_next(&r, &e)) > 0) {
            if (e.klen == 0 || e.klen > MS_KEY_MAX || e.key[0] < MS_TAG_ASSET || e.key[0] > MS_TAG_NONCE) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                ovr *nv = realloc(ov, cap * sizeof *nv);
                if (nv == NULL) {
                    more = -2;
                    break;
                }
                ov = nv;
            }
            ovr *o = &ov[n++];
            memset(o, 0, sizeof *o);
            memcpy(o->rec.key, e.key, e.klen);
            o->rec.klen = (uint8_t)e.klen;
            o->present = e.present;
            o->seq = seq++;
            if (e.present) {
                o->rec.vlen = e.vlen;
                ms_keccak256(o->rec.vhash, e.val, e.vlen);
                if (e.vlen > 0 && (o->rec.val = malloc(e.vlen)) == NULL) more = -2;
                else if (e.vlen > 0) memcpy(o->rec.val, e.val, e.vlen);
            }
        }
        const uint64_t prev = r.prev;
        free(rec);
        if (more == -2) {
            op_err("out of memory while reading undo records");
            code = OP_EXIT_IO;
        } else if (more < 0) {
            op_err("the undo record of block %llu does not parse (table undo, key 07%016llx): run verify",
                   (unsigned long long)h, (unsigned long long)h);
            code = OP_EXIT_CORRUPT;
        } else if (prev < height) {
            op_err("height %llu was never committed on this chain (block %llu follows block %llu)",
                   (unsigned long long)height, (unsigned long long)h, (unsigned long long)prev);
            code = OP_EXIT_HEIGHT;
        }
        h = prev;
    }
    if (code == OP_EXIT_OK && n > 0) {
        op_recs add;
        memset(&add, 0, sizeof add);
        qsort(ov, n, sizeof *ov, ovr_cmp);
        for (size_t i = 0; i < n && code == OP_EXIT_OK; i++) {
            /* Of one key's entries, the last (the lowest block's) holds the value at height. */
            if (i + 1 < n && op_key_cmp(ov[i].rec.key, ov[i].rec.klen, ov[i + 1].rec.key, ov[i + 1].rec.klen) == 0)
                continue;
            op_rec *cur = (op_rec *)op_recs_find(recs, ov[i].rec.key, ov[i].rec.klen);
            if (cur != NULL) {
                free(cur->val);
                cur->val = NULL;
                if (ov[i].present) {
                    *cur = ov[i].rec;
                    ov[i].rec.val = NULL;
                } else {
                    cur->vlen = SIZE_MAX;   /* absent at height: removed below */
                }
            } else if (ov[i].present) {
                if (!push_rec(&add, &ov[i].rec)) code = OP_EXIT_IO;
                else ov[i].rec.val = NULL;
            }
        }
        size_t w = 0;
        for (size_t i = 0; i < recs->n; i++) {
            if (recs->v[i].vlen != SIZE_MAX) recs->v[w++] = recs->v[i];
        }
        recs->n = w;
        for (size_t i = 0; i < add.n && code == OP_EXIT_OK; i++) {
            if (!push_rec(recs, &add.v[i])) code = OP_EXIT_IO;
            else add.v[i].val = NULL;
        }
        op_recs_free(&add);
        qsort(recs->v, recs->n, sizeof *recs->v, rec_cmp);
        if (code != OP_EXIT_OK) op_err("out of memory while rewinding the state");
    }
    for (size_t i = 0; i < n; i++) free(ov[i].rec.val);
    free(ov);
    return code;
}

int op_recs_root(const op_recs *recs, uint8_t root32[32])
{
    op_leaf *l = malloc((recs->n ? recs->n : 1) * sizeof *l);
    if (l == NULL) {
        op_err("out of memory for %zu tree leaves", recs->n);
        return OP_EXIT_IO;
    }
    for (size_t i = 0; i < recs->n; i++) {
        ms_keccak256(l[i].path, recs->v[i].key, recs->v[i].klen);
        memcpy(l[i].value_hash, recs->v[i].vhash, 32);
    }
    const int ok = op_naive_root(root32, l, recs->n);
    free(l);
    if (!ok) {
        op_err("two state keys share one tree path (a Keccak collision?)");
        return OP_EXIT_CORRUPT;
    }
    return OP_EXIT_OK;
}
