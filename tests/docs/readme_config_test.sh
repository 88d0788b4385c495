#!/usr/bin/env bash
# The README's configuration example must be accepted by `contactgate config check` as is,
# and every key it shows must round-trip into the effective configuration.
set -euo pipefail
bin=$1
readme=$(dirname "$0")/../../README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```toml$/{on=1; next} /^```$/{if(on){exit}} on' "$readme" > "$tmp/example.toml"
test -s "$tmp/example.toml" || { echo "no toml block in README"; exit 1; }
"$bin" config check -c "$tmp/example.toml" > "$tmp/effective.toml"
for key in brokers group_id input accepted rejected partitions replication workers max_in_flight max_in_flight_bytes commit_interval_ms \
           shutdown_timeout_ms phone_validator phone_metadata internal_retries mode guarantee transaction_interval_ms enabled \
           address port max_payload_bytes max_depth max_contacts max_string_bytes fault_rate fault_mode; do
  grep -q "^$key = " "$tmp/example.toml" || { echo "README example lacks $key"; exit 1; }
  grep -q "^ *$key = " "$tmp/effective.toml" || { echo "effective configuration lacks $key"; exit 1; }
done
echo "README configuration example: accepted, all keys present"
