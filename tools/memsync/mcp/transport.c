/* The stdio transport (spec/mcp.md §1): newline-delimited messages on
 * stdin, one answer line each on stdout, nothing else on stdout. Lines are
 * capped; an over-long line is consumed to its end without being kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "mcp.h"

void mcp_reader_init(mcp_reader *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

void mcp_reader_free(mcp_reader *r)
{
    if (r->buf != NULL) sodium_memzero(r->buf, r->cap);   /* lines hold memory text */
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static int append(mcp_reader *r, const uint8_t *p, size_t n)
{
    /* An empty piece (a line that starts with '\n') adds nothing; r->buf may
     * still be NULL, and NULL + 0 is undefined behaviour. */
    if (n == 0) return 0;
    if (r->dropped > 0 || r->len + n > r->max) {
        /* [MCP-3] Over the cap: forget what was kept, count the rest. */
        if (r->dropped == 0) {
            r->dropped = r->len;
            if (r->buf != NULL) sodium_memzero(r->buf, r->len);
            r->len = 0;
        }
        r->dropped += n;
        return 0;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n) cap *= 2;
        if (cap > r->max) cap = r->max;
        uint8_t *q = malloc(cap > 0 ? cap : 1);
        if (q == NULL) return -1;
        if (r->buf != NULL) {
            memcpy(q, r->buf, r->len);
            sodium_memzero(r->buf, r->cap);
            free(r->buf);
        }
        r->buf = q;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    return 0;
}

static void end_line(mcp_reader *r, mcp_server *s, mcp_emit_fn emit, void *ctx)
{
    if (r->dropped > 0) mcp_handle_oversize(s, r->dropped, emit, ctx);
    else mcp_handle_line(s, r->buf != NULL ? r->buf : (const uint8_t *)"", r->len, emit, ctx);
    if (r->buf != NULL) sodium_memzero(r->buf, r->len);
    r->len = 0;
    r->dropped = 0;
}

int mcp_reader_feed(mcp_reader *r, mcp_server *s, const uint8_t *p, size_t n, mcp_emit_fn emit, void *ctx)
{
    while (n > 0) {
        const uint8_t *nl = memchr(p, '\n', n);
        const size_t k = nl != NULL ? (size_t)(nl - p) : n;
        if (append(r, p, k) != 0) return -1;
        if (nl == NULL) break;
        end_line(r, s, emit, ctx);
        p += k + 1;
        n -= k + 1;
    }
    return 0;
}

void mcp_reader_finish(mcp_reader *r, mcp_server *s, mcp_emit_fn emit, void *ctx)
{
    if (r->len > 0 || r->dropped > 0) end_line(r, s, emit, ctx);
}

/* ------------------------------------------------------------------ stdio */

typedef struct out_fd {
    int fd;
    int broken;
} out_fd;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void emit_fd(void *ctx, const char *line, size_t len)
{
    out_fd *o = ctx;
    if (o->broken) return;
    /* One write per message when it fits, so a reader never sees half a line for long. */
    char small[8192];
    if (len + 1 <= sizeof small) {
        memcpy(small, line, len);
        small[len] = '\n';
        if (write_all(o->fd, small, len + 1) != 0) o->broken = 1;
        sodium_memzero(small, len + 1);
        return;
    }
    if (write_all(o->fd, line, len) != 0 || write_all(o->fd, "\n", 1) != 0) o->broken = 1;
}

int mcp_serve(mcp_server *s, int in_fd, int out_fd_)
{
    mcp_reader r;
    mcp_reader_init(&r, MCP_MAX_LINE);
    out_fd o = {out_fd_, 0};
    static uint8_t chunk[65536];
    int rc = 0;
    for (;;) {
        const ssize_t n = read(in_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, "memsync mcp: reading stdin failed: %s\n", strerror(errno));
            break;
        }
        if (n == 0) {
            /* [MCP-4] End of input: answer a last unterminated line, then stop. */
            mcp_reader_finish(&r, s, emit_fd, &o);
            break;
        }
        const int fed = mcp_reader_feed(&r, s, chunk, (size_t)n, emit_fd, &o);
        sodium_memzero(chunk, (size_t)n);
        if (fed != 0) {
            fprintf(stderr, "memsync mcp: out of memory\n");
            rc = 1;
            break;
        }
        if (o.broken) break;
    }
    if (o.broken) {
        fprintf(stderr, "memsync mcp: stdout closed, stopping\n");
        rc = 1;
    }
    mcp_reader_free(&r);
    return rc;
}
