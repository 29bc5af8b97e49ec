/* Every step is a real transaction with real ciphertext and signatures; each
 * expected failure is declared, so any divergence makes the host exit non-zero. */
#include "scenario.h"

#include <stdio.h>
#include <string.h>

#include "abi/keccak.h"
#include "abi/selectors.h"
#include "calldata.h"
#include "client.h"
#include "decode.h"
#include "exitcodes.h"

#define SIGNATURE_TTL 600u
#define GRANT_TTL 86400u
#define MAX_PRUNE_APPENDS 12u

typedef struct scen {
    node *n;
    client c;
    dev_account owner, ai, relayer, heir;
    uint64_t base;               /* committed height when the run started */
    uint64_t block;
    uint8_t journal[32];         /* memory A: the user's long-term memory */
    uint8_t scratch[32];         /* memory B: a scratchpad, shredded at the end */
} scen;

static void say(scen *s, const char *text)
{
    fprintf(s->n->out, "  # %s\n", text);
}

static void next_block(scen *s)
{
    s->block++;
    node_begin_block(s->n, s->block);
}

/* Salts depend on the starting height, so every run creates new memories. */
static void salt_for(uint8_t salt[32], uint64_t height, uint8_t index)
{
    uint8_t in[24] = "MemSync demo salt";
    for (unsigned i = 0; i < 6; i++) in[17 + i] = (uint8_t)(height >> (40 - 8 * i));
    in[23] = index;
    ms_keccak256(salt, in, sizeof in);
}

static int end_block(scen *s)
{
    if (!node_commit(s->n)) return 0;
    client_show_memory(&s->c, "memory A (journal)", s->journal);
    client_show_memory(&s->c, "memory B (scratchpad)", s->scratch);
    return !s->n->fatal;
}

/* An append by `who` (calling directly) on the current head. */
static int append_direct(scen *s, const char *actor, const dev_account *who, const uint8_t id[32],
                         uint64_t expected, uint64_t epoch, const uint8_t key[32], const char *text,
                         uint32_t expect)
{
    client_ct ct;
    if (!client_seal(&s->c, &ct, id, expected + 1, epoch, key, text)) return 0;
    cd_append_version(&s->c.cd, id, expected, epoch, ct.env, ct.len);
    node_tx(s->n, actor, who->addr, &s->c.cd, expect);
    return !s->n->fatal;
}

/* appendVersionSigned: `signer` signs on a device, the relayer submits. */
static int append_relayed(scen *s, const char *actor, const dev_account *signer, const uint8_t id[32],
                          uint64_t expected, uint64_t epoch, const char *text, uint32_t expect)
{
    uint8_t key[32], sig[65];
    uint64_t nonce;
    client_ct ct;
    dev_data_key(key, id, epoch);
    const uint64_t deadline = s->n->blk.timestamp + SIGNATURE_TTL;
    if (!client_nonce_of(&s->c, &nonce, signer->addr) ||
        !client_seal(&s->c, &ct, id, expected + 1, epoch, key, text) ||
        !client_sign_append(&s->c, sig, signer, id, expected, epoch, ct.hash, nonce, deadline))
        return 0;
    cd_append_version_signed(&s->c.cd, id, expected, epoch, ct.env, ct.len, signer->addr, nonce, deadline, sig);
    node_tx(s->n, actor, s->relayer.addr, &s->c.cd, expect);
    return !s->n->fatal;
}

static int create(scen *s, uint8_t id[32], uint8_t index, const char *meta_text, const char *text)
{
    uint8_t salt[32], meta[32], key[32];
    salt_for(salt, s->base, index);
    ms_keccak256(meta, (const uint8_t *)meta_text, strlen(meta_text));
    client_asset_id(&s->c, id, s->owner.addr, salt);
    dev_data_key(key, id, 1);
    client_ct ct;
    if (!client_seal(&s->c, &ct, id, 1, 1, key, text)) return 0;
    cd_create_memory(&s->c.cd, salt, meta, ct.env, ct.len);
    if (node_tx(s->n, "owner/device-1", s->owner.addr, &s->c.cd, NODE_EXPECT_OK)) {
        uint8_t got[32];
        if (!dec_word(got, s->n->last.output, s->n->last.output_size, 0) || memcmp(got, id, 32) != 0) {
            fputs("    !! UNEXPECTED: assetId differs from keccak256(precompile, owner, salt)\n", s->n->out);
            s->n->unexpected++;
        }
    }
    return !s->n->fatal;
}

static int block_create(scen *s)
{
    next_block(s);
    say(s, "the owner creates two memories, each with an encrypted first version");
    if (!create(s, s->journal, 0, "journal", "v1: prefers short answers; timezone Europe/Berlin")) return 0;
    if (!create(s, s->scratch, 1, "scratchpad", "v1: draft itinerary Lisbon, 3 days")) return 0;
    return end_block(s);
}

static int block_devices(scen *s)
{
    next_block(s);
    client_head h;
    if (!client_head_of(&s->c, &h, s->journal)) return 0;
    const uint64_t seen = h.version;
    uint8_t key[32];
    dev_data_key(key, s->journal, h.key_epoch);
    say(s, "device 1 (the owner's phone) and device 2 (laptop) both edit on the same head");
    if (!append_direct(s, "owner/device-1", &s->owner, s->journal, seen, h.key_epoch, key,
                       "v2 (phone): learning Portuguese", NODE_EXPECT_OK))
        return 0;
    say(s, "device 2's edit, signed by the owner key on the old head, arrives second via the relayer");
    if (!append_relayed(s, "relayer for device-2", &s->owner, s->journal, seen, h.key_epoch,
                        "v2 (laptop): allergic to peanuts", MS_E_VERSION_CONFLICT))
        return 0;
    say(s, "device 2 re-reads the head, merges and retries");
    if (!client_head_of(&s->c, &h, s->journal)) return 0;
    if (!append_relayed(s, "relayer for device-2", &s->owner, s->journal, h.version, h.key_epoch,
                        "v3 (laptop, merged): learning Portuguese; allergic to peanuts", NODE_EXPECT_OK))
        return 0;
    return end_block(s);
}

static int block_ai_grant(scen *s, uint8_t ai_key[32])
{
    next_block(s);
    client_head h;
    if (!client_head_of(&s->c, &h, s->journal)) return 0;
    uint8_t key[32], wrapped[DEV_WRAPPED_KEY_SIZE];
    dev_data_key(key, s->journal, h.key_epoch);
    if (!dev_wrap_key(wrapped, key, &s->ai)) return 0;
    say(s, "the owner grants an AI tool read-write access, with the data key sealed to its X25519 key");
    cd_grant_access(&s->c.cd, s->journal, s->ai.addr, 3, s->n->blk.timestamp + GRANT_TTL, wrapped, sizeof wrapped);
    node_tx(s->n, "owner/device-1", s->owner.addr, &s->c.cd, NODE_EXPECT_OK);

    say(s, "the AI tool fetches its grant and unwraps the data key");
    cd_id_addr(&s->c.cd, MS_FN_GET_GRANT, s->journal, s->ai.addr);
    if (!node_view(s->n, &s->c.cd, NODE_EXPECT_OK, 0)) return !s->n->fatal;
    const uint8_t *wk;
    size_t wk_len;
    uint64_t epoch;
    if (!dec_bytes(&wk, &wk_len, s->n->last.output, s->n->last.output_size, 3) ||
        !dec_u64(&epoch, s->n->last.output, s->n->last.output_size, 2) || !dev_unwrap_key(ai_key, wk, wk_len, &s->ai)) {
        fputs("    !! UNEXPECTED: the AI tool cannot unwrap its key\n", s->n->out);
        s->n->unexpected++;
        return 1;
    }
    fprintf(s->n->out, "       unwrapped the epoch-%llu data key: %s\n", (unsigned long long)epoch,
            memcmp(ai_key, key, 32) == 0 ? "matches the owner's" : "DIFFERS");
    if (!append_direct(s, "ai-tool", &s->ai, s->journal, h.version, epoch, ai_key,
                       "v4 (AI summary): user is a language learner with a peanut allergy", NODE_EXPECT_OK))
        return 0;
    return end_block(s);
}

static int block_revoke(scen *s, const uint8_t ai_key[32])
{
    next_block(s);
    say(s, "the owner revokes the AI tool and rotates the data key");
    cd_id_addr(&s->c.cd, MS_FN_REVOKE_ACCESS, s->journal, s->ai.addr);
    node_tx(s->n, "owner/device-1", s->owner.addr, &s->c.cd, NODE_EXPECT_OK);
    cd_id(&s->c.cd, MS_FN_ROTATE_KEY, s->journal);
    node_tx(s->n, "owner/device-1", s->owner.addr, &s->c.cd, NODE_EXPECT_OK);
    client_head h;
    if (!client_head_of(&s->c, &h, s->journal)) return 0;
    say(s, "the AI tool tries to append again with the key it still holds");
    if (!append_direct(s, "ai-tool", &s->ai, s->journal, h.version, h.key_epoch - 1, ai_key,
                       "v5 (AI): should not land", MS_E_NOT_AUTHORIZED))
        return 0;
    uint8_t key[32];
    dev_data_key(key, s->journal, h.key_epoch);
    say(s, "the owner keeps writing under the new key epoch");
    if (!append_direct(s, "owner/device-1", &s->owner, s->journal, h.version, h.key_epoch, key,
                       "v5 (phone, new key): moved to Lisbon", NODE_EXPECT_OK))
        return 0;
    return end_block(s);
}

static int block_prune(scen *s)
{
    next_block(s);
    const uint64_t k = s->n->cfg.retained_versions;
    fprintf(s->n->out, "  # device 1 syncs a batch of notes: only the last %llu ciphertexts are retained\n",
            (unsigned long long)k);
    for (unsigned i = 0; i < MAX_PRUNE_APPENDS; i++) {
        client_head h;
        if (!client_head_of(&s->c, &h, s->journal)) return 0;
        if (h.version >= k + 2) break;
        char text[64];
        snprintf(text, sizeof text, "v%llu (phone): daily note #%u", (unsigned long long)(h.version + 1), i + 1);
        uint8_t key[32];
        dev_data_key(key, s->journal, h.key_epoch);
        if (!append_direct(s, "owner/device-1", &s->owner, s->journal, h.version, h.key_epoch, key, text,
                           NODE_EXPECT_OK))
            return 0;
    }
    client_head h;
    if (!client_head_of(&s->c, &h, s->journal)) return 0;
    if (h.version > k) {
        say(s, "reading version 1 of memory A, which retention has pruned");
        cd_id_u64(&s->c.cd, MS_FN_GET_VERSION, s->journal, 1);
        node_view(s->n, &s->c.cd, MS_E_VERSION_PRUNED, 0);
        cd_id_u64(&s->c.cd, MS_FN_GET_VERSION_INFO, s->journal, 1);
        node_view(s->n, &s->c.cd, NODE_EXPECT_OK, 0);
    }
    return !s->n->fatal && end_block(s);
}

static int block_transfer_shred(scen *s)
{
    next_block(s);
    uint64_t nonce;
    uint8_t sig[65];
    const uint64_t deadline = s->n->blk.timestamp + SIGNATURE_TTL;
    say(s, "the owner signs a transfer of memory A to an heir; the relayer submits it");
    if (!client_nonce_of(&s->c, &nonce, s->owner.addr) ||
        !client_sign_transfer(&s->c, sig, &s->owner, s->journal, s->heir.addr, nonce, deadline))
        return 0;
    cd_transfer_ownership_signed(&s->c.cd, s->journal, s->heir.addr, nonce, deadline, sig);
    node_tx(s->n, "relayer for owner", s->relayer.addr, &s->c.cd, NODE_EXPECT_OK);

    client_head h;
    if (!client_head_of(&s->c, &h, s->journal)) return 0;
    uint8_t key[32];
    dev_data_key(key, s->journal, h.key_epoch);
    say(s, "the former owner can no longer append");
    if (!append_direct(s, "owner/device-1", &s->owner, s->journal, h.version, h.key_epoch, key,
                       "written after the transfer", MS_E_NOT_AUTHORIZED))
        return 0;

    say(s, "the owner shreds memory B (the scratchpad)");
    cd_id(&s->c.cd, MS_FN_SHRED_MEMORY, s->scratch);
    node_tx(s->n, "owner/device-1", s->owner.addr, &s->c.cd, NODE_EXPECT_OK);
    say(s, "reading the shredded version 1 of memory B");
    cd_id_u64(&s->c.cd, MS_FN_GET_VERSION, s->scratch, 1);
    node_view(s->n, &s->c.cd, MS_E_VERSION_SHREDDED, 0);
    return !s->n->fatal && end_block(s);
}

static void print_actors(scen *s)
{
    const dev_account *a[] = {&s->owner, &s->ai, &s->relayer, &s->heir};
    fputs("actors (DEMO KEYS ONLY - derived from a fixed public seed, never use for real data):\n", s->n->out);
    for (size_t i = 0; i < 4; i++) {
        fprintf(s->n->out, "  %-8s ", a[i]->name);
        dec_hex(s->n->out, a[i]->addr, 20);
        fputc('\n', s->n->out);
    }
    fputs("  device-1 calls as the owner; device-2 signs with the owner key and goes through the relayer\n"
          "  ciphertexts: XChaCha20-Poly1305-IETF under demo data keys derived from the same demo seed\n",
          s->n->out);
}

int scenario_run(node *n, uint64_t committed_height)
{
    scen s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.base = committed_height;
    s.block = committed_height;
    if (!dev_account_make(&s.owner, "owner") || !dev_account_make(&s.ai, "ai-tool") ||
        !dev_account_make(&s.relayer, "relayer") || !dev_account_make(&s.heir, "heir"))
        return HOST_EXIT_CRYPTO;
    client_init(&s.c, n);
    print_actors(&s);
    n->blk.number = committed_height;
    n->blk.timestamp = NODE_GENESIS_TIME + NODE_BLOCK_TIME * committed_height;
    n->blk.chain_id = n->cfg.chain_id;
    client_check_domain(&s.c);

    uint8_t ai_key[32] = {0};
    const int ok = block_create(&s) && block_devices(&s) && block_ai_grant(&s, ai_key) &&
                   block_revoke(&s, ai_key) && block_prune(&s) && block_transfer_shred(&s);
    client_free(&s.c);

    uint64_t height = 0;
    ms_bytes32 root;
    n->m->committed(n->inst, &height, &root);
    fprintf(n->out, "\nfinal committed height: %llu, root ", (unsigned long long)height);
    dec_hex(n->out, root.bytes, 32);
    fputc('\n', n->out);
    if (n->fatal) return HOST_EXIT_FATAL;
    if (!ok) {
        fputs("scenario stopped: a client-side step failed\n", n->out);
        return HOST_EXIT_SCENARIO;
    }
    if (n->unexpected > 0) {
        fprintf(n->out, "scenario FAILED: %d call(s) did not behave as expected\n", n->unexpected);
        return HOST_EXIT_SCENARIO;
    }
    fputs("scenario complete: every call behaved as expected\n", n->out);
    return HOST_EXIT_OK;
}
