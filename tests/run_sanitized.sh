#!/bin/sh
# Run a sanitizer-built test binary and fail on any sanitizer report, since
# Criterion counts a forked test as passed even when LeakSanitizer or UBSan
# printed an error in it.
set -u
log=$(mktemp)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 "$@" >"$log" 2>&1
rc=$?
cat "$log"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
  echo "run_sanitized: sanitizer reported an error"; rm -f "$log"; exit 1
fi
rm -f "$log"
exit $rc
