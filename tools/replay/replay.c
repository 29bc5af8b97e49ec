/* memsync-replay: multi-validator replay of a seeded block stream, and
 * conformance vectors (emit and check). Loads modules only through the public
 * header (module/memsync.h) via tools/host/loader.c.
 *
 *   memsync-replay [--validators N] [--blocks B] [--seed S] [--progress] [--module2 PATH] MODULE.so
 *   memsync-replay --vectors DIR MODULE.so
 *   memsync-replay --emit-vectors DIR MODULE.so
 *
 * Clocks are used for progress lines only, never in anything compared. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "json.h"
#include "stream.h"
#include "tools/host/decode.h"
#include "tools/host/loader.h"
#include "vectors.h"

/* ----------------------------------------------------------- records */
enum { REC_HELLO = 100, REC_END, REC_FAIL };

typedef struct rec {
    uint32_t type;
    uint32_t aux;
    uint64_t index;
    uint64_t height;
    int32_t rc;
    int32_t status;
    uint64_t gas_used;
    uint64_t gas_limit;
    uint32_t kind;
    uint32_t is_static;
    uint32_t selector;
    uint32_t out_len;
    uint64_t log_count;
    uint64_t block_number;
    uint8_t input_hash[32];
    uint8_t digest[32];   /* result hash, or root for lifecycle records */
    uint8_t out[128];     /* output prefix, for reports */
    char text[224];       /* HELLO: module name/version; FAIL: message (not compared) */
} rec;

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        const ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        b += w;
        n -= (size_t)w;
    }
    return 1;
}

static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        const ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        b += r;
        n -= (size_t)r;
    }
    return 1;
}

/* ------------------------------------------------------------ helpers */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- worker */
typedef struct worker_ctx {
    int fd;
    int ok;
} worker_ctx;

static void worker_observe(void *ctx, const rs_event *ev)
{
    worker_ctx *w = ctx;
    rec r;
    memset(&r, 0, sizeof r);
    r.type = (uint32_t)ev->type;
    r.aux = (uint32_t)ev->aux;
    r.rc = (int32_t)ev->rc;
    switch (ev->type) {
    case RS_EV_CALL:
    case RS_EV_SIMULATE:
        r.index = ev->index;
        r.block_number = ev->blk.number;
        r.gas_limit = ev->msg->gas;
        r.kind = (uint32_t)ev->msg->kind;
        r.is_static = (uint32_t)(ev->msg->is_static != 0);
        r.selector = dec_selector(ev->msg->input, ev->msg->input_size);
        ms_keccak256(r.input_hash, ev->msg->input, ev->msg->input_size);
        if (ev->rc == MS_OK) {
            r.status = (int32_t)ev->res->status;
            r.gas_used = ev->res->gas_used;
            r.out_len = (uint32_t)ev->res->output_size;
            r.log_count = ev->res->log_count;
            if (ev->res->output_size > 0)
                memcpy(r.out, ev->res->output, ev->res->output_size < sizeof r.out ? ev->res->output_size : sizeof r.out);
            rs_result_hash(r.digest, ev->res);
        }
        break;
    case RS_EV_CHECKPOINT:
    case RS_EV_REVERT:
        r.index = (uint64_t)ev->frame;
        break;
    case RS_EV_BEGIN:
        r.block_number = ev->blk.number;
        r.height = ev->blk.timestamp;
        break;
    case RS_EV_COMMIT:
        r.height = ev->height;
        r.log_count = ev->log_count;
        memcpy(r.digest, ev->root.bytes, 32);
        memcpy(r.input_hash, ev->log_hash, 32);
        break;
    case RS_EV_DISCARD: break;
    case RS_EV_ROLLBACK:
    case RS_EV_ROOT_AT:
        r.height = ev->height;
        memcpy(r.digest, ev->root.bytes, 32);
        break;
    }
    if (w->ok && !write_all(w->fd, &r, sizeof r)) w->ok = 0;
}

static void send_text(int fd, uint32_t type, const char *text)
{
    rec r;
    memset(&r, 0, sizeof r);
    r.type = type;
    snprintf(r.text, sizeof r.text, "%s", text);
    write_all(fd, &r, sizeof r);
}

/* Runs in the child. Returns the exit code. */
static int worker_main(int fd, const char *module_path, const char *dir, uint64_t seed, uint64_t blocks)
{
    host_module hm;
    if (host_load(&hm, module_path) != 0) {
        send_text(fd, REC_FAIL, "cannot load the module");
        return 2;
    }
    char hello[128];
    snprintf(hello, sizeof hello, "%s %s (schema %u) from %s", hm.m->name, hm.m->version,
             (unsigned)hm.m->schema_version, module_path);
    send_text(fd, REC_HELLO, hello);
    ms_config cfg;
    hm.m->default_config(&cfg);
    ms_instance *inst = NULL;
    ms_rc rc = hm.m->create(&inst, &cfg, dir);
    if (rc != MS_OK) {
        char msg[128];
        snprintf(msg, sizeof msg, "create: %s", hm.m->rc_string(rc));
        send_text(fd, REC_FAIL, msg);
        return 4;
    }
    worker_ctx w = {fd, 1};
    rs_options opt;
    memset(&opt, 0, sizeof opt);
    opt.seed = seed;
    rs_gen *g = rs_new(hm.m, inst, &cfg, &opt, worker_observe, &w);
    if (g == NULL) {
        send_text(fd, REC_FAIL, "generator initialisation failed");
        return 7;
    }
    int code = 0;
    for (uint64_t b = 0; b < blocks && w.ok; b++) {
        if (rs_step(g) < 0) {
            send_text(fd, REC_FAIL, rs_error(g));
            code = 5;
            break;
        }
    }
    if (code == 0) {
        rs_stats st;
        rs_get_stats(g, &st);
        char msg[128];
        snprintf(msg, sizeof msg,
                 "%llu calls (%llu ok, %llu revert, %llu oog), %llu eth_calls, %llu queries, %llu reverted frames, "
                 "%llu reorgs, %llu discards",
                 (unsigned long long)st.calls, (unsigned long long)st.status[0], (unsigned long long)st.status[1],
                 (unsigned long long)st.status[2], (unsigned long long)st.simulates, (unsigned long long)st.aux,
                 (unsigned long long)st.reverted_frames, (unsigned long long)st.reorgs, (unsigned long long)st.discards);
        send_text(fd, REC_END, msg);
    }
    rs_free(g);
    hm.m->destroy(inst);
    host_unload(&hm);
    rp_rm_tree(dir);
    return code;
}

/* ------------------------------------------------------------- parent */
static const char *ev_name(uint32_t t)
{
    switch (t) {
    case RS_EV_CALL: return "execute";
    case RS_EV_SIMULATE: return "simulate";
    case RS_EV_CHECKPOINT: return "checkpoint";
    case RS_EV_REVERT: return "revert_to";
    case RS_EV_BEGIN: return "begin block";
    case RS_EV_COMMIT: return "commit_block";
    case RS_EV_DISCARD: return "discard_block";
    case RS_EV_ROLLBACK: return "rollback_to";
    case RS_EV_ROOT_AT: return "root_at";
    case REC_HELLO: return "hello";
    case REC_END: return "end of stream";
    case REC_FAIL: return "failure";
    default: return "?";
    }
}

static const char *status_name(int32_t s)
{
    static const char *const n[] = {"SUCCESS", "REVERT", "OUT_OF_GAS", "FATAL"};
    return s >= 0 && s <= 3 ? n[s] : "?";
}

static int rec_equal(const rec *a, const rec *b)
{
    return memcmp(a, b, offsetof(rec, text)) == 0;
}

static void print_rec(FILE *f, int v, const rec *r)
{
    fprintf(f, "  validator %d: %s", v, ev_name(r->type));
    switch (r->type) {
    case RS_EV_CALL:
    case RS_EV_SIMULATE:
        fprintf(f, "%s #%llu %s(kind %u%s, gas limit %llu): ", r->aux ? " (generator query)" : "",
                (unsigned long long)r->index, rs_fn_name(r->selector), r->kind, r->is_static ? ", static" : "",
                (unsigned long long)r->gas_limit);
        if (r->rc != 0) {
            fprintf(f, "rc %d\n", r->rc);
            break;
        }
        fprintf(f, "status %s, gas_used %llu, %llu logs, output (%u bytes) ", status_name(r->status),
                (unsigned long long)r->gas_used, (unsigned long long)r->log_count, r->out_len);
        dec_hex(f, r->out, r->out_len < sizeof r->out ? r->out_len : sizeof r->out);
        if (r->out_len > sizeof r->out) fputs("...", f);
        if (r->status == MS_REVERT) {
            fputs(" = ", f);
            dec_print_error(f, r->out, r->out_len < sizeof r->out ? r->out_len : sizeof r->out);
        }
        fputs(", input hash ", f);
        dec_hex(f, r->input_hash, 8);
        fprintf(f, "..., result digest ");
        dec_hex(f, r->digest, 8);
        fputs("...\n", f);
        break;
    case RS_EV_COMMIT:
    case RS_EV_ROLLBACK:
    case RS_EV_ROOT_AT:
        fprintf(f, "(height %llu): rc %d, root ", (unsigned long long)r->height, r->rc);
        dec_hex(f, r->digest, 32);
        if (r->type == RS_EV_COMMIT) fprintf(f, ", %llu pending logs", (unsigned long long)r->log_count);
        fputc('\n', f);
        break;
    case RS_EV_BEGIN:
        fprintf(f, " number %llu timestamp %llu\n", (unsigned long long)r->block_number, (unsigned long long)r->height);
        break;
    case REC_FAIL:
    case REC_END:
        fprintf(f, " %s\n", r->text);
        break;
    default:
        fprintf(f, " #%llu rc %d\n", (unsigned long long)r->index, r->rc);
        break;
    }
}

typedef struct replay_args {
    int validators;
    uint64_t blocks;
    uint64_t seed;
    int progress;
    const char *module, *module2;
} replay_args;

static int run_replay(const replay_args *a)
{
    printf("replay: seed 0x%llx, %d validators, %llu blocks, module %s", (unsigned long long)a->seed, a->validators,
           (unsigned long long)a->blocks, a->module);
    if (a->module2 != NULL) printf(" (validator 1: %s)", a->module2);
    printf("\n");
    fflush(stdout);
    char base[512];
    if (!rp_tmpdir(base, sizeof base)) {
        fprintf(stderr, "replay: cannot create a temporary directory: %s\n", strerror(errno));
        return 2;
    }
    const int n = a->validators;
    pid_t pids[64];
    int fds[64];
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) != 0) {
            perror("pipe");
            return 2;
        }
        char dir[600];
        snprintf(dir, sizeof dir, "%s/v%d", base, i);
        fflush(NULL);
        const pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            close(p[0]);
            for (int j = 0; j < i; j++) close(fds[j]);
            signal(SIGPIPE, SIG_IGN);
            const char *mod = (i == 1 && a->module2 != NULL) ? a->module2 : a->module;
            const int code = worker_main(p[1], mod, dir, a->seed, a->blocks);
            close(p[1]);
            _exit(code);
        }
        close(p[1]);
        pids[i] = pid;
        fds[i] = p[0];
    }

    rec *r = calloc((size_t)n, sizeof *r);
    uint64_t agreed = 0, calls = 0, last_height = 0, block_ord = 0;
    uint32_t last_sel = 0;
    uint64_t last_call = 0;
    int failed = 0, done = 0;
    const double t0 = now_s();
    uint64_t next_progress = a->blocks / 10 ? a->blocks / 10 : 1;
    while (!failed && !done) {
        for (int i = 0; i < n; i++) {
            if (!read_all(fds[i], &r[i], sizeof r[i])) {
                memset(&r[i], 0, sizeof r[i]);
                r[i].type = REC_FAIL;
                snprintf(r[i].text, sizeof r[i].text, "worker exited without finishing its stream");
            }
        }
        if (r[0].type == REC_HELLO) {
            for (int i = 0; i < n; i++) {
                printf("replay: validator %d: %s\n", i, r[i].type == REC_HELLO ? r[i].text : "(no hello)");
                if (r[i].type != REC_HELLO) failed = 1;
            }
            if (failed) {
                for (int i = 0; i < n; i++) print_rec(stdout, i, &r[i]);
            }
            continue;
        }
        int same = 1;
        for (int i = 1; i < n; i++) same &= rec_equal(&r[0], &r[i]);
        int anyfail = 0;
        for (int i = 0; i < n; i++) anyfail |= r[i].type == REC_FAIL;
        if (!same || anyfail) {
            failed = 1;
            if (!same) {
                printf("replay: MISMATCH at stream block #%llu (height %llu), after call #%llu (%s) of that block\n",
                       (unsigned long long)block_ord + 1, (unsigned long long)last_height + 1,
                       (unsigned long long)last_call, rs_fn_name(last_sel));
                printf("replay: first diverging record: %s", ev_name(r[0].type));
                if (r[0].type == RS_EV_CALL || r[0].type == RS_EV_SIMULATE)
                    printf(" #%llu in block %llu, function %s", (unsigned long long)r[0].index,
                           (unsigned long long)r[0].block_number, rs_fn_name(r[0].selector));
                printf("\n");
            } else {
                printf("replay: every validator stopped at stream block #%llu (height %llu):\n",
                       (unsigned long long)block_ord + 1, (unsigned long long)last_height + 1);
            }
            for (int i = 0; i < n; i++) print_rec(stdout, i, &r[i]);
            break;
        }
        switch (r[0].type) {
        case RS_EV_CALL:
        case RS_EV_SIMULATE:
            calls++;
            if (!r[0].aux) {
                last_sel = r[0].selector;
                last_call = r[0].index;
            }
            break;
        case RS_EV_BEGIN: last_height = r[0].block_number - 1; break;
        case RS_EV_COMMIT:
            agreed++;
            block_ord++;
            last_height = r[0].height;
            if (a->progress && agreed >= next_progress) {
                printf("replay: %llu/%llu blocks (%d%%) agreed, height %llu, %llu calls, %.1fs\n",
                       (unsigned long long)agreed, (unsigned long long)a->blocks,
                       (int)(100 * agreed / (a->blocks ? a->blocks : 1)), (unsigned long long)last_height,
                       (unsigned long long)calls, now_s() - t0);
                fflush(stdout);
                next_progress += a->blocks / 10 ? a->blocks / 10 : 1;
            }
            break;
        case RS_EV_ROLLBACK:
            if (r[0].rc == MS_OK) last_height = r[0].height;
            break;
        case REC_END:
            done = 1;
            printf("replay: stream: %s\n", r[0].text);
            break;
        default: break;
        }
    }
    if (failed)
        for (int i = 0; i < n; i++) kill(pids[i], SIGKILL);
    int bad_exit = 0;
    for (int i = 0; i < n; i++) {
        close(fds[i]);
        int st = 0;
        waitpid(pids[i], &st, 0);
        if (!failed && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
            printf("replay: validator %d exited with status %d\n", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            bad_exit = 1;
        }
    }
    free(r);
    rp_rm_tree(base);
    if (failed || bad_exit) {
        printf("replay: seed 0x%llx: %llu passed, 1 failed (rerun: memsync-replay --validators %d --blocks %llu "
               "--seed 0x%llx%s%s %s)\n",
               (unsigned long long)a->seed, (unsigned long long)agreed, n, (unsigned long long)a->blocks,
               (unsigned long long)a->seed, a->module2 ? " --module2 " : "", a->module2 ? a->module2 : "", a->module);
        return 1;
    }
    printf("replay: %llu calls compared across %d validators in %.1fs\n", (unsigned long long)calls, n, now_s() - t0);
    printf("replay: %llu passed, 0 failed\n", (unsigned long long)agreed);
    return 0;
}

/* --------------------------------------------------------------- main */
static void usage(FILE *f)
{
    fputs("usage: memsync-replay [--validators N] [--blocks B] [--seed S] [--progress] [--module2 PATH] MODULE.so\n"
          "       memsync-replay --vectors DIR MODULE.so       replay conformance vectors (spec/vectors/conformance)\n"
          "       memsync-replay --emit-vectors DIR MODULE.so  regenerate them with this module\n"
          "Runs a seeded block stream on N validators (separate processes, fresh data directories)\n"
          "and compares status, gas, output, logs and root at every call and block.\n"
          "--module2 runs validator 1 on a different build. Exit 0: all agree; 1: mismatch; 2: usage/setup.\n",
          f);
}

int main(int argc, char **argv)
{
    replay_args a;
    memset(&a, 0, sizeof a);
    a.validators = 3;
    a.blocks = 200;
    a.seed = 0x5eed;
    const char *vectors = NULL, *emit = NULL;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const int has = i + 1 < argc;
        if (strcmp(s, "--validators") == 0 && has) a.validators = atoi(argv[++i]);
        else if (strcmp(s, "--blocks") == 0 && has) a.blocks = strtoull(argv[++i], NULL, 0);
        else if (strcmp(s, "--seed") == 0 && has) a.seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(s, "--progress") == 0) a.progress = 1;
        else if (strcmp(s, "--module2") == 0 && has) a.module2 = argv[++i];
        else if (strcmp(s, "--vectors") == 0 && has) vectors = argv[++i];
        else if (strcmp(s, "--emit-vectors") == 0 && has) emit = argv[++i];
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (s[0] == '-' || a.module != NULL) {
            usage(stderr);
            return 2;
        } else a.module = s;
    }
    if (a.module == NULL) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (emit != NULL) return vec_emit(emit, a.module);
    if (vectors != NULL) return vec_check(vectors, a.module);
    if (a.module2 != NULL && a.validators < 2) a.validators = 2;
    if (a.validators < 1 || a.validators > 64) {
        fprintf(stderr, "replay: --validators must be 1..64\n");
        return 2;
    }
    return run_replay(&a);
}
