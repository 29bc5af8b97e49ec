/* The host reaches the module only through the one exported symbol. */
#include "loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "exitcodes.h"

int host_load(host_module *hm, const char *path)
{
    memset(hm, 0, sizeof *hm);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "memsync-host: module %s not found (build it with `make`)\n", path);
        return HOST_EXIT_LOAD;
    }
    /* A bare file name would make dlopen search the library path instead. */
    char full[4096];
    if (strchr(path, '/') == NULL) {
        if ((size_t)snprintf(full, sizeof full, "./%s", path) >= sizeof full) return HOST_EXIT_LOAD;
        path = full;
    }
    hm->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (hm->handle == NULL) {
        fprintf(stderr, "memsync-host: cannot load module %s: %s\n", path, dlerror());
        return HOST_EXIT_LOAD;
    }
    dlerror();
    void *sym = dlsym(hm->handle, MS_MODULE_ENTRY_NAME);
    if (sym == NULL) {
        fprintf(stderr, "memsync-host: %s does not export %s: not a MemSync module\n", path,
                MS_MODULE_ENTRY_NAME);
        host_unload(hm);
        return HOST_EXIT_LOAD;
    }
    ms_module_get_fn get;
    memcpy(&get, &sym, sizeof get);   /* POSIX: object pointer to function pointer */
    const ms_module *m = get();
    if (m == NULL) {
        fprintf(stderr, "memsync-host: %s() returned NULL\n", MS_MODULE_ENTRY_NAME);
        host_unload(hm);
        return HOST_EXIT_LOAD;
    }
    if (m->abi_version != MS_ABI_VERSION) {
        fprintf(stderr,
                "memsync-host: refusing module %s: it implements host ABI version %u, "
                "this host speaks version %u\n",
                path, (unsigned)m->abi_version, (unsigned)MS_ABI_VERSION);
        host_unload(hm);
        return HOST_EXIT_ABI;
    }
    hm->m = m;
    return HOST_EXIT_OK;
}

void host_unload(host_module *hm)
{
    if (hm->handle != NULL) dlclose(hm->handle);
    hm->handle = NULL;
    hm->m = NULL;
}
