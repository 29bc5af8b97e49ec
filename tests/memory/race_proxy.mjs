// A JSON-RPC proxy that loses every race (tests/memory/run.sh, the sync
// give-up path): it sits between `memsync --rpc` and a real node, forwards
// every request unchanged, and answers each attempt to append a memory
// version as a node answers one whose compare-and-swap lost: the call
// reverts with VersionConflict(expected, expected + 1), as if another
// writer had just appended. Nothing of the production code knows about it.
//
// Where the CLI learns a revert (tools/memsync/rpc.c): rpc_send runs
// eth_estimateGas on [{from,to,data},"latest"] before it signs anything,
// and reads a JSON-RPC error's "data" string as the revert bytes; is_race
// (tools/memsync/memstore.c) then matches the first 4 bytes against
// VersionConflict, InvalidNonce or AssetExists. The answer here is the one
// geth gives and the dev chain gives (adapters/ethereumjs/src/devchain/
// errors.js revertError): {code: 3, message: "execution reverted", data}.
// eth_call of the same calldata is refused the same way, so a client that
// simulates with eth_call first would see the same revert.
//
// Only appends (appendVersion, appendVersionSigned) are refused: a create
// would need the asset id, a keccak256 this script has no dependency for,
// and the test writes to a memory already on chain.
//
// Usage: node race_proxy.mjs --upstream URL --stats FILE [--port N]
//        [--precompile 0x..] [--max-seconds S]
// Prints "proxy http://127.0.0.1:PORT" once listening. FILE is rewritten
// after every request: {"refused": {"total", "eth_estimateGas", "eth_call",
// "expected": [versions]}, "forwarded": {method: count}}.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';

const SEL = {
  appendVersion: '74d2c158',         // appendVersion(bytes32,uint64,uint64,bytes)
  appendVersionSigned: '38c4cdcd',   // appendVersionSigned(bytes32,uint64,uint64,bytes,address,uint256,uint256,bytes)
};
const VERSION_CONFLICT = 'dd6df911'; // VersionConflict(uint64 expected, uint64 actual)
const REFUSED_SELECTORS = new Set(Object.values(SEL));

function args(argv) {
  const o = { port: 0, precompile: '0x0000000000000000000000000000000000004d53', maxSeconds: 600 };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--upstream') o.upstream = v;
    else if (k === '--stats') o.stats = v;
    else if (k === '--port') o.port = Number(v);
    else if (k === '--precompile') o.precompile = v.toLowerCase();
    else if (k === '--max-seconds') o.maxSeconds = Number(v);
    else throw new Error(`unknown option ${k}`);
  }
  if (!o.upstream || !o.stats) throw new Error('usage: race_proxy.mjs --upstream URL --stats FILE [--port N]');
  return o;
}

const opt = args(process.argv);
const stats = { refused: { total: 0, eth_estimateGas: 0, eth_call: 0, expected: [] }, forwarded: {} };
const saveStats = () => writeFileSync(opt.stats, JSON.stringify(stats) + '\n');
saveStats();

const word = (n) => n.toString(16).padStart(64, '0');

/** The revert a node would give for this request, or null to forward it. */
function refusal(req) {
  if (req === null || typeof req !== 'object') return null;
  if (req.method !== 'eth_estimateGas' && req.method !== 'eth_call') return null;
  const call = Array.isArray(req.params) ? req.params[0] : null;
  if (call === null || typeof call !== 'object') return null;
  const to = typeof call.to === 'string' ? call.to.toLowerCase() : '';
  const data = typeof call.data === 'string' ? call.data : typeof call.input === 'string' ? call.input : '';
  if (to !== opt.precompile || !/^0x[0-9a-fA-F]*$/.test(data) || data.length < 2 + 8 + 128) return null;
  if (!REFUSED_SELECTORS.has(data.slice(2, 10).toLowerCase())) return null;
  // Both appends start (bytes32 assetId, uint64 expectedVersion, ...).
  const expected = BigInt('0x' + data.slice(2 + 8 + 64, 2 + 8 + 128));
  stats.refused.total++;
  stats.refused[req.method]++;
  stats.refused.expected.push(Number(expected));
  return {
    jsonrpc: '2.0',
    id: req.id ?? null,
    error: { code: 3, message: 'execution reverted', data: '0x' + VERSION_CONFLICT + word(expected) + word(expected + 1n) },
  };
}

async function forward(body) {
  const r = await fetch(opt.upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, text: await r.text() };
}

function count(req) {
  const m = req !== null && typeof req === 'object' && typeof req.method === 'string' ? req.method : '(invalid)';
  stats.forwarded[m] = (stats.forwarded[m] ?? 0) + 1;
}

async function answer(body) {
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    count(null);
    return forward(body);   // not JSON: the node gives its own parse error
  }
  const batch = Array.isArray(parsed);
  const reqs = batch ? parsed : [parsed];
  const refused = reqs.map(refusal);
  if (refused.every((r) => r === null)) {
    reqs.forEach(count);
    return forward(body);   // unchanged, byte for byte
  }
  if (!batch) return { status: 200, text: JSON.stringify(refused[0]) };
  // A batch with a refused entry: the rest go to the node one by one.
  const out = [];
  for (let i = 0; i < reqs.length; i++) {
    if (refused[i] !== null) { out.push(refused[i]); continue; }
    count(reqs[i]);
    const r = await forward(JSON.stringify(reqs[i]));
    out.push(JSON.parse(r.text));
  }
  return { status: 200, text: JSON.stringify(out) };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let r;
    try {
      r = await answer(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      r = { status: 502, text: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `proxy: ${e.message}` } }) };
    }
    saveStats();
    const buf = Buffer.from(r.text, 'utf8');
    res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': buf.length });
    res.end(buf);
  });
});

server.listen(opt.port, '127.0.0.1', () => {
  console.log(`proxy http://127.0.0.1:${server.address().port}`);
});
// A test that dies without stopping the proxy does not leave it running for long.
setTimeout(() => process.exit(0), opt.maxSeconds * 1000).unref();
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
