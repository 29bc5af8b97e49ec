// Independent check of the device library (device/) with @noble, following
// spec/device.md and spec/envelope.md only (no code shared with the C side):
//   C -> JS: identity derivation, envelope decryption, sealed-box opening,
//            RFC 6979 signature (byte-identical) and its recovery;
//   JS -> C: an envelope and a sealed box built here, opened by the C library
//            (tests/device/interop_driver.c), which also diagnoses a tampered
//            copy and a wrong version.
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

const u64be = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
};
const u64le = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
};

// libsodium's crypto_kdf_derive_from_key: BLAKE2b keyed with the master key,
// empty message, salt = id (u64 LE) || 8 zero bytes, personal = ctx || 8 zeros.
function kdf(master, id, ctx) {
  return blake2b(new Uint8Array(0), {
    key: master,
    salt: concatBytes(u64le(id), new Uint8Array(8)),
    personalization: concatBytes(utf8ToBytes(ctx), new Uint8Array(8)),
    dkLen: 32,
  });
}

// spec/device.md §1
function deriveIdentity(seed) {
  let signSk;
  for (let id = 1; id <= 16; id++) {
    signSk = kdf(seed, id, 'MSsecp1k');
    if (secp256k1.utils.isValidSecretKey(signSk)) break;
  }
  const pub = secp256k1.getPublicKey(signSk, false);
  const address = keccak_256(pub.subarray(1)).subarray(12);
  const boxSk = kdf(seed, 1, 'MSx25519');
  return { signSk, address, boxSk, boxPk: x25519.getPublicKey(boxSk) };
}

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
  check('@noble envelope and sealed box: sizes', () => {
    eq(env.length, 50 + 1024, 'envelope size');
    eq(wrapped.length, 120, 'wrapped size');
  });
  const out = [
    ['recipient_seed', seed], ['key', key], ['precompile', c2.precompile], ['asset', c2.asset],
    ['envelope', env], ['tampered', tampered], ['plaintext', msg], ['wrapped', wrapped],
  ].map(([n, v]) => `${n}=${bytesToHex(v)}`);
  out.push(`chain=${c2.chain}`, `version=${c2.version}`, `epoch=${c2.epoch}`);
  writeFileSync(join(dir, 'js2c.txt'), out.join('\n') + '\n');
  check('@noble envelope and sealed box open in the C library (tampered copy: MSD_ERR_TAMPERED)', () => {
    execFileSync(driver, ['js2c', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`device interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
