// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title PlainMemory: the MemSync memory scenario in plain Solidity, for gas comparison
/// @notice Same rules as the precompile for the functions the side-by-side
///         benchmark uses (adapters/ethereumjs/bench/side_by_side.mjs):
///         ciphertext kept in contract storage, the envelope header checked,
///         the version hash chain of spec/abi.md [ABI-21], grants with
///         permissions and expiry, EIP-712 AppendVersion signatures checked
///         with ecrecover (same type string, low-s, v in {27,28}), per-signer
///         nonces, retention of K = 8 ciphertexts, and transfer revoking every
///         grant. The domain is this contract (not the precompile).
/// @dev A benchmark subject, not a product: no shredding, no signed create
///      or transfer, no key rotation. Errors reuse the IMemSync names.
contract PlainMemory {
    uint64 internal constant K = 8;
    uint256 internal constant MAX_GRANTS = 16;
    uint256 internal constant MAX_CIPHERTEXT = 65536;
    uint256 internal constant MAX_WRAPPED_KEY = 1024;
    bytes32 internal constant APPEND_TYPEHASH = keccak256(
        "AppendVersion(bytes32 assetId,uint64 expectedVersion,uint64 keyEpoch,bytes32 ciphertextHash,address signer,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    struct Asset {
        address owner;
        uint64 head;
        uint32 grantCount;
        uint64 keyEpoch;
        bytes32 headHash;
        bytes32 metadata;
    }

    struct VersionRecord {
        bytes32 versionHash;
        bytes32 ciphertextHash;
        address author;
        uint64 keyEpoch;
        uint8 state; // 1 retained, 2 pruned
        uint64 blockNumber;
    }

    struct GrantRecord {
        uint8 permissions; // 0: none
        uint64 expiry;
        uint64 keyEpoch;
        uint32 slot;
        bytes wrappedKey;
    }

    mapping(bytes32 => Asset) internal assets;
    mapping(bytes32 => mapping(uint64 => VersionRecord)) internal versions;
    mapping(bytes32 => mapping(uint64 => bytes)) internal ciphertexts;
    mapping(bytes32 => mapping(address => GrantRecord)) internal grants;
    mapping(bytes32 => mapping(uint256 => address)) internal grantSlots;
    mapping(address => uint256) public nonceOf;

    uint256 internal immutable cachedChainId;
    bytes32 internal immutable cachedDomain;

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

    error AssetNotFound(bytes32 assetId);
    error AssetExists(bytes32 assetId);
    error NotAuthorized(bytes32 assetId, address account);
    error VersionConflict(uint64 expected, uint64 actual);
    error KeyEpochMismatch(uint64 expected, uint64 actual);
    error CiphertextTooLarge(uint256 size, uint256 max);
    error InvalidEnvelope(uint8 reason);
    error VersionNotFound(bytes32 assetId, uint64 version);
    error VersionPruned(bytes32 assetId, uint64 version);
    error InvalidSignature(uint8 reason);
    error WrongSigner(address expected, address recovered);
    error InvalidNonce(uint256 expected, uint256 actual);
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    error InvalidAddress(address account);
    error InvalidPermissions(uint8 permissions);
    error WrappedKeyTooLarge(uint256 size, uint256 max);
    error TooManyGrants(uint256 max);
    error GrantNotFound(bytes32 assetId, address grantee);

    constructor() {
        cachedChainId = block.chainid;
        cachedDomain = _domain();
    }

    function domainSeparator() public view returns (bytes32) {
        return block.chainid == cachedChainId ? cachedDomain : _domain();
    }

    function _domain() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("MemSync"), keccak256("1"), block.chainid, address(this)));
    }

    // -------------------------------------------------------------- writes

    function createMemory(bytes32 salt, bytes32 metadata, bytes calldata ciphertext) external returns (bytes32 id) {
        if (ciphertext.length > 0) _checkEnvelope(ciphertext, 1);
        id = keccak256(abi.encodePacked(address(this), msg.sender, salt));
        Asset storage a = assets[id];
        if (a.owner != address(0)) revert AssetExists(id);
        a.owner = msg.sender;
        a.keyEpoch = 1;
        a.metadata = metadata;
        emit MemoryCreated(id, msg.sender, metadata);
        if (ciphertext.length > 0) _append(id, a, msg.sender, 1, ciphertext);
    }

    function appendVersion(bytes32 id, uint64 expectedVersion, uint64 keyEpoch, bytes calldata ciphertext)
        external
        returns (uint64, bytes32)
    {
        _checkEnvelope(ciphertext, keyEpoch);
        return _appendAs(id, expectedVersion, keyEpoch, ciphertext, msg.sender);
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
        _checkEnvelope(ciphertext, keyEpoch);
        if (deadline < block.timestamp) revert SignatureExpired(deadline, block.timestamp);
        _useNonce(signer, nonce);
        _verify(_appendDigest(id, expectedVersion, keyEpoch, keccak256(ciphertext), signer, nonce, deadline), signer, signature);
        return _appendAs(id, expectedVersion, keyEpoch, ciphertext, signer);
    }

    function _useNonce(address signer, uint256 nonce) private {
        uint256 current = nonceOf[signer];
        if (nonce != current) revert InvalidNonce(current, nonce);
        nonceOf[signer] = current + 1; // undone with the call if anything later reverts
    }

    function _appendDigest(
        bytes32 id,
        uint64 expectedVersion,
        uint64 keyEpoch,
        bytes32 ctHash,
        address signer,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(APPEND_TYPEHASH, id, expectedVersion, keyEpoch, ctHash, signer, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function _appendAs(bytes32 id, uint64 expectedVersion, uint64 keyEpoch, bytes calldata ct, address author)
        private
        returns (uint64, bytes32)
    {
        Asset storage a = _load(id);
        _requireWriter(id, a, author);
        _checkHead(a, expectedVersion, keyEpoch);
        return _append(id, a, author, keyEpoch, ct);
    }

    function transferOwnership(bytes32 id, address newOwner) external {
        Asset storage a = _load(id);
        if (a.owner != msg.sender) revert NotAuthorized(id, msg.sender);
        if (newOwner == address(0) || newOwner == a.owner) revert InvalidAddress(newOwner);
        for (uint256 n = a.grantCount; n > 0; n--) {
            address g = grantSlots[id][n - 1];
            delete grantSlots[id][n - 1];
            delete grants[id][g];
            emit AccessRevoked(id, g);
        }
        a.grantCount = 0;
        a.owner = newOwner;
        emit OwnershipTransferred(id, msg.sender, newOwner);
    }

    function grantAccess(bytes32 id, address grantee, uint8 permissions, uint64 expiry, bytes calldata wrappedKey)
        external
    {
        if (permissions != 1 && permissions != 3) revert InvalidPermissions(permissions);
        if (wrappedKey.length > MAX_WRAPPED_KEY) revert WrappedKeyTooLarge(wrappedKey.length, MAX_WRAPPED_KEY);
        Asset storage a = _load(id);
        if (a.owner != msg.sender) revert NotAuthorized(id, msg.sender);
        if (grantee == address(0) || grantee == a.owner) revert InvalidAddress(grantee);
        GrantRecord storage g = grants[id][grantee];
        if (g.permissions == 0) {
            if (a.grantCount >= MAX_GRANTS) revert TooManyGrants(MAX_GRANTS);
            g.slot = a.grantCount;
            grantSlots[id][a.grantCount] = grantee;
            a.grantCount += 1;
        }
        g.permissions = permissions;
        g.expiry = expiry;
        g.keyEpoch = a.keyEpoch;
        g.wrappedKey = wrappedKey;
        emit AccessGranted(id, grantee, permissions, expiry, a.keyEpoch);
    }

    function revokeAccess(bytes32 id, address grantee) external {
        Asset storage a = _load(id);
        if (a.owner != msg.sender) revert NotAuthorized(id, msg.sender);
        GrantRecord storage g = grants[id][grantee];
        if (g.permissions == 0) revert GrantNotFound(id, grantee);
        uint32 last = a.grantCount - 1;
        if (g.slot != last) {
            address moved = grantSlots[id][last];
            grants[id][moved].slot = g.slot;
            grantSlots[id][g.slot] = moved;
        }
        delete grantSlots[id][last];
        delete grants[id][grantee];
        a.grantCount = last;
        emit AccessRevoked(id, grantee);
    }

    // --------------------------------------------------------------- reads

    function getHead(bytes32 id)
        external
        view
        returns (address owner, uint64 version, bytes32 headHash, uint64 keyEpoch, uint32 flags, bytes32 metadata)
    {
        Asset storage a = _load(id);
        return (a.owner, a.head, a.headHash, a.keyEpoch, 0, a.metadata);
    }

    function getVersion(bytes32 id, uint64 version)
        external
        view
        returns (bytes memory ciphertext, uint64 keyEpoch, address author, uint64 blockNumber, bytes32 versionHash)
    {
        Asset storage a = _load(id);
        if (version == 0 || version > a.head) revert VersionNotFound(id, version);
        VersionRecord storage r = versions[id][version];
        if (r.state != 1) revert VersionPruned(id, version);
        return (ciphertexts[id][version], r.keyEpoch, r.author, r.blockNumber, r.versionHash);
    }

    function getGrant(bytes32 id, address grantee)
        external
        view
        returns (uint8 permissions, uint64 expiry, uint64 keyEpoch, bytes memory wrappedKey)
    {
        GrantRecord storage g = grants[id][grantee];
        if (g.permissions == 0) revert GrantNotFound(id, grantee);
        return (g.permissions, g.expiry, g.keyEpoch, g.wrappedKey);
    }

    // ------------------------------------------------------------ internals

    function _load(bytes32 id) private view returns (Asset storage a) {
        a = assets[id];
        if (a.owner == address(0)) revert AssetNotFound(id);
    }

    function _requireWriter(bytes32 id, Asset storage a, address who) private view {
        if (who == a.owner) return;
        GrantRecord storage g = grants[id][who];
        if (g.permissions & 2 == 0 || (g.expiry != 0 && block.timestamp > g.expiry)) revert NotAuthorized(id, who);
    }

    function _checkHead(Asset storage a, uint64 expectedVersion, uint64 keyEpoch) private view {
        if (expectedVersion != a.head) revert VersionConflict(expectedVersion, a.head);
        if (keyEpoch != a.keyEpoch) revert KeyEpochMismatch(a.keyEpoch, keyEpoch);
    }

    /// spec/envelope.md [ENV-3] without buckets (policy 0).
    function _checkEnvelope(bytes calldata ct, uint64 epoch) private pure {
        if (ct.length > MAX_CIPHERTEXT) revert CiphertextTooLarge(ct.length, MAX_CIPHERTEXT);
        if (ct.length < 50) revert InvalidEnvelope(1);
        if (ct[0] != 0x01) revert InvalidEnvelope(2);
        if (ct[1] != 0x01) revert InvalidEnvelope(3);
        if (uint64(bytes8(ct[2:10])) != epoch) revert InvalidEnvelope(4);
        if (bytes24(ct[10:34]) == bytes24(0)) revert InvalidEnvelope(5);
    }

    function _append(bytes32 id, Asset storage a, address author, uint64 epoch, bytes calldata ct)
        private
        returns (uint64 v, bytes32 versionHash)
    {
        v = a.head + 1;
        bytes32 ctHash = keccak256(ct);
        versionHash = keccak256(abi.encodePacked(a.headHash, id, v, ctHash, epoch, author));
        versions[id][v] = VersionRecord(versionHash, ctHash, author, epoch, 1, uint64(block.number));
        ciphertexts[id][v] = ct;
        a.head = v;
        a.headHash = versionHash;
        if (v > K) {
            VersionRecord storage old = versions[id][v - K];
            if (old.state == 1) {
                delete ciphertexts[id][v - K];
                old.state = 2;
            }
        }
        emit VersionAppended(id, author, v, versionHash, ctHash, epoch);
    }

    /// [SIG-7]..[SIG-9] with ecrecover.
    function _verify(bytes32 digest, address signer, bytes calldata sig) private pure {
        if (sig.length != 65) revert InvalidSignature(1);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v != 27 && v != 28) revert InvalidSignature(2);
        if (r == 0) revert InvalidSignature(3);
        if (s == 0) revert InvalidSignature(4);
        if (uint256(s) > HALF_N) revert InvalidSignature(5);
        address recovered = ecrecover(digest, v, r, s);
        if (recovered == address(0)) revert InvalidSignature(6);
        if (recovered != signer) revert WrongSigner(signer, recovered);
    }
}
