/* Commands that talk to a chain: push, pull, grants, grant, transfer (revoke and rotate: rotate.c). */
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

/* The data key a grantee writes or reads epoch under: its keyring's, else
 * its grant on chain (bound to this chain; kept in the keyring). */
static int grantee_key(session *s, const cli_opts *o, uint64_t epoch, msd_data_key **key)
{
    *key = NULL;
    int rc = home_load_data_key(key, o, s->id, s->asset, epoch);
    if (rc != CLI_NO_KEY) return rc;
    view_grant g;
    ms_buf w;
    ms_buf_init(&w);
    int found = 0;
    rc = view_grant_of(s->c, s->asset, s->me, &g, &w, &found);
    if (rc == CLI_OK && (!found || g.key_epoch != epoch))
        rc = cli_fail(CLI_NO_KEY, "no data key for key epoch %llu: not in %s and no grant of that epoch on chain%s",
                      (unsigned long long)epoch, o->home, found ? "" : " (no grant: never granted, or revoked)");
    if (rc == CLI_OK) {
        msd_status st = msd_unwrap_key_bound(key, NULL, s->id, w.data, w.size, o->chain_id, o->precompile, s->asset,
                                             epoch);
        if (st != MSD_OK) rc = cli_fail(CLI_NO_KEY, "the grant's wrapped key: %s", msd_strerror(st));
    }
    if (rc == CLI_OK) rc = home_store_wrapped_for(o, s->id, s->asset, epoch, w.data, w.size);
    if (rc != CLI_OK) {
        msd_data_key_destroy(*key);
        *key = NULL;
    }
    ms_buf_free(&w);
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
    uint64_t nonce = 0, epoch = 1;
    uint8_t *pt = NULL, *env = NULL;
    size_t pt_len = 0, env_len = 0;
    msd_data_key *key = NULL;
    rc = view_head_of(s.c, s.asset, &h);
    if (rc == CLI_OK) rc = cli_read_file(o->in, &pt, &pt_len, MEMORY_MAX);
    const uint64_t deadline = o->has_deadline ? o->deadline : (uint64_t)time(NULL) + 3600u;
    if (rc == CLI_OK && h.exists && (h.flags & 1u)) rc = cli_fail(CLI_REVERTED, "the memory was shredded");
    if (rc == CLI_OK && !h.exists && home_load_blob(o, s.asset, "salt", s.salt, 32) != CLI_OK)
        rc = cli_fail(CLI_USAGE, "the memory does not exist yet: give --salt to create it");
    if (rc == CLI_OK && !h.exists) {
        /* A new memory on this chain: the derived key of epoch 1, never a
         * key kept for another chain (spec/device.md [DEV-31]). */
        msd_status st = msd_data_key_derive(&key, s.id, o->chain_id, o->precompile, s.asset, 1);
        rc = st == MSD_OK ? home_store_key_for_me(o, s.id, key) : cli_fail(cli_exit_of(st), "%s", msd_strerror(st));
    } else if (rc == CLI_OK && memcmp(h.owner, s.me, 20) == 0) {
        /* The owner's key of the current epoch, checked against the head
         * version; after a transfer of ownership, a rotation first. */
        rc = cli_owner_write_key(s.c, o, s.id, s.asset, &key, &epoch, NULL);
    } else if (rc == CLI_OK) {
        epoch = h.key_epoch;
        rc = grantee_key(&s, o, epoch, &key);
    }
    if (rc == CLI_OK && h.exists) rc = view_head_of(s.c, s.asset, &h);   /* a rotation does not move the version */
    const uint64_t version = h.exists ? h.version + 1 : 1;
    if (rc == CLI_OK) rc = cli_encrypt_with_key(&env, &env_len, o, key, s.asset, version, pt, pt_len);
    msd_data_key_destroy(key);
    if (pt != NULL) sodium_memzero(pt, pt_len);
    free(pt);
    if (rc == CLI_OK) rc = view_nonce_of(s.c, s.me, &nonce);
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

/* Decrypt ct (version v, epoch) with this identity's key: the keyring's;
 * else, or when it is not the key the version was written under, the
 * owner's derived key or a grantee's grant on chain. A key that opens is
 * kept in the keyring when the memory's folder has none. */
static int open_version(session *s, const cli_opts *o, int owner, uint64_t v, uint64_t epoch, const ms_buf *ct,
                        uint8_t **pt, size_t *pt_len)
{
    *pt = NULL;
    if (o->wrapped_key != NULL) return cli_decrypt_buffer(pt, pt_len, o, s->id, s->asset, v, epoch, ct->data, ct->size);
    msd_data_key *kept = NULL, *key = NULL;
    msd_status st = MSD_OK;
    int rc = home_load_data_key(&kept, o, s->id, s->asset, epoch);
    if (rc == CLI_OK) {
        st = cli_try_open(pt, pt_len, o, s->asset, v, epoch, kept, ct->data, ct->size);
        /* A kept key of another writer of this epoch (a legacy keyring, a
         * previous owner's key): the owner tries its derived key too. */
        if (st == MSD_OK || st != MSD_ERR_WRONG_KEY || !owner) {
            msd_data_key_destroy(kept);
            return st == MSD_OK ? CLI_OK : cli_fail(cli_exit_of(st), "decrypt: %s", msd_strerror(st));
        }
    } else if (rc != CLI_NO_KEY) {
        return rc;
    }
    if (owner) {
        st = msd_data_key_derive(&key, s->id, o->chain_id, o->precompile, s->asset, epoch);
        rc = st == MSD_OK ? CLI_OK : cli_fail(cli_exit_of(st), "data key: %s", msd_strerror(st));
        if (rc == CLI_OK && msd_data_key_equal(key, kept)) {
            st = MSD_ERR_WRONG_KEY;   /* the same key, already refused */
            rc = cli_fail(cli_exit_of(st), "decrypt: %s", msd_strerror(st));
        }
    } else {
        rc = grantee_key(s, o, epoch, &key);
    }
    msd_data_key_destroy(kept);
    if (rc == CLI_OK) {
        st = cli_try_open(pt, pt_len, o, s->asset, v, epoch, key, ct->data, ct->size);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "decrypt: %s", msd_strerror(st));
    }
    /* The owner keeps its derived key once it proved to be this epoch's. */
    msd_data_key *own = NULL;
    if (rc == CLI_OK && owner && home_load_own_data_key(&own, o, s->id, s->asset, epoch) == CLI_NO_KEY)
        rc = home_store_key_for_me(o, s->id, key);
    msd_data_key_destroy(own);
    msd_data_key_destroy(key);
    if (rc != CLI_OK && *pt != NULL) {
        sodium_memzero(*pt, *pt_len);
        free(*pt);
        *pt = NULL;
    }
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
    if (rc == CLI_OK) rc = open_version(&s, o, memcmp(h.owner, s.me, 20) == 0, v, vi.key_epoch, &ct, &pt, &pt_len);
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
    msd_data_key *key = NULL;
    view_head h;
    if (s.c != NULL) {
        rc = view_head_of(s.c, s.asset, &h);
        if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
        epoch = h.key_epoch;
        /* Only the owner grants: the key that opens the head version, so a
         * grantee never receives a key of another chain or another owner. */
        if (rc == CLI_OK && memcmp(h.owner, s.me, 20) == 0) {
            rc = cli_owner_current_key(s.c, o, s.id, s.asset, &key, &epoch);
            if (rc == CLI_WRONG_KEY)
                rc = cli_fail(CLI_WRONG_KEY, "no key of this identity opens the head version (written under "
                                             "another key of epoch %llu, e.g. before a transfer of ownership): run "
                                             "`memsync rotate --asset ID` first, then grant", (unsigned long long)epoch);
        }
    } else if (!o->has_epoch) {
        rc = cli_fail(CLI_USAGE, "offline, grant needs --epoch N (the memory's current key epoch)");
    } else {
        rc = home_ensure_owner_key(o, s.id, s.asset, epoch);
    }
    if (rc == CLI_OK && key == NULL) {
        rc = home_load_data_key(&key, o, s.id, s.asset, epoch);
        if (rc == CLI_NO_KEY) rc = cli_fail(CLI_NO_KEY, "no data key of epoch %llu in %s", (unsigned long long)epoch, o->home);
    }
    /* Bound to this chain and contract (spec/device.md [DEV-36]). */
    uint8_t wk[MSD_WRAPPED_KEY_V2_SIZE];
    if (rc == CLI_OK) {
        msd_status st = msd_wrap_key_bound(wk, key, o->chain_id, o->precompile, pk);
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

/* transferOwnershipSigned, sent by the relayer. The module revokes every
 * grant; the new owner's first push rotates the key (cli_owner_write_key). */
int cmd_transfer(const cli_opts *o)
{
    uint8_t to[20];
    if (!text_hex_exact(to, 20, o->new_owner)) return cli_fail(CLI_USAGE, "transfer needs --new-owner ADDRESS");
    session s;
    int rc = session_open(&s, o, 1);
    if (rc != CLI_OK) return rc;
    view_head h;
    uint64_t nonce = 0;
    rc = view_head_of(s.c, s.asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    if (rc == CLI_OK && memcmp(h.owner, s.me, 20) != 0) rc = cli_fail(CLI_USAGE, "only the owner transfers a memory");
    if (rc == CLI_OK) rc = view_nonce_of(s.c, s.me, &nonce);
    ms_buf cd;
    ms_buf_init(&cd);
    if (rc == CLI_OK && !ms_buf_reserve(&cd, 1024)) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK) {
        const uint64_t deadline = o->has_deadline ? o->deadline : (uint64_t)time(NULL) + 3600u;
        size_t len = 0;
        msd_status st = msd_sign_transfer_ownership(cd.data, cd.cap, &len, NULL, s.id, o->chain_id, o->precompile,
                                                    s.asset, to, nonce, deadline);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "sign: %s", msd_strerror(st));
        cd.size = len;
    }
    if (rc == CLI_OK) rc = chain_send(s.c, NULL, &cd);
    ms_buf_free(&cd);
    if (rc == CLI_OK) {
        cli_print_field("asset", s.asset, 32);
        cli_print_field("new owner", to, 20);
        printf("transferred; every grant was revoked, and the new owner's first write rotates the key (epoch %llu -> "
               "%llu)\n", (unsigned long long)h.key_epoch, (unsigned long long)h.key_epoch + 1);
    }
    session_close(&s);
    return rc;
}
