// EIP-712 typed data of the precompile (spec/eip712.md [SIG-1], [SIG-3]),
// signed with ethers' Wallet.signTypedData: an implementation independent of
// the module's C code.
export const MS = '0x0000000000000000000000000000000000004D53';

export const TYPES = {
  CreateMemory: [
    { name: 'owner', type: 'address' },
    { name: 'salt', type: 'bytes32' },
    { name: 'metadata', type: 'bytes32' },
    { name: 'ciphertextHash', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  AppendVersion: [
    { name: 'assetId', type: 'bytes32' },
    { name: 'expectedVersion', type: 'uint64' },
    { name: 'keyEpoch', type: 'uint64' },
    { name: 'ciphertextHash', type: 'bytes32' },
    { name: 'signer', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  TransferOwnership: [
    { name: 'assetId', type: 'bytes32' },
    { name: 'newOwner', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
};

export function domainOf(chainId, verifyingContract = MS) {
  return { name: 'MemSync', version: '1', chainId, verifyingContract };
}

/** Sign one typed struct; `type` is a key of TYPES. */
export function signTyped(wallet, chainId, type, message, verifyingContract = MS) {
  return wallet.signTypedData(domainOf(chainId, verifyingContract), { [type]: TYPES[type] }, message);
}
