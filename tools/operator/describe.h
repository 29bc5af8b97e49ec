/* Human-readable asset and version records (spec/storage.md [ST-4], [ST-5]). */
#ifndef MS_OPERATOR_DESCRIBE_H
#define MS_OPERATOR_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Describe the record of key (01 || assetId or 02 || assetId || version):
 *  absent, or its decoded fields. Returns 0 when a present record does not decode. */
int op_describe_record(FILE *f, const uint8_t *key, size_t klen, int present, const uint8_t *val, size_t vlen);

/** "retained", "pruned", "shredded" or "invalid". */
const char *op_version_state_name(uint8_t state);

#endif
