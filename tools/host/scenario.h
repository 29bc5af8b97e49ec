/* The demo scenario: one owner, two devices, a relayer, an AI tool and an
 * heir, played over six blocks on top of whatever is already committed. */
#ifndef MS_HOST_SCENARIO_H
#define MS_HOST_SCENARIO_H

#include "node.h"

/** Play the scenario starting at block committed_height + 1.
 *  Returns an exit code (exitcodes.h). */
int scenario_run(node *n, uint64_t committed_height);

#endif
