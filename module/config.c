/* Chain configuration: defaults (spec/gas.md, spec/host-abi.md) and checks. */
#include <string.h>

#include "crypto/envelope.h"
#include "module/instance.h"

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

ms_rc ms_config_check(const ms_config *cfg)
{
    const int ok = cfg->chain_id != 0 && !collides(&cfg->precompile_address) &&
                   cfg->max_ciphertext >= MS_ENVELOPE_MIN_SIZE && cfg->max_ciphertext <= MS_MAX_CIPHERTEXT_CEILING &&
                   cfg->max_wrapped_key <= MS_MAX_WRAPPED_KEY_CEILING &&
                   cfg->max_grants >= 1 && cfg->max_grants <= MS_MAX_GRANTS_CEILING &&
                   cfg->retained_versions >= 1 && cfg->retained_versions <= MS_MAX_RETAINED_CEILING &&
                   cfg->bucket_policy <= MS_BUCKETS_POW2 && cfg->gas.call_min > 0 &&
                   cfg->reorg_depth >= 1 && cfg->reorg_depth <= MS_MAX_REORG_DEPTH;
    return ok ? MS_OK : MS_ERR_CONFIG;
}
