# The operator's and developer's entry points. `make demo` and `make test` work on a fresh Debian 12.
BUILD_DIR ?= build
DEV_DIR   ?= build-dev
JOBS      ?= 2
MAKEFLAGS += --no-print-directory
SOURCES    = $(shell git ls-files '*.cpp' '*.hpp' '*.c' 2>/dev/null)

.PHONY: all deps configure build test dev-test demo bench format lint tidy clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOS_WERROR=ON >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# Debug build with AddressSanitizer and UndefinedBehaviorSanitizer, then every test.
dev-test: deps
	@cmake -S . -B $(DEV_DIR) -DCMAKE_BUILD_TYPE=Debug -DOOS_SANITIZE=ON -DOOS_WERROR=ON >/dev/null
	@cmake --build $(DEV_DIR) -j$(JOBS)
	@ctest --test-dir $(DEV_DIR) --output-on-failure -j$(JOBS)

demo: build
	@scripts/demo $(BUILD_DIR)

bench: build
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target oos-bench bench-reference
	@bench/run $(BUILD_DIR)

format:
	@clang-format -i $(SOURCES)

# clang-format check. The build itself runs with -Wall -Wextra -Wconversion ... as errors. clang-tidy is
# `make tidy`: Debian 12's clang-tidy 14 cannot parse libstdc++ 12's std::expected, so it is not part of lint.
lint:
	@clang-format --dry-run --Werror $(SOURCES)

tidy: configure
	@clang-tidy --quiet -p $(BUILD_DIR) $(filter %.cpp,$(SOURCES))

clean:
	@rm -rf $(BUILD_DIR) $(DEV_DIR) demo-state bench-state
