// Helpers of the dev chain tests: start bin/devchain.js as a child process on
// a free port, raw JSON-RPC, cast, and the example contracts compiled with
// the bundled solc-js.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ethers } from 'ethers';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(here, '..');
const REPO = path.resolve(PKG, '../..');
const BIN = path.join(PKG, 'bin/devchain.js');
// Foundry's cast from the npm package @foundry-rs/cast-linux-amd64 (the only
// platform package the registry serves; an optional dependency, so other
// platforms install without it and the cast test is skipped there).
const castPath = path.join(PKG, 'node_modules/.bin/cast');
export const CAST = fs.existsSync(castPath) ? castPath : undefined;
export const MS = '0x0000000000000000000000000000000000004D53';

export function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `memsync-devchain-${tag}-`));
}

/**
 * Start a dev chain; resolves once it listens.
 * @returns {Promise<{url, proc, stdout: () => string, stderr: () => string, stop: () => Promise<number>}>}
 */
export function startChain(dataDir, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, '--port', '0', '--data', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CHAIN_ID: '' },
    });
    let out = '';
    let err = '';
    let done = false;
    let stopping = false;
    const exited = new Promise((r) => proc.on('exit', (code, signal) => {
      // A chain that dies under a test says why in the test output.
      if (done && !stopping) process.stderr.write(`devchain died (${code ?? signal}):\n${err}\n`);
      r(code ?? signal);
    }));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /Listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(out);
      if (m && !done) {
        done = true;
        resolve({
          url: m[1], proc, stdout: () => out, stderr: () => err,
          async stop() {
            stopping = true;
            proc.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    proc.stderr.on('data', (d) => { err += d; });
    exited.then((code) => {
      if (!done) {
        done = true;
        const e = new Error(`devchain exited with ${code} before listening:\n${err}`);
        e.exitCode = code;
        e.stderr = err;
        reject(e);
      }
    });
  });
}

/** Run the dev chain expecting it to refuse to start. @returns {{code, stderr}} */
export async function startFails(dataDir, args = []) {
  try {
    const c = await startChain(dataDir, args);
    await c.stop();
  } catch (e) {
    return { code: e.exitCode, stderr: e.stderr };
  }
  throw new Error('the dev chain started but was expected to refuse');
}

/** One raw JSON-RPC POST; returns the parsed body (or the text if not JSON). */
export async function rpc(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  try { return JSON.parse(text); } catch { return text; }
}

/** Run cast; resolves {code, stdout, stderr} (no throw on failure). */
export function cast(args) {
  return new Promise((resolve) => {
    execFile(CAST, args, { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', FOUNDRY_DISABLE_NIGHTLY_WARNING: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}

let compiled;
/** spec/IMemSync.sol, contracts/MemSync.sol and contracts/examples/AgentRegistry.sol. */
export function compileContracts() {
  if (compiled !== undefined) return compiled;
  const solc = require('solc');
  const files = ['spec/IMemSync.sol', 'contracts/MemSync.sol', 'contracts/examples/AgentRegistry.sol'];
  const sources = {};
  for (const f of files) sources[f] = { content: fs.readFileSync(path.join(REPO, f), 'utf8') };
  const out = JSON.parse(solc.compile(JSON.stringify({
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'prague',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  })));
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const reg = out.contracts['contracts/examples/AgentRegistry.sol'].AgentRegistry;
  compiled = {
    IMemSync: { abi: out.contracts['spec/IMemSync.sol'].IMemSync.abi },
    AgentRegistry: { abi: reg.abi, bytecode: '0x' + reg.evm.bytecode.object },
  };
  return compiled;
}

/** keccak256(abi.encodePacked(precompile, owner, salt)) (spec/abi.md [ABI-20]). */
export function assetIdOf(owner, salt) {
  return ethers.solidityPackedKeccak256(['address', 'address', 'bytes32'], [MS, owner, salt]);
}

export { ethers };
