// The dev chain's own store: one append-only file of block records, each
// holding everything the block changed (the block, its receipts, the state
// trie nodes it wrote and the module root it committed).
//
// Why a log and not a database: a block is the unit of durability, and one
// record written with one write() and made durable with one fsync() is atomic
// by construction once records carry a length and a checksum. A crash in the
// middle of an append leaves a torn last record, which the next open cuts off
// (that block was never acknowledged: the RPC answers only after the fsync).
// No native npm module is needed (a LevelDB binding would be a second one
// beside koffi). The whole store is read into memory at start, which suits a
// dev chain; state is never pruned, so every block's state stays readable.
//
// File: <dir>/blocks.log, a sequence of frames
//   u32 BE payload length | 8 bytes sha256(payload)[0..8] | payload (UTF-8 JSON)
// Payload: { number, block: RLP hex, receipts: [...], nodes: [[key, value]],
//            moduleRoot: hex, genesis?: { chainId, accounts } }
// Record i is block i; a record out of sequence is corruption.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { bytesToHex, bytesToUnprefixedHex, hexToBytes } from '@ethereumjs/util';

const HEADER = 12;
const MAX_RECORD = 1 << 30;

export class StoreCorruptError extends Error {}

function checksum(payload) {
  return createHash('sha256').update(payload).digest().subarray(0, 8);
}

function frame(obj) {
  const payload = Buffer.from(JSON.stringify(obj), 'utf8');
  const out = Buffer.alloc(HEADER + payload.length);
  out.writeUInt32BE(payload.length, 0);
  checksum(payload).copy(out, 4);
  payload.copy(out, HEADER);
  return out;
}

/**
 * The trie database of the state manager: every node in memory, the nodes
 * written since the last block collected for the next record. In scratch mode
 * (eth_call, gas estimation) writes go to a throw-away overlay instead, so a
 * simulation never reaches the file.
 * Implements the DB interface of @ethereumjs/util (get/put/del/batch/shallowCopy/open).
 */
export class LogDB {
  constructor() {
    this.nodes = new Map();
    this.dirty = new Map();
    this.scratch = null;
  }

  static key(k) { return k instanceof Uint8Array ? bytesToUnprefixedHex(k) : String(k); }

  async get(key) {
    const k = LogDB.key(key);
    if (this.scratch !== null && this.scratch.has(k)) return this.scratch.get(k) ?? undefined;
    return this.nodes.get(k);
  }

  async put(key, value) {
    const k = LogDB.key(key);
    if (this.scratch !== null) { this.scratch.set(k, value); return; }
    this.nodes.set(k, value);
    this.dirty.set(k, value);
  }

  async del(key) {
    const k = LogDB.key(key);
    if (this.scratch !== null) { this.scratch.set(k, null); return; }
    this.nodes.delete(k);
    this.dirty.set(k, null);
  }

  async batch(ops) {
    for (const op of ops) {
      if (op.type === 'put') await this.put(op.key, op.value);
      else if (op.type === 'del') await this.del(op.key);
    }
  }

  /** Every trie (account and storage tries, copies) shares this one database. */
  shallowCopy() { return this; }

  async open() {}

  /** Run fn with writes diverted to an overlay that is dropped afterwards. */
  async withScratch(fn) {
    if (this.scratch !== null) return fn();
    this.scratch = new Map();
    try {
      return await fn();
    } finally {
      this.scratch = null;
    }
  }

  /** The writes since the last record, encoded for the log; clears them. */
  takeDirty() {
    const out = [];
    for (const [k, v] of this.dirty) {
      if (v === null) out.push([k, null]);
      else if (v instanceof Uint8Array) out.push([k, 'x' + bytesToUnprefixedHex(v)]);
      else out.push([k, 's' + String(v)]);
    }
    this.dirty.clear();
    return out;
  }

  /** Put back writes that did not make it into a record (failed append). */
  restoreDirty(entries) {
    for (const [k, v] of entries) if (!this.dirty.has(k)) this.dirty.set(k, v === null ? null : LogDB.decode(v));
  }

  static decode(v) {
    return v[0] === 'x' ? hexToBytes('0x' + v.slice(1)) : v.slice(1);
  }

  /** Apply the nodes of a record read from the log. */
  load(entries) {
    for (const [k, v] of entries) {
      if (v === null) this.nodes.delete(k);
      else this.nodes.set(k, LogDB.decode(v));
    }
  }
}

export class ChainStore {
  /**
   * Open (or create) the store in dir. Reads every record; a torn last record
   * (crash during an append) is cut off, any other damage is refused.
   * @returns {ChainStore} with .records (parsed payloads, trie nodes applied to .db and dropped)
   */
  static open(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'blocks.log');
    const created = !fs.existsSync(file);
    const fd = fs.openSync(file, 'a+');
    if (created) {
      fs.fsyncSync(fd);
      const dfd = fs.openSync(dir, 'r');
      try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
    }
    const store = new ChainStore(file, fd);
    try {
      store._read();
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return store;
  }

  constructor(file, fd) {
    this.file = file;
    this.fd = fd;
    this.db = new LogDB();
    this.records = [];
    this.truncated = 0;
  }

  _read() {
    const buf = fs.readFileSync(this.file);
    let off = 0;
    while (off < buf.length) {
      const torn = () => {
        // Only the last record can be torn: nothing may follow it.
        this.truncated = buf.length - off;
        fs.ftruncateSync(this.fd, off);
        fs.fsyncSync(this.fd);
      };
      if (buf.length - off < HEADER) { torn(); break; }
      const len = buf.readUInt32BE(off);
      if (len > MAX_RECORD) throw new StoreCorruptError(`${this.file}: record at byte ${off} has an impossible length ${len}`);
      const end = off + HEADER + len;
      if (end > buf.length) { torn(); break; }
      const payload = buf.subarray(off + HEADER, end);
      if (!checksum(payload).equals(buf.subarray(off + 4, off + HEADER))) {
        if (end === buf.length) { torn(); break; }
        throw new StoreCorruptError(`${this.file}: record at byte ${off} fails its checksum and is not the last one`);
      }
      let rec;
      try {
        rec = JSON.parse(payload.toString('utf8'));
      } catch {
        throw new StoreCorruptError(`${this.file}: record at byte ${off} is not JSON`);
      }
      if (rec.number !== this.records.length) {
        throw new StoreCorruptError(`${this.file}: record ${this.records.length} says block ${rec.number}`);
      }
      this.db.load(rec.nodes ?? []);
      delete rec.nodes;
      this.records.push(rec);
      off = end;
    }
  }

  get height() { return this.records.length - 1; }

  /**
   * Append one block record and make it durable (write + fsync). The trie
   * nodes written since the previous record go with it.
   * @param {{number, block: Uint8Array, receipts, moduleRoot: Uint8Array, genesis?}} rec
   */
  append({ number, block, receipts, moduleRoot, genesis }) {
    if (number !== this.records.length) throw new Error(`chain store: append of block ${number} at height ${this.height}`);
    const nodes = this.db.takeDirty();
    const rec = { number, block: bytesToHex(block), receipts, moduleRoot: bytesToHex(moduleRoot) };
    if (genesis !== undefined) rec.genesis = genesis;
    const bytes = frame({ ...rec, nodes });
    const size = fs.fstatSync(this.fd).size;
    try {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
      fs.fsyncSync(this.fd);
    } catch (err) {
      // Leave no torn record behind a live store; the caller stops the chain.
      try { fs.ftruncateSync(this.fd, size); } catch { /* the next open cuts a torn tail */ }
      this.db.restoreDirty(nodes);
      throw err;
    }
    this.records.push(rec);
  }

  close() {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}
