// The dev chain's own store: one append-only file of block records, each
// holding everything the block changed (the block, its receipts, the state
// trie nodes it wrote and the module root it committed), and an index beside
// it so that nothing has to be read in full at start.
//
// Why a log: a block is the unit of durability, and one record written with
// one write() and made durable with one fsync() is atomic by construction
// once records carry a length and a checksum. A crash in the middle of an
// append leaves a torn last record, which the next open cuts off (that block
// was never acknowledged: the RPC answers only after the fsync).
//
// File: <dir>/blocks.log, a sequence of frames
//   u32 BE payload length | 8 bytes sha256(payload)[0..8] | payload (UTF-8 JSON)
// Payload: { number, block: RLP hex, receipts: [...], nodes: [[key, value]],
//            moduleRoot: hex, genesis?: { chainId, accounts } }
// Record i is block i; a record out of sequence is corruption.
//
// Index: <dir>/index, a RocksDB database (kv.js) derived from the log alone:
//   'M'                 -> JSON {version, count, end, lastOff, lastSum}: the
//                          records indexed, the byte offset after the last one,
//                          and that record's offset and checksum
//   'B' u64be(n)        -> u64be offset | u32be payload length of record n
//   'H' block hash      -> u64be n
//   'T' tx hash         -> u64be n | u32be index in the block
//   'N' trie node key   -> the node ('x' bytes | 's' string)
// The index is written after the record is durable and is never synced: at
// open it is checked against the log (its last record's offset and checksum)
// and brought up to date from the records after it, normally none or one.
// An index that does not match the log (missing, older format, ahead of a
// log that lost records, another log) is rebuilt from the whole log, once.
// So a start reads the genesis record, the head record and the tail the
// index had not seen, whatever the length of the chain; blocks, receipts and
// trie nodes are read when asked for, through small caches.
//
// A store whose log does not exist yet is created by its first append:
// opening a missing store changes nothing on disk.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ethers } from 'ethers';
import { bytesToHex, bytesToUnprefixedHex, hexToBytes } from '@ethereumjs/util';
import { Kv, KvLockedError } from './kv.js';

export { KvLockedError };

const HEADER = 12;
const MAX_RECORD = 1 << 30;
const INDEX_VERSION = 1;
/** Parsed records kept in memory (the head and the recently read ones). */
const RECORD_CACHE = 64;
/** Trie nodes kept in memory in front of the index. */
const NODE_CACHE = 50_000;

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

function u64(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

const key = (prefix, body) => Buffer.concat([Buffer.from(prefix, 'latin1'), body]);
const hashKey = (prefix, hex) => key(prefix, Buffer.from(hex.slice(2), 'hex'));

/** A Map used as a bounded LRU cache. */
function cacheGet(map, k) {
  const v = map.get(k);
  if (v !== undefined) { map.delete(k); map.set(k, v); }
  return v;
}

function cacheSet(map, k, v, max) {
  map.delete(k);
  map.set(k, v);
  if (map.size > max) map.delete(map.keys().next().value);
}

/**
 * The hashes a block record is looked up by, from the block's RLP alone:
 * the block hash is keccak256 of the header's RLP, a legacy transaction's
 * hash keccak256 of its RLP list, a typed one's keccak256 of its envelope.
 */
function blockHashes(blockHex) {
  const fields = ethers.decodeRlp(blockHex);
  if (!Array.isArray(fields) || !Array.isArray(fields[0]) || !Array.isArray(fields[1])) {
    throw new StoreCorruptError('block record: not a block');
  }
  return {
    hash: ethers.keccak256(ethers.encodeRlp(fields[0])),
    txs: fields[1].map((t) => ethers.keccak256(Array.isArray(t) ? ethers.encodeRlp(t) : t)),
  };
}

/**
 * The trie database of the state manager: the nodes written since the last
 * block (collected for the next record), a cache, and the store's index
 * behind them. In scratch mode (eth_call, gas estimation) writes go to a
 * throw-away overlay instead, so a simulation never reaches the store.
 * Implements the DB interface of @ethereumjs/util (get/put/del/batch/shallowCopy/open).
 */
export class LogDB {
  /** @param {ChainStore} [store] where committed nodes are read from */
  constructor(store) {
    this.store = store;
    this.dirty = new Map();
    this.cache = new Map();
    this.scratch = null;
  }

  static key(k) { return k instanceof Uint8Array ? bytesToUnprefixedHex(k) : String(k); }

  async get(k0) {
    const k = LogDB.key(k0);
    if (this.scratch !== null && this.scratch.has(k)) return this.scratch.get(k) ?? undefined;
    if (this.dirty.has(k)) return this.dirty.get(k) ?? undefined;
    const hit = cacheGet(this.cache, k);
    if (hit !== undefined) return hit;
    const raw = this.store?.kv?.get(key('N', Buffer.from(k, 'utf8')));
    if (raw === undefined) return undefined;
    const v = LogDB.fromStored(raw);
    cacheSet(this.cache, k, v, NODE_CACHE);
    return v;
  }

  async put(k0, value) {
    const k = LogDB.key(k0);
    if (this.scratch !== null) { this.scratch.set(k, value); return; }
    this.dirty.set(k, value);
    cacheSet(this.cache, k, value, NODE_CACHE);
  }

  async del(k0) {
    const k = LogDB.key(k0);
    if (this.scratch !== null) { this.scratch.set(k, null); return; }
    this.dirty.set(k, null);
    this.cache.delete(k);
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

  /** A node as the log encodes it ('x' hex | 's' string). */
  static decode(v) {
    return v[0] === 'x' ? hexToBytes('0x' + v.slice(1)) : v.slice(1);
  }

  /** A node as the index stores it: the log's tag byte, then raw bytes or UTF-8. */
  static toStored(v) {
    return v[0] === 'x' ? Buffer.concat([Buffer.from('x'), Buffer.from(v.slice(1), 'hex')]) : Buffer.from(v, 'utf8');
  }

  static fromStored(raw) {
    if (raw[0] === 0x78) return new Uint8Array(raw.subarray(1));
    return Buffer.from(raw.subarray(1)).toString('utf8');
  }
}

export class ChainStore {
  /**
   * Open the store in dir: check the index against the log, cut off a torn
   * last record (crash during an append), index the records the index has not
   * seen; any other damage is refused. A missing log is not created here.
   * @throws {StoreCorruptError} damaged log
   * @throws {KvLockedError} the index is held by another process
   */
  static open(dir) {
    const store = new ChainStore(dir);
    if (!fs.existsSync(store.file)) return store;
    try {
      store._openExisting();
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  constructor(dir) {
    this.dir = dir;
    this.file = path.join(dir, 'blocks.log');
    this.indexDir = path.join(dir, 'index');
    this.fd = null;
    this.kv = null;
    this.db = new LogDB(this);
    /** Records in the log (block numbers 0 .. count-1). */
    this.count = 0;
    /** Byte offset after the last record. */
    this.end = 0;
    /** Bytes of a torn last record cut off at open. */
    this.truncated = 0;
    /** Why the index was rebuilt from the whole log at open, if it was. */
    this.reindexed = null;
    /** What this process read of the log: records parsed and bytes read (tests check start-up work). */
    this.stats = { recordsRead: 0, bytesRead: 0 };
    this.cache = new Map();
    this.records = recordsView(this);
  }

  get height() { return this.count - 1; }

  _openExisting() {
    this.fd = fs.openSync(this.file, 'a+');
    this.kv = Kv.open(this.indexDir);
    const size = fs.fstatSync(this.fd).size;
    const why = this._indexMismatch(size);
    if (why !== null) {
      this.reindexed = why;
      this.kv.close();
      Kv.destroy(this.indexDir);
      this.kv = Kv.open(this.indexDir);
      this.count = 0;
      this.end = 0;
    }
    this._scan(size);
  }

  /** null if the index describes a prefix of the log (and sets count/end); else why not. */
  _indexMismatch(size) {
    const raw = this.kv.get('M');
    if (raw === undefined) return size === 0 ? null : 'no index';
    let m;
    try {
      m = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      return 'unreadable index';
    }
    if (m?.version !== INDEX_VERSION) return `index version ${m?.version}`;
    if (![m.count, m.end, m.lastOff].every((x) => Number.isSafeInteger(x) && x >= 0)) return 'unreadable index';
    if (m.count === 0 && m.end === 0) return null;
    if (!(m.end <= size)) return `the index covers ${m.end} bytes, the log has ${size}`;
    if (m.lastOff + HEADER > m.end) return 'unreadable index';
    const head = this._pread(m.lastOff, HEADER);
    if (head === null || m.lastOff + HEADER + head.readUInt32BE(0) !== m.end || head.subarray(4).toString('hex') !== m.lastSum) {
      return 'the index does not match the log';
    }
    this.count = m.count;
    this.end = m.end;
    return null;
  }

  _pread(off, len) {
    const buf = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.fd, buf, done, len - done, off + done);
      if (n === 0) return null;
      done += n;
    }
    this.stats.bytesRead += len;
    return buf;
  }

  /** Read, check and index every record from this.end to the end of the file. */
  _scan(size) {
    let off = this.end;
    while (off < size) {
      const torn = () => {
        // Only the last record can be torn: nothing may follow it.
        this.truncated = size - off;
        fs.ftruncateSync(this.fd, off);
        fs.fsyncSync(this.fd);
      };
      if (size - off < HEADER) { torn(); break; }
      const head = this._pread(off, HEADER);
      const len = head.readUInt32BE(0);
      if (len > MAX_RECORD) throw new StoreCorruptError(`${this.file}: record at byte ${off} has an impossible length ${len}`);
      const end = off + HEADER + len;
      if (end > size) { torn(); break; }
      const payload = this._pread(off + HEADER, len);
      const sum = checksum(payload);
      if (!sum.equals(head.subarray(4))) {
        if (end === size) { torn(); break; }
        throw new StoreCorruptError(`${this.file}: record at byte ${off} fails its checksum and is not the last one`);
      }
      let rec;
      try {
        rec = JSON.parse(payload.toString('utf8'));
      } catch {
        throw new StoreCorruptError(`${this.file}: record at byte ${off} is not JSON`);
      }
      this.stats.recordsRead += 1;
      if (rec.number !== this.count) {
        throw new StoreCorruptError(`${this.file}: record ${this.count} says block ${rec.number}`);
      }
      this._index(rec, off, len, sum);
      off = end;
    }
  }

  /** Write the index entries of record rec (at byte off, payload length len). */
  _index(rec, off, len, sum) {
    let hashes;
    try {
      hashes = blockHashes(rec.block);
    } catch (err) {
      throw new StoreCorruptError(`${this.file}: record ${rec.number}: ${err.message}`);
    }
    const n = rec.number;
    const ops = [];
    for (const [k, v] of rec.nodes ?? []) ops.push([key('N', Buffer.from(k, 'utf8')), v === null ? null : LogDB.toStored(v)]);
    const loc = Buffer.alloc(12);
    loc.writeBigUInt64BE(BigInt(off));
    loc.writeUInt32BE(len, 8);
    ops.push([key('B', u64(n)), loc]);
    ops.push([hashKey('H', hashes.hash), u64(n)]);
    hashes.txs.forEach((h, i) => {
      const at = Buffer.alloc(12);
      at.writeBigUInt64BE(BigInt(n));
      at.writeUInt32BE(i, 8);
      ops.push([hashKey('T', h), at]);
    });
    const end = off + HEADER + len;
    ops.push(['M', JSON.stringify({ version: INDEX_VERSION, count: n + 1, end, lastOff: off, lastSum: sum.toString('hex') })]);
    this.kv.write(ops);
    this.count = n + 1;
    this.end = end;
  }

  /**
   * Record n (without its trie nodes), or undefined beyond the head.
   * @returns {{number, block: string, receipts, moduleRoot: string, genesis?}}
   */
  record(n) {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.count) return undefined;
    const hit = cacheGet(this.cache, n);
    if (hit !== undefined) return hit;
    const loc = this.kv.get(key('B', u64(n)));
    if (loc === undefined) throw new StoreCorruptError(`${this.file}: record ${n} is not in the index`);
    const b = Buffer.from(loc);
    const off = Number(b.readBigUInt64BE(0));
    const len = b.readUInt32BE(8);
    const buf = this._pread(off, HEADER + len);
    if (buf === null || buf.readUInt32BE(0) !== len || !checksum(buf.subarray(HEADER)).equals(buf.subarray(4, HEADER))) {
      throw new StoreCorruptError(`${this.file}: record ${n} at byte ${off} is damaged`);
    }
    const rec = JSON.parse(buf.subarray(HEADER).toString('utf8'));
    if (rec.number !== n) throw new StoreCorruptError(`${this.file}: record at byte ${off} says block ${rec.number}, not ${n}`);
    this.stats.recordsRead += 1;
    delete rec.nodes;
    cacheSet(this.cache, n, rec, RECORD_CACHE);
    return rec;
  }

  /** The number of the block with this hash (0x-prefixed hex), or undefined. */
  blockNumberOf(hash) {
    if (this.kv === null) return undefined;
    const v = this.kv.get(hashKey('H', hash));
    if (v === undefined) return undefined;
    const n = Number(Buffer.from(v).readBigUInt64BE(0));
    return n < this.count ? n : undefined;
  }

  /** Where the transaction with this hash is: {number, index}, or undefined. */
  txLocation(hash) {
    if (this.kv === null) return undefined;
    const v = this.kv.get(hashKey('T', hash));
    if (v === undefined) return undefined;
    const b = Buffer.from(v);
    const number = Number(b.readBigUInt64BE(0));
    return number < this.count ? { number, index: b.readUInt32BE(8) } : undefined;
  }

  /** Create the log (and an empty index) at the first append. */
  _create() {
    fs.mkdirSync(this.dir, { recursive: true });
    const fd = fs.openSync(this.file, 'a+');
    try {
      fs.fsyncSync(fd);
      const dfd = fs.openSync(this.dir, 'r');
      try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
      Kv.destroy(this.indexDir); // one left without its log describes nothing
      this.kv = Kv.open(this.indexDir);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }

  /**
   * Append one block record and make it durable (write + fsync), then index
   * it. The trie nodes written since the previous record go with it.
   * @param {{number, block: Uint8Array, receipts, moduleRoot: Uint8Array, genesis?}} rec
   */
  append({ number, block, receipts, moduleRoot, genesis }) {
    if (number !== this.count) throw new Error(`chain store: append of block ${number} at height ${this.height}`);
    if (this.fd === null) this._create();
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
    // Durable from here. A failed index write leaves the index behind the
    // log; the caller stops, and the next open indexes this record again.
    this._index({ ...rec, nodes }, size, bytes.length - HEADER, bytes.subarray(4, HEADER));
    cacheSet(this.cache, number, rec, RECORD_CACHE);
  }

  close() {
    if (this.kv !== null) {
      this.kv.close();
      this.kv = null;
    }
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

/**
 * store.records as an array-like view (length, [n], iteration, the Array
 * methods), each record read on demand: callers written for the in-memory
 * array of earlier versions keep working.
 */
function recordsView(store) {
  return new Proxy([], {
    get(target, prop, receiver) {
      if (prop === 'length') return store.count;
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) return store.record(Number(prop));
      if (prop === Symbol.iterator) {
        return function* records() { for (let i = 0; i < store.count; i++) yield store.record(i); };
      }
      return Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) return Number(prop) < store.count;
      return Reflect.has(target, prop);
    },
  });
}
