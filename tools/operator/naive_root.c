#include "naive_root.h"

#include <stdlib.h>
#include <string.h>

#include "abi/keccak.h"

static int leaf_cmp(const void *a, const void *b)
{
    return memcmp(((const op_leaf *)a)->path, ((const op_leaf *)b)->path, 32);
}

static int bit(const uint8_t *p, unsigned i)
{
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

static void hash_node(uint8_t out[32], uint8_t prefix, const uint8_t a[32], const uint8_t b[32])
{
    uint8_t pre[65];
    pre[0] = prefix;
    memcpy(pre + 1, a, 32);
    memcpy(pre + 33, b, 32);
    ms_keccak256(out, pre, sizeof pre);
}

/* H(T, d) for T = s[0..n), sorted, sharing their first d bits. */
static void subtree(uint8_t out[32], const op_leaf *s, size_t n, unsigned d)
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    if (n == 1) {
        hash_node(out, 0x00, s[0].path, s[0].value_hash);
        return;
    }
    /* Sorted by path: the pairs with bit d = 0 come first. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (bit(s[mid].path, d)) hi = mid;
        else lo = mid + 1;
    }
    uint8_t left[32], right[32];
    subtree(left, s, lo, d + 1);
    subtree(right, s + lo, n - lo, d + 1);
    hash_node(out, 0x01, left, right);
}

int op_naive_root(uint8_t root32[32], op_leaf *leaves, size_t n)
{
    if (n > 1) qsort(leaves, n, sizeof *leaves, leaf_cmp);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(leaves[i - 1].path, leaves[i].path, 32) == 0) return 0;
    }
    subtree(root32, leaves, n, 0);
    return 1;
}
