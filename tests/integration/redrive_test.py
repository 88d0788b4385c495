#!/usr/bin/python3
"""`contactgate redrive` against a real Apache Kafka broker (label "integration").

The story: contactgate judged a stream with old phone data (Debian's 8.12.57 metadata, made
by scripts/phone_metadata.py), so contacts in number ranges opened since then were rejected.
The data is upgraded (this binary's built-in data). Then:
  1. a dry run re-judges the rejected topic: the figures match what was produced;
  2. a named redrive to the input topic, at a rate limit, is killed with SIGKILL part-way and
     run again: every selected rejection is on the input topic exactly once (read_committed),
     with the redrive headers; a third run sends nothing;
  3. the pipeline (new data) judges the redriven contacts: the new-range ones are accepted,
     the still-invalid ones are rejected again carrying contactgate.redrive.count=1;
  4. a redrive with --max-redrives 1 reports those instead of resending them.

Usage: redrive_test.py CONTACTGATE_BINARY
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka import Consumer, Producer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import ROOT  # noqa: E402

TOPICS = ("contacts.upsert", "contacts.accepted", "contacts.rejected")

check = cgtest.Checks(ok="ok: ")
failures = check.failures


def contact(i, number, country):
    return json.dumps({"correlation_id": "%032x" % (0xC0FFEE0000 + i), "contact_id": number,
                       "country_iso_code": country}).encode()


def read_all(bootstrap, topic, quiet_s=3.0, want=None, timeout=120):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "check-" + uuid.uuid4().hex,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    c.subscribe([topic])
    out, last, deadline = [], time.time(), time.time() + timeout
    while time.time() < deadline:
        msgs = c.consume(500, 0.5)
        got = [m for m in msgs if not m.error()]
        out += [(m.value(), dict(m.headers() or [])) for m in got]
        if got:
            last = time.time()
        if want is not None and len(out) >= want and time.time() - last > 1.0:
            break
        if want is None and time.time() - last > quiet_s:
            break
    c.close()
    return out


def run_pipeline(binary, bootstrap, workdir, extra, expect_outputs, name):
    """Runs the processor (one consumer group for the whole test) until the output topics
    hold `expect_outputs` records, then SIGTERM."""
    p = cgtest.start_contactgate(binary, ["-b", bootstrap, "-g", "cg-redrive-test", "--set", "http.enabled=false", *extra],
                                 os.path.join(workdir, name + ".log"))
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline:
        n = len(read_all(bootstrap, "contacts.accepted", quiet_s=0.5)) + \
            len(read_all(bootstrap, "contacts.rejected", quiet_s=0.5))
        if n >= expect_outputs:
            break
        time.sleep(1)
    p.send_signal(signal.SIGTERM)
    p.wait(60)
    return n


def redrive(binary, bootstrap, args):
    r = subprocess.run([binary, "redrive", "-b", bootstrap, "--json"] + args, capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        print(r.stderr)
    return r.returncode, (json.loads(r.stdout.splitlines()[-1]) if r.stdout.strip() else {})


def main():
    binary = sys.argv[1]
    workdir = tempfile.mkdtemp(prefix="cg-redrive-")
    kdir = os.path.join(workdir, "kafka")
    bootstrap = None
    try:
        bootstrap = cgtest.start_broker(kdir)["bootstrap"]
        subprocess.run([binary, "topics", "create", "-b", bootstrap, "--partitions", "3"], check=True,
                       capture_output=True)
        old = os.path.join(workdir, "phone-8.12.57.bin")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "phone_metadata.py"), "build",
                        "--package", "/usr/lib/python3/dist-packages/phonenumbers", "--out", old], check=True)

        # New ranges (valid with 9.0.43, rejected by 8.12.57), invalid in both, valid in both, malformed.
        new_range = [contact(i, "+1353210%04d" % i, "US") for i in range(150)] + \
                    [contact(1000 + i, "+22901951%05d" % i, "BJ") for i in range(150)]
        still_bad = [contact(2000 + i, "+1415%d" % (i % 10), "US") for i in range(100)]
        good = [contact(3000 + i, "+1415555%04d" % i, "US") for i in range(200)]
        malformed = [b"not json %d" % i for i in range(20)]
        payloads = new_range + still_bad + good + malformed
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 10})
        for i, v in enumerate(payloads):
            p.produce("contacts.upsert", v, key=b"k%d" % (i % 7))
        p.flush(30)

        n = run_pipeline(binary, bootstrap, workdir, ["--set", "pipeline.phone_metadata=" + old], len(payloads), "old")
        check(n == len(payloads), "old-data pipeline wrote %d outcomes for %d payloads" % (n, len(payloads)))
        rejected = read_all(bootstrap, "contacts.rejected")
        check(len(rejected) == 300 + 100 + 20, "rejected with old data: %d (300 new-range + 100 invalid + 20 malformed)"
              % len(rejected))

        # 1. Dry runs.
        rc, d = redrive(binary, bootstrap, [])
        check(rc == 0 and d.get("finished") and d.get("mode") == "dry_run", "dry run finished: %s" % d)
        check(d.get("selected") == 420 and d.get("now_accepted") == 300 and d.get("still_rejected") == 100 and
              d.get("not_redrivable_malformed") == 20 and d.get("sent") == 0, "dry run figures: %s" % d)
        rc, d = redrive(binary, bootstrap, ["--reason", "INVALID_CONTACT_ID:TOO_SHORT"])
        check(rc == 0 and d.get("selected") == 100 and d.get("now_accepted") == 0, "dry run by CODE:DETAIL: %s" % d)
        rc, d = redrive(binary, bootstrap, ["--reason", "MALFORMED_PAYLOAD"])
        check(rc == 0 and d.get("selected") == 20 and d.get("not_redrivable_malformed") == 20,
              "malformed payloads are not redrivable: %s" % d)

        # 2. Redrive, SIGKILL part-way, resume, and a finished one sends nothing.
        args = ["--name", "upgrade-9.0.43", "--to", "contacts.upsert", "--reason", "INVALID_CONTACT_ID", "--rate", "50"]
        k = subprocess.Popen([binary, "redrive", "-b", bootstrap, "--json"] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        # SIGKILL once some of its transactions have committed (seen read_committed), well before the end.
        watch = Consumer({"bootstrap.servers": bootstrap, "group.id": "watch-" + uuid.uuid4().hex,
                          "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
        watch.subscribe(["contacts.upsert"])
        committed, deadline = 0, time.time() + 60
        while committed < 40 and time.time() < deadline and k.poll() is None:
            committed += sum(1 for m in watch.consume(100, 0.2)
                             if not m.error() and dict(m.headers() or []).get("contactgate.redrive.id"))
        watch.close()
        k.send_signal(signal.SIGKILL)
        k.wait(30)
        print("killed the first redrive after %d of its records were committed" % committed, flush=True)
        check(40 <= committed < 400, "the first redrive was killed part-way (%d committed)" % committed)
        rc, d = redrive(binary, bootstrap, args[:-2] + ["--rate", "0"])
        check(rc == 0 and d.get("finished"), "resumed redrive finished: %s" % d)
        check(0 < d.get("sent", 0) < 400, "the resumed run sent only what the killed one had not committed: %s" % d)
        rc, d = redrive(binary, bootstrap, args)
        check(rc == 0 and d.get("sent") == 0, "a finished redrive sends nothing again: %s" % d)
        inputs = read_all(bootstrap, "contacts.upsert", want=len(payloads) + 400)
        redriven = [(v, h) for v, h in inputs if h.get("contactgate.redrive.id") == b"upgrade-9.0.43"]
        froms = [h.get("contactgate.redrive.from") for _, h in redriven]
        check(len(redriven) == 400, "400 selected rejections on the input topic: %d" % len(redriven))
        check(len(set(froms)) == len(froms), "each sent exactly once (%d distinct of %d)" % (len(set(froms)), len(froms)))
        check(all(h.get("contactgate.redrive.count") == b"1" for _, h in redriven), "redrive count 1 on each")
        originals = set(new_range + still_bad)
        check(all(v in originals for v, _ in redriven), "the records sent are the original contact objects")

        # 3. The pipeline with the new data judges them again.
        n = run_pipeline(binary, bootstrap, workdir, [], len(payloads) + 400, "new")
        accepted = read_all(bootstrap, "contacts.accepted")
        rejected = read_all(bootstrap, "contacts.rejected")
        again = [h for _, h in rejected if h.get("contactgate.redrive.count") == b"1"]
        check(len(accepted) == 200 + 300, "new-range contacts now accepted: %d accepted in all (200 + 300)"
              % len(accepted))
        check(len(again) == 100, "still-invalid contacts rejected again carry their redrive count: %d" % len(again))

        # 4. The loop guard.
        rc, d = redrive(binary, bootstrap, ["--name", "second", "--to", "contacts.upsert", "--reason",
                                            "INVALID_CONTACT_ID", "--max-redrives", "1", "--rate", "0"])
        # (the 400 first rejections, never redriven under this name, are sent; the 100 rejected again are not)
        check(rc == 0 and d.get("loop_guarded") == 100 and d.get("sent") == 400,
              "already-redriven contacts are reported, not resent: %s" % d)
    finally:
        if bootstrap:
            cgtest.broker("stop", kdir, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
