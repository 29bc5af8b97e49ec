/* Resource limits (issue 6, spec/host-abi.md [HOST-51]): the largest legal
 * inputs stay within a stated heap bound, and a length that names more than
 * the caps (2^64-1, 2^32, cap + 1) is refused before anything of that size
 * is allocated.
 *
 * Measured with a counting allocator: this file defines malloc, calloc,
 * realloc and free for its own test binary (build/tests/limits, kept apart
 * from the unit suite) and forwards them to glibc's __libc_* entries;
 * while armed (only around one execute), it records the largest single
 * request and the peak of bytes allocated minus bytes freed
 * (usable sizes). Background threads of RocksDB are counted too, which only
 * makes the figures conservative. The ASan build has its own allocator, so
 * these tests compile to nothing there. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "call_fixture.h"

#if !defined(__SANITIZE_ADDRESS__)

#include <malloc.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static int rl_armed;
static size_t rl_max_request;
static long long rl_live, rl_peak;
static size_t rl_count;

static void rl_note_alloc(size_t request, void *p)
{
    if (!__atomic_load_n(&rl_armed, __ATOMIC_RELAXED) || p == NULL) return;
    __atomic_fetch_add(&rl_count, 1, __ATOMIC_RELAXED);
    size_t prev = __atomic_load_n(&rl_max_request, __ATOMIC_RELAXED);
    while (request > prev &&
           !__atomic_compare_exchange_n(&rl_max_request, &prev, request, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    const long long live =
        __atomic_add_fetch(&rl_live, (long long)malloc_usable_size(p), __ATOMIC_RELAXED);
    long long peak = __atomic_load_n(&rl_peak, __ATOMIC_RELAXED);
    while (live > peak && !__atomic_compare_exchange_n(&rl_peak, &peak, live, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static void rl_note_free(void *p)
{
    if (!__atomic_load_n(&rl_armed, __ATOMIC_RELAXED) || p == NULL) return;
    __atomic_sub_fetch(&rl_live, (long long)malloc_usable_size(p), __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    rl_note_alloc(n, p);
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = __libc_calloc(n, m);
    rl_note_alloc(n * m, p);   /* __libc_calloc refused an overflowing product */
    return p;
}

void *realloc(void *p, size_t n)
{
    rl_note_free(p);
    void *q = __libc_realloc(p, n);
    if (q == NULL && p != NULL && n > 0) {
        rl_note_alloc(0, p);   /* p is still live */
        return NULL;
    }
    rl_note_alloc(n, q);
    return q;
}

void free(void *p)
{
    rl_note_free(p);
    __libc_free(p);
}

typedef struct rl_figures {
    ms_status status;
    uint32_t revert_selector;
    uint8_t revert_arg0;   /* low byte of the first argument word */
    size_t max_request, count;
    long long peak;
} rl_figures;

/* One execute on CF, armed. The result buffers belong to the instance (kept
 * until its next call), so the output counts against the call's bound. */
static rl_figures rl_execute(const uint8_t caller[20], cf_buf cd)
{
    ms_message m = cf_msg(caller, cd);
    m.gas = UINT64_MAX / 4;
    ms_result res;
    memset(&res, 0, sizeof res);
    __atomic_store_n(&rl_max_request, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&rl_live, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&rl_peak, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&rl_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&rl_armed, 1, __ATOMIC_SEQ_CST);
    const ms_rc rc = CF.m->execute(CF.inst, &res, &CF.blk, &m);
    __atomic_store_n(&rl_armed, 0, __ATOMIC_SEQ_CST);
    cr_assert_eq(rc, MS_OK);
    rl_figures f = { res.status, 0, 0, rl_max_request, rl_count, rl_peak };
    if (res.status == MS_REVERT && res.output_size >= 36) f.revert_arg0 = res.output[35];
    if (res.status == MS_REVERT && res.output_size >= 4)
        f.revert_selector = ((uint32_t)res.output[0] << 24) | ((uint32_t)res.output[1] << 16) |
                            ((uint32_t)res.output[2] << 8) | res.output[3];

    return f;
}

/* The chain config at the hard ceilings: the largest legal inputs. */
static void at_ceilings(void)
{
    ms_config c = cf_default_config();
    c.max_ciphertext = MS_MAX_CIPHERTEXT_CEILING;
    c.max_wrapped_key = MS_MAX_WRAPPED_KEY_CEILING;
    c.max_grants = MS_MAX_GRANTS_CEILING;
    cf_setup_with(&c);
}

/* [HOST-51]: what one call may allocate beyond its input and output. */
#define RL_SLACK (256u * 1024u)

TestSuite(resource_limits, .init = cf_setup, .fini = cf_teardown);

/* createMemory(salt, meta, bytes) whose length word claims `claimed` bytes
 * while `present` bytes follow. */
static cf_buf huge_create(uint64_t claimed, size_t present)
{
    cf_buf cd = cf_enc(MS_FN_CREATE_MEMORY, "www", cf_b32(1, 1), cf_b32(2, 2), cf_u256(0x60));
    uint8_t len[32] = { 0 };
    for (unsigned i = 0; i < 8; i++) len[31 - i] = (uint8_t)(claimed >> (8 * i));
    cd = cf_concat(cd, len, 32);
    if (present > 0) cd = cf_concat(cd, cf_ct(present, 1, 3), present);
    return cd;
}

Test(resource_limits, huge_lengths_refused_before_allocation)
{
    at_ceilings();
    const uint64_t cap = MS_MAX_CIPHERTEXT_CEILING;
    const struct {
        uint64_t claimed;
        size_t present;
        uint32_t want;
    } cases[] = {
        { UINT64_MAX, 64, MS_E_INVALID_CALLDATA },
        { UINT64_MAX - 31, 64, MS_E_INVALID_CALLDATA },
        { 1ull << 32, 64, MS_E_INVALID_CALLDATA },
        { (1ull << 32) + 1, 64, MS_E_INVALID_CALLDATA },
        { cap + 1, 64, MS_E_INVALID_CALLDATA },
        /* The bytes are really there: decoded, then refused by size. */
        { cap + 1, (size_t)cap + 1, MS_E_CIPHERTEXT_TOO_LARGE },
        { cap + 32, (size_t)cap + 32, MS_E_CIPHERTEXT_TOO_LARGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rl_figures f = rl_execute(CF_ALICE.addr, huge_create(cases[i].claimed, cases[i].present));
        cr_assert_eq(f.status, MS_REVERT, "case %zu", i);
        cr_assert_eq(f.revert_selector, cases[i].want, "case %zu: selector 0x%08x", i, f.revert_selector);
        if (cases[i].want == MS_E_INVALID_CALLDATA) cr_assert_eq(f.revert_arg0, 3, "case %zu: reason", i);
        /* Nothing near the claimed size, and nothing the size of the cap. */
        cr_assert_lt(f.max_request, (size_t)cap, "case %zu: an allocation of %zu bytes", i, f.max_request);
        cr_assert_leq(f.peak, (long long)RL_SLACK, "case %zu: %lld bytes live", i, f.peak);
    }
}

Test(resource_limits, largest_ciphertext_within_bound, .timeout = 60)
{
    at_ceilings();
    const size_t n = MS_MAX_CIPHERTEXT_CEILING;
    const uint8_t *ct = cf_ct(n, 1, 7);
    cf_buf cd = cf_cd_create(cf_b32(3, 3), cf_b32(4, 4), ct, n);
    rl_figures f = rl_execute(CF_ALICE.addr, cd);
    cr_assert_eq(f.status, MS_SUCCESS);
    cr_log_info("createMemory 1 MiB: peak %lld bytes, largest request %zu, %zu allocations", f.peak,
                f.max_request, f.count);
    cr_assert_leq(f.peak, (long long)(2 * cd.n + RL_SLACK), "createMemory of %zu bytes: %lld bytes live", n,
                  f.peak);

    uint8_t id[32], owner_salt[32];
    memcpy(owner_salt, cf_b32(3, 3), 32);
    cf_asset_id(id, CF.cfg.precompile_address.bytes, CF_ALICE.addr, owner_salt);
    /* appendVersion of the largest ciphertext onto it, then read it back. */
    cd = cf_cd_append(id, 1, 1, cf_ct(n, 1, 8), n);
    f = rl_execute(CF_ALICE.addr, cd);
    cr_assert_eq(f.status, MS_SUCCESS);
    cr_assert_leq(f.peak, (long long)(2 * cd.n + RL_SLACK), "appendVersion: %lld bytes live", f.peak);
    cf_buf get = cf_cd_get_version(id, 2);
    f = rl_execute(CF_BOB.addr, get);
    cr_assert_eq(f.status, MS_SUCCESS);
    cr_log_info("getVersion 1 MiB: peak %lld bytes, largest request %zu", f.peak, f.max_request);
    /* The output (the ciphertext, ABI-encoded) is part of the call's result. */
    cr_assert_leq(f.peak, (long long)(2 * (n + 128) + RL_SLACK), "getVersion: %lld bytes live", f.peak);
}

Test(resource_limits, most_grants_with_largest_keys_within_bound, .timeout = 120)
{
    at_ceilings();
    uint8_t id[32];
    cf_create(&CF, id, &CF_ALICE, 5, cf_ct(50, 1, 1), 50);
    uint8_t wk[MS_MAX_WRAPPED_KEY_CEILING];
    memset(wk, 0x5c, sizeof wk);
    rl_figures f = { 0 };
    for (uint32_t g = 0; g < MS_MAX_GRANTS_CEILING; g++) {
        uint8_t grantee[20] = { 0x77 };
        grantee[18] = (uint8_t)(g >> 8);
        grantee[19] = (uint8_t)g;
        f = rl_execute(CF_ALICE.addr, cf_cd_grant(id, grantee, 1, 0, wk, sizeof wk));
        cr_assert_eq(f.status, MS_SUCCESS, "grant %u", g);
        cr_assert_leq(f.peak, (long long)(2 * sizeof wk + RL_SLACK), "grant %u: %lld bytes live", g, f.peak);
    }
    uint8_t one_more[20] = { 0x88 };
    f = rl_execute(CF_ALICE.addr, cf_cd_grant(id, one_more, 1, 0, wk, sizeof wk));
    cr_assert_eq(f.revert_selector, MS_E_TOO_MANY_GRANTS);

    /* The largest read of grants: every slot listed. */
    f = rl_execute(CF_BOB.addr, cf_cd_get_grants(id));
    cr_assert_eq(f.status, MS_SUCCESS);
    cr_log_info("getGrants of 256 grants: peak %lld bytes, largest request %zu", f.peak, f.max_request);
    const size_t out = 4 * (64 + 32 * (size_t)MS_MAX_GRANTS_CEILING);
    cr_assert_leq(f.peak, (long long)(2 * out + RL_SLACK), "getGrants: %lld bytes live", f.peak);

    /* A wrapped key one byte over the ceiling: refused by size, no copy of it. */
    uint8_t big[MS_MAX_WRAPPED_KEY_CEILING + 1];
    memset(big, 1, sizeof big);
    f = rl_execute(CF_ALICE.addr, cf_cd_grant(id, one_more, 1, 0, big, sizeof big));
    cr_assert_eq(f.status, MS_REVERT);
    cr_assert_lt(f.max_request, sizeof big);
}

#endif
