#!/usr/bin/env bash
# `make lint-deploy` (part of `make lint`): validates every deployment file offline.
#   1. hadolint on every Dockerfile (.hadolint.yaml)
#   2. docker-compose.yml and docker-compose.dev.yml against the Compose specification's schema
#      (check-jsonschema's vendored copy; no Docker engine or `docker compose` needed)
#   3. every k8s/ manifest against the Kubernetes 1.37 OpenAPI schemas, strict (unknown fields
#      fail), with kubernetes-validate's bundled schemas; KEDA's ScaledObject, a CRD those
#      schemas lack, is checked against k8s/schemas/keda-scaledobject.schema.json in step 5
#   4. the generated k8s files are up to date (scripts/deploy/gen_k8s.py --check)
#   5. compose/k8s against the code: images, env names, ports, topics, secrets, KEDA, dashboard
#      metric names (scripts/deploy/check.py)
# The linters are pinned in scripts/deploy/requirements.txt, in a venv under ~/.cache/ticketflow.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin=$(bash scripts/deploy/tools.sh)
t0=$(date +%s%N)
step() { printf '[lint-deploy] %s\n' "$*" >&2; }

mapfile -t dockerfiles < <(find . \( -path ./target -o -path ./.local -o -path ./.git -o -name node_modules \) -prune \
  -o -type f \( -name Dockerfile -o -name '*.Dockerfile' -o -name 'Dockerfile.*' \) -print | sort)
step "hadolint: ${dockerfiles[*]}"
"$bin/hadolint" --config .hadolint.yaml "${dockerfiles[@]}"

step "compose schema: docker-compose.yml docker-compose.dev.yml"
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.dev.yml >/dev/null

mapfile -t manifests < <(find k8s -name '*.yaml' -not -path 'k8s/keda/*' -not -name kustomization.yaml | sort)
step "kubernetes-validate --strict: ${#manifests[@]} files (k8s/keda: a CRD, and kustomization.yaml: checked by check.py)"
out=$("$bin/kubernetes-validate" --strict --quiet "${manifests[@]}" 2>&1) || { echo "$out" >&2; exit 1; }
if grep -q . <<<"$out"; then
  echo "$out" >&2
  step "kubernetes-validate printed warnings (e.g. a kind without a schema): fix them or check the kind elsewhere"
  exit 1
fi

step "generated k8s files up to date"
"$bin/python" scripts/deploy/gen_k8s.py --check

step "compose/k8s against the code"
"$bin/python" scripts/deploy/check.py

step "ok in $((($(date +%s%N) - t0) / 1000000)) ms"
