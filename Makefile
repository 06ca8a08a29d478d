# The project's commands. `make demo` and `make test` work on a fresh Debian 12
# machine: they install what is missing, configure, build and run.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench bench-pg soak soak-load fuzz sanitize tsan format clean package

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

# The Debian package, $(BUILD_DIR)/cbx_<version>-<revision>_amd64.deb
# (packaging/), then lintian on it: errors fail the target. The package is
# laid out for prefix /usr, which the build folder is set to first.
package: build
	cmake -S . -B $(BUILD_DIR) -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	cd $(BUILD_DIR) && cpack -G DEB
	@deb="$$(ls -t $(BUILD_DIR)/cbx_*_amd64.deb | head -n 1)"; \
	  echo "lintian $$deb"; lintian --fail-on error --display-info "$$deb"

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

bench: build
	@bash scripts/bench.sh $(BUILD_DIR)

# PostgreSQL vs SQLite in one run, as one table (scripts/bench-pg.sh):
# durable audit appends per second, office query p50/p99, and an
# active/standby pair's failover times; each benchmark starts its own
# throwaway PostgreSQL cluster. Several minutes; not part of `make test`.
bench-pg: build
	@bash scripts/bench-pg.sh $(BUILD_DIR)

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

# Sanitizers (README "Sanitizers"), each in its own build folder, with the
# test harness's deadlines scaled by CBX_TEST_TIME_SCALE. Every report of
# the test binaries and of the cbx-node processes they start is written to
# <build>/sanitizer-logs/; the target fails if any is there.
# `make sanitize`: ASan + UBSan (+ LeakSanitizer) over the whole suite.
# `make tsan`: ThreadSanitizer over the tests labelled tsan (the node's,
# the audit log's and storage's unit tests and seven integration suites,
# tests/integration/CMakeLists.txt). -O1 -g1 to shorten the cold build;
# benchmarks are not built. SAN_TIME_SCALE also multiplies each test's
# ctest TIMEOUT (CMake's CBX_TEST_TIME_SCALE).
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
SAN_TIME_SCALE ?= 4
SAN_CMAKE_FLAGS = -DCBX_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCBX_TEST_TIME_SCALE=$(SAN_TIME_SCALE) \
	"-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
	"-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
SAN_DIR_SUPP = $(CURDIR)/sanitizers
# The binaries of the tests labelled tsan.
TSAN_TARGETS = cbx_node_test cbx_audit_test cbx_storage_test \
	cbx_federation_test cbx_node_crash_test cbx_witness_test \
	cbx_index_caps_test cbx_tls_reload_test cbx_oprf_rotation_test \
	cbx_token_node_test cbx_tsan_canary cbx_node_console_test \
	cbx_node_admin_test cbx_console_test

sanitize: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCBX_SANITIZE=address,undefined \
		$(SAN_CMAKE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j $(JOBS)
	rm -rf $(ASAN_DIR)/sanitizer-logs && mkdir -p $(ASAN_DIR)/sanitizer-logs
	cd $(ASAN_DIR) && CBX_TEST_TIME_SCALE=$(SAN_TIME_SCALE) \
	  ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_DIR)/sanitizer-logs/asan:detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
	  LSAN_OPTIONS=suppressions=$(SAN_DIR_SUPP)/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_DIR)/sanitizer-logs/ubsan:print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800; \
	  rc=$$?; cd $(CURDIR) && bash sanitizers/findings.sh $(ASAN_DIR)/sanitizer-logs && exit $$rc

tsan: deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCBX_SANITIZE=thread \
		$(SAN_CMAKE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TARGETS)
	rm -rf $(TSAN_DIR)/sanitizer-logs && mkdir -p $(TSAN_DIR)/sanitizer-logs
	cd $(TSAN_DIR) && CBX_TEST_TIME_SCALE=$(SAN_TIME_SCALE) \
	  TSAN_OPTIONS=log_path=$(CURDIR)/$(TSAN_DIR)/sanitizer-logs/tsan:suppressions=$(SAN_DIR_SUPP)/tsan.supp:ignore_noninstrumented_modules=1:second_deadlock_stack=1:history_size=4 \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800 -L '^tsan$$'; \
	  rc=$$?; cd $(CURDIR) && bash sanitizers/findings.sh $(TSAN_DIR)/sanitizer-logs && exit $$rc

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
