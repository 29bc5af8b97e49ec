/* Commands that talk to a chain: push, pull, grants, grant, revoke. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "calldata.h"
#include "views.h"

#define MEMORY_MAX (64u * 1024u * 1024u)

/* What every chain command opens: the identity, the asset and the chain. */
typedef struct session {
    msd_identity *id;
    uint8_t me[20];
    uint8_t asset[32];
    int from_salt;
    uint8_t salt[32];
    chain *c;
} session;

static void session_close(session *s)
{
    msd_identity_destroy(s->id);
    chain_close(s->c);
    memset(s, 0, sizeof *s);
}

static int session_open(session *s, const cli_opts *o, int need_chain)
{
    memset(s, 0, sizeof *s);
    int rc = home_open_identity(&s->id, o);
    if (rc == CLI_OK) rc = cli_asset_of(s->asset, o, s->id, &s->from_salt, s->salt);
    if (rc == CLI_OK && s->from_salt) rc = home_store_blob(o, s->asset, "salt", s->salt, 32);
    if (rc == CLI_OK && (need_chain || o->rpc != NULL || o->node != NULL)) rc = chain_open(&s->c, o);
    if (rc == CLI_OK) msd_identity_address(s->id, s->me);
    if (rc != CLI_OK) session_close(s);
    return rc;
}

int cmd_push(const cli_opts *o)
{
    if (o->in == NULL) return cli_fail(CLI_USAGE, "push needs --in FILE (the memory in clear)");
    uint8_t metadata[32] = {0};
    if (o->metadata != NULL && !text_hex_exact(metadata, 32, o->metadata))
        return cli_fail(CLI_USAGE, "--metadata needs 32 bytes of hex");
    session s;
    int rc = session_open(&s, o, 1);
    if (rc != CLI_OK) return rc;
    view_head h;
    uint64_t nonce = 0;
    uint8_t *pt = NULL, *env = NULL;
    size_t pt_len = 0, env_len = 0;
    rc = view_head_of(s.c, s.asset, &h);
    if (rc == CLI_OK) rc = view_nonce_of(s.c, s.me, &nonce);
    if (rc == CLI_OK) rc = cli_read_file(o->in, &pt, &pt_len, MEMORY_MAX);
    const uint64_t deadline = o->has_deadline ? o->deadline : (uint64_t)time(NULL) + 3600u;
    const uint64_t version = h.exists ? h.version + 1 : 1, epoch = h.exists ? h.key_epoch : 1;
    const int owner = !h.exists || memcmp(h.owner, s.me, 20) == 0;
    if (rc == CLI_OK && h.exists && (h.flags & 1u)) rc = cli_fail(CLI_REVERTED, "the memory was shredded");
    if (rc == CLI_OK && !h.exists && home_load_blob(o, s.asset, "salt", s.salt, 32) != CLI_OK)
        rc = cli_fail(CLI_USAGE, "the memory does not exist yet: give --salt to create it");
    if (rc == CLI_OK) rc = cli_encrypt_buffer(&env, &env_len, o, s.id, s.asset, version, epoch, pt, pt_len, owner);
    if (pt != NULL) sodium_memzero(pt, pt_len);
    free(pt);
    ms_buf cd;
    ms_buf_init(&cd);
    if (rc == CLI_OK) {
        size_t cap = env_len + 1024, len = 0;
        if (!ms_buf_reserve(&cd, cap)) rc = cli_fail(CLI_INTERNAL, "out of memory");
        msd_status st = MSD_OK;
        if (rc == CLI_OK && !h.exists)
            st = msd_sign_create_memory(cd.data, cap, &len, NULL, s.id, o->chain_id, o->precompile, s.salt, metadata,
                                        env, env_len, nonce, deadline);
        else if (rc == CLI_OK)
            st = msd_sign_append_version(cd.data, cap, &len, NULL, s.id, o->chain_id, o->precompile, s.asset,
                                         h.version, epoch, env, env_len, nonce, deadline);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "sign: %s", msd_strerror(st));
        cd.size = len;
    }
    free(env);
    /* Submitted by the relayer: the owner's signature authorizes it (spec/eip712.md). */
    if (rc == CLI_OK) rc = chain_send(s.c, NULL, &cd);
    ms_buf_free(&cd);
    if (rc == CLI_OK) rc = view_head_of(s.c, s.asset, &h);
    if (rc == CLI_OK) {
        cli_print_field("asset", s.asset, 32);
        printf("version   %llu (key epoch %llu)\n", (unsigned long long)h.version, (unsigned long long)h.key_epoch);
        cli_print_field("head hash", h.head_hash, 32);
    }
    session_close(&s);
    return rc;
}

/* The data key of epoch for this identity: the keyring, else the grant on
 * chain (sealed to this identity; kept in the keyring for later epochs). */
static int key_from_chain(session *s, const cli_opts *o, uint64_t epoch)
{
    uint8_t wk[MSD_WRAPPED_KEY_SIZE];
    size_t len;
    if (home_load_wrapped(o, s->asset, epoch, wk, sizeof wk, &len) == CLI_OK) return CLI_OK;
    view_grant g;
    ms_buf w;
    ms_buf_init(&w);
    int found = 0;
    int rc = view_grant_of(s->c, s->asset, s->me, &g, &w, &found);
    if (rc == CLI_OK && (!found || g.key_epoch != epoch))
        rc = cli_fail(CLI_NO_KEY, "no data key for key epoch %llu: not in %s and no grant of that epoch on chain%s",
                      (unsigned long long)epoch, o->home, found ? "" : " (no grant: never granted, or revoked)");
    msd_data_key *k = NULL;
    if (rc == CLI_OK) {
        msd_status st = msd_unwrap_key(&k, s->id, w.data, w.size, s->asset, epoch);
        if (st != MSD_OK) rc = cli_fail(CLI_NO_KEY, "the grant's wrapped key: %s", msd_strerror(st));
    }
    if (rc == CLI_OK) rc = home_store_wrapped(o, s->asset, epoch, w.data, w.size);
    msd_data_key_destroy(k);
    ms_buf_free(&w);
    return rc;
}

int cmd_pull(const cli_opts *o)
{
    if (o->out == NULL) return cli_fail(CLI_USAGE, "pull needs --out FILE (or --out - for standard output)");
    session s;
    int rc = session_open(&s, o, 1);
    if (rc != CLI_OK) return rc;
    view_head h;
    view_version vi;
    ms_buf ct;
    ms_buf_init(&ct);
    int retained = 0;
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    rc = view_head_of(s.c, s.asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    const uint64_t v = o->has_version ? o->version : h.version;
    if (rc == CLI_OK && (v == 0 || v > h.version))
        rc = cli_fail(CLI_USAGE, "version %llu does not exist (head is %llu)", (unsigned long long)v,
                      (unsigned long long)h.version);
    if (rc == CLI_OK) rc = view_version_info(s.c, s.asset, v, &vi);
    if (rc == CLI_OK) rc = view_ciphertext(s.c, s.asset, v, &ct, &retained);
    if (rc == CLI_OK && !retained)
        rc = cli_fail(CLI_REVERTED, "version %llu was %s: only its hashes remain", (unsigned long long)v,
                      vi.state == 2 ? "pruned" : "shredded");
    uint8_t hash[32];
    if (rc == CLI_OK) {
        ms_keccak256(hash, ct.data, ct.size);
        if (memcmp(hash, vi.ciphertext_hash, 32) != 0)
            rc = cli_fail(CLI_CHAIN_BROKEN, "the node's ciphertext does not match its recorded hash");
    }
    if (rc == CLI_OK && o->wrapped_key == NULL && memcmp(h.owner, s.me, 20) == 0)
        rc = home_ensure_owner_key(o, s.id, s.asset, vi.key_epoch);
    if (rc == CLI_OK && o->wrapped_key == NULL) rc = key_from_chain(&s, o, vi.key_epoch);
    if (rc == CLI_OK) rc = cli_decrypt_buffer(&pt, &pt_len, o, s.id, s.asset, v, vi.key_epoch, ct.data, ct.size);
    if (rc == CLI_OK) {
        if (strcmp(o->out, "-") == 0) {
            if (fwrite(pt, 1, pt_len, stdout) != pt_len) rc = cli_fail(CLI_IO, "cannot write standard output");
        } else {
            rc = cli_write_file(o->out, pt, pt_len, 1);
            if (rc == CLI_OK) {
                printf("version   %llu (key epoch %llu), %zu bytes\n", (unsigned long long)v,
                       (unsigned long long)vi.key_epoch, pt_len);
                cli_print_field("hash", vi.version_hash, 32);
            }
        }
    }
    if (pt != NULL) sodium_memzero(pt, pt_len);
    free(pt);
    ms_buf_free(&ct);
    session_close(&s);
    return rc;
}

int cmd_grants(const cli_opts *o)
{
    uint8_t asset[32];
    if (o->asset == NULL || !text_hex_exact(asset, 32, o->asset)) return cli_fail(CLI_USAGE, "grants needs --asset ID");
    chain *c;
    int rc = chain_open(&c, o);
    if (rc != CLI_OK) return rc;
    view_grant *g = NULL;
    size_t n = 0;
    rc = view_grants(c, asset, &g, &n);
    if (rc == CLI_OK) {
        printf("%zu grant(s)\n", n);
        for (size_t i = 0; i < n; i++) {
            dec_hex(stdout, g[i].grantee, 20);
            printf("  %s  expiry %llu  key epoch %llu\n", g[i].permissions == 3 ? "read+write" : "read",
                   (unsigned long long)g[i].expiry, (unsigned long long)g[i].key_epoch);
        }
    }
    free(g);
    chain_close(c);
    return rc;
}

static int grantee_name(char *name, size_t cap, const uint8_t addr[20])
{
    int n = snprintf(name, cap, "grantee-");
    for (int i = 0; i < 20; i++) n += snprintf(name + n, cap - (size_t)n, "%02x", addr[i]);
    return n;
}

int cmd_grant(const cli_opts *o)
{
    uint8_t grantee[20], pk[32];
    if (!text_hex_exact(grantee, 20, o->grantee)) return cli_fail(CLI_USAGE, "grant needs --grantee ADDRESS");
    if (!text_hex_exact(pk, 32, o->grantee_key))
        return cli_fail(CLI_USAGE, "grant needs --grantee-key X25519 (the grantee's `memsync address`)");
    session s;
    int rc = session_open(&s, o, 0);
    if (rc != CLI_OK) return rc;
    uint64_t epoch = o->epoch;
    view_head h;
    if (s.c != NULL) {
        rc = view_head_of(s.c, s.asset, &h);
        if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
        epoch = h.key_epoch;
    } else if (!o->has_epoch) {
        rc = cli_fail(CLI_USAGE, "offline, grant needs --epoch N (the memory's current key epoch)");
    }
    msd_data_key *key = NULL;
    uint8_t wk[MSD_WRAPPED_KEY_SIZE];
    /* Only the owner grants: its key of the epoch is derived when the keyring lacks it. */
    if (rc == CLI_OK && (s.c == NULL || memcmp(h.owner, s.me, 20) == 0))
        rc = home_ensure_owner_key(o, s.id, s.asset, epoch);
    if (rc == CLI_OK) {
        rc = home_load_data_key(&key, o, s.id, s.asset, epoch);
        if (rc == CLI_NO_KEY) rc = cli_fail(CLI_NO_KEY, "no data key of epoch %llu in %s", (unsigned long long)epoch, o->home);
    }
    if (rc == CLI_OK) {
        msd_status st = msd_wrap_key(wk, key, pk);
        if (st != MSD_OK) rc = cli_fail(CLI_USAGE, "--grantee-key: %s", msd_strerror(st));
    }
    msd_data_key_destroy(key);
    char name[64];
    grantee_name(name, sizeof name, grantee);
    if (rc == CLI_OK) rc = home_store_blob(o, s.asset, name, pk, 32);
    ms_buf cd;
    ms_buf_init(&cd);
    if (rc == CLI_OK) {
        cd_grant_access(&cd, s.asset, grantee, o->write_perm ? 3 : 1, o->expiry, wk, sizeof wk);
        if (cd.failed) rc = cli_fail(CLI_INTERNAL, "out of memory");
        if (rc == CLI_OK && s.c != NULL) rc = chain_send(s.c, s.id, &cd);
    }
    if (rc == CLI_OK) {
        printf("key epoch %llu\n", (unsigned long long)epoch);
        cli_print_field("wrapped", wk, sizeof wk);
        cli_print_field("calldata", cd.data, cd.size);
        if (s.c != NULL) printf("granted on chain\n");
    }
    ms_buf_free(&cd);
    session_close(&s);
    return rc;
}

int cmd_revoke(const cli_opts *o)
{
    uint8_t grantee[20];
    if (!text_hex_exact(grantee, 20, o->grantee)) return cli_fail(CLI_USAGE, "revoke needs --grantee ADDRESS");
    session s;
    int rc = session_open(&s, o, 1);
    if (rc != CLI_OK) return rc;
    view_head h;
    view_grant *g = NULL;
    size_t n = 0;
    rc = view_head_of(s.c, s.asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    if (rc == CLI_OK) rc = view_grants(s.c, s.asset, &g, &n);
    /* Every remaining grantee's X25519 key must be known before anything is
     * sent, or a rotation would leave someone without the new key. */
    uint8_t (*pks)[32] = calloc(n + 1, 32);
    size_t m = 0;
    if (rc == CLI_OK && pks == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK) msd_identity_x25519_public(s.id, pks[m++]);
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        if (memcmp(g[i].grantee, grantee, 20) == 0) continue;
        char name[64];
        grantee_name(name, sizeof name, g[i].grantee);
        if (home_load_blob(o, s.asset, name, pks[m++], 32) != CLI_OK)
            rc = cli_fail(CLI_NO_KEY, "the X25519 key of remaining grantee %s is not in %s: grant it again first",
                          name + 8, o->home);
    }
    /* The new epoch's key is derived from the seed (spec/device.md §6), so
     * the owner recovers it with the phrase alone; the revoked grantee never
     * held the seed, so it learns nothing of it. */
    msd_data_key *fresh = NULL;
    uint8_t *wrapped = rc == CLI_OK ? calloc(m, MSD_WRAPPED_KEY_SIZE) : NULL;
    if (rc == CLI_OK && wrapped == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK && h.key_epoch == UINT64_MAX) rc = cli_fail(CLI_INTERNAL, "the key epoch cannot advance further");
    if (rc == CLI_OK) {
        msd_status st = msd_data_key_derive(&fresh, s.id, o->chain_id, o->precompile, s.asset, h.key_epoch + 1);
        for (size_t i = 0; st == MSD_OK && i < m; i++)
            st = msd_wrap_key(wrapped + i * MSD_WRAPPED_KEY_SIZE, fresh, pks[i]);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "rotate: %s", msd_strerror(st));
    }
    /* The owner's copy of the new key is on disk before the chain moves to its
     * epoch: once rotateKey is mined, a key only held in memory would be lost
     * with the process. A failed revocation leaves an unused epoch file that
     * the next rotation overwrites. */
    if (rc == CLI_OK) rc = home_store_wrapped(o, s.asset, h.key_epoch + 1, wrapped, MSD_WRAPPED_KEY_SIZE);
    ms_buf cd;
    ms_buf_init(&cd);
    if (rc == CLI_OK) {
        cd_id_addr(&cd, MS_FN_REVOKE_ACCESS, s.asset, grantee);
        rc = chain_send(s.c, s.id, &cd);
    }
    if (rc == CLI_OK) {
        cd_id(&cd, MS_FN_ROTATE_KEY, s.asset);
        rc = chain_send(s.c, s.id, &cd);
    }
    size_t k = 1;
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        if (memcmp(g[i].grantee, grantee, 20) == 0) continue;
        cd_grant_access(&cd, s.asset, g[i].grantee, g[i].permissions, g[i].expiry, wrapped + k * MSD_WRAPPED_KEY_SIZE,
                        MSD_WRAPPED_KEY_SIZE);
        k++;
        rc = chain_send(s.c, s.id, &cd);
    }
    if (rc == CLI_OK)
        printf("revoked; key epoch %llu -> %llu; new key wrapped for the owner and %zu remaining grantee(s)\n",
               (unsigned long long)h.key_epoch, (unsigned long long)h.key_epoch + 1, m - 1);
    ms_buf_free(&cd);
    msd_data_key_destroy(fresh);
    free(wrapped);
    free(pks);
    free(g);
    session_close(&s);
    return rc;
}
