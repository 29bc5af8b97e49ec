#!/bin/sh
# Build the libFuzzer harnesses into build/fuzz/ and run each for a bounded
# time. Usage (from the repository root):
#   sh tests/fuzz/run.sh [seconds-per-harness] [harness...]
# Defaults: 20 seconds, every harness. Needs clang 14 and libclang-rt-14-dev.
# The committed seeds are copied into the working corpus build/fuzz/corpus/
# <harness>/ first (it keeps growing across runs), so a run never modifies
# tests/fuzz/corpus/. Exits non-zero if any harness crashed (reproducers are
# left in build/fuzz/crashes/<harness>/).
set -u
cd "$(dirname "$0")/../.." || exit 2

SECS=${1:-20}
[ $# -gt 0 ] && shift
HARNESSES=${*:-"fuzz_abi_decode fuzz_envelope fuzz_signature fuzz_call fuzz_state_proof fuzz_bundle fuzz_memory fuzz_mcp"}

CC=${FUZZ_CC:-clang}
OUT=build/fuzz
WARN="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla"
DEFS="-I. -Imodule -Itests/fuzz -D_POSIX_C_SOURCE=200809L -DMS_BUILDING_MODULE"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
OPT="-O1 -g"
LIBS="-lsecp256k1 -lrocksdb"

mkdir -p "$OUT/obj" || exit 2

# The library once, with coverage instrumentation but without libFuzzer's main.
objs=""
for src in abi/*.c crypto/*.c storage/*.c module/*.c; do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find abi crypto storage module -name '*.h' -newer "$obj" | head -1)" ]; then
    $CC $WARN $DEFS $OPT $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 2
  fi
  objs="$objs $obj"
done

# The owner's device library (not part of the module), with its memory
# documents (device/memory/), for fuzz_bundle and fuzz_memory.
devobjs=""
for src in device/*.c device/memory/*.c; do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find device crypto abi -name '*.h' -newer "$obj" | head -1)" ]; then
    $CC $WARN $DEFS $OPT $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 2
  fi
  devobjs="$devobjs $obj"
done

# The MCP server's line handler and tools (tools/memsync/mcp/, without its
# CLI entry cmd_mcp.c, which needs memstore), for fuzz_mcp.
mcpobjs=""
for src in $(ls tools/memsync/mcp/*.c | grep -v '/cmd_mcp\.c$'); do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find device tools/memsync -name '*.h' -newer "$obj" | head -1)" ]; then
    $CC $WARN $DEFS -Itools/host $OPT $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 2
  fi
  mcpobjs="$mcpobjs $obj"
done

# Extra harness sources and libraries beyond tests/fuzz/<harness>.c.
extra() {
  case "$1" in
    fuzz_call) echo tests/fuzz/call_gen.c ;;
    fuzz_bundle) echo "$devobjs -lsodium -ljansson -lz" ;;
    fuzz_memory) echo "$devobjs -lsodium -ljansson -lz" ;;
    fuzz_mcp) echo "$mcpobjs $devobjs -lsodium -ljansson -lz" ;;
  esac
}

for h in $HARNESSES; do
  $CC $WARN $DEFS $OPT $SAN -fsanitize=fuzzer -o "$OUT/$h" "tests/fuzz/$h.c" $(extra "$h") $objs $LIBS || exit 2
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ms-fuzz-XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT INT TERM
passed=0
failed=0
for h in $HARNESSES; do
  mkdir -p "$OUT/corpus/$h" "$scratch/tmp" "$OUT/crashes/$h"
  [ -d "tests/fuzz/corpus/$h" ] && cp -R "tests/fuzz/corpus/$h/." "$OUT/corpus/$h/"
  # Known reproducers first: each must now run clean.
  if [ -d "tests/fuzz/regressions/$h" ] && [ -n "$(ls -A "tests/fuzz/regressions/$h")" ]; then
    if ! TMPDIR="$scratch/tmp" "$OUT/$h" -runs=0 tests/fuzz/regressions/"$h"/* >"$scratch/$h.reg.log" 2>&1; then
      failed=$((failed + 1))
      echo "$h: a regression input fails again; log tail:"
      tail -n 40 "$scratch/$h.reg.log"
      continue
    fi
  fi
  echo "== $h: $SECS s"
  dict=tests/fuzz/memsync.dict
  [ -f "tests/fuzz/$h.dict" ] && dict="tests/fuzz/$h.dict"
  # One process at a time (-jobs unset); leaks fail a run like any crash.
  TMPDIR="$scratch/tmp" ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$OUT/$h" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -dict="$dict" -artifact_prefix="$OUT/crashes/$h/" \
      "$OUT/corpus/$h" >"$scratch/$h.log" 2>&1
  rc=$?
  cp "$scratch/$h.log" "$OUT/$h.log"
  grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|SUMMARY|invariant violated' \
    "$scratch/$h.log"
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "$h FAILED (exit $rc); log tail:"
    tail -n 40 "$scratch/$h.log"
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
