// contracts/examples/AgentRegistry.sol: an AI agent appends to a user's
// memory through the registry only while it is registered and the user's
// grant (read from the precompile with getGrant) allows writing and has not
// expired; revocation, expiry, deregistration and transfer each refuse it,
// and the module's state is checked after every refusal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { envelope, ethers, memsyncInterface, salt, setup } from './helpers.js';
import { compileContracts } from './solidity.js';
import { MS, signTyped } from './eip712.js';

const ms = memsyncInterface();
const hex = (b) => ethers.hexlify(b);

describe('AgentRegistry example', () => {
  let env;
  let reg;
  let alice; // the user, owner of the memory
  let bob; // a relayer paying for the agent's transactions
  // The agent's own key (TEST KEY ONLY); it only signs, so it needs no funds.
  const agent = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes('memsync adapter test key agent')));
  let id;

  before(async () => {
    const { artifacts } = compileContracts();
    env = await setup();
    ({ alice, bob } = env.wallets);
    reg = await env.deploy(bob, artifacts.AgentRegistry);
    const r = await direct(alice, 'createMemory', [salt(1), ethers.id('notes'), envelope(1, 64, 1)]);
    id = ms.decodeFunctionResult('createMemory', r.execResult.returnValue)[0];
  });

  after(() => env.cleanup());

  /** A transaction from an EOA straight to the precompile (the user's own calls). */
  async function direct(wallet, fn, args) {
    const r = await env.send(wallet, { to: MS, data: ms.encodeFunctionData(fn, args), gasLimit: 1_000_000n });
    assert.equal(r.execResult.exceptionError, undefined, `${fn}: ${hex(r.execResult.returnValue)}`);
    return r;
  }

  async function head() {
    const r = await env.call(bob.address, { to: MS, data: ms.encodeFunctionData('getHead', [id]) });
    return ms.decodeFunctionResult('getHead', r.execResult.returnValue);
  }

  function parseError(data) {
    return reg.interface.parseError(data) ?? ms.parseError(data);
  }

  async function regTx(wallet, fn, args) {
    return env.send(wallet, { to: reg.target, data: reg.interface.encodeFunctionData(fn, args) });
  }

  /** The agent signs an append of the current head; bob relays it through the registry. */
  async function agentAppend(seed, { signer = agent } = {}) {
    const h = await head();
    const ct = envelope(h.keyEpoch, 128, seed);
    const nonceR = await env.call(bob.address, { to: MS, data: ms.encodeFunctionData('nonceOf', [agent.address]) });
    const nonce = ms.decodeFunctionResult('nonceOf', nonceR.execResult.returnValue)[0];
    const deadline = env.nextTimestamp() + 600n;
    const message = {
      assetId: id, expectedVersion: h.version, keyEpoch: h.keyEpoch, ciphertextHash: ethers.keccak256(ct),
      signer: agent.address, nonce, deadline,
    };
    const signature = await signTyped(signer, env.chainId, 'AppendVersion', message);
    const args = [id, h.version, h.keyEpoch, ct, agent.address, nonce, deadline, signature];
    const r = await regTx(bob, 'append', args);
    return { r, args, before: h };
  }

  /** The append was refused with `name` and the module's head did not move. */
  async function refused(res, name) {
    const { r, before: h } = res;
    assert.equal(r.execResult.exceptionError?.error, 'revert');
    const err = parseError(r.execResult.returnValue);
    assert.equal(err?.name, name);
    const now = await head();
    assert.equal(now.version, h.version);
    assert.equal(now.headHash, h.headHash);
    return err;
  }

  const grant = (expiry, permissions = 3) =>
    direct(alice, 'grantAccess', [id, agent.address, permissions, expiry, ethers.hexlify(ethers.randomBytes(48))]);

  test('registration needs the owner and a live write grant', async () => {
    const noGrant = await regTx(alice, 'register', [id, agent.address]);
    assert.equal(parseError(noGrant.execResult.returnValue).name, 'GrantNotFound'); // the precompile's, unchanged
    const notOwner = await regTx(bob, 'register', [id, agent.address]);
    const e = parseError(notOwner.execResult.returnValue);
    assert.equal(e.name, 'NotMemoryOwner');
    assert.deepEqual(e.args.toArray(), [id, bob.address]);

    await grant(0n, 1); // read only
    const ro = await regTx(alice, 'register', [id, agent.address]);
    assert.equal(parseError(ro.execResult.returnValue).name, 'NoWriteGrant');

    await grant(env.nextTimestamp() + 36n); // writable for three more blocks
    const r = await regTx(alice, 'register', [id, agent.address]);
    assert.equal(r.execResult.exceptionError, undefined);
    const log = r.receipt.logs.map((l) => reg.interface.parseLog({ topics: l[1].map(hex), data: hex(l[2]) }))[0];
    assert.equal(log.name, 'AgentRegistered');
    assert.deepEqual([log.args.user, log.args.agent], [alice.address, agent.address]);
    const who = await env.call(bob.address, {
      to: reg.target, data: reg.interface.encodeFunctionData('registrant', [id, agent.address]),
    });
    assert.equal(reg.interface.decodeFunctionResult('registrant', who.execResult.returnValue)[0], alice.address);
  });

  test('the agent appends while the grant lasts; the version is authored by the agent', async () => {
    const { r } = await agentAppend(2);
    assert.equal(r.execResult.exceptionError, undefined, hex(r.execResult.returnValue));
    const [version] = reg.interface.decodeFunctionResult('append', r.execResult.returnValue);
    assert.equal(version, 2n);
    const logs = r.receipt.logs.map((l) => ({ addr: hex(l[0]), topics: l[1].map(hex), data: hex(l[2]) }));
    const appended = ms.parseLog(logs.find((l) => l.addr === MS.toLowerCase()));
    assert.equal(appended.name, 'VersionAppended');
    assert.equal(appended.args.author, agent.address);
    const mine = reg.interface.parseLog(logs.find((l) => l.addr === reg.target.toLowerCase()));
    assert.equal(mine.name, 'AgentAppended');
    assert.equal(mine.args.versionHash, appended.args.versionHash);
  });

  test('a signature by anyone but the agent is refused by the precompile', async () => {
    const err = await refused(await agentAppend(3, { signer: bob }), 'WrongSigner');
    assert.deepEqual(err.args.toArray(), [agent.address, bob.address]);
  });

  test('after the grant expires the registry refuses (and so would the precompile)', async () => {
    const g = ms.decodeFunctionResult('getGrant', (await env.call(bob.address, {
      to: MS, data: ms.encodeFunctionData('getGrant', [id, agent.address]),
    })).execResult.returnValue);
    while (env.nextTimestamp() <= g.expiry) await env.send(bob, { to: bob.address }); // empty blocks
    const res = await agentAppend(4);
    const err = await refused(res, 'GrantExpired');
    assert.deepEqual(err.args.toArray(), [id, agent.address, g.expiry, env.timestamp]);
    // Submitted straight to the precompile, the same signature is refused too.
    const straight = await env.send(bob, { to: MS, data: ms.encodeFunctionData('appendVersionSigned', res.args) });
    assert.equal(ms.parseError(straight.execResult.returnValue).name, 'NotAuthorized');
    assert.equal((await head()).version, res.before.version);
  });

  test('the user extends the grant, then revokes it: GrantNotFound from the precompile', async () => {
    await grant(0n);
    assert.equal((await agentAppend(5)).r.execResult.exceptionError, undefined);
    await direct(alice, 'revokeAccess', [id, agent.address]);
    const err = await refused(await agentAppend(6), 'GrantNotFound');
    assert.deepEqual(err.args.toArray(), [id, agent.address]);
  });

  test('deregistration refuses the agent in the registry (the precompile grant is the user\'s to revoke)', async () => {
    await grant(0n);
    assert.equal((await agentAppend(7)).r.execResult.exceptionError, undefined);
    const byBob = await regTx(bob, 'deregister', [id, agent.address]);
    assert.equal(parseError(byBob.execResult.returnValue).name, 'NotMemoryOwner');
    const d = await regTx(alice, 'deregister', [id, agent.address]);
    assert.equal(d.execResult.exceptionError, undefined);
    const res = await agentAppend(8);
    const err = await refused(res, 'AgentNotRegistered');
    assert.deepEqual(err.args.toArray(), [id, agent.address]);
    // As documented: the registry is not the security boundary. The grant
    // still lets the agent append at the precompile until the user revokes it.
    const straight = await env.send(bob, { to: MS, data: ms.encodeFunctionData('appendVersionSigned', res.args) });
    assert.equal(straight.execResult.exceptionError, undefined);
    await direct(alice, 'revokeAccess', [id, agent.address]);
  });

  test('a transfer of the memory ends the registration\'s effect', async () => {
    await grant(0n);
    assert.equal((await regTx(alice, 'register', [id, agent.address])).execResult.exceptionError, undefined);
    await direct(alice, 'transferOwnership', [id, bob.address]);
    // The transfer revoked the grant; bob, the new owner, grants the agent again:
    // alice's registration must still not count.
    await direct(bob, 'grantAccess', [id, agent.address, 3, 0n, '0x']);
    const err = await refused(await agentAppend(9), 'NotMemoryOwner');
    assert.deepEqual(err.args.toArray(), [id, alice.address]);
    assert.equal(env.fatals.length, 0);
  });
});
