#include "smt_naive.h"

#include <string.h>

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
