/* The owner's memory on this device and on chain: local copy, lock, sync
 * (spec/memory-sync.md). See memstore.h for the layout of the home. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "abi/selectors.h"
#include "calldata.h"
#include "memstore.h"
#include "views.h"

/* The largest message one version holds at the module's default
 * max_ciphertext (65,536): a 32,768-byte padded plaintext (spec/device.md §3). */
#define MEMSTORE_MAX_PAYLOAD 32735u
#define MEMSTORE_TRIES 12u
#define MEMSTORE_LOCK_SECONDS 300
#define LOCAL_FILE_MAX (MSD_MEM_MAX_DOC + 4096u)

/* A parsed copy of one of the home's files, valid while the file on disk is
 * the same one: same size and same first CACHE_HEAD bytes, which hold the
 * envelope's random 24-byte nonce, new at every write (inode numbers are
 * reused and modification times are coarse, so neither is enough). It
 * spares a long-running process (the MCP server) a decrypt and parse per
 * call; the check reads CACHE_HEAD bytes under the home's lock. */
#define CACHE_HEAD 64u
typedef struct doc_cache {
    int valid;
    off_t size;
    uint8_t head[CACHE_HEAD];
    uint64_t version;
    msd_mem_doc *doc;
} doc_cache;

struct memstore {
    const cli_opts *o;
    msd_identity *id;
    uint8_t me[20];
    uint8_t asset[32];
    int own;                          /* this identity owns the memory (known from the salt or the chain's head) */
    int has_salt;                     /* salt is the memory's creation salt (its own, found from the seed) */
    uint8_t salt[32];
    chain *c;                         /* NULL: local only */
    uint8_t device[MSD_MEM_DEVICE_SIZE];
    msd_data_key *local_key;          /* seals the files of the home (derived; chain id 0) */
    char dir[4096];
    int lock_fd;
    doc_cache base_cache, local_cache;
    uint64_t checked_epoch;           /* the key epoch whose owner key was checked against the head */
    uint64_t no_grant_epoch;          /* the owner holds no grant of this epoch (asked once per process) */
};

/* ------------------------------------------------------------ small helpers */

static int mkdir_one(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return CLI_OK;
    return cli_fail(CLI_IO, "cannot create folder %s: %s", path, strerror(errno));
}

static int path_in(char *buf, size_t cap, const memstore *m, const char *name)
{
    if ((size_t)snprintf(buf, cap, "%s/%s", m->dir, name) >= cap) return cli_fail(CLI_USAGE, "--home path too long");
    return CLI_OK;
}

/* Write name atomically: a temporary file in the same folder, synced, renamed. */
static int write_atomic(const memstore *m, const char *name, const uint8_t *p, size_t n)
{
    char path[4200], tmp[4300];
    int rc = path_in(path, sizeof path, m, name);
    if (rc != CLI_OK) return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    rc = cli_write_file(tmp, p, n, 1);
    if (rc == CLI_OK && rename(tmp, path) != 0) {
        rc = cli_fail(CLI_IO, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    if (rc == CLI_OK) {
        int dfd = open(m->dir, O_RDONLY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}

/* CLI_OK with the file's bytes, CLI_NO_KEY (quietly) when it does not exist. */
static int read_optional(const memstore *m, const char *name, uint8_t **p, size_t *n)
{
    char path[4200];
    *p = NULL;
    *n = 0;
    int rc = path_in(path, sizeof path, m, name);
    if (rc != CLI_OK) return rc;
    if (access(path, F_OK) != 0) return CLI_NO_KEY;
    return cli_read_file(path, p, n, LOCAL_FILE_MAX);
}

static msd_context local_context(const memstore *m, uint64_t version)
{
    msd_context c;
    memset(&c, 0, sizeof c);
    memcpy(c.asset_id, m->asset, 32);
    c.version = version;
    c.key_epoch = 1;
    return c;
}

static int status_fail(msd_status s, const char *what)
{
    return cli_fail(cli_exit_of(s), "%s: %s", what, msd_strerror(s));
}

/* Pack and encrypt doc under key for ctx. Out: *env (malloc'd), *len. */
static int seal_doc(uint8_t **env, size_t *len, const msd_mem_doc *doc, const msd_data_key *key,
                    const msd_context *ctx, size_t max_payload)
{
    *env = NULL;
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    msd_status s = msd_mem_pack(&pt, &pt_len, doc);
    if (s != MSD_OK) return status_fail(s, "memory document");
    int rc = CLI_OK;
    if (pt_len > max_payload)
        rc = cli_fail(CLI_MEM_TOO_LARGE, "the memory no longer fits one version (%zu bytes packed, at most %zu): "
                                         "forget facts to make room", pt_len, max_payload);
    const size_t need = rc == CLI_OK ? msd_envelope_size(pt_len) : 0;
    uint8_t *buf = need > 0 ? malloc(need) : NULL;
    if (rc == CLI_OK && buf == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK) {
        s = msd_encrypt(buf, need, len, key, ctx, pt, pt_len);
        if (s != MSD_OK) rc = status_fail(s, "encrypt");
    }
    sodium_memzero(pt, pt_len);
    free(pt);
    if (rc != CLI_OK) {
        free(buf);
        return rc;
    }
    *env = buf;
    return CLI_OK;
}

static int open_doc(msd_mem_doc **doc, const uint8_t *env, size_t env_len, const msd_data_key *key,
                    const msd_context *ctx, const char *what)
{
    *doc = NULL;
    uint8_t *pt = malloc(env_len > 0 ? env_len : 1);
    if (pt == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    size_t pt_len = 0;
    msd_status s = msd_decrypt(pt, env_len, &pt_len, key, ctx, env, env_len);
    if (s == MSD_OK) s = msd_mem_unpack(doc, pt, pt_len);
    sodium_memzero(pt, env_len);
    free(pt);
    return s == MSD_OK ? CLI_OK : status_fail(s, what);
}

/* ---------------------------------------------------------------- open */

static int device_id(memstore *m)
{
    uint8_t *p;
    size_t n;
    int rc = read_optional(m, "device", &p, &n);
    if (rc == CLI_OK && n == MSD_MEM_DEVICE_SIZE) {
        memcpy(m->device, p, n);
        free(p);
        return CLI_OK;
    }
    free(p);
    if (rc == CLI_OK) return cli_fail(CLI_IO, "%s/device is not an 8-byte device id", m->dir);
    if (rc != CLI_NO_KEY) return rc;
    /* A new home: a random id, so two homes of one identity never share stamps. */
    randombytes_buf(m->device, sizeof m->device);
    return write_atomic(m, "device", m->device, sizeof m->device);
}

int memstore_open(memstore **out, const cli_opts *o)
{
    *out = NULL;
    memstore *m = calloc(1, sizeof *m);
    if (m == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    m->o = o;
    m->lock_fd = -1;
    int rc = home_open_identity(&m->id, o);
    if (rc == CLI_OK) {
        msd_identity_address(m->id, m->me);
        if (o->asset != NULL) {
            if (!text_hex_exact(m->asset, 32, o->asset)) rc = cli_fail(CLI_USAGE, "--asset needs 32 bytes of hex");
        } else {
            msd_memory_salt(m->salt, m->id, 0);
            msd_asset_id(m->asset, o->precompile, m->me, m->salt);
            m->own = 1;
            m->has_salt = 1;
        }
    }
    if (rc == CLI_OK) {
        char hex[65];
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", m->asset[i]);
        char base[4096];
        if ((size_t)snprintf(base, sizeof base, "%s/memory", o->home) >= sizeof base ||
            (size_t)snprintf(m->dir, sizeof m->dir, "%s/memory/%llu-%s", o->home, (unsigned long long)o->chain_id,
                             hex) >= sizeof m->dir)
            rc = cli_fail(CLI_USAGE, "--home path too long");
        if (rc == CLI_OK) rc = mkdir_one(o->home);
        if (rc == CLI_OK) rc = mkdir_one(base);
        if (rc == CLI_OK) rc = mkdir_one(m->dir);
    }
    if (rc == CLI_OK) {
        static const uint8_t zero20[20] = {0};
        msd_status s = msd_data_key_derive(&m->local_key, m->id, 0, zero20, m->asset, 1);
        if (s != MSD_OK) rc = status_fail(s, "local key");
    }
    if (rc == CLI_OK) {
        char path[4200];
        rc = path_in(path, sizeof path, m, "lock");
        if (rc == CLI_OK) {
            m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (m->lock_fd < 0) rc = cli_fail(CLI_IO, "cannot open %s: %s", path, strerror(errno));
        }
    }
    if (rc == CLI_OK) rc = device_id(m);
    if (rc == CLI_OK && (o->rpc != NULL || o->node != NULL)) rc = chain_open(&m->c, o);
    if (rc != CLI_OK) {
        memstore_close(m);
        return rc;
    }
    *out = m;
    return CLI_OK;
}

void memstore_close(memstore *m)
{
    if (m == NULL) return;
    if (m->lock_fd >= 0) close(m->lock_fd);
    msd_mem_free(m->base_cache.doc);
    msd_mem_free(m->local_cache.doc);
    chain_close(m->c);
    msd_data_key_destroy(m->local_key);
    msd_identity_destroy(m->id);
    sodium_memzero(m, sizeof *m);
    free(m);
}

int memstore_has_chain(const memstore *m)
{
    return m->c != NULL;
}

const uint8_t *memstore_device(const memstore *m)
{
    return m->device;
}

const uint8_t *memstore_asset(const memstore *m)
{
    return m->asset;
}

/* ----------------------------------------------------------------- lock */

static int lock_home(memstore *m)
{
    for (int waited = 0;; waited++) {
        if (flock(m->lock_fd, LOCK_EX | LOCK_NB) == 0) return CLI_OK;
        if (errno != EWOULDBLOCK && errno != EINTR) return cli_fail(CLI_IO, "cannot lock %s: %s", m->dir, strerror(errno));
        if (waited >= MEMSTORE_LOCK_SECONDS * 50)
            return cli_fail(CLI_LOCKED, "another memsync process has held %s/lock for %d s", m->dir,
                            MEMSTORE_LOCK_SECONDS);
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
}

static void unlock_home(memstore *m)
{
    (void)flock(m->lock_fd, LOCK_UN);
}

/* ------------------------------------------------------- the local copy */

/* What the home holds: the base (last version seen on chain) and the working document. */
typedef struct state {
    uint64_t base_version;            /* 0: no version seen yet */
    msd_mem_doc *base;                /* NULL when base_version is 0 */
    msd_mem_doc *local;
    int dirty;                        /* changed since loaded: save it */
} state;

static void state_free(state *s)
{
    msd_mem_free(s->base);
    msd_mem_free(s->local);
    memset(s, 0, sizeof *s);
}

/* The size and first bytes of path, or 0 when it cannot be read. */
static int file_head(const char *path, off_t *size, uint8_t head[CACHE_HEAD])
{
    memset(head, 0, CACHE_HEAD);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    const int ok = fstat(fd, &st) == 0 && st.st_size >= (off_t)CACHE_HEAD &&
                   pread(fd, head, CACHE_HEAD, 0) == (ssize_t)CACHE_HEAD;
    close(fd);
    *size = st.st_size;
    return ok;
}

/* Remember doc (a copy) as the content of the file name as it is now. */
static void cache_put(memstore *m, doc_cache *c, const char *name, const msd_mem_doc *doc, uint64_t version)
{
    char path[4200];
    msd_mem_free(c->doc);
    c->doc = NULL;
    c->valid = 0;
    if (snprintf(path, sizeof path, "%s/%s", m->dir, name) >= (int)sizeof path || !file_head(path, &c->size, c->head))
        return;
    if (msd_mem_clone(&c->doc, doc) != MSD_OK) return;
    c->version = version;
    c->valid = 1;
}

/* The document in the home's file name (base: preceded by its u64 version):
 * a new copy in *doc, from the cache when the file has not changed.
 * CLI_NO_KEY (quietly) when the file does not exist. */
static int load_file(memstore *m, doc_cache *c, const char *name, int with_version, msd_mem_doc **doc,
                     uint64_t *version)
{
    char path[4200];
    *doc = NULL;
    int rc = path_in(path, sizeof path, m, name);
    if (rc != CLI_OK) return rc;
    if (access(path, F_OK) != 0) {
        c->valid = 0;
        return errno == ENOENT ? CLI_NO_KEY : cli_fail(CLI_IO, "cannot read %s: %s", path, strerror(errno));
    }
    off_t size = 0;
    uint8_t head[CACHE_HEAD];
    if (c->valid && file_head(path, &size, head) && size == c->size && memcmp(head, c->head, CACHE_HEAD) == 0) {
        msd_status s = msd_mem_clone(doc, c->doc);
        *version = c->version;
        return s == MSD_OK ? CLI_OK : status_fail(s, "memory document");
    }
    uint8_t *p = NULL;
    size_t n = 0;
    rc = cli_read_file(path, &p, &n, LOCAL_FILE_MAX);
    uint64_t v = 0;
    const size_t skip = with_version ? 8 : 0;
    if (rc == CLI_OK && n < skip) rc = cli_fail(CLI_MEM_MALFORMED, "%s is truncated", path);
    if (rc == CLI_OK) {
        for (size_t i = 0; i < skip; i++) v = v << 8 | p[i];
        const msd_context ctx = local_context(m, with_version ? 2 : 1);
        rc = open_doc(doc, p + skip, n - skip, m->local_key, &ctx,
                      with_version ? "the home's copy of the chain's version" : "the home's working copy");
    }
    free(p);
    if (rc != CLI_OK) return rc;
    *version = v;
    cache_put(m, c, name, *doc, v);
    return CLI_OK;
}

static int state_load(memstore *m, state *s)
{
    memset(s, 0, sizeof *s);
    uint64_t unused;
    int rc = load_file(m, &m->base_cache, "base", 1, &s->base, &s->base_version);
    if (rc == CLI_NO_KEY) rc = CLI_OK;
    if (rc == CLI_OK) {
        rc = load_file(m, &m->local_cache, "local", 0, &s->local, &unused);
        if (rc == CLI_NO_KEY) {
            msd_status st = s->base != NULL ? msd_mem_clone(&s->local, s->base) : msd_mem_new(&s->local);
            rc = st == MSD_OK ? CLI_OK : status_fail(st, "memory document");
        }
    }
    if (rc != CLI_OK) state_free(s);
    return rc;
}

static int state_save(memstore *m, const state *s)
{
    uint8_t *env = NULL;
    size_t len = 0;
    msd_context ctx = local_context(m, 1);
    int rc = seal_doc(&env, &len, s->local, m->local_key, &ctx, MSD_MAX_PLAINTEXT);
    if (rc == CLI_OK) rc = write_atomic(m, "local", env, len);
    if (rc == CLI_OK) cache_put(m, &m->local_cache, "local", s->local, 0);
    free(env);
    if (rc != CLI_OK || s->base == NULL) return rc;
    ctx = local_context(m, 2);
    rc = seal_doc(&env, &len, s->base, m->local_key, &ctx, MSD_MAX_PLAINTEXT);
    uint8_t *file = rc == CLI_OK ? malloc(len + 8) : NULL;
    if (rc == CLI_OK && file == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK) {
        for (int i = 0; i < 8; i++) file[i] = (uint8_t)(s->base_version >> (56 - 8 * i));
        memcpy(file + 8, env, len);
        rc = write_atomic(m, "base", file, len + 8);
    }
    if (rc == CLI_OK) cache_put(m, &m->base_cache, "base", s->base, s->base_version);
    free(file);
    free(env);
    return rc;
}

/* 1 when a and b have the same canonical bytes (0 also when one does not serialise). */
static int same_doc(const msd_mem_doc *a, const msd_mem_doc *b)
{
    uint8_t *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    int same = msd_mem_serialize(&pa, &la, a) == MSD_OK && msd_mem_serialize(&pb, &lb, b) == MSD_OK && la == lb &&
               memcmp(pa, pb, la) == 0;
    if (pa != NULL) sodium_memzero(pa, la);
    if (pb != NULL) sodium_memzero(pb, lb);
    free(pa);
    free(pb);
    return same;
}

/* ------------------------------------------------------------- the chain */

/* The data key of epoch: the owner's is derived from the seed (the keyring
 * first, for a memory whose early epochs were made before keys were
 * derived); a grantee's comes from its keyring or its grant on chain. */
/* A grant on chain to this identity for epoch: *key from its wrapped key
 * (kept in the keyring), or CLI_NO_KEY (quietly) when there is none. */
static int key_from_grant(memstore *m, uint64_t epoch, msd_data_key **key)
{
    view_grant g;
    ms_buf w;
    ms_buf_init(&w);
    int found = 0;
    int rc = view_grant_of(m->c, m->asset, m->me, &g, &w, &found);
    if (rc == CLI_OK && (!found || g.key_epoch != epoch)) rc = CLI_NO_KEY;
    if (rc == CLI_OK) {
        /* The grant names its chain and precompile (spec/device.md [DEV-36]): one
         * for another chain's memory with the same asset id does not open here. */
        msd_status s = msd_unwrap_key_bound(key, NULL, m->id, w.data, w.size, m->o->chain_id, m->o->precompile,
                                            m->asset, epoch);
        if (s != MSD_OK) rc = cli_fail(CLI_NO_KEY, "the grant's wrapped key: %s", msd_strerror(s));
    }
    if (rc == CLI_OK) rc = home_store_wrapped(m->o, m->asset, epoch, w.data, w.size);
    ms_buf_free(&w);
    return rc;
}

/* The data key of epoch: the keyring's; else a grant to this identity (a
 * grantee's, or a new owner's from before a transfer); else, for the owner,
 * the key derived from the seed (spec/device.md §6), which is not kept: a
 * key found later in a grant must still fit in the keyring. */
static int chain_key(memstore *m, uint64_t epoch, msd_data_key **key)
{
    *key = NULL;
    int rc = home_load_data_key(key, m->o, m->id, m->asset, epoch);
    if (rc != CLI_NO_KEY) return rc;
    if (!m->own || m->no_grant_epoch != epoch) {
        rc = key_from_grant(m, epoch, key);
        if (rc != CLI_NO_KEY) return rc;
        m->no_grant_epoch = epoch;
    }
    if (!m->own)
        return cli_fail(CLI_NO_KEY, "no data key for key epoch %llu of this memory: no grant of that epoch to this "
                                    "identity (never granted, or revoked)", (unsigned long long)epoch);
    msd_status s = msd_data_key_derive(key, m->id, m->o->chain_id, m->o->precompile, m->asset, epoch);
    return s == MSD_OK ? CLI_OK : status_fail(s, "data key");
}

/* The document of version v (retained) as the chain holds it. */
static int pull_version(memstore *m, uint64_t v, uint64_t epoch, msd_mem_doc **doc)
{
    *doc = NULL;
    ms_buf ct;
    ms_buf_init(&ct);
    int retained = 0;
    int rc = view_ciphertext(m->c, m->asset, v, &ct, &retained);
    if (rc == CLI_OK && !retained)
        rc = cli_fail(CLI_CHAIN_BROKEN, "version %llu of the memory is no longer retained", (unsigned long long)v);
    msd_data_key *key = NULL;
    if (rc == CLI_OK) rc = chain_key(m, epoch, &key);
    if (rc == CLI_OK) {
        const msd_context ctx = cli_context(m->o, m->asset, v, epoch);
        rc = open_doc(doc, ct.data, ct.size, key, &ctx, "the chain's version");
    }
    msd_data_key_destroy(key);
    ms_buf_free(&ct);
    return rc;
}

/* 1 when a revert means "someone else wrote first": pull, merge and try again. */
static int is_race(const ms_buf *rev)
{
    if (rev->size == 0) return 1;   /* mined after its estimate, then failed: the head moved */
    if (rev->size < 4) return 0;
    const uint32_t sel = (uint32_t)rev->data[0] << 24 | (uint32_t)rev->data[1] << 16 | (uint32_t)rev->data[2] << 8 |
                         rev->data[3];
    return sel == MS_E_VERSION_CONFLICT || sel == MS_E_INVALID_NONCE || sel == MS_E_ASSET_EXISTS;
}

/* Write doc as version `version` (1: create), signed by the identity and sent by the relayer. */
static int push_version(memstore *m, const msd_mem_doc *doc, uint64_t version, uint64_t epoch, ms_buf *rev)
{
    msd_data_key *key = NULL;
    int rc = CLI_OK;
    if (version == 1) {
        /* A new memory starts under the owner's derived key (spec/device.md §6). */
        msd_status st = msd_data_key_derive(&key, m->id, m->o->chain_id, m->o->precompile, m->asset, epoch);
        if (st != MSD_OK) rc = status_fail(st, "data key");
    } else if (m->own && m->checked_epoch != epoch) {
        /* The owner writes under the key that opens the current epoch's head;
         * after a transfer of ownership none does, and the key is rotated
         * first (spec/device.md [DEV-41]). Checked once per epoch. */
        rc = cli_owner_write_key(m->c, m->o, m->id, m->asset, &key, &epoch, NULL);
        if (rc == CLI_OK) m->checked_epoch = epoch;
    } else {
        rc = chain_key(m, epoch, &key);
    }
    uint8_t *env = NULL;
    size_t env_len = 0;
    if (rc == CLI_OK) {
        const msd_context ctx = cli_context(m->o, m->asset, version, epoch);
        rc = seal_doc(&env, &env_len, doc, key, &ctx, MEMSTORE_MAX_PAYLOAD);
    }
    msd_data_key_destroy(key);
    uint64_t nonce = 0;
    if (rc == CLI_OK) rc = view_nonce_of(m->c, m->me, &nonce);
    const uint64_t deadline = (uint64_t)time(NULL) + 3600u;
    ms_buf cd;
    ms_buf_init(&cd);
    if (rc == CLI_OK) {
        const size_t cap = env_len + 1024;
        size_t len = 0;
        static const uint8_t metadata[32] = {0};
        msd_status s = MSD_ERR_NOMEM;
        if (ms_buf_reserve(&cd, cap))
            s = version == 1 ? msd_sign_create_memory(cd.data, cap, &len, NULL, m->id, m->o->chain_id,
                                                      m->o->precompile, m->salt, metadata, env, env_len, nonce, deadline)
                             : msd_sign_append_version(cd.data, cap, &len, NULL, m->id, m->o->chain_id,
                                                       m->o->precompile, m->asset, version - 1, epoch, env, env_len,
                                                       nonce, deadline);
        if (s != MSD_OK) rc = status_fail(s, "sign");
        cd.size = len;
    }
    free(env);
    if (rc == CLI_OK) rc = chain_try_send(m->c, NULL, &cd, rev);
    ms_buf_free(&cd);
    return rc;
}

/* Shred versions 1..up_to (owner only): the forgotten text leaves the chain's state. */
static int shred_below(memstore *m, uint64_t up_to)
{
    ms_buf cd;
    ms_buf_init(&cd);
    cd_id_u64(&cd, MS_FN_SHRED_VERSIONS, m->asset, up_to);
    int rc = chain_send(m->c, m->id, &cd);
    ms_buf_free(&cd);
    if (rc != CLI_OK) {
        char addr[41];
        for (int i = 0; i < 20; i++) snprintf(addr + 2 * i, 3, "%02x", m->me[i]);
        cli_fail(rc, "the forget is on chain, but versions 1..%llu still hold the forgotten text: shredding them "
                     "is a transaction from the owner 0x%s, which needs gas on this chain; run `memsync sync` again",
                 (unsigned long long)up_to, addr);
    }
    return rc;
}

/* Bring s and the chain together: pull what is new and merge, push what the
 * chain lacks; compare-and-swap on the head version, retried on races. */
static int sync_state(memstore *m, state *s, memstore_sync_report *rep, int forgot)
{
    memset(rep, 0, sizeof *rep);
    ms_buf rev;
    ms_buf_init(&rev);
    int rc = CLI_OK;
    for (unsigned attempt = 0;; attempt++) {
        if (attempt >= MEMSTORE_TRIES) {
            rc = cli_fail(CLI_CONFLICT, "gave up after %u attempts: the memory kept changing on chain; the change is "
                                        "kept on this device for the next sync", MEMSTORE_TRIES);
            break;
        }
        if (attempt > 0) {
            /* Writers that keep colliding step apart: a random delay whose
             * range doubles with each attempt (20 ms + up to 40·2^k ms, k <= 5),
             * so a writer that lost once is not the one that always loses. */
            const unsigned k = attempt - 1 < 5 ? attempt - 1 : 5;
            const long ms = 20 + (long)randombytes_uniform(40u << k);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        view_head h;
        rc = view_head_of(m->c, m->asset, &h);
        if (rc != CLI_OK) break;
        if (h.exists && (h.flags & 1u)) {
            rc = cli_fail(CLI_REVERTED, "this memory was shredded on chain");
            break;
        }
        if (!h.exists && !m->has_salt) {
            rc = cli_fail(CLI_REVERTED, "no memory %s on this chain", m->o->asset);
            break;
        }
        if (h.exists && memcmp(h.owner, m->me, 20) == 0) m->own = 1;
        if (h.exists && h.version < s->base_version) {
            rc = cli_fail(CLI_CHAIN_BROKEN, "the chain's head (version %llu) is behind what this home saw (%llu): "
                                            "another chain, or a chain that was reset",
                          (unsigned long long)h.version, (unsigned long long)s->base_version);
            break;
        }
        if (h.exists && h.version > s->base_version) {
            msd_mem_doc *theirs = NULL, *merged = NULL;
            rc = pull_version(m, h.version, h.key_epoch, &theirs);
            if (rc == CLI_OK) {
                msd_status st = msd_mem_merge3(&merged, s->base, s->local, theirs);
                if (st != MSD_OK) rc = status_fail(st, "merge");
            }
            if (rc != CLI_OK) {
                msd_mem_free(theirs);
                break;
            }
            msd_mem_free(s->base);
            msd_mem_free(s->local);
            s->base = theirs;
            s->local = merged;
            s->base_version = h.version;
            s->dirty = 1;
            rep->pulled = 1;
        }
        if (s->base != NULL && same_doc(s->base, s->local)) break;   /* nothing to push */
        if (s->base == NULL && msd_mem_count(s->local) == 0 && msd_mem_tombstones(s->local) == 0) break;
        const uint64_t version = s->base_version + 1, epoch = h.exists ? h.key_epoch : 1;
        /* A version that forgets something the chain still holds must be
         * followed by a shred of the versions below it. */
        const int forgets = msd_mem_tombstones(s->local) > (s->base != NULL ? msd_mem_tombstones(s->base) : 0);
        rc = push_version(m, s->local, version, epoch, &rev);
        if (rc == CLI_REVERTED && is_race(&rev)) {
            rep->conflicts++;
            continue;
        }
        if (rc == CLI_REVERTED) rc = chain_report_revert(rev.data, rev.size);
        if (rc != CLI_OK) break;
        msd_mem_free(s->base);
        s->base = NULL;
        msd_status st = msd_mem_clone(&s->base, s->local);
        if (st != MSD_OK) {
            rc = status_fail(st, "memory document");
            break;
        }
        s->base_version = version;
        s->dirty = 1;
        rep->pushed = 1;
        forgot |= forgets;
        break;
    }
    ms_buf_free(&rev);
    rep->version = s->base_version;
    if (rc != CLI_OK) return rc;
    if (forgot && m->own && s->base_version > 1) {
        rc = shred_below(m, s->base_version - 1);
        if (rc == CLI_OK) rep->shredded_up_to = s->base_version - 1;
    }
    return rc;
}

/* A change that would make the memory too large for one version is refused
 * before anything is written (spec/memory-sync.md [SYNC-9]). */
static int check_fits(const msd_mem_doc *doc)
{
    uint8_t *pt = NULL;
    size_t len = 0;
    msd_status s = msd_mem_pack(&pt, &len, doc);
    if (pt != NULL) sodium_memzero(pt, len);
    free(pt);
    if (s != MSD_OK) return status_fail(s, "memory document");
    if (len > MEMSTORE_MAX_PAYLOAD)
        return cli_fail(CLI_MEM_TOO_LARGE, "refused: the memory would no longer fit one version (%zu bytes packed, at "
                                           "most %u); forget facts to make room", len, MEMSTORE_MAX_PAYLOAD);
    return CLI_OK;
}

/* ---------------------------------------------------------------- API */

int memstore_load(memstore *m, msd_mem_doc **doc, int pull)
{
    *doc = NULL;
    int rc = lock_home(m);
    if (rc != CLI_OK) return rc;
    state s;
    rc = state_load(m, &s);
    if (rc == CLI_OK && pull && m->c != NULL) {
        memstore_sync_report rep;
        rc = sync_state(m, &s, &rep, 0);
        const int save = s.dirty ? state_save(m, &s) : CLI_OK;
        if (rc == CLI_OK) rc = save;
    }
    if (rc == CLI_OK) {
        *doc = s.local;
        s.local = NULL;
    }
    state_free(&s);
    unlock_home(m);
    return rc;
}

int memstore_update(memstore *m, memstore_edit_fn fn, void *arg, int shred_after)
{
    int rc = lock_home(m);
    if (rc != CLI_OK) return rc;
    state s;
    rc = state_load(m, &s);
    if (rc == CLI_OK) rc = fn(s.local, m->device, arg);
    if (rc == CLI_OK && m->c != NULL) rc = check_fits(s.local);
    /* The change is on disk before the chain hears of it: a failed push loses nothing. */
    if (rc == CLI_OK) rc = state_save(m, &s);
    if (rc == CLI_OK && m->c != NULL) {
        memstore_sync_report rep;
        rc = sync_state(m, &s, &rep, shred_after);
        const int save = s.dirty ? state_save(m, &s) : CLI_OK;
        if (rc == CLI_OK) rc = save;
    }
    state_free(&s);
    unlock_home(m);
    return rc;
}

int memstore_sync(memstore *m, memstore_sync_report *rep, int forgot)
{
    memstore_sync_report local_rep;
    if (rep == NULL) rep = &local_rep;
    memset(rep, 0, sizeof *rep);
    if (m->c == NULL) return cli_fail(CLI_USAGE, "sync needs a chain: give --rpc URL (and --relayer-key-file) or --node DIR");
    int rc = lock_home(m);
    if (rc != CLI_OK) return rc;
    state s;
    rc = state_load(m, &s);
    if (rc == CLI_OK) {
        rc = sync_state(m, &s, rep, forgot);
        const int save = s.dirty ? state_save(m, &s) : CLI_OK;
        if (rc == CLI_OK) rc = save;
    }
    state_free(&s);
    unlock_home(m);
    return rc;
}
