// Test harness: an in-memory VM with the module loaded, funded wallets,
// contracts compiled with the bundled solc-js, one block per transaction.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createBlock } from '@ethereumjs/block';
import { createLegacyTx } from '@ethereumjs/tx';
import { runTx } from '@ethereumjs/vm';
import { Account, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { ethers } from 'ethers';
import { createMemSyncVM } from '../src/index.js';

const require = createRequire(import.meta.url);
const solc = require('solc');

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');

// TEST KEYS ONLY.
export const KEYS = {
  alice: ethers.keccak256(ethers.toUtf8Bytes('memsync adapter test key alice')),
  bob: ethers.keccak256(ethers.toUtf8Bytes('memsync adapter test key bob')),
};

let compiled;
/** IMemSync.sol (spec/) and test/contracts/Probe.sol, compiled once per process. */
export function compile() {
  if (compiled !== undefined) return compiled;
  const input = {
    language: 'Solidity',
    sources: {
      'IMemSync.sol': { content: fs.readFileSync(path.join(REPO, 'spec/IMemSync.sol'), 'utf8') },
      'Probe.sol': { content: fs.readFileSync(path.join(here, 'contracts/Probe.sol'), 'utf8') },
    },
    settings: {
      evmVersion: 'prague',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  compiled = {
    solcVersion: solc.version(),
    IMemSync: { abi: out.contracts['IMemSync.sol'].IMemSync.abi },
    Probe: {
      abi: out.contracts['Probe.sol'].Probe.abi,
      bytecode: '0x' + out.contracts['Probe.sol'].Probe.evm.bytecode.object,
    },
  };
  return compiled;
}

/** A fresh chain: module data dir in a temp dir, funded wallets, height 0. */
export async function setup({ onCall } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsync-evm-'));
  const fatals = [];
  const calls = [];
  const env = await createMemSyncVM({
    dataDir,
    onFatal: (err) => fatals.push(err),
    onCall: (info) => { calls.push(info); onCall?.(info); },
  });
  const { vm, common } = env;
  const wallets = {};
  for (const [name, key] of Object.entries(KEYS)) {
    wallets[name] = new ethers.Wallet(key);
    await vm.stateManager.putAccount(createAddressFromString(wallets[name].address),
      new Account(0n, 10n ** 24n));
  }
  const chainId = common.chainId();
  let height = 0n;
  let timestamp = 1_750_000_000n;

  const nextBlock = () => createBlock({
    header: { number: height + 1n, timestamp: timestamp + 12n, gasLimit: 30_000_000n, baseFeePerGas: 7n },
  }, { common });

  /** One transaction in its own block; the module commits that block. */
  async function send(wallet, { to, data = '0x', value = 0n, gasLimit = 3_000_000n }) {
    const from = createAddressFromString(wallet.address);
    const nonce = (await vm.stateManager.getAccount(from))?.nonce ?? 0n;
    const tx = createLegacyTx({
      nonce, gasPrice: 10n, gasLimit, to: to === undefined ? undefined : to, value, data: hexToBytes(data),
    }, { common }).sign(hexToBytes(wallet.privateKey));
    const block = nextBlock();
    const result = await runTx(vm, { tx, block });
    height += 1n;
    timestamp += 12n;
    env.commitBlock(height);
    return result;
  }

  async function deploy(wallet, artifact) {
    const r = await send(wallet, { data: artifact.bytecode, gasLimit: 10_000_000n });
    if (r.execResult.exceptionError) throw new Error(`deploy failed: ${r.execResult.exceptionError.error}`);
    return new ethers.Contract(ethers.getAddress(r.createdAddress.toString()), artifact.abi);
  }

  /**
   * eth_call as a node serves it: a shallow copy of the VM (its state manager
   * copy runs in simulation mode), a static-free runCall, the copy dropped.
   */
  async function call(from, { to, data, gasLimit = 3_000_000n, value = 0n }) {
    const copy = await vm.shallowCopy();
    const block = nextBlock();
    try {
      return await copy.evm.runCall({
        caller: createAddressFromString(from), to: createAddressFromString(to), data: hexToBytes(data),
        gasLimit, value, block, skipBalance: true,
      });
    } finally {
      copy.stateManager.memsyncRelease();
    }
  }

  return {
    ...env, dataDir, wallets, fatals, calls, chainId, send, deploy, call,
    get height() { return height; },
    get timestamp() { return timestamp; },
    nextTimestamp: () => timestamp + 12n,
    cleanup() {
      env.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A structurally valid envelope (spec/envelope.md): the module never decrypts. */
export function envelope(keyEpoch, bodyLength = 64, seed = 1) {
  const out = new Uint8Array(50 + bodyLength);
  out[0] = 1;
  out[1] = 1;
  new DataView(out.buffer).setBigUint64(2, BigInt(keyEpoch));
  for (let i = 10; i < out.length; i++) out[i] = (i * 31 + seed * 7) & 0xff || 1;
  return ethers.hexlify(out);
}

export function salt(n) {
  return ethers.zeroPadValue(ethers.toBeHex(n), 32);
}

/** The ethers Interface of the compiled IMemSync (functions, events, errors). */
export function memsyncInterface() {
  return new ethers.Interface(compile().IMemSync.abi);
}

export { ethers, REPO };
