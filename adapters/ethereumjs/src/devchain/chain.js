// The dev chain: a VM with the MemSync precompile (createMemSyncVM), one
// block per transaction, its blocks, receipts and state in a ChainStore, the
// module's RocksDB beside it.
//
// Commit order of a block (crash-safe):
//   1. build the block on the VM (state trie nodes stay in memory);
//   2. module commit_block(n)                     -> durable in <data>/memsync
//   3. append the block record (block, receipts,
//      trie nodes, module root) + fsync           -> durable in <data>/chain
//   4. answer the RPC request.
// A crash before 2 loses the block everywhere. A crash between 2 and 3 leaves
// the module one block ahead: at the next start it is rolled back with
// rollback_to(chain head) and the block is gone everywhere (it was never
// acknowledged). A module behind the chain head cannot be repaired here (the
// module's blocks would have to be replayed from transactions it never saw
// committed), so the chain refuses to start.
import path from 'node:path';
import fs from 'node:fs';
import { createBlock, createBlockFromRLP } from '@ethereumjs/block';
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { createTx, createTxFromRLP } from '@ethereumjs/tx';
import { buildBlock, runTx } from '@ethereumjs/vm';
import { Account, ValueEncoding, bytesToHex, createAddressFromString, createZeroAddress, hexToBytes } from '@ethereumjs/util';
import { createMemSyncVM, ModuleError, Rc } from '../index.js';
import { ChainStore, KvLockedError, StoreCorruptError } from './store.js';
import { Mutex } from './mutex.js';
import { DEV_BALANCE, devAccounts } from './accounts.js';
import { ErrorCode, RpcError, invalidParams, revertError } from './errors.js';
import { receiptRecord } from './format.js';
import { ethers } from 'ethers';

export const DEFAULT_CHAIN_ID = 31337n;
export const BLOCK_GAS_LIMIT = 30_000_000n;
export const GENESIS_BASE_FEE = 1_000_000_000n;
/** What eth_maxPriorityFeePerGas suggests (1 gwei, as geth and anvil). */
export const SUGGESTED_TIP = 1_000_000_000n;

/** Block entries kept parsed in memory (the head is always kept). */
const ENTRY_CACHE = 128;

/** A refusal to start; exitCode is the process exit code of bin/devchain.js. */
export class DevChainError extends Error {
  constructor(exitCode, message) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const Exit = Object.freeze({ MODULE: 2, LOCKED: 3, STATE: 4, LISTEN: 5 });

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

/** "Error(string)" revert payloads, decoded for the message (data carries the bytes anyway). */
function revertReason(ret) {
  if (ret.length < 68 || bytesToHex(ret.subarray(0, 4)) !== '0x08c379a0') return undefined;
  try {
    const len = Number(BigInt(bytesToHex(ret.subarray(36, 68))));
    if (68 + len > ret.length) return undefined;
    return new TextDecoder('utf-8', { fatal: true }).decode(ret.subarray(68, 68 + len));
  } catch {
    return undefined;
  }
}

/** Map ethereumjs' refusal of a transaction to the messages ethers and alloy classify. */
function txRejection(err, tx, accountNonce) {
  const m = String(err?.message ?? err);
  if (/correct nonce/.test(m)) {
    return new RpcError(ErrorCode.SERVER, tx.nonce < accountNonce
      ? `nonce too low: next nonce ${accountNonce}, tx nonce ${tx.nonce}`
      : `nonce too high: next nonce ${accountNonce}, tx nonce ${tx.nonce} (this chain has no mempool)`);
  }
  if (/enough funds/.test(m)) return new RpcError(ErrorCode.SERVER, `insufficient funds for gas * price + value: ${m.split(' -')[0]}`);
  if (/INTRINSIC_GAS_TOO_LOW/.test(m)) return new RpcError(ErrorCode.SERVER, `intrinsic gas too low: ${m.split(' -')[0]}`);
  if (/baseFeePerGas/.test(m)) return new RpcError(ErrorCode.SERVER, `max fee per gas less than block base fee: ${m.split(' -')[0]}`);
  if (/remaining gas in the block/.test(m)) return new RpcError(ErrorCode.SERVER, 'exceeds block gas limit');
  return new RpcError(ErrorCode.SERVER, m.split(' -')[0]);
}

/**
 * The EIP-2718 type of the transaction a request describes: its `type` if
 * given (0x0, 0x1 or 0x2, checked against its fields), else EIP-1559 with
 * maxFeePerGas or maxPriorityFeePerGas, EIP-2930 with an access list,
 * legacy with gasPrice alone, and EIP-1559 without any fee field.
 */
export function requestTxType(req) {
  const has1559 = req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined;
  if (req.gasPrice !== undefined && has1559) {
    throw invalidParams('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified');
  }
  if (req.type !== undefined) {
    const t = req.type;
    if (t === 0n && req.accessList !== undefined && req.accessList.length > 0) {
      throw invalidParams('a type 0x0 (legacy) transaction has no access list: use type 0x1 or 0x2');
    }
    if ((t === 0n || t === 1n) && has1559) {
      throw invalidParams(`a type 0x${t} transaction has no maxFeePerGas or maxPriorityFeePerGas: use gasPrice, or type 0x2`);
    }
    if (t === 2n && req.gasPrice !== undefined) {
      throw invalidParams('a type 0x2 (EIP-1559) transaction has no gasPrice: use maxFeePerGas and maxPriorityFeePerGas');
    }
    if (t !== 0n && t !== 1n && t !== 2n) throw invalidParams(`transaction type 0x${t.toString(16)} is not supported (0x0, 0x1 and 0x2 are)`);
    return Number(t);
  }
  if (has1559) return 2;
  if (req.accessList !== undefined) return 1;
  if (req.gasPrice !== undefined) return 0;
  return 2;
}

/** An access list as JSON-RPC shows it: lower-case, sorted, without warm addresses that have no slots. */
function normalizeAccessList(list, warm) {
  const m = new Map();
  for (const { address, storageKeys } of list) {
    const a = address.toLowerCase();
    if (!m.has(a)) m.set(a, new Set());
    for (const k of storageKeys) m.get(a).add('0x' + k.replace(/^0x/, '').toLowerCase().padStart(64, '0'));
  }
  return [...m].filter(([a, keys]) => keys.size > 0 || !warm.has(a))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([address, keys]) => ({ address, storageKeys: [...keys].sort() }));
}

const accessListBytes = (list) => list.map((e) => [hexToBytes(e.address), e.storageKeys.map((k) => hexToBytes(k))]);

/** The types reachable from primaryType (ethers wants exactly one root). */
function reachableTypes(types, primaryType) {
  const out = {};
  const todo = [primaryType];
  while (todo.length > 0) {
    const name = todo.pop();
    if (Object.hasOwn(out, name) || !Object.hasOwn(types, name)) continue;
    const fields = types[name];
    if (!Array.isArray(fields)) throw invalidParams(`typed data: types.${name} is not an array of fields`);
    out[name] = fields;
    for (const f of fields) todo.push(String(f?.type ?? '').replace(/(\[[0-9]*\])+$/, ''));
  }
  return out;
}

/**
 * The EIP-712 digest of eth_signTypedData_v4's payload {types, primaryType,
 * domain, message} (a JSON string or an object): the domain hashed with the
 * payload's EIP712Domain type when it has one.
 */
export function typedDataDigest(typed) {
  let t = typed;
  if (typeof t === 'string') {
    try {
      t = JSON.parse(t);
    } catch {
      throw invalidParams('typed data: not JSON');
    }
  }
  if (typeof t !== 'object' || t === null || typeof t.types !== 'object' || t.types === null
      || typeof t.primaryType !== 'string' || typeof t.domain !== 'object' || t.domain === null) {
    throw invalidParams('typed data: expected {types, primaryType, domain, message}');
  }
  try {
    const domainType = t.types.EIP712Domain;
    const domainHash = domainType === undefined
      ? ethers.TypedDataEncoder.hashDomain(t.domain)
      : ethers.TypedDataEncoder.hashStruct('EIP712Domain', { EIP712Domain: domainType }, t.domain);
    if (t.primaryType === 'EIP712Domain') return ethers.keccak256(ethers.concat(['0x1901', domainHash]));
    if (!Object.hasOwn(t.types, t.primaryType)) throw new Error(`primaryType ${t.primaryType} is not among the types`);
    const { EIP712Domain, ...types } = t.types;
    const structHash = ethers.TypedDataEncoder.hashStruct(t.primaryType, reachableTypes(types, t.primaryType), t.message ?? {});
    return ethers.keccak256(ethers.concat(['0x1901', domainHash, structHash]));
  } catch (err) {
    if (err instanceof RpcError) throw err;
    throw invalidParams(`typed data: ${err.shortMessage ?? err.message}`);
  }
}

export class DevChain {
  /**
   * Open (or create) a dev chain in dataDir: <dataDir>/chain (blocks.log),
   * <dataDir>/memsync (the module's RocksDB).
   * @param {object} opts
   * @param {string} opts.dataDir
   * @param {bigint} [opts.chainId]  default: the stored one, else 31337
   * @param {number} [opts.accounts] number of funded dev accounts in a new chain (default 10)
   * @param {(line: string) => void} [opts.log]
   * @param {(err: Error) => void} [opts.onFatal] module fault handler (default: print and exit 70)
   */
  static async open({ dataDir, chainId, accounts = 10, log = () => {}, onFatal, library, rpcGasCap } = {}) {
    fs.mkdirSync(dataDir, { recursive: true });
    let store;
    try {
      store = ChainStore.open(path.join(dataDir, 'chain'));
    } catch (err) {
      if (err instanceof StoreCorruptError) throw new DevChainError(Exit.STATE, `chain store damaged: ${err.message}`);
      if (err instanceof KvLockedError) {
        throw new DevChainError(Exit.LOCKED, `${path.join(dataDir, 'chain')} is in use by another process ` +
          '(is a dev chain already running on this data directory?)');
      }
      throw err;
    }
    if (store.truncated > 0) log(`chain store: cut off a torn last record (${store.truncated} bytes; a crash during an append)`);
    if (store.reindexed !== null) log(`chain store: index rebuilt from the block log (${store.reindexed}; ${store.count} blocks)`);
    const chain = new DevChain(dataDir, store, log);
    if (rpcGasCap !== undefined) chain.rpcGasCap = BigInt(rpcGasCap);
    try {
      await chain._open({ chainId, accounts, onFatal, library });
    } catch (err) {
      chain.close();
      throw err;
    }
    return chain;
  }

  constructor(dataDir, store, log) {
    this.dataDir = dataDir;
    this.store = store;
    this.log = log;
    this.lock = new Mutex();
    /** One eth_sendTransaction at a time: its nonce is read, then the transaction is mined. */
    this.sendLock = new Mutex();
    /** Blocks by number, read from the store on demand (entries[n], entries.length). */
    this.entries = entriesView(this);
    this.entryCache = new Map();
    /** Transactions by hash (get/has), answered by the store's index. */
    this.txIndex = {
      get: (h) => this.store.txLocation(h),
      has: (h) => this.store.txLocation(h) !== undefined,
    };
    /** Gas limit of eth_call, eth_estimateGas and eth_createAccessList (geth's RPCGasCap). */
    this.rpcGasCap = BLOCK_GAS_LIMIT;
    this.env = null;
    this.stopped = null;
  }

  async _open({ chainId, accounts, onFatal, library }) {
    const genesis = this.store.count > 0 ? this.store.record(0).genesis : undefined;
    const stored = genesis === undefined ? undefined : BigInt(genesis.chainId);
    if (chainId !== undefined && stored !== undefined && BigInt(chainId) !== stored) {
      throw new DevChainError(Exit.STATE, `the chain in ${this.dataDir} has chain id ${stored}, not ${chainId} ` +
        '(start without a chain id, or use another data directory)');
    }
    this.chainId = stored ?? (chainId === undefined ? DEFAULT_CHAIN_ID : BigInt(chainId));
    this.accounts = devAccounts(genesis?.accounts ?? accounts);

    const trie = new MerklePatriciaTrie({ db: this.store.db, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes });
    const chainDir = path.join(this.dataDir, 'chain');
    const moduleDir = path.join(this.dataDir, 'memsync');
    // Checked before the module is opened, which would create an empty one.
    if (this.store.count > 1 && !fs.existsSync(moduleDir)) {
      throw new DevChainError(Exit.STATE, `${chainDir} holds ${this.store.count - 1} blocks but ${moduleDir} does not exist ` +
        '(was it deleted?). Nothing was changed. Restore that directory, or start a new chain: remove ' +
        `${chainDir} as well (or use another data directory)`);
    }
    await this._attachVm({ moduleDir, trie, onFatal, library,
      lockedHint: ' (is a dev chain already running on this data directory?)' });

    if (this.store.count === 0) {
      // A module with blocks and no chain store: the store was deleted or
      // lost. Starting a new chain here would roll the module back to
      // genesis; refuse before anything is written.
      const { height } = this.instance.committed();
      if (height !== 0n) {
        throw new DevChainError(Exit.STATE, `${moduleDir} holds the MemSync module at block ${height}, but ${chainDir} ` +
          'has no blocks (was it deleted?). Nothing was changed. Restore that directory, or start a new chain: ' +
          `remove ${moduleDir} as well (or use another data directory)`);
      }
      await this._genesis(accounts);
    } else {
      await this.vm.stateManager.setStateRoot(this.head.block.header.stateRoot);
    }
    this._reconcileModule();
  }

  /**
   * The VM with the module as its precompile (createMemSyncVM) over trie,
   * the module's store in moduleDir, and BLOCKHASH answered from this
   * chain's blocks. Shared with the CometBFT app (adapters/cometbft), so both
   * hosts execute with one piece of code.
   */
  async _attachVm({ moduleDir, trie, onFatal, library, lockedHint = '' }) {
    try {
      this.env = await createMemSyncVM({ dataDir: moduleDir, chainId: this.chainId, trie, library, ...(onFatal ? { onFatal } : {}) });
    } catch (err) {
      if (err instanceof ModuleError && err.rc === Rc.ERR_LOCKED) {
        throw new DevChainError(Exit.LOCKED, `${moduleDir} is in use by another process${lockedHint}`);
      }
      if (err instanceof ModuleError) throw new DevChainError(Exit.STATE, `the MemSync module refused ${moduleDir}: ${err.message}`);
      throw new DevChainError(Exit.MODULE, `cannot load the MemSync module: ${err.message}`);
    }
    this.vm = this.env.vm;
    this.common = this.env.common;
    this.instance = this.env.instance;
    // BLOCKHASH reads blocks from here (the VM's default is a mock of zeros).
    const blockchain = {
      getBlock: async (n) => {
        const e = this.entries[Number(n)];
        if (e === undefined) throw new Error(`block ${n} not found`);
        return e.block;
      },
      putBlock: async () => {},
      shallowCopy() { return this; },
    };
    this.vm.blockchain = blockchain;
    this.vm.evm.blockchain = blockchain;
  }

  /** [HOST-42]: the module's committed height must equal the chain head. */
  _reconcileModule() {
    const head = this.height;
    let { height } = this.instance.committed();
    if (height > head) {
      try {
        this.instance.rollbackTo(head);
      } catch (err) {
        throw new DevChainError(Exit.STATE, `the MemSync module is at block ${height}, ahead of the chain head ${head}, ` +
          `and cannot be rolled back (${err.message}); its directory does not belong to this chain store`);
      }
      this.log(`memsync: module was ${height - head} block(s) ahead of the chain (a crash between the two commits); rolled back to block ${head}`);
      height = head;
    } else if (height < head) {
      throw new DevChainError(Exit.STATE, `the MemSync module is at block ${height}, behind the chain head ${head}: ` +
        `${path.join(this.dataDir, 'memsync')} was replaced or lost. The dev chain cannot replay into it; ` +
        'restore that directory or start with an empty data directory');
    }
    const root = bytesToHex(this.instance.committed().root);
    if (root !== this.head.moduleRoot) {
      throw new DevChainError(Exit.STATE, `the MemSync module's root at block ${head} (${root}) differs from the one the chain ` +
        `recorded (${this.head.moduleRoot}): the module directory belongs to another chain`);
    }
  }

  async _genesis(count) {
    for (const a of devAccounts(count)) {
      await this.vm.stateManager.putAccount(createAddressFromString(a.address), new Account(0n, DEV_BALANCE));
    }
    const stateRoot = await this.vm.stateManager.getStateRoot();
    const block = createBlock({
      header: { number: 0n, gasLimit: BLOCK_GAS_LIMIT, baseFeePerGas: GENESIS_BASE_FEE, timestamp: nowSeconds(), stateRoot },
    }, { common: this.common });
    const moduleRoot = this.instance.committed().root;
    const rec = { number: 0, block: block.serialize(), receipts: [], moduleRoot, genesis: { chainId: this.chainId.toString(), accounts: count } };
    this.store.append(rec);
    this._index(this.store.record(0), block);
  }

  /** The entry of block n: {block, hash, receipts, moduleRoot, size}, or undefined beyond the head. */
  _entry(n) {
    const hit = this.entryCache.get(n);
    if (hit !== undefined) return hit;
    const rec = this.store.record(n);
    if (rec === undefined) return undefined;
    return this._index(rec, createBlockFromRLP(hexToBytes(rec.block), { common: this.common }));
  }

  /** Cache the entry of a stored record (a block just appended, or one read back). */
  _index(rec, block) {
    const entry = {
      block, hash: bytesToHex(block.hash()), receipts: rec.receipts, moduleRoot: rec.moduleRoot, size: (rec.block.length - 2) / 2,
    };
    const c = this.entryCache;
    c.delete(rec.number);
    c.set(rec.number, entry);
    // Keep the head and the most recent blocks; drop the oldest read.
    if (c.size > ENTRY_CACHE) {
      for (const k of c.keys()) {
        if (k !== this.store.count - 1) { c.delete(k); break; }
      }
    }
    return entry;
  }

  get head() { return this._entry(this.store.count - 1); }

  get height() { return BigInt(this.store.count - 1); }

  /** The block a tag names: latest/pending/safe/finalized/earliest, a number, or a hash. Undefined if none. */
  entryFor(tag = 'latest') {
    if (tag === 'latest' || tag === 'pending' || tag === 'safe' || tag === 'finalized') return this.head;
    if (tag === 'earliest') return this.entries[0];
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]{64}$/.test(tag)) {
      const n = this.store.blockNumberOf(tag.toLowerCase());
      return n === undefined ? undefined : this._entry(n);
    }
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]+$/.test(tag)) {
      const n = BigInt(tag);
      return n < BigInt(this.store.count) ? this._entry(Number(n)) : undefined;
    }
    throw invalidParams(`invalid block tag ${JSON.stringify(tag)}`);
  }

  nextBaseFee() { return this.head.block.header.calcNextBaseFee(); }

  nextTimestamp() {
    const t = nowSeconds();
    const parent = this.head.block.header.timestamp;
    return t > parent ? t : parent + 1n;
  }

  /**
   * Run fn(stateManager) on the state after the given block, under the lock.
   * The head's state is the VM's own; older state is a copy at that root.
   */
  withState(entry, fn) {
    return this.lock.run(async () => {
      if (entry === this.head) return fn(this.vm.stateManager);
      const sm = this.vm.stateManager.shallowCopy();
      await sm.setStateRoot(entry.block.header.stateRoot);
      return fn(sm);
    });
  }

  /**
   * eth_getTransactionCount: the account's nonce after the block `entry`,
   * which the block tag `tag` named. "pending" is the head's nonce here: this
   * chain mines each transaction as it is sent, so none waits. AbciChain
   * (adapters/cometbft) overrides this to count its mempool.
   * @returns {Promise<bigint>}
   */
  async nonceOf(address, entry, tag) {
    return this.withState(entry, async (sm) => (await sm.getAccount(address))?.nonce ?? 0n);
  }

  // ------------------------------------------------------------ transactions
  /** Decode, mine in its own block, commit (module, then store). @returns tx hash */
  async sendRawTransaction(raw) {
    let tx;
    try {
      tx = createTxFromRLP(raw, { common: this.common });
    } catch (err) {
      throw invalidParams(`invalid transaction: ${err.message}`);
    }
    if (!tx.isSigned()) throw invalidParams('transaction is not signed');
    if (tx.type !== 0 && tx.chainId !== this.chainId) {
      throw new RpcError(ErrorCode.SERVER, `invalid chain id ${tx.chainId} (this chain is ${this.chainId})`);
    }
    const hash = bytesToHex(tx.hash());
    let from;
    try {
      from = tx.getSenderAddress();
    } catch (err) {
      throw invalidParams(`invalid signature: ${err.message}`);
    }
    return this.lock.run(async () => {
      if (this.stopped !== null) throw new RpcError(ErrorCode.SERVER, `chain stopped: ${this.stopped.message}`);
      if (this.txIndex.has(hash)) throw new RpcError(ErrorCode.SERVER, 'already known');
      await this._mine(tx, from);
      return hash;
    });
  }

  async _mine(tx, from) {
    const parent = this.head.block;
    const builder = await buildBlock(this.vm, {
      parentBlock: parent,
      headerData: { timestamp: this.nextTimestamp(), gasLimit: BLOCK_GAS_LIMIT, coinbase: createZeroAddress() },
      blockOpts: { putBlockIntoBlockchain: false },
    });
    let result;
    try {
      result = await builder.addTransaction(tx);
    } catch (err) {
      await builder.revert();
      this.env.journal.discardBlock();
      const nonce = (await this.vm.stateManager.getAccount(from))?.nonce ?? 0n;
      throw txRejection(err, tx, nonce);
    }
    const { block } = await builder.build();
    const number = block.header.number;
    const receipt = receiptRecord(from.toString(), tx, result, block.header.baseFeePerGas ?? 0n);
    let moduleRoot;
    try {
      moduleRoot = this.env.commitBlock(number);
      this.store.append({ number: Number(number), block: block.serialize(), receipts: [receipt], moduleRoot });
    } catch (err) {
      // The VM is past the durable state now; only a restart (which
      // reconciles module and store) can continue.
      this.stopped = err;
      this.log(`fatal: block ${number} could not be committed: ${err.message}; stopping`);
      this.onStop?.(err);
      throw new RpcError(ErrorCode.INTERNAL, `block ${number} could not be committed: ${err.message}`);
    }
    this._index(this.store.record(Number(number)), block);
  }

  // ------------------------------------------------------------ simulation
  /** The gas limit of a simulation: the request's, clamped to the RPC gas cap (as geth's RPCGasCap). */
  gasFor(req) {
    return req.gas !== undefined && req.gas < this.rpcGasCap ? req.gas : this.rpcGasCap;
  }

  /**
   * Run a call request as a transaction on a copy of the VM, in the context
   * of the next block, and drop everything it wrote: the copy's state, the
   * trie nodes (LogDB scratch) and the module's writes (the journal's
   * simulation mode, then memsyncRelease for a copy left with open frames).
   * The transaction has the type the request describes (requestTxType), so
   * an access list is charged and warms what it names, as when it is sent.
   */
  async _simulate(req, gasLimit, { reportAccessList = false } = {}) {
    const type = requestTxType(req);
    if (req.chainId !== undefined && req.chainId !== this.chainId) {
      throw invalidParams(`chainId does not match this chain's (have ${req.chainId}, want ${this.chainId})`);
    }
    const hasFees = req.gasPrice !== undefined || req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined;
    const header = {
      number: this.height + 1n,
      parentHash: this.head.block.hash(),
      timestamp: this.nextTimestamp(),
      gasLimit: BLOCK_GAS_LIMIT,
      // As geth: without fee fields the call runs with a base fee of zero.
      baseFeePerGas: hasFees ? this.nextBaseFee() : 0n,
      coinbase: createZeroAddress(),
    };
    const block = createBlock({ header }, { common: this.common });
    const data = {
      type, gasLimit, to: req.to, value: req.value ?? 0n, data: req.data ?? new Uint8Array(0), nonce: 0n,
    };
    if (type === 0) {
      data.gasPrice = req.gasPrice ?? 0n;
    } else if (type === 1) {
      Object.assign(data, { chainId: this.chainId, accessList: req.accessList ?? [], gasPrice: req.gasPrice ?? 0n });
    } else {
      Object.assign(data, {
        chainId: this.chainId, accessList: req.accessList ?? [],
        maxFeePerGas: req.maxFeePerGas ?? req.maxPriorityFeePerGas ?? 0n, maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 0n,
      });
    }
    const tx = createTx(data, { common: this.common, freeze: false });
    const from = req.from ?? createZeroAddress();
    tx.getSenderAddress = () => from;
    const copy = await this.vm.shallowCopy();
    try {
      return await this.store.db.withScratch(() => runTx(copy, {
        tx, block, skipBalance: true, skipNonce: true, skipBlockGasLimitValidation: true, skipHardForkValidation: true,
        reportAccessList,
      }));
    } catch (err) {
      throw txRejection(err, tx, 0n);
    } finally {
      copy.stateManager.memsyncRelease();
    }
  }

  /** eth_call. @returns {Uint8Array} return data; throws a revert error with the revert bytes as data */
  async call(req, entry) {
    if (entry !== this.head) {
      throw new RpcError(ErrorCode.SERVER, 'eth_call is served on the latest state only: the MemSync module keeps no historical state');
    }
    return this.lock.run(async () => {
      const r = await this._simulate(req, this.gasFor(req));
      const ex = r.execResult;
      if (ex.exceptionError === undefined) return ex.returnValue;
      if (ex.exceptionError.error === 'revert') throw revertError(bytesToHex(ex.returnValue), revertReason(ex.returnValue));
      throw new RpcError(ErrorCode.SERVER, ex.exceptionError.error);
    });
  }

  /**
   * eth_estimateGas: the lowest gas limit (within 1.5%) with which the call
   * does not fail, by bisection between the gas it used and the cap (the
   * request's gas, clamped to the RPC gas cap).
   */
  async estimateGas(req, entry) {
    if (entry !== this.head) {
      throw new RpcError(ErrorCode.SERVER, 'eth_estimateGas is served on the latest state only');
    }
    return this.lock.run(async () => {
      const cap = this.gasFor(req);
      let first;
      try {
        first = await this._simulate(req, cap);
      } catch (err) {
        if (/^intrinsic gas too low/.test(err.message)) {
          throw new RpcError(ErrorCode.SERVER, `gas required exceeds allowance (${cap}): ${err.message}`);
        }
        throw err;
      }
      const ex = first.execResult;
      if (ex.exceptionError !== undefined) {
        if (ex.exceptionError.error === 'revert') throw revertError(bytesToHex(ex.returnValue), revertReason(ex.returnValue));
        throw new RpcError(ErrorCode.SERVER, `gas required exceeds allowance (${cap}): ${ex.exceptionError.error}`);
      }
      const ok = async (g) => {
        try {
          return (await this._simulate(req, g)).execResult.exceptionError === undefined;
        } catch {
          return false;
        }
      };
      let lo = first.totalGasSpent - 1n;
      let hi = cap;
      if (await ok(lo + 1n)) return lo + 1n;
      lo += 1n;
      while (hi - lo > 1n && (hi - lo) * 1000n > hi * 15n) {
        const mid = (lo + hi) / 2n;
        if (await ok(mid)) hi = mid; else lo = mid;
      }
      return hi;
    });
  }

  /**
   * eth_createAccessList (as geth): run the call, collect the addresses and
   * storage slots it touched, run it again with that list, until the list
   * no longer changes. The sender, the recipient (or the created contract)
   * and the precompiles are warm anyway and are left out unless slots of
   * theirs were touched.
   * @returns {{accessList: {address: string, storageKeys: string[]}[], gasUsed: bigint, error?: string}}
   */
  async createAccessList(req, entry) {
    if (entry !== this.head) {
      throw new RpcError(ErrorCode.SERVER, 'eth_createAccessList is served on the latest state only');
    }
    if (req.type === 0n) throw invalidParams('a type 0x0 (legacy) transaction has no access list');
    return this.lock.run(async () => {
      const gas = this.gasFor(req);
      const warm = new Set([...this.vm.evm.precompiles.keys()].map((a) => '0x' + a.replace(/^0x/, '').toLowerCase()));
      warm.add((req.from ?? createZeroAddress()).toString());
      if (req.to !== undefined) warm.add(req.to.toString());
      let list = normalizeAccessList((req.accessList ?? []).map(([a, keys]) => ({
        address: bytesToHex(a), storageKeys: keys.map((k) => bytesToHex(k)),
      })), warm);
      for (let round = 0; round < 16; round++) {
        const r = await this._simulate({ ...req, accessList: accessListBytes(list) }, gas, { reportAccessList: true });
        const seen = new Set(warm);
        if (r.createdAddress !== undefined) seen.add(r.createdAddress.toString());
        const found = normalizeAccessList(r.accessList ?? [], seen);
        if (JSON.stringify(found) === JSON.stringify(list) || round === 15) {
          const out = { accessList: found, gasUsed: r.totalGasSpent };
          if (r.execResult.exceptionError !== undefined) out.error = r.execResult.exceptionError.error === 'revert' ? 'execution reverted' : r.execResult.exceptionError.error;
          return out;
        }
        list = found;
      }
      throw new Error('unreachable');
    });
  }

  // ------------------------------------------------------------ dev accounts
  /** The dev account with this address (an Address or hex string), or an error naming it. */
  devAccount(address) {
    const a = String(address).toLowerCase();
    const acct = this.accounts.find((x) => x.address.toLowerCase() === a);
    if (acct === undefined) {
      throw new RpcError(ErrorCode.SERVER, `unknown account ${a}: this node signs only for its dev accounts (eth_accounts)`);
    }
    return acct;
  }

  /**
   * eth_sendTransaction for a dev account (as anvil and hardhat): fill in the
   * nonce, gas (an estimate) and fees the request leaves out, sign with the
   * account's key, and send as eth_sendRawTransaction does.
   * @returns {Promise<string>} the transaction hash
   */
  async sendTransaction(req) {
    if (req.from === undefined) throw invalidParams('from: required (one of eth_accounts)');
    const acct = this.devAccount(req.from);
    const type = requestTxType(req);
    if (req.chainId !== undefined && req.chainId !== this.chainId) {
      throw invalidParams(`chainId does not match this chain's (have ${req.chainId}, want ${this.chainId})`);
    }
    return this.sendLock.run(async () => {
      const nonce = req.nonce ?? await this.withState(this.head, async (sm) => (await sm.getAccount(req.from))?.nonce ?? 0n);
      const gasLimit = req.gas ?? await this.estimateGas(req, this.head);
      const data = {
        type, nonce, gasLimit, to: req.to, value: req.value ?? 0n, data: req.data ?? new Uint8Array(0),
      };
      const base = this.nextBaseFee();
      if (type === 0 || type === 1) {
        data.gasPrice = req.gasPrice ?? base + SUGGESTED_TIP;
      } else {
        let tip = req.maxPriorityFeePerGas ?? SUGGESTED_TIP;
        const maxFee = req.maxFeePerGas ?? 2n * base + tip;
        if (tip > maxFee) tip = maxFee;
        Object.assign(data, { maxFeePerGas: maxFee, maxPriorityFeePerGas: tip });
      }
      if (type !== 0) Object.assign(data, { chainId: this.chainId, accessList: req.accessList ?? [] });
      const tx = createTx(data, { common: this.common }).sign(hexToBytes(acct.privateKey));
      return this.sendRawTransaction(tx.serialize());
    });
  }

  /** eth_signTypedData_v4: the EIP-712 signature of typed data by a dev account (65 bytes, v 27/28). */
  signTypedData(address, typed) {
    const acct = this.devAccount(address);
    return new ethers.SigningKey(acct.privateKey).sign(typedDataDigest(typed)).serialized;
  }

  /** personal_sign: the EIP-191 signature of a message (hex bytes) by a dev account. */
  personalSign(message, address) {
    const acct = this.devAccount(address);
    return new ethers.SigningKey(acct.privateKey).sign(ethers.hashMessage(message)).serialized;
  }

  close() {
    try { this.env?.close(); } finally { this.store.close(); }
  }
}

/** chain.entries: an array-like view (length, [n]) of the blocks, each read on demand. */
function entriesView(chain) {
  return new Proxy([], {
    get(target, prop, receiver) {
      if (prop === 'length') return chain.store.count;
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) return chain._entry(Number(prop));
      if (prop === Symbol.iterator) {
        return function* entries() { for (let i = 0; i < chain.store.count; i++) yield chain._entry(i); };
      }
      return Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) return Number(prop) < chain.store.count;
      return Reflect.has(target, prop);
    },
  });
}
