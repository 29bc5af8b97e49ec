// The 2026-07-28 era (spec/mcp.md §4a, [MCP-12] … [MCP-17]) in raw lines:
// the official SDK 1.32.2 speaks no 2026-07-28, so requests carry the
// per-request _meta by hand. Every line is checked against the 2025-11-25
// schema (its results are open objects) and, field by field, against what
// the 2026-07-28 schema requires of the result and error types.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { LATEST, RESULT_TYPES, SCHEMA_DIR, cli, newHome, rawServer, validateLines } from './helpers.mjs';

const MODERN = '2026-07-28';
const K_VERSION = 'io.modelcontextprotocol/protocolVersion';
const K_CAPS = 'io.modelcontextprotocol/clientCapabilities';
const K_CLIENT = 'io.modelcontextprotocol/clientInfo';
const K_SERVER = 'io.modelcontextprotocol/serverInfo';
// [MCP-14] newest first: 2026-07-28 per request, the legacy four through initialize.
const SUPPORTED = [MODERN, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
const CAPABILITIES = { tools: { listChanged: false }, resources: {}, prompts: {} };
const SERVER_INFO = { name: 'memsync', version: '1.0.0', title: 'MemSync' };
const HOUR = 3600000;
// [MCP-15] ttlMs of the cacheable methods; the others carry no cache fields.
const TTL = {
  'server/discover': HOUR,
  'tools/list': HOUR,
  'prompts/list': HOUR,
  'resources/list': HOUR,
  'resources/templates/list': HOUR,
  'resources/read': 0,
};

let H;
before(() => {
  H = newHome();
});

/** The per-request _meta of a 2026-07-28 request; client null: no clientInfo. */
function meta(client = 'modern-test') {
  const m = { [K_VERSION]: MODERN, [K_CAPS]: {} };
  if (client !== null) m[K_CLIENT] = { name: client, version: '2.0.0' };
  return m;
}

// Modern requests get string ids 'm<n>', legacy ones numbers: the lines of
// each era are told apart by their id when they are validated.
let next = 1;
async function modern(s, method, params = {}, client = 'modern-test') {
  return s.request(method, { ...params, _meta: meta(client) }, `m${next++}`);
}
async function modernRaw(s, method, params) {
  return s.request(method, params, `m${next++}`);
}

// ------------------------------------------------------------ validation

let v2025;
function schema2025(name) {
  if (!v2025) {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, '2025-11-25', 'schema.json'), 'utf8'));
    const ajv = new Ajv2020({ allowUnionTypes: true, strict: false });
    addFormats(ajv);
    ajv.addSchema(schema, 'mcp');
    const cache = new Map();
    v2025 = (n) => {
      if (!cache.has(n)) cache.set(n, ajv.compile({ $ref: `mcp#/$defs/${n}` }));
      return cache.get(n);
    };
  }
  return v2025(name);
}

// The 2025-11-25 result type whose shape a 2026-07-28 result shares (the
// new fields are extra keys, which those open objects allow).
const SHARED_TYPES = { ...RESULT_TYPES, 'server/discover': 'Result' };

/** What 2026-07-28 requires of every result (Result, ResultMetaObject) and
 *  of the cacheable ones (CacheableResult) [MCP-15]. */
function checkModernResult(method, result) {
  assert.equal(typeof result, 'object');
  assert.equal(result.resultType, 'complete', `${method}: resultType`);
  assert.deepEqual(result._meta, { [K_SERVER]: SERVER_INFO }, `${method}: _meta serverInfo`);
  if (method in TTL) {
    assert.ok(Number.isInteger(result.ttlMs) && result.ttlMs >= 0, `${method}: ttlMs is an integer >= 0`);
    assert.equal(result.ttlMs, TTL[method], `${method}: ttlMs`);
    assert.equal(result.cacheScope, 'private', `${method}: cacheScope`);
  } else {
    assert.ok(!('ttlMs' in result) && !('cacheScope' in result), `${method} is not a cacheable result`);
  }
}

/** The -32022 error's data, as UnsupportedProtocolVersionError types it. */
function checkUnsupported(r, requested) {
  assert.equal(r.error.code, -32022, JSON.stringify(r));
  assert.equal(typeof r.error.message, 'string');
  assert.deepEqual(Object.keys(r.error.data).sort(), ['requested', 'supported']);
  assert.deepEqual(r.error.data.supported, SUPPORTED);
  assert.equal(r.error.data.requested, requested);
}

/** Every line the server wrote: the legacy ones (numeric or no id) with the
 *  shared helper at `legacyVersion`, the modern ones here. */
function validateAll(s, legacyVersion = LATEST) {
  const legacy = [];
  let modernChecked = 0;
  const msg = schema2025('JSONRPCMessage');
  for (const line of s.lines) {
    const m = JSON.parse(line);
    if (Array.isArray(m) || typeof m.id !== 'string' || !m.id.startsWith('m')) {
      legacy.push(line);
      continue;
    }
    assert.ok(msg(m), `2025-11-25 JSONRPCMessage: ${JSON.stringify(msg.errors)}\n${line.slice(0, 300)}`);
    if (m.result !== undefined) {
      const method = s.methods.get(m.id);
      const check = schema2025(SHARED_TYPES[method]);
      assert.ok(check(m.result), `${method}: ${JSON.stringify(check.errors)}`);
      checkModernResult(method, m.result);
    } else {
      assert.ok(Number.isInteger(m.error.code) && typeof m.error.message === 'string');
    }
    modernChecked++;
  }
  if (legacy.length > 0) validateLines(legacy, legacyVersion, s.methods);
  return modernChecked;
}

/** The `tool` of each item of the home's memory, by id (memsync export --format json). */
function toolsById() {
  const doc = JSON.parse(cli(['export', '--format', 'json', '--home', H.home]));
  return new Map(doc.items.map((it) => [it.id, it.src?.tool]));
}

// ---------------------------------------------------------------- tests

// [MCP-14] [MCP-15] The stdio probe of a dual-era client, as the very first line.
test('server/discover before anything, then initialize as on a fresh process', async () => {
  const s = rawServer({ home: H.home });
  const d = await modern(s, 'server/discover');
  assert.match(d.id, /^m\d+$/);
  const r = d.result;
  assert.deepEqual(Object.keys(r).sort(),
    ['_meta', 'cacheScope', 'capabilities', 'instructions', 'resultType', 'supportedVersions', 'ttlMs']);
  assert.deepEqual(r.supportedVersions, SUPPORTED);
  assert.ok(r.supportedVersions.every((v) => typeof v === 'string'));
  assert.deepEqual(r.capabilities, CAPABILITIES);
  assert.match(r.instructions, /never follow instructions/);
  checkModernResult('server/discover', r);
  // Stateless: asking again, or with another client, gives the same answer.
  assert.deepEqual((await modern(s, 'server/discover', {}, 'other-client')).result, r);
  assert.deepEqual((await modern(s, 'server/discover', {}, null)).result, r);

  // [MCP-12] initialize after it is answered as on a fresh process, with the
  // same capabilities and instructions [MCP-11].
  const init = await s.initialize();
  assert.equal(init.result.protocolVersion, LATEST);
  assert.deepEqual(init.result.capabilities, r.capabilities);
  assert.equal(init.result.instructions, r.instructions);
  assert.ok(!('resultType' in init.result) && !('_meta' in init.result), 'a legacy result has no 2026-07-28 fields');
  // And server/discover still answers on the initialized process, unchanged.
  assert.deepEqual((await modern(s, 'server/discover')).result, r);
  assert.equal(await s.close(), 0);
  assert.equal(validateAll(s), 4);
});

// [MCP-13] [MCP-15] [MCP-17] The methods of the era, without initialize.
test('tools, resources and prompts as 2026-07-28 requests, without initialize', async () => {
  const s = rawServer({ home: H.home });
  const marker = `oolong ${Date.now().toString(36)}`;

  const tl = await modern(s, 'tools/list');
  assert.equal(tl.result.tools.length, 15);
  for (const t of tl.result.tools) {
    assert.ok(t.title && t.outputSchema && t.annotations, `${t.name}: the newest shape`);
    assert.equal(t.inputSchema.type, 'object');
    assert.ok(!('$schema' in t.inputSchema));
  }
  // A cursor is ignored: one page.
  assert.deepEqual((await modern(s, 'tools/list', { cursor: 'x' })).result, tl.result);

  const rem = await modern(s, 'tools/call', { name: 'remember', arguments: { text: `likes ${marker} tea`, categories: ['interests'] } });
  assert.equal(rem.result.isError, undefined);
  assert.match(rem.result.structuredContent.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(JSON.parse(rem.result.content[0].text), rem.result.structuredContent);
  const id = rem.result.structuredContent.id;
  const rec = await modern(s, 'tools/call', { name: 'recall', arguments: { query: marker } });
  assert.deepEqual(rec.result.structuredContent.memories.map((m) => m.id), [id]);
  assert.equal(rec.result.structuredContent.memories[0].text, `likes ${marker} tea`);
  // A tool failure is a result (isError) in this era too, with its fields.
  const bad = await modern(s, 'tools/call', { name: 'recall', arguments: { query: 5 } });
  assert.equal(bad.result.isError, true);
  assert.ok(!('structuredContent' in bad.result));

  const rd = await modern(s, 'resources/read', { uri: 'memsync://context' });
  assert.equal(rd.result.contents.length, 1);
  assert.equal(rd.result.contents[0].uri, 'memsync://context');
  assert.equal(rd.result.contents[0].mimeType, 'text/markdown');
  assert.ok(rd.result.contents[0].text.includes(marker), 'the context has the fact just stored');
  const rl = await modern(s, 'resources/list');
  assert.deepEqual(rl.result.resources.map((x) => [x.uri, x.name, x.title]), [['memsync://context', 'context', 'MemSync context']]);
  assert.deepEqual((await modern(s, 'resources/templates/list')).result.resourceTemplates, []);

  const pl = await modern(s, 'prompts/list');
  assert.deepEqual(pl.result.prompts.map((p) => p.name), ['memsync-usage']);
  const pg = await modern(s, 'prompts/get', { name: 'memsync-usage' });
  assert.equal(pg.result.messages[0].role, 'user');
  assert.match(pg.result.messages[0].content.text, /never as instructions/);

  // The method's own errors are those of MCP-6.
  assert.equal((await modern(s, 'tools/call', { name: 'no_such_tool', arguments: {} })).error.code, -32602);
  assert.equal((await modern(s, 'tools/call', {})).error.code, -32602);
  assert.equal((await modern(s, 'prompts/get', { name: 'nope' })).error.code, -32602);
  assert.equal((await modern(s, 'resources/read', {})).error.code, -32602);

  assert.equal(await s.close(), 0);
  assert.equal(validateAll(s), 14);
  // [MCP-1] [MCP-2] stdout: JSON-RPC lines only, each one answer; stderr: no memory text.
  assert.equal(s.lines.length, 14);
  for (const l of s.lines) assert.equal(JSON.parse(l).jsonrpc, '2.0');
  assert.ok(!s.stderr.includes(marker), 'memory text is never logged');
  assert.match(s.stderr, /memsync mcp/);
});

// [MCP-16] The writing tool comes from each request's clientInfo, never kept.
test('clientInfo.name of the request is the tool of the facts it writes, per request', async () => {
  const s = rawServer({ home: H.home });
  const remember = async (text, client) =>
    (await modern(s, 'tools/call', { name: 'remember', arguments: { text } }, client)).result.structuredContent.id;
  const legacyRemember = async (text) =>
    JSON.parse((await s.request('tools/call', { name: 'remember', arguments: { text } })).result.content[0].text).id;

  const alpha = await remember('tool check alpha', 'modern-alpha');
  const beta = await remember('tool check beta', 'modern-beta');
  const none = await remember('tool check none', null);
  const empty = await remember('tool check empty', '');
  // Cut to 128 bytes on a character boundary: 'a' + 63 × 'é' is 127 bytes.
  const long = await remember('tool check long', `a${'é'.repeat(100)}`);
  const ent = await modern(s, 'tools/call', {
    name: 'create_entities', arguments: { entities: [{ name: 'Tool Check', entityType: 'test', observations: [] }] },
  }, 'modern-gamma');
  assert.equal(ent.result.structuredContent.entities.length, 1);

  // A legacy connection on the same process keeps its own name, and lends
  // it to no 2026-07-28 request (and takes none from them).
  await s.initialize();   // clientInfo.name 'raw-test'
  const legacy1 = await legacyRemember('tool check legacy one');
  const delta = await remember('tool check delta', 'modern-delta');
  const afterInit = await remember('tool check no name after init', null);
  const legacy2 = await legacyRemember('tool check legacy two');
  assert.equal(await s.close(), 0);
  validateAll(s);

  const tools = toolsById();
  assert.equal(tools.get(alpha), 'modern-alpha');
  assert.equal(tools.get(beta), 'modern-beta');
  assert.equal(tools.get(none), 'mcp');
  assert.equal(tools.get(empty), 'mcp');
  assert.equal(tools.get(long), `a${'é'.repeat(63)}`);
  assert.equal(Buffer.byteLength(tools.get(long)), 127);
  const entity = JSON.parse(cli(['export', '--format', 'json', '--home', H.home])).items
    .find((it) => it.kind === 'entity' && it.text === 'Tool Check');
  assert.equal(entity.src.tool, 'modern-gamma');
  assert.equal(tools.get(legacy1), 'raw-test');
  assert.equal(tools.get(delta), 'modern-delta');
  assert.equal(tools.get(afterInit), 'mcp');
  assert.equal(tools.get(legacy2), 'raw-test');
});

// [MCP-13] Each check, in its order, on a process that keeps serving.
test('unsupported versions, methods of the other era and malformed _meta get defined errors', async () => {
  const s = rawServer({ home: H.home });
  const withMeta = (m, method = 'tools/list', params = {}) => modernRaw(s, method, { ...params, _meta: m });
  const base = meta();

  // 2. Any version but 2026-07-28, the legacy ones included (they are reached through initialize).
  for (const v of ['2099-01-01', '2025-11-25', '2024-11-05', '', '2026-07-28 ']) {
    const r = await withMeta({ ...base, [K_VERSION]: v });
    assert.match(r.id, /^m/);
    checkUnsupported(r, v);
  }
  const longVersion = 'y'.repeat(300);
  checkUnsupported(await withMeta({ ...base, [K_VERSION]: longVersion }), 'y'.repeat(100));
  // The version is checked first: before the method and the other fields.
  checkUnsupported(await withMeta({ [K_VERSION]: '2099-01-01' }, 'ping'), '2099-01-01');
  checkUnsupported(await withMeta({ [K_VERSION]: '1.0' }, 'server/discover'), '1.0');

  // 1. A version that is not a string.
  for (const v of [5, null, {}, ['2026-07-28'], true]) {
    const r = await withMeta({ ...base, [K_VERSION]: v });
    assert.equal(r.error.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, /protocolVersion/);
  }
  // 3. clientCapabilities missing or not an object.
  for (const caps of [undefined, null, [], 'all', 1]) {
    const m = { ...base };
    if (caps === undefined) delete m[K_CAPS];
    else m[K_CAPS] = caps;
    const r = await withMeta(m, 'server/discover');
    assert.equal(r.error.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, /clientCapabilities/);
  }
  // 4. clientInfo present and not {name: string, version: string}.
  for (const info of [null, 'me', [], {}, { name: 'x' }, { version: '1' }, { name: 1, version: '1' }, { name: 'x', version: 2 }]) {
    const r = await withMeta({ ...base, [K_CLIENT]: info }, 'tools/call', { name: 'remember', arguments: { text: 'never stored 41c7' } });
    assert.equal(r.error.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, /clientInfo/);
  }
  // 5. Methods this era removed or this server does not offer.
  for (const method of ['ping', 'logging/setLevel', 'resources/subscribe', 'subscriptions/listen', 'completion/complete', 'no/such']) {
    const r = await modern(s, method, method === 'logging/setLevel' ? { level: 'info' } : {});
    assert.equal(r.error.code, -32601, `${method}: ${JSON.stringify(r)}`);
  }
  // [MCP-17] An unknown resource is -32602 here, with the uri.
  const nf = await modern(s, 'resources/read', { uri: 'memsync://nothing' });
  assert.equal(nf.error.code, -32602);
  assert.deepEqual(nf.error.data, { uri: 'memsync://nothing' });

  // [MCP-12] Without the version key the request is legacy, answered as before initialize.
  const legacyErr = async (params, method, code) => {
    const r = await s.request(method, params);
    assert.equal(r.error.code, code, `${method} ${JSON.stringify(params)}: ${JSON.stringify(r)}`);
    return r;
  };
  await legacyErr({}, 'server/discover', -32601);
  await legacyErr({ _meta: 'x' }, 'server/discover', -32601);
  await legacyErr({ _meta: [MODERN] }, 'server/discover', -32601);
  await legacyErr({ _meta: { [K_CAPS]: {}, [K_CLIENT]: { name: 'a', version: '1' } } }, 'tools/list', -32600);
  await legacyErr({ _meta: 7 }, 'tools/list', -32600);
  assert.deepEqual((await s.request('ping', { _meta: { progressToken: 1 } })).result, {}, 'a legacy ping with a legacy _meta');

  // Still serving, in both eras: the legacy resource error keeps -32002.
  assert.deepEqual((await modern(s, 'server/discover')).result.supportedVersions, SUPPORTED);
  await s.initialize();
  const legacyNf = await s.request('resources/read', { uri: 'memsync://nothing' });
  assert.equal(legacyNf.error.code, -32002);
  assert.deepEqual(legacyNf.error.data, { uri: 'memsync://nothing' });
  assert.equal((await modern(s, 'resources/read', { uri: 'memsync://nothing' })).error.code, -32602);
  assert.equal(await s.close(), 0);
  validateAll(s);
  assert.ok(!s.stderr.includes('yyyyyyyyyy'), 'the asked version is not logged');
  assert.ok(!s.stderr.includes('41c7'), 'no argument is logged');
  // No fact of a refused request was stored.
  assert.ok(!cli(['export', '--format', 'json', '--home', H.home]).includes('never stored 41c7'));
});

// [MCP-12] Both eras on one process, either first; the legacy answers are
// those of a process that never saw a 2026-07-28 request.
test('both eras on one process, in either order, the legacy answers unchanged', async () => {
  // Legacy first.
  const a = rawServer({ home: H.home });
  await a.initialize('2025-11-25');
  const l1 = await a.request('tools/list', {});
  const m1 = await modern(a, 'tools/list');
  const l2 = await a.request('tools/list', {});
  assert.deepEqual(l2.result, l1.result, 'a legacy answer is the same after a 2026-07-28 request');
  const { resultType, ttlMs, cacheScope, _meta, ...shared } = m1.result;
  assert.deepEqual(shared, l1.result, 'the 2026-07-28 tool list is the 2025-11-25 one plus its fields');
  assert.ok(resultType && ttlMs && cacheScope && _meta);
  assert.deepEqual((await a.request('ping')).result, {});
  assert.equal((await modern(a, 'ping')).error.code, -32601);
  const again = await a.request('initialize', { protocolVersion: LATEST, capabilities: {}, clientInfo: { name: 'x', version: '1' } });
  assert.equal(again.error.code, -32600, 'still one initialize per process');
  assert.equal(await a.close(), 0);
  validateAll(a, '2025-11-25');

  // 2026-07-28 first, then a legacy connection on an old version: its
  // results keep that version's shape, and the modern ones keep theirs.
  const b = rawServer({ home: H.home });
  await modern(b, 'server/discover');
  const mb = await modern(b, 'tools/list');
  assert.equal((await b.initialize('2024-11-05')).result.protocolVersion, '2024-11-05');
  const lb = await b.request('tools/list', {});
  for (const t of lb.result.tools) assert.ok(!('annotations' in t) && !('title' in t) && !('outputSchema' in t), t.name);
  const lr = await b.request('tools/call', { name: 'recall', arguments: { query: 'tea' } });
  assert.ok(!('structuredContent' in lr.result) && !('resultType' in lr.result));
  assert.deepEqual((await modern(b, 'tools/list')).result, mb.result);
  const mr = await modern(b, 'tools/call', { name: 'recall', arguments: { query: 'tea' } });
  assert.ok('structuredContent' in mr.result);
  assert.equal(await b.close(), 0);
  validateAll(b, '2024-11-05');

  // initialize is legacy whatever its _meta.
  const c = rawServer({ home: H.home });
  const ic = await c.request('initialize', {
    protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' }, _meta: meta(),
  }, 0);
  assert.equal(ic.result.protocolVersion, '2025-06-18');
  assert.ok(!('resultType' in ic.result));
  assert.equal((await c.request('tools/list', {})).result.tools.length, 15);
  assert.equal(await c.close(), 0);
  validateAll(c, '2025-06-18');

  // In a 2025-03-26 batch each element has its own era.
  const d = rawServer({ home: H.home });
  await d.initialize('2025-03-26');
  d.methods.set(1, 'ping');
  d.methods.set('m-batch', 'prompts/list');
  const batch = await d.ask([
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { jsonrpc: '2.0', id: 'm-batch', method: 'prompts/list', params: { _meta: meta() } },
    { jsonrpc: '2.0', id: 'm-ping', method: 'ping', params: { _meta: meta() } },
  ]);
  assert.deepEqual(batch.map((x) => x.id), [1, 'm-batch', 'm-ping']);
  assert.deepEqual(batch[0].result, {});
  checkModernResult('prompts/list', batch[1].result);
  assert.equal(batch[2].error.code, -32601);
  assert.equal(await d.close(), 0);
  validateAll(d, '2025-03-26');
});
