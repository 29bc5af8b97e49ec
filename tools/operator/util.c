#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void op_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(OP_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int is_space(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int op_parse_hex_alloc(uint8_t **out, size_t *n, const char *s, size_t len)
{
    *out = NULL;
    *n = 0;
    while (len > 0 && is_space(s[0])) s++, len--;
    while (len > 0 && is_space(s[len - 1])) len--;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2, len -= 2;
    if (len % 2 != 0) return 0;
    uint8_t *b = malloc(len / 2 + 1);
    if (b == NULL) return 0;
    for (size_t i = 0; i < len / 2; i++) {
        const int hi = text_hex_digit(s[2 * i]), lo = text_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return 0;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *n = len / 2;
    return 1;
}

void op_hex(FILE *f, const uint8_t *p, size_t n)
{
    fputs("0x", f);
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

char *op_hex_str(char *buf, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    buf[0] = '0';
    buf[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        buf[2 + 2 * i] = digits[p[i] >> 4];
        buf[3 + 2 * i] = digits[p[i] & 15];
    }
    buf[2 + 2 * n] = '\0';
    return buf;
}

int op_read_file(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        op_err("cannot open %s: %s", path, strerror(errno));
        return 0;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b != NULL) {
        if (n + 1 >= cap) {
            uint8_t *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        const size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    const int bad = b == NULL || ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        op_err("cannot read %s%s", path, b == NULL ? ": out of memory" : "");
        return 0;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 1;
}

int op_write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        op_err("cannot create %s: %s", path, strerror(errno));
        return 0;
    }
    int ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok) op_err("cannot write %s", path);
    return ok;
}

int op_is_store_dir(const char *dir)
{
    char p[4096];
    struct stat st;
    if ((size_t)snprintf(p, sizeof p, "%s/CURRENT", dir) >= sizeof p) return 0;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int op_dir_missing_or_empty(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) return errno == ENOENT;
    if (!S_ISDIR(st.st_mode)) return 0;
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    }
    closedir(d);
    return empty;
}

int op_tmpdir(char *out, size_t cap)
{
    const char *t = getenv("TMPDIR");
    if (t == NULL || *t == '\0') t = "/tmp";
    if ((size_t)snprintf(out, cap, "%s/memsync-operator.XXXXXX", t) >= cap) return 0;
    return mkdtemp(out) != NULL;
}

void op_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < sizeof sub) op_rm_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

int op_parse_opts(const char *cmd, int argc, char **argv, op_opt *opts, size_t n)
{
    for (size_t j = 0; j < n; j++) opts[j].value = NULL;
    for (int i = 0; i < argc; i++) {
        op_opt *o = NULL;
        for (size_t j = 0; j < n && o == NULL; j++) {
            if (strcmp(argv[i], opts[j].name) == 0) o = &opts[j];
        }
        if (o == NULL) {
            op_err("%s: unknown %s '%s' (see `" OP_NAME " help %s`)", cmd,
                   argv[i][0] == '-' ? "option" : "argument", argv[i], cmd);
            return 0;
        }
        if (o->flag) {
            o->value = "1";
            continue;
        }
        if (i + 1 >= argc || argv[i + 1][0] == '\0') {
            op_err("%s: %s needs a value", cmd, o->name);
            return 0;
        }
        o->value = argv[++i];
    }
    return 1;
}

const char *op_opt_get(const op_opt *opts, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++) {
        if (strcmp(opts[j].name, name) == 0) return opts[j].value;
    }
    return NULL;
}

int op_require(const char *cmd, const op_opt *opts, size_t n, const char *name)
{
    if (op_opt_get(opts, n, name) != NULL) return 1;
    op_err("%s: %s is required (see `" OP_NAME " help %s`)", cmd, name, cmd);
    return 0;
}

void op_progress_init(op_progress *p, const char *what, uint64_t every)
{
    p->what = what;
    p->every = every;
    p->count = 0;
    p->shown = 0;
}

void op_progress_tick(op_progress *p)
{
    p->count++;
    if (p->every != 0 && p->count % p->every == 0) {
        fprintf(stderr, "  ... %s: %llu\n", p->what, (unsigned long long)p->count);
        p->shown = 1;
    }
}

void op_progress_done(op_progress *p)
{
    if (p->shown) fprintf(stderr, "  ... %s: %llu, done\n", p->what, (unsigned long long)p->count);
}
