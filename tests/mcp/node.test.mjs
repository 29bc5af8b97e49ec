// `memsync mcp --node DIR`: the memory synced through a local module
// instance (build/libmemsync.so via MEMSYNC_MODULE). One process at a time
// can open DIR (RocksDB's lock), so the two devices take turns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { call, cli, newHome, sdkClient, tempDir } from './helpers.mjs';

test('--node DIR: writes reach the chain, another device pulls them', async () => {
  const node = path.join(tempDir(), 'node');
  const h1 = newHome();
  const a = await sdkClient({ ...h1, args: ['--node', node] });
  const kept = await call(a, 'remember', { text: 'Speaks Portuguese', categories: ['identity'] });
  assert.equal(kept.pending_sync, undefined, 'pushed at once');
  const gone = await call(a, 'remember', { text: 'Temporary note to forget', categories: ['productivity'] });
  await call(a, 'create_entities', { entities: [{ name: 'Ana', entityType: 'person', observations: ['Sister'] }] });
  await call(a, 'forget', { id: gone.id });
  const s = await call(a, 'sync');
  assert.equal(s.pushed, false, 'nothing left to push');
  assert.ok(s.version >= 4);
  await a.close();

  const d2 = tempDir();
  const h2 = { home: path.join(d2, 'home'), pass: h1.pass };
  mkdirSync(h2.home, { mode: 0o700 });
  copyFileSync(path.join(h1.home, 'key'), path.join(h2.home, 'key'));
  const b = await sdkClient({ ...h2, args: ['--node', node] });
  assert.equal((await call(b, 'list_memories')).total, 2, 'the server pulls once when it starts');
  const pulled = await call(b, 'sync');
  assert.equal(pulled.pulled, false, 'nothing new since the start');
  assert.equal(pulled.version, s.version);
  const texts = (await call(b, 'list_memories')).memories.map((m) => m.text).sort();
  assert.deepEqual(texts, ['Sister', 'Speaks Portuguese']);
  assert.deepEqual((await call(b, 'open_nodes', { names: ['Ana'] })).entities,
    [{ name: 'Ana', entityType: 'person', observations: ['Sister'] }]);
  await b.close();
});

test('a chain that cannot be reached: the write is kept on this device (pending_sync)', async () => {
  const h = newHome();
  const key = path.join(h.dir, 'relayer.key');
  writeFileSync(key, '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n', { mode: 0o600 });
  const c = await sdkClient({ ...h, args: ['--rpc', 'http://127.0.0.1:9', '--relayer-key-file', key] });
  const r = await call(c, 'remember', { text: 'Written while offline' });
  assert.equal(r.pending_sync, true);
  const g = await call(c, 'create_entities', { entities: [{ name: 'Offline', entityType: 'test', observations: [] }] });
  assert.equal(g.entities.length, 1);
  assert.equal((await call(c, 'list_memories')).total, 1);
  const s = await c.client.callTool({ name: 'sync', arguments: {} });
  assert.equal(s.isError, true);
  assert.match(s.content[0].text, /could not be reached/);
  await c.close();
});

test('a memory too large for one version on chain: a clear error, nothing written', async () => {
  const h = newHome();
  // 600 facts of random text (about 40 KB compressed): imported on this device only.
  const lines = Array.from({ length: 600 }, () => `- ${randomBytes(40).toString('base64')}`);
  const file = path.join(h.dir, 'big.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  cli(['import', '--home', h.home, '--format', 'text', file]);
  const node = path.join(tempDir(), 'node');
  const c = await sdkClient({ ...h, args: ['--node', node] });
  const r = await c.client.callTool({ name: 'remember', arguments: { text: 'One fact too many' } });
  assert.equal(r.isError, true);
  assert.match(r.content[0].text, /memory is full/);
  assert.equal((await call(c, 'recall', { query: 'fact too many' })).count, 0);
  const g = await c.client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'E', entityType: 't', observations: [] }] } });
  assert.equal(g.isError, true);
  assert.deepEqual((await call(c, 'read_graph')).entities, []);
  await c.close();
});
