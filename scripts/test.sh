#!/usr/bin/env bash
# Quickstart 2 (and CI): installs what is needed, builds, and runs every test:
#   dev build (-Werror): all tests; asan build (ASan+UBSan): unit tests;
#   release build: each benchmark once (smoke run, no figures asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh

echo "=== dev build + all tests"
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev

echo "=== deploy assets: Prometheus rules (promtool check/test), scrape config, Grafana dashboard"
bash scripts/check_deploy.sh

echo "=== asan (AddressSanitizer + UndefinedBehaviorSanitizer) build + unit tests"
cmake --preset asan >/dev/null
cmake --build --preset asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan

echo "=== release build + benchmark smoke run"
cmake --preset release >/dev/null
cmake --build --preset release --target cg_validate_bench contactgate
build/release/bench/cg_validate_bench --benchmark_min_time=0.01 >/dev/null
echo "benchmarks: smoke run passed"
