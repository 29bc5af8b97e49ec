/* Exit codes of memsync-operator (listed by --help and `help CMD`). */
#ifndef MS_OPERATOR_EXITCODES_H
#define MS_OPERATOR_EXITCODES_H

enum {
    OP_EXIT_OK = 0,        /* the command did what was asked; checks passed */
    OP_EXIT_USAGE = 1,     /* bad command line */
    OP_EXIT_LOAD = 2,      /* the module cannot be loaded, lacks its entry symbol, or speaks another ABI */
    OP_EXIT_LOCKED = 3,    /* the data directory is held by another instance (MS_ERR_LOCKED) */
    OP_EXIT_STORE = 4,     /* the data directory is missing, not a MemSync store, unreadable,
                              refused by the module, (import) not empty, or (verify, export)
                              left by a crash with a tree the module's next open rebuilds */
    OP_EXIT_CORRUPT = 5,   /* verify: a record or the root is corrupt (the first one is named) */
    OP_EXIT_PROOF = 6,     /* verify-proof: the bundle is malformed, for another block, or invalid */
    OP_EXIT_SNAPSHOT = 7,  /* the snapshot file is malformed, fails its checksum, or its root */
    OP_EXIT_VECTORS = 8,   /* vectors: the module does not reproduce a conformance vector */
    OP_EXIT_CONFIG = 9,    /* config check: the module refuses the config */
    OP_EXIT_IO = 10,       /* a file could not be read or written, or memory ran out */
    OP_EXIT_HEIGHT = 11    /* the height asked for is not retained (or not committed) */
};

#endif
