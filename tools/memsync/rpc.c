/* A small Ethereum JSON-RPC client: HTTP/1.1 POST over a TCP socket (one
 * connection per request), only the methods the tool needs, and legacy
 * EIP-155 transactions signed here (tx.c). Answers are read with a strict
 * size cap and looked up by key; nothing from the node is trusted beyond
 * the hex it returns. */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "tx.h"

#define RPC_MAX_ANSWER (64u * 1024u * 1024u)
#define RPC_TIMEOUT_S 60

struct rpc {
    char host[256];
    char port[8];
    char path[512];
    uint64_t chain_id;
    uint8_t precompile[20];
    tx_key relayer;
    int has_relayer;
    unsigned next_id;
};

int rpc_open(rpc **out, const cli_opts *o)
{
    *out = NULL;
    const char *u = o->rpc;
    if (strncmp(u, "http://", 7) != 0) return cli_fail(CLI_USAGE, "--rpc needs an http:// URL");
    u += 7;
    rpc *r = calloc(1, sizeof *r);
    if (r == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    const char *slash = strchr(u, '/');
    const size_t hostport = slash != NULL ? (size_t)(slash - u) : strlen(u);
    const char *colon = memchr(u, ':', hostport);
    const size_t hl = colon != NULL ? (size_t)(colon - u) : hostport;
    const size_t pl = colon != NULL ? hostport - hl - 1 : 2;
    if (hl == 0 || hl >= sizeof r->host || pl == 0 || pl >= sizeof r->port ||
        (slash != NULL && strlen(slash) >= sizeof r->path)) {
        free(r);
        return cli_fail(CLI_USAGE, "--rpc URL not understood");
    }
    memcpy(r->host, u, hl);
    if (colon != NULL) memcpy(r->port, colon + 1, pl);
    else strcpy(r->port, "80");
    strcpy(r->path, slash != NULL ? slash : "/");
    r->chain_id = o->chain_id;
    memcpy(r->precompile, o->precompile, 20);
    if (o->relayer_key_file != NULL) {
        int rc = tx_key_load(&r->relayer, o->relayer_key_file);
        if (rc != CLI_OK) {
            free(r);
            return rc;
        }
        r->has_relayer = 1;
    }
    *out = r;
    return CLI_OK;
}

void rpc_close(rpc *r)
{
    if (r == NULL) return;
    tx_key_clear(&r->relayer);
    free(r);
}

/* One HTTP exchange; *body is the malloc'd, de-chunked response body. */
static int http_post(const rpc *r, const char *json, char **body)
{
    *body = NULL;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(r->host, r->port, &hints, &ai) != 0 || ai == NULL)
        return cli_fail(CLI_NODE, "cannot resolve %s", r->host);
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    struct timeval tv = {RPC_TIMEOUT_S, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return cli_fail(CLI_NODE, "cannot connect to %s:%s: %s", r->host, r->port, strerror(e));
    }
    freeaddrinfo(ai);
    const size_t jl = strlen(json);
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      r->path, r->host, r->port, jl);
    int ok = hn > 0 && (size_t)hn < sizeof head;
    for (size_t off = 0; ok && off < (size_t)hn;) {
        ssize_t w = write(fd, head + off, (size_t)hn - off);
        if (w <= 0) ok = 0; else off += (size_t)w;
    }
    for (size_t off = 0; ok && off < jl;) {
        ssize_t w = write(fd, json + off, jl - off);
        if (w <= 0) ok = 0; else off += (size_t)w;
    }
    size_t cap = 65536, n = 0;
    char *buf = ok ? malloc(cap + 1) : NULL;
    while (buf != NULL) {
        if (n == cap) {
            if (cap >= RPC_MAX_ANSWER) { free(buf); buf = NULL; break; }
            char *nb = realloc(buf, 2 * cap + 1);
            if (nb == NULL) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { free(buf); buf = NULL; break; }
        if (got == 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (buf == NULL) return cli_fail(CLI_NODE, "no complete answer from %s:%s", r->host, r->port);
    buf[n] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || sep == NULL) {
        free(buf);
        return cli_fail(CLI_NODE, "%s:%s does not speak HTTP", r->host, r->port);
    }
    *sep = '\0';
    char *b = sep + 4;
    size_t blen = n - (size_t)(b - buf);
    /* Header names are case-insensitive; lower-case a copy to search. */
    for (char *p = buf; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    if (strstr(buf, "transfer-encoding: chunked") != NULL) {
        size_t in = 0, outn = 0;
        for (;;) {
            char *end;
            unsigned long sz = strtoul(b + in, &end, 16);
            char *crlf = strstr(b + in, "\r\n");
            if (crlf == NULL || end == b + in) break;
            in = (size_t)(crlf - b) + 2;
            if (sz == 0 || sz > blen - in) break;
            memmove(b + outn, b + in, sz);
            outn += sz;
            in += sz + 2;
            if (in > blen) break;
        }
        blen = outn;
    }
    char *res = malloc(blen + 1);
    if (res == NULL) {
        free(buf);
        return cli_fail(CLI_INTERNAL, "out of memory");
    }
    memcpy(res, b, blen);
    res[blen] = '\0';
    free(buf);
    *body = res;
    return CLI_OK;
}

/* The string value of "key": "..." after position p, copied into a malloc'd
 * string (NULL when absent or not a string). */
static char *json_string(const char *p, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *k = strstr(p, pat);
    if (k == NULL) return NULL;
    k += strlen(pat);
    while (*k == ' ' || *k == ':' || *k == '\n' || *k == '\t') k++;
    if (*k != '"') return NULL;
    const char *e = strchr(k + 1, '"');
    if (e == NULL) return NULL;
    char *s = malloc((size_t)(e - k));
    if (s == NULL) return NULL;
    memcpy(s, k + 1, (size_t)(e - k - 1));
    s[e - k - 1] = '\0';
    return s;
}

/* Call method with params (JSON text). *result: the "result" string, or NULL
 * with *err_data (revert data, when the error carries some) on an error. */
static int rpc_request(rpc *r, const char *method, const char *params, char **result, char **err_data, int quiet)
{
    *result = NULL;
    if (err_data != NULL) *err_data = NULL;
    const size_t need = strlen(method) + strlen(params) + 96;
    char *json = malloc(need);
    if (json == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    snprintf(json, need, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"%s\",\"params\":%s}", ++r->next_id, method, params);
    char *body;
    int rc = http_post(r, json, &body);
    free(json);
    if (rc != CLI_OK) return rc;
    const char *errp = strstr(body, "\"error\"");
    if (errp != NULL) {
        char *msg = json_string(errp, "message");
        if (err_data != NULL) *err_data = json_string(errp, "data");
        if (!quiet || err_data == NULL || *err_data == NULL)
            rc = cli_fail(CLI_NODE, "%s: %s", method, msg != NULL ? msg : "error");
        else
            rc = CLI_REVERTED;
        free(msg);
    } else {
        *result = json_string(body, "result");
        if (*result == NULL && strstr(body, "\"result\":null") == NULL && strstr(body, "\"result\": null") == NULL)
            rc = cli_fail(CLI_NODE, "%s: the answer has no result", method);
    }
    free(body);
    return rc;
}

static int hex_to_buf(ms_buf *out, const char *s)
{
    if (s == NULL || s[0] != '0' || s[1] != 'x') return 0;
    s += 2;
    const size_t n = strlen(s);
    if (n % 2 != 0) return 0;
    if (!ms_buf_reserve(out, n / 2)) return 0;
    for (size_t i = 0; i < n; i += 2) {
        int hi = text_hex_digit(s[i]), lo = text_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out->data[out->size++] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static int quantity(uint64_t *v, const char *s)
{
    if (s == NULL || s[0] != '0' || s[1] != 'x' || s[2] == '\0' || strlen(s) > 18) return 0;
    *v = 0;
    for (const char *p = s + 2; *p; p++) {
        int d = text_hex_digit(*p);
        if (d < 0) return 0;
        *v = *v << 4 | (uint64_t)d;
    }
    return 1;
}

static char *hex_string(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (s == NULL) return NULL;
    s[0] = '0';
    s[1] = 'x';
    for (size_t i = 0; i < n; i++) snprintf(s + 2 + 2 * i, 3, "%02x", p[i]);
    return s;
}

/* {"from":..., "to": precompile, "data": ...} */
static char *call_object(const rpc *r, const uint8_t *from, const ms_buf *cd)
{
    char *data = hex_string(cd->data, cd->size), *to = hex_string(r->precompile, 20);
    char *fromh = from != NULL ? hex_string(from, 20) : NULL;
    char *s = NULL;
    if (data != NULL && to != NULL && (from == NULL || fromh != NULL)) {
        size_t need = strlen(data) + 200;
        s = malloc(need);
        if (s != NULL) {
            if (fromh != NULL)
                snprintf(s, need, "{\"from\":\"%s\",\"to\":\"%s\",\"data\":\"%s\"}", fromh, to, data);
            else
                snprintf(s, need, "{\"to\":\"%s\",\"data\":\"%s\"}", to, data);
        }
    }
    free(data);
    free(to);
    free(fromh);
    return s;
}

int rpc_call(rpc *r, const ms_buf *cd, ms_buf *out, int *reverted)
{
    *reverted = 0;
    char *obj = call_object(r, NULL, cd);
    if (obj == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    size_t need = strlen(obj) + 32;
    char *params = malloc(need);
    if (params == NULL) {
        free(obj);
        return cli_fail(CLI_INTERNAL, "out of memory");
    }
    snprintf(params, need, "[%s,\"latest\"]", obj);
    free(obj);
    char *res, *data;
    int rc = rpc_request(r, "eth_call", params, &res, &data, 1);
    free(params);
    if (rc == CLI_REVERTED) {
        *reverted = 1;
        rc = hex_to_buf(out, data) ? CLI_OK : cli_fail(CLI_NODE, "eth_call: revert data is not hex");
    } else if (rc == CLI_OK && !hex_to_buf(out, res)) {
        rc = cli_fail(CLI_NODE, "eth_call: the result is not hex");
    }
    free(res);
    free(data);
    return rc;
}

static int rpc_quantity(rpc *r, const char *method, const char *params, uint64_t *v)
{
    char *res;
    int rc = rpc_request(r, method, params, &res, NULL, 0);
    if (rc == CLI_OK && !quantity(v, res)) rc = cli_fail(CLI_NODE, "%s: not a 64-bit quantity", method);
    free(res);
    return rc;
}

int rpc_send(rpc *r, const msd_identity *from, const ms_buf *cd, ms_buf *revert, int *reverted)
{
    *reverted = 0;
    uint8_t sender[20];
    if (from != NULL) {
        msd_identity_address(from, sender);
    } else if (r->has_relayer) {
        memcpy(sender, r->relayer.address, 20);
    } else {
        return cli_fail(CLI_USAGE, "--rpc transactions need --relayer-key-file FILE (a funded account's key)");
    }
    char *fromh = hex_string(sender, 20), *obj = call_object(r, sender, cd);
    if (fromh == NULL || obj == NULL) {
        free(fromh);
        free(obj);
        return cli_fail(CLI_INTERNAL, "out of memory");
    }
    char small[128];
    uint64_t nonce = 0, price = 0, gas = 0;
    snprintf(small, sizeof small, "[\"%s\",\"pending\"]", fromh);
    int rc = rpc_quantity(r, "eth_getTransactionCount", small, &nonce);
    if (rc == CLI_OK) rc = rpc_quantity(r, "eth_gasPrice", "[]", &price);
    /* The estimate runs the call: a revert is reported before anything is sent. */
    size_t need = strlen(obj) + 32;
    char *params = malloc(need);
    if (rc == CLI_OK && params == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK) {
        snprintf(params, need, "[%s,\"latest\"]", obj);
        char *res, *data;
        rc = rpc_request(r, "eth_estimateGas", params, &res, &data, 1);
        if (rc == CLI_REVERTED) {
            *reverted = 1;
            rc = hex_to_buf(revert, data) ? CLI_OK : cli_fail(CLI_NODE, "revert data is not hex");
        } else if (rc == CLI_OK && !quantity(&gas, res)) {
            rc = cli_fail(CLI_NODE, "eth_estimateGas: not a quantity");
        }
        free(res);
        free(data);
    }
    free(params);
    free(obj);
    ms_buf raw;
    ms_buf_init(&raw);
    if (rc == CLI_OK && !*reverted) {
        tx_legacy t = {.nonce = nonce, .gas_price = price, .gas = gas + gas / 2 + 10000, .chain_id = r->chain_id};
        memcpy(t.to, r->precompile, 20);
        t.data = cd->data;
        t.data_len = cd->size;
        rc = from != NULL ? tx_sign_identity(&raw, &t, from) : tx_sign_key(&raw, &t, &r->relayer);
    }
    char *hash = NULL;
    if (rc == CLI_OK && !*reverted) {
        char *rawh = hex_string(raw.data, raw.size);
        char *p2 = rawh != NULL ? malloc(strlen(rawh) + 8) : NULL;
        if (p2 == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
        else {
            sprintf(p2, "[\"%s\"]", rawh);
            rc = rpc_request(r, "eth_sendRawTransaction", p2, &hash, NULL, 0);
        }
        free(p2);
        free(rawh);
    }
    ms_buf_free(&raw);
    /* The dev chain mines each transaction at once; a node that does not is
     * polled for the receipt a little while. */
    for (int tries = 0; rc == CLI_OK && hash != NULL && tries < 120; tries++) {
        snprintf(small, sizeof small, "[\"%s\"]", hash);
        char *body = NULL;
        const size_t pn = strlen(small) + 96;
        char *json = malloc(pn);
        if (json == NULL) { rc = cli_fail(CLI_INTERNAL, "out of memory"); break; }
        snprintf(json, pn, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_getTransactionReceipt\",\"params\":%s}",
                 ++r->next_id, small);
        rc = http_post(r, json, &body);
        free(json);
        if (rc != CLI_OK) break;
        char *status = strstr(body, "\"result\":null") == NULL ? json_string(body, "status") : NULL;
        free(body);
        if (status == NULL) {
            struct timespec ts = {0, 250000000};
            nanosleep(&ts, NULL);
            continue;
        }
        const int ok = strcmp(status, "0x1") == 0;
        free(status);
        if (!ok) {
            *reverted = 1;   /* mined but failed after the estimate: no revert data on a receipt */
            ms_buf_reset(revert);
        }
        free(hash);
        free(fromh);
        return CLI_OK;
    }
    if (rc == CLI_OK && hash != NULL) rc = cli_fail(CLI_NODE, "transaction %s was not mined", hash);
    free(hash);
    free(fromh);
    return rc;
}
