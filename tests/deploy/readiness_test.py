#!/usr/bin/python3
"""Readiness semantics for Kubernetes (label "integration"), against running instances and a
real broker: /readyz means "connected and not failed".

- no broker reachable at start: /healthz 200, /readyz 503 "not connected", contactgate_ready 0;
- three instances on a 2-partition input: every one ready, including the one that owns no
  partition (idle), while the owners process the input; /api/summary keeps the richer state
  (partitions and their lag status, ready_reason), and contactgate_ready agrees with /readyz;
- the broker stopped: every instance turns 503 ("Kafka has not answered") after about 30 s
  while /healthz stays 200 (liveness does not restart it); the broker back: ready again.

Usage: readiness_test.py CONTACTGATE_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import free_port, http_get  # noqa: E402

check = cgtest.Checks()
failures = check.failures


def ready_gauge(port):
    return cgtest.metrics(port).get("contactgate_ready")


def wait_for(cond, timeout, step=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="cg-ready-")
    procs = []

    def start(bootstrap, name, extra=()):
        port = free_port()
        p = cgtest.start_contactgate(binary, ["-b", bootstrap, "-g", "ready-test", "--set", "http.port=%d" % port,
                                              "--set", "pipeline.workers=1", "--set", "kafka.group_instance_id=ready-" + name,
                                              *extra], os.path.join(work, name + ".log"))
        procs.append(p)
        return port

    kdir = os.path.join(work, "kafka")
    try:
        # Not connected: nothing listens on the bootstrap port.
        dead = "127.0.0.1:%d" % free_port()
        port = start(dead, "unconnected")
        check(wait_for(lambda: http_get(port, "/healthz")[0] == 200, 20), "no broker: /healthz 200 (alive)")
        time.sleep(3)
        status, body = http_get(port, "/readyz")
        check(status == 503 and "not connected" in body, "no broker: /readyz 503 not connected (%s %s)" % (status, body.strip()))
        check(ready_gauge(port) == 0, "no broker: contactgate_ready 0")
        procs.pop().terminate()

        bootstrap = cgtest.start_broker(kdir)["bootstrap"]
        subprocess.run([binary, "topics", "create", "-b", bootstrap, "--partitions", "2"], check=True,
                       capture_output=True)
        producer = subprocess.Popen([binary, "produce", "-b", bootstrap, "--count", "6000", "--rate", "300"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ports = [start(bootstrap, "i%d" % i) for i in range(3)]

        def assigned(p):
            s, b = http_get(p, "/api/summary")
            return len(json.loads(b)["partitions"]) if s == 200 else -1

        def settled():
            counts = [assigned(p) for p in ports]
            return sorted(counts) == [0, 1, 1]
        check(wait_for(settled, 90, 1), "3 instances, 2 partitions: two own one each, one owns none (%s)"
              % [assigned(p) for p in ports])
        idle = [p for p in ports if assigned(p) == 0]
        for p in ports:
            status, body = http_get(p, "/readyz")
            kind = "idle" if p in idle else "owner"
            check(status == 200, "%s instance: /readyz 200 (%s)" % (kind, body.strip()))
            check(ready_gauge(p) == 1, "%s instance: contactgate_ready 1" % kind)
        if idle:
            s = json.loads(http_get(idle[0], "/api/summary")[1])
            check(s["ready"] is True and "idle" in s["ready_reason"], "idle: /api/summary ready, reason %r" % s["ready_reason"])
        owner = [p for p in ports if p not in idle][0]
        s = json.loads(http_get(owner, "/api/summary")[1])
        check(all(x["status"] in ("OK", "WARN", "STALL", "STOP") and "lag" in x for x in s["partitions"]),
              "owner: /api/summary keeps partition lag and status (%s)" % s["partitions"])
        producer.wait(timeout=60)

        # The broker goes away: unready after ~30 s, still alive.
        t0 = time.time()
        cgtest.broker("stop", kdir)
        time.sleep(10)
        check(all(http_get(p, "/readyz")[0] == 200 for p in ports), "broker down 10 s: still ready (30 s tolerance)")
        gone = wait_for(lambda: all(http_get(p, "/readyz")[0] == 503 for p in ports), 60, 1)
        check(gone, "broker down: every instance /readyz 503 within %.0f s (%s)"
              % (time.time() - t0, [http_get(p, "/readyz")[1].strip() for p in ports]))
        check(all("Kafka has not answered" in http_get(p, "/readyz")[1] for p in ports), "broker down: the reason says so")
        check(all(http_get(p, "/healthz")[0] == 200 for p in ports), "broker down: /healthz stays 200 (no liveness restart)")
        cgtest.broker("restart", kdir)
        back = wait_for(lambda: all(http_get(p, "/readyz")[0] == 200 for p in ports), 90, 1)
        check(back, "broker back: every instance ready again (%s)" % [http_get(p, "/readyz")[1].strip() for p in ports])
        check(all(p.poll() is None for p in procs), "no instance exited")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        cgtest.broker("stop", kdir, check=False)
    if failures:
        cgtest.print_log_tails(work)
    return check.exit_status("readiness: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
