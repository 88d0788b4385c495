#!/usr/bin/env bash
# Builds and runs the libFuzzer harness over payload parsing, validation and record
# emission (tests/fuzz, issue 6 "Hostile input and limits").
#
#   scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]      # default 60 s; CI runs scripts/fuzz.sh 60
#
# Steps: Debian clang build in build-fuzz (every target with ASan + UBSan and coverage
# instrumentation), the regression inputs (tests/fuzz/regressions) once, a seed corpus from
# `contactgate generate` plus hand-written hostile payloads, then SECONDS of fuzzing. The
# corpus grows in build-fuzz/fuzz/corpus across runs; crashes land in build-fuzz/fuzz/artifacts.
# Exits non-zero on any crash, leak, timeout, out-of-memory, sanitizer report or broken
# invariant. JOBS (default 2) sets the build parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]" >&2
  exit 2
fi
jobs=${JOBS:-2}
build=build-fuzz
work=$build/fuzz

scripts/install_deps.sh  # includes clang and libclang-rt-14-dev (libFuzzer, sanitizer runtimes)

echo "=== fuzz: configure and build ($build, clang, ASan+UBSan+libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DSIMDJSON_DEVELOPMENT_CHECKS=1" \
  -DCG_SANITIZE=address,undefined -DCG_BUILD_FUZZ=ON -DCG_BUILD_TESTS=ON -DCG_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target cg_payload_fuzz contactgate

fuzzer=$build/tests/fuzz/cg_payload_fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$work/corpus" "$work/artifacts"
rm -rf "$work/seeds"

echo "=== fuzz: regression inputs (tests/fuzz/regressions)"
if compgen -G "tests/fuzz/regressions/*" >/dev/null; then
  if ! "$fuzzer" tests/fuzz/regressions/* >"$work/regressions.log" 2>&1; then
    echo "=== fuzz: FAILED: a regression input breaks an invariant; log: $work/regressions.log" >&2
    grep -nE "Running:|ERROR:|runtime error:|INVARIANT \(|SUMMARY:" "$work/regressions.log" | head -n 20 >&2
    exit 1
  fi
  echo "$(ls tests/fuzz/regressions | wc -l) regression input(s) pass"
fi

echo "=== fuzz: seed corpus"
tests/fuzz/make_seed_corpus.sh "$work/seeds" "$build/src/app/contactgate"

echo "=== fuzz: ${secs}s"
log=$work/last-run.log
set +e
"$fuzzer" -max_total_time="$secs" -dict=tests/fuzz/payload.dict -max_len=65536 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" \
  "$work/corpus" "$work/seeds" >"$log" 2>&1
rc=$?
set -e

# libFuzzer exits non-zero for crashes, leaks, timeouts and OOMs; the grep also catches a
# sanitizer report that did not end the run.
reports=$(grep -cE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|INVARIANT \(" "$log" || true)
last=$(grep -E "^#[0-9]+" "$log" | tail -n 1 || true)
grep -E "^(INFO: Seed|#[0-9]+[[:space:]]+INITED)" "$log" || true
echo "$last"
grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log" || true
echo "corpus: $(find "$work/corpus" -type f | wc -l) files in $work/corpus"
if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
  echo "=== fuzz: FAILED (exit $rc, $reports report(s)); log: $log" >&2
  grep -nE "ERROR:|runtime error:|INVARIANT \(|SUMMARY:|Test unit written|^    #[0-9]+ " "$log" | head -n 40 >&2
  exit 1
fi
echo "=== fuzz: passed (${secs}s, no crash, leak or sanitizer report)"
