/* Revert data: Solidity custom errors with static arguments. The bytes are
 * fixed by the interface; no library text ever reaches them. */
#include <stdarg.h>
#include <string.h>

#include "abi/selectors.h"
#include "module/call.h"
#include "storage/records.h"

ms_word ms_w_u64(uint64_t v)
{
    ms_word w;
    memset(&w, 0, sizeof w);
    ms_put_be64(w.b + 24, v);
    return w;
}

ms_word ms_w_addr(const uint8_t addr20[20])
{
    ms_word w;
    memset(&w, 0, sizeof w);
    memcpy(w.b + 12, addr20, 20);
    return w;
}

ms_word ms_w_b32(const uint8_t b32[32])
{
    ms_word w;
    memcpy(w.b, b32, 32);
    return w;
}

ms_word ms_w_sel(uint32_t selector)
{
    ms_word w;
    memset(&w, 0, sizeof w);
    ms_put_be32(w.b, selector);
    return w;
}

int ms_is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

ms_outcome ms_fail(ms_call *c, uint32_t selector, unsigned n, ...)
{
    va_list ap;
    ms_buf_reset(c->out);
    ms_abi_put_selector(c->out, selector);
    va_start(ap, n);
    for (unsigned i = 0; i < n; i++) {
        const ms_word w = va_arg(ap, ms_word);
        ms_abi_put_word(c->out, w.b);
    }
    va_end(ap);
    return c->out->failed ? MS_OUT_FATAL : MS_OUT_REVERT;
}

ms_outcome ms_fail_calldata(ms_call *c, ms_abi_err err)
{
    return ms_fail(c, MS_E_INVALID_CALLDATA, 1, ms_w_u64((uint64_t)err));
}
