#!/usr/bin/env bash
# Quickstart 1: installs what is needed, builds contactgate (release), generates a sample
# stream and validates it, showing per-contact results and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target contactgate
bin=build/release/src/app/contactgate
sample=build/release/sample.ndjson
"$bin" --version
"$bin" generate --count 2000 --seed 1 --array-ratio 0.1 --bulk-ratio 0.1 > "$sample"
echo "--- first results of '$bin validate $sample' (one JSON line per contact):"
set +e
"$bin" validate --summary --threads 2 "$sample" > build/release/results.ndjson
rc=$?
set -e
head -n 8 build/release/results.ndjson
echo "--- all results: build/release/results.ndjson (exit code $rc: 0 all accepted, 1 some rejected)"
