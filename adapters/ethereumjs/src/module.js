// Loads build/libmemsync.so with koffi through the public host ABI only
// (module/memsync.h, spec/host-abi.md): ms_module_get -> a const ms_module of
// function pointers. No other symbol of the library is used.
//
// The struct declarations below mirror memsync.h field by field; their sizes
// are checked against the LP64 figures of spec/host-abi.md at load time.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import koffi from 'koffi';

/** MS_ABI_VERSION this adapter was written against ([HOST-3]). */
export const MS_ABI_VERSION = 1;

export const CallKind = Object.freeze({ CALL: 0, STATICCALL: 1, DELEGATECALL: 2, CALLCODE: 3 });
export const Status = Object.freeze({ SUCCESS: 0, REVERT: 1, OUT_OF_GAS: 2, FATAL: 3 });
export const Rc = Object.freeze({
  OK: 0, ERR_ARGUMENT: 1, ERR_CONFIG: 2, ERR_LOCKED: 3, ERR_IO: 4, ERR_NOMEM: 5, ERR_SCHEMA: 6,
  ERR_CORRUPT: 7, ERR_CHECKPOINT: 8, ERR_HEIGHT: 9, ERR_POISONED: 10, ERR_REORG_DEPTH: 11,
});
/** Return codes after which the instance is unusable and the node must stop ([HOST-46]). */
const FATAL_RCS = new Set([Rc.ERR_IO, Rc.ERR_NOMEM, Rc.ERR_POISONED, Rc.ERR_CORRUPT]);

const here = path.dirname(fileURLToPath(import.meta.url));
/** $MEMSYNC_LIBRARY, else build/libmemsync.so of this repository (adapters/ethereumjs/src -> ../../../build). */
export const DEFAULT_LIBRARY = process.env.MEMSYNC_LIBRARY || path.resolve(here, '../../../build/libmemsync.so');

// ------------------------------------------------------------------ types
// Enums are C ints on the System V ABIs (4 bytes); they are declared as
// int32_t. Every type gets a unique koffi name so that two loads coexist.
const u8x20 = koffi.array('uint8_t', 20, 'Typed');
const u8x32 = koffi.array('uint8_t', 32, 'Typed');
const ms_address = koffi.struct('ms_address', { bytes: u8x20 });
const ms_bytes32 = koffi.struct('ms_bytes32', { bytes: u8x32 });

const ms_gas_schedule = koffi.struct('ms_gas_schedule', {
  call_min: 'uint64_t',
  input_word: 'uint64_t',
  state_read: 'uint64_t',
  state_write: 'uint64_t',
  stored_byte: 'uint64_t',
  hash_base: 'uint64_t',
  hash_word: 'uint64_t',
  signature: 'uint64_t',
  log_base: 'uint64_t',
  log_topic: 'uint64_t',
  log_data_byte: 'uint64_t',
  output_word: 'uint64_t',
});

const ms_config = koffi.struct('ms_config', {
  chain_id: 'uint64_t',
  precompile_address: ms_address,
  max_ciphertext: 'uint32_t',
  max_wrapped_key: 'uint32_t',
  max_grants: 'uint32_t',
  retained_versions: 'uint32_t',
  bucket_policy: 'uint32_t',
  gas: ms_gas_schedule,
  reorg_depth: 'uint32_t',
  activation_height: 'uint64_t',
});

const ms_block_context = koffi.struct('ms_block_context', {
  number: 'uint64_t',
  timestamp: 'uint64_t',
  chain_id: 'uint64_t',
});

const ms_message = koffi.struct('ms_message', {
  kind: 'int32_t',             // ms_call_kind
  is_static: 'int',
  caller: ms_address,
  value: ms_bytes32,
  input: 'const uint8_t *',
  input_size: 'size_t',
  gas: 'uint64_t',
});

const ms_log = koffi.struct('ms_log', {
  address: ms_address,
  topic_count: 'uint32_t',
  topics: koffi.array(ms_bytes32, 4),
  data: 'const uint8_t *',
  data_size: 'size_t',
});

const ms_result = koffi.struct('ms_result', {
  status: 'int32_t',           // ms_status
  gas_used: 'uint64_t',
  output: 'const uint8_t *',
  output_size: 'size_t',
  logs: koffi.pointer(ms_log),
  log_count: 'size_t',
});

const ms_instance = koffi.opaque('ms_instance');
const ms_instance_ptr = koffi.pointer(ms_instance);

const protos = {
  default_config: koffi.proto('ms_default_config_fn', 'void', [koffi.out(koffi.pointer(ms_config))]),
  create: koffi.proto('ms_create_fn', 'int32_t',
    [koffi.out(koffi.pointer(ms_instance_ptr)), koffi.pointer(ms_config), 'const char *']),
  destroy: koffi.proto('ms_destroy_fn', 'void', [ms_instance_ptr]),
  execute: koffi.proto('ms_execute_fn', 'int32_t',
    [ms_instance_ptr, koffi.out(koffi.pointer(ms_result)), koffi.pointer(ms_block_context), koffi.pointer(ms_message)]),
  simulate: koffi.proto('ms_simulate_fn', 'int32_t',
    [ms_instance_ptr, koffi.out(koffi.pointer(ms_result)), koffi.pointer(ms_block_context), koffi.pointer(ms_message)]),
  checkpoint: koffi.proto('ms_checkpoint_fn', 'int32_t', [ms_instance_ptr, koffi.out(koffi.pointer('uint64_t'))]),
  revert_to: koffi.proto('ms_revert_to_fn', 'int32_t', [ms_instance_ptr, 'uint64_t']),
  commit_block: koffi.proto('ms_commit_block_fn', 'int32_t',
    [ms_instance_ptr, koffi.out(koffi.pointer(ms_bytes32)), 'uint64_t']),
  discard_block: koffi.proto('ms_discard_block_fn', 'int32_t', [ms_instance_ptr]),
  committed: koffi.proto('ms_committed_fn', 'int32_t',
    [ms_instance_ptr, koffi.out(koffi.pointer('uint64_t')), koffi.out(koffi.pointer(ms_bytes32))]),
  pending_logs: koffi.proto('ms_pending_logs_fn', 'int32_t',
    [ms_instance_ptr, koffi.out(koffi.pointer('void *')), koffi.out(koffi.pointer('size_t'))]),
  rc_string: koffi.proto('ms_rc_string_fn', 'const char *', ['int32_t']),
  rollback_to: koffi.proto('ms_rollback_to_fn', 'int32_t', [ms_instance_ptr, 'uint64_t']),
  root_at: koffi.proto('ms_root_at_fn', 'int32_t',
    [ms_instance_ptr, koffi.out(koffi.pointer(ms_bytes32)), 'uint64_t']),
  prove: koffi.proto('ms_prove_fn', 'int32_t',
    [ms_instance_ptr, 'uint8_t *', 'size_t', koffi.out(koffi.pointer('size_t')), 'uint64_t',
      koffi.pointer(ms_bytes32), 'uint64_t']),
};

// ms_module: every function pointer is a plain pointer here and is decoded
// with its prototype after the abi_version check.
const FN_FIELDS = ['default_config', 'create', 'destroy', 'execute', 'simulate', 'checkpoint', 'revert_to',
  'commit_block', 'discard_block', 'committed', 'pending_logs', 'rc_string', 'rollback_to', 'root_at', 'prove'];
const ms_module = koffi.struct('ms_module', {
  abi_version: 'uint32_t',
  name: 'const char *',
  version: 'const char *',
  schema_version: 'uint32_t',
  ...Object.fromEntries(FN_FIELDS.map((f) => [f, 'void *'])),
});

// LP64 sizes stated in spec/host-abi.md; a mismatch means these declarations
// drifted from memsync.h.
const EXPECTED_SIZES = [
  [ms_module, 152, 'ms_module'], [ms_config, 160, 'ms_config'], [ms_block_context, 24, 'ms_block_context'],
  [ms_message, 88, 'ms_message'], [ms_result, 48, 'ms_result'],
];
for (const [t, size, name] of EXPECTED_SIZES) {
  if (koffi.sizeof(t) !== size) throw new Error(`${name}: koffi size ${koffi.sizeof(t)}, spec/host-abi.md says ${size}`);
}

export const types = Object.freeze({ ms_address, ms_bytes32, ms_gas_schedule, ms_config, ms_block_context,
  ms_message, ms_log, ms_result, ms_module });

// ---------------------------------------------------------------- helpers
/** A return code that is not MS_OK, with its ms_rc value and name. */
export class ModuleError extends Error {
  constructor(fn, rc, text) {
    super(`memsync ${fn}: ${text} (rc ${rc})`);
    this.name = 'ModuleError';
    this.fn = fn;
    this.rc = rc;
    /** True when the node must stop: the instance is (or must be treated as) poisoned. */
    this.fatal = FATAL_RCS.has(rc);
  }
}

function toBytes(v, len, what) {
  if (typeof v === 'string') {
    const hex = v.startsWith('0x') ? v.slice(2) : v;
    if (hex.length !== len * 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError(`${what}: expected ${len} bytes of hex`);
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  if (v instanceof Uint8Array && v.length === len) return v;
  throw new TypeError(`${what}: expected ${len} bytes`);
}

/** A bigint 0 <= v < 2^256 as a 32-byte big-endian word. */
export function u256(v) {
  let x = BigInt(v);
  if (x < 0n || x >> 256n) throw new RangeError('value out of uint256 range');
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0 && x > 0n; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

const U64_MAX = (1n << 64n) - 1n;
function u64(v, what) {
  const x = BigInt(v);
  if (x < 0n || x > U64_MAX) throw new RangeError(`${what}: out of uint64 range`);
  return x;
}

function copyOut(ptr, size) {
  const n = Number(size);
  if (n === 0 || !ptr) return new Uint8Array(0);
  return new Uint8Array(koffi.view(ptr, n).slice(0));
}

function toBig(v) { return typeof v === 'bigint' ? v : BigInt(v); }

function decodeLogs(ptr, count) {
  const n = Number(count);
  if (n === 0 || !ptr) return [];
  const raw = koffi.decode(ptr, koffi.array(ms_log, n));
  return raw.map((l) => ({
    address: Uint8Array.from(l.address.bytes),
    topics: l.topics.slice(0, l.topic_count).map((t) => Uint8Array.from(t.bytes)),
    data: copyOut(l.data, l.data_size),
  }));
}

// ---------------------------------------------------------------- loading
/**
 * Open the shared object and return its module description, after the
 * abi_version check of [HOST-3] (the only field read before it).
 */
export function loadModule(library = DEFAULT_LIBRARY) {
  const lib = koffi.load(library);
  const get = lib.func('ms_module_get', 'void *', []);
  const ptr = get();
  if (!ptr) throw new Error(`${library}: ms_module_get returned NULL`);
  const abi = koffi.decode(ptr, 'uint32_t');
  if (abi !== MS_ABI_VERSION) {
    throw new Error(`${library}: abi_version ${abi}, this adapter speaks ${MS_ABI_VERSION}`);
  }
  const desc = koffi.decode(ptr, ms_module);
  const fn = {};
  for (const f of FN_FIELDS) {
    if (!desc[f]) throw new Error(`${library}: ms_module.${f} is NULL`);
    fn[f] = koffi.decode(desc[f], protos[f]);
  }
  const rcString = (rc) => fn.rc_string(rc) ?? 'unknown error';
  return {
    library,
    // Held so the library stays mapped: koffi unloads it when the handle is
    // garbage-collected, which would leave every pointer in fn dangling.
    lib,
    abiVersion: abi,
    name: desc.name,
    version: desc.version,
    schemaVersion: desc.schema_version,
    fn,
    rcString,
    /** ms_module.default_config as a JS object (bigint for uint64 fields). */
    defaultConfig() {
      const cfg = {};
      fn.default_config(cfg);
      return normalizeConfig(cfg);
    },
  };
}

function normalizeConfig(c) {
  const gas = {};
  for (const [k, v] of Object.entries(c.gas)) gas[k] = toBig(v);
  return {
    chain_id: toBig(c.chain_id),
    precompile_address: '0x' + Buffer.from(c.precompile_address.bytes).toString('hex'),
    max_ciphertext: c.max_ciphertext,
    max_wrapped_key: c.max_wrapped_key,
    max_grants: c.max_grants,
    retained_versions: c.retained_versions,
    bucket_policy: c.bucket_policy,
    gas,
    reorg_depth: c.reorg_depth,
    activation_height: toBig(c.activation_height),
  };
}

function configToC(c) {
  const gas = {};
  for (const [k, v] of Object.entries(c.gas)) gas[k] = u64(v, `gas.${k}`);
  return {
    chain_id: u64(c.chain_id, 'chain_id'),
    precompile_address: { bytes: toBytes(c.precompile_address, 20, 'precompile_address') },
    max_ciphertext: c.max_ciphertext,
    max_wrapped_key: c.max_wrapped_key,
    max_grants: c.max_grants,
    retained_versions: c.retained_versions,
    bucket_policy: c.bucket_policy,
    gas,
    reorg_depth: c.reorg_depth,
    activation_height: u64(c.activation_height, 'activation_height'),
  };
}

// --------------------------------------------------------------- instance
/**
 * One open instance over a data directory. Lifecycle methods throw a
 * ModuleError on a non-OK return code (the EVM-facing code in precompile.js
 * and journal.js catches every throw); execute/simulate return the call's
 * result, whatever its status.
 */
export class MemSyncInstance {
  /**
   * @param {object} opts
   * @param {string} opts.dataDir  the module's data directory (created if missing)
   * @param {object} [opts.config] fields overriding default_config (same shape as defaultConfig())
   * @param {string} [opts.library] path of libmemsync.so
   */
  constructor({ dataDir, config = {}, library = DEFAULT_LIBRARY, module } = {}) {
    if (!dataDir) throw new TypeError('dataDir is required');
    this.module = module ?? loadModule(library);
    const base = this.module.defaultConfig();
    this.config = { ...base, ...config, gas: { ...base.gas, ...(config.gas ?? {}) } };
    this.dataDir = dataDir;
    this.address = this.config.precompile_address.toLowerCase();
    const out = [null];
    const rc = this.module.fn.create(out, configToC(this.config), dataDir);
    if (rc !== Rc.OK) throw new ModuleError('create', rc, this.module.rcString(rc));
    this.handle = out[0];
    this.poisoned = false;
  }

  _check(fnName, rc) {
    if (rc === Rc.OK) return;
    const err = new ModuleError(fnName, rc, this.module.rcString(rc));
    if (err.fatal) this.poisoned = true;
    throw err;
  }

  _live() {
    if (this.handle === null) throw new Error('memsync instance is closed');
    return this.handle;
  }

  _message(msg) {
    const input = msg.input ?? new Uint8Array(0);
    return {
      kind: msg.kind ?? CallKind.CALL,
      is_static: msg.isStatic ? 1 : 0,
      caller: { bytes: toBytes(msg.caller, 20, 'caller') },
      value: { bytes: u256(msg.value ?? 0n) },
      input: input.length > 0 ? input : null,
      input_size: input.length,
      gas: u64(msg.gas, 'gas'),
    };
  }

  _block(block) {
    return {
      number: u64(block.number, 'block.number'),
      timestamp: u64(block.timestamp, 'block.timestamp'),
      chain_id: u64(block.chainId ?? this.config.chain_id, 'block.chainId'),
    };
  }

  _run(fnName, block, msg) {
    const res = {};
    const rc = this.module.fn[fnName](this._live(), res, this._block(block), this._message(msg));
    this._check(fnName, rc);
    const out = {
      status: res.status,
      gasUsed: toBig(res.gas_used),
      output: copyOut(res.output, res.output_size),
      logs: decodeLogs(res.logs, res.log_count),
    };
    if (out.status === Status.FATAL) this.poisoned = true;
    return out;
  }

  /**
   * Execute one call frame against the pending block.
   * @param {{number, timestamp, chainId?}} block
   * @param {{kind, isStatic, caller, value, input, gas}} msg  caller: 20 bytes or hex; value, gas: bigint
   * @returns {{status, gasUsed: bigint, output: Uint8Array, logs: {address, topics, data}[]}}
   */
  execute(block, msg) { return this._run('execute', block, msg); }

  /** As execute, then every write and log is discarded ([HOST-33]). */
  simulate(block, msg) { return this._run('simulate', block, msg); }

  /** @returns {bigint} an opaque checkpoint id */
  checkpoint() {
    const id = [0n];
    this._check('checkpoint', this.module.fn.checkpoint(this._live(), id));
    return toBig(id[0]);
  }

  revertTo(id) { this._check('revert_to', this.module.fn.revert_to(this._live(), id)); }

  /** @returns {Uint8Array} the 32-byte state root after the block */
  commitBlock(height) {
    const root = {};
    this._check('commit_block', this.module.fn.commit_block(this._live(), root, u64(height, 'height')));
    return Uint8Array.from(root.bytes);
  }

  discardBlock() { this._check('discard_block', this.module.fn.discard_block(this._live())); }

  /** @returns {{height: bigint, root: Uint8Array}} */
  committed() {
    const h = [0n];
    const root = {};
    this._check('committed', this.module.fn.committed(this._live(), h, root));
    return { height: toBig(h[0]), root: Uint8Array.from(root.bytes) };
  }

  /** Surviving logs of the pending block, in order (copied). */
  pendingLogs() {
    const logs = [null];
    const count = [0];
    this._check('pending_logs', this.module.fn.pending_logs(this._live(), logs, count));
    return decodeLogs(logs[0], count[0]);
  }

  rollbackTo(height) { this._check('rollback_to', this.module.fn.rollback_to(this._live(), u64(height, 'height'))); }

  rootAt(height) {
    const root = {};
    this._check('root_at', this.module.fn.root_at(this._live(), root, u64(height, 'height')));
    return Uint8Array.from(root.bytes);
  }

  close() {
    if (this.handle !== null) {
      this.module.fn.destroy(this.handle);
      this.handle = null;
    }
  }
}

/** Aliases with the C names of the ABI, for readers coming from memsync.h. */
MemSyncInstance.prototype.revert_to = MemSyncInstance.prototype.revertTo;
MemSyncInstance.prototype.commit_block = MemSyncInstance.prototype.commitBlock;
MemSyncInstance.prototype.discard_block = MemSyncInstance.prototype.discardBlock;
MemSyncInstance.prototype.pending_logs = MemSyncInstance.prototype.pendingLogs;
