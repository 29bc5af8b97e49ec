// JSON-RPC 2.0 over HTTP (POST, single or batch requests) for a DevChain.
// Errors: -32700 unparsable body, -32600 a request that is not a JSON-RPC
// request, -32601 unknown method, -32602 bad params, -32603 internal error,
// method-specific codes otherwise (errors.js).
import http from 'node:http';
import { ErrorCode, RpcError } from './errors.js';
import { methods } from './methods.js';

const MAX_BODY = 32 * 1024 * 1024;
const MAX_BATCH = 1000;

const response = (id, result) => ({ jsonrpc: '2.0', id, result });
const failure = (id, err) => ({ jsonrpc: '2.0', id, error: err.toJSON() });

function validId(id) {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

/**
 * Handle one request object. @returns the response, or undefined for a notification.
 */
export async function handleOne(chain, req, { log } = {}) {
  if (typeof req !== 'object' || req === null || Array.isArray(req) || req.jsonrpc !== '2.0'
      || typeof req.method !== 'string' || ('id' in req && !validId(req.id))
      || (req.params !== undefined && typeof req.params !== 'object')) {
    return failure(validId(req?.id) ? req.id : null, new RpcError(ErrorCode.INVALID_REQUEST, 'Invalid request'));
  }
  const notification = !('id' in req);
  const id = notification ? null : req.id;
  const fn = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
  let out;
  if (fn === undefined) {
    out = failure(id, new RpcError(ErrorCode.METHOD_NOT_FOUND, `the method ${req.method} does not exist/is not available`));
  } else {
    const params = req.params === undefined || req.params === null ? [] : req.params;
    if (!Array.isArray(params)) {
      out = failure(id, new RpcError(ErrorCode.INVALID_PARAMS, 'params must be an array'));
    } else {
      try {
        out = response(id, await fn(params, chain));
      } catch (err) {
        if (err instanceof RpcError) {
          out = failure(id, err);
        } else {
          log?.(`internal error in ${req.method}: ${err?.stack ?? err}`);
          out = failure(id, new RpcError(ErrorCode.INTERNAL, `internal error: ${err?.message ?? err}`));
        }
      }
    }
  }
  return notification ? undefined : out;
}

/** Handle a parsed body (object or batch). @returns the JSON value to send, or undefined (nothing to send). */
export async function handleBody(chain, body, opts) {
  if (Array.isArray(body)) {
    if (body.length === 0) return failure(null, new RpcError(ErrorCode.INVALID_REQUEST, 'empty batch'));
    if (body.length > MAX_BATCH) return failure(null, new RpcError(ErrorCode.INVALID_REQUEST, `batch larger than ${MAX_BATCH}`));
    // In order: the requests of a batch may depend on each other (a send, then a receipt).
    const out = [];
    for (const r of body) {
      const res = await handleOne(chain, r, opts);
      if (res !== undefined) out.push(res);
    }
    return out.length === 0 ? undefined : out;
  }
  return handleOne(chain, body, opts);
}

/**
 * @param {import('./chain.js').DevChain} chain
 * @param {{log?: (line: string) => void, logRequests?: boolean}} [opts]
 * @returns {http.Server} not yet listening
 */
export function createRpcServer(chain, opts = {}) {
  const server = http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'content-type');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    const send = (status, value) => {
      if (value === undefined) { res.writeHead(204).end(); return; }
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    if (req.method !== 'POST') {
      send(405, failure(null, new RpcError(ErrorCode.INVALID_REQUEST, 'JSON-RPC requests are POSTed')));
      return;
    }
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', async () => {
      if (tooLarge) { send(413, failure(null, new RpcError(ErrorCode.INVALID_REQUEST, 'request body too large'))); return; }
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(200, failure(null, new RpcError(ErrorCode.PARSE, 'Parse error')));
        return;
      }
      if (opts.logRequests) {
        const names = (Array.isArray(body) ? body : [body]).map((r) => r?.method).join(',');
        opts.log?.(`rpc ${names}`);
      }
      send(200, await handleBody(chain, body, opts));
    });
  });
  return server;
}
