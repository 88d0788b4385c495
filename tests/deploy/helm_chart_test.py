#!/usr/bin/python3
"""Helm chart test (label "unit"; no cluster): `helm lint --strict` and `helm template` of
deploy/helm/contactgate with each values file in its ci/ folder, then checks over the rendered
manifests (python3-yaml):

- the workload: a Deployment for at_least_once, a StatefulSet (stable pod names, hence stable
  transactional ids) for exactly_once; non-root uid equal to the image's USER, read-only root
  file system, no privilege escalation, every capability dropped, seccomp RuntimeDefault;
- probes: liveness GET /healthz, readiness GET /readyz, on the container port that contactgate
  listens on (CONTACTGATE_HTTP_PORT), with CONTACTGATE_HTTP_ADDRESS=0.0.0.0;
- terminationGracePeriodSeconds longer than the drain (pipeline.shutdown_timeout_ms), and a
  release asking for less is refused;
- the PodDisruptionBudget, Service, ServiceMonitor select the pods / the named port;
  Prometheus annotations name the container port;
- the KEDA ScaledObject targets the workload and carries the same brokers, group and topic as
  the processor, excludePersistentLag, at most one replica per partition (more is refused);
- security: the SASL password only as a file mounted from the Secret (no value or secretKeyRef
  in env or args), ssl.ca.location inside the CA Secret's mount;
- the rendered args, environment and config file are accepted by the real binary
  (`contactgate config check`), which reports the values the chart was given;
- bad values (no brokers, SASL without a password Secret, KEDA on secured Kafka without a
  TriggerAuthentication) fail the render with a message.

Usage: helm_chart_test.py CONTACTGATE_BINARY
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import tomllib

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import cgtest  # noqa: E402
from cgtest import ROOT  # noqa: E402

CHART = os.path.join(ROOT, "deploy", "helm", "contactgate")
check = cgtest.Checks()
failures = check.failures


def helm_path():
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "get_helm.sh")], check=True, capture_output=True,
                          text=True).stdout.strip()


def render(helm, values_file=None, sets=()):
    cmd = [helm, "template", "rel", CHART]
    if values_file:
        cmd += ["-f", values_file]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    docs = [d for d in yaml.safe_load_all(r.stdout) if d] if r.returncode == 0 else []
    return r.returncode, docs, r.stderr


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def image_user():
    with open(os.path.join(ROOT, "deploy", "container", "Containerfile")) as f:
        m = re.search(r"^USER (\d+):(\d+)$", f.read(), re.M)
    return int(m.group(1)), int(m.group(2))


def check_release(name, docs, binary):
    k = by_kind(docs)
    workloads = k.get("Deployment", []) + k.get("StatefulSet", [])
    if not check(len(workloads) == 1, "%s: one workload" % name):
        return
    w = workloads[0]
    spec = w["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    c = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    args = c["args"]
    xprops = dict(args[i + 1].split("=", 1) for i in range(len(args) - 1) if args[i] == "-X")
    guarantee = env["CONTACTGATE_PROCESSING_GUARANTEE"]
    check(w["kind"] == ("StatefulSet" if guarantee == "exactly_once" else "Deployment"),
          "%s: %s for %s" % (name, w["kind"], guarantee))
    if w["kind"] == "StatefulSet":
        svc = [s for s in k.get("Service", []) if s["metadata"]["name"] == spec["serviceName"]]
        check(len(svc) == 1 and svc[0]["spec"].get("clusterIP") == "None",
              "%s: the StatefulSet's serviceName is a headless Service of the release" % name)

    # Security context.
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    uid, gid = image_user()
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == uid and psc.get("runAsGroup") == gid,
          "%s: runs as non-root %d:%d, the image's USER" % (name, uid, gid))
    check(csc.get("readOnlyRootFilesystem") is True, "%s: read-only root file system" % name)
    check(csc.get("allowPrivilegeEscalation") is False and csc.get("privileged") is False,
          "%s: no privilege escalation" % name)
    check(csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("capabilities", {}).get("add"),
          "%s: all capabilities dropped" % name)
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "%s: seccomp RuntimeDefault" % name)
    check(pod.get("automountServiceAccountToken") is False, "%s: no service account token mounted" % name)

    # HTTP endpoint and probes.
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(env.get("CONTACTGATE_HTTP_ADDRESS") == "0.0.0.0", "%s: listens on all interfaces" % name)
    http_port = int(env["CONTACTGATE_HTTP_PORT"])
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        port = ports.get(g.get("port"), g.get("port"))
        check(g.get("path") == path and port == http_port, "%s: %s GET %s on port %s" % (name, probe, path, port))
    ann = spec["template"]["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true" and int(ann.get("prometheus.io/port", 0)) == http_port
          and ann.get("prometheus.io/path") == "/metrics", "%s: Prometheus scrape annotations name the port" % name)

    # Termination grace longer than the drain.
    drain_s = int(env["CONTACTGATE_PIPELINE_SHUTDOWN_TIMEOUT_MS"]) / 1000
    grace = pod["terminationGracePeriodSeconds"]
    check(grace > drain_s, "%s: terminationGracePeriodSeconds %s > drain %.0f s" % (name, grace, drain_s))

    # PDB, Service, ServiceMonitor select the pods.
    def selects(sel):
        return bool(sel) and all(labels.get(a) == b for a, b in sel.items())
    pdb = k.get("PodDisruptionBudget", [])
    check(len(pdb) == 1 and selects(pdb[0]["spec"]["selector"]["matchLabels"])
          and pdb[0]["spec"].get("maxUnavailable") == 1, "%s: PodDisruptionBudget maxUnavailable 1 over the pods" % name)
    svc = k.get("Service", [])
    check(len(svc) == 1 and selects(svc[0]["spec"]["selector"]), "%s: the Service selects the pods" % name)
    svc_ports = {p["name"]: p for p in svc[0]["spec"]["ports"]} if svc else {}
    for sm in k.get("ServiceMonitor", []):
        ep = sm["spec"]["endpoints"][0]
        check(ep["port"] in svc_ports and ports.get(svc_ports[ep["port"]]["targetPort"]) == http_port
              and ep["path"] == "/metrics"
              and all(svc[0]["metadata"]["labels"].get(a) == b for a, b in sm["spec"]["selector"]["matchLabels"].items()),
              "%s: the ServiceMonitor scrapes /metrics on the Service's named port" % name)

    # KEDA.
    for so in k.get("ScaledObject", []):
        t = so["spec"]["triggers"][0]
        md = t["metadata"]
        check(so["spec"]["scaleTargetRef"]["kind"] == w["kind"]
              and so["spec"]["scaleTargetRef"]["name"] == w["metadata"]["name"], "%s: ScaledObject targets the workload" % name)
        check(t["type"] == "kafka" and md["bootstrapServers"] == env["CONTACTGATE_KAFKA_BROKERS"]
              and md["consumerGroup"] == env["CONTACTGATE_KAFKA_GROUP_ID"] and md["topic"] == env["CONTACTGATE_TOPICS_INPUT"],
              "%s: the Kafka scaler watches the processor's brokers, group and topic" % name)
        check(md.get("excludePersistentLag") == "true" and int(md["lagThreshold"]) > 0,
              "%s: excludePersistentLag and a lag threshold" % name)
        check("replicas" not in spec, "%s: with KEDA the workload leaves the replica count to it" % name)
        if xprops.get("security.protocol", "PLAINTEXT") != "PLAINTEXT":
            check(bool(t.get("authenticationRef", {}).get("name")), "%s: the scaler authenticates (secured Kafka)" % name)

    # Secrets only as files.
    check(all("valueFrom" not in e for e in c.get("env", [])) and "sasl.password" not in xprops,
          "%s: no secret in env or args" % name)
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}

    def secret_of(path):
        for mp, vname in mounts.items():
            if path.startswith(mp + "/") and "secret" in vols[vname]:
                sec = vols[vname]["secret"]
                key = os.path.relpath(path, mp)
                if any(i["path"] == key for i in sec.get("items", [])):
                    return sec["secretName"], [i["key"] for i in sec["items"] if i["path"] == key][0]
        return None
    if xprops.get("security.protocol", "").startswith("SASL"):
        pw = env.get("CONTACTGATE_KAFKA_SASL_PASSWORD_FILE")
        check(pw is not None and secret_of(pw) is not None,
              "%s: the SASL password file %s is a key of a mounted Secret %s" % (name, pw, pw and secret_of(pw)))
    if "ssl.ca.location" in xprops:
        check(secret_of(xprops["ssl.ca.location"]) is not None, "%s: ssl.ca.location is in the CA Secret's mount" % name)

    # The real binary accepts what the chart renders.
    cms = [cm for cm in k.get("ConfigMap", []) if "contactgate.toml" in cm.get("data", {})]
    tmp = tempfile.mkdtemp(prefix="cg-helm-")
    toml_path = os.path.join(tmp, "contactgate.toml")
    with open(toml_path, "w") as f:
        f.write(cms[0]["data"]["contactgate.toml"] if cms else "")

    def local(path):  # a mounted file -> a file in tmp
        p = os.path.join(tmp, path.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("s3cret-from-secret\n")
        return p
    run_env = {k2: v for k2, v in os.environ.items() if not k2.startswith("CONTACTGATE_")}
    for k2, v in env.items():
        run_env[k2] = local(v) if k2.endswith("_FILE") else v
    cargs = [a if a != "/etc/contactgate/contactgate.toml" else toml_path for a in args]
    cargs = [("%s=%s" % (a.split("=", 1)[0], local(a.split("=", 1)[1])) if a.split("=", 1)[0].endswith(".location") else a)
             for a in cargs]
    check(cargs[0] == "run", "%s: the container runs `contactgate run`" % name)
    r = subprocess.run([binary, "config", "check"] + cargs[1:], capture_output=True, text=True, env=run_env)
    out = r.stdout
    check(r.returncode == 0, "%s: `contactgate config check` accepts the rendered args, env and file (%s)"
          % (name, r.stderr.strip()[-300:]))
    try:
        eff = tomllib.loads(out)
    except tomllib.TOMLDecodeError:
        eff = {}
    kafka, http = eff.get("kafka", {}), eff.get("http", {})
    check(kafka.get("brokers") == env["CONTACTGATE_KAFKA_BROKERS"] and kafka.get("group_id") == env["CONTACTGATE_KAFKA_GROUP_ID"]
          and eff.get("processing", {}).get("guarantee") == guarantee and http.get("address") == "0.0.0.0"
          and http.get("port") == http_port
          and eff.get("pipeline", {}).get("shutdown_timeout_ms") == int(env["CONTACTGATE_PIPELINE_SHUTDOWN_TIMEOUT_MS"])
          and eff.get("topics", {}).get("input") == env["CONTACTGATE_TOPICS_INPUT"],
          "%s: the effective configuration has the chart's brokers, group, guarantee, address, port, drain, topics" % name)
    common = kafka.get("common", {})
    check(all(common.get(k2) == v for k2, v in xprops.items() if not k2.endswith(".location")),
          "%s: the effective configuration has the chart's librdkafka properties %s" % (name, sorted(xprops)))
    if "CONTACTGATE_KAFKA_SASL_PASSWORD_FILE" in env:
        check("s3cret-from-secret" not in out + r.stderr and common.get("sasl.password") == "<redacted>",
              "%s: the password from the Secret file is used and redacted" % name)
    if "[limits]" in (cms[0]["data"]["contactgate.toml"] if cms else ""):
        check(eff.get("limits", {}).get("max_contacts") == 5000, "%s: extraConfig reaches the configuration" % name)
    return w


def main():
    binary = sys.argv[1]
    helm = helm_path()
    values_files = sorted(glob.glob(os.path.join(CHART, "ci", "*-values.yaml")))
    check(len(values_files) >= 2, "ci values files: %s" % [os.path.basename(v) for v in values_files])
    kinds = set()
    for vf in values_files:
        name = os.path.basename(vf)
        lint = subprocess.run([helm, "lint", "--strict", CHART, "-f", vf], capture_output=True, text=True)
        check(lint.returncode == 0, "%s: helm lint --strict (%s)" % (name, lint.stdout.strip().splitlines()[-1:]))
        rc, docs, err = render(helm, vf)
        if not check(rc == 0, "%s: helm template (%s)" % (name, err.strip()[-300:])):
            continue
        w = check_release(name, docs, binary)
        if w:
            kinds.add(w["kind"])
        names = [d["kind"] for d in docs]
        print("      %s renders: %s" % (name, ", ".join(sorted(names))))
    check(kinds == {"Deployment", "StatefulSet"}, "the ci values cover both workload kinds")
    secure = os.path.join(CHART, "ci", "strimzi-scram-keda-values.yaml")
    rc, docs, _ = render(helm, secure)
    check({"ScaledObject", "ServiceMonitor"} <= {d["kind"] for d in docs}, "KEDA and ServiceMonitor render when enabled")
    rc, docs, _ = render(helm, None, ["kafka.brokers=b:9092"])
    check(not {"ScaledObject", "ServiceMonitor"} & {d["kind"] for d in docs}, "KEDA and ServiceMonitor are off by default")

    # Refused values.
    for sets, why, words in (
            ([], "no kafka.brokers", "kafka.brokers is required"),
            (["kafka.brokers=b:9092", "terminationGracePeriodSeconds=15"], "grace period = the 15 s drain", "longer than the drain"),
            (["kafka.brokers=b:9092", "keda.enabled=true", "keda.maxReplicaCount=7"], "KEDA max above 6 partitions", "must not exceed topics.inputPartitions"),
            (["kafka.brokers=b:9092", "replicaCount=8"], "8 replicas for 6 partitions", "must not exceed topics.inputPartitions"),
            (["kafka.brokers=b:9092", "kafka.security.protocol=SASL_SSL", "kafka.security.username=u"], "SASL without a password Secret", "passwordSecret"),
            (["kafka.brokers=b:9092", "kafka.security.protocol=SSL", "keda.enabled=true"], "KEDA on TLS Kafka without authenticationRef", "authenticationRef"),
            (["kafka.brokers=b:9092", "processing.guarantee=exactly_one"], "a misspelt guarantee", "processing.guarantee must be")):
        rc, _, err = render(helm, None, sets)
        check(rc != 0 and words in err, "refused: %s (%s)" % (why, [l for l in err.splitlines() if "rror" in l][:1] if err else "rendered"))
    rc, docs, _ = render(helm, None, ["kafka.brokers=b:9092", "pipeline.shutdownTimeoutMs=60000"])
    grace = [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    check(grace == 75, "the default grace period follows the drain (60 s drain -> %s s)" % grace)

    return check.exit_status("helm chart: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
