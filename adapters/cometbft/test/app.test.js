// The app over its ABCI socket, without CometBFT: this test plays CometBFT's
// side with the same codec (the .proto files of the installed module). It
// checks the framing, the method flow of a height, CheckTx's refusals
// ([CMT-30]), Info after Commit ([CMT-22]), and the crash window of [CMT-24]
// deterministically: a height finalized (module committed) but not
// committed by the app is rolled back at the next open and, executed again,
// gives the same app hash. Over the node's JSON-RPC (the HTTP server of
// bin/abci-app.js), eth_getTransactionCount "pending" counts what CheckTx
// admitted ([CMT-42]).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createAbciServer, decodeResponse, encodeRequest, splitFrames } from '../src/abci.js';
import { abciHandlers } from '../src/app.js';
import { AbciChain, Code, appHash } from '../src/chain.js';
import { ethers } from '../src/shared.js';
import { createRpcServer } from '../../ethereumjs/src/devchain/server.js';
import { compile, envelope } from '../../ethereumjs/test/helpers.js';

const CHAIN = 'memsync-app-test';
const EVM_CHAIN_ID = 4242n;
const MS = '0x0000000000000000000000000000000000004D53';
// TEST KEYS ONLY.
const alice = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes('memsync cometbft app test alice')));
const bob = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes('memsync cometbft app test bob')));
const genesis = {
  chain_id: CHAIN,
  app_state: { evm_chain_id: EVM_CHAIN_ID.toString(), alloc: { [alice.address.toLowerCase()]: (10n ** 22n).toString() } },
};
const GENESIS_TIME = 1_750_000_000;
const msI = new ethers.Interface(compile().IMemSync.abi);

/** An app on a free port with a client that sends requests and reads responses in order. */
async function openApp(dataDir, logs) {
  const chain = await AbciChain.open({ dataDir, genesis, log: (l) => logs.push(l), onFatal: (e) => { throw e; } });
  const faults = [];
  const server = createAbciServer(abciHandlers(chain), { onFault: (e) => faults.push(e) });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const sock = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let buf = Buffer.alloc(0);
  const waiting = [];
  const ready = [];
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    const f = splitFrames(buf);
    buf = Buffer.from(f.rest);
    for (const m of f.messages) {
      const r = decodeResponse(Uint8Array.from(m));
      if (waiting.length > 0) waiting.shift()(r); else ready.push(r);
    }
  });
  const next = () => (ready.length > 0 ? Promise.resolve(ready.shift()) : new Promise((r) => waiting.push(r)));
  return {
    chain, faults,
    /** Send one request; resolves with {type, res}. */
    async call(type, req = {}) {
      sock.write(encodeRequest({ [type]: req }));
      return next();
    },
    /** Several requests in one write (CometBFT pipelines, then flushes). */
    async pipeline(reqs) {
      sock.write(Buffer.concat(reqs.map((r) => Buffer.from(encodeRequest(r)))));
      const out = [];
      for (let i = 0; i < reqs.length; i++) out.push(await next());
      return out;
    },
    async close() {
      sock.destroy();
      await new Promise((r) => server.close(r));
      chain.close();
    },
  };
}

/** The chain's Ethereum JSON-RPC over HTTP, as bin/abci-app.js serves it, on a free port. */
async function openRpc(chain) {
  const server = createRpcServer(chain);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    /** One call; resolves with its result, throws its error. */
    async result(method, params) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
      const body = await res.json();
      if (body.error !== undefined) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
      return body.result;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const sign = (wallet, tx) => wallet.signTransaction({
  type: 2, chainId: EVM_CHAIN_ID, value: 0n, gasLimit: 1_000_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, ...tx,
});
const bytes = (hex) => ethers.getBytes(hex);
const hex = (u8) => ethers.hexlify(u8);

test('codec: varint framing across partial reads', () => {
  const a = encodeRequest({ echo: { message: 'x'.repeat(300) } }); // a 2-byte length
  const b = encodeRequest({ flush: {} });
  const all = Buffer.concat([Buffer.from(a), Buffer.from(b)]);
  for (let cut = 0; cut <= all.length; cut++) {
    const f1 = splitFrames(all.subarray(0, cut));
    const f2 = splitFrames(Buffer.concat([f1.rest, all.subarray(cut)]));
    assert.equal(f1.messages.length + f2.messages.length, 2, `cut at ${cut}`);
    assert.equal(f2.rest.length, 0);
  }
  assert.throws(() => splitFrames(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /varint|bytes/);
});

test('a height over the socket; CheckTx refusals; the crash window between commit_block and Commit', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsync-abci-app-'));
  const logs = [];
  try {
    let app = await openApp(dir, logs);
    let r = await app.call('echo', { message: 'hi' });
    assert.deepEqual([r.type, r.res.message], ['echo', 'hi']);
    r = await app.call('info', {});
    assert.equal(r.res.last_block_height, '0');
    assert.equal(r.res.last_block_app_hash.length, 0);
    r = await app.call('init_chain', {
      time: { seconds: GENESIS_TIME, nanos: 0 }, chain_id: CHAIN, initial_height: 1,
      app_state_bytes: new TextEncoder().encode(JSON.stringify(genesis.app_state)),
    });
    assert.equal(r.type, 'init_chain');
    const genesisHash = hex(r.res.app_hash);
    assert.equal(genesisHash, hex(app.chain.appHashAt(0)));

    // CheckTx [CMT-30]
    const check = async (raw) => (await app.call('check_tx', { tx: raw, type: 0 })).res;
    assert.equal((await check(bytes('0x1234'))).code, Code.MALFORMED);
    assert.equal((await check(bytes(await alice.signTransaction({ type: 2, chainId: 1n, nonce: 0, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, to: MS })))).code, Code.CHAIN_ID);
    const nonEip155 = ethers.Transaction.from({ type: 0, nonce: 0, gasLimit: 21000n, gasPrice: 10n ** 10n, to: MS });
    nonEip155.signature = alice.signingKey.sign(nonEip155.unsignedHash);
    assert.equal((await check(bytes(nonEip155.serialized))).code, Code.CHAIN_ID, 'pre-EIP-155 legacy tx');
    assert.equal((await check(bytes(await sign(alice, { nonce: 0, gasLimit: 30_000_001n, to: MS })))).code, Code.GAS);
    assert.equal((await check(bytes(await sign(alice, { nonce: 0, gasLimit: 20_000n, to: MS })))).code, Code.GAS, 'below intrinsic gas');
    assert.equal((await check(bytes(await sign(alice, { nonce: 1, to: MS })))).code, Code.NONCE, 'gapped nonce');
    assert.equal((await check(bytes(await sign(bob, { nonce: 0, to: MS })))).code, Code.FUNDS, 'unfunded sender');
    assert.equal((await check(bytes(await sign(alice, { nonce: 0, to: MS, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n })))).code, Code.FEE);

    const create = bytes(await sign(alice, { nonce: 0, to: MS, data: msI.encodeFunctionData('createMemory', [ethers.ZeroHash, ethers.ZeroHash, envelope(1)]) }));
    const ok = await check(create);
    assert.equal(ok.code, 0, ok.log);
    assert.equal(hex(ok.data), ethers.keccak256(create), 'CheckTx data is the Ethereum hash');
    assert.equal(ok.gas_wanted, '1000000');
    assert.equal((await check(create)).code, Code.NONCE, 'the same nonce again: already admitted');

    // Height 1, pipelined as CometBFT does, then flush.
    const [pp, pr, fl] = await app.pipeline([
      { prepare_proposal: { txs: [create, bytes('0x1234')], max_tx_bytes: 1 << 20, height: 1 } },
      { process_proposal: { txs: [create], height: 1 } },
      { flush: {} },
    ]);
    assert.deepEqual(pp.res.txs.map(hex), [hex(create)], 'PrepareProposal drops undecodable txs');
    assert.equal(pr.res.status, 1);
    assert.equal(fl.type, 'flush');
    r = await app.call('finalize_block', { txs: [create, bytes('0x1234')], height: 1, time: { seconds: GENESIS_TIME + 1, nanos: 5 } });
    assert.equal(r.res.tx_results.length, 2);
    assert.equal(r.res.tx_results[0].code, 0);
    assert.equal(r.res.tx_results[1].code, Code.MALFORMED, 'a bad tx in a block fails alone; the block stays valid');
    const h1 = hex(r.res.app_hash);
    assert.notEqual(h1, genesisHash);
    r = await app.call('commit', {});
    assert.equal(r.res.retain_height, '0');
    r = await app.call('info', {});
    assert.deepEqual([r.res.last_block_height, hex(r.res.last_block_app_hash)], ['1', h1]);
    const q = JSON.parse(new TextDecoder().decode((await app.call('query', { path: '/memsync/root/1' })).res.value));
    assert.equal(q.app_hash, h1);
    assert.equal(q.source, 'module');
    assert.equal(hex(appHash(bytes(q.evm_state_root), bytes(q.module_root))), h1, '[CMT-10]');
    assert.notEqual(q.module_root, ethers.ZeroHash);

    // Height 2 finalized (module commit_block(2) durable), then the process "dies" before Commit.
    const append = bytes(await sign(alice, { nonce: 1, to: MS, data: msI.encodeFunctionData('appendVersion', [
      ethers.keccak256(ethers.concat([MS, alice.address, ethers.ZeroHash])), 1, 1, envelope(1, 200, 7)]) }));
    const fin2 = { txs: [append], height: 2, time: { seconds: GENESIS_TIME + 2, nanos: 0 } };
    r = await app.call('finalize_block', fin2);
    assert.equal(r.res.tx_results[0].code, 0);
    const h2 = hex(r.res.app_hash);
    assert.equal(app.chain.instance.committed().height, 2n);
    await app.close();

    app = await openApp(dir, logs);
    assert.ok(logs.some((l) => /module was 1 block\(s\) ahead .*rolled back to block 1/.test(l)), 'rollback_to(1) at open [CMT-24]');
    r = await app.call('info', {});
    assert.deepEqual([r.res.last_block_height, hex(r.res.last_block_app_hash)], ['1', h1]);
    r = await app.call('finalize_block', fin2);
    assert.equal(hex(r.res.app_hash), h2, 'height 2 executed again gives the same app hash');
    await app.call('commit', {});
    await app.close();

    // A kill after the record of Commit: nothing to repair.
    logs.length = 0;
    app = await openApp(dir, logs);
    assert.ok(!logs.some((l) => /rolled back/.test(l)));
    r = await app.call('info', {});
    assert.deepEqual([r.res.last_block_height, hex(r.res.last_block_app_hash)], ['2', h2]);
    // A block at a height the app does not expect is a local fault: exception, and onFault.
    r = await app.call('finalize_block', { txs: [], height: 7, time: { seconds: GENESIS_TIME + 9, nanos: 0 } });
    assert.equal(r.type, 'exception');
    assert.match(r.res.error, /next height is 3/);
    assert.equal(app.faults.length, 1);
    await app.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('eth_getTransactionCount "pending" counts the transactions CheckTx admitted [CMT-42]', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsync-abci-nonce-'));
  let app;
  let rpc;
  try {
    app = await openApp(dir, []);
    await app.call('init_chain', {
      time: { seconds: GENESIS_TIME, nanos: 0 }, chain_id: CHAIN, initial_height: 1,
      app_state_bytes: new TextEncoder().encode(JSON.stringify(genesis.app_state)),
    });
    rpc = await openRpc(app.chain);
    const count = async (addr, ...tag) => BigInt(await rpc.result('eth_getTransactionCount', [addr, ...tag]));
    /** [pending, latest] of an address. */
    const nonces = async (addr) => [await count(addr, 'pending'), await count(addr, 'latest')];
    const check = async (raw, type = 0) => (await app.call('check_tx', { tx: raw, type })).res;
    const transfer = async (wallet, nonce, value = 1n) => bytes(await sign(wallet, { nonce, to: bob.address, value, gasLimit: 21_000n }));
    const A = alice.address;
    const stranger = '0x' + 'ab'.repeat(20);

    assert.deepEqual(await nonces(stranger), [0n, 0n], 'an address never seen: its committed nonce');
    assert.deepEqual(await nonces(A), [0n, 0n]);

    // Refused transactions do not move it.
    assert.equal((await check(await transfer(alice, 1))).code, Code.NONCE, 'gapped nonce');
    assert.equal((await check(await transfer(bob, 0))).code, Code.FUNDS, 'unfunded sender');
    assert.deepEqual(await nonces(A), [0n, 0n]);
    assert.deepEqual(await nonces(bob.address), [0n, 0n]);

    const t0 = await transfer(alice, 0);
    const t1 = await transfer(alice, 1);
    let r = await check(t0);
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(await nonces(A), [1n, 0n], 'one admitted: pending n+1, latest n');
    // Only "pending" counts the mempool; the address in any case.
    assert.equal(await count(A), 0n, 'no tag is latest');
    for (const tag of ['safe', 'finalized', 'earliest', '0x0']) assert.equal(await count(A, tag), 0n, tag);
    assert.equal(await count(A.toLowerCase(), 'pending'), 1n);
    assert.equal(await count('0x' + A.slice(2).toUpperCase(), 'pending'), 1n);
    assert.deepEqual(await nonces(stranger), [0n, 0n], 'another sender\'s admissions do not count');

    assert.equal((await check(t0)).code, Code.NONCE, 'the same nonce again');
    assert.deepEqual(await nonces(A), [1n, 0n]);
    r = await check(t1);
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(await nonces(A), [2n, 0n], 'two admitted: n+2');
    assert.equal((await check(await transfer(alice, 3))).code, Code.NONCE, 'gapped nonce');
    assert.equal((await check(await transfer(alice, 2, 10n ** 23n))).code, Code.FUNDS, 'more than the balance');
    assert.deepEqual(await nonces(A), [2n, 0n], 'refusals after admissions do not move it');

    // Block 1 holds t0 only. Executed but not committed: latest is still the committed state.
    r = await app.call('finalize_block', { txs: [t0], height: 1, time: { seconds: GENESIS_TIME + 1, nanos: 0 } });
    assert.equal(r.res.tx_results[0].code, 0);
    assert.deepEqual(await nonces(A), [2n, 0n], 'between FinalizeBlock and Commit');
    await app.call('commit', {});
    // Between Commit and the end of CometBFT's recheck, the counts admitted
    // before the Commit still answer: t1 waits in CometBFT's mempool.
    assert.deepEqual(await nonces(A), [2n, 1n], 'after Commit, before the recheck');
    // CometBFT's recheck re-admits what is left in its mempool.
    r = await check(t1, 1);
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(await nonces(A), [2n, 1n], 'recheck re-admitted t1');
    assert.equal((await check(t0, 1)).code, Code.NONCE, 'the committed t0 on recheck');
    assert.deepEqual(await nonces(A), [2n, 1n]);

    r = await app.call('finalize_block', { txs: [t1], height: 2, time: { seconds: GENESIS_TIME + 2, nanos: 0 } });
    assert.equal(r.res.tx_results[0].code, 0);
    await app.call('commit', {});
    assert.deepEqual(await nonces(A), [2n, 2n], 'both committed');
    assert.equal(await count(A, '0x1'), 1n, 'a committed block: its nonce');
    assert.deepEqual(await nonces(bob.address), [0n, 0n], 'a recipient sends nothing');

    // A new transaction's CheckTx comes after the recheck of a Commit: from
    // then on only what the recheck re-admitted counts. Here t2 was admitted,
    // block 3 left it out, and the recheck did not re-admit it (as when it
    // became invalid): the count from before the Commit answers until the
    // next new CheckTx, then the committed nonce.
    const t2 = await transfer(alice, 2);
    r = await check(t2);
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(await nonces(A), [3n, 2n], 't2 admitted');
    r = await app.call('finalize_block', { txs: [], height: 3, time: { seconds: GENESIS_TIME + 3, nanos: 0 } });
    await app.call('commit', {});
    assert.deepEqual(await nonces(A), [3n, 2n], 'after Commit, before the recheck: t2 still counts');
    assert.equal((await check(await transfer(bob, 0))).code, Code.FUNDS, 'a new CheckTx (refused) ends the recheck');
    assert.deepEqual(await nonces(A), [2n, 2n], 't2 was not re-admitted: the committed nonce');
  } finally {
    await rpc?.close();
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
