#!/usr/bin/env bash
# Installs the Debian packages the project needs to build and run natively, before the first
# cargo call of `make lint` / `make test` / `make up`. Quiet and fast when all are present.
#
# Build: rdkafka's `cmake-build` compiles librdkafka (cmake, a C/C++ toolchain, pkg-config,
# libcurl and OpenSSL headers). Stack: PostgreSQL, Redis, Maven + JDK 17 for Kafka's jars.
# Scripts: curl, jq. Deployment linters (make lint-deploy): python3 + venv. Go (for FerretDB and
# Mailpit) and Rust come with the machine.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev
  postgresql redis-server redis-tools maven openjdk-17-jdk-headless
  curl jq
  python3 python3-venv
  chromium fonts-dejavu-core # make web-e2e: the browser playwright-core drives, a font for its pages
  wrk # make bench: the HTTP load generator for the plain HTTP figures
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

command -v apt-get >/dev/null 2>&1 || {
  echo "[deps] apt-get not found; install these packages yourself: ${missing[*]}" >&2
  exit 1
}
as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }

echo "[deps] installing ${missing[*]}" >&2
log=$(mktemp "${TMPDIR:-/tmp}/ticketflow-apt.XXXXXX")
as_root apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
# Installing postgresql / redis-server would start system-wide servers on our ports; a
# policy-rc.d that says "no" keeps them stopped (the local stack runs its own).
policy=/usr/sbin/policy-rc.d added=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  added=1
fi
rc=0
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >>"$log" 2>&1 || rc=$?
((added)) && as_root rm -f "$policy"
if ((rc != 0)); then
  tail -n 40 "$log" >&2
  echo "[deps] apt-get install failed (full log: $log)" >&2
  exit "$rc"
fi
rm -f "$log"
echo "[deps] installed" >&2
