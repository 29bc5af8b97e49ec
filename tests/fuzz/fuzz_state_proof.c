/* libFuzzer harness for the light-client verifier crypto/state_proof.c (with
 * crypto/smt_verify.c under it).
 *
 * Input: [mode][bundle...]
 * mode bit 0: trust the height and root written in the bundle itself, so the
 *             fuzzer gets past the trusted-pair check into the tree proof;
 *             otherwise trust height 0x0102030405060708 and root 0x5a * 32;
 * mode bit 1: pass a NULL bundle with the claimed length (host misuse that
 *             must still be a defined MS_STATE_PROOF_MALFORMED).
 *
 * Checked: the status is one of the four; MALFORMED exactly when an
 * independent parser of spec/state.md ("State proof bundle") rejects the
 * layout; a wrong trusted pair is WRONG_ROOT; on failure the output is all
 * zero; on success every output field agrees with the bytes, the tree proof
 * verifies on its own, and changing any single byte of the bundle (or the
 * trusted height) makes verification fail, as spec/state.md promises. The
 * bundle is copied into an exact-size heap buffer so ASan catches any read
 * past its end. Seeds: real bundles from `memsync-operator prove`. */
#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "crypto/smt_verify.h"
#include "crypto/state_proof.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint64_t OTHER_HEIGHT = 0x0102030405060708ull;

static uint64_t rd_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* The bundle layout, walked with 64-bit offsets from the end-of-field
 * arithmetic of the table rather than the verifier's "remaining" checks. */
typedef struct model {
    uint64_t height;
    const uint8_t *root, *key, *value, *proof;
    uint64_t klen, vlen, plen;
    int present;
} model;

static int model_parse(model *m, const uint8_t *b, size_t len)
{
    const uint64_t n = len;
    if (b == NULL || n < 42 || b[0] != 1) return 0;
    m->height = rd_be(b + 1, 8);
    m->root = b + 9;
    m->klen = b[41];
    if (m->klen != 33 && m->klen != 41) return 0;
    uint64_t off = 42;
    if (off + m->klen > n) return 0;
    m->key = b + off;
    if (m->key[0] != (m->klen == 33 ? 1 : 2)) return 0;
    off += m->klen;
    if (off + 5 > n) return 0;
    if (b[off] > 1) return 0;
    m->present = b[off];
    m->vlen = rd_be(b + off + 1, 4);
    off += 5;
    if (off + m->vlen > n) return 0;
    if (!m->present && m->vlen != 0) return 0;
    m->value = b + off;
    off += m->vlen;
    if (off + 4 > n) return 0;
    m->plen = rd_be(b + off, 4);
    off += 4;
    if (off + m->plen != n) return 0;
    m->proof = b + off;
    return 1;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0) return 0;
    return 1;
}

static int valid_status(ms_state_proof_status s)
{
    return s == MS_STATE_PROOF_OK || s == MS_STATE_PROOF_MALFORMED || s == MS_STATE_PROOF_WRONG_ROOT ||
           s == MS_STATE_PROOF_INVALID;
}

static void check_success(const ms_state_proof *o, const model *m, uint8_t *b, size_t len, uint64_t th,
                          const uint8_t troot[32])
{
    FZ_CHECK(o->height == th && memcmp(o->root, troot, 32) == 0);
    FZ_CHECK(o->key == m->key && o->key_len == m->klen);
    FZ_CHECK(o->present == m->present && o->value_len == m->vlen);
    FZ_CHECK(m->vlen == 0 ? o->value == NULL : o->value == m->value);

    /* The tree proof alone says the same thing. */
    int present = -1;
    uint8_t vh[32];
    FZ_CHECK(ms_smt_verify(troot, m->key, m->klen, m->proof, m->plen, &present, vh) == MS_SMT_VERIFY_OK);
    FZ_CHECK(present == m->present);
    if (present) {
        uint8_t want[32];
        ms_keccak256(want, m->value, m->vlen);
        FZ_CHECK(memcmp(vh, want, 32) == 0);
    }

    /* Another trusted height never verifies. */
    ms_state_proof o2;
    FZ_CHECK(ms_state_proof_verify(&o2, b, len, th + 1, troot) == MS_STATE_PROOF_WRONG_ROOT);
    FZ_CHECK(all_zero(&o2, sizeof o2));

    /* Every single-byte change is caught (two different flips per byte). */
    for (size_t i = 0; i < len; i++) {
        static const uint8_t flips[2] = { 0x01, 0x80 };
        for (unsigned f = 0; f < 2; f++) {
            b[i] ^= flips[f];
            const ms_state_proof_status s = ms_state_proof_verify(&o2, b, len, th, troot);
            b[i] ^= flips[f];
            FZ_CHECK(s != MS_STATE_PROOF_OK);
            FZ_CHECK(all_zero(&o2, sizeof o2));
        }
    }
    /* A byte more or less is malformed. */
    FZ_CHECK(ms_state_proof_verify(&o2, b, len - 1, th, troot) == MS_STATE_PROOF_MALFORMED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    const uint8_t mode = fz_u8(&in);

    const size_t len = in.n;
    uint8_t *b = malloc(len + 1);   /* +1 only for the one-longer check below */
    if (b == NULL) return 0;
    if (len > 0) memcpy(b, in.p, len);

    model m;
    memset(&m, 0, sizeof m);
    const int parses = model_parse(&m, b, len);

    uint64_t th = OTHER_HEIGHT;
    uint8_t troot[32];
    memset(troot, 0x5a, sizeof troot);
    if ((mode & 1u) && len >= 41) {
        th = rd_be(b + 1, 8);
        memcpy(troot, b + 9, 32);
    }
    const int trusted = parses && m.height == th && memcmp(m.root, troot, 32) == 0;

    ms_state_proof o;
    memset(&o, 0xEE, sizeof o);
    const uint8_t *arg = (mode & 2u) ? NULL : b;
    const ms_state_proof_status s = ms_state_proof_verify(&o, arg, len, th, troot);
    FZ_CHECK(valid_status(s));

    if (arg == NULL) {
        FZ_CHECK(s == MS_STATE_PROOF_MALFORMED);
    } else {
        FZ_CHECK((s == MS_STATE_PROOF_MALFORMED) == !parses);
        if (parses && !trusted) FZ_CHECK(s == MS_STATE_PROOF_WRONG_ROOT);
        if (s == MS_STATE_PROOF_OK) {
            FZ_CHECK(trusted);
            check_success(&o, &m, b, len, th, troot);
            /* A trailing byte is malformed too (exact length). */
            b[len] = 0;
            ms_state_proof o3;
            FZ_CHECK(ms_state_proof_verify(&o3, b, len + 1, th, troot) == MS_STATE_PROOF_MALFORMED);
        }
    }
    if (s != MS_STATE_PROOF_OK) FZ_CHECK(all_zero(&o, sizeof o));

    /* Lengths far past any buffer with a NULL pointer: never dereferenced. */
    FZ_CHECK(ms_state_proof_verify(&o, NULL, SIZE_MAX, th, troot) == MS_STATE_PROOF_MALFORMED);

    free(b);
    return 0;
}
