#include "storage/state_root.h"

#include "abi/keccak.h"
#include "storage/records.h"

static const uint8_t ROOT_DOMAIN[] = "MemSync.root.v1";

void ms_state_root_next(uint8_t out32[32], const uint8_t prev32[32], uint64_t height,
                        const ms_overlay_entry *const *entries, size_t count)
{
    /* changes = keccak( for each entry: klen u32 | key | op u8 | vlen u32 | value ) */
    ms_keccak h;
    uint8_t changes[32];
    uint8_t be[8];
    ms_keccak_init(&h);
    for (size_t i = 0; i < count; i++) {
        const ms_overlay_entry *e = entries[i];
        const uint8_t op = e->deleted ? 1 : 0;
        const size_t vlen = e->deleted ? 0 : e->vlen;
        ms_put_be32(be, (uint32_t)e->klen);
        ms_keccak_update(&h, be, 4);
        ms_keccak_update(&h, e->key, e->klen);
        ms_keccak_update(&h, &op, 1);
        ms_put_be32(be, (uint32_t)vlen);
        ms_keccak_update(&h, be, 4);
        ms_keccak_update(&h, e->val, vlen);
    }
    ms_keccak_final(&h, changes);

    /* root = keccak( "MemSync.root.v1" | prev 32 | height u64 | changes 32 ) */
    ms_keccak_init(&h);
    ms_keccak_update(&h, ROOT_DOMAIN, sizeof ROOT_DOMAIN - 1);
    ms_keccak_update(&h, prev32, 32);
    ms_put_be64(be, height);
    ms_keccak_update(&h, be, 8);
    ms_keccak_update(&h, changes, 32);
    ms_keccak_final(&h, out32);
}
