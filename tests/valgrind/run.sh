#!/bin/sh
# Memcheck over the host tests (build/tests/host, Criterion) and the reference
# host scenario (build/memsync-host on a fresh data directory, then again to
# resume it). Zero errors, zero definite/indirect/possible leaks, and every
# still-reachable block explained by a library's static state
# (tests/valgrind/check_logs.awk); no suppression file is needed.
# Usage (from the repository root): sh tests/valgrind/run.sh [BUILD_DIR]
#
# Criterion runs each test in a child process of the runner (fork, then the
# test in the child), so valgrind follows children (--trace-children=yes) and
# writes one log per process. The host test's popen'd shell (which runs
# memsync-host) is not traced: the scenario is checked on its own below.
set -u
B=${1:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/ms-valgrind-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT INT TERM
VG="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all
    --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes --num-callers=30 --error-exitcode=99"
fail=0

echo "== memcheck: host tests"
MS_TEST_MODULE=$(pwd)/$B/libmemsync.so MS_TEST_HOST=$(pwd)/$B/memsync-host \
  $VG --trace-children=yes --trace-children-skip='*/sh,*/dash,*/bash' --log-file="$T/host.%p.vg" \
  "$B/tests/host" -j1 --timeout 300 >"$T/host.out" 2>&1 || { fail=1; echo "host tests failed under memcheck:"; tail -20 "$T/host.out"; }
tail -1 "$T/host.out"

echo "== memcheck: scenario (fresh, then resumed)"
for run in fresh resume; do
  $VG --log-file="$T/scenario-$run.%p.vg" "$B/memsync-host" --module "$B/libmemsync.so" --data "$T/data" \
    >"$T/scenario-$run.out" 2>&1 || { fail=1; echo "scenario ($run) failed under memcheck:"; tail -20 "$T/scenario-$run.out"; }
done
grep -q "resumed from committed height" "$T/scenario-resume.out" || { fail=1; echo "the second scenario run did not resume"; }

awk -f tests/valgrind/check_logs.awk "$T"/*.vg || fail=1
exit $fail
