#!/usr/bin/env python3
"""phone_metadata.py - libphonenumber metadata from a release of PyPI `phonenumbers`.

Turns the data modules of a `phonenumbers` package (one `region_XX.py` per region, each a
`PhoneMetadata(...)` call) into a serialized `i18n.phonenumbers.PhoneMetadataCollection`:
the bytes libphonenumber's C++ `metadata_get()` returns. contactgate embeds such a file
and can load another at start (`pipeline.phone_metadata`, `validate --phone-metadata`).

    phone_metadata.py build --package DIR --out FILE   # writes FILE and FILE.json (manifest)
    phone_metadata.py verdicts [--package DIR]         # stdin: E.164 numbers; stdout: VERDICT per line

`build` reads the data modules as source (Python's ast), not through the package's classes,
so what is written is exactly what the release says. The serialization follows what
upstream's Java BuildMetadataProtoFromXml writes, field by field, so that over Debian's
python3-phonenumbers 8.12.57 the output equals Debian's compiled-in metadata byte for byte
(tests/data/phone_metadata_fidelity_test.sh checks that in CI).

The manifest (FILE.json) names the release and the file's sha256 and size, and lists canary
numbers with the verdict this release's own Python implementation gives them; contactgate
refuses a file whose digest or canaries do not match.

`verdicts` judges numbers with the package itself (parse(n, None), is_valid_number,
is_possible_number_with_reason) in contactgate's detail vocabulary: the independent side
of the differential test.
"""
import argparse
import ast
import hashlib
import json
import os
import struct
import sys

# PhoneMetadata field numbers (phonemetadata.proto).
DESC_FIELDS = [  # (kwarg, field number), in the order the Java builder sets them
    ("general_desc", 1), ("fixed_line", 2), ("mobile", 3), ("toll_free", 4), ("premium_rate", 5),
    ("shared_cost", 6), ("personal_number", 7), ("voip", 8), ("pager", 21),
    ("no_international_dialling", 24), ("uan", 25), ("emergency", 27), ("voicemail", 28),
    ("short_code", 29), ("standard_rate", 30), ("carrier_specific", 31), ("sms_services", 33),
]
# Types the builder always writes for a main (not short-number) region, with possible
# length -1 ("no numbers of this type") when the region has none.
ALWAYS_PRESENT = {"fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
                  "voip", "pager", "no_international_dialling", "uan", "voicemail"}
# Types whose possible lengths are left out when equal to the general description's.
LENGTHS_INHERITED = {name for name, _ in DESC_FIELDS} - {"general_desc"}
STRING_FIELDS = [("international_prefix", 11), ("national_prefix", 12), ("preferred_extn_prefix", 13),
                 ("national_prefix_for_parsing", 15), ("national_prefix_transform_rule", 16),
                 ("preferred_international_prefix", 17)]
BOOL_FIELDS = [("same_mobile_and_fixed_line_pattern", 18), ("main_country_for_code", 22),
               ("leading_zero_possible", 26), ("mobile_number_portable_region", 32)]

# Numbers whose verdict tells data releases apart (the first two are valid from 9.0.43 on,
# invalid in 8.12.57) or checks a validator's main paths; their verdicts go into the manifest.
CANARIES = ["+2290195123456", "+13532101234", "+22997123456", "+14155552671", "+12005550123",
            "+442071838750", "+447400123456", "+4474001234567", "+33612345678", "+4915123456789",
            "+919876543210", "+5511987654321", "+8613812345678", "+61412345678", "+2348031234567",
            "+80012345678", "+8001234567", "+9991234567", "+3912"]


class FormatError(Exception):
    pass


# ---------------------------------------------------------------- protobuf wire format
def varint(n):
    if n < 0:
        n += 1 << 64  # int32 negatives are written as 10-byte varints
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return varint((num << 3) | 2) + varint(len(data)) + data


# ---------------------------------------------------------------- reading the data modules
def literal(node):
    """A kwarg value: a literal, or a NumberFormat/PhoneNumberDesc call as a dict."""
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if node.args:
            raise FormatError("positional arguments in %s(...)" % name)
        return {"__type__": name, **{kw.arg: literal(kw.value) for kw in node.keywords}}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    return ast.literal_eval(node)


def metadata_call(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            call = literal(stmt.value)
            if call.get("__type__") == "PhoneMetadata":
                return call
    raise FormatError("%s: no PhoneMetadata(...) assignment" % path)


def module_list(data_dir, name):
    with open(os.path.join(data_dir, "__init__.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(getattr(t, "id", None) == name for t in stmt.targets):
            return ast.literal_eval(stmt.value)
    raise FormatError("%s/__init__.py: no %s" % (data_dir, name))


def package_version(package_dir):
    with open(os.path.join(package_dir, "__init__.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in stmt.targets):
            return ast.literal_eval(stmt.value)
    raise FormatError("%s/__init__.py: no __version__" % package_dir)


# ---------------------------------------------------------------- encoding
def java_replacement(s):
    """Python's data writes group references as \\1; the protobuf data as $1."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1].isdigit():
            out.append("$" + s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def encode_desc(desc, general_lengths, inherit_lengths):
    out = b""
    if desc.get("national_number_pattern") is not None:
        out += field_bytes(2, desc["national_number_pattern"])
    if desc.get("example_number") is not None:
        out += field_bytes(6, desc["example_number"])
    lengths = list(desc.get("possible_length") or ())
    if not (inherit_lengths and lengths == general_lengths):
        for n in lengths:
            out += field_varint(9, n)
    for n in desc.get("possible_length_local_only") or ():
        out += field_varint(10, n)
    return out


def encode_format(fmt):
    out = field_bytes(1, fmt["pattern"]) + field_bytes(2, java_replacement(fmt["format"]))
    for p in fmt.get("leading_digits_pattern") or ():
        out += field_bytes(3, p)
    if fmt.get("national_prefix_formatting_rule") is not None:
        out += field_bytes(4, java_replacement(fmt["national_prefix_formatting_rule"]))
    if fmt.get("domestic_carrier_code_formatting_rule") is not None:
        out += field_bytes(5, java_replacement(fmt["domestic_carrier_code_formatting_rule"]))
    if fmt.get("national_prefix_optional_when_formatting"):
        out += field_varint(6, 1)
    return out


def intl_formats(national, intl):
    """The international formats as the Java builder writes them. A national format without
    an explicit intlFormat element is copied whole (its national-prefix rules included);
    Python's data writes such copies without those rules, so they are taken back from the
    national format the copy was made from (same pattern, format and leading digits, in order)."""
    out, start = [], 0
    for f in intl or ():
        key = (f["pattern"], f["format"], list(f.get("leading_digits_pattern") or ()))
        for i in range(start, len(national)):
            n = national[i]
            if (n["pattern"], n["format"], list(n.get("leading_digits_pattern") or ())) == key:
                f = {**n, **{k: v for k, v in f.items() if v is not None}}
                start = i + 1
                break
        out.append(f)
    return out


def encode_metadata(md):
    known = {k for k, _ in DESC_FIELDS} | {k for k, _ in STRING_FIELDS} | {k for k, _ in BOOL_FIELDS} | {
        "__type__", "id", "country_code", "number_format", "intl_number_format", "leading_digits"}
    unknown = set(md) - known
    if unknown:
        raise FormatError("region %s: unknown fields %s" % (md.get("id"), sorted(unknown)))
    parts = {}  # field number -> bytes, written in field-number order
    general = md.get("general_desc") or {}
    general_lengths = list(general.get("possible_length") or ())
    for name, num in DESC_FIELDS:
        desc = md.get(name)
        if desc is None:
            if name in ALWAYS_PRESENT:
                parts[num] = field_bytes(num, field_varint(9, -1))
            continue
        parts[num] = field_bytes(num, encode_desc(desc, general_lengths, name in LENGTHS_INHERITED))
    parts[9] = field_bytes(9, md["id"])
    if md.get("country_code") is not None:
        parts[10] = field_varint(10, md["country_code"])
    for name, num in STRING_FIELDS:
        value = md.get(name)
        if value is not None:
            if name == "national_prefix_transform_rule":
                value = java_replacement(value)
            parts[num] = field_bytes(num, value)
    # The Java builder sets this one itself when the two patterns are the same.
    fixed, mobile = md.get("fixed_line") or {}, md.get("mobile") or {}
    if fixed.get("national_number_pattern") == mobile.get("national_number_pattern"):  # both absent too
        md = {**md, "same_mobile_and_fixed_line_pattern": True}
    for name, num in BOOL_FIELDS:
        if md.get(name):
            parts[num] = field_varint(num, 1)
    formats = md.get("number_format") or []
    parts[19] = b"".join(field_bytes(19, encode_format(f)) for f in formats)
    parts[20] = b"".join(field_bytes(20, encode_format(f)) for f in intl_formats(formats, md.get("intl_number_format")))
    if md.get("leading_digits") is not None:
        parts[23] = field_bytes(23, md["leading_digits"])
    return b"".join(parts[k] for k in sorted(parts))


def build_collection(package_dir):
    data_dir = os.path.join(package_dir, "data")
    regions = module_list(data_dir, "_AVAILABLE_REGION_CODES")
    nongeo = module_list(data_dir, "_AVAILABLE_NONGEO_COUNTRY_CODES")
    out = b""
    for code in list(regions) + [str(c) for c in nongeo]:
        md = metadata_call(os.path.join(data_dir, "region_%s.py" % code))
        out += field_bytes(1, encode_metadata(md))
    return out, len(regions) + len(nongeo)


# ---------------------------------------------------------------- judging with the package
def import_package(package_dir):
    parent = os.path.dirname(os.path.abspath(package_dir))
    sys.path.insert(0, parent)
    import phonenumbers  # noqa: E402
    if os.path.abspath(os.path.dirname(phonenumbers.__file__)) != os.path.abspath(package_dir):
        raise FormatError("imported phonenumbers from %s, not %s" % (phonenumbers.__file__, package_dir))
    return phonenumbers


def make_judge(pn):
    reasons = {
        pn.ValidationResult.IS_POSSIBLE: "NOT_VALID",
        pn.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "IS_POSSIBLE_LOCAL_ONLY",
        pn.ValidationResult.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
        pn.ValidationResult.TOO_SHORT: "TOO_SHORT",
        pn.ValidationResult.INVALID_LENGTH: "INVALID_LENGTH",
        pn.ValidationResult.TOO_LONG: "TOO_LONG",
    }
    parse_errors = {
        pn.NumberParseException.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
        pn.NumberParseException.NOT_A_NUMBER: "TOO_SHORT",
        pn.NumberParseException.TOO_SHORT_AFTER_IDD: "TOO_SHORT",
        pn.NumberParseException.TOO_SHORT_NSN: "TOO_SHORT",
        pn.NumberParseException.TOO_LONG: "TOO_LONG",
    }

    def judge(number):
        try:
            parsed = pn.parse(number, None)
        except pn.NumberParseException as e:
            return parse_errors[e.error_type]
        if pn.is_valid_number(parsed):
            return "VALID"
        return reasons[pn.is_possible_number_with_reason(parsed)]

    return judge


def default_package():
    import phonenumbers
    return os.path.dirname(os.path.abspath(phonenumbers.__file__))


# ---------------------------------------------------------------- commands
def cmd_build(args):
    package_dir = args.package or default_package()
    release = package_version(package_dir)
    data, count = build_collection(package_dir)
    judge = make_judge(import_package(package_dir))
    manifest = {
        "format": "contactgate phone metadata 1",
        "release": release,
        "source": "phonenumbers %s (%s)" % (release, package_dir),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "entities": count,
        "canaries": {n: judge(n) for n in CANARIES},
    }
    if args.expect_sha256 and manifest["sha256"] != args.expect_sha256:
        raise FormatError("phonenumbers %s gave sha256 %s, the lock file says %s: not the pinned release's data"
                          % (release, manifest["sha256"], args.expect_sha256))
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    with open(args.out + ".json.tmp", "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(args.out + ".json.tmp", args.out + ".json")
    print("phone_metadata: %s: phonenumbers %s, %d entities, %d bytes, sha256 %s" % (
        args.out, release, count, len(data), manifest["sha256"]))
    return 0


def cmd_verdicts(args):
    judge = make_judge(import_package(args.package or default_package()))
    out = sys.stdout
    for line in sys.stdin:
        out.write(judge(line.strip()) + "\n")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write a PhoneMetadataCollection and its manifest")
    b.add_argument("--package", help="the phonenumbers package directory (default: the importable one)")
    b.add_argument("--out", required=True)
    b.add_argument("--expect-sha256", help="fail unless the result has this digest")
    v = sub.add_parser("verdicts", help="judge E.164 numbers from stdin with the package itself")
    v.add_argument("--package")
    args = ap.parse_args()
    try:
        return cmd_build(args) if args.cmd == "build" else cmd_verdicts(args)
    except (FormatError, OSError, SyntaxError, ValueError, KeyError) as e:
        print("phone_metadata: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
