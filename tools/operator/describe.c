#include "describe.h"

#include "storage/records.h"
#include "util.h"

const char *op_version_state_name(uint8_t state)
{
    switch (state) {
    case MS_VERSION_RETAINED: return "retained";
    case MS_VERSION_PRUNED: return "pruned";
    case MS_VERSION_SHREDDED: return "shredded";
    default: return "invalid";
    }
}

int op_describe_record(FILE *f, const uint8_t *key, size_t klen, int present, const uint8_t *val, size_t vlen)
{
    char id[67];
    const int is_version = klen == 41 && key[0] == MS_TAG_VERSION;
    if (klen < 33) return 0;
    op_hex_str(id, key + 1, 32);
    if (is_version) {
        const uint64_t v = ms_get_be64(key + 33);
        if (!present) {
            fprintf(f, "version %llu of asset %s: does not exist (non-inclusion proof)\n", (unsigned long long)v, id);
            return 1;
        }
        ms_version r;
        if (!ms_version_decode(&r, val, vlen)) return 0;
        fprintf(f, "version %llu of asset %s:\n  versionHash     ", (unsigned long long)v, id);
        op_hex(f, r.version_hash, 32);
        fputs("\n  ciphertextHash  ", f);
        op_hex(f, r.ciphertext_hash, 32);
        fprintf(f, "\n  keyEpoch        %llu\n  author          ", (unsigned long long)r.key_epoch);
        op_hex(f, r.author, 20);
        fprintf(f, "\n  block           %llu\n  state           %u (%s)\n", (unsigned long long)r.block,
                (unsigned)r.state, op_version_state_name(r.state));
        return 1;
    }
    if (!present) {
        fprintf(f, "asset %s: does not exist (never created; non-inclusion proof)\n", id);
        return 1;
    }
    ms_asset a;
    if (!ms_asset_decode(&a, val, vlen)) return 0;
    fprintf(f, "asset %s%s:\n  owner           ", id, (a.flags & MS_ASSET_SHREDDED) ? " (SHREDDED)" : "");
    op_hex(f, a.owner, 20);
    fprintf(f, "\n  headVersion     %llu\n  headHash        ", (unsigned long long)a.head_version);
    op_hex(f, a.head_hash, 32);
    fprintf(f, "\n  keyEpoch        %llu\n  flags           %u%s\n  metadata        ", (unsigned long long)a.key_epoch,
            (unsigned)a.flags, (a.flags & MS_ASSET_SHREDDED) ? " (shredded)" : "");
    op_hex(f, a.metadata, 32);
    fprintf(f, "\n  grantCount      %u\n  shreddedUpTo    %llu\n  createdBlock    %llu\n", (unsigned)a.grant_count,
            (unsigned long long)a.shredded_upto, (unsigned long long)a.created_block);
    return 1;
}
