/* Crash-safety test (issue 3, spec/host-abi.md [HOST-29], [HOST-47];
 * spec/storage.md [ST-13], [ST-18], [ST-20], [ST-21]).
 *
 *   crash [--kills N] [--seed S] [--hmax H] [--dir D] [--verbose] MODULE.so
 *   crash worker MODULE.so DIR SEED WSEED HMAX        (the child; internal)
 *
 * The driver first plays the block stream of SEED (crash_gen.c) to height
 * HMAX in a fresh directory, with rollbacks and re-commits, recording the
 * root and a digest of the readable state at every height and checking
 * that every re-commit after a rollback reproduces the same root. Then,
 * N times, it starts a worker on one persistent directory, lets it commit
 * and roll back blocks, SIGKILLs it at a moment drawn from SEED (right after
 * start, after it is ready, or microseconds to milliseconds after it
 * announces a commit_block or a rollback_to), reopens the directory itself
 * and checks that the store is exactly at the last height the worker
 * reported, or at the target of the operation it was inside when killed,
 * with that height's root, the roots of the retained heights, and that
 * height's state. The worker's reports are checked against the reference
 * as they arrive, and each worker continues from where the store is.
 *
 * The seed fixes the blocks, every schedule and every kill delay; where a
 * kill lands within a worker still depends on the machine's timing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "tools/host/loader.h"

#define DEFAULT_KILLS 200u
#define DEFAULT_HMAX 60u
#define PROGRESS_EVERY 25u
#define WAIT_LINE_MS 5000

/* ------------------------------------------------------------- helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0') return 0;
    char *end = NULL;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == NULL || *end != '\0') return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Remove a directory tree (RocksDB writes plain files, maybe a subfolder). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char sub[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= sizeof sub) continue;
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(sub);
        else unlink(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Commit/rollback schedule; shared by the worker and the reference run. It
 * never influences a block's contents, only which heights get (re)played. */
typedef enum act { ACT_COMMIT, ACT_ROLLBACK } act;

static act next_action(cg_rng *r, uint64_t h, uint64_t hmax, uint64_t *target)
{
    if (h >= hmax) {   /* at the top: always reorg back, within R */
        *target = h - (1 + cg_below(r, h < CG_REORG_DEPTH ? h : CG_REORG_DEPTH));
        return ACT_ROLLBACK;
    }
    if (h > 0 && cg_below(r, 5) == 0) {
        const uint64_t deep = h < CG_REORG_DEPTH ? h : CG_REORG_DEPTH;
        const uint64_t k = cg_below(r, 8) == 0 ? 1 + cg_below(r, deep) : 1 + cg_below(r, h < 3 ? h : 3);
        *target = h - k;
        return ACT_ROLLBACK;
    }
    *target = h + 1;
    return ACT_COMMIT;
}

/* -------------------------------------------------------------- worker */

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void emit(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    const char *p = line;
    while (len > 0) {   /* one write of < PIPE_BUF bytes: atomic in a pipe */
        const ssize_t w = write(STDOUT_FILENO, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(4);   /* the driver is gone */
        p += w;
        len -= (size_t)w;
    }
}

static int worker_fail(const char *what, const char *detail)
{
    emit("error %s: %s\n", what, detail);
    fprintf(stderr, "crash worker: %s: %s\n", what, detail);
    return 3;
}

static int worker_main(const char *module, const char *dir, uint64_t seed, uint64_t wseed, uint64_t hmax)
{
    host_module hm;
    if (host_load(&hm, module) != 0) return worker_fail("load", module);
    if (!dev_init()) return worker_fail("init", "libsodium/libsecp256k1");
    cg_ctx c;
    if (!cg_init(&c, hm.m, seed)) return worker_fail("init", "out of memory");
    const ms_module *m = hm.m;
    ms_rc rc = m->create(&c.inst, &c.cfg, dir);
    if (rc != MS_OK) return worker_fail("create", m->rc_string(rc));
    uint64_t h;
    ms_bytes32 root;
    char hex[65];
    if ((rc = m->committed(c.inst, &h, &root)) != MS_OK) return worker_fail("committed", m->rc_string(rc));
    cg_hex32(hex, root.bytes);
    emit("ready %llu %s\n", (unsigned long long)h, hex);
    if (h > hmax) return worker_fail("open", "store above the test's top height");

    cg_rng r;
    cg_rng_seed(&r, wseed);
    for (;;) {
        uint64_t target;
        if (next_action(&r, h, hmax, &target) == ACT_COMMIT) {
            if (!cg_block(&c, target)) return worker_fail("block", c.err);
            emit("begin commit %llu\n", (unsigned long long)target);
            if ((rc = m->commit_block(c.inst, &root, target)) != MS_OK)
                return worker_fail("commit_block", m->rc_string(rc));
            h = target;
            cg_hex32(hex, root.bytes);
            emit("commit %llu %s\n", (unsigned long long)h, hex);
        } else {
            emit("begin rollback %llu\n", (unsigned long long)target);
            rc = m->rollback_to(c.inst, target);
            if (rc == MS_ERR_REORG_DEPTH) {   /* undo pruned: the driver checks that it must be */
                emit("refused rollback %llu\n", (unsigned long long)target);
                continue;
            }
            if (rc != MS_OK) return worker_fail("rollback_to", m->rc_string(rc));
            if ((rc = m->committed(c.inst, &h, &root)) != MS_OK)
                return worker_fail("committed", m->rc_string(rc));
            cg_hex32(hex, root.bytes);
            emit("rollback %llu %s\n", (unsigned long long)h, hex);
        }
    }
}

/* ----------------------------------------------------- expected states */

typedef struct expect {
    int known;
    uint8_t root[32];
    uint8_t digest[32];
} expect;

static expect *g_exp;
static uint64_t g_hmax = DEFAULT_HMAX;
static char g_why[1024];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    char buf[sizeof g_why];   /* the arguments may include g_why itself */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(g_why, buf, sizeof g_why);
    return 0;
}

/* Which per-height roots (`00 04 || t`) and undo records (`07 || t`) the
 * store holds, modelled from spec/storage.md: commit h puts both for h and
 * deletes undo h - R and root h - R - 1 ([ST-13]); a rollback from H to t
 * deletes both for t + 1 .. H ([ST-18]). So the reachable window is
 * [M - R, h] with M the highest height ever committed ([HOST-47], [HOST-48],
 * [ST-19]): right after a rollback of k blocks its oldest k heights answer
 * MS_ERR_HEIGHT (root_at) and MS_ERR_REORG_DEPTH (rollback_to). The model
 * also pins the pruning to the same atomic batch as the commit. */
typedef struct model {
    uint8_t *root;
    uint8_t *undo;
} model;

static int model_init(model *md)
{
    md->root = calloc(g_hmax + 1, 1);
    md->undo = calloc(g_hmax + 1, 1);
    if (md->root == NULL || md->undo == NULL) return 0;
    md->root[0] = 1;   /* the empty state, pruned by the same rule as any height */
    return 1;
}

static void model_free(model *md)
{
    free(md->root);
    free(md->undo);
}

static void model_commit(model *md, uint64_t h)
{
    md->root[h] = md->undo[h] = 1;
    if (h > CG_REORG_DEPTH) {
        md->undo[h - CG_REORG_DEPTH] = 0;
        md->root[h - CG_REORG_DEPTH - 1] = 0;
    }
}

static void model_rollback(model *md, uint64_t from, uint64_t to)
{
    for (uint64_t u = to + 1; u <= from; u++) md->root[u] = md->undo[u] = 0;
}

/* Can the store at height h roll back to t (every undo record above t)? */
static int model_can_rollback(const model *md, uint64_t h, uint64_t t)
{
    for (uint64_t u = t + 1; u <= h; u++)
        if (!md->undo[u]) return 0;
    return 1;
}

/* root_at over the window [h - R, h] ([HOST-48]): the reference root where
 * the store holds one (always for h), MS_ERR_HEIGHT where the model
 * says it was pruned, and MS_ERR_HEIGHT just outside the window. */
static int check_window(cg_ctx *c, uint64_t h, const model *ret)
{
    const uint64_t lo = h > CG_REORG_DEPTH ? h - CG_REORG_DEPTH : 0;
    ms_bytes32 got;
    char a[65], b[65];
    for (uint64_t t = lo; t <= h; t++) {
        const ms_rc rc = c->m->root_at(c->inst, &got, t);
        const int held = t == h || ret->root[t];
        if (!held) {
            if (rc != MS_ERR_HEIGHT)
                return fail("root_at(%llu) at height %llu: %s; that root was pruned (spec/storage.md [ST-13], "
                            "[ST-18])", (unsigned long long)t, (unsigned long long)h, c->m->rc_string(rc));
            continue;
        }
        if (rc != MS_OK) return fail("root_at(%llu) at height %llu: %s", (unsigned long long)t,
                                     (unsigned long long)h, c->m->rc_string(rc));
        if (memcmp(got.bytes, g_exp[t].root, 32) != 0) {
            cg_hex32(a, got.bytes);
            cg_hex32(b, g_exp[t].root);
            return fail("root_at(%llu) at height %llu is %s, expected %s", (unsigned long long)t,
                        (unsigned long long)h, a, b);
        }
    }
    if (lo > 0 && c->m->root_at(c->inst, &got, lo - 1) != MS_ERR_HEIGHT)
        return fail("root_at(%llu) at height %llu: not MS_ERR_HEIGHT", (unsigned long long)(lo - 1),
                    (unsigned long long)h);
    if (c->m->root_at(c->inst, &got, h + 1) != MS_ERR_HEIGHT)
        return fail("root_at(%llu) at height %llu: not MS_ERR_HEIGHT", (unsigned long long)(h + 1),
                    (unsigned long long)h);
    return 1;
}

/* The open instance is at height h with root `root`: is that exactly the
 * reference state of h? */
static int check_state(cg_ctx *c, uint64_t h, const uint8_t root[32], const model *ret)
{
    char a[65], b[65];
    if (h > g_hmax || !g_exp[h].known) return fail("height %llu was never committed by the stream", (unsigned long long)h);
    if (memcmp(root, g_exp[h].root, 32) != 0) {
        cg_hex32(a, root);
        cg_hex32(b, g_exp[h].root);
        return fail("root at height %llu is %s, expected %s (a state between two blocks?)",
                    (unsigned long long)h, a, b);
    }
    uint8_t dg[32];
    if (!cg_digest(c, h, dg)) return fail("reading the state at height %llu: %s", (unsigned long long)h, c->err);
    if (memcmp(dg, g_exp[h].digest, 32) != 0)
        return fail("the readable state at height %llu differs from the reference (height and root say %llu, "
                    "records do not: a commit or rollback was applied in part)",
                    (unsigned long long)h, (unsigned long long)h);
    return check_window(c, h, ret);
}

/* ------------------------------------------------------ reference run */

static int reference_run(cg_ctx *c, const char *dir, uint64_t seed)
{
    const ms_module *m = c->m;
    ms_rc rc = m->create(&c->inst, &c->cfg, dir);
    if (rc != MS_OK) return fail("reference: create(%s): %s", dir, m->rc_string(rc));
    uint64_t h = 0;
    ms_bytes32 root;
    memset(g_exp, 0, sizeof *g_exp * (g_hmax + 1));
    model mdl, *ret = &mdl;
    if (!model_init(ret)) return fail("out of memory");
    g_exp[0].known = 1;
    if (!cg_digest(c, 0, g_exp[0].digest)) return fail("reference: digest: %s", c->err);

    cg_rng r;
    cg_rng_seed(&r, cg_hash(seed, 0x7ef7ef7eull));
    unsigned tops = 0, commits = 0, recommits = 0, rollbacks = 0, refused = 0;
    const double t0 = now_s();
    while (tops < 2) {
        uint64_t target;
        if (next_action(&r, h, g_hmax, &target) == ACT_COMMIT) {
            if (!cg_block(c, target)) return fail("reference: block %llu: %s", (unsigned long long)target, c->err);
            if ((rc = m->commit_block(c->inst, &root, target)) != MS_OK)
                return fail("reference: commit_block(%llu): %s", (unsigned long long)target, m->rc_string(rc));
            h = target;
            commits++;
            model_commit(ret, h);
            if (!g_exp[h].known) {
                g_exp[h].known = 1;
                memcpy(g_exp[h].root, root.bytes, 32);
                if (!cg_digest(c, h, g_exp[h].digest)) return fail("reference: digest: %s", c->err);
            } else {
                recommits++;
                if (!check_state(c, h, root.bytes, ret))
                    return fail("reference: re-commit of height %llu after a rollback: %.900s",
                                (unsigned long long)h, g_why);
            }
            if (!check_window(c, h, ret)) return fail("reference: %.1000s", g_why);
            if (h == g_hmax) tops++;
        } else {
            const uint64_t prev = h;
            rc = m->rollback_to(c->inst, target);
            const int can = model_can_rollback(ret, h, target);
            if (rc == MS_ERR_REORG_DEPTH && can)
                return fail("reference: rollback_to(%llu) from %llu refused, but its undo records are kept",
                            (unsigned long long)target, (unsigned long long)h);
            if (rc == MS_ERR_REORG_DEPTH) {
                refused++;
                continue;
            }
            if (rc == MS_OK && !can)
                return fail("reference: rollback_to(%llu) from %llu succeeded, but spec/storage.md has pruned an "
                            "undo record it needs", (unsigned long long)target, (unsigned long long)h);
            if (rc != MS_OK)
                return fail("reference: rollback_to(%llu): %s", (unsigned long long)target, m->rc_string(rc));
            if ((rc = m->committed(c->inst, &h, &root)) != MS_OK || h != target)
                return fail("reference: after rollback_to(%llu) committed() says %llu", (unsigned long long)target,
                            (unsigned long long)h);
            rollbacks++;
            model_rollback(ret, prev, h);
            if (!check_state(c, h, root.bytes, ret)) return fail("reference: after rollback_to(%llu): %.900s",
                                                            (unsigned long long)target, g_why);
        }
    }
    /* A clean close and reopen resumes exactly at the last commit. */
    m->destroy(c->inst);
    c->inst = NULL;
    if ((rc = m->create(&c->inst, &c->cfg, dir)) != MS_OK) return fail("reference: reopen: %s", m->rc_string(rc));
    uint64_t h2;
    m->committed(c->inst, &h2, &root);
    const int ok = h2 == h && check_state(c, h2, root.bytes, ret);
    m->destroy(c->inst);
    c->inst = NULL;
    model_free(ret);
    if (!ok) return fail("reference: after a clean reopen (height %llu, was %llu): %.900s", (unsigned long long)h2,
                         (unsigned long long)h, h2 == h ? g_why : "height changed");
    printf("crash: reference run: %u commits (%u re-commits after rollbacks reproduced their roots), "
           "%u rollbacks (%u refused: undo pruned), heights 0..%llu, %.1f s\n",
           commits, recommits, rollbacks, refused, (unsigned long long)g_hmax, now_s() - t0);
    return 1;
}

/* ------------------------------------------------------------ driver */

typedef enum plan_kind { PLAN_START, PLAN_READY, PLAN_COMMIT, PLAN_ROLLBACK } plan_kind;

typedef struct plan {
    plan_kind kind;
    unsigned nth;         /* kill after the nth "begin" line of that kind */
    uint64_t delay_ns;
} plan;

static const char *const plan_names[] = {"after start", "after ready", "after begin commit", "after begin rollback"};

/* base * 2^e plus jitter: spread over several orders of magnitude. */
static uint64_t spread_ns(cg_rng *r, unsigned lo_exp, unsigned hi_exp)
{
    const unsigned e = lo_exp + (unsigned)cg_below(r, hi_exp - lo_exp + 1);
    const uint64_t base = (uint64_t)1000u << e;   /* 1 us << e */
    return base + cg_below(r, base);
}

static plan make_plan(uint64_t seed, unsigned i)
{
    cg_rng r;
    cg_rng_seed(&r, cg_hash(seed ^ 0x9141u, i));
    plan p;
    const uint64_t u = cg_below(&r, 100);
    p.nth = 1;
    if (u < 8) {
        p.kind = PLAN_START;                   /* during exec, load, open, WAL recovery */
        p.delay_ns = spread_ns(&r, 10, 15);    /* 1 ms .. 64 ms */
    } else if (u < 33) {
        p.kind = PLAN_READY;
        p.delay_ns = spread_ns(&r, 4, 16);     /* 16 us .. 128 ms */
    } else if (u < 75) {
        p.kind = PLAN_COMMIT;
        p.nth = 1 + (unsigned)cg_below(&r, 4);
        p.delay_ns = cg_below(&r, 8) == 0 ? cg_below(&r, 1000) : spread_ns(&r, 0, 13);   /* 0 .. 16 ms */
    } else {
        p.kind = PLAN_ROLLBACK;
        p.nth = 1 + (unsigned)cg_below(&r, 2);
        p.delay_ns = cg_below(&r, 8) == 0 ? cg_below(&r, 1000) : spread_ns(&r, 0, 13);
    }
    return p;
}

/* What the driver knows about the store while a worker runs. */
typedef struct wview {
    uint64_t h;             /* last height reported (or checked) */
    uint8_t root[32];
    int inflight;           /* 0 none, 1 inside commit_block, 2 inside rollback_to */
    uint64_t target;        /* its target height */
    unsigned begins[3];     /* "begin" lines seen, by inflight kind */
    unsigned commits, rollbacks, refused;
    int ready;
    char error[300];
    model *ret;             /* retained roots and undo records of the store */
} wview;

/* One line from the worker; checked against the reference as it arrives. */
static int on_line(wview *w, const char *line)
{
    unsigned long long v;
    char hex[80];
    uint8_t root[32];
    char a[65], b[65];
    if (sscanf(line, "ready %llu %64s", &v, hex) == 2) {
        if (!cg_unhex32(root, hex)) return fail("bad line from worker: %s", line);
        if (v != w->h || memcmp(root, w->root, 32) != 0)
            return fail("worker opened the store at height %llu, the driver checked it at %llu", v,
                        (unsigned long long)w->h);
        w->ready = 1;
        return 1;
    }
    if (sscanf(line, "begin commit %llu", &v) == 1) {
        if (w->inflight || v != w->h + 1) return fail("unexpected: %s", line);
        w->inflight = 1;
        w->target = v;
        w->begins[1]++;
        return 1;
    }
    if (sscanf(line, "begin rollback %llu", &v) == 1) {
        if (w->inflight || v >= w->h) return fail("unexpected: %s", line);
        w->inflight = 2;
        w->target = v;
        w->begins[2]++;
        return 1;
    }
    const int is_commit = sscanf(line, "commit %llu %64s", &v, hex) == 2;
    const int is_rollback = !is_commit && sscanf(line, "rollback %llu %64s", &v, hex) == 2;
    if (is_commit || is_rollback) {
        if (!cg_unhex32(root, hex)) return fail("bad line from worker: %s", line);
        if (w->inflight != (is_commit ? 1 : 2) || v != w->target) return fail("unexpected: %s", line);
        if (v > g_hmax || !g_exp[v].known) return fail("worker reached height %llu beyond the stream", v);
        if (is_rollback && !model_can_rollback(w->ret, w->h, v))
            return fail("worker's rollback_to(%llu) from %llu succeeded, but spec/storage.md has pruned an undo "
                        "record it needs", v, (unsigned long long)w->h);
        if (memcmp(root, g_exp[v].root, 32) != 0) {
            cg_hex32(a, root);
            cg_hex32(b, g_exp[v].root);
            return fail("worker's %s to height %llu returned root %s, the reference has %s",
                        is_commit ? "commit" : "rollback", v, a, b);
        }
        if (is_commit) model_commit(w->ret, v);
        else model_rollback(w->ret, w->h, v);
        w->h = v;
        memcpy(w->root, root, 32);
        w->inflight = 0;
        if (is_commit) w->commits++;
        else w->rollbacks++;
        return 1;
    }
    if (sscanf(line, "refused rollback %llu", &v) == 1) {
        if (w->inflight != 2 || v != w->target) return fail("unexpected: %s", line);
        if (model_can_rollback(w->ret, w->h, v))
            return fail("worker's rollback_to(%llu) from %llu was refused (MS_ERR_REORG_DEPTH), but the store "
                        "keeps every undo record it needs", v, (unsigned long long)w->h);
        w->inflight = 0;
        w->refused++;
        return 1;
    }
    if (strncmp(line, "error ", 6) == 0) {
        snprintf(w->error, sizeof w->error, "%s", line + 6);
        return fail("worker failed: %s", line + 6);
    }
    return fail("bad line from worker: %.200s", line);
}

typedef struct lines {
    int fd;
    char buf[65536];
    size_t len;
    int eof;
} lines;

/* Process every complete line; returns 0 on an inconsistency. */
static int drain(lines *L, wview *w, int *matched, int want_kind, unsigned want_nth)
{
    char *start = L->buf;
    char *nl;
    while ((nl = memchr(start, '\n', L->len - (size_t)(start - L->buf))) != NULL) {
        *nl = '\0';
        if (!on_line(w, start)) return 0;
        if (matched != NULL && !*matched && want_kind > 0 && w->inflight == want_kind &&
            w->begins[want_kind] >= want_nth) {
            *matched = 1;
        }
        start = nl + 1;
    }
    const size_t rest = L->len - (size_t)(start - L->buf);
    memmove(L->buf, start, rest);
    L->len = rest;
    return 1;
}

/* Read what is available within timeout_ms (-1: until EOF). Returns 0 on an
 * inconsistency. */
static int pump(lines *L, wview *w, int timeout_ms, int *matched, int want_kind, unsigned want_nth)
{
    struct pollfd pfd = {L->fd, POLLIN, 0};
    const int pr = poll(&pfd, 1, timeout_ms);
    if (pr < 0 && errno != EINTR) return fail("poll: %s", strerror(errno));
    if (pr <= 0) return 1;
    if (L->len == sizeof L->buf - 1) return fail("worker line too long");
    const ssize_t n = read(L->fd, L->buf + L->len, sizeof L->buf - 1 - L->len);
    if (n < 0 && errno != EINTR) return fail("read: %s", strerror(errno));
    if (n == 0) L->eof = 1;
    if (n > 0) L->len += (size_t)n;
    return drain(L, w, matched, want_kind, want_nth);
}

typedef struct stats {
    unsigned kills;
    unsigned in_commit, in_commit_applied;
    unsigned in_rollback, in_rollback_applied;
    unsigned before_ready, between_ops;
    unsigned worker_commits, worker_rollbacks, worker_refused;
    uint64_t max_height_seen;
} stats;

static char g_self[4096];

static pid_t spawn_worker(int *rfd, const char *module, const char *dir, uint64_t seed, uint64_t wseed)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        if (dup2(p[1], STDOUT_FILENO) < 0) _exit(5);
        close(p[1]);
        char s1[32], s2[32], s3[32];
        snprintf(s1, sizeof s1, "0x%016llx", (unsigned long long)seed);
        snprintf(s2, sizeof s2, "0x%016llx", (unsigned long long)wseed);
        snprintf(s3, sizeof s3, "%llu", (unsigned long long)g_hmax);
        char *const argv[] = {g_self, (char *)"worker", (char *)module, (char *)dir, s1, s2, s3, NULL};
        execv(g_self, argv);
        _exit(6);
    }
    close(p[1]);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    *rfd = p[0];
    return pid;
}

/* One kill: start a worker, kill it per the plan, reopen, check. */
static int one_kill(cg_ctx *c, const char *module, const char *dir, uint64_t seed, unsigned i, wview *w,
                    stats *st, int verbose)
{
    const plan p = make_plan(seed, i);
    w->inflight = 0;
    w->begins[0] = w->begins[1] = w->begins[2] = 0;
    w->commits = w->rollbacks = w->refused = 0;
    w->ready = 0;
    w->error[0] = '\0';
    lines L;
    L.len = 0;
    L.eof = 0;
    const pid_t pid = spawn_worker(&L.fd, module, dir, seed, cg_hash(seed ^ 0x3021u, i));
    if (pid < 0) return fail("fork: %s", strerror(errno));

    int ok = 1;
    if (p.kind == PLAN_START) {
        sleep_ns(p.delay_ns);
    } else {
        const int want = p.kind == PLAN_COMMIT ? 1 : p.kind == PLAN_ROLLBACK ? 2 : 0;
        int matched = 0;
        const double until = now_s() + WAIT_LINE_MS / 1000.0;
        while (ok && !L.eof && now_s() < until) {
            if (p.kind == PLAN_READY ? w->ready : matched) break;
            ok = pump(&L, w, 50, &matched, want, p.nth);
        }
        if (ok) sleep_ns(p.delay_ns);
    }
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    while (ok && !L.eof) ok = pump(&L, w, 10000, NULL, 0, 0);
    close(L.fd);
    if (!ok) return 0;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        return fail("worker ended by itself (status 0x%x)%s%s", status, w->error[0] ? ": " : "", w->error);

    /* Reopen exactly as a restarting node does. */
    const ms_module *m = c->m;
    ms_rc rc = m->create(&c->inst, &c->cfg, dir);
    if (rc != MS_OK) return fail("reopen after the kill: create: %s", m->rc_string(rc));
    uint64_t h;
    ms_bytes32 root;
    m->committed(c->inst, &h, &root);
    const int at_last = h == w->h && memcmp(root.bytes, w->root, 32) == 0;
    const int at_target = w->inflight != 0 && h == w->target;
    if (!at_last && !at_target) {
        ok = w->inflight == 0 ? fail("reopened at height %llu; the worker last reported height %llu and was "
                                     "not inside a commit or rollback",
                                     (unsigned long long)h, (unsigned long long)w->h)
                              : fail("reopened at height %llu; the worker last reported height %llu and was "
                                     "inside %s to %llu",
                                     (unsigned long long)h, (unsigned long long)w->h,
                                     w->inflight == 1 ? "commit_block" : "rollback_to",
                                     (unsigned long long)w->target);
    }
    if (at_target) {   /* the operation it was inside reached the disk */
        if (w->inflight == 1) model_commit(w->ret, h);
        else model_rollback(w->ret, w->h, h);
    }
    if (ok) ok = check_state(c, h, root.bytes, w->ret);
    m->destroy(c->inst);
    c->inst = NULL;
    if (!ok) return 0;

    st->kills++;
    st->worker_commits += w->commits;
    st->worker_rollbacks += w->rollbacks;
    st->worker_refused += w->refused;
    const char *where;
    if (w->inflight == 1) {
        st->in_commit++;
        st->in_commit_applied += h == w->target;
        where = h == w->target ? "inside commit_block (applied)" : "inside commit_block (not applied)";
    } else if (w->inflight == 2) {
        st->in_rollback++;
        st->in_rollback_applied += h == w->target;
        where = h == w->target ? "inside rollback_to (applied)" : "inside rollback_to (not applied)";
    } else if (!w->ready) {
        st->before_ready++;
        where = "before ready";
    } else {
        st->between_ops++;
        where = "between operations";
    }
    if (h > st->max_height_seen) st->max_height_seen = h;
    if (verbose)
        printf("crash: kill %u: %s +%llu us, %u commits, %u rollbacks, killed %s, store at %llu\n", i,
               plan_names[p.kind], (unsigned long long)(p.delay_ns / 1000), w->commits, w->rollbacks, where,
               (unsigned long long)h);
    w->h = h;
    memcpy(w->root, root.bytes, 32);
    return 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: crash [--kills N] [--seed S] [--hmax H] [--dir D] [--verbose] MODULE.so\n"
            "  Kills a worker process with SIGKILL N times (default %u) during commits and rollbacks\n"
            "  and checks the reopened store each time. --dir: where to put the stores (default: a new\n"
            "  directory under /tmp, removed on success). Replay a run with the seed it prints.\n",
            DEFAULT_KILLS);
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "worker") == 0) {
        uint64_t seed, wseed, hmax;
        if (!parse_u64(argv[4], &seed) || !parse_u64(argv[5], &wseed) || !parse_u64(argv[6], &hmax)) return 2;
        return worker_main(argv[2], argv[3], seed, wseed, hmax);
    }

    uint64_t kills = DEFAULT_KILLS, seed = 0;
    int have_seed = 0, verbose = 0;
    const char *module = NULL, *base_arg = NULL;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--kills") == 0 && a + 1 < argc) {
            if (!parse_u64(argv[++a], &kills)) return usage(), 2;
        } else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) {
            if (!parse_u64(argv[++a], &seed)) return usage(), 2;
            have_seed = 1;
        } else if (strcmp(argv[a], "--hmax") == 0 && a + 1 < argc) {
            if (!parse_u64(argv[++a], &g_hmax) || g_hmax < 2 || g_hmax > 100000) return usage(), 2;
        } else if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc) {
            base_arg = argv[++a];
        } else if (strcmp(argv[a], "--verbose") == 0) {
            verbose = 1;
        } else if (argv[a][0] != '-' && module == NULL) {
            module = argv[a];
        } else {
            usage();
            return 2;
        }
    }
    if (module == NULL) {
        usage();
        return 2;
    }
    if (!have_seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = cg_hash((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, (uint64_t)getpid());
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("crash: seed 0x%016llx; replay with --seed 0x%016llx\n", (unsigned long long)seed,
           (unsigned long long)seed);

    const ssize_t sl = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
    if (sl > 0) g_self[sl] = '\0';
    else snprintf(g_self, sizeof g_self, "%s", argv[0]);
    /* The workers run with the same working directory; an absolute path
     * only keeps the messages unambiguous. */
    char module_abs[8192], cwd[4096];
    if (module[0] != '/' && getcwd(cwd, sizeof cwd) != NULL)
        snprintf(module_abs, sizeof module_abs, "%s/%s", cwd, module);
    else
        snprintf(module_abs, sizeof module_abs, "%s", module);

    host_module hm;
    if (host_load(&hm, module_abs) != 0) return 2;
    if (!dev_init()) {
        fprintf(stderr, "crash: libsodium/libsecp256k1 initialisation failed\n");
        return 2;
    }
    cg_ctx c;
    g_exp = calloc(g_hmax + 1, sizeof *g_exp);
    if (g_exp == NULL || !cg_init(&c, hm.m, seed)) {
        fprintf(stderr, "crash: out of memory\n");
        return 2;
    }

    char base[4096], refdir[4200], dir[4200];
    if (base_arg != NULL) {
        snprintf(base, sizeof base, "%s", base_arg);
        if (mkdir(base, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "crash: mkdir %s: %s\n", base, strerror(errno));
            return 2;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/memsync-crash-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
        if (mkdtemp(base) == NULL) {
            fprintf(stderr, "crash: mkdtemp: %s\n", strerror(errno));
            return 2;
        }
    }
    snprintf(refdir, sizeof refdir, "%s/reference", base);
    snprintf(dir, sizeof dir, "%s/store", base);
    remove_tree(refdir);
    remove_tree(dir);

    const double t0 = now_s();
    if (!reference_run(&c, refdir, seed)) {
        printf("crash: FAILED in the reference run (seed 0x%016llx): %s\n", (unsigned long long)seed, g_why);
        printf("crash: 0 passed, 1 failed; directory kept: %s\n", base);
        return 1;
    }
    remove_tree(refdir);

    wview w;
    memset(&w, 0, sizeof w);   /* a fresh store: height 0, zero root */
    model store_model;
    if (!model_init(&store_model)) return 2;
    w.ret = &store_model;
    stats st;
    memset(&st, 0, sizeof st);
    for (unsigned i = 1; i <= kills; i++) {
        if (!one_kill(&c, module_abs, dir, seed, i, &w, &st, verbose)) {
            const plan p = make_plan(seed, i);
            printf("crash: FAILED at kill %u (seed 0x%016llx, plan: %s +%llu us): %s\n", i,
                   (unsigned long long)seed, plan_names[p.kind], (unsigned long long)(p.delay_ns / 1000), g_why);
            printf("crash: replay with --seed 0x%016llx --kills %u; store kept in %s\n", (unsigned long long)seed, i,
                   dir);
            printf("crash: %u passed, 1 failed\n", st.kills);
            return 1;
        }
        if (i % PROGRESS_EVERY == 0 || i == kills)
            printf("crash: %u/%llu kills checked, store at height %llu; killed inside commit_block %u (%u applied), "
                   "inside rollback_to %u (%u applied), between operations %u, before ready %u; %.1f s\n",
                   i, (unsigned long long)kills, (unsigned long long)w.h, st.in_commit, st.in_commit_applied,
                   st.in_rollback, st.in_rollback_applied, st.between_ops, st.before_ready, now_s() - t0);
    }
    printf("crash: workers committed %u blocks and rolled back %u times (%u more rollbacks refused: undo "
           "pruned); highest height checked %llu\n",
           st.worker_commits, st.worker_rollbacks, st.worker_refused, (unsigned long long)st.max_height_seen);
    printf("crash: %u passed, 0 failed (seed 0x%016llx, %.1f s)\n", st.kills, (unsigned long long)seed,
           now_s() - t0);
    remove_tree(dir);
    if (base_arg == NULL) rmdir(base);
    cg_free(&c);
    model_free(&store_model);
    free(g_exp);
    dev_shutdown();
    host_unload(&hm);
    return 0;
}
