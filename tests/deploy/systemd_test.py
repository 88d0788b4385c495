#!/usr/bin/python3
"""The systemd unit's service, run under an emulated systemd (this machine has no running
systemd), against a real broker with a SASL_SSL listener (SCRAM-SHA-512, throwaway CA):

- the unit: Type=notify, the hardening it promises, RestartPreventExitStatus=2 4,
  TimeoutStopSec longer than the drain of the shipped configuration;
- its ExecStart= runs as an unprivileged uid (DynamicUser=), with the unit's Environment= and
  the SASL drop-in's LoadCredential= ($CREDENTIALS_DIRECTORY, %d), NOTIFY_SOCKET an
  abstract-namespace socket and stderr a "journal" stream ($JOURNAL_STREAM):
  STATUS= then READY=1 once processing; every contact gets an outcome; on SIGTERM STOPPING=1,
  the drain, exit 0 within TimeoutStopSec; each log line carries its syslog priority (<6>
  info, <4> warning, <3> error); the password is in no log line;
- exit codes: a configuration error exits 2 and a wrong password 4 (both in
  RestartPreventExitStatus: no restart loop); a missing topic exits 1 (restarted).

Usage: systemd_test.py CONTACTGATE_BINARY UNIT_FILE SASL_DROPIN
"""
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import ROOT, SCRAM_USER, free_port  # noqa: E402

UID = 61234  # stands for DynamicUser=: a uid with no files, groups or privileges
check = cgtest.Checks()
failures = check.failures


def parse_unit(*paths):
    """{key: [values]} of the [Service] and [Unit] sections, drop-ins appended in order."""
    keys = {}
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line or line[0] in "#;[":
                    continue
                k, v = line.split("=", 1)
                keys.setdefault(k.strip(), []).append(v.strip())
    return keys


class service:
    """One start of the unit's ExecStart= the way systemd would: uid, environment,
    credentials, notify socket, journal stream."""

    def __init__(self, unit, binary, config_path, work, password, name):
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        addr = "\0cg-systemd-test-%d-%s" % (os.getpid(), name)
        self.notify.bind(addr)
        self.notify.settimeout(0.2)
        creds = os.path.join(work, "creds-" + name)
        os.makedirs(creds)
        for cred in unit.get("LoadCredential", []):
            cid, _ = cred.split(":", 1)
            with open(os.path.join(creds, cid), "w") as f:
                f.write(password + "\n")
            os.chown(os.path.join(creds, cid), UID, UID)
            os.chmod(os.path.join(creds, cid), 0o400)
        os.chown(creds, UID, UID)
        os.chmod(creds, 0o500)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "NOTIFY_SOCKET": "@" + addr[1:], "CREDENTIALS_DIRECTORY": creds}
        for e in unit.get("Environment", []):
            k, v = e.split("=", 1)
            env[k] = v.replace("%d", creds)
        self.log_path = os.path.join(work, name + ".log")
        self.log = open(self.log_path, "w")
        st = os.fstat(self.log.fileno())
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        argv = shlex.split(unit["ExecStart"][-1])
        check(argv[0] == "/usr/bin/contactgate" and argv[1] == "run" and "-c" in argv,
              "%s: ExecStart= is `/usr/bin/contactgate run -c FILE` (%s)" % (name, argv))
        argv[0] = binary
        argv[argv.index("-c") + 1] = config_path  # the administrator's edited configuration
        self.proc = subprocess.Popen(["setpriv", "--reuid=%d" % UID, "--regid=%d" % UID, "--clear-groups",
                                      "--no-new-privs", "--inh-caps=-all"] + argv,
                                     env=env, stdout=self.log, stderr=self.log, cwd="/")
        self.messages = []

    def poll_notify(self):
        try:
            while True:
                self.messages.append(self.notify.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            pass
        return self.messages

    def wait_message(self, prefix, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.poll_notify():
                if any(line.startswith(prefix) for line in m.split("\n")):
                    return m
            if self.proc.poll() is not None:
                self.poll_notify()
                break
        return None

    def logs(self):
        with open(self.log_path) as f:
            return f.read()


def write_config(path, bootstrap, ca, port, input_topic="sd.in", extra=""):
    with open(path, "w") as f:
        f.write('[kafka]\nbrokers = "%s"\ngroup_id = "sd-test"\n[kafka.common]\n"security.protocol" = "SASL_SSL"\n'
                '"sasl.mechanisms" = "SCRAM-SHA-512"\n"sasl.username" = "%s"\n"ssl.ca.location" = "%s"\n'
                '[topics]\ninput = "%s"\naccepted = "sd.ok"\nrejected = "sd.bad"\n[pipeline]\nworkers = 1\n'
                'shutdown_timeout_ms = 15000\n[http]\nport = %d\n%s' % (bootstrap, SCRAM_USER, ca, input_topic, port, extra))
    os.chmod(path, 0o644)


def main():
    binary, unit_path, dropin = sys.argv[1], sys.argv[2], sys.argv[3]
    unit = parse_unit(unit_path, dropin)
    shipped = parse_unit(unit_path)
    check(shipped.get("Type") == ["notify"], "unit: Type=notify")
    for k, v in (("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("ProtectHome", "yes"),
                 ("PrivateTmp", "yes"), ("CapabilityBoundingSet", ""), ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6")):
        check(shipped.get(k) == [v], "unit: %s=%s" % (k, v))
    prevent = set(" ".join(shipped.get("RestartPreventExitStatus", [])).split())
    check(prevent == {"2", "4"} and shipped.get("Restart") == ["on-failure"],
          "unit: Restart=on-failure, RestartPreventExitStatus=2 4 (%s)" % sorted(prevent))
    stop_s = int(shipped["TimeoutStopSec"][0].rstrip("s"))
    conf = open(os.path.join(ROOT, "deploy", "systemd", "contactgate.toml")).read()
    drain_ms = int(re.search(r"^shutdown_timeout_ms = (\d+)", conf, re.M).group(1))
    check(stop_s * 1000 > drain_ms, "unit: TimeoutStopSec=%ds > the shipped drain %d ms" % (stop_s, drain_ms))
    check(any(c.startswith("kafka-sasl-password:") for c in unit.get("LoadCredential", [])) and
          any(e.startswith("CONTACTGATE_KAFKA_SASL_PASSWORD_FILE=%d/") for e in unit.get("Environment", [])),
          "SASL drop-in: LoadCredential= and CONTACTGATE_KAFKA_SASL_PASSWORD_FILE=%d/...")

    work = tempfile.mkdtemp(prefix="cg-systemd-")
    os.chmod(work, 0o755)
    # A private copy of the binary the service user can execute.
    local_bin = os.path.join(work, "contactgate")
    subprocess.run(["cp", binary, local_bin], check=True)
    os.chmod(local_bin, 0o755)
    pki = os.path.join(work, "pki")
    cgtest.make_pki(pki)
    os.chmod(pki, 0o755)
    ca = os.path.join(pki, "ca.pem")
    os.chmod(ca, 0o644)
    password = "cg-" + secrets.token_hex(12)
    kdir = os.path.join(work, "kafka")
    env = dict(os.environ, CG_KAFKA_TLS_DIR=pki, CG_KAFKA_SCRAM_USER=SCRAM_USER, CG_KAFKA_SCRAM_PASSWORD=password,
               CG_KAFKA_SECURE="1")
    services = []
    try:
        lines = cgtest.start_broker(kdir, env=env)
        plain, sasl = lines["bootstrap"], lines["bootstrap_sasl_ssl"]
        topics = ["--set", "topics.input=sd.in", "--set", "topics.accepted=sd.ok", "--set", "topics.rejected=sd.bad"]
        subprocess.run([local_bin, "topics", "create", "-b", plain, "--partitions", "2"] + topics, check=True, capture_output=True)
        prod = json.loads(subprocess.run([local_bin, "produce", "-b", plain, "--count", "2000", "--seed", "3"] + topics,
                                         check=True, capture_output=True, text=True).stdout)

        # The service, processing.
        port = free_port()
        cfg = os.path.join(work, "contactgate.toml")
        write_config(cfg, sasl, ca, port)
        svc = service(unit, local_bin, cfg, work, password, "main")
        services.append(svc)
        ready = svc.wait_message("READY=1", 90)
        check(svc.messages and svc.messages[0].startswith("STATUS="), "notify: STATUS= first (%r)" % svc.messages[:1])
        check(ready is not None and "STATUS=processing" in ready, "notify: READY=1 with STATUS=processing (%r)" % ready)
        done = 0
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
                done = sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                           if l.startswith("contactgate_contacts_total{") or l.startswith("contactgate_malformed_payloads_total "))
                if done >= prod["contacts"]:
                    break
            except OSError:
                pass
            time.sleep(1)
        check(done == prod["contacts"], "the service, as uid %d with the password credential over SASL_SSL, gives every "
              "contact an outcome (%d of %d)" % (UID, done, prod["contacts"]))
        t0 = time.time()
        svc.proc.send_signal(signal.SIGTERM)
        stopping = svc.wait_message("STOPPING=1", 10)
        check(stopping is not None, "notify: STOPPING=1 on SIGTERM (%r)" % stopping)
        try:
            rc = svc.proc.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "SIGTERM: exit 0 after the drain in %.1f s (< TimeoutStopSec %d s) (rc %s)" % (time.time() - t0, stop_s, rc))
        logs = svc.logs()
        json_lines = [l for l in logs.splitlines() if '"level":' in l]
        prio = {"info": "<6>", "warning": "<4>", "error": "<3>", "debug": "<7>"}
        bad = [l for l in json_lines if not l.startswith(prio.get(re.search(r'"level":"(\w+)"', l).group(1), "?") + "{")]
        check(json_lines and not bad, "journal: every log line starts with its syslog priority (%d lines; bad: %s)"
              % (len(json_lines), bad[:2]))
        check(password not in logs, "the password is in no log line")

        # Exit codes and RestartPreventExitStatus.
        def exit_of(name, cfg_extra="", input_topic="sd.in", pw=password, timeout=60):
            c = os.path.join(work, name + ".toml")
            write_config(c, sasl, ca, free_port(), input_topic=input_topic, extra=cfg_extra)
            s = service(unit, local_bin, c, work, pw, name)
            services.append(s)
            try:
                return s.proc.wait(timeout=timeout), s
            except subprocess.TimeoutExpired:
                return None, s
        rc, _ = exit_of("badconfig", cfg_extra="[limits]\nmax_depht = 3\n")
        check(rc == 2 and "2" in prevent, "a configuration error exits 2: not restarted (rc %s)" % rc)
        t0 = time.time()
        rc, s = exit_of("wrongpw", pw="wrong-" + secrets.token_hex(6))
        check(rc == 4 and "4" in prevent, "a wrong password exits 4 in %.1f s: not restarted (rc %s)" % (time.time() - t0, rc))
        check(re.search(r"^<3>.*authentic", s.logs(), re.M | re.I) is not None, "the authentication failure is logged at <3> (error)")
        rc, _ = exit_of("notopic", input_topic="sd.missing")
        check(rc == 1 and "1" not in prevent, "a missing topic exits 1: restarted by Restart=on-failure (rc %s)" % rc)
    finally:
        for s in services:
            if s.proc.poll() is None:
                s.proc.kill()
        cgtest.broker("stop", kdir, check=False)
    if failures:
        cgtest.print_log_tails(work)
    return check.exit_status("systemd: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
