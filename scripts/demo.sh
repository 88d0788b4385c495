#!/usr/bin/env bash
# Quickstart 1: installs what is needed, builds contactgate (release) and runs the main job
# on the embedded default: librdkafka's in-process mock cluster, a generated sample stream,
# the stream processor, and a live summary of the results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target contactgate
bin=build/release/src/app/contactgate
"$bin" --version
exec "$bin" demo --count "${CG_DEMO_COUNT:-50000}"
