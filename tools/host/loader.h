/* Loading the module: dlopen, dlsym(MS_MODULE_ENTRY_NAME), ABI check. */
#ifndef MS_HOST_LOADER_H
#define MS_HOST_LOADER_H

#include "module/memsync.h"

typedef struct host_module {
    void *handle;
    const ms_module *m;
} host_module;

/** Load the module at path. Prints a clear message to stderr on failure.
 *  Returns HOST_EXIT_OK, HOST_EXIT_LOAD or HOST_EXIT_ABI. */
int host_load(host_module *hm, const char *path);

/** dlclose; safe on a failed or zeroed host_module. */
void host_unload(host_module *hm);

#endif
