// A small key-value store for the chain store's index: RocksDB through its C
// API (rocksdb/c.h), loaded with koffi. The module already links RocksDB, so
// this adds no native npm module and no library the node does not already
// need; koffi is the only binding, as for libmemsync.so.
//
// Only what the index needs: open (creating), get, atomic write batches,
// close, destroy. Writes are not synced: the index is derived from
// blocks.log and is brought up to date from the log at the next open.
import fs from 'node:fs';
import path from 'node:path';
import koffi from 'koffi';

/** The index directory is held by another process (RocksDB's LOCK file). */
export class KvLockedError extends Error {}

const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/lib', '/usr/lib', '/lib',
  '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu'];

/**
 * Where librocksdb is: $MEMSYNC_ROCKSDB_LIBRARY; else the copy already mapped
 * into this process (the one libmemsync.so was linked against); else the
 * development name; else the highest librocksdb.so.N in the usual directories.
 */
function candidates() {
  const out = [];
  if (process.env.MEMSYNC_ROCKSDB_LIBRARY) out.push(process.env.MEMSYNC_ROCKSDB_LIBRARY);
  try {
    const m = /\s(\/\S*librocksdb\.so[.0-9]*)$/m.exec(fs.readFileSync('/proc/self/maps', 'utf8'));
    if (m !== null) out.push(m[1]);
  } catch { /* no procfs */ }
  out.push('librocksdb.so');
  for (const dir of LIB_DIRS) {
    let names;
    try { names = fs.readdirSync(dir); } catch { continue; }
    names.filter((n) => /^librocksdb\.so\.[0-9.]+$/.test(n))
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
      .forEach((n) => out.push(path.join(dir, n)));
  }
  return out;
}

let api;
function load() {
  if (api !== undefined) return api;
  let lib;
  const tried = [];
  for (const c of candidates()) {
    try {
      lib = koffi.load(c);
      break;
    } catch (err) {
      tried.push(`${c}: ${err.message}`);
    }
  }
  if (lib === undefined) throw new Error(`librocksdb not found (set MEMSYNC_ROCKSDB_LIBRARY): ${tried.join('; ')}`);
  const P = 'void *';
  const errOut = koffi.out(koffi.pointer('void *'));
  api = {
    lib, // held: koffi unloads a library whose handle is garbage-collected
    optionsCreate: lib.func('rocksdb_options_create', P, []),
    optionsDestroy: lib.func('rocksdb_options_destroy', 'void', [P]),
    createIfMissing: lib.func('rocksdb_options_set_create_if_missing', 'void', [P, 'uint8_t']),
    keepLogFiles: lib.func('rocksdb_options_set_keep_log_file_num', 'void', [P, 'size_t']),
    maxOpenFiles: lib.func('rocksdb_options_set_max_open_files', 'void', [P, 'int']),
    writeBufferSize: lib.func('rocksdb_options_set_write_buffer_size', 'void', [P, 'size_t']),
    flushOptionsCreate: lib.func('rocksdb_flushoptions_create', P, []),
    flushOptionsDestroy: lib.func('rocksdb_flushoptions_destroy', 'void', [P]),
    flushOptionsWait: lib.func('rocksdb_flushoptions_set_wait', 'void', [P, 'uint8_t']),
    flush: lib.func('rocksdb_flush', 'void', [P, P, errOut]),
    open: lib.func('rocksdb_open', P, [P, 'const char *', errOut]),
    close: lib.func('rocksdb_close', 'void', [P]),
    destroy: lib.func('rocksdb_destroy_db', 'void', [P, 'const char *', errOut]),
    readOptionsCreate: lib.func('rocksdb_readoptions_create', P, []),
    readOptionsDestroy: lib.func('rocksdb_readoptions_destroy', 'void', [P]),
    writeOptionsCreate: lib.func('rocksdb_writeoptions_create', P, []),
    writeOptionsDestroy: lib.func('rocksdb_writeoptions_destroy', 'void', [P]),
    get: lib.func('rocksdb_get', P, [P, P, 'const uint8_t *', 'size_t', koffi.out(koffi.pointer('size_t')), errOut]),
    write: lib.func('rocksdb_write', 'void', [P, P, P, errOut]),
    batchCreate: lib.func('rocksdb_writebatch_create', P, []),
    batchDestroy: lib.func('rocksdb_writebatch_destroy', 'void', [P]),
    batchPut: lib.func('rocksdb_writebatch_put', 'void', [P, 'const uint8_t *', 'size_t', 'const uint8_t *', 'size_t']),
    batchDelete: lib.func('rocksdb_writebatch_delete', 'void', [P, 'const uint8_t *', 'size_t']),
    free: lib.func('rocksdb_free', 'void', [P]),
  };
  return api;
}

/** RocksDB's error string (malloc'ed by RocksDB), freed; undefined if none. */
function takeError(a, errp) {
  const p = errp[0];
  if (!p) return undefined;
  const msg = koffi.decode(p, 'char', -1);
  a.free(p);
  return msg;
}

const bytes = (k) => (typeof k === 'string' ? Buffer.from(k, 'utf8') : k);

export class Kv {
  /**
   * Open (creating if missing) the RocksDB database in dir.
   * @throws {KvLockedError} when another process holds it
   */
  static open(dir) {
    const a = load();
    const opts = a.optionsCreate();
    try {
      a.createIfMissing(opts, 1);
      a.keepLogFiles(opts, 2);
      a.maxOpenFiles(opts, 64);
      // The write-ahead log is replayed at open: a small memtable keeps
      // that replay (after a crash) short whatever the length of the chain.
      a.writeBufferSize(opts, 4 << 20);
      const errp = [null];
      const db = a.open(opts, dir, errp);
      const err = takeError(a, errp);
      if (err !== undefined || !db) {
        if (/lock/i.test(err ?? '')) throw new KvLockedError(`${dir}: ${err}`);
        throw new Error(`cannot open the index ${dir}: ${err ?? 'unknown error'}`);
      }
      return new Kv(a, db, dir);
    } finally {
      a.optionsDestroy(opts);
    }
  }

  /** Remove the database in dir (it must not be open). */
  static destroy(dir) {
    if (!fs.existsSync(dir)) return;
    const a = load();
    const opts = a.optionsCreate();
    try {
      const errp = [null];
      a.destroy(opts, dir, errp);
      const err = takeError(a, errp);
      if (err !== undefined) throw new Error(`cannot remove the index ${dir}: ${err}`);
    } finally {
      a.optionsDestroy(opts);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  constructor(a, db, dir) {
    this.a = a;
    this.db = db;
    this.dir = dir;
    this.ro = a.readOptionsCreate();
    this.wo = a.writeOptionsCreate();
    /** Lookups that reached RocksDB (tests count them). */
    this.reads = 0;
  }

  /** @returns {Uint8Array|undefined} a copy of the value */
  get(key) {
    if (this.db === null) throw new Error('index closed');
    const k = bytes(key);
    const len = [0];
    const errp = [null];
    this.reads += 1;
    const p = this.a.get(this.db, this.ro, k, k.length, len, errp);
    const err = takeError(this.a, errp);
    if (err !== undefined) throw new Error(`index read failed: ${err}`);
    if (!p) return undefined;
    const n = Number(len[0]);
    const out = n === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(p, n).slice(0));
    this.a.free(p);
    return out;
  }

  /**
   * Apply puts and deletes atomically.
   * @param {Array<[key: string|Uint8Array, value: Uint8Array|string|null]>} ops  null deletes
   */
  write(ops) {
    if (this.db === null) throw new Error('index closed');
    const b = this.a.batchCreate();
    try {
      for (const [key, value] of ops) {
        const k = bytes(key);
        if (value === null) this.a.batchDelete(b, k, k.length);
        else {
          const v = bytes(value);
          this.a.batchPut(b, k, k.length, v, v.length);
        }
      }
      const errp = [null];
      this.a.write(this.db, this.wo, b, errp);
      const err = takeError(this.a, errp);
      if (err !== undefined) throw new Error(`index write failed: ${err}`);
    } finally {
      this.a.batchDestroy(b);
    }
  }

  /** Flush the memtable, so that the next open has no write-ahead log to replay. */
  flush() {
    if (this.db === null) return;
    const fo = this.a.flushOptionsCreate();
    try {
      this.a.flushOptionsWait(fo, 1);
      const errp = [null];
      this.a.flush(this.db, fo, errp);
      const err = takeError(this.a, errp);
      if (err !== undefined) throw new Error(`index flush failed: ${err}`);
    } finally {
      this.a.flushOptionsDestroy(fo);
    }
  }

  close() {
    if (this.db === null) return;
    try { this.flush(); } catch { /* the log is replayed at the next open instead */ }
    this.a.close(this.db);
    this.a.readOptionsDestroy(this.ro);
    this.a.writeOptionsDestroy(this.wo);
    this.db = null;
  }
}
