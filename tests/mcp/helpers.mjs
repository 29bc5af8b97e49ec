// Shared helpers of the `memsync mcp` tests: homes, servers driven by the
// official SDK or by raw lines, and the schema checks of every line the
// server writes (spec/mcp.md [MCP-1], [MCP-60]).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after } from 'node:test';

import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const BIN = process.env.MEMSYNC_BIN ?? path.join(ROOT, 'build/memsync');
export const MODULE = process.env.MEMSYNC_MODULE ?? path.join(ROOT, 'build/libmemsync.so');
// The schemas: ../shared/mcp-schema beside the repository (CI), else MCP_SCHEMA_DIR.
export const SCHEMA_DIR = process.env.MCP_SCHEMA_DIR ?? path.resolve(ROOT, '../shared/mcp-schema');
export const PASSPHRASE = 'mcp-test passphrase 5d1e';
export const VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
export const LATEST = '2025-11-25';

const temps = [];
// Every child process started here; a failing test must not leave one
// running (it would keep the test file's process alive).
const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
export function killAll() {
  for (const c of children) c.kill('SIGKILL');
}
// Under `node --test` (each file in its own process) the hook runs after the file's tests.
if (process.env.NODE_TEST_CONTEXT) after(killAll);

export function tempDir(prefix = 'memsync-mcp-') {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
process.on('exit', () => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** Run the CLI; throws unless it exits with `expect`. */
export function cli(args, { env = {}, expect = 0, input } = {}) {
  const r = spawnSync(BIN, args, {
    env: { ...process.env, MEMSYNC_PASSPHRASE: PASSPHRASE, MEMSYNC_MODULE: MODULE, ...env },
    input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== expect) {
    throw new Error(`memsync ${args.join(' ')}: exit ${r.status} (expected ${expect}): ${r.stderr}`);
  }
  return r.stdout;
}

/** A fresh home with a key file (fast KDF); its passphrase file beside it. */
export function newHome() {
  const dir = tempDir();
  const home = path.join(dir, 'home');
  cli(['keygen', '--home', home, '--fast-kdf']);
  const pass = path.join(dir, 'passphrase');
  writeFileSync(pass, PASSPHRASE, { mode: 0o600 });
  return { home, pass, dir };
}

// ------------------------------------------------------------------ schemas

const validators = new Map();
function schemaFor(version) {
  // 2025-11-25 is JSON Schema 2020-12; 2025-06-18 (also used for the older
  // versions, whose messages ours are a subset of) is draft-07.
  const v = version === '2025-11-25' ? '2025-11-25' : '2025-06-18';
  if (validators.has(v)) return validators.get(v);
  const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, v, 'schema.json'), 'utf8'));
  const ajv = v === '2025-11-25' ? new Ajv2020({ allowUnionTypes: true, strict: false })
    : new Ajv({ allowUnionTypes: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(schema, 'mcp');
  const defs = v === '2025-11-25' ? '$defs' : 'definitions';
  const cache = new Map();
  const get = (name) => {
    if (!cache.has(name)) cache.set(name, ajv.compile({ $ref: `mcp#/${defs}/${name}` }));
    return cache.get(name);
  };
  const entry = { v, get };
  validators.set(v, entry);
  return entry;
}

/** The schema type of each method's result (the 2026-07-28 tests reuse it). */
export const RESULT_TYPES = {
  initialize: 'InitializeResult',
  ping: 'EmptyResult',
  'tools/list': 'ListToolsResult',
  'tools/call': 'CallToolResult',
  'resources/list': 'ListResourcesResult',
  'resources/templates/list': 'ListResourceTemplatesResult',
  'resources/read': 'ReadResourceResult',
  'prompts/list': 'ListPromptsResult',
  'prompts/get': 'GetPromptResult',
};

/**
 * Check every line the server wrote: one JSON-RPC message per line (or, on
 * 2025-03-26, a batch array), valid against the version's JSONRPCMessage,
 * and each result against the type of the method its id was sent with.
 * methods: Map id -> method (of the requests sent).
 */
export function validateLines(lines, version, methods = new Map()) {
  const { v, get } = schemaFor(version);
  const msgSchema = get('JSONRPCMessage');
  let checked = 0;
  for (const line of lines) {
    assert.ok(!line.includes('\n'), 'a message never spans lines');
    const parsed = JSON.parse(line);
    const msgs = Array.isArray(parsed) ? parsed : [parsed];
    if (Array.isArray(parsed)) assert.equal(version, '2025-03-26', 'batch answers only on 2025-03-26');
    for (const m of msgs) {
      if (!msgSchema(m)) {
        // notes §4: an error for an unreadable id omits the id, which
        // 2025-11-25 allows and 2025-06-18 does not; that case only is
        // checked with an id put in.
        const unreadable = v === '2025-06-18' && m.error !== undefined && !('id' in m);
        assert.ok(unreadable && msgSchema({ ...m, id: 0 }),
          `line fails ${v} JSONRPCMessage: ${JSON.stringify(msgSchema.errors)}\n${line.slice(0, 500)}`);
      }
      if (m.result !== undefined) {
        const method = methods.get(m.id);
        assert.ok(method !== undefined, `a result for an id never sent: ${JSON.stringify(m.id)}`);
        const type = RESULT_TYPES[method];
        assert.ok(type, `no result type known for ${method}`);
        const check = get(type);
        assert.ok(check(m.result), `${method} result fails ${v} ${type}: ${JSON.stringify(check.errors)}\n${line.slice(0, 500)}`);
      }
      checked++;
    }
  }
  return checked;
}

// --------------------------------------------------------------- raw lines

/**
 * Start a server and talk to it in raw lines. send(obj|string|Buffer) writes
 * one line; request(method, params) sends a request and resolves with its
 * response; close() ends stdin and resolves with the exit code.
 */
export function rawServer({ home, args = [], env = {} }) {
  const child = track(spawn(BIN, ['mcp', '--home', home, ...args], {
    env: { ...process.env, MEMSYNC_PASSPHRASE: PASSPHRASE, MEMSYNC_MODULE: MODULE, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  }));
  const lines = [];
  const waiters = [];
  let buf = Buffer.alloc(0);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    let i;
    while ((i = buf.indexOf(10)) >= 0) {
      const line = buf.subarray(0, i).toString('utf8');
      buf = buf.subarray(i + 1);
      lines.push(line);
      for (const w of [...waiters]) w();
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const methods = new Map();
  let nextId = 1000;
  const srv = {
    child,
    lines,
    methods,
    get stderr() { return stderr; },
    send(x) {
      const s = Buffer.isBuffer(x) ? x : Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));
      if (!Buffer.isBuffer(x) && typeof x === 'object' && x.id !== undefined && x.method) methods.set(x.id, x.method);
      child.stdin.write(Buffer.concat([s, Buffer.from('\n')]));
    },
    /** Resolves when `n` lines in total have arrived. */
    waitLines(n, ms = 20000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout waiting for line ${n}; got ${lines.length}; stderr: ${stderr}`)), ms);
        const check = () => {
          if (lines.length >= n) {
            clearTimeout(t);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(lines.slice(0, n));
          }
        };
        waiters.push(check);
        check();
      });
    },
    /** Send and wait for exactly one more line; returns it parsed. */
    async ask(x) {
      const n = lines.length + 1;
      srv.send(x);
      const got = await srv.waitLines(n);
      return JSON.parse(got[n - 1]);
    },
    async request(method, params, id = nextId++) {
      const msg = { jsonrpc: '2.0', id, method };
      if (params !== undefined) msg.params = params;
      return srv.ask(msg);
    },
    async initialize(version = LATEST) {
      const r = await srv.request('initialize', {
        protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw-test', version: '1' },
      }, 0);
      srv.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return r;
    },
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return srv;
}

// --------------------------------------------------------------------- SDK

/** The SDK's stdio transport, also keeping the raw bytes the server wrote
 *  and the method of every request id it sent. */
export class RecordingTransport extends StdioClientTransport {
  constructor(opts) {
    super(opts);
    this.raw = [];
    this.methods = new Map();
  }

  async start() {
    await super.start();
    track(this._process);
    this._process.stdout.on('data', (d) => this.raw.push(Buffer.from(d)));
  }

  async send(message) {
    if (message.id !== undefined && message.method) this.methods.set(message.id, message.method);
    return super.send(message);
  }

  lines() {
    const text = Buffer.concat(this.raw).toString('utf8');
    assert.ok(text === '' || text.endsWith('\n'), 'every message ends with a newline');
    return text.split('\n').slice(0, -1);
  }
}

/** An SDK client connected to `memsync mcp` on home (extra CLI args). */
export async function sdkClient({ home, pass, args = [], env = {}, name = 'sdk-test' }) {
  const transport = new RecordingTransport({
    command: BIN,
    args: ['mcp', '--home', home, ...(pass ? ['--passphrase-file', pass] : []), ...args],
    env: {
      ...process.env,
      ...(pass ? {} : { MEMSYNC_PASSPHRASE: PASSPHRASE }),
      MEMSYNC_MODULE: MODULE,
      ...env,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  // listTools first: the SDK then checks every structuredContent against its outputSchema.
  await client.listTools();
  return {
    client,
    transport,
    get stderr() { return stderr; },
    /** Close, and check every line written against the schema. */
    async close() {
      await client.close();
      validateLines(transport.lines(), LATEST, transport.methods);
    },
  };
}

const GRAPH = new Set(['create_entities', 'create_relations', 'add_observations', 'delete_entities',
  'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes']);

/** structuredContent of a successful call. The MemSync tools' text block
 *  repeats that JSON; the graph tools' texts are the official server's. */
export async function call(c, name, args = {}) {
  const r = await c.client.callTool({ name, arguments: args });
  assert.ok(!r.isError, `${name} failed: ${r.content?.[0]?.text}`);
  if (!GRAPH.has(name)) {
    assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent, `${name}: the text block repeats the JSON`);
  }
  return r.structuredContent;
}

// --------------------------------------------------------------- dev chain

/** Start the dev chain on a free port. Resolves {url, keys, stop()}. */
export async function startDevChain() {
  const dc = path.join(ROOT, 'adapters/ethereumjs/bin/devchain.js');
  const data = tempDir('memsync-mcp-chain-');
  const child = track(spawn(process.execPath, [dc, '--port', '0', '--data', data, '--chain-id', '31337'], {
    env: { ...process.env, MEMSYNC_LIBRARY: MODULE },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const deadline = Date.now() + 60000;
  while (!/Listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the dev chain did not start: ${out.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = out.match(/http:\/\/127\.0\.0\.1:\d+/)[0];
  const keys = [...out.matchAll(/key (0x[0-9a-fA-F]{64})/g)].map((m) => m[1]);
  return {
    url,
    keys,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    },
  };
}
