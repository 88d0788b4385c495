#!/usr/bin/python3
"""Integration test of the operator's view against a real Kafka broker and a real
Prometheus server: /metrics, /readyz, the dashboard page in headless Chromium (its figures
must agree with /metrics; a screenshot is saved), Prometheus scraping contactgate and
answering through its HTTP API, `contactgate lag` and `contactgate tail rejected`.

Usage: operator_test.py CONTACTGATE_BINARY SCREENSHOT_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import free_port, http_get, metrics  # noqa: E402

check = cgtest.Checks()
failures = check.failures


def chromium(args, timeout=90):
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + tempfile.mkdtemp(prefix="cg-chrome-")]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout)


def main():
    binary, shots = sys.argv[1], sys.argv[2]
    os.makedirs(shots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="cg-ops-")
    kdir = os.path.join(work, "kafka")
    bootstrap = cgtest.start_broker(kdir)["bootstrap"]
    procs = []
    try:
        subprocess.run([binary, "topics", "create", "-b", bootstrap, "--partitions", "3"], check=True)
        prod = json.loads(subprocess.run([binary, "produce", "-b", bootstrap, "--count", "20000", "--seed", "5"],
                                         check=True, capture_output=True, text=True).stdout)
        contacts = prod["contacts"]
        # Keyless payloads are spread over the partitions (librdkafka's sticky partitioner put
        # most of a fast produce on one partition: one lane did the work).
        from confluent_kafka import Consumer, TopicPartition
        wc = Consumer({"bootstrap.servers": bootstrap, "group.id": "ops-spread"})
        spread = [wc.get_watermark_offsets(TopicPartition("contacts.upsert", p), timeout=10)[1] for p in range(3)]
        wc.close()
        check(sum(spread) == 20000 and min(spread) >= 4000,
              "produce spreads 20000 keyless payloads over the 3 partitions (%s)" % spread)
        port = free_port()
        cg = cgtest.start_contactgate(binary, ["-b", bootstrap, "-g", "ops", "--set", "http.port=%d" % port],
                                      os.path.join(work, "cg.log"))
        procs.append(cg)
        # Wait for every contact to have an outcome.
        deadline = time.time() + 120
        m = {}
        while time.time() < deadline:
            m = metrics(port)
            if not m:
                time.sleep(0.5)
                continue
            done = m.get('contactgate_contacts_total{outcome="accepted"}', 0) + m.get('contactgate_contacts_total{outcome="rejected"}', 0) + m.get("contactgate_malformed_payloads_total", 0)
            if done >= contacts and m.get("contactgate_consumer_lag_messages{topic=\"contacts.upsert\",partition=\"0\"}", 1) == 0:
                break
            time.sleep(1)
        check(m.get("contactgate_messages_consumed_total") == 20000, "all 20000 messages consumed (/metrics)")
        status, body = http_get(port, "/readyz")
        check(status == 200, "/readyz is 200 when assigned and keeping up (%s %s)" % (status, body.strip()))
        check(http_get(port, "/healthz")[0] == 200, "/healthz is 200")
        lags = [v for k, v in m.items() if k.startswith("kafka_consumergroup_lag{")]
        check(len(lags) == 3 and all(v == 0 for v in lags), "kafka_consumergroup_lag for 3 partitions, all 0")
        check(m.get('contactgate_partition_status{topic="contacts.upsert",partition="0",status="OK"}') == 1,
              "partition status OK")

        # The dashboard page, rendered by headless Chromium.
        r = chromium(["--virtual-time-budget=6000", "--dump-dom", "http://127.0.0.1:%d/" % port])
        dom = r.stdout
        m = metrics(port)

        def shown(id_):
            g = re.search(r'id="%s">([^<]*)<' % id_, dom)
            return int(g.group(1).replace(",", "")) if g and g.group(1).replace(",", "").isdigit() else None
        check(shown("accepted") == m['contactgate_contacts_total{outcome="accepted"}'], "page: accepted = /metrics")
        check(shown("rejected") == m['contactgate_contacts_total{outcome="rejected"}'], "page: rejected = /metrics")
        check(shown("consumed") == m["contactgate_messages_consumed_total"], "page: consumed = /metrics")
        page_reasons = dict((k, int(v)) for k, v in re.findall(r'data-reason="([^"]+)">(\d+)<', dom))
        metric_reasons = dict(("%s/%s" % g, int(v)) for (g, v) in
                              ((re.match(r'contactgate_rejections_total\{code="([^"]+)",detail="([^"]+)"\}', k).groups(), v)
                               for k, v in m.items() if k.startswith("contactgate_rejections_total{")))
        metric_reasons = dict((k, v) for k, v in metric_reasons.items() if v > 0)
        check(page_reasons == metric_reasons and len(page_reasons) > 5, "page: rejections by reason = /metrics")
        recent = re.search(r'id="recent">([^<]*)<', dom)
        check(recent is not None and "reasons=" in recent.group(1), "page: recent rejections shown")
        check(recent is not None and not re.search(r"contact_id=\+\d{7,}", recent.group(1)),
              "page: phone numbers masked in recent rejections")
        shot = os.path.join(shots, "dashboard.png")
        chromium(["--virtual-time-budget=6000", "--window-size=1400,1000", "--screenshot=" + shot,
                  "http://127.0.0.1:%d/" % port])
        check(os.path.exists(shot) and os.path.getsize(shot) > 10000, "screenshot saved: " + shot)

        # A real Prometheus server scrapes contactgate.
        pport = free_port()
        pdir = os.path.join(work, "prom")
        os.makedirs(pdir)
        with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: contactgate\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % port)
        prom = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(pdir, "prometheus.yml"),
                                 "--storage.tsdb.path=" + os.path.join(pdir, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % pport],
                                stdout=open(os.path.join(pdir, "prom.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(prom)

        def query(q):
            _, body = http_get(pport, "/api/v1/query?query=%s" % urllib.parse.quote(q))
            return json.loads(body)["data"]["result"]
        res_lag, res_rej = [], []
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                res_lag = query('kafka_consumergroup_lag{consumergroup="ops"}')
                res_rej = query("sum(contactgate_rejections_total)")
                if len(res_lag) == 3 and res_rej:
                    break
            except Exception:
                pass
            time.sleep(1)
        m = metrics(port)
        check(len(res_lag) == 3 and all(float(r["value"][1]) == 0 for r in res_lag),
              "Prometheus API: kafka_consumergroup_lag for 3 partitions = 0")
        want = sum(v for k, v in m.items() if k.startswith("contactgate_rejections_total{"))
        check(bool(res_rej) and float(res_rej[0]["value"][1]) == want,
              "Prometheus API: sum(contactgate_rejections_total) = /metrics (%s vs %s)" % (res_rej and res_rej[0]["value"][1], want))

        # contactgate lag, while lag exists: stop contactgate, produce more, measure.
        cg.send_signal(signal.SIGTERM)
        check(cg.wait(30) == 0, "contactgate exits 0 on SIGTERM")
        subprocess.run([binary, "produce", "-b", bootstrap, "--count", "300", "--seed", "6"], check=True, capture_output=True)
        lj = subprocess.run([binary, "lag", "-b", bootstrap, "--group", "ops", "--json"], capture_output=True, text=True)
        check(lj.returncode == 0, "contactgate lag --json exits 0")
        lag = json.loads(lj.stdout)
        check(lag["total_lag"] == 300, "contactgate lag: total lag 300 after 300 new messages (got %s)" % lag["total_lag"])
        check(all(p["lag_seconds"] is not None and p["lag_seconds"] >= 0 for p in lag["partitions"] if p["lag"] > 0),
              "contactgate lag: time lag of lagging partitions")
        over = subprocess.run([binary, "lag", "-b", bootstrap, "--group", "ops", "--max-lag", "10"], capture_output=True)
        check(over.returncode == 3, "contactgate lag --max-lag exits 3 above the limit")

        # contactgate tail rejected: readable lines, masked phones, filter by reason.
        t = subprocess.run([binary, "tail", "rejected", "-b", bootstrap, "--since", "beginning", "--max", "50",
                            "--reason", "INVALID_CONTACT_ID"], capture_output=True, text=True, timeout=60)
        lines = t.stdout.strip().splitlines()
        check(len(lines) == 50 and all("INVALID_CONTACT_ID" in l for l in lines), "tail --reason filters (50 lines)")
        check(not any(re.search(r"contact_id=\+\d{7,}", l) for l in lines), "tail: phone numbers masked")
        tj = subprocess.run([binary, "tail", "rejected", "-b", bootstrap, "--since", "1h", "--max", "20", "--json"],
                            capture_output=True, text=True, timeout=60)
        recs = [json.loads(l) for l in tj.stdout.strip().splitlines()]
        check(len(recs) == 20 and all(r["error_code"] == 30647 for r in recs), "tail --json prints rejection records")
        masked = [r["record"]["contact_id"] for r in recs if isinstance(r.get("record"), dict)
                  and isinstance(r["record"].get("contact_id"), str) and sum(c.isdigit() for c in r["record"]["contact_id"]) > 6]
        check(all("*" in c for c in masked), "tail --json masks contact_id")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        cgtest.broker("stop", kdir, check=False)
    if failures:
        print("logs in", work)
        print("0 passed, %d failed" % len(failures))
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("operator: all checks passed")


if __name__ == "__main__":
    main()
