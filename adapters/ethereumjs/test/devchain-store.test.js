// The dev chain's store (issue 14, items 14 and 15): a data directory that
// lost one of its two halves is refused before anything changes, and a start
// reads a bounded part of the block log whatever the length of the chain
// (the index beside it), catching up an index left behind by a crash.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Transaction, Wallet } from 'ethers';
import { createAddressFromString } from '@ethereumjs/util';
import { envelope, salt } from './helpers.js';
import {
  MS, assetIdOf, compileContracts, ethers, rpc, startChain, startFails, tempDir,
} from './devchain-helpers.js';
import { devAccounts } from '../src/devchain/accounts.js';
import { DevChain } from '../src/devchain/chain.js';

const [USER, OTHER] = devAccounts(2);
const PROVIDER_OPTS = { pollingInterval: 50, cacheTimeout: -1 };

describe('dev chain: a data directory missing one half (item 14)', () => {
  const dataDir = tempDir('half');
  const aside = tempDir('aside');
  after(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(aside, { recursive: true, force: true });
  });

  test('DATA/chain deleted, DATA/memsync kept: refused with exit 4, nothing changed, the chain comes back', async () => {
    const { IMemSync } = compileContracts();
    let chain = await startChain(dataDir, ['--accounts', '2']);
    let provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    const ms = new ethers.Contract(MS, IMemSync.abi, new ethers.Wallet(USER.privateKey, provider));
    await (await ms.createMemory(salt(1), ethers.ZeroHash, envelope(1))).wait();
    await (await ms.appendVersion(assetIdOf(USER.address, salt(1)), 1n, 1n, envelope(1, 64, 2))).wait();
    const head = (await ms.getHead(assetIdOf(USER.address, salt(1)))).toArray();
    provider.destroy();
    assert.equal(await chain.stop(), 0);

    // The chain store goes; the module (at block 2) stays.
    const chainDir = path.join(dataDir, 'chain');
    fs.renameSync(chainDir, path.join(aside, 'chain'));
    const refused = await startFails(dataDir);
    assert.equal(refused.code, 4);
    assert.equal(fs.existsSync(chainDir), false, 'no chain store was created');
    assert.match(refused.stderr, /memsync holds the MemSync module at block 2, but .*chain has no blocks/);
    assert.match(refused.stderr, /Nothing was changed\. Restore that directory, or start a new chain: remove .*memsync as well/);
    // Twice: the refusal itself changed nothing.
    assert.equal((await startFails(dataDir)).code, 4);

    // Put the chain store back: the module was not rolled back, all is there.
    fs.renameSync(path.join(aside, 'chain'), chainDir);
    chain = await startChain(dataDir);
    provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    assert.equal(await provider.getBlockNumber(), 2);
    assert.deepEqual((await ms.connect(provider).getHead(assetIdOf(USER.address, salt(1)))).toArray(), head);
    provider.destroy();
    assert.equal(await chain.stop(), 0);
  });

  test('DATA/memsync deleted, DATA/chain kept: refused with exit 4 before an empty module is created', async () => {
    const moduleDir = path.join(dataDir, 'memsync');
    fs.renameSync(moduleDir, path.join(aside, 'memsync'));
    const refused = await startFails(dataDir);
    assert.equal(refused.code, 4);
    assert.equal(fs.existsSync(moduleDir), false, 'no module directory was created');
    assert.match(refused.stderr, /chain holds 2 blocks but .*memsync does not exist/);
    assert.match(refused.stderr, /Nothing was changed/);
    fs.renameSync(path.join(aside, 'memsync'), moduleDir);
    const chain = await startChain(dataDir);
    assert.equal((await rpc(chain.url, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' })).result, '0x2');
    assert.equal(await chain.stop(), 0);
  });
});

/** Count what fs reads (bytes, by readSync and readFileSync) while fn runs. */
async function countReads(fn) {
  const { readSync, readFileSync } = fs;
  let bytes = 0;
  fs.readSync = (...args) => {
    const n = readSync(...args);
    bytes += n;
    return n;
  };
  fs.readFileSync = (...args) => {
    const out = readFileSync(...args);
    bytes += out.length;
    return out;
  };
  try {
    const value = await fn();
    return { value, bytes };
  } finally {
    fs.readSync = readSync;
    fs.readFileSync = readFileSync;
  }
}

/** Frame sizes of a blocks.log (u32 length, 8-byte checksum, payload). */
function frames(file) {
  const buf = fs.readFileSync(file);
  const out = [];
  for (let off = 0; off < buf.length; off += 12 + buf.readUInt32BE(off)) out.push(12 + buf.readUInt32BE(off));
  return out;
}

describe('dev chain: start-up reads a bounded part of the block log (item 15)', () => {
  const dataDir = tempDir('startup');
  const log = [];
  const open = () => DevChain.open({ dataDir, log: (l) => log.push(l) });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** Mine n transfers from USER, in the process. @returns the last tx hash */
  async function mine(chain, n) {
    const wallet = new Wallet(USER.privateKey);
    let hash;
    for (let i = 0; i < n; i++) {
      const nonce = await chain.withState(chain.head, async (sm) => (await sm.getAccount(createAddressFromString(USER.address)))?.nonce ?? 0n);
      const raw = await wallet.signTransaction(Transaction.from({
        type: 2, chainId: chain.chainId, nonce: Number(nonce), to: OTHER.address, value: 1n, gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n,
      }));
      hash = await chain.sendRawTransaction(ethers.getBytes(raw));
    }
    return hash;
  }

  /** Reopen; what the start read, checked against the sizes of the records it needs. */
  async function reopenMeasured() {
    const { value: chain, bytes } = await countReads(open);
    const sizes = frames(path.join(dataDir, 'chain/blocks.log'));
    return { chain, bytes, sizes, records: chain.store.stats?.recordsRead };
  }

  test('after 5 and after 125 blocks a start reads the genesis and head records only', async () => {
    let chain = await DevChain.open({ dataDir, chainId: 1337n, accounts: 2, log: (l) => log.push(l) });
    const firstHash = await mine(chain, 5);
    chain.close();

    let m = await reopenMeasured();
    assert.equal(m.chain.height, 5n);
    // The index check (one 12-byte header), then record 0 and the head record.
    const bound = (s) => 12 + s[0] + s[s.length - 1];
    assert.ok(m.bytes <= bound(m.sizes), `read ${m.bytes} bytes, bound ${bound(m.sizes)}`);
    assert.ok(m.bytes >= m.sizes[0], 'the reads are counted (record 0 at least)');
    assert.equal(m.records, 2);
    const small = m.bytes;
    chain = m.chain;
    const lastHash = await mine(chain, 120);
    chain.close();

    m = await reopenMeasured();
    chain = m.chain;
    assert.equal(chain.height, 125n);
    assert.ok(m.bytes <= bound(m.sizes), `read ${m.bytes} bytes, bound ${bound(m.sizes)}`);
    assert.equal(m.records, 2);
    const total = m.sizes.reduce((a, b) => a + b, 0);
    assert.ok(m.bytes < total / 20, `read ${m.bytes} of ${total} bytes`);
    assert.ok(m.bytes < 2 * small, `${m.bytes} bytes after 125 blocks, ${small} after 5`);
    // Everything is still found, through the index.
    assert.deepEqual(chain.txIndex.get(firstHash), { number: 5, index: 0 });
    assert.deepEqual(chain.txIndex.get(lastHash), { number: 125, index: 0 });
    const b7 = chain.entryFor('0x7');
    assert.equal(chain.entryFor(b7.hash), b7);
    assert.equal(b7.block.header.number, 7n);
    assert.equal(chain.entryFor('0x' + 'ab'.repeat(32)), undefined);
    const bal = await chain.withState(chain.entryFor('0x3'), async (sm) => (await sm.getAccount(createAddressFromString(OTHER.address))).balance);
    assert.equal(bal, 10_000n * 10n ** 18n + 3n);
    chain.close();
  });

  test('an index left behind by a crash is caught up from the tail; a lost index is rebuilt', async () => {
    // The index as it was one block ago: copy it, mine one block, put the copy back.
    const index = path.join(dataDir, 'chain/index');
    const old = tempDir('old-index');
    let chain;
    let hash;
    try {
      fs.cpSync(index, old, { recursive: true });
      chain = await open();
      hash = await mine(chain, 1);
      chain.close();
      fs.rmSync(index, { recursive: true });
      fs.cpSync(old, index, { recursive: true });
    } finally {
      fs.rmSync(old, { recursive: true, force: true });
    }

    let m = await reopenMeasured();
    chain = m.chain;
    assert.equal(chain.store.reindexed, null);
    assert.equal(m.records, 3); // the tail record, then record 0 and the head
    assert.equal(chain.height, 126n);
    assert.deepEqual(chain.txIndex.get(hash), { number: 126, index: 0 });
    chain.close();

    // No index at all (a data directory of an earlier version): rebuilt once, then bounded again.
    fs.rmSync(index, { recursive: true });
    log.length = 0;
    m = await reopenMeasured();
    assert.equal(m.chain.store.reindexed, 'no index');
    assert.ok(log.some((l) => /index rebuilt from the block log \(no index; 127 blocks\)/.test(l)), log.join('\n'));
    assert.deepEqual(m.chain.txIndex.get(hash), { number: 126, index: 0 });
    m.chain.close();
    m = await reopenMeasured();
    assert.equal(m.chain.store.reindexed, null);
    assert.equal(m.records, 2);
    m.chain.close();
  });
});
