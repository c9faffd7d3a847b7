#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors and runs the whole
# test suite twice: a normal build and an AddressSanitizer + UBSan build.
# Then builds the plugin template out of tree against the installed SDK.
# This is exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh
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
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOUCHPOINT_BUILD_BENCH=ON

echo "== build + tests (AddressSanitizer, UndefinedBehaviorSanitizer)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTOUCHPOINT_SANITIZE=address,undefined -DTOUCHPOINT_BUILD_BENCH=OFF
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== out-of-tree plugin template against the installed SDK"
scripts/check-plugin-template.sh --build-dir build-test

echo "All tests passed."
