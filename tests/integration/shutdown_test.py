#!/usr/bin/python3
"""SIGTERM ends `contactgate run` in bounded time, also when the broker hangs (label "integration").

Against a real Apache Kafka broker (deploy/kafka/kafka_local.sh), with a backlog so that work is
in flight when the signal comes, and pipeline.shutdown_timeout_ms = 3000:

  1. broker reachable: SIGTERM, exit 0 within the shutdown timeout plus the documented second
     to leave the group (and a second of slack for a loaded machine);
  2. broker hung (SIGSTOPped; shutdown timeout 1000 ms, so that the broker is stopped for less
     than its own session timeout): SIGTERM, exit 0 within the shutdown timeout plus 5 s (the
     documented bound when the Kafka clients cannot be torn down), saying why. Before the fix,
     librdkafka's consumer close waited for the coordinator without end: still running after
     10 minutes;
  3. the broker resumed: a new instance of the same group finishes the input (nothing is lost
     by the abandoned stop): the group commits every input, and its output topics hold an
     outcome for each (at least once: repeats allowed).

Usage: shutdown_test.py CONTACTGATE_BINARY
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402

SHUTDOWN_MS = 3000
HUNG_SHUTDOWN_MS = 1000
COUNT = 300000

# Each group writes its own output topics, so group sd-b's outcomes can be counted apart.
def topics(group):
    return ["--set", "topics.input=sd.in", "--set", "topics.accepted=%s.ok" % group,
            "--set", "topics.rejected=%s.bad" % group]


def run_args(bootstrap, group, shutdown_ms=SHUTDOWN_MS):
    return ["-b", bootstrap, "-g", group, "--set", "http.port=0",
            "--set", "pipeline.shutdown_timeout_ms=%d" % shutdown_ms, *topics(group)]


def stop_and_time(proc, limit):
    """SIGTERM, then seconds until exit (None if still running after `limit` s: killed)."""
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(limit)
        return time.time() - t0
    except Exception:  # noqa: BLE001 (subprocess.TimeoutExpired)
        proc.kill()
        proc.wait()
        return None


def main():
    binary = sys.argv[1]
    check = cgtest.Checks()
    workdir = tempfile.mkdtemp(prefix="cg-shutdown-")
    kdir = os.path.join(workdir, "kafka")
    bootstrap = cgtest.start_broker(kdir)["bootstrap"]
    with open(os.path.join(kdir, "broker.pid")) as f:
        broker_pid = int(f.read().strip())
    stopped = False
    try:
        for group in ("sd-a", "sd-b"):
            subprocess.run([binary, "topics", "create", "-b", bootstrap, "--partitions", "6", *topics(group)],
                           check=True, capture_output=True)
        subprocess.run([binary, "produce", "-b", bootstrap, "--count", str(COUNT), "--seed", "5", *topics("sd-a")],
                       check=True, capture_output=True)

        # 1. Broker reachable.
        log1 = os.path.join(workdir, "reachable.log")
        p = cgtest.start_contactgate(binary, run_args(bootstrap, "sd-a"), log1)
        time.sleep(1.5)  # mid-backlog: work in flight
        took = stop_and_time(p, 30)
        limit = SHUTDOWN_MS / 1000 + 1 + 1
        print("   broker reachable: SIGTERM to exit %s s (exit %s)"
              % ("%.1f" % took if took is not None else "> 30", p.returncode), flush=True)
        check(took is not None and took <= limit and p.returncode == 0,
              "broker reachable: exit 0 within %.0f s of SIGTERM" % limit)

        # 2. Broker hung.
        log2 = os.path.join(workdir, "hung.log")
        # A short timeout: the broker must not stay stopped for its own session timeout
        # (broker.session.timeout.ms, 9 s), or the controller fences it and its partitions
        # stay leaderless after it resumes.
        p = cgtest.start_contactgate(binary, run_args(bootstrap, "sd-b", HUNG_SHUTDOWN_MS), log2)
        time.sleep(1.5)  # mid-backlog: work in flight
        os.kill(broker_pid, signal.SIGSTOP)
        stopped = True
        time.sleep(0.5)
        took = stop_and_time(p, 60)
        os.kill(broker_pid, signal.SIGCONT)
        stopped = False
        limit = HUNG_SHUTDOWN_MS / 1000 + 5 + 2
        print("   broker hung: SIGTERM to exit %s s (exit %s)"
              % ("%.1f" % took if took is not None else "> 60", p.returncode), flush=True)
        check(took is not None and took <= limit and p.returncode == 0,
              "broker hung: exit 0 within %.1f s of SIGTERM" % limit)
        text = cgtest.read_text(log2)
        check("did not stop within pipeline.shutdown_timeout_ms" in text or
              "did not close within pipeline.shutdown_timeout_ms" in text,
              "broker hung: the log says the Kafka clients were abandoned")

        # 3. Nothing lost: a new instance of group sd-b finishes the backlog.
        log3 = os.path.join(workdir, "after.log")
        p = cgtest.start_contactgate(binary, run_args(bootstrap, "sd-b"), log3)
        from confluent_kafka import Consumer, KafkaException, TopicPartition
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "sd-b", "enable.auto.commit": False})
        parts = [TopicPartition("sd.in", i) for i in range(6)]
        # A broker stopped for seconds (KRaft, one node) may need a while to lead its partitions
        # again: ask until it answers.
        deadline = time.time() + 120
        ends, done = None, 0
        while time.time() < deadline:
            try:
                if ends is None:
                    ends = sum(c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts)
                done = sum(max(0, tp.offset) for tp in c.committed(parts, timeout=10))
            except KafkaException as e:
                print("   broker not ready yet: %s" % e, flush=True)
            if ends is not None and done >= ends:
                break
            time.sleep(0.5)
        ends = ends if ends is not None else COUNT
        c.close()
        check(done >= ends, "after the hung stop, group sd-b commits the whole input again (%d of %d)" % (done, ends))
        outcomes = len(cgtest.read_all(bootstrap, "sd-b.ok", "sd-check-ok")) + \
            len(cgtest.read_all(bootstrap, "sd-b.bad", "sd-check-bad"))
        check(outcomes >= COUNT, "group sd-b wrote an outcome for every input (%d outcomes for %d inputs; "
              "at least once: repeats allowed)" % (outcomes, COUNT))
        took = stop_and_time(p, 30)
        check(took is not None and p.returncode == 0, "the last instance exits 0 on SIGTERM")
    finally:
        if stopped:
            os.kill(broker_pid, signal.SIGCONT)
        cgtest.broker("stop", kdir, check=False)
    if check.failures:
        cgtest.print_log_tails(workdir)
    cgtest.exit_or_clean(workdir, bool(check.failures))


if __name__ == "__main__":
    main()
