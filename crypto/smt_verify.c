#include "crypto/smt_verify.h"

#include <string.h>

#include "abi/keccak.h"

void ms_smt_leaf_preimage(uint8_t out65[65], const uint8_t path32[32], const uint8_t value_hash32[32])
{
    out65[0] = 0x00;
    memcpy(out65 + 1, path32, 32);
    memcpy(out65 + 33, value_hash32, 32);
}

void ms_smt_internal_preimage(uint8_t out65[65], const uint8_t left32[32], const uint8_t right32[32])
{
    out65[0] = 0x01;
    memcpy(out65 + 1, left32, 32);
    memcpy(out65 + 33, right32, 32);
}

void ms_smt_hash_leaf(uint8_t out32[32], const uint8_t path32[32], const uint8_t value_hash32[32])
{
    uint8_t buf[65];
    ms_smt_leaf_preimage(buf, path32, value_hash32);
    ms_keccak256(out32, buf, sizeof buf);
}

void ms_smt_hash_internal(uint8_t out32[32], const uint8_t left32[32], const uint8_t right32[32])
{
    uint8_t buf[65];
    ms_smt_internal_preimage(buf, left32, right32);
    ms_keccak256(out32, buf, sizeof buf);
}

static unsigned path_bit(const uint8_t *p, unsigned i)
{
    return (unsigned)(p[i / 8] >> (7u - i % 8u)) & 1u;
}

static int is_zero32(const uint8_t *p)
{
    uint8_t acc = 0;
    for (unsigned i = 0; i < 32; i++) acc |= p[i];
    return acc == 0;
}

ms_smt_verify_status ms_smt_verify(const uint8_t root32[32], const uint8_t *key, size_t klen,
                                   const uint8_t *proof, size_t len, int *present,
                                   uint8_t value_hash32[32])
{
    static const uint8_t zero[32];
    uint8_t path[32];

    /* Fixed header: format, kind, path, depth. */
    if (proof == NULL || len < 36 || len > MS_SMT_PROOF_MAX_SIZE) return MS_SMT_VERIFY_MALFORMED;
    if (proof[0] != MS_SMT_PROOF_FORMAT) return MS_SMT_VERIFY_MALFORMED;
    const unsigned kind = proof[1];
    size_t term_len;
    switch (kind) {
    case MS_SMT_PROOF_INCLUSION: term_len = 32; break;
    case MS_SMT_PROOF_ABSENT_EMPTY: term_len = 0; break;
    case MS_SMT_PROOF_ABSENT_LEAF: term_len = 64; break;
    default: return MS_SMT_VERIFY_MALFORMED;
    }
    const uint8_t *ppath = proof + 2;
    const unsigned depth = ((unsigned)proof[34] << 8) | proof[35];
    if (depth > MS_SMT_PROOF_MAX_DEPTH) return MS_SMT_VERIFY_MALFORMED;
    const size_t bm_len = (depth + 7u) / 8u;
    if (len < 36 + bm_len) return MS_SMT_VERIFY_MALFORMED;
    const uint8_t *bitmap = proof + 36;

    /* Bitmap: padding bits zero; count the non-empty siblings. */
    size_t nonempty = 0;
    for (unsigned d = 0; d < bm_len * 8u; d++) {
        const unsigned bit = path_bit(bitmap, d);
        if (d >= depth && bit) return MS_SMT_VERIFY_MALFORMED;
        nonempty += bit;
    }
    /* A canonical path never ends beside an empty sibling. */
    if (depth > 0 && !path_bit(bitmap, depth - 1)) return MS_SMT_VERIFY_MALFORMED;
    if (len != 36 + bm_len + term_len + 32 * nonempty) return MS_SMT_VERIFY_MALFORMED;
    const uint8_t *term = bitmap + bm_len;
    const uint8_t *sibs = term + term_len;
    for (size_t i = 0; i < nonempty; i++) {
        if (is_zero32(sibs + 32 * i)) return MS_SMT_VERIFY_MALFORMED;
    }

    /* Terminal subtree at depth D. */
    uint8_t h[32];
    if (kind == MS_SMT_PROOF_INCLUSION) {
        ms_smt_hash_leaf(h, ppath, term);
    } else if (kind == MS_SMT_PROOF_ABSENT_EMPTY) {
        memset(h, 0, 32);
    } else {
        const uint8_t *lpath = term;
        if (memcmp(lpath, ppath, 32) == 0) return MS_SMT_VERIFY_MALFORMED;
        for (unsigned d = 0; d < depth; d++) {
            if (path_bit(lpath, d) != path_bit(ppath, d)) return MS_SMT_VERIFY_MALFORMED;
        }
        ms_smt_hash_leaf(h, lpath, term + 32);
    }

    /* Fold the siblings from depth D-1 up to the root. */
    size_t next = nonempty;
    for (unsigned d = depth; d-- > 0;) {
        const uint8_t *s = zero;
        if (path_bit(bitmap, d)) s = sibs + 32 * --next;
        if (path_bit(ppath, d)) ms_smt_hash_internal(h, s, h);
        else ms_smt_hash_internal(h, h, s);
    }

    /* The key is checked after parsing, so a malformed proof is reported as
     * such whatever key it is checked against. */
    ms_keccak256(path, key, klen);
    if (memcmp(path, ppath, 32) != 0) return MS_SMT_VERIFY_WRONG_KEY;
    if (memcmp(h, root32, 32) != 0) return MS_SMT_VERIFY_MISMATCH;
    if (present != NULL) *present = (kind == MS_SMT_PROOF_INCLUSION);
    if (value_hash32 != NULL) {
        if (kind == MS_SMT_PROOF_INCLUSION) memcpy(value_hash32, term, 32);
        else memset(value_hash32, 0, 32);
    }
    return MS_SMT_VERIFY_OK;
}

ms_smt_verify_status ms_smt_verify_inclusion(const uint8_t root32[32], const uint8_t *key, size_t klen,
                                             const uint8_t *val, size_t vlen, const uint8_t *proof,
                                             size_t len)
{
    int present = 0;
    uint8_t vh[32], want[32];
    ms_smt_verify_status s = ms_smt_verify(root32, key, klen, proof, len, &present, vh);
    if (s != MS_SMT_VERIFY_OK) return s;
    if (!present) return MS_SMT_VERIFY_WRONG_KIND;
    ms_keccak256(want, val, vlen);
    return memcmp(want, vh, 32) == 0 ? MS_SMT_VERIFY_OK : MS_SMT_VERIFY_WRONG_VALUE;
}

ms_smt_verify_status ms_smt_verify_non_inclusion(const uint8_t root32[32], const uint8_t *key, size_t klen,
                                                 const uint8_t *proof, size_t len)
{
    int present = 0;
    ms_smt_verify_status s = ms_smt_verify(root32, key, klen, proof, len, &present, NULL);
    if (s != MS_SMT_VERIFY_OK) return s;
    return present ? MS_SMT_VERIFY_WRONG_KIND : MS_SMT_VERIFY_OK;
}
