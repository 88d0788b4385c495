#!/usr/bin/env python3
"""The dashboard shows /api/summary's lag_seconds as seconds.

/api/summary once gave lag_seconds in milliseconds and the page divided by 1000; both now
use seconds. This serves src/metrics/dashboard.html (the page embedded in the binary) with
a fixed /api/summary, renders it in headless Chromium and reads the partition table: 42.5 s
must show as 42.5 (the old page showed 0.0), and an unknown age (null) as a dash.
Usage: dashboard_lag_test.py <repository root>
"""
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

SUMMARY = {
    "version": "t", "group": "g", "topics": {"input": "i", "accepted": "a", "rejected": "r"},
    "ready": True, "ready_reason": "",
    "totals": {"consumed": 1, "accepted": 1, "rejected": 0, "malformed": 0, "internal_errors": 0, "delivery_errors": 0},
    "history": [], "reasons": {}, "recent_rejections": [], "recent_internal_errors": [],
    "partitions": [
        {"partition": 0, "committed": 10, "log_end": 15, "lag": 5, "lag_seconds": 42.5, "status": "OK"},
        {"partition": 1, "committed": 3, "log_end": 9, "lag": 6, "lag_seconds": None, "status": "OK"},
        {"partition": 2, "committed": 7, "log_end": 7, "lag": 0, "lag_seconds": 0.0, "status": "OK"},
    ],
    "lag_error": "",
}


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "src/metrics/dashboard.html"), "rb") as f:
        page = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body, ctype = (json.dumps(SUMMARY).encode(), "application/json") if self.path.startswith("/api/summary") \
                else (page, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            "--user-data-dir=" + tempfile.mkdtemp(prefix="cg-chrome-"),
                            "--virtual-time-budget=3000", "--dump-dom",
                            "http://127.0.0.1:%d/" % srv.server_address[1]],
                           capture_output=True, text=True, timeout=90)
    finally:
        srv.shutdown()
    table = re.search(r'<table id="parts">.*?<tbody>(.*?)</tbody>', r.stdout, re.S)
    if not table:
        print("FAIL: no partition table in the rendered page (chromium exit %d)\n%s" % (r.returncode, r.stderr[-2000:]))
        return 1
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)]
    shown = [row[4] for row in rows if len(row) == 6]
    want = ["42.5", "–", "0.0"]
    if shown != want:
        print("FAIL: lag (s) column shows %r, expected %r" % (shown, want))
        return 1
    print("ok: the dashboard shows lag_seconds as seconds: %r" % shown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
