#!/usr/bin/python3
"""Integration tests of `contactgate run` against a real Apache Kafka broker.

Started by ctest (label "integration"). Starts its own broker with
deploy/kafka/kafka_local.sh, produces a mixed stream, runs contactgate as a separate
process and checks the output topics. The expected verdict of every contact comes from
`contactgate validate` on the same payloads (the offline engine), so this test proves
the pipeline: nothing lost, one outcome per contact, the right reasons, exact bytes,
order per partition, restarts and a broker that comes up late.

Usage: pipeline_test.py CONTACTGATE_BINARY [--count N]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict

from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import broker, free_port, read_text  # noqa: E402

check = cgtest.Checks(ok=None)
failures = check.failures


class Stream:
    """A generated stream: NDJSON payloads, plus malformed ones between them."""

    def __init__(self, binary, count, seed):
        gen = subprocess.run([binary, "generate", "--count", str(count), "--seed", str(seed),
                              "--array-ratio", "0.1", "--bulk-ratio", "0.1"],
                             check=True, capture_output=True)
        lines = gen.stdout.split(b"\n")[:-1]
        bad = [b"not json", b"{\"contact_id\":", b"[1,2]", b"{}" + b"x", b"\xff\xfe", b"[]", b"null"]
        self.payloads = []
        for i, l in enumerate(lines):
            self.payloads.append(l)
            if i % 997 == 0:
                self.payloads.append(bad[(i // 997) % len(bad)])
        # Expected verdicts from the offline engine, keyed by (payload index, contact index).
        self.expected = {}
        for v in cgtest.validate(binary, self.payloads):
            key = (v["line"] - 1, -1 if v["index"] is None else v["index"])
            self.expected[key] = [(r["code"], r["detail"]) for r in v["reasons"]]
        self.contacts = len(self.expected)


def produce(bootstrap, topic, stream, keyed_every=3):
    """Produces every payload; returns {(partition, offset): payload index}."""
    where = {}
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "enable.idempotence": True})

    def dr(err, msg, idx):
        if err is None:
            where[(msg.partition(), msg.offset())] = idx
        else:
            failures.append("produce failed: %s" % err)

    for i, payload in enumerate(stream.payloads):
        key = ("k%d" % (i % 50)).encode() if i % keyed_every == 0 else None
        cgtest.produce(p, topic, payload, key=key, on_delivery=lambda e, m, i=i: dr(e, m, i))
    p.flush(60)
    return where


def consume_outputs(bootstrap, topics, want, timeout, where=None, expected=None):
    """Reads both output topics until `want` outcomes (or timeout). With `where` and
    `expected`, reads until every expected contact has been seen (duplicates do not count)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "checker-" + uuid.uuid4().hex,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    c.subscribe(topics)
    out = []
    deadline = time.time() + timeout
    seen = set()
    while time.time() < deadline and (len(out) < want if expected is None else len(seen) < len(expected)):
        for m in c.consume(1000, 1.0):
            if m.error():
                continue
            out.append((m.topic(), m.partition(), m.offset(), m.key(), m.value(), dict(m.headers() or [])))
            if expected is not None:
                h = out[-1][5]
                k = (where.get((int(h["contactgate.source.partition"]), int(h["contactgate.source.offset"]))),
                     int(h.get("contactgate.source.index", b"-1")))
                if k in expected:
                    seen.add(k)
    # A little longer, to see duplicates or extras that arrive late.
    end = time.time() + 2
    while time.time() < end:
        for m in c.consume(1000, 0.5):
            if not m.error():
                out.append((m.topic(), m.partition(), m.offset(), m.key(), m.value(), dict(m.headers() or [])))
    c.close()
    return out


def start_cg(binary, bootstrap, group, log_path, extra=()):
    return cgtest.start_contactgate(binary, ["--brokers", bootstrap, "--group", group,
                                             "--set", "pipeline.shutdown_timeout_ms=10000", "--set", "http.port=0",
                                             *extra], log_path, append=True)


def outcome_keys(outputs, where):
    """Maps outputs to (payload index, contact index); returns list of (key, output)."""
    keyed = []
    for topic, part, off, key, value, headers in outputs:
        src_p = int(headers["contactgate.source.partition"])
        src_o = int(headers["contactgate.source.offset"])
        idx = int(headers.get("contactgate.source.index", b"-1"))
        payload_idx = where.get((src_p, src_o))
        keyed.append(((payload_idx, idx), (topic, part, off, key, value, headers, src_p, src_o)))
    return keyed


def test_mixed_stream(binary, bootstrap, count, workdir):
    print("== test 1: mixed stream, %d payloads" % count, flush=True)
    stream = Stream(binary, count, seed=11)
    where = produce(bootstrap, "t1.in", stream)
    check(len(where) == len(stream.payloads), "all payloads produced")
    proc = start_cg(binary, bootstrap, "g1", os.path.join(workdir, "cg1.log"),
                    ["--set", "topics.input=t1.in", "--set", "topics.accepted=t1.ok", "--set", "topics.rejected=t1.bad"])
    t0 = time.time()
    outs = consume_outputs(bootstrap, ["t1.ok", "t1.bad"], stream.contacts, 180)
    print("   %d outcomes for %d contacts in %.1f s" % (len(outs), stream.contacts, time.time() - t0), flush=True)
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
    check(rc == 0, "contactgate exits 0 on SIGTERM (got %s)" % rc)
    keyed = outcome_keys(outs, where)
    seen = defaultdict(int)
    for k, o in keyed:
        seen[k] += 1
    check(len(outs) == stream.contacts, "accepted + rejected == input contacts (%d vs %d)" % (len(outs), stream.contacts))
    check(set(seen) == set(stream.expected), "every input contact has an outcome")
    check(all(v == 1 for v in seen.values()), "exactly one outcome per contact")
    wrong = 0
    for (pi, ci), (topic, part, off, key, value, headers, sp, so) in keyed:
        exp = stream.expected.get((pi, ci))
        payload = stream.payloads[pi]
        if topic == "t1.ok":
            if exp != [] or payload.find(value) < 0:
                wrong += 1
            elif payload.strip().startswith(b"{\"correlation_id\"") and value != payload.strip():
                wrong += 1  # a single-object payload: the value is the payload itself
        else:
            rec = json.loads(value)
            got = [(r["code"], r["detail"]) for r in rec["reasons"]]
            if got != exp or rec["error_code"] != 30647 or rec["source"]["offset"] != so:
                wrong += 1
            if ci >= 0 and json.loads(payload.decode()) is not None:
                if headers.get("contactgate.error.reasons", b"").decode() != ",".join("%s:%s" % g for g in got):
                    wrong += 1
    check(wrong == 0, "every outcome has the expected status, reasons and bytes (%d wrong)" % wrong)
    # Order: for each input partition, outputs in one output partition follow input order.
    last = {}
    disorder = 0
    for k, (topic, part, off, key, value, headers, sp, so) in sorted(keyed, key=lambda x: (x[1][0], x[1][1], x[1][2])):
        idx = k[1]
        lk = (topic, part, sp)
        if lk in last and last[lk] > (so, idx):
            disorder += 1
        last[lk] = (so, idx)
    check(disorder == 0, "per-partition input order preserved in outputs (%d out of order)" % disorder)


def test_restarts(binary, bootstrap, count, workdir):
    print("== test 2: SIGTERM and kill -9 mid-stream, then restart", flush=True)
    stream = Stream(binary, count, seed=22)
    where = produce(bootstrap, "t2.in", stream)
    topics = ["--set", "topics.input=t2.in", "--set", "topics.accepted=t2.ok", "--set", "topics.rejected=t2.bad"]
    logp = os.path.join(workdir, "cg2.log")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc = start_cg(binary, bootstrap, "g2", logp, topics)
        time.sleep(6)
        proc.send_signal(sig)
        rc = proc.wait(30)
        if sig == signal.SIGTERM:
            check(rc == 0, "SIGTERM: clean exit (got %s)" % rc)
    proc = start_cg(binary, bootstrap, "g2", logp, topics)
    outs = consume_outputs(bootstrap, ["t2.ok", "t2.bad"], stream.contacts, 180, where, stream.expected)
    # Keep reading until every contact is seen, duplicates allowed.
    keyed = outcome_keys(outs, where)
    got = set(k for k, _ in keyed)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    missing = set(stream.expected) - got
    dups = len(keyed) - len(got)
    print("   %d outcomes, %d distinct, %d duplicates, %d missing" % (len(keyed), len(got), dups, len(missing)), flush=True)
    check(not missing, "every contact has an outcome after restarts (%d missing)" % len(missing))


def test_two_instances(binary, bootstrap, count, workdir):
    print("== test 4: six partitions, two instances in one group, one stopped midway", flush=True)
    stream = Stream(binary, count, seed=44)
    where = produce(bootstrap, "t4.in", stream)
    topics = ["--set", "topics.input=t4.in", "--set", "topics.accepted=t4.ok", "--set", "topics.rejected=t4.bad",
              "--set", "pipeline.max_in_flight=2000"]
    # Two instances on one host: each needs its own group.instance.id (the default is one per host).
    a = start_cg(binary, bootstrap, "g4", os.path.join(workdir, "cg4a.log"),
                 topics + ["--set", "kafka.group_instance_id=g4-a"])
    b = start_cg(binary, bootstrap, "g4", os.path.join(workdir, "cg4b.log"),
                 topics + ["--set", "kafka.group_instance_id=g4-b"])
    time.sleep(5)
    a.send_signal(signal.SIGTERM)
    check(a.wait(30) == 0, "the stopped instance exits cleanly")
    outs = consume_outputs(bootstrap, ["t4.ok", "t4.bad"], stream.contacts, 180, where, stream.expected)
    b.send_signal(signal.SIGTERM)
    check(b.wait(30) == 0, "the remaining instance exits cleanly")
    keyed = outcome_keys(outs, where)
    got = set(k for k, _ in keyed)
    missing = set(stream.expected) - got
    print("   %d outcomes, %d distinct, %d duplicates, %d missing" % (len(keyed), len(got), len(keyed) - len(got),
                                                                     len(missing)), flush=True)
    check(not missing, "every contact has an outcome with two instances (%d missing)" % len(missing))


def test_internal_errors(binary, bootstrap, workdir):
    print("== test 5: INTERNAL_SERVER_ERROR: injected faults, outputs too large, support bundle", flush=True)
    from confluent_kafka.admin import AdminClient, NewTopic
    import urllib.request
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic("t5.in", 3, 1), NewTopic("t5.bad", 3, 1), NewTopic("t5.ok", 3, 1),
                              NewTopic("t6.in", 3, 1), NewTopic("t6.bad", 3, 1),
                              NewTopic("t6.ok", 3, 1, config={"max.message.bytes": "20000"})])
    for f in fs.values():
        f.result(30)
    stream = Stream(binary, 3000, seed=55)
    where = produce(bootstrap, "t5.in", stream)
    port = free_port()
    proc = start_cg(binary, bootstrap, "g5", os.path.join(workdir, "cg5.log"),
                    ["--set", "topics.input=t5.in", "--set", "topics.accepted=t5.ok", "--set", "topics.rejected=t5.bad",
                     "--set", "testing.fault_rate=0.05", "--set", "http.port=%d" % port])
    n_contacts = stream.contacts
    outs = consume_outputs(bootstrap, ["t5.ok", "t5.bad"], n_contacts, 120)
    _, body = None, urllib.request.urlopen("http://127.0.0.1:%d/v1/support/recent-internal-errors" % port, timeout=5).read()
    recent = json.loads(body)["internal_errors"]
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(30) == 0, "exits 0 with injected faults")
    check(len(outs) == n_contacts, "one outcome per contact with injected faults (%d vs %d)" % (len(outs), n_contacts))
    ise = [json.loads(v) for (t, p, o, k, v, h) in outs if t == "t5.bad"
           and b"INTERNAL_SERVER_ERROR" in h.get("contactgate.error.reasons", b"")]
    print("   %d internal errors from injected faults" % len(ise), flush=True)
    check(len(ise) > 50, "injected faults (5%%) become INTERNAL_SERVER_ERROR rejections (%d)" % len(ise))
    check(all(r["retryable"] is True and r["reasons"][0]["detail"] == "PROCESSING_FAILED" for r in ise),
          "internal errors are retryable with detail PROCESSING_FAILED")
    check(len(recent) == len(ise), "/v1/support/recent-internal-errors lists them all (%d vs %d)" % (len(recent), len(ise)))
    sb = subprocess.run([binary, "support-bundle", "-b", bootstrap, "--set", "topics.input=t5.in",
                         "--set", "topics.accepted=t5.ok", "--set", "topics.rejected=t5.bad",
                         "--set", "kafka.consumer.ssl.key.password=s3cr3t-value", "--metrics-url",
                         "http://127.0.0.1:%d/metrics" % free_port()], capture_output=True, text=True, timeout=120)
    ids_in_bundle = set(re.findall(r"^(\S+) \d{4}-\d\d-\d\dT", sb.stdout, re.M))
    want_ids = set(r["correlation_id"] for r in ise if r["correlation_id"])
    check(len(want_ids) >= 3 and want_ids <= ids_in_bundle,
          "support-bundle lists the internal errors' correlation_ids (%d of %d)" % (len(want_ids & ids_in_bundle), len(want_ids)))
    check("s3cr3t-value" not in sb.stdout + sb.stderr and "<redacted>" in sb.stdout, "support-bundle redacts secrets")
    check("libphonenumber" in sb.stdout and "iso-codes" in sb.stdout, "support-bundle shows versions")

    # Transient faults are retried in-process: no INTERNAL_SERVER_ERROR from them. Outputs
    # larger than the accepted topic's max.message.bytes become INTERNAL_SERVER_ERROR
    # rejections with the record omitted.
    import base64
    stream6 = Stream(binary, 2000, seed=66)
    big = ('{"correlation_id":"%s","contact_id":"+14155552671","country_iso_code":"US","notes":"%s"}')
    big_ids = ["%032x" % (0xb16 * 1000 + i) for i in range(5)]
    for cid in big_ids:
        noise = base64.b64encode(os.urandom(45000)).decode()  # incompressible: lz4 cannot shrink it
        stream6.payloads.append((big % (cid, noise)).encode())
    produce(bootstrap, "t6.in", stream6)
    proc = start_cg(binary, bootstrap, "g6", os.path.join(workdir, "cg6.log"),
                    ["--set", "topics.input=t6.in", "--set", "topics.accepted=t6.ok", "--set", "topics.rejected=t6.bad",
                     "--set", "testing.fault_rate=0.3", "--set", "testing.fault_mode=transient",
                     # A producer batch must fit the topic's max.message.bytes (Kafka limits batches).
                     "--set", "kafka.producer.batch.size=16000"])
    n6 = stream6.contacts + len(big_ids)
    outs6 = consume_outputs(bootstrap, ["t6.ok", "t6.bad"], n6, 120)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    ise6 = [json.loads(v) for (t, p, o, k, v, h) in outs6 if b"INTERNAL_SERVER_ERROR" in h.get("contactgate.error.reasons", b"")]
    check(len(outs6) == n6, "transient faults: every contact judged once (%d of %d)" % (len(outs6), n6))
    check(sorted(r["correlation_id"] for r in ise6) == sorted(big_ids) and
          all(r["record_encoding"] == "omitted" and r["record"] is None for r in ise6),
          "transient faults are retried away; only the 5 outputs the topic refuses as too large become "
          "INTERNAL_SERVER_ERROR, with the record omitted (%d)" % len(ise6))


def test_exactly_once(binary, bootstrap, count, workdir):
    print("== test 6: exactly_once, kill -9 twice mid-stream, then restart: no loss, no duplicate", flush=True)
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(t, 3, 1) for t in ("t7.in", "t7.ok", "t7.bad")]).values():
        f.result(30)
    stream = Stream(binary, count, seed=77)
    where = produce(bootstrap, "t7.in", stream)
    args = ["--set", "topics.input=t7.in", "--set", "topics.accepted=t7.ok", "--set", "topics.rejected=t7.bad",
            "--set", "processing.guarantee=exactly_once", "--set", "kafka.consumer.session.timeout.ms=6000"]
    logp = os.path.join(workdir, "cg7.log")
    for delay in (2, 9):
        proc = start_cg(binary, bootstrap, "g7", logp, args)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    proc = start_cg(binary, bootstrap, "g7", logp, args)
    outs = consume_outputs(bootstrap, ["t7.ok", "t7.bad"], stream.contacts, 180, where, stream.expected)
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(30) == 0, "exactly_once: clean exit on SIGTERM")
    keyed = outcome_keys(outs, where)
    got = set(k for k, _ in keyed)
    missing = set(stream.expected) - got
    dups = len(keyed) - len(got)
    print("   %d outcomes, %d distinct, %d duplicates, %d missing" % (len(keyed), len(got), dups, len(missing)), flush=True)
    check(not missing and dups == 0, "exactly_once: every contact exactly once after kill -9 (read_committed)")


def test_exactly_once_refused_output(binary, bootstrap, workdir):
    print("== test 7: exactly_once, an output produce() refuses: never committed past, no loss, no duplicate",
          flush=True)
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(t, 3, 1) for t in ("t8.in", "t8.ok", "t8.bad")]).values():
        f.result(30)
    gen = subprocess.run([binary, "generate", "--count", "600", "--seed", "88", "--invalid-ratio", "0"],
                         check=True, capture_output=True)
    payloads = gen.stdout.split(b"\n")[:-1]
    # A correlation_id of 3,000 characters: its rejection, and the INTERNAL_SERVER_ERROR
    # rejection that stands in for an output too large (it keeps the correlation_id), are
    # both larger than kafka.producer.message.max.bytes=1000, so produce() refuses it.
    poison = ('{"correlation_id":"%s","contact_id":"+14155552671","country_iso_code":"US"}' % ("ab" * 1500)).encode()
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    where = {}
    for i, v in enumerate(payloads[:300] + [poison] + payloads[300:]):
        p.produce("t8.in", v, partition=i % 3, on_delivery=lambda e, m, i=i: where.__setitem__(i, (m.partition(), m.offset())))
    p.flush(30)
    poison_at = where[300]
    proc = start_cg(binary, bootstrap, "g8", os.path.join(workdir, "cg8.log"),
                    ["--set", "topics.input=t8.in", "--set", "topics.accepted=t8.ok", "--set", "topics.rejected=t8.bad",
                     "--set", "processing.guarantee=exactly_once", "--set", "kafka.producer.message.max.bytes=1000"])
    # The refused record's partition stops just before it; the others are committed to their end.
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g8", "enable.auto.commit": False})
    ends = {q: c.get_watermark_offsets(TopicPartition("t8.in", q), timeout=10)[1] for q in range(3)}
    want = {q: (poison_at[1] if q == poison_at[0] else ends[q]) for q in range(3)}
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
        committed = {tp.partition: tp.offset
                     for tp in c.committed([TopicPartition("t8.in", q) for q in range(3)], timeout=15)}
        if committed == want:
            break
        time.sleep(1)
    time.sleep(2)  # nothing more may be committed on the stopped partition
    committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition("t8.in", q) for q in range(3)], timeout=15)}
    c.close()
    check(committed == want, "exactly_once: the refused record's partition is committed up to it and no further, the "
          "others to their end (committed %s, want %s)" % (committed, want))
    text = read_text(os.path.join(workdir, "cg8.log"))
    check("refused" in text and "is stopped at offset %d" % poison_at[1] in text,
          "exactly_once: the log says which partition is stopped at which offset, and why")
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(30) == 0, "exactly_once with a stopped partition: clean exit on SIGTERM")
    # read_committed: exactly one outcome for every committed input, none for the others.
    outs = consume_outputs(bootstrap, ["t8.ok", "t8.bad"], 10 ** 9, 20)
    got = defaultdict(int)
    for topic, part, off, key, value, headers in outs:
        got[(int(headers["contactgate.source.partition"]), int(headers["contactgate.source.offset"]))] += 1
    should = {(q, o) for (q, o) in where.values() if o < committed[q]}
    lost = should - set(got)
    extra = set(got) - should
    dups = sum(n - 1 for n in got.values() if n > 1)
    print("   committed %s; %d outcomes for %d committed inputs, %d lost, %d beyond the commit, %d duplicated"
          % (committed, len(outs), len(should), len(lost), len(extra), dups), flush=True)
    check(not lost and not extra and dups == 0 and len(should) == sum(want.values()),
          "exactly_once with a refused output: one outcome per committed input, none past the commit")


def test_missing_topics_not_created(binary, bootstrap, workdir):
    print("== test 8: missing topics: exit 1 with what to do, and the check creates none of them", flush=True)
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap})
    # kafka_local.sh's broker auto-creates topics on metadata requests (Kafka's default).
    for guarantee in ("at_least_once", "exactly_once"):
        tag = uuid.uuid4().hex[:6]
        names = ["t9.%s.%s" % (tag, t) for t in ("in", "ok", "bad")]
        proc = start_cg(binary, bootstrap, "g9", os.path.join(workdir, "cg9.log"),
                        ["--set", "topics.input=" + names[0], "--set", "topics.accepted=" + names[1],
                         "--set", "topics.rejected=" + names[2], "--set", "processing.guarantee=" + guarantee])
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        text = read_text(os.path.join(workdir, "cg9.log"))
        check(rc == 1 and "do not exist" in text and "contactgate topics create" in text,
              "%s: missing topics: exit 1 saying to create them (rc %s)" % (guarantee, rc))
        time.sleep(2)  # a topic created by the check would show up by now
        existing = set(admin.list_topics(timeout=10).topics)
        made = [n for n in names if n in existing]
        check(not made, "%s: checking for missing topics creates none of them (created: %s)" % (guarantee, made))


def test_broker_late(binary, kdir, workdir):
    print("== test 3: broker down at start, up later", flush=True)
    bootstrap = open(os.path.join(kdir, "bootstrap")).read().strip()
    broker("stop", kdir)
    proc = start_cg(binary, bootstrap, "g3", os.path.join(workdir, "cg3.log"),
                    ["--set", "topics.input=t1.in", "--set", "topics.accepted=t3.ok", "--set", "topics.rejected=t3.bad"])
    time.sleep(8)
    check(proc.poll() is None, "contactgate keeps retrying while the broker is down")
    broker("restart", kdir)
    outs = consume_outputs(bootstrap, ["t3.ok", "t3.bad"], 1, 120)
    check(len(outs) > 0, "processing starts by itself once the broker is up")
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--count", type=int, default=int(os.environ.get("CG_IT_COUNT", "70000")))
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="cg-it-")
    kdir = os.path.join(workdir, "kafka")
    bootstrap = cgtest.start_broker(kdir)["bootstrap"]
    print("broker at", bootstrap, flush=True)
    try:
        for t, parts in (("t1", 3), ("t2", 3), ("t3", 3), ("t4", 6)):
            subprocess.run([args.binary, "topics", "create", "--brokers", bootstrap, "--partitions", str(parts),
                            "--set", "topics.input=%s.in" % t, "--set", "topics.accepted=%s.ok" % t,
                            "--set", "topics.rejected=%s.bad" % t], check=True)
        test_mixed_stream(args.binary, bootstrap, args.count, workdir)
        test_restarts(args.binary, bootstrap, args.count // 2, workdir)
        test_two_instances(args.binary, bootstrap, args.count // 2, workdir)
        test_internal_errors(args.binary, bootstrap, workdir)
        test_exactly_once(args.binary, bootstrap, args.count // 2, workdir)
        test_exactly_once_refused_output(args.binary, bootstrap, workdir)
        test_missing_topics_not_created(args.binary, bootstrap, workdir)
        test_broker_late(args.binary, kdir, workdir)
    finally:
        broker("stop", kdir)
    if failures:
        print("contactgate logs in", workdir)
        print("0 passed, %d failed" % len(failures))
        sys.exit(1)
    shutil.rmtree(workdir, ignore_errors=True)
    print("integration: all checks passed")


if __name__ == "__main__":
    main()
