/* Reads go through simulate (eth_call) so they never touch the pending block. */
#include "client.h"

#include <string.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "calldata.h"
#include "crypto/eip712.h"
#include "decode.h"

void client_init(client *c, node *n)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    ms_buf_init(&c->cd);
    ms_eip712_domain(c->domain, n->cfg.chain_id, n->cfg.precompile_address.bytes);
}

void client_free(client *c)
{
    ms_buf_free(&c->cd);
}

void client_asset_id(const client *c, uint8_t id[32], const uint8_t owner[20], const uint8_t salt[32])
{
    uint8_t packed[72];
    memcpy(packed, c->n->cfg.precompile_address.bytes, 20);
    memcpy(packed + 20, owner, 20);
    memcpy(packed + 40, salt, 32);
    ms_keccak256(id, packed, sizeof packed);
}

int client_head_of(client *c, client_head *h, const uint8_t id[32])
{
    memset(h, 0, sizeof *h);
    cd_id(&c->cd, MS_FN_GET_HEAD, id);
    if (!node_view(c->n, &c->cd, NODE_EXPECT_OK, 1)) return 0;
    const ms_result *r = &c->n->last;
    uint8_t w[32];
    uint64_t flags = 0;
    if (!dec_word(w, r->output, r->output_size, 0) || !dec_u64(&h->version, r->output, r->output_size, 1) ||
        !dec_u64(&h->key_epoch, r->output, r->output_size, 3) || !dec_u64(&flags, r->output, r->output_size, 4))
        return 0;
    memcpy(h->owner, w + 12, 20);
    h->flags = (uint32_t)flags;
    return 1;
}

int client_nonce_of(client *c, uint64_t *nonce, const uint8_t addr[20])
{
    cd_addr(&c->cd, MS_FN_NONCE_OF, addr);
    return node_view(c->n, &c->cd, NODE_EXPECT_OK, 1) &&
           dec_u64(nonce, c->n->last.output, c->n->last.output_size, 0);
}

int client_check_domain(client *c)
{
    cd_none(&c->cd, MS_FN_DOMAIN_SEPARATOR);
    if (!node_view(c->n, &c->cd, NODE_EXPECT_OK, 0)) return 0;
    uint8_t w[32];
    const int same = dec_word(w, c->n->last.output, c->n->last.output_size, 0) && memcmp(w, c->domain, 32) == 0;
    fprintf(c->n->out, "       EIP-712 domain separator computed by the client %s the module's\n",
            same ? "matches" : "DIFFERS FROM");
    if (!same) c->n->unexpected++;
    return same;
}

int client_seal(const client *c, client_ct *ct, const uint8_t id[32], uint64_t version, uint64_t epoch,
                const uint8_t key[32], const char *text)
{
    dev_context dc;
    dc.chain_id = c->n->cfg.chain_id;
    memcpy(dc.precompile, c->n->cfg.precompile_address.bytes, 20);
    memcpy(dc.asset_id, id, 32);
    dc.version = version;
    dc.key_epoch = epoch;
    if (!dev_seal(ct->env, &ct->len, key, &dc, text)) return 0;
    ms_keccak256(ct->hash, ct->env, ct->len);
    return 1;
}

static void deadline_word(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 32);
    for (unsigned i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8u * i));
}

int client_sign_append(const client *c, uint8_t sig[65], const dev_account *signer, const uint8_t id[32],
                       uint64_t expected, uint64_t epoch, const uint8_t ct_hash[32], uint64_t nonce,
                       uint64_t deadline)
{
    ms_eip712_append m;
    memset(&m, 0, sizeof m);
    memcpy(m.asset_id, id, 32);
    m.expected_version = expected;
    m.key_epoch = epoch;
    memcpy(m.ciphertext_hash, ct_hash, 32);
    memcpy(m.signer, signer->addr, 20);
    m.nonce = nonce;
    deadline_word(m.deadline, deadline);
    uint8_t digest[32];
    ms_eip712_append_digest(digest, c->domain, &m);
    return dev_sign(sig, digest, signer);
}

int client_sign_transfer(const client *c, uint8_t sig[65], const dev_account *owner, const uint8_t id[32],
                         const uint8_t new_owner[20], uint64_t nonce, uint64_t deadline)
{
    ms_eip712_transfer m;
    memset(&m, 0, sizeof m);
    memcpy(m.asset_id, id, 32);
    memcpy(m.new_owner, new_owner, 20);
    m.nonce = nonce;
    deadline_word(m.deadline, deadline);
    uint8_t digest[32];
    ms_eip712_transfer_digest(digest, c->domain, &m);
    return dev_sign(sig, digest, owner);
}

void client_show_memory(client *c, const char *label, const uint8_t id[32])
{
    FILE *f = c->n->out;
    cd_id(&c->cd, MS_FN_GET_HEAD, id);
    fprintf(f, "    head of %s: ", label);
    if (!node_view(c->n, &c->cd, NODE_EXPECT_OK, 1)) {
        fputs("getHead failed: ", f);
        dec_print_error(f, c->n->last.output, c->n->last.output_size);
        fputc('\n', f);
        c->n->unexpected++;
        return;
    }
    dec_print_output(f, MS_FN_GET_HEAD, c->n->last.output, c->n->last.output_size);
    fputc('\n', f);
    client_head h;
    if (!client_head_of(c, &h, id) || h.version == 0) return;

    cd_id_u64(&c->cd, MS_FN_GET_VERSION, id, h.version);
    fprintf(f, "      decrypt v%llu: ", (unsigned long long)h.version);
    if (!node_view(c->n, &c->cd, NODE_EXPECT_OK, 1)) {
        /* A shredded head: its ciphertext is gone for good. */
        dec_print_error(f, c->n->last.output, c->n->last.output_size);
        fputc('\n', f);
        return;
    }
    const ms_result *r = &c->n->last;
    const uint8_t *env;
    size_t env_len;
    uint64_t epoch;
    if (!dec_bytes(&env, &env_len, r->output, r->output_size, 0) ||
        !dec_u64(&epoch, r->output, r->output_size, 1)) {
        fputs("malformed getVersion output\n", f);
        c->n->unexpected++;
        return;
    }
    uint8_t key[32];
    dev_data_key(key, id, epoch);
    dev_context dc;
    dc.chain_id = c->n->cfg.chain_id;
    memcpy(dc.precompile, c->n->cfg.precompile_address.bytes, 20);
    memcpy(dc.asset_id, id, 32);
    dc.version = h.version;
    dc.key_epoch = epoch;
    char text[DEV_MAX_PLAINTEXT + 1];
    if (dev_open(text, key, &dc, env, env_len)) {
        fprintf(f, "\"%s\" (%zu-byte envelope, key epoch %llu, demo key)\n", text, env_len,
                (unsigned long long)epoch);
    } else {
        fputs("DOES NOT AUTHENTICATE\n", f);
        c->n->unexpected++;
    }
}
