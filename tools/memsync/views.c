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

/* One view: its calldata, its answer, and whether it reverted with the
 * error the caller reads as an answer (AssetNotFound, GrantNotFound, ...). */
typedef struct view_call {
    ms_buf cd, out;
    int hit;
} view_call;

static void vc_init(view_call *v)
{
    ms_buf_init(&v->cd);
    ms_buf_init(&v->out);
    v->hit = 0;
}

/* Runs v->cd. A revert with selector e1 or e2 (0: none) sets v->hit; any
 * other revert is printed and CLI_REVERTED. On CLI_OK without hit, v->out
 * holds the return data. */
static int vc_run(chain *c, view_call *v, uint32_t e1, uint32_t e2)
{
    int reverted = 0;
    int rc = chain_call(c, &v->cd, &v->out, &reverted);
    if (rc != CLI_OK || !reverted) return rc;
    const uint32_t sel = v->out.size >= 4 ? dec_selector(v->out.data, v->out.size) : 0;
    if (sel != 0 && (sel == e1 || sel == e2)) {
        v->hit = 1;
        return CLI_OK;
    }
    return chain_report_revert(v->out.data, v->out.size);
}

static int vc_done(view_call *v, int rc)
{
    ms_buf_free(&v->cd);
    ms_buf_free(&v->out);
    return rc;
}

static void addr_of_word(uint8_t a[20], const uint8_t w[32])
{
    memcpy(a, w + 12, 20);
}

int view_head_of(chain *c, const uint8_t asset[32], view_head *h)
{
    memset(h, 0, sizeof *h);
    view_call v;
    vc_init(&v);
    cd_id(&v.cd, MS_FN_GET_HEAD, asset);
    int rc = vc_run(c, &v, MS_E_ASSET_NOT_FOUND, 0);
    if (rc == CLI_OK && !v.hit) {
        const uint8_t *o = v.out.data;
        const size_t n = v.out.size;
        uint8_t w[32];
        uint64_t flags;
        if (!dec_word(w, o, n, 0) || !dec_u64(&h->version, o, n, 1) || !dec_word(h->head_hash, o, n, 2) ||
            !dec_u64(&h->key_epoch, o, n, 3) || !dec_u64(&flags, o, n, 4) || !dec_word(h->metadata, o, n, 5)) {
            rc = bad_answer("getHead");
        } else {
            addr_of_word(h->owner, w);
            h->flags = (uint32_t)flags;
            h->exists = 1;
        }
    }
    return vc_done(&v, rc);
}

int view_nonce_of(chain *c, const uint8_t addr[20], uint64_t *nonce)
{
    view_call v;
    vc_init(&v);
    cd_addr(&v.cd, MS_FN_NONCE_OF, addr);
    int rc = vc_run(c, &v, 0, 0);
    if (rc == CLI_OK && !dec_u64(nonce, v.out.data, v.out.size, 0)) rc = bad_answer("nonceOf");
    return vc_done(&v, rc);
}

int view_version_info(chain *c, const uint8_t asset[32], uint64_t version, view_version *vv)
{
    memset(vv, 0, sizeof *vv);
    view_call v;
    vc_init(&v);
    cd_id_u64(&v.cd, MS_FN_GET_VERSION_INFO, asset, version);
    int rc = vc_run(c, &v, 0, 0);
    if (rc == CLI_OK) {
        const uint8_t *o = v.out.data;
        const size_t n = v.out.size;
        uint8_t w[32];
        uint64_t state;
        if (!dec_word(vv->version_hash, o, n, 0) || !dec_word(vv->ciphertext_hash, o, n, 1) ||
            !dec_u64(&vv->key_epoch, o, n, 2) || !dec_word(w, o, n, 3) || !dec_u64(&vv->block_number, o, n, 4) ||
            !dec_u64(&state, o, n, 5) || state < 1 || state > 3) {
            rc = bad_answer("getVersionInfo");
        } else {
            addr_of_word(vv->author, w);
            vv->state = (uint8_t)state;
        }
    }
    return vc_done(&v, rc);
}

int view_ciphertext(chain *c, const uint8_t asset[32], uint64_t version, ms_buf *ct, int *retained)
{
    ms_buf_reset(ct);
    *retained = 0;
    view_call v;
    vc_init(&v);
    cd_id_u64(&v.cd, MS_FN_GET_VERSION, asset, version);
    int rc = vc_run(c, &v, MS_E_VERSION_PRUNED, MS_E_VERSION_SHREDDED);
    if (rc == CLI_OK && !v.hit) {
        const uint8_t *p;
        size_t n;
        if (!dec_bytes(&p, &n, v.out.data, v.out.size, 0)) {
            rc = bad_answer("getVersion");
        } else {
            ms_buf_put(ct, p, n);
            if (ct->failed) rc = cli_fail(CLI_INTERNAL, "out of memory");
            *retained = rc == CLI_OK;
        }
    }
    return vc_done(&v, rc);
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
    view_call v;
    vc_init(&v);
    cd_id(&v.cd, MS_FN_GET_GRANTS, asset);
    int rc = vc_run(c, &v, 0, 0);
    const ms_buf *out = &v.out;
    uint64_t off, count = 0;
    if (rc == CLI_OK && (!dec_u64(&off, out->data, out->size, 0) || off % 32 != 0 ||
                         !dec_u64(&count, out->data, out->size, (size_t)(off / 32)) || count > out->size / 32))
        rc = bad_answer("getGrants");
    view_grant *g = NULL;
    if (rc == CLI_OK && count > 0 && (g = calloc((size_t)count, sizeof *g)) == NULL)
        rc = cli_fail(CLI_INTERNAL, "out of memory");
    for (size_t i = 0; rc == CLI_OK && i < count; i++) {
        uint8_t w[4][32];
        for (size_t k = 0; k < 4; k++)
            if (!array_word(w[k], out, k, i, (size_t)count)) rc = bad_answer("getGrants");
        if (rc != CLI_OK) break;
        addr_of_word(g[i].grantee, w[0]);
        g[i].permissions = w[1][31];
        for (int b = 24; b < 32; b++) {
            g[i].expiry = g[i].expiry << 8 | w[2][b];
            g[i].key_epoch = g[i].key_epoch << 8 | w[3][b];
        }
    }
    if (rc != CLI_OK) {
        free(g);
        return vc_done(&v, rc);
    }
    *grants = g;
    *n = (size_t)count;
    return vc_done(&v, CLI_OK);
}

int view_grant_of(chain *c, const uint8_t asset[32], const uint8_t grantee[20], view_grant *g, ms_buf *wk, int *found)
{
    memset(g, 0, sizeof *g);
    memcpy(g->grantee, grantee, 20);
    ms_buf_reset(wk);
    *found = 0;
    view_call v;
    vc_init(&v);
    cd_id_addr(&v.cd, MS_FN_GET_GRANT, asset, grantee);
    int rc = vc_run(c, &v, MS_E_GRANT_NOT_FOUND, 0);
    if (rc == CLI_OK && !v.hit) {
        const uint8_t *o = v.out.data, *p;
        const size_t n = v.out.size;
        uint64_t perms;
        size_t len;
        if (!dec_u64(&perms, o, n, 0) || !dec_u64(&g->expiry, o, n, 1) || !dec_u64(&g->key_epoch, o, n, 2) ||
            !dec_bytes(&p, &len, o, n, 3)) {
            rc = bad_answer("getGrant");
        } else {
            g->permissions = (uint8_t)perms;
            ms_buf_put(wk, p, len);
            if (wk->failed) rc = cli_fail(CLI_INTERNAL, "out of memory");
            *found = rc == CLI_OK;
        }
    }
    return vc_done(&v, rc);
}
