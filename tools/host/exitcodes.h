/* Exit codes of memsync-host (also listed by --help). */
#ifndef MS_HOST_EXITCODES_H
#define MS_HOST_EXITCODES_H

enum {
    HOST_EXIT_OK = 0,         /* the scenario ran and every call behaved as expected */
    HOST_EXIT_USAGE = 1,      /* bad command line */
    HOST_EXIT_LOAD = 2,       /* the module could not be loaded or has no entry symbol */
    HOST_EXIT_ABI = 3,        /* the module's abi_version is not MS_ABI_VERSION */
    HOST_EXIT_INSTANCE = 4,   /* create failed (e.g. data directory locked) */
    HOST_EXIT_SCENARIO = 5,   /* a call or lifecycle function did not do what was expected */
    HOST_EXIT_FATAL = 6,      /* MS_FATAL or a poisoned instance: the node must stop */
    HOST_EXIT_CRYPTO = 7      /* libsodium / libsecp256k1 initialisation failed */
};

#endif
