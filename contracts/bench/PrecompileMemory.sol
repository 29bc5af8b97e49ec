// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {MemSync} from "../MemSync.sol";

/// @title PrecompileMemory: the benchmark scenario through the MemSync library
/// @notice The precompile side of the side-by-side benchmark
///         (adapters/ethereumjs/bench/side_by_side.mjs): the same external
///         functions as PlainMemory, each one a call of the MemSync library.
/// @dev The precompile sees this contract as msg.sender, so the memories it
///      creates are owned by this contract; it plays the user's own account
///      contract, and only `user` (its deployer) may use the owner functions.
///      Signed appends are open to any submitter: the signature authorizes.
contract PrecompileMemory {
    address public immutable user;

    error OnlyUser(address account);

    constructor() {
        user = msg.sender;
    }

    modifier onlyUser() {
        if (msg.sender != user) revert OnlyUser(msg.sender);
        _;
    }

    function createMemory(bytes32 salt, bytes32 metadata, bytes calldata ciphertext)
        external
        onlyUser
        returns (bytes32)
    {
        return MemSync.createMemory(salt, metadata, ciphertext);
    }

    function appendVersion(bytes32 id, uint64 expectedVersion, uint64 keyEpoch, bytes calldata ciphertext)
        external
        onlyUser
        returns (uint64, bytes32)
    {
        return MemSync.appendVersion(id, expectedVersion, keyEpoch, ciphertext);
    }

    function appendVersionSigned(
        bytes32 id,
        uint64 expectedVersion,
        uint64 keyEpoch,
        bytes calldata ciphertext,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint64, bytes32) {
        return MemSync.appendVersionSigned(id, expectedVersion, keyEpoch, ciphertext, signer, nonce, deadline, signature);
    }

    function transferOwnership(bytes32 id, address newOwner) external onlyUser {
        MemSync.transferOwnership(id, newOwner);
    }

    function grantAccess(bytes32 id, address grantee, uint8 permissions, uint64 expiry, bytes calldata wrappedKey)
        external
        onlyUser
    {
        MemSync.grantAccess(id, grantee, permissions, expiry, wrappedKey);
    }

    function revokeAccess(bytes32 id, address grantee) external onlyUser {
        MemSync.revokeAccess(id, grantee);
    }

    function getVersion(bytes32 id, uint64 version)
        external
        view
        returns (bytes memory ciphertext, uint64 keyEpoch, address author, uint64 blockNumber, bytes32 versionHash)
    {
        MemSync.Version memory v = MemSync.getVersion(id, version);
        return (v.ciphertext, v.keyEpoch, v.author, v.blockNumber, v.versionHash);
    }
}
