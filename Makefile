# Two entry points for a fresh Debian 12 machine: `make run` and `make test`.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
CONFIG ?= etc/greyflux.toml
JOBS ?= $(shell nproc)

.PHONY: all deps deps-test build run test test-long bench bench-spamd fuzz fuzz-replay-sanitize clean format

all: build

deps:
	bash scripts/deps.sh build

deps-test:
	bash scripts/deps.sh test

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

# State goes to ./var (daemon.data_dir; an installed greyflux uses /var/lib/greyflux).
run: build
	$(BUILD_DIR)/greyflux serve --config $(CONFIG) --set daemon.data_dir=var

# The fuzz corpora under ASan + UBSan first (about 8 minutes cold on a 2-core machine), then the
# whole suite (7m41s cold from a fresh clone, build included), so ctest's last summary is the suite's.
test: deps-test build
	$(MAKE) fuzz-replay-sanitize
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# Longer fault runs than `make test` has room for: 20 kill -9 under CPU contention (about 90 s on
# the 2-core machine; `make test` runs 5 of them).
test-long: deps-test build
	python3 tests/reliability/kill9_contention_test.py $(BUILD_DIR)/greyflux --runs 20

bench: build
	bash scripts/deps.sh bench
	bash bench/greylist_anchors.sh $(BUILD_DIR)
	bash bench/akismet/run.sh $(BUILD_DIR)/greyflux
	python3 bench/latency_ratios.py $(BUILD_DIR)/greyflux

bench-spamd: build
	bash scripts/deps.sh bench
	python3 bench/spamd_eval.py $(BUILD_DIR)

# The fuzz corpora replayed under ASan + UBSan (GCC): only greyflux_core, the capture readers and
# the fuzz targets are built, in build/sanitize-fuzz.
fuzz-replay-sanitize: deps
	cmake --preset sanitize-fuzz >/dev/null
	cmake --build --preset sanitize-fuzz -j $(JOBS)
	ctest --test-dir build/sanitize-fuzz -L fuzz --output-on-failure -j $(JOBS)

fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS) --target fuzzers

format:
	find src tests fuzz bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
