/* msd_mem_swap: exchange two documents' contents, so that a function given a
 * document handle can replace it with a newly built one (an import merged
 * into it) without the caller's handle changing. */
#include "device/memory/internal.h"

void msd_mem_swap(msd_mem_doc *a, msd_mem_doc *b)
{
    if (a == NULL || b == NULL) return;
    const msd_mem_doc t = *a;
    *a = *b;
    *b = t;
}
