/* Events: serialized into the journal so that a revert of any enclosing
 * frame drops them with the writes they describe. */
#include <string.h>

#include "module/call.h"

ms_outcome ms_emit(ms_call *c, const uint8_t topic0[32], unsigned n_topics, const ms_word *topics,
                   unsigned n_data, const ms_word *data)
{
    const ms_gas_schedule *g = &c->cfg->gas;
    uint64_t cost = ms_gas_add(g->log_base, ms_gas_mul(g->log_topic, 1u + n_topics));
    cost = ms_gas_add(cost, ms_gas_mul(g->log_data_byte, 32u * (uint64_t)n_data));
    if (!ms_charge(c, cost)) return MS_OUT_OOG;

    /* At most 4 topics and a handful of data words: a fixed buffer suffices. */
    uint8_t rec[MS_LOG_HEADER_SIZE + 4 * 32 + 8 * 32];
    if (n_topics > 3 || n_data > 8) return MS_OUT_FATAL;
    size_t len = 0;
    memcpy(rec, c->cfg->precompile_address.bytes, 20);
    rec[20] = (uint8_t)(1 + n_topics);
    len = MS_LOG_HEADER_SIZE;
    memcpy(rec + len, topic0, 32);
    len += 32;
    for (unsigned i = 0; i < n_topics; i++, len += 32) memcpy(rec + len, topics[i].b, 32);
    for (unsigned i = 0; i < n_data; i++, len += 32) memcpy(rec + len, data[i].b, 32);
    return ms_journal_log(c->st->journal, rec, len) ? MS_OUT_OK : MS_OUT_FATAL;
}
