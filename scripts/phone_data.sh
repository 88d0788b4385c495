#!/usr/bin/env bash
# phone_data.sh - the PyPI `phonenumbers` releases contactgate's phone metadata is made from.
#
#   phone_data.sh venv                 install the pinned release (src/validate/data/phone_metadata.lock,
#                                      checked by its sha256) into a virtual environment; print its python
#   phone_data.sh python               print that python's path (exit 1 if not installed)
#   phone_data.sh update VERSION OUT   make OUT (+ OUT.json) from PyPI phonenumbers==VERSION, for
#                                      `pipeline.phone_metadata = OUT` / `validate --phone-metadata OUT`
#
# Environments live in ${CG_CACHE_DIR:-$HOME/.cache/contactgate}/phonenumbers-VERSION.
# Needs python3 with venv (Debian: apt-get install python3-venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/src/validate/data/phone_metadata.lock"
cache=${CG_CACHE_DIR:-$HOME/.cache/contactgate}
die() { printf 'phone_data: error: %s\n' "$*" >&2; exit 1; }
lock_value() { sed -n "s/^$1=//p" "$lock"; }

# make_venv VERSION [HASH]: a venv holding phonenumbers==VERSION; prints its python.
make_venv() {
    local version=$1 hash=${2:-} dir="$cache/phonenumbers-$1"
    if [[ -x "$dir/bin/python3" && -f "$dir/.complete" ]]; then echo "$dir/bin/python3"; return; fi
    /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null ||
        die "python3 venv support is missing (Debian: apt-get install python3-venv)"
    rm -rf "$dir"
    mkdir -p "$cache"
    /usr/bin/python3 -m venv "$dir" >&2
    local req="$dir/requirements.txt"
    if [[ -n "$hash" ]]; then
        printf 'phonenumbers==%s --hash=sha256:%s\n' "$version" "$hash" >"$req"
        "$dir/bin/pip" install -q --disable-pip-version-check --no-deps --require-hashes -r "$req" >&2 ||
            die "pip could not install phonenumbers==$version with sha256 $hash from PyPI"
    else
        "$dir/bin/pip" install -q --disable-pip-version-check --no-deps "phonenumbers==$version" >&2 ||
            die "pip could not install phonenumbers==$version from PyPI"
    fi
    touch "$dir/.complete"
    echo "$dir/bin/python3"
}

case "${1:-}" in
    venv) make_venv "$(lock_value release)" "$(lock_value wheel_sha256)" ;;
    python)
        py="$cache/phonenumbers-$(lock_value release)/bin/python3"
        [[ -x "$py" && -f "$cache/phonenumbers-$(lock_value release)/.complete" ]] ||
            die "phonenumbers $(lock_value release) is not installed: run scripts/install_deps.sh (or scripts/phone_data.sh venv)"
        echo "$py" ;;
    update)
        [[ $# -eq 3 ]] || die "usage: phone_data.sh update VERSION OUT"
        py=$(make_venv "$2")
        "$py" "$root/scripts/phone_metadata.py" build --out "$3"
        echo "phone_data: use it with: contactgate validate --phone-metadata $3   or   --set pipeline.phone_metadata=$3" ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
