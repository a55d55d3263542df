#!/usr/bin/env bash
# Runs a command with the project's configuration loaded, later files winning:
#   .env.example (defaults) -> .env (your settings) -> .env.local (where `make local-infra` runs).
# Variables already set in the environment win over all files.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
declare -A preset=()
while IFS='=' read -r name _; do preset[$name]=1; done < <(env)
for file in "$root/.env.example" "$root/.env" "$root/.env.local"; do
  [ -f "$file" ] || continue
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%=*}"; value="${line#*=}"
    [[ "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${preset[$name]:-}" ] && continue
    export "$name=$value"
  done < "$file"
done
exec "$@"
