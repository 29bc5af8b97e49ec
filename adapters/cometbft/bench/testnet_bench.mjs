// `make bench-testnet`: throughput of signed 1 KiB appends on a 4-validator
// CometBFT network on loopback, through the precompile and through
// contracts/bench/PlainMemory.sol (ciphertext in contract storage), and the
// share of FinalizeBlock time spent inside the module.
//
// Each of R relayers sends, through its own node, appends signed (EIP-712) by
// its own owner for the owner's memory: every transaction is signed before
// the clock starts; the clock runs from the first send to the last receipt.
// The module's share comes from each node's Query /memsync/stats (time in
// execute, checkpoint, revert_to and commit_block during FinalizeBlock, over
// the FinalizeBlock time), taken before and after the run.
// Writes build/bench-testnet.json. BENCH_APPENDS: appends per relayer (default 60).
import fs from 'node:fs';
import path from 'node:path';
import { Net, Sender, waitReceipt, envelope, salt, assetIdOf, MS, REPO, log } from '../test/net.js';
import { abciQueryJson, waitForHeight, heightOf } from '../src/testnet.js';
import { ethers } from '../src/shared.js';
import { compile } from '../../ethereumjs/test/helpers.js';
import { compileContracts } from '../../ethereumjs/test/solidity.js';
import { signTyped } from '../../ethereumjs/test/eip712.js';
import { devAccounts } from '../../ethereumjs/src/devchain/accounts.js';

const EVM_CHAIN_ID = 4242n;
const R = 4;
const M = Number(process.env.BENCH_APPENDS || 60);
const BODY = 1024 - 50; // envelope() adds a 50-byte header: 1 KiB ciphertexts

const ms = new ethers.Interface(compile().IMemSync.abi);
const Plain = compileContracts().artifacts.PlainMemory;
const plainI = new ethers.Interface(Plain.abi);

async function stats(nodes) {
  return Promise.all(nodes.map((n) => abciQueryJson(n, '/memsync/stats')));
}

function share(before, after) {
  let fin = 0;
  let mod = 0;
  for (let i = 0; i < before.length; i++) {
    fin += after[i].finalize_ms - before[i].finalize_ms;
    mod += after[i].module_in_finalize_ms - before[i].module_in_finalize_ms;
  }
  return { finalizeMsPerNode: fin / before.length, moduleMsPerNode: mod / before.length, share: fin > 0 ? mod / fin : 0 };
}

/**
 * One run: owners create a memory each (setup, untimed), then relayers send
 * M signed appends each. target: the precompile (MS) or a PlainMemory address.
 */
async function run(net, target, label, accounts) {
  const { nodes } = net;
  const plain = target !== MS;
  const iface = plain ? plainI : ms;
  const owners = accounts.slice(0, R).map((a, i) => new Sender(a.privateKey, nodes[i].eth_rpc, EVM_CHAIN_ID));
  const relayers = accounts.slice(R, 2 * R).map((a, i) => new Sender(a.privateKey, nodes[i].eth_rpc, EVM_CHAIN_ID));
  for (const s of [...owners, ...relayers]) {
    s.nonce = Number(await (async () => {
      const r = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionCount', params: [s.address, 'latest'] }) });
      return BigInt((await r.json()).result);
    })());
  }
  const sl = salt(plain ? 2 : 1);
  const setup = [];
  for (const o of owners) {
    setup.push(await o.send({ to: target, data: iface.encodeFunctionData('createMemory', [sl, ethers.ZeroHash, envelope(1, 64, 1)]) }, 'create'));
  }
  for (const h of setup) {
    const r = await waitReceipt(nodes[0].eth_rpc, h);
    if (r.status !== '0x1') throw new Error(`${label}: createMemory failed`);
  }
  // Every append signed and every tx signed before the clock starts.
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const raws = [];
  for (let i = 0; i < R; i++) {
    const owner = owners[i].wallet;
    const asset = assetIdOf(owner.address, sl, target);
    const list = [];
    for (let k = 0; k < M; k++) {
      const ct = envelope(1, BODY, 1000 * i + k);
      const sig = await signTyped(owner, EVM_CHAIN_ID, 'AppendVersion', {
        assetId: asset, expectedVersion: BigInt(k + 1), keyEpoch: 1n, ciphertextHash: ethers.keccak256(ct),
        signer: owner.address, nonce: BigInt(k), deadline,
      }, target);
      const data = iface.encodeFunctionData('appendVersionSigned', [asset, k + 1, 1, ct, owner.address, k, deadline, sig]);
      list.push(await relayers[i].sign({ to: target, data, gasLimit: plain ? 2_000_000n : 500_000n }));
      relayers[i].nonce += 1;
    }
    raws.push(list);
  }
  const before = await stats(nodes);
  const h0 = await heightOf(nodes[0]);
  const t0 = performance.now();
  const hashes = await Promise.all(raws.map(async (list, i) => {
    const out = [];
    for (const raw of list) {
      const res = await fetch(nodes[i].eth_rpc, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [raw] }) });
      const body = await res.json();
      if (body.error !== undefined) throw new Error(`${label}: send refused: ${body.error.message}`);
      out.push(body.result);
    }
    return out;
  }));
  const tSent = performance.now();
  let gas = 0n;
  let last = 0;
  for (const list of hashes) {
    for (const h of list) {
      const r = await waitReceipt(nodes[0].eth_rpc, h, 300_000);
      if (r.status !== '0x1') throw new Error(`${label}: an append failed (${h})`);
      gas += BigInt(r.gasUsed);
      last = Math.max(last, Number(r.blockNumber));
    }
  }
  const t1 = performance.now();
  const after = await stats(nodes);
  const n = R * M;
  const s = share(before, after);
  return {
    label, appends: n, seconds: (t1 - t0) / 1000, appendsPerSecond: n / ((t1 - t0) / 1000),
    sendSeconds: (tSent - t0) / 1000, blocks: last - h0, gasPerAppend: Number(gas / BigInt(n)),
    finalizeMsPerNode: s.finalizeMsPerNode, moduleMsInFinalizePerNode: s.moduleMsPerNode, moduleShareOfFinalize: s.share,
  };
}

const net = await Net.create({ n: 4, evmChainId: EVM_CHAIN_ID });
const results = [];
try {
  for (let i = 0; i < 4; i++) await net.start(i);
  await waitForHeight(net.nodes, 2, 60_000);
  const accounts = devAccounts(10);
  log(`bench: 4 validators up; ${R} relayers x ${M} signed 1 KiB appends per run`);
  results.push(await run(net, MS, 'precompile (appendVersionSigned at 0x4D53)', accounts));
  log(`precompile: ${results[0].appendsPerSecond.toFixed(1)} appends/s`);
  // PlainMemory: deployed by account 9, then the same appends against its storage.
  const deployer = new Sender(accounts[9].privateKey, net.nodes[0].eth_rpc, EVM_CHAIN_ID);
  const dh = await deployer.send({ data: Plain.bytecode, gasLimit: 8_000_000n }, 'deploy PlainMemory');
  const plainAddr = (await waitReceipt(net.nodes[0].eth_rpc, dh)).contractAddress;
  results.push(await run(net, ethers.getAddress(plainAddr), 'PlainMemory.sol (contract storage)', accounts));
  log(`PlainMemory: ${results[1].appendsPerSecond.toFixed(1)} appends/s`);
} finally {
  await net.stopAll();
  net.cleanup();
}
const lines = ['', 'Signed 1 KiB appends on 4 validators (loopback, one machine), first send to last receipt:', ''];
lines.push('| subject | appends | s | appends/s | blocks | gas/append | FinalizeBlock ms/node | in module | module share |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  lines.push(`| ${r.label} | ${r.appends} | ${r.seconds.toFixed(2)} | ${r.appendsPerSecond.toFixed(1)} | ${r.blocks} | ${r.gasPerAppend} | ` +
    `${r.finalizeMsPerNode.toFixed(0)} | ${r.moduleMsInFinalizePerNode.toFixed(0)} | ${(100 * r.moduleShareOfFinalize).toFixed(1)} % |`);
}
process.stdout.write(lines.join('\n') + '\n');
const outFile = path.join(REPO, 'build', 'bench-testnet.json');
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify({ validators: 4, relayers: R, appendsPerRelayer: M, ciphertextBytes: 1024, results }, null, 2) + '\n');
process.stdout.write(`\nwritten ${outFile}\n`);
