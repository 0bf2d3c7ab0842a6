# Entry points. `make demo` and `make test` work on a fresh Debian 12 machine (as root, or with sudo):
# each installs missing packages (scripts/setup), builds, and runs.
.PHONY: all deps build test test-asan fuzz fuzz-long demo bench install clean

JOBS ?= $(shell nproc)

all: build

deps:
	@scripts/setup

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# The suite, then every libFuzzer target for a few seconds (CI_FUZZ_SECONDS each; clang is installed by
# `scripts/setup fuzz`), so the parsers' fuzz targets build and run on every CI run.
CI_FUZZ_SECONDS ?= 10
test: build
	@ctest --preset release
	@scripts/setup fuzz
	@scripts/fuzz $(CI_FUZZ_SECONDS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/).
test-asan: deps
	@cmake --preset asan-ubsan >/dev/null
	@cmake --build --preset asan-ubsan -j $(JOBS)
	@ctest --preset asan-ubsan

# libFuzzer targets (clang), each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/setup fuzz
	@scripts/fuzz $(FUZZ_SECONDS)

# A campaign: every target for FUZZ_LONG_SECONDS (default ten minutes), FUZZ_JOBS at a time; the summary of
# executions per target is printed and kept in build-fuzz/summary.txt (docs/benchmarks.md records one).
FUZZ_LONG_SECONDS ?= 600
FUZZ_JOBS ?= 1
fuzz-long:
	@scripts/setup fuzz
	@FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz $(FUZZ_LONG_SECONDS)

demo: build
	@scripts/demo

bench: build
	@bench/run_all.sh

install: build
	@cmake --install build --prefix $${PREFIX:-/usr/local}

clean:
	@rm -rf build build-debug build-asan
