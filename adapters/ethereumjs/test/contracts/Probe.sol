// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IMemSync} from "IMemSync.sol";

/// Test contract for the ethereumjs adapter: calls the precompile with every
/// call kind and in reverting frames. Not an example for dapps.
contract Probe {
    IMemSync internal constant MS = IMemSync(address(0x4D53));

    event Created(bytes32 assetId);

    // ------------------------------------------------ typed calls (CALL)
    function create(bytes32 salt, bytes32 metadata, bytes calldata ciphertext) external returns (bytes32 assetId) {
        assetId = MS.createMemory(salt, metadata, ciphertext);
        emit Created(assetId);
    }

    function append(bytes32 assetId, uint64 expectedVersion, uint64 keyEpoch, bytes calldata ciphertext)
        external
        returns (uint64 version, bytes32 versionHash)
    {
        return MS.appendVersion(assetId, expectedVersion, keyEpoch, ciphertext);
    }

    /// Relays a wallet-signed append: the contract is only the submitter.
    function relayAppend(
        bytes32 assetId,
        uint64 expectedVersion,
        uint64 keyEpoch,
        bytes calldata ciphertext,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint64 version, bytes32 versionHash) {
        return MS.appendVersionSigned(assetId, expectedVersion, keyEpoch, ciphertext, signer, nonce, deadline, signature);
    }

    // ------------------------------------------------ reads through a contract
    function headVersion(bytes32 assetId) external view returns (address owner, uint64 version) {
        (owner, version,,,,) = MS.getHead(assetId);
    }

    function readVersion(bytes32 assetId, uint64 version) external view returns (bytes memory ciphertext) {
        (ciphertext,,,,) = MS.getVersion(assetId, version);
    }

    // ------------------------------------------------ reverts
    /// Creates an asset, then reverts the whole frame.
    function createThenRevert(bytes32 salt) external {
        MS.createMemory(salt, bytes32(0), "");
        revert("after create");
    }

    function createMaybeRevert(bytes32 salt, bool fail) external returns (bytes32 assetId) {
        assetId = MS.createMemory(salt, bytes32(0), "");
        if (fail) revert("asked to fail");
    }

    /// try/catch in a loop: odd indexes revert after creating.
    function tryLoop(bytes32[] calldata salts) external returns (uint256 ok, uint256 failed) {
        for (uint256 i = 0; i < salts.length; i++) {
            try this.createMaybeRevert(salts[i], i % 2 == 1) returns (bytes32) {
                ok++;
            } catch {
                failed++;
            }
        }
    }

    // ------------------------------------------------ raw call kinds
    function rawCall(bytes calldata data) external returns (bool ok, bytes memory ret) {
        (ok, ret) = address(MS).call(data);
    }

    function rawStaticCall(bytes calldata data) external view returns (bool ok, bytes memory ret) {
        (ok, ret) = address(MS).staticcall(data);
    }

    function rawDelegateCall(bytes calldata data) external returns (bool ok, bytes memory ret) {
        (ok, ret) = address(MS).delegatecall(data);
    }

    function rawCallCode(bytes calldata data) external returns (bool ok, bytes memory ret) {
        address target = address(MS);
        assembly {
            let p := mload(0x40)
            calldatacopy(p, data.offset, data.length)
            ok := callcode(gas(), target, 0, p, data.length, 0, 0)
            let n := returndatasize()
            ret := mload(0x40)
            mstore(ret, n)
            returndatacopy(add(ret, 0x20), 0, n)
            mstore(0x40, add(add(ret, 0x20), and(add(n, 31), not(31))))
        }
    }

    /// A plain CALL made two frames below a STATICCALL:
    /// this -> STATICCALL this.middle -> CALL this.rawCall -> CALL precompile.
    function nestedStatic(bytes calldata data) external view returns (bool ok, bytes memory ret) {
        (bool s, bytes memory r) = address(this).staticcall(abi.encodeCall(this.middle, (data)));
        require(s, "middle failed");
        (ok, ret) = abi.decode(r, (bool, bytes));
    }

    function middle(bytes calldata data) external returns (bool ok, bytes memory ret) {
        return this.rawCall(data);
    }
}
