// The Ethereum JSON-RPC methods of the dev chain: what ethers v6
// (JsonRpcProvider, Wallet, ContractFactory) and Foundry's cast need.
import { bigIntToBytes, bytesToHex, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util';
import { ethers } from 'ethers';
import { ErrorCode, RpcError, invalidParams } from './errors.js';
import { firstLogIndexes, formatBlock, formatLogs, formatReceipt, formatTx, qty } from './format.js';
import { SUGGESTED_TIP } from './chain.js';

export const CLIENT_VERSION = 'memsync-devchain/0.1.0 (@ethereumjs/vm 10.1.3)';

// ------------------------------------------------------------------ params
const HEX = /^0x[0-9a-fA-F]*$/;

function param(params, i, name, { optional = false } = {}) {
  const v = params[i];
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw invalidParams(`missing value for required argument ${name}`);
  }
  return v;
}

function quantity(v, name) {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]+$/.test(v)) throw invalidParams(`${name}: expected a hex quantity`);
  return BigInt(v);
}

function data(v, name) {
  if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0) throw invalidParams(`${name}: expected hex data`);
  return hexToBytes(v);
}

function address(v, name) {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw invalidParams(`${name}: expected an address`);
  return createAddressFromString(v);
}

/** A block tag, or an EIP-1898 object { blockNumber } / { blockHash }. */
function blockTag(v) {
  if (v === undefined || v === null) return 'latest';
  if (typeof v === 'object') {
    if (typeof v.blockHash === 'string') return v.blockHash;
    if (typeof v.blockNumber === 'string') return v.blockNumber;
    throw invalidParams('invalid block parameter');
  }
  return v;
}

function entryOrThrow(chain, tag) {
  const e = chain.entryFor(blockTag(tag));
  if (e === undefined) throw new RpcError(ErrorCode.SERVER, 'header not found');
  return e;
}

/** An access list: [{address, storageKeys}] -> the @ethereumjs/tx form [[address, [key]]]. */
function accessList(v) {
  if (!Array.isArray(v)) throw invalidParams('accessList: expected an array of {address, storageKeys}');
  return v.map((e, i) => {
    if (typeof e !== 'object' || e === null) throw invalidParams(`accessList[${i}]: expected {address, storageKeys}`);
    const keys = e.storageKeys ?? [];
    if (!Array.isArray(keys)) throw invalidParams(`accessList[${i}].storageKeys: expected an array`);
    return [address(e.address, `accessList[${i}].address`).bytes, keys.map((k, j) => {
      if (typeof k !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(k)) throw invalidParams(`accessList[${i}].storageKeys[${j}]: expected 32 bytes`);
      return hexToBytes(k);
    })];
  });
}

/** A call request (eth_call, eth_estimateGas, eth_createAccessList, eth_sendTransaction). */
function callRequest(v) {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParams('expected a transaction call object');
  const input = v.input ?? v.data;
  if (v.input !== undefined && v.input !== null && v.data !== undefined && v.data !== null && v.input !== v.data) {
    throw invalidParams('both "data" and "input" are set and differ');
  }
  if (v.blobVersionedHashes != null || v.authorizationList != null) {
    throw invalidParams('blob and EIP-7702 fields are not supported (transaction types 0x0, 0x1 and 0x2 are)');
  }
  const q = (k) => (v[k] === undefined || v[k] === null ? undefined : quantity(v[k], k));
  return {
    from: v.from ? address(v.from, 'from') : undefined,
    to: v.to ? address(v.to, 'to') : undefined,
    type: q('type'),
    chainId: q('chainId'),
    nonce: q('nonce'),
    gas: q('gas'),
    gasPrice: q('gasPrice'),
    maxFeePerGas: q('maxFeePerGas'),
    maxPriorityFeePerGas: q('maxPriorityFeePerGas'),
    value: q('value'),
    data: input === undefined || input === null ? undefined : data(input, 'input'),
    accessList: v.accessList === undefined || v.accessList === null ? undefined : accessList(v.accessList),
  };
}

/**
 * eth_call's and eth_estimateGas's optional state override (and geth's block
 * override after it): refused, because this node would otherwise ignore it
 * and answer for the real state. An empty object overrides nothing.
 */
function noOverrides(params, method) {
  for (const [i, what] of [[2, 'state override'], [3, 'block override']]) {
    const o = params[i];
    if (o === undefined || o === null) continue;
    if (typeof o === 'object' && !Array.isArray(o) && Object.keys(o).length === 0) continue;
    throw invalidParams(`${method}: ${what}s (parameter ${i + 1}) are not supported by this node; ` +
      'send the call without them, or deploy the code and state you need');
  }
}

// ------------------------------------------------------------------ logs
function topicMatches(filter, topics) {
  if (!Array.isArray(filter)) return true;
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i];
    if (f === null || f === undefined) continue;
    const alts = (Array.isArray(f) ? f : [f]).map((t) => String(t).toLowerCase());
    if (alts.length === 0) continue;
    if (i >= topics.length || !alts.includes(topics[i].toLowerCase())) return false;
  }
  return true;
}

function getLogs(chain, filter) {
  if (typeof filter !== 'object' || filter === null) throw invalidParams('expected a filter object');
  let from;
  let to;
  if (filter.blockHash !== undefined) {
    if (filter.fromBlock !== undefined || filter.toBlock !== undefined) throw invalidParams('blockHash excludes fromBlock/toBlock');
    from = Number(entryOrThrow(chain, filter.blockHash).block.header.number);
    to = from;
  } else {
    const f = chain.entryFor(blockTag(filter.fromBlock));
    const t = chain.entryFor(blockTag(filter.toBlock));
    from = f === undefined ? chain.entries.length : Number(f.block.header.number);
    to = t === undefined ? chain.entries.length - 1 : Number(t.block.header.number);
    if (f !== undefined && t !== undefined && from > to) throw invalidParams('invalid block range: fromBlock is after toBlock');
  }
  const addrs = filter.address === undefined || filter.address === null ? null
    : (Array.isArray(filter.address) ? filter.address : [filter.address]).map((x) => address(x, 'address').toString());
  const out = [];
  for (let n = from; n <= to; n++) {
    // The record's receipts first: a block is parsed only if it has logs.
    if (!chain.store.record(n).receipts.some((r) => r.logs.length > 0)) continue;
    const e = chain.entries[n];
    const first = firstLogIndexes(e);
    e.receipts.forEach((r, i) => {
      for (const log of formatLogs(e, i, first[i])) {
        if (addrs !== null && addrs.length > 0 && !addrs.includes(log.address.toLowerCase())) continue;
        if (!topicMatches(filter.topics, log.topics)) continue;
        out.push(log);
      }
    });
  }
  return out;
}

// ------------------------------------------------------------------ fees
function feeHistory(chain, params) {
  let count = Number(quantity(param(params, 0, 'blockCount'), 'blockCount'));
  const newest = entryOrThrow(chain, param(params, 1, 'newestBlock'));
  const percentiles = params[2] ?? [];
  if (!Array.isArray(percentiles)) throw invalidParams('rewardPercentiles: expected an array');
  count = Math.max(0, Math.min(count, 1024));
  const last = Number(newest.block.header.number);
  const first = Math.max(0, last - count + 1);
  const entries = [];
  for (let n = first; n <= last; n++) entries.push(chain.entries[n]);
  const baseFees = entries.map((e) => qty(e.block.header.baseFeePerGas ?? 0n));
  baseFees.push(qty(newest.block.header.calcNextBaseFee()));
  const out = {
    oldestBlock: qty(first),
    baseFeePerGas: baseFees,
    gasUsedRatio: entries.map((e) => Number(e.block.header.gasUsed) / Number(e.block.header.gasLimit)),
    baseFeePerBlobGas: baseFees.map(() => '0x0'),
    blobGasUsedRatio: entries.map(() => 0),
  };
  if (percentiles.length > 0) {
    out.reward = entries.map((e) => {
      const base = e.block.header.baseFeePerGas ?? 0n;
      const tips = e.block.transactions.map((tx, i) => BigInt(e.receipts[i].effectiveGasPrice) - base).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      return percentiles.map((p) => qty(tips.length === 0 ? 0n : tips[Math.min(tips.length - 1, Math.floor((tips.length * p) / 100))]));
    });
  }
  return out;
}

// ------------------------------------------------------------------ table
/** name -> async (params, chain) => result */
export const methods = {
  web3_clientVersion: async () => CLIENT_VERSION,
  web3_sha3: async (p) => ethers.keccak256(data(param(p, 0, 'data'), 'data')),
  net_version: async (p, c) => c.chainId.toString(),
  net_listening: async () => true,
  net_peerCount: async () => '0x0',
  eth_chainId: async (p, c) => qty(c.chainId),
  eth_syncing: async () => false,
  eth_mining: async () => true,
  eth_accounts: async (p, c) => c.accounts.map((a) => a.address.toLowerCase()),
  eth_coinbase: async () => '0x0000000000000000000000000000000000000000',
  eth_blockNumber: async (p, c) => qty(c.height),
  eth_gasPrice: async (p, c) => qty(c.nextBaseFee() + SUGGESTED_TIP),
  eth_maxPriorityFeePerGas: async () => qty(SUGGESTED_TIP),
  eth_blobBaseFee: async () => '0x0',
  eth_feeHistory: async (p, c) => feeHistory(c, p),

  eth_getBalance: async (p, c) => {
    const a = address(param(p, 0, 'address'), 'address');
    return c.withState(entryOrThrow(c, p[1]), async (sm) => qty((await sm.getAccount(a))?.balance ?? 0n));
  },
  eth_getTransactionCount: async (p, c) => {
    const a = address(param(p, 0, 'address'), 'address');
    // The tag goes along: a host with a mempool answers "pending" from it.
    const tag = blockTag(p[1]);
    return qty(await c.nonceOf(a, entryOrThrow(c, tag), tag));
  },
  eth_getCode: async (p, c) => {
    const a = address(param(p, 0, 'address'), 'address');
    return c.withState(entryOrThrow(c, p[1]), async (sm) => bytesToHex(await sm.getCode(a)));
  },
  eth_getStorageAt: async (p, c) => {
    const a = address(param(p, 0, 'address'), 'address');
    const slot = quantity(param(p, 1, 'slot'), 'slot');
    if (slot >= 1n << 256n) throw invalidParams('slot: more than 32 bytes');
    const key = setLengthLeft(bigIntToBytes(slot), 32);
    return c.withState(entryOrThrow(c, p[2]), async (sm) => {
      const acct = await sm.getAccount(a);
      if (acct === undefined) return bytesToHex(new Uint8Array(32));
      return bytesToHex(setLengthLeft(await sm.getStorage(a, key), 32));
    });
  },

  eth_call: async (p, c) => {
    const req = callRequest(param(p, 0, 'transaction'));
    noOverrides(p, 'eth_call');
    return bytesToHex(await c.call(req, entryOrThrow(c, p[1])));
  },
  eth_estimateGas: async (p, c) => {
    const req = callRequest(param(p, 0, 'transaction'));
    noOverrides(p, 'eth_estimateGas');
    return qty(await c.estimateGas(req, entryOrThrow(c, p[1])));
  },
  eth_createAccessList: async (p, c) => {
    const r = await c.createAccessList(callRequest(param(p, 0, 'transaction')), entryOrThrow(c, p[1]));
    return { ...r, gasUsed: qty(r.gasUsed) };
  },
  eth_sendRawTransaction: async (p, c) => c.sendRawTransaction(data(param(p, 0, 'data'), 'data')),
  eth_sendTransaction: async (p, c) => c.sendTransaction(callRequest(param(p, 0, 'transaction'))),
  eth_signTypedData_v4: async (p, c) => c.signTypedData(address(param(p, 0, 'address'), 'address'), param(p, 1, 'typedData')),
  personal_sign: async (p, c) => c.personalSign(data(param(p, 0, 'message'), 'message'), address(param(p, 1, 'address'), 'address')),

  eth_getTransactionByHash: async (p, c) => {
    const h = String(param(p, 0, 'hash')).toLowerCase();
    const at = c.txIndex.get(h);
    return at === undefined ? null : formatTx(c.entries[at.number], at.index);
  },
  eth_getTransactionReceipt: async (p, c) => {
    const h = String(param(p, 0, 'hash')).toLowerCase();
    const at = c.txIndex.get(h);
    return at === undefined ? null : formatReceipt(c.entries[at.number], at.index);
  },
  eth_getBlockReceipts: async (p, c) => {
    const e = c.entryFor(blockTag(param(p, 0, 'block')));
    return e === undefined ? null : e.receipts.map((r, i) => formatReceipt(e, i));
  },
  eth_getBlockByNumber: async (p, c) => {
    const e = c.entryFor(blockTag(param(p, 0, 'block')));
    return e === undefined ? null : formatBlock(e, p[1] === true);
  },
  eth_getBlockByHash: async (p, c) => {
    const h = param(p, 0, 'hash');
    if (typeof h !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(h)) throw invalidParams('hash: expected 32 bytes');
    const e = c.entryFor(h);
    return e === undefined ? null : formatBlock(e, p[1] === true);
  },
  eth_getBlockTransactionCountByNumber: async (p, c) => {
    const e = c.entryFor(blockTag(param(p, 0, 'block')));
    return e === undefined ? null : qty(e.block.transactions.length);
  },
  eth_getBlockTransactionCountByHash: async (p, c) => {
    const e = c.entryFor(param(p, 0, 'hash'));
    return e === undefined ? null : qty(e.block.transactions.length);
  },
  eth_getTransactionByBlockNumberAndIndex: async (p, c) => {
    const e = c.entryFor(blockTag(param(p, 0, 'block')));
    const i = Number(quantity(param(p, 1, 'index'), 'index'));
    return e === undefined || i >= e.block.transactions.length ? null : formatTx(e, i);
  },
  eth_getTransactionByBlockHashAndIndex: async (p, c) => {
    const e = c.entryFor(param(p, 0, 'hash'));
    const i = Number(quantity(param(p, 1, 'index'), 'index'));
    return e === undefined || i >= e.block.transactions.length ? null : formatTx(e, i);
  },
  eth_getUncleCountByBlockNumber: async () => '0x0',
  eth_getUncleCountByBlockHash: async () => '0x0',
  eth_getLogs: async (p, c) => getLogs(c, param(p, 0, 'filter')),
};
