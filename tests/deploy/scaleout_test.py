#!/usr/bin/python3
"""Scale-out on the real broker (label "stress"), exactly_once: 12 input partitions.

1. One instance works through a backlog alone: its throughput is measured.
2. Under a steady input, a second and a third instance join and share it (each one's rate
   is measured).
3. Two instances are stopped (SIGTERM, one after the other) under the steady input; the
   first finishes everything.

Checks: every instance exits 0; read_committed, every input contact has exactly one outcome
(none missing, no duplicate: exactly_once); sampled every 0.5 s, no partition goes longer
than STALL_BOUND_S without its committed offset moving while it has lag (a graceful join or
leave costs a cooperative rebalance and the revoked partitions' drain, bounded by
pipeline.shutdown_timeout_ms). Prints the throughput per instance and the longest stall per
partition.

Usage: scaleout_test.py CONTACTGATE_BINARY [--json FILE]
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from confluent_kafka import Consumer, TopicPartition

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import free_port, http_get, metrics  # noqa: E402

PARTITIONS = 12
SHUTDOWN_TIMEOUT_MS = 15000
STALL_BOUND_S = SHUTDOWN_TIMEOUT_MS / 1000 + 10  # the drain of revoked partitions + a rebalance
BACKLOG = 60000
TRICKLE_RATE, TRICKLE_S = 1500, 45
TOPIC = "scale.in"
TOPICS = ["--set", "topics.input=scale.in", "--set", "topics.accepted=scale.ok", "--set", "topics.rejected=scale.bad"]
check = cgtest.Checks()
failures = check.failures


def consumed(port):
    return metrics(port).get("contactgate_messages_consumed_total", 0)


class instance:
    def __init__(self, binary, bootstrap, name, work):
        self.name, self.port = name, free_port()
        self.log = os.path.join(work, name + ".log")
        self.proc = cgtest.start_contactgate(
            binary, ["-b", bootstrap, "-g", "scale", "--set", "http.port=%d" % self.port,
                     "--set", "processing.guarantee=exactly_once", "--set", "processing.transactional_id=scale-" + name,
                     "--set", "kafka.group_instance_id=scale-" + name,
                     "--set", "pipeline.workers=1", "--set", "pipeline.shutdown_timeout_ms=%d" % SHUTDOWN_TIMEOUT_MS,
                     *TOPICS], self.log)

    def assigned(self):
        status, body = http_get(self.port, "/api/summary")
        try:
            return len(json.loads(body)["partitions"]) if status == 200 else -1
        except ValueError:
            return -1

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=SHUTDOWN_TIMEOUT_MS / 1000 + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


class stall_monitor(threading.Thread):
    """Per partition, the longest time the group's committed offset stood still while the
    partition had lag."""

    def __init__(self, bootstrap):
        super().__init__(daemon=True)
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": "scale", "enable.auto.commit": False})
        self.halt = threading.Event()
        self.longest = [0.0] * PARTITIONS
        self.since = [None] * PARTITIONS  # when the committed offset last moved, or lag appeared
        self.last = [None] * PARTITIONS

    def run(self):
        tps = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        while not self.halt.is_set():
            try:
                com = self.c.committed(tps, timeout=5)
                now = time.time()
                for tp in com:
                    p = tp.partition
                    hi = self.c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=5)[1]
                    off = max(tp.offset, 0)
                    if off != self.last[p] or hi <= off:
                        self.last[p], self.since[p] = off, now
                    else:
                        self.longest[p] = max(self.longest[p], now - self.since[p])
            except Exception as e:  # a sample lost is not a stall
                print("stall monitor: %s" % e, flush=True)
            self.halt.wait(0.5)
        self.c.close()


def produce(binary, bootstrap, count, seed, rate=None):
    cmd = [binary, "produce", "-b", bootstrap, "--count", str(count), "--seed", str(seed)] + TOPICS
    if rate:
        cmd += ["--rate", str(rate)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def contacts_of(p):
    out, _ = p.communicate(timeout=300)
    check(p.returncode == 0, "producer exit 0")
    return json.loads(out)["contacts"]


def wait_total(ports, total, timeout):
    """Waits until the instances together have consumed `total` messages; True when they did."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(consumed(p) for p in ports) >= total:
            return True
        time.sleep(0.1)
    return False


def main():
    binary = sys.argv[1]
    json_out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    work = tempfile.mkdtemp(prefix="cg-scale-")
    kdir = os.path.join(work, "kafka")
    bootstrap = cgtest.start_broker(kdir)["bootstrap"]
    insts, figures = [], {}
    monitor = None
    try:
        subprocess.run([binary, "topics", "create", "-b", bootstrap, "--partitions", str(PARTITIONS)] + TOPICS,
                       check=True, capture_output=True)
        expected = contacts_of(produce(binary, bootstrap, BACKLOG, 1))
        produced = BACKLOG
        monitor = stall_monitor(bootstrap)
        monitor.start()

        # 1. One instance, a backlog.
        a = instance(binary, bootstrap, "a", work)
        insts.append(a)
        t_start = time.time()
        while consumed(a.port) == 0 and time.time() - t_start < 60:
            time.sleep(0.05)
        t1 = time.time()
        done = wait_total([a.port], BACKLOG, 180)
        secs = time.time() - t1
        check(done, "one instance works through the %d-payload backlog" % BACKLOG)
        if done:
            figures["one_instance_msgs_per_s"] = round(BACKLOG / secs)
            print("      1 instance: %d payloads/s" % figures["one_instance_msgs_per_s"], flush=True)

        # 2. Steady input; a second and a third instance join; a second backlog for three.
        trickle = produce(binary, bootstrap, TRICKLE_RATE * TRICKLE_S, 2, rate=TRICKLE_RATE)
        time.sleep(3)
        insts.append(instance(binary, bootstrap, "b", work))
        time.sleep(5)
        insts.append(instance(binary, bootstrap, "c", work))
        spread = False
        deadline = time.time() + 60
        while time.time() < deadline:
            n = [i.assigned() for i in insts]
            if all(x >= 3 for x in n) and sum(n) == PARTITIONS:
                spread = True
                break
            time.sleep(0.5)
        check(spread, "three instances share the 12 partitions (%s)" % [i.assigned() for i in insts])
        # Each instance's share of the steady input over 10 s.
        c0 = {i.name: consumed(i.port) for i in insts}
        t0 = time.time()
        time.sleep(10)
        per = {i.name: round((consumed(i.port) - c0[i.name]) / (time.time() - t0)) for i in insts}
        figures["three_instances_steady_msgs_per_s"] = per
        print("      3 instances sharing %d payloads/s: %s payloads/s each" % (TRICKLE_RATE, per), flush=True)
        check(all(v > 0 for v in per.values()), "each of the three processes its share of the steady input")

        # 3. Two instances leave under the steady input.
        rc_b = insts[1].stop()
        time.sleep(4)
        rc_c = insts[2].stop()
        check(rc_b == 0 and rc_c == 0, "the two leaving instances exit 0 after their drain (%s, %s)" % (rc_b, rc_c))
        expected += contacts_of(trickle)
        produced += TRICKLE_RATE * TRICKLE_S
        deadline = time.time() + 180
        while time.time() < deadline:
            m = metrics(a.port)
            lag = sum(v for k, v in m.items() if k.startswith("contactgate_consumer_lag_messages{"))
            if a.assigned() == PARTITIONS and lag == 0 and m.get("contactgate_messages_consumed_total", 0) > 0:
                break
            time.sleep(1)
        check(a.assigned() == PARTITIONS, "the remaining instance owns all 12 partitions")
        time.sleep(6)  # one more lag sample
        monitor.halt.set()
        monitor.join()
        check(a.stop() == 0, "the last instance exits 0")


        # Every input contact: exactly one outcome.
        seen, total = {}, 0
        for topic in ("scale.ok", "scale.bad"):
            for _, h in cgtest.read_all(bootstrap, topic, "scale-check-%s-%d" % (topic, os.getpid()), idle_s=8):
                key = (h["contactgate.source.partition"], h["contactgate.source.offset"], h.get("contactgate.source.index"))
                seen[key] = seen.get(key, 0) + 1
                total += 1
        dups = sum(n - 1 for n in seen.values() if n > 1)
        check(total == expected and dups == 0, "exactly_once: %d outcomes for %d contacts, %d duplicates" % (total, expected, dups))
        longest = max(monitor.longest)
        figures["longest_stall_s_per_partition"] = [round(x, 1) for x in monitor.longest]
        print("      longest stall per partition (s): %s" % figures["longest_stall_s_per_partition"], flush=True)
        check(longest <= STALL_BOUND_S, "no partition stalled longer than %.0f s (longest %.1f s)" % (STALL_BOUND_S, longest))
    finally:
        if monitor and monitor.is_alive():
            monitor.halt.set()
        for i in insts:
            if i.proc.poll() is None:
                i.proc.kill()
        cgtest.broker("stop", kdir, check=False)
    if json_out:
        with open(json_out, "w") as f:
            json.dump(figures, f, indent=1)
    if failures:
        for i in insts:
            print("--- %s (tail)\n%s" % (i.name, open(i.log).read()[-2000:]))
    return check.exit_status("scale-out: all checks passed " + json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())
