// Mirrors every EVM checkpoint, commit and revert into the module's journal.
//
// ethereumjs gives a custom precompile no revert hook. Every checkpoint level
// of the EVM (the per-frame ones of EVM.runCall, the per-transaction ones of
// runTx, the per-block ones of runBlock / buildBlock) ends in
// stateManager.checkpoint / commit / revert, so a state manager subclass sees
// all of them, including frames whose message events the EVM skips.
//
//   checkpoint -> ms checkpoint, id pushed on a stack shared by every state
//                 manager over the same module instance
//   revert     -> ms revert_to(the id of the checkpoint being reverted)
//   commit     -> the id is dropped: the writes now belong to the enclosing
//                 checkpoint (or, at the outermost level, to the pending block)
//
// shallowCopy (used by VM.shallowCopy for eth_call, gas estimation and block
// building on a copy) returns the same subclass in *simulation* mode: a copy's
// state never flows back into the original, so when the copy's outermost
// checkpoint closes, even by a commit, the module is reverted to where it was
// before the copy started. A discarded eth_call therefore leaves no trace.
//
// The module's checkpoint ids are journal positions and must be used in LIFO
// order ([HOST-27]). Two state managers over one instance must not have frames
// open at the same time (e.g. an eth_call on a copy awaited in the middle of
// a block's transaction): the host serializes them. A violation is detected
// here and reported as fatal, since the module's pending block could no
// longer be trusted.
//
// Nothing here throws into the EVM: a module failure goes to onFatal (default:
// stop the process, [HOST-46]) and the EVM carries on to its own end.
import { MerkleStateManager } from '@ethereumjs/statemanager';
import { defaultOnFatal } from './precompile.js';

/** The checkpoint stack of one module instance, shared by a state manager and its copies. */
export class MemSyncJournal {
  /**
   * @param {import('./module.js').MemSyncInstance} instance
   * @param {{onFatal?: (err: Error) => void}} [opts]
   */
  constructor(instance, { onFatal = defaultOnFatal } = {}) {
    this.instance = instance;
    this.onFatal = onFatal;
    /** Open checkpoints, innermost last: { owner, id } (id null after a failure). */
    this.open = [];
    this.fault = null;
  }

  _fatal(err) {
    if (this.fault === null) this.fault = err;
    try { this.onFatal(err); } catch { /* never reaches the EVM */ }
  }

  /** Number of open checkpoints of one state manager. */
  depthOf(owner) {
    let n = 0;
    for (const e of this.open) if (e.owner === owner) n++;
    return n;
  }

  checkpoint(owner) {
    let id = null;
    try {
      id = this.instance.checkpoint();
    } catch (err) {
      this._fatal(err);
    }
    this.open.push({ owner, id });
  }

  _pop(owner, what) {
    const top = this.open[this.open.length - 1];
    if (top === undefined || top.owner !== owner) {
      this._fatal(new Error(`memsync journal: ${what} of a checkpoint that is not the innermost open one ` +
        '(two state managers over one module interleaved; the host must serialize them)'));
      // Drop this owner's innermost entry anyway so its own bookkeeping stays balanced.
      for (let i = this.open.length - 1; i >= 0; i--) {
        if (this.open[i].owner === owner) return this.open.splice(i, 1)[0];
      }
      return undefined;
    }
    return this.open.pop();
  }

  _revertTo(id) {
    if (id === null) return;
    try {
      this.instance.revertTo(id);
    } catch (err) {
      this._fatal(err);
    }
  }

  commit(owner, simulation) {
    const e = this._pop(owner, 'commit');
    if (e !== undefined && simulation && this.depthOf(owner) === 0) this._revertTo(e.id);
  }

  revert(owner) {
    const e = this._pop(owner, 'revert');
    if (e !== undefined) this._revertTo(e.id);
  }

  /**
   * Forget a state manager that is dropped with checkpoints still open (an
   * eth_call that threw): its module writes are reverted.
   */
  release(owner) {
    const i = this.open.findIndex((e) => e.owner === owner);
    if (i < 0) return;
    const mine = this.open.slice(i);
    if (mine.some((e) => e.owner !== owner)) {
      this._fatal(new Error('memsync journal: release of a state manager whose checkpoints interleave with another'));
    }
    this.open = this.open.slice(0, i);
    this._revertTo(mine[0].id);
  }

  /**
   * Commit the module's pending block (once per block, after the block's last
   * transaction, with no checkpoint open). Throws (host code, not EVM code).
   * @returns {Uint8Array} the module's state root
   */
  commitBlock(height) {
    if (this.open.length !== 0) throw new Error(`memsync journal: commitBlock(${height}) with ${this.open.length} checkpoint(s) open`);
    if (this.fault !== null) throw new Error(`memsync journal: refusing to commit after a fatal fault: ${this.fault.message}`);
    return this.instance.commitBlock(height);
  }

  /** Drop the module's pending block (an abandoned block). */
  discardBlock() {
    if (this.open.length !== 0) throw new Error('memsync journal: discardBlock with checkpoints open');
    this.instance.discardBlock();
  }
}


/**
 * A subclass of a state manager class that mirrors its checkpoints into a
 * MemSyncJournal. Works for any base whose shallowCopy returns an instance of
 * the base (MerkleStateManager, SimpleStateManager).
 * Constructor options: those of the base plus { memsync: MemSyncJournal }.
 */
export function withMemSyncJournal(Base) {
  class MemSyncStateManager extends Base {
    constructor(opts = {}) {
      super(opts);
      if (!(opts.memsync instanceof MemSyncJournal)) throw new TypeError('opts.memsync must be a MemSyncJournal');
      this.memsync = opts.memsync;
      this.memsyncSimulation = opts.memsyncSimulation === true;
    }

    async checkpoint() {
      await super.checkpoint();
      this.memsync.checkpoint(this);
    }

    async commit() {
      await super.commit();
      this.memsync.commit(this, this.memsyncSimulation);
    }

    async revert() {
      await super.revert();
      this.memsync.revert(this);
    }

    /** A copy of the same subclass, in simulation mode (see the file header). */
    shallowCopy(...args) {
      const copy = super.shallowCopy(...args);
      Object.setPrototypeOf(copy, Object.getPrototypeOf(this));
      copy.memsync = this.memsync;
      copy.memsyncSimulation = true;
      return copy;
    }

    /** Drop this manager's open checkpoints and their module writes. */
    memsyncRelease() {
      this.memsync.release(this);
    }
  }
  return MemSyncStateManager;
}

/** MerkleStateManager with the module's journal mirrored (the VM's default state manager). */
export const MemSyncMerkleStateManager = withMemSyncJournal(MerkleStateManager);
