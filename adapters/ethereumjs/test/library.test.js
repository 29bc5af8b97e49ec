// contracts/MemSync.sol end to end: every wrapper through a real EVM frame,
// the precompile's revert data bubbled up byte for byte and decoded by ethers
// from the IMemSync ABI, events decoded by an ethers Interface.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Status } from '../src/module.js';
import { envelope, ethers, memsyncInterface, salt, setup } from './helpers.js';
import { compileContracts } from './solidity.js';
import { MS, domainOf, signTyped } from './eip712.js';

const ms = memsyncInterface();
const hex = (b) => ethers.hexlify(b);
const assetIdOf = (owner, s) => ethers.solidityPackedKeccak256(['address', 'address', 'bytes32'], [MS, owner, s]);

describe('contracts/MemSync.sol wrappers', () => {
  let env;
  let lib;
  let alice;
  let bob;
  let id; // an asset owned by the harness

  before(async () => {
    const { artifacts } = compileContracts();
    env = await setup();
    ({ alice, bob } = env.wallets);
    lib = await env.deploy(alice, artifacts.LibraryHarness);
  });

  after(() => env.cleanup());

  async function tx(fn, args, wallet = alice, opts = {}) {
    const mark = env.calls.length;
    const r = await env.send(wallet, { to: lib.target, data: lib.interface.encodeFunctionData(fn, args), ...opts });
    return { r, calls: env.calls.slice(mark) };
  }

  async function ok(fn, args, wallet) {
    const { r, calls } = await tx(fn, args, wallet);
    assert.equal(r.execResult.exceptionError, undefined, `${fn} failed: ${hex(r.execResult.returnValue)}`);
    return { out: lib.interface.decodeFunctionResult(fn, r.execResult.returnValue), r, calls };
  }

  /** The harness reverted with exactly the precompile's output; decoded by the IMemSync ABI. */
  function bubbled(r, calls) {
    assert.equal(r.execResult.exceptionError?.error, 'revert');
    const last = calls[calls.length - 1];
    assert.equal(last.res.status, Status.REVERT);
    assert.equal(hex(r.execResult.returnValue), hex(last.res.output), 'revert data must be unchanged');
    return ms.parseError(r.execResult.returnValue);
  }

  async function view(fn, args) {
    const r = await env.call(alice.address, { to: lib.target, data: lib.interface.encodeFunctionData(fn, args) });
    if (r.execResult.exceptionError) return { error: ms.parseError(r.execResult.returnValue), data: r.execResult.returnValue };
    return lib.interface.decodeFunctionResult(fn, r.execResult.returnValue)[0];
  }

  const events = (r) => r.receipt.logs
    .filter((l) => hex(l[0]) === MS.toLowerCase())
    .map((l) => ms.parseLog({ topics: l[1].map(hex), data: hex(l[2]) }));

  test('available, domainSeparator and assetIdOf', async () => {
    assert.equal(await view('available', []), true);
    assert.equal(await view('domain', []), ethers.TypedDataEncoder.hashDomain(domainOf(env.chainId)));
    assert.equal(await view('idOf', [alice.address, salt(5)]), assetIdOf(alice.address, salt(5)));
  });

  test('create, append, getHead, getVersion, getVersionInfo', async () => {
    const ct1 = envelope(1, 100, 1);
    const { out, r } = await ok('create', [salt(1), ethers.id('m'), ct1]);
    id = out[0];
    assert.equal(id, assetIdOf(lib.target, salt(1)));
    assert.deepEqual(events(r).map((e) => e.name), ['MemoryCreated', 'VersionAppended']);
    assert.equal(events(r)[0].args.owner, lib.target);

    const ct2 = envelope(1, 200, 2);
    const a = await ok('append', [id, 1n, 1n, ct2]);
    const [v, vh] = a.out;
    assert.equal(v, 2n);
    const ev = events(a.r)[0];
    assert.equal(ev.name, 'VersionAppended');
    assert.equal(ev.args.versionHash, vh);
    assert.equal(ev.args.author, lib.target);

    const h = await view('headOf', [id]);
    assert.equal(h.owner, lib.target);
    assert.equal(h.version, 2n);
    assert.equal(h.headHash, vh);
    assert.equal(h.keyEpoch, 1n);
    assert.equal(h.flags, 0n);
    assert.equal(h.metadata, ethers.id('m'));

    const ver = await view('versionOf', [id, 2n]);
    assert.equal(ver.ciphertext, ct2);
    assert.equal(ver.author, lib.target);
    assert.equal(ver.versionHash, vh);
    assert.equal(ver.blockNumber, env.height);

    const info = await view('versionInfo', [id, 1n]);
    assert.equal(info.ciphertextHash, ethers.keccak256(ct1));
    assert.equal(info.state, 1n);
  });

  test('grantAccess, getGrant, getGrants, revokeAccess with their events', async () => {
    const wk = ethers.hexlify(ethers.randomBytes(80));
    const g = await ok('grant', [id, bob.address, 3, 1_900_000_000n, wk]);
    const [granted] = events(g.r);
    assert.equal(granted.name, 'AccessGranted');
    assert.deepEqual([granted.args.grantee, granted.args.permissions, granted.args.expiry], [bob.address, 3n, 1_900_000_000n]);
    await ok('grant', [id, alice.address, 1, 0n, '0x']);

    const one = await view('grantOf', [id, bob.address]);
    assert.deepEqual([one.permissions, one.expiry, one.keyEpoch, one.wrappedKey], [3n, 1_900_000_000n, 1n, wk]);
    const all = await view('grantsOf', [id]);
    assert.deepEqual(all.grantees.toArray(), [bob.address, alice.address]);
    assert.deepEqual(all.permissions.toArray(), [3n, 1n]);
    assert.deepEqual(all.expiries.toArray(), [1_900_000_000n, 0n]);
    assert.deepEqual(all.keyEpochs.toArray(), [1n, 1n]);

    const rv = await ok('revoke', [id, bob.address]);
    assert.deepEqual(events(rv.r).map((e) => [e.name, e.args.grantee]), [['AccessRevoked', bob.address]]);
    const gone = await view('grantOf', [id, bob.address]);
    assert.equal(gone.error.name, 'GrantNotFound');
    assert.deepEqual((await view('grantsOf', [id])).grantees.toArray(), [alice.address]);
  });

  test('rotateKey, shredVersions, shredMemory', async () => {
    const { out, r } = await ok('rotate', [id]);
    assert.equal(out[0], 2n);
    assert.equal(events(r)[0].name, 'KeyRotated');
    // The next version must carry epoch 2.
    const stale = await tx('append', [id, 2n, 1n, envelope(1)]);
    const e = bubbled(stale.r, stale.calls);
    assert.equal(e.name, 'KeyEpochMismatch');
    assert.deepEqual(e.args.toArray(), [2n, 1n]);
    await ok('append', [id, 2n, 2n, envelope(2, 64, 3)]);

    const s = await ok('shredUpTo', [id, 1n]);
    assert.equal(events(s.r)[0].name, 'MemoryShredded');
    assert.equal((await view('versionInfo', [id, 1n])).state, 3n);
    assert.equal((await view('versionOf', [id, 1n])).error.name, 'VersionShredded');

    const whole = await ok('shred', [id]);
    assert.deepEqual(events(whole.r).map((x) => x.name), ['AccessRevoked', 'MemoryShredded']);
    assert.equal((await view('headOf', [id])).flags, 1n);
    const closed = await tx('append', [id, 3n, 2n, envelope(2)]);
    assert.equal(bubbled(closed.r, closed.calls).name, 'AssetIsShredded');
  });

  test('transferOwnership by the owning contract', async () => {
    const t = (await ok('create', [salt(2), ethers.ZeroHash, '0x'])).out[0];
    await ok('grant', [t, bob.address, 3, 0n, '0x']);
    const { r } = await ok('transfer', [t, alice.address]);
    assert.deepEqual(events(r).map((e) => e.name), ['AccessRevoked', 'OwnershipTransferred']);
    assert.equal(events(r)[1].args.to, alice.address);
    assert.equal((await view('headOf', [t])).owner, alice.address);
    // No longer the owner: NotAuthorized(id, harness), bubbled unchanged.
    const again = await tx('transfer', [t, bob.address]);
    const err = bubbled(again.r, again.calls);
    assert.equal(err.name, 'NotAuthorized');
    assert.deepEqual(err.args.toArray(), [t, lib.target]);
  });

  test('signed create, append and transfer relayed by the contract for an EOA owner', async () => {
    const s = salt(3);
    const deadline = env.nextTimestamp() + 3600n;
    const ct = envelope(1, 64, 4);
    const n0 = await view('nonceOf', [alice.address]);
    const createSig = await signTyped(alice, env.chainId, 'CreateMemory', {
      owner: alice.address, salt: s, metadata: ethers.ZeroHash, ciphertextHash: ethers.keccak256(ct), nonce: n0, deadline,
    });
    const c = await ok('createSigned', [alice.address, s, ethers.ZeroHash, ct, n0, deadline, createSig], bob);
    const aid = c.out[0];
    assert.equal(aid, assetIdOf(alice.address, s));
    assert.equal(events(c.r)[0].args.owner, alice.address);

    const ct2 = envelope(1, 64, 5);
    const appendMsg = {
      assetId: aid, expectedVersion: 1n, keyEpoch: 1n, ciphertextHash: ethers.keccak256(ct2), signer: alice.address,
      nonce: n0 + 1n, deadline,
    };
    const appendSig = await signTyped(alice, env.chainId, 'AppendVersion', appendMsg);
    const args = [aid, 1n, 1n, ct2, alice.address, n0 + 1n, deadline, appendSig];
    const a = await ok('appendSigned', args, bob);
    assert.equal(a.out[0], 2n);
    assert.equal(events(a.r)[0].args.author, alice.address);
    const replay = await tx('appendSigned', args, bob);
    const err = bubbled(replay.r, replay.calls);
    assert.equal(err.name, 'InvalidNonce');
    assert.deepEqual(err.args.toArray(), [n0 + 2n, n0 + 1n]);

    const transferSig = await signTyped(alice, env.chainId, 'TransferOwnership', {
      assetId: aid, newOwner: bob.address, nonce: n0 + 2n, deadline,
    });
    const t = await ok('transferSigned', [aid, bob.address, n0 + 2n, deadline, transferSig], bob);
    assert.equal(events(t.r)[0].name, 'OwnershipTransferred');
    assert.equal((await view('headOf', [aid])).owner, bob.address);
    assert.equal(await view('nonceOf', [alice.address]), n0 + 3n);

    // An expired signature: SignatureExpired(deadline, timestamp) bubbled.
    const late = env.timestamp; // the next block is 12 s later
    const expiredSig = await signTyped(bob, env.chainId, 'TransferOwnership', {
      assetId: aid, newOwner: alice.address, nonce: 0n, deadline: late,
    });
    const ex = await tx('transferSigned', [aid, alice.address, 0n, late, expiredSig], bob);
    const exErr = bubbled(ex.r, ex.calls);
    assert.equal(exErr.name, 'SignatureExpired');
    assert.deepEqual(exErr.args.toArray(), [late, env.timestamp]);
  });

  test('errors of every kind bubble up byte for byte', async () => {
    const missing = ethers.id('missing');
    const cases = [
      ['append', [missing, 0n, 1n, envelope(1)], 'AssetNotFound'],
      ['append', [missing, 0n, 1n, '0x01'], 'InvalidEnvelope'],
      ['create', [salt(2), ethers.ZeroHash, '0x'], 'AssetExists'],
      ['grant', [missing, bob.address, 2, 0n, '0x'], 'InvalidPermissions'],
      ['revoke', [missing, bob.address], 'AssetNotFound'],
      ['shredUpTo', [assetIdOf(lib.target, salt(2)), 5n], 'AssetNotFound'],
    ];
    // salt(2) was transferred away above: it exists but is not the harness's.
    cases[5][2] = 'NotAuthorized';
    for (const [fn, args, name] of cases) {
      const { r, calls } = await tx(fn, args);
      assert.equal(bubbled(r, calls).name, name, fn);
    }
    // Reads bubble as well (STATICCALL path).
    assert.equal((await view('versionInfo', [missing, 1n])).error.name, 'AssetNotFound');
    assert.equal(env.fatals.length, 0);
  });

  test('why the library exists: a high-level call of a void function never reaches the code-less precompile', async () => {
    const { r, calls } = await tx('interfaceRevoke', [ethers.id('x'), bob.address]);
    assert.equal(r.execResult.exceptionError?.error, 'revert');
    assert.equal(r.execResult.returnValue.length, 0);
    assert.equal(calls.length, 0);
    // The wrapper reaches it and bubbles its answer.
    const w = await tx('revoke', [ethers.id('x'), bob.address]);
    assert.equal(w.calls.length, 1);
    assert.equal(bubbled(w.r, w.calls).name, 'AssetNotFound');
  });
});
