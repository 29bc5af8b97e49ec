// Shared generation logic for MemSync's independent known-answer vectors.
//
// Everything here is computed by npm packages (ethers, solc-js), never by the
// project's C code. generate.mjs writes the result; check.mjs compares it,
// byte for byte, with the committed files.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ethers from 'ethers';

const require = createRequire(import.meta.url);
const solc = require('solc');

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');

const SPEC_REL = 'spec/IMemSync.sol';
const GENERATED_BY = 'tools/vectors/generate.mjs';

// ------------------------------------------------------------------ helpers

function pkgVersion(name) {
    return JSON.parse(readFileSync(join(HERE, 'node_modules', name, 'package.json'), 'utf8')).version;
}

function fail(msg) {
    throw new Error(msg);
}

function assert(cond, msg) {
    if (!cond) fail(`assertion failed: ${msg}`);
}

/** Plain byte-order comparison (locale independent). */
function cmp(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** camelCase / PascalCase -> UPPER_SNAKE. */
export function upperSnake(name) {
    return name
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
        .toUpperCase();
}

/** Deterministic byte pattern: byte i = (i*7 + 3) mod 256. */
export function pattern(len, mul = 7, add = 3) {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = (i * mul + add) % 256;
    return out;
}

const hex = (b) => ethers.hexlify(b);
const label = (s) => ethers.keccak256(ethers.toUtf8Bytes(s));
const labelAddr = (s) => ethers.getAddress('0x' + label(s).slice(-40));
const word = (v) => ethers.toBeHex(v, 32);
const U64_MAX = (1n << 64n) - 1n;
const U256_MAX = ethers.MaxUint256;

function cstr(s) {
    assert(/^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s), `plain C string: ${s}`);
    return `"${s}"`;
}

function u64lit(v) {
    const n = BigInt(v);
    assert(n >= 0n && n <= U64_MAX, `uint64 range: ${v}`);
    return `UINT64_C(${n.toString()})`;
}

// -------------------------------------------------------------- compilation

export function compileSpec() {
    const source = readFileSync(join(ROOT, SPEC_REL), 'utf8');
    const input = {
        language: 'Solidity',
        sources: { 'IMemSync.sol': { content: source } },
        settings: {
            outputSelection: { '*': { '*': ['abi', 'evm.methodIdentifiers'] } },
        },
    };
    const out = JSON.parse(solc.compile(JSON.stringify(input)));
    const diags = out.errors || [];
    const errors = diags.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
        fail(`solc failed to compile ${SPEC_REL}:\n` +
            errors.map((e) => e.formattedMessage || e.message).join('\n'));
    }
    const contract = out.contracts?.['IMemSync.sol']?.IMemSync;
    if (!contract) fail(`solc produced no IMemSync contract from ${SPEC_REL}`);
    return {
        abi: contract.abi,
        methodIdentifiers: contract.evm.methodIdentifiers,
        warnings: diags.filter((d) => d.severity !== 'error').map((d) => d.formattedMessage || d.message),
    };
}

// ----------------------------------------------------------------- building

export async function buildAll() {
    const versions = {
        ethers: pkgVersion('ethers'),
        solc: pkgVersion('solc'),
        solcCompiler: solc.version(),
    };
    assert(versions.ethers === ethers.version, 'ethers module version matches its package.json');
    const SOURCE = `npm ethers@${versions.ethers}, npm solc@${versions.solc} (solc-js bundled compiler ${versions.solcCompiler})`;

    const checks = []; // self-checks performed (names), counted by check.mjs
    const check = (cond, name) => {
        assert(cond, name);
        checks.push(name);
    };

    const compiled = compileSpec();
    checks.push(`solc compiles ${SPEC_REL} without errors`);
    const iface = new ethers.Interface(compiled.abi);

    // ------------------------------------------------------------ selectors
    const fns = [];
    iface.forEachFunction((f) => fns.push(f));
    const errs = [];
    iface.forEachError((e) => errs.push(e));
    const evs = [];
    iface.forEachEvent((e) => evs.push(e));

    const mk = (list, prefix, kind) => {
        const items = list.map((x) => {
            const signature = x.format('sighash');
            const value = kind === 'event' ? x.topicHash : x.selector;
            check(value === (kind === 'event' ? ethers.id(signature) : ethers.id(signature).slice(0, 10)),
                `${kind} ${signature}: ethers fragment hash equals keccak256 of the signature`);
            return { name: x.name, macro: `${prefix}${upperSnake(x.name)}`, signature, value, fragment: x };
        });
        items.sort((a, b) => cmp(a.macro, b.macro) || cmp(a.signature, b.signature));
        const seen = new Set();
        for (const it of items) {
            if (seen.has(it.macro)) fail(`duplicate macro ${it.macro} (overloaded ${kind}?)`);
            seen.add(it.macro);
        }
        return items;
    };
    const functions = mk(fns, 'MS_FN_', 'function');
    const errors = mk(errs, 'MS_E_', 'error');
    const events = mk(evs, 'MS_EV_', 'event');

    // A dispatcher needs distinct selectors (and distinct error selectors).
    for (const [kind, list] of [['function', functions], ['error', errors], ['event', events]]) {
        check(new Set(list.map((x) => x.value)).size === list.length, `${kind} selectors/topics are distinct`);
    }

    // solc's own selectors must agree with ethers'.
    const solcIds = compiled.methodIdentifiers;
    check(Object.keys(solcIds).length === functions.length, 'solc and ethers list the same number of functions');
    for (const f of functions) {
        check(solcIds[f.signature] === f.value.slice(2), `solc methodIdentifiers agree for ${f.signature}`);
    }

    const files = new Map();
    files.set('abi/selectors.h', renderSelectorsH(functions, errors, events));

    const header = (extra) => ({ source: SOURCE, generated_by: GENERATED_BY, ...extra });

    // --------------------------------------------------------------- keccak
    const keccakLens = [1, 31, 32, 33, 135, 136, 137, 271, 272, 273, 1000, 4096];
    const keccakVectors = [
        { name: 'empty', length: 0, input: '0x', digest: ethers.keccak256('0x') },
        { name: 'abc', length: 3, input: hex(ethers.toUtf8Bytes('abc')), digest: ethers.keccak256(ethers.toUtf8Bytes('abc')) },
        ...keccakLens.map((n) => {
            const input = hex(pattern(n));
            return { name: `pattern-${n}`, length: n, input, digest: ethers.keccak256(input) };
        }),
    ];
    check(keccakVectors[0].digest === '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
        'keccak256 of empty input is the well-known value');
    const keccakJson = header({
        description: 'Keccak-256 (Ethereum, padding 0x01) known answers from ethers.keccak256.',
        pattern: 'pattern-N inputs are N bytes with byte i = (i*7 + 3) mod 256',
        vectors: keccakVectors,
    });

    // ------------------------------------------------------------ selectors
    const selJson = header({
        description: 'Canonical signatures of spec/IMemSync.sol (compiled by solc) and their selectors (functions, errors: first 4 bytes of keccak256) or topic0 (events: full keccak256).',
        functions: functions.map((f) => ({ name: f.name, signature: f.signature, selector: f.value })),
        errors: errors.map((e) => ({ name: e.name, signature: e.signature, selector: e.value })),
        events: events.map((e) => ({ name: e.name, signature: e.signature, topic0: e.value })),
    });

    // ------------------------------------------------------------------ abi
    const abiJson = buildAbi(functions, errors, iface, header, check);

    // --------------------------------------------------------------- eip712
    const eipJson = await buildEip712(header, check, iface);

    // --------------------------------------------------------- version hash
    const vhJson = buildVersionHash(header, check);

    const json = (o) => JSON.stringify(o, null, 2) + '\n';
    files.set('spec/vectors/keccak.json', json(keccakJson));
    files.set('spec/vectors/selectors.json', json(selJson));
    files.set('spec/vectors/abi.json', json(abiJson));
    files.set('spec/vectors/eip712.json', json(eipJson));
    files.set('spec/vectors/version_hash.json', json(vhJson));
    files.set('tests/unit/vectors_gen.h',
        renderVectorsGenH({ keccakJson, functions, errors, events, abiJson, eipJson, vhJson }));

    return { files, checks, warnings: compiled.warnings, versions };
}

// ------------------------------------------------------------- selectors.h

function renderSelectorsH(functions, errors, events) {
    const L = [];
    L.push('/* Generated by tools/vectors/generate.mjs from spec/IMemSync.sol — do not edit.');
    L.push(' * Function selectors (MS_FN_*), custom error selectors (MS_E_*) and event');
    L.push(' * topic0 initializers (MS_EV_*), computed by ethers from the ABI that solc');
    L.push(' * compiles. Macros only: this header defines no data. */');
    L.push('#ifndef MS_ABI_SELECTORS_H');
    L.push('#define MS_ABI_SELECTORS_H');
    L.push('');
    const block = (title, items) => {
        L.push(`/* ${title} */`);
        const w = Math.max(...items.map((x) => x.macro.length));
        for (const x of items) {
            L.push(`#define ${x.macro.padEnd(w)} 0x${x.value.slice(2)}u /* ${x.signature} */`);
        }
        L.push('');
    };
    block(`Functions: ${functions.length}`, functions);
    L.push(`#define MS_FN_COUNT ${functions.length}u`);
    L.push('');
    block(`Custom errors: ${errors.length}`, errors);
    L.push(`#define MS_E_COUNT ${errors.length}u`);
    L.push('');
    L.push(`/* Events: ${events.length}. Each expands to a 32-byte initializer list of topic0. */`);
    for (const e of events) {
        const b = ethers.getBytes(e.value);
        const row = (s) => Array.from(b.slice(s, s + 16), (x) => '0x' + x.toString(16).padStart(2, '0')).join(', ');
        L.push(`/* ${e.signature} */`);
        L.push(`#define ${e.macro} { \\`);
        L.push(`    ${row(0)}, \\`);
        L.push(`    ${row(16)} }`);
    }
    L.push('');
    L.push(`#define MS_EV_COUNT ${events.length}u`);
    L.push('');
    L.push('#endif');
    return L.join('\n') + '\n';
}

// --------------------------------------------------------------------- abi

// Fixed example arguments by parameter name (then by type).
const EXAMPLE_UINT = {
    expectedVersion: 3n,
    keyEpoch: 2n,
    version: 5n,
    upToVersion: 4n,
    expiry: 1767225600n,
    permissions: 3n,
    nonce: 42n,
    deadline: 1893456000n,
    reason: 4n,
    kind: 2n,
    expected: 7n,
    actual: 9n,
    size: 70000n,
    max: 65536n,
    headVersion: 3n,
    timestamp: 1893456001n,
};

function exampleValue(param, ctx) {
    const t = param.type;
    const n = param.name;
    if (t === 'bytes32') return label(`memsync.example.${n}`);
    if (t === 'address') return labelAddr(`memsync.example.${n}`);
    if (t === 'bytes4') return '0xdeadbeef';
    const m = /^uint(\d+)$/.exec(t);
    if (m) {
        const bits = BigInt(m[1]);
        let v = EXAMPLE_UINT[n];
        if (v === undefined) v = 17n;
        if (ctx && ctx.bigUint && bits === 256n && n === 'deadline') v = U256_MAX;
        if (ctx && ctx.bigUint && bits === 64n) v = U64_MAX - BigInt(ctx.index);
        assert(v < (1n << bits), `example ${n} fits ${t}`);
        return v;
    }
    fail(`no example for parameter type ${t} (${n})`);
}

/** The head word (or, for bytes, the raw data) of one argument, as hex. */
function argRecord(param, value) {
    const t = param.type;
    let rec;
    if (t === 'bytes') rec = { name: param.name, type: t, value: hex(value), length: ethers.getBytes(value).length };
    else if (t === 'address') rec = { name: param.name, type: t, value: value.toLowerCase() };
    else if (t === 'bytes32' || t === 'bytes4') rec = { name: param.name, type: t, value };
    else rec = { name: param.name, type: t, value: value.toString(), word: word(value) };
    return rec;
}

function buildAbi(functions, errors, iface, header, check) {
    const coder = ethers.AbiCoder.defaultAbiCoder();
    const calls = [];
    const BYTES_LENS = [0, 1, 32, 33];
    for (const f of functions) {
        const inputs = f.fragment.inputs;
        const bytesIdx = inputs.findIndex((p) => p.type === 'bytes');
        const variants = [];
        if (bytesIdx >= 0) {
            for (const len of BYTES_LENS) variants.push({ len, bigUint: false });
            variants.push({ len: 65, bigUint: true });
        } else {
            variants.push({ len: null, bigUint: false });
            if (inputs.some((p) => /^uint(64|256)$/.test(p.type))) variants.push({ len: null, bigUint: true });
        }
        variants.forEach((v, vi) => {
            const args = inputs.map((p, i) => {
                assert(p.baseType !== 'array' && p.baseType !== 'tuple', `flat input ${p.name}`);
                if (p.type === 'bytes') {
                    if (i === bytesIdx) return hex(pattern(v.len, 13, 5 + vi));
                    // Any further bytes argument (a signature): 65 bytes.
                    return hex(pattern(65, 29, 1));
                }
                return exampleValue(p, { bigUint: v.bigUint, index: i });
            });
            const calldata = iface.encodeFunctionData(f.fragment, args);
            const manual = f.value + coder.encode(inputs, args).slice(2);
            check(calldata === manual, `${f.signature}: Interface and AbiCoder encodings agree (variant ${vi})`);
            const decoded = iface.decodeFunctionData(f.fragment, calldata);
            check(decoded.length === args.length, `${f.signature}: calldata decodes back (variant ${vi})`);
            calls.push({
                name: `${f.name}#${vi}`,
                function: f.name,
                signature: f.signature,
                selector: f.value,
                args: inputs.map((p, i) => argRecord(p, args[i])),
                calldata,
            });
        });
    }
    const reverts = [];
    for (const e of errors) {
        const inputs = e.fragment.inputs;
        const args = inputs.map((p) => exampleValue(p, null));
        const data = iface.encodeErrorResult(e.fragment, args);
        check(data === e.value + coder.encode(inputs, args).slice(2), `${e.signature}: revert data encodings agree`);
        reverts.push({
            name: e.name,
            signature: e.signature,
            selector: e.value,
            args: inputs.map((p, i) => argRecord(p, args[i])),
            data,
        });
    }
    return header({
        description: 'ethers AbiCoder encodings: calldata of every function (bytes arguments of 0, 1, 32, 33 and 65 bytes; variants marked by #n) and revert data of every custom error. Every argument here is one head slot, in order. For uint arguments "word" is the 32-byte head word.',
        bytes_pattern: 'a varied bytes argument of variant n is L bytes with byte i = (i*13 + 5 + n) mod 256; a second bytes argument (signature) is 65 bytes with byte i = (i*29 + 1) mod 256',
        example_values: 'bytes32 arguments are keccak256("memsync.example.<name>"), addresses the last 20 bytes of that hash',
        calls,
        reverts,
    });
}

// ------------------------------------------------------------------ eip712

const EIP712_TYPES = {
    CreateMemory: [
        { name: 'owner', type: 'address' },
        { name: 'salt', type: 'bytes32' },
        { name: 'metadata', type: 'bytes32' },
        { name: 'ciphertextHash', type: 'bytes32' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
    ],
    AppendVersion: [
        { name: 'assetId', type: 'bytes32' },
        { name: 'expectedVersion', type: 'uint64' },
        { name: 'keyEpoch', type: 'uint64' },
        { name: 'ciphertextHash', type: 'bytes32' },
        { name: 'signer', type: 'address' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
    ],
    TransferOwnership: [
        { name: 'assetId', type: 'bytes32' },
        { name: 'newOwner', type: 'address' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
    ],
};

const EIP712_TYPE_STRINGS = {
    CreateMemory: 'CreateMemory(address owner,bytes32 salt,bytes32 metadata,bytes32 ciphertextHash,uint256 nonce,uint256 deadline)',
    AppendVersion: 'AppendVersion(bytes32 assetId,uint64 expectedVersion,uint64 keyEpoch,bytes32 ciphertextHash,address signer,uint256 nonce,uint256 deadline)',
    TransferOwnership: 'TransferOwnership(bytes32 assetId,address newOwner,uint256 nonce,uint256 deadline)',
};

const PRECOMPILE = '0x0000000000000000000000000000000000004D53';
const OTHER_CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

// Test keys only: derived from public labels, never to hold value.
const TEST_KEYS = ['alice', 'bob', 'carol'].map((n) => {
    const derivation = `keccak256("memsync test key ${n}")`;
    const privateKey = label(`memsync test key ${n}`);
    const w = new ethers.Wallet(privateKey);
    return { name: n, derivation, privateKey, address: w.address, wallet: w };
});

// EIP-5267: eip712Domain() returns (bytes1 fields, string name, string
// version, uint256 chainId, address verifyingContract, bytes32 salt,
// uint256[] extensions); fields 0x0f marks name, version, chainId and
// verifyingContract as used (bits 0-3), salt and extensions as not.
const EIP5267_SELECTOR = '0x84b0196e';
const EIP5267_FIELDS = '0x0f';

function eip712DomainReturn(iface, check, chainId, contract) {
    const fn = iface.getFunction('eip712Domain');
    check(fn !== null && fn.selector === EIP5267_SELECTOR, 'eip712Domain() has the EIP-5267 selector 0x84b0196e');
    const values = [EIP5267_FIELDS, 'MemSync', '1', chainId, contract, ethers.ZeroHash, []];
    const data = iface.encodeFunctionResult(fn, values);
    check(data === ethers.AbiCoder.defaultAbiCoder().encode(fn.outputs, values),
        `eip712Domain() return for ${chainId} ${contract}: Interface and AbiCoder encodings agree`);
    const d = iface.decodeFunctionResult(fn, data);
    check(d.fields === EIP5267_FIELDS && d.name === 'MemSync' && d.version === '1' && d.chainId === chainId &&
        d.verifyingContract === ethers.getAddress(contract) && d.salt === ethers.ZeroHash && d.extensions.length === 0,
    `eip712Domain() return for ${chainId} ${contract} decodes back`);
    // The domain a wallet builds from it (viem's getEip712Domain keeps the
    // fields whose bit is set) hashes to the separator of [SIG-2].
    const domain = { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
    return { data, separator: ethers.TypedDataEncoder.hashDomain(domain) };
}

async function buildEip712(header, check, iface) {
    const domains = [];
    for (const contract of [PRECOMPILE, OTHER_CONTRACT]) {
        for (const chainId of [1n, 31337n, U64_MAX]) {
            const domain = { name: 'MemSync', version: '1', chainId, verifyingContract: contract };
            const separator = ethers.TypedDataEncoder.hashDomain(domain);
            // Independent recomputation from the EIP-712 definition.
            const manual = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(
                ['bytes32', 'bytes32', 'bytes32', 'uint256', 'address'],
                [ethers.id('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
                    ethers.id('MemSync'), ethers.id('1'), chainId, contract]));
            check(separator === manual, `domain separator chainId ${chainId} ${contract} matches manual encoding`);
            const ret = eip712DomainReturn(iface, check, chainId, contract);
            check(ret.separator === separator, `eip712Domain() for ${chainId} ${contract} names the domain of the separator`);
            domains.push({ chainId: chainId.toString(), verifyingContract: contract.toLowerCase(), separator,
                eip712Domain: ret.data });
        }
    }
    for (const [t, s] of Object.entries(EIP712_TYPE_STRINGS)) {
        const enc = ethers.TypedDataEncoder.from({ [t]: EIP712_TYPES[t] }).encodeType(t);
        check(enc === s, `EIP-712 type string of ${t} matches crypto/eip712.h`);
    }

    const ct = (i) => ethers.keccak256(pattern(40 + i * 50, 11, i));
    const examples = {
        CreateMemory: [
            { owner: 0, salt: label('salt-0'), metadata: ethers.ZeroHash, ciphertextHash: ethers.keccak256('0x'), nonce: 0n, deadline: U256_MAX },
            { owner: 1, salt: label('salt-1'), metadata: label('meta-1'), ciphertextHash: ct(1), nonce: 1n, deadline: 1893456000n },
            { owner: 2, salt: ethers.ZeroHash, metadata: label('meta-2'), ciphertextHash: ct(2), nonce: 7n, deadline: 0n },
            { owner: 0, salt: label('salt-3'), metadata: label('meta-3'), ciphertextHash: ct(3), nonce: U64_MAX, deadline: U256_MAX - 1n },
        ],
        AppendVersion: [
            { assetId: label('asset-0'), expectedVersion: 0n, keyEpoch: 1n, ciphertextHash: ct(4), signer: 0, nonce: 0n, deadline: U256_MAX },
            { assetId: label('asset-1'), expectedVersion: 1n, keyEpoch: 1n, ciphertextHash: ct(5), signer: 1, nonce: 3n, deadline: 1893456000n },
            { assetId: label('asset-2'), expectedVersion: 41n, keyEpoch: 7n, ciphertextHash: ct(6), signer: 2, nonce: 12345n, deadline: 1n << 64n },
            { assetId: label('asset-3'), expectedVersion: U64_MAX, keyEpoch: U64_MAX, ciphertextHash: ct(7), signer: 0, nonce: U64_MAX, deadline: U256_MAX },
        ],
        TransferOwnership: [
            { assetId: label('asset-0'), newOwner: 1, nonce: 0n, deadline: U256_MAX, key: 0 },
            { assetId: label('asset-1'), newOwner: 2, nonce: 5n, deadline: 1893456000n, key: 1 },
            { assetId: label('asset-2'), newOwner: 0, nonce: U64_MAX, deadline: 0n, key: 2 },
            { assetId: label('asset-3'), newOwner: 'zero', nonce: 99n, deadline: U256_MAX, key: 0 },
        ],
    };

    const typed = [];
    let di = 0;
    for (const type of Object.keys(EIP712_TYPES)) {
        for (const [i, ex] of examples[type].entries()) {
            const d = domains[di++ % domains.length];
            const domain = { name: 'MemSync', version: '1', chainId: BigInt(d.chainId), verifyingContract: d.verifyingContract };
            let keyIdx;
            const message = {};
            for (const f of EIP712_TYPES[type]) {
                let v = ex[f.name];
                if (f.type === 'address') {
                    if (v === 'zero') v = ethers.ZeroAddress;
                    else {
                        if (f.name === 'owner' || f.name === 'signer') keyIdx = v;
                        v = TEST_KEYS[v].address;
                    }
                }
                message[f.name] = v;
            }
            if (keyIdx === undefined) keyIdx = ex.key;
            const key = TEST_KEYS[keyIdx];
            const types = { [type]: EIP712_TYPES[type] };
            const digest = ethers.TypedDataEncoder.hash(domain, types, message);
            const manual = ethers.keccak256(ethers.concat(['0x1901', d.separator,
                ethers.TypedDataEncoder.hashStruct(type, types, message)]));
            check(digest === manual, `${type} example ${i}: digest = keccak(0x1901 || domain || hashStruct)`);
            const signature = await key.wallet.signTypedData(domain, types, message);
            check(signature === key.wallet.signingKey.sign(digest).serialized,
                `${type} example ${i}: signTypedData equals signing the digest`);
            const recovered = ethers.verifyTypedData(domain, types, message, signature);
            check(recovered === key.address, `${type} example ${i}: signature recovers the signer`);
            typed.push({
                type,
                index: i,
                domain: { name: 'MemSync', version: '1', chainId: d.chainId, verifyingContract: d.verifyingContract },
                domainSeparator: d.separator,
                message: Object.fromEntries(Object.entries(message).map(([k, v]) =>
                    [k, typeof v === 'bigint' ? v.toString() : (EIP712_TYPES[type].find((f) => f.name === k).type === 'address' ? v.toLowerCase() : v)])),
                digest,
                key: key.name,
                signature,
                signer: key.address.toLowerCase(),
            });
        }
    }

    const raw = [];
    const rawDigests = [ethers.keccak256('0x'), label('raw digest 1'), '0x' + 'ff'.repeat(32), '0x' + '00'.repeat(31) + '01'];
    rawDigests.forEach((digest, i) => {
        const key = TEST_KEYS[i % TEST_KEYS.length];
        const sig = key.wallet.signingKey.sign(digest);
        check(ethers.recoverAddress(digest, sig) === key.address, `raw digest ${i}: signature recovers the signer`);
        check(BigInt(sig.s) <= ethers.N / 2n, `raw digest ${i}: low s`);
        raw.push({ digest, key: key.name, signature: sig.serialized, signer: key.address.toLowerCase() });
    });

    return header({
        description: 'EIP-712 domain separators and typed-data digests (ethers TypedDataEncoder), and 65-byte r || s || v signatures (v = 27 or 28, low s) by ethers Wallet.signTypedData; "raw" signs the digest itself with no prefix. Each domain also holds "eip712Domain": the return data of eip712Domain() (EIP-5267) for it, encoded by ethers Interface.encodeFunctionResult: fields 0x0f, name, version, chainId, verifyingContract, salt 0, no extensions.',
        domain_type: 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)',
        types: EIP712_TYPE_STRINGS,
        test_keys: TEST_KEYS.map((k) => ({ name: k.name, derivation: k.derivation, privateKey: k.privateKey, address: k.address.toLowerCase(), note: 'TEST KEY ONLY' })),
        domains,
        typed,
        raw,
    });
}

// ------------------------------------------------------------ version hash

function envelope(epoch, len, seed) {
    // spec/envelope.md layout: version 1, algorithm 1, epoch (8 bytes BE),
    // 24-byte nonce, then opaque bytes standing for ciphertext || tag.
    const b = new Uint8Array(len);
    b[0] = 1;
    b[1] = 1;
    b.set(ethers.getBytes(ethers.toBeHex(epoch, 8)), 2);
    b.set(pattern(24, 3, seed + 1), 10);
    b.set(pattern(len - 34, 17, seed), 34);
    return hex(b);
}

function buildVersionHash(header, check) {
    const owner = TEST_KEYS[0].address;
    const salt = label('memsync.example.chain-salt');
    const assetId = ethers.solidityPackedKeccak256(['address', 'address', 'bytes32'], [PRECOMPILE, owner, salt]);

    const assetIds = [
        { precompile: PRECOMPILE, owner, salt },
        { precompile: PRECOMPILE, owner: TEST_KEYS[1].address, salt: ethers.ZeroHash },
        { precompile: PRECOMPILE, owner: TEST_KEYS[1].address, salt: label('salt-x') },
        { precompile: OTHER_CONTRACT, owner, salt },
    ].map((a) => {
        const id = ethers.solidityPackedKeccak256(['address', 'address', 'bytes32'], [a.precompile, a.owner, a.salt]);
        const manual = ethers.keccak256(ethers.concat([a.precompile, a.owner, a.salt]));
        check(id === manual, `assetId ${a.precompile} ${a.owner} ${a.salt} packed encoding`);
        return { precompile: a.precompile.toLowerCase(), owner: a.owner.toLowerCase(), salt: a.salt, assetId: id };
    });

    const steps = [
        { keyEpoch: 1n, author: TEST_KEYS[0].address, len: 50 },
        { keyEpoch: 1n, author: TEST_KEYS[1].address, len: 256 },
        { keyEpoch: 2n, author: TEST_KEYS[0].address, len: 256 },
        { keyEpoch: 2n, author: TEST_KEYS[2].address, len: 512 },
    ];
    let prevHash = ethers.ZeroHash;
    const chain = steps.map((s, i) => {
        const version = BigInt(i + 1);
        const ciphertext = envelope(s.keyEpoch, s.len, i);
        const ciphertextHash = ethers.keccak256(ciphertext);
        const versionHash = ethers.solidityPackedKeccak256(
            ['bytes32', 'bytes32', 'uint64', 'bytes32', 'uint64', 'address'],
            [prevHash, assetId, version, ciphertextHash, s.keyEpoch, s.author]);
        const packed = ethers.solidityPacked(
            ['bytes32', 'bytes32', 'uint64', 'bytes32', 'uint64', 'address'],
            [prevHash, assetId, version, ciphertextHash, s.keyEpoch, s.author]);
        check(ethers.getBytes(packed).length === 132, `version ${version}: packed preimage is 132 bytes`);
        const rec = {
            version: version.toString(),
            prevHash,
            assetId,
            ciphertext,
            ciphertextHash,
            keyEpoch: s.keyEpoch.toString(),
            author: s.author.toLowerCase(),
            packed,
            versionHash,
        };
        prevHash = versionHash;
        return rec;
    });

    return header({
        description: 'versionHash = keccak256(abi.encodePacked(bytes32 prevHash, bytes32 assetId, uint64 version, bytes32 ciphertextHash, uint64 keyEpoch, address author)), prevHash of version 1 = 32 zero bytes, ciphertextHash = keccak256(ciphertext); assetId = keccak256(abi.encodePacked(address precompile, address owner, bytes32 salt)). Computed with ethers solidityPackedKeccak256.',
        ciphertext_pattern: 'envelope-shaped: 0x01 0x01, key epoch (8 bytes BE), nonce byte i = (i*3 + n + 1) mod 256, body byte i = (i*17 + n) mod 256 for version n+1',
        assetIds,
        chain: { precompile: PRECOMPILE.toLowerCase(), owner: owner.toLowerCase(), salt, assetId, versions: chain },
    });
}

// ------------------------------------------------------------- vectors_gen.h

function renderVectorsGenH({ keccakJson, functions, errors, events, abiJson, eipJson, vhJson }) {
    const L = [];
    const arr = (type, name, rows) => {
        L.push(`static const ${type} ${name}[] = {`);
        for (const r of rows) L.push(`    ${r},`);
        L.push('};');
        L.push(`#define ${name.toUpperCase()}_COUNT (sizeof ${name} / sizeof ${name}[0])`);
        L.push('');
    };
    L.push('/* Generated by tools/vectors/generate.mjs from the JSON files in spec/vectors/ — do not edit.');
    L.push(` * Source: ${keccakJson.source}.`);
    L.push(' * Included only by tests/unit/test_vectors.c. */');
    L.push('#ifndef MS_TESTS_VECTORS_GEN_H');
    L.push('#define MS_TESTS_VECTORS_GEN_H');
    L.push('');
    L.push('#include <stddef.h>');
    L.push('#include <stdint.h>');
    L.push('');
    L.push('#include "abi/selectors.h"');
    L.push('');

    L.push('/* spec/vectors/keccak.json */');
    L.push('typedef struct ms_vec_keccak { const char *name; const char *input_hex; const char *digest_hex; } ms_vec_keccak;');
    arr('ms_vec_keccak', 'ms_vec_keccaks', keccakJson.vectors.map((v) =>
        `{ ${cstr(v.name)}, ${cstr(v.input)}, ${cstr(v.digest)} }`));

    L.push('/* spec/vectors/selectors.json: the macro value next to the JSON value. */');
    L.push('typedef struct ms_vec_selector { const char *signature; uint32_t value; const char *json_hex; } ms_vec_selector;');
    L.push('typedef struct ms_vec_topic { const char *signature; uint8_t value[32]; const char *json_hex; } ms_vec_topic;');
    arr('ms_vec_selector', 'ms_vec_fn_selectors', functions.map((f) => `{ ${cstr(f.signature)}, ${f.macro}, ${cstr(f.value)} }`));
    arr('ms_vec_selector', 'ms_vec_error_selectors', errors.map((e) => `{ ${cstr(e.signature)}, ${e.macro}, ${cstr(e.value)} }`));
    arr('ms_vec_topic', 'ms_vec_event_topics', events.map((e) => `{ ${cstr(e.signature)}, ${e.macro}, ${cstr(e.value)} }`));

    L.push('/* spec/vectors/abi.json. type: "bytes32", "bytes4", "address", "uintN", "bytes".');
    L.push(' * value_hex: bytes32/bytes4/address/bytes as is; uintN as its 32-byte head word. */');
    const MAXARGS = Math.max(...abiJson.calls.map((c) => c.args.length), ...abiJson.reverts.map((r) => r.args.length));
    L.push(`#define MS_VEC_ABI_MAX_ARGS ${MAXARGS}`);
    L.push('typedef struct ms_vec_abi_arg { const char *type; const char *value_hex; } ms_vec_abi_arg;');
    L.push('typedef struct ms_vec_abi { const char *name; const char *signature; uint32_t selector; const char *data_hex;');
    L.push('                            size_t nargs; ms_vec_abi_arg args[MS_VEC_ABI_MAX_ARGS]; } ms_vec_abi;');
    const argc = (a) => `{ ${cstr(a.type)}, ${cstr(a.word || a.value)} }`;
    const abiRow = (name, sig, sel, data, args) =>
        `{ ${cstr(name)}, ${cstr(sig)}, 0x${sel.slice(2)}u, ${cstr(data)}, ${args.length}, { ${args.map(argc).join(', ')}${args.length ? '' : '{ NULL, NULL }'} } }`;
    arr('ms_vec_abi', 'ms_vec_abi_calls', abiJson.calls.map((c) => abiRow(c.name, c.signature, c.selector, c.calldata, c.args)));
    arr('ms_vec_abi', 'ms_vec_abi_reverts', abiJson.reverts.map((r) => abiRow(r.name, r.signature, r.selector, r.data, r.args)));

    L.push('/* spec/vectors/eip712.json. Numbers up to 64 bits as integers; uint256 deadlines as 32-byte hex. */');
    L.push('/* eip712_domain_hex: the return data of eip712Domain() (EIP-5267) for that domain. */');
    L.push('typedef struct ms_vec_eip712_domain { uint64_t chain_id; const char *contract_hex; const char *separator_hex;');
    L.push('    const char *eip712_domain_hex; } ms_vec_eip712_domain;');
    arr('ms_vec_eip712_domain', 'ms_vec_eip712_domains', eipJson.domains.map((d) =>
        `{ ${u64lit(d.chainId)}, ${cstr(d.verifyingContract)}, ${cstr(d.separator)}, ${cstr(d.eip712Domain)} }`));
    const dom = (t) => `${u64lit(t.domain.chainId)}, ${cstr(t.domain.verifyingContract)}, ${cstr(t.domainSeparator)}`;
    const sig = (t) => `${cstr(t.digest)}, ${cstr(t.signature)}, ${cstr(t.signer)}`;
    const m = (t) => t.message;
    L.push('typedef struct ms_vec_eip712_create { uint64_t chain_id; const char *contract_hex; const char *domain_hex;');
    L.push('    const char *owner_hex; const char *salt_hex; const char *metadata_hex; const char *ciphertext_hash_hex;');
    L.push('    uint64_t nonce; const char *deadline_hex; const char *digest_hex; const char *signature_hex; const char *signer_hex; } ms_vec_eip712_create;');
    arr('ms_vec_eip712_create', 'ms_vec_eip712_creates', eipJson.typed.filter((t) => t.type === 'CreateMemory').map((t) =>
        `{ ${dom(t)}, ${cstr(m(t).owner)}, ${cstr(m(t).salt)}, ${cstr(m(t).metadata)}, ${cstr(m(t).ciphertextHash)}, ${u64lit(m(t).nonce)}, ${cstr(word(BigInt(m(t).deadline)))}, ${sig(t)} }`));
    L.push('typedef struct ms_vec_eip712_append { uint64_t chain_id; const char *contract_hex; const char *domain_hex;');
    L.push('    const char *asset_id_hex; uint64_t expected_version; uint64_t key_epoch; const char *ciphertext_hash_hex; const char *signer_field_hex;');
    L.push('    uint64_t nonce; const char *deadline_hex; const char *digest_hex; const char *signature_hex; const char *signer_hex; } ms_vec_eip712_append;');
    arr('ms_vec_eip712_append', 'ms_vec_eip712_appends', eipJson.typed.filter((t) => t.type === 'AppendVersion').map((t) =>
        `{ ${dom(t)}, ${cstr(m(t).assetId)}, ${u64lit(m(t).expectedVersion)}, ${u64lit(m(t).keyEpoch)}, ${cstr(m(t).ciphertextHash)}, ${cstr(m(t).signer)}, ${u64lit(m(t).nonce)}, ${cstr(word(BigInt(m(t).deadline)))}, ${sig(t)} }`));
    L.push('typedef struct ms_vec_eip712_transfer { uint64_t chain_id; const char *contract_hex; const char *domain_hex;');
    L.push('    const char *asset_id_hex; const char *new_owner_hex;');
    L.push('    uint64_t nonce; const char *deadline_hex; const char *digest_hex; const char *signature_hex; const char *signer_hex; } ms_vec_eip712_transfer;');
    arr('ms_vec_eip712_transfer', 'ms_vec_eip712_transfers', eipJson.typed.filter((t) => t.type === 'TransferOwnership').map((t) =>
        `{ ${dom(t)}, ${cstr(m(t).assetId)}, ${cstr(m(t).newOwner)}, ${u64lit(m(t).nonce)}, ${cstr(word(BigInt(m(t).deadline)))}, ${sig(t)} }`));
    L.push('typedef struct ms_vec_sig_raw { const char *digest_hex; const char *signature_hex; const char *signer_hex; } ms_vec_sig_raw;');
    arr('ms_vec_sig_raw', 'ms_vec_sig_raws', eipJson.raw.map((r) => `{ ${cstr(r.digest)}, ${cstr(r.signature)}, ${cstr(r.signer)} }`));

    L.push('/* spec/vectors/version_hash.json */');
    L.push('typedef struct ms_vec_asset_id { const char *precompile_hex; const char *owner_hex; const char *salt_hex; const char *asset_id_hex; } ms_vec_asset_id;');
    arr('ms_vec_asset_id', 'ms_vec_asset_ids', vhJson.assetIds.map((a) =>
        `{ ${cstr(a.precompile)}, ${cstr(a.owner)}, ${cstr(a.salt)}, ${cstr(a.assetId)} }`));
    L.push('typedef struct ms_vec_version { uint64_t version; const char *prev_hash_hex; const char *asset_id_hex; const char *ciphertext_hex;');
    L.push('    const char *ciphertext_hash_hex; uint64_t key_epoch; const char *author_hex; const char *version_hash_hex; } ms_vec_version;');
    arr('ms_vec_version', 'ms_vec_versions', vhJson.chain.versions.map((v) =>
        `{ ${u64lit(v.version)}, ${cstr(v.prevHash)}, ${cstr(v.assetId)}, ${cstr(v.ciphertext)}, ${cstr(v.ciphertextHash)}, ${u64lit(v.keyEpoch)}, ${cstr(v.author)}, ${cstr(v.versionHash)} }`));

    L.push('#endif');
    return L.join('\n') + '\n';
}
