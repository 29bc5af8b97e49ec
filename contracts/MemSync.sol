// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IMemSync} from "../spec/IMemSync.sol";

/// @title MemSync: typed wrappers over the MemSync precompile
/// @notice One internal function per IMemSync function. Each one calls the
///         precompile, re-reverts with the precompile's revert data byte for
///         byte when the call fails (so callers and off-chain tools decode the
///         custom errors of spec/IMemSync.sol, e.g. `VersionConflict`), and
///         decodes the return values.
/// @dev Why not call `IMemSync(PRECOMPILE).fn(...)` directly? Solidity checks
///      `extcodesize(target) > 0` before a high-level call to a function that
///      returns nothing, and a precompile has no code: `transferOwnership`,
///      `grantAccess`, `revokeAccess`, `shredMemory` and `shredVersions`
///      would revert with empty data before reaching it. These wrappers use
///      low-level calls instead.
///
///      msg.sender seen by the precompile is the contract that uses this
///      library (the functions are internal, so they run in that contract's
///      frame: a CALL, never a DELEGATECALL, which the precompile refuses with
///      `CallKindNotAllowed(2)`). The owner-only functions therefore act on
///      assets owned by the calling contract; a contract acting for an EOA
///      owner uses the `...Signed` functions (spec/eip712.md).
///
///      Reads use STATICCALL and are `view`. Writes never send value (the
///      precompile refuses it with `ValueNotAccepted()`).
///
///      Out of gas inside the precompile (and a fatal halt) ends its frame
///      with empty revert data; the wrappers then revert with empty data.
///      A chain without the precompile answers every call with success and
///      no data: the wrappers that decode a result then revert with empty
///      data (abi.decode of nothing), the others cannot notice. Use
///      `available()` to check once.
library MemSync {
    /// The precompile's default address (spec/host-abi.md, `precompile_address`
    /// of the default config): 0x…4D53, "MS" in ASCII. A chain that configures
    /// another address needs a copy of this library with that constant.
    address internal constant PRECOMPILE = 0x0000000000000000000000000000000000004D53;

    /// Permission bits of a grant (spec/abi.md [ABI-14]).
    uint8 internal constant READ = 1;
    uint8 internal constant WRITE = 2;

    /// getHead flags bit 0: the asset is shredded ([ABI-27]).
    uint32 internal constant FLAG_SHREDDED = 1;

    /// getVersionInfo states ([ABI-25]).
    uint8 internal constant STATE_RETAINED = 1;
    uint8 internal constant STATE_PRUNED = 2;
    uint8 internal constant STATE_SHREDDED = 3;

    struct Head {
        address owner;
        uint64 version;
        bytes32 headHash;
        uint64 keyEpoch;
        uint32 flags;
        bytes32 metadata;
    }

    struct Version {
        bytes ciphertext;
        uint64 keyEpoch;
        address author;
        uint64 blockNumber;
        bytes32 versionHash;
    }

    struct VersionInfo {
        bytes32 versionHash;
        bytes32 ciphertextHash;
        uint64 keyEpoch;
        address author;
        uint64 blockNumber;
        uint8 state;
    }

    struct Grant {
        uint8 permissions;
        uint64 expiry;
        uint64 keyEpoch;
        bytes wrappedKey;
    }

    struct Grants {
        address[] grantees;
        uint8[] permissions;
        uint64[] expiries;
        uint64[] keyEpochs;
    }

    // ------------------------------------------------------------ plumbing

    function _write(bytes memory data) private returns (bytes memory ret) {
        bool ok;
        (ok, ret) = PRECOMPILE.call(data);
        if (!ok) _bubble(ret);
    }

    function _read(bytes memory data) private view returns (bytes memory ret) {
        bool ok;
        (ok, ret) = PRECOMPILE.staticcall(data);
        if (!ok) _bubble(ret);
    }

    /// Revert with exactly `ret` (the precompile's revert data).
    function _bubble(bytes memory ret) private pure {
        assembly ("memory-safe") {
            revert(add(ret, 0x20), mload(ret))
        }
    }

    /// True when the precompile answers at PRECOMPILE on this chain (its
    /// `domainSeparator()` returns one word).
    function available() internal view returns (bool) {
        (bool ok, bytes memory ret) = PRECOMPILE.staticcall(abi.encodeCall(IMemSync.domainSeparator, ()));
        return ok && ret.length == 32;
    }

    // -------------------------------------------------------------- create

    function createMemory(bytes32 salt, bytes32 metadata, bytes memory ciphertext) internal returns (bytes32 assetId) {
        return abi.decode(_write(abi.encodeCall(IMemSync.createMemory, (salt, metadata, ciphertext))), (bytes32));
    }

    function createMemorySigned(
        address owner,
        bytes32 salt,
        bytes32 metadata,
        bytes memory ciphertext,
        uint256 nonce,
        uint256 deadline,
        bytes memory signature
    ) internal returns (bytes32 assetId) {
        bytes memory data = abi.encodeCall(
            IMemSync.createMemorySigned, (owner, salt, metadata, ciphertext, nonce, deadline, signature)
        );
        return abi.decode(_write(data), (bytes32));
    }

    /// The id an asset of `owner` created with `salt` gets (spec/abi.md [ABI-20]).
    function assetIdOf(address owner, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(PRECOMPILE, owner, salt));
    }

    // -------------------------------------------------------------- append

    function appendVersion(bytes32 assetId, uint64 expectedVersion, uint64 keyEpoch, bytes memory ciphertext)
        internal
        returns (uint64 version, bytes32 versionHash)
    {
        bytes memory ret =
            _write(abi.encodeCall(IMemSync.appendVersion, (assetId, expectedVersion, keyEpoch, ciphertext)));
        return abi.decode(ret, (uint64, bytes32));
    }

    /// Append on behalf of `signer`, who signed EIP-712 AppendVersion; the
    /// version's author is `signer`, whoever submits.
    function appendVersionSigned(
        bytes32 assetId,
        uint64 expectedVersion,
        uint64 keyEpoch,
        bytes memory ciphertext,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes memory signature
    ) internal returns (uint64 version, bytes32 versionHash) {
        bytes memory data = abi.encodeCall(
            IMemSync.appendVersionSigned,
            (assetId, expectedVersion, keyEpoch, ciphertext, signer, nonce, deadline, signature)
        );
        return abi.decode(_write(data), (uint64, bytes32));
    }

    // ------------------------------------------------------------ transfer

    function transferOwnership(bytes32 assetId, address newOwner) internal {
        _write(abi.encodeCall(IMemSync.transferOwnership, (assetId, newOwner)));
    }

    function transferOwnershipSigned(
        bytes32 assetId,
        address newOwner,
        uint256 nonce,
        uint256 deadline,
        bytes memory signature
    ) internal {
        _write(abi.encodeCall(IMemSync.transferOwnershipSigned, (assetId, newOwner, nonce, deadline, signature)));
    }

    // -------------------------------------------------------------- access

    function grantAccess(bytes32 assetId, address grantee, uint8 permissions, uint64 expiry, bytes memory wrappedKey)
        internal
    {
        _write(abi.encodeCall(IMemSync.grantAccess, (assetId, grantee, permissions, expiry, wrappedKey)));
    }

    function revokeAccess(bytes32 assetId, address grantee) internal {
        _write(abi.encodeCall(IMemSync.revokeAccess, (assetId, grantee)));
    }

    function rotateKey(bytes32 assetId) internal returns (uint64 keyEpoch) {
        return abi.decode(_write(abi.encodeCall(IMemSync.rotateKey, (assetId))), (uint64));
    }

    // --------------------------------------------------------------- shred

    function shredMemory(bytes32 assetId) internal {
        _write(abi.encodeCall(IMemSync.shredMemory, (assetId)));
    }

    function shredVersions(bytes32 assetId, uint64 upToVersion) internal {
        _write(abi.encodeCall(IMemSync.shredVersions, (assetId, upToVersion)));
    }

    // --------------------------------------------------------------- reads

    function getHead(bytes32 assetId) internal view returns (Head memory h) {
        (h.owner, h.version, h.headHash, h.keyEpoch, h.flags, h.metadata) = abi.decode(
            _read(abi.encodeCall(IMemSync.getHead, (assetId))), (address, uint64, bytes32, uint64, uint32, bytes32)
        );
    }

    function getVersion(bytes32 assetId, uint64 version) internal view returns (Version memory v) {
        (v.ciphertext, v.keyEpoch, v.author, v.blockNumber, v.versionHash) = abi.decode(
            _read(abi.encodeCall(IMemSync.getVersion, (assetId, version))), (bytes, uint64, address, uint64, bytes32)
        );
    }

    function getVersionInfo(bytes32 assetId, uint64 version) internal view returns (VersionInfo memory i) {
        (i.versionHash, i.ciphertextHash, i.keyEpoch, i.author, i.blockNumber, i.state) = abi.decode(
            _read(abi.encodeCall(IMemSync.getVersionInfo, (assetId, version))),
            (bytes32, bytes32, uint64, address, uint64, uint8)
        );
    }

    function getGrants(bytes32 assetId) internal view returns (Grants memory g) {
        (g.grantees, g.permissions, g.expiries, g.keyEpochs) = abi.decode(
            _read(abi.encodeCall(IMemSync.getGrants, (assetId))), (address[], uint8[], uint64[], uint64[])
        );
    }

    /// Reverts `GrantNotFound(assetId, grantee)` when there is no grant.
    function getGrant(bytes32 assetId, address grantee) internal view returns (Grant memory g) {
        (g.permissions, g.expiry, g.keyEpoch, g.wrappedKey) = abi.decode(
            _read(abi.encodeCall(IMemSync.getGrant, (assetId, grantee))), (uint8, uint64, uint64, bytes)
        );
    }

    function nonceOf(address signer) internal view returns (uint256) {
        return abi.decode(_read(abi.encodeCall(IMemSync.nonceOf, (signer))), (uint256));
    }

    function domainSeparator() internal view returns (bytes32) {
        return abi.decode(_read(abi.encodeCall(IMemSync.domainSeparator, ())), (bytes32));
    }
}
