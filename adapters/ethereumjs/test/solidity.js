// Compiles contracts/ (the MemSync library, the example registry, the
// benchmark contracts) and the test contracts that use them with the bundled
// solc-js. Source unit names are repository paths, so `contracts/MemSync.sol`
// imports `../spec/IMemSync.sol` exactly as it would in a Foundry or Hardhat
// project rooted at the repository.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { REPO } from './helpers.js';

const require = createRequire(import.meta.url);
const solc = require('solc');

const SOURCES = [
  'contracts/MemSync.sol',
  'contracts/examples/AgentRegistry.sol',
  'contracts/bench/PlainMemory.sol',
  'contracts/bench/PrecompileMemory.sol',
  'adapters/ethereumjs/test/contracts/LibraryHarness.sol',
  'adapters/ethereumjs/test/contracts/Matrix.sol',
];

function readImport(unit) {
  const file = path.resolve(REPO, unit);
  if (!file.startsWith(REPO + path.sep)) return { error: `import outside the repository: ${unit}` };
  try {
    return { contents: fs.readFileSync(file, 'utf8') };
  } catch {
    return { error: `not found: ${unit}` };
  }
}

let compiled;
/**
 * Artifacts by contract name: { abi, bytecode }. Compiled once per process.
 * Warnings are returned too, so a test can insist there are none.
 */
export function compileContracts() {
  if (compiled !== undefined) return compiled;
  const sources = {};
  for (const unit of SOURCES) sources[unit] = { content: fs.readFileSync(path.join(REPO, unit), 'utf8') };
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'prague',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport }));
  const diagnostics = out.errors ?? [];
  const errors = diagnostics.filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const artifacts = {};
  for (const unit of Object.keys(out.contracts)) {
    for (const [name, c] of Object.entries(out.contracts[unit])) {
      artifacts[name] = { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object, source: unit };
    }
  }
  compiled = { solcVersion: solc.version(), artifacts, warnings: diagnostics.filter((e) => e.severity !== 'error') };
  return compiled;
}
