/* The instance behind the opaque ms_instance handle. Internal. */
#ifndef MS_MODULE_INSTANCE_H
#define MS_MODULE_INSTANCE_H

#include "abi/abi_encode.h"
#include "crypto/signature.h"
#include "memsync.h"
#include "module/call.h"
#include "storage/state.h"

struct ms_instance {
    ms_config cfg;
    ms_state st;
    ms_verifier *verifier;
    ms_buf out;          /* output of the last call */
    ms_buf log_bytes;    /* copies of the logs handed out (result or pending) */
    ms_log *logs;        /* views into log_bytes */
    size_t logs_cap;
    int poisoned;        /* after a fatal fault only destroy is legal */
    uint32_t generation; /* blocks committed or discarded by this instance */
    ms_domain_memo domain;
};

/** Run one call; see ms_module.execute. Defined in dispatch.c. */
ms_rc ms_dispatch(ms_instance *inst, ms_result *result, const ms_block_context *block, const ms_message *msg);

/** Copy journal logs [from, to) into inst->logs. Returns 0 when out of memory. */
int ms_export_logs(ms_instance *inst, size_t from, size_t to);

/** Check a config against the limits of memsync.h. Returns MS_OK or MS_ERR_CONFIG. */
ms_rc ms_config_check(const ms_config *cfg);
void ms_config_default(ms_config *cfg);

#endif
