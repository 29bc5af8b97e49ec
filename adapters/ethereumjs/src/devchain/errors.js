// JSON-RPC 2.0 errors and the Ethereum codes that ethers and cast recognise.
export const ErrorCode = Object.freeze({
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** Geth's "server error": rejected transactions (nonce, funds, fees). */
  SERVER: -32000,
  /** Geth's code for a revert in eth_call / eth_estimateGas; data = revert bytes. */
  EXECUTION_REVERTED: 3,
});

export class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }

  toJSON() {
    const e = { code: this.code, message: this.message };
    if (this.data !== undefined) e.data = this.data;
    return e;
  }
}

export const invalidParams = (message) => new RpcError(ErrorCode.INVALID_PARAMS, message);

/** The error of a reverted eth_call or estimate: ethers and alloy decode `data`. */
export function revertError(returnHex, reason) {
  const msg = reason ? `execution reverted: ${reason}` : 'execution reverted';
  return new RpcError(ErrorCode.EXECUTION_REVERTED, msg, returnHex);
}
