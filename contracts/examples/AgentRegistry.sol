// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {MemSync} from "../MemSync.sol";

/// @title AgentRegistry: AI agents that write to a user's memory while the user's grant lasts
/// @notice A user who owns a MemSync memory registers an AI agent (a tool
///         holding its own secp256k1 key) for that memory. The agent's
///         appends go through `append`, which forwards them to the
///         precompile only while
///           1. the agent is registered for the memory by its current owner, and
///           2. the owner's grant to the agent, read from the precompile with
///              `getGrant`, has the write bit and has not expired
///              (`expiry == 0 || block.timestamp <= expiry`, as [ABI-30]).
///         The user can deregister the agent at any time.
///
/// @dev Authorization design. The precompile authorizes by `msg.sender`, and
///      for calls made by this contract that is the registry itself, not the
///      user or the agent. Two designs were possible:
///        (a) the registry owns the memories on behalf of its users (it calls
///            createMemory, grantAccess, revokeAccess): the registry's code
///            would then be the owner of every user's memory, users could not
///            leave it, and every version would carry the registry as author;
///        (b) the user keeps owning the memory and the agent signs each
///            append (EIP-712 AppendVersion, spec/eip712.md); the registry
///            only relays with `appendVersionSigned`, and the version's author
///            is the agent.
///      This contract implements (b). It holds no power over any memory: it
///      cannot write without a fresh signature of the agent, the precompile
///      verifies that signature and the agent's grant itself ([ABI-9]), and
///      the signature binds the asset, the head it extends, the key epoch
///      and the ciphertext hash, so a relayer cannot alter them.
///
///      What this means for the user, honestly stated:
///        - The grant is given by the user directly to the precompile
///          (`grantAccess(assetId, agent, 3, expiry, wrappedKey)`, an owner
///          call from the user's own account); the registry checks it but
///          cannot create, extend or revoke it.
///        - Deregistering stops appends *through this registry*. The agent
///          keeps its write right at the precompile until the grant expires
///          or the user calls `revokeAccess(assetId, agent)` on the
///          precompile; only that ends the agent's right everywhere. Both
///          are checked here, so a revoked or expired grant is refused even
///          while the agent is still registered.
///        - A transfer of the memory revokes every grant ([ABI-29]) and ends
///          the registration's effect: `append` requires the registering user
///          to still be the owner.
///      Errors of the precompile (GrantNotFound after a revocation,
///      InvalidNonce, VersionConflict, ...) reach the caller unchanged.
contract AgentRegistry {
    /// registrant[assetId][agent]: the user (then owner) who registered the agent; 0 if none.
    mapping(bytes32 => mapping(address => address)) public registrant;

    event AgentRegistered(bytes32 indexed assetId, address indexed user, address indexed agent);
    event AgentDeregistered(bytes32 indexed assetId, address indexed user, address indexed agent);
    event AgentAppended(bytes32 indexed assetId, address indexed agent, uint64 version, bytes32 versionHash);

    /// `account` is not the current owner of the memory.
    error NotMemoryOwner(bytes32 assetId, address account);
    /// The agent is not registered for the memory.
    error AgentNotRegistered(bytes32 assetId, address agent);
    /// The owner's grant to the agent lacks the write bit.
    error NoWriteGrant(bytes32 assetId, address agent, uint8 permissions);
    /// The owner's grant to the agent has expired.
    error GrantExpired(bytes32 assetId, address agent, uint64 expiry, uint256 timestamp);

    /// Register `agent` for a memory owned by msg.sender. The user must have
    /// granted the agent write access at the precompile first.
    function register(bytes32 assetId, address agent) external {
        if (MemSync.getHead(assetId).owner != msg.sender) revert NotMemoryOwner(assetId, msg.sender);
        _requireLiveWriteGrant(assetId, agent);
        registrant[assetId][agent] = msg.sender;
        emit AgentRegistered(assetId, msg.sender, agent);
    }

    /// Deregister `agent`: by the user who registered it, or by the memory's
    /// current owner (who may differ after a transfer).
    function deregister(bytes32 assetId, address agent) external {
        address user = registrant[assetId][agent];
        if (user == address(0)) revert AgentNotRegistered(assetId, agent);
        if (msg.sender != user && MemSync.getHead(assetId).owner != msg.sender) {
            revert NotMemoryOwner(assetId, msg.sender);
        }
        delete registrant[assetId][agent];
        emit AgentDeregistered(assetId, user, agent);
    }

    /// Relay an append signed by `agent` (EIP-712 AppendVersion with
    /// signer = agent). Anyone may submit it: the agent itself or a relayer
    /// that pays the gas.
    function append(
        bytes32 assetId,
        uint64 expectedVersion,
        uint64 keyEpoch,
        bytes calldata ciphertext,
        address agent,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint64 version, bytes32 versionHash) {
        _requireActive(assetId, agent);
        (version, versionHash) = MemSync.appendVersionSigned(
            assetId, expectedVersion, keyEpoch, ciphertext, agent, nonce, deadline, signature
        );
        emit AgentAppended(assetId, agent, version, versionHash);
    }

    /// Reverts unless `agent` may append through the registry now.
    function checkActive(bytes32 assetId, address agent) external view {
        _requireActive(assetId, agent);
    }

    function _requireActive(bytes32 assetId, address agent) private view {
        address user = registrant[assetId][agent];
        if (user == address(0)) revert AgentNotRegistered(assetId, agent);
        if (MemSync.getHead(assetId).owner != user) revert NotMemoryOwner(assetId, user);
        _requireLiveWriteGrant(assetId, agent);
    }

    /// The grant as the precompile holds it; a missing grant (never given or
    /// revoked) reverts the precompile's own `GrantNotFound(assetId, agent)`.
    function _requireLiveWriteGrant(bytes32 assetId, address agent) private view {
        MemSync.Grant memory g = MemSync.getGrant(assetId, agent);
        if (g.permissions & MemSync.WRITE == 0) revert NoWriteGrant(assetId, agent, g.permissions);
        if (g.expiry != 0 && block.timestamp > g.expiry) {
            revert GrantExpired(assetId, agent, g.expiry, block.timestamp);
        }
    }
}
