// The seed derivations of spec/device.md §1 and §6, written from the spec
// with @noble/@scure only (no code shared with the C library). Used by
// interop.mjs and recovery_vectors.mjs.
import { mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const u64be = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
};
export const u64le = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
};

// libsodium's crypto_kdf_derive_from_key: BLAKE2b keyed with the master key,
// empty message, salt = id (u64 LE) || 8 zero bytes, personal = ctx || 8 zeros.
export function kdf(master, id, ctx) {
  return blake2b(new Uint8Array(0), {
    key: master,
    salt: concatBytes(u64le(id), new Uint8Array(8)),
    personalization: concatBytes(utf8ToBytes(ctx), new Uint8Array(8)),
    dkLen: 32,
  });
}

// spec/device.md §1
export function deriveIdentity(seed) {
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

// spec/device.md §6: the salt of memory shard `shard` (subkey id shard + 1).
export function memorySalt(seed, shard) {
  return kdf(seed, BigInt(shard) + 1n, 'MSmemslt');
}

// spec/device.md §6: the owner's data key of (chain, precompile, asset, epoch).
export function dataKey(seed, chainId, precompile, asset, epoch) {
  const sub = kdf(seed, 1, 'MSdatkey');
  const msg = concatBytes(utf8ToBytes('memsync.data-key/1'), u64be(chainId), precompile, asset, u64be(epoch));
  return blake2b(msg, { key: sub, dkLen: 32 });
}

// assetId = keccak256(precompile || owner || salt) (spec/abi.md [ABI-20]).
export function assetId(precompile, owner, salt) {
  return keccak_256(concatBytes(precompile, owner, salt));
}

// spec/device.md §6: any ASCII whitespace between words, any case; @scure
// wants single spaces and lower case, and takes 12..24 words where the C
// library takes exactly 24.
export function normalizePhrase(text) {
  return text.trim().toLowerCase().split(/[ \t\n\v\f\r]+/).join(' ');
}
export function phraseToSeed(text) {
  const norm = normalizePhrase(text);
  if (norm.split(' ').length !== 24) throw new Error('not 24 words');
  return mnemonicToEntropy(norm, wordlist);
}
