#include "crypto/state_proof.h"

#include <string.h>

#include "crypto/smt_verify.h"

#define FORMAT 1u

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Layout: format 1 | height 8 | root 32 | klen 1 | key | present 1 |
 * vlen 4 | value | plen 4 | proof; nothing may follow. */
static int parse(ms_state_proof *o, const uint8_t **proof, size_t *plen, const uint8_t *b, size_t len)
{
    if (b == NULL || len < 42 || b[0] != FORMAT) return 0;
    o->height = be64(b + 1);
    memcpy(o->root, b + 9, 32);
    size_t p = 41;
    o->key_len = b[p++];
    /* Only asset (tag 01, 33 bytes) and version (tag 02, 41 bytes) records. */
    const int key_ok = (o->key_len == 33 || o->key_len == 41) && len - p >= o->key_len &&
                       b[p] == (o->key_len == 33 ? 0x01 : 0x02);
    if (!key_ok) return 0;
    o->key = b + p;
    p += o->key_len;
    if (len - p < 5 || b[p] > 1) return 0;
    o->present = b[p++];
    o->value_len = be32(b + p);
    p += 4;
    if (len - p < o->value_len || (!o->present && o->value_len != 0)) return 0;
    o->value = o->value_len > 0 ? b + p : NULL;
    p += o->value_len;
    if (len - p < 4) return 0;
    *plen = be32(b + p);
    p += 4;
    if (len - p != *plen) return 0;
    *proof = b + p;
    return 1;
}

ms_state_proof_status ms_state_proof_verify(ms_state_proof *out, const uint8_t *bundle, size_t len,
                                            uint64_t trusted_height, const uint8_t trusted_root32[32])
{
    ms_state_proof o;
    const uint8_t *proof = NULL;
    size_t plen = 0;
    memset(out, 0, sizeof *out);
    memset(&o, 0, sizeof o);
    if (!parse(&o, &proof, &plen, bundle, len)) return MS_STATE_PROOF_MALFORMED;
    if (o.height != trusted_height || memcmp(o.root, trusted_root32, 32) != 0) return MS_STATE_PROOF_WRONG_ROOT;
    const ms_smt_verify_status s =
        o.present ? ms_smt_verify_inclusion(o.root, o.key, o.key_len, o.value, o.value_len, proof, plen)
                  : ms_smt_verify_non_inclusion(o.root, o.key, o.key_len, proof, plen);
    if (s != MS_SMT_VERIFY_OK) return MS_STATE_PROOF_INVALID;
    *out = o;
    return MS_STATE_PROOF_OK;
}
