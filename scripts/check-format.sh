#!/usr/bin/env bash
# Fails when a C/C++ file is not clang-formatted (.clang-format). The frozen
# v1.0 ABI header is a byte copy and is exempt.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | grep -v '^tests/abi/frozen/' | xargs clang-format --dry-run --Werror
echo "check-format: OK"
