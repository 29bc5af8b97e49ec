// One call that wires everything: a module instance on a data directory, a
// state manager mirroring the EVM journal into it, and an EVM/VM with the
// module registered as a custom precompile at its configured address.
import { Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common';
import { createEVM } from '@ethereumjs/evm';
import { createVM } from '@ethereumjs/vm';
import { MemSyncInstance } from './module.js';
import { defaultOnFatal, memsyncEVMOptions } from './precompile.js';
import { MemSyncJournal, MemSyncMerkleStateManager } from './journal.js';

export * from './module.js';
export * from './precompile.js';
export * from './journal.js';

/**
 * @param {object} opts
 * @param {string} opts.dataDir          the module's data directory
 * @param {bigint|number} [opts.chainId] default 31337; also the module's chain_id
 * @param {string} [opts.hardfork]       default Prague
 * @param {object} [opts.config]         module config overrides (see MemSyncInstance)
 * @param {string} [opts.library]        path of libmemsync.so
 * @param {(err: Error) => void} [opts.onFatal] default: print and exit 70
 * @param {(info: object) => void} [opts.onCall] observer of every precompile call
 * @param {object} [opts.trie]           the state trie (default: an in-memory one); the dev chain passes one over its store
 * @returns {Promise<{vm, evm, common, instance, journal, stateManager, address, commitBlock, close}>}
 */
export async function createMemSyncVM({
  dataDir, chainId = 31337n, hardfork = Hardfork.Prague, config = {}, library,
  onFatal = defaultOnFatal, onCall, trie,
} = {}) {
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork });
  const instance = new MemSyncInstance({ dataDir, library, config: { ...config, chain_id: BigInt(chainId) } });
  try {
    const journal = new MemSyncJournal(instance, { onFatal });
    const stateManager = new MemSyncMerkleStateManager({ common, memsync: journal, trie });
    const evm = await createEVM({
      common,
      stateManager,
      ...memsyncEVMOptions(instance, common, { onFatal, onCall }),
    });
    const vm = await createVM({ common, stateManager, evm });
    return {
      vm, evm, common, instance, journal, stateManager,
      address: instance.address,
      /** Commit the module's pending block at height (once per block). */
      commitBlock: (height) => journal.commitBlock(height),
      close: () => instance.close(),
    };
  } catch (err) {
    instance.close();
    throw err;
  }
}
