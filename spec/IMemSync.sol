// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title MemSync precompile interface
/// @notice User-owned, encrypted AI memory. The chain stores ciphertext only;
///         every change is a version authorized by the owner's key.
/// @dev Normative text: spec/abi.md (calls, errors, events), spec/gas.md,
///      spec/envelope.md, spec/storage.md. Default address: 0x...4D53.
interface IMemSync {
    // ---------------------------------------------------------------- events
    event MemoryCreated(bytes32 indexed assetId, address indexed owner, bytes32 metadata);
    event VersionAppended(
        bytes32 indexed assetId,
        address indexed author,
        uint64 version,
        bytes32 versionHash,
        bytes32 ciphertextHash,
        uint64 keyEpoch
    );
    event OwnershipTransferred(bytes32 indexed assetId, address indexed from, address indexed to);
    event AccessGranted(
        bytes32 indexed assetId, address indexed grantee, uint8 permissions, uint64 expiry, uint64 keyEpoch
    );
    event AccessRevoked(bytes32 indexed assetId, address indexed grantee);
    event KeyRotated(bytes32 indexed assetId, uint64 keyEpoch);
    event MemoryShredded(bytes32 indexed assetId, uint64 upToVersion);

    // ---------------------------------------------------------------- errors
    /// Calldata does not decode. reason: 1 short, 2 offset out of range,
    /// 3 length out of range, 4 non-zero high bits in a narrow value.
    error InvalidCalldata(uint8 reason);
    error UnknownFunction(bytes4 selector);
    error WriteInStaticContext();
    error CallKindNotAllowed(uint8 kind);
    error ValueNotAccepted();
    error WrongChain(uint256 expected, uint256 actual);
    error AssetNotFound(bytes32 assetId);
    error AssetExists(bytes32 assetId);
    error AssetIsShredded(bytes32 assetId);
    error NotAuthorized(bytes32 assetId, address account);
    error VersionConflict(uint64 expected, uint64 actual);
    error KeyEpochMismatch(uint64 expected, uint64 actual);
    error CiphertextTooLarge(uint256 size, uint256 max);
    /// reason: 1 too short, 2 format version, 3 algorithm, 4 key epoch,
    /// 5 zero nonce, 6 size bucket.
    error InvalidEnvelope(uint8 reason);
    error VersionNotFound(bytes32 assetId, uint64 version);
    error VersionPruned(bytes32 assetId, uint64 version);
    error VersionShredded(bytes32 assetId, uint64 version);
    /// reason: 1 length, 2 v, 3 r, 4 s, 5 high s, 6 unrecoverable.
    error InvalidSignature(uint8 reason);
    error WrongSigner(address expected, address recovered);
    error InvalidNonce(uint256 expected, uint256 actual);
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    error InvalidAddress(address account);
    error InvalidPermissions(uint8 permissions);
    error WrappedKeyTooLarge(uint256 size, uint256 max);
    error TooManyGrants(uint256 max);
    error GrantNotFound(bytes32 assetId, address grantee);
    error InvalidVersionRange(uint64 upToVersion, uint64 headVersion);

    // ------------------------------------------------------------ constants
    // permissions: bit 0 read, bit 1 write (write requires read).
    // flags (getHead): bit 0 shredded.

    // --------------------------------------------------------------- create
    /// Create an asset owned by msg.sender. assetId =
    /// keccak256(abi.encodePacked(precompile, owner, salt)). An empty
    /// ciphertext creates no version; otherwise it becomes version 1 (key epoch 1).
    function createMemory(bytes32 salt, bytes32 metadata, bytes calldata ciphertext)
        external
        returns (bytes32 assetId);

    /// Create an asset owned by `owner`, who signed EIP-712 CreateMemory.
    function createMemorySigned(
        address owner,
        bytes32 salt,
        bytes32 metadata,
        bytes calldata ciphertext,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 assetId);

    // --------------------------------------------------------------- append
    /// Append a version if the head is still `expectedVersion` (compare-and-swap).
    function appendVersion(bytes32 assetId, uint64 expectedVersion, uint64 keyEpoch, bytes calldata ciphertext)
        external
        returns (uint64 version, bytes32 versionHash);

    /// Append on behalf of `signer` (the owner or a write grantee), who signed
    /// EIP-712 AppendVersion.
    function appendVersionSigned(
        bytes32 assetId,
        uint64 expectedVersion,
        uint64 keyEpoch,
        bytes calldata ciphertext,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint64 version, bytes32 versionHash);

    // ------------------------------------------------------------- transfer
    /// Transfer to `newOwner`. Every grant is revoked: the new owner decides.
    function transferOwnership(bytes32 assetId, address newOwner) external;

    function transferOwnershipSigned(
        bytes32 assetId,
        address newOwner,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    // --------------------------------------------------------------- access
    /// Grant or update access. expiry is a unix time (0: none). wrappedKey is
    /// the current epoch's data key sealed to the grantee (opaque here).
    function grantAccess(bytes32 assetId, address grantee, uint8 permissions, uint64 expiry, bytes calldata wrappedKey)
        external;

    function revokeAccess(bytes32 assetId, address grantee) external;

    /// Start key epoch current+1: later versions must carry it.
    function rotateKey(bytes32 assetId) external returns (uint64 keyEpoch);

    // ---------------------------------------------------------------- shred
    /// Delete every retained ciphertext and close the asset for good.
    function shredMemory(bytes32 assetId) external;

    /// Delete the ciphertexts of versions 1..upToVersion; hashes stay.
    function shredVersions(bytes32 assetId, uint64 upToVersion) external;

    // ---------------------------------------------------------------- reads
    function getHead(bytes32 assetId)
        external
        view
        returns (address owner, uint64 version, bytes32 headHash, uint64 keyEpoch, uint32 flags, bytes32 metadata);

    function getVersion(bytes32 assetId, uint64 version)
        external
        view
        returns (bytes memory ciphertext, uint64 keyEpoch, address author, uint64 blockNumber, bytes32 versionHash);

    /// History of any version, retained, pruned or shredded alike.
    /// state: 1 retained, 2 pruned, 3 shredded.
    function getVersionInfo(bytes32 assetId, uint64 version)
        external
        view
        returns (
            bytes32 versionHash,
            bytes32 ciphertextHash,
            uint64 keyEpoch,
            address author,
            uint64 blockNumber,
            uint8 state
        );

    function getGrants(bytes32 assetId)
        external
        view
        returns (address[] memory grantees, uint8[] memory permissions, uint64[] memory expiries, uint64[] memory keyEpochs);

    function getGrant(bytes32 assetId, address grantee)
        external
        view
        returns (uint8 permissions, uint64 expiry, uint64 keyEpoch, bytes memory wrappedKey);

    function nonceOf(address signer) external view returns (uint256);

    function domainSeparator() external view returns (bytes32);

    /// EIP-5267: the EIP-712 domain of the signed actions, so that wallets and
    /// libraries (viem getEip712Domain, ethers) read it instead of hard-coding
    /// it. fields = 0x0f (name, version, chainId, verifyingContract are used);
    /// name "MemSync", version "1", the current chain id, the precompile
    /// address; salt zero and no extensions.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        );
}
