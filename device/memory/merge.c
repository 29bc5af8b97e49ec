/* Three-way merge and merge without base (spec/memory.md §3.2,
 * [MEM-21]..[MEM-30]). One ordered walk over the three documents' ids;
 * the result only copies items (or builds new ones, field by field), so it
 * never shares memory with an input. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "device/memory/internal.h"

static const char conflict_label[16] = {'m', 'e', 'm', 's', 'y', 'n', 'c', '.', 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't'};

static int ref_present(mem_ref r)
{
    return r.live != NULL || r.tomb != NULL;
}

/* The result of one id: an input's state (r), or an item built from the
 * three versions field by field (built, owned; then r is unused); and the
 * loser to keep as a conflict copy (or NULL). */
typedef struct merged {
    mem_ref r;
    mem_item *built;
    const mem_item *copy_of;
} merged;

/* The winner of two present, different states ([MEM-29]). */
static mem_ref pick(mem_ref a, mem_ref b, int *oom)
{
    return mem_ref_beats(a, b, oom) ? a : b;
}

/* ------------------------------------------------ field-wise ([MEM-24]) */

/* Replace *dst by a copy of src (NULL: none). 0 on NOMEM, *dst untouched. */
static int set_str(char **dst, const char *src)
{
    int ok = 1;
    char *c = mem_str_dup(src, &ok);
    if (!ok) return 0;
    mem_str_free(*dst);
    *dst = c;
    return 1;
}

/* Take src's "src" group into m. 0 on NOMEM. */
static int set_src(mem_item *m, const mem_item *src)
{
    json_t *x = NULL;
    if (src->src_extra != NULL && (x = json_deep_copy(src->src_extra)) == NULL) return 0;
    if (!set_str(&m->tool, src->tool) || !set_str(&m->xid, src->xid)) {
        json_decref(x);
        return 0;
    }
    json_decref(m->src_extra);
    m->src_extra = x;
    m->has_src = src->has_src;
    m->imported = src->imported;
    return 1;
}

/* Orders of field values, for the one case where both sides changed a field
 * under equal stamps (a misbehaving device): the lower value wins, so the
 * choice depends on the values only and merging again keeps it. */
static int str_order(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return (a != NULL) - (b != NULL); /* absent first */
    return strcmp(a, b);
}

static int src_order(const mem_item *a, const mem_item *b, int *oom)
{
    if (a->has_src != b->has_src) return a->has_src - b->has_src;
    if (a->imported != b->imported) return a->imported - b->imported;
    int c = str_order(a->tool, b->tool);
    if (c == 0) c = str_order(a->xid, b->xid);
    if (c == 0) c = mem_json_bytes_cmp(a->src_extra, b->src_extra, oom);
    return c;
}

static int of_equal(const mem_item *a, const mem_item *b)
{
    return a->has_of == b->has_of && (!a->has_of || memcmp(a->of, b->of, MSD_MEM_ID_SIZE) == 0);
}

static int of_order(const mem_item *a, const mem_item *b)
{
    if (a->has_of != b->has_of) return a->has_of - b->has_of;
    return a->has_of ? memcmp(a->of, b->of, MSD_MEM_ID_SIZE) : 0;
}

/* The three-way rule for one field, given whether w's and o's values equal
 * b's and (only used on a tie of stamps) the order of o's value against
 * w's: 1 when the result takes o's value, 0 when it keeps w's. */
static int take_other(int w_as_base, int o_as_base, int tie, int o_vs_w)
{
    if (w_as_base) return !o_as_base; /* w left it alone: o's (equal to w's when o did too) */
    if (o_as_base) return 0;          /* only w changed it */
    return tie && o_vs_w < 0;         /* both changed it: the later stamp's, on a tie the lower value */
}

/* Unknown keys of the item, per key, with the value or its absence as the
 * state, by take_other. m starts with w's keys. 0 on NOMEM. */
static int merge_item_extra(mem_item *m, const mem_item *b, const mem_item *w, const mem_item *o, int tie,
                            int *oom)
{
    const json_t *src[2] = {o->extra, b->extra};
    for (int s = 0; s < 2; s++) {
        if (src[s] == NULL) continue;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)src[s], key, v) {
            (void)v;
            const json_t *vb = b->extra != NULL ? json_object_get(b->extra, key) : NULL;
            const json_t *vo = o->extra != NULL ? json_object_get(o->extra, key) : NULL;
            const json_t *vw = w->extra != NULL ? json_object_get(w->extra, key) : NULL;
            const int wb = mem_json_eq(vw, vb), ob = mem_json_eq(vo, vb);
            const int ow = !wb && !ob && tie ? mem_json_bytes_cmp(vo, vw, oom) : 0;
            if (*oom) return 0;
            if (!take_other(wb, ob, tie, ow) || mem_json_eq(vo, vw)) continue;
            if (vo == NULL) {
                json_object_del(m->extra, key); /* m has w's value, which differs from o's absence */
                continue;
            }
            json_t *c = json_deep_copy(vo);
            if (c == NULL) return 0;
            if (m->extra == NULL && (m->extra = json_object()) == NULL) {
                json_decref(c);
                return 0;
            }
            if (json_object_set_new(m->extra, key, c) != 0) return 0;
        }
    }
    /* [MEM-12] representation: no unknown keys is NULL, never {}. */
    if (m->extra != NULL && json_object_size(m->extra) == 0) {
        json_decref(m->extra);
        m->extra = NULL;
    }
    return 1;
}

/* [MEM-24]: two live versions of the base item b (same kind) that both
 * changed; w is the version with the later stamp (on equal stamps, the
 * lower bytes) and o the other. Every known field, and every unknown key,
 * is merged on its own (take_other): a field one side left as in b takes the
 * other side's value; a field both changed takes w's (on equal stamps, the
 * lower value). The result starts as a copy of w, so its t is the later
 * stamp. NULL on NOMEM (*oom = 1). */
static mem_item *merge_fields(const mem_item *b, const mem_item *w, const mem_item *o, int *oom)
{
    const int tie = mem_stamp_cmp(&w->t, &o->t) == 0;
    mem_item *m = mem_item_clone(w);
    if (m == NULL) {
        *oom = 1;
        return NULL;
    }
    int ok = 1;
#define FIELD_STR(f)                                                                                                   \
    if (ok && take_other(mem_str_eq(w->f, b->f), mem_str_eq(o->f, b->f), tie, str_order(o->f, w->f)))             \
    ok = set_str(&m->f, o->f)
#define FIELD_VAL(f)                                                                                                   \
    if (take_other(w->f == b->f, o->f == b->f, tie, o->f < w->f ? -1 : o->f > w->f)) m->f = o->f
    FIELD_STR(text);
    FIELD_STR(entity);
    FIELD_STR(etype);
    FIELD_STR(from);
    FIELD_STR(to);
    FIELD_VAL(cats);
    FIELD_VAL(type);
    FIELD_VAL(imp);
#undef FIELD_STR
#undef FIELD_VAL
    const int src_w = mem_src_equal(w, b), src_o = mem_src_equal(o, b);
    const int src_ow = !src_w && !src_o && tie ? src_order(o, w, oom) : 0;
    if (ok && !*oom && take_other(src_w, src_o, tie, src_ow)) ok = set_src(m, o);
    if (take_other(of_equal(w, b), of_equal(o, b), tie, of_order(o, w))) {
        m->has_of = o->has_of;
        memcpy(m->of, o->of, MSD_MEM_ID_SIZE);
    }
    /* c is the add's stamp, the same in all three unless a document was
     * written by hand; merged like a field, so the rule stays symmetric. */
    if (take_other(mem_stamp_cmp(&w->c, &b->c) == 0, mem_stamp_cmp(&o->c, &b->c) == 0, tie,
                   mem_stamp_cmp(&o->c, &w->c)))
        m->c = o->c;
    if (ok && !*oom) ok = merge_item_extra(m, b, w, o, tie, oom);
    if (!ok || *oom) {
        mem_item_free(m);
        *oom = 1;
        return NULL;
    }
    return m;
}

/* [MEM-25]: both sides changed a fact's text, to different texts. */
static int text_conflict(mem_ref b, mem_ref l, mem_ref r)
{
    if (l.live == NULL || r.live == NULL) return 0;
    if (l.live->kind != MSD_MEM_FACT || r.live->kind != MSD_MEM_FACT) return 0;
    if (strcmp(l.live->text, r.live->text) == 0) return 0;
    if (b.live == NULL || b.live->kind != MSD_MEM_FACT) return 1;
    return strcmp(b.live->text, l.live->text) != 0 && strcmp(b.live->text, r.live->text) != 0;
}

static merged merge_one(mem_ref b, mem_ref l, mem_ref r, int three_way, int *oom)
{
    merged m = {{NULL, NULL}, NULL, NULL};
    if (three_way && ref_present(b)) {
        /* [MEM-21]: a side without the id while the base has it dropped it
         * without a tombstone: it has no opinion. */
        if (!ref_present(l)) {
            m.r = r;
            return m;
        }
        if (!ref_present(r)) {
            m.r = l;
            return m;
        }
    }
    if (!ref_present(l)) {
        m.r = r;
        return m;
    }
    if (!ref_present(r) || mem_ref_equal(l, r)) {
        m.r = l;
        return m;
    }
    if (three_way) {
        /* [MEM-22]: one side unchanged: the other's. */
        if (mem_ref_equal(l, b)) {
            m.r = r;
            return m;
        }
        if (mem_ref_equal(r, b)) {
            m.r = l;
            return m;
        }
    }
    /* [MEM-23] (and [MEM-29] without base): a tombstone beats a live item,
     * otherwise the later stamp; equal stamps: the lower bytes. */
    m.r = pick(l, r, oom);
    if (*oom) return m;
    /* [MEM-24]: both sides changed one live item of the base: field by
     * field. */
    if (three_way && b.live != NULL && l.live != NULL && r.live != NULL && l.live->kind == b.live->kind &&
        r.live->kind == b.live->kind) {
        const mem_item *o = m.r.live == l.live ? r.live : l.live;
        if ((m.built = merge_fields(b.live, m.r.live, o, oom)) == NULL) return m;
        /* [MEM-25]: when both changed the text, the side whose text did not
         * make it is kept once. */
        if (text_conflict(b, l, r)) m.copy_of = strcmp(m.built->text, l.live->text) == 0 ? r.live : l.live;
        return m;
    }
    /* [MEM-25]: the losing text is kept once. */
    if (three_way && text_conflict(b, l, r)) m.copy_of = m.r.live == l.live ? r.live : l.live;
    return m;
}

/* [MEM-25]: the copy's id: BLAKE2b-256("memsync.conflict" || id || t counter
 * (u64 BE) || t device), first 16 bytes. */
static mem_item *make_copy(const mem_item *loser)
{
    mem_item *c = mem_item_clone(loser);
    if (c == NULL) return NULL;
    uint8_t in[sizeof conflict_label + MSD_MEM_ID_SIZE + 8 + MSD_MEM_DEVICE_SIZE], h[32];
    memcpy(in, conflict_label, sizeof conflict_label);
    memcpy(in + 16, loser->id, MSD_MEM_ID_SIZE);
    for (unsigned i = 0; i < 8; i++) in[32 + i] = (uint8_t)(loser->t.counter >> (56 - 8 * i));
    memcpy(in + 40, loser->t.device, MSD_MEM_DEVICE_SIZE);
    crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
    memcpy(c->id, h, MSD_MEM_ID_SIZE);
    c->has_of = 1;
    memcpy(c->of, loser->id, MSD_MEM_ID_SIZE);
    return c;
}

static int cmp_copy(const void *a, const void *b)
{
    return memcmp((*(mem_item *const *)a)->id, (*(mem_item *const *)b)->id, MSD_MEM_ID_SIZE);
}

/* Append a state to the result (copying it). Room is reserved beforehand. */
static int emit_ref(msd_mem_doc *d, mem_ref r)
{
    if (r.live != NULL) {
        mem_item *c = mem_item_clone(r.live);
        if (c == NULL) return 0;
        d->live[d->n_live++] = c;
    } else if (r.tomb != NULL) {
        d->dead[d->n_dead++] = *r.tomb;
    }
    return 1;
}

/* [MEM-28]: unknown top-level keys, per key like items: a side without a
 * key the base has has no opinion; one side unchanged takes the other;
 * otherwise the side with the higher clock; equal clocks: the lower
 * canonical bytes of the value. */
static msd_status merge_extra(msd_mem_doc *out, const msd_mem_doc *base, const msd_mem_doc *l,
                              const msd_mem_doc *r)
{
    const json_t *src[3] = {base != NULL ? base->extra : NULL, l->extra, r->extra};
    json_t *res = NULL;
    int oom = 0;
    for (int s = 0; s < 3; s++) {
        if (src[s] == NULL) continue;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)src[s], key, v) {
            if (res != NULL && json_object_get(res, key) != NULL) continue;
            int done = 0;
            for (int p = 0; p < s && !done; p++) done = src[p] != NULL && json_object_get(src[p], key) != NULL;
            if (done) continue; /* decided when first seen */
            json_t *vb = src[0] != NULL ? json_object_get(src[0], key) : NULL;
            json_t *vl = src[1] != NULL ? json_object_get(src[1], key) : NULL;
            json_t *vr = src[2] != NULL ? json_object_get(src[2], key) : NULL;
#define JEQ(a, b) ((a) == NULL || (b) == NULL ? (a) == (b) : json_equal((a), (b)))
            json_t *w;
            if ((base == NULL || vb != NULL) && (vl == NULL || vr == NULL))
                w = vl != NULL ? vl : vr; /* as for items: a side without the key has no opinion */
            else if (JEQ(vl, vr))
                w = vl;
            else if (base != NULL && JEQ(vl, vb))
                w = vr;
            else if (base != NULL && JEQ(vr, vb))
                w = vl;
            else if (l->clock != r->clock)
                w = l->clock > r->clock ? vl : vr;
            else
                w = mem_json_bytes_cmp(vl, vr, &oom) <= 0 ? vl : vr;
#undef JEQ
            if (oom) goto nomem;
            if (w == NULL) continue;
            if (res == NULL && (res = json_object()) == NULL) goto nomem;
            json_t *c = json_deep_copy(w);
            if (c == NULL || json_object_set_new(res, key, c) != 0) goto nomem;
        }
    }
    out->extra = res;
    return MSD_OK;
nomem:
    json_decref(res);
    return MSD_ERR_NOMEM;
}

/* Fold the conflict copies (sorted) into the result (sorted): a copy whose
 * id is already there meets it as in a merge without base ([MEM-26]). */
static msd_status fold_copies(msd_mem_doc *d, mem_item **copies, size_t nc)
{
    if (nc == 0) return MSD_OK;
    qsort(copies, nc, sizeof *copies, cmp_copy);
    msd_mem_doc *old = NULL;
    msd_status st = msd_mem_new(&old);
    if (st != MSD_OK) return st;
    /* Move the current arrays to `old` and rebuild d from both lists. */
    old->live = d->live;
    old->n_live = d->n_live;
    old->cap_live = d->cap_live;
    old->dead = d->dead;
    old->n_dead = d->n_dead;
    old->cap_dead = d->cap_dead;
    d->live = NULL;
    d->dead = NULL;
    d->n_live = d->cap_live = d->n_dead = d->cap_dead = 0;
    int oom = 0;
    if (mem_reserve_live(d, old->n_live + nc) != MSD_OK || mem_reserve_dead(d, old->n_dead) != MSD_OK) goto nomem;
    mem_cursor c;
    mem_cursor_init(&c, old);
    size_t k = 0;
    for (;;) {
        mem_ref a = mem_cursor_peek(&c);
        mem_ref b = {NULL, NULL};
        if (k < nc) b.live = copies[k];
        if (!ref_present(a) && !ref_present(b)) break;
        int cmp;
        if (!ref_present(a))
            cmp = 1;
        else if (!ref_present(b))
            cmp = -1;
        else
            cmp = memcmp(mem_ref_id(a), mem_ref_id(b), MSD_MEM_ID_SIZE);
        mem_ref w;
        if (cmp < 0) {
            w = a;
            mem_cursor_next(&c);
        } else if (cmp > 0) {
            w = b;
            k++;
            /* Equal ids among the copies themselves: one state. */
            while (k < nc && memcmp(copies[k]->id, w.live->id, MSD_MEM_ID_SIZE) == 0) {
                const mem_ref x = {copies[k++], NULL};
                if (!mem_ref_equal(w, x)) w = pick(w, x, &oom);
            }
        } else {
            w = mem_ref_equal(a, b) ? a : pick(a, b, &oom);
            mem_cursor_next(&c);
            k++;
            while (k < nc && memcmp(copies[k]->id, mem_ref_id(a), MSD_MEM_ID_SIZE) == 0) {
                const mem_ref x = {copies[k++], NULL};
                if (!mem_ref_equal(w, x)) w = pick(w, x, &oom);
            }
        }
        if (oom || !emit_ref(d, w)) goto nomem;
    }
    msd_mem_free(old);
    return MSD_OK;
nomem:
    msd_mem_free(old);
    return MSD_ERR_NOMEM;
}

static msd_status merge(msd_mem_doc **out, const msd_mem_doc *base, const msd_mem_doc *l, const msd_mem_doc *r)
{
    msd_mem_doc *d = NULL;
    msd_status st = msd_mem_new(&d);
    if (st != MSD_OK) return st;
    mem_item **copies = NULL;
    size_t nc = 0, capc = 0;
    int oom = 0;
    /* [MEM-27] */
    d->clock = l->clock > r->clock ? l->clock : r->clock;
    if (base != NULL && base->clock > d->clock) d->clock = base->clock;
    const size_t nb_live = base != NULL ? base->n_live : 0, nb_dead = base != NULL ? base->n_dead : 0;
    if (mem_reserve_live(d, nb_live + l->n_live + r->n_live) != MSD_OK ||
        mem_reserve_dead(d, nb_dead + l->n_dead + r->n_dead) != MSD_OK)
        goto nomem;
    mem_cursor cb, cl, cr;
    mem_cursor_init(&cb, base);
    mem_cursor_init(&cl, l);
    mem_cursor_init(&cr, r);
    for (;;) {
        mem_ref rb = mem_cursor_peek(&cb), rl = mem_cursor_peek(&cl), rr = mem_cursor_peek(&cr);
        const uint8_t *id = NULL;
        if (ref_present(rb)) id = mem_ref_id(rb);
        if (ref_present(rl) && (id == NULL || memcmp(mem_ref_id(rl), id, MSD_MEM_ID_SIZE) < 0)) id = mem_ref_id(rl);
        if (ref_present(rr) && (id == NULL || memcmp(mem_ref_id(rr), id, MSD_MEM_ID_SIZE) < 0)) id = mem_ref_id(rr);
        if (id == NULL) break;
        /* Only the states at this id take part; the others stay for later. */
        const mem_ref none = {NULL, NULL};
        if (!ref_present(rb) || memcmp(mem_ref_id(rb), id, MSD_MEM_ID_SIZE) != 0)
            rb = none;
        if (!ref_present(rl) || memcmp(mem_ref_id(rl), id, MSD_MEM_ID_SIZE) != 0)
            rl = none;
        if (!ref_present(rr) || memcmp(mem_ref_id(rr), id, MSD_MEM_ID_SIZE) != 0)
            rr = none;
        if (ref_present(rb)) mem_cursor_next(&cb);
        if (ref_present(rl)) mem_cursor_next(&cl);
        if (ref_present(rr)) mem_cursor_next(&cr);
        merged m = merge_one(rb, rl, rr, base != NULL, &oom);
        if (oom) goto nomem;
        if (m.built != NULL) {
            d->live[d->n_live++] = m.built; /* room reserved above */
            m.built = NULL;
        } else if (!emit_ref(d, m.r)) {
            goto nomem;
        }
        if (m.copy_of != NULL) {
            if (nc == capc) {
                const size_t cap = capc == 0 ? 8 : 2 * capc;
                mem_item **p = realloc(copies, cap * sizeof *p);
                if (p == NULL) goto nomem;
                copies = p;
                capc = cap;
            }
            if ((copies[nc] = make_copy(m.copy_of)) == NULL) goto nomem;
            nc++;
        }
    }
    if ((st = fold_copies(d, copies, nc)) != MSD_OK || (st = merge_extra(d, base, l, r)) != MSD_OK) goto fail;
    for (size_t i = 0; i < nc; i++) mem_item_free(copies[i]);
    free(copies);
    *out = d;
    return MSD_OK;
nomem:
    st = MSD_ERR_NOMEM;
fail:
    for (size_t i = 0; i < nc; i++) mem_item_free(copies[i]);
    free(copies);
    msd_mem_free(d);
    return st;
}

msd_status msd_mem_merge3(msd_mem_doc **out, const msd_mem_doc *base, const msd_mem_doc *ours,
                          const msd_mem_doc *theirs)
{
    if (out == NULL) return MSD_ERR_ARGS;
    *out = NULL;
    if (ours == NULL || theirs == NULL) return MSD_ERR_ARGS;
    return merge(out, base, ours, theirs);
}
