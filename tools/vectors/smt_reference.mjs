// Independent reference for the state tree (spec/state.md): computes roots,
// proofs and the node records of a one-block store naively, straight from
// the definitions, with ethers' keccak256, and writes spec/vectors/smt.json and the C test table
// tests/unit/smt_vectors_gen.h. It shares no code with the C tree.
//
//   node smt_reference.mjs           write both files
//   node smt_reference.mjs --check   fail if either file differs from what it would write
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256, toUtf8Bytes, getBytes, hexlify, concat as ethersConcat, version as ethersVersion } from 'ethers';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const JSON_OUT = 'spec/vectors/smt.json';
const HEADER_OUT = 'tests/unit/smt_vectors_gen.h';

// ---------------------------------------------------------------- definition
const ZERO32 = new Uint8Array(32);
const hx = (b) => hexlify(b);
const concat = (parts) => getBytes(ethersConcat(parts));   // ethers returns hex text
const kec = (b) => getBytes(keccak256(b));
const leafHash = (path, vh) => kec(concat([new Uint8Array([0x00]), path, vh]));
const internalHash = (l, r) => kec(concat([new Uint8Array([0x01]), l, r]));
const bit = (p, i) => (p[i >> 3] >> (7 - (i & 7))) & 1;
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// leaves: [{ path, vh }] with distinct paths, all sharing the first `depth` bits.
function subtreeHash(leaves, depth) {
    if (leaves.length === 0) return ZERO32;
    if (leaves.length === 1) return leafHash(leaves[0].path, leaves[0].vh);
    if (depth >= 256) throw new Error('two leaves with one path');
    const left = leaves.filter((l) => bit(l.path, depth) === 0);
    const right = leaves.filter((l) => bit(l.path, depth) === 1);
    return internalHash(subtreeHash(left, depth + 1), subtreeHash(right, depth + 1));
}

function toLeaves(entries) {
    const leaves = entries.map((e) => ({ path: kec(e.key), vh: kec(e.value) }));
    const seen = new Set(leaves.map((l) => hx(l.path)));
    if (seen.size !== leaves.length) throw new Error('duplicate key');
    return leaves;
}

const rootOf = (entries) => subtreeHash(toLeaves(entries), 0);

// Nibble i of a path: the high half of byte i/2 when i is even, the low half when odd.
const nib = (p, i) => ((i & 1) ? p[i >> 1] & 0x0f : p[i >> 1] >> 4);
const be64 = (v) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v)); return b; };

// The node records (spec/state.md "Node store", "Nodes", value format 2) a
// store holds after applying all of `entries` in one block at `version` over
// the empty tree, sorted by key: one record for every k-nibble prefix with
// two entries or more under it. Slot s of the record at P is the subtree
// under P||s: empty, a leaf (path 32, valueHash 32), or a node (its
// subtreeHash at binary depth 4k+4, then the version u64 of its record).
// Straight from that definition: no path compression, no stored inner hashes.
function recordsOf(entries, version) {
    const records = [];
    let leafSlots = 0;
    const walk = (set, k) => {   // set: two leaves or more sharing the first k nibbles
        const prefix = new Uint8Array(32);
        for (let i = 0; i < k; i++) prefix[i >> 1] |= (i & 1) ? nib(set[0].path, i) : nib(set[0].path, i) << 4;
        const slots = Array.from({ length: 16 }, (_, s) => set.filter((l) => nib(l.path, k) === s));
        let slotMap = 0;
        let leafMap = 0;
        const body = [];
        slots.forEach((sub, s) => {
            if (sub.length === 0) return;
            slotMap |= 1 << s;
            if (sub.length === 1) {
                leafMap |= 1 << s;
                leafSlots++;
                body.push(sub[0].path, sub[0].vh);
            } else {
                body.push(subtreeHash(sub, 4 * k + 4), be64(version));
                walk(sub, k + 1);
            }
        });
        const head = new Uint8Array([0x02, slotMap >> 8, slotMap & 0xff, leafMap >> 8, leafMap & 0xff]);
        const value = concat([head, ...body]);
        const nLeaves = slots.filter((sub) => sub.length === 1).length;
        const nNodes = slots.filter((sub) => sub.length > 1).length;
        if (value.length !== 5 + 64 * nLeaves + 40 * nNodes) throw new Error('record size');
        records.push({ key: concat([new Uint8Array([0x10]), be64(version), new Uint8Array([k]), prefix]), value });
    };
    const leaves = toLeaves(entries);
    if (leaves.length >= 2) walk(leaves, 0);
    // Every entry is a leaf in exactly one slot.
    if (leafSlots !== (leaves.length >= 2 ? leaves.length : 0)) throw new Error('leaf count');
    records.sort((a, b) => (hx(a.key) < hx(b.key) ? -1 : hx(a.key) > hx(b.key) ? 1 : 0));
    return records;
}

// The proof of key, serialized as spec/state.md "Proofs" defines it.
function proofOf(entries, key) {
    const path = kec(key);
    let set = toLeaves(entries);
    let depth = 0;
    const present = [];
    const sibs = [];
    while (set.length > 1) {
        const b = bit(path, depth);
        const other = set.filter((l) => bit(l.path, depth) !== b);
        const h = subtreeHash(other, depth + 1);
        present.push(!same(h, ZERO32));
        if (!same(h, ZERO32)) sibs.push(h);
        set = set.filter((l) => bit(l.path, depth) === b);
        depth++;
    }
    let kind;
    let term;
    if (set.length === 0) {
        kind = 2;
        term = new Uint8Array(0);
    } else if (same(set[0].path, path)) {
        kind = 1;
        term = set[0].vh;
    } else {
        kind = 3;
        term = concat([set[0].path, set[0].vh]);
    }
    const bitmap = new Uint8Array(Math.ceil(depth / 8));
    present.forEach((p, d) => { if (p) bitmap[d >> 3] |= 0x80 >> (d & 7); });
    const head = new Uint8Array([0x01, kind, ...path, depth >> 8, depth & 0xff]);
    return { kind, depth, bytes: getBytes(concat([head, bitmap, term, ...sibs])) };
}

// ------------------------------------------------------------------ the data
const label = (s) => kec(toUtf8Bytes(s));
const pattern = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (seed * 7 + i * 13 + 5) & 0xff);

function pairLongPrefix() {
    // The two labels, among 4096, whose paths share the longest prefix.
    const cands = [];
    for (let i = 0; i < 4096; i++) {
        const key = toUtf8Bytes(`memsync.smt.pair.${i}`);
        cands.push({ key, path: kec(key) });
    }
    cands.sort((a, b) => (hx(a.path) < hx(b.path) ? -1 : 1));
    let best = null;
    for (let i = 1; i < cands.length; i++) {
        let n = 0;
        while (n < 256 && bit(cands[i - 1].path, n) === bit(cands[i].path, n)) n++;
        if (best === null || n > best.n) best = { n, a: cands[i - 1], b: cands[i] };
    }
    return best;
}

function stateKey(tag, i) {
    // Key shapes of storage/records.h: tag || 32-byte id [|| u64 | address | u32].
    const id = label(`memsync.smt.asset.${i >> 2}`);
    switch (tag) {
    case 1: return concat([new Uint8Array([1]), id]);
    case 2: return concat([new Uint8Array([2]), id, new Uint8Array([0, 0, 0, 0, 0, 0, 0, i & 0xff])]);
    case 4: return concat([new Uint8Array([4]), id, label(`grantee.${i}`).slice(12)]);
    default: return concat([new Uint8Array([6]), label(`nonce.${i}`).slice(12)]);
    }
}

function buildSets() {
    const sets = [];
    const k = (s) => toUtf8Bytes(s);

    sets.push({ name: 'empty', entries: [], queries: [k('absent')] });
    sets.push({ name: 'single', entries: [{ key: k('alpha'), value: k('one') }], queries: [k('alpha'), k('beta')] });

    const pair = pairLongPrefix();
    sets.push({
        name: `pair-prefix-${pair.n}-bits`,
        entries: [{ key: pair.a.key, value: k('left') }, { key: pair.b.key, value: k('right') }],
        queries: [pair.a.key, pair.b.key, k('gamma')],
    });

    const mixed = [];
    mixed.push({ key: new Uint8Array(0), value: k('the empty key') });
    mixed.push({ key: k('empty value'), value: new Uint8Array(0) });
    for (let i = 0; i < 18; i++) mixed.push({ key: label(`mixed.${i}`).slice(0, 1 + (i * 5) % 33), value: pattern((i * 11) % 70, i) });
    sets.push({ name: 'mixed-20', entries: mixed, queries: [mixed[0].key, mixed[1].key, mixed[7].key, k('not there')] });

    const state = [];
    const tags = [1, 2, 4, 6];
    for (let i = 0; i < 300; i++) state.push({ key: stateKey(tags[i % 4], i), value: pattern(8 + (i * 29) % 117, i) });
    sets.push({ name: 'state-300', entries: state, queries: [state[0].key, state[123].key, state[299].key, stateKey(1, 9999), stateKey(6, 4242)] });

    return sets.map((s) => ({
        name: s.name,
        entries: s.entries,
        root: rootOf(s.entries),
        records: recordsOf(s.entries, 1),
        proofs: s.queries.map((q) => {
            const e = s.entries.find((x) => same(x.key, q));
            const p = proofOf(s.entries, q);
            if ((p.kind === 1) !== (e !== undefined)) throw new Error('proof kind');
            return { key: q, value: e ? e.value : null, ...p };
        }),
    }));
}

function buildSequence() {
    // Blocks of updates (value null: delete) applied in order; root after each.
    const key = (i) => toUtf8Bytes(`memsync.smt.seq.${i}`);
    const val = (i, round) => pattern(1 + (i * 3 + round) % 40, i + round * 100);
    const blocks = [];
    const ins = [];
    for (let i = 0; i < 60; i++) ins.push({ key: key(i), value: val(i, 0) });
    blocks.push(ins);
    const mix = [];
    for (let i = 0; i < 60; i += 3) mix.push({ key: key(i), value: val(i, 1) });       // update
    for (let i = 1; i < 60; i += 3) mix.push({ key: key(i), value: null });            // delete
    mix.push({ key: key(1000), value: null });                                          // absent
    mix.push({ key: key(61), value: new Uint8Array(0) });                               // insert empty value
    blocks.push(mix);
    blocks.push([]);                                                                    // no change
    const most = [];
    for (let i = 0; i < 62; i++) if ((i % 3 !== 1 || i === 61) && i !== 5) most.push({ key: key(i), value: null });
    blocks.push(most);
    blocks.push([{ key: key(5), value: null }, { key: key(5000), value: toUtf8Bytes('x') }]);
    blocks.push([{ key: key(5000), value: null }]);

    const state = new Map();
    return blocks.map((ops) => {
        for (const op of ops) {
            if (op.value === null) state.delete(hx(op.key));
            else state.set(hx(op.key), { key: op.key, value: op.value });
        }
        return { ops, root: rootOf([...state.values()]), entries: state.size };
    });
}

// ------------------------------------------------------------------- output
function render() {
    const sets = buildSets();
    const seq = buildSequence();
    if (!same(sets[0].root, ZERO32)) throw new Error('empty root must be zero');
    if (!same(seq[seq.length - 1].root, ZERO32)) throw new Error('deleting everything must give the zero root');

    const json = {
        description: 'State tree (spec/state.md): roots and proofs computed naively from the recursive definition ' +
            'by tools/vectors/smt_reference.mjs with ethers.keccak256. Keys and values are raw bytes; ' +
            'path = keccak256(key), valueHash = keccak256(value); proof kinds 1 inclusion, 2 absent (empty), 3 absent (other leaf). ' +
            'A set\'s records are the format 2 node records (spec/state.md "Nodes", key 0x10 || version || depth || prefix) ' +
            'a store holds after applying all its entries in one block at version 1 over the empty tree, sorted by key.',
        source: `npm ethers@${ethersVersion}`,
        sets: sets.map((s) => ({
            name: s.name,
            root: hx(s.root),
            entries: s.entries.map((e) => ({ key: hx(e.key), value: hx(e.value) })),
            proofs: s.proofs.map((p) => ({
                key: hx(p.key), value: p.value === null ? null : hx(p.value), kind: p.kind, depth: p.depth, proof: hx(p.bytes),
            })),
            records: s.records.map((r) => ({ key: hx(r.key), value: hx(r.value) })),
        })),
        sequence: seq.map((b, i) => ({
            height: i + 1,
            ops: b.ops.map((o) => ({ key: hx(o.key), value: o.value === null ? null : hx(o.value) })),
            entries: b.entries,
            root: hx(b.root),
        })),
    };
    const jsonText = JSON.stringify(json, null, 2) + '\n';

    const q = (s) => `"${s}"`;
    const L = [];
    L.push(`/* Generated by tools/vectors/smt_reference.mjs from ${JSON_OUT} — do not edit.`);
    L.push(` * Source: npm ethers@${ethersVersion} (keccak256), naive recursive roots and proofs.`);
    L.push(' * Included only by tests/unit/test_smt.c. */');
    L.push('#ifndef MS_TESTS_SMT_VECTORS_GEN_H');
    L.push('#define MS_TESTS_SMT_VECTORS_GEN_H');
    L.push('');
    L.push('#include <stddef.h>');
    L.push('');
    L.push('typedef struct ms_smt_vec_kv { const char *key_hex; const char *value_hex; /* NULL: delete */ } ms_smt_vec_kv;');
    L.push('typedef struct ms_smt_vec_proof { const char *key_hex; const char *value_hex; /* NULL: absent */ int kind; unsigned depth; const char *proof_hex; } ms_smt_vec_proof;');
    L.push('typedef struct ms_smt_vec_set { const char *name; const char *root_hex; const ms_smt_vec_kv *entries; size_t n_entries; const ms_smt_vec_proof *proofs; size_t n_proofs; ' +
        'const ms_smt_vec_kv *records; size_t n_records; } ms_smt_vec_set;');
    L.push('typedef struct ms_smt_vec_block { unsigned long height; const ms_smt_vec_kv *ops; size_t n_ops; unsigned long entries; const char *root_hex; } ms_smt_vec_block;');
    L.push('');
    json.sets.forEach((s, si) => {
        L.push(`/* set ${s.name} */`);
        L.push(`static const ms_smt_vec_kv ms_smt_vec_set${si}_entries[] = {`);
        if (s.entries.length === 0) L.push('    { NULL, NULL }');
        for (const e of s.entries) L.push(`    { ${q(e.key)}, ${q(e.value)} },`);
        L.push('};');
        L.push(`static const ms_smt_vec_proof ms_smt_vec_set${si}_proofs[] = {`);
        for (const p of s.proofs) L.push(`    { ${q(p.key)}, ${p.value === null ? 'NULL' : q(p.value)}, ${p.kind}, ${p.depth}, ${q(p.proof)} },`);
        L.push('};');
        L.push(`static const ms_smt_vec_kv ms_smt_vec_set${si}_records[] = {`);
        if (s.records.length === 0) L.push('    { NULL, NULL }');
        for (const r of s.records) L.push(`    { ${q(r.key)}, ${q(r.value)} },`);
        L.push('};');
    });
    L.push('static const ms_smt_vec_set ms_smt_vec_sets[] = {');
    json.sets.forEach((s, si) => {
        L.push(`    { ${q(s.name)}, ${q(s.root)}, ms_smt_vec_set${si}_entries, ${s.entries.length}, ` +
            `ms_smt_vec_set${si}_proofs, ${s.proofs.length}, ms_smt_vec_set${si}_records, ${s.records.length} },`);
    });
    L.push('};');
    L.push('#define MS_SMT_VEC_SETS_COUNT (sizeof ms_smt_vec_sets / sizeof ms_smt_vec_sets[0])');
    L.push('');
    json.sequence.forEach((b, bi) => {
        L.push(`static const ms_smt_vec_kv ms_smt_vec_block${bi}_ops[] = {`);
        if (b.ops.length === 0) L.push('    { NULL, NULL }');
        for (const o of b.ops) L.push(`    { ${q(o.key)}, ${o.value === null ? 'NULL' : q(o.value)} },`);
        L.push('};');
    });
    L.push('static const ms_smt_vec_block ms_smt_vec_blocks[] = {');
    json.sequence.forEach((b, bi) => {
        L.push(`    { ${b.height}, ms_smt_vec_block${bi}_ops, ${b.ops.length}, ${b.entries}, ${q(b.root)} },`);
    });
    L.push('};');
    L.push('#define MS_SMT_VEC_BLOCKS_COUNT (sizeof ms_smt_vec_blocks / sizeof ms_smt_vec_blocks[0])');
    L.push('');
    L.push('#endif');
    const headerText = L.join('\n') + '\n';
    return new Map([[JSON_OUT, jsonText], [HEADER_OUT, headerText]]);
}

const files = render();
if (process.argv.includes('--check')) {
    let failed = 0;
    for (const [rel, text] of files) {
        const p = join(ROOT, rel);
        if (existsSync(p) && readFileSync(p, 'utf8') === text) {
            console.log(`ok: ${rel} matches the reference`);
        } else {
            failed++;
            console.error(`FAIL: ${rel} differs from tools/vectors/smt_reference.mjs; regenerate it, do not edit it`);
        }
    }
    process.exit(failed === 0 ? 0 : 1);
} else {
    for (const [rel, text] of files) {
        writeFileSync(join(ROOT, rel), text);
        console.log(`wrote ${rel}`);
    }
}
