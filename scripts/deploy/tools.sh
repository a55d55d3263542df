#!/usr/bin/env bash
# Prints the bin/ directory of a Python venv holding the pinned deployment linters of
# scripts/deploy/requirements.txt, creating it first if missing. The venv lives outside the
# clone, under ${TICKETFLOW_CACHE:-~/.cache/ticketflow}/deploy-venv-<hash of requirements>, so a
# warm call costs a stat and a changed pin gets a fresh venv. Needs python3 with venv
# (Debian: python3-venv, installed by scripts/system-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req=$here/requirements.txt
cache=${TICKETFLOW_CACHE:-$HOME/.cache/ticketflow}
hash=$(sha256sum "$req" | cut -c1-12)
venv=$cache/deploy-venv-$hash
if [[ ! -f $venv/.complete ]]; then
  echo "[deploy-tools] creating $venv (pinned: $(grep -Ev '^(#|$)' "$req" | tr '\n' ' '))" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin"
