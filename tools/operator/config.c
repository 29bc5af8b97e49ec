#include "config.h"

#include <string.h>

typedef struct gas_field {
    const char *name;
    size_t off;
} gas_field;

#define GF(x) {#x, offsetof(ms_gas_schedule, x)}
static const gas_field GAS[] = {GF(call_min),    GF(input_word),  GF(state_read),  GF(state_write),
                                GF(stored_byte), GF(hash_base),   GF(hash_word),   GF(signature),
                                GF(log_base),    GF(log_topic),   GF(log_data_byte), GF(output_word)};
#define N_GAS (sizeof GAS / sizeof GAS[0])

static const char *const NAMES[] = {"--chain-id", "--address", "--max-ciphertext", "--max-wrapped-key",
                                    "--max-grants", "--retained", "--bucket-policy", "--reorg-depth",
                                    "--activation-height"};
#define N_NAMES (sizeof NAMES / sizeof NAMES[0])

/* "--gas-call_min" ...: one flag per gas price (OP_CONFIG_NOPTS = 9 + 12). */
static char GAS_FLAGS[N_GAS][40];

size_t op_config_opts(op_opt *opts, size_t at)
{
    for (size_t i = 0; i < N_NAMES; i++) opts[at++] = (op_opt){NAMES[i], 0, NULL};
    for (size_t i = 0; i < N_GAS && i < OP_CONFIG_NOPTS - N_NAMES; i++) {
        snprintf(GAS_FLAGS[i], sizeof GAS_FLAGS[i], "--gas-%s", GAS[i].name);
        opts[at++] = (op_opt){GAS_FLAGS[i], 0, NULL};
    }
    return at;
}

static int set_u32(uint32_t *dst, const char *v, const char *flag, const char *cmd)
{
    uint64_t x = 0;
    if (!text_u64(v, &x) || x > UINT32_MAX) {
        op_err("%s: %s: '%s' is not a number of at most 32 bits", cmd, flag, v);
        return 0;
    }
    *dst = (uint32_t)x;
    return 1;
}

static int set_u64(uint64_t *dst, const char *v, const char *flag, const char *cmd)
{
    if (!text_u64(v, dst)) {
        op_err("%s: %s: '%s' is not an unsigned 64-bit number", cmd, flag, v);
        return 0;
    }
    return 1;
}

int op_config_build(ms_config *cfg, const ms_module *m, const op_opt *opts, size_t n, const char *cmd)
{
    m->default_config(cfg);
    const char *v;
    if ((v = op_opt_get(opts, n, "--chain-id")) && !set_u64(&cfg->chain_id, v, "--chain-id", cmd)) return 0;
    if ((v = op_opt_get(opts, n, "--address")) && !text_hex_exact(cfg->precompile_address.bytes, 20, v)) {
        op_err("%s: --address: '%s' is not a 20-byte hex address", cmd, v);
        return 0;
    }
    if ((v = op_opt_get(opts, n, "--max-ciphertext")) && !set_u32(&cfg->max_ciphertext, v, "--max-ciphertext", cmd))
        return 0;
    if ((v = op_opt_get(opts, n, "--max-wrapped-key")) &&
        !set_u32(&cfg->max_wrapped_key, v, "--max-wrapped-key", cmd))
        return 0;
    if ((v = op_opt_get(opts, n, "--max-grants")) && !set_u32(&cfg->max_grants, v, "--max-grants", cmd)) return 0;
    if ((v = op_opt_get(opts, n, "--retained")) && !set_u32(&cfg->retained_versions, v, "--retained", cmd))
        return 0;
    if ((v = op_opt_get(opts, n, "--bucket-policy"))) {
        if (strcmp(v, "none") == 0) cfg->bucket_policy = MS_BUCKETS_NONE;
        else if (strcmp(v, "pow2") == 0) cfg->bucket_policy = MS_BUCKETS_POW2;
        else if (!set_u32(&cfg->bucket_policy, v, "--bucket-policy", cmd)) return 0;
    }
    if ((v = op_opt_get(opts, n, "--reorg-depth")) && !set_u32(&cfg->reorg_depth, v, "--reorg-depth", cmd))
        return 0;
    if ((v = op_opt_get(opts, n, "--activation-height")) &&
        !set_u64(&cfg->activation_height, v, "--activation-height", cmd))
        return 0;
    for (size_t i = 0; i < N_GAS; i++) {
        char flag[48];
        snprintf(flag, sizeof flag, "--gas-%s", GAS[i].name);
        if ((v = op_opt_get(opts, n, flag))) {
            uint64_t x = 0;
            if (!set_u64(&x, v, flag, cmd)) return 0;
            memcpy((uint8_t *)&cfg->gas + GAS[i].off, &x, sizeof x);
        }
    }
    return 1;
}

/* [HOST-39]: 18 leading zero bytes and a reserved low 16-bit value. */
static int reserved_address(const ms_address *a)
{
    for (int i = 0; i < 18; i++) {
        if (a->bytes[i] != 0) return 0;
    }
    const unsigned low = (unsigned)a->bytes[18] << 8 | a->bytes[19];
    return low <= 0x11 || low == 0x100 || low == 0x400 || (low >= 0x800 && low <= 0x807) || low == 0x900;
}

/* [HOST-52], from the spec's inequalities: for a block of G gas, keys
 * G / W <= 2^22, and the undo record within 2^32 - 1 bytes: 12 + per key
 * at most 59 bytes of framing plus 1,049 (a grant) for W, or plus c (a
 * deleted ciphertext, c up to 2^20) for W + ceil(B / 4) * c. */
#define OP_UNDO_ROOM (4294967295ull - 12u)
#define OP_UNDO_RECORD (59u + 25u + 1024u)
#define OP_UNDO_CT (59u + 1048576u)

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t deleted_byte_price(const ms_config *c)
{
    return c->gas.stored_byte / 4 + (c->gas.stored_byte % 4 != 0);
}

/* The smallest W that keeps both the keys and the replaced records within
 * the limits. */
static uint64_t min_state_write(void)
{
    const uint64_t g = MS_MAX_BLOCK_GAS;
    const uint64_t keys = (g + MS_MAX_BLOCK_ENTRIES - 1) / MS_MAX_BLOCK_ENTRIES;
    const uint64_t undo = (g * OP_UNDO_RECORD + OP_UNDO_ROOM - 1) / OP_UNDO_ROOM;
    return keys > undo ? keys : undo;
}

int op_block_limits(const ms_config *c, uint64_t *keys, uint64_t *undo_bytes)
{
    const uint64_t g = MS_MAX_BLOCK_GAS, w = c->gas.state_write, d = deleted_byte_price(c);
    if (w == 0) return 0;
    *keys = g / w;
    const uint64_t records = g * OP_UNDO_RECORD / w;
    const uint64_t cts = g * OP_UNDO_CT / sat_add(w, sat_mul(d, 1048576u));
    *undo_bytes = 12u + (records > cts ? records : cts);
    return 1;
}

const char *op_config_problem(const ms_config *c, char *buf, size_t cap)
{
    const uint64_t g = MS_MAX_BLOCK_GAS, w = c->gas.state_write, d = deleted_byte_price(c);
    if (c->chain_id == 0) snprintf(buf, cap, "chain_id is 0 (must be non-zero)");
    else if (reserved_address(&c->precompile_address))
        snprintf(buf, cap,
                 "precompile_address is reserved (the zero address, an Ethereum precompile 0x01-0x11, "
                 "P256VERIFY 0x100, or a Cosmos EVM precompile 0x400, 0x800-0x807, 0x900): [HOST-39]");
    else if (c->max_ciphertext < 50 || c->max_ciphertext > MS_MAX_CIPHERTEXT_CEILING)
        snprintf(buf, cap, "max_ciphertext %u is outside 50..%u", (unsigned)c->max_ciphertext,
                 (unsigned)MS_MAX_CIPHERTEXT_CEILING);
    else if (c->max_wrapped_key > MS_MAX_WRAPPED_KEY_CEILING)
        snprintf(buf, cap, "max_wrapped_key %u is above %u", (unsigned)c->max_wrapped_key,
                 (unsigned)MS_MAX_WRAPPED_KEY_CEILING);
    else if (c->max_grants < 1 || c->max_grants > MS_MAX_GRANTS_CEILING)
        snprintf(buf, cap, "max_grants %u is outside 1..%u", (unsigned)c->max_grants, (unsigned)MS_MAX_GRANTS_CEILING);
    else if (c->retained_versions < 1 || c->retained_versions > MS_MAX_RETAINED_CEILING)
        snprintf(buf, cap, "retained_versions %u is outside 1..%u", (unsigned)c->retained_versions,
                 (unsigned)MS_MAX_RETAINED_CEILING);
    else if (c->bucket_policy > MS_BUCKETS_POW2)
        snprintf(buf, cap, "bucket_policy %u is neither 0 (none) nor 1 (pow2)", (unsigned)c->bucket_policy);
    else if (c->gas.call_min == 0) snprintf(buf, cap, "gas.call_min is 0 (must be > 0)");
    else if (c->reorg_depth < 1 || c->reorg_depth > MS_MAX_REORG_DEPTH)
        snprintf(buf, cap, "reorg_depth %u is outside 1..%u", (unsigned)c->reorg_depth, (unsigned)MS_MAX_REORG_DEPTH);
    else if (w == 0 || g / w > MS_MAX_BLOCK_ENTRIES || g * OP_UNDO_RECORD > sat_mul(OP_UNDO_ROOM, w))
        snprintf(buf, cap,
                 "gas.state_write %llu lets a block of %llu gas write %s keys or replace records worth an undo "
                 "record over 4 GiB - 1 ([HOST-52]: at most %u keys): it must be at least %llu",
                 (unsigned long long)w, (unsigned long long)g, w == 0 ? "any number of" : "too many",
                 (unsigned)MS_MAX_BLOCK_ENTRIES, (unsigned long long)min_state_write());
    else if (g * OP_UNDO_CT > sat_mul(OP_UNDO_ROOM, sat_add(w, sat_mul(d, 1048576u))))
        snprintf(buf, cap,
                 "gas.stored_byte %llu prices a deleted byte at %llu gas: a block of %llu gas could delete "
                 "ciphertexts worth an undo record over 4 GiB - 1 ([HOST-52]); raise gas.stored_byte to at "
                 "least 1 or gas.state_write",
                 (unsigned long long)c->gas.stored_byte, (unsigned long long)d, (unsigned long long)g);
    else return NULL;
    return buf;
}

void op_config_print(FILE *f, const ms_config *c)
{
    fprintf(f, "  chain_id            %llu\n  precompile_address  ", (unsigned long long)c->chain_id);
    op_hex(f, c->precompile_address.bytes, 20);
    fprintf(f,
            "\n  max_ciphertext      %u\n  max_wrapped_key     %u\n  max_grants          %u\n"
            "  retained_versions   %u\n  bucket_policy       %u (%s)\n  reorg_depth         %u\n"
            "  activation_height   %llu\n",
            (unsigned)c->max_ciphertext, (unsigned)c->max_wrapped_key, (unsigned)c->max_grants,
            (unsigned)c->retained_versions, (unsigned)c->bucket_policy,
            c->bucket_policy == 0 ? "none" : c->bucket_policy == 1 ? "pow2" : "invalid", (unsigned)c->reorg_depth,
            (unsigned long long)c->activation_height);
    for (size_t i = 0; i < N_GAS; i++) {
        uint64_t x;
        memcpy(&x, (const uint8_t *)&c->gas + GAS[i].off, sizeof x);
        fprintf(f, "  gas.%-15s %llu\n", GAS[i].name, (unsigned long long)x);
    }
}
