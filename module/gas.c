/* Gas metering: saturating, overflow-checked arithmetic and charge points.
 * Prices are in spec/gas.md. */
#include "module/call.h"

uint64_t ms_gas_add(uint64_t a, uint64_t b)
{
    return (a > UINT64_MAX - b) ? UINT64_MAX : a + b;
}

uint64_t ms_gas_mul(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
    return a * b;
}

uint64_t ms_words(uint64_t n)
{
    return n / 32 + (n % 32 != 0);
}

int ms_charge(ms_call *c, uint64_t amount)
{
    if (amount > c->gas_limit - c->gas_used) {
        c->gas_used = c->gas_limit;
        return 0;
    }
    c->gas_used += amount;
    return 1;
}

uint64_t ms_hash_cost(const ms_call *c, uint64_t n)
{
    return ms_gas_add(c->cfg->gas.hash_base, ms_gas_mul(c->cfg->gas.hash_word, ms_words(n)));
}

int ms_charge_reads(ms_call *c, uint64_t n)
{
    return ms_charge(c, ms_gas_mul(c->cfg->gas.state_read, n));
}

int ms_charge_writes(ms_call *c, uint64_t n)
{
    return ms_charge(c, ms_gas_mul(c->cfg->gas.state_write, n));
}

int ms_charge_hash(ms_call *c, uint64_t bytes)
{
    return ms_charge(c, ms_hash_cost(c, bytes));
}

int ms_charge_output(ms_call *c, uint64_t words)
{
    return ms_charge(c, ms_gas_mul(c->cfg->gas.output_word, words));
}

uint64_t ms_deleted_byte_price(const ms_call *c)
{
    const uint64_t b = c->cfg->gas.stored_byte;
    return b / 4 + (b % 4 != 0);
}
