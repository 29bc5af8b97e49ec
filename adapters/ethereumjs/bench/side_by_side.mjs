// Side by side (issue 4): the same memory scenario once through the MemSync
// precompile and once as plain Solidity, on @ethereumjs/vm with the module
// loaded, printing the gas of every operation and writing build/bench-evm.json.
//
//   node bench/side_by_side.mjs [out.json]
//
// Subjects:
//   library   contracts/bench/PrecompileMemory.sol: a contract using
//             contracts/MemSync.sol (the memory is owned by that contract);
//   plain     contracts/bench/PlainMemory.sol: ciphertext in contract storage,
//             EIP-712 signature checked with ecrecover, hash chain, grants;
//   direct    transactions from the EOA straight to the precompile (no contract).
// Scenario (the same calls for each): create (no version), append 1 KiB by the
// owner, grant write to an agent (80-byte wrapped key), append 1 KiB signed by
// the agent and relayed by another account, read the 1 KiB version in a
// transaction, revoke the grant, transfer to another account.
// Figures are whole-transaction gas (21,000 intrinsic and calldata included),
// as the sender pays it; gas is deterministic, so one run suffices.
import fs from 'node:fs';
import path from 'node:path';
import { envelope, ethers, memsyncInterface, salt, setup, REPO } from '../test/helpers.js';
import { compileContracts } from '../test/solidity.js';
import { MS, signTyped } from '../test/eip712.js';

const OPS = ['create', 'append 1 KiB', 'grant', 'signed append 1 KiB', 'read 1 KiB', 'revoke', 'transfer'];
const CT_BODY = 1024 - 50; // envelopes of exactly 1024 bytes

async function runScenario(env, subject, { address, iface, owner, relayer, agent, domain }) {
  const gas = {};
  const execGas = {};
  async function send(op, wallet, fn, args) {
    const r = await env.send(wallet, { to: address, data: iface.encodeFunctionData(fn, args), gasLimit: 5_000_000n });
    if (r.execResult.exceptionError) {
      throw new Error(`${subject} ${op}: ${r.execResult.exceptionError.error} ${ethers.hexlify(r.execResult.returnValue)}`);
    }
    gas[op] = r.totalGasSpent;
    execGas[op] = r.execResult.executionGasUsed;
    return iface.decodeFunctionResult(fn, r.execResult.returnValue);
  }
  const [id] = await send('create', owner, 'createMemory', [salt(1), ethers.id('memory'), '0x']);
  const ct1 = envelope(1, CT_BODY, 1);
  await send('append 1 KiB', owner, 'appendVersion', [id, 0n, 1n, ct1]);
  // Fixed bytes, so that calldata (and its gas) is the same on every run.
  const wrappedKey = ethers.dataSlice(ethers.concat([ethers.id('wrapped key 1'), ethers.id('wrapped key 2'), ethers.id('wrapped key 3')]), 0, 80);
  await send('grant', owner, 'grantAccess', [id, agent.address, 3, 0n, wrappedKey]);
  const ct2 = envelope(1, CT_BODY, 2);
  const deadline = env.nextTimestamp() + 3600n;
  const sig = await signTyped(agent, env.chainId, 'AppendVersion', {
    assetId: id, expectedVersion: 1n, keyEpoch: 1n, ciphertextHash: ethers.keccak256(ct2), signer: agent.address,
    nonce: 0n, deadline,
  }, domain);
  await send('signed append 1 KiB', relayer, 'appendVersionSigned', [id, 1n, 1n, ct2, agent.address, 0n, deadline, sig]);
  const [ct] = await send('read 1 KiB', relayer, 'getVersion', [id, 2n]);
  if (ct !== ct2) throw new Error(`${subject}: read returned other bytes`);
  await send('revoke', owner, 'revokeAccess', [id, agent.address]);
  await send('transfer', owner, 'transferOwnership', [id, relayer.address]);
  return { gas, execGas };
}

async function main() {
  const out = process.argv[2] ?? path.join(REPO, 'build/bench-evm.json');
  const { artifacts, solcVersion } = compileContracts();
  const ms = memsyncInterface();
  const results = {};
  for (const subject of ['library', 'plain', 'direct']) {
    const env = await setup();
    try {
      const { alice, bob } = env.wallets;
      // TEST KEY ONLY: the agent only signs.
      const agent = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes('memsync bench agent')));
      let address;
      let iface;
      let domain = MS;
      if (subject === 'direct') {
        address = MS;
        iface = ms;
      } else {
        const c = await env.deploy(alice, subject === 'plain' ? artifacts.PlainMemory : artifacts.PrecompileMemory);
        address = c.target;
        iface = c.interface;
        if (subject === 'plain') domain = c.target;
      }
      results[subject] = await runScenario(env, subject, { address, iface, owner: alice, relayer: bob, agent, domain });
      if (env.fatals.length !== 0) throw new Error(`${subject}: module fault ${env.fatals[0]}`);
    } finally {
      env.cleanup();
    }
  }

  const rows = OPS.map((op) => {
    const lib = results.library.gas[op];
    const plain = results.plain.gas[op];
    return {
      op, library: Number(lib), plain: Number(plain), direct: Number(results.direct.gas[op]),
      ratio: Number(plain * 100n / lib) / 100,
    };
  });
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  const total = { op: 'whole scenario', library: sum('library'), plain: sum('plain'), direct: sum('direct') };
  total.ratio = Math.round((total.plain / total.library) * 100) / 100;

  const fmt = (n) => n.toLocaleString('en-US');
  const header = ['Operation', 'MemSync via library', 'Plain Solidity', 'Plain / MemSync', 'MemSync, EOA tx'];
  const lines = [...rows, total].map((r) => [r.op, fmt(r.library), fmt(r.plain), `${r.ratio.toFixed(2)}x`, fmt(r.direct)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('Gas per transaction (21,000 intrinsic and calldata included); @ethereumjs/vm 10.1.3, Prague, solc ' +
    solcVersion.split('+')[0] + ' optimizer 200 runs');
  console.log(line(header));
  for (const l of lines) console.log(line(l));

  const json = {
    description: 'Whole-transaction gas of the same scenario through the MemSync precompile and as plain Solidity',
    evm: '@ethereumjs/vm 10.1.3, hardfork prague',
    solc: solcVersion,
    ciphertextBytes: 1024,
    wrappedKeyBytes: 80,
    operations: rows,
    total,
    executionGas: Object.fromEntries(Object.entries(results).map(([s, r]) =>
      [s, Object.fromEntries(Object.entries(r.execGas).map(([k, v]) => [k, Number(v)]))])),
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
