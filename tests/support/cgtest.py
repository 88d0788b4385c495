"""Helpers shared by contactgate's Python tests (tests/deploy, tests/integration, tests/stress).

A test finds this module from its own path, whatever the working directory:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
    import cgtest

Kafka clients (confluent_kafka, Debian's python3-confluent-kafka) are imported only by the
functions that use them, so a test without a broker needs none.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAFKA = os.path.join(ROOT, "deploy", "kafka", "kafka_local.sh")
SCRAM_USER = "cg-sec"  # the SCRAM-SHA-512 user of the secure broker (security_test, systemd_test)


class Checks:
    """A test's pass/fail bookkeeping. `check = Checks()`, then `check(cond, msg)` records msg
    in check.passed or check.failures, prints "FAIL: msg" (and `ok + msg` for a pass, unless
    ok is None) and returns cond."""

    def __init__(self, ok="ok:   "):
        self.ok = ok
        self.passed = []
        self.failures = []

    def __call__(self, cond, msg):
        if cond:
            self.passed.append(msg)
            if self.ok is not None:
                print(self.ok + msg, flush=True)
        else:
            self.failures.append(msg)
            print("FAIL: " + msg, flush=True)
        return cond

    def exit_status(self, passed_line):
        """The end of a test: prints "N check(s) failed" and returns 1 when a check failed,
        else prints passed_line and returns 0."""
        if self.failures:
            print("%d check(s) failed" % len(self.failures))
            return 1
        print(passed_line)
        return 0


def broker(cmd, kdir, env=None, check=True):
    """Runs `deploy/kafka/kafka_local.sh CMD KDIR` (start, stop, restart) and returns the lines
    it printed. check: raise CalledProcessError when it fails."""
    return subprocess.run(["bash", KAFKA, cmd, kdir], check=check, capture_output=True, text=True,
                          env=env).stdout.splitlines()


def start_broker(kdir, env=None):
    """Starts a local broker in kdir; returns what kafka_local.sh printed as a dict: "bootstrap"
    (HOST:PORT of the PLAINTEXT listener), and "bootstrap_sasl_ssl" in secure mode
    (CG_KAFKA_SECURE=1 in env)."""
    return dict(line.split("=", 1) for line in broker("start", kdir, env) if "=" in line)


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, timeout=5):
    """GET http://127.0.0.1:PORT/PATH: (status, body); an HTTP error status gives its body,
    no answer at all (None, the error text)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)


def metrics(port):
    """contactgate's /metrics as {series: value} (series with its labels, as printed);
    {} when it does not answer 200."""
    status, text = http_get(port, "/metrics")
    out = {}
    if status != 200:
        return out
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def start_contactgate(binary, args, log_path, append=False, **popen):
    """Starts `contactgate run ARGS` with stdout and stderr to log_path (appended to with
    append, else truncated); returns the Popen."""
    with open(log_path, "ab" if append else "wb") as log:
        return subprocess.Popen([binary, "run", *args], stdout=log, stderr=subprocess.STDOUT, **popen)


def read_text(path):
    """A file's text (a log), undecodable bytes replaced."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def http_port(log_path, timeout=15):
    """The HTTP port a contactgate started with http.port=0 prints to its log
    ("dashboard http://127.0.0.1:PORT/"), or None when it has not within timeout s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(r"dashboard http://127\.0\.0\.1:(\d+)/", read_text(log_path))
        if m:
            return int(m.group(1))
        time.sleep(0.2)
    return None


def print_log_tails(directory, chars=1500):
    """Prints the last chars characters of every *.log file of directory."""
    for name in sorted(os.listdir(directory)):
        if name.endswith(".log"):
            print("--- %s (tail)\n%s" % (name, read_text(os.path.join(directory, name))[-chars:]))


def read_all(bootstrap, topic, group, idle_s=6):
    """Every message of topic, read_committed from the beginning by a new consumer group
    until none came for idle_s seconds, as [(value, {header: str value})]."""
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "isolation.level": "read_committed"})
    c.subscribe([topic])
    out, idle = [], time.time()
    while time.time() - idle < idle_s:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        idle = time.time()
        out.append((m.value(), dict((k, v.decode()) for k, v in (m.headers() or []))))
    c.close()
    return out


def produce(producer, topic, value, **kwargs):
    """producer.produce(topic, value, **kwargs), waiting (poll) while the local queue is full,
    then serving the delivery callbacks due."""
    while True:
        try:
            producer.produce(topic, value, **kwargs)
            break
        except BufferError:
            producer.poll(0.05)
    producer.poll(0)


def validate(binary, payloads):
    """`contactgate validate` (the offline engine) over payloads (one a line): its verdicts,
    one dict per contact ("line" counts payloads from 1, "index" None for a single contact)."""
    tmp = tempfile.NamedTemporaryFile(delete=False)
    tmp.write(b"\n".join(payloads) + b"\n")
    tmp.close()
    val = subprocess.run([binary, "validate", tmp.name], capture_output=True)
    os.unlink(tmp.name)
    return [json.loads(line) for line in val.stdout.decode().splitlines()]


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A CA (ca.pem), a broker certificate for 127.0.0.1/localhost signed by it (broker.pem,
    broker.key) and an unrelated CA (other-ca.pem), made with openssl in the new folder d."""
    os.makedirs(d)
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=contactgate security_test CA", *ca_ext, cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
             "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, "broker.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "0x1234abcd",
             "-days", "2", "-extfile", "broker.ext", "-out", "broker.pem", cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem",
             "-days", "2", "-subj", "/CN=some other CA", *ca_ext, cwd=d)


def exit_or_clean(workdir, failed, keep=False):
    """The end of a stress test: when a check failed, says that workdir holds the logs and
    exits 1; otherwise removes workdir (or, with keep, says it is kept)."""
    if failed:
        print("contactgate logs and the broker log in", workdir)
        sys.exit(1)
    if keep:
        print("logs kept in", workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
