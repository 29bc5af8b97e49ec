// End to end on @ethereumjs/vm: contracts compiled with solc-js call the
// precompile; revert semantics are checked against the module's state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallKind, Status } from '../src/module.js';
import { compile, envelope, ethers, memsyncInterface, salt, setup } from './helpers.js';
import { signTyped } from './eip712.js';

const MS = '0x0000000000000000000000000000000000004D53';
const ms = memsyncInterface();

/** keccak256(abi.encodePacked(precompile, owner, salt)) (spec/abi.md [ABI-20]). */
function assetIdOf(owner, s) {
  return ethers.solidityPackedKeccak256(['address', 'address', 'bytes32'], [MS, owner, s]);
}

function revertError(result) {
  const e = result.execResult.exceptionError;
  assert.ok(e, 'expected the transaction to fail');
  assert.equal(e.error, 'revert');
  return ms.parseError(result.execResult.returnValue);
}

function hex(b) { return ethers.hexlify(b); }

describe('MemSync precompile in @ethereumjs/vm', () => {
  let env;
  let probe;
  let alice;
  let bob;

  before(async () => {
    compile();
    env = await setup();
    ({ alice, bob } = env.wallets);
    probe = await env.deploy(alice, compile().Probe);
  });

  after(() => env.cleanup());

  /** Every call recorded since the mark. */
  const since = (mark) => env.calls.slice(mark);

  async function view(fn, args, from = alice.address) {
    const r = await env.call(from, { to: probe.target, data: probe.interface.encodeFunctionData(fn, args) });
    if (r.execResult.exceptionError) return { error: r.execResult.exceptionError.error, data: r.execResult.returnValue };
    return probe.interface.decodeFunctionResult(fn, r.execResult.returnValue);
  }

  async function tx(fn, args, wallet = alice, opts = {}) {
    return env.send(wallet, { to: probe.target, data: probe.interface.encodeFunctionData(fn, args), ...opts });
  }

  test('create, append and read through a contract; events decoded by the IMemSync ABI', async () => {
    const ct1 = envelope(1, 64, 1);
    const r = await tx('create', [salt(1), ethers.id('meta'), ct1]);
    assert.equal(r.execResult.exceptionError, undefined);
    const [assetId] = probe.interface.decodeFunctionResult('create', r.execResult.returnValue);
    assert.equal(assetId, assetIdOf(probe.target, salt(1)));

    const events = r.receipt.logs
      .filter((l) => hex(l[0]) === MS.toLowerCase())
      .map((l) => ms.parseLog({ topics: l[1].map(hex), data: hex(l[2]) }));
    assert.deepEqual(events.map((e) => e.name), ['MemoryCreated', 'VersionAppended']);
    assert.equal(events[0].args.owner, probe.target);
    assert.equal(events[0].args.metadata, ethers.id('meta'));
    assert.equal(events[1].args.version, 1n);
    assert.equal(events[1].args.ciphertextHash, ethers.keccak256(ct1));

    const ct2 = envelope(1, 128, 2);
    const a = await tx('append', [assetId, 1n, 1n, ct2]);
    assert.equal(a.execResult.exceptionError, undefined);
    const [version] = probe.interface.decodeFunctionResult('append', a.execResult.returnValue);
    assert.equal(version, 2n);

    const head = await view('headVersion', [assetId]);
    assert.equal(head.owner, probe.target);
    assert.equal(head.version, 2n);
    assert.equal((await view('readVersion', [assetId, 2n])).ciphertext, ct2);
    assert.equal((await view('readVersion', [assetId, 1n])).ciphertext, ct1);

    // The module committed one block per transaction.
    assert.equal(env.instance.committed().height, env.height);
    assert.equal(env.fatals.length, 0);
  });

  test('custom errors bubble up unchanged and decode with the IMemSync ABI', async () => {
    const r = await tx('create', [salt(1), ethers.ZeroHash, '0x']);
    const err = revertError(r);
    assert.equal(err.name, 'AssetExists');
    assert.equal(err.args.assetId, assetIdOf(probe.target, salt(1)));

    const v = await tx('append', [assetIdOf(probe.target, salt(1)), 1n, 1n, envelope(1)]);
    const conflict = revertError(v);
    assert.equal(conflict.name, 'VersionConflict');
    assert.deepEqual(conflict.args.toArray(), [1n, 2n]); // (expectedVersion given, head)

    const bad = await tx('append', [assetIdOf(probe.target, salt(1)), 2n, 1n, '0x0102']);
    assert.equal(revertError(bad).name, 'InvalidEnvelope');
  });

  test('a contract that calls the precompile and then reverts leaves no module state', async () => {
    const before = env.instance.committed();
    const mark = env.calls.length;
    const r = await tx('createThenRevert', [salt(7)]);
    assert.equal(r.execResult.exceptionError.error, 'revert');
    // The precompile itself succeeded inside the reverted frame ...
    assert.deepEqual(since(mark).map((c) => c.res.status), [Status.SUCCESS]);
    // ... and nothing of it reached the committed block.
    const after = env.instance.committed();
    assert.equal(after.height, before.height + 1n);
    assert.deepEqual(after.root, before.root);
    const head = await view('headVersion', [assetIdOf(probe.target, salt(7))]);
    assert.equal(ms.parseError(head.data).name, 'AssetNotFound');
    // The same salt is still free.
    const again = await tx('createMaybeRevert', [salt(7), false]);
    assert.equal(again.execResult.exceptionError, undefined);
  });

  test('try/catch in a loop keeps exactly the successful iterations', async () => {
    const salts = [100, 101, 102, 103, 104].map(salt);
    const before = env.instance.committed();
    const r = await tx('tryLoop', [salts]);
    assert.equal(r.execResult.exceptionError, undefined);
    const [ok, failed] = probe.interface.decodeFunctionResult('tryLoop', r.execResult.returnValue);
    assert.equal(ok, 3n);
    assert.equal(failed, 2n);
    assert.notDeepEqual(env.instance.committed().root, before.root);
    for (let i = 0; i < salts.length; i++) {
      const head = await view('headVersion', [assetIdOf(probe.target, salts[i])]);
      if (i % 2 === 0) assert.equal(head.owner, probe.target, `salt ${i} kept`);
      else assert.equal(ms.parseError(head.data).name, 'AssetNotFound', `salt ${i} reverted`);
    }
    // Only the kept creations left logs in the receipt.
    const created = r.receipt.logs.filter((l) => hex(l[0]) === MS.toLowerCase());
    assert.equal(created.length, 3);
  });

  test('an eth_call that writes leaves no trace', async () => {
    const rootBefore = env.instance.committed().root;
    const r = await env.call(alice.address, {
      to: probe.target, data: probe.interface.encodeFunctionData('create', [salt(200), ethers.ZeroHash, envelope(1)]),
    });
    assert.equal(r.execResult.exceptionError, undefined);
    const [assetId] = probe.interface.decodeFunctionResult('create', r.execResult.returnValue);
    assert.equal(assetId, assetIdOf(probe.target, salt(200)));
    assert.equal(env.journal.open.length, 0);
    assert.equal(env.instance.pendingLogs().length, 0);
    assert.equal(ms.parseError((await view('headVersion', [assetId])).data).name, 'AssetNotFound');
    // An empty block commits the same root.
    const empty = await env.send(bob, { to: bob.address });
    assert.equal(empty.execResult.exceptionError, undefined);
    assert.deepEqual(env.instance.committed().root, rootBefore);
  });

  describe('call kinds', () => {
    const createData = (s) => ms.encodeFunctionData('createMemory', [s, ethers.ZeroHash, '0x']);

    async function raw(fn, data, { send = false } = {}) {
      const mark = env.calls.length;
      const r = send ? await tx(fn, [data]) : await env.call(alice.address, {
        to: probe.target, data: probe.interface.encodeFunctionData(fn, [data]),
      });
      assert.equal(r.execResult.exceptionError, undefined, `${fn} itself must not fail`);
      const out = probe.interface.decodeFunctionResult(fn, r.execResult.returnValue);
      return { ok: out.ok, ret: out.ret, calls: since(mark) };
    }

    test('CALL of a write succeeds with kind CALL', async () => {
      const { ok, calls } = await raw('rawCall', createData(salt(300)), { send: true });
      assert.equal(ok, true);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].msg.kind, CallKind.CALL);
      assert.equal(calls[0].msg.isStatic, false);
      assert.equal(hex(calls[0].msg.caller), probe.target.toLowerCase());
    });

    test('STATICCALL of a read succeeds; of a write gets WriteInStaticContext', async () => {
      const read = await raw('rawStaticCall', ms.encodeFunctionData('domainSeparator'));
      assert.equal(read.ok, true);
      const domain = { name: 'MemSync', version: '1', chainId: env.chainId, verifyingContract: MS };
      assert.equal(ms.decodeFunctionResult('domainSeparator', read.ret)[0], ethers.TypedDataEncoder.hashDomain(domain));
      // EIP-5267: wallets read the same domain instead of hard-coding it.
      const d = await raw('rawStaticCall', ms.encodeFunctionData('eip712Domain'));
      assert.equal(d.ok, true);
      const [fields, name, version, chainId, verifyingContract, salt5267, extensions] = ms.decodeFunctionResult('eip712Domain', d.ret);
      assert.equal(fields, '0x0f');
      assert.deepEqual([name, version, chainId, verifyingContract], ['MemSync', '1', env.chainId, ethers.getAddress(MS)]);
      assert.equal(salt5267, ethers.ZeroHash);
      assert.equal(extensions.length, 0);
      assert.equal(ethers.TypedDataEncoder.hashDomain({ name, version, chainId, verifyingContract }), ethers.TypedDataEncoder.hashDomain(domain));

      const { ok, ret, calls } = await raw('rawStaticCall', createData(salt(301)));
      assert.equal(ok, false);
      assert.equal(ms.parseError(ret).name, 'WriteInStaticContext');
      assert.equal(calls[0].msg.kind, CallKind.STATICCALL);
      assert.equal(calls[0].msg.isStatic, true);
      // A context violation uses all the frame's gas.
      assert.equal(calls[0].res.gasUsed, calls[0].msg.gas);
    });

    test('a CALL two frames below a STATICCALL is static (kind CALL, static flag set)', async () => {
      const { ok, ret, calls } = await raw('nestedStatic', createData(salt(302)));
      assert.equal(ok, false);
      assert.equal(ms.parseError(ret).name, 'WriteInStaticContext');
      assert.equal(calls.length, 1);
      assert.equal(calls[0].msg.kind, CallKind.CALL);
      assert.equal(calls[0].msg.isStatic, true);
      assert.equal(calls[0].depth, 3);
    });

    test('DELEGATECALL gets CallKindNotAllowed(2), CALLCODE CallKindNotAllowed(3)', async () => {
      const d = await raw('rawDelegateCall', createData(salt(303)), { send: true });
      assert.equal(d.ok, false);
      const de = ms.parseError(d.ret);
      assert.equal(de.name, 'CallKindNotAllowed');
      assert.equal(de.args.kind, 2n);
      assert.equal(d.calls[0].msg.kind, CallKind.DELEGATECALL);

      const c = await raw('rawCallCode', createData(salt(304)), { send: true });
      assert.equal(c.ok, false);
      const ce = ms.parseError(c.ret);
      assert.equal(ce.name, 'CallKindNotAllowed');
      assert.equal(ce.args.kind, 3n);
      assert.equal(c.calls[0].msg.kind, CallKind.CALLCODE);
    });

    test('a transaction straight to the precompile: caller, value, gas', async () => {
      const mark = env.calls.length;
      const r = await env.send(alice, { to: MS, data: createData(salt(305)), gasLimit: 200_000n });
      assert.equal(r.execResult.exceptionError, undefined);
      const [c] = since(mark);
      assert.equal(hex(c.msg.caller), alice.address.toLowerCase());
      assert.equal(c.depth, 0);
      // The EVM charges exactly what the module reports.
      assert.equal(r.execResult.executionGasUsed, c.res.gasUsed);

      const v = await env.send(alice, { to: MS, data: createData(salt(306)), value: 1n, gasLimit: 200_000n });
      assert.equal(revertError(v).name, 'ValueNotAccepted');

      // Out of gas inside the module: an exceptional halt that uses all gas.
      const oogMark = env.calls.length;
      const o = await env.send(alice, { to: MS, data: createData(salt(307)), gasLimit: 21_000n + 16n * 200n + 1_000n });
      assert.equal(since(oogMark)[0].res.status, Status.OUT_OF_GAS);
      assert.equal(o.execResult.exceptionError.error, 'out of gas');
      assert.equal(o.totalGasSpent, 21_000n + 16n * 200n + 1_000n);
    });
  });

  test('an append signed with ethers Wallet.signTypedData is accepted', async () => {
    // Alice owns an asset (created by a transaction straight to the precompile).
    const s = salt(400);
    const assetId = assetIdOf(alice.address, s);
    const create = await env.send(alice, {
      to: MS, data: ms.encodeFunctionData('createMemory', [s, ethers.ZeroHash, envelope(1)]), gasLimit: 500_000n,
    });
    assert.equal(create.execResult.exceptionError, undefined);

    // Types exactly as crypto/eip712.h / spec/eip712.md [SIG-3], signed by ethers.
    const ct = envelope(1, 96, 9);
    const message = {
      assetId, expectedVersion: 1n, keyEpoch: 1n, ciphertextHash: ethers.keccak256(ct),
      signer: alice.address, nonce: 0n, deadline: env.nextTimestamp() + 3600n,
    };
    const signature = await signTyped(alice, env.chainId, 'AppendVersion', message);

    // Bob relays it through the contract: Bob pays, Alice authorizes.
    const args = [assetId, 1n, 1n, ct, alice.address, 0n, message.deadline, signature];
    const r = await tx('relayAppend', args, bob);
    assert.equal(r.execResult.exceptionError, undefined);
    const [version] = probe.interface.decodeFunctionResult('relayAppend', r.execResult.returnValue);
    assert.equal(version, 2n);
    const ev = r.receipt.logs
      .filter((l) => hex(l[0]) === MS.toLowerCase())
      .map((l) => ms.parseLog({ topics: l[1].map(hex), data: hex(l[2]) }));
    assert.equal(ev[0].name, 'VersionAppended');
    assert.equal(ev[0].args.author, alice.address);

    // The nonce is consumed: the same signature is refused.
    const replay = await tx('relayAppend', args, bob);
    const err = revertError(replay);
    assert.equal(err.name, 'InvalidNonce');
    assert.deepEqual(err.args.toArray(), [1n, 0n]);

    const nonce = await env.call(bob.address, { to: MS, data: ms.encodeFunctionData('nonceOf', [alice.address]) });
    assert.equal(ms.decodeFunctionResult('nonceOf', nonce.execResult.returnValue)[0], 1n);
    assert.equal(env.fatals.length, 0);
  });
});
