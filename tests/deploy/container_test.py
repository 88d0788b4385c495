#!/usr/bin/python3
"""Container image test (label "integration"): builds the image with
deploy/container/build_image.sh, then runs it with podman against a real Kafka broker
(deploy/kafka/kafka_local.sh, host network), as uid 65532 on a read-only root file system
without tmpfs mounts, with every capability dropped and no-new-privileges:

- the image: runs as 65532, holds no compiler or build tool, every shared library of the
  binary resolves, its size is printed;
- `topics create` and `produce` from the image; `run` consumes, validates (a valid contact is
  accepted byte for byte, an invalid one and a malformed payload are rejected with their
  reasons) and writes; every contact gets exactly one outcome;
- /healthz, /readyz and /metrics answer on the published port (0.0.0.0 inside the container);
- SIGTERM (podman stop) mid-stream drains: exit 0 within the drain timeout, and the outputs
  cover exactly the committed input offsets (nothing in flight lost or left uncommitted); a
  second run finishes the rest with no duplicate and no loss;
- the logs hold no unmasked phone number.

Usage: container_test.py [--image IMAGE]   (--image: skip the build, test IMAGE)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import free_port, http_get, read_all  # noqa: E402

BUILD = os.path.join(cgtest.ROOT, "deploy", "container", "build_image.sh")
CACHE = os.environ.get("CG_CACHE_DIR", os.path.expanduser("~/.cache/contactgate"))
check = cgtest.Checks()
failures = check.failures

VALID = b'{"correlation_id":"c0ffee0000000000000000000000c0de","contact_id":"+14155552671","country_iso_code":"US","zip_code":"94107"}'
INVALID = b'{"correlation_id":"c0ffee0000000000000000000000bad1","contact_id":"+10000000000","country_iso_code":"US"}'
MALFORMED = b'{"correlation_id":"c0ffee0000000000000000000000bad2", not json'


def podman(*args, check_rc=True, timeout=600):
    conf = os.path.join(CACHE, "containers.conf")
    os.makedirs(CACHE, exist_ok=True)
    with open(conf, "w") as f:
        f.write("[containers]\ndefault_ulimits = []\n")
    env = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF", conf))
    r = subprocess.run(["podman", "--runtime", os.environ.get("CG_PODMAN_RUNTIME", "runc")] + list(args),
                       capture_output=True, text=True, env=env, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise RuntimeError("podman %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr[-2000:]))
    return r


def outcomes(m):
    return (m.get('contactgate_contacts_total{outcome="accepted"}', 0) +
            m.get('contactgate_contacts_total{outcome="rejected"}', 0) + m.get("contactgate_malformed_payloads_total", 0))


def committed(bootstrap, group, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    offs = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    c.close()
    return {tp.partition: max(tp.offset, 0) for tp in offs}


def run_flags(image, bootstrap, port, name):
    return ["run", "-d", "--name", name, "--network", "host", "--read-only", "--read-only-tmpfs=false",
            "--cap-drop=ALL", "--security-opt=no-new-privileges",
            "-e", "CONTACTGATE_KAFKA_BROKERS=" + bootstrap, "-e", "CONTACTGATE_KAFKA_GROUP_ID=container-test",
            "-e", "CONTACTGATE_HTTP_PORT=%d" % port, "-e", "CONTACTGATE_PIPELINE_WORKERS=2",
            image, "run"]


def main():
    image = None
    if len(sys.argv) == 3 and sys.argv[1] == "--image":
        image = sys.argv[2]
    if image is None:
        t0 = time.time()
        tag = "localhost/contactgate:container-test"
        r = subprocess.run(["bash", BUILD, "--tag", tag], capture_output=True, text=True)
        sys.stdout.write(r.stderr[-3000:])
        if not check(r.returncode == 0, "build_image.sh builds the image (%.0f s)" % (time.time() - t0)):
            return 1
        image = tag

    # The image itself.
    info = json.loads(podman("image", "inspect", image).stdout)[0]
    check(info["Config"].get("User") == "65532:65532", "the image runs as 65532:65532 (%s)" % info["Config"].get("User"))
    size = int(info["Size"])
    print("image size: %.1f MB (%d bytes)" % (size / 1e6, size), flush=True)
    uid = podman("run", "--rm", "--read-only", "--entrypoint", "id", image, "-u").stdout.strip()
    check(uid == "65532", "a container's process runs as uid 65532 (%s)" % uid)
    tools = podman("run", "--rm", "--entrypoint", "sh", image, "-c",
                   "for t in g++ gcc c++ cmake ninja make python3 pip; do command -v $t; done; true").stdout.split()
    check(tools == [], "the runtime stage holds no build tool (%s)" % tools)
    ldd = podman("run", "--rm", "--entrypoint", "ldd", image, "/usr/bin/contactgate").stdout
    check("not found" not in ldd and "librdkafka" in ldd, "every shared library of the binary resolves in the image")
    ver = podman("run", "--rm", "--read-only", "--read-only-tmpfs=false", image, "--version").stdout
    check("libphonenumber metadata" in ver, "contactgate --version in the image names its phone data")

    work = tempfile.mkdtemp(prefix="cg-container-")
    kdir = os.path.join(work, "kafka")
    bootstrap = cgtest.start_broker(kdir)["bootstrap"]
    name = "cg-container-test-%d" % os.getpid()
    logs = ""
    try:
        base = ["run", "--rm", "--network", "host", "--read-only", "--read-only-tmpfs=false", "--cap-drop=ALL", image]
        podman(*base, "topics", "create", "-b", bootstrap, "--partitions", "3")
        prod = json.loads(podman(*base, "produce", "-b", bootstrap, "--count", "5000", "--seed", "11").stdout)
        p = Producer({"bootstrap.servers": bootstrap})
        for v in (VALID, INVALID, MALFORMED):
            p.produce("contacts.upsert", v, key=b"container-test")
        p.flush(30)
        del p
        expected = prod["contacts"] + 3
        produced_msgs = 5000 + 3

        port = free_port()
        podman(*run_flags(image, bootstrap, port, name))
        deadline, m = time.time() + 120, {}
        while time.time() < deadline:
            m = cgtest.metrics(port)
            if outcomes(m) >= expected and m.get("contactgate_messages_committed_total", 0) >= produced_msgs:
                break
            time.sleep(1)
        check(outcomes(m) == expected, "every contact has one outcome while running in the container (%d of %d)"
              % (outcomes(m), expected))
        check(http_get(port, "/healthz")[0] == 200, "/healthz answers 200 from the container")
        status, body = http_get(port, "/readyz")
        check(status == 200, "/readyz answers 200 (%s %s)" % (status, body.strip()))
        check(m.get("contactgate_messages_consumed_total") == produced_msgs, "/metrics: %d messages consumed" % produced_msgs)
        addr = podman("exec", name, "sh", "-c", "cat /proc/net/tcp /proc/net/tcp6").stdout
        check(re.search(r"^\s*\d+: 0+:%04X 0+:0000 0A" % port, addr, re.M) is not None,
              "the HTTP endpoint listens on 0.0.0.0 inside the image (image default)")

        # SIGTERM mid-stream: a steady input, then podman stop.
        trickle = subprocess.Popen(["podman", "--runtime", "runc", "run", "--rm", "--network", "host", image, "produce",
                                    "-b", bootstrap, "--count", "40000", "--rate", "4000", "--seed", "12"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, CONTAINERS_CONF=os.path.join(CACHE, "containers.conf")))
        time.sleep(5)
        before = cgtest.metrics(port).get("contactgate_messages_consumed_total", 0)
        check(before > produced_msgs, "consuming the steady input before SIGTERM (%d consumed)" % before)
        t0 = time.time()
        podman("stop", "-t", "40", name)
        stop_s = time.time() - t0
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        logs = podman("logs", name).stderr + podman("logs", name).stdout
        check(state["ExitCode"] == 0, "SIGTERM: exit code 0 (got %s)" % state["ExitCode"])
        check(stop_s < 20, "SIGTERM: stopped in %.1f s (drain bound pipeline.shutdown_timeout_ms = 15 s)" % stop_s)
        check("stopping: finishing" in logs and "stopped: committed" in logs, "SIGTERM: the log shows the drain")
        trickle_out, _ = trickle.communicate(timeout=60)
        check(trickle.returncode == 0, "the steady producer finished")
        expected += json.loads(trickle_out)["contacts"]
        produced_msgs += 40000

        # Outputs cover exactly the committed offsets: nothing in flight lost or left behind.
        com = committed(bootstrap, "container-test", "contacts.upsert", 3)
        outs = read_all(bootstrap, "contacts.accepted", "chk-a-%d" % os.getpid()) + \
            read_all(bootstrap, "contacts.rejected", "chk-r-%d" % os.getpid())
        sources = {}
        for _, h in outs:
            sources.setdefault(int(h["contactgate.source.partition"]), set()).add(int(h["contactgate.source.offset"]))
        exact = all(sources.get(pt, set()) == set(range(com.get(pt, 0))) for pt in range(3))
        check(exact, "after SIGTERM the outputs cover exactly the committed input offsets %s" % com)
        check(sum(com.values()) < produced_msgs, "SIGTERM came mid-stream (%d of %d committed)" % (sum(com.values()), produced_msgs))

        # Validation happened: the hand-made payloads got their verdicts.
        acc = [v for v, h in outs if h.get("contactgate.correlation_id") == "c0ffee0000000000000000000000c0de"]
        check(acc == [VALID], "the valid contact is accepted, byte for byte")
        rej = [json.loads(v) for v, h in outs if v and b"c0ffee0000000000000000000000bad" in v]
        codes = sorted((r["reasons"][0]["code"], r["reasons"][0]["detail"]) for r in rej)
        check(codes == [("INVALID_CONTACT_ID", "NOT_VALID"), ("MALFORMED_PAYLOAD", "INVALID_JSON")],
              "the invalid contact and the malformed payload are rejected with their reasons (%s)" % codes)

        # A second run finishes the rest: one outcome per contact, no duplicate.
        podman("rm", "-f", name)
        podman(*run_flags(image, bootstrap, port, name))
        deadline = time.time() + 180
        while time.time() < deadline:
            com = committed(bootstrap, "container-test", "contacts.upsert", 3)
            if sum(com.values()) >= produced_msgs:
                break
            time.sleep(2)
        podman("stop", "-t", "40", name)
        logs += podman("logs", name).stderr
        outs = read_all(bootstrap, "contacts.accepted", "chk2-a-%d" % os.getpid()) + \
            read_all(bootstrap, "contacts.rejected", "chk2-r-%d" % os.getpid())
        check(len(outs) == expected, "after the restart every contact has exactly one outcome (%d of %d)"
              % (len(outs), expected))
        leaked = re.findall(r"\+\d{7,}", logs)
        check(not leaked, "the container logs hold no unmasked phone number (%s)" % leaked[:3])
    finally:
        podman("rm", "-f", name, check_rc=False)
        cgtest.broker("stop", kdir, check=False)
    if failures:
        print("container logs (tail):\n" + logs[-4000:])
    return check.exit_status("container test: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
