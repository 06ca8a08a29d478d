# The project's commands. `make demo` and `make test` work on a fresh Debian 12
# machine: they install what is missing, configure, build and run.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench soak soak-load fuzz format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	@$(MAKE) --no-print-directory deps
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

bench: build
	@bash scripts/bench.sh $(BUILD_DIR)

# The crash loops, 1,000 SIGKILL cycles each (make test runs 50 and 24):
# the audit log library under concurrent appends, then a whole cbx-node
# under concurrent load (about 50 minutes on 2 cores).
soak: build
	cd $(BUILD_DIR) && CBX_AUDIT_CRASH_CYCLES=1000 ./node/audit/cbx_audit_test --gtest_filter='*Crash*'
	cd $(BUILD_DIR) && CBX_NODE_CRASH_CYCLES=1000 ./tests/integration/cbx_node_crash_test

# An hour of mixed load on five nodes (queries, case changes, index syncs,
# witness rounds, a peer restarted every 3 minutes): resident memory and
# open descriptors of the never-restarted nodes within 5% after warm-up.
soak-load: build
	cd $(BUILD_DIR) && CBX_SOAK_SECONDS=$${CBX_SOAK_SECONDS:-3600} ./tests/integration/cbx_load_soak_test

# Every libFuzzer target for FUZZ_SECONDS (default 60) each, built with clang
# in build-fuzz; new inputs go to FUZZ_OUT (/tmp/cbx-fuzz), merged into
# fuzz/corpus only with FUZZ_MERGE=1 (fuzz/README.md).
FUZZ_SECONDS ?= 60
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run_fuzzers.sh

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
