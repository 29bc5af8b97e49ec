#!/usr/bin/env node
// The MemSync dev chain: JSON-RPC on 127.0.0.1:8545, one block per
// transaction, funded dev accounts, state in ./data. `make run` starts it.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DevChain, DevChainError, Exit } from '../src/devchain/chain.js';
import { createRpcServer } from '../src/devchain/server.js';
import { DEV_MNEMONIC, DEV_PATH } from '../src/devchain/accounts.js';
import { createAddressFromString } from '@ethereumjs/util';
import { DEFAULT_LIBRARY } from '../src/module.js';

const USAGE = `usage: devchain.js [options]

A local Ethereum dev chain on @ethereumjs/vm with the MemSync module loaded
as a precompile. JSON-RPC over HTTP; one block per transaction.

options:
  --host HOST        listen address (default 127.0.0.1)
  --port N           listen port (default 8545; 0 picks a free one)
  --data DIR         data directory (default $DATA or ./data): DIR/chain holds
                     the chain's blocks and state, DIR/memsync the module's RocksDB
  --chain-id N       chain id of a new chain (default $CHAIN_ID or 31337); an
                     existing chain keeps its own and refuses a different one
  --accounts N       funded dev accounts of a new chain (default 10)
  --rpc-gas-cap N    gas limit of eth_call, eth_estimateGas and eth_createAccessList
                     (default 30000000, the block gas limit); a request for more
                     gas is clamped to it, as geth's --rpc.gascap does
  --verbose          log every RPC method called
  -h, --help         this text

The dev accounts come from the public test mnemonic
  "${DEV_MNEMONIC}"
(path ${DEV_PATH}/i). Their keys are public: never use them elsewhere.
The module library is $MEMSYNC_LIBRARY, else build/libmemsync.so.

exit codes: 0 stopped by SIGINT/SIGTERM, 1 usage, 2 module not loadable,
  3 data directory in use, 4 stored state refused (module behind the chain,
  another chain's module or chain id, damaged store, chain/ or memsync/
  missing while the other holds blocks: nothing is changed), 5 cannot listen,
  70 fatal module fault or failed block commit (restart to recover)
`;

function usage(msg) {
  process.stderr.write(`devchain: ${msg}\n\n${USAGE}`);
  process.exit(1);
}

function integer(v, name, min, max) {
  if (!/^[0-9]+$/.test(v ?? '')) usage(`${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n < min || n > max) usage(`${name}: out of range ${min}..${max}`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8545' },
      data: { type: 'string', default: process.env.DATA || './data' },
      'chain-id': { type: 'string', default: process.env.CHAIN_ID || undefined },
      accounts: { type: 'string', default: '10' },
      'rpc-gas-cap': { type: 'string', default: '30000000' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  usage(err.message);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(integer(args.port, '--port', 0n, 65535n));
const chainId = args['chain-id'] === undefined ? undefined : integer(args['chain-id'], '--chain-id', 1n, (1n << 53n) - 1n);
const accounts = Number(integer(args.accounts, '--accounts', 1n, 1000n));
const rpcGasCap = integer(args['rpc-gas-cap'], '--rpc-gas-cap', 21_000n, (1n << 63n) - 1n);
const dataDir = path.resolve(args.data);
const log = (line) => process.stderr.write(`${line}\n`);

let chain;
try {
  chain = await DevChain.open({ dataDir, chainId, accounts, log, rpcGasCap });
} catch (err) {
  if (err instanceof DevChainError) {
    log(`devchain: ${err.message}`);
    process.exit(err.exitCode);
  }
  throw err;
}
chain.onStop = () => setImmediate(() => process.exit(70));

const server = createRpcServer(chain, { log, logRequests: args.verbose });
server.on('error', (err) => {
  log(`devchain: cannot listen on ${args.host}:${port}: ${err.message}`);
  chain.close();
  process.exit(Exit.LISTEN);
});
server.listen(port, args.host, async () => {
  const { port: actual } = server.address();
  const lines = [
    'MemSync dev chain',
    `  chain id     ${chain.chainId}`,
    `  head block   ${chain.height}`,
    `  rpc gas cap  ${chain.rpcGasCap} (eth_call, eth_estimateGas, eth_createAccessList)`,
    `  precompile   ${chain.instance.address} (module ${DEFAULT_LIBRARY})`,
    `  data         ${dataDir} (chain/ blocks and state, memsync/ the module's RocksDB)`,
    '',
    'Dev accounts (public test keys from the mnemonic below; never use them on a real network)',
  ];
  const balances = await chain.withState(chain.head, async (sm) => Promise.all(chain.accounts.map(
    async (a) => (await sm.getAccount(createAddressFromString(a.address)))?.balance ?? 0n)));
  chain.accounts.forEach((a, i) => {
    const eth = balances[i] / 10n ** 18n;
    lines.push(`  (${i}) ${a.address}  ${eth} ETH  key ${a.privateKey}`);
  });
  lines.push('', `  mnemonic     ${DEV_MNEMONIC}`, `  path         ${DEV_PATH}/i`, '');
  lines.push(`Listening on http://${args.host}:${actual}`);
  process.stdout.write(lines.join('\n') + '\n');
});

let stopping = false;
const stop = (sig) => {
  if (stopping) return;
  stopping = true;
  log(`devchain: ${sig}, stopping`);
  server.close();
  server.closeAllConnections?.();
  // Wait for a block in progress; then close the module cleanly.
  chain.lock.run(async () => chain.close()).finally(() => process.exit(0));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
