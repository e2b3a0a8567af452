# The operator's and developer's entry points. `make demo` and `make test` work on a fresh Debian 12.
BUILD_DIR ?= build
DEV_DIR   ?= build-dev
FUZZ_DIR  ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
JOBS      ?= 2
PREFIX    ?= /usr/local
DESTDIR   ?=
CONFIG    ?= config/oos.toml
LOG_LINES ?= 200
MAKEFLAGS += --no-print-directory
SOURCES    = $(shell git ls-files '*.cpp' '*.hpp' '*.c' 2>/dev/null)
TEST_LABELS = unit cli system fuzz browser docs api queue worker watchdog durability scale resources metrics health search reliability pg package

.PHONY: all deps configure build test dev-setup dev-test fuzz fuzz-build fuzz-merge demo bench bench-pg bench-pg-listen bench-completion format lint tidy clean deb \
        install uninstall start stop restart status logs validate $(addprefix test-,$(TEST_LABELS))

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOS_WERROR=ON >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

# The package test (system.deb_package) installs the .deb that `make deb` built.
test: build deb
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# One group of tests by CTest label: by kind test-unit, test-cli, test-fuzz (each fuzz target over its corpus
# once, tests/fuzz), test-browser (tests/browser: the dashboard in headless chromium), test-docs (tests/docs: the man
# pages against every tool's --help, rendered without warnings), test-system
# (tests/system: the units under a real systemd); by topic test-queue, test-worker, test-watchdog, test-durability, test-scale,
# test-resources (the /proc readers and the scaling decisions), test-metrics, test-health, test-search,
# test-reliability, test-api, test-pg (tests/CMakeLists.txt).
# A label without tests is an error, not a silent pass.
test-package test-system: deb
$(addprefix test-,$(TEST_LABELS)): test-%: build
	@ctest --test-dir $(BUILD_DIR) -L '^$*$$' --no-tests=error --output-on-failure -j$(JOBS)

# What a developer needs, idempotent (run it again after a pull): the Debian packages (scripts/install-deps), then
# the Debug build with AddressSanitizer and UndefinedBehaviorSanitizer configured and built in $(DEV_DIR). The
# repository has no git hooks to install: the format check is `make lint`.
dev-setup: deps
	@cmake -S . -B $(DEV_DIR) -DCMAKE_BUILD_TYPE=Debug -DOOS_SANITIZE=ON -DOOS_WERROR=ON >/dev/null
	@cmake --build $(DEV_DIR) -j$(JOBS)

# The sanitizer build of dev-setup, then every test.
dev-test: dev-setup
	@ctest --test-dir $(DEV_DIR) --output-on-failure -j$(JOBS)

# Coverage-guided fuzzing (tests/fuzz; docs/reliability.md, "Fuzzing"): a build of its own in $(FUZZ_DIR), under
# ASan and UBSan with GCC's coverage callbacks and libFuzzer, then an engine check and each target for
# $(FUZZ_SECONDS) s over its committed corpus. New inputs and findings go to $(FUZZ_DIR)/fuzz-out, never into the
# repository; exit 1 on a finding. FUZZ_TARGETS="json batch" runs only those. `make test` does not need this
# build: it replays each corpus once (make test-fuzz).
fuzz: fuzz-build
	@scripts/fuzz run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Merges the inputs of the last `make fuzz` that add coverage into tests/fuzz/corpus, to review and commit.
fuzz-merge: fuzz-build
	@scripts/fuzz merge $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-build: deps
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOS_FUZZ=ON -DOOS_WERROR=ON >/dev/null
	@cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz-targets

demo: build
	@scripts/demo $(BUILD_DIR)

bench: build
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target oos-bench bench-reference
	@bench/run $(BUILD_DIR)

# `make bench-pg`: OOS on PostgreSQL against graphile-worker and pg-boss (from npm, when they install here).
bench-pg: build
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target oos-bench
	@bench/pg_run $(BUILD_DIR)

# Enqueue-to-start latency of an idle worker on PostgreSQL, LISTEN/NOTIFY against polling (bench/README.md).
bench-pg-listen: build
	@bench/pg_listen $(BUILD_DIR)

# The shell completion on 1M tasks: a queue name and a task id, median ms (bench/README.md; target < 50 ms).
bench-completion: build
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target oos-bench
	@bench/completion $(BUILD_DIR)

format:
	@clang-format -i $(SOURCES)

# clang-format check. The build itself runs with -Wall -Wextra -Wconversion ... as errors. clang-tidy is
# `make tidy`: Debian 12's clang-tidy 14 cannot parse libstdc++ 12's std::expected, so it is not part of lint.
lint:
	@clang-format --dry-run --Werror $(SOURCES)

tidy: configure
	@clang-tidy --quiet -p $(BUILD_DIR) $(filter %.cpp,$(SOURCES))

clean:
	@rm -rf $(BUILD_DIR) $(DEV_DIR) $(FUZZ_DIR) demo-state bench-state

# The Debian package (docs/packaging.md): dpkg-buildpackage -us -uc -b over a copy of the tracked files (its own
# build, without the tests), then lintian (an error or a warning fails); the .deb lands in $(BUILD_DIR)/deb.
deb: deps
	@scripts/build-deb $(BUILD_DIR)/deb $(JOBS)

# Installs the tools into $(PREFIX)/bin, their man pages into $(PREFIX)/share/man/man1, man5 and man7, the units
# into $(PREFIX)/lib/systemd/system (with ExecStart= paths for that PREFIX), sysusers.d/tmpfiles.d entries into
# $(PREFIX)/lib, the README, docs/reference.md,
# docs/decisions.md and the drop-in examples into $(PREFIX)/share/doc/oos, and config/oos.toml as
# /etc/oos/oos.toml unless one exists. With DESTDIR it only stages files there; without, it also creates the
# oos user and directories and reloads systemd.
# A PREFIX outside /usr and /usr/local also needs UNITDIR=, SYSUSERSDIR=, TMPFILESDIR= (scripts/install).
install: build
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BUILD_DIR="$(BUILD_DIR)" scripts/install install

# Stops and disables the suite, removes what install put; keeps /etc/oos, /var/lib/oos and the user oos.
uninstall:
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BUILD_DIR="$(BUILD_DIR)" scripts/install uninstall

# Enables oos.target and starts it: one worker, the timers and the API's socket, now and at boot.
start:
	@systemctl enable --now oos.target

# Stops the timers and every worker instance (a running backup/integrity/cleanup run finishes). The suite
# stays enabled for the next boot: `systemctl disable oos.target` to keep it off.
stop:
	@systemctl stop oos.target

# Restarts the workers (each finishes or releases its task) and the timers.
restart:
	@systemctl restart oos.target

# The timers' next and last runs, then the state of every loaded OOS unit.
status:
	@systemctl --no-pager list-timers 'oos-*'
	@systemctl --no-pager status oos.target 'oos-*' || true

# The last $(LOG_LINES) journal lines of the whole suite (LOG_LINES=all for everything).
logs:
	@journalctl --no-pager -n $(LOG_LINES) -u 'oos-*' -u oos.target

# Static checks: $(CONFIG) as the tools read it, then the units (systemd-analyze verify silent, exposure
# within target) and the sysusers.d/tmpfiles.d entries. `make validate CONFIG=/etc/oos/oos.toml` checks
# the installed config.
validate: build
	@scripts/check-config $(BUILD_DIR) $(CONFIG)
	@scripts/check-units $(BUILD_DIR)
