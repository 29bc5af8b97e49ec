/* msd_mem_search: BM25 over the live items of a document
 * (spec/memory-search.md §1-§2). Everything is recomputed per query from the
 * plaintext in memory: no index is kept, so none can leak or go stale. At
 * 5,000 facts one pass tokenizes about 650 KB, well under the few
 * milliseconds a recall may take.
 */
#include "device/memory/memtext.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define BM25_K1 1.2  /* [MSR-5] */
#define BM25_B 0.75
#define MAX_TERMS 256u /* distinct query terms kept [MSR-3] */
#define TERM_SLOTS 512u

typedef struct term {
    const char *s;   /* folded copy, in the query arena */
    size_t n;
    uint64_t hash;
    size_t df;       /* filtered items holding it */
} term;

typedef struct query {
    term t[MAX_TERMS];
    size_t nt;
    int16_t slot[TERM_SLOTS]; /* term index + 1, 0 = empty */
    char *arena;
    size_t arena_len;
} query;

/* One (item, term) pair with a non-zero term frequency. */
typedef struct posting {
    uint32_t item;   /* index into the filtered list */
    uint16_t term;
    uint32_t tf;
} posting;

typedef struct cand {
    uint8_t id[MSD_MEM_ID_SIZE];
    double score;
    msd_mem_stamp updated;
} cand;

static int term_find(const query *q, const char *s, size_t n, uint64_t h)
{
    for (size_t i = (size_t)h & (TERM_SLOTS - 1);; i = (i + 1) & (TERM_SLOTS - 1)) {
        int v = q->slot[i];
        if (v == 0) return -1;
        const term *t = &q->t[v - 1];
        if (t->hash == h && t->n == n) {
            /* The fold keeps lengths, so s's fold is compared with the
             * term's bytes in place [MSR-1]. */
            const unsigned char *u = (const unsigned char *)s, *w = (const unsigned char *)t->s;
            size_t j = 0;
            while (j < n) {
                unsigned char f[2];
                const size_t k = msr_fold_at(u, n, j, f);
                if (f[0] != w[j] || (k == 2 && f[1] != w[j + 1])) break;
                j += k;
            }
            if (j == n) return v - 1;
        }
    }
}

/* The distinct folded tokens of the query, in their first order [MSR-3]. */
static msd_status query_build(query *q, const char *text)
{
    size_t len = strlen(text), pos = 0, st, tn;
    memset(q->slot, 0, sizeof q->slot);
    q->nt = 0;
    q->arena = malloc(len + 1);
    q->arena_len = len + 1;
    if (q->arena == NULL) return MSD_ERR_NOMEM;
    size_t used = 0;
    while (q->nt < MAX_TERMS && msr_next_token(text, len, &pos, &st, &tn)) {
        uint64_t h = msr_tok_hash(text + st, tn);
        if (term_find(q, text + st, tn, h) >= 0) continue;
        char *c = q->arena + used;
        msr_fold_copy(c, text + st, tn);
        used += tn;
        term *t = &q->t[q->nt];
        *t = (term){c, tn, h, 0};
        size_t i = (size_t)h & (TERM_SLOTS - 1);
        while (q->slot[i] != 0) i = (i + 1) & (TERM_SLOTS - 1);
        q->slot[i] = (int16_t)(++q->nt);
    }
    return MSD_OK;
}

static void query_free(query *q)
{
    if (q->arena != NULL) sodium_memzero(q->arena, q->arena_len);
    free(q->arena);
    q->arena = NULL;
}

/* [MSR-7] */
static int passes(const msd_mem_item *it, const msd_mem_filter *f)
{
    if (!msr_visible(it, f->include_private)) return 0;
    if (it->kind != MSD_MEM_FACT) return !f->facts_only && f->categories == 0 && f->type == 0;
    if (f->categories != 0 && (it->categories & f->categories) == 0) return 0;
    if (f->type != 0 && it->type != f->type) return 0;
    return 1;
}

/* Counts tokens of one field into dl, and query-term hits into tf. */
static void scan_field(const query *q, const char *s, uint32_t *dl, uint32_t *tf, uint16_t *touched, size_t *nt)
{
    if (s == NULL) return;
    size_t len = strlen(s), pos = 0, st, tn;
    while (msr_next_token(s, len, &pos, &st, &tn)) {
        (*dl)++;
        int k = term_find(q, s + st, tn, msr_tok_hash(s + st, tn));
        if (k < 0) continue;
        if (tf[k]++ == 0) touched[(*nt)++] = (uint16_t)k;
    }
}

/* The fields of an item [MSR-2]. */
static uint32_t scan_item(const query *q, const msd_mem_item *it, uint32_t *tf, uint16_t *touched, size_t *nt)
{
    uint32_t dl = 0;
    scan_field(q, it->text, &dl, tf, touched, nt);
    if (it->kind == MSD_MEM_FACT) {
        scan_field(q, it->entity, &dl, tf, touched, nt);
        for (unsigned i = 0; i < MSD_CAT_COUNT; i++)
            if (it->categories & (1u << i)) scan_field(q, msd_mem_category_name(i), &dl, tf, touched, nt);
    } else if (it->kind == MSD_MEM_ENTITY) {
        scan_field(q, it->entity_type, &dl, tf, touched, nt);
    } else {
        scan_field(q, it->from, &dl, tf, touched, nt);
        scan_field(q, it->to, &dl, tf, touched, nt);
    }
    return dl;
}

/* Best first: higher score, then (listing) later update, then lower id [MSR-6]. */
static int cand_cmp(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    int s = msr_stamp_cmp(&a->updated, &b->updated);
    if (s != 0) return -s;
    return memcmp(a->id, b->id, MSD_MEM_ID_SIZE);
}

msd_status msd_mem_search(msd_mem_hit *hits, size_t cap, size_t *n, const msd_mem_doc *doc, const char *query_text,
                          const msd_mem_filter *f)
{
    if (n != NULL) *n = 0;
    if (n == NULL || doc == NULL || query_text == NULL || (hits == NULL && cap != 0)) return MSD_ERR_ARGS;
    const msd_mem_filter none = {0, 0, 0, 0};
    if (f == NULL) f = &none;
    if ((f->categories & ~MSD_CAT_ALL) != 0 ||
        (f->type != 0 && f->type != MSD_MEM_SEMANTIC && f->type != MSD_MEM_EPISODIC))
        return MSD_ERR_ARGS;

    query *q = malloc(sizeof *q);
    if (q == NULL) return MSD_ERR_NOMEM;
    q->arena = NULL;
    msd_status st = query_build(q, query_text);
    const size_t count = msd_mem_count(doc);
    cand *c = st == MSD_OK ? calloc(count ? count : 1, sizeof *c) : NULL;
    uint32_t *dl = st == MSD_OK ? calloc(count ? count : 1, sizeof *dl) : NULL;
    uint32_t tf[MAX_TERMS] = {0};
    uint16_t touched[MAX_TERMS];
    posting *post = NULL;
    size_t npost = 0, cpost = 0, nf = 0;
    if (st == MSD_OK && (c == NULL || dl == NULL)) st = MSD_ERR_NOMEM;

    /* Pass 1: filter first [MSR-7], then the statistics of the filtered set. */
    uint64_t total_dl = 0;
    for (size_t i = 0; st == MSD_OK && i < count; i++) {
        msd_mem_item it;
        if (msd_mem_item_at(doc, i, &it) != MSD_OK || !passes(&it, f)) continue;
        size_t nt = 0;
        dl[nf] = q->nt != 0 ? scan_item(q, &it, tf, touched, &nt) : 0; /* a listing needs no tokens */
        total_dl += dl[nf];
        memcpy(c[nf].id, it.id, MSD_MEM_ID_SIZE);
        c[nf].updated = it.updated;
        c[nf].score = 0;
        if (npost + nt > cpost) {
            size_t ncap = cpost ? cpost * 2 : 256;
            while (ncap < npost + nt) ncap *= 2;
            posting *p = realloc(post, ncap * sizeof *p);
            if (p == NULL) {
                st = MSD_ERR_NOMEM;
                break;
            }
            post = p;
            cpost = ncap;
        }
        for (size_t k = 0; k < nt; k++) {
            post[npost++] = (posting){(uint32_t)nf, touched[k], tf[touched[k]]};
            q->t[touched[k]].df++;
            tf[touched[k]] = 0;
        }
        nf++;
    }

    size_t nout = 0;
    if (st == MSD_OK && q->nt == 0) {
        /* No token: a listing of everything that passes, newest first [MSR-8]. */
        nout = nf;
    } else if (st == MSD_OK) {
        /* Pass 2: BM25 [MSR-4, MSR-5]. Postings are in item order, each item's
         * in term order of first occurrence; summing in that fixed order keeps
         * the scores bit-identical from run to run. */
        const double N = (double)nf, avgdl = nf ? (double)total_dl / N : 0;
        double idf[MAX_TERMS];
        for (size_t k = 0; k < q->nt; k++) {
            const double df = (double)q->t[k].df;
            idf[k] = msr_ln(1.0 + (N - df + 0.5) / (df + 0.5));
        }
        for (size_t p = 0; p < npost; p++) {
            const posting *e = &post[p];
            const double tfv = (double)e->tf;
            const double norm = avgdl > 0 ? BM25_K1 * (1.0 - BM25_B + BM25_B * (double)dl[e->item] / avgdl) : BM25_K1;
            c[e->item].score += idf[e->term] * tfv * (BM25_K1 + 1.0) / (tfv + norm);
        }
        /* Keep the matches only (a BM25 score of a match is > 0). */
        for (size_t i = 0; i < nf; i++) {
            if (c[i].score <= 0) continue;
            c[i].updated = (msd_mem_stamp){0, {0}}; /* ties by id only [MSR-6] */
            c[nout++] = c[i];
        }
    }
    if (st == MSD_OK) {
        qsort(c, nout, sizeof *c, cand_cmp);
        size_t k = nout < cap ? nout : cap;
        for (size_t i = 0; i < k; i++) {
            memcpy(hits[i].id, c[i].id, MSD_MEM_ID_SIZE);
            hits[i].score = c[i].score;
        }
        *n = k;
    }
    query_free(q);
    free(q);
    free(c);
    free(dl);
    free(post);
    return st;
}
