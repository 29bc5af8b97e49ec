/* The owner's key rotation: revoke, rotate, and the first write after a
 * transfer of ownership (spec/device.md [DEV-19], [DEV-39]..[DEV-41]).
 *
 * Each step is safe to repeat, so a command stopped half-way (the node
 * went away between revokeAccess and rotateKey, or between rotateKey and
 * the re-grants) is finished by running it again:
 *  - nothing is sent before every grantee that needs the new key has its
 *    X25519 key in the keyring and the owner's copy of the new key is kept;
 *  - revoke keeps `revoke-<grantee>` (the epoch it started at) in the
 *    keyring until it is done, so a rerun knows whether rotateKey was mined;
 *  - the re-grants are the remaining grants of an epoch older than the
 *    current one, read from the chain each time. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "abi/selectors.h"
#include "calldata.h"
#include "views.h"

static int grantee_blob(char *name, size_t cap, const char *prefix, const uint8_t addr[20])
{
    int n = snprintf(name, cap, "%s", prefix);
    for (int i = 0; i < 20; i++) n += snprintf(name + n, cap - (size_t)n, "%02x", addr[i]);
    return n;
}

/* The owner's key of `epoch` made for a rotation: always derived from the
 * seed (never a kept key, which the legacy keyring might hold for another
 * chain), and kept in the memory's folder before the chain moves to it. */
static int new_epoch_key(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch,
                         msd_data_key **key)
{
    msd_status st = msd_data_key_derive(key, id, o->chain_id, o->precompile, asset, epoch);
    if (st != MSD_OK) return cli_fail(cli_exit_of(st), "data key: %s", msd_strerror(st));
    int rc = home_store_key_for_me(o, id, *key);
    if (rc != CLI_OK) {
        msd_data_key_destroy(*key);
        *key = NULL;
    }
    return rc;
}

int cli_rotation(struct chain *c, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                 const uint8_t *revoke20, int rotate, uint64_t *epoch, size_t *rewrapped)
{
    if (rewrapped != NULL) *rewrapped = 0;
    view_head h;
    view_grant *g = NULL;
    size_t n = 0;
    uint8_t me[20];
    msd_identity_address(id, me);
    int rc = view_head_of(c, asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    if (rc == CLI_OK && memcmp(h.owner, me, 20) != 0) rc = cli_fail(CLI_USAGE, "only the owner rotates a memory's key");
    if (rc == CLI_OK && rotate && h.key_epoch == UINT64_MAX)
        rc = cli_fail(CLI_INTERNAL, "the key epoch cannot advance further");
    if (rc == CLI_OK) rc = view_grants(c, asset, &g, &n);
    if (rc != CLI_OK) {
        free(g);
        return rc;
    }
    const uint64_t target = rotate ? h.key_epoch + 1 : h.key_epoch;
    *epoch = target;
    /* Who needs the target epoch's key: every remaining grant of an older
     * epoch. Their X25519 keys must all be known before anything is sent,
     * or a rotation would leave someone without the new key. */
    size_t *need = calloc(n + 1, sizeof *need);
    uint8_t (*pks)[32] = calloc(n + 1, 32);
    uint8_t *wrapped = calloc(n + 1, MSD_WRAPPED_KEY_V2_SIZE);
    size_t m = 0;
    if (need == NULL || pks == NULL || wrapped == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    msd_data_key *key = NULL;
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        if (revoke20 != NULL && memcmp(g[i].grantee, revoke20, 20) == 0) continue;
        if (g[i].key_epoch >= target) continue;
        char name[64];
        grantee_blob(name, sizeof name, "grantee-", g[i].grantee);
        if (home_load_blob(o, asset, name, pks[m], 32) != CLI_OK) {
            rc = cli_fail(CLI_NO_KEY, "the X25519 key of remaining grantee 0x%s is not in %s: grant it again first "
                                      "(nothing was sent)", name + 8, o->home);
            break;
        }
        need[m++] = i;
    }
    /* The target epoch's key, kept before rotateKey: once it is mined, a key
     * held only in memory would be lost with the process. */
    if (rc == CLI_OK && rotate) rc = new_epoch_key(o, id, asset, target, &key);
    if (rc == CLI_OK && !rotate && m > 0) {
        rc = home_load_own_data_key(&key, o, id, asset, target);
        if (rc == CLI_NO_KEY) rc = new_epoch_key(o, id, asset, target, &key);
    }
    for (size_t k = 0; rc == CLI_OK && k < m; k++) {
        msd_status st =
            msd_wrap_key_bound(wrapped + k * MSD_WRAPPED_KEY_V2_SIZE, key, o->chain_id, o->precompile, pks[k]);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "wrap for a grantee: %s", msd_strerror(st));
    }
    msd_data_key_destroy(key);
    ms_buf cd;
    ms_buf_init(&cd);
    if (rc == CLI_OK && revoke20 != NULL) {
        cd_id_addr(&cd, MS_FN_REVOKE_ACCESS, asset, revoke20);
        rc = chain_send(c, id, &cd);
    }
    if (rc == CLI_OK && rotate) {
        cd_id(&cd, MS_FN_ROTATE_KEY, asset);
        rc = chain_send(c, id, &cd);
    }
    for (size_t k = 0; rc == CLI_OK && k < m; k++) {
        const view_grant *gi = &g[need[k]];
        cd_grant_access(&cd, asset, gi->grantee, gi->permissions, gi->expiry, wrapped + k * MSD_WRAPPED_KEY_V2_SIZE,
                        MSD_WRAPPED_KEY_V2_SIZE);
        rc = chain_send(c, id, &cd);
        if (rc == CLI_OK && rewrapped != NULL) (*rewrapped)++;
    }
    ms_buf_free(&cd);
    free(wrapped);
    free(pks);
    free(need);
    free(g);
    return rc;
}

/* Quietly: MSD_OK when key opens ct as version v of epoch (the key is the
 * one the version was written under), else the status. */
static msd_status opens(const cli_opts *o, const uint8_t asset[32], uint64_t v, uint64_t epoch,
                        const msd_data_key *key, const ms_buf *ct)
{
    uint8_t *pt = NULL;
    size_t len = 0;
    msd_status st = cli_try_open(&pt, &len, o, asset, v, epoch, key, ct->data, ct->size);
    if (pt != NULL) sodium_memzero(pt, len);
    free(pt);
    return st;
}

/* The kept key of epoch from the memory's folder (own = 1) or the legacy
 * one (own = 0, only when the folder has none); NULL when absent. */
static int kept_key(const cli_opts *o, const msd_identity *id, const uint8_t asset[32], uint64_t epoch, int own,
                    msd_data_key **key)
{
    *key = NULL;
    int rc = own ? home_load_own_data_key(key, o, id, asset, epoch) : home_load_data_key(key, o, id, asset, epoch);
    return rc == CLI_NO_KEY ? CLI_OK : rc;
}

int cli_owner_current_key(struct chain *c, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                          msd_data_key **key, uint64_t *epoch)
{
    *key = NULL;
    view_head h;
    view_version vi;
    ms_buf ct;
    ms_buf_init(&ct);
    int retained = 0;
    int rc = view_head_of(c, asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    if (rc == CLI_OK) rc = view_version_info(c, asset, h.version, &vi);
    if (rc == CLI_OK && vi.key_epoch == h.key_epoch && vi.state == 1) rc = view_ciphertext(c, asset, h.version, &ct, &retained);
    if (rc != CLI_OK) {
        ms_buf_free(&ct);
        return rc;
    }
    *epoch = h.key_epoch;
    /* The candidates, in order: the memory's folder, the legacy folder (a
     * key that names no chain), the key derived from the seed. */
    msd_data_key *cand[3] = {NULL, NULL, NULL};
    rc = kept_key(o, id, asset, h.key_epoch, 1, &cand[0]);
    if (rc == CLI_OK && cand[0] == NULL) rc = kept_key(o, id, asset, h.key_epoch, 0, &cand[1]);
    if (rc == CLI_OK) {
        msd_status st = msd_data_key_derive(&cand[2], id, o->chain_id, o->precompile, asset, h.key_epoch);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "data key: %s", msd_strerror(st));
    }
    int pick = -1;
    if (rc == CLI_OK && retained) {
        /* The head version is of the current epoch: its key is the one
         * readers hold, and the only one a next version may use. A version
         * that does not open for another reason (altered, not an envelope)
         * says nothing about the key: the first candidate stands. */
        for (int i = 0; i < 3 && pick < 0; i++) {
            if (cand[i] == NULL) continue;
            msd_status st = opens(o, asset, h.version, h.key_epoch, cand[i], &ct);
            if (st != MSD_ERR_WRONG_KEY && st != MSD_ERR_ARGS && st != MSD_ERR_NOMEM) pick = i;
        }
        if (pick < 0) rc = CLI_WRONG_KEY;
    } else if (rc == CLI_OK) {
        pick = cand[0] != NULL ? 0 : cand[1] != NULL ? 1 : 2;
    }
    /* A key that proved right (or the derived key, with nothing to check
     * against) is kept in the memory's folder when it has none; an unproved
     * legacy key is used but not copied there (it names no chain). */
    if (rc == CLI_OK && cand[0] == NULL && ((retained && pick > 0) || pick == 2))
        rc = home_store_key_for_me(o, id, cand[pick]);
    if (rc == CLI_OK) {
        *key = cand[pick];
        cand[pick] = NULL;
    }
    for (int i = 0; i < 3; i++) msd_data_key_destroy(cand[i]);
    ms_buf_free(&ct);
    return rc;
}

int cli_owner_write_key(struct chain *c, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                        msd_data_key **key, uint64_t *epoch, int *rotated)
{
    if (rotated != NULL) *rotated = 0;
    int rc = cli_owner_current_key(c, o, id, asset, key, epoch);
    if (rc != CLI_WRONG_KEY) return rc;
    /* The head version of this epoch was written under a key this identity
     * does not hold (the owner before a transfer, or a key lost with an old
     * keyring). Writing under another key of the same epoch would leave
     * every reader with one of two keys: rotate, then write under the new
     * epoch's derived key. */
    const uint64_t old = *epoch;
    rc = cli_rotation(c, o, id, asset, NULL, 1, epoch, NULL);
    if (rc == CLI_OK) {
        fprintf(stderr, "memsync: the current key epoch %llu was written under a key this identity does not hold "
                        "(e.g. before a transfer of ownership): rotated to epoch %llu first\n",
                (unsigned long long)old, (unsigned long long)*epoch);
        if (rotated != NULL) *rotated = 1;
        rc = home_load_own_data_key(key, o, id, asset, *epoch);
        if (rc == CLI_NO_KEY) rc = cli_fail(CLI_INTERNAL, "the new epoch's key was not kept");
    }
    return rc;
}

/* What revoke and rotate open: the identity, the asset (--asset) and the chain. */
static int open_owner(msd_identity **id, uint8_t asset[32], struct chain **c, const cli_opts *o)
{
    *id = NULL;
    *c = NULL;
    if (o->asset == NULL || !text_hex_exact(asset, 32, o->asset)) return cli_fail(CLI_USAGE, "give --asset ID");
    int rc = home_open_identity(id, o);
    if (rc == CLI_OK) rc = chain_open(c, o);
    if (rc != CLI_OK) {
        msd_identity_destroy(*id);
        *id = NULL;
    }
    return rc;
}

int cmd_revoke(const cli_opts *o)
{
    uint8_t grantee[20], asset[32];
    if (!text_hex_exact(grantee, 20, o->grantee)) return cli_fail(CLI_USAGE, "revoke needs --grantee ADDRESS");
    msd_identity *id;
    struct chain *c;
    int rc = open_owner(&id, asset, &c, o);
    if (rc != CLI_OK) return rc;
    view_head h = {0};
    view_grant g;
    ms_buf w;
    ms_buf_init(&w);
    int granted = 0;
    rc = view_head_of(c, asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    if (rc == CLI_OK) rc = view_grant_of(c, asset, grantee, &g, &w, &granted);
    ms_buf_free(&w);
    char marker[64];
    grantee_blob(marker, sizeof marker, "revoke-", grantee);
    uint8_t started[8];
    int rotate = 1;
    uint64_t from = h.key_epoch;
    if (rc == CLI_OK && granted) {
        /* A new revocation: remember the epoch it starts at, so that a rerun
         * after revokeAccess knows whether rotateKey was mined. */
        for (int i = 0; i < 8; i++) started[i] = (uint8_t)(h.key_epoch >> (56 - 8 * i));
        rc = home_store_blob(o, asset, marker, started, 8);
    } else if (rc == CLI_OK && home_load_blob(o, asset, marker, started, 8) == CLI_OK) {
        uint64_t e = 0;
        for (int i = 0; i < 8; i++) e = e << 8 | started[i];
        rotate = h.key_epoch <= e;
        from = e;
        fprintf(stderr, "memsync: resuming the revocation begun at key epoch %llu: %s\n", (unsigned long long)e,
                rotate ? "the grant is revoked, the key not yet rotated" : "the key is rotated; re-granting the others");
    } else if (rc == CLI_OK) {
        /* No grant and no record of a revocation here: rotate anyway, so the
         * grantee holds no key of the epoch the next versions use. */
        fprintf(stderr, "memsync: no grant to this grantee on chain (revoked already); rotating the key so it holds "
                        "none of the next epoch\n");
    }
    uint64_t epoch = 0;
    size_t rewrapped = 0;
    if (rc == CLI_OK) rc = cli_rotation(c, o, id, asset, granted ? grantee : NULL, rotate, &epoch, &rewrapped);
    if (rc == CLI_OK) rc = home_remove_blob(o, asset, marker);
    if (rc == CLI_OK)
        printf("revoked; key epoch %llu -> %llu; new key wrapped for the owner and re-granted to %zu remaining "
               "grantee(s)\n", (unsigned long long)from, (unsigned long long)epoch, rewrapped);
    else if (rc != CLI_USAGE)
        fprintf(stderr, "memsync: run the same revoke again to finish it\n");
    chain_close(c);
    msd_identity_destroy(id);
    return rc;
}

int cmd_rotate(const cli_opts *o)
{
    uint8_t asset[32];
    msd_identity *id;
    struct chain *c;
    int rc = open_owner(&id, asset, &c, o);
    if (rc != CLI_OK) return rc;
    view_head h;
    rc = view_head_of(c, asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    uint64_t epoch = 0;
    size_t rewrapped = 0;
    if (rc == CLI_OK) rc = cli_rotation(c, o, id, asset, NULL, 1, &epoch, &rewrapped);
    if (rc == CLI_OK)
        printf("rotated; key epoch %llu -> %llu; new key wrapped for the owner and re-granted to %zu grantee(s)\n",
               (unsigned long long)h.key_epoch, (unsigned long long)epoch, rewrapped);
    chain_close(c);
    msd_identity_destroy(id);
    return rc;
}
