// A local N-validator network on loopback: `cometbft testnet` writes the keys,
// genesis and configs; this file gives every node free ports on 127.0.0.1,
// patches the configs (fast timeouts, the kv tx index, peers on loopback),
// puts the app state (EVM chain id, funded dev accounts) into the shared
// genesis, and starts / stops each node's two processes (the app first, then
// cometbft). Used by bin/testnet.js (`make testnet`) and the tests.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { devAccounts, DEV_BALANCE } from '../../ethereumjs/src/devchain/accounts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const APP_BIN = path.resolve(here, '../bin/abci-app.js');
export const DEFAULT_COMETBFT = path.resolve(here, '../../../build/bin/cometbft');
export const DEFAULT_EVM_CHAIN_ID = 4242n;

/** Free TCP ports on 127.0.0.1 (bound together, then released). */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      await new Promise((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Set `key = value` (value already in TOML syntax) in a [section] ('' = top level) of a config.toml text. */
export function setToml(text, section, key, value) {
  const lines = text.split('\n');
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const sec = /^\s*\[([^\]]+)\]\s*$/.exec(lines[i]);
    if (sec !== null) { current = sec[1].trim(); continue; }
    if (current === section && new RegExp(`^\\s*${key}\\s*=`).test(lines[i])) {
      lines[i] = `${key} = ${value}`;
      return lines.join('\n');
    }
  }
  throw new Error(`config.toml: no ${key} in [${section}]`);
}

const tomlString = (s) => JSON.stringify(s);

/**
 * Create a fresh network in dir (removed first).
 * @returns {object} the layout: { dir, chainId, evmChainId, nodes: [{ name, home, id, ports: {p2p, rpc, abci, eth}, cometbft_rpc, eth_rpc }] }
 */
export async function createTestnet({
  dir, n = 4, cometbft = DEFAULT_COMETBFT, evmChainId = DEFAULT_EVM_CHAIN_ID, accounts = 10,
  timeoutCommit = '500ms', timeoutPropose = '1500ms', logLevel = 'info',
}) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(cometbft, ['testnet', '--v', String(n), '--o', dir, '--populate-persistent-peers=false'], { stdio: 'pipe' });
  const ports = await freePorts(4 * n);
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const home = path.join(dir, `node${i}`);
    const id = execFileSync(cometbft, ['show-node-id', '--home', home], { encoding: 'utf8' }).trim();
    const p = { p2p: ports[4 * i], rpc: ports[4 * i + 1], abci: ports[4 * i + 2], eth: ports[4 * i + 3] };
    nodes.push({
      name: `node${i}`, home, id, ports: p,
      cometbft_rpc: `http://127.0.0.1:${p.rpc}`, eth_rpc: `http://127.0.0.1:${p.eth}`,
    });
  }
  // One genesis for all: CometBFT's (validators, chain id) plus our app state.
  const genesisFile = path.join(nodes[0].home, 'config', 'genesis.json');
  const genesis = JSON.parse(fs.readFileSync(genesisFile, 'utf8'));
  const alloc = {};
  for (const a of devAccounts(accounts)) alloc[a.address.toLowerCase()] = DEV_BALANCE.toString();
  genesis.app_state = { evm_chain_id: evmChainId.toString(), alloc };
  genesis.consensus_params.block.max_gas = '30000000';
  const genesisText = JSON.stringify(genesis, null, 2);
  for (const node of nodes) {
    fs.writeFileSync(path.join(node.home, 'config', 'genesis.json'), genesisText);
    const cfgFile = path.join(node.home, 'config', 'config.toml');
    let cfg = fs.readFileSync(cfgFile, 'utf8');
    const peers = nodes.filter((o) => o !== node).map((o) => `${o.id}@127.0.0.1:${o.ports.p2p}`).join(',');
    const set = (section, key, value) => { cfg = setToml(cfg, section, key, value); };
    set('', 'moniker', tomlString(node.name));
    set('', 'proxy_app', tomlString(`tcp://127.0.0.1:${node.ports.abci}`));
    set('', 'log_level', tomlString(logLevel));
    set('rpc', 'laddr', tomlString(`tcp://127.0.0.1:${node.ports.rpc}`));
    set('p2p', 'laddr', tomlString(`tcp://127.0.0.1:${node.ports.p2p}`));
    set('p2p', 'persistent_peers', tomlString(peers));
    set('p2p', 'addr_book_strict', 'false');
    set('p2p', 'allow_duplicate_ip', 'true');
    set('p2p', 'pex', 'false');
    set('consensus', 'timeout_commit', tomlString(timeoutCommit));
    set('consensus', 'timeout_propose', tomlString(timeoutPropose));
    set('consensus', 'create_empty_blocks', 'true');
    set('tx_index', 'indexer', tomlString('kv'));
    fs.writeFileSync(cfgFile, cfg);
  }
  const layout = { dir, chainId: genesis.chain_id, evmChainId: evmChainId.toString(), cometbft, nodes };
  fs.writeFileSync(path.join(dir, 'nodes.json'),
    JSON.stringify(nodes.map((x) => ({ name: x.name, cometbft_rpc: x.cometbft_rpc, eth_rpc: x.eth_rpc })), null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'testnet.json'), JSON.stringify(layout, null, 2) + '\n');
  return layout;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once host:port accepts a TCP connection (or rejects after timeoutMs, or when child exits). */
export async function waitForPort(port, { timeoutMs = 30_000, child } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before port ${port} opened`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Start one node: its app (waits for the ABCI port), then cometbft. Output is
 * appended to <home>/app.log and <home>/cometbft.log.
 * @returns {{app: ChildProcess, comet: ChildProcess}}
 */
export async function startNode(layout, i, { env = {}, detached = false, library } = {}) {
  const node = layout.nodes[i];
  const out = (name) => fs.openSync(path.join(node.home, name), 'a');
  const appLog = out('app.log');
  const appEnv = { ...process.env, ...env };
  if (library !== undefined) appEnv.MEMSYNC_LIBRARY = library;
  const app = spawn(process.execPath, [APP_BIN, '--home', node.home, '--abci', `tcp://127.0.0.1:${node.ports.abci}`,
    '--eth', `127.0.0.1:${node.ports.eth}`, '--comet-rpc', node.cometbft_rpc], {
    env: appEnv, stdio: ['ignore', appLog, appLog], detached,
  });
  fs.closeSync(appLog);
  await waitForPort(node.ports.abci, { child: app });
  const cometLog = out('cometbft.log');
  const comet = spawn(layout.cometbft, ['start', '--home', node.home], {
    env: process.env, stdio: ['ignore', cometLog, cometLog], detached,
  });
  fs.closeSync(cometLog);
  if (detached) { app.unref(); comet.unref(); }
  return { app, comet };
}

/** Send a signal to a child (or pid) and wait for it to exit. */
export async function stopProcess(p, signal = 'SIGKILL', timeoutMs = 10_000) {
  if (p === undefined || p === null) return;
  if (typeof p === 'number') {
    try { process.kill(p, signal); } catch { return; }
    const end = Date.now() + timeoutMs;
    for (;;) {
      try { process.kill(p, 0); } catch { return; }
      if (Date.now() > end) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } return; }
      await sleep(50);
    }
  }
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  try { p.kill(signal); } catch { /* already gone */ }
  const t = setTimeout(() => { try { p.kill('SIGKILL'); } catch { /* gone */ } }, timeoutMs);
  await exited;
  clearTimeout(t);
}

/** CometBFT JSON-RPC call. */
export async function cometCall(url, method, params = {}, timeoutMs = 5000) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.json();
  if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** The node's latest committed height, or -1 when its RPC does not answer. */
export async function heightOf(node) {
  try {
    const s = await cometCall(node.cometbft_rpc, 'status', {}, 2000);
    return Number(s.sync_info.latest_block_height);
  } catch {
    return -1;
  }
}

/** An abci_query whose value is JSON. */
export async function abciQueryJson(node, pathStr) {
  const r = await cometCall(node.cometbft_rpc, 'abci_query', { path: pathStr });
  const resp = r.response;
  if (resp.code !== 0) throw new Error(`abci_query ${pathStr} on ${node.name}: code ${resp.code}: ${resp.log}`);
  return JSON.parse(Buffer.from(resp.value, 'base64').toString('utf8'));
}

/** Wait until every listed node is at least at height h. */
export async function waitForHeight(nodes, h, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hs = await Promise.all(nodes.map(heightOf));
    if (hs.every((x) => x >= h)) return hs;
    if (Date.now() > end) throw new Error(`height ${h} not reached within ${timeoutMs} ms: ${nodes.map((n, i) => `${n.name}=${hs[i]}`).join(' ')}`);
    await sleep(250);
  }
}
