#!/usr/bin/env python3
"""The metadata tool is exact: run over Debian's python3-phonenumbers 8.12.57, it must write
Debian's libphonenumber 8.12.57 compiled-in metadata (what libphonenumber.so.8's own
metadata_get() returns) byte for byte. Two packages of the same release that nobody on the
team wrote; any difference in field order, defaults or rewriting fails the test.

    phone_metadata_fidelity_test.py REPO_ROOT
"""
import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile

DEBIAN_PACKAGE = "/usr/lib/python3/dist-packages/phonenumbers"


def debian_metadata():
    lib = ctypes.CDLL("libphonenumber.so.8")
    get = lib._ZN4i18n12phonenumbers12metadata_getEv
    get.restype = ctypes.c_void_p
    size = lib._ZN4i18n12phonenumbers13metadata_sizeEv
    size.restype = ctypes.c_int
    return ctypes.string_at(get(), size())


def main():
    root = sys.argv[1]
    if not os.path.isdir(DEBIAN_PACKAGE):
        print("FAIL: %s missing (apt-get install python3-phonenumbers)" % DEBIAN_PACKAGE)
        return 1
    want = debian_metadata()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "debian.bin")
        subprocess.run([sys.executable, os.path.join(root, "scripts/phone_metadata.py"), "build",
                        "--package", DEBIAN_PACKAGE, "--out", out], check=True)
        got = open(out, "rb").read()
    print("Debian metadata_get(): %d bytes, sha256 %s" % (len(want), hashlib.sha256(want).hexdigest()))
    print("tool over python3-phonenumbers: %d bytes, sha256 %s" % (len(got), hashlib.sha256(got).hexdigest()))
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        print("FAIL: differ from byte %d" % first)
        return 1
    print("identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
