/* Decoding the precompile's return data; anything malformed is CLI_NODE,
 * since a MemSync precompile never returns it. */
#include <stdlib.h>
#include <string.h>

#include "abi/selectors.h"
#include "calldata.h"
#include "decode.h"
#include "views.h"

static int bad_answer(const char *what)
{
    return cli_fail(CLI_NODE, "the node's answer to %s does not decode", what);
}

static int unexpected_revert(const ms_buf *out)
{
    fputs("memsync: the contract reverted: ", stderr);
    dec_print_error(stderr, out->data, out->size);
    fputc('\n', stderr);
    return CLI_REVERTED;
}

/* Runs cd; *sel gets the revert selector (0 on success). */
static int run(chain *c, ms_buf *cd, ms_buf *out, uint32_t *sel)
{
    int reverted = 0;
    int rc = chain_call(c, cd, out, &reverted);
    *sel = 0;
    if (rc == CLI_OK && reverted) *sel = out->size >= 4 ? dec_selector(out->data, out->size) : 0xffffffffu;
    return rc;
}

static void addr_of_word(uint8_t a[20], const uint8_t w[32])
{
    memcpy(a, w + 12, 20);
}

int view_head_of(chain *c, const uint8_t asset[32], view_head *h)
{
    memset(h, 0, sizeof *h);
    ms_buf cd, out;
    ms_buf_init(&cd);
    ms_buf_init(&out);
    cd_id(&cd, MS_FN_GET_HEAD, asset);
    uint32_t sel;
    int rc = run(c, &cd, &out, &sel);
    if (rc == CLI_OK && sel == MS_E_ASSET_NOT_FOUND) {
        h->exists = 0;
    } else if (rc == CLI_OK && sel != 0) {
        rc = unexpected_revert(&out);
    } else if (rc == CLI_OK) {
        uint8_t w[32];
        uint64_t flags;
        if (!dec_word(w, out.data, out.size, 0) || !dec_u64(&h->version, out.data, out.size, 1) ||
            !dec_word(h->head_hash, out.data, out.size, 2) || !dec_u64(&h->key_epoch, out.data, out.size, 3) ||
            !dec_u64(&flags, out.data, out.size, 4) || !dec_word(h->metadata, out.data, out.size, 5))
            rc = bad_answer("getHead");
        addr_of_word(h->owner, w);
        h->flags = (uint32_t)flags;
        h->exists = 1;
    }
    ms_buf_free(&cd);
    ms_buf_free(&out);
    return rc;
}

int view_nonce_of(chain *c, const uint8_t addr[20], uint64_t *nonce)
{
    ms_buf cd, out;
    ms_buf_init(&cd);
    ms_buf_init(&out);
    cd_addr(&cd, MS_FN_NONCE_OF, addr);
    uint32_t sel;
    int rc = run(c, &cd, &out, &sel);
    if (rc == CLI_OK && sel != 0) rc = unexpected_revert(&out);
    if (rc == CLI_OK && !dec_u64(nonce, out.data, out.size, 0)) rc = bad_answer("nonceOf");
    ms_buf_free(&cd);
    ms_buf_free(&out);
    return rc;
}

int view_version_info(chain *c, const uint8_t asset[32], uint64_t v, view_version *vv)
{
    memset(vv, 0, sizeof *vv);
    ms_buf cd, out;
    ms_buf_init(&cd);
    ms_buf_init(&out);
    cd_id_u64(&cd, MS_FN_GET_VERSION_INFO, asset, v);
    uint32_t sel;
    int rc = run(c, &cd, &out, &sel);
    if (rc == CLI_OK && sel != 0) rc = unexpected_revert(&out);
    if (rc == CLI_OK) {
        uint8_t w[32];
        uint64_t state;
        if (!dec_word(vv->version_hash, out.data, out.size, 0) || !dec_word(vv->ciphertext_hash, out.data, out.size, 1) ||
            !dec_u64(&vv->key_epoch, out.data, out.size, 2) || !dec_word(w, out.data, out.size, 3) ||
            !dec_u64(&vv->block_number, out.data, out.size, 4) || !dec_u64(&state, out.data, out.size, 5) ||
            state < 1 || state > 3)
            rc = bad_answer("getVersionInfo");
        addr_of_word(vv->author, w);
        vv->state = (uint8_t)state;
    }
    ms_buf_free(&cd);
    ms_buf_free(&out);
    return rc;
}

int view_ciphertext(chain *c, const uint8_t asset[32], uint64_t v, ms_buf *ct, int *retained)
{
    ms_buf_reset(ct);
    *retained = 0;
    ms_buf cd, out;
    ms_buf_init(&cd);
    ms_buf_init(&out);
    cd_id_u64(&cd, MS_FN_GET_VERSION, asset, v);
    uint32_t sel;
    int rc = run(c, &cd, &out, &sel);
    if (rc == CLI_OK && (sel == MS_E_VERSION_PRUNED || sel == MS_E_VERSION_SHREDDED)) {
        *retained = 0;
    } else if (rc == CLI_OK && sel != 0) {
        rc = unexpected_revert(&out);
    } else if (rc == CLI_OK) {
        const uint8_t *p;
        size_t n;
        if (!dec_bytes(&p, &n, out.data, out.size, 0)) {
            rc = bad_answer("getVersion");
        } else {
            ms_buf_put(ct, p, n);
            *retained = 1;
        }
    }
    ms_buf_free(&cd);
    ms_buf_free(&out);
    return rc;
}

/* Element i of the dynamic array whose offset word is in `slot`. */
static int array_word(uint8_t w[32], const ms_buf *out, size_t slot, size_t i, size_t n)
{
    uint64_t off, count;
    if (!dec_u64(&off, out->data, out->size, slot) || off % 32 != 0) return 0;
    const size_t base = (size_t)(off / 32);
    if (!dec_u64(&count, out->data, out->size, base) || count != n) return 0;
    return dec_word(w, out->data, out->size, base + 1 + i);
}

int view_grants(chain *c, const uint8_t asset[32], view_grant **grants, size_t *n)
{
    *grants = NULL;
    *n = 0;
    ms_buf cd, out;
    ms_buf_init(&cd);
    ms_buf_init(&out);
    cd_id(&cd, MS_FN_GET_GRANTS, asset);
    uint32_t sel;
    int rc = run(c, &cd, &out, &sel);
    if (rc == CLI_OK && sel != 0) rc = unexpected_revert(&out);
    uint64_t off, count = 0;
    if (rc == CLI_OK && (!dec_u64(&off, out.data, out.size, 0) || off % 32 != 0 ||
                         !dec_u64(&count, out.data, out.size, (size_t)(off / 32)) || count > out.size / 32))
        rc = bad_answer("getGrants");
    view_grant *g = NULL;
    if (rc == CLI_OK && count > 0 && (g = calloc((size_t)count, sizeof *g)) == NULL)
        rc = cli_fail(CLI_INTERNAL, "out of memory");
    for (size_t i = 0; rc == CLI_OK && i < count; i++) {
        uint8_t w[4][32];
        for (size_t k = 0; k < 4; k++)
            if (!array_word(w[k], &out, k, i, (size_t)count)) rc = bad_answer("getGrants");
        if (rc != CLI_OK) break;
        addr_of_word(g[i].grantee, w[0]);
        g[i].permissions = w[1][31];
        for (int b = 24; b < 32; b++) {
            g[i].expiry = g[i].expiry << 8 | w[2][b];
            g[i].key_epoch = g[i].key_epoch << 8 | w[3][b];
        }
    }
    ms_buf_free(&cd);
    ms_buf_free(&out);
    if (rc != CLI_OK) {
        free(g);
        return rc;
    }
    *grants = g;
    *n = (size_t)count;
    return CLI_OK;
}

int view_grant_of(chain *c, const uint8_t asset[32], const uint8_t grantee[20], view_grant *g, ms_buf *wk, int *found)
{
    memset(g, 0, sizeof *g);
    memcpy(g->grantee, grantee, 20);
    ms_buf_reset(wk);
    *found = 0;
    ms_buf cd, out;
    ms_buf_init(&cd);
    ms_buf_init(&out);
    cd_id_addr(&cd, MS_FN_GET_GRANT, asset, grantee);
    uint32_t sel;
    int rc = run(c, &cd, &out, &sel);
    if (rc == CLI_OK && sel == MS_E_GRANT_NOT_FOUND) {
        *found = 0;
    } else if (rc == CLI_OK && sel != 0) {
        rc = unexpected_revert(&out);
    } else if (rc == CLI_OK) {
        uint64_t perms;
        const uint8_t *p;
        size_t n;
        if (!dec_u64(&perms, out.data, out.size, 0) || !dec_u64(&g->expiry, out.data, out.size, 1) ||
            !dec_u64(&g->key_epoch, out.data, out.size, 2) || !dec_bytes(&p, &n, out.data, out.size, 3)) {
            rc = bad_answer("getGrant");
        } else {
            g->permissions = (uint8_t)perms;
            ms_buf_put(wk, p, n);
            *found = 1;
        }
    }
    ms_buf_free(&cd);
    ms_buf_free(&out);
    return rc;
}
