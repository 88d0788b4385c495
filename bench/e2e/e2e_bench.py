#!/usr/bin/python3
"""e2e_bench: end-to-end benchmark of contactgate against its ceiling and its Python peer.

In one run, on the same data and on one real local Kafka broker (deploy/kafka/kafka_local.sh),
it measures four contenders:

  passthrough          contactgate run --set pipeline.mode=passthrough (the input copied bare, no validation)
  passthrough_headers  contactgate run --set pipeline.mode=passthrough_headers (the fair ceiling: the input
                       copied with its key and the headers contactgate writes on accepted outputs)
  contactgate          contactgate run (validate: the product)
  peer                 bench/peers/contact_peer.py (the Python service a team would write)

Throughput phase: every contender consumes the same input topic (N generated single-contact
payloads, produced once) with its own consumer group, into its own output topics; the
group's committed offsets are watched until they reach the input's end offsets.
Latency phase: each contender runs on a fresh empty input topic fed at a fixed rate; the
latency of a contact is its output's broker append time minus its input's broker append
time (every topic uses message.timestamp.type=LogAppendTime), matched by correlation_id.

    bench/e2e/e2e_bench.py [--count 200000] [--partitions 6] [--rate 5000] [--latency-seconds 10]
                           [--latency-warmup 2] [--binary build/release/src/app/contactgate]
                           [--peer-processes 1] [--contenders passthrough,passthrough_headers,contactgate,peer]
                           [--cg-set section.key=value]... [--keep] [--out e2e_result.json]

Run it with /usr/bin/python3 (Debian's python3-confluent-kafka). See bench/e2e/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import KafkaException, TopicPartition

import benchlib
from benchlib import REPO, Broker, cpu_seconds, create_topics, end_offsets, status_kb, watermarks

PEER = os.path.join(REPO, "bench", "peers", "contact_peer.py")
PY = "/usr/bin/python3"

CONTENDERS = ("passthrough", "passthrough_headers", "contactgate", "peer")
PASSTHROUGH_MODES = {"passthrough": "passthrough", "passthrough_headers": "passthrough_headers"}
# Issue 9's targets. The throughput ratio is taken against the fair ceiling (passthrough_headers:
# the same per-output work as contactgate minus validation); the bare pass-through ratio is
# reported beside it without a target.
TARGET_VS_FAIR = 0.85
TARGET_VS_PEER = 25.0
TARGET_P99_MS = 50.0     # contactgate's p99 latency at --rate (5,000 msg/s)
TARGET_RSS_MB = 256.0
# Headers every passthrough_headers output must carry (those of contactgate's accepted outputs
# that need no parsing of the payload).
SOURCE_HEADERS = ("contactgate.source.topic", "contactgate.source.partition", "contactgate.source.offset")
INPUT_SEED = 42          # throughput data
WARM_SEED = 7            # latency phase warm-up messages (not measured)
LATENCY_SEED = 1001      # latency phase measured messages
WARM_COUNT = 200
LOG_APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}  # output topics' config (latency from broker times)
STALL_SECONDS = 60.0     # no commit progress for this long: the contender is declared stalled
COARSE_WINDOW_S = 2.0     # a commit window shorter than this (4 commit intervals) gives a coarse records/s
RUNNING = []             # contenders started and not yet stopped (killed in main's finally)


def log(msg):
    print("e2e: " + msg, file=sys.stderr, flush=True)


def now_iso():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------
# /proc sampling: peak RSS and CPU time of a process tree


def _children(pid):
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return kids


def _tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


class ProcSampler(threading.Thread):
    """Every 0.2 s: VmHWM and VmRSS of every process of the tree, and its CPU time."""

    def __init__(self, pid, interval=0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.hwm_kb = {}            # pid -> last VmHWM seen
        self.cpu = {}               # pid -> last utime+stime seen
        self.max_sum_rss_kb = 0
        self.pids_seen = set()
        self._halt = threading.Event()

    def sample(self):
        total = 0
        for p in _tree(self.pid):
            s = status_kb(p, "VmHWM", "VmRSS")
            if s is None:
                continue
            hwm, rss = s
            self.pids_seen.add(p)
            self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), hwm)
            total += rss
            c = cpu_seconds(p)
            if c is not None:
                self.cpu[p] = c
        self.max_sum_rss_kb = max(self.max_sum_rss_kb, total)

    def run(self):
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self):
        self.sample()
        self._halt.set()
        self.join(5)

    def result(self):
        return {
            # Sum of every process's own peak (VmHWM): exact for one process, an upper bound
            # for several (their peaks need not coincide; pages shared after fork count twice).
            "peak_rss_mb": round(sum(self.hwm_kb.values()) / 1024, 1),
            "peak_sampled_rss_mb": round(self.max_sum_rss_kb / 1024, 1),
            "processes": len(self.pids_seen),
            "cpu_seconds": round(sum(self.cpu.values()), 2),
        }


# ---------------------------------------------------------------------------------------
# Kafka helpers


def new_consumer(bootstrap, group=None):
    return benchlib.new_consumer(bootstrap, group, "e2e-reader-", {"enable.auto.offset.store": False})


class CommitWatcher:
    """The committed offsets of one group on the input topic (OffsetFetch; never joins the group)."""

    def __init__(self, bootstrap, group, topic, partitions):
        self.c = new_consumer(bootstrap, group)
        self.tps = [TopicPartition(topic, p) for p in range(partitions)]

    def total(self):
        """Committed messages in all, or None when the coordinator cannot answer yet."""
        try:
            got = self.c.committed(self.tps, timeout=10)
        except KafkaException as e:
            self.errors = getattr(self, "errors", 0) + 1
            if self.errors > 600:
                raise
            log("committed offsets not available (%s); retrying" % e.args[0].str())
            time.sleep(0.2)
            return None
        return sum(max(tp.offset, 0) for tp in got)  # OFFSET_INVALID (-1001): nothing committed yet

    def close(self):
        self.c.close()


def read_ranges(bootstrap, ranges, timeout=120.0):
    """ranges: [(topic, partition, start, end)]; returns every message in [start, end)."""
    todo = {(t, p): e for t, p, s, e in ranges if e > s}
    if not todo:
        return []
    c = new_consumer(bootstrap)
    c.assign([TopicPartition(t, p, s) for t, p, s, e in ranges if e > s])
    out = []
    deadline = time.monotonic() + timeout
    try:
        while todo and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                if m.error() is not None:
                    continue
                k = (m.topic(), m.partition())
                end = todo.get(k)
                if end is None:
                    continue
                if m.offset() < end:
                    out.append(m)
                if m.offset() >= end - 1:
                    del todo[k]
    finally:
        c.close()
    if todo:
        raise RuntimeError("could not read back %s within %.0f s" % (sorted(todo), timeout))
    return out


def output_span(bootstrap, topics, partitions):
    """(first, last) broker append time (ms) over the output topics, and their message count."""
    c = new_consumer(bootstrap)
    try:
        firsts, lasts, count = [], [], 0
        for t in topics:
            for p, (lo, hi) in enumerate(watermarks(c, t, partitions)):
                count += hi - lo
                if hi > lo:
                    firsts.append((t, p, lo, lo + 1))
                    lasts.append((t, p, hi - 1, hi))
    finally:
        c.close()
    msgs = read_ranges(bootstrap, firsts, timeout=60) + read_ranges(bootstrap, lasts, timeout=60)
    ts = [m.timestamp()[1] for m in msgs]
    return (min(ts), max(ts), count) if ts else (None, None, count)


def produce_input(binary, bootstrap, topic, count, seed, partitions, path):
    """The throughput input: `contactgate generate` payloads, spread evenly (round-robin) over the
    partitions, without keys. (contactgate produce leaves the choice to librdkafka's sticky
    partitioner, which at full speed puts most of a burst into one partition.)"""
    from confluent_kafka import Producer
    values = generate(binary, count, seed)
    with open(path, "wb") as f:
        f.write(b"\n".join(values) + b"\n")
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20,
                  "batch.num.messages": 10000, "compression.type": "lz4", "queue.buffering.max.messages": 500000,
                  "on_delivery": on_delivery})
    t0 = time.monotonic()
    n = 0
    for value in values:
        while True:
            try:
                p.produce(topic, value, partition=n % partitions)
                break
            except BufferError:
                p.poll(0.05)
        n += 1
        if n % 10000 == 0:
            p.poll(0)
    left = p.flush(120)
    if left or errors:
        raise RuntimeError("input produce: %d undelivered, errors %s" % (left, errors[:3]))
    if n != count:
        raise RuntimeError("contactgate generate printed %d payloads, expected %d" % (n, count))
    return time.monotonic() - t0


def generate(binary, count, seed):
    r = subprocess.run([binary, "generate", "--count", str(count), "--seed", str(seed)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("contactgate generate failed (%d): %s" % (r.returncode, r.stderr.decode()[-500:]))
    return r.stdout.splitlines()


class PacedProducer:
    """Produces payloads round-robin over the partitions, at a fixed rate. It is connected
    (metadata, idempotent producer id) by the warm-up before the paced part starts, so the
    first paced messages are not held back in a burst."""

    def __init__(self, bootstrap, topic, partitions):
        from confluent_kafka import Producer
        errors = self.errors = []

        def on_delivery(err, msg):  # a closure, not a bound method: no reference cycle keeps the client alive
            if err is not None:
                errors.append(err)

        self.topic, self.partitions, self.n = topic, partitions, 0
        self.p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                           "compression.type": "lz4", "on_delivery": on_delivery})

    def _send(self, value):
        while True:
            try:
                self.p.produce(self.topic, value, partition=self.n % self.partitions)
                break
            except BufferError:
                self.p.poll(0.01)
        self.n += 1

    def burst(self, values):
        for v in values:
            self._send(v)
        self.flush()

    def paced(self, values, rate):
        t0 = time.monotonic()
        for i, v in enumerate(values):
            ahead = t0 + i / rate - time.monotonic()
            if ahead > 0.001:
                time.sleep(ahead)
            self._send(v)
            if i % 64 == 0:
                self.p.poll(0)
        self.flush()
        return time.monotonic() - t0

    def flush(self):
        left = self.p.flush(60)
        if left or self.errors:
            raise RuntimeError("latency input: %d undelivered, errors %s" % (left, self.errors[:3]))


# ---------------------------------------------------------------------------------------
# Contenders


def peer_phone_site_packages():
    """The site-packages of the pinned phonenumbers venv (scripts/phone_data.sh python), or None."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        py = subprocess.run([os.path.join(root, "scripts", "phone_data.sh"), "python"], capture_output=True,
                            text=True, timeout=30).stdout.strip()
        if not py:
            return None
        return subprocess.run([py, "-c", "import phonenumbers, os; print(os.path.dirname(os.path.dirname("
                               "phonenumbers.__file__)))"], capture_output=True, text=True,
                              timeout=30).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


class Contender:
    def __init__(self, name, args, bootstrap, logdir):
        self.name, self.args, self.bootstrap, self.logdir = name, args, bootstrap, logdir
        self.proc = None
        self.logf = None
        self.log_path = None

    def command(self, group, inp, acc, rej, max_records):
        if self.name == "peer":
            cmd = [PY, PEER, "--brokers", self.bootstrap, "--group", group, "--input", inp, "--accepted", acc,
                   "--rejected", rej, "--max-records", str(max_records), "--processes", str(self.args.peer_processes)]
            return cmd
        cmd = [self.args.binary, "run", "-b", self.bootstrap, "-g", group, "--set", "topics.input=" + inp,
               "--set", "topics.accepted=" + acc, "--set", "topics.rejected=" + rej]
        if self.name in PASSTHROUGH_MODES:
            cmd += ["--set", "pipeline.mode=" + PASSTHROUGH_MODES[self.name]]
        for kv in self.args.auto_set + self.args.cg_set:
            cmd += ["--set", kv]
        return cmd

    def start(self, phase, group, inp, acc, rej, max_records):
        self.log_path = os.path.join(self.logdir, "%s.%s.log" % (self.name, phase))
        self.logf = open(self.log_path, "w")
        cmd = self.command(group, inp, acc, rej, max_records)
        self.logf.write("# " + " ".join(cmd) + "\n")
        self.logf.flush()
        env = None
        if self.name == "peer":
            # The peer judges phone numbers with the same data release as contactgate (the
            # pinned phonenumbers in scripts/phone_data.sh's venv), not Debian's older 8.12.57.
            site = peer_phone_site_packages()
            if site:
                env = dict(os.environ, PYTHONPATH=site + os.pathsep + os.environ.get("PYTHONPATH", ""))
            self.logf.write("# peer phonenumbers from %s\n" % (site or "the system python3-phonenumbers"))
            self.logf.flush()
        # Own session: the peer's --processes children can be signalled as one group.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if self.name == "peer" else self.logf,
                                     stderr=self.logf, start_new_session=True, text=True, env=env)
        RUNNING.append(self)
        return self.proc

    def stop(self, timeout=45.0):
        """SIGTERM contactgate (the peer exits by itself; it gets SIGTERM only if it does not).
        Returns (exit code, seconds to exit, peer stats or None, how it ended)."""
        p = self.proc
        if p is None:
            return None, 0.0, None, "not started"
        t0 = time.monotonic()
        how = "exited by itself"
        stdout = ""
        if self.name == "peer":
            try:
                stdout, _ = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                how = "did not exit by itself within %.0f s: SIGTERM" % timeout
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    stdout, _ = p.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    how += ", then SIGKILL"
                    os.killpg(p.pid, signal.SIGKILL)
                    stdout, _ = p.communicate()
        else:
            if p.poll() is None:
                how = "SIGTERM"
                p.send_signal(signal.SIGTERM)
            else:
                how = "had already exited"
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                how += ", no exit within %.0f s: SIGKILL" % timeout
                p.kill()
                p.wait()
        secs = time.monotonic() - t0
        stats = None
        if stdout:
            self.logf.write(stdout)
            for line in stdout.splitlines():
                line = line.strip()
                if line.startswith("{"):
                    try:
                        stats = json.loads(line)
                    except ValueError:
                        pass
        self.logf.close()
        self.proc = None
        if self in RUNNING:
            RUNNING.remove(self)
        return p.returncode, secs, stats, how

    def kill(self):
        """Last-resort cleanup (finally): only this contender's own process group."""
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def log_problems(path, limit=8):
    """Error and warning lines of a contender's stderr (contactgate JSON logs, librdkafka %N| lines,
    Python tracebacks)."""
    errors = warns = 0
    samples = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                s = line.strip()
                level = None
                if '"level":"error"' in s or s.startswith(("%0|", "%1|", "%2|", "%3|")) or "Traceback" in s \
                        or "Error" in s.split(":", 1)[0]:
                    level = "error"
                elif '"level":"warn' in s or s.startswith("%4|"):
                    level = "warn"
                if level == "error":
                    errors += 1
                elif level == "warn":
                    warns += 1
                if level and len(samples) < limit:
                    samples.append(s[:300])
    except OSError:
        pass
    return {"errors": errors, "warnings": warns, "samples": samples}


# ---------------------------------------------------------------------------------------
# Phases


def wait_commits(cont, watcher, target, stall=STALL_SECONDS, hard_timeout=None):
    """Polls the committed offsets until they reach target. Returns the samples [(t, total)],
    and a failure string or None."""
    samples = []
    last_total, last_change = -1, time.monotonic()
    t_start = time.monotonic()
    while True:
        total = watcher.total()
        t = time.monotonic()
        if total is None:
            total = max(last_total, 0)
        else:
            samples.append((t, total))
        if total != last_total:
            last_total, last_change = total, t
        if total >= target:
            return samples, None
        rc = cont.proc.poll()
        if rc is not None:
            # The peer may exit right after its last commit; one more look.
            total = watcher.total() or 0
            samples.append((time.monotonic(), total))
            if total >= target:
                return samples, None
            return samples, "exited (code %s) with %d of %d input messages committed" % (rc, total, target)
        if t - last_change > stall:
            return samples, "stalled: committed offsets stuck at %d of %d for %.0f s" % (total, target, stall)
        if hard_timeout and t - t_start > hard_timeout:
            return samples, "timeout: %d of %d committed after %.0f s" % (total, target, hard_timeout)
        time.sleep(0.1)


def throughput_phase(name, args, broker, topics, logdir):
    n, parts = args.count, args.partitions
    group = "e2e.tp." + name
    acc, rej = topics["tp"][name]
    cont = Contender(name, args, broker.bootstrap, logdir)
    watcher = CommitWatcher(broker.bootstrap, group, topics["input"], parts)
    res = {"group": group, "accepted_topic": acc, "rejected_topic": rej}
    t_launch = time.monotonic()
    proc = cont.start("throughput", group, topics["input"], acc, rej, n)
    sampler = ProcSampler(proc.pid)
    sampler.start()
    try:
        samples, failure = wait_commits(cont, watcher, n)
    finally:
        t_done = time.monotonic()
        rc, stop_secs, peer_stats, how = cont.stop()
        sampler.stop()
        watcher.close()
    res.update(sampler.result())
    res["exit_code"], res["stop_seconds"], res["stop"] = rc, round(stop_secs, 2), how
    if peer_stats:
        res["peer_reported"] = peer_stats
    res["failure"] = failure
    first = next(((t, c) for t, c in samples if c > 0), None)
    final = samples[-1][1] if samples else 0
    res["committed"] = final
    if first:
        res["first_commit_after_s"] = round(first[0] - t_launch, 2)
        res["first_commit_messages"] = first[1]
    if failure is None and first:
        window = t_done - first[0]
        res["commit_window_s"] = round(window, 3)
        if first[1] < n and window > 0:
            res["records_per_s"] = round((n - first[1]) / window, 1)
            if window < COARSE_WINDOW_S:
                res["records_per_s_coarse"] = True
                res["note"] = ("commit window %.2f s is under %g s (contactgate commits every 500 ms): coarse,"
                               " see records_per_s_output_span" % (window, COARSE_WINDOW_S))
        else:
            res["records_per_s"] = None
            res["note"] = "every message was committed by the first commit seen: no window (use more --count)"
        res["whole_run_s"] = round(t_done - t_launch, 3)
        res["records_per_s_whole_run"] = round(n / (t_done - t_launch), 1)
    # Outputs: one per contact (single-contact payloads: one per input message).
    t_first, t_last, outputs = output_span(broker.bootstrap, [acc, rej], parts)
    c = new_consumer(broker.bootstrap)
    try:
        res["accepted"] = sum(end_offsets(c, acc, parts))
        res["rejected"] = sum(end_offsets(c, rej, parts))
    finally:
        c.close()
    res["outputs"] = outputs
    res["outputs_missing"] = max(n - outputs, 0)
    res["outputs_extra"] = max(outputs - n, 0)
    if name in PASSTHROUGH_MODES and res["failure"] is None:
        res["failure"] = check_passthrough(broker.bootstrap, name, topics["input"], acc, res["rejected"], parts, res)
    if t_first is not None and t_last > t_first:
        res["output_span_s"] = round((t_last - t_first) / 1000, 3)
        res["records_per_s_output_span"] = round(n / ((t_last - t_first) / 1000), 1)
    res["log"] = cont.log_path
    res["log_problems"] = log_problems(cont.log_path)
    return res


def check_passthrough(bootstrap, name, input_topic, acc, rejected, parts, res):
    """A pass-through contender copies every input to the accepted topic; passthrough_headers also
    writes contactgate's source headers. A binary that does not implement the mode (it validates
    instead) fails here, so its figures are never taken for the ceiling."""
    if rejected:
        return ("%d outputs on the rejected topic: this binary does not run pipeline.mode=%s as a pass-through"
                % (rejected, PASSTHROUGH_MODES[name]))
    if name != "passthrough_headers":
        return None
    c = new_consumer(bootstrap)
    try:
        ends = end_offsets(c, acc, parts)
    finally:
        c.close()
    firsts = read_ranges(bootstrap, [(acc, p, 0, 1) for p in range(parts) if ends[p] > 0], timeout=60)
    if not firsts:
        return "no output to check the headers of"
    seen = {}
    for m in firsts:
        for k, v in (m.headers() or []):
            seen.setdefault(k, v)
    res["output_header_names"] = sorted(seen)
    missing = [h for h in SOURCE_HEADERS if h not in seen]
    if missing:
        return "passthrough_headers outputs lack the headers %s (got %s)" % (", ".join(missing), sorted(seen))
    if seen["contactgate.source.topic"] != input_topic.encode():
        return "contactgate.source.topic is %r, expected %r" % (seen["contactgate.source.topic"], input_topic)
    return None


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(q / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def latency_phase(name, args, broker, topics, logdir):
    parts, rate, secs = args.partitions, args.rate, args.latency_seconds
    count = int(round(rate * secs))
    group = "e2e.lat." + name
    inp, acc, rej = topics["lat"][name]
    cont = Contender(name, args, broker.bootstrap, logdir)
    watcher = CommitWatcher(broker.bootstrap, group, inp, parts)
    warm_count = int(round(rate * args.latency_warmup))
    res = {"group": group, "input_topic": inp, "rate": rate, "seconds": secs, "messages": count,
           "warm_up_messages": WARM_COUNT + warm_count}
    warm_values = generate(args.binary, WARM_COUNT, WARM_SEED)
    warm_paced = generate(args.binary, warm_count, WARM_SEED + 1)
    values = generate(args.binary, count, LATENCY_SEED)
    # Only the measured messages count, and only the correlation_ids that are unique among all.
    seen_ids, dup_ids = set(), set()
    for v in warm_values + warm_paced + values:
        try:
            cid = json.loads(v).get("correlation_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(cid, str):
            (dup_ids if cid in seen_ids else seen_ids).add(cid)
    measured_ids = set()
    for v in values:
        try:
            cid = json.loads(v).get("correlation_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(cid, str) and cid not in dup_ids:
            measured_ids.add(cid)
    producer = PacedProducer(broker.bootstrap, inp, parts)
    t_launch = time.monotonic()
    proc = cont.start("latency", group, inp, acc, rej, WARM_COUNT + warm_count + count)
    sampler = ProcSampler(proc.pid)
    sampler.start()
    failure = None
    try:
        # Warm-up, not measured: the contender joins its group and handles a few messages (burst),
        # then --latency-warmup seconds at the rate, followed without a gap by the measured messages.
        producer.burst(warm_values)
        _, failure = wait_commits(cont, watcher, WARM_COUNT)
        res["first_batch_done_s"] = round(time.monotonic() - t_launch, 2)
        c = new_consumer(broker.bootstrap)
        try:
            start_offsets = end_offsets(c, inp, parts)
        finally:
            c.close()
        if failure is None:
            res["produce_seconds"] = round(producer.paced(warm_paced + values, rate), 2)
            _, failure = wait_commits(cont, watcher, WARM_COUNT + warm_count + count,
                                      hard_timeout=secs + 300)
    finally:
        rc, stop_secs, peer_stats, how = cont.stop()
        sampler.stop()
        watcher.close()
        producer.p = None  # destroys the client now
    res["exit_code"], res["stop"] = rc, how
    res["failure"] = failure
    res["peak_rss_mb"] = sampler.result()["peak_rss_mb"]
    res["log"] = cont.log_path
    res["log_problems"] = log_problems(cont.log_path)
    if "produce_seconds" not in res:
        return res

    # Input append times by correlation_id (only ids that occur once among the measured messages).
    c = new_consumer(broker.bootstrap)
    try:
        in_end = end_offsets(c, inp, parts)
        out_ends = {t: end_offsets(c, t, parts) for t in (acc, rej)}
    finally:
        c.close()
    in_msgs = read_ranges(broker.bootstrap, [(inp, p, start_offsets[p], in_end[p]) for p in range(parts)])
    in_ts = {}
    ts_types = set()
    for m in in_msgs:
        tstype, ts = m.timestamp()
        ts_types.add(tstype)
        try:
            cid = json.loads(m.value()).get("correlation_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(cid, str) and cid in measured_ids:
            in_ts[cid] = ts
    in_times = sorted(in_ts.values())
    if len(in_times) > 1:
        # All `count` measured messages entered between the first and last unique-id ones (about).
        res["achieved_rate"] = round(count / ((in_times[-1] - in_times[0]) / 1000 or 1), 1)
    res["input_found"] = len(in_ts)
    res["input_missing"] = len(measured_ids) - len(in_ts)
    res["input_timestamp_types"] = sorted(ts_types)  # 2 = LogAppendTime

    lat, seen, per_second, raw = [], set(), {}, []
    out_msgs = read_ranges(broker.bootstrap, [(t, p, 0, out_ends[t][p]) for t in (acc, rej) for p in range(parts)])
    for m in out_msgs:
        try:
            cid = json.loads(m.value()).get("correlation_id")
        except (ValueError, AttributeError):
            continue
        if not isinstance(cid, str) or cid not in in_ts or cid in seen:
            continue
        seen.add(cid)
        lat.append(m.timestamp()[1] - in_ts[cid])
        raw.append((in_ts[cid], lat[-1]))
        sec = (in_ts[cid] - in_times[0]) // 1000
        per_second[sec] = max(per_second.get(sec, 0), lat[-1])
    # The worst latency of the contacts that entered in each second of the phase (spikes, stalls).
    res["max_ms_by_input_second"] = [per_second[k] for k in sorted(per_second)]
    res["latencies_file"] = os.path.join(logdir, "latency.%s.tsv" % name)
    with open(res["latencies_file"], "w") as f:  # input append time (ms since the epoch), latency (ms)
        f.write("".join("%d\t%d\n" % x for x in sorted(raw)))
    lat.sort()
    res["matched"] = len(lat)
    res["measurable"] = len(in_ts)
    res["unmatched"] = len(in_ts) - len(lat)
    if lat:
        res["p50_ms"] = percentile(lat, 50)
        res["p99_ms"] = percentile(lat, 99)
        res["max_ms"] = lat[-1]
        res["mean_ms"] = round(sum(lat) / len(lat), 1)
    return res


# ---------------------------------------------------------------------------------------
# Report


def fmt(v, spec="{:,.0f}", none="-"):
    return none if v is None else spec.format(v)


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def summarize(result):
    tp, lat = result["throughput"], result["latency"]
    rows = []
    for name in CONTENDERS:
        t, l = tp.get(name, {}), lat.get(name, {})
        rows.append({
            "contender": name,
            "records_per_s": t.get("records_per_s"),
            "records_per_s_coarse": bool(t.get("records_per_s_coarse")),
            "records_per_s_whole_run": t.get("records_per_s_whole_run"),
            "records_per_s_output_span": t.get("records_per_s_output_span"),
            "p50_ms": l.get("p50_ms"), "p99_ms": l.get("p99_ms"), "max_ms": l.get("max_ms"),
            "peak_rss_mb": max(filter(None, [t.get("peak_rss_mb"), l.get("peak_rss_mb")]), default=None),
            "cpu_seconds": t.get("cpu_seconds"),
            "outputs": t.get("outputs"),
            "failure": t.get("failure") or l.get("failure"),
        })
    by = {r["contender"]: r for r in rows}
    cg, pt, fair, peer = by["contactgate"], by["passthrough"], by["passthrough_headers"], by["peer"]

    def rate(r, key):  # a failed contender's figures are not compared
        return None if r["failure"] else r[key]

    def ratios_vs(other):
        return (ratio(rate(cg, "records_per_s"), rate(other, "records_per_s")),
                ratio(rate(cg, "records_per_s_output_span"), rate(other, "records_per_s_output_span")))

    ratios = {}
    for key, other in (("passthrough", pt), ("passthrough_headers", fair), ("peer", peer)):
        ratios["contactgate_vs_" + key], ratios["contactgate_vs_%s_output_span" % key] = ratios_vs(other)

    def target(value, limit, higher_is_better):
        if value is None:
            return {"value": None, "target": limit, "met": None}  # not measured
        return {"value": value, "target": limit, "met": value >= limit if higher_is_better else value <= limit}

    targets = {
        "throughput_vs_fair_passthrough": target(ratios["contactgate_vs_passthrough_headers"], TARGET_VS_FAIR, True),
        "throughput_vs_peer": target(ratios["contactgate_vs_peer"], TARGET_VS_PEER, True),
        "p99_latency_ms": target(rate(cg, "p99_ms"), TARGET_P99_MS, False),
        "peak_rss_mb": target(None if cg["failure"] else cg["peak_rss_mb"], TARGET_RSS_MB, False),
    }
    targets["throughput_vs_fair_passthrough"]["coarse"] = cg["records_per_s_coarse"] or fair["records_per_s_coarse"]
    targets["throughput_vs_peer"]["coarse"] = cg["records_per_s_coarse"] or peer["records_per_s_coarse"]
    # The same targets on the output-span rates (precise to 1 ms, independent of the commit cadence).
    targets["throughput_vs_fair_passthrough_output_span"] = target(
        ratios["contactgate_vs_passthrough_headers_output_span"], TARGET_VS_FAIR, True)
    targets["throughput_vs_peer_output_span"] = target(ratios["contactgate_vs_peer_output_span"], TARGET_VS_PEER, True)
    return rows, ratios, targets


def print_report(result):
    rows, ratios, targets = result["table"], result["ratios"], result["targets"]
    a = result["args"]
    print()
    print("contactgate end-to-end benchmark: %d messages, %d partitions; latency at %g msg/s for %g s"
          % (a["count"], a["partitions"], a["rate"], a["latency_seconds"]))
    hdr = ("contender", "rec/s", "rec/s whole", "rec/s span", "p50 ms", "p99 ms", "max ms", "peak RSS MB",
           "CPU s", "outputs")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    ran = set(a["contenders"])
    for r in rows:
        if r["contender"] not in ran:
            continue
        print("| " + " | ".join([
            r["contender"], fmt(r["records_per_s"]) + (" (coarse)" if r["records_per_s_coarse"] else ""),
            fmt(r["records_per_s_whole_run"]),
            fmt(r["records_per_s_output_span"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r["max_ms"]),
            fmt(r["peak_rss_mb"], "{:.0f}"), fmt(r["cpu_seconds"], "{:.1f}"), fmt(r["outputs"])]) + " |")
    print()
    print("contactgate / fair pass-through (passthrough_headers): %s (output span: %s)"
          % (fmt(ratios["contactgate_vs_passthrough_headers"], "{:.2f}"),
             fmt(ratios["contactgate_vs_passthrough_headers_output_span"], "{:.2f}")))
    print("contactgate / bare pass-through (passthrough):         %s (output span: %s)"
          % (fmt(ratios["contactgate_vs_passthrough"], "{:.2f}"),
             fmt(ratios["contactgate_vs_passthrough_output_span"], "{:.2f}")))
    print("contactgate / peer:                                    %s (output span: %s)"
          % (fmt(ratios["contactgate_vs_peer"], "{:.1f}"), fmt(ratios["contactgate_vs_peer_output_span"], "{:.1f}")))
    for k, t in targets.items():
        verdict = "not measured" if t["met"] is None else "met" if t["met"] else "MISSED"
        print("target %-42s %s (%s, target %s)%s" % (k, verdict, t["value"], t["target"],
                                                       "  [coarse commit window: see rec/s span]"
                                                       if t.get("coarse") else ""))
    verdicts = {n: (result["throughput"][n].get("accepted"), result["throughput"][n].get("rejected"))
                for n in ("contactgate", "peer") if n in result["throughput"]}
    if len(verdicts) == 2:
        a, b = verdicts["contactgate"], verdicts["peer"]
        print("accepted/rejected: contactgate %s/%s, peer %s/%s%s"
              % (a[0], a[1], b[0], b[1], "" if a == b else "  (DIFFERENT)"))
    for r in rows:
        if r["failure"]:
            print("FAILURE %s: %s" % (r["contender"], r["failure"]))
    for phase in ("throughput", "latency"):
        for name, res in result[phase].items():
            lp = res.get("log_problems") or {}
            if lp.get("errors") or lp.get("warnings"):
                print("%s/%s log: %d error, %d warning lines, e.g. %s"
                      % (name, phase, lp["errors"], lp["warnings"], lp["samples"][:2]))
            if res.get("unmatched"):
                print("%s/latency: %d of %d measurable contacts had no output" % (name, res["unmatched"],
                                                                                    res["measurable"]))
    print()


# ---------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=200000, help="input messages of the throughput phase")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--rate", type=float, default=5000.0, help="msgs/s of the latency phase")
    ap.add_argument("--latency-seconds", type=float, default=10.0, help="measured seconds of the latency phase")
    ap.add_argument("--latency-warmup", type=float, default=2.0,
                    help="seconds at the rate before the measured ones (not measured)")
    ap.add_argument("--binary", default="build/release/src/app/contactgate",
                    help="contactgate binary (relative: to the current directory, else to the repository)")
    ap.add_argument("--peer-processes", type=int, default=1)
    ap.add_argument("--contenders", default=",".join(CONTENDERS),
                    help="comma-separated subset of %s (default: all)" % ",".join(CONTENDERS))
    ap.add_argument("--cg-set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra contactgate setting for both contactgate contenders (repeatable; default none)")
    ap.add_argument("--keep", action="store_true", help="keep the broker directory (data) afterwards")
    ap.add_argument("--out", default="e2e_result.json", help="JSON result file")
    args = ap.parse_args(argv)

    args.binary = benchlib.binary_path(ap, args.binary)
    # contactgate builds with the /metrics HTTP server listen on 127.0.0.1:9464 by default: let
    # the kernel pick a free port instead, so that another contactgate on this machine (tests,
    # a colleague's demo) cannot make a contender fail. The server stays on.
    args.auto_set = []
    probe = subprocess.run([args.binary, "config", "check", "--set", "http.port=0"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode == 0:
        args.auto_set.append("http.port=0")
    names = [n for n in args.contenders.split(",") if n]
    if any(n not in CONTENDERS for n in names):
        ap.error("--contenders: choose from %s" % ",".join(CONTENDERS))

    benchlib.sigterm_as_interrupt()
    workdir, logdir = benchlib.work_dirs("cg-e2e-")
    log("work dir %s (logs in %s)" % (workdir, logdir))
    broker = Broker(os.path.join(workdir, "kafka"), log)
    result = {
        "tool": "bench/e2e/e2e_bench.py",
        "started": now_iso(),
        "args": {"count": args.count, "partitions": args.partitions, "rate": args.rate,
                 "latency_seconds": args.latency_seconds,
                 "latency_warmup": args.latency_warmup, "binary": args.binary,
                 "peer_processes": args.peer_processes, "contenders": names, "cg_set": args.cg_set,
                 "cg_set_auto": args.auto_set},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_start": os.getloadavg()},
        "logs": logdir,
        "throughput": {}, "latency": {},
    }
    try:
        v = subprocess.run([args.binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        result["contactgate_version"] = v.stdout.strip().splitlines()
        broker.start()
        result["broker"] = {"bootstrap": broker.bootstrap, "dir": broker.dir}
        p = args.partitions
        topics = {"input": "e2e.input",
                  "tp": {n: ("e2e.tp.%s.accepted" % n, "e2e.tp.%s.rejected" % n) for n in names},
                  "lat": {n: ("e2e.lat.%s.input" % n, "e2e.lat.%s.accepted" % n, "e2e.lat.%s.rejected" % n)
                          for n in names}}
        create_topics(broker.bootstrap, [topics["input"]], p)
        outs = [t for n in names for t in topics["tp"][n]] + [t for n in names for t in topics["lat"][n]]
        create_topics(broker.bootstrap, outs, p, LOG_APPEND_TIME)

        secs = produce_input(args.binary, broker.bootstrap, topics["input"], args.count, INPUT_SEED, p,
                             os.path.join(workdir, "input.ndjson"))
        c = new_consumer(broker.bootstrap)
        try:
            ends = end_offsets(c, topics["input"], p)
        finally:
            c.close()
        if sum(ends) != args.count:
            raise RuntimeError("input topic holds %d messages, expected %d" % (sum(ends), args.count))
        # The first OffsetFetch creates __consumer_offsets; do it before any contender is timed.
        w = CommitWatcher(broker.bootstrap, "e2e.warm", topics["input"], p)
        try:
            deadline = time.monotonic() + 60
            while w.total() is None and time.monotonic() < deadline:
                pass
        finally:
            w.close()
        result["input"] = {"topic": topics["input"], "messages": sum(ends), "per_partition": ends,
                           "produce_seconds": round(secs, 2)}
        log("input: %d messages in %d partitions %s, produced in %.1f s" % (sum(ends), p, ends, secs))

        for n in names:
            log("throughput: %s ..." % n)
            r = throughput_phase(n, args, broker, topics, logdir)
            result["throughput"][n] = r
            log("throughput: %s: %s rec/s (window %s s, whole run %s rec/s, output span %s rec/s), peak RSS %s MB,"
                " outputs %s%s" % (n, r.get("records_per_s"), r.get("commit_window_s"),
                                   r.get("records_per_s_whole_run"), r.get("records_per_s_output_span"),
                                   r.get("peak_rss_mb"), r.get("outputs"),
                                   ", FAILURE: " + r["failure"] if r.get("failure") else ""))
        for n in names:
            log("latency: %s ..." % n)
            r = latency_phase(n, args, broker, topics, logdir)
            result["latency"][n] = r
            log("latency: %s: p50 %s ms, p99 %s ms, max %s ms (%s of %s matched, achieved %s msg/s)%s"
                % (n, r.get("p50_ms"), r.get("p99_ms"), r.get("max_ms"), r.get("matched"), r.get("measurable"),
                   r.get("achieved_rate"), ", FAILURE: " + r["failure"] if r.get("failure") else ""))
            tp = result["throughput"].get(n, {}).get("records_per_s")
            if tp and args.rate > 0.7 * tp:
                r["note"] = ("rate %g msg/s is above 70%% of this contender's measured throughput (%g rec/s):"
                             " its latency includes queueing" % (args.rate, tp))
                log("latency: %s: %s" % (n, r["note"]))
        result["broker"]["jvm_rss_mb_end"] = broker.rss_mb()
        result["completed"] = True
    except KeyboardInterrupt:
        log("interrupted")
        result["completed"] = False
        result["error"] = "interrupted"
    except (RuntimeError, KafkaException, subprocess.SubprocessError, OSError) as e:
        log("error: %s" % e)
        result["completed"] = False
        result["error"] = str(e)
    finally:
        for cont in list(RUNNING):
            log("killing %s (pid %d)" % (cont.name, cont.proc.pid))
            cont.kill()
        log("stopping the broker")
        try:
            broker.stop()
        except Exception as e:  # noqa: BLE001 - cleanup must go on
            log("broker stop: %s" % e)
        if not args.keep:
            shutil.rmtree(broker.dir, ignore_errors=True)
            try:
                os.remove(os.path.join(workdir, "input.ndjson"))
            except OSError:
                pass
        result["finished"] = now_iso()
        result["machine"]["loadavg_end"] = os.getloadavg()
        rows, ratios, targets = summarize(result)
        result["table"], result["ratios"], result["targets"] = rows, ratios, targets
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        log("result written to %s" % args.out)
    print_report(result)
    return 0 if result.get("completed") else 1


if __name__ == "__main__":
    sys.exit(main())
