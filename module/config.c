/* Chain configuration: defaults (spec/gas.md, spec/host-abi.md) and checks. */
#include <string.h>

#include "crypto/envelope.h"
#include "module/instance.h"
#include "storage/records.h"
#include "storage/undo.h"

/* 0x0000000000000000000000000000000000004D53 ("MS"): clear of the Ethereum
 * precompiles (0x01-0x11, 0x100) and the Cosmos EVM ones (0x400,
 * 0x800-0x807, 0x900). */
#define MS_DEFAULT_ADDRESS_LOW 0x4D53u

void ms_config_default(ms_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->chain_id = 31337;
    cfg->precompile_address.bytes[18] = (uint8_t)(MS_DEFAULT_ADDRESS_LOW >> 8);
    cfg->precompile_address.bytes[19] = (uint8_t)MS_DEFAULT_ADDRESS_LOW;
    cfg->max_ciphertext = 64u * 1024u;
    cfg->max_wrapped_key = 256;
    cfg->max_grants = 16;
    cfg->retained_versions = 8;
    cfg->bucket_policy = MS_BUCKETS_NONE;
    cfg->reorg_depth = 64;
    cfg->activation_height = 0;
    cfg->gas.call_min = 200;
    cfg->gas.input_word = 3;
    cfg->gas.state_read = 800;
    cfg->gas.state_write = 2000;
    cfg->gas.stored_byte = 64;
    cfg->gas.hash_base = 30;
    cfg->gas.hash_word = 6;
    cfg->gas.signature = 6000;
    cfg->gas.log_base = 375;
    cfg->gas.log_topic = 375;
    cfg->gas.log_data_byte = 8;
    cfg->gas.output_word = 3;
}

/* Addresses whose top 18 bytes are zero and whose low 16 bits are reserved
 * by another precompile family. */
static int collides(const ms_address *a)
{
    for (int i = 0; i < 18; i++) {
        if (a->bytes[i] != 0) return 0;
    }
    const unsigned low = ((unsigned)a->bytes[18] << 8) | a->bytes[19];
    return low <= 0x11 || low == 0x100 || low == 0x400 || (low >= 0x800 && low <= 0x807) || low == 0x900;
}

/* [HOST-52]: whatever the mix of calls, a block of MS_MAX_BLOCK_GAS gas
 * stays within the storage limits, because every key a block writes was
 * paid at least W in a call that succeeded, and every deleted ciphertext
 * byte ceil(B / 4) more (X, [GAS-21]):
 * - keys: at most G / W;
 * - undo record: 12 bytes, then per key at most UNDO_FRAMING bytes of framing
 *   (klen, key, present, vlen) and the value it replaced: at most the
 *   largest record other than a ciphertext for W, or a ciphertext of c
 *   bytes (c up to the ceiling, whatever max_ciphertext was when it was
 *   stored) for W + X(c). The bytes per gas of the latter is monotonic in c,
 *   so its two ends are the cases to check, and c = 0 is within the first.
 * Products are saturating: a huge price only makes a bound easier. */
enum { UNDO_HEADER = 12, UNDO_FRAMING = 2 + MS_KEY_MAX + 4 };

static int block_limits_ok(const ms_config *cfg)
{
    const uint64_t g = MS_MAX_BLOCK_GAS, w = cfg->gas.state_write;
    const uint64_t b = cfg->gas.stored_byte, per_byte = b / 4 + (b % 4 != 0);
    const uint64_t room = MS_UNDO_RECORD_MAX - UNDO_HEADER;
    const uint64_t record = UNDO_FRAMING + MS_GRANT_FIXED_SIZE + MS_MAX_WRAPPED_KEY_CEILING;
    const uint64_t ct = UNDO_FRAMING + (uint64_t)MS_MAX_CIPHERTEXT_CEILING;
    if (w == 0 || g / w > MS_MAX_BLOCK_ENTRIES) return 0;
    if (g * record > ms_gas_mul(room, w)) return 0;
    return g * ct <= ms_gas_mul(room, ms_gas_add(w, ms_gas_mul(per_byte, MS_MAX_CIPHERTEXT_CEILING)));
}

ms_rc ms_config_check(const ms_config *cfg)
{
    const int ok = cfg->chain_id != 0 && !collides(&cfg->precompile_address) &&
                   cfg->max_ciphertext >= MS_ENVELOPE_MIN_SIZE && cfg->max_ciphertext <= MS_MAX_CIPHERTEXT_CEILING &&
                   cfg->max_wrapped_key <= MS_MAX_WRAPPED_KEY_CEILING &&
                   cfg->max_grants >= 1 && cfg->max_grants <= MS_MAX_GRANTS_CEILING &&
                   cfg->retained_versions >= 1 && cfg->retained_versions <= MS_MAX_RETAINED_CEILING &&
                   cfg->bucket_policy <= MS_BUCKETS_POW2 && cfg->gas.call_min > 0 &&
                   cfg->reorg_depth >= 1 && cfg->reorg_depth <= MS_MAX_REORG_DEPTH && block_limits_ok(cfg);
    return ok ? MS_OK : MS_ERR_CONFIG;
}
