/* The module as a node loads it (tools/host/loader.c), and an instance on an
 * existing data directory, with every failure turned into a message and an
 * OP_EXIT_* code. */
#ifndef MS_OPERATOR_INSTANCE_H
#define MS_OPERATOR_INSTANCE_H

#include "module/memsync.h"
#include "tools/host/loader.h"

/** Load the .so. Returns OP_EXIT_OK or OP_EXIT_LOAD (message printed). */
int op_load_module(host_module *hm, const char *path);

/** create() on dir, which must already hold a store unless allow_new.
 *  Returns OP_EXIT_OK, OP_EXIT_STORE, OP_EXIT_LOCKED, OP_EXIT_CONFIG (message printed). */
int op_open_instance(ms_instance **out, const ms_module *m, const ms_config *cfg, const char *dir, int allow_new);

/** "MS_ERR_LOCKED" etc. */
const char *op_rc_name(ms_rc rc);

#endif
