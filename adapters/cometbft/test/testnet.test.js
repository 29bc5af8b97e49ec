// `make test-testnet`: four validators on loopback, each a CometBFT node with
// the MemSync ABCI app (the module in every node). spec/cometbft.md [CMT-50].
//
// One network, one sequence of phases (each needs the state the previous left):
//   1. setup: a contract (Probe) and three memories, through different nodes;
//   2. bad input refused by CheckTx with a clear JSON-RPC error;
//   3. load: four senders, each through its own node: direct precompile calls,
//      CALL / STATICCALL / DELEGATECALL through Probe, reverting frames, and
//      EIP-712 signed appends relayed by other accounts;
//   4. a second load during which node3 is killed (kill -9); the chain goes
//      on with 3 of 4; node3 restarts and catches up;
//   5. a kill injected between the module's commit_block and Commit (node2)
//      and one inside Commit, after the app's record (node1): restart, module
//      rolled back in the first case, catch-up in both;
//   6. liveness: 2 of 4 down halts the chain, one back resumes it;
//   7. agreement at every height on every node: header app hash, module root
//      and app hash by Query, receipts, and memory read back byte for byte;
//      no block holds a transaction the app refused.
// Every process is tracked and killed in `finally`. MEMSYNC_KEEP_TESTNET=1
// keeps the directory (it is kept anyway when the test fails).
import test from 'node:test';
import assert from 'node:assert/strict';
import { Net, Sender, ethRpc, ethResult, waitReceipt, envelope, salt, assetIdOf, MS, sleep, log } from './net.js';
import { abciQueryJson, cometCall, heightOf, waitForHeight } from '../src/testnet.js';
import { ethers } from '../src/shared.js';
import { compile } from '../../ethereumjs/test/helpers.js';
import { signTyped } from '../../ethereumjs/test/eip712.js';
import { devAccounts } from '../../ethereumjs/src/devchain/accounts.js';

const EVM_CHAIN_ID = 4242n;

test('4 validators: load, kill -9, crash between commits, liveness, agreement', { timeout: 300_000 }, async () => {
  const t0 = Date.now();
  const net = await Net.create({ n: 4, evmChainId: EVM_CHAIN_ID });
  const { nodes } = net;
  let passed = false;
  try {
    for (let i = 0; i < 4; i++) await net.start(i);
    await waitForHeight(nodes, 2, 60_000);
    log(`4 validators up in ${net.layout.dir}`);

    const { IMemSync, Probe } = compile();
    const ms = new ethers.Interface(IMemSync.abi);
    const probeI = new ethers.Interface(Probe.abi);
    const accts = devAccounts(4);
    const s = accts.map((a, i) => new Sender(a.privateKey, nodes[i].eth_rpc, EVM_CHAIN_ID));
    /** Expected memory: asset -> version -> ciphertext hex. */
    const written = new Map();
    const wrote = (asset, version, ct) => {
      if (!written.has(asset)) written.set(asset, new Map());
      written.get(asset).set(version, ct);
    };
    /** Expected receipt status per tx hash. */
    const expectStatus = new Map();
    const sendExpect = async (sender, tx, status, note) => {
      const h = await sender.send(tx, note);
      expectStatus.set(h, { status, note, sender: sender.address });
      return h;
    };
    const waitAll = async (url) => {
      for (const [h, e] of expectStatus) {
        const r = await waitReceipt(url, h, 90_000);
        assert.equal(r.status, e.status, `${e.note}: receipt status`);
      }
    };

    // ------------------------------------------------------------ 1. setup
    const deploy = await sendExpect(s[0], { data: Probe.bytecode }, '0x1', 'deploy Probe');
    const ctA = envelope(1, 64, 1);
    const ctB = envelope(1, 64, 2);
    const ctC = envelope(1, 64, 3);
    await sendExpect(s[0], { to: MS, data: ms.encodeFunctionData('createMemory', [salt(1), ethers.ZeroHash, ctA]) }, '0x1', 'create A');
    await sendExpect(s[0], { to: MS, data: ms.encodeFunctionData('createMemory', [salt(2), ethers.ZeroHash, ctB]) }, '0x1', 'create B');
    await sendExpect(s[1], { to: MS, data: ms.encodeFunctionData('createMemory', [salt(1), ethers.ZeroHash, ctC]) }, '0x1', 'create C');
    const A = assetIdOf(s[0].address, salt(1));
    const B = assetIdOf(s[0].address, salt(2));
    const C = assetIdOf(s[1].address, salt(1));
    wrote(A, 1, ctA); wrote(B, 1, ctB); wrote(C, 1, ctC);
    const probe = (await waitReceipt(nodes[0].eth_rpc, deploy)).contractAddress;
    assert.match(probe, /^0x[0-9a-fA-F]{40}$/);
    await waitAll(nodes[1].eth_rpc);
    log(`setup done at height ${await heightOf(nodes[0])}`);

    // ------------------------------------------- 1b. an ethers wallet, back to back
    // ethers signs each send with the "pending" nonce ([CMT-42]): two sends
    // from one account before the first is committed get nonces 0 and 1 and
    // are both mined (with the committed nonce the second was "nonce too low").
    {
      const provider = new ethers.JsonRpcProvider(nodes[2].eth_rpc, Number(EVM_CHAIN_ID), { staticNetwork: true });
      provider.pollingInterval = 250;
      const w = new ethers.Wallet(devAccounts(10)[9].privateKey, provider);
      const cts = [envelope(1, 64, 91), envelope(1, 64, 92)];
      const sent = [];
      for (const [i, ct] of cts.entries()) {
        // ethers answers an identical request from its cache for 250 ms
        // (AbstractProvider's perform cache), on any node; past that it asks.
        if (i > 0) await sleep(300);
        sent.push(await w.sendTransaction({ to: MS, data: ms.encodeFunctionData('createMemory', [salt(900 + i), ethers.ZeroHash, ct]) }));
      }
      assert.deepEqual(sent.map((t) => t.nonce), [0, 1], 'ethers took the pending nonce for the second send');
      for (const [i, t] of sent.entries()) {
        expectStatus.set(t.hash, { status: '0x1', note: `ethers back-to-back send ${i}`, sender: w.address });
        wrote(assetIdOf(w.address, salt(900 + i)), 1, cts[i]);
      }
      const rs = await Promise.all(sent.map((t) => t.wait(1, 90_000)));
      assert.deepEqual(rs.map((r) => r.status), [1, 1], 'both back-to-back sends mined');
      assert.equal(await provider.getTransactionCount(w.address, 'latest'), 2);
      provider.destroy();
    }

    // ------------------------------------------------------------ 2. bad input
    const bad = [];
    {
      const url = nodes[0].eth_rpc;
      let r = await ethRpc(url, 'eth_sendRawTransaction', ['0x1234']);
      assert.equal(r.error?.code, -32602, 'malformed tx: invalid params');
      assert.match(r.error.message, /invalid transaction/);
      r = await ethRpc(url, 'eth_sendRawTransaction', ['0x02' + 'ff'.repeat(40)]);
      assert.equal(r.error?.code, -32602, 'malformed typed tx');

      const wrongChain = await s[0].wallet.signTransaction({
        type: 2, chainId: 1n, nonce: s[0].nonce, to: MS, gasLimit: 100_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n,
      });
      r = await ethRpc(url, 'eth_sendRawTransaction', [wrongChain]);
      assert.equal(r.error?.code, -32000);
      assert.match(r.error.message, /chain id/i);
      bad.push(ethers.keccak256(wrongChain));

      const legacyWrongChain = await s[0].wallet.signTransaction({ type: 0, chainId: 5n, nonce: s[0].nonce, to: MS, gasLimit: 100_000n, gasPrice: 10n ** 10n });
      r = await ethRpc(url, 'eth_sendRawTransaction', [legacyWrongChain]);
      assert.match(r.error?.message ?? '', /chain id/i, 'legacy tx of another chain');
      bad.push(ethers.keccak256(legacyWrongChain));

      const replayed = await s[0].sign({ nonce: 1, to: MS, data: ms.encodeFunctionData('nonceOf', [s[0].address]) });
      r = await ethRpc(url, 'eth_sendRawTransaction', [replayed]);
      assert.equal(r.error?.code, -32000);
      assert.match(r.error.message, /nonce too low/);
      bad.push(ethers.keccak256(replayed));

      // The very bytes of a mined transaction, sent again.
      r = await ethRpc(url, 'eth_sendRawTransaction', [s[0].sent[1].raw]);
      assert.equal(r.error?.code, -32000);
      assert.match(r.error.message, /already known|nonce too low/);

      const tooBig = await s[0].sign({ gasLimit: 30_000_001n, to: MS });
      r = await ethRpc(url, 'eth_sendRawTransaction', [tooBig]);
      assert.equal(r.error?.code, -32000);
      assert.match(r.error.message, /exceeds block gas limit/);
      bad.push(ethers.keccak256(tooBig));

      const gapped = await s[0].sign({ nonce: s[0].nonce + 5, to: MS });
      r = await ethRpc(url, 'eth_sendRawTransaction', [gapped]);
      assert.match(r.error?.message ?? '', /nonce too high/);
      bad.push(ethers.keccak256(gapped));

      const poor = new Sender(ethers.keccak256(ethers.toUtf8Bytes('memsync testnet: an unfunded key')), url, EVM_CHAIN_ID);
      r = await ethRpc(url, 'eth_sendRawTransaction', [await poor.sign({ to: MS })]);
      assert.match(r.error?.message ?? '', /insufficient funds/);
      log('bad input refused by CheckTx');
    }

    // ------------------------------------------------------------ 3./4. load
    let vA = 1; let vB = 1; let vC = 1;
    let sigNonce0 = 0n; let sigNonce1 = 0n;
    let seed = 100;
    const deadline = () => BigInt(Math.floor(Date.now() / 1000) + 3600);
    /** s0: direct appends to A (an EOA calling the precompile). */
    const directAppends = async (sender, m) => {
      for (let k = 0; k < m; k++) {
        const ct = envelope(1, 200, ++seed);
        await sendExpect(sender, { to: MS, data: ms.encodeFunctionData('appendVersion', [A, vA, 1, ct]) }, '0x1', `append A v${vA + 1}`);
        vA += 1;
        wrote(A, vA, ct);
      }
    };
    /** s1: the call kinds and reverting frames through Probe. */
    let probeSalt = 1000;
    const probeOps = async (sender, m) => {
      for (let k = 0; k < m; k++) {
        const op = k % 5;
        if (op === 0) {
          const ct = envelope(1, 120, ++seed);
          const sl = salt(++probeSalt);
          await sendExpect(sender, { to: probe, data: probeI.encodeFunctionData('create', [sl, ethers.ZeroHash, ct]) }, '0x1', 'probe CALL create');
          wrote(assetIdOf(probe, sl), 1, ct);
        } else if (op === 1) {
          const salts = [salt(++probeSalt), salt(++probeSalt), salt(++probeSalt)];
          await sendExpect(sender, { to: probe, data: probeI.encodeFunctionData('tryLoop', [salts]) }, '0x1', 'probe try/catch reverting frames');
        } else if (op === 2) {
          await sendExpect(sender, { to: probe, data: probeI.encodeFunctionData('createThenRevert', [salt(++probeSalt)]) }, '0x0', 'probe reverting tx');
        } else if (op === 3) {
          const inner = ms.encodeFunctionData('createMemory', [salt(++probeSalt), ethers.ZeroHash, '0x']);
          await sendExpect(sender, { to: probe, data: probeI.encodeFunctionData('rawDelegateCall', [inner]) }, '0x1', 'probe DELEGATECALL');
        } else {
          const inner = ms.encodeFunctionData('getHead', [A]);
          await sendExpect(sender, { to: probe, data: probeI.encodeFunctionData('rawStaticCall', [inner]) }, '0x1', 'probe STATICCALL');
        }
      }
    };
    /** Appends signed by `signer` (the owner) and relayed by `sender`, alternately through Probe and straight to the precompile. */
    const relayed = async (sender, signer, asset, m) => {
      for (let k = 0; k < m; k++) {
        const ct = envelope(1, 300, ++seed);
        const isB = asset === B;
        const version = isB ? vB : vC;
        const nonce = isB ? sigNonce0 : sigNonce1;
        const dl = deadline();
        const sig = await signTyped(signer, EVM_CHAIN_ID, 'AppendVersion', {
          assetId: asset, expectedVersion: version, keyEpoch: 1n, ciphertextHash: ethers.keccak256(ct),
          signer: signer.address, nonce, deadline: dl,
        });
        const args = [asset, version, 1, ct, signer.address, nonce, dl, sig];
        const tx = k % 2 === 0
          ? { to: probe, data: probeI.encodeFunctionData('relayAppend', args) }
          : { to: MS, data: ms.encodeFunctionData('appendVersionSigned', args) };
        await sendExpect(sender, tx, '0x1', `relayed append ${isB ? 'B' : 'C'} v${version + 1}`);
        if (isB) { vB += 1; sigNonce0 += 1n; wrote(B, vB, ct); } else { vC += 1; sigNonce1 += 1n; wrote(C, vC, ct); }
      }
    };

    await Promise.all([directAppends(s[0], 12), probeOps(s[1], 15), relayed(s[2], s[0].wallet, B, 12), relayed(s[3], s[1].wallet, C, 12)]);
    await waitAll(nodes[2].eth_rpc);
    log(`load 1: ${expectStatus.size} txs final at height ${await heightOf(nodes[0])}`);

    // Second load; node3 is killed while it runs. s3 switches to node0.
    s[3].url = nodes[0].eth_rpc;
    const load2 = Promise.all([directAppends(s[0], 10), probeOps(s[1], 10), relayed(s[2], s[0].wallet, B, 8), relayed(s[3], s[1].wallet, C, 8)]);
    await sleep(700);
    const hKill = await heightOf(nodes[3]);
    await net.kill(3);
    log(`node3 killed (kill -9) at height ${hKill}, mid-load`);
    await load2;
    await waitAll(nodes[0].eth_rpc);
    const hAfter = await heightOf(nodes[0]);
    assert.ok(hAfter > hKill + 2, `the chain goes on with 3 of 4 (height ${hKill} -> ${hAfter})`);
    await net.start(3);
    await waitForHeight([nodes[3]], hAfter, 60_000);
    log(`node3 restarted and caught up to ${hAfter}; ${expectStatus.size} txs so far`);

    // ------------------------------------------------------------ 5. crash windows
    const crashCase = async (i, point) => {
      const before = await abciQueryJson(nodes[i], '/memsync/committed');
      const h = before.app_height;
      await net.kill(i);
      // Blocks with transactions while the node is down, so that it must execute them.
      await directAppends(s[0], 4);
      await waitForHeight([nodes[0]], h + 5, 60_000);
      const at = h + 2;
      net.procs[i] = null;
      await net.start(i, { MEMSYNC_CRASH: `${point}@${at}` });
      const { app } = await net.waitExit(i, 60_000);
      assert.equal(app, 'SIGKILL', `${nodes[i].name}: the app killed itself at ${point}@${at}`);
      assert.match(net.appLog(i), new RegExp(`MEMSYNC_CRASH ${point}@${at}`));
      await net.start(i);
      const appLog = net.appLog(i);
      if (point === 'after_commit_block') {
        assert.match(appLog, new RegExp(`module was 1 block\\(s\\) ahead of the chain .*rolled back to block ${at - 1}`),
          'rollback_to ran before the handshake');
        assert.match(appLog, new RegExp(`app at height ${at - 1}, module at ${at - 1}`));
      } else {
        assert.match(appLog, new RegExp(`app at height ${at}, module at ${at}`), 'the record made it: no rollback, no replay into the app');
      }
      const target = await heightOf(nodes[0]);
      await waitForHeight([nodes[i]], target, 60_000);
      log(`${point}@${at} on ${nodes[i].name}: restarted and caught up to ${target}`);
    };
    await crashCase(2, 'after_commit_block');
    await crashCase(1, 'in_commit');
    await waitAll(nodes[1].eth_rpc);

    // ------------------------------------------------------------ 6. liveness
    await net.kill(2);
    await net.kill(3);
    await sleep(1500); // a height in flight may still complete
    const hHalt = Math.max(await heightOf(nodes[0]), await heightOf(nodes[1]));
    await sleep(7000);
    const hHalt2 = Math.max(await heightOf(nodes[0]), await heightOf(nodes[1]));
    assert.ok(hHalt2 <= hHalt + 1, `2 of 4 down: the chain halts (height ${hHalt} -> ${hHalt2})`);
    await net.start(3);
    await waitForHeight([nodes[0], nodes[1], nodes[3]], hHalt2 + 3, 60_000);
    log(`2 of 4 down: halted at ${hHalt2}; node3 back: resumed`);
    await net.start(2);
    const hFinal = await heightOf(nodes[0]);
    await waitForHeight(nodes, hFinal, 60_000);

    // ------------------------------------------------------------ 7. agreement
    const top = Math.min(...(await Promise.all(nodes.map(heightOf))));
    // Header app hash of block h+1 = app hash after h; from every node, 20 headers per call.
    const headerHash = nodes.map(() => new Map());
    for (let i = 0; i < 4; i++) {
      for (let lo = 1; lo <= top; lo += 20) {
        const r = await cometCall(nodes[i].cometbft_rpc, 'blockchain', { minHeight: String(lo), maxHeight: String(Math.min(top, lo + 19)) });
        for (const m of r.block_metas) headerHash[i].set(Number(m.header.height), m.header.app_hash.toLowerCase());
      }
    }
    for (let h = 1; h < top; h++) {
      const q = await Promise.all(nodes.map((n) => abciQueryJson(n, `/memsync/root/${h}`)));
      for (let i = 0; i < 4; i++) {
        assert.equal(headerHash[i].get(h + 1), headerHash[0].get(h + 1), `header app hash of block ${h + 1}: ${nodes[i].name}`);
        assert.equal(q[i].module_root, q[0].module_root, `module root at ${h}: ${nodes[i].name}`);
        assert.equal(q[i].app_hash, q[0].app_hash, `app hash at ${h}: ${nodes[i].name}`);
        assert.equal(q[i].app_hash.slice(2), headerHash[i].get(h + 1), `${nodes[i].name}: Query's app hash at ${h} is the one in header ${h + 1}`);
      }
    }
    const roots = new Set();
    for (let h = 1; h < top; h++) roots.add((await abciQueryJson(nodes[0], `/memsync/root/${h}`)).module_root);
    assert.ok(roots.size > 10, `the module root changed along the chain (${roots.size} distinct roots)`);
    log(`agreement on app hash and module root at heights 1..${top - 1} on 4 nodes`);

    // No block holds a transaction the app refused (bad input never reached a block).
    let inBlocks = 0;
    for (let h = 1; h <= top; h++) {
      const r = await cometCall(nodes[0].cometbft_rpc, 'block_results', { height: String(h) });
      for (const x of r.txs_results ?? []) {
        inBlocks += 1;
        assert.equal(x.code ?? 0, 0, `block ${h}: a tx with code ${x.code}: ${x.log}`);
      }
    }
    assert.equal(inBlocks, expectStatus.size, 'every sent tx is in exactly one block, nothing else is');
    for (const n of nodes) {
      for (const h of bad) assert.equal((await ethResult(n.eth_rpc, 'eth_getTransactionByHash', [h])), null, `refused tx ${h} on ${n.name}`);
    }

    // Receipts agree on every node.
    const pick = (r) => JSON.stringify({
      status: r.status, gasUsed: r.gasUsed, cumulativeGasUsed: r.cumulativeGasUsed, logs: r.logs,
      blockHash: r.blockHash, blockNumber: r.blockNumber, transactionIndex: r.transactionIndex, contractAddress: r.contractAddress,
    });
    for (const [h, e] of expectStatus) {
      const rs = await Promise.all(nodes.map((n) => ethResult(n.eth_rpc, 'eth_getTransactionReceipt', [h])));
      for (let i = 1; i < 4; i++) assert.equal(pick(rs[i]), pick(rs[0]), `receipt of ${e.note} on ${nodes[i].name}`);
    }

    // Memory written through one node reads back byte for byte from every other (the K = 8 retained versions).
    let reads = 0;
    for (const [asset, versions] of written) {
      const head = Math.max(...versions.keys());
      for (const [v, ct] of versions) {
        if (v <= head - 8) continue;
        for (const n of nodes) {
          const out = await ethResult(n.eth_rpc, 'eth_call', [{ to: MS, data: ms.encodeFunctionData('getVersion', [asset, v]) }, 'latest']);
          assert.equal(ms.decodeFunctionResult('getVersion', out)[0], ct, `asset ${asset.slice(0, 10)} v${v} on ${n.name}`);
          reads += 1;
        }
      }
    }
    assert.ok(reads > 100, `read back ${reads} versions`);

    // The call kinds as every node's module sees them: a DELEGATECALL is refused
    // with CallKindNotAllowed(2), a STATICCALL read answers, a write under
    // STATICCALL is WriteInStaticContext.
    const create = ms.encodeFunctionData('createMemory', [salt(99_999), ethers.ZeroHash, '0x']);
    for (const n of nodes) {
      const call = async (fn, inner) => probeI.decodeFunctionResult(fn,
        await ethResult(n.eth_rpc, 'eth_call', [{ to: probe, data: probeI.encodeFunctionData(fn, [inner]) }, 'latest']));
      let [okCall, ret] = await call('rawDelegateCall', create);
      assert.equal(okCall, false);
      assert.equal(ms.parseError(ret)?.name, 'CallKindNotAllowed');
      assert.equal(ms.parseError(ret).args[0], 2n);
      [okCall, ret] = await call('rawStaticCall', ms.encodeFunctionData('getHead', [A]));
      assert.equal(okCall, true);
      const head = ms.decodeFunctionResult('getHead', ret);
      assert.equal(head[0], s[0].address);
      assert.equal(head[1], BigInt(vA), `head of A on ${n.name}`);
      [okCall, ret] = await call('rawStaticCall', create);
      assert.equal(okCall, false);
      assert.equal(ms.parseError(ret)?.name, 'WriteInStaticContext');
    }
    log(`${expectStatus.size} txs, ${reads} reads agree on 4 nodes; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    passed = true;
  } finally {
    await net.stopAll();
    if (passed) net.cleanup();
    else log(`failed: the network's logs are in ${net.layout.dir}`);
  }
});
