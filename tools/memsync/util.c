/* Hex, files and error reporting for the memsync tool. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"

void cli_print_field(const char *label, const uint8_t *p, size_t n)
{
    printf("%-10s", label);
    dec_hex(stdout, p, n);
    putchar('\n');
}

int cli_read_file(const char *path, uint8_t **data, size_t *len, size_t max)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return cli_fail(CLI_IO, "cannot open %s: %s", path, strerror(errno));
    /* Plaintexts and keys are read here: unbuffered, no stdio copy is left
     * behind on the heap for the caller's sodium_memzero to miss. */
    setvbuf(f, NULL, _IONBF, 0);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cli_fail(CLI_IO, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        return cli_fail(CLI_IO, "%s is larger than %zu bytes", path, max);
    }
    const size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL) {
        fclose(f);
        return cli_fail(CLI_INTERNAL, "out of memory reading %s", path);
    }
    if (n > 0 && fread(buf, 1, n, f) != n) {
        free(buf);
        fclose(f);
        return cli_fail(CLI_IO, "cannot read %s", path);
    }
    fclose(f);
    *data = buf;
    *len = n;
    return CLI_OK;
}

int cli_write_file(const char *path, const uint8_t *data, size_t len, int private_mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, private_mode ? 0600 : 0644);
    if (fd < 0) return cli_fail(CLI_IO, "cannot create %s: %s", path, strerror(errno));
    /* open's mode applies only to a new file: an existing one readable by
     * others is made private before a plaintext goes into it. */
    struct stat st;
    if (private_mode && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 &&
        fchmod(fd, st.st_mode & 0700) != 0) {
        int e = errno;
        close(fd);
        return cli_fail(CLI_IO, "cannot make %s private: %s", path, strerror(e));
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            return cli_fail(CLI_IO, "cannot write %s: %s", path, strerror(errno));
        }
        done += (size_t)w;
    }
    /* fsync of a pipe or terminal (--out /dev/stdout) is EINVAL: nothing to sync. */
    const int synced = fsync(fd) == 0 || errno == EINVAL;
    if (close(fd) != 0 || !synced) return cli_fail(CLI_IO, "cannot write %s", path);
    return CLI_OK;
}

int cli_exit_of(msd_status st)
{
    switch (st) {
    case MSD_OK: return CLI_OK;
    case MSD_ERR_ARGS: return CLI_USAGE;
    case MSD_ERR_IO: case MSD_ERR_EXISTS: return CLI_IO;
    case MSD_ERR_KEYFILE: return CLI_KEYFILE;
    case MSD_ERR_PASSPHRASE: return CLI_PASSPHRASE;
    case MSD_ERR_MALFORMED: return CLI_MALFORMED;
    case MSD_ERR_WRONG_EPOCH: return CLI_WRONG_EPOCH;
    case MSD_ERR_WRONG_KEY: return CLI_WRONG_KEY;
    case MSD_ERR_WRONG_CONTEXT: return CLI_WRONG_AD;
    case MSD_ERR_TAMPERED: return CLI_TAMPERED;
    case MSD_ERR_NOT_FOR_ME: case MSD_ERR_WRONG_GRANT: return CLI_NO_KEY;
    case MSD_ERR_BUNDLE: return CLI_BUNDLE;
    case MSD_ERR_BUNDLE_SIGNATURE: return CLI_BUNDLE_SIG;
    case MSD_ERR_CHAIN: case MSD_ERR_PROOF: return CLI_CHAIN_BROKEN;
    case MSD_ERR_MEM_MALFORMED: return CLI_MEM_MALFORMED;
    case MSD_ERR_MEM_VERSION: return CLI_MEM_VERSION;
    case MSD_ERR_MEM_TOO_LARGE: return CLI_MEM_TOO_LARGE;
    case MSD_ERR_MEM_NOT_FOUND: return CLI_NOT_FOUND;
    case MSD_ERR_MNEMONIC: return CLI_PHRASE;
    case MSD_ERR_IMPORT: return CLI_IMPORT;
    case MSD_ERR_INIT: case MSD_ERR_NOMEM: case MSD_ERR_BUFFER: case MSD_ERR_EPOCH_LIMIT: case MSD_ERR_SIGN:
        return CLI_INTERNAL;
    }
    return CLI_INTERNAL;
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("memsync: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* Every jansson allocation is wiped when freed: requests, results and parsed
 * documents hold memory text. The pointers stay plain malloc() ones, because
 * callers free json_dumps() output with free(); glibc tells the block's size
 * (spec/mcp.md [MCP-44]). */
#ifdef __GLIBC__
#include <malloc.h>

static void wipe_free(void *p)
{
    if (p == NULL) return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

void cli_wipe_json_allocations(void)
{
    json_set_alloc_funcs(malloc, wipe_free);
}
#else
void cli_wipe_json_allocations(void)
{
}
#endif
