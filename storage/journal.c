/* Pending-block overlay with an undo journal.
 *
 * Layout: entries live in a dense array (nodes) in insertion order; a
 * chained hash table (buckets + per-node next index) finds them by key.
 * Entries are never removed except by revert, and revert is LIFO, so an
 * entry that revert removes is always the last node and the head of its
 * chain. That keeps undo records small (a node index, not a key copy) and
 * lets revert run without allocating or searching.
 *
 * Invariant: every chain lists node indices in descending order. Inserting
 * pushes a new maximum at the head; rehashing relinks in ascending index
 * order; revert removes the maximum, which is the head.
 *
 * Buckets come from SipHash-2-4 under a key drawn at creation: callers
 * choose many keys (grantees, salts, nonceOf arguments), and a public hash
 * would let them grind keys into one chain and make the block's journal
 * work quadratic. The key steers placement only; nothing that iterates the
 * overlay follows bucket order (ms_journal_sorted sorts by key). */
#include "storage/journal.h"

#include <stdlib.h>
#include <string.h>

#include "storage/key_sort.h"
#include "storage/siphash.h"

#define MS_NIL SIZE_MAX

typedef struct ms_node {
    ms_overlay_entry e; /* first, so &node->e is what ms_journal_sorted hands out */
    uint64_t hash;
    size_t next;
    /* The key's committed value from before the block, when a caller told
     * us (ms_journal_note_prior): it never changes while the block is
     * pending, so it outlives every later put, delete and revert of the key
     * and goes only with the node. */
    int prior;          /* MS_PRIOR_UNKNOWN, _ABSENT or _PRESENT */
    uint8_t *prior_val; /* owned; NULL when absent or empty */
    size_t prior_vlen;
} ms_node;

enum { MS_PRIOR_UNKNOWN, MS_PRIOR_ABSENT, MS_PRIOR_PRESENT };

enum { MS_UNDO_ABSENT, MS_UNDO_DELETED, MS_UNDO_VALUE, MS_UNDO_LOG };

/* The overlay state of node idx before one change (or a log marker). A
 * VALUE record owns the previous value buffer until it is moved back or
 * the record is discarded. */
typedef struct ms_undo {
    int kind;
    size_t idx;
    uint8_t *val;
    size_t vlen;
} ms_undo;

struct ms_journal {
    ms_node *nodes;
    size_t nnodes, cap_nodes;
    size_t *buckets; /* head node index per bucket, MS_NIL when empty */
    size_t nbuckets; /* 0 or a power of two */
    unsigned shift;  /* 64 - log2(nbuckets) */
    ms_undo *undo;
    size_t nundo, cap_undo;
    ms_pending_log *logs;
    size_t nlogs, cap_logs;
    const ms_overlay_entry **sorted;
    size_t cap_sorted;
    int sorted_valid;
    /* Kept by ms_journal_clear: */
    uint8_t key[MS_SIPHASH_KEY_SIZE]; /* the bucket hash's key */
    uint64_t probes;                  /* nodes compared by writes, for tests */
};

static uint64_t ms_hash(const ms_journal *j, const uint8_t *key, size_t klen)
{
    return ms_siphash24(j->key, key, klen);
}

/* The top bits: every bit of a PRF's output is as good as any other. */
static size_t ms_bucket(uint64_t h, unsigned shift)
{
    return (size_t)(h >> shift);
}

/* memcmp is undefined on NULL even with length 0, and empty keys and
 * values are stored as NULL. */
static int ms_bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static int ms_dup(uint8_t **out, const uint8_t *src, size_t n)
{
    *out = NULL;
    if (n == 0) return 1;
    *out = malloc(n);
    if (*out == NULL) return 0;
    memcpy(*out, src, n);
    return 1;
}

/* Returns arr grown to hold at least need (>= 1) elements of size elem,
 * or NULL with arr untouched. Returning the pointer, rather than writing
 * through a void **, keeps the typed pointers free of aliasing tricks.
 * Capacity is not observable, so growth that a later failure leaves unused
 * is harmless. */
static void *ms_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return arr;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return NULL;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem) return NULL;
    void *p = realloc(arr, ncap * elem);
    if (p != NULL) *cap = ncap;
    return p;
}

/* Out: *probes += the nodes compared. */
static size_t ms_find(const ms_journal *j, uint64_t *probes, uint64_t h, const uint8_t *key, size_t klen)
{
    if (j->nbuckets == 0) return MS_NIL;
    for (size_t i = j->buckets[ms_bucket(h, j->shift)]; i != MS_NIL; i = j->nodes[i].next) {
        const ms_node *n = &j->nodes[i];
        ++*probes;
        if (n->hash == h && n->e.klen == klen && ms_bytes_eq(n->e.key, key, klen)) return i;
    }
    return MS_NIL;
}

/* Keeps the load factor at or below 1 for the node count need. */
static int ms_reserve_buckets(ms_journal *j, size_t need)
{
    if (need <= j->nbuckets) return 1;
    size_t nb = j->nbuckets ? j->nbuckets : 16;
    unsigned shift = j->nbuckets ? j->shift : 60;
    while (nb < need) {
        if (nb > SIZE_MAX / 2 / sizeof(size_t) || shift == 1) return 0;
        nb *= 2;
        shift--;
    }
    size_t *b = malloc(nb * sizeof *b);
    if (b == NULL) return 0;
    for (size_t i = 0; i < nb; i++) b[i] = MS_NIL;
    for (size_t i = 0; i < j->nnodes; i++) {
        size_t k = ms_bucket(j->nodes[i].hash, shift);
        j->nodes[i].next = b[k];
        b[k] = i;
    }
    free(j->buckets);
    j->buckets = b;
    j->nbuckets = nb;
    j->shift = shift;
    return 1;
}

ms_journal *ms_journal_create_keyed(const uint8_t key16[16])
{
    ms_journal *j = calloc(1, sizeof(ms_journal));
    if (j != NULL) memcpy(j->key, key16, sizeof j->key);
    return j;
}

ms_journal *ms_journal_create(void)
{
    uint8_t key[MS_SIPHASH_KEY_SIZE];
    if (!ms_siphash_random_key(key)) return NULL;
    return ms_journal_create_keyed(key);
}

void ms_journal_destroy(ms_journal *j)
{
    if (j == NULL) return;
    ms_journal_clear(j);
    free(j);
}

int ms_journal_get(const ms_journal *j, const uint8_t **val, size_t *vlen, int *deleted,
                   const uint8_t *key, size_t klen)
{
    uint64_t probes = 0; /* not counted: the journal is const here */
    size_t i = ms_find(j, &probes, ms_hash(j, key, klen), key, klen);
    if (i == MS_NIL) return 0;
    const ms_overlay_entry *e = &j->nodes[i].e;
    *val = e->val;
    *vlen = e->vlen;
    *deleted = e->deleted;
    return 1;
}

/* Shared by put and delete: every allocation happens before the first
 * mutation, so a failure leaves the overlay and journal as they were. */
static int ms_set(ms_journal *j, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                  int deleted, const uint8_t *hash32)
{
    const uint64_t h = ms_hash(j, key, klen);
    const size_t found = ms_find(j, &j->probes, h, key, klen);
    uint8_t *kcopy = NULL, *vcopy = NULL;

    ms_undo *undo = ms_grow(j->undo, &j->cap_undo, j->nundo + 1, sizeof *undo);
    if (undo == NULL) return 0;
    j->undo = undo;
    if (!deleted && !ms_dup(&vcopy, val, vlen)) return 0;
    if (found == MS_NIL) {
        /* The node array grows last: moving it invalidates entry pointers
         * (ms_journal_sorted's array), which a failed call must not do. */
        ms_node *nodes = NULL;
        if (!ms_dup(&kcopy, key, klen) || !ms_reserve_buckets(j, j->nnodes + 1) ||
            (nodes = ms_grow(j->nodes, &j->cap_nodes, j->nnodes + 1, sizeof *nodes)) == NULL) {
            free(kcopy);
            free(vcopy);
            return 0;
        }
        j->nodes = nodes;
    }

    /* From here on nothing can fail. */
    ms_undo *u = &j->undo[j->nundo++];
    size_t idx = found;
    if (found == MS_NIL) {
        idx = j->nnodes++;
        ms_node *n = &j->nodes[idx];
        const size_t b = ms_bucket(h, j->shift);
        n->e.key = kcopy;
        n->e.klen = klen;
        n->e.val = NULL;
        n->e.vlen = 0;
        n->e.deleted = 0;
        n->prior = MS_PRIOR_UNKNOWN;
        n->prior_val = NULL;
        n->prior_vlen = 0;
        n->hash = h;
        n->next = j->buckets[b];
        j->buckets[b] = idx;
        u->kind = MS_UNDO_ABSENT;
    } else {
        u->kind = j->nodes[idx].e.deleted ? MS_UNDO_DELETED : MS_UNDO_VALUE;
    }
    ms_overlay_entry *e = &j->nodes[idx].e;
    u->idx = idx;
    u->val = e->val; /* the old value buffer moves into the journal */
    u->vlen = e->vlen;
    e->val = vcopy;
    e->vlen = deleted ? 0 : vlen;
    e->deleted = deleted;
    e->value_hashed = hash32 != NULL && !deleted;
    if (e->value_hashed) memcpy(e->value_hash, hash32, 32);
    j->sorted_valid = 0;
    return 1;
}

int ms_journal_put(ms_journal *j, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    return ms_set(j, key, klen, val, vlen, 0, NULL);
}

int ms_journal_put_hashed(ms_journal *j, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                          const uint8_t hash32[32])
{
    return ms_set(j, key, klen, val, vlen, 0, hash32);
}

int ms_journal_delete(ms_journal *j, const uint8_t *key, size_t klen)
{
    return ms_set(j, key, klen, NULL, 0, 1, NULL);
}

int ms_journal_note_prior(ms_journal *j, const uint8_t *key, size_t klen, int present, const uint8_t *val,
                          size_t vlen)
{
    const size_t i = ms_find(j, &j->probes, ms_hash(j, key, klen), key, klen);
    if (i == MS_NIL || j->nodes[i].prior != MS_PRIOR_UNKNOWN) return 1;
    ms_node *n = &j->nodes[i];
    if (present && !ms_dup(&n->prior_val, val, vlen)) return 0;
    n->prior_vlen = present ? vlen : 0;
    n->prior = present ? MS_PRIOR_PRESENT : MS_PRIOR_ABSENT;
    return 1;
}

int ms_journal_prior(const ms_journal *j, const ms_overlay_entry *e, int *present, const uint8_t **val,
                     size_t *vlen)
{
    (void)j;
    /* e is the first member of its node (C11 6.7.2.1p15). */
    const ms_node *n = (const ms_node *)e;
    *present = n->prior == MS_PRIOR_PRESENT;
    *val = n->prior_val;
    *vlen = n->prior_vlen;
    return n->prior != MS_PRIOR_UNKNOWN;
}

int ms_journal_log(ms_journal *j, const uint8_t *bytes, size_t len)
{
    ms_undo *undo = ms_grow(j->undo, &j->cap_undo, j->nundo + 1, sizeof *undo);
    if (undo == NULL) return 0;
    j->undo = undo;
    ms_pending_log *logs = ms_grow(j->logs, &j->cap_logs, j->nlogs + 1, sizeof *logs);
    if (logs == NULL) return 0;
    j->logs = logs;
    uint8_t *copy;
    if (!ms_dup(&copy, bytes, len)) return 0;
    j->logs[j->nlogs].bytes = copy;
    j->logs[j->nlogs].len = len;
    j->nlogs++;
    ms_undo *u = &j->undo[j->nundo++];
    u->kind = MS_UNDO_LOG;
    u->idx = 0;
    u->val = NULL;
    u->vlen = 0;
    return 1;
}

void ms_journal_logs(const ms_journal *j, const ms_pending_log **logs, size_t *count)
{
    *logs = j->logs;
    *count = j->nlogs;
}

uint64_t ms_journal_checkpoint(const ms_journal *j)
{
    return (uint64_t)j->nundo;
}

/* Undoes the newest record. Frees only; never allocates. */
static void ms_undo_one(ms_journal *j)
{
    ms_undo *u = &j->undo[--j->nundo];
    if (u->kind == MS_UNDO_LOG) {
        free(j->logs[--j->nlogs].bytes);
        return;
    }
    j->sorted_valid = 0;
    ms_node *n = &j->nodes[u->idx];
    free(n->e.val);
    if (u->kind == MS_UNDO_ABSENT) {
        /* LIFO: this is the last node and the head of its chain. */
        j->buckets[ms_bucket(n->hash, j->shift)] = n->next;
        free(n->e.key);
        free(n->prior_val);
        j->nnodes--;
        return;
    }
    n->e.val = u->val;
    n->e.vlen = u->vlen;
    n->e.deleted = (u->kind == MS_UNDO_DELETED);
    n->e.value_hashed = 0;   /* the restored value's hash is not kept: commit hashes it */
}

int ms_journal_revert(ms_journal *j, uint64_t cp)
{
    if (cp > (uint64_t)j->nundo) return 0;
    while ((uint64_t)j->nundo > cp) ms_undo_one(j);
    return 1;
}

int ms_journal_sorted(ms_journal *j, const ms_overlay_entry *const **entries, size_t *count)
{
    if (!j->sorted_valid) {
        if (j->nnodes > 0) {
            const ms_overlay_entry **sorted = ms_grow(j->sorted, &j->cap_sorted, j->nnodes, sizeof *sorted);
            if (sorted == NULL) return 0;
            j->sorted = sorted;
        }
        for (size_t i = 0; i < j->nnodes; i++) j->sorted[i] = &j->nodes[i].e;
        /* Keys are unique: the order is total (storage/key_sort.h). */
        if (!ms_key_sort(j->sorted, j->nnodes)) return 0;
        j->sorted_valid = 1;
    }
    *entries = j->sorted;
    *count = j->nnodes;
    return 1;
}

size_t ms_journal_size(const ms_journal *j)
{
    return j->nnodes;
}

uint64_t ms_journal_probes(const ms_journal *j)
{
    return j->probes;
}

size_t ms_journal_longest_chain(const ms_journal *j)
{
    size_t longest = 0;
    for (size_t b = 0; b < j->nbuckets; b++) {
        size_t len = 0;
        for (size_t i = j->buckets[b]; i != MS_NIL; i = j->nodes[i].next) len++;
        if (len > longest) longest = len;
    }
    return longest;
}

void ms_journal_clear(ms_journal *j)
{
    for (size_t i = 0; i < j->nundo; i++) free(j->undo[i].val);
    for (size_t i = 0; i < j->nnodes; i++) {
        free(j->nodes[i].e.key);
        free(j->nodes[i].e.val);
        free(j->nodes[i].prior_val);
    }
    for (size_t i = 0; i < j->nlogs; i++) free(j->logs[i].bytes);
    free(j->undo);
    free(j->nodes);
    free(j->buckets);
    free(j->logs);
    free(j->sorted);
    uint8_t key[MS_SIPHASH_KEY_SIZE];
    memcpy(key, j->key, sizeof key);
    const uint64_t probes = j->probes;
    memset(j, 0, sizeof *j);
    memcpy(j->key, key, sizeof key);
    j->probes = probes;
}
