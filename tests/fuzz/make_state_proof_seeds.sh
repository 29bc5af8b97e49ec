#!/bin/sh
# Rewrites tests/fuzz/corpus/fuzz_state_proof/ from real bundles: plays the
# reference host scenario into a scratch store, then asks the module for
# bundles with `memsync-operator prove` (asset heads, retained, pruned and
# shredded versions, a never-created asset, a version past the head, an older
# height). Each seed is [mode 0x01 = trust the bundle's own pair][bundle].
# Usage (from the repository root, after `make`): sh tests/fuzz/make_state_proof_seeds.sh
set -eu
B=${1:-build}
OUT=tests/fuzz/corpus/fuzz_state_proof
T=$(mktemp -d "${TMPDIR:-/tmp}/ms-proof-seeds-XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
"$B/memsync-host" --module "$B/libmemsync.so" --data "$T/a" >"$T/host.txt" 2>&1
ids=$(grep -o 'assetId=0x[0-9a-f]\{64\}' "$T/host.txt" | cut -d= -f2 | sort -u)
rm -rf "$OUT"
mkdir -p "$OUT"
n=0
seed() {  # name, prove arguments...
  name=$1
  shift
  "$B/memsync-operator" prove --module "$B/libmemsync.so" --data "$T/a" --out "$T/bundle" "$@" >/dev/null
  { printf '\001'; cat "$T/bundle"; } >"$OUT/$name"
  n=$((n + 1))
}
i=0
for id in $ids; do
  i=$((i + 1))
  seed "head$i" --asset "$id"
  seed "head${i}_h3" --asset "$id" --height 3
  for v in 1 2 3 4 5 6 7; do seed "asset${i}_v$v" --asset "$id" --version "$v"; done
  seed "asset${i}_v99" --asset "$id" --version 99
done
seed never_created --asset 0x00000000000000000000000000000000000000000000000000000000000000aa
seed never_created2 --asset 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
echo "wrote $n seeds into $OUT"
