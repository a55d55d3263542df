#!/usr/bin/env bash
# Prints Secret ticketflow-secrets (namespace ticketflow) built from .env, for
#   make k8s-secret   (= scripts/deploy/k8s-secret.sh | kubectl apply -f -)
# Keys: JWT_SECRET, INTERNAL_SECRET, POSTGRES_PASSWORD, MONGO_PASSWORD, REDIS_PASSWORD,
# SMTP_USERNAME, SMTP_PASSWORD (the last two may be empty). k8s/secret.example.yaml shows the
# shape; no real value is ever committed. ENV_FILE=path reads another file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
env_file=${ENV_FILE:-.env}
[[ -r $env_file ]] || { echo "k8s-secret: $env_file not found (make setup, then set the secrets)" >&2; exit 1; }
# shellcheck disable=SC1090
set -a && . "$env_file" && set +a

required=(JWT_SECRET INTERNAL_SECRET POSTGRES_PASSWORD MONGO_PASSWORD REDIS_PASSWORD)
optional=(SMTP_USERNAME SMTP_PASSWORD)
for key in "${required[@]}"; do
  value=${!key:-}
  if [[ -z $value || $value == change-me* ]]; then
    echo "k8s-secret: set $key in $env_file (openssl rand -hex 32)" >&2
    exit 1
  fi
  if [[ $key == *_SECRET && ${#value} -lt 32 ]]; then
    echo "k8s-secret: $key must be at least 32 bytes" >&2
    exit 1
  fi
done

b64() { printf '%s' "$1" | base64 | tr -d '\n'; }
cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: ticketflow-secrets
  namespace: ticketflow
  labels: { app.kubernetes.io/part-of: ticketflow }
type: Opaque
data:
YAML
for key in "${required[@]}" "${optional[@]}"; do
  printf '  %s: "%s"\n' "$key" "$(b64 "${!key:-}")"
done
