#!/usr/bin/env node
// make bench: latency of `memsync mcp` calls at 5,000 facts, through the
// official SDK (the client's view: JSON-RPC over stdio, load and decrypt of
// the local copy, ranking, result). A fresh local-only home is filled with
// `memsync import --format text` of generated facts, then recall and
// get_context are called ROUNDS times each (and remember, the write path).
// Usage: MEMSYNC_BIN=build/memsync node bench_mcp.mjs OUT.json
// BENCH_FACTS=N and BENCH_ROUNDS=N change 5,000 and 60; BENCH_SEED the text.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { cli, newHome, sdkClient } from './helpers.mjs';

const FACTS = Number(process.env.BENCH_FACTS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: MEMSYNC_BIN=... node bench_mcp.mjs OUT.json\n');
  process.exit(1);
}

// A small deterministic generator, so every run ranks the same text.
let seed = Number(process.env.BENCH_SEED ?? 0x5eed) >>> 0;
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const pick = (a) => a[Math.floor(rand() * a.length)];
const SUBJECTS = ['prefers', 'enjoys', 'works on', 'is learning', 'plans a trip to', 'lives near', 'owns', 'avoids',
  'reads about', 'cooks', 'collects', 'practises', 'studies', 'writes about', 'volunteers at'];
const THINGS = ['rust', 'python', 'lisbon', 'kyoto', 'hiking', 'chess', 'jazz', 'espresso', 'sourdough', 'cycling',
  'climbing', 'photography', 'gardening', 'astronomy', 'sailing', 'pottery', 'typescript', 'compilers', 'databases',
  'marathons', 'yoga', 'violin', 'tennis', 'poetry', 'history', 'robotics', 'painting', 'birds', 'tea', 'cheese'];
const WHEN = ['on weekends', 'every morning', 'since 2019', 'with friends', 'at work', 'in the evenings', 'in winter',
  'for fun', 'with the family', 'twice a week'];

function facts(n) {
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`- User ${pick(SUBJECTS)} ${pick(THINGS)} and ${pick(THINGS)} ${pick(WHEN)} (#${i})`);
  return `${lines.join('\n')}\n`;
}

function stats(samples) {
  const s = [...samples].sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const r = (x) => Math.round(x * 1000) / 1000;
  return { n: s.length, median_ms: r(q(0.5)), p90_ms: r(q(0.9)), min_ms: r(s[0]), max_ms: r(s[s.length - 1]) };
}

async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const h = newHome();
const file = path.join(h.dir, 'facts.txt');
writeFileSync(file, facts(FACTS));
let t = performance.now();
const imported = cli(['import', '--home', h.home, '--format', 'text', file]).trim();
const fillMs = performance.now() - t;

const c = await sdkClient(h);
const listed = await c.client.callTool({ name: 'list_memories', arguments: { limit: 1 } });
const total = listed.structuredContent.total;
if (total !== FACTS) throw new Error(`the home holds ${total} facts, not ${FACTS} (${imported})`);

// Warm up (page cache, allocator), then measure.
for (let i = 0; i < 5; i++) {
  await c.client.callTool({ name: 'recall', arguments: { query: 'warm up' } });
  await c.client.callTool({ name: 'get_context', arguments: {} });
}
const recall = [];
const context = [];
const remember = [];
for (let i = 0; i < ROUNDS; i++) {
  const query = `${pick(THINGS)} ${pick(THINGS)} ${pick(WHEN)}`;
  recall.push(await time(async () => {
    const r = await c.client.callTool({ name: 'recall', arguments: { query, limit: 10 } });
    if (r.isError || r.structuredContent.count === 0) throw new Error(`recall failed: ${r.content[0].text}`);
  }));
  context.push(await time(async () => {
    const r = await c.client.callTool({ name: 'get_context', arguments: {} });
    if (r.isError) throw new Error(`get_context failed: ${r.content[0].text}`);
  }));
}
for (let i = 0; i < Math.min(ROUNDS, 20); i++) {
  remember.push(await time(async () => {
    const r = await c.client.callTool({ name: 'remember', arguments: { text: `bench fact ${i}`, categories: ['interests'] } });
    if (r.isError) throw new Error(`remember failed: ${r.content[0].text}`);
  }));
}
await c.close();

const report = {
  bench: 'memsync mcp, local home, via @modelcontextprotocol/sdk over stdio',
  facts: FACTS,
  fill: { command: 'memsync import --format text', ms: Math.round(fillMs), result: imported },
  recall: stats(recall),
  get_context: stats(context),
  remember: stats(remember),
  node: process.version,
};
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
const line = (name, s) => `  ${name.padEnd(12)} median ${s.median_ms.toFixed(2)} ms   p90 ${s.p90_ms.toFixed(2)} ms   ` +
  `min ${s.min_ms.toFixed(2)} ms   max ${s.max_ms.toFixed(2)} ms   (n=${s.n})`;
process.stdout.write(`memsync mcp at ${FACTS} facts (filled in ${report.fill.ms} ms):\n` +
  `${line('recall', report.recall)}\n${line('get_context', report.get_context)}\n${line('remember', report.remember)}\n` +
  `  written to ${out}\n`);
