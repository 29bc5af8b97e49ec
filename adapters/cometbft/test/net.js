// Helpers of the testnet tests and the benchmark: a network in a temporary
// directory whose processes are all tracked (and killed at the end), raw
// Ethereum JSON-RPC, and senders that sign offline with explicit nonces, so
// that many transactions can be in flight without any estimate or nonce query.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from '../src/shared.js';
import { createTestnet, startNode, stopProcess } from '../src/testnet.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
export const LIBRARY = process.env.MEMSYNC_LIBRARY || path.join(REPO, 'build/libmemsync.so');
export const MS = '0x0000000000000000000000000000000000004D53';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

/** A network whose processes are tracked; stopAll() kills every one of them (SIGKILL, by pid). */
export class Net {
  static async create({ n = 4, dir, ...opts } = {}) {
    const base = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'memsync-testnet-'));
    const layout = await createTestnet({ dir: base, n, ...opts });
    return new Net(layout);
  }

  constructor(layout) {
    this.layout = layout;
    this.nodes = layout.nodes;
    this.procs = layout.nodes.map(() => null);
    // Should the test process end without reaching its `finally` (a runner
    // timeout, an uncaught error), its children still go, by pid.
    process.once('exit', () => {
      for (const p of this.procs) {
        for (const c of p === null ? [] : [p.comet, p.app]) {
          if (c.exitCode === null && c.signalCode === null) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
        }
      }
    });
  }

  async start(i, env = {}) {
    if (this.procs[i] !== null) throw new Error(`${this.nodes[i].name} is running`);
    this.procs[i] = await startNode(this.layout, i, { env, library: LIBRARY });
    return this.procs[i];
  }

  /** kill -9 the node's cometbft and app. */
  async kill(i) {
    const p = this.procs[i];
    this.procs[i] = null;
    if (p === null) return;
    await Promise.all([stopProcess(p.comet, 'SIGKILL'), stopProcess(p.app, 'SIGKILL')]);
  }

  /** Wait until both processes of node i exited on their own (e.g. an injected crash). */
  async waitExit(i, timeoutMs = 60_000) {
    const p = this.procs[i];
    const end = Date.now() + timeoutMs;
    while (p.app.exitCode === null && p.app.signalCode === null) {
      if (Date.now() > end) throw new Error(`${this.nodes[i].name}: app did not exit within ${timeoutMs} ms`);
      await sleep(100);
    }
    // CometBFT stops once the app's connections drop; kill it if it lingers.
    const cometEnd = Date.now() + 15_000;
    while (p.comet.exitCode === null && p.comet.signalCode === null && Date.now() < cometEnd) await sleep(100);
    await stopProcess(p.comet, 'SIGKILL');
    this.procs[i] = null;
    return { app: p.app.exitCode ?? p.app.signalCode };
  }

  async stopAll() {
    await Promise.all(this.nodes.map((_, i) => this.kill(i)));
  }

  appLog(i) { return fs.readFileSync(path.join(this.nodes[i].home, 'app.log'), 'utf8'); }

  cleanup() {
    if (process.env.MEMSYNC_KEEP_TESTNET) { log(`kept ${this.layout.dir}`); return; }
    fs.rmSync(this.layout.dir, { recursive: true, force: true });
  }
}

let rpcId = 0;
/** Ethereum JSON-RPC; resolves to { result } or { error }. */
export async function ethRpc(url, method, params = [], timeoutMs = 10_000) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return res.json();
}

export async function ethResult(url, method, params) {
  const r = await ethRpc(url, method, params);
  if (r.error !== undefined) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
  return r.result;
}

/** Poll for a receipt (null until the block is committed). */
export async function waitReceipt(url, hash, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let r = null;
    try { r = (await ethRpc(url, 'eth_getTransactionReceipt', [hash])).result ?? null; } catch { /* node restarting */ }
    if (r !== null) return r;
    if (Date.now() > end) throw new Error(`no receipt for ${hash} from ${url} within ${timeoutMs} ms`);
    await sleep(150);
  }
}

export const GAS_PRICE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

/** A funded account that signs offline and sends through one node, with its own nonce counter. */
export class Sender {
  constructor(privateKey, url, chainId) {
    this.wallet = new ethers.Wallet(privateKey);
    this.address = this.wallet.address;
    this.url = url;
    this.chainId = chainId;
    this.nonce = 0;
    this.sent = [];
  }

  async sign(tx) {
    return this.wallet.signTransaction({
      type: 2, chainId: this.chainId, value: 0n, gasLimit: 3_000_000n, ...GAS_PRICE, nonce: this.nonce, ...tx,
    });
  }

  /** Sign and send; the nonce advances only when the node accepted it. @returns the tx hash */
  async send(tx, note = '') {
    const raw = await this.sign(tx);
    const r = await ethRpc(this.url, 'eth_sendRawTransaction', [raw]);
    if (r.error !== undefined) throw new Error(`${note || 'send'} via ${this.url}: ${r.error.code} ${r.error.message}`);
    this.nonce += 1;
    this.sent.push({ hash: r.result, note, raw });
    return r.result;
  }
}

/** envelope(keyEpoch, bodyLength, seed): the adapter tests' valid envelope (spec/envelope.md), 50 + bodyLength bytes. */
export { envelope } from '../../ethereumjs/test/helpers.js';

export const salt = (n) => ethers.zeroPadValue(ethers.toBeHex(n), 32);

/** The asset id the precompile gives (owner, salt): keccak256(precompile ‖ owner ‖ salt). */
export const assetIdOf = (owner, s, at = MS) => ethers.keccak256(ethers.concat([at, owner, s]));
