// The remaining items of the end-to-end matrix (issue 4): value through a
// contract and straight to the precompile, out of gas after the precompile
// returned, reverts at frame depths 1, 2 and 3, and try/catch around a frame
// that runs out of gas inside the precompile. After each case the module's
// state is read back (getHead) and compared with the committed root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAddressFromString } from '@ethereumjs/util';
import { Status } from '../src/module.js';
import { envelope, ethers, memsyncInterface, salt, setup } from './helpers.js';
import { compileContracts } from './solidity.js';
import { MS } from './eip712.js';

const ms = memsyncInterface();
const hex = (b) => ethers.hexlify(b);
const assetIdOf = (owner, s) => ethers.solidityPackedKeccak256(['address', 'address', 'bytes32'], [MS, owner, s]);
const plus = (s, n) => ethers.zeroPadValue(ethers.toBeHex(BigInt(s) + BigInt(n)), 32);

describe('end-to-end matrix', () => {
  let env;
  let mx;
  let alice;

  before(async () => {
    const { artifacts } = compileContracts();
    env = await setup();
    ({ alice } = env.wallets);
    mx = await env.deploy(alice, artifacts.Matrix);
  });

  after(() => env.cleanup());

  async function tx(fn, args, opts = {}) {
    const mark = env.calls.length;
    const r = await env.send(alice, { to: mx.target, data: mx.interface.encodeFunctionData(fn, args), ...opts });
    return { r, calls: env.calls.slice(mark) };
  }

  /** getHead through an eth_call: the owner, or null when the module answers AssetNotFound. */
  async function ownerOf(id) {
    const r = await env.call(alice.address, { to: MS, data: ms.encodeFunctionData('getHead', [id]) });
    if (r.execResult.exceptionError) {
      const e = ms.parseError(r.execResult.returnValue);
      assert.equal(e.name, 'AssetNotFound');
      return null;
    }
    return ms.decodeFunctionResult('getHead', r.execResult.returnValue).owner;
  }

  const balance = async (addr) => (await env.vm.stateManager.getAccount(createAddressFromString(addr)))?.balance ?? 0n;

  test('value through a contract: ValueNotAccepted, nothing created, the value stays with the contract', async () => {
    const s = salt(1);
    const data = ms.encodeFunctionData('createMemory', [s, ethers.ZeroHash, '0x']);
    const rootBefore = env.instance.committed().root;
    const { r, calls } = await tx('callWithValue', [data], { value: 5n });
    assert.equal(r.execResult.exceptionError, undefined);
    const { ok, ret } = mx.interface.decodeFunctionResult('callWithValue', r.execResult.returnValue);
    assert.equal(ok, false);
    assert.equal(ms.parseError(ret).name, 'ValueNotAccepted');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].depth, 1);
    assert.equal(calls[0].res.status, Status.REVERT);
    assert.equal(BigInt(calls[0].msg.value), 5n);
    assert.equal(await balance(mx.target), 5n);
    assert.equal(await balance(MS), 0n);
    assert.equal(await ownerOf(assetIdOf(mx.target, s)), null);
    assert.deepEqual(env.instance.committed().root, rootBefore);

    // Zero value through the same path succeeds.
    const z = await tx('callWithValue', [data]);
    assert.equal(mx.interface.decodeFunctionResult('callWithValue', z.r.execResult.returnValue).ok, true);
    assert.equal(await ownerOf(assetIdOf(mx.target, s)), mx.target);
  });

  test('value straight to the precompile: ValueNotAccepted, balances and module state unchanged', async () => {
    const s = salt(2);
    const before = await balance(alice.address);
    const rootBefore = env.instance.committed().root;
    const r = await env.send(alice, {
      to: MS, data: ms.encodeFunctionData('createMemory', [s, ethers.ZeroHash, '0x']), value: 7n, gasLimit: 200_000n,
    });
    assert.equal(r.execResult.exceptionError?.error, 'revert');
    assert.equal(ms.parseError(r.execResult.returnValue).name, 'ValueNotAccepted');
    assert.equal(await balance(MS), 0n);
    assert.equal(await balance(alice.address), before - r.totalGasSpent * 10n); // gas only, no value
    assert.equal(await ownerOf(assetIdOf(alice.address, s)), null);
    assert.deepEqual(env.instance.committed().root, rootBefore);
  });

  test('out of gas after the precompile returned leaves nothing in the module', async () => {
    const s = salt(3);
    const rootBefore = env.instance.committed().root;
    const { r, calls } = await tx('createThenBurn', [s], { gasLimit: 120_000n });
    assert.equal(r.execResult.exceptionError?.error, 'out of gas');
    assert.equal(r.totalGasSpent, 120_000n);
    assert.deepEqual(calls.map((c) => c.res.status), [Status.SUCCESS]); // the precompile itself succeeded
    assert.equal(r.receipt.logs.length, 0);
    assert.equal(env.journal.open.length, 0);
    assert.equal(await ownerOf(assetIdOf(mx.target, s)), null);
    assert.deepEqual(env.instance.committed().root, rootBefore);
  });

  for (const revertAt of [1, 2, 3]) {
    test(`a revert at frame depth ${revertAt} of 3 drops exactly the writes of depth >= ${revertAt}`, async () => {
      const base = salt(1000 * revertAt);
      const { r, calls } = await tx('nest', [base, 3, revertAt]);
      assert.equal(r.execResult.exceptionError, undefined);
      // Four precompile calls, at EVM depths 2, 3, 4 (levels 1..3) and 1 (the entry frame).
      assert.deepEqual(calls.map((c) => c.depth), [2, 3, 4, 1]);
      assert.ok(calls.every((c) => c.res.status === Status.SUCCESS));
      const [ok] = mx.interface.decodeFunctionResult('nest', r.execResult.returnValue);
      assert.equal(ok, revertAt !== 1);
      assert.equal(await ownerOf(assetIdOf(mx.target, base)), mx.target, 'entry frame write kept');
      for (let level = 1; level <= 3; level++) {
        const owner = await ownerOf(assetIdOf(mx.target, plus(base, level)));
        assert.equal(owner, level < revertAt ? mx.target : null, `level ${level}`);
      }
      // Only the kept creations left logs: levels below revertAt plus the entry frame.
      const kept = r.receipt.logs.filter((l) => hex(l[0]) === MS.toLowerCase());
      assert.equal(kept.length, revertAt);
      assert.equal(env.journal.open.length, 0);
    });
  }

  test('try/catch around a frame that runs out of gas inside the precompile', async () => {
    const s = salt(5000);
    const rootBefore = env.instance.committed().root;
    const ct = envelope(1, 974, 1); // 1 KiB: about 80,000 gas, more than the frame gets
    const { r, calls } = await tx('tryOutOfGas', [s, ct, 60_000n]);
    assert.equal(r.execResult.exceptionError, undefined);
    const out = mx.interface.decodeFunctionResult('tryOutOfGas', r.execResult.returnValue);
    assert.equal(out.ok, false);
    assert.equal(out.revertDataLength, 0n); // out of gas carries no revert data
    assert.deepEqual(calls.map((c) => c.res.status), [Status.SUCCESS, Status.OUT_OF_GAS, Status.SUCCESS]);
    assert.equal(await ownerOf(assetIdOf(mx.target, s)), null, 'first create reverted with its frame');
    assert.equal(await ownerOf(assetIdOf(mx.target, plus(s, 1))), null, 'out-of-gas create left nothing');
    assert.equal(await ownerOf(assetIdOf(mx.target, plus(s, 100))), mx.target, 'create after the catch kept');
    assert.notDeepEqual(env.instance.committed().root, rootBefore);

    // With enough gas the same frame succeeds and both creations stay.
    const s2 = salt(6000);
    const big = await tx('tryOutOfGas', [s2, ct, 400_000n]);
    assert.equal(mx.interface.decodeFunctionResult('tryOutOfGas', big.r.execResult.returnValue).ok, true);
    assert.equal(await ownerOf(assetIdOf(mx.target, plus(s2, 1))), mx.target);
    assert.equal(env.fatals.length, 0);
  });
});
