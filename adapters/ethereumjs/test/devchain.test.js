// The dev chain (bin/devchain.js) end to end, as a contract author uses it:
// ethers v6 (JsonRpcProvider + Wallet) and Foundry's cast against a chain in a
// temporary data directory; then restarts, a simulated crash between the two
// commits, and the refusals at start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { envelope, salt } from './helpers.js';
import { TYPES } from './eip712.js';
import {
  CAST, MS, assetIdOf, cast, compileContracts, ethers, rpc, startChain, startFails, tempDir,
} from './devchain-helpers.js';
import { devAccounts } from '../src/devchain/accounts.js';

const CHAIN_ID = 1337n;
const [USER, RELAYER, CASTER] = devAccounts(3);
// TEST KEYS ONLY: the AI agent and an agent nobody registered.
const AGENT_KEY = ethers.keccak256(ethers.toUtf8Bytes('memsync devchain test agent'));
const STRANGER = ethers.getAddress('0x' + '5e'.repeat(20));

// cacheTimeout -1: ethers v6 otherwise answers a repeated eth_getTransactionCount
// from a 250 ms cache, stale on a chain that mines at once.
const PROVIDER_OPTS = { pollingInterval: 50, cacheTimeout: -1 };


describe('dev chain', () => {
  const dataDir = tempDir('main');
  const { IMemSync, AgentRegistry } = compileContracts();
  let chain;
  let provider;
  let user;
  let relayer;
  let agent;
  let ms;
  let registry;
  let assetId;
  const ct2 = envelope(1, 96, 9);
  /** What must survive a restart. */
  const seen = {};

  before(async () => {
    chain = await startChain(dataDir, ['--chain-id', String(CHAIN_ID), '--accounts', '4']);
    provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    user = new ethers.Wallet(USER.privateKey, provider);
    relayer = new ethers.Wallet(RELAYER.privateKey, provider);
    agent = new ethers.Wallet(AGENT_KEY, provider);
    ms = new ethers.Contract(MS, IMemSync.abi, user);
  });

  after(async () => {
    provider?.destroy();
    if (chain) await chain.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints funded dev accounts with their keys; basic methods', async () => {
    assert.match(chain.stdout(), new RegExp(`${USER.address}\\s+10000 ETH\\s+key ${USER.privateKey}`));
    assert.match(chain.stdout(), /\(3\) 0x/);
    assert.doesNotMatch(chain.stdout(), /\(4\) 0x/);
    assert.equal((await provider.getNetwork()).chainId, CHAIN_ID);
    assert.equal(await provider.getBlockNumber(), 0);
    assert.equal(await provider.getBalance(USER.address), 10_000n * 10n ** 18n);
    const r = await rpc(chain.url, [
      { jsonrpc: '2.0', id: 1, method: 'net_version' },
      { jsonrpc: '2.0', id: 2, method: 'web3_clientVersion' },
      { jsonrpc: '2.0', id: 3, method: 'eth_accounts' },
    ]);
    assert.equal(r[0].result, String(CHAIN_ID));
    assert.match(r[1].result, /^memsync-devchain\//);
    assert.equal(r[2].result.length, 4);
  });

  test('JSON-RPC errors: -32601 unknown method, -32700, -32600, -32602, batches', async () => {
    const unknown = await rpc(chain.url, { jsonrpc: '2.0', id: 7, method: 'eth_noSuchMethod', params: [] });
    assert.equal(unknown.id, 7);
    assert.equal(unknown.error.code, -32601);
    assert.equal((await rpc(chain.url, '{"jsonrpc":"2.0",')).error.code, -32700);
    assert.equal((await rpc(chain.url, { id: 1, method: 'eth_chainId' })).error.code, -32600);
    assert.equal((await rpc(chain.url, [])).error.code, -32600);
    assert.equal((await rpc(chain.url, { jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: ['0x12'] })).error.code, -32602);
    const batch = await rpc(chain.url, [
      { jsonrpc: '2.0', id: 'a', method: 'eth_chainId' },
      { jsonrpc: '2.0', method: 'eth_chainId' }, // a notification: no response
      { jsonrpc: '2.0', id: 'b', method: 'nope' },
      42,
    ]);
    assert.deepEqual(batch.map((x) => x.id), ['a', 'b', null]);
    assert.equal(batch[0].result, ethers.toQuantity(CHAIN_ID));
    assert.equal(batch[1].error.code, -32601);
    assert.equal(batch[2].error.code, -32600);
  });

  test('ethers: create a memory (EIP-1559), an eth_call that writes leaves no trace', async () => {
    const s = salt(1);
    assetId = assetIdOf(USER.address, s);
    // eth_call of a write: the module runs it and the answer is the new id ...
    assert.equal(await ms.createMemory.staticCall(s, ethers.ZeroHash, envelope(1)), assetId);
    // ... and nothing of it remains: no block, no asset.
    assert.equal(await provider.getBlockNumber(), 0);
    await assert.rejects(ms.getHead(assetId), (e) => e.revert?.name === 'AssetNotFound');
    const receipt = await (await ms.createMemory(s, ethers.ZeroHash, envelope(1))).wait();
    assert.equal(receipt.status, 1);
    assert.equal(receipt.blockNumber, 1);
    assert.equal(receipt.type, 2);
    const ev = receipt.logs.map((l) => ms.interface.parseLog(l)).find((l) => l?.name === 'MemoryCreated');
    assert.equal(ev.args.assetId, assetId);
    const head = await ms.getHead(assetId);
    assert.equal(head.owner, USER.address);
    assert.equal(head.version, 1n);
  });

  test('ethers: grant (legacy EIP-155 tx), deploy AgentRegistry, register the agent', async () => {
    const grant = await ms.grantAccess(assetId, agent.address, 3, 0, '0x' + 'ab'.repeat(48), { type: 0 });
    const gr = await grant.wait();
    assert.equal(gr.status, 1);
    assert.equal(gr.type, 0);
    assert.equal((await provider.getTransaction(grant.hash)).chainId, CHAIN_ID);

    const factory = new ethers.ContractFactory(AgentRegistry.abi, AgentRegistry.bytecode, user);
    registry = await factory.deploy();
    await registry.waitForDeployment();
    assert.notEqual(await provider.getCode(registry.target), '0x');
    const reg = await (await registry.register(assetId, agent.address)).wait();
    assert.equal(reg.status, 1);
    assert.equal(await registry.registrant(assetId, agent.address), USER.address);
  });

  test('ethers: an append signed by the agent (Wallet.signTypedData) relayed through the registry', async () => {
    const domain = { name: 'MemSync', version: '1', chainId: CHAIN_ID, verifyingContract: MS };
    const latest = await provider.getBlock('latest');
    const message = {
      assetId, expectedVersion: 1n, keyEpoch: 1n, ciphertextHash: ethers.keccak256(ct2),
      signer: agent.address, nonce: 0n, deadline: BigInt(latest.timestamp) + 3600n,
    };
    const signature = await agent.signTypedData(domain, { AppendVersion: TYPES.AppendVersion }, message);
    const args = [assetId, 1n, 1n, ct2, agent.address, 0n, message.deadline, signature];
    const tx = await registry.connect(relayer).append(...args);
    const receipt = await tx.wait();
    assert.equal(receipt.status, 1);
    const appended = receipt.logs.filter((l) => l.address === MS).map((l) => ms.interface.parseLog(l));
    assert.equal(appended[0].name, 'VersionAppended');
    assert.equal(appended[0].args.author, agent.address);
    seen.appendTx = tx.hash;
    seen.appendBlock = receipt.blockNumber;

    // Read back through the precompile.
    const head = await ms.getHead(assetId);
    assert.equal(head.version, 2n);
    const v = await ms.getVersion(assetId, 2n);
    assert.equal(v.ciphertext, ct2);
    assert.equal(v.author, agent.address);

    // eth_getLogs: by address and topics, and by block range.
    const topic = ms.interface.getEvent('VersionAppended').topicHash;
    // Version 1 (createMemory) and version 2 (this append).
    const logs = await provider.getLogs({ address: MS, topics: [topic, assetId], fromBlock: 0 });
    assert.equal(logs.length, 2);
    assert.equal(logs[1].transactionHash, tx.hash);
    assert.equal((await provider.getLogs({ address: MS, topics: [topic], fromBlock: 0, toBlock: receipt.blockNumber - 1 })).length, 1);
    assert.equal((await provider.getLogs({ address: MS, topics: [topic, ethers.ZeroHash], fromBlock: 0 })).length, 0);
    assert.equal((await provider.getLogs({ address: MS, topics: [null, [ethers.ZeroHash, assetId]], fromBlock: 0 })).length,
      (await provider.getLogs({ address: MS, topics: [null, assetId], fromBlock: 0 })).length);
    assert.equal((await provider.getLogs({ address: registry.target, fromBlock: receipt.blockNumber, toBlock: 'latest' })).length, 1);
    assert.equal((await provider.getLogs({ blockHash: receipt.blockHash })).length, 2); // VersionAppended, AgentAppended

    // A replay: eth_estimateGas reverts with the precompile's custom error as data.
    const err = await registry.connect(relayer).append.estimateGas(...args).then(() => null, (e) => e);
    assert.equal(err?.code, 'CALL_EXCEPTION');
    const decoded = ms.interface.parseError(err.data);
    assert.equal(decoded.name, 'InvalidNonce');
    assert.deepEqual(decoded.args.toArray(), [1n, 0n]);
  });

  test('ethers: the registry\'s own custom error is decoded from eth_call', async () => {
    const err = await registry.checkActive(assetId, STRANGER).then(() => null, (e) => e);
    assert.equal(err?.code, 'CALL_EXCEPTION');
    assert.equal(err.revert.name, 'AgentNotRegistered');
    assert.deepEqual(err.revert.args.toArray(), [assetId, STRANGER]);
    await registry.checkActive(assetId, agent.address); // registered, live grant: no revert
  });

  test('ethers: a pre-EIP-155 legacy transaction is mined', async () => {
    const nonce = await provider.getTransactionCount(RELAYER.address, 'pending');
    const raw = await relayer.signTransaction({
      type: 0, chainId: 0n, nonce, gasPrice: ethers.parseUnits('2', 'gwei'), gasLimit: 21_000n, to: STRANGER, value: 5n,
    });
    const tx = await provider.broadcastTransaction(raw);
    assert.equal((await tx.wait()).status, 1);
    assert.equal(await provider.getBalance(STRANGER), 5n);
    const got = await rpc(chain.url, { jsonrpc: '2.0', id: 1, method: 'eth_getTransactionByHash', params: [tx.hash] });
    assert.ok(['0x1b', '0x1c'].includes(got.result.v));
  });

  test('a rejected transaction gets a clear error and mines no block', async () => {
    const before = await provider.getBlockNumber();
    const raw = await relayer.signTransaction({
      type: 2, chainId: CHAIN_ID, nonce: 0, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, gasLimit: 21_000n, to: STRANGER,
    });
    const r = await rpc(chain.url, { jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [raw] });
    assert.equal(r.error.code, -32000);
    assert.match(r.error.message, /nonce too low/);
    assert.equal(await provider.getBlockNumber(), before);
  });

  test('cast: chain id, send (EIP-1559 and legacy), call, custom error decoding',
    { skip: CAST === undefined && 'no cast binary for this platform (@foundry-rs/cast-linux-amd64 only)' }, async () => {
    const rpcUrl = ['--rpc-url', chain.url];
    const id = await cast(['chain-id', ...rpcUrl]);
    assert.equal(id.code, 0, id.stderr);
    assert.equal(id.stdout, String(CHAIN_ID));
    assert.equal((await cast(['block-number', ...rpcUrl])).stdout, String(await provider.getBlockNumber()));
    assert.equal((await cast(['balance', USER.address, ...rpcUrl])).stdout, String(await provider.getBalance(USER.address)));

    // A memory of the cast account, created by a direct transaction to the precompile.
    const s = salt(77);
    const sent = await cast(['send', '--private-key', CASTER.privateKey, MS, 'createMemory(bytes32,bytes32,bytes)',
      s, ethers.ZeroHash, envelope(1), '--json', ...rpcUrl]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.ok(sent.stdout, `${sent.stderr}\n${chain.stderr()}`);
    const rc = JSON.parse(sent.stdout);
    assert.equal(rc.status, '0x1');
    assert.equal(rc.type, '0x2');
    const castAsset = assetIdOf(CASTER.address, s);
    const head = await cast(['call', MS, 'getHead(bytes32)(address,uint64,bytes32,uint64,uint32,bytes32)', castAsset, ...rpcUrl]);
    assert.equal(head.code, 0, head.stderr);
    const lines = head.stdout.split('\n');
    assert.equal(lines[0], CASTER.address);
    assert.equal(lines[1], '1');

    // A legacy append by cast, then the receipt through cast.
    const legacy = await cast(['send', '--legacy', '--private-key', CASTER.privateKey, MS,
      'appendVersion(bytes32,uint64,uint64,bytes)', castAsset, '1', '1', envelope(1, 80, 3), '--json', ...rpcUrl]);
    assert.equal(legacy.code, 0, legacy.stderr);
    const lr = JSON.parse(legacy.stdout);
    assert.equal(lr.type, '0x0');
    const receipt = await cast(['receipt', lr.transactionHash, 'status', ...rpcUrl]);
    assert.match(receipt.stdout, /^(1|true)\b/);

    // A revert with the registry's custom error: cast shows the data, decode-error decodes it.
    const call = await cast(['call', registry.target, 'checkActive(bytes32,address)', castAsset, STRANGER, ...rpcUrl]);
    assert.notEqual(call.code, 0);
    const data = /(0x[0-9a-fA-F]{8,})/.exec(call.stderr.slice(call.stderr.indexOf('revert')))?.[1];
    assert.ok(data, call.stderr);
    assert.equal(data.slice(0, 10), registry.interface.getError('AgentNotRegistered').selector);
    const dec = await cast(['decode-error', '--sig', 'AgentNotRegistered(bytes32,address)', data]);
    assert.equal(dec.code, 0, dec.stderr);
    assert.match(dec.stdout, new RegExp(castAsset));
    assert.match(dec.stdout, new RegExp(STRANGER));

    // A precompile error through cast send: the estimate fails with VersionConflict.
    const conflict = await cast(['send', '--private-key', CASTER.privateKey, MS, 'appendVersion(bytes32,uint64,uint64,bytes)',
      castAsset, '1', '1', envelope(1), ...rpcUrl]);
    assert.notEqual(conflict.code, 0);
    const cdata = /(0x[0-9a-fA-F]{8,})/.exec(conflict.stderr.slice(conflict.stderr.indexOf('revert')))?.[1];
    assert.equal(ms.interface.parseError(cdata).name, 'VersionConflict');
  });

  test('restart on the same data directory keeps everything', async () => {
    seen.block = await provider.getBlockNumber();
    seen.balances = await Promise.all([USER, RELAYER, CASTER].map((a) => provider.getBalance(a.address)));
    seen.nonces = await Promise.all([USER, RELAYER, CASTER].map((a) => provider.getTransactionCount(a.address)));
    seen.head = (await ms.getHead(assetId)).toArray();
    seen.code = await provider.getCode(registry.target);
    seen.latest = await provider.getBlock('latest');
    seen.receipt = await provider.getTransactionReceipt(seen.appendTx);
    provider.destroy();
    assert.equal(await chain.stop(), 0);

    chain = await startChain(dataDir); // no --chain-id: the stored one
    provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    ms = new ethers.Contract(MS, IMemSync.abi, new ethers.Wallet(USER.privateKey, provider));
    registry = registry.connect(new ethers.Wallet(RELAYER.privateKey, provider));
    assert.equal((await provider.getNetwork()).chainId, CHAIN_ID);
    assert.equal(await provider.getBlockNumber(), seen.block);
    assert.deepEqual(await Promise.all([USER, RELAYER, CASTER].map((a) => provider.getBalance(a.address))), seen.balances);
    assert.deepEqual(await Promise.all([USER, RELAYER, CASTER].map((a) => provider.getTransactionCount(a.address))), seen.nonces);
    assert.deepEqual((await ms.getHead(assetId)).toArray(), seen.head);
    assert.equal((await ms.getVersion(assetId, 2n)).ciphertext, ct2);
    assert.equal(await provider.getCode(registry.target), seen.code);
    assert.equal(await registry.registrant(assetId, agent.address), USER.address);
    assert.equal((await provider.getBlock('latest')).hash, seen.latest.hash);
    const receipt = await provider.getTransactionReceipt(seen.appendTx);
    assert.deepEqual(receipt.toJSON(), seen.receipt.toJSON());
    const topic = ms.interface.getEvent('VersionAppended').topicHash;
    assert.equal((await provider.getLogs({ address: MS, topics: [topic, assetId], fromBlock: 0 })).length, 2);
    // The restarted chain goes on: nonces continue, blocks follow.
    const r = await (await ms.grantAccess(assetId, STRANGER, 1, 0, '0x')).wait();
    assert.equal(r.blockNumber, seen.block + 1);
  });

  test('a crash between the module commit and the store append: the module is rolled back', async () => {
    // The last block revokes the agent's grant; then the chain store loses
    // that block's record, exactly as if the process died after commit_block.
    const revoke = await (await ms.revokeAccess(assetId, agent.address)).wait();
    const height = revoke.blockNumber;
    await assert.rejects(registry.checkActive(assetId, agent.address), (e) => ms.interface.parseError(e.data)?.name === 'GrantNotFound');
    provider.destroy();
    assert.equal(await chain.stop(), 0);
    const log = path.join(dataDir, 'chain/blocks.log');
    fs.truncateSync(log, lastRecordOffset(fs.readFileSync(log)));

    chain = await startChain(dataDir);
    assert.match(chain.stderr(), /1 block\(s\) ahead .* rolled back to block/);
    provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    registry = registry.connect(new ethers.Wallet(RELAYER.privateKey, provider));
    ms = ms.connect(new ethers.Wallet(USER.privateKey, provider));
    assert.equal(await provider.getBlockNumber(), height - 1);
    assert.equal(await provider.getTransactionReceipt(revoke.hash), null);
    await registry.checkActive(assetId, agent.address); // the grant is back, as the chain says
    // A torn append (garbage after the last record) is cut off at the next start.
    provider.destroy();
    assert.equal(await chain.stop(), 0);
    fs.appendFileSync(log, Buffer.from([0, 0, 1, 0, 9, 9, 9]));
    chain = await startChain(dataDir);
    assert.match(chain.stderr(), /torn last record/);
    provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    assert.equal(await provider.getBlockNumber(), height - 1);
    provider.destroy();
    assert.equal(await chain.stop(), 0);
    provider = undefined;
  });

  test('refusals at start: module behind the chain, another chain id, data directory in use', async () => {
    // Keep a copy of the module's directory, move the chain on, put the old copy back.
    const old = tempDir('old-module');
    fs.cpSync(path.join(dataDir, 'memsync'), old, { recursive: true });
    chain = await startChain(dataDir);
    const p = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    const w = new ethers.Wallet(USER.privateKey, p);
    await (await w.sendTransaction({ to: STRANGER, value: 1n })).wait();

    const locked = await startFails(dataDir);
    assert.equal(locked.code, 3);
    assert.match(locked.stderr, /in use/);
    p.destroy();
    assert.equal(await chain.stop(), 0);
    chain = undefined;

    const wrongId = await startFails(dataDir, ['--chain-id', '5']);
    assert.equal(wrongId.code, 4);
    assert.match(wrongId.stderr, /chain id 1337, not 5/);

    fs.rmSync(path.join(dataDir, 'memsync'), { recursive: true });
    fs.cpSync(old, path.join(dataDir, 'memsync'), { recursive: true });
    fs.rmSync(old, { recursive: true, force: true });
    const behind = await startFails(dataDir);
    assert.equal(behind.code, 4);
    assert.match(behind.stderr, /behind the chain head/);
  });
});

/** Byte offset of the last record of a blocks.log (frames: u32 length, 8-byte checksum, payload). */
function lastRecordOffset(buf) {
  let off = 0;
  let last = 0;
  while (off < buf.length) {
    last = off;
    off += 12 + buf.readUInt32BE(off);
  }
  return last;
}
