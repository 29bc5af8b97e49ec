// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IMemSync} from "spec/IMemSync.sol";
import {MemSync} from "contracts/MemSync.sol";

/// Test contract: exposes every wrapper of contracts/MemSync.sol as an
/// external function, so the tests reach each one through a real EVM frame.
contract LibraryHarness {
    function create(bytes32 salt, bytes32 metadata, bytes calldata ct) external returns (bytes32) {
        return MemSync.createMemory(salt, metadata, ct);
    }

    function createSigned(
        address owner,
        bytes32 salt,
        bytes32 metadata,
        bytes calldata ct,
        uint256 nonce,
        uint256 deadline,
        bytes calldata sig
    ) external returns (bytes32) {
        return MemSync.createMemorySigned(owner, salt, metadata, ct, nonce, deadline, sig);
    }

    function append(bytes32 id, uint64 expected, uint64 epoch, bytes calldata ct) external returns (uint64, bytes32) {
        return MemSync.appendVersion(id, expected, epoch, ct);
    }

    function appendSigned(
        bytes32 id,
        uint64 expected,
        uint64 epoch,
        bytes calldata ct,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata sig
    ) external returns (uint64, bytes32) {
        return MemSync.appendVersionSigned(id, expected, epoch, ct, signer, nonce, deadline, sig);
    }

    function transfer(bytes32 id, address to) external {
        MemSync.transferOwnership(id, to);
    }

    function transferSigned(bytes32 id, address to, uint256 nonce, uint256 deadline, bytes calldata sig) external {
        MemSync.transferOwnershipSigned(id, to, nonce, deadline, sig);
    }

    function grant(bytes32 id, address grantee, uint8 permissions, uint64 expiry, bytes calldata wk) external {
        MemSync.grantAccess(id, grantee, permissions, expiry, wk);
    }

    function revoke(bytes32 id, address grantee) external {
        MemSync.revokeAccess(id, grantee);
    }

    function rotate(bytes32 id) external returns (uint64) {
        return MemSync.rotateKey(id);
    }

    function shred(bytes32 id) external {
        MemSync.shredMemory(id);
    }

    function shredUpTo(bytes32 id, uint64 upTo) external {
        MemSync.shredVersions(id, upTo);
    }

    function headOf(bytes32 id) external view returns (MemSync.Head memory) {
        return MemSync.getHead(id);
    }

    function versionOf(bytes32 id, uint64 v) external view returns (MemSync.Version memory) {
        return MemSync.getVersion(id, v);
    }

    function versionInfo(bytes32 id, uint64 v) external view returns (MemSync.VersionInfo memory) {
        return MemSync.getVersionInfo(id, v);
    }

    function grantsOf(bytes32 id) external view returns (MemSync.Grants memory) {
        return MemSync.getGrants(id);
    }

    function grantOf(bytes32 id, address grantee) external view returns (MemSync.Grant memory) {
        return MemSync.getGrant(id, grantee);
    }

    function nonceOf(address signer) external view returns (uint256) {
        return MemSync.nonceOf(signer);
    }

    function domain() external view returns (bytes32) {
        return MemSync.domainSeparator();
    }

    function available() external view returns (bool) {
        return MemSync.available();
    }

    function idOf(address owner, bytes32 salt) external pure returns (bytes32) {
        return MemSync.assetIdOf(owner, salt);
    }

    /// The plain high-level call the library avoids: Solidity's extcodesize
    /// check fails on the code-less precompile before any call is made.
    function interfaceRevoke(bytes32 id, address grantee) external {
        IMemSync(MemSync.PRECOMPILE).revokeAccess(id, grantee);
    }
}
