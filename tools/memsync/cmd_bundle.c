/* export, import and verify of the portable bundle (spec/bundle.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/selectors.h"
#include "calldata.h"
#include "views.h"

#define PROOF_CAP 16384u

static int open_owner(msd_identity **id, uint8_t me[20], const cli_opts *o)
{
    int rc = home_open_identity(id, o);
    if (rc == CLI_OK) msd_identity_address(*id, me);
    return rc;
}

int cmd_export(const cli_opts *o)
{
    uint8_t asset[32];
    if (o->asset == NULL || !text_hex_exact(asset, 32, o->asset)) return cli_fail(CLI_USAGE, "export needs --asset ID");
    if (o->out == NULL) return cli_fail(CLI_USAGE, "export needs --out FILE");
    msd_identity *id = NULL;
    uint8_t me[20];
    chain *c = NULL;
    int rc = open_owner(&id, me, o);
    if (rc == CLI_OK) rc = chain_open(&c, o);
    view_head h = {0};
    if (rc == CLI_OK) rc = view_head_of(c, asset, &h);
    if (rc == CLI_OK && !h.exists) rc = cli_fail(CLI_REVERTED, "no such memory on this chain");
    if (rc == CLI_OK && memcmp(h.owner, me, 20) != 0)
        rc = cli_fail(CLI_USAGE, "only the owner exports a memory (the bundle is signed with the owner's key)");
    if (rc == CLI_OK && h.version > MSD_BUNDLE_MAX_VERSIONS) rc = cli_fail(CLI_USAGE, "too many versions to export");
    msd_bundle b;
    memset(&b, 0, sizeof b);
    const size_t nv = rc == CLI_OK ? (size_t)h.version : 0;
    msd_bundle_version *vs = calloc(nv + 1, sizeof *vs);
    ms_buf *cts = calloc(nv + 1, sizeof *cts);
    if (rc == CLI_OK && (vs == NULL || cts == NULL)) rc = cli_fail(CLI_INTERNAL, "out of memory");
    for (size_t i = 0; rc == CLI_OK && i < nv; i++) {
        view_version vi;
        int retained = 0;
        ms_buf_init(&cts[i]);
        rc = view_version_info(c, asset, i + 1, &vi);
        if (rc == CLI_OK && vi.state == 1) rc = view_ciphertext(c, asset, i + 1, &cts[i], &retained);
        if (rc != CLI_OK) break;
        vs[i].version = i + 1;
        vs[i].state = vi.state;
        vs[i].key_epoch = vi.key_epoch;
        memcpy(vs[i].author, vi.author, 20);
        vs[i].block_number = vi.block_number;
        memcpy(vs[i].ciphertext_hash, vi.ciphertext_hash, 32);
        memcpy(vs[i].version_hash, vi.version_hash, 32);
        vs[i].ciphertext = retained ? cts[i].data : NULL;
        vs[i].ciphertext_len = retained ? cts[i].size : 0;
        if (vi.state == 1 && !retained) vs[i].state = 2;   /* pruned between the two calls */
    }
    view_grant *g = NULL;
    size_t ng = 0;
    if (rc == CLI_OK) rc = view_grants(c, asset, &g, &ng);
    msd_bundle_grant *bg = calloc(ng + 1, sizeof *bg);
    ms_buf *wks = calloc(ng + 1, sizeof *wks);
    if (rc == CLI_OK && (bg == NULL || wks == NULL)) rc = cli_fail(CLI_INTERNAL, "out of memory");
    for (size_t i = 0; rc == CLI_OK && i < ng; i++) {
        view_grant one;
        int found = 0;
        ms_buf_init(&wks[i]);
        rc = view_grant_of(c, asset, g[i].grantee, &one, &wks[i], &found);
        if (rc == CLI_OK && !found) rc = cli_fail(CLI_NODE, "a listed grant disappeared");
        memcpy(bg[i].grantee, g[i].grantee, 20);
        bg[i].permissions = one.permissions;
        bg[i].expiry = one.expiry;
        bg[i].key_epoch = one.key_epoch;
        bg[i].wrapped_key = wks[i].data;
        bg[i].wrapped_key_len = wks[i].size;
    }
    /* The epoch keys this device keeps, sealed to its own X25519 key. */
    const uint64_t ne_max = rc == CLI_OK ? h.key_epoch : 0;
    msd_bundle_epoch_key *ek = calloc(ne_max > 4096 ? 4096 : ne_max + 1, sizeof *ek);
    uint8_t (*ekw)[MSD_WRAPPED_KEY_MAX] = calloc(ne_max > 4096 ? 4096 : ne_max + 1, MSD_WRAPPED_KEY_MAX);
    size_t ne = 0;
    if (rc == CLI_OK && (ek == NULL || ekw == NULL)) rc = cli_fail(CLI_INTERNAL, "out of memory");
    for (uint64_t e = 1; rc == CLI_OK && e <= ne_max && ne < 4096; e++) {
        size_t len;
        if (home_load_wrapped(o, asset, e, ekw[ne], MSD_WRAPPED_KEY_MAX, &len) != CLI_OK) continue;
        ek[ne].epoch = e;
        ek[ne].wrapped = ekw[ne];
        ek[ne].wrapped_len = len;
        ne++;
    }
    uint8_t proof[PROOF_CAP];
    size_t proof_len = 0;
    if (rc == CLI_OK &&
        chain_prove(c, asset, proof, sizeof proof, &proof_len, &b.proof_height, b.proof_root) != CLI_OK) {
        proof_len = 0;
        b.proof_height = 0;
        memset(b.proof_root, 0, 32);
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (rc == CLI_OK) {
        b.chain_id = o->chain_id;
        memcpy(b.precompile, o->precompile, 20);
        memcpy(b.asset_id, asset, 32);
        memcpy(b.owner, me, 20);
        msd_identity_x25519_public(id, b.owner_x25519);
        b.has_salt = home_load_blob(o, asset, "salt", b.salt, 32) == CLI_OK;
        if (!b.has_salt) memset(b.salt, 0, 32);
        memcpy(b.metadata, h.metadata, 32);
        b.head_version = h.version;
        memcpy(b.head_hash, h.head_hash, 32);
        b.key_epoch = h.key_epoch;
        b.flags = h.flags;
        b.version_count = nv;
        b.versions = vs;
        b.grant_count = ng;
        b.grants = bg;
        b.epoch_key_count = ne;
        b.epoch_keys = ek;
        b.proof = proof_len > 0 ? proof : NULL;
        b.proof_len = proof_len;
        msd_status st = msd_bundle_write(&out, &out_len, &b, id);
        if (st != MSD_OK) rc = cli_fail(cli_exit_of(st), "export: %s", msd_strerror(st));
    }
    if (rc == CLI_OK) rc = cli_write_file(o->out, out, out_len, 0);
    if (rc == CLI_OK) {
        cli_print_field("asset", asset, 32);
        printf("versions  %zu, grants %zu, epoch keys %zu, state proof %s\n", nv, ng, ne,
               proof_len > 0 ? "yes" : "no (the node offers none)");
        cli_print_field("head hash", h.head_hash, 32);
        printf("bundle    %s (%zu bytes, signed by the owner)\n", o->out, out_len);
    }
    free(out);
    for (size_t i = 0; cts != NULL && i < nv; i++) ms_buf_free(&cts[i]);
    for (size_t i = 0; wks != NULL && i < ng; i++) ms_buf_free(&wks[i]);
    free(cts);
    free(vs);
    free(wks);
    free(bg);
    free(g);
    free(ek);
    free(ekw);
    chain_close(c);
    msd_identity_destroy(id);
    return rc;
}

/* Read, parse and verify a bundle file; prints why it fails. */
static int load_bundle(msd_bundle **b, uint8_t **buf, const cli_opts *o)
{
    size_t len;
    *b = NULL;
    int rc = cli_read_file(o->in, buf, &len, (size_t)MSD_BUNDLE_MAX_SIZE);
    if (rc != CLI_OK) return rc;
    msd_status st = msd_bundle_parse(b, *buf, len);
    if (st != MSD_OK) return cli_fail(cli_exit_of(st), "%s: %s", o->in, msd_strerror(st));
    uint8_t root[32];
    const uint8_t *trusted = NULL;
    if (o->trusted_root != NULL) {
        if (!text_hex_exact(root, 32, o->trusted_root)) return cli_fail(CLI_USAGE, "--trusted-root needs 32 bytes");
        trusted = root;
    }
    msd_chain_result cr;
    st = msd_bundle_verify(*b, &cr, o->trusted_height, trusted);
    if (st == MSD_ERR_CHAIN) {
        static const char *why[] = {"intact", "version numbers out of order", "no ciphertext or hash",
                                    "ciphertext does not match its hash", "parent hash differs",
                                    "version hash does not recompute", "head hash differs"};
        return cli_fail(CLI_CHAIN_BROKEN, "%s: version hash chain broken at version %llu: %s", o->in,
                        (unsigned long long)cr.version, why[cr.reason <= 6 ? cr.reason : 0]);
    }
    if (st == MSD_ERR_PROOF && trusted != NULL && (*b)->proof_len == 0)
        return cli_fail(CLI_CHAIN_BROKEN, "%s has no state proof to check against --trusted-root", o->in);
    if (st != MSD_OK) return cli_fail(cli_exit_of(st), "%s: %s", o->in, msd_strerror(st));
    return CLI_OK;
}

int cmd_verify(const cli_opts *o)
{
    if (o->in == NULL) return cli_fail(CLI_USAGE, "verify needs --in BUNDLE");
    msd_bundle *b;
    uint8_t *buf = NULL;
    int rc = load_bundle(&b, &buf, o);
    if (rc == CLI_OK) {
        size_t kept = 0;
        for (size_t i = 0; i < b->version_count; i++) kept += b->versions[i].state == 1;
        cli_print_field("asset", b->asset_id, 32);
        cli_print_field("owner", b->owner, 20);
        printf("chain id  %llu\n", (unsigned long long)b->chain_id);
        printf("versions  %zu (%zu with ciphertext, %zu hashes only), key epoch %llu\n", b->version_count, kept,
               b->version_count - kept, (unsigned long long)b->key_epoch);
        printf("grants    %zu, epoch keys %zu\n", b->grant_count, b->epoch_key_count);
        cli_print_field("head hash", b->head_hash, 32);
        if (b->proof_len > 0) {
            printf("proof     asset record at height %llu %s\n", (unsigned long long)b->proof_height,
                   o->trusted_root != NULL ? "verified against the trusted root" : "consistent with the bundle's root");
            cli_print_field("root", b->proof_root, 32);
        }
        if (o->trusted_root != NULL) {
            printf("OK: signature, version hash chain and state proof verify against the trusted root\n");
        } else {
            /* The signature only shows that whoever signed holds the key of
             * the owner field, and anyone can re-sign a copy as its own. */
            printf("NOT ANCHORED: signature, version hash chain%s are self-consistent, but nothing ties this bundle "
                   "to a chain: anyone can re-sign a bundle as its own. Check it with --trusted-height H "
                   "--trusted-root R from a block header you trust.\n",
                   b->proof_len > 0 ? " and the state proof against the bundle's own root" : "");
            rc = CLI_UNANCHORED;
        }
    }
    msd_bundle_free(b);
    free(buf);
    return rc;
}

int cmd_import(const cli_opts *o)
{
    if (o->in == NULL) return cli_fail(CLI_USAGE, "import needs --in BUNDLE");
    msd_bundle *b = NULL;
    uint8_t *buf = NULL;
    msd_identity *id = NULL;
    uint8_t me[20];
    chain *c = NULL;
    int rc = load_bundle(&b, &buf, o);
    if (rc == CLI_OK) rc = open_owner(&id, me, o);
    if (rc == CLI_OK && memcmp(me, b->owner, 20) != 0) rc = cli_fail(CLI_USAGE, "this key is not the bundle's owner");
    if (rc == CLI_OK && (b->chain_id != o->chain_id || memcmp(b->precompile, o->precompile, 20) != 0))
        rc = cli_fail(CLI_USAGE, "the bundle is for chain %llu; its envelopes only decrypt there (give --chain-id)",
                      (unsigned long long)b->chain_id);
    if (rc == CLI_OK && !b->has_salt) rc = cli_fail(CLI_USAGE, "the bundle has no creation salt: cannot recreate the asset");
    if (rc == CLI_OK && (b->flags & 1u)) rc = cli_fail(CLI_USAGE, "the memory was shredded: nothing to replay");
    for (size_t i = 0; rc == CLI_OK && i < b->version_count; i++) {
        if (b->versions[i].state != 1)
            rc = cli_fail(CLI_USAGE, "version %zu was pruned or shredded: its ciphertext is gone and the chain "
                          "cannot be replayed (verify still checks it)", i + 1);
        else if (memcmp(b->versions[i].author, b->owner, 20) != 0)
            rc = cli_fail(CLI_USAGE, "version %zu was written by a grantee; only the owner's versions replay", i + 1);
    }
    if (rc == CLI_OK) rc = chain_open(&c, o);
    view_head h;
    if (rc == CLI_OK) rc = view_head_of(c, b->asset_id, &h);
    if (rc == CLI_OK && h.exists) rc = cli_fail(CLI_USAGE, "the memory already exists on this chain");
    /* The keyring first: the salt and every epoch key (sealed to the owner). */
    if (rc == CLI_OK) rc = home_store_blob(o, b->asset_id, "salt", b->salt, 32);
    for (size_t i = 0; rc == CLI_OK && i < b->epoch_key_count; i++)
        rc = home_store_wrapped_for(o, id, b->asset_id, b->epoch_keys[i].epoch, b->epoch_keys[i].wrapped,
                                    b->epoch_keys[i].wrapped_len);
    ms_buf cd;
    ms_buf_init(&cd);
    uint64_t epoch = 1, nonce = 0;
    const uint64_t deadline = (uint64_t)time(NULL) + 3600u;
    for (size_t i = 0; rc == CLI_OK && i <= b->version_count; i++) {
        const msd_bundle_version *v = i < b->version_count ? &b->versions[i] : NULL;
        const uint64_t want = v != NULL ? v->key_epoch : b->key_epoch;
        if (i == 0) {
            const uint8_t *ct = v != NULL ? v->ciphertext : NULL;
            const size_t ct_len = v != NULL ? v->ciphertext_len : 0;
            if (v != NULL && v->key_epoch != 1) {
                rc = cli_fail(CLI_CHAIN_BROKEN, "version 1 must be of key epoch 1");
                break;
            }
            if (!ms_buf_reserve(&cd, ct_len + 1024)) rc = cli_fail(CLI_INTERNAL, "out of memory");
            size_t len = 0;
            msd_status st = MSD_OK;
            if (rc == CLI_OK) rc = view_nonce_of(c, me, &nonce);
            if (rc == CLI_OK)
                st = msd_sign_create_memory(cd.data, cd.cap, &len, NULL, id, o->chain_id, o->precompile, b->salt,
                                            b->metadata, ct, ct_len, nonce, deadline);
            if (rc == CLI_OK && st != MSD_OK) rc = cli_fail(cli_exit_of(st), "sign: %s", msd_strerror(st));
            cd.size = len;
            if (rc == CLI_OK) rc = chain_send(c, NULL, &cd);
            if (v == NULL) {
                /* a memory without versions: only its epoch remains to replay */
            } else {
                continue;
            }
        }
        while (rc == CLI_OK && epoch < want) {
            cd_id(&cd, MS_FN_ROTATE_KEY, b->asset_id);
            rc = chain_send(c, id, &cd);
            epoch++;
        }
        if (rc == CLI_OK && want < epoch) rc = cli_fail(CLI_CHAIN_BROKEN, "key epochs go backwards at version %zu", i + 1);
        if (rc != CLI_OK || v == NULL) break;
        if (!ms_buf_reserve(&cd, v->ciphertext_len + 1024)) rc = cli_fail(CLI_INTERNAL, "out of memory");
        size_t len = 0;
        if (rc == CLI_OK) rc = view_nonce_of(c, me, &nonce);
        msd_status st = rc == CLI_OK ? msd_sign_append_version(cd.data, cd.cap, &len, NULL, id, o->chain_id,
                                                               o->precompile, b->asset_id, v->version - 1, v->key_epoch,
                                                               v->ciphertext, v->ciphertext_len, nonce, deadline)
                                     : MSD_OK;
        if (rc == CLI_OK && st != MSD_OK) rc = cli_fail(cli_exit_of(st), "sign: %s", msd_strerror(st));
        cd.size = len;
        if (rc == CLI_OK) rc = chain_send(c, NULL, &cd);
    }
    for (size_t i = 0; rc == CLI_OK && i < b->grant_count; i++) {
        const msd_bundle_grant *g = &b->grants[i];
        cd_grant_access(&cd, b->asset_id, g->grantee, g->permissions, g->expiry, g->wrapped_key, g->wrapped_key_len);
        rc = chain_send(c, id, &cd);
    }
    ms_buf_free(&cd);
    if (rc == CLI_OK) rc = view_head_of(c, b->asset_id, &h);
    if (rc == CLI_OK) {
        cli_print_field("asset", b->asset_id, 32);
        printf("replayed  %zu version(s), key epoch %llu, %zu grant(s)\n", b->version_count,
               (unsigned long long)h.key_epoch, b->grant_count);
        cli_print_field("head hash", h.head_hash, 32);
        if (h.version != b->head_version || memcmp(h.head_hash, b->head_hash, 32) != 0)
            rc = cli_fail(CLI_CHAIN_BROKEN, "the replayed head differs from the bundle's head");
        else
            printf("OK: the head hash equals the bundle's\n");
    }
    chain_close(c);
    msd_identity_destroy(id);
    msd_bundle_free(b);
    free(buf);
    return rc;
}
