/* Conformance vectors (spec/vectors/conformance): emit them from curated and
 * seeded random streams, and replay them against any module build. */
#ifndef MS_REPLAY_VECTORS_H
#define MS_REPLAY_VECTORS_H

#include <stddef.h>

/** Regenerate every vector file in dir with the module at module_path, write
 *  COVERAGE.md, then check the files by replaying them. Returns an exit code. */
int vec_emit(const char *dir, const char *module_path);

/** Replay every *.json file of dir (sorted) through the module; report the
 *  first mismatch of each file. Returns 0 if all match, 1 otherwise, 2 on setup errors. */
int vec_check(const char *dir, const char *module_path);

/** A fresh directory $TMPDIR/memsync-replay.XXXXXX. Returns 1 on success. */
int rp_tmpdir(char *out, size_t cap);
/** Remove a directory tree (RocksDB directories are flat). */
int rp_rm_tree(const char *path);

#endif
