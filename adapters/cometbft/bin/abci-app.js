#!/usr/bin/env node
// One validator's application: the ABCI++ socket CometBFT dials, plus the
// Ethereum JSON-RPC of this node. Start it before `cometbft start`.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AbciChain } from '../src/chain.js';
import { createAbciServer } from '../src/abci.js';
import { abciHandlers } from '../src/app.js';
import { createRpcServer } from '../../ethereumjs/src/devchain/server.js';
import { DevChainError } from '../../ethereumjs/src/devchain/chain.js';

const USAGE = `usage: abci-app.js --home DIR --abci tcp://HOST:PORT --eth HOST:PORT --comet-rpc URL [--data DIR]

The MemSync ABCI++ application for one CometBFT node.
  --home DIR        the node's CometBFT home (its config/genesis.json gives the
                    chain id and app_state)
  --data DIR        the app's data (default HOME/app-data): app/ the block
                    records, memsync/ the module's RocksDB
  --abci ADDR       where CometBFT's proxy_app dials (tcp://127.0.0.1:26658)
  --eth HOST:PORT   Ethereum JSON-RPC over HTTP (127.0.0.1:8545)
  --comet-rpc URL   this node's CometBFT RPC (http://127.0.0.1:26657), for
                    eth_sendRawTransaction -> broadcast_tx_sync
env: MEMSYNC_LIBRARY (the module), MEMSYNC_CRASH=after_commit_block@H|in_commit@H (tests)
exit codes: 0 SIGTERM/SIGINT, 1 usage, 2 module not loadable, 3 data in use,
  4 stored state refused, 5 cannot listen, 70 local fault (restart to recover)
`;

const log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
let args;
try {
  args = parseArgs({
    options: {
      home: { type: 'string' },
      data: { type: 'string' },
      abci: { type: 'string', default: 'tcp://127.0.0.1:26658' },
      eth: { type: 'string', default: '127.0.0.1:8545' },
      'comet-rpc': { type: 'string', default: 'http://127.0.0.1:26657' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  process.stderr.write(`abci-app: ${err.message}\n${USAGE}`);
  process.exit(1);
}
if (args.help) { process.stdout.write(USAGE); process.exit(0); }
if (!args.home) { process.stderr.write(`abci-app: --home is required\n${USAGE}`); process.exit(1); }
const hostPort = (s, what) => {
  const m = /^(?:tcp:\/\/)?([0-9.]+|localhost):([0-9]{1,5})$/.exec(s);
  if (m === null) { process.stderr.write(`abci-app: ${what}: expected HOST:PORT, got ${s}\n`); process.exit(1); }
  return { host: m[1], port: Number(m[2]) };
};
const abciAddr = hostPort(args.abci, '--abci');
const ethAddr = hostPort(args.eth, '--eth');
const home = path.resolve(args.home);
const dataDir = path.resolve(args.data ?? path.join(home, 'app-data'));

let genesis;
try {
  genesis = JSON.parse(fs.readFileSync(path.join(home, 'config', 'genesis.json'), 'utf8'));
} catch (err) {
  log(`abci-app: cannot read ${home}/config/genesis.json: ${err.message}`);
  process.exit(4);
}

const fatal = (err) => {
  log(`abci-app: fatal: ${err?.stack ?? err}; exiting (restart to recover)`);
  process.exit(70);
};

let chain;
try {
  chain = await AbciChain.open({
    dataDir, genesis, log, onFatal: fatal, cometRpc: args['comet-rpc'], crash: process.env.MEMSYNC_CRASH,
  });
} catch (err) {
  if (err instanceof DevChainError) { log(`abci-app: ${err.message}`); process.exit(err.exitCode); }
  log(`abci-app: ${err?.stack ?? err}`);
  process.exit(4);
}
const c = chain.instance.committed();
log(`abci-app: app at height ${chain.entries.length - 1}, module at ${c.height} (chain ${chain.cometChainId}, EVM chain id ${chain.chainId})`);

const handlers = abciHandlers(chain);

const rpc = createRpcServer(chain, { log });
const abci = createAbciServer(handlers, { log, onFault: (err) => setImmediate(() => fatal(err)) });
const listen = (server, { host, port }, what) => new Promise((resolve) => {
  server.once('error', (err) => { log(`abci-app: cannot listen for ${what} on ${host}:${port}: ${err.message}`); process.exit(5); });
  server.listen(port, host, resolve);
});
await listen(rpc, ethAddr, 'JSON-RPC');
await listen(abci, abciAddr, 'ABCI');
log(`abci-app: ABCI on tcp://${abciAddr.host}:${abciAddr.port}, JSON-RPC on http://${ethAddr.host}:${ethAddr.port}`);

const stop = (sig) => {
  log(`abci-app: ${sig}, stopping`);
  abci.close();
  rpc.close();
  rpc.closeAllConnections?.();
  // A block between FinalizeBlock and Commit holds the lock; the store is
  // consistent at any point anyway (the next start reconciles).
  chain.close();
  process.exit(0);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
