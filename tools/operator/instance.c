#include "instance.h"

#include "exitcodes.h"
#include "util.h"

int op_load_module(host_module *hm, const char *path)
{
    /* host_load prints the reason (not found, not a module, other ABI). */
    return host_load(hm, path) == 0 ? OP_EXIT_OK : OP_EXIT_LOAD;
}

const char *op_rc_name(ms_rc rc)
{
    static const char *const names[] = {"MS_OK",         "MS_ERR_ARGUMENT", "MS_ERR_CONFIG",   "MS_ERR_LOCKED",
                                        "MS_ERR_IO",     "MS_ERR_NOMEM",    "MS_ERR_SCHEMA",   "MS_ERR_CORRUPT",
                                        "MS_ERR_CHECKPOINT", "MS_ERR_HEIGHT", "MS_ERR_POISONED", "MS_ERR_REORG_DEPTH"};
    return (unsigned)rc < sizeof names / sizeof names[0] ? names[rc] : "MS_ERR_?";
}

int op_open_instance(ms_instance **out, const ms_module *m, const ms_config *cfg, const char *dir, int allow_new)
{
    *out = NULL;
    if (!allow_new && !op_is_store_dir(dir)) {
        op_err("data directory %s does not exist or holds no MemSync store (no RocksDB CURRENT file)", dir);
        return OP_EXIT_STORE;
    }
    const ms_rc rc = m->create(out, cfg, dir);
    if (rc == MS_OK) return OP_EXIT_OK;
    switch (rc) {
    case MS_ERR_LOCKED:
        op_err("data directory %s is locked (MS_ERR_LOCKED): a node or another tool has it open; "
               "stop it, then run this command again",
               dir);
        return OP_EXIT_LOCKED;
    case MS_ERR_CONFIG:
        op_err("the module refuses the chain config (MS_ERR_CONFIG); see `" OP_NAME " config check`");
        return OP_EXIT_CONFIG;
    case MS_ERR_SCHEMA:
        op_err("the module refuses data directory %s (MS_ERR_SCHEMA): it was written by another state schema "
               "than this module's %u",
               dir, (unsigned)m->schema_version);
        return OP_EXIT_STORE;
    default:
        op_err("the module cannot open data directory %s: %s (%s)", dir, m->rc_string(rc), op_rc_name(rc));
        return rc == MS_ERR_NOMEM ? OP_EXIT_IO : OP_EXIT_STORE;
    }
}
