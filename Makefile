# The two commands a new user needs: `make run` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Most tests wait on processes and sockets more than they compute: twice the cores finishes the suite
# in about two thirds of the time (bench/build reports the tests' wall time).
TEST_JOBS ?= $(shell echo $$(( 2 * $$(nproc) )))
CMAKE_FLAGS ?=

.PHONY: all setup build run test test-asan bench fuzz clean

all: build

setup:
	@scripts/setup

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@scripts/run $(BUILD_DIR)

test: build
	cd $(BUILD_DIR) && ctest -j $(TEST_JOBS) --output-on-failure --timeout 300

test-asan:
	$(MAKE) test BUILD_DIR=build-asan CMAKE_FLAGS=-DSHIPGATE_SANITIZE=ON BUILD_TYPE=Debug TEST_JOBS=$(JOBS)

bench: build
	@scripts/setup --bench
	@bench/ingest $(BUILD_DIR)

# Not part of `make test`: clang + libFuzzer, FUZZ_SECONDS per target (default 60).
fuzz:
	@scripts/setup --fuzz
	@scripts/fuzz

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
