/* The ten categories and their names (spec/memory.md §2.3, [MEM-7]). */
#include <string.h>

#include "device/memory/memory.h"

/* In bit order: index i is the bit 1 << i. */
static const char *const msd_mem_cat_names[MSD_CAT_COUNT] = {
    "identity", "career", "interests", "relationships", "health",
    "finance", "learning", "travel", "productivity", "private",
};

const char *msd_mem_category_name(unsigned i)
{
    return i < MSD_CAT_COUNT ? msd_mem_cat_names[i] : NULL;
}

uint32_t msd_mem_category_bit(const char *name)
{
    if (name == NULL) return 0;
    for (unsigned i = 0; i < MSD_CAT_COUNT; i++)
        if (strcmp(name, msd_mem_cat_names[i]) == 0) return 1u << i;
    return 0;
}
