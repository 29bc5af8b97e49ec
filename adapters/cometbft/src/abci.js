// The ABCI++ socket server: CometBFT dials the app (four connections:
// consensus, mempool, query, snapshot) and sends tendermint.abci.Request
// messages, each framed by an unsigned varint length (protobufjs's
// encodeDelimited/decodeDelimited are exactly that framing). Each connection
// is answered strictly in request order; `flush` is answered like any other
// request, since every response is written as soon as it is ready.
//
// This file knows nothing of Ethereum: it turns protobuf messages into calls
// on an app object and back (see bin/abci-app.js for the app). A throw from
// the app is a local fault: it is answered with `exception`, which makes
// CometBFT stop, and onFault is called (the process then exits).
import net from 'node:net';
import { abciTypes } from './proto.js';

const MAX_MESSAGE = 64 * 1024 * 1024;

/** toObject options: int64 as decimal strings, enums as numbers, bytes as Uint8Array, zero values present. */
const OBJ = { longs: String, enums: Number, bytes: Uint8Array, defaults: true, arrays: true };

/**
 * Split a buffer into complete delimited messages.
 * @returns {{messages: Uint8Array[], rest: Buffer}}
 */
export function splitFrames(buf) {
  const messages = [];
  let off = 0;
  for (;;) {
    let len = 0;
    let shift = 0;
    let p = off;
    let complete = false;
    while (p < buf.length && shift < 64) {
      const b = buf[p++];
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) { complete = true; break; }
    }
    if (!complete) {
      if (shift >= 64) throw new Error('ABCI frame: varint length too long');
      break;
    }
    if (len > MAX_MESSAGE) throw new Error(`ABCI frame: message of ${len} bytes`);
    if (buf.length - p < len) break;
    messages.push(buf.subarray(p, p + len));
    off = p + len;
  }
  return { messages, rest: buf.subarray(off) };
}

/** BigInt -> decimal string, recursively (protobufjs takes int64 as number, string or Long). */
function plain(v) {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plain);
  const out = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
  return out;
}

/** Encode one Response ({ [oneof name]: payload }) with its varint length. */
export function encodeResponse(obj) {
  const { Response } = abciTypes();
  return Response.encodeDelimited(Response.fromObject(plain(obj))).finish();
}

/** Decode one Request body into { type, req } with plain values (int64 as strings, bytes as Uint8Array). */
export function decodeRequest(body) {
  const { Request } = abciTypes();
  const msg = Request.decode(body);
  const type = msg.value;
  if (typeof type !== 'string') throw new Error('ABCI request without a value');
  const obj = Request.toObject(msg, OBJ);
  return { type, req: obj[type] ?? {} };
}

/** Encode a Request (tests and tools play CometBFT's side with it). */
export function encodeRequest(obj) {
  const { Request } = abciTypes();
  return Request.encodeDelimited(Request.fromObject(plain(obj))).finish();
}

/** Decode one Response body (tests). */
export function decodeResponse(body) {
  const { Response } = abciTypes();
  const msg = Response.decode(body);
  return { type: msg.value, res: Response.toObject(msg, OBJ)[msg.value] };
}

/**
 * @param {object} handlers  { [request oneof name]: async (req) => response payload }
 *                           (echo and flush are answered here)
 * @param {{log?: (line: string) => void, onFault?: (err: Error) => void}} [opts]
 * @returns {net.Server} not yet listening
 */
export function createAbciServer(handlers, { log = () => {}, onFault = () => {} } = {}) {
  abciTypes(); // load the .proto files now: a missing module cache fails at start, not at the first request
  return net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let queue = Promise.resolve();
    let dead = false;
    const fault = (err) => {
      if (dead) return;
      dead = true;
      log(`abci: local fault, answering with an exception: ${err?.stack ?? err}`);
      try { sock.write(encodeResponse({ exception: { error: String(err?.message ?? err) } })); } catch { /* closing anyway */ }
      onFault(err);
    };
    const handle = async (body) => {
      if (dead) return;
      let type;
      let req;
      try {
        ({ type, req } = decodeRequest(body));
      } catch (err) {
        fault(new Error(`undecodable ABCI request: ${err.message}`));
        return;
      }
      let res;
      try {
        if (type === 'echo') res = { message: req.message };
        else if (type === 'flush') res = {};
        else {
          const fn = handlers[type];
          if (fn === undefined) throw new Error(`no handler for ABCI ${type}`);
          res = await fn(req);
        }
      } catch (err) {
        fault(err);
        return;
      }
      if (!dead) sock.write(encodeResponse({ [type]: res }));
    };
    sock.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let frames;
      try {
        frames = splitFrames(buf);
      } catch (err) {
        fault(err);
        sock.destroy();
        return;
      }
      buf = Buffer.from(frames.rest);
      for (const body of frames.messages) {
        const copy = Uint8Array.from(body);
        queue = queue.then(() => handle(copy));
      }
    });
    sock.on('error', (err) => log(`abci: connection error: ${err.message}`));
  });
}
