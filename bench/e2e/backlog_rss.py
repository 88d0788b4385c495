#!/usr/bin/python3
"""backlog_rss: peak memory and drain rate of `contactgate run` on a large backlog.

Starts a local Kafka broker (deploy/kafka/kafka_local.sh; or uses --bootstrap), fills an input
topic with --count generated single-contact payloads (`contactgate produce`), then drains it
with `contactgate run` (default settings unless --set/--variant says otherwise) while sampling
VmHWM and VmRSS from /proc every 0.1 s. When the group's committed offsets reach the input's end
offsets, contactgate gets SIGTERM. It prints peak RSS, drain time and records/s per run.

    bench/e2e/backlog_rss.py [--count 1000000] [--partitions 6] [--binary build/release/src/app/contactgate]
                             [--bootstrap HOST:PORT | --kafka-dir DIR --port PORT] [--runs 1]
                             [--set section.key=value]... [--variant 'LABEL:key=value;key=value']...
                             [--input-topic TOPIC] [--keep] [--out backlog_result.json]

Each run uses its own consumer group and its own output topics on the same input; the output
topics are deleted after the run (they hold as much as the input), also with --keep. --variant runs the same
backlog with other settings, one after another ('LABEL:k=v;k=v'; nothing after the colon means
the defaults; an upper-case KEY without dots, e.g. MALLOC_CONF=..., is an environment variable
of contactgate instead of a setting), so that configurations are compared within one broker
session. --input-topic reuses a topic that already holds --count messages (with --bootstrap and
--keep: fill once, measure many times). Run it with /usr/bin/python3 (Debian's
python3-confluent-kafka). See bench/e2e/README.md.
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
import re
import uuid

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

import benchlib
from benchlib import Broker, cpu_seconds, create_topics

TARGET_RSS_MB = 256.0
ENV_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")  # a variant's KEY=VALUE that is an environment variable
STALL_SECONDS = 60.0  # no commit progress for this long: the run is declared stalled
CHILDREN = []         # processes started and not yet reaped (killed in main's finally)


def log(msg):
    print("backlog: " + msg, file=sys.stderr, flush=True)


class Sampler(threading.Thread):
    """VmHWM / VmRSS / CPU of one process every `interval` s; the RSS timeline goes to a file."""

    def __init__(self, pid, timeline_path, interval=0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.hwm_kb = self.max_rss_kb = 0
        self.cpu = None
        self.t0 = time.monotonic()
        self.timeline = open(timeline_path, "w")  # seconds since launch, VmRSS KiB, committed messages
        self.committed = 0
        self._halt = threading.Event()

    def sample(self):
        s = benchlib.status_kb(self.pid, "VmHWM", "VmRSS")
        if s is None:
            return
        self.hwm_kb = max(self.hwm_kb, s[0])
        self.max_rss_kb = max(self.max_rss_kb, s[1])
        c = cpu_seconds(self.pid)
        if c is not None:
            self.cpu = c
        self.timeline.write("%.2f\t%d\t%d\n" % (time.monotonic() - self.t0, s[1], self.committed))

    def run(self):
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(5)
        self.timeline.close()


def delete_topics(bootstrap, names):
    try:
        for n, f in AdminClient({"bootstrap.servers": bootstrap}).delete_topics(names, operation_timeout=30).items():
            f.result(60)
    except KafkaException as e:
        log("deleting %s: %s" % (names, e))


def new_consumer(bootstrap, group=None):
    return benchlib.new_consumer(bootstrap, group, "backlog-reader-")


def end_offsets(bootstrap, topic, partitions):
    c = new_consumer(bootstrap)
    try:
        return benchlib.end_offsets(c, topic, partitions)
    finally:
        c.close()


def committed_total(consumer, topic, partitions):
    try:
        got = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    except KafkaException:
        return None
    return sum(max(tp.offset, 0) for tp in got)


def fill(binary, bootstrap, topic, count, partitions, logdir):
    """`contactgate produce`: generated payloads (seed 42, ~20% invalid, single-contact)."""
    path = os.path.join(logdir, "produce.log")
    cmd = [binary, "produce", "-b", bootstrap, "--count", str(count), "--seed", "42",
           "--set", "topics.input=" + topic, "--set", "kafka.producer.linger.ms=50",
           "--set", "kafka.producer.queue.buffering.max.messages=1000000",
           "--set", "kafka.producer.queue.buffering.max.kbytes=262144"]
    t0 = time.monotonic()
    with open(path, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=3600)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("contactgate produce failed (%d), see %s" % (r.returncode, path))
    ends = end_offsets(bootstrap, topic, partitions)
    if sum(ends) != count:
        raise RuntimeError("input topic holds %d messages, expected %d" % (sum(ends), count))
    return secs, ends


def drain(args, bootstrap, topic, n, label, sets, run_no, logdir):
    """One `contactgate run` over the whole backlog; returns the figures."""
    tag = "%s.%d" % (label, run_no)
    unique = tag + "." + uuid.uuid4().hex[:6]
    group = "backlog." + unique
    acc, rej = "backlog.%s.accepted" % unique, "backlog.%s.rejected" % unique
    create_topics(bootstrap, [acc, rej], args.partitions)
    cmd = [args.binary, "run", "-b", bootstrap, "-g", group, "--set", "topics.input=" + topic,
           "--set", "topics.accepted=" + acc, "--set", "topics.rejected=" + rej, "--set", "http.port=0"]
    env = dict(os.environ)
    env_set = {}
    for kv in sets:
        k, v = kv.split("=", 1)
        if ENV_KEY.match(k):
            env[k] = env_set[k] = v
        else:
            cmd += ["--set", kv]
    log_path = os.path.join(logdir, "run.%s.log" % tag)
    res = {"label": label, "run": run_no, "settings": sets, "group": group,
           "command": " ".join(["%s=%s" % kv for kv in env_set.items()] + cmd),
           "log": log_path, "timeline": os.path.join(logdir, "rss.%s.tsv" % tag),
           "loadavg_start": os.getloadavg()}
    watcher = new_consumer(bootstrap, group)
    logf = open(log_path, "w")
    t_launch = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    CHILDREN.append(proc)
    sampler = Sampler(proc.pid, res["timeline"])
    sampler.start()
    failure, first, last_total, last_change = None, None, -1, time.monotonic()
    try:
        while True:
            total = committed_total(watcher, topic, args.partitions)
            t = time.monotonic()
            if total is not None:
                sampler.committed = total
                if total > 0 and first is None:
                    first = (t, total)
                if total != last_total:
                    last_total, last_change = total, t
                if total >= n:
                    break
            if proc.poll() is not None:
                failure = "exited (code %s) with %s of %d committed" % (proc.returncode, last_total, n)
                break
            if t - last_change > STALL_SECONDS:
                failure = "stalled at %d of %d committed for %.0f s" % (last_total, n, STALL_SECONDS)
                break
            time.sleep(0.1)
    finally:
        t_done = time.monotonic()
        sampler.sample()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            failure = (failure or "") + " (no exit within 60 s of SIGTERM: SIGKILL)"
            proc.kill()
            proc.wait()
        t_exit = time.monotonic()
        CHILDREN.remove(proc)
        sampler.stop()
        logf.close()
        watcher.close()
    res.update({
        "failure": failure, "exit_code": proc.returncode, "stop_seconds": round(t_exit - t_done, 2),
        "peak_rss_mb": round(sampler.hwm_kb / 1024, 1), "max_sampled_rss_mb": round(sampler.max_rss_kb / 1024, 1),
        "cpu_seconds": sampler.cpu, "committed": last_total, "loadavg_end": os.getloadavg(),
        "drain_seconds": round(t_done - t_launch, 2),
        "records_per_s": round(n / (t_done - t_launch), 1) if failure is None else None,
    })
    if failure is None and first and first[1] < n and t_done > first[0]:
        # Without start-up and group join: from the first commit seen to the last.
        res["records_per_s_after_first_commit"] = round((n - first[1]) / (t_done - first[0]), 1)
    outs = end_offsets(bootstrap, acc, args.partitions), end_offsets(bootstrap, rej, args.partitions)
    res["accepted"], res["rejected"] = sum(outs[0]), sum(outs[1])
    res["outputs_missing"] = max(0, n - res["accepted"] - res["rejected"])
    delete_topics(bootstrap, [acc, rej])
    return res


def parse_variant(text):
    label, _, rest = text.partition(":")
    if not label:
        raise argparse.ArgumentTypeError("--variant 'LABEL:key=value;key=value'")
    sets = [kv for kv in rest.split(";") if kv]
    if any("=" not in kv for kv in sets):
        raise argparse.ArgumentTypeError("--variant %s: settings are key=value, separated by ';'" % text)
    return label, sets


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000000, help="backlog messages")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--binary", default="build/release/src/app/contactgate",
                    help="contactgate binary (relative: to the current directory, else to the repository)")
    ap.add_argument("--bootstrap", help="use this broker instead of starting one")
    ap.add_argument("--kafka-dir", help="data directory of the broker started here (default: a new one in /tmp)")
    ap.add_argument("--port", type=int, help="port of the broker started here (default: a free one)")
    ap.add_argument("--runs", type=int, default=1, help="runs per variant")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="contactgate setting for every run (repeatable; default none: default settings)")
    ap.add_argument("--variant", action="append", default=[], type=parse_variant, metavar="LABEL:K=V;K=V",
                    help="run the backlog again with these settings (repeatable); default: one variant 'default'")
    ap.add_argument("--input-topic", help="reuse this topic, which must already hold --count messages")
    ap.add_argument("--keep", action="store_true", help="keep the broker data and the input topic")
    ap.add_argument("--out", default="backlog_result.json", help="JSON result file")
    args = ap.parse_args(argv)

    args.binary = benchlib.binary_path(ap, args.binary)
    variants = args.variant or [("default", [])]

    benchlib.sigterm_as_interrupt()
    workdir, logdir = benchlib.work_dirs("cg-backlog-")
    log("work dir %s" % workdir)
    broker = None
    bootstrap = args.bootstrap
    topic = args.input_topic or "backlog.input." + uuid.uuid4().hex[:6]
    v = subprocess.run([args.binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result = {"tool": "bench/e2e/backlog_rss.py", "started": datetime.datetime.now().astimezone().isoformat(
        timespec="seconds"), "args": {"count": args.count, "partitions": args.partitions, "binary": args.binary,
                                      "sets": args.sets, "variants": variants, "runs": args.runs},
        "contactgate_version": v.stdout.strip().splitlines(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "logs": logdir, "runs": []}
    try:
        if not bootstrap:
            broker = Broker(args.kafka_dir or os.path.join(workdir, "kafka"), log, args.port)
            broker.start()
            bootstrap = broker.bootstrap
        if args.input_topic:
            ends = end_offsets(bootstrap, topic, args.partitions)
            if sum(ends) != args.count:
                raise RuntimeError("--input-topic %s holds %d messages, not --count %d" % (topic, sum(ends), args.count))
            result["input"] = {"topic": topic, "messages": sum(ends), "per_partition": ends, "reused": True}
            log("input: reusing %s, %d messages %s" % (topic, sum(ends), ends))
        else:
            create_topics(bootstrap, [topic], args.partitions)
            secs, ends = fill(args.binary, bootstrap, topic, args.count, args.partitions, logdir)
            result["input"] = {"topic": topic, "messages": sum(ends), "per_partition": ends,
                               "produce_seconds": round(secs, 1)}
            log("input: %d messages %s, produced in %.1f s (%.0f msg/s)" % (sum(ends), ends, secs,
                                                                             sum(ends) / secs))
        for label, vsets in variants:
            for i in range(args.runs):
                log("run %s #%d ..." % (label, i + 1))
                b0 = broker.cpu_seconds() if broker else None
                r = drain(args, bootstrap, topic, args.count, label, args.sets + vsets, i + 1, logdir)
                if broker:
                    r["broker_rss_mb"] = broker.rss_mb()
                    b1 = broker.cpu_seconds()
                    # The broker's CPU from contactgate's launch to its exit: the fetches it
                    # serves and the outputs it appends (shares the machine's cores).
                    r["broker_cpu_seconds"] = round(b1 - b0, 2) if b0 is not None and b1 is not None else None
                result["runs"].append(r)
                log("run %s #%d: peak RSS %.1f MB, drained in %.1f s, %s rec/s (after the first commit %s),"
                    " exit %s%s" % (label, i + 1, r["peak_rss_mb"], r["drain_seconds"], r["records_per_s"],
                                    r.get("records_per_s_after_first_commit"), r["exit_code"],
                                    ", FAILURE: " + r["failure"] if r["failure"] else ""))
        result["completed"] = True
    except KeyboardInterrupt:
        result["completed"], result["error"] = False, "interrupted"
    except (RuntimeError, KafkaException, subprocess.SubprocessError, OSError) as e:
        log("error: %s" % e)
        result["completed"], result["error"] = False, str(e)
    finally:
        for p in list(CHILDREN):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if broker:
            log("stopping the broker")
            broker.stop()
            if not args.keep:
                shutil.rmtree(broker.dir, ignore_errors=True)
        elif bootstrap and not args.keep and result.get("input") and not args.input_topic:
            delete_topics(bootstrap, [topic])
        result["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        log("result written to %s" % args.out)

    print()
    print("contactgate backlog drain: %d messages, %d partitions" % (args.count, args.partitions))
    print("| variant | run | peak RSS MB (VmHWM) | drain s | rec/s | rec/s after 1st commit | CPU s | broker CPU s "
          "| outputs | exit | target RSS <= %.0f MB |" % TARGET_RSS_MB)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["runs"]:
        ok = r["failure"] is None and r["outputs_missing"] == 0
        verdict = ("met" if r["peak_rss_mb"] <= TARGET_RSS_MB else "MISSED") if ok else "FAILED: %s" % (
            r["failure"] or "%d outputs missing" % r["outputs_missing"])
        print("| %s | %d | %.1f | %.1f | %s | %s | %s | %s | %d | %s | %s |" % (
            r["label"], r["run"], r["peak_rss_mb"], r["drain_seconds"],
            "-" if r["records_per_s"] is None else "{:,.0f}".format(r["records_per_s"]),
            "{:,.0f}".format(r["records_per_s_after_first_commit"]) if r.get("records_per_s_after_first_commit")
            else "-", "-" if r["cpu_seconds"] is None else "%.1f" % r["cpu_seconds"],
            "-" if r.get("broker_cpu_seconds") is None else "%.1f" % r["broker_cpu_seconds"],
            r["accepted"] + r["rejected"], r["exit_code"], verdict))
    return 0 if result.get("completed") else 1


if __name__ == "__main__":
    sys.exit(main())
