#include "text.h"

#include <string.h>

int text_hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int text_hex_exact(uint8_t *out, size_t n, const char *s)
{
    if (s == NULL) return 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
    if (strlen(s) != 2 * n) return 0;
    for (size_t i = 0; i < n; i++) {
        const int hi = text_hex_digit(s[2 * i]), lo = text_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

int text_u64(const char *s, uint64_t *v)
{
    if (s == NULL || *s == '\0') return 0;
    uint64_t x = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (*s == '\0' || strlen(s) > 16) return 0;
        for (; *s; s++) {
            const int d = text_hex_digit(*s);
            if (d < 0) return 0;
            x = (x << 4) | (uint64_t)d;
        }
    } else {
        for (; *s; s++) {
            if (*s < '0' || *s > '9') return 0;
            const uint64_t d = (uint64_t)(*s - '0');
            if (x > (UINT64_MAX - d) / 10) return 0;
            x = x * 10 + d;
        }
    }
    *v = x;
    return 1;
}
