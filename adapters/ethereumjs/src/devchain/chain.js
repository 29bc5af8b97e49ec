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
import { ChainStore, StoreCorruptError } from './store.js';
import { Mutex } from './mutex.js';
import { DEV_BALANCE, devAccounts } from './accounts.js';
import { ErrorCode, RpcError, invalidParams, revertError } from './errors.js';
import { effectiveGasPrice, qty } from './format.js';

export const DEFAULT_CHAIN_ID = 31337n;
export const BLOCK_GAS_LIMIT = 30_000_000n;
export const GENESIS_BASE_FEE = 1_000_000_000n;
/** What eth_maxPriorityFeePerGas suggests (1 gwei, as geth and anvil). */
export const SUGGESTED_TIP = 1_000_000_000n;

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
  static async open({ dataDir, chainId, accounts = 10, log = () => {}, onFatal, library } = {}) {
    fs.mkdirSync(dataDir, { recursive: true });
    let store;
    try {
      store = ChainStore.open(path.join(dataDir, 'chain'));
    } catch (err) {
      if (err instanceof StoreCorruptError) throw new DevChainError(Exit.STATE, `chain store damaged: ${err.message}`);
      throw err;
    }
    if (store.truncated > 0) log(`chain store: cut off a torn last record (${store.truncated} bytes; a crash during an append)`);
    const chain = new DevChain(dataDir, store, log);
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
    this.entries = [];
    this.byHash = new Map();
    this.txIndex = new Map();
    this.env = null;
    this.stopped = null;
  }

  async _open({ chainId, accounts, onFatal, library }) {
    const genesis = this.store.records[0]?.genesis;
    const stored = genesis === undefined ? undefined : BigInt(genesis.chainId);
    if (chainId !== undefined && stored !== undefined && BigInt(chainId) !== stored) {
      throw new DevChainError(Exit.STATE, `the chain in ${this.dataDir} has chain id ${stored}, not ${chainId} ` +
        '(start without a chain id, or use another data directory)');
    }
    this.chainId = stored ?? (chainId === undefined ? DEFAULT_CHAIN_ID : BigInt(chainId));
    this.accounts = devAccounts(genesis?.accounts ?? accounts);

    const trie = new MerklePatriciaTrie({ db: this.store.db, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes });
    const moduleDir = path.join(this.dataDir, 'memsync');
    try {
      this.env = await createMemSyncVM({ dataDir: moduleDir, chainId: this.chainId, trie, library, ...(onFatal ? { onFatal } : {}) });
    } catch (err) {
      if (err instanceof ModuleError && err.rc === Rc.ERR_LOCKED) {
        throw new DevChainError(Exit.LOCKED, `${moduleDir} is in use by another process (is a dev chain already running on this data directory?)`);
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

    for (const rec of this.store.records) this._index(rec, createBlockFromRLP(hexToBytes(rec.block), { common: this.common }));
    if (this.entries.length === 0) await this._genesis(accounts);
    else await this.vm.stateManager.setStateRoot(this.head.block.header.stateRoot);
    this._reconcileModule();
  }

  /** [HOST-42]: the module's committed height must equal the chain head. */
  _reconcileModule() {
    const head = BigInt(this.entries.length - 1);
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
    this._index(this.store.records[0], block);
  }

  _index(rec, block) {
    const hash = bytesToHex(block.hash());
    const entry = { block, hash, receipts: rec.receipts, moduleRoot: rec.moduleRoot, size: block.serialize().length };
    const n = this.entries.length;
    this.entries.push(entry);
    this.byHash.set(hash, n);
    block.transactions.forEach((tx, i) => this.txIndex.set(bytesToHex(tx.hash()), { number: n, index: i }));
  }

  get head() { return this.entries[this.entries.length - 1]; }

  get height() { return BigInt(this.entries.length - 1); }

  /** The block a tag names: latest/pending/safe/finalized/earliest, a number, or a hash. Undefined if none. */
  entryFor(tag = 'latest') {
    if (tag === 'latest' || tag === 'pending' || tag === 'safe' || tag === 'finalized') return this.head;
    if (tag === 'earliest') return this.entries[0];
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]{64}$/.test(tag)) {
      const n = this.byHash.get(tag.toLowerCase());
      return n === undefined ? undefined : this.entries[n];
    }
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]+$/.test(tag)) {
      const n = BigInt(tag);
      return n < BigInt(this.entries.length) ? this.entries[Number(n)] : undefined;
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
    const receipt = {
      from: from.toString(),
      status: result.receipt.status === 1 ? '0x1' : '0x0',
      cumulativeGasUsed: qty(result.receipt.cumulativeBlockGasUsed),
      gasUsed: qty(result.totalGasSpent),
      effectiveGasPrice: qty(effectiveGasPrice(tx, block.header.baseFeePerGas ?? 0n)),
      contractAddress: result.createdAddress ? result.createdAddress.toString() : null,
      logs: result.receipt.logs.map(([a, topics, data]) => [bytesToHex(a), topics.map(bytesToHex), bytesToHex(data)]),
      logsBloom: bytesToHex(result.bloom.bitvector),
    };
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
    this._index(this.store.records[this.store.records.length - 1], block);
  }

  // ------------------------------------------------------------ simulation
  /**
   * Run a call request as a transaction on a copy of the VM, in the context
   * of the next block, and drop everything it wrote: the copy's state, the
   * trie nodes (LogDB scratch) and the module's writes (the journal's
   * simulation mode, then memsyncRelease for a copy left with open frames).
   */
  async _simulate(req, gasLimit) {
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
      gasLimit, to: req.to, value: req.value ?? 0n, data: req.data ?? new Uint8Array(0), nonce: 0n,
    };
    if (req.gasPrice !== undefined) {
      Object.assign(data, { type: 0, gasPrice: req.gasPrice });
    } else {
      Object.assign(data, {
        type: 2, chainId: this.chainId, accessList: req.accessList ?? [],
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
      const r = await this._simulate(req, req.gas ?? BLOCK_GAS_LIMIT);
      const ex = r.execResult;
      if (ex.exceptionError === undefined) return ex.returnValue;
      if (ex.exceptionError.error === 'revert') throw revertError(bytesToHex(ex.returnValue), revertReason(ex.returnValue));
      throw new RpcError(ErrorCode.SERVER, ex.exceptionError.error);
    });
  }

  /**
   * eth_estimateGas: the lowest gas limit (within 1.5%) with which the call
   * does not fail, by bisection between the gas it used and the cap.
   */
  async estimateGas(req, entry) {
    if (entry !== this.head) {
      throw new RpcError(ErrorCode.SERVER, 'eth_estimateGas is served on the latest state only');
    }
    return this.lock.run(async () => {
      const cap = req.gas ?? BLOCK_GAS_LIMIT;
      const first = await this._simulate(req, cap);
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

  close() {
    try { this.env?.close(); } finally { this.store.close(); }
  }
}
