// The ABCI++ methods of the MemSync app: a thin layer from the socket's
// request objects (src/abci.js) to AbciChain (src/chain.js), which knows
// nothing of protobuf. Used by bin/abci-app.js and the tests.
import { CODESPACE } from './chain.js';

/** ProcessProposal / VerifyVoteExtension status ACCEPT and REJECT; snapshot results (types.proto). */
const ACCEPT = 1;
const REJECT = 2;
const OFFER_REJECT = 3;
const APPLY_ABORT = 2;

/** @param {import('./chain.js').AbciChain} chain @returns {object} handlers by request oneof name */
export function abciHandlers(chain) {
  return {
    info: async () => chain.info(),
    init_chain: async (req) => ({ validators: [], ...(await chain.initChain(req)) }),
    query: async (req) => chain.query(req.path),
    check_tx: async (req) => {
      const r = await chain.checkTx(req.tx, req.type === 1);
      return { code: r.code, data: r.data, log: r.log ?? '', gas_wanted: r.gas_wanted ?? 0n, codespace: r.code === 0 ? '' : CODESPACE };
    },
    prepare_proposal: async (req) => ({ txs: chain.prepareProposal(req.txs, Number(req.max_tx_bytes)) }),
    process_proposal: async (req) => ({ status: chain.processProposal(req.txs) ? ACCEPT : REJECT }),
    finalize_block: async (req) => chain.finalizeBlock({ height: req.height, time: req.time?.seconds ?? 0, txs: req.txs }),
    commit: async () => chain.commit(),
    // Vote extensions are off (consensus params); state sync is not offered.
    extend_vote: async () => ({ vote_extension: new Uint8Array(0) }),
    verify_vote_extension: async () => ({ status: ACCEPT }),
    list_snapshots: async () => ({ snapshots: [] }),
    offer_snapshot: async () => ({ result: OFFER_REJECT }),
    load_snapshot_chunk: async () => ({ chunk: new Uint8Array(0) }),
    apply_snapshot_chunk: async () => ({ result: APPLY_ABORT }),
  };
}
