/* libFuzzer harness for the owner's portable bundle (device/bundle.c,
 * spec/bundle.md): msd_bundle_parse over hostile bytes, then
 * msd_bundle_verify on whatever parses.
 *
 * Invariants checked beyond "no crash, no leak, no UB":
 * - parse returns only MSD_OK or MSD_ERR_BUNDLE (or MSD_ERR_NOMEM), and
 *   *out is NULL on every error;
 * - every pointer of a parsed bundle borrows the input buffer and stays
 *   inside it, and every count respects its cap;
 * - the format has one encoding and nothing may follow the signature, so a
 *   bundle that parses no longer parses with its last byte cut off or with
 *   one byte appended;
 * - verify returns one of its documented statuses, and the same one twice
 *   (it reads nothing but the bundle). */
#include <stdlib.h>
#include <string.h>

#include "device/memsync_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c)) __builtin_trap();                                                                                    \
    } while (0)

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    if (n == 0) return 1;
    return p != NULL && p >= buf && (size_t)(p - buf) <= len && n <= len - (size_t)(p - buf);
}

static void check_parsed(const msd_bundle *b, const uint8_t *buf, size_t len)
{
    CHECK(b->version_count <= MSD_BUNDLE_MAX_VERSIONS);
    CHECK(b->grant_count <= MSD_BUNDLE_MAX_GRANTS);
    CHECK(b->epoch_key_count <= MSD_BUNDLE_MAX_EPOCH_KEYS);
    CHECK(b->proof_len <= MSD_BUNDLE_MAX_PROOF);
    CHECK(inside(b->proof, b->proof_len, buf, len));
    for (size_t i = 0; i < b->version_count; i++) {
        const msd_bundle_version *v = &b->versions[i];
        CHECK(v->ciphertext_len <= MSD_BUNDLE_MAX_CIPHERTEXT);
        CHECK(inside(v->ciphertext, v->ciphertext_len, buf, len));
        CHECK(v->state == 1 || v->ciphertext_len == 0);
    }
    for (size_t i = 0; i < b->grant_count; i++) {
        CHECK(b->grants[i].wrapped_key_len <= MSD_BUNDLE_MAX_WRAPPED);
        CHECK(inside(b->grants[i].wrapped_key, b->grants[i].wrapped_key_len, buf, len));
    }
    for (size_t i = 0; i < b->epoch_key_count; i++) {
        CHECK(inside(b->epoch_keys[i].wrapped, b->epoch_keys[i].wrapped_len, buf, len));
        if (i > 0) CHECK(b->epoch_keys[i].epoch > b->epoch_keys[i - 1].epoch);
    }
}

static msd_status parse_copy(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);   /* exact size: ASan sees any overread */
    if (buf == NULL) return MSD_ERR_NOMEM;
    if (size) memcpy(buf, data, size);
    msd_bundle *b = (msd_bundle *)1;
    const msd_status rc = msd_bundle_parse(&b, buf, size);
    if (rc != MSD_OK) CHECK(b == NULL);
    msd_bundle_free(rc == MSD_OK ? b : NULL);
    free(buf);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL) return 0;
    if (size) memcpy(buf, data, size);

    msd_bundle *b = (msd_bundle *)1;
    const msd_status rc = msd_bundle_parse(&b, buf, size);
    CHECK(rc == MSD_OK || rc == MSD_ERR_BUNDLE || rc == MSD_ERR_NOMEM);
    if (rc != MSD_OK) {
        CHECK(b == NULL);
        free(buf);
        return 0;
    }
    check_parsed(b, buf, size);

    /* One encoding, nothing after the signature. */
    CHECK(size > 0);
    CHECK(parse_copy(buf, size - 1) != MSD_OK);
    uint8_t *longer = malloc(size + 1);
    if (longer != NULL) {
        memcpy(longer, buf, size);
        longer[size] = 0;
        CHECK(parse_copy(longer, size + 1) != MSD_OK);
        free(longer);
    }

    msd_chain_result chain;
    const msd_status v1 = msd_bundle_verify(b, &chain, 0, NULL);
    CHECK(v1 == MSD_OK || v1 == MSD_ERR_BUNDLE_SIGNATURE || v1 == MSD_ERR_CHAIN || v1 == MSD_ERR_PROOF);
    const msd_status v2 = msd_bundle_verify(b, &chain, 0, NULL);
    CHECK(v1 == v2);

    msd_bundle_free(b);
    free(buf);
    return 0;
}
