#!/usr/bin/env node
// `make testnet` / `make testnet-stop`: a fresh N-validator network on
// loopback, left running in the background.
//   testnet.js start --dir DATA/testnet [--n 4] [--chain-id 4242]
//   testnet.js stop  --dir DATA/testnet
// start writes DIR/nodes.json ([{name, cometbft_rpc, eth_rpc}]), DIR/testnet.json
// (ports, node ids) and DIR/pids.json (the processes it started; stop kills
// exactly those). Logs: DIR/nodeI/app.log and DIR/nodeI/cometbft.log.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTestnet, startNode, waitForHeight, stopProcess, DEFAULT_EVM_CHAIN_ID } from '../src/testnet.js';
import { devAccounts } from '../../ethereumjs/src/devchain/accounts.js';

const USAGE = 'usage: testnet.js start --dir DIR [--n N] [--chain-id ID] | testnet.js stop --dir DIR\n';
let parsed;
try {
  parsed = parseArgs({
    options: { dir: { type: 'string' }, n: { type: 'string', default: '4' }, 'chain-id': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
} catch (err) {
  process.stderr.write(`testnet: ${err.message}\n${USAGE}`);
  process.exit(1);
}
const { values: args, positionals } = parsed;
const cmd = positionals[0];
if (!args.dir || (cmd !== 'start' && cmd !== 'stop') || positionals.length !== 1) {
  process.stderr.write(USAGE);
  process.exit(1);
}
const dir = path.resolve(args.dir);
const pidsFile = path.join(dir, 'pids.json');

/** A pid still running one of *our* processes (its command line names this network's directory). */
function ours(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

async function stop() {
  if (!fs.existsSync(pidsFile)) return 0;
  const pids = JSON.parse(fs.readFileSync(pidsFile, 'utf8'));
  const live = pids.flatMap((p) => [p.comet, p.app]).filter(ours);
  await Promise.all(live.map((pid) => stopProcess(pid, 'SIGTERM', 10_000)));
  fs.rmSync(pidsFile);
  return live.length;
}

if (cmd === 'stop') {
  const n = await stop();
  process.stdout.write(`testnet: stopped ${n} process(es) of ${dir}\n`);
  process.exit(0);
}

const n = Number(args.n);
if (!Number.isInteger(n) || n < 1 || n > 32) { process.stderr.write(`testnet: --n: 1..32\n${USAGE}`); process.exit(1); }
const evmChainId = args['chain-id'] === undefined ? DEFAULT_EVM_CHAIN_ID : BigInt(args['chain-id']);
if (fs.existsSync(pidsFile)) {
  const stopped = await stop();
  if (stopped > 0) process.stdout.write(`testnet: stopped the previous network in ${dir} (${stopped} processes)\n`);
}
const layout = await createTestnet({ dir, n, evmChainId });
const pids = [];
try {
  for (let i = 0; i < n; i++) {
    const { app, comet } = await startNode(layout, i, { detached: true });
    pids.push({ name: layout.nodes[i].name, app: app.pid, comet: comet.pid });
    fs.writeFileSync(pidsFile, JSON.stringify(pids, null, 2) + '\n');
  }
  await waitForHeight(layout.nodes, 1, 60_000);
} catch (err) {
  process.stderr.write(`testnet: ${err.message}; stopping (logs in ${dir}/node*/)\n`);
  await stop();
  process.exit(1);
}
const lines = [`MemSync testnet: ${n} validators, chain ${layout.chainId}, EVM chain id ${evmChainId}`, ''];
for (const x of layout.nodes) lines.push(`  ${x.name}  eth ${x.eth_rpc}  cometbft ${x.cometbft_rpc}`);
lines.push('', `  ${path.join(dir, 'nodes.json')}`, '', 'Funded accounts (public test keys; never use them on a real network):');
for (const [i, a] of devAccounts(10).entries()) lines.push(`  (${i}) ${a.address}  key ${a.privateKey}`);
lines.push('', `Logs: ${dir}/nodeI/{app,cometbft}.log. Stop with: make testnet-stop`);
process.stdout.write(lines.join('\n') + '\n');
process.exit(0);
