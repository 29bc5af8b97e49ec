#include "smt_naive.h"

#include <string.h>

#include <criterion/criterion.h>

#include "abi/keccak.h"

void keccak_cat(uint8_t out[32], uint8_t tag, const uint8_t a[32], const uint8_t b[32])
{
    uint8_t buf[65];
    buf[0] = tag;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    ms_keccak256(out, buf, sizeof buf);
}

unsigned pbit(const uint8_t *p, unsigned i)
{
    return (unsigned)(p[i / 8] >> (7 - i % 8)) & 1u;
}

int nleaf_cmp(const void *a, const void *b)
{
    return memcmp(((const nleaf *)a)->path, ((const nleaf *)b)->path, 32);
}

void naive_root(uint8_t out[32], const nleaf *ls, size_t n, unsigned depth)
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    if (n == 1) {
        keccak_cat(out, 0x00, ls[0].path, ls[0].vh);
        return;
    }
    cr_assert_lt(depth, 256u);
    size_t split = 0;
    while (split < n && pbit(ls[split].path, depth) == 0) split++;
    uint8_t l[32], r[32];
    naive_root(l, ls, split, depth + 1);
    naive_root(r, ls + split, n - split, depth + 1);
    keccak_cat(out, 0x01, l, r);
}
