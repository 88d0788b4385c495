#!/usr/bin/python3
"""Security integration test: contactgate against a real Kafka broker over SASL_SSL.

Makes a throwaway CA and a broker certificate for 127.0.0.1/localhost with openssl, starts
a broker with deploy/kafka/kafka_local.sh in secure mode (a SASL_SSL listener with
SCRAM-SHA-512 beside the PLAINTEXT one), creates the topics and produces generated contacts
through PLAINTEXT, then runs contactgate through the SASL_SSL listener with only
librdkafka passthrough settings (-X):

  1. right credentials: every contact gets an outcome, SIGTERM exits 0, and neither the
     logs nor /metrics (nor the dashboard, /api/summary, /readyz and the support bundle)
     show the password;
  2. wrong password and 3. a CA that did not sign the broker certificate: contactgate
     exits non-zero by itself within FAIL_FAST_S seconds with a clear message, without a
     retry storm (connection attempts counted on the broker side), and no password in
     its output;
  4. `contactgate config check` redacts the password (flags, TOML file, error path), and so
     does `contactgate support-bundle` (run in 1, through SASL_SSL);
  5. kafka_local.sh keeps the SCRAM password out of the broker's files and logs.

Usage: security_test.py CONTACTGATE_BINARY [--count N]
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka import Consumer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import broker, http_port, make_pki, read_text as read  # noqa: E402

FAIL_FAST_S = 30      # a wrong credential must stop contactgate within this
MAX_ATTEMPTS = 10     # connection/authentication attempts allowed before it stops
MAX_LOG_LINES = 30    # lines it may write before it stops
USER = cgtest.SCRAM_USER

check = cgtest.Checks()
failures, passes = check.failures, check.passed


def sasl_args(bootstrap, password, ca):
    return ["-b", bootstrap, "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512",
            "-X", "sasl.username=" + USER, "-X", "sasl.password=" + password, "-X", "ssl.ca.location=" + ca]


TOPICS = ["--set", "topics.input=sec.in", "--set", "topics.accepted=sec.ok", "--set", "topics.rejected=sec.bad"]


def start_cg(binary, args, group, log_path):
    return cgtest.start_contactgate(binary, [*args, "-g", group, "--set", "http.port=0",
                                             "--set", "pipeline.shutdown_timeout_ms=10000", *TOPICS], log_path)


def http_get(port, path):
    """The body, or "ERROR ..." when it does not answer or answers an error (the error body
    is still checked for secrets)."""
    status, body = cgtest.http_get(port, path)
    return body if status is not None and status < 400 else "ERROR %s %s" % (status, body)


def count_outputs(bootstrap, topics, want, timeout):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "sec-checker-" + uuid.uuid4().hex,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(topics)
    n = 0
    deadline = time.time() + timeout
    while time.time() < deadline and n < want:
        n += sum(1 for m in c.consume(1000, 0.5) if not m.error())
    end = time.time() + 1.5  # extras that arrive late
    while time.time() < end:
        n += sum(1 for m in c.consume(1000, 0.3) if not m.error())
    c.close()
    return n


def failed_auths(broker_log, kind):
    """Connections the broker refused on its SASL_SSL listener: 'sasl' or 'tls'."""
    pat = "invalid credentials" if kind == "sasl" else "SSL handshake failed"
    try:
        text = read(broker_log)
    except OSError:
        return 0
    return sum(1 for l in text.splitlines() if "Failed authentication" in l and pat in l)


def own_errors(output):
    """contactgate's own error lines (not librdkafka's), as message strings."""
    msgs = []
    for line in output.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            if line.strip() and not line.startswith("contactgate: dashboard"):
                msgs.append(line)  # plain stderr text, e.g. a startup error
            continue
        if rec.get("level") == "error" and not rec.get("msg", "").startswith("librdkafka"):
            msgs.append(rec["msg"])
    return msgs


def test_right_credentials(binary, plain, sasl, password, ca, contacts, workdir):
    print("== right credentials over SASL_SSL", flush=True)
    logp = os.path.join(workdir, "cg-right.log")
    proc = start_cg(binary, sasl_args(sasl, password, ca), "sec", logp)
    t0 = time.time()
    port = http_port(logp)
    check(port is not None, "the running instance prints its HTTP port")
    n = count_outputs(plain, ["sec.ok", "sec.bad"], contacts, 60)
    print("   %d outcomes for %d contacts in %.1f s" % (n, contacts, time.time() - t0), flush=True)
    check(n == contacts, "every contact processed through SASL_SSL (%d outcomes, %d contacts)" % (n, contacts))
    if port is not None:
        metrics = http_get(port, "/metrics")
        check(metrics.startswith("ERROR") is False and len(metrics) > 100,
              "/metrics answers (%d bytes)" % len(metrics))
        check(password not in metrics, "/metrics does not contain the password")
        other = http_get(port, "/") + http_get(port, "/api/summary") + http_get(port, "/readyz")
        check(password not in other, "the dashboard, /api/summary and /readyz do not contain the password")
        # The support bundle (configuration + rejected topic through SASL_SSL + a /metrics snapshot).
        r = subprocess.run([binary, "support-bundle", *sasl_args(sasl, password, ca), "--hours", "1",
                            "--metrics-url", "http://127.0.0.1:%d/metrics" % port, *TOPICS],
                           capture_output=True, text=True, timeout=90)
        bundle = r.stdout + r.stderr
        check(r.returncode == 0 and "found)" in r.stdout,
              "support-bundle reads the rejected topic through SASL_SSL (exit %d)" % r.returncode)
        check(password not in bundle and "<redacted>" in r.stdout,
              "support-bundle output does not contain the password (shows <redacted>)")
    alive = proc.poll() is None
    check(alive, "contactgate keeps running with the right credentials")
    if alive:
        proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "still running 30 s after SIGTERM (killed)"
    check(rc == 0, "exits 0 on SIGTERM (got %s)" % rc)
    out = read(logp)
    check(password not in out, "the password does not appear in the logs of the right run")


def test_wrong(binary, sasl, args_by_case, broker_log, workdir):
    """Runs the wrong-credential cases at once; each must stop by itself within FAIL_FAST_S."""
    print("== wrong password and wrong CA (at once, up to %d s)" % FAIL_FAST_S, flush=True)
    before = {"sasl": failed_auths(broker_log, "sasl"), "tls": failed_auths(broker_log, "tls")}
    procs = {}
    t0 = time.time()
    for name, (args, kind, pattern, secrets_) in args_by_case.items():
        logp = os.path.join(workdir, "cg-%s.log" % name)
        procs[name] = (start_cg(binary, args, "sec-" + name, logp), logp)
    ended = {}
    while time.time() - t0 < FAIL_FAST_S and len(ended) < len(procs):
        for name, (p, _) in procs.items():
            if name not in ended and p.poll() is not None:
                ended[name] = (time.time() - t0, p.returncode)
        time.sleep(0.1)
    for name, (p, _) in procs.items():
        if name not in ended:
            p.kill()
            p.wait()
    time.sleep(0.5)  # the broker logs the last refusals
    for name, (args, kind, pattern, secrets_) in args_by_case.items():
        p, logp = procs[name]
        out = read(logp)
        attempts = failed_auths(broker_log, kind) - before[kind]
        rdk = sum(1 for l in out.splitlines() if '"librdkafka ' in l)
        lines = len(out.splitlines())
        own = own_errors(out)
        if name in ended:
            t, rc = ended[name]
            print("   %s: exit %d after %.1f s; %d refused connections on the broker; %d log lines (%d librdkafka)"
                  % (name, rc, t, attempts, lines, rdk), flush=True)
        else:
            print("   %s: still running after %d s (killed); %d refused connections on the broker; %d log lines "
                  "(%d librdkafka)" % (name, FAIL_FAST_S, attempts, lines, rdk), flush=True)
        print("   %s: contactgate's own error lines: %s" % (name, own[-2:] if own else "none"), flush=True)
        check(name in ended, "%s: contactgate stops by itself within %d s" % (name, FAIL_FAST_S))
        check(name in ended and ended[name][1] != 0, "%s: non-zero exit status" % name)
        check(any(re.search(pattern, m, re.I) for m in own),
              "%s: contactgate's own error message names the cause (/%s/)" % (name, pattern))
        check(attempts <= MAX_ATTEMPTS, "%s: no retry storm (%d refused connections on the broker, at most %d)"
              % (name, attempts, MAX_ATTEMPTS))
        check(lines <= MAX_LOG_LINES, "%s: no log storm (%d lines, at most %d)" % (name, lines, MAX_LOG_LINES))
        for label, s in secrets_:
            check(s not in out, "%s: the %s does not appear in contactgate's output" % (name, label))


def test_config_check(binary, sasl, password, ca, workdir):
    print("== config check redacts the password", flush=True)
    r = subprocess.run([binary, "config", "check", *sasl_args(sasl, password, ca)], capture_output=True, text=True)
    out = r.stdout + r.stderr
    check(r.returncode == 0, "config check accepts the SASL_SSL settings (exit %d)" % r.returncode)
    check(password not in out, "config check output does not contain the password")
    check(re.search(r"sasl\.password'?\s*=\s*'<redacted>'", out) is not None,
          "config check shows sasl.password as <redacted>")
    r = subprocess.run([binary, "config", "check", *sasl_args(sasl, password, ca), "-X", "sasl.no.such.property=1"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and password not in r.stdout + r.stderr,
          "a config error does not print the password (exit %d)" % r.returncode)
    toml = os.path.join(workdir, "secure.toml")
    with open(toml, "w") as f:
        f.write('[kafka.common]\n"security.protocol" = "SASL_SSL"\n"sasl.mechanisms" = "SCRAM-SHA-512"\n'
                '"sasl.username" = "%s"\n"sasl.password" = "%s"\n' % (USER, password))
    r = subprocess.run([binary, "config", "check", "-c", toml], capture_output=True, text=True)
    check(r.returncode == 0 and password not in r.stdout + r.stderr and "<redacted>" in r.stdout,
          "config check -c FILE redacts the password (exit %d)" % r.returncode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--count", type=int, default=int(os.environ.get("CG_SEC_COUNT", "3000")))
    args = ap.parse_args()
    t_start = time.time()
    workdir = tempfile.mkdtemp(prefix="cg-sec-")
    # A private copy: the build tree may be rebuilt while the test runs.
    binary = os.path.join(workdir, "contactgate")
    shutil.copy2(args.binary, binary)
    pki = os.path.join(workdir, "pki")
    make_pki(pki)
    ca = os.path.join(pki, "ca.pem")
    other_ca = os.path.join(pki, "other-ca.pem")
    password = "cg-" + secrets.token_hex(12)
    wrong = "wrong-" + secrets.token_hex(8)
    kdir = os.path.join(workdir, "kafka")
    env = dict(os.environ, CG_KAFKA_TLS_DIR=pki, CG_KAFKA_SCRAM_USER=USER, CG_KAFKA_SCRAM_PASSWORD=password)
    try:
        stdout = broker("start", kdir, env=dict(env, CG_KAFKA_SECURE="1"))
        lines = dict(l.split("=", 1) for l in stdout if "=" in l)
        plain, sasl = lines.get("bootstrap"), lines.get("bootstrap_sasl_ssl")
        print("broker at", plain, "SASL_SSL at", sasl, flush=True)
        check(stdout and stdout[0].startswith("bootstrap=") and sasl is not None,
              "kafka_local.sh --sasl-ssl prints bootstrap= first, then bootstrap_sasl_ssl=")
        broker_log = os.path.join(kdir, "broker.log")
        subprocess.run([binary, "topics", "create", "-b", plain, "--partitions", "3", *TOPICS],
                       check=True, capture_output=True)
        pr = subprocess.run([binary, "produce", "-b", plain, "--count", str(args.count), "--seed", "7", *TOPICS],
                            check=True, capture_output=True, text=True)
        contacts = json.loads(pr.stdout.strip().splitlines()[-1])["contacts"]
        print("produced %d contacts through PLAINTEXT" % contacts, flush=True)

        test_right_credentials(binary, plain, sasl, password, ca, contacts, workdir)
        test_wrong(binary, sasl, {
            "wrong-password": (sasl_args(sasl, wrong, ca), "sasl", r"authenticat",
                               [("wrong password", wrong), ("right password", password)]),
            "wrong-ca": (sasl_args(sasl, password, other_ca), "tls", r"ssl|tls|certificate",
                         [("password", password)]),
        }, broker_log, workdir)
        test_config_check(binary, sasl, password, ca, workdir)

        print("== the broker's own files", flush=True)
        leaked = [n for n in ("server.properties", "format.log", "broker.log")
                  if os.path.exists(os.path.join(kdir, n)) and password in read(os.path.join(kdir, n))]
        check(not leaked, "kafka_local.sh keeps the SCRAM password out of server.properties, format.log and "
              "broker.log%s" % (" (found in %s)" % ", ".join(leaked) if leaked else ""))
    except Exception as e:  # a broken step: reported as a failure, the broker is still stopped
        import traceback
        traceback.print_exc()
        check(False, "test step raised %s: %s" % (type(e).__name__, e))
    finally:
        try:
            broker("stop", kdir)
        except subprocess.CalledProcessError as e:
            print("broker stop failed:", e.stderr, flush=True)
    print("security test took %.1f s" % (time.time() - t_start))
    if failures:
        print("logs in", workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (len(passes), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
