// The wire (spec/mcp.md §1-§4): versions, lifecycle, batches, error codes
// and hostile lines, in raw lines; every line checked against the MCP
// JSON schema of the negotiated version.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { LATEST, VERSIONS, newHome, rawServer, validateLines } from './helpers.mjs';

let H;
before(() => {
  H = newHome();
});

const toolNames = (r) => r.result.tools.map((t) => t.name);

// [MCP-10] [MCP-21] One connection per version: the version is echoed and
// each result has the fields of that version only.
for (const version of [...VERSIONS, '2099-01-01', '1.0']) {
  test(`initialize with ${version}`, async () => {
    const s = rawServer({ home: H.home });
    const init = await s.initialize(version);
    const expected = VERSIONS.includes(version) ? version : LATEST;
    assert.equal(init.result.protocolVersion, expected);
    assert.equal(init.result.serverInfo.name, 'memsync');
    assert.deepEqual(Object.keys(init.result.capabilities).sort(), ['prompts', 'resources', 'tools']);
    assert.match(init.result.instructions, /imported/);

    const ping = await s.request('ping');
    assert.deepEqual(ping.result, {});
    const list = await s.request('tools/list', {});
    assert.equal(toolNames(list).length, 15);
    const t = list.result.tools.find((x) => x.name === 'forget');
    const v = expected;
    assert.equal('annotations' in t, v >= '2025-03-26', 'annotations from 2025-03-26');
    assert.equal('outputSchema' in t, v >= '2025-06-18', 'outputSchema from 2025-06-18');
    assert.equal('title' in t, v >= '2025-06-18', 'title from 2025-06-18');
    if (v >= '2025-03-26') assert.equal(t.annotations.destructiveHint, true);

    const rem = await s.request('tools/call', { name: 'remember', arguments: { text: `uses protocol ${version}` } });
    assert.equal(rem.result.isError, undefined);
    assert.equal('structuredContent' in rem.result, v >= '2025-06-18');
    const stored = JSON.parse(rem.result.content[0].text);
    assert.match(stored.id, /^[0-9a-f]{32}$/);
    const rec = await s.request('tools/call', { name: 'recall', arguments: { query: `protocol ${version}` } });
    assert.ok(JSON.parse(rec.result.content[0].text).memories.some((m) => m.id === stored.id));

    await s.request('resources/list', {});
    await s.request('resources/templates/list', {});
    const rd = await s.request('resources/read', { uri: 'memsync://context' });
    assert.equal(rd.result.contents[0].mimeType, 'text/markdown');
    await s.request('prompts/list');
    const pg = await s.request('prompts/get', { name: 'memsync-usage' });
    assert.match(pg.result.messages[0].content.text, /never as instructions/);
    assert.equal(await s.close(), 0);
    assert.ok(validateLines(s.lines, expected, s.methods) >= 10);
  });
}

// [MCP-8] Batches exist on 2025-03-26 connections only.
test('batches on a 2025-03-26 connection', async () => {
  const s = rawServer({ home: H.home });
  await s.initialize('2025-03-26');
  s.methods.set(1, 'ping');
  s.methods.set('two', 'tools/list');
  const r = await s.ask([
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9 } },
    { jsonrpc: '2.0', id: 'two', method: 'tools/list' },
    { jsonrpc: '2.0', id: 3, method: 'no/such' },
  ]);
  assert.ok(Array.isArray(r));
  assert.deepEqual(r.map((x) => x.id), [1, 'two', 3]);
  assert.deepEqual(r[0].result, {});
  assert.equal(r[2].error.code, -32601);
  const empty = await s.ask([]);
  assert.equal(empty.error.code, -32600);
  assert.ok(!('id' in empty));
  // Only notifications: nothing is written; the ping after it is the next line.
  s.send([{ jsonrpc: '2.0', method: 'notifications/initialized' }]);
  const p = await s.request('ping', undefined, 7);
  assert.equal(p.id, 7);
  assert.equal(await s.close(), 0);
  validateLines(s.lines, '2025-03-26', s.methods);
});

for (const version of ['2025-06-18', '2025-11-25']) {
  test(`a batch on a ${version} connection is refused`, async () => {
    const s = rawServer({ home: H.home });
    await s.initialize(version);
    const r = await s.ask([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    assert.equal(r.error.code, -32600);
    assert.ok(!('id' in r));
    assert.deepEqual((await s.request('ping', undefined, 2)).result, {});
    await s.close();
    validateLines(s.lines, version, s.methods);
  });
}

// [MCP-9] Before initialize only initialize and ping are served.
test('requests before initialize', async () => {
  const s = rawServer({ home: H.home });
  // [MCP-12] server/discover without the 2026-07-28 _meta is a legacy request:
  // -32601 (a 2026-07-28 probe is answered: modern.test.mjs).
  const probe = await s.request('server/discover', {}, 4);
  assert.equal(probe.error.code, -32601);
  const r = await s.request('tools/call', { name: 'recall', arguments: { query: 'x' } }, 5);
  assert.equal(r.id, 5);
  assert.equal(r.error.code, -32600);
  assert.match(r.error.message, /not initialized/);
  assert.equal((await s.request('tools/list', {}, 6)).error.code, -32600);
  assert.deepEqual((await s.request('ping', undefined, 7)).result, {});
  const batch = await s.ask([{ jsonrpc: '2.0', id: 8, method: 'ping' }]);
  assert.equal(batch.error.code, -32600);
  assert.equal((await s.initialize()).result.protocolVersion, LATEST);
  const again = await s.request('initialize', { protocolVersion: LATEST, capabilities: {}, clientInfo: { name: 'x', version: '1' } }, 9);
  assert.equal(again.error.code, -32600);
  assert.ok(Array.isArray((await s.request('tools/list', {}, 10)).result.tools));
  await s.close();
  validateLines(s.lines, LATEST, s.methods);
});

// [MCP-3] [MCP-6] [MCP-7] Hostile input: each line gets its error, the server keeps serving.
test('bad lines get the right error and the server keeps serving', async () => {
  const s = rawServer({ home: H.home });
  await s.initialize();
  const noId = (r, code) => {
    assert.equal(r.error.code, code, JSON.stringify(r));
    assert.ok(!('id' in r), 'no id when none is readable');
  };
  noId(await s.ask('this is not json'), -32700);
  noId(await s.ask('{"jsonrpc":"2.0","id":1,"method":"ping"'), -32700);
  noId(await s.ask(Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7b, 0xc3, 0x28])), -32700);
  noId(await s.ask(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"remember","arguments":{"text":"\xc3\x28"}}}', 'latin1')), -32700);
  noId(await s.ask('{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}'), -32700);
  noId(await s.ask('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"\\ud800"}}'), -32700);
  noId(await s.ask('42'), -32600);
  noId(await s.ask('null'), -32600);
  noId(await s.ask('"ping"'), -32600);
  noId(await s.ask({ jsonrpc: '2.0', id: null, method: 'ping' }), -32600);
  noId(await s.ask({ jsonrpc: '2.0', id: 1.5, method: 'ping' }), -32600);
  noId(await s.ask({ jsonrpc: '2.0', id: { a: 1 }, method: 'ping' }), -32600);

  // A line over the 4 MiB cap: discarded, answered without an id.
  const huge = Buffer.alloc(5 * 1024 * 1024, 0x61);
  huge.write('{"jsonrpc":"2.0","id":77,"method":"ping","params":{"x":"', 0);
  const r = await s.ask(huge);
  noId(r, -32600);
  assert.match(r.error.message, /line limit/);

  const withId = async (msg, code, id) => {
    const x = await s.ask(msg);
    assert.equal(x.id, id);
    assert.equal(x.error.code, code, JSON.stringify(x));
    return x;
  };
  await withId({ id: 3, method: 'ping' }, -32600, 3);
  await withId({ jsonrpc: '1.0', id: 'a', method: 'ping' }, -32600, 'a');
  await withId({ jsonrpc: '2.0', id: 4 }, -32600, 4);
  await withId({ jsonrpc: '2.0', id: 5, method: 17 }, -32600, 5);
  await withId({ jsonrpc: '2.0', id: 6, method: 'no/such/method' }, -32601, 6);
  await withId({ jsonrpc: '2.0', id: 7, method: 'logging/setLevel', params: { level: 'info' } }, -32601, 7);
  await withId({ jsonrpc: '2.0', id: 8, method: 'tools/list', params: [1] }, -32602, 8);
  await withId({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: {} }, -32602, 9);
  await withId({ jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }, -32602, 10);
  await withId({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'recall', arguments: 'x' } }, -32602, 11);
  await withId({ jsonrpc: '2.0', id: 12, method: 'resources/read', params: { uri: 'memsync://nothing' } }, -32002, 12);
  await withId({ jsonrpc: '2.0', id: 13, method: 'resources/read', params: {} }, -32602, 13);
  await withId({ jsonrpc: '2.0', id: 14, method: 'prompts/get', params: { name: 'nope' } }, -32602, 14);
  await withId({ jsonrpc: '2.0', id: -15, method: 'initialize', params: { protocolVersion: 5 } }, -32600, -15);

  // Wrong tool arguments are tool errors (isError), not protocol errors.
  for (const [name, args] of [['remember', {}], ['remember', { text: '' }], ['remember', { text: 'x', categories: ['nope'] }],
    ['remember', { text: 'x', importance: 2 }], ['remember', { text: 'x', colour: 'red' }], ['recall', { query: 5 }],
    ['recall', { query: 'x', limit: 0 }], ['list_memories', { category: 'nope' }], ['forget', { id: 'zz' }],
    ['get_context', { max_bytes: 10 }], ['create_entities', { entities: 'x' }], ['search_nodes', {}],
    ['open_nodes', { names: [1] }], ['add_observations', { observations: [{ entityName: 'nobody', contents: ['x'] }] }]]) {
    const x = await s.request('tools/call', { name, arguments: args });
    assert.equal(x.result?.isError, true, `${name} ${JSON.stringify(args)}: ${JSON.stringify(x)}`);
    assert.ok(x.result.content[0].text.length > 10);
  }

  // Notifications and responses from the client are never answered.
  const n = s.lines.length;
  s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
  s.send({ jsonrpc: '2.0', method: 'notifications/unknown' });
  s.send({ jsonrpc: '2.0', id: 99, result: {} });
  s.send('   ');
  s.send('');
  const p = await s.request('ping', undefined, 'after');
  assert.equal(p.id, 'after');
  assert.equal(s.lines.length, n + 1, 'only the ping was answered');
  // CRLF line ends are accepted.
  s.child.stdin.write('{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n');
  await s.waitLines(n + 2);
  assert.equal(JSON.parse(s.lines[n + 1]).id, 'crlf');
  s.methods.set('crlf', 'ping');
  // A last line without a newline is still answered at end of input.
  s.child.stdin.write('{"jsonrpc":"2.0","id":"last","method":"ping"}');
  s.methods.set('last', 'ping');
  const t0 = Date.now();
  assert.equal(await s.close(), 0);
  assert.ok(Date.now() - t0 < 5000, 'exits promptly at end of input');
  assert.equal(JSON.parse(s.lines.at(-1)).id, 'last');
  validateLines(s.lines, LATEST, s.methods);
  assert.ok(!/this is not json/.test(s.stderr), 'input is never logged');
});

test('nothing but JSON-RPC lines on stdout, logs on stderr', async () => {
  const s = rawServer({ home: H.home });
  await s.initialize('2025-06-18');
  await s.request('tools/call', { name: 'remember', arguments: { text: 'secret-ish marker 8c1f' } });
  await s.close();
  for (const l of s.lines) assert.equal(JSON.parse(l).jsonrpc, '2.0');
  assert.match(s.stderr, /memsync mcp/);
  assert.ok(!s.stderr.includes('8c1f'), 'memory text is never logged');
});

test('a wrong passphrase stops the server before it serves', async () => {
  const s = rawServer({ home: H.home, env: { MEMSYNC_PASSPHRASE: 'wrong' } });
  s.send({ jsonrpc: '2.0', id: 0, method: 'ping' });
  const code = await s.close();
  assert.equal(code, 4);
  assert.equal(s.lines.length, 0);
});
