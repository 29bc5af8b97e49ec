/* One generic head/tail encoder; the per-function encoders only list arguments. */
#include "calldata.h"

#include <string.h>

#include "abi/selectors.h"

typedef struct cd_arg {
    int dynamic;             /* 0: word, 1: bytes */
    uint8_t word[32];
    const uint8_t *data;
    size_t len;
} cd_arg;

static cd_arg w_b32(const uint8_t v[32])
{
    cd_arg a;
    memset(&a, 0, sizeof a);
    memcpy(a.word, v, 32);
    return a;
}

static cd_arg w_u64(uint64_t v)
{
    cd_arg a;
    memset(&a, 0, sizeof a);
    for (unsigned i = 0; i < 8; i++) a.word[31 - i] = (uint8_t)(v >> (8u * i));
    return a;
}

static cd_arg w_addr(const uint8_t v[20])
{
    cd_arg a;
    memset(&a, 0, sizeof a);
    memcpy(a.word + 12, v, 20);
    return a;
}

static cd_arg w_bytes(const uint8_t *p, size_t len)
{
    cd_arg a;
    memset(&a, 0, sizeof a);
    a.dynamic = 1;
    a.data = p;
    a.len = len;
    return a;
}

static void encode(ms_buf *b, uint32_t selector, const cd_arg *args, size_t n)
{
    ms_buf_reset(b);
    ms_abi_put_selector(b, selector);
    size_t tail = 32 * n;   /* offsets are relative to the start of the arguments */
    for (size_t i = 0; i < n; i++) {
        if (args[i].dynamic) {
            ms_abi_put_uint(b, (uint64_t)tail);
            tail += 32 * ms_abi_bytes_tail_words(args[i].len);
        } else {
            ms_abi_put_word(b, args[i].word);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (args[i].dynamic) ms_abi_put_bytes_tail(b, args[i].data, args[i].len);
}

void cd_create_memory(ms_buf *b, const uint8_t salt[32], const uint8_t metadata[32],
                      const uint8_t *ct, size_t ct_len)
{
    const cd_arg a[] = {w_b32(salt), w_b32(metadata), w_bytes(ct, ct_len)};
    encode(b, MS_FN_CREATE_MEMORY, a, 3);
}

void cd_append_version(ms_buf *b, const uint8_t id[32], uint64_t expected, uint64_t epoch,
                       const uint8_t *ct, size_t ct_len)
{
    const cd_arg a[] = {w_b32(id), w_u64(expected), w_u64(epoch), w_bytes(ct, ct_len)};
    encode(b, MS_FN_APPEND_VERSION, a, 4);
}

void cd_append_version_signed(ms_buf *b, const uint8_t id[32], uint64_t expected, uint64_t epoch,
                              const uint8_t *ct, size_t ct_len, const uint8_t signer[20],
                              uint64_t nonce, uint64_t deadline, const uint8_t sig[65])
{
    const cd_arg a[] = {w_b32(id), w_u64(expected), w_u64(epoch), w_bytes(ct, ct_len),
                        w_addr(signer), w_u64(nonce), w_u64(deadline), w_bytes(sig, 65)};
    encode(b, MS_FN_APPEND_VERSION_SIGNED, a, 8);
}

void cd_transfer_ownership_signed(ms_buf *b, const uint8_t id[32], const uint8_t new_owner[20],
                                  uint64_t nonce, uint64_t deadline, const uint8_t sig[65])
{
    const cd_arg a[] = {w_b32(id), w_addr(new_owner), w_u64(nonce), w_u64(deadline), w_bytes(sig, 65)};
    encode(b, MS_FN_TRANSFER_OWNERSHIP_SIGNED, a, 5);
}

void cd_grant_access(ms_buf *b, const uint8_t id[32], const uint8_t grantee[20], uint8_t perms,
                     uint64_t expiry, const uint8_t *wrapped, size_t wrapped_len)
{
    const cd_arg a[] = {w_b32(id), w_addr(grantee), w_u64(perms), w_u64(expiry),
                        w_bytes(wrapped, wrapped_len)};
    encode(b, MS_FN_GRANT_ACCESS, a, 5);
}

void cd_id(ms_buf *b, uint32_t selector, const uint8_t id[32])
{
    const cd_arg a[] = {w_b32(id)};
    encode(b, selector, a, 1);
}

void cd_id_u64(ms_buf *b, uint32_t selector, const uint8_t id[32], uint64_t v)
{
    const cd_arg a[] = {w_b32(id), w_u64(v)};
    encode(b, selector, a, 2);
}

void cd_id_addr(ms_buf *b, uint32_t selector, const uint8_t id[32], const uint8_t addr[20])
{
    const cd_arg a[] = {w_b32(id), w_addr(addr)};
    encode(b, selector, a, 2);
}

void cd_addr(ms_buf *b, uint32_t selector, const uint8_t addr[20])
{
    const cd_arg a[] = {w_addr(addr)};
    encode(b, selector, a, 1);
}

void cd_none(ms_buf *b, uint32_t selector)
{
    encode(b, selector, NULL, 0);
}

ms_message cd_message(ms_call_kind kind, const uint8_t caller[20], const ms_buf *b, uint64_t gas)
{
    ms_message m;
    memset(&m, 0, sizeof m);
    m.kind = kind;
    m.is_static = kind == MS_STATICCALL;
    if (caller != NULL) memcpy(m.caller.bytes, caller, 20);
    m.input = b->data;
    m.input_size = b->size;
    m.gas = gas;
    return m;
}
