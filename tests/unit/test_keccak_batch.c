/* Multi-buffer Keccak-256 (abi/keccak_batch.c): every implementation this
 * CPU offers must give exactly ms_keccak256's bytes, for lengths around the
 * lane and block boundaries and for batch sizes that leave every possible
 * remainder after groups of 4 and 8, with unaligned inputs, without writing
 * past the 32 output bytes. Consensus code: a mismatch on any CPU would fork
 * validators. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"
#include "abi/keccak_batch.h"
#include "test_util.h"

#define KB_MAX_N 20u
#define KB_MAX_LEN 1000u
#define KB_GUARD 16u       /* guard bytes either side of every digest */
#define KB_GUARD_BYTE 0xA5

static const char *const kb_names[] = {"best", "scalar", "avx2", "avx512"};

/* Deterministic input bytes: a 32-bit LCG (Numerical Recipes constants). */
static uint32_t kb_lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 24;
}

/* Inputs and guarded outputs for one batch. Each message starts at an odd
 * offset inside its own heap block so vector loads are unaligned and ASan
 * sees any read past len. Outputs sit between guard bytes. */
typedef struct kb_batch {
    uint8_t *block[KB_MAX_N];
    const uint8_t *in[KB_MAX_N];
    uint8_t outbuf[KB_MAX_N][KB_GUARD + 32 + KB_GUARD];
    uint8_t *out[KB_MAX_N];
} kb_batch;

static void kb_batch_init(kb_batch *b, size_t len, size_t n, uint32_t seed)
{
    uint32_t x = seed;
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < n; i++) {
        /* Exactly 1 + len bytes: the message ends at the block's end. */
        b->block[i] = malloc(1 + len);
        cr_assert_not_null(b->block[i]);
        b->block[i][0] = 0;
        for (size_t j = 0; j < len; j++) b->block[i][1 + j] = (uint8_t)kb_lcg(&x);
        b->in[i] = b->block[i] + 1;
    }
    for (size_t i = 0; i < KB_MAX_N; i++) {
        memset(b->outbuf[i], KB_GUARD_BYTE, sizeof b->outbuf[i]);
        b->out[i] = b->outbuf[i] + KB_GUARD;
    }
}

static void kb_batch_free(kb_batch *b)
{
    for (size_t i = 0; i < KB_MAX_N; i++) free(b->block[i]);
}

/* The guard bytes of every output slot are untouched, and slots from n on
 * were not written at all. */
static void kb_check_guards(const kb_batch *b, size_t n, const char *what)
{
    for (size_t i = 0; i < KB_MAX_N; i++) {
        for (size_t g = 0; g < sizeof b->outbuf[i]; g++) {
            int in_digest = g >= KB_GUARD && g < KB_GUARD + 32;
            if (in_digest && i < n) continue;
            cr_assert_eq(b->outbuf[i][g], KB_GUARD_BYTE,
                         "%s: out slot %zu byte %zu changed (n %zu)", what, i, g, n);
        }
    }
}

/* Which implementations this CPU runs; scalar must always be one. */
/* Whether impl runs here, by running it; ms_keccak_impl_available must
 * say the same. */
static int kb_available(ms_keccak_impl impl)
{
    uint8_t d[32];
    uint8_t *out[1] = {d};
    const uint8_t *in[1] = {(const uint8_t *)"x"};
    const int ran = ms_keccak256_batch_with(impl, out, in, 1, 1);
    cr_assert_eq(ms_keccak_impl_available(impl), ran, "impl %d: available() disagrees with a run", (int)impl);
    return ran;
}

static const size_t kb_lens[] = {0, 1, 31, 32, 33, 64, 65, 66, 100, 135, 136, 137,
                                 200, 271, 272, 273, 1000};

static void kb_check_impl_all(ms_keccak_impl impl)
{
    for (size_t li = 0; li < sizeof kb_lens / sizeof kb_lens[0]; li++) {
        size_t len = kb_lens[li];
        for (size_t n = 0; n <= KB_MAX_N; n++) {
            kb_batch *b = malloc(sizeof *b);
            cr_assert_not_null(b);
            kb_batch_init(b, len, n, (uint32_t)(len * 131u + n * 7u + 1u));
            char what[64];
            snprintf(what, sizeof what, "%s len %zu n %zu", kb_names[impl], len, n);
            /* n == 0: NULL arrays are allowed. */
            int rc = n == 0 ? ms_keccak256_batch_with(impl, NULL, NULL, len, 0)
                            : ms_keccak256_batch_with(impl, b->out, b->in, len, n);
            cr_assert_eq(rc, 1, "%s: not run", what);
            kb_check_guards(b, n, what);
            for (size_t i = 0; i < n; i++) {
                uint8_t want[32];
                ms_keccak256(want, b->in[i], len);
                cr_assert_arr_eq(b->out[i], want, 32, "%s: message %zu differs", what, i);
            }
            kb_batch_free(b);
            free(b);
        }
    }
}

Test(keccak_batch, scalar_always_available)
{
    cr_assert_eq(kb_available(MS_KECCAK_IMPL_SCALAR), 1);
    cr_assert_eq(kb_available(MS_KECCAK_IMPL_BEST), 1);
    ms_keccak_impl best = ms_keccak_best_impl();
    cr_assert(best == MS_KECCAK_IMPL_SCALAR || best == MS_KECCAK_IMPL_AVX2 ||
              best == MS_KECCAK_IMPL_AVX512, "best impl %d", (int)best);
    /* What best names must itself be available. */
    cr_assert_eq(kb_available(best), 1);
}

Test(keccak_batch, every_impl_matches_scalar)
{
    int tested = 0;
    for (int impl = MS_KECCAK_IMPL_BEST; impl <= MS_KECCAK_IMPL_AVX512; impl++) {
        if (!kb_available((ms_keccak_impl)impl)) {
            cr_log_info("keccak_batch: %s not available on this CPU, skipped", kb_names[impl]);
            continue;
        }
        cr_log_info("keccak_batch: testing %s", kb_names[impl]);
        kb_check_impl_all((ms_keccak_impl)impl);
        tested++;
    }
    cr_assert_geq(tested, 2, "at least best and scalar ran");
}

/* The default entry point agrees too (a 65-byte tree preimage batch). */
Test(keccak_batch, default_entry_point)
{
    for (size_t n = 0; n <= KB_MAX_N; n++) {
        kb_batch *b = malloc(sizeof *b);
        cr_assert_not_null(b);
        kb_batch_init(b, 65, n, 99u + (uint32_t)n);
        ms_keccak256_batch(b->out, b->in, 65, n);
        kb_check_guards(b, n, "default");
        for (size_t i = 0; i < n; i++) {
            uint8_t want[32];
            ms_keccak256(want, b->in[i], 65);
            cr_assert_arr_eq(b->out[i], want, 32, "default n %zu message %zu", n, i);
        }
        kb_batch_free(b);
        free(b);
    }
}

/* Known answers for "" and "abc" in lane 0 and in the last lane of a batch
 * of other messages of the same length, for every available impl. */
static void kb_known(ms_keccak_impl impl, const char *msg, const char *hex)
{
    size_t len = strlen(msg);
    uint8_t want[32];
    cr_assert_eq(ms_test_hex(want, sizeof want, hex), 32u);
    /* Nine messages: the known one at index 0 and 8 (lane 0 of both an
     * 8-way and a 4-way group and the padded remainder), the others differ. */
    uint8_t others[9][3] = {{0}};
    const uint8_t *in[9];
    uint8_t outbuf[9][32];
    uint8_t *out[9];
    for (size_t i = 0; i < 9; i++) {
        others[i][0] = (uint8_t)('A' + i);
        others[i][1] = (uint8_t)('0' + i);
        others[i][2] = (uint8_t)('a' + i);
        in[i] = (i == 0 || i == 8 || i == 5) ? (const uint8_t *)msg : others[i];
        out[i] = outbuf[i];
    }
    cr_assert_eq(ms_keccak256_batch_with(impl, out, in, len, 9), 1);
    cr_assert_arr_eq(outbuf[0], want, 32, "%s: \"%s\" in lane 0", kb_names[impl], msg);
    cr_assert_arr_eq(outbuf[5], want, 32, "%s: \"%s\" in lane 5", kb_names[impl], msg);
    cr_assert_arr_eq(outbuf[8], want, 32, "%s: \"%s\" in the remainder", kb_names[impl], msg);
    if (len > 0) { /* the neighbours really were different messages */
        cr_assert(memcmp(outbuf[1], want, 32) != 0);
    }
}

Test(keccak_batch, known_answers)
{
    for (int impl = MS_KECCAK_IMPL_BEST; impl <= MS_KECCAK_IMPL_AVX512; impl++) {
        if (!kb_available((ms_keccak_impl)impl)) continue;
        kb_known((ms_keccak_impl)impl, "",
                 "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        kb_known((ms_keccak_impl)impl, "abc",
                 "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    }
}

/* len 0 with NULL message pointers is allowed (nothing is read). */
Test(keccak_batch, empty_messages_null_pointers)
{
    uint8_t want[32];
    cr_assert_eq(ms_test_hex(want, sizeof want,
                             "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"), 32u);
    for (int impl = MS_KECCAK_IMPL_BEST; impl <= MS_KECCAK_IMPL_AVX512; impl++) {
        if (!kb_available((ms_keccak_impl)impl)) continue;
        const uint8_t *in[11] = {NULL};
        uint8_t outbuf[11][32];
        uint8_t *out[11];
        for (size_t i = 0; i < 11; i++) out[i] = outbuf[i];
        cr_assert_eq(ms_keccak256_batch_with((ms_keccak_impl)impl, out, in, 0, 11), 1);
        for (size_t i = 0; i < 11; i++)
            cr_assert_arr_eq(outbuf[i], want, 32, "%s: slot %zu", kb_names[impl], i);
    }
}

/* Hashing in place (out[i] == in[i]) is allowed by the header: each digest
 * is written after its own and all earlier messages were read. */
Test(keccak_batch, in_place)
{
    for (int impl = MS_KECCAK_IMPL_BEST; impl <= MS_KECCAK_IMPL_AVX512; impl++) {
        if (!kb_available((ms_keccak_impl)impl)) continue;
        for (size_t n = 1; n <= 13; n++) {
            uint8_t buf[13][65], want[13][32];
            uint8_t *out[13];
            const uint8_t *in[13];
            uint32_t x = 7u * (uint32_t)n;
            for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < 65; j++) buf[i][j] = (uint8_t)kb_lcg(&x);
                ms_keccak256(want[i], buf[i], 65);
                out[i] = buf[i];
                in[i] = buf[i];
            }
            cr_assert_eq(ms_keccak256_batch_with((ms_keccak_impl)impl, out, in, 65, n), 1);
            for (size_t i = 0; i < n; i++)
                cr_assert_arr_eq(buf[i], want[i], 32, "%s: n %zu slot %zu", kb_names[impl], n, i);
        }
    }
}

/* An unknown impl, and an impl this CPU lacks, return 0 and write nothing. */
static void kb_expect_refused(ms_keccak_impl impl)
{
    kb_batch *b = malloc(sizeof *b);
    cr_assert_not_null(b);
    kb_batch_init(b, 65, 9, 5u);
    cr_assert_eq(ms_keccak_impl_available(impl), 0, "impl %d", (int)impl);
    cr_assert_eq(ms_keccak256_batch_with(impl, b->out, b->in, 65, 9), 0, "impl %d", (int)impl);
    kb_check_guards(b, 0, "refused");
    kb_batch_free(b);
    free(b);
}

Test(keccak_batch, unavailable_or_unknown_impl_refused)
{
    kb_expect_refused((ms_keccak_impl)99);
    kb_expect_refused((ms_keccak_impl)-1);
    kb_expect_refused((ms_keccak_impl)4);
    int lacking = 0;
    for (int impl = MS_KECCAK_IMPL_AVX2; impl <= MS_KECCAK_IMPL_AVX512; impl++) {
        if (kb_available((ms_keccak_impl)impl)) continue;
        cr_log_info("keccak_batch: %s unavailable here; checking it is refused", kb_names[impl]);
        kb_expect_refused((ms_keccak_impl)impl);
        lacking++;
    }
    if (lacking == 0) cr_log_info("keccak_batch: every impl available; only unknown values checked");
}
