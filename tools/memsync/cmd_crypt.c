/* Offline commands: encrypt, decrypt and sign. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "abi/keccak.h"
#include "cli.h"
#include "crypto/eip712.h"

#define FILE_MAX (64u * 1024u * 1024u)

static int need_version_epoch(const cli_opts *o)
{
    if (!o->has_version || o->version == 0) return cli_fail(CLI_USAGE, "--version N (>= 1) is required");
    if (!o->has_epoch || o->epoch == 0) return cli_fail(CLI_USAGE, "--epoch N (>= 1) is required");
    if (o->in == NULL || o->out == NULL) return cli_fail(CLI_USAGE, "--in FILE and --out FILE are required");
    return CLI_OK;
}

msd_context cli_context(const cli_opts *o, const uint8_t asset[32], uint64_t version, uint64_t epoch)
{
    msd_context c;
    memset(&c, 0, sizeof c);
    c.chain_id = o->chain_id;
    memcpy(c.precompile, o->precompile, 20);
    memcpy(c.asset_id, asset, 32);
    c.version = version;
    c.key_epoch = epoch;
    return c;
}

msd_status cli_try_open(uint8_t **pt, size_t *pt_len, const cli_opts *o, const uint8_t asset[32], uint64_t v,
                        uint64_t epoch, const msd_data_key *key, const uint8_t *ct, size_t ct_len)
{
    *pt = NULL;
    *pt_len = 0;
    if (key == NULL) return MSD_ERR_ARGS;
    const size_t cap = ct_len > 50 ? ct_len - 50 : 1;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) return MSD_ERR_NOMEM;
    const msd_context c = cli_context(o, asset, v, epoch);
    msd_status st = msd_decrypt(buf, cap, pt_len, key, &c, ct, ct_len);
    if (st != MSD_OK) {
        free(buf);   /* msd_decrypt zeroed it */
        return st;
    }
    *pt = buf;
    return MSD_OK;
}

/* The data key from --wrapped-key (a grant sealed to this identity) or the keyring. */
static int data_key_for(msd_data_key **key, const cli_opts *o, const msd_identity *id, const uint8_t asset[32],
                        uint64_t epoch)
{
    if (o->wrapped_key != NULL) {
        uint8_t *wk;
        size_t len;
        int rc = cli_read_file(o->wrapped_key, &wk, &len, 4096);
        if (rc != CLI_OK) return rc;
        /* Bound to this chain and contract: a grant made for another chain is refused. */
        msd_status s = msd_unwrap_key_bound(key, NULL, id, wk, len, o->chain_id, o->precompile, asset, epoch);
        free(wk);
        if (s != MSD_OK) return cli_fail(CLI_NO_KEY, "%s: %s", o->wrapped_key, msd_strerror(s));
        return CLI_OK;
    }
    int rc = home_load_data_key(key, o, id, asset, epoch);
    if (rc == CLI_NO_KEY)
        return cli_fail(CLI_NO_KEY, "no data key for epoch %llu of this asset in %s",
                        (unsigned long long)epoch, o->home);
    return rc;
}

int cli_encrypt_buffer(uint8_t **env, size_t *env_len, const cli_opts *o, const msd_identity *id,
                       const uint8_t asset[32], uint64_t version, uint64_t epoch, const uint8_t *pt, size_t pt_len,
                       int allow_new_key)
{
    *env = NULL;
    *env_len = 0;
    msd_data_key *key = NULL;
    int rc = home_load_data_key(&key, o, id, asset, epoch);
    if (rc == CLI_NO_KEY && allow_new_key) {
        /* Derived from the seed (spec/device.md §6): the recovery phrase alone brings it back. */
        msd_status s = msd_data_key_derive(&key, id, o->chain_id, o->precompile, asset, epoch);
        if (s != MSD_OK) return cli_fail(cli_exit_of(s), "%s", msd_strerror(s));
        rc = home_store_key_for_me(o, id, key);
        if (rc == CLI_OK) fprintf(stderr, "memsync: new data key for epoch %llu kept in %s\n",
                                  (unsigned long long)epoch, o->home);
    } else if (rc == CLI_NO_KEY) {
        rc = cli_fail(CLI_NO_KEY, "no data key for epoch %llu of this asset in %s (use --new-key to create one)",
                      (unsigned long long)epoch, o->home);
    }
    if (rc == CLI_OK) rc = cli_encrypt_with_key(env, env_len, o, key, asset, version, pt, pt_len);
    msd_data_key_destroy(key);
    return rc;
}

int cli_encrypt_with_key(uint8_t **env, size_t *env_len, const cli_opts *o, const msd_data_key *key,
                         const uint8_t asset[32], uint64_t version, const uint8_t *pt, size_t pt_len)
{
    *env = NULL;
    *env_len = 0;
    const size_t need = msd_envelope_size(pt_len);
    if (need == 0) return cli_fail(CLI_USAGE, "the memory is too large (%zu bytes)", pt_len);
    uint8_t *buf = malloc(need);
    if (buf == NULL) return cli_fail(CLI_INTERNAL, "out of memory");
    msd_context c = cli_context(o, asset, version, msd_data_key_info(key, NULL));
    msd_status s = msd_encrypt(buf, need, env_len, key, &c, pt, pt_len);
    if (s != MSD_OK) {
        free(buf);
        return cli_fail(cli_exit_of(s), "encrypt: %s", msd_strerror(s));
    }
    *env = buf;
    return CLI_OK;
}

int cmd_encrypt(const cli_opts *o)
{
    int rc = need_version_epoch(o);
    if (rc != CLI_OK) return rc;
    msd_identity *id;
    if ((rc = home_open_identity(&id, o)) != CLI_OK) return rc;
    uint8_t asset[32], salt[32];
    int from_salt = 0;
    uint8_t *pt = NULL, *env = NULL;
    size_t pt_len = 0, env_len = 0;
    rc = cli_asset_of(asset, o, id, &from_salt, salt);
    if (rc == CLI_OK && from_salt) rc = home_store_blob(o, asset, "salt", salt, 32);
    if (rc == CLI_OK) rc = cli_read_file(o->in, &pt, &pt_len, MSD_MAX_PLAINTEXT);
    if (rc == CLI_OK)
        rc = cli_encrypt_buffer(&env, &env_len, o, id, asset, o->version, o->epoch, pt, pt_len, o->new_key);
    if (pt != NULL) sodium_memzero(pt, pt_len);
    free(pt);
    msd_identity_destroy(id);
    uint8_t h[32] = {0};
    if (rc == CLI_OK) rc = cli_write_file(o->out, env, env_len, 0);
    if (rc == CLI_OK) ms_keccak256(h, env, env_len);
    free(env);
    if (rc != CLI_OK) return rc;
    cli_print_field("asset", asset, 32);
    printf("envelope  %zu bytes, version %llu, epoch %llu\n", env_len, (unsigned long long)o->version,
           (unsigned long long)o->epoch);
    cli_print_field("ct hash", h, 32);
    return CLI_OK;
}

/* Decrypt env into a fresh buffer; maps every library error to its exit code
 * with the library's text (which never holds key material). */
int cli_decrypt_buffer(uint8_t **pt, size_t *pt_len, const cli_opts *o, const msd_identity *id,
                       const uint8_t asset[32], uint64_t version, uint64_t epoch, const uint8_t *env, size_t env_len)
{
    *pt = NULL;
    *pt_len = 0;
    msd_data_key *key = NULL;
    int rc = data_key_for(&key, o, id, asset, epoch);
    if (rc != CLI_OK) return rc;
    const size_t cap = env_len > 50 ? env_len - 50 : 1;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        msd_data_key_destroy(key);
        return cli_fail(CLI_INTERNAL, "out of memory");
    }
    msd_context c = cli_context(o, asset, version, epoch);
    msd_status s = msd_decrypt(buf, cap, pt_len, key, &c, env, env_len);
    msd_data_key_destroy(key);
    if (s != MSD_OK) {
        free(buf);
        return cli_fail(cli_exit_of(s), "decrypt: %s", msd_strerror(s));
    }
    *pt = buf;
    return CLI_OK;
}

int cmd_decrypt(const cli_opts *o)
{
    int rc = need_version_epoch(o);
    if (rc != CLI_OK) return rc;
    msd_identity *id;
    if ((rc = home_open_identity(&id, o)) != CLI_OK) return rc;
    uint8_t asset[32];
    uint8_t *env = NULL, *pt = NULL;
    size_t env_len = 0, pt_len = 0;
    rc = cli_asset_of(asset, o, id, NULL, NULL);
    if (rc == CLI_OK) rc = cli_read_file(o->in, &env, &env_len, MSD_BUNDLE_MAX_CIPHERTEXT);
    if (rc == CLI_OK) rc = cli_decrypt_buffer(&pt, &pt_len, o, id, asset, o->version, o->epoch, env, env_len);
    msd_identity_destroy(id);
    free(env);
    /* `--out -` is standard output, as for pull. */
    if (rc == CLI_OK && strcmp(o->out, "-") == 0) {
        if (fwrite(pt, 1, pt_len, stdout) != pt_len || fflush(stdout) != 0)
            rc = cli_fail(CLI_IO, "cannot write standard output");
    } else if (rc == CLI_OK) {
        rc = cli_write_file(o->out, pt, pt_len, 1);
    }
    if (pt != NULL) sodium_memzero(pt, pt_len);
    free(pt);
    return rc;
}

int cmd_sign(const cli_opts *o)
{
    if (o->action == NULL) return cli_fail(CLI_USAGE, "sign needs an action: create, append or transfer");
    if (!o->has_nonce || !o->has_deadline) return cli_fail(CLI_USAGE, "--nonce N and --deadline UNIX are required");
    const int create = strcmp(o->action, "create") == 0, append = strcmp(o->action, "append") == 0,
              transfer = strcmp(o->action, "transfer") == 0;
    if (!create && !append && !transfer) return cli_fail(CLI_USAGE, "unknown sign action %s", o->action);
    if (append && (!o->has_expected || !o->has_epoch))
        return cli_fail(CLI_USAGE, "sign append needs --expected N and --epoch N");
    if ((create || append) && o->in == NULL) return cli_fail(CLI_USAGE, "--in ENVELOPE is required");
    uint8_t new_owner[20], metadata[32] = {0};
    if (transfer && !text_hex_exact(new_owner, 20, o->new_owner))
        return cli_fail(CLI_USAGE, "--new-owner needs a 20-byte address");
    if (o->metadata != NULL && !text_hex_exact(metadata, 32, o->metadata))
        return cli_fail(CLI_USAGE, "--metadata needs 32 bytes of hex");
    if (create && o->salt == NULL) return cli_fail(CLI_USAGE, "sign create needs --salt");
    msd_identity *id;
    int rc = home_open_identity(&id, o);
    if (rc != CLI_OK) return rc;
    uint8_t asset[32], salt[32] = {0};
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    rc = cli_asset_of(asset, o, id, NULL, salt);
    if (rc == CLI_OK && o->in != NULL) rc = cli_read_file(o->in, &ct, &ct_len, MSD_BUNDLE_MAX_CIPHERTEXT);
    if (rc != CLI_OK) {
        msd_identity_destroy(id);
        return rc;
    }
    uint8_t me[20], domain[32], digest[32], sig[65], deadline[32] = {0};
    msd_identity_address(id, me);
    for (int i = 0; i < 8; i++) deadline[31 - i] = (uint8_t)(o->deadline >> (8 * i));
    ms_eip712_domain(domain, o->chain_id, o->precompile);
    const size_t cap = ct_len + 1024;
    uint8_t *cd = malloc(cap);
    size_t cd_len = 0;
    msd_status s = MSD_ERR_NOMEM;
    if (cd != NULL && create) {
        ms_eip712_create m;
        memcpy(m.owner, me, 20);
        memcpy(m.salt, salt, 32);
        memcpy(m.metadata, metadata, 32);
        ms_keccak256(m.ciphertext_hash, ct, ct_len);
        m.nonce = o->nonce;
        memcpy(m.deadline, deadline, 32);
        ms_eip712_create_digest(digest, domain, &m);
        s = msd_sign_create_memory(cd, cap, &cd_len, sig, id, o->chain_id, o->precompile, salt, metadata, ct, ct_len,
                                   o->nonce, o->deadline);
    } else if (cd != NULL && append) {
        ms_eip712_append m;
        memcpy(m.asset_id, asset, 32);
        m.expected_version = o->expected;
        m.key_epoch = o->epoch;
        ms_keccak256(m.ciphertext_hash, ct, ct_len);
        memcpy(m.signer, me, 20);
        m.nonce = o->nonce;
        memcpy(m.deadline, deadline, 32);
        ms_eip712_append_digest(digest, domain, &m);
        s = msd_sign_append_version(cd, cap, &cd_len, sig, id, o->chain_id, o->precompile, asset, o->expected,
                                    o->epoch, ct, ct_len, o->nonce, o->deadline);
    } else if (cd != NULL) {
        ms_eip712_transfer m;
        memcpy(m.asset_id, asset, 32);
        memcpy(m.new_owner, new_owner, 20);
        m.nonce = o->nonce;
        memcpy(m.deadline, deadline, 32);
        ms_eip712_transfer_digest(digest, domain, &m);
        s = msd_sign_transfer_ownership(cd, cap, &cd_len, sig, id, o->chain_id, o->precompile, asset, new_owner,
                                        o->nonce, o->deadline);
    }
    msd_identity_destroy(id);
    free(ct);
    if (s != MSD_OK) {
        free(cd);
        return cli_fail(cli_exit_of(s), "sign: %s", msd_strerror(s));
    }
    cli_print_field("signer", me, 20);
    cli_print_field("asset", asset, 32);
    cli_print_field("digest", digest, 32);
    cli_print_field("signature", sig, 65);
    cli_print_field("calldata", cd, cd_len);
    free(cd);
    return CLI_OK;
}
