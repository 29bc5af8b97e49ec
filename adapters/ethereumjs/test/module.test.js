// The koffi binding alone (no EVM): loading, abi_version, struct layout,
// config, calls, journal and blocks through the public ABI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { ethers } from 'ethers';
import {
  CallKind, MS_ABI_VERSION, MemSyncInstance, ModuleError, Rc, Status, loadModule, types,
} from '../src/module.js';

const iface = new ethers.Interface([
  'function createMemory(bytes32 salt, bytes32 metadata, bytes ciphertext) returns (bytes32)',
  'function domainSeparator() view returns (bytes32)',
  'error CallKindNotAllowed(uint8 kind)',
  'error WrongChain(uint256 expected, uint256 actual)',
]);
const BLOCK = { number: 1n, timestamp: 1_750_000_000n };
const ALICE = '0x' + '11'.repeat(20);

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'memsync-mod-'));
}

test('loads through ms_module_get and checks abi_version', () => {
  const m = loadModule();
  assert.equal(m.abiVersion, MS_ABI_VERSION);
  assert.equal(m.name, 'memsync');
  assert.match(m.version, /^\d+\.\d+\.\d+$/);
  assert.equal(m.schemaVersion, 2);
  assert.equal(m.rcString(Rc.ERR_CHECKPOINT).length > 0, true);
  assert.equal(m.rcString(999), 'unknown error');
});

test('struct layouts match spec/host-abi.md (LP64)', () => {
  assert.equal(koffi.sizeof(types.ms_module), 152);
  assert.equal(koffi.sizeof(types.ms_config), 160);
  assert.equal(koffi.sizeof(types.ms_message), 88);
  assert.equal(koffi.sizeof(types.ms_result), 48);
  assert.equal(koffi.sizeof(types.ms_block_context), 24);
  assert.equal(koffi.offsetof(types.ms_message, 'caller'), 8);
  assert.equal(koffi.offsetof(types.ms_message, 'value'), 28);
  assert.equal(koffi.offsetof(types.ms_message, 'input'), 64);
  assert.equal(koffi.offsetof(types.ms_message, 'gas'), 80);
  assert.equal(koffi.offsetof(types.ms_config, 'gas'), 48);
  assert.equal(koffi.offsetof(types.ms_config, 'reorg_depth'), 144);
  assert.equal(koffi.offsetof(types.ms_config, 'activation_height'), 152);
});

test('default_config holds the defaults of spec/host-abi.md and spec/gas.md', () => {
  const c = loadModule().defaultConfig();
  assert.equal(c.chain_id, 31337n);
  assert.equal(c.precompile_address, '0x0000000000000000000000000000000000004d53');
  assert.equal(c.max_ciphertext, 65536);
  assert.equal(c.retained_versions, 8);
  assert.equal(c.reorg_depth, 64);
  assert.equal(c.activation_height, 0n);
  assert.equal(c.gas.call_min, 200n);
  assert.equal(c.gas.signature, 6000n);
  assert.equal(c.gas.output_word, 3n);
});

test('an invalid config is refused with MS_ERR_CONFIG', () => {
  const dir = tmpdir();
  try {
    assert.throws(() => new MemSyncInstance({ dataDir: dir, config: { reorg_depth: 0 } }),
      (e) => e instanceof ModuleError && e.rc === Rc.ERR_CONFIG);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('execute, journal, commit and reopen', () => {
  const dir = tmpdir();
  let inst = new MemSyncInstance({ dataDir: dir });
  try {
    const ds = inst.execute(BLOCK, {
      kind: CallKind.STATICCALL, isStatic: true, caller: ALICE, input: ethers.getBytes(iface.encodeFunctionData('domainSeparator')), gas: 100_000n,
    });
    assert.equal(ds.status, Status.SUCCESS);
    // spec/eip712.md [SIG-2]: chain 31337, 0x...4d53
    assert.equal(ethers.hexlify(ds.output), '0xb2b1ff915b4b53bc61e846b2524ad28211739d3c8ad781b5e464887d14c9b1b8');

    const cp = inst.checkpoint();
    const create = (salt) => inst.execute(BLOCK, {
      kind: CallKind.CALL, caller: ALICE, gas: 1_000_000n,
      input: ethers.getBytes(iface.encodeFunctionData('createMemory', [salt, ethers.ZeroHash, '0x'])),
    });
    const r = create(ethers.ZeroHash);
    assert.equal(r.status, Status.SUCCESS);
    assert.equal(r.logs.length, 1);
    assert.equal(inst.pendingLogs().length, 1);
    inst.revertTo(cp);
    assert.equal(inst.pendingLogs().length, 0);
    assert.equal(create(ethers.ZeroHash).status, Status.SUCCESS);

    // simulate leaves the pending block as it was
    const sim = inst.simulate(BLOCK, {
      kind: CallKind.CALL, caller: ALICE, gas: 1_000_000n,
      input: ethers.getBytes(iface.encodeFunctionData('createMemory', [ethers.id('x'), ethers.ZeroHash, '0x'])),
    });
    assert.equal(sim.status, Status.SUCCESS);
    assert.equal(inst.pendingLogs().length, 1);

    const bad = inst.execute(BLOCK, { kind: CallKind.DELEGATECALL, caller: ALICE, gas: 5000n, input: new Uint8Array(4) });
    assert.equal(bad.status, Status.REVERT);
    assert.equal(bad.gasUsed, 5000n);
    assert.deepEqual(iface.parseError(bad.output).args.toArray(), [2n]);

    const wrong = inst.execute({ ...BLOCK, chainId: 1n }, { kind: CallKind.CALL, caller: ALICE, gas: 5000n, input: new Uint8Array(4) });
    assert.equal(iface.parseError(wrong.output).name, 'WrongChain');

    const oog = inst.execute(BLOCK, {
      kind: CallKind.CALL, caller: ALICE, gas: 300n,
      input: ethers.getBytes(iface.encodeFunctionData('createMemory', [ethers.id('y'), ethers.ZeroHash, '0x'])),
    });
    assert.equal(oog.status, Status.OUT_OF_GAS);
    assert.equal(oog.gasUsed, 300n);
    assert.equal(oog.output.length, 0);

    const root = inst.commitBlock(1n);
    assert.equal(root.length, 32);
    assert.throws(() => inst.revertTo(cp), (e) => e.rc === Rc.ERR_CHECKPOINT);
    assert.throws(() => inst.commitBlock(1n), (e) => e.rc === Rc.ERR_HEIGHT);
    inst.close();

    inst = new MemSyncInstance({ dataDir: dir });
    const c = inst.committed();
    assert.equal(c.height, 1n);
    assert.deepEqual(c.root, root);
    assert.deepEqual(inst.rootAt(1n), root);
  } finally {
    inst.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a second instance on the same directory gets MS_ERR_LOCKED', () => {
  const dir = tmpdir();
  const a = new MemSyncInstance({ dataDir: dir });
  try {
    assert.throws(() => new MemSyncInstance({ dataDir: dir }), (e) => e.rc === Rc.ERR_LOCKED);
  } finally {
    a.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the library stays loaded after garbage collection (koffi unloads a dropped handle)', async () => {
  // In a child with --expose-gc: load, collect, then call through the decoded
  // function pointers. Before the module object kept koffi's handle, this
  // crashed with SIGSEGV (the dev chain did so under load).
  const { execFile } = await import('node:child_process');
  const url = new URL('../src/module.js', import.meta.url).href;
  const script = `import { loadModule } from ${JSON.stringify(url)};
    const m = loadModule();
    for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    process.stdout.write(String(m.defaultConfig().chain_id));`;
  const r = await new Promise((resolve) => {
    execFile(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '31337');
});
