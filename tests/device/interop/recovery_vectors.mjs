// Known answers of spec/device.md §6 (recovery phrase, memory salts, derived
// data keys), computed with @scure/bip39 and @noble/hashes only, written to
// spec/vectors/recovery.json; tests/device/test_recovery.c checks the C
// library against that file.
//   node recovery_vectors.mjs           (re)write spec/vectors/recovery.json
//   node recovery_vectors.mjs --check   exit 1 if the file differs from what
//                                       this script computes (interop.mjs
//                                       runs the same check)
// TEST SEEDS ONLY: never use a published seed or phrase.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { entropyToMnemonic, mnemonicToEntropy, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

import { assetId, dataKey, deriveIdentity, memorySalt } from './derive.mjs';

export const VECTORS_JSON = fileURLToPath(new URL('../../../spec/vectors/recovery.json', import.meta.url));

function version(pkg) {
  const url = new URL(`./node_modules/${pkg}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).version;
}

const rep = (byte, n) => new Uint8Array(n).fill(byte);
const seq = (n) => Uint8Array.from({ length: n }, (_, i) => i);

// The BIP-39 reference vectors for 256-bit entropy (trezor/python-mnemonic
// vectors.json), typed here and compared with @scure's output below.
const OFFICIAL = new Map([
  ['00'.repeat(32), `${'abandon '.repeat(23)}art`],
  ['7f'.repeat(32), 'legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title'],
  ['80'.repeat(32), 'letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless'],
  ['ff'.repeat(32), `${'zoo '.repeat(23)}vote`],
]);

const SEEDS = [rep(0x00, 32), seq(32), rep(0x7f, 32), rep(0x80, 32), rep(0xff, 32)];
const SHARDS = [0, 1, 4294967295];
const MSD_PRECOMPILE = (() => {
  const p = new Uint8Array(20);
  p[18] = 0x4d;
  p[19] = 0x53;
  return p;
})();

export function buildVectors() {
  const seeds = SEEDS.map((seed) => {
    const hex = bytesToHex(seed);
    const phrase = entropyToMnemonic(seed, wordlist);
    if (OFFICIAL.has(hex) && OFFICIAL.get(hex) !== phrase) throw new Error(`@scure differs from the BIP-39 vector for ${hex}`);
    if (!validateMnemonic(phrase, wordlist) || bytesToHex(mnemonicToEntropy(phrase, wordlist)) !== hex)
      throw new Error(`@scure does not round-trip ${hex}`);
    const { address } = deriveIdentity(seed);
    const salts = SHARDS.map((shard) => ({ shard, salt: bytesToHex(memorySalt(seed, shard)) }));
    // Labels: the owner's first shard on a dev chain (assetId computed from
    // the derived salt, as a new device finds it), a plain label set, and
    // the largest chain id and epoch (u64 edges).
    const labels = [
      { chain_id: 31337n, precompile: MSD_PRECOMPILE, asset_id: assetId(MSD_PRECOMPILE, address, memorySalt(seed, 0)), key_epoch: 1n },
      { chain_id: 1n, precompile: seq(20), asset_id: rep(0x11, 32), key_epoch: 2n },
      { chain_id: 2n ** 64n - 1n, precompile: rep(0xff, 20), asset_id: rep(0xee, 32), key_epoch: 2n ** 64n - 1n },
    ];
    const data_keys = labels.map((l) => ({
      chain_id: l.chain_id.toString(),
      precompile: bytesToHex(l.precompile),
      asset_id: bytesToHex(l.asset_id),
      key_epoch: l.key_epoch.toString(),
      key: bytesToHex(dataKey(seed, l.chain_id, l.precompile, l.asset_id, l.key_epoch)),
    }));
    return { seed: hex, bip39_reference: OFFICIAL.has(hex), phrase, address: bytesToHex(address), memory_salts: salts, data_keys };
  });
  return {
    description:
      'Recovery phrase and seed-derived keys (spec/device.md §6). TEST SEEDS ONLY. Hex without 0x; ' +
      'chain_id and key_epoch are decimal strings (u64). memory_salts[].salt = crypto_kdf_derive_from_key(32, shard + 1, "MSmemslt", seed); ' +
      'data_keys[].key = BLAKE2b-256 keyed with crypto_kdf_derive_from_key(32, 1, "MSdatkey", seed) over ' +
      '"memsync.data-key/1" || chain_id u64 BE || precompile || asset_id || key_epoch u64 BE; the first ' +
      'data key\'s asset_id is keccak256(precompile || address || salt of shard 0).',
    generated_by: `tests/device/interop/recovery_vectors.mjs with @scure/bip39 ${version('@scure/bip39')}, @noble/hashes ${version('@noble/hashes')}, @noble/curves ${version('@noble/curves')}`,
    seeds,
  };
}

export function renderVectors() {
  return `${JSON.stringify(buildVectors(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderVectors();
  if (process.argv[2] === '--check') {
    let have = '';
    try {
      have = readFileSync(VECTORS_JSON, 'utf8');
    } catch {
      // missing: reported below
    }
    if (have !== text) {
      console.error(`recovery_vectors: ${VECTORS_JSON} differs from what @scure/@noble compute; run node recovery_vectors.mjs`);
      process.exit(1);
    }
    console.log('recovery_vectors: spec/vectors/recovery.json matches');
  } else {
    writeFileSync(VECTORS_JSON, text);
    console.log(`recovery_vectors: wrote ${VECTORS_JSON}`);
  }
}
