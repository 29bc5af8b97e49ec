// JSON-RPC encodings of blocks, transactions, receipts and logs, with the
// field names of the execution-apis spec (what ethers and alloy/cast parse).
import { bytesToHex } from '@ethereumjs/util';

export const qty = (n) => '0x' + BigInt(n).toString(16);

/** Effective gas price of a transaction in a block with the given base fee. */
export function effectiveGasPrice(tx, baseFee) {
  if ('maxFeePerGas' in tx) {
    const tip = tx.maxFeePerGas - baseFee < tx.maxPriorityFeePerGas ? tx.maxFeePerGas - baseFee : tx.maxPriorityFeePerGas;
    return baseFee + tip;
  }
  return tx.gasPrice;
}

/**
 * @param {object} entry   the chain's block entry: { block, hash, receipts }
 * @param {number} index
 */
/**
 * The receipt a block record keeps for one executed transaction (the fields
 * both hosts store: the dev chain and the CometBFT app).
 * @param {string} from  the sender, as a string
 * @param tx             the transaction
 * @param r              the VM's RunTxResult (receipt, gas, bloom, created address)
 * @param {bigint} baseFee the block's base fee
 */
export function receiptRecord(from, tx, r, baseFee) {
  return {
    from,
    status: r.receipt.status === 1 ? '0x1' : '0x0',
    cumulativeGasUsed: qty(r.receipt.cumulativeBlockGasUsed),
    gasUsed: qty(r.totalGasSpent),
    effectiveGasPrice: qty(effectiveGasPrice(tx, baseFee)),
    contractAddress: r.createdAddress ? r.createdAddress.toString() : null,
    logs: r.receipt.logs.map(([a, topics, data]) => [bytesToHex(a), topics.map(bytesToHex), bytesToHex(data)]),
    logsBloom: bytesToHex(r.bloom.bitvector),
  };
}

export function formatTx(entry, index) {
  const tx = entry.block.transactions[index];
  const j = tx.toJSON();
  const out = {
    type: j.type,
    hash: bytesToHex(tx.hash()),
    nonce: j.nonce,
    blockHash: entry.hash,
    blockNumber: qty(entry.block.header.number),
    transactionIndex: qty(index),
    from: entry.receipts[index].from,
    to: j.to ?? null,
    value: j.value,
    gas: j.gasLimit,
    gasPrice: qty(effectiveGasPrice(tx, entry.block.header.baseFeePerGas ?? 0n)),
    input: j.data,
    v: j.v,
    r: j.r,
    s: j.s,
  };
  // A legacy transaction carries a chain id only when signed with EIP-155 (v >= 35).
  if (j.chainId !== undefined && (tx.type !== 0 || tx.v >= 35n)) out.chainId = j.chainId;
  if (j.yParity !== undefined) out.yParity = j.yParity;
  if (j.maxFeePerGas !== undefined) {
    out.maxFeePerGas = j.maxFeePerGas;
    out.maxPriorityFeePerGas = j.maxPriorityFeePerGas;
  }
  if (j.accessList !== undefined) out.accessList = j.accessList;
  if (j.authorizationList !== undefined) out.authorizationList = j.authorizationList;
  return out;
}

export function formatBlock(entry, fullTransactions) {
  const h = entry.block.header.toJSON();
  const txs = entry.block.transactions.map((tx, i) => (fullTransactions ? formatTx(entry, i) : bytesToHex(tx.hash())));
  const out = {
    number: h.number,
    hash: entry.hash,
    parentHash: h.parentHash,
    nonce: h.nonce,
    mixHash: h.mixHash,
    sha3Uncles: h.uncleHash,
    logsBloom: h.logsBloom,
    transactionsRoot: h.transactionsTrie,
    stateRoot: h.stateRoot,
    receiptsRoot: h.receiptTrie,
    miner: h.coinbase,
    difficulty: h.difficulty,
    totalDifficulty: '0x0',
    extraData: h.extraData,
    size: qty(entry.size),
    gasLimit: h.gasLimit,
    gasUsed: h.gasUsed,
    timestamp: h.timestamp,
    transactions: txs,
    uncles: [],
  };
  for (const k of ['baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed', 'excessBlobGas', 'parentBeaconBlockRoot', 'requestsHash']) {
    if (h[k] !== undefined) out[k] = h[k];
  }
  if (entry.block.withdrawals !== undefined) out.withdrawals = [];
  return out;
}

/** Logs of one transaction; firstIndex is the block-wide index of its first log. */
export function formatLogs(entry, txIndex, firstIndex) {
  const r = entry.receipts[txIndex];
  const txHash = bytesToHex(entry.block.transactions[txIndex].hash());
  return r.logs.map(([address, topics, data], i) => ({
    address,
    topics,
    data,
    blockNumber: qty(entry.block.header.number),
    blockHash: entry.hash,
    blockTimestamp: qty(entry.block.header.timestamp),
    transactionHash: txHash,
    transactionIndex: qty(txIndex),
    logIndex: qty(firstIndex + i),
    removed: false,
  }));
}

/** Block-wide index of the first log of each transaction. */
export function firstLogIndexes(entry) {
  const out = [];
  let n = 0;
  for (const r of entry.receipts) {
    out.push(n);
    n += r.logs.length;
  }
  return out;
}

export function formatReceipt(entry, index) {
  const r = entry.receipts[index];
  const tx = entry.block.transactions[index];
  return {
    type: qty(tx.type),
    transactionHash: bytesToHex(tx.hash()),
    transactionIndex: qty(index),
    blockHash: entry.hash,
    blockNumber: qty(entry.block.header.number),
    from: r.from,
    to: tx.to === undefined ? null : tx.to.toString(),
    cumulativeGasUsed: r.cumulativeGasUsed,
    gasUsed: r.gasUsed,
    effectiveGasPrice: r.effectiveGasPrice,
    contractAddress: r.contractAddress,
    logs: formatLogs(entry, index, firstLogIndexes(entry)[index]),
    logsBloom: r.logsBloom,
    status: r.status,
  };
}
