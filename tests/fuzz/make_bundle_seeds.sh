#!/bin/sh
# Rewrites tests/fuzz/corpus/fuzz_bundle/ from real bundles written by the
# owner's CLI (build/memsync) on a local module instance: a memory with one
# version, one with four versions and two grants, and the same after a
# revocation (a key rotation) and a fifth version. Each carries a state
# proof (the --node backend adds one). Usage (from the repository root,
# after `make build/memsync`): sh tests/fuzz/make_bundle_seeds.sh
set -eu
B=$(cd "${1:-build}" && pwd)
OUT=tests/fuzz/corpus/fuzz_bundle
T=$(mktemp -d "${TMPDIR:-/tmp}/ms-bundle-seeds-XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
export MEMSYNC_PASSPHRASE="fuzz seeds"
export MEMSYNC_MODULE="$B/libmemsync.so"
M="$B/memsync"
N="--node $T/node"
for u in a b c; do "$M" keygen --home "$T/$u" --fast-kdf >"$T/$u.txt"; done
field() { awk -v k="$1" '$1 == k {print $2; exit}' "$2"; }
rm -rf "$OUT"
mkdir -p "$OUT"

printf 'one version\n' >"$T/p1"
"$M" push --home "$T/a" $N --salt 0x0101010101010101010101010101010101010101010101010101010101010101 --in "$T/p1" >"$T/out"
A1=$(field asset "$T/out")
"$M" export --home "$T/a" $N --asset "$A1" --out "$OUT/one_version" >/dev/null

"$M" push --home "$T/a" $N --salt 0x0202020202020202020202020202020202020202020202020202020202020202 --in "$T/p1" >"$T/out"
A2=$(field asset "$T/out")
for i in 2 3 4; do printf 'version %s\n' "$i" >"$T/p"; "$M" push --home "$T/a" $N --asset "$A2" --in "$T/p" >/dev/null; done
"$M" grant --home "$T/a" $N --asset "$A2" --grantee "$(field address "$T/b.txt")" --grantee-key "$(field x25519 "$T/b.txt")" >/dev/null
"$M" grant --home "$T/a" $N --asset "$A2" --grantee "$(field address "$T/c.txt")" --grantee-key "$(field x25519 "$T/c.txt")" --write >/dev/null
"$M" export --home "$T/a" $N --asset "$A2" --out "$OUT/grants" >/dev/null
"$M" revoke --home "$T/a" $N --asset "$A2" --grantee "$(field address "$T/b.txt")" >/dev/null
printf 'after rotation\n' >"$T/p"
"$M" push --home "$T/a" $N --asset "$A2" --in "$T/p" >/dev/null
"$M" export --home "$T/a" $N --asset "$A2" --out "$OUT/rotated" >/dev/null
echo "fuzz_bundle seeds: $(ls "$OUT" | wc -l) in $OUT"
