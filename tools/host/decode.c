/* Table-driven decoding: one printer walks a parameter list such as
 * "bytes32 indexed assetId,uint64 version" over head words and topics. */
#include "decode.h"

#include <string.h>

#include "abi/selectors.h"

typedef struct fn_sig { uint32_t sel; const char *name, *in, *out; } fn_sig;
typedef struct err_sig { uint32_t sel; const char *name, *args; } err_sig;
typedef struct ev_sig { uint8_t topic0[32]; const char *name, *fields; } ev_sig;

static const fn_sig FNS[] = {
    {MS_FN_CREATE_MEMORY, "createMemory", "bytes32 salt,bytes32 metadata,bytes ciphertext", "bytes32 assetId"},
    {MS_FN_CREATE_MEMORY_SIGNED, "createMemorySigned",
     "address owner,bytes32 salt,bytes32 metadata,bytes ciphertext,uint256 nonce,uint256 deadline,bytes signature",
     "bytes32 assetId"},
    {MS_FN_APPEND_VERSION, "appendVersion", "bytes32 assetId,uint64 expectedVersion,uint64 keyEpoch,bytes ciphertext",
     "uint64 version,bytes32 versionHash"},
    {MS_FN_APPEND_VERSION_SIGNED, "appendVersionSigned",
     "bytes32 assetId,uint64 expectedVersion,uint64 keyEpoch,bytes ciphertext,address signer,uint256 nonce,"
     "uint256 deadline,bytes signature",
     "uint64 version,bytes32 versionHash"},
    {MS_FN_TRANSFER_OWNERSHIP, "transferOwnership", "bytes32 assetId,address newOwner", ""},
    {MS_FN_TRANSFER_OWNERSHIP_SIGNED, "transferOwnershipSigned",
     "bytes32 assetId,address newOwner,uint256 nonce,uint256 deadline,bytes signature", ""},
    {MS_FN_GRANT_ACCESS, "grantAccess",
     "bytes32 assetId,address grantee,uint8 permissions,uint64 expiry,bytes wrappedKey", ""},
    {MS_FN_REVOKE_ACCESS, "revokeAccess", "bytes32 assetId,address grantee", ""},
    {MS_FN_ROTATE_KEY, "rotateKey", "bytes32 assetId", "uint64 keyEpoch"},
    {MS_FN_SHRED_MEMORY, "shredMemory", "bytes32 assetId", ""},
    {MS_FN_SHRED_VERSIONS, "shredVersions", "bytes32 assetId,uint64 upToVersion", ""},
    {MS_FN_GET_HEAD, "getHead", "bytes32 assetId",
     "address owner,uint64 version,bytes32 headHash,uint64 keyEpoch,uint32 flags,bytes32 metadata"},
    {MS_FN_GET_VERSION, "getVersion", "bytes32 assetId,uint64 version",
     "bytes ciphertext,uint64 keyEpoch,address author,uint64 blockNumber,bytes32 versionHash"},
    {MS_FN_GET_VERSION_INFO, "getVersionInfo", "bytes32 assetId,uint64 version",
     "bytes32 versionHash,bytes32 ciphertextHash,uint64 keyEpoch,address author,uint64 blockNumber,uint8 state"},
    {MS_FN_GET_GRANTS, "getGrants", "bytes32 assetId",
     "address[] grantees,uint8[] permissions,uint64[] expiries,uint64[] keyEpochs"},
    {MS_FN_GET_GRANT, "getGrant", "bytes32 assetId,address grantee",
     "uint8 permissions,uint64 expiry,uint64 keyEpoch,bytes wrappedKey"},
    {MS_FN_NONCE_OF, "nonceOf", "address signer", "uint256 nonce"},
    {MS_FN_DOMAIN_SEPARATOR, "domainSeparator", "", "bytes32 separator"},
};

static const err_sig ERRS[] = {
    {MS_E_INVALID_CALLDATA, "InvalidCalldata", "uint8 reason"},
    {MS_E_UNKNOWN_FUNCTION, "UnknownFunction", "bytes4 selector"},
    {MS_E_WRITE_IN_STATIC_CONTEXT, "WriteInStaticContext", ""},
    {MS_E_CALL_KIND_NOT_ALLOWED, "CallKindNotAllowed", "uint8 kind"},
    {MS_E_VALUE_NOT_ACCEPTED, "ValueNotAccepted", ""},
    {MS_E_WRONG_CHAIN, "WrongChain", "uint256 expected,uint256 actual"},
    {MS_E_ASSET_NOT_FOUND, "AssetNotFound", "bytes32 assetId"},
    {MS_E_ASSET_EXISTS, "AssetExists", "bytes32 assetId"},
    {MS_E_ASSET_IS_SHREDDED, "AssetIsShredded", "bytes32 assetId"},
    {MS_E_NOT_AUTHORIZED, "NotAuthorized", "bytes32 assetId,address account"},
    {MS_E_VERSION_CONFLICT, "VersionConflict", "uint64 expected,uint64 actual"},
    {MS_E_KEY_EPOCH_MISMATCH, "KeyEpochMismatch", "uint64 expected,uint64 actual"},
    {MS_E_CIPHERTEXT_TOO_LARGE, "CiphertextTooLarge", "uint256 size,uint256 max"},
    {MS_E_INVALID_ENVELOPE, "InvalidEnvelope", "uint8 reason"},
    {MS_E_VERSION_NOT_FOUND, "VersionNotFound", "bytes32 assetId,uint64 version"},
    {MS_E_VERSION_PRUNED, "VersionPruned", "bytes32 assetId,uint64 version"},
    {MS_E_VERSION_SHREDDED, "VersionShredded", "bytes32 assetId,uint64 version"},
    {MS_E_INVALID_SIGNATURE, "InvalidSignature", "uint8 reason"},
    {MS_E_WRONG_SIGNER, "WrongSigner", "address expected,address recovered"},
    {MS_E_INVALID_NONCE, "InvalidNonce", "uint256 expected,uint256 actual"},
    {MS_E_SIGNATURE_EXPIRED, "SignatureExpired", "uint256 deadline,uint256 timestamp"},
    {MS_E_INVALID_ADDRESS, "InvalidAddress", "address account"},
    {MS_E_INVALID_PERMISSIONS, "InvalidPermissions", "uint8 permissions"},
    {MS_E_WRAPPED_KEY_TOO_LARGE, "WrappedKeyTooLarge", "uint256 size,uint256 max"},
    {MS_E_TOO_MANY_GRANTS, "TooManyGrants", "uint256 max"},
    {MS_E_GRANT_NOT_FOUND, "GrantNotFound", "bytes32 assetId,address grantee"},
    {MS_E_INVALID_VERSION_RANGE, "InvalidVersionRange", "uint64 upToVersion,uint64 headVersion"},
};

static const ev_sig EVS[] = {
    {MS_EV_MEMORY_CREATED, "MemoryCreated", "bytes32 indexed assetId,address indexed owner,bytes32 metadata"},
    {MS_EV_VERSION_APPENDED, "VersionAppended",
     "bytes32 indexed assetId,address indexed author,uint64 version,bytes32 versionHash,bytes32 ciphertextHash,"
     "uint64 keyEpoch"},
    {MS_EV_OWNERSHIP_TRANSFERRED, "OwnershipTransferred",
     "bytes32 indexed assetId,address indexed from,address indexed to"},
    {MS_EV_ACCESS_GRANTED, "AccessGranted",
     "bytes32 indexed assetId,address indexed grantee,uint8 permissions,uint64 expiry,uint64 keyEpoch"},
    {MS_EV_ACCESS_REVOKED, "AccessRevoked", "bytes32 indexed assetId,address indexed grantee"},
    {MS_EV_KEY_ROTATED, "KeyRotated", "bytes32 indexed assetId,uint64 keyEpoch"},
    {MS_EV_MEMORY_SHREDDED, "MemoryShredded", "bytes32 indexed assetId,uint64 upToVersion"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

uint32_t dec_selector(const uint8_t *p, size_t n)
{
    if (p == NULL || n < 4) return 0;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static const fn_sig *find_fn(uint32_t sel)
{
    for (size_t i = 0; i < COUNT(FNS); i++)
        if (FNS[i].sel == sel) return &FNS[i];
    return NULL;
}

const char *dec_function_name(uint32_t selector)
{
    const fn_sig *s = find_fn(selector);
    return s != NULL ? s->name : "?";
}

const char *dec_error_name(uint32_t selector)
{
    for (size_t i = 0; i < COUNT(ERRS); i++)
        if (ERRS[i].sel == selector) return ERRS[i].name;
    return NULL;
}

void dec_hex(FILE *f, const uint8_t *p, size_t n)
{
    fputs("0x", f);
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

int dec_word(uint8_t w[32], const uint8_t *out, size_t n, size_t slot)
{
    if (slot >= n / 32) return 0;
    memcpy(w, out + 32 * slot, 32);
    return 1;
}

static int word_u64(uint64_t *v, const uint8_t w[32])
{
    for (int i = 0; i < 24; i++)
        if (w[i] != 0) return 0;
    uint64_t x = 0;
    for (int i = 24; i < 32; i++) x = (x << 8) | w[i];
    *v = x;
    return 1;
}

int dec_u64(uint64_t *v, const uint8_t *out, size_t n, size_t slot)
{
    uint8_t w[32];
    return dec_word(w, out, n, slot) && word_u64(v, w);
}

/* The tail of a dynamic value whose offset word is in `slot`: count word + data. */
static int dyn_tail(uint64_t *count, const uint8_t **data, const uint8_t *out, size_t n, size_t slot)
{
    uint64_t off;
    if (!dec_u64(&off, out, n, slot) || off > n || n - off < 32) return 0;
    if (!word_u64(count, out + off)) return 0;
    *data = out + off + 32;
    return 1;
}

int dec_bytes(const uint8_t **p, size_t *len, const uint8_t *out, size_t n, size_t slot)
{
    uint64_t count;
    const uint8_t *data;
    if (!dyn_tail(&count, &data, out, n, slot)) return 0;
    if (count > (uint64_t)(out + n - data)) return 0;
    *p = data;
    *len = (size_t)count;
    return 1;
}

/* One static value of `type` in word w. */
static void print_word(FILE *f, const char *type, const uint8_t w[32], int brief)
{
    uint64_t v;
    if (strcmp(type, "address") == 0) {
        dec_hex(f, w + 12, 20);
    } else if (strcmp(type, "bytes4") == 0) {
        dec_hex(f, w, 4);
    } else if (strncmp(type, "uint", 4) == 0 && word_u64(&v, w)) {
        fprintf(f, "%llu", (unsigned long long)v);
    } else if (brief) {
        dec_hex(f, w, 4);
        fputs("..", f);
    } else {
        dec_hex(f, w, 32);
    }
}

static void print_bytes(FILE *f, const uint8_t *p, size_t len)
{
    const size_t show = len < 8 ? len : 8;
    fprintf(f, "<%zu bytes ", len);
    dec_hex(f, p, show);
    fputs(len > show ? "..>" : ">", f);
}

static void print_dynamic(FILE *f, const char *type, const uint8_t *out, size_t n, size_t slot, int brief)
{
    const size_t tl = strlen(type);
    if (tl > 2 && strcmp(type + tl - 2, "[]") == 0) {
        char elem[16];
        if (tl - 2 >= sizeof elem) return;
        memcpy(elem, type, tl - 2);
        elem[tl - 2] = '\0';
        uint64_t count;
        const uint8_t *data;
        if (!dyn_tail(&count, &data, out, n, slot) || count > (uint64_t)(out + n - data) / 32) {
            fputs("<malformed>", f);
            return;
        }
        fputc('[', f);
        for (uint64_t i = 0; i < count; i++) {
            if (i > 0) fputs(", ", f);
            print_word(f, elem, data + 32 * i, brief);
        }
        fputc(']', f);
        return;
    }
    const uint8_t *p;
    size_t len;
    if (dec_bytes(&p, &len, out, n, slot)) print_bytes(f, p, len);
    else fputs("<malformed>", f);
}

/* Walk "type [indexed] name,..." printing name=value. */
static void print_params(FILE *f, const char *spec, const uint8_t *data, size_t n,
                         const ms_bytes32 *topics, uint32_t topic_count, int brief)
{
    size_t slot = 0;
    uint32_t topic = 1;
    int first = 1;
    const char *s = spec;
    while (*s != '\0') {
        char field[96], type[32], name[48], mid[48];
        const char *end = strchr(s, ',');
        size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
        if (len >= sizeof field) len = sizeof field - 1;
        memcpy(field, s, len);
        field[len] = '\0';
        s = end != NULL ? end + 1 : s + strlen(s);
        int indexed = 0;
        const int k = sscanf(field, "%31s %47s %47s", type, mid, name);
        if (k == 3 && strcmp(mid, "indexed") == 0) indexed = 1;
        else if (k == 2) memcpy(name, mid, sizeof name);
        else continue;

        fprintf(f, "%s%s=", first ? "" : ", ", name);
        first = 0;
        const int dynamic = strcmp(type, "bytes") == 0 || strchr(type, '[') != NULL;
        uint8_t w[32];
        if (indexed) {
            if (topic < topic_count) print_word(f, type, topics[topic].bytes, brief);
            else fputs("<missing topic>", f);
            topic++;
        } else if (dynamic) {
            print_dynamic(f, type, data, n, slot++, brief);
        } else if (dec_word(w, data, n, slot++)) {
            print_word(f, type, w, brief);
        } else {
            fputs("<missing>", f);
        }
    }
}

void dec_print_call(FILE *f, const uint8_t *input, size_t n)
{
    const fn_sig *s = find_fn(dec_selector(input, n));
    if (s == NULL) {
        fputs("<unknown function>(", f);
        fputc(')', f);
        return;
    }
    fprintf(f, "%s(", s->name);
    print_params(f, s->in, input + 4, n - 4, NULL, 0, 1);
    fputc(')', f);
}

void dec_print_output(FILE *f, uint32_t selector, const uint8_t *out, size_t n)
{
    const fn_sig *s = find_fn(selector);
    if (s == NULL || s->out[0] == '\0') {
        fputs("(no return value)", f);
        return;
    }
    print_params(f, s->out, out, n, NULL, 0, 0);
}

void dec_print_error(FILE *f, const uint8_t *out, size_t n)
{
    const uint32_t sel = dec_selector(out, n);
    for (size_t i = 0; i < COUNT(ERRS); i++) {
        if (n >= 4 && ERRS[i].sel == sel) {
            fprintf(f, "%s(", ERRS[i].name);
            print_params(f, ERRS[i].args, out + 4, n - 4, NULL, 0, 0);
            fputc(')', f);
            return;
        }
    }
    fputs("<unknown revert data ", f);
    dec_hex(f, out, n);
    fputc('>', f);
}

void dec_print_event(FILE *f, const ms_log *log)
{
    for (size_t i = 0; i < COUNT(EVS); i++) {
        if (log->topic_count > 0 && memcmp(EVS[i].topic0, log->topics[0].bytes, 32) == 0) {
            fprintf(f, "%s(", EVS[i].name);
            print_params(f, EVS[i].fields, log->data, log->data_size, log->topics, log->topic_count, 0);
            fputc(')', f);
            return;
        }
    }
    fprintf(f, "<unknown event, %u topics, %zu data bytes>", (unsigned)log->topic_count, log->data_size);
}
