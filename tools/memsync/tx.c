/* RLP and EIP-155 signing of legacy transactions (the relayer's and the
 * owner's own). The signing hash is keccak256(rlp([nonce, gasPrice, gas, to,
 * value, data, chainId, 0, 0])); v = recoveryId + 35 + 2 * chainId. */
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "abi/keccak.h"
#include "tx.h"

static void put_len(ms_buf *b, uint8_t short_base, uint8_t long_base, size_t n)
{
    if (n < 56) {
        uint8_t h = (uint8_t)(short_base + n);
        ms_buf_put(b, &h, 1);
        return;
    }
    uint8_t be[8];
    int k = 0;
    for (size_t x = n; x > 0; x >>= 8) k++;
    for (int i = 0; i < k; i++) be[i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    uint8_t h = (uint8_t)(long_base + k);
    ms_buf_put(b, &h, 1);
    ms_buf_put(b, be, (size_t)k);
}

void rlp_put_bytes(ms_buf *b, const uint8_t *p, size_t n)
{
    if (n == 1 && p[0] < 0x80) {
        ms_buf_put(b, p, 1);
        return;
    }
    put_len(b, 0x80, 0xb7, n);
    ms_buf_put(b, p, n);
}

/* An integer is its big-endian bytes without leading zeros (0 is empty). */
static void rlp_put_be(ms_buf *b, const uint8_t *p, size_t n)
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    rlp_put_bytes(b, p, n);
}

void rlp_put_uint(ms_buf *b, uint64_t v)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(v >> (56 - 8 * i));
    rlp_put_be(b, be, 8);
}

void rlp_wrap_list(ms_buf *out, const ms_buf *payload)
{
    put_len(out, 0xc0, 0xf7, payload->size);
    ms_buf_put(out, payload->data, payload->size);
}

static void fields(ms_buf *b, const tx_legacy *t)
{
    rlp_put_uint(b, t->nonce);
    rlp_put_uint(b, t->gas_price);
    rlp_put_uint(b, t->gas);
    rlp_put_bytes(b, t->to, 20);
    rlp_put_uint(b, 0);   /* value: the precompile refuses any */
    rlp_put_bytes(b, t->data, t->data_len);
}

static int signing_hash(uint8_t h[32], const tx_legacy *t)
{
    ms_buf p, l;
    ms_buf_init(&p);
    ms_buf_init(&l);
    fields(&p, t);
    rlp_put_uint(&p, t->chain_id);
    rlp_put_uint(&p, 0);
    rlp_put_uint(&p, 0);
    rlp_wrap_list(&l, &p);
    const int ok = !p.failed && !l.failed;
    if (ok) ms_keccak256(h, l.data, l.size);
    ms_buf_free(&p);
    ms_buf_free(&l);
    return ok;
}

/* The signed transaction from r || s and the recovery id. */
static int finish(ms_buf *raw, const tx_legacy *t, const uint8_t rs[64], int recid)
{
    if (t->chain_id > (UINT64_MAX - 36) / 2) return cli_fail(CLI_USAGE, "chain id too large for EIP-155");
    ms_buf p;
    ms_buf_init(&p);
    fields(&p, t);
    rlp_put_uint(&p, (uint64_t)recid + 35 + 2 * t->chain_id);
    rlp_put_be(&p, rs, 32);
    rlp_put_be(&p, rs + 32, 32);
    ms_buf_reset(raw);
    rlp_wrap_list(raw, &p);
    const int failed = p.failed || raw->failed;
    ms_buf_free(&p);
    return failed ? cli_fail(CLI_INTERNAL, "out of memory") : CLI_OK;
}

int tx_sign_identity(ms_buf *raw, const tx_legacy *t, const msd_identity *id)
{
    uint8_t h[32], sig[65];
    if (!signing_hash(h, t)) return cli_fail(CLI_INTERNAL, "out of memory");
    msd_status st = msd_sign_digest(sig, id, h);
    if (st != MSD_OK) return cli_fail(CLI_INTERNAL, "sign: %s", msd_strerror(st));
    return finish(raw, t, sig, sig[64] - 27);
}

int tx_sign_key(ms_buf *raw, const tx_legacy *t, const tx_key *k)
{
    uint8_t h[32], rs[64];
    if (!signing_hash(h, t)) return cli_fail(CLI_INTERNAL, "out of memory");
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == NULL) return cli_fail(CLI_INTERNAL, "secp256k1 context");
    secp256k1_ecdsa_recoverable_signature sig;
    int recid = 0;
    int ok = secp256k1_ecdsa_sign_recoverable(ctx, &sig, h, k->sk, NULL, NULL) &&
             secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &sig);
    secp256k1_context_destroy(ctx);
    if (!ok) return cli_fail(CLI_INTERNAL, "the relayer key cannot sign");
    return finish(raw, t, rs, recid);
}

void tx_key_clear(tx_key *k)
{
    sodium_memzero(k, sizeof *k);
}

int tx_key_load(tx_key *k, const char *path)
{
    memset(k, 0, sizeof *k);
    uint8_t *data;
    size_t len;
    int rc = cli_read_file(path, &data, &len, 4096);
    if (rc != CLI_OK) return rc;
    char hex[70];
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof hex - 1; i++)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t') hex[n++] = (char)data[i];
    hex[n] = '\0';
    sodium_memzero(data, len);
    free(data);
    int ok = text_hex_exact(k->sk, 32, hex);
    sodium_memzero(hex, sizeof hex);
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pub;
    uint8_t ser[65];
    size_t sl = sizeof ser;
    ok = ok && ctx != NULL && secp256k1_ec_seckey_verify(ctx, k->sk) && secp256k1_ec_pubkey_create(ctx, &pub, k->sk) &&
         secp256k1_ec_pubkey_serialize(ctx, ser, &sl, &pub, SECP256K1_EC_UNCOMPRESSED);
    if (ctx != NULL) secp256k1_context_destroy(ctx);
    if (!ok) {
        tx_key_clear(k);
        return cli_fail(CLI_USAGE, "%s does not hold a secp256k1 key in hex", path);
    }
    uint8_t hh[32];
    ms_keccak256(hh, ser + 1, 64);
    memcpy(k->address, hh + 12, 20);
    return CLI_OK;
}
