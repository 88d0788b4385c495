#!/usr/bin/env bash
# Checks the operations assets: Prometheus alert rules (syntax and unit tests), the example
# Prometheus configuration, and the Grafana dashboard (valid JSON, every PromQL expression
# parses, every metric name is one documented in src/metrics/README.md).
# Usage: scripts/check_deploy.sh   (from any directory; installs nothing; exit 0 = all passed)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: apt-get install prometheus" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 not found: apt-get install python3" >&2
  exit 1
fi

prom_dir=deploy/prometheus
rules="$prom_dir/contactgate-alerts.yml"
tests="$prom_dir/contactgate-alerts.test.yml"
config="$prom_dir/prometheus.yml"
dashboard=deploy/grafana/contactgate-dashboard.json
metrics_doc=src/metrics/README.md

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failed=()
step() {  # step NAME COMMAND...: run, show the output, remember failures
  local name="$1"; shift
  echo "== $name"
  if "$@"; then
    echo "   ok"
  else
    echo "   FAILED: $name" >&2
    failed+=("$name")
  fi
}

echo "promtool: $(promtool --version 2>&1 | head -n1)"

step "promtool check rules $rules" promtool check rules "$rules"
step "promtool test rules $tests" promtool test rules "$tests"
step "promtool check config $config" promtool check config "$config"
step "json: $dashboard" python3 -m json.tool "$dashboard" /dev/null

# Every PromQL expression of the dashboard (panel targets, annotations, variable queries),
# with Grafana's variables replaced, becomes a recording rule of a temporary rules file.
extract_exprs() {
  python3 - "$dashboard" "$tmp/dashboard-exprs.rules.json" <<'PY'
import json, re, sys

src, out = sys.argv[1], sys.argv[2]
dash = json.load(open(src))
problems = []

def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))

def substitute(expr):
    # Grafana's interval variables become durations; any other variable a plain word
    # (they are used inside label matchers, e.g. job=~"$job").
    expr = re.sub(r"\$\{?__(rate_interval|interval|range|range_s|range_ms|interval_ms)\}?", "5m", expr)
    expr = re.sub(r"\$\{(\w+)(:\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", "x", expr)
    return expr

exprs = []  # (where, expr)
ids = set()
for p in panels(dash.get("panels", [])):
    pid = p.get("id")
    if pid in ids:
        problems.append(f"duplicate panel id {pid}")
    ids.add(pid)
    if p.get("type") == "row":
        continue
    tgs = p.get("targets") or []
    if not tgs:
        problems.append(f"panel {pid} {p.get('title')!r} has no targets")
    for t in tgs:
        e = t.get("expr", "")
        if not e.strip():
            problems.append(f"panel {pid} {p.get('title')!r} target {t.get('refId')} has no expr")
            continue
        exprs.append((f"panel {pid} {p.get('title')!r} {t.get('refId')}", e))
for a in dash.get("annotations", {}).get("list", []):
    if a.get("expr"):
        exprs.append((f"annotation {a.get('name')!r}", a["expr"]))
for v in dash.get("templating", {}).get("list", []):
    if v.get("type") != "query":
        continue
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else (q or "")
    m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q)
    if m:
        exprs.append((f"variable {v.get('name')}", m.group(1)))
    elif q.strip():
        problems.append(f"variable {v.get('name')}: cannot check query {q!r}")

for where, e in exprs:
    if "$" in substitute(e):
        problems.append(f"{where}: unsubstituted variable in {e!r}")
if dash.get("schemaVersion") is None:
    problems.append("no schemaVersion")

rules = [{"record": f"grafana_expr_{i}", "expr": substitute(e)} for i, (_, e) in enumerate(exprs)]
json.dump({"groups": [{"name": "grafana-dashboard-exprs", "rules": rules}]}, open(out, "w"), indent=1)
with open(out + ".index", "w") as f:
    for i, (where, e) in enumerate(exprs):
        f.write(f"grafana_expr_{i}\t{where}\t{e}\n")
for pr in problems:
    print("   " + pr, file=sys.stderr)
print(f"   {len(exprs)} expressions from {len(ids)} panels")
sys.exit(1 if problems else 0)
PY
}
check_exprs() {
  extract_exprs || return 1
  if ! promtool check rules "$tmp/dashboard-exprs.rules.json"; then
    echo "   expression index (rule name, panel, expression):" >&2
    cat "$tmp/dashboard-exprs.rules.json.index" >&2
    return 1
  fi
}
step "dashboard PromQL parses (promtool check rules)" check_exprs

# Metric names used by the dashboard and the rules must be the documented ones.
check_names() {
  python3 - "$metrics_doc" "$dashboard" "$rules" <<'PY'
import re, sys
doc, files = sys.argv[1], sys.argv[2:]
known, histograms = set(), set()
for line in open(doc):
    m = re.match(r"\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*([^|]*)\|", line)
    if m:
        known.add(m.group(1))
        if "histogram" in m.group(2):
            histograms.add(m.group(1))
if not known:
    print(f"   no metric table found in {doc}", file=sys.stderr); sys.exit(1)
allowed = set(known) | {h + s for h in histograms for s in ("_bucket", "_sum", "_count")}
bad, used = [], set()
for f in files:
    text = open(f).read()
    for name in set(re.findall(r"(?<![\w:])(contactgate_[a-z0-9_]+|kafka_consumergroup_[a-z0-9_]+)", text)):
        (used.add(name) if name in allowed else bad.append(f"{f}: {name}"))
for b in sorted(bad):
    print(f"   undocumented metric name {b}", file=sys.stderr)
unused = sorted(n for n in known if n not in used and not any(u.startswith(n + "_") for u in used))
print(f"   {len(used)} documented names used" + (f"; not used: {', '.join(unused)}" if unused else ""))
sys.exit(1 if bad else 0)
PY
}
if [[ -f "$metrics_doc" ]]; then
  step "metric names are those of $metrics_doc" check_names
else
  echo "== metric names: $metrics_doc is missing" >&2
  failed+=("metric names")
fi

echo
if ((${#failed[@]})); then
  echo "check_deploy: FAILED (${#failed[@]}): ${failed[*]}" >&2
  exit 1
fi
echo "check_deploy: all checks passed"
