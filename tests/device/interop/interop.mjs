// Independent check of the device library (device/) with @noble and @scure,
// following spec/device.md and spec/envelope.md only (no code shared with
// the C side):
//   C -> JS: identity derivation, envelope decryption, sealed-box opening
//            (the 120-byte wrapped key and the chain-bound one),
//            RFC 6979 signature (byte-identical) and its recovery;
//   JS -> C: an envelope and sealed boxes built here, opened by the C library
//            (tests/device/interop_driver.c), which also refuses the
//            chain-bound one for another chain or contract, diagnoses a
//            tampered copy and a wrong version;
//   recovery (spec/device.md §6): the compiled BIP-39 word list equals
//            @scure's, C phrases, memory salts and derived data keys of random
//            seeds equal @scure's and @noble's, phrases made (and spoiled) here
//            are accepted or refused by the C library as BIP-39 says, and
//            device/bip39_english.c and spec/vectors/recovery.json are what
//            gen_wordlist.mjs and recovery_vectors.mjs generate.
// Usage: node interop.mjs PATH/TO/interop_driver
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { entropyToMnemonic, mnemonicToEntropy, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';

import { dataKey, deriveIdentity, memorySalt, normalizePhrase, u64be } from './derive.mjs';
import { renderWordlistC, WORDLIST_C } from './gen_wordlist.mjs';
import { renderVectors, VECTORS_JSON } from './recovery_vectors.mjs';

const driver = process.argv[2];
if (!driver) {
  console.error('usage: node interop.mjs PATH/TO/interop_driver');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
function eq(a, b, what) {
  const ha = a instanceof Uint8Array ? bytesToHex(a) : String(a);
  const hb = b instanceof Uint8Array ? bytesToHex(b) : String(b);
  if (ha !== hb) throw new Error(`${what}: ${ha} != ${hb}`);
}

// ---------------------------------------------------------------- spec pieces

// spec/envelope.md [ENV-8]
function associatedData(c) {
  return concatBytes(utf8ToBytes('MemSync/v1'), u64be(c.chain), c.precompile, c.asset, u64be(c.version), u64be(c.epoch));
}

// spec/device.md §3.3: BLAKE2b-128 keyed with the data key.
function checkBytes(key, ad) {
  return concatBytes(
    blake2b(utf8ToBytes('MemSync/v1 key check'), { key, dkLen: 16 }),
    blake2b(concatBytes(utf8ToBytes('MemSync/v1 context check'), ad), { key, dkLen: 16 }),
  );
}

function openEnvelope(key, c, env) {
  if (env.length < 50 || env[0] !== 1 || env[1] !== 1) throw new Error('bad header');
  eq(env.subarray(2, 10), u64be(c.epoch), 'header epoch');
  const nonce = env.subarray(10, 34);
  const ad = associatedData(c);
  const padded = xchacha20poly1305(key, nonce, ad).decrypt(env.subarray(34));
  eq(padded.subarray(0, 32), checkBytes(key, ad), 'check bytes');
  // ISO/IEC 7816-4: the last non-zero byte is 0x80.
  let end = padded.length - 1;
  while (end >= 32 && padded[end] === 0) end--;
  if (end < 32 || padded[end] !== 0x80) throw new Error('bad padding');
  return padded.subarray(32, end);
}

function sealEnvelope(key, c, msg) {
  let bucket = 256;
  while (bucket < 32 + msg.length + 1) bucket *= 2;
  const padded = new Uint8Array(bucket);
  const ad = associatedData(c);
  padded.set(checkBytes(key, ad), 0);
  padded.set(msg, 32);
  padded[32 + msg.length] = 0x80;
  const nonce = randomBytes(24);
  const body = xchacha20poly1305(key, nonce, ad).encrypt(padded);
  return concatBytes(new Uint8Array([1, 1]), u64be(c.epoch), nonce, body);
}

// libsodium's crypto_box_seal: epk || crypto_box_easy(m, nonce, pk, esk) with
// nonce = BLAKE2b-192(epk || pk); crypto_box's key is HSalsa20(X25519(esk, pk), 0^16),
// and crypto_box_easy is XSalsa20-Poly1305 (tag first) under that key.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
function boxKey(shared) {
  const out = new Uint32Array(8);
  hsalsa(SIGMA, new Uint32Array(shared.slice().buffer), new Uint32Array(4), out);
  return new Uint8Array(out.buffer);
}
function sealNonce(epk, pk) {
  return blake2b(concatBytes(epk, pk), { dkLen: 24 });
}
function sealBox(msg, pk) {
  const esk = randomBytes(32);
  const epk = x25519.getPublicKey(esk);
  const k = boxKey(x25519.getSharedSecret(esk, pk));
  return concatBytes(epk, xsalsa20poly1305(k, sealNonce(epk, pk)).encrypt(msg));
}
function openBox(sealed, sk) {
  const epk = sealed.subarray(0, 32);
  const pk = x25519.getPublicKey(sk);
  const k = boxKey(x25519.getSharedSecret(sk, epk));
  return xsalsa20poly1305(k, sealNonce(epk, pk)).decrypt(sealed.subarray(32));
}

function parse(text) {
  const m = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m[line.slice(0, i)] = line.slice(i + 1);
  }
  return m;
}

// --------------------------------------------------------------------- run

const dir = mkdtempSync(join(tmpdir(), 'msd-interop-'));
try {
  execFileSync(driver, ['c2js', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  const f = parse(readFileSync(join(dir, 'c2js.txt'), 'utf8'));
  const h = (n) => hexToBytes(f[n]);
  const seed = h('seed');
  const me = deriveIdentity(seed);
  const c = { chain: BigInt(f.chain), precompile: h('precompile'), asset: h('asset'), version: BigInt(f.version), epoch: BigInt(f.epoch) };

  check('identity: secp256k1 address from the seed (BLAKE2b KDF)', () => eq(me.address, h('address'), 'address'));
  check('identity: X25519 public key from the seed', () => eq(me.boxPk, h('x25519'), 'x25519'));
  check('identity: grantee X25519 key from its seed', () =>
    eq(deriveIdentity(h('grantee_seed')).boxPk, h('grantee_x25519'), 'grantee x25519'));
  check('C envelope decrypts with @noble/ciphers xchacha20poly1305', () =>
    eq(openEnvelope(h('key'), c, h('envelope')), h('plaintext'), 'plaintext'));
  check('C envelope under another version fails in @noble', () => {
    let threw = false;
    try {
      openEnvelope(h('key'), { ...c, version: c.version + 1n }, h('envelope'));
    } catch {
      threw = true;
    }
    if (!threw) throw new Error('decrypted under the wrong associated data');
  });
  check('C sealed box (crypto_box_seal) opens in @noble', () => {
    const m = openBox(h('wrapped'), deriveIdentity(h('grantee_seed')).boxSk);
    eq(m, concatBytes(h('key'), c.asset, u64be(c.epoch)), 'wrapped key');
  });
  // spec/device.md [DEV-36]: 0x02 || sealed box of key || assetId || keyEpoch || chainId || precompile.
  check('C chain-bound wrapped key (format 2) opens in @noble and names the chain', () => {
    const w2 = h('wrapped2');
    eq(w2.length, 149, 'size');
    eq(w2[0], 2, 'format byte');
    const m = openBox(w2.subarray(1), deriveIdentity(h('grantee_seed')).boxSk);
    eq(m, concatBytes(h('key'), c.asset, u64be(c.epoch), u64be(c.chain), c.precompile), 'bound wrapped key');
  });
  check('C signature equals @noble RFC 6979 low-s signature, v = 27 + recid', () => {
    const sig = secp256k1.sign(h('digest'), me.signSk, { prehash: false, format: 'recovered' });
    eq(concatBytes(sig.subarray(1), new Uint8Array([27 + sig[0]])), h('signature'), 'signature');
  });
  check('C signature recovers to the device address in @noble', () => {
    const s = h('signature');
    const rec = concatBytes(new Uint8Array([s[64] - 27]), s.subarray(0, 64));
    const pub = secp256k1.recoverPublicKey(rec, h('digest'), { prehash: false });
    const full = secp256k1.Point.fromBytes(pub).toBytes(false);
    eq(keccak_256(full.subarray(1)).subarray(12), me.address, 'recovered address');
  });

  // JS -> C: a new key, context and message; the key sealed to the C identity.
  const key = randomBytes(32);
  const c2 = { chain: 1n, precompile: randomBytes(20), asset: randomBytes(32), version: 9n, epoch: 4n };
  const msg = randomBytes(700);
  const env = sealEnvelope(key, c2, msg);
  const tampered = env.slice();
  tampered[34 + 32 + 100] ^= 0x20;
  const wrapped = sealBox(concatBytes(key, c2.asset, u64be(c2.epoch)), me.boxPk);
  const wrapped2 = concatBytes(new Uint8Array([2]),
    sealBox(concatBytes(key, c2.asset, u64be(c2.epoch), u64be(c2.chain), c2.precompile), me.boxPk));
  check('@noble envelope and sealed boxes: sizes', () => {
    eq(env.length, 50 + 1024, 'envelope size');
    eq(wrapped.length, 120, 'wrapped size');
    eq(wrapped2.length, 149, 'chain-bound wrapped size');
  });
  const out = [
    ['recipient_seed', seed], ['key', key], ['precompile', c2.precompile], ['asset', c2.asset],
    ['envelope', env], ['tampered', tampered], ['plaintext', msg], ['wrapped', wrapped], ['wrapped2', wrapped2],
  ].map(([n, v]) => `${n}=${bytesToHex(v)}`);
  out.push(`chain=${c2.chain}`, `version=${c2.version}`, `epoch=${c2.epoch}`);
  writeFileSync(join(dir, 'js2c.txt'), out.join('\n') + '\n');
  check('@noble envelope and sealed boxes open in the C library (chain-bound: only for its chain; tampered copy: MSD_ERR_TAMPERED)', () => {
    execFileSync(driver, ['js2c', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  });

  // ------------------------------------------------- recovery (spec/device.md §6)

  check('generated files: device/bip39_english.c and spec/vectors/recovery.json are up to date', () => {
    if (readFileSync(WORDLIST_C, 'utf8') !== renderWordlistC()) throw new Error('device/bip39_english.c: run node gen_wordlist.mjs');
    if (readFileSync(VECTORS_JSON, 'utf8') !== renderVectors()) throw new Error('spec/vectors/recovery.json: run node recovery_vectors.mjs');
  });
  check('the compiled BIP-39 word list equals @scure/bip39 English', () => {
    execFileSync(driver, ['words', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    const words = readFileSync(join(dir, 'words.txt'), 'utf8').split('\n');
    eq(words.pop(), '', 'final newline');
    eq(words.length, 2048, 'word count');
    words.forEach((w, i) => eq(w, wordlist[i], `word ${i}`));
  });

  execFileSync(driver, ['rec-c2js', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  const r = parse(readFileSync(join(dir, 'rec-c2js.txt'), 'utf8'));
  const n = Number(r.count);
  check('C recovery phrases of random seeds equal @scure entropyToMnemonic, and round-trip', () => {
    if (!(n >= 8)) throw new Error(`only ${n} seeds`);
    for (let i = 0; i < n; i++) {
      const seed = hexToBytes(r[`seed.${i}`]);
      const phrase = r[`phrase.${i}`];
      eq(phrase, entropyToMnemonic(seed, wordlist), `phrase ${i}`);
      if (!validateMnemonic(phrase, wordlist)) throw new Error(`@scure refuses C phrase ${i}`);
      eq(mnemonicToEntropy(phrase, wordlist), seed, `entropy ${i}`);
    }
  });
  check('C memory salts equal crypto_kdf in @noble (BLAKE2b, id = shard + 1, "MSmemslt")', () => {
    for (let i = 0; i < n; i++) {
      const seed = hexToBytes(r[`seed.${i}`]);
      for (let s = 0; s < 4; s++) eq(r[`salt.${i}.${s}`], memorySalt(seed, BigInt(r[`shard.${i}.${s}`])), `salt ${i}.${s}`);
    }
  });
  check('C derived data keys equal @noble BLAKE2b-256 keyed with the "MSdatkey" subkey', () => {
    for (let i = 0; i < n; i++) {
      const k = dataKey(hexToBytes(r[`seed.${i}`]), BigInt(r[`chain.${i}`]), hexToBytes(r[`precompile.${i}`]),
        hexToBytes(r[`asset.${i}`]), BigInt(r[`epoch.${i}`]));
      eq(r[`datakey.${i}`], k, `data key ${i}`);
    }
  });

  // JS -> C: phrases made with @scure, varied, spoiled. expect: 'ok' with the
  // seed, or 'err'. For 24-word ASCII phrases the expectation is @scure's
  // validateMnemonic of the normalised phrase, so BIP-39 decides.
  const cases = [];
  const pick = (a) => a[randomBytes(1)[0] % a.length];
  const vary = (phrase) => phrase.split(' ').map((w) => [...w].map((ch) => (randomBytes(1)[0] & 1 ? ch.toUpperCase() : ch)).join(''))
    .reduce((acc, w) => acc + pick([' ', '  ', '\t', '\n', '\r\n', ' \v ', '\f']) + w, pick(['', ' ', '\n', '\t\t'])) + pick(['', ' ', '\n']);
  const byScure = (text, why) => {
    const norm = normalizePhrase(text);
    const words = norm.split(' ');
    const valid = words.length === 24 && validateMnemonic(norm, wordlist);
    cases.push({ text, why, seed: valid ? mnemonicToEntropy(norm, wordlist) : null });
  };
  for (let i = 0; i < 24; i++) {
    const seed = randomBytes(32);
    const phrase = entropyToMnemonic(seed, wordlist);
    const words = phrase.split(' ');
    byScure(phrase, `random ${i}`);
    byScure(vary(phrase), `random ${i}, case and whitespace varied`);
    const sw = [...words];
    [sw[0], sw[1]] = [sw[1], sw[0]];
    if (sw[0] !== sw[1]) byScure(sw.join(' '), `random ${i}, words 1 and 2 swapped`);
    const last = [...words];
    last[23] = pick(wordlist.filter((w) => w !== words[23]));
    byScure(last.join(' '), `random ${i}, last word replaced`);
    const one = [...words];
    const j = randomBytes(1)[0] % 24;
    one[j] = pick(wordlist.filter((w) => w !== words[j]));
    byScure(one.join(' '), `random ${i}, word ${j + 1} replaced`);
    cases.push({ text: words.slice(0, 23).join(' '), why: `random ${i}, 23 words`, seed: null });
    cases.push({ text: `${phrase} ${pick(wordlist)}`, why: `random ${i}, 25 words`, seed: null });
    const typo = [...words];
    typo[j] = `${typo[j]}q`;   // no English BIP-39 word ends in q
    cases.push({ text: typo.join(' '), why: `random ${i}, unknown word`, seed: null });
    // A valid 12-word BIP-39 phrase: the C library takes 24 words only.
    const twelve = entropyToMnemonic(seed.subarray(0, 16), wordlist);
    if (!validateMnemonic(twelve, wordlist)) throw new Error('@scure 12-word phrase');
    cases.push({ text: twelve, why: `random ${i}, 12-word phrase`, seed: null });
  }
  // The checksum cases of tests/device/test_recovery.c: BIP-39 refuses them too.
  const fixedBad = [
    'winner legal thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title',
    'letter advice absurd cage amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless',
    'letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic blast',
    `${'abandon '.repeat(23)}abandon`,
  ];
  check('@scure refuses the checksum cases of test_recovery.c', () => {
    for (const p of fixedBad) if (validateMnemonic(p, wordlist)) throw new Error(`@scure accepts "${p}"`);
  });
  for (const p of fixedBad) byScure(p, 'test_recovery.c checksum case');
  writeFileSync(join(dir, 'phrases.txt'), cases.map((c) => bytesToHex(utf8ToBytes(c.text))).join('\n') + '\n');
  execFileSync(driver, ['rec-js2c', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  const outs = readFileSync(join(dir, 'phrases-out.txt'), 'utf8').trimEnd().split('\n');
  check(`C accepts and refuses ${cases.length} @scure phrases as BIP-39 does, restoring the same identity`, () => {
    eq(outs.length, cases.length, 'answers');
    let accepted = 0;
    let refused = 0;
    cases.forEach((c, i) => {
      const [verdict, ...rest] = outs[i].split(' ');
      if (c.seed === null) {
        eq(outs[i], 'err 26', `${c.why}: MSD_ERR_MNEMONIC`);
        refused++;
        return;
      }
      eq(verdict, 'ok', `${c.why}: accepted`);
      const me2 = deriveIdentity(c.seed);
      eq(rest[0], me2.address, `${c.why}: address`);
      eq(rest[1], me2.boxPk, `${c.why}: x25519`);
      eq(new TextDecoder().decode(hexToBytes(rest[2])), entropyToMnemonic(c.seed, wordlist), `${c.why}: canonical phrase`);
      accepted++;
    });
    if (accepted < 48 || refused < 100) throw new Error(`too few cases: ${accepted} accepted, ${refused} refused`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`device interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
