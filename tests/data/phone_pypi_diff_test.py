#!/usr/bin/env python3
"""contactgate's phone verdicts against an independent implementation of the same data
release: PyPI `phonenumbers` (pinned in src/validate/data/phone_metadata.lock), run with the
python of the virtual environment scripts/phone_data.sh made.

    phone_pypi_diff_test.py CONTACTGATE REPO_ROOT [--count N] [--seed S] [--phone-metadata FILE]

(--phone-metadata checks a file made by `scripts/phone_data.sh update` against the python
running this script, e.g. that venv's: the way to confirm an updated data file.)

Numbers (all E.164-shaped: '+', at most 15 digits, the first not 0, what contactgate's
syntax check lets through to the phone validators):
  - uniform random national numbers for every region and non-geographic entity, over each of
    its possible lengths (national and local-only) and one digit shorter and longer;
  - every example number of every type, and mutations of it (a digit changed, dropped, added);
  - random digit strings of 2 to 15 digits after '+'.
Each number is judged by phonenumbers (parse(n, None), is_valid_number,
is_possible_number_with_reason, in contactgate's detail names) and by `contactgate validate`
with both phone validators. Any disagreement in verdict or detail fails; there is no
allow-list. Prints the count.
"""
import argparse
import collections
import json
import os
import random
import subprocess
import sys


def load_tool(root):
    sys.path.insert(0, os.path.join(root, "scripts"))
    import phone_metadata  # noqa: E402
    return phone_metadata


def e164_shaped(n):
    return 2 <= len(n) <= 16 and n[0] == "+" and n[1] != "0" and n[1:].isdigit()


def numbers(pn, rng, count):
    out = []
    entities = [(r, pn.country_code_for_region(r), pn.PhoneMetadata.metadata_for_region(r))
                for r in sorted(pn.SUPPORTED_REGIONS)]
    entities += [("%d" % c, c, pn.PhoneMetadata.metadata_for_nongeo_region(c))
                 for c in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS)]
    descs = ["general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
             "personal_number", "voip", "pager", "uan", "voicemail", "no_international_dialling"]
    # Example numbers and their mutations.
    for _, cc, md in entities:
        for name in descs:
            d = getattr(md, name, None)
            ex = d.example_number if d is not None else None
            if not ex:
                continue
            base = "+%d%s" % (cc, ex)
            out.append(base)
            for _ in range(6):
                digits = list(ex)
                i = rng.randrange(len(digits))
                op = rng.randrange(3)
                if op == 0:
                    digits[i] = str(rng.randrange(10))
                elif op == 1 and len(digits) > 1:
                    del digits[i]
                else:
                    digits.insert(i, str(rng.randrange(10)))
                out.append("+%d%s" % (cc, "".join(digits)))
    # Uniform random national numbers over each entity's lengths (and one off each side).
    per_length = max(1, (count * 3 // 4) // max(1, sum(
        len(set(md.general_desc.possible_length) | set(md.general_desc.possible_length_local_only)) + 2
        for _, _, md in entities)))
    for _, cc, md in entities:
        g = md.general_desc
        lengths = set(g.possible_length) | set(g.possible_length_local_only)
        lengths = {n for n in lengths if n > 0}
        if lengths:
            lengths |= {min(lengths) - 1, max(lengths) + 1}
        for n in sorted(x for x in lengths if x > 0):
            for _ in range(per_length):
                out.append("+%d%s" % (cc, "".join(str(rng.randrange(10)) for _ in range(n))))
    # Random digit strings.
    while len(out) < count:
        n = rng.randrange(2, 16)
        out.append("+" + str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(n - 1)))
    return [n for n in out if e164_shaped(n)]


def contactgate_verdicts(binary, nums, validator, metadata):
    lines = []
    for i, n in enumerate(nums):
        lines.append(json.dumps({"contacts": [{"correlation_id": "%032x" % i, "contact_id": n,
                                               "country_iso_code": "US"}]}))
    extra = ["--phone-metadata", metadata] if metadata else []
    proc = subprocess.run([binary, "validate", "--phone-validator", validator] + extra, input="\n".join(lines) + "\n",
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit("contactgate validate exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
    verdicts = []
    for line in proc.stdout.splitlines():
        v = json.loads(line)
        if v["status"] == "accepted":
            verdicts.append("VALID")
            continue
        r = [x for x in v["reasons"] if x["code"] == "INVALID_CONTACT_ID"]
        if len(r) != 1 or len(v["reasons"]) != 1:
            raise SystemExit("unexpected reasons for line %d: %s" % (v["line"], line))
        verdicts.append(r[0]["detail"])
    if len(verdicts) != len(nums):
        raise SystemExit("contactgate gave %d verdicts for %d numbers" % (len(verdicts), len(nums)))
    return verdicts


def mask(n):
    return n if len(n) <= 7 else n[:5] + "*" * (len(n) - 7) + n[-2:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("root")
    ap.add_argument("--count", type=int, default=210000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--phone-metadata", help="judge with this data file instead of the built-in data")
    args = ap.parse_args()
    tool = load_tool(args.root)
    import phonenumbers as pn
    lock = dict(l.split("=", 1) for l in open(os.path.join(args.root, "src/validate/data/phone_metadata.lock"))
                .read().splitlines() if "=" in l and not l.startswith("#"))
    if pn.__version__ != lock["release"]:
        print("FAIL: python has phonenumbers %s, the lock file pins %s (run scripts/phone_data.sh venv)"
              % (pn.__version__, lock["release"]))
        return 1
    rng = random.Random(args.seed)
    nums = numbers(pn, rng, args.count)
    judge = tool.make_judge(pn)
    want = [judge(n) for n in nums]
    failed = False
    for validator in ("fast", "reference"):
        got = contactgate_verdicts(args.binary, nums, validator, args.phone_metadata)
        bad = [(n, w, g) for n, w, g in zip(nums, want, got) if w != g]
        print("[ compared ] %d numbers, contactgate %s vs phonenumbers %s: %d disagreements" %
              (len(nums), validator, pn.__version__, len(bad)))
        for n, w, g in bad[:30]:
            print("  %s: phonenumbers %s, contactgate %s" % (mask(n), w, g))
        failed |= bool(bad)
    print("by verdict: " + " ".join("%s=%d" % kv for kv in sorted(collections.Counter(want).items())))
    if len(nums) < 200000:
        print("FAIL: only %d numbers" % len(nums))
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
