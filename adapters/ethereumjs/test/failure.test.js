// Failure paths that a healthy module never takes: the adapter must turn each
// into a failed frame (never a throw into the EVM) and report it to onFatal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common';
import { createEVM } from '@ethereumjs/evm';
import { createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { MemSyncJournal, memsyncEVMOptions, memsyncPrecompile } from '../src/index.js';
import { ModuleError, Rc, Status } from '../src/module.js';

const MS = '0x0000000000000000000000000000000000004d53';
const common = () => createCustomCommon({ chainId: 31337 }, Mainnet, { hardfork: Hardfork.Prague });

async function runWith(fake) {
  const fatals = [];
  const evm = await createEVM({ common: common(), ...memsyncEVMOptions(fake, common(), { onFatal: (e) => fatals.push(e) }) });
  const r = await evm.runCall({
    caller: createAddressFromString('0x' + '22'.repeat(20)),
    to: createAddressFromString(MS),
    data: hexToBytes('0x12345678'),
    gasLimit: 50_000n,
  });
  return { r, fatals, evm };
}

test('MS_FATAL becomes an exceptional halt using all gas, and onFatal is called', async () => {
  const fake = { address: MS, execute: () => ({ status: Status.FATAL, gasUsed: 50_000n, output: new Uint8Array(), logs: [] }) };
  const { r, fatals, evm } = await runWith(fake);
  assert.equal(r.execResult.exceptionError.error, 'internal error');
  assert.equal(r.execResult.executionGasUsed, 50_000n);
  assert.equal(fatals.length, 1);
  assert.equal(evm.journal.journalHeight, 0, 'no ethereumjs checkpoint left open');
});

test('a throwing module call (poisoned instance) never reaches the EVM', async () => {
  const fake = { address: MS, execute: () => { throw new ModuleError('execute', Rc.ERR_POISONED, 'poisoned'); } };
  const { r, fatals, evm } = await runWith(fake);
  assert.equal(r.execResult.exceptionError.error, 'internal error');
  assert.equal(fatals.length, 1);
  assert.equal(fatals[0].rc, Rc.ERR_POISONED);
  assert.equal(evm.journal.journalHeight, 0);
});

test('a precompile entered without a tracked message fails closed', () => {
  const fatals = [];
  const fn = memsyncPrecompile({ execute: () => assert.fail('must not run') }, { onFatal: (e) => fatals.push(e) });
  const r = fn({ data: new Uint8Array(4), gasLimit: 1000n, common: common(), _EVM: {} });
  assert.equal(r.exceptionError.error, 'internal error');
  assert.equal(r.executionGasUsed, 1000n);
  assert.equal(fatals.length, 1);
});

function fakeInstance() {
  const log = [];
  let pos = 0n;
  return {
    log,
    checkpoint() { log.push(['checkpoint', pos]); return pos++; },
    revertTo(id) { log.push(['revert_to', id]); },
    commitBlock(h) { log.push(['commit_block', h]); return new Uint8Array(32); },
    discardBlock() { log.push(['discard_block']); },
  };
}

test('journal: LIFO mirroring, simulation copies, interleaving detected without a throw', () => {
  const inst = fakeInstance();
  const fatals = [];
  const j = new MemSyncJournal(inst, { onFatal: (e) => fatals.push(e) });
  const main = {};
  const copy = {};

  j.checkpoint(main); // id 0 (transaction)
  j.checkpoint(main); // id 1 (frame)
  j.revert(main); // -> revert_to 1
  j.checkpoint(main); // id 2
  j.commit(main, false); // kept
  j.commit(main, false);
  assert.deepEqual(inst.log.filter((e) => e[0] === 'revert_to'), [['revert_to', 1n]]);
  assert.equal(j.open.length, 0);

  // A simulation's outermost commit still reverts the module.
  j.checkpoint(copy); // id 3
  j.checkpoint(copy); // id 4
  j.commit(copy, true);
  j.commit(copy, true); // -> revert_to 3
  assert.deepEqual(inst.log.at(-1), ['revert_to', 3n]);

  // A copy dropped with frames open is released back to its first checkpoint.
  j.checkpoint(copy); // id 5
  j.checkpoint(copy); // id 6
  j.release(copy);
  assert.deepEqual(inst.log.at(-1), ['revert_to', 5n]);
  assert.equal(j.open.length, 0);
  assert.equal(fatals.length, 0);

  // Interleaving two owners breaks LIFO: reported, not thrown.
  j.checkpoint(main);
  j.checkpoint(copy);
  j.commit(main, false);
  assert.equal(fatals.length, 1);
  assert.throws(() => j.commitBlock(1n), /checkpoint\(s\) open|fatal fault/);
});

test('journal: a failing module checkpoint is reported and the stack stays balanced', () => {
  const fatals = [];
  const inst = { checkpoint() { throw new ModuleError('checkpoint', Rc.ERR_POISONED, 'poisoned'); }, revertTo() { assert.fail('no id to revert to'); } };
  const j = new MemSyncJournal(inst, { onFatal: (e) => fatals.push(e) });
  const sm = {};
  j.checkpoint(sm);
  j.revert(sm);
  assert.equal(j.open.length, 0);
  assert.equal(fatals.length, 1);
  assert.throws(() => j.commitBlock(1n), /fatal fault/);
});
