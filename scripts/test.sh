#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors and runs the whole
# test suite twice: a normal build and an AddressSanitizer + UBSan build;
# then the threaded unit suites (journal, store, customer model, transforms)
# under ThreadSanitizer, a short run of every libFuzzer harness, and the
# plugin template built out of tree against the installed SDK.
# This is exactly what CI runs (.ci/run). It prints its wall time.
# The builds carry line tables only (-g1, TOUCHPOINT_DEBUG_INFO=lines):
# sanitizer reports keep file:line, and compiling takes about a third less.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
started=$(date +%s)

scripts/install-deps.sh
# The real Segment client (@segment/analytics-node, pinned by its lock file) for the web collect tests.
npm ci --prefix tests/fixtures/segment --no-audit --no-fund --loglevel=error
# Playwright's driver (playwright-core, pinned) for the dashboard's browser test; the browser is Debian's chromium.
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
export CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja}

run_suite() {  # <build dir> <extra cmake args...>
  local dir=$1
  shift
  cmake -S . -B "$dir" -DTOUCHPOINT_DEVELOPER_MODE=ON -DTOUCHPOINT_BUILD_TESTS=ON "$@"
  cmake --build "$dir" --parallel "$jobs"
  ctest --test-dir "$dir" --parallel "$jobs" --output-on-failure --timeout 300
}

echo "== formatting"
scripts/check-format.sh

echo "== build + tests (RelWithDebInfo)"
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOUCHPOINT_BUILD_BENCH=ON -DTOUCHPOINT_DEBUG_INFO=lines

echo "== build + tests (AddressSanitizer, UndefinedBehaviorSanitizer)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTOUCHPOINT_SANITIZE=address,undefined -DTOUCHPOINT_BUILD_BENCH=OFF \
  -DTOUCHPOINT_DEBUG_INFO=lines
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

# The unit suites that start threads (journal group commit, store readers and
# writers, the customer model across processes, transform concurrency).
# Only their targets are built: a TSan build of everything would not fit CI.
echo "== build + tests (ThreadSanitizer: core, store, customer, transform suites)"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
cmake -S . -B build-tsan -DTOUCHPOINT_DEVELOPER_MODE=ON -DTOUCHPOINT_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTOUCHPOINT_SANITIZE=thread -DTOUCHPOINT_BUILD_BENCH=OFF -DTOUCHPOINT_DEBUG_INFO=lines
cmake --build build-tsan --parallel "$jobs" --target core_test store_test customer_test transform_test
ctest --test-dir build-tsan --parallel "$jobs" --output-on-failure --timeout 300 \
  -R '^(core|store|customer|transform)\.'
unset TSAN_OPTIONS

echo "== fuzzers: the regression inputs, then a short run of every harness"
scripts/fuzz.sh --short

echo "== out-of-tree plugin template against the installed SDK"
scripts/check-plugin-template.sh --build-dir build-test

echo "All tests passed in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s."
