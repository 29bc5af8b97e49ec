// The one shared execution core: adapters/ethereumjs. Its source files are
// imported by relative path (createMemSyncVM, the journal mirroring, the
// precompile, the dev chain's DevChain, ChainStore and JSON-RPC methods), and
// the libraries they run on (@ethereumjs/*, ethers) are loaded from *its*
// node_modules, by the same file URLs its own imports resolve to. So there is
// exactly one copy of each module in the process: no second @ethereumjs/tx
// whose classes would differ from those the VM uses, and no copy of any code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** adapters/ethereumjs */
export const ETHEREUMJS_DIR = path.resolve(here, '../../ethereumjs');

/** import(name) as resolved from adapters/ethereumjs (the package's "import" export). */
async function load(name) {
  const dir = path.join(ETHEREUMJS_DIR, 'node_modules', name);
  let pj;
  try {
    pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch (err) {
    throw new Error(`${name} not found in ${ETHEREUMJS_DIR}/node_modules (run npm ci there; the Makefile does): ${err.message}`);
  }
  let entry = pj.exports?.['.'] ?? pj.exports;
  if (typeof entry === 'object' && entry !== null) entry = entry.import ?? entry.default;
  if (typeof entry === 'object' && entry !== null) entry = entry.default;
  if (typeof entry !== 'string') entry = pj.module ?? pj.main;
  return import(pathToFileURL(path.join(dir, entry)).href);
}

export const ethTx = await load('@ethereumjs/tx');
export const ethBlock = await load('@ethereumjs/block');
export const ethVm = await load('@ethereumjs/vm');
export const ethUtil = await load('@ethereumjs/util');
export const ethMpt = await load('@ethereumjs/mpt');
export const ethState = await load('@ethereumjs/statemanager');
export const { ethers } = await load('ethers');
