// The MemSync module as a custom precompile of @ethereumjs/evm 10.
//
// What ethereumjs gives a custom precompile is only { data, gasLimit, common,
// _EVM } (PrecompileInput): no caller, no value, no call kind, no static flag.
// This file recovers them from the EVM's own Message objects:
//
//  * message: EVM.prototype._executeCall is wrapped once per process so that
//    every EVM instance (including the ones VM.shallowCopy builds with a
//    plain createEVM) keeps a stack of the messages it is executing. A
//    precompile is a leaf, so when it runs the top of its EVM's stack is its
//    own message: caller, value, depth, isStatic, delegatecall, codeAddress.
//  * call kind, from the message:
//      DELEGATECALL  message.delegatecall (set only by Interpreter.callDelegate);
//      CALLCODE      a code address that differs from `to` (Interpreter.callCode
//                    runs the target's code in the caller's account);
//      STATICCALL    the STATICCALL opcode itself: ethereumjs copies a static
//                    frame's flag into every child message, so isStatic alone
//                    cannot tell CALL-inside-a-static-frame from STATICCALL.
//                    The opcode is re-registered through the public
//                    `customOpcodes` option with the original gas and logic
//                    functions, wrapped to record the depth of the child frame
//                    it opens; a top-level static runCall (isStatic at depth 0)
//                    also counts as STATICCALL;
//      CALL          everything else.
//  * static flag: message.isStatic (ethereumjs already makes it sticky: every
//    child of a static frame is static).
//  * block number and timestamp: the EVM's current block (_EVM._block, set by
//    runCall / runTx); chain id: common.chainId().
//
// Never throws into the EVM: a throw would leave ethereumjs checkpoints open.
// SUCCESS -> return data and logs; REVERT -> a revert with the module's
// output; OUT_OF_GAS -> an exceptional halt using all gas; FATAL (and any
// unexpected error) -> an exceptional halt plus onFatal, which by default
// stops the process: the node must not go on ([HOST-20], [HOST-46]).
import { EVM, EVMError, getOpcodesForHF, paramsEVM } from '@ethereumjs/evm';
import { createAddressFromString } from '@ethereumjs/util';
import { CallKind, ModuleError, Status } from './module.js';

const STATICCALL = 0xfa;
const TRACK = Symbol.for('memsync.ethereumjs.track');

/** Per-EVM execution stacks: messages being executed and STATICCALL child depths. */
const tracks = new WeakMap();
function trackOf(evm) {
  let t = tracks.get(evm);
  if (t === undefined) {
    t = { messages: [], staticDepths: [] };
    tracks.set(evm, t);
  }
  return t;
}

/** Wrap EVM.prototype._executeCall once per process (idempotent). */
export function installMessageTracking() {
  const proto = EVM.prototype;
  if (proto[TRACK] === true) return;
  const original = proto._executeCall;
  if (typeof original !== 'function') {
    throw new Error('@ethereumjs/evm: EVM.prototype._executeCall not found; this adapter needs evm 10.x');
  }
  proto._executeCall = async function memsyncTrackedExecuteCall(message) {
    const t = trackOf(this);
    t.messages.push(message);
    try {
      return await original.call(this, message);
    } finally {
      t.messages.pop();
    }
  };
  Object.defineProperty(proto, TRACK, { value: true });
}

/**
 * A `customOpcodes` entry re-registering STATICCALL with its original gas and
 * logic, recording the depth of the frame it opens. Empty when the hardfork
 * has no STATICCALL.
 */
export function staticCallOpcodes(common, params = paramsEVM) {
  // The EVM adds its params to its common in its constructor; the opcode
  // table needs them already, so it is built on a copy.
  const withParams = common.copy();
  withParams.updateParams(params);
  const ops = getOpcodesForHF(withParams);
  if (!ops.opcodes.has(STATICCALL)) return [];
  const logic = ops.handlers.get(STATICCALL);
  const gas = ops.dynamicGasHandlers.get(STATICCALL);
  if (typeof logic !== 'function' || typeof gas !== 'function') {
    throw new Error('@ethereumjs/evm: STATICCALL handlers not found');
  }
  return [{
    opcode: STATICCALL,
    opcodeName: 'STATICCALL',
    // The base fee is charged inside the gas function, read from the active
    // hardfork's params at each use (as the built-in opcode table does).
    baseFee: 0,
    gasFunction: (runState, base, c) => gas(runState, base + c.param('staticcallGas'), c),
    logicFunction: async (runState, c) => {
      const t = trackOf(runState.interpreter._evm);
      t.staticDepths.push(runState.env.depth + 1);
      try {
        await logic(runState, c);
      } finally {
        t.staticDepths.pop();
      }
    },
  }];
}

function sameAddress(a, b) {
  if (a === undefined || b === undefined) return false;
  const x = a.bytes;
  const y = b.bytes;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The ms_call_kind of a message (see the header of this file). */
export function callKindOf(message, staticDepths) {
  if (message.delegatecall === true) return CallKind.DELEGATECALL;
  if (message._codeAddress !== undefined && !sameAddress(message._codeAddress, message.to)) return CallKind.CALLCODE;
  if (staticDepths.length > 0 && staticDepths[staticDepths.length - 1] === message.depth) return CallKind.STATICCALL;
  if (message.depth === 0 && message.isStatic === true) return CallKind.STATICCALL;
  return CallKind.CALL;
}

function halt(gasLimit, error = EVMError.errorMessages.OUT_OF_GAS) {
  return { returnValue: new Uint8Array(0), executionGasUsed: gasLimit, exceptionError: new EVMError(error) };
}

export function defaultOnFatal(err) {
  process.stderr.write(`memsync: fatal module fault, stopping the node: ${err?.stack ?? err}\n`);
  process.exit(70);
}

/**
 * The precompile function for one module instance.
 * @param {import('./module.js').MemSyncInstance} instance
 * @param {{onFatal?: (err: Error) => void, onCall?: (info) => void}} [opts]
 *   onFatal: called on MS_FATAL, a poisoned instance or any unexpected error
 *   (default: print and exit 70); onCall: observer of every call (tests).
 */
export function memsyncPrecompile(instance, { onFatal = defaultOnFatal, onCall } = {}) {
  installMessageTracking();
  const fatal = (err, gasLimit) => {
    try { onFatal(err); } catch { /* a throwing handler must not reach the EVM */ }
    return halt(gasLimit, EVMError.errorMessages.INTERNAL_ERROR);
  };
  return function memsync(input) {
    const gasLimit = input.gasLimit;
    try {
      const evm = input._EVM;
      const t = trackOf(evm);
      const message = t.messages[t.messages.length - 1];
      if (message === undefined || message.isCompiled !== true) {
        return fatal(new Error('memsync precompile entered without a tracked message (installMessageTracking not active?)'), gasLimit);
      }
      const header = evm._block?.header;
      const block = {
        number: header?.number ?? 0n,
        timestamp: header?.timestamp ?? 0n,
        chainId: input.common.chainId(),
      };
      const msg = {
        kind: callKindOf(message, t.staticDepths),
        isStatic: message.isStatic === true,
        caller: message.caller.bytes,
        value: message.value,
        input: input.data,
        gas: gasLimit,
      };
      const res = instance.execute(block, msg);
      if (onCall !== undefined) onCall({ block, msg, res, depth: message.depth });
      switch (res.status) {
        case Status.SUCCESS:
          return {
            returnValue: res.output,
            executionGasUsed: res.gasUsed,
            logs: res.logs.map((l) => [l.address, l.topics, l.data]),
          };
        case Status.REVERT:
          return {
            returnValue: res.output,
            executionGasUsed: res.gasUsed,
            exceptionError: new EVMError(EVMError.errorMessages.REVERT),
          };
        case Status.OUT_OF_GAS:
          return halt(gasLimit);
        case Status.FATAL:
          return fatal(new ModuleError('execute', 'MS_FATAL', 'local fault, instance poisoned'), gasLimit);
        default:
          return fatal(new Error(`memsync: unknown status ${res.status}`), gasLimit);
      }
    } catch (err) {
      return fatal(err, gasLimit);
    }
  };
}

/**
 * EVM options registering the module: spread them into createEVM's options
 * (or evmOpts of createVM). They survive EVM.shallowCopy and VM.shallowCopy,
 * which reuse the cached options.
 */
export function memsyncEVMOptions(instance, common, opts = {}) {
  return {
    customPrecompiles: [{ address: createAddressFromString(instance.address), function: memsyncPrecompile(instance, opts) }],
    customOpcodes: staticCallOpcodes(common),
  };
}
