// Writes the seed corpora of tests/fuzz/corpus/<harness>/ (node, no deps):
//   node tests/fuzz/make_seeds.mjs
// Each seed is a small valid input in the layout its harness documents at the
// top of its source file; the fuzzer mutates from there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const u8 = (...xs) => Uint8Array.from(xs.flat(Infinity));
const word = (v) => { const w = new Uint8Array(32); let x = BigInt(v); for (let i = 31; i >= 0; i--, x >>= 8n) w[i] = Number(x & 0xffn); return [...w]; };
const fill = (n, b) => new Array(n).fill(b);
const pad32 = (a) => [...a, ...fill((32 - (a.length % 32)) % 32, 0)];
const be64 = (v) => word(v).slice(24);

function write(harness, name, bytes) {
  const dir = join(root, harness);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
}

// ---------------------------------------------------------- fuzz_abi_decode
// [slot][bits][max_len mode: 0 = SIZE_MAX][args]
const abi = 'fuzz_abi_decode';
write(abi, 'bytes_slot0', u8(0, 3, 0, word(32), word(3), pad32([0x61, 0x62, 0x63])));
write(abi, 'address_slot1', u8(1, 3, 0, word(1), word('0x2c7536e3605d9c16a7a3d7b1898e529396a65c23')));
write(abi, 'uint8_dirty', u8(0, 0, 0, word(256)));
write(abi, 'bytes_capped', u8(0, 3, 1, [0, 2], word(32), word(3), pad32([1, 2, 3])));
write(abi, 'offset_huge', u8(0, 3, 0, word('0xffffffffffffffe0'), word(0)));
write(abi, 'empty', u8(0, 3, 0));

// ------------------------------------------------------------ fuzz_envelope
// [mode: bit0 = epoch from envelope][policy: <0x80 none, <0xf0 pow2][epoch 8][envelope]
const env = (len, epoch) => [1, 1, be64(epoch), 7, fill(23, 9), fill(len - 34, 0xab)];
const envs = 'fuzz_envelope';
write(envs, 'none_min', u8(0, 0, be64(1), env(50, 1)));
write(envs, 'pow2_256', u8(1, 0x80, be64(0), env(306, 7)));
write(envs, 'pow2_bad', u8(1, 0x80, be64(0), env(307, 7)));
write(envs, 'zero_nonce', u8(0, 0, be64(1), [1, 1, be64(1), fill(24, 0), fill(16, 0)]));

// ----------------------------------------------------------- fuzz_signature
// [mode][digest 32][rest]; mode 2: rest = secret key 32, flip position, mask
const sig = 'fuzz_signature';
write(sig, 'signed_key11', u8(2, fill(32, 0x5a), fill(32, 0x11), 0, 0));
write(sig, 'signed_flipped', u8(2, fill(32, 0x5a), fill(32, 0x22), 40, 1));
write(sig, 'forced_v', u8(1, fill(32, 0x01), word(5), word(1), 27));
write(sig, 'raw_short', u8(0, fill(32, 0), fill(64, 0x33)));
write(sig, 'null_args', u8(3, fill(32, 0), fill(65, 0x44)));

// ---------------------------------------------------------------- fuzz_call
// [control][call]...; call = [ctx 0 = CALL][who 0 = key 0][gas 0 = 10M]
// [mode 0 = structured][fn index][generator bytes...][damage 0 = none]
// fn index (call_gen.c FNS): 0 create 1 createSigned 2 append 3 appendSigned
// 4 transfer 5 transferSigned 6 grant 7 revoke 8 rotate 9 shred
// 10 shredVersions 11 getHead 12 getVersion 13 getVersionInfo 14 getGrants
// 15 getGrant 16 nonceOf 17 domainSeparator.
// Asset ids: generator byte 0 = the known asset, 1 + 4k + s = key k, salt s.
const NOP = 0x50;
const call = (who, ...gen) => [0, who, 0, 0, ...gen, 0];
const create = (who, salt) => call(who, 0, salt, 5, 0x20, 0x33);             // 50-byte envelope
const append = (who, id) => call(who, 2, id, 0x80, 0x80, 0x21, 0x44);        // head, epoch, 51 bytes
const grant = (who, id, grantee, raw = []) => call(who, 6, id, grantee, raw, 1, 0, 2);  // perms 3, no expiry, 32-byte key
const c = 'fuzz_call';
write(c, 'create', u8(NOP, create(0, 1)));
write(c, 'create_append', u8(NOP, create(0, 1), append(0, 2), call(0, 12, 2, 0x80), call(0, 13, 2, 1)));
write(c, 'create_signed', u8(NOP, call(1, 1, 0x08, 2, 7, 0x20, 0x10, 0, 0, 0)));
write(c, 'append_signed', u8(NOP, call(0, 3, 0, 0x80, 0x80, 0x22, 0x55, 0, 0, 0, 0)));
write(c, 'grant_writer_appends', u8(NOP, create(1, 0), grant(1, 5, 0x10), append(2, 5), call(0, 14, 5)));
write(c, 'transfer_signed', u8(NOP, call(0, 5, 0, 0x08, 0, 0, 0)));
write(c, 'transfer_revoke', u8(NOP, grant(0, 0, 0x08), call(0, 7, 0, 0x08), call(0, 4, 0, 0x10), call(0, 15, 0, 0x08)));
write(c, 'rotate_shred', u8(NOP, create(2, 3), call(2, 8, 12), call(2, 10, 12, 0x80), call(2, 9, 12)));
write(c, 'reads', u8(0x00, call(0, 11, 0), call(0, 16, 0), call(0, 17), call(0, 12, 0, 1)));
write(c, 'checkpoint_revert', u8(0x20, 0, create(0, 3), call(0, 8, 4)));
write(c, 'raw_selector', u8(NOP, [0, 0, 0, 0xd1], [0, 32], fill(32, 0)));
write(c, 'short_input', u8(NOP, [0, 0, 0, 0xf0, 3, 1, 2, 3]));
// Long sequences: pruning (K = 3 in fuzz_call), the grant limit (2) and a
// revoke that moves the last grant into the freed slot.
write(c, 'prune', u8(NOP, create(0, 1), append(0, 2), append(0, 2), append(0, 2), append(0, 2), call(0, 12, 2, 1), call(0, 10, 2, 0x80)));
write(c, 'grants_full', u8(NOP, create(1, 0), grant(1, 5, 0x00), grant(1, 5, 0x10), grant(1, 5, 0x05, fill(20, 0x77)),
  call(1, 7, 5, 0x00), call(0, 15, 5, 0x10), call(0, 14, 5), call(1, 9, 5)));
console.log('seeds written under', root);
