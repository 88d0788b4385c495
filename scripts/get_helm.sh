#!/usr/bin/env bash
# get_helm.sh - print the path of helm v3.22.0, building it once from the Go module proxy
# (go install, about 3.5 minutes on a fresh machine; cached in ${CG_CACHE_DIR:-~/.cache/contactgate}/gobin).
# Needs Go (/usr/local/go/bin or on PATH). Used by tests/deploy/helm_chart_test.py and CI.
set -euo pipefail
version=v3.22.0
bin=${CG_CACHE_DIR:-$HOME/.cache/contactgate}/gobin
if [[ -x "$bin/helm" ]] && "$bin/helm" version --template '{{.Version}}' 2>/dev/null | grep -q "^${version%.0}"; then
    echo "$bin/helm"; exit 0
fi
go=$(command -v go || echo /usr/local/go/bin/go)
[[ -x "$go" ]] || { echo "get_helm: Go is needed to build helm (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$bin"
echo "get_helm: go install helm.sh/helm/v3/cmd/helm@$version (once, a few minutes)" >&2
(cd /tmp && GOBIN="$bin" GOFLAGS=-p=2 "$go" install "helm.sh/helm/v3/cmd/helm@$version") >&2
echo "$bin/helm"
