# MemSync precompile module.
#   make            build build/libmemsync.so (+ static library)
#   make run        the local dev chain on 127.0.0.1:8545 (state in ./data)
#   make scenario   build and play the reference host scenario in ./data
#   make test       unit, host and sanitizer tests, plus the independent vectors
#   make bench      gas per second of every function (fails below 60 Mgas/s)
#   make install    PREFIX=/usr/local
# Missing Debian packages are installed on first use (needs root).

CC       ?= gcc
PREFIX   ?= /usr/local
DATA     ?= ./data
BUILD    := build
VERSION  := 1.0.0
SOMAJOR  := 1

DEB_PKGS := libsecp256k1-dev librocksdb-dev libsodium-dev libcriterion-dev pkg-config clang libclang-rt-14-dev valgrind \
            libjansson-dev zlib1g-dev jq

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CPPFLAGS := -I. -Imodule -D_POSIX_C_SOURCE=200809L
CFLAGS   ?= -O2 -g
LIB_LIBS := -lsecp256k1 -lrocksdb

# Consensus code: everything directly under these folders goes into the module.
LIB_SRC  := $(sort $(wildcard abi/*.c crypto/*.c storage/*.c module/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)

# The tree tests take their naive reference root from the operator tool
# (tools/operator/naive_root.c), which shares nothing with storage/smt.c.
UNIT_SRC := $(sort $(wildcard tests/unit/*.c)) tools/operator/naive_root.c
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

SO       := $(BUILD)/libmemsync.so
SONAME   := libmemsync.so.$(SOMAJOR)
AR_LIB   := $(BUILD)/libmemsync.a

.PHONY: bench all deps run test test-unit test-asan test-tsan test-host test-exports test-vectors vectors install clean
.DEFAULT_GOAL := all

all: deps $(SO) $(AR_LIB) $(BUILD)/memsync-host $(BUILD)/memsync-operator

# ------------------------------------------------------------ dependencies
# A stamp so the dpkg check runs once per build tree, not per target.
$(BUILD)/.deps:
	@mkdir -p $(BUILD)
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@touch $@

deps: $(BUILD)/.deps

# ------------------------------------------------------------------ library
$(BUILD)/obj/%.o: %.c $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMS_BUILDING_MODULE $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMS_BUILDING_MODULE -DMS_TEST_BUILD $(WARN) -O1 -g $(SAN) -fPIC -MMD -MP -c $< -o $@

$(SO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -Wl,-z,defs -o $(SO).$(VERSION) $^ $(LIB_LIBS)
	ln -sf libmemsync.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libmemsync.so.$(VERSION) $(SO)

$(AR_LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The reference host loads the .so at run time through the public header only.
# As a client it compiles in the codec sources (Keccak, ABI encoder, EIP-712),
# never module/ or storage/; libsodium encrypts, libsecp256k1 signs.
$(BUILD)/memsync-host: tools/host/*.c tools/host/*.h abi/keccak.c abi/abi_encode.c crypto/eip712.c \
                       abi/keccak.h abi/abi_encode.h crypto/eip712.h crypto/envelope.h abi/selectors.h \
                       module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -Itools/host -o $@ $(filter %.c,$^) -ldl -lsecp256k1 -lsodium

# The reference host scenario (the former `make run`).
.PHONY: scenario
scenario: all
	$(BUILD)/memsync-host --module $(SO) --data $(DATA)

# -------------------------------------------------------------------- tests
$(BUILD)/tests/unit: $(UNIT_SRC) $(LIB_OBJ) tests/unit/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(WARN) $(CFLAGS) -o $@ $(UNIT_SRC) $(LIB_OBJ) $(LIB_LIBS) -lcriterion

$(BUILD)/tests/unit-asan: $(UNIT_SRC) $(ASAN_OBJ) tests/unit/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMS_TEST_BUILD -Itests/unit $(WARN) -O1 -g $(SAN) -o $@ $(UNIT_SRC) $(ASAN_OBJ) $(LIB_LIBS) -lcriterion

$(BUILD)/tests/host: tests/host/test_host.c module/memsync.h $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/host/test_host.c -ldl -lcriterion

# The resource-limit tests replace malloc for their whole binary (a counting
# allocator), so they get a binary of their own, run one test at a time.
$(BUILD)/tests/limits: tests/limits/test_resource_limits.c tests/unit/call_fixture.c $(LIB_OBJ) tests/unit/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(WARN) $(CFLAGS) -o $@ tests/limits/test_resource_limits.c tests/unit/call_fixture.c \
	  $(LIB_OBJ) $(LIB_LIBS) -lcriterion

test-unit: $(BUILD)/tests/unit $(BUILD)/tests/limits
	$(BUILD)/tests/unit -j2
	$(BUILD)/tests/limits -j1

test-asan: $(BUILD)/tests/unit-asan
	sh tests/run_sanitized.sh $(BUILD)/tests/unit-asan -j2

# The state tree's two hashing threads under ThreadSanitizer (issue 15).
TSAN_SRC := tests/tsan/smt_threads.c abi/keccak.c abi/keccak_batch.c storage/kv.c storage/records.c storage/smt.c storage/smt_apply.c storage/rec_slab.c \
            crypto/smt_verify.c
$(BUILD)/tests/tsan-smt: $(TSAN_SRC) storage/*.h bench/bench_dirs.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMS_TEST_BUILD $(WARN) -O1 -g -fsanitize=thread -o $@ $(TSAN_SRC) -lrocksdb -lpthread

# A block commit's second thread outside the tree (storage/block.c).
TSAN_COMMIT_SRC := tests/tsan/commit_threads.c $(wildcard storage/*.c) abi/keccak.c abi/keccak_batch.c abi/abi_encode.c \
                   crypto/smt_verify.c
$(BUILD)/tests/tsan-commit: $(TSAN_COMMIT_SRC) storage/*.h bench/bench_dirs.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMS_TEST_BUILD $(WARN) -O1 -g -fsanitize=thread -o $@ $(TSAN_COMMIT_SRC) -lrocksdb -lpthread

test-tsan: $(BUILD)/tests/tsan-smt $(BUILD)/tests/tsan-commit
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(abspath tests/tsan/rocksdb.supp)" $(BUILD)/tests/tsan-smt
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(abspath tests/tsan/rocksdb.supp)" $(BUILD)/tests/tsan-commit

test-host: $(BUILD)/tests/host $(BUILD)/memsync-host
	MS_TEST_MODULE=$(abspath $(SO)) MS_TEST_HOST=$(abspath $(BUILD)/memsync-host) $(BUILD)/tests/host -j1

test-exports: $(SO)
	sh tests/check_exports.sh $(SO)

# Crash safety (issue 3): a host process is SIGKILLed during block commits and
# rollbacks; each time the reopened store must be exactly at a committed block.
CRASH_SRC := $(sort $(wildcard tests/crash/*.c)) tools/host/loader.c tools/host/calldata.c \
             tools/host/device.c abi/keccak.c abi/abi_encode.c crypto/eip712.c
$(BUILD)/tests/crash: $(CRASH_SRC) tests/crash/*.h tools/host/*.h abi/keccak.h abi/abi_encode.h abi/selectors.h \
                      crypto/eip712.h crypto/envelope.h module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $(CRASH_SRC) -ldl -lsecp256k1 -lsodium

.PHONY: test-crash
test-crash: $(BUILD)/tests/crash $(SO)
	$(BUILD)/tests/crash --kills 200 $(SO)

# Independent vectors: node + ethers + solc, pinned by tools/vectors/package-lock.json.
tools/vectors/node_modules/.ok: tools/vectors/package.json tools/vectors/package-lock.json
	cd tools/vectors && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

test-vectors: tools/vectors/node_modules/.ok
	cd tools/vectors && node check.mjs
	cd tools/vectors && node smt_reference.mjs --check

vectors: tools/vectors/node_modules/.ok
	cd tools/vectors && node generate.mjs
	cd tools/vectors && node smt_reference.mjs

test: all test-exports test-vectors test-unit test-host test-asan test-tsan test-crash test-replay test-fuzz test-operator test-device test-memory test-valgrind test-ctime test-evm test-cli test-memory-cli test-mcp test-testnet
	@echo "make test: all suites passed"

# ---------------------------------------------------------- device library
# The owner's device (issue 5): identity, key file, envelopes, grants and
# EIP-712 signing, with libsodium and libsecp256k1 (spec/device.md). Never part
# of the module: device/ is outside LIB_SRC, so the decrypting half stays out
# of libmemsync.so. The shared codec sources are compiled again here, without
# the module's visibility flags.
DEV_SRC  := $(sort $(wildcard device/*.c device/memory/*.c)) abi/keccak.c abi/abi_encode.c crypto/eip712.c crypto/envelope.c \
            crypto/state_proof.c crypto/smt_verify.c crypto/signature.c crypto/version_hash.c
DEV_OBJ  := $(DEV_SRC:%.c=$(BUILD)/device/obj/%.o)
DEV_LIB  := $(BUILD)/libmemsync-device.a
DEV_LIBS := -lsodium -lsecp256k1 -ljansson -lz

$(BUILD)/device/obj/%.o: %.c $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(DEV_LIB): $(DEV_OBJ)
	rm -f $@
	ar rcs $@ $^

# Criterion tests of the device library (tests/device/test_*.c), the driver of
# the interoperability check, and the check itself: node with @noble/ciphers,
# @noble/curves and @noble/hashes pinned by tests/device/interop/package-lock.json.
# Not in `make test` yet; run `make test-device`.
DEV_TEST_SRC := $(sort $(wildcard tests/device/test_*.c))

$(BUILD)/tests/device: $(DEV_TEST_SRC) tests/device/*.h device/*.h crypto/signature.c crypto/signature.h $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $(DEV_TEST_SRC) crypto/signature.c $(DEV_LIB) $(DEV_LIBS) -lcriterion

$(BUILD)/tests/device-interop: tests/device/interop_driver.c device/memsync_device.h $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/device/interop_driver.c $(DEV_LIB) $(DEV_LIBS)

tests/device/interop/node_modules/.ok: tests/device/interop/package.json tests/device/interop/package-lock.json
	cd tests/device/interop && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: test-device
test-device: $(SO) $(BUILD)/tests/device $(BUILD)/tests/device-interop tests/device/interop/node_modules/.ok
	MSD_TEST_MODULE=$(abspath $(SO)) $(BUILD)/tests/device -j2
	cd tests/device/interop && node interop.mjs $(abspath $(BUILD)/tests/device-interop)

# ------------------------------------------------------------- memsync CLI
# tools/memsync: the owner's command line (issue 5): keys, envelopes, EIP-712
# signatures, grants and rotation, portable bundles, and the chain commands
# over JSON-RPC (--rpc) or a local module instance (--node, the .so loaded
# through module/memsync.h like tools/host). Linked with libmemsync-device.a.
# tests/cli/run.sh: round trips, exit codes, revocation, export/import,
# every-byte bundle tampering, secret grep, the .so's symbol table; and the
# dev chain (adapters/ethereumjs/bin/devchain.js) on a free port (MEMSYNC_REQUIRE_CHAIN=1:
# make test fails rather than skip it).
CLI_SRC := $(sort $(wildcard tools/memsync/*.c tools/memsync/mcp/*.c)) tools/host/loader.c tools/host/decode.c tools/host/calldata.c \
           tools/host/text.c

$(BUILD)/memsync: $(CLI_SRC) $(wildcard tools/memsync/*.h tools/memsync/mcp/*.h device/memory/*.h) tools/host/loader.h tools/host/decode.h \
                  tools/host/calldata.h tools/host/text.h device/memsync_device.h module/memsync.h $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -Itools/host -o $@ $(CLI_SRC) $(DEV_LIB) $(DEV_LIBS) -ldl

$(BUILD)/tests/cli-secrets: tests/cli/secrets.c device/internal.h $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/cli/secrets.c $(DEV_LIB) $(DEV_LIBS)

.PHONY: test-cli
test-cli: $(SO) $(BUILD)/memsync $(BUILD)/memsync-operator $(BUILD)/tests/cli-secrets adapters/ethereumjs/node_modules/.ok
	MEMSYNC_REQUIRE_CHAIN=1 sh tests/cli/run.sh $(BUILD)

# ------------------------------------------------------------ memory documents
# The owner's memory (issue 11): the memsync.memory/1 document library in
# device/memory/ (spec/memory.md), its Criterion suite with the merge property
# tests (tests/memory/test_*.c; MSD_TEST_SEED=N replays a seed), and the
# memory commands end to end, on --node and on the dev chain
# (tests/memory/run.sh).
MEM_TEST_SRC := $(sort $(wildcard tests/memory/test_*.c))

$(BUILD)/tests/memory: $(MEM_TEST_SRC) $(wildcard tests/memory/*.h) device/memory/*.h device/*.h $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/memory $(WARN) $(CFLAGS) -o $@ $(MEM_TEST_SRC) $(DEV_LIB) $(DEV_LIBS) -lcriterion

$(BUILD)/tests/memory-asan: $(MEM_TEST_SRC) $(wildcard tests/memory/*.h) device/memory/*.h device/*.h $(DEV_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/memory $(WARN) -O1 -g $(SAN) -o $@ $(MEM_TEST_SRC) $(DEV_SRC) $(DEV_LIBS) -lcriterion

.PHONY: test-memory test-memory-cli
test-memory: $(BUILD)/tests/memory $(BUILD)/tests/memory-asan
	$(BUILD)/tests/memory -j2
	sh tests/run_sanitized.sh $(BUILD)/tests/memory-asan -j2

test-memory-cli: $(SO) $(BUILD)/memsync adapters/ethereumjs/node_modules/.ok
	MEMSYNC_REQUIRE_CHAIN=1 sh tests/memory/run.sh $(BUILD)

# ------------------------------------------------------------------ memsync mcp
# The MCP server (issue 12), driven by the official TypeScript SDK and checked
# line by line against the MCP JSON schemas with ajv (tests/mcp/, pinned by
# tests/mcp/package-lock.json; the schemas come from ../shared/mcp-schema or
# MCP_SCHEMA_DIR).
tests/mcp/node_modules/.ok: tests/mcp/package.json tests/mcp/package-lock.json
	cd tests/mcp && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: test-mcp
test-mcp: $(SO) $(BUILD)/memsync tests/mcp/node_modules/.ok adapters/ethereumjs/node_modules/.ok
	cd tests/mcp && MEMSYNC_BIN=$(abspath $(BUILD)/memsync) MEMSYNC_MODULE=$(abspath $(SO)) node --test --test-concurrency=1 *.test.mjs

# --------------------------------------------------------------- benchmarks
# Through the public header: the .so is loaded with dlopen. Fails below 60 Mgas/s,
# and when commit_block or the signed append with its block write misses
# issue 15's target in most rounds.
# RocksDB and libsecp256k1 are called directly for the physical limit of a signed append.
$(BUILD)/bench: bench/bench.c abi/keccak.c abi/abi_encode.c crypto/eip712.c module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -o $@ $(filter %.c,$^) -ldl -lsecp256k1 -lrocksdb

# The state tree's per-write root update at 1 thousand, 100 thousand, 1
# million and 10 million entries (issue 15: in blocks of 1,000 writes, 1M
# within 2x of 1k and of its Keccak work alone, by the majority of rounds)
# and the peak memory; storage internals, so linked from the sources.
$(BUILD)/bench_smt: bench/bench_smt.c abi/keccak.c abi/keccak_batch.c storage/key_sort.c storage/kv.c storage/records.c storage/smt.c storage/smt_apply.c storage/rec_slab.c crypto/smt_verify.c \
                    storage/journal.h storage/key_sort.h storage/kv.h storage/smt.h storage/smt_internal.h storage/state.h bench/bench_rounds.h bench/bench_dirs.h abi/keccak.h module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -o $@ $(filter %.c,$^) -lrocksdb -lpthread

# Where commit_block's time goes per write (issue 15): undo record, encoding,
# tree, synced write, against a synced RocksDB batch of the same records;
# storage internals, so linked from the sources. Reports only (bench gates).
$(BUILD)/bench_commit: bench/bench_commit.c $(wildcard storage/*.c) abi/keccak.c abi/keccak_batch.c abi/abi_encode.c crypto/smt_verify.c \
                       $(wildcard storage/*.h) bench/bench_rounds.h bench/bench_dirs.h module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -o $@ $(filter %.c,$^) -ljansson -lrocksdb -lpthread

# The owner's memory (issue 11): recall over 5,000 facts (decrypt, parse,
# rank) and the merge of two 5,000-fact documents, in milliseconds.
$(BUILD)/bench_memory: bench/bench_memory.c device/memory/*.h $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -o $@ bench/bench_memory.c $(DEV_LIB) $(DEV_LIBS)

# Every benchmark runs even when an earlier one misses a target; the run
# fails at the end if any did (each gates by the majority of its rounds).
# The state trees of bench_smt (1k to 10M entries) are kept in
# $(BUILD)/bench-trees: the first run builds the 10M tree (several minutes,
# a few GB), later runs reuse it.
bench: $(SO) $(BUILD)/bench $(BUILD)/bench_smt $(BUILD)/bench_commit $(BUILD)/bench_memory $(BUILD)/bench_keccak \
       $(BUILD)/memsync adapters/ethereumjs/node_modules/.ok tests/mcp/node_modules/.ok
	@failed=""; \
	$(BUILD)/bench_keccak || failed="$$failed bench_keccak"; \
	$(BUILD)/bench_memory --json $(BUILD)/bench-memory.json || failed="$$failed bench_memory"; \
	(cd tests/mcp && MEMSYNC_BIN=$(abspath $(BUILD)/memsync) node bench_mcp.mjs $(abspath $(BUILD))/bench-mcp.json) || failed="$$failed bench_mcp"; \
	$(BUILD)/bench $(SO) $(BUILD)/bench.json || failed="$$failed bench"; \
	$(BUILD)/bench_smt --keep $(BUILD)/bench-trees --json $(BUILD)/bench-smt.json || failed="$$failed bench_smt"; \
	$(BUILD)/bench_commit --json $(BUILD)/bench-commit.json || failed="$$failed bench_commit"; \
	(cd adapters/ethereumjs && MEMSYNC_LIBRARY=$(abspath $(SO)) node bench/side_by_side.mjs $(abspath $(BUILD))/bench-evm.json) || failed="$$failed side_by_side"; \
	if [ -n "$$failed" ]; then echo "make bench: targets missed in:$$failed"; exit 1; fi; \
	echo "make bench: every target met"

# Report only: ns per hash of each Keccak implementation this CPU has.
$(BUILD)/bench_keccak: bench/bench_keccak.c abi/keccak.c abi/keccak_batch.c abi/keccak.h abi/keccak_batch.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -o $@ bench/bench_keccak.c abi/keccak.c abi/keccak_batch.c

# ------------------------------------------------------ multi-validator replay
# tools/replay: seeded block streams on N validators (separate processes and
# data directories), conformance vectors in spec/vectors/conformance. Loads the
# .so through the public header; not part of `make test` (run test-replay).
REPLAY_SRC := $(wildcard tools/replay/*.c) tools/host/loader.c tools/host/device.c tools/host/decode.c \
              abi/keccak.c abi/abi_encode.c crypto/eip712.c
REPLAY_BLOCKS ?= 40000

$(BUILD)/memsync-replay: $(REPLAY_SRC) $(wildcard tools/replay/*.h) tools/host/loader.h tools/host/device.h \
                         tools/host/decode.h abi/keccak.h abi/abi_encode.h crypto/eip712.h crypto/envelope.h \
                         abi/selectors.h module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $(REPLAY_SRC) -ldl -lsecp256k1 -lsodium

.PHONY: test-replay soak conformance-vectors
test-replay: $(SO) $(BUILD)/memsync-replay
	$(BUILD)/memsync-replay --validators 3 --blocks $(REPLAY_BLOCKS) --seed 0x5eed $(SO)
	$(BUILD)/memsync-replay --vectors spec/vectors/conformance $(SO)

soak: $(SO) $(BUILD)/memsync-replay
	$(BUILD)/memsync-replay --validators 3 --blocks $${BLOCKS:-200000} --seed $${SEED:-0x50a4} --progress $(SO)

# Regenerate the conformance vectors (and COVERAGE.md) with the current build,
# e.g. after a change of the state root; then commit spec/vectors/conformance.
conformance-vectors: $(SO) $(BUILD)/memsync-replay
	$(BUILD)/memsync-replay --emit-vectors spec/vectors/conformance $(SO)

# ------------------------------------------------------------------ fuzzing
# libFuzzer harnesses (clang, ASan, UBSan) for the ABI decoder, the envelope,
# signatures, the whole call entry, the state proof verifier, the owner's
# bundle parser, the memory document parser and the MCP server's line
# handler. make test runs each for FUZZ_SECONDS (60: about 9 minutes for the
# eight harnesses, build included); `make fuzz FUZZ_SECONDS=3600` runs them as long as asked.
FUZZ_SECONDS ?= 60
.PHONY: fuzz test-fuzz
fuzz test-fuzz: $(BUILD)/.deps
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# ------------------------------------------------------------ operator tool
# tools/operator: status, verify, prove, verify-proof, snapshot export/import,
# vectors, config check (issues 3 and 6). Loads the .so like a node for the
# module's own answers; reads and writes the store through storage/ for the
# raw checks and snapshots (never while a node holds the directory).
OPERATOR_SRC := $(sort $(wildcard tools/operator/*.c)) tools/host/loader.c tools/host/decode.c tools/host/device.c \
                tools/host/text.c \
                tools/replay/vectors.c tools/replay/json.c tools/replay/stream.c \
                crypto/state_proof.c crypto/smt_verify.c crypto/eip712.c abi/keccak.c abi/keccak_batch.c abi/abi_encode.c \
                storage/kv.c storage/records.c storage/smt.c storage/smt_apply.c storage/rec_slab.c storage/undo.c

$(BUILD)/memsync-operator: $(OPERATOR_SRC) $(wildcard tools/operator/*.h) tools/host/*.h tools/replay/*.h \
                           crypto/state_proof.h crypto/smt_verify.h storage/kv.h storage/records.h storage/smt.h \
                           storage/undo.h abi/keccak.h module/memsync.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $(OPERATOR_SRC) -ldl -lrocksdb -lsecp256k1 -lsodium

.PHONY: test-operator
test-operator: $(SO) $(BUILD)/memsync-host $(BUILD)/memsync-operator
	sh tests/operator/run.sh $(BUILD)

# ------------------------------------------------------- ethereumjs adapter
# The module as a custom precompile of @ethereumjs/vm 10 (issue 4), loaded with
# koffi through the public header; node + solc-js + ethers pinned by
# adapters/ethereumjs/package-lock.json. koffi's native binary comes from its
# npm optional dependency (@koromix/koffi-<platform>), so scripts stay off.
# Part of `make test`; `make test-evm` runs it alone, `make bench` adds the side-by-side gas table.
adapters/ethereumjs/node_modules/.ok: adapters/ethereumjs/package.json adapters/ethereumjs/package-lock.json
	cd adapters/ethereumjs && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: test-evm
test-evm: $(SO) adapters/ethereumjs/node_modules/.ok
	cd adapters/ethereumjs && MEMSYNC_LIBRARY=$(abspath $(SO)) node --test test/*.test.js

# The dev chain (issue 4): @ethereumjs/vm with the module as a precompile,
# JSON-RPC on $(RPC_HOST):$(RPC_PORT), one block per transaction, state in $(DATA)
# (chain/ and memsync/). CHAIN_ID sets the chain id of a new chain.
RPC_HOST ?= 127.0.0.1
RPC_PORT ?= 8545
run: all adapters/ethereumjs/node_modules/.ok
	MEMSYNC_LIBRARY=$(abspath $(SO)) node adapters/ethereumjs/bin/devchain.js --host $(RPC_HOST) --port $(RPC_PORT) --data $(DATA) \
	  $(if $(CHAIN_ID),--chain-id $(CHAIN_ID))

include adapters/cometbft/Makefile.inc

# ------------------------------------------------------------------ install
install: deps $(SO) $(AR_LIB)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(SO).$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libmemsync.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf libmemsync.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmemsync.so
	install -m 0644 $(AR_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 module/memsync.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' tools/memsync.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/memsync.pc

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(DEV_OBJ:.o=.d)

# ---------------------------------------------------------------- hardening
# Memcheck (issue 6): the host tests and the reference scenario with zero
# errors, zero definite/indirect/possible leaks and every still-reachable
# block explained by a library's static state (about 1 minute). And the
# constant-time check of the device library: secrets marked undefined,
# memcheck must see no branch or index on them (tests/ctime/ctime_device.c;
# library branches on public outcomes are listed in tests/valgrind/ctime.supp).
.PHONY: test-valgrind test-ctime
test-valgrind: $(BUILD)/tests/host $(BUILD)/memsync-host $(SO)
	sh tests/valgrind/run.sh $(BUILD)

CTIME_SRC := tests/ctime/ctime_device.c $(DEV_SRC)
$(BUILD)/tests/ctime_device: $(CTIME_SRC) device/*.h $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMSD_CTIME_TEST $(WARN) -O2 -g -o $@ $(CTIME_SRC) $(DEV_LIBS)

test-ctime: $(BUILD)/tests/ctime_device
	valgrind --tool=memcheck --error-exitcode=42 --track-origins=yes --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect,possible --suppressions=tests/valgrind/ctime.supp \
	  $(BUILD)/tests/ctime_device
