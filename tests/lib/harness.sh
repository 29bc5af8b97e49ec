# Shared by the shell suites of the `memsync` tool (tests/cli/run.sh,
# tests/memory/run.sh); sourced, not run. Before sourcing, the suite sets
# NAME (its scratch folder's prefix) and PASSPHRASE; its first argument is
# the build folder. It gives: B, ROOT, M (the memsync binary), T (a scratch
# folder removed at exit), LOG (every output of `run`), PASS and FAIL with
# ok, bad and run, field, and the dev chain of `make run` on a free port.
set -u
B=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M="$B/memsync"
T=$(mktemp -d "/tmp/$NAME.XXXXXX")
LOG="$T/all.log"
DEVPID=""
cleanup() {
    [ -n "$DEVPID" ] && kill "$DEVPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
export MEMSYNC_PASSPHRASE="$PASSPHRASE"
export MEMSYNC_MODULE="$B/libmemsync.so"
unset MEMSYNC_HOME
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }

# run EXPECTED_EXIT description -- command...: outputs in $T/out and $T/err, and in the log.
run() {
    want=$1; what=$2; shift 3
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    cat "$T/out" "$T/err" >>"$LOG"
    if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, expected $want: $(head -c 600 "$T/err")"; fi
}

# field KEY FILE: the second word of the first line whose first word is KEY.
field() { awk -v k="$1" '$1 == k {print $2; exit}' "$2"; }

# 0 when node and the adapter's packages are there to run the dev chain.
have_devchain() {
    [ -f "$ROOT/adapters/ethereumjs/bin/devchain.js" ] && command -v node >/dev/null &&
        [ -d "$ROOT/adapters/ethereumjs/node_modules" ]
}

# Start the dev chain on a free port: 0 with URL set and the dev accounts'
# keys in $T/keys, one a line; 1 when it did not come up.
# The first local URL a starting server printed to FILE, looked for TRIES
# times DELAY seconds apart; empty when none came.
wait_url() {
    _u=""
    for _ in $(seq 1 "$2"); do
        _u=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$1" | head -1)
        [ -n "$_u" ] && break
        sleep "$3"
    done
    printf '%s' "$_u"
}

start_devchain() {
    MEMSYNC_LIBRARY="$B/libmemsync.so" node "$ROOT/adapters/ethereumjs/bin/devchain.js" --port 0 --data "$T/chain" \
        --chain-id 31337 >"$T/dev.out" 2>&1 &
    DEVPID=$!
    URL=$(wait_url "$T/dev.out" 150 0.2)
    grep -Eo 'key 0x[0-9a-fA-F]{64}' "$T/dev.out" | cut -c5- >"$T/keys"
    [ -n "$URL" ] && [ -s "$T/keys" ]
}

stop_devchain() {
    kill "$DEVPID" 2>/dev/null
    wait "$DEVPID" 2>/dev/null
    DEVPID=""
}
