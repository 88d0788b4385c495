#!/usr/bin/python3
"""Chaos test of `contactgate run` against a real Apache Kafka broker (issue 6, label "stress").

For each guarantee mode (at_least_once, exactly_once) on its own topics and group:
produces a known set of contacts (every contact with a unique correlation_id, plus a few
malformed payloads), runs contactgate, and while it works (a trickle of new payloads
keeps arriving): SIGKILLs it at random moments (seeded) and restarts it within 1 s;
SIGSTOPs it for longer than the consumer's session.timeout.ms while a second instance
joins the group and takes its partitions, SIGCONTs it and stops the second one with
SIGTERM; restarts the broker. Then it lets the last instance drain, stops it with SIGTERM
and reads both output topics (isolation.level=read_committed) to count, per mode: inputs,
outcomes, lost, duplicated.

Required: exactly_once: 0 lost, 0 duplicated. at_least_once: 0 lost, re-processed input
messages <= (kills + pauses + broker restarts) x pipeline.max_in_flight.

Outcomes are matched to inputs by their source headers (contactgate.source.partition,
.offset, .index) through the producer's delivery reports, and the correlation_id of each
outcome must be the one of its input contact (so a misattributed outcome is caught too).

Usage: chaos_test.py CONTACTGATE_BINARY [--large] [--seed S] [--modes at_least_once,exactly_once]
                     [--require-eos] [--shared-txn-id] [--contacts N] [--kills K] [--keep]
Exit: 0 all passed; 1 a failure (loss, EOS duplicates, ALO duplicates above the bound,
crash, unclean exit); 77 exactly_once is not available in this build (at_least_once
passed) and --require-eos was not given.
"""
import argparse
import calendar
import json
import logging
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import broker, read_text  # noqa: E402

SKIPPED = 77
SESSION_TIMEOUT_MS = 10000  # contactgate's default (6000 made librdkafka 2.0.2 fence its own static member at the broker restart)
MAX_IN_FLIGHT = 2000
PARTITIONS = 6

T0 = time.time()
# The harness's own Kafka clients log to a file in the work directory (set in main), not
# to the terminal: the broker restart makes them complain, as it should.
CLIENT_LOG = logging.getLogger("kafka-clients")
CLIENT_LOG.propagate = False
check = cgtest.Checks(ok=None)
failures = check.failures


def say(msg):
    print("[%6.1fs] %s" % (time.time() - T0, msg), flush=True)


def tail(path, n=15):
    try:
        lines = read_text(path).splitlines()
        return "\n".join("      " + l for l in lines[-n:])
    except OSError:
        return "      (no log)"


# ---------------------------------------------------------------------------------------
# The workload: generated payloads, every contact given a fresh unique correlation_id.


HEX = set("0123456789abcdefABCDEF")


def new_id_like(old, fresh):
    """A unique replacement for `old` that keeps its class: a valid id stays valid, the
    hyphenated UUID form stays hyphenated, any other invalid string stays invalid."""
    if len(old) == 32 and set(old) <= HEX:
        return fresh
    if len(old) == 36 and old.count("-") == 4:
        return "%s-%s-%s-%s-%s" % (fresh[:8], fresh[8:12], fresh[12:16], fresh[16:20], fresh[20:])
    return fresh + "z"  # 33 characters: still not a valid id, still unique


class Workload:
    """Payloads 0..upfront-1 are produced before contactgate starts, the rest trickle in
    during the chaos. `expected[(payload index, contact index or -1)]` is
    (status, correlation_id or None), from `contactgate validate` on the final bytes."""

    def __init__(self, binary, upfront_contacts, trickle_contacts, seed, tag):
        self.payloads = []
        self.upfront = 0
        seq = [0]

        def fresh():
            seq[0] += 1
            return "%s%024x" % (tag, seq[0])  # tag: 8 hex digits per run and mode

        bad = [b"not json", b"{\"contact_id\":", b"[1,2]", b"{}x", b"\xff\xfe", b"[]", b"null"]
        for part, want in (("upfront", upfront_contacts), ("trickle", trickle_contacts)):
            gen = subprocess.run([binary, "generate", "--count", str(int(want / 1.3) + 10), "--seed",
                                  str(seed + (0 if part == "upfront" else 1)), "--array-ratio", "0.05",
                                  "--bulk-ratio", "0.05"], check=True, capture_output=True)
            n = 0
            for i, line in enumerate(gen.stdout.split(b"\n")[:-1]):
                if n >= want:
                    break
                self.payloads.append(self.rewrite(line, fresh))
                n += self.contacts_in(line)
                if i % 997 == 500:
                    self.payloads.append(bad[(i // 997) % len(bad)])
                    n += 1
            if part == "upfront":
                self.upfront = len(self.payloads)
        self.expected = {}
        self.per_payload = Counter()
        for v in cgtest.validate(binary, self.payloads):
            key = (v["line"] - 1, -1 if v["index"] is None else v["index"])
            cid = v["correlation_id"] if isinstance(v["correlation_id"], str) else None
            self.expected[key] = (v["status"], cid)
            self.per_payload[v["line"] - 1] += 1
        ids = Counter(cid for _, cid in self.expected.values() if cid)
        self.unique_ids = sum(1 for c in ids.values() if c == 1)

    @staticmethod
    def contacts_in(line):
        try:
            v = json.loads(line)
        except ValueError:
            return 1
        if isinstance(v, dict) and isinstance(v.get("contacts"), list):
            return max(1, len(v["contacts"]))
        return max(1, len(v)) if isinstance(v, list) else 1

    @staticmethod
    def rewrite(line, fresh):
        """Replaces every string correlation_id in the payload bytes (compact JSON from
        `contactgate generate`), keeping all other bytes as they are."""
        try:
            v = json.loads(line)
        except ValueError:
            return line
        contacts = v["contacts"] if isinstance(v, dict) and isinstance(v.get("contacts"), list) else (
            v if isinstance(v, list) else [v])
        done = {}
        for c in contacts:
            old = c.get("correlation_id") if isinstance(c, dict) else None
            if not isinstance(old, str) or old in done:
                continue  # missing, wrong type, or a duplicate in the request: kept as is
            done[old] = new_id_like(old, fresh())
            needle = json.dumps({"correlation_id": old}, separators=(",", ":"))[1:-1].encode()
            line = line.replace(needle, json.dumps({"correlation_id": done[old]}, separators=(",", ":"))[1:-1].encode())
        return line

    def contacts_between(self, a, b):
        return sum(self.per_payload[i] for i in range(a, b))


class InputProducer:
    """Produces payloads by index; `where[(partition, offset)] = payload index` from the
    delivery reports."""

    def __init__(self, bootstrap, topic, wl, where, when):
        self.topic, self.wl, self.where, self.when = topic, wl, where, when
        self.errors = 0
        self.p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True},
                          logger=CLIENT_LOG)

    def _dr(self, err, msg, idx):
        if err is None:
            self.where[(msg.partition(), msg.offset())] = idx
            self.when[idx] = msg.timestamp()[1]
        else:
            self.errors += 1

    def send(self, idx):
        key = ("k%d" % (idx % 50)).encode() if idx % 3 == 0 else None
        cgtest.produce(self.p, self.topic, self.wl.payloads[idx], key=key,
                       on_delivery=lambda e, m, i=idx: self._dr(e, m, i))

    def flush(self, timeout=120):
        return self.p.flush(timeout)


class Trickle(threading.Thread):
    """Produces the trickle payloads at `rate` payloads/s until stopped or exhausted."""

    def __init__(self, bootstrap, topic, wl, where, when, rate):
        super().__init__(daemon=True)
        self.prod = InputProducer(bootstrap, topic, wl, where, when)
        self.wl, self.rate = wl, rate
        self.next = wl.upfront
        self.stop_ev = threading.Event()

    def run(self):
        start = time.time()
        while not self.stop_ev.is_set() and self.next < len(self.wl.payloads):
            due = self.wl.upfront + int((time.time() - start) * self.rate)
            while self.next < min(due, len(self.wl.payloads)):
                self.prod.send(self.next)
                self.next += 1
            self.prod.p.poll(0.05)

    def finish(self):
        self.stop_ev.set()
        self.join()
        left = self.prod.flush()
        return left


# ---------------------------------------------------------------------------------------
# contactgate instances


class Instance:
    count = 0

    def __init__(self, mode, slot):
        Instance.count += 1
        self.mode, self.slot = mode, slot
        self.log_path = os.path.join(mode.workdir, "%s.%s%d.log" % (mode.short, slot, Instance.count))
        args = ["--brokers", mode.bootstrap, "--group", mode.group,
                "--set", "topics.input=" + mode.t_in, "--set", "topics.accepted=" + mode.t_ok,
                "--set", "topics.rejected=" + mode.t_bad, "--set", "http.port=0",
                "--set", "kafka.consumer.session.timeout.ms=%d" % SESSION_TIMEOUT_MS,
                "--set", "pipeline.max_in_flight=%d" % MAX_IN_FLIGHT,
                "--set", "pipeline.shutdown_timeout_ms=10000"]
        # Slots a and b run side by side on this host: each needs its own group.instance.id
        # (static membership); a restart after SIGKILL reuses its slot's and takes the
        # partitions back at once.
        args += ["--set", "kafka.group_instance_id=chaos-%s-%s" % (mode.tag, slot)]
        if mode.has_guarantee_key:
            args += ["--set", "processing.guarantee=" + mode.name]
            if mode.name == "exactly_once" and not mode.shared_txn_id:
                # One transactional.id per slot: a restart after SIGKILL reuses it (and fences
                # the dead one's open transaction); the second instance has its own.
                args += ["--set", "processing.transactional_id=chaos-%s-%s" % (mode.tag, slot)]
        args += mode.args.run_args
        self.proc = cgtest.start_contactgate(mode.binary, args, self.log_path, append=True)
        self.started = time.time()
        self.stopped = False  # SIGSTOPped right now
        self.expected_exit = False
        mode.all_procs.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def assignments(self):
        """How many non-empty assignments the instance has logged."""
        try:
            with open(self.log_path, "rb") as f:
                return len(re.findall(rb"assigned partitions \[\d", f.read()))
        except OSError:
            return 0

    def wait_assigned(self, n=1, timeout=40):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.assignments() >= n:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def signal(self, sig):
        self.proc.send_signal(sig)

    def terminate(self, timeout=40):
        """SIGTERM, wait; returns the exit code (None when it did not exit in time)."""
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        self.expected_exit = True
        if self.proc.poll() is None:
            if self.stopped:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()


# ---------------------------------------------------------------------------------------
# One mode: the schedule and the checker


class Mode:
    def __init__(self, args, name, bootstrap, kdir, workdir, has_guarantee_key):
        self.args, self.name, self.binary = args, name, args.binary
        self.bootstrap, self.kdir, self.workdir = bootstrap, kdir, workdir
        self.short = "alo" if name == "at_least_once" else "eos"
        self.tag = uuid.uuid4().hex[:8]
        self.t_in, self.t_ok, self.t_bad = ("chaos.%s.%s.%s" % (self.short, self.tag, t) for t in ("in", "ok", "bad"))
        self.group = "chaos-%s-%s" % (self.short, self.tag)
        self.has_guarantee_key = has_guarantee_key
        self.shared_txn_id = args.shared_txn_id
        self.rng = random.Random("%d-%s" % (args.seed, name))
        self.all_procs = []
        self.events = Counter()
        self.unexpected_exits = []

    def ev(self, msg):
        say("%s: %s" % (self.short, msg))

    def alive(self, inst, what):
        """A supervisor: if `inst` exited on its own, records it and starts a new one."""
        rc = inst.proc.poll()
        if rc is None:
            return inst
        self.unexpected_exits.append((inst.log_path, rc, what))
        self.ev("UNEXPECTED EXIT of %s (pid %d, rc %s) %s; log tail:\n%s" % (inst.slot, inst.pid, rc, what,
                                                                            tail(inst.log_path)))
        return Instance(self, inst.slot)

    def lag(self):
        """{partition: (committed, high watermark)} of the input topic for the group."""
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.group, "enable.auto.commit": False},
                     logger=CLIENT_LOG)
        try:
            tps = [TopicPartition(self.t_in, p) for p in range(PARTITIONS)]
            committed = c.committed(tps, timeout=15)
            out = {}
            for tp in committed:
                _, hi = c.get_watermark_offsets(TopicPartition(self.t_in, tp.partition), timeout=10, cached=False)
                out[tp.partition] = (tp.offset, hi)
            return out
        finally:
            c.close()

    def run(self):
        a = self.args
        say("== %s (topics chaos.%s.%s.*, group %s, seed %d)" % (self.name, self.short, self.tag, self.group, a.seed))
        subprocess.run([self.binary, "topics", "create", "--brokers", self.bootstrap, "--partitions", str(PARTITIONS),
                        "--set", "topics.input=" + self.t_in, "--set", "topics.accepted=" + self.t_ok,
                        "--set", "topics.rejected=" + self.t_bad], check=True, capture_output=True)
        trickle_contacts = int(a.trickle_rate * 1.35 * a.trickle_seconds)
        wl = Workload(self.binary, a.contacts, trickle_contacts, a.seed, self.tag)
        self.wl = wl
        self.where, self.when = {}, {}
        up = InputProducer(self.bootstrap, self.t_in, wl, self.where, self.when)
        for i in range(wl.upfront):
            up.send(i)
        up.flush()
        self.ev("produced %d payloads (%d contacts) up front; %d payloads (%d contacts) ready to trickle at %d/s"
                % (wl.upfront, wl.contacts_between(0, wl.upfront), len(wl.payloads) - wl.upfront,
                   wl.contacts_between(wl.upfront, len(wl.payloads)), a.trickle_rate))
        trickle = Trickle(self.bootstrap, self.t_in, wl, self.where, self.when, a.trickle_rate)
        t_start = time.time()
        inst = Instance(self, "a")
        trickle.start()

        # 1. SIGKILL at random moments (after the instance got its partitions), restart within 1 s.
        for k in range(a.kills):
            inst = self.alive(inst, "before kill %d" % (k + 1))
            if not inst.wait_assigned(1, 40):
                inst = self.alive(inst, "while waiting for partitions")
                self.ev("instance %d not assigned partitions within 40 s; killing anyway" % inst.pid)
            delay = self.rng.uniform(0.2, 3.0)
            time.sleep(delay)
            inst = self.alive(inst, "before kill %d" % (k + 1))
            inst.kill()
            self.events["kills"] += 1
            gap = self.rng.uniform(0.05, 1.0)
            self.ev("SIGKILL #%d (pid %d, %.1f s after its assignment); restart in %.2f s"
                    % (k + 1, inst.pid, delay, gap))
            time.sleep(gap)
            inst = Instance(self, "a")

        # 2. SIGSTOP longer than session.timeout.ms; a second instance joins and takes the partitions.
        if not inst.wait_assigned(1, 40):
            inst = self.alive(inst, "while waiting for partitions")
        time.sleep(self.rng.uniform(0.3, 2.0))
        inst = self.alive(inst, "before SIGSTOP")
        pause = SESSION_TIMEOUT_MS / 1000.0 + 4
        inst.signal(signal.SIGSTOP)
        inst.stopped = True
        t_stop = time.time()
        self.events["pauses"] += 1
        self.ev("SIGSTOP pid %d for %.0f s (session.timeout.ms %d); starting a second instance"
                % (inst.pid, pause, SESSION_TIMEOUT_MS))
        time.sleep(1.0)
        second = Instance(self, "b")
        time.sleep(max(0.0, t_stop + pause - time.time()))
        inst.signal(signal.SIGCONT)
        inst.stopped = False
        took = second.wait_assigned(1, 1)
        self.ev("SIGCONT pid %d; the second instance (pid %d) %s partitions while it was stopped"
                % (inst.pid, second.pid, "got" if took else "did NOT get"))
        check(took, "%s: the second instance takes the partitions of the stopped one" % self.name)
        time.sleep(5)
        second = self.alive(second, "while both instances run")
        inst = self.alive(inst, "after SIGCONT")
        rc = second.terminate()
        self.ev("SIGTERM to the second instance: exit %s" % rc)
        check(rc == 0, "%s: the second instance exits 0 on SIGTERM (got %s)" % (self.name, rc))

        # 3. Restart the broker while work goes on.
        time.sleep(self.rng.uniform(0.5, 2.0))
        t = time.time()
        broker("restart", self.kdir)
        self.events["broker_restarts"] += 1
        self.ev("broker restarted in %.1f s" % (time.time() - t))
        time.sleep(3)
        inst = self.alive(inst, "after the broker restart")

        # 4. Stop the trickle, let the last instance drain, stop it with SIGTERM.
        left = trickle.finish()
        check(left == 0 and up.errors == 0 and trickle.prod.errors == 0,
              "%s: every input payload produced (%d undelivered, %d errors)"
              % (self.name, left, up.errors + trickle.prod.errors))
        self.ev("trickle stopped after %d payloads; chaos phase took %.0f s"
                % (trickle.next - wl.upfront, time.time() - t_start))
        drained, t, last_lag, last_move, lg = False, time.time(), None, time.time(), {}
        while time.time() - t < a.drain_timeout:
            inst = self.alive(inst, "while draining")
            try:
                lg = self.lag()
            except Exception as e:  # noqa: BLE001 (the broker may still be settling)
                self.ev("lag query failed: %s" % e)
                time.sleep(1)
                continue
            total = sum(max(0, hi - max(c, 0)) for c, hi in lg.values())
            if total == 0 and all(c >= 0 for c, hi in lg.values() if hi > 0):
                drained = True
                break
            if total != last_lag:
                last_lag, last_move = total, time.time()
            elif time.time() - last_move > 30:
                break  # no progress for 30 s: stuck
            time.sleep(1)
        self.ev("drain: %s in %.1f s; committed/end per partition: %s"
                % ("done" if drained else "NOT DONE", time.time() - t,
                   " ".join("p%d=%d/%d" % (p, c, hi) for p, (c, hi) in sorted(lg.items()))))
        if not drained:
            self.ev("last instance log tail:\n" + tail(inst.log_path, 25))
        check(drained, "%s: the group's committed offsets reach the end of the input (no stuck partition)" % self.name)
        rc = inst.terminate()
        self.ev("SIGTERM to the last instance: exit %s" % rc)
        check(rc == 0, "%s: the last instance exits 0 on SIGTERM (got %s)" % (self.name, rc))
        for p in self.all_procs:
            p.kill()
        crashes = [(lp, rc, w) for lp, rc, w in self.unexpected_exits]
        check(not crashes, "%s: no unexpected exits (%s)" % (self.name, "; ".join("%s rc=%s %s" % c for c in crashes)))
        self.runtime = time.time() - t_start
        return self.verify()

    # -- the checker --

    def open_transactions(self, committed, raw):
        """Output partitions whose last stable offset (the read_committed end) is below the
        high watermark: a transaction is still open there and holds read_committed readers back."""
        hanging = []
        for t in (self.t_ok, self.t_bad):
            for p in range(PARTITIONS):
                _, lso = committed.get_watermark_offsets(TopicPartition(t, p), timeout=10, cached=False)
                _, hwm = raw.get_watermark_offsets(TopicPartition(t, p), timeout=10, cached=False)
                if lso < hwm:
                    hanging.append("%s[%d] %d < %d" % (t, p, lso, hwm))
        return hanging

    def read_outputs(self):
        """Both output topics, read_committed, from the beginning to the end. Every instance
        is stopped by now, so an open transaction can only end by the coordinator's timeout:
        wait for that first (and report it), then read."""
        conf = {"bootstrap.servers": self.bootstrap, "group.id": "checker-" + uuid.uuid4().hex,
                "enable.auto.commit": False, "enable.partition.eof": True,
                "isolation.level": "read_committed"}
        c = Consumer(conf, logger=CLIENT_LOG)
        raw = Consumer(dict(conf, **{"isolation.level": "read_uncommitted"}), logger=CLIENT_LOG)
        deadline = time.time() + self.args.read_timeout
        t0 = time.time()
        hanging = self.open_transactions(c, raw)
        self.hanging = list(hanging)
        if hanging:
            self.ev("open transaction(s) after every instance stopped: %s; waiting for them to end" % ", ".join(hanging))
            while hanging and time.time() < deadline:
                time.sleep(2)
                hanging = self.open_transactions(c, raw)
            self.ev("open transactions %s after %.0f s" % ("still open" if hanging else "ended", time.time() - t0))
        raw.close()
        tps = [TopicPartition(t, p, OFFSET_BEGINNING) for t in (self.t_ok, self.t_bad) for p in range(PARTITIONS)]
        c.assign(tps)
        out, eof = [], set()
        while time.time() < deadline and len(eof) < len(tps):
            # poll(), not consume(n): librdkafka 2.0.2's batch consume can skip messages when
            # the assignment changes (see README.md); the checker must not have that doubt.
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add((m.topic(), m.partition()))
                continue
            eof.discard((m.topic(), m.partition()))
            out.append((m.topic(), m.value(), dict(m.headers() or [])))
        c.close()
        return out, len(eof) == len(tps) and not hanging

    def explain(self, payload, where):
        """Prints what the contactgate instances logged around the time a lost input was produced."""
        t = self.when.get(payload, 0) / 1000.0
        print("   input p%d@%d (payload %d) was produced at %s; contactgate logs from -1 s to +2 s:"
              % (where[0], where[1], payload, time.strftime("%H:%M:%S", time.gmtime(t)) + ".%03d" % (t * 1000 % 1000)),
              flush=True)
        shown = 0
        for inst in self.all_procs:
            try:
                lines = read_text(inst.log_path).splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    rec = json.loads(line)
                    ts = rec["ts"]
                    lt = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + float(ts[19:-1] or 0)
                except (ValueError, KeyError):
                    continue
                if t - 1 <= lt <= t + 2 and "librdkafka FAIL" not in rec.get("msg", "") and shown < 20:
                    print("      %s %s %s" % (os.path.basename(inst.log_path), ts[11:23], rec.get("msg", "")[:200]),
                          flush=True)
                    shown += 1

    def verify(self):
        outs, complete = self.read_outputs()
        check(complete, "%s: read both output topics to their end (read_committed)" % self.name)
        wl = self.wl
        produced_payloads = set(self.where.values())
        expected = {k: v for k, v in wl.expected.items() if k[0] in produced_payloads}
        seen = Counter()
        unexpected = wrong_topic = wrong_id = 0
        for topic, value, h in outs:
            try:
                sp = int(h["contactgate.source.partition"])
                so = int(h["contactgate.source.offset"])
                idx = int(h.get("contactgate.source.index", b"-1") or b"-1")
            except (KeyError, ValueError):
                unexpected += 1
                continue
            key = (self.where.get((sp, so)), idx)
            if key not in expected:
                unexpected += 1
                continue
            seen[key] += 1
            status, cid = expected[key]
            if (topic == self.t_ok) != (status == "accepted"):
                wrong_topic += 1
            got_cid = h.get("contactgate.correlation_id")
            if cid is not None and (got_cid is None or got_cid.decode(errors="replace") != cid):
                wrong_id += 1
        lost = [k for k in expected if seen[k] == 0]
        duplicated = sum(n - 1 for n in seen.values() if n > 1)
        dup_messages = len({k[0] for k, n in seen.items() if n > 1})
        ev = self.events["kills"] + self.events["pauses"] + self.events["broker_restarts"]
        bound = ev * MAX_IN_FLIGHT
        self.figures = dict(inputs=len(expected), outcomes=len(outs), lost=len(lost), duplicated=duplicated,
                            dup_messages=dup_messages, bound=bound, unexpected=unexpected,
                            wrong_topic=wrong_topic, wrong_id=wrong_id, payloads=len(produced_payloads),
                            unique_ids=sum(1 for k, (s, c) in expected.items() if c), events=dict(self.events))
        line = ("%s: inputs=%d outcomes=%d lost=%d duplicated=%d" % (self.name, len(expected), len(outs), len(lost),
                                                                     duplicated))
        if self.name == "at_least_once":
            line += " (in %d input messages; bound %d messages = %d events x max_in_flight %d)" % (
                dup_messages, bound, ev, MAX_IN_FLIGHT)
        print(line, flush=True)
        print("   %d payloads; events: %s; unexpected outcomes %d, in the wrong topic %d, wrong correlation_id %d; "
              "chaos+drain %.0f s" % (len(produced_payloads), ", ".join("%s=%d" % kv for kv in sorted(self.events.items())),
                                      unexpected, wrong_topic, wrong_id, self.runtime), flush=True)
        if lost:
            sample = sorted(lost)[:10]
            rev = {v: k for k, v in self.where.items()}
            print("   lost (payload, index -> input partition@offset): %s" % ", ".join(
                "(%d,%d)->p%d@%d" % (k[0], k[1], rev[k[0]][0], rev[k[0]][1]) for k in sample), flush=True)
            by_part = Counter(rev[k[0]][0] for k in lost)
            print("   lost per input partition: %s" % dict(sorted(by_part.items())), flush=True)
            for k in sorted({k[0] for k in lost})[:3]:
                self.explain(k, rev[k])
        check(not lost, "%s: no input contact lost (%d lost)" % (self.name, len(lost)))
        if self.name == "exactly_once":
            check(duplicated == 0, "%s: no duplicates (%d duplicated)" % (self.name, duplicated))
        else:
            check(dup_messages <= bound, "%s: duplicates within the in-flight window (%d messages > bound %d)"
                  % (self.name, dup_messages, bound))
        check(unexpected == 0, "%s: every outcome belongs to an input contact (%d do not)" % (self.name, unexpected))
        check(wrong_topic == 0 and wrong_id == 0, "%s: outcomes in the right topic with the right correlation_id "
              "(%d wrong topic, %d wrong id)" % (self.name, wrong_topic, wrong_id))
        return not lost


def guarantee_support(binary):
    """(has the processing.guarantee key, exactly_once available, message)."""
    alo = subprocess.run([binary, "config", "check", "--set", "processing.guarantee=at_least_once"],
                         capture_output=True, text=True)
    eos = subprocess.run([binary, "config", "check", "--set", "processing.guarantee=exactly_once"],
                         capture_output=True, text=True)
    msg = (eos.stderr.strip() or eos.stdout.strip()).splitlines()
    return alo.returncode == 0, eos.returncode == 0, (msg[-1] if msg else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--large", action="store_true", help="10x contacts, 10 kills")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CG_CHAOS_SEED", "20261127")))
    ap.add_argument("--modes", default="at_least_once,exactly_once")
    ap.add_argument("--require-eos", action="store_true", help="fail (not skip) when exactly_once is unavailable")
    ap.add_argument("--shared-txn-id", action="store_true",
                    help="exactly_once: use contactgate's default transactional.id (one per group and host) "
                         "instead of one per instance slot")
    ap.add_argument("--contacts", type=int, help="contacts produced up front (default 30000, --large 300000)")
    ap.add_argument("--kills", type=int, help="SIGKILLs per mode (default 5, --large 10)")
    ap.add_argument("--trickle-rate", type=int, help="payloads/s produced during the chaos (default 150)")
    ap.add_argument("--run-args", default="",
                    help="more arguments for every `contactgate run`, e.g. '-X debug=consumer' (shell-quoted)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs) even when all passed")
    args = ap.parse_args()
    args.run_args = shlex.split(args.run_args)
    args.contacts = args.contacts or (300000 if args.large else 30000)
    args.kills = args.kills or (10 if args.large else 5)
    args.trickle_rate = args.trickle_rate or (400 if args.large else 150)
    args.trickle_seconds = 30 + 9 * args.kills  # a little more than the chaos phase lasts
    args.drain_timeout = 240 if args.large else 120
    args.read_timeout = 240 if args.large else 120
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in ("at_least_once", "exactly_once"):
            ap.error("unknown mode %s" % m)

    has_key, eos_ok, eos_msg = guarantee_support(args.binary)
    say("contactgate %s; processing.guarantee %s; exactly_once %s" % (
        args.binary, "known" if has_key else "unknown", "available" if eos_ok else "NOT available: " + eos_msg))
    skipped = []
    if "exactly_once" in modes and not eos_ok:
        modes.remove("exactly_once")
        skipped.append("exactly_once")
        print("exactly_once: not available in this build (%s)" % eos_msg, flush=True)
        if args.require_eos:
            check(False, "exactly_once is required (--require-eos) but not available in this build")

    if not modes:
        print("%d passed, %d failed" % (len(check.passed), len(check.failures)), flush=True)
        sys.exit(1 if failures else SKIPPED)
    workdir = tempfile.mkdtemp(prefix="cg-chaos-")
    kdir = os.path.join(workdir, "kafka")
    handler = logging.FileHandler(os.path.join(workdir, "harness-clients.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    CLIENT_LOG.addHandler(handler)
    CLIENT_LOG.setLevel(logging.DEBUG)
    bootstrap = cgtest.start_broker(kdir)["bootstrap"]
    say("broker at %s; work directory %s" % (bootstrap, workdir))
    summary = []
    live = []
    try:
        for name in modes:
            mode = Mode(args, name, bootstrap, kdir, workdir, has_key)
            live.append(mode)
            try:
                mode.run()
                summary.append(mode)
            except Exception as e:  # noqa: BLE001 (report and go on with the next mode)
                check(False, "%s: the harness failed: %r" % (name, e))
                import traceback
                traceback.print_exc()
            finally:
                for p in mode.all_procs:
                    p.kill()
    finally:
        for mode in live:
            for p in mode.all_procs:
                if p.proc.poll() is None:
                    p.kill()
        try:
            broker("stop", kdir)
        except subprocess.CalledProcessError as e:
            print("broker stop failed:", e.stderr, flush=True)

    print("== summary (seed %d%s, %.0f s)" % (args.seed, ", large" if args.large else "", time.time() - T0))
    for m in summary:
        f = m.figures
        line = "%s: inputs=%d outcomes=%d lost=%d duplicated=%d" % (m.name, f["inputs"], f["outcomes"], f["lost"],
                                                                    f["duplicated"])
        if m.name == "at_least_once":
            line += " (%d messages, bound %d)" % (f["dup_messages"], f["bound"])
        print(line)
    for s in skipped:
        print("%s: not available in this build (skipped)" % s)
    print("%d passed, %d failed" % (len(check.passed), len(check.failures)), flush=True)
    cgtest.exit_or_clean(workdir, failures, args.keep)
    if skipped:
        sys.exit(SKIPPED)


if __name__ == "__main__":
    main()
