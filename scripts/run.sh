#!/usr/bin/env bash
# Installs what is missing, builds, and runs the hub in the foreground on its
# embedded SQLite store with the example pipelines in pipelines/.
# Only package installation needs root (sudo is used if available).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTOUCHPOINT_BUILD_TESTS=OFF -DTOUCHPOINT_BUILD_BENCH=OFF
cmake --build build --parallel "$(nproc)"

# config/touchpoint.yaml keeps all state in ./var and loads plugins from build/.
exec build/core/touchpoint run --config config/touchpoint.yaml "$@"
