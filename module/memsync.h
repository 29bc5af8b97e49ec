/* MemSync precompile module: the public host ABI.
 *
 * A chain node loads libmemsync.so with dlopen, looks up the one exported
 * symbol MS_MODULE_ENTRY_NAME ("ms_module_get"), and calls it to obtain a
 * const ms_module. The node refuses a module whose abi_version it does not
 * know. Everything the node needs goes through the function pointers of that
 * struct; no other symbol is exported.
 *
 * The normative description of this ABI is spec/host-abi.md.
 *
 * Conventions (as in libsecp256k1):
 *  - Argument order: instance, outputs, in/out, inputs; a length follows its
 *    pointer.
 *  - Lifecycle functions return an ms_rc; MS_OK is 0. They never abort and
 *    never write to errno.
 *  - Fixed sizes live in names: addr20, hash32.
 *  - All integers in encodings are big-endian; all structs here are plain
 *    data that a host fills field by field.
 *
 * Structs that cross this boundary only grow at their end; a changed call
 * gets a new name and a new ABI version, never a new meaning.
 */
#ifndef MEMSYNC_H
#define MEMSYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MS_BUILDING_MODULE)
#define MS_EXPORT __attribute__((visibility("default")))
#else
#define MS_EXPORT
#endif

/** The ABI version described by this header. A host compares it with
 *  ms_module.abi_version and refuses a module with any other value. */
#define MS_ABI_VERSION 1u

/** Name of the only exported symbol (an ms_module_get_fn). */
#define MS_MODULE_ENTRY_NAME "ms_module_get"

/** Version of the state schema this module reads and writes (spec/storage.md). */
#define MS_SCHEMA_VERSION 2u

/** State proof bundles (spec/state.md): format byte, and a buffer size that
 *  always suffices for ms_module.prove. */
#define MS_STATE_PROOF_FORMAT 1u
#define MS_STATE_PROOF_MAX 8704u

/** Hard ceilings; a chain config may choose lower limits, never higher. */
#define MS_MAX_CIPHERTEXT_CEILING (1024u * 1024u)
#define MS_MAX_WRAPPED_KEY_CEILING 1024u
#define MS_MAX_GRANTS_CEILING 256u
#define MS_MAX_RETAINED_CEILING 1024u
#define MS_MAX_REORG_DEPTH 4096u

/** Storage limits of one block (spec/host-abi.md [HOST-52]): the most keys
 *  a block may write (its overlay entries), and the most gas the module's
 *  calls of one block may use. create refuses a config under which a block
 *  of MS_MAX_BLOCK_GAS gas could write more keys, or need an undo record of
 *  more than 2^32 - 1 bytes (the largest RocksDB value). A chain whose
 *  block gas limit is higher than MS_MAX_BLOCK_GAS is not covered. */
#define MS_MAX_BLOCK_ENTRIES (1u << 22)

/* Memory bound of one instance ([HOST-54], spec/host-abi.md): its peak
 * resident memory (node cache, record cache, RocksDB's memtables and block
 * cache, a block's journal and its commit) stays below this many MiB for
 * trees up to 10 million entries and blocks up to 10,000 writes. Every
 * benchmark reports its peak against it. */
#define MS_MEMORY_BOUND_MIB 768u
#define MS_MAX_BLOCK_GAS 1000000000u

typedef struct ms_address { uint8_t bytes[20]; } ms_address;
typedef struct ms_bytes32 { uint8_t bytes[32]; } ms_bytes32;

/** Return codes of the lifecycle functions (not of contract calls: those
 *  report an ms_status and Solidity-encoded output). */
typedef enum ms_rc {
    MS_OK = 0,
    MS_ERR_ARGUMENT = 1,      /* a NULL pointer or an out-of-range argument */
    MS_ERR_CONFIG = 2,        /* the chain config is invalid */
    MS_ERR_LOCKED = 3,        /* the data directory is held by another instance */
    MS_ERR_IO = 4,            /* the storage engine failed: stop the node */
    MS_ERR_NOMEM = 5,         /* allocation failed: stop the node */
    MS_ERR_SCHEMA = 6,        /* the data directory was written by an unknown schema */
    MS_ERR_CORRUPT = 7,       /* a stored record does not decode */
    MS_ERR_CHECKPOINT = 8,    /* revert_to named a checkpoint that is not live */
    MS_ERR_HEIGHT = 9,        /* commit_block height is not above the last one */
    MS_ERR_POISONED = 10,     /* an earlier fatal fault: only destroy is legal */
    MS_ERR_REORG_DEPTH = 11   /* rollback_to asked for more than reorg_depth blocks */
} ms_rc;

/** How the precompile was entered. */
typedef enum ms_call_kind {
    MS_CALL = 0,
    MS_STATICCALL = 1,
    MS_DELEGATECALL = 2,
    MS_CALLCODE = 3
} ms_call_kind;

/** Outcome of a contract call. */
typedef enum ms_status {
    MS_SUCCESS = 0,     /* output holds the ABI-encoded return values */
    MS_REVERT = 1,      /* output holds a Solidity custom error; no state changed */
    MS_OUT_OF_GAS = 2,  /* output is empty; all gas is used; no state changed */
    MS_FATAL = 3        /* a local fault (I/O, memory); the instance is poisoned and
                           the node must stop: never treat it as a revert */
} ms_status;

/** Gas prices (spec/gas.md). Every function's cost is a formula over these. */
typedef struct ms_gas_schedule {
    uint64_t call_min;         /* charged first on every call, including a short
                                  input or an unknown selector; must be > 0 */
    uint64_t input_word;       /* per 32-byte word of input, rounded up */
    uint64_t state_read;       /* per state record read */
    uint64_t state_write;      /* per state record written or deleted */
    uint64_t stored_byte;      /* per byte of ciphertext or wrapped key stored */
    uint64_t hash_base;        /* per Keccak-256 invocation */
    uint64_t hash_word;        /* per 32-byte word hashed, rounded up */
    uint64_t signature;        /* per signer recovery (secp256k1) */
    uint64_t log_base;         /* per log */
    uint64_t log_topic;        /* per log topic */
    uint64_t log_data_byte;    /* per byte of log data */
    uint64_t output_word;      /* per 32-byte word of output */
} ms_gas_schedule;

/** Size policy for ciphertext envelopes (spec/envelope.md). */
typedef enum ms_bucket_policy {
    MS_BUCKETS_NONE = 0,   /* any body length within the maximum */
    MS_BUCKETS_POW2 = 1    /* padded plaintext length is a power of two >= 256 */
} ms_bucket_policy;

/** Chain configuration of one instance. Obtain defaults with
 *  ms_module.default_config, then change what the chain needs. */
typedef struct ms_config {
    uint64_t chain_id;              /* checked against every call's block context */
    ms_address precompile_address;  /* the EIP-712 verifyingContract and log address */
    uint32_t max_ciphertext;        /* bytes, envelope included; <= MS_MAX_CIPHERTEXT_CEILING */
    uint32_t max_wrapped_key;       /* bytes; <= MS_MAX_WRAPPED_KEY_CEILING */
    uint32_t max_grants;            /* grants per asset; <= MS_MAX_GRANTS_CEILING */
    uint32_t retained_versions;     /* K: ciphertexts kept per asset, 1..MS_MAX_RETAINED_CEILING */
    uint32_t bucket_policy;         /* an ms_bucket_policy */
    ms_gas_schedule gas;
    uint32_t reorg_depth;           /* R: committed blocks rollback_to can undo, 1..MS_MAX_REORG_DEPTH */
    uint64_t activation_height;     /* calls in earlier blocks behave as calls to an empty account */
} ms_config;

/** Block context of a call, supplied by the host. */
typedef struct ms_block_context {
    uint64_t number;
    uint64_t timestamp;   /* seconds; compared with signature deadlines and grant expiries */
    uint64_t chain_id;    /* must equal the config's chain_id */
} ms_block_context;

/** One call frame into the precompile. */
typedef struct ms_message {
    ms_call_kind kind;
    int is_static;          /* non-zero if this or any enclosing frame is static */
    ms_address caller;      /* msg.sender of this frame */
    ms_bytes32 value;       /* wei sent, big-endian uint256 */
    const uint8_t *input;   /* calldata; may be NULL when input_size is 0 */
    size_t input_size;
    uint64_t gas;           /* gas limit of the frame */
} ms_message;

/** One log (event). Emitted by the precompile address. */
typedef struct ms_log {
    ms_address address;
    uint32_t topic_count;   /* 0..4 */
    ms_bytes32 topics[4];
    const uint8_t *data;    /* owned by the instance, see ms_result */
    size_t data_size;
} ms_log;

/** Result of a call. Every pointer in it is owned by the instance and stays
 *  valid until the next execute, simulate, pending_logs or destroy on the
 *  same instance. */
typedef struct ms_result {
    ms_status status;
    uint64_t gas_used;        /* <= the message's gas */
    const uint8_t *output;    /* return data or revert data */
    size_t output_size;
    const ms_log *logs;       /* logs of this call; none unless status is MS_SUCCESS */
    size_t log_count;
} ms_result;

/** Opaque instance: one chain's view of one data directory. */
typedef struct ms_instance ms_instance;

typedef struct ms_module {
    /** MS_ABI_VERSION of the module. Always the first field. */
    uint32_t abi_version;
    /** Short name ("memsync") and semantic version ("1.0.0"), static strings. */
    const char *name;
    const char *version;
    /** Schema version of the state this module reads and writes. */
    uint32_t schema_version;

    /** Fill a config with the defaults of spec/gas.md and spec/host-abi.md.
     *  Out: cfg (every field written). Never fails. */
    void (*default_config)(ms_config *cfg);

    /** Open (or create) an instance over a data directory.
     *  Returns: MS_OK, or MS_ERR_ARGUMENT, MS_ERR_CONFIG (also: the store
     *           was first opened with another retained_versions, which is
     *           fixed from then on), MS_ERR_LOCKED, MS_ERR_IO, MS_ERR_NOMEM,
     *           MS_ERR_SCHEMA, MS_ERR_CORRUPT.
     *  Out: out (the new instance on MS_OK, NULL otherwise).
     *  In:  cfg (copied; the caller keeps ownership), data_dir (a path;
     *       created if missing; held exclusively until destroy). */
    ms_rc (*create)(ms_instance **out, const ms_config *cfg, const char *data_dir);

    /** Close an instance, dropping any uncommitted block. NULL is a no-op. */
    void (*destroy)(ms_instance *inst);

    /** Execute one call frame against the pending state.
     *  Returns: MS_OK when result is filled (whatever its status), or
     *           MS_ERR_ARGUMENT (NULL pointers), MS_ERR_POISONED.
     *  Out: result (see ms_result; on MS_FATAL the instance is poisoned).
     *  In:  block (the current block), msg (the frame). */
    ms_rc (*execute)(ms_instance *inst, ms_result *result,
                     const ms_block_context *block, const ms_message *msg);

    /** Execute a call as execute does, then discard every write and log it
     *  made (eth_call, gas estimation). The pending state is left exactly as
     *  it was. Same returns and arguments as execute. */
    ms_rc (*simulate)(ms_instance *inst, ms_result *result,
                      const ms_block_context *block, const ms_message *msg);

    /** Mark the journal. Returns: MS_OK or MS_ERR_POISONED.
     *  Out: id (pass it to revert_to). Checkpoints nest to any depth. */
    ms_rc (*checkpoint)(ms_instance *inst, uint64_t *id);

    /** Undo every write and log made after checkpoint id; id stays live, so
     *  the same checkpoint may be reverted to again.
     *  Returns: MS_OK, MS_ERR_CHECKPOINT (id is not live in this block),
     *           MS_ERR_POISONED. */
    ms_rc (*revert_to)(ms_instance *inst, uint64_t id);

    /** Write the pending block to disk in one atomic, synced batch, and start
     *  a new empty block. Every checkpoint id dies.
     *  Returns: MS_OK, MS_ERR_HEIGHT (height is not last + 1; any height >= 1
     *           is accepted while no block is committed),
     *           MS_ERR_IO or MS_ERR_NOMEM (the instance is then poisoned;
     *           MS_ERR_IO also for a block beyond the storage limits above,
     *           which no accepted config reaches).
     *  Out: root32 (the state root after this block: the root of the sparse
     *  Merkle tree over every state record, spec/state.md).
     *  In:  height (the block number). */
    ms_rc (*commit_block)(ms_instance *inst, ms_bytes32 *root32, uint64_t height);

    /** Drop every uncommitted write and log of the pending block.
     *  Returns: MS_OK or MS_ERR_POISONED. */
    ms_rc (*discard_block)(ms_instance *inst);

    /** The last committed height and root (0 and all-zero before any commit).
     *  Returns: MS_OK or MS_ERR_ARGUMENT. Out: height, root32. */
    ms_rc (*committed)(const ms_instance *inst, uint64_t *height, ms_bytes32 *root32);

    /** Logs of the pending block that survive every revert so far, in order.
     *  Returns: MS_OK, MS_ERR_ARGUMENT, MS_ERR_NOMEM, MS_ERR_POISONED.
     *  Out: logs (owned by the instance, valid as for ms_result; NULL when
     *  count is 0), count. */
    ms_rc (*pending_logs)(ms_instance *inst, const ms_log **logs, size_t *count);

    /** A static English description of an ms_rc. Never NULL. */
    const char *(*rc_string)(ms_rc rc);

    /** Undo committed blocks down to height (a reorg): the pending block is
     *  dropped, then blocks height+1 .. last are undone in one atomic, synced
     *  batch, restoring exactly the state and root committed at height. The
     *  chain may then commit a different block height+1.
     *  Returns: MS_OK (also when height is the last committed height),
     *           MS_ERR_HEIGHT (height above the last committed height),
     *           MS_ERR_REORG_DEPTH (below M - reorg_depth, see root_at),
     *           MS_ERR_IO, MS_ERR_NOMEM, MS_ERR_CORRUPT (then poisoned),
     *           MS_ERR_POISONED. */
    ms_rc (*rollback_to)(ms_instance *inst, uint64_t height);

    /** The root committed at height, for heights from M - reorg_depth to the
     *  last committed one, M being the highest height ever committed (a
     *  rollback narrows the window until the chain passes M again).
     *  Returns: MS_OK, MS_ERR_HEIGHT (not retained), MS_ERR_IO, MS_ERR_CORRUPT.
     *  Out: root32 (zeroed on failure). */
    ms_rc (*root_at)(ms_instance *inst, ms_bytes32 *root32, uint64_t height);

    /** A state proof bundle for a light client (spec/state.md): the asset
     *  record of asset_id (version 0) or the record of one version (version
     *  >= 1: its hash, ciphertext hash, epoch, author, block, state), with the
     *  tree's inclusion proof, or a non-inclusion proof when the record does
     *  not exist, against the root committed at height. Check it with the
     *  standalone verifier (crypto/state_proof.h), which needs no module.
     *  Returns: MS_OK, MS_ERR_ARGUMENT (NULL pointer, or cap too small:
     *           MS_STATE_PROOF_MAX always suffices), MS_ERR_HEIGHT (height
     *           not retained), MS_ERR_IO, MS_ERR_NOMEM, MS_ERR_CORRUPT.
     *  Out: proof (cap bytes, caller-owned), proof_len.
     *  In:  height, asset_id, version. */
    ms_rc (*prove)(ms_instance *inst, uint8_t *proof, size_t cap, size_t *proof_len, uint64_t height,
                   const ms_bytes32 *asset_id, uint64_t version);
} ms_module;

/** Type of the exported entry function. */
typedef const ms_module *(*ms_module_get_fn)(void);

/** The module's only exported symbol. Returns a pointer to a static,
 *  immutable module description. */
MS_EXPORT const ms_module *ms_module_get(void);

#ifdef __cplusplus
}
#endif

#endif /* MEMSYNC_H */
