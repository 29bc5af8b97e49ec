// The application state of one validator: the execution core of
// adapters/ethereumjs (createMemSyncVM: the EVM, the module binding, the
// journal mirroring) driven by CometBFT's blocks instead of one block per
// transaction. AbciChain extends the dev chain's DevChain and reuses, as they
// are, its block index (entries, receipts, tx index), its eth_call and gas
// estimation on VM copies, its module reconciliation, and its ChainStore (the
// append-only, fsynced log of block records) as the app store. What differs:
// blocks come from FinalizeBlock, genesis from InitChain, transactions enter
// through CometBFT's mempool (CheckTx), and reads see committed state only
// (except the "pending" nonce, which counts this node's mempool, [CMT-42]).
//
// The three stores and the order of a height H (spec/cometbft.md [CMT-20..26]):
//   FinalizeBlock(H): execute every tx on the VM (trie nodes stay in memory),
//                     module commit_block(H)        -> durable in <data>/memsync
//   Commit:           append block record H + fsync -> durable in <data>/app
//   CometBFT then saves its own state.
// The record is the app's commit marker: Info reports the last record. At
// start a module one block ahead of the records (a kill between the two
// commits) is rolled back with rollback_to before the ABCI port opens; then
// CometBFT's handshake re-sends the block.
import fs from 'node:fs';
import path from 'node:path';
import { BLOCK_GAS_LIMIT, DevChain, DevChainError, Exit, GENESIS_BASE_FEE } from '../../ethereumjs/src/devchain/chain.js';
import { ChainStore, StoreCorruptError } from '../../ethereumjs/src/devchain/store.js';
import { RpcError, ErrorCode, invalidParams } from '../../ethereumjs/src/devchain/errors.js';
import { receiptRecord } from '../../ethereumjs/src/devchain/format.js';
import { ethBlock, ethMpt, ethState, ethTx, ethUtil, ethVm, ethers } from './shared.js';

const { createBlock } = ethBlock;
const { MerklePatriciaTrie } = ethMpt;
const { MerkleStateManager } = ethState;
const { createTxFromRLP } = ethTx;
const { buildBlock } = ethVm;
const { Account, ValueEncoding, bytesToHex, createAddressFromString, createZeroAddress, hexToBytes } = ethUtil;

export { BLOCK_GAS_LIMIT };

/** ABCI result codes of CheckTx and ExecTxResult (codespace "memsync"), [CMT-30]. */
export const Code = Object.freeze({
  OK: 0,
  EXEC_FAILED: 1,   // in a block: the VM refused the tx (no state change)
  MALFORMED: 2,     // not a decodable signed Ethereum transaction
  SIGNATURE: 3,
  CHAIN_ID: 4,      // another chain id, or no replay protection
  NONCE: 5,
  FUNDS: 6,
  GAS: 7,           // over the block gas limit, or below the intrinsic gas
  FEE: 8,           // max fee below the next block's base fee
});
export const CODESPACE = 'memsync';

/** app_hash = keccak256(evm_state_root ‖ module_root), [CMT-10]. */
export function appHash(stateRoot, moduleRoot) {
  const buf = new Uint8Array(64);
  buf.set(stateRoot, 0);
  buf.set(moduleRoot, 32);
  return hexToBytes(ethers.keccak256(buf));
}

/** The app state of genesis.json, [CMT-5]: { evm_chain_id: "N", alloc: { "0xaddr": "wei" } }. */
export function parseAppState(bytesOrObject) {
  let s = bytesOrObject;
  if (s instanceof Uint8Array) {
    try {
      s = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(s));
    } catch (err) {
      throw new Error(`app_state is not JSON: ${err.message}`);
    }
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new Error('app_state: expected an object');
  if (typeof s.evm_chain_id !== 'string' || !/^[1-9][0-9]{0,15}$/.test(s.evm_chain_id)) {
    throw new Error('app_state.evm_chain_id: expected a decimal string');
  }
  const alloc = [];
  for (const [addr, bal] of Object.entries(s.alloc ?? {})) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(addr)) throw new Error(`app_state.alloc: bad address ${addr}`);
    if (typeof bal !== 'string' || !/^[0-9]{1,78}$/.test(bal)) throw new Error(`app_state.alloc[${addr}]: expected a decimal string`);
    alloc.push([addr.toLowerCase(), BigInt(bal)]);
  }
  // Sorted, so that the order of the JSON object never matters.
  alloc.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { chainId: BigInt(s.evm_chain_id), alloc };
}

/** Fault injection for the crash tests ([CMT-26]): MEMSYNC_CRASH=<point>@<height>. */
function crashSwitch(spec) {
  if (!spec) return () => {};
  const m = /^(after_commit_block|in_commit)@([0-9]+)$/.exec(spec);
  if (m === null) throw new Error(`MEMSYNC_CRASH: expected after_commit_block@H or in_commit@H, got ${spec}`);
  const [, point, h] = m;
  return (at, height) => {
    if (at === point && height === Number(h)) {
      process.stderr.write(`memsync-abci: MEMSYNC_CRASH ${point}@${height}: killing myself\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
}

function rejection(code, log) { return { code, log }; }

export class AbciChain extends DevChain {
  /**
   * Open (or create) the app's state in dataDir: <dataDir>/app (block records)
   * and <dataDir>/memsync (the module's RocksDB). A module one block ahead of
   * the records is rolled back here, before CometBFT can talk to the app.
   * @param {object} opts
   * @param {string} opts.dataDir
   * @param {object} opts.genesis   CometBFT's genesis.json, parsed (its app_state gives the EVM chain id)
   * @param {(line: string) => void} [opts.log]
   * @param {(err: Error) => void} [opts.onFatal]
   * @param {string} [opts.cometRpc] CometBFT's RPC URL (eth_sendRawTransaction goes to its mempool)
   * @param {string} [opts.crash]   MEMSYNC_CRASH value (tests)
   */
  static async open({ dataDir, genesis, log = () => {}, onFatal, library, cometRpc, crash } = {}) {
    fs.mkdirSync(dataDir, { recursive: true });
    let store;
    try {
      store = ChainStore.open(path.join(dataDir, 'app'));
    } catch (err) {
      if (err instanceof StoreCorruptError) throw new DevChainError(Exit.STATE, `app store damaged: ${err.message}`);
      throw err;
    }
    if (store.truncated > 0) log(`app store: cut off a torn last record (${store.truncated} bytes; a kill during Commit)`);
    const chain = new AbciChain(dataDir, store, log);
    chain.cometRpc = cometRpc;
    chain.crashAt = crashSwitch(crash);
    try {
      await chain._openAbci({ genesis, onFatal, library });
    } catch (err) {
      chain.close();
      throw err;
    }
    return chain;
  }

  async _openAbci({ genesis, onFatal, library }) {
    const appState = parseAppState(genesis.app_state);
    this.cometChainId = String(genesis.chain_id);
    this.chainId = appState.chainId;
    this.accounts = [];
    const g = this.store.count > 0 ? this.store.record(0).genesis : undefined;
    if (g !== undefined && (BigInt(g.chainId) !== this.chainId || g.cometChainId !== this.cometChainId)) {
      throw new DevChainError(Exit.STATE, `the app store in ${this.dataDir} belongs to chain ${g.cometChainId} ` +
        `(EVM chain id ${g.chainId}), not ${this.cometChainId} (${this.chainId})`);
    }
    const trie = new MerklePatriciaTrie({ db: this.store.db, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes });
    const moduleDir = path.join(this.dataDir, 'memsync');
    await this._attachVm({ moduleDir, trie, onFatal, library });   // DevChain's: the one execution setup

    if (this.entries.length === 0) {
      const { height } = this.instance.committed();
      if (height !== 0n) {
        throw new DevChainError(Exit.STATE, `the MemSync module in ${moduleDir} is at block ${height} but the app store is empty`);
      }
    } else {
      await this.vm.stateManager.setStateRoot(this.head.block.header.stateRoot);
      this._reconcileModule(); // DevChain's: rollback_to(head) when the module is ahead ([CMT-24])
    }
    this.pending = null;
    this.release = null;
    this.mempool = new Map();
    this.admittedBefore = null;
    this.view = this.entries.length === 0 ? null : await this._viewAt(this.head);
    this._timeModule();
  }

  /**
   * Time spent inside the module (execute, checkpoint, revert_to,
   * commit_block), for the share of FinalizeBlock in the module that
   * `make bench-testnet` reports (Query /memsync/stats). The precompile and the
   * journal call these methods on the instance, so wrapping them there
   * measures every call; nothing else changes.
   */
  _timeModule() {
    this.stats = { blocks: 0, txs: 0, finalizeNs: 0n, moduleInFinalizeNs: 0n, moduleNs: 0n };
    const inst = this.instance;
    for (const name of ['execute', 'checkpoint', 'revertTo', 'commitBlock']) {
      const fn = inst[name];
      inst[name] = (...args) => {
        const t = process.hrtime.bigint();
        try {
          return fn.apply(inst, args);
        } finally {
          this.stats.moduleNs += process.hrtime.bigint() - t;
        }
      };
    }
  }

  /** A read-only state manager at a committed block's state root (no module, no journal, no lock). */
  async _viewAt(entry) {
    const trie = new MerklePatriciaTrie({ db: this.store.db, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes });
    const sm = new MerkleStateManager({ common: this.common, trie });
    await sm.setStateRoot(entry.block.header.stateRoot);
    return sm;
  }

  /** JSON-RPC state reads: committed blocks only, never the block being executed. */
  async withState(entry, fn) {
    if (entry === this.head && this.view !== null) return fn(this.view);
    return fn(await this._viewAt(entry));
  }

  /**
   * eth_getTransactionCount ([CMT-42]). ethers and viem sign a new
   * transaction with the "pending" nonce, and CheckTx wants exactly the one
   * after the sender's admitted transactions ([CMT-30]); the committed nonce
   * would make a second send before the first is committed "nonce too low".
   * A sender has an admitted count while it has transactions admitted since
   * the last Commit (commit() empties the map, CometBFT's recheck refills
   * it), and, until that recheck is over, the count admitted before the
   * Commit; otherwise the committed nonce. The largest of the three wins: a
   * count read across a Commit is at most the committed nonce.
   */
  async nonceOf(address, entry, tag) {
    const committed = await super.nonceOf(address, entry, tag);
    if (tag !== 'pending') return committed;
    const key = address.toString(); // keyed as in checkTx: lower-case hex
    let n = committed;
    for (const m of [this.mempool, this.admittedBefore]) {
      const admitted = m?.get(key)?.nonce ?? 0n;
      if (admitted > n) n = admitted;
    }
    return n;
  }

  /** The app hash committed at a height (undefined beyond the head). */
  appHashAt(n) {
    const e = this.entries[n];
    return e === undefined ? undefined : appHash(e.block.header.stateRoot, hexToBytes(e.moduleRoot));
  }

  // ------------------------------------------------------------------ ABCI
  info() {
    const h = this.entries.length === 0 ? 0 : this.entries.length - 1;
    return {
      data: 'memsync-abci',
      version: '0.1.0',
      app_version: 1,
      last_block_height: h,
      last_block_app_hash: h === 0 ? new Uint8Array(0) : this.appHashAt(h),
    };
  }

  /** InitChain: genesis accounts and chain ids, written as record 0 ([CMT-5]). */
  async initChain(req) {
    if (req.chain_id !== this.cometChainId) throw new Error(`InitChain for chain ${req.chain_id}, the genesis file says ${this.cometChainId}`);
    if (Number(req.initial_height) > 1) throw new Error(`initial_height ${req.initial_height} is not supported (block n is record n)`);
    const appState = parseAppState(req.app_state_bytes);
    if (appState.chainId !== this.chainId) throw new Error(`app_state_bytes names EVM chain id ${appState.chainId}, not ${this.chainId}`);
    if (this.entries.length > 0) return { app_hash: this.appHashAt(0) }; // a repeated InitChain after a kill before block 1
    for (const [addr, balance] of appState.alloc) {
      await this.vm.stateManager.putAccount(createAddressFromString(addr), new Account(0n, balance));
    }
    const stateRoot = await this.vm.stateManager.getStateRoot();
    const block = createBlock({
      header: {
        number: 0n, gasLimit: BLOCK_GAS_LIMIT, baseFeePerGas: GENESIS_BASE_FEE,
        timestamp: BigInt(req.time?.seconds ?? 0), stateRoot,
      },
    }, { common: this.common });
    const moduleRoot = this.instance.committed().root;
    this.store.append({
      number: 0, block: block.serialize(), receipts: [], moduleRoot,
      genesis: { chainId: this.chainId.toString(), cometChainId: this.cometChainId },
    });
    this._index(this.store.records[0], block);
    this.view = await this._viewAt(this.head);
    return { app_hash: this.appHashAt(0) };
  }

  /** Decode a transaction as CheckTx and ProcessProposal see it. @returns {{tx}|{code, log}} */
  decodeTx(bytes) {
    let tx;
    try {
      tx = createTxFromRLP(bytes, { common: this.common });
    } catch (err) {
      const m = String(err?.message ?? err).split(' -')[0];
      if (/chain ?id/i.test(m)) return rejection(Code.CHAIN_ID, `invalid chain id: ${m} (this chain is ${this.chainId})`);
      return rejection(Code.MALFORMED, `invalid transaction: ${m}`);
    }
    if (!tx.isSigned()) return rejection(Code.SIGNATURE, 'transaction is not signed');
    if (tx.type === 0 && (tx.v === 27n || tx.v === 28n)) {
      return rejection(Code.CHAIN_ID, `invalid chain id: transaction is not replay-protected (EIP-155 required, this chain is ${this.chainId})`);
    }
    if (tx.type !== 0 && tx.chainId !== this.chainId) {
      return rejection(Code.CHAIN_ID, `invalid chain id ${tx.chainId} (this chain is ${this.chainId})`);
    }
    return { tx };
  }

  /**
   * CheckTx ([CMT-30]): signature, chain id, nonce (exactly the next one of
   * the sender, counting those already admitted), balance, gas limit and fee,
   * against the last committed state. Never touches the module or the VM.
   */
  async checkTx(bytes, recheck) {
    // CometBFT sends a Commit's rechecks on the mempool connection before any
    // new transaction's CheckTx, so a new one means the recheck is over: the
    // counts it rebuilt answer "pending" alone from here ([CMT-42]).
    if (!recheck) this.admittedBefore = null;
    const d = this.decodeTx(bytes);
    if (d.tx === undefined) return d;
    const { tx } = d;
    let from;
    try {
      from = tx.getSenderAddress();
    } catch (err) {
      return rejection(Code.SIGNATURE, `invalid signature: ${err.message.split(' -')[0]}`);
    }
    const errs = tx.getValidationErrors();
    if (errs.some((e) => /Signature/.test(e))) return rejection(Code.SIGNATURE, 'invalid signature');
    if (tx.gasLimit > BLOCK_GAS_LIMIT) {
      return rejection(Code.GAS, `exceeds block gas limit: tx gas limit ${tx.gasLimit} > block gas limit ${BLOCK_GAS_LIMIT}`);
    }
    if (errs.length > 0) return rejection(Code.GAS, `intrinsic gas too low: ${errs[0]}`);
    const baseFee = this.nextBaseFee();
    const maxFee = 'maxFeePerGas' in tx ? tx.maxFeePerGas : tx.gasPrice;
    if (maxFee < baseFee) return rejection(Code.FEE, `max fee per gas less than block base fee: maxFeePerGas ${maxFee}, baseFee ${baseFee}`);
    if (this.view === null) return rejection(Code.NONCE, 'chain not initialised yet');
    const key = from.toString();
    let st = this.mempool.get(key);
    if (st === undefined) {
      const acct = await this.view.getAccount(from);
      st = { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n, spent: 0n };
    }
    if (tx.nonce < st.nonce) return rejection(Code.NONCE, `nonce too low: next nonce ${st.nonce}, tx nonce ${tx.nonce}`);
    if (tx.nonce > st.nonce) {
      return rejection(Code.NONCE, `nonce too high: next nonce ${st.nonce}, tx nonce ${tx.nonce} (send a sender's transactions in nonce order)`);
    }
    const cost = tx.gasLimit * maxFee + tx.value;
    if (st.balance - st.spent < cost) {
      return rejection(Code.FUNDS, `insufficient funds for gas * price + value: balance ${st.balance - st.spent}, tx cost ${cost}`);
    }
    this.mempool.set(key, { nonce: st.nonce + 1n, balance: st.balance, spent: st.spent + cost });
    return { code: Code.OK, data: tx.hash(), gas_wanted: tx.gasLimit, recheck };
  }

  /**
   * PrepareProposal: the mempool's order (each sender's nonces ascending, as
   * CheckTx admitted them), within max_tx_bytes and the block gas limit.
   */
  prepareProposal(txs, maxTxBytes) {
    const out = [];
    let bytes = 0;
    let gas = 0n;
    for (const raw of txs) {
      const d = this.decodeTx(raw);
      if (d.tx === undefined) continue;
      if (bytes + raw.length > maxTxBytes || gas + d.tx.gasLimit > BLOCK_GAS_LIMIT) continue;
      bytes += raw.length;
      gas += d.tx.gasLimit;
      out.push(raw);
    }
    return out;
  }

  /** ProcessProposal: REJECT only what is invalid whatever the state ([CMT-31]). */
  processProposal(txs) {
    let gas = 0n;
    for (const raw of txs) {
      const d = this.decodeTx(raw);
      if (d.tx === undefined) return false;
      gas += d.tx.gasLimit;
    }
    return gas <= BLOCK_GAS_LIMIT;
  }

  /**
   * FinalizeBlock(H) ([CMT-20]): every tx in order on the VM, then the
   * module's commit_block(H). Holds the VM lock until Commit, so eth_call and
   * estimates never see a block that is not committed.
   */
  async finalizeBlock(req) {
    await new Promise((acquired) => {
      this.lock.run(() => new Promise((release) => { this.release = release; acquired(); }));
    });
    try {
      return await this._finalize(req);
    } catch (err) {
      // A local fault: the process stops ([CMT-27]); nothing may wait on the lock meanwhile.
      const r = this.release;
      this.release = null;
      r?.();
      throw err;
    }
  }

  async _finalize({ height, time, txs }) {
    const number = BigInt(height);
    if (this.pending !== null) throw new Error(`FinalizeBlock(${height}) while block ${this.pending.number} awaits Commit`);
    if (number !== BigInt(this.entries.length)) {
      throw new Error(`FinalizeBlock(${height}) but the app's next height is ${this.entries.length}`);
    }
    const t0 = process.hrtime.bigint();
    const m0 = this.stats.moduleNs;
    const builder = await buildBlock(this.vm, {
      parentBlock: this.head.block,
      headerData: { number, timestamp: BigInt(time), gasLimit: BLOCK_GAS_LIMIT, coinbase: createZeroAddress() },
      blockOpts: { putBlockIntoBlockchain: false },
    });
    const results = [];
    const receipts = [];
    for (const raw of txs) {
      const d = this.decodeTx(raw);
      if (d.tx === undefined) { results.push({ code: d.code, log: d.log, codespace: CODESPACE }); continue; }
      const { tx } = d;
      let from;
      try {
        from = tx.getSenderAddress();
      } catch (err) {
        results.push({ code: Code.SIGNATURE, log: 'invalid signature', codespace: CODESPACE });
        continue;
      }
      let r;
      try {
        r = await builder.addTransaction(tx);
      } catch (err) {
        // Refused by the VM before executing (nonce, funds, fee, gas): no state change.
        results.push({ code: Code.EXEC_FAILED, log: String(err?.message ?? err).split(' -')[0], codespace: CODESPACE, gas_wanted: tx.gasLimit });
        continue;
      }
      const receipt = receiptRecord(from.toString(), tx, r, builder.headerData.baseFeePerGas ?? 0n);
      receipts.push(receipt);
      const hash = bytesToHex(tx.hash());
      results.push({
        code: Code.OK,
        data: tx.hash(),
        log: receipt.status === '0x1' ? '' : 'execution reverted',
        gas_wanted: tx.gasLimit,
        gas_used: r.totalGasSpent,
        events: [{
          type: 'ethereum_tx',
          attributes: [
            { key: 'hash', value: hash, index: true },
            { key: 'from', value: receipt.from, index: true },
            { key: 'status', value: receipt.status, index: false },
          ],
        }],
      });
    }
    const { block } = await builder.build();
    const moduleRoot = this.env.commitBlock(number);
    this.crashAt('after_commit_block', Number(number));
    const hash = appHash(block.header.stateRoot, moduleRoot);
    this.pending = { number: Number(number), block, receipts, moduleRoot };
    this.stats.blocks += 1;
    this.stats.txs += receipts.length;
    this.stats.finalizeNs += process.hrtime.bigint() - t0;
    this.stats.moduleInFinalizeNs += this.stats.moduleNs - m0;
    return {
      tx_results: results,
      app_hash: hash,
      events: [{
        type: 'memsync_block',
        attributes: [
          { key: 'module_root', value: bytesToHex(moduleRoot), index: false },
          { key: 'evm_state_root', value: bytesToHex(block.header.stateRoot), index: false },
        ],
      }],
    };
  }

  /** Commit ([CMT-21]): the block record (block, receipts, trie nodes, module root), written and fsynced. */
  async commit() {
    const p = this.pending;
    if (p === null) throw new Error('Commit without a finalized block');
    try {
      this.store.append({ number: p.number, block: p.block.serialize(), receipts: p.receipts, moduleRoot: p.moduleRoot });
      this.crashAt('in_commit', p.number);
      this._index(this.store.records[this.store.records.length - 1], p.block);
      this.pending = null;
      this.view = await this._viewAt(this.head);
      // RECHECK re-admits what is left, against the new state. Until it has,
      // the counts admitted before this Commit still answer "pending"
      // ([CMT-42]): a read in between would otherwise see only the committed
      // nonce, and a client would sign a nonce already taken.
      this.admittedBefore = this.mempool;
      this.mempool = new Map();
    } finally {
      const r = this.release;
      this.release = null;
      r?.();
    }
    return { retain_height: 0 };
  }

  /**
   * Query ([CMT-40]) against committed state:
   *   /memsync/root/<h>   JSON {height, module_root, app_hash, evm_state_root}
   *   /memsync/committed  JSON {app_height, module_height, module_root}
   *   /memsync/stats      JSON {blocks, txs, finalize_ms, module_in_finalize_ms} since start
   */
  query(pathStr) {
    const ok = (obj, height) => ({ code: 0, value: new TextEncoder().encode(JSON.stringify(obj)), height });
    let m = /^\/memsync\/root\/([0-9]+)$/.exec(pathStr);
    if (m !== null) {
      const h = Number(m[1]);
      const e = this.entries[h];
      if (e === undefined) return { code: 1, log: `height ${h} is not committed (head ${this.entries.length - 1})`, codespace: CODESPACE };
      let moduleRoot = e.moduleRoot;
      let source = 'app_store';
      try {
        const r = bytesToHex(this.instance.rootAt(BigInt(h)));
        if (r !== e.moduleRoot) {
          return { code: 1, log: `module root_at(${h}) ${r} differs from the recorded ${e.moduleRoot}`, codespace: CODESPACE };
        }
        moduleRoot = r;
        source = 'module';
      } catch { /* beyond the module's retained window: the record is the witness */ }
      return ok({
        height: h, module_root: moduleRoot, source,
        evm_state_root: bytesToHex(e.block.header.stateRoot), app_hash: bytesToHex(this.appHashAt(h)),
      }, h);
    }
    if (pathStr === '/memsync/committed') {
      const c = this.instance.committed();
      return ok({
        app_height: this.entries.length - 1, module_height: Number(c.height), module_root: bytesToHex(c.root),
      }, Math.max(0, this.entries.length - 1));
    }
    if (pathStr === '/memsync/stats') {
      const s = this.stats;
      return ok({
        blocks: s.blocks, txs: s.txs, finalize_ms: Number(s.finalizeNs) / 1e6,
        module_in_finalize_ms: Number(s.moduleInFinalizeNs) / 1e6,
      }, Math.max(0, this.entries.length - 1));
    }
    return { code: 1, log: `unknown query path ${pathStr}`, codespace: CODESPACE };
  }

  // ------------------------------------------------------------ JSON-RPC
  /** eth_sendRawTransaction: into CometBFT's mempool (broadcast_tx_sync); the answer is CheckTx's. */
  async sendRawTransaction(raw) {
    if (this.cometRpc === undefined) throw new RpcError(ErrorCode.SERVER, 'no CometBFT RPC configured');
    let body;
    try {
      const res = await fetch(this.cometRpc, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: Buffer.from(raw).toString('base64') } }),
      });
      body = await res.json();
    } catch (err) {
      throw new RpcError(ErrorCode.SERVER, `CometBFT RPC unreachable: ${err.message}`);
    }
    if (body.error !== undefined) {
      const detail = String(body.error.data ?? body.error.message);
      if (/already exists in cache/.test(detail)) throw new RpcError(ErrorCode.SERVER, 'already known');
      throw new RpcError(ErrorCode.SERVER, `mempool refused the transaction: ${detail}`);
    }
    const r = body.result;
    if (r.code !== 0) {
      if (r.code === Code.MALFORMED) throw invalidParams(r.log);
      throw new RpcError(ErrorCode.SERVER, r.log, { abci_code: r.code, codespace: r.codespace });
    }
    // CheckTx's data is the Ethereum hash; CometBFT's RPC shows bytes.HexBytes as bare hex.
    return '0x' + String(r.data).toLowerCase();
  }
}
