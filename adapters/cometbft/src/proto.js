// The ABCI types, loaded at run time from the .proto files of the installed
// CometBFT module in the Go module cache (never copied into this repository).
//
// Where: $COMETBFT_PROTO_DIR if set, else `go env GOMODCACHE` +
// github.com/cometbft/cometbft@<COMETBFT_VERSION>/proto; gogoproto's files
// from the github.com/cosmos/gogoproto version CometBFT requires (read from
// its go.mod), google/protobuf/* from gogoproto's protobuf/ directory.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import protobuf from 'protobufjs';

/** The one pinned CometBFT version (the Makefile fragment installs the same). */
export const COMETBFT_VERSION = process.env.COMETBFT_VERSION || 'v0.38.17';

function modCache() {
  if (process.env.GOMODCACHE) return process.env.GOMODCACHE;
  return execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
}

/** @returns {{cometbft: string, gogoproto: string}} module directories */
export function protoDirs() {
  const cache = modCache();
  const cometbft = path.join(cache, 'github.com', 'cometbft', `cometbft@${COMETBFT_VERSION}`);
  if (!fs.existsSync(path.join(cometbft, 'proto', 'tendermint', 'abci', 'types.proto'))) {
    throw new Error(`CometBFT ${COMETBFT_VERSION} protos not found under ${cometbft} (run the Makefile's cometbft install first)`);
  }
  const gomod = fs.readFileSync(path.join(cometbft, 'go.mod'), 'utf8');
  const m = /github\.com\/cosmos\/gogoproto (v[0-9][^\s]*)/.exec(gomod);
  if (m === null) throw new Error(`${cometbft}/go.mod names no github.com/cosmos/gogoproto version`);
  const gogoproto = path.join(cache, 'github.com', 'cosmos', `gogoproto@${m[1]}`);
  if (!fs.existsSync(path.join(gogoproto, 'gogoproto', 'gogo.proto'))) {
    throw new Error(`gogoproto ${m[1]} not found under ${gogoproto} (go mod download github.com/cosmos/gogoproto@${m[1]})`);
  }
  return { cometbft, gogoproto };
}

let cached = null;

/** @returns {{root, Request, Response}} protobufjs types of tendermint.abci (field names as in the .proto) */
export function abciTypes() {
  if (cached !== null) return cached;
  const dirs = protoDirs();
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (target.startsWith('google/protobuf/')) return path.join(dirs.gogoproto, 'protobuf', target);
    if (target.startsWith('gogoproto/')) return path.join(dirs.gogoproto, target);
    if (target.startsWith('tendermint/')) return path.join(dirs.cometbft, 'proto', target);
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync('tendermint/abci/types.proto', { keepCase: true });
  root.resolveAll();
  cached = {
    root,
    Request: root.lookupType('tendermint.abci.Request'),
    Response: root.lookupType('tendermint.abci.Response'),
  };
  return cached;
}
