// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {MemSync} from "contracts/MemSync.sol";

/// Test contract for the end-to-end matrix: value through a contract, out of
/// gas after the precompile returned, reverts at several frame depths, and
/// try/catch around a frame that runs out of gas inside the precompile.
contract Matrix {
    error LevelReverted(uint8 level);

    uint256 public sink;

    /// CALL with the value this call received.
    function callWithValue(bytes calldata data) external payable returns (bool ok, bytes memory ret) {
        (ok, ret) = MemSync.PRECOMPILE.call{value: msg.value}(data);
    }

    /// The precompile succeeds, then the frame runs out of gas.
    function createThenBurn(bytes32 salt) external {
        MemSync.createMemory(salt, bytes32(0), "");
        for (uint256 i = 0; ; i++) {
            sink = i;
        }
    }

    /// Entry frame (depth 0): calls level 1 and catches; its own create after
    /// the catch always stays.
    function nest(bytes32 base, uint8 levels, uint8 revertAt) external returns (bool ok) {
        try this.level(base, 1, levels, revertAt) {
            ok = true;
        } catch {
            ok = false;
        }
        MemSync.createMemory(base, bytes32(0), "");
    }

    /// Level l runs at EVM depth l: creates asset base+l, calls level l+1
    /// (catching its failure), then reverts if l == revertAt.
    function level(bytes32 base, uint8 l, uint8 levels, uint8 revertAt) external {
        MemSync.createMemory(bytes32(uint256(base) + l), bytes32(0), "");
        if (l < levels) {
            try this.level(base, l + 1, levels, revertAt) {} catch {}
        }
        if (l == revertAt) revert LevelReverted(l);
    }

    /// try/catch around a frame whose second precompile call runs out of gas.
    function tryOutOfGas(bytes32 salt, bytes calldata ct, uint256 innerGas)
        external
        returns (bool ok, uint256 revertDataLength)
    {
        try this.createTwo{gas: innerGas}(salt, ct) {
            ok = true;
        } catch (bytes memory r) {
            revertDataLength = r.length;
        }
        MemSync.createMemory(bytes32(uint256(salt) + 100), bytes32(0), "");
    }

    function createTwo(bytes32 salt, bytes calldata ct) external {
        MemSync.createMemory(salt, bytes32(0), "");
        MemSync.createMemory(bytes32(uint256(salt) + 1), bytes32(0), ct);
    }
}
