#!/usr/bin/env bash
# Installs every Debian bookworm package contactgate needs to build, test and benchmark.
# Idempotent: packages already installed are skipped quickly.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev libsimdjson-dev libphonenumber-dev libprotobuf-dev libicu-dev libre2-dev libssl-dev
  libboost-dev libjemalloc-dev rapidjson-dev libcsv-dev prometheus-cpp-dev libtomlplusplus-dev libspdlog-dev libcli11-dev iso-codes
  libgtest-dev libgmock-dev libbenchmark-dev
  clang clang-format libclang-rt-14-dev
  kcat python3 python3-venv python3-phonenumbers python3-confluent-kafka default-jre-headless maven prometheus chromium
  podman runc debootstrap python3-yaml systemd help2man
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The phone metadata is made from a pinned PyPI release of `phonenumbers` (checked by its
# sha256), installed into a virtual environment: scripts/phone_data.sh.
phone_data() { bash "$(dirname "$0")/phone_data.sh" venv >/dev/null; }

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  phone_data
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install_deps: run as root (or install sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
phone_data
