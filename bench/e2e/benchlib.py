"""Helpers shared by the end-to-end benchmarks (e2e_bench.py, backlog_rss.py): /proc
sampling, the local Kafka broker (deploy/kafka/kafka_local.sh), topics and offsets.

The scripts import it from their own folder (Python puts a script's folder first on
sys.path). Kafka clients: Debian's python3-confluent-kafka (/usr/bin/python3).
"""

import os
import signal
import subprocess
import tempfile
import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
KAFKA_SH = os.path.join(REPO, "deploy", "kafka", "kafka_local.sh")


def binary_path(ap, binary):
    """The absolute path of the contactgate binary given as --binary (a relative path: to the
    current directory when it is there, else to the repository); ap.error() when it is not
    an executable."""
    if not os.path.isabs(binary) and not os.path.exists(binary):
        binary = os.path.join(REPO, binary)
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        ap.error("contactgate binary not found: %s (build it, or pass --binary)" % binary)
    return binary


def sigterm_as_interrupt():
    """SIGTERM to the benchmark unwinds through the finally blocks like Ctrl-C."""
    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)


def work_dirs(prefix):
    """A new work directory (prefix + random, in the temporary folder) and its logs folder:
    (workdir, logdir)."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    logdir = os.path.join(workdir, "logs")
    os.makedirs(logdir)
    return workdir, logdir


def status_kb(pid, *fields):
    """The /proc/PID/status fields named (e.g. "VmHWM", "VmRSS") in KiB, as a tuple in that
    order; None when the process is gone or a field is missing."""
    found = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                name = line.split(":", 1)[0]
                if name in fields:
                    found[name] = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return tuple(found[n] for n in fields) if len(found) == len(fields) else None


def cpu_seconds(pid):
    """CPU time (utime + stime) of a process in seconds, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Broker:
    """A local broker started by kafka_local.sh in `directory` (on `port`, else a free one);
    `log` takes the progress messages."""

    def __init__(self, directory, log, port=None):
        self.dir, self.log, self.port, self.bootstrap = directory, log, port, None

    def start(self):
        env = dict(os.environ)
        if self.port:
            env["CG_KAFKA_PORT"] = str(self.port)
        t0 = time.monotonic()
        r = subprocess.run(["bash", KAFKA_SH, "start", self.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=300, env=env)
        if r.returncode != 0:
            raise RuntimeError("kafka_local.sh start failed (%d):\n%s" % (r.returncode, r.stderr[-3000:]))
        line = r.stdout.strip().splitlines()[-1]
        if not line.startswith("bootstrap="):
            raise RuntimeError("kafka_local.sh start printed %r" % r.stdout)
        self.bootstrap = line[len("bootstrap="):]
        self.log("broker %s ready in %.1f s (dir %s)" % (self.bootstrap, time.monotonic() - t0, self.dir))

    def stop(self):
        subprocess.run(["bash", KAFKA_SH, "stop", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)

    def cpu_seconds(self):
        """The broker JVM's CPU time (user + system) so far in seconds, or None."""
        try:
            with open(os.path.join(self.dir, "broker.pid")) as f:
                return cpu_seconds(int(f.read().strip()))
        except (OSError, ValueError):
            return None

    def rss_mb(self):
        """The broker JVM's VmRSS in MB, or None."""
        try:
            with open(os.path.join(self.dir, "broker.pid")) as f:
                s = status_kb(int(f.read().strip()), "VmRSS")
            return round(s[0] / 1024, 1) if s else None
        except (OSError, ValueError):
            return None


def create_topics(bootstrap, names, partitions, config=None):
    """Creates the topics (replication 1, topic config) and waits until the metadata shows
    every partition with a leader."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, partitions, 1, config=config or {}) for n in names],
                                  operation_timeout=30)
    for n, f in futures.items():
        f.result(60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=10)
        if all(n in md.topics and md.topics[n].error is None and len(md.topics[n].partitions) == partitions
               and all(p.leader >= 0 for p in md.topics[n].partitions.values()) for n in names):
            return
        time.sleep(0.2)
    raise RuntimeError("topics not ready after 60 s: %s" % names)


def new_consumer(bootstrap, group=None, prefix="reader-", extra=None):
    """A consumer that commits nothing, in `group` (default: a new group, prefix + a random
    suffix); extra: more librdkafka settings."""
    return Consumer(dict({"bootstrap.servers": bootstrap, "group.id": group or (prefix + uuid.uuid4().hex[:12]),
                          "enable.auto.commit": False, "enable.partition.eof": False}, **(extra or {})))


def watermarks(consumer, topic, partitions):
    """[(low, high)] per partition, asked of the broker."""
    return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            for p in range(partitions)]


def end_offsets(consumer, topic, partitions):
    """The high watermark of every partition."""
    return [hi for lo, hi in watermarks(consumer, topic, partitions)]
