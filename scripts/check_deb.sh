#!/usr/bin/env bash
# check_deb.sh - the Debian package, end to end (CI; run as root):
#   1. builds contactgate, its man page and the .deb (CPack) in build/release;
#   2. inspects it: files, conffile, Depends from dpkg-shlibdeps, maintainer scripts;
#   3. systemd-analyze verify of the unit as installed, alone and with the SASL drop-in;
#   4. dpkg -i, then runs the installed binary: --version, man page, config check of the
#      conffile, validate, and tests/deploy/systemd_test.py (the unit's ExecStart under an
#      emulated systemd: Type=notify datagrams, credentials, journald priorities, exit codes,
#      against a real broker);
#   5. dpkg --purge (the machine is left as it was).
# Usage: scripts/check_deb.sh [--keep]   (--keep: leave the package installed)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0; [[ "${1:-}" == --keep ]] && keep=1
fail() { echo "check_deb: FAIL: $*" >&2; exit 1; }
ok() { echo "ok:   $*"; }
[[ $(id -u) -eq 0 ]] || fail "run as root (dpkg -i)"
command -v help2man >/dev/null || fail "help2man missing: scripts/install_deps.sh"
if dpkg-query -W -f='${Status}' contactgate 2>/dev/null | grep -q "install ok installed"; then
    fail "a contactgate package is already installed; remove it first (dpkg -r contactgate)"
fi

# CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack installs what was built (the binary and its man
# page), without building the tests and benchmarks of this build directory.
cmake --preset release -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build --preset release --target contactgate contactgate_man
rm -f build/release/contactgate_*.deb
(cd build/release && cpack -G DEB >/dev/null)
deb=$(ls build/release/contactgate_*.deb)
echo "check_deb: $deb ($(du -h "$deb" | cut -f1))"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/contactgate ./usr/lib/systemd/system/contactgate.service ./etc/contactgate/contactgate.toml \
         ./usr/share/man/man1/contactgate.1.gz ./usr/share/doc/contactgate/README.md \
         ./usr/share/doc/contactgate/copyright ./usr/share/doc/contactgate/examples/contactgate-sasl.conf \
         ./usr/share/contactgate/deploy/prometheus/contactgate-alerts.yml; do
    grep -qx "$f" <<<"$contents" || fail "$f is not in the package"
done
ok "the package holds the binary, the unit, the conffile, the man page, the docs and the deploy data"
[[ "$(dpkg-deb -I "$deb" conffiles)" == "/etc/contactgate/contactgate.toml" ]] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
ok "/etc/contactgate/contactgate.toml is a conffile"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in librdkafka1 libphonenumber8 libsimdjson14 libre2-9 libc6; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
ok "Depends (dpkg-shlibdeps): $depends"

dpkg -i "$deb" >/dev/null
trap '[[ $keep -eq 1 ]] || dpkg --purge contactgate >/dev/null' EXIT
ok "dpkg -i"
unit=/usr/lib/systemd/system/contactgate.service
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[[ -z "$out" ]] || fail "systemd-analyze verify printed: $out"
ok "systemd-analyze verify $unit: clean"
dropin=/etc/systemd/system/contactgate.service.d
mkdir -p "$dropin"
cp /usr/share/doc/contactgate/examples/contactgate-sasl.conf "$dropin/sasl.conf"
out=$(systemd-analyze verify "$unit" 2>&1) || { rm -rf "$dropin"; fail "verify with the SASL drop-in: $out"; }
rm -rf "$dropin"
[[ -z "$out" ]] || fail "verify with the SASL drop-in printed: $out"
ok "systemd-analyze verify with the SASL drop-in (LoadCredential=): clean"
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1 || true)
echo "      systemd-analyze security: ${score:-n/a}"

/usr/bin/contactgate --version | grep -q "^contactgate $(sed -n 's/^project(contactgate VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" ||
    fail "the installed binary's --version"
ok "installed /usr/bin/contactgate --version"
man -w contactgate >/dev/null && MANWIDTH=300 man -P cat contactgate 2>/dev/null | grep -q "RestartPreventExitStatus=2 4" || fail "man contactgate"
ok "man contactgate (exit codes included)"
/usr/bin/contactgate config check -c /etc/contactgate/contactgate.toml >/dev/null 2>&1 || fail "config check of the conffile"
ok "contactgate config check accepts the shipped /etc/contactgate/contactgate.toml"
v=$(printf '%s\n' '{"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US"}' |
    /usr/bin/contactgate validate) || fail "validate: $v"
grep -q '"status":"accepted"' <<<"$v" || fail "validate: $v"
ok "the installed binary validates"
/usr/bin/python3 tests/deploy/systemd_test.py /usr/bin/contactgate "$unit" /usr/share/doc/contactgate/examples/contactgate-sasl.conf
echo "check_deb: all checks passed"
