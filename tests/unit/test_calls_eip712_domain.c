/* eip712Domain() (EIP-5267, spec/abi.md [ABI-31]): its layout word by
 * word, its gas and its place among the reads. The return data byte for
 * byte against ethers' encoding, for every domain of
 * spec/vectors/eip712.json, is in test_vectors.c (vectors.eip712_domain_call). */
#include <criterion/criterion.h>
#include <string.h>

#include "call_fixture.h"

TestSuite(calls_eip712_domain, .init = cf_setup, .fini = cf_teardown);

static cf_res *call_domain(cf_env *e, uint64_t gas, int is_static)
{
    ms_message m = cf_msg(CF_BOB.addr, cf_enc(MS_FN_EIP712_DOMAIN, ""));
    m.gas = gas;
    if (is_static) {
        m.kind = MS_STATICCALL;
        m.is_static = 1;
    }
    return cf_exec_msg(e, &m);
}

Test(calls_eip712_domain, a_read_with_exact_gas_and_ignored_trailing_input)
{
    /* A read: allowed in a static frame, and in a plain call. */
    cf_res *r = call_domain(&CF, CF_GAS, 0);
    CF_SUCCESS(r);
    const cf_buf first = cf_dup(r->out, r->out_size);
    cr_assert_eq(first.n, 384u);
    /* fields 0x0f as bytes1 (left-aligned); offsets 0xe0, 0x120, 0x160. */
    cr_assert_eq(first.p[0], 0x0f);
    for (int i = 1; i < 32; i++) cr_assert_eq(first.p[i], 0, "byte %d of fields", i);
    cr_assert_eq(cf_out_u64(r, 1), 0xe0u);
    cr_assert_eq(cf_out_u64(r, 2), 0x120u);
    cr_assert_eq(cf_out_u64(r, 3), CF_CHAIN);
    CF_BYTES(cf_out_word(r, 4) + 12, 20, CF.cfg.precompile_address.bytes, 20);
    for (int i = 0; i < 32; i++) cr_assert_eq(cf_out_word(r, 5)[i], 0, "salt byte %d", i);
    cr_assert_eq(cf_out_u64(r, 6), 0x160u);
    cr_assert_eq(cf_out_u64(r, 7), 7u);
    cr_assert(memcmp(cf_out_word(r, 8), "MemSync", 7) == 0);
    cr_assert_eq(cf_out_u64(r, 9), 1u);
    cr_assert_eq(cf_out_word(r, 10)[0], '1');
    cr_assert_eq(cf_out_u64(r, 11), 0u);

    /* Exactly enough gas, and one less. */
    CF_SUCCESS(call_domain(&CF, 239, 1));
    CF_OOG(call_domain(&CF, 238, 1), 238);
    /* Trailing input is ignored ([ABI-6]) but paid for by input_word. */
    uint8_t in[4 + 64];
    memset(in, 0xab, sizeof in);
    const cf_buf sel = cf_enc(MS_FN_EIP712_DOMAIN, "");
    memcpy(in, sel.p, 4);
    r = cf_call(&CF, CF_BOB.addr, cf_dup(in, sizeof in));
    CF_SUCCESS(r);
    CF_BYTES(r->out, r->out_size, first.p, first.n);
    cr_assert_eq(r->gas_used, 239u + 2u * CF.cfg.gas.input_word);
}
