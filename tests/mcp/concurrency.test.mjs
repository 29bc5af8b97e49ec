// Nothing is lost when several servers write at once (spec/mcp.md [MCP-31]):
// two servers on one home (the official server's #4797 case), and two
// devices of one identity syncing through the dev chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { call, newHome, sdkClient, startDevChain, tempDir } from './helpers.mjs';

const N = 50;

async function rememberMany(c, tag, n) {
  // Sequential per connection, both connections at the same time: the server
  // answers one request at a time anyway, and a pipeline of 50 chain writes
  // would outlast the SDK's per-request timeout.
  for (let i = 0; i < n; i++) await call(c, 'remember', { text: `fact ${i} from ${tag}`, categories: ['interests'] });
}

function textsOf(list) {
  return list.memories.map((m) => m.text).sort();
}

function expected(tags) {
  return tags.flatMap((t) => Array.from({ length: N }, (_, i) => `fact ${i} from ${t}`)).sort();
}

test('two servers on one home: 50 + 50 remembers, 100 facts', async () => {
  const h = newHome();
  const [a, b] = await Promise.all([sdkClient({ ...h, name: 'a' }), sdkClient({ ...h, name: 'b' })]);
  await Promise.all([rememberMany(a, 'a', N), rememberMany(b, 'b', N)]);
  // Graph writes too: each server creates its own entities at the same time.
  await Promise.all(['a', 'b'].map((tag, k) => Promise.all(Array.from({ length: 10 }, (_, i) =>
    call([a, b][k], 'create_entities', { entities: [{ name: `${tag}${i}`, entityType: 't', observations: [`o${i}`] }] })))));
  const third = await sdkClient(h);
  const all = await call(third, 'list_memories', { limit: 1000 });
  assert.deepEqual(textsOf(all).filter((t) => t.startsWith('fact ')), expected(['a', 'b']));
  const graph = await call(third, 'read_graph');
  assert.equal(graph.entities.length, 20);
  for (const c of [a, b, third]) await c.close();
});

test('two devices through the dev chain: 50 + 50 remembers, 100 facts on both', async () => {
  const chain = await startDevChain();
  try {
    const h1 = newHome();
    // The second device: the same identity (a copy of the key file), its own home and device id.
    const d2 = tempDir();
    const h2 = { home: path.join(d2, 'home'), pass: h1.pass, dir: d2 };
    mkdirSync(h2.home, { mode: 0o700 });
    copyFileSync(path.join(h1.home, 'key'), path.join(h2.home, 'key'));
    // Each device sends through its own dev account (the relayer's nonces are per account).
    const relayer = (k) => {
      const f = path.join(tempDir(), 'relayer.key');
      writeFileSync(f, `${chain.keys[k]}\n`, { mode: 0o600 });
      return ['--rpc', chain.url, '--relayer-key-file', f];
    };
    const [a, b] = await Promise.all([sdkClient({ ...h1, args: relayer(0), name: 'device-1' }),
      sdkClient({ ...h2, args: relayer(1), name: 'device-2' })]);
    await Promise.all([rememberMany(a, 'd1', N), rememberMany(b, 'd2', N)]);
    // A write that gave up on a busy chain is kept on its device (pending_sync):
    // syncs bring both devices to the same head.
    for (let round = 0; round < 3; round++) {
      await call(a, 'sync');
      await call(b, 'sync');
    }
    const want = expected(['d1', 'd2']);
    assert.deepEqual(textsOf(await call(a, 'list_memories', { limit: 1000 })), want);
    assert.deepEqual(textsOf(await call(b, 'list_memories', { limit: 1000 })), want);
    const s = await call(b, 'sync');
    assert.equal(s.pushed, false);
    assert.ok(s.version >= 2);
    // A forget on one device reaches the other.
    const victim = (await call(a, 'recall', { query: 'fact 7 from d2' })).memories.find((m) => m.text === 'fact 7 from d2');
    await call(a, 'forget', { id: victim.id });
    await call(b, 'sync');
    assert.ok(!textsOf(await call(b, 'list_memories', { limit: 1000 })).includes('fact 7 from d2'));
    await a.close();
    await b.close();
  } finally {
    await chain.stop();
  }
});
