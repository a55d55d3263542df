#!/usr/bin/env bash
# Runs a command with the project's configuration loaded, later files winning:
#   .env.example (defaults) -> .env (your settings) -> .env.local (where `make local-infra` runs).
# Variables already set in the environment win over all files.
#
# The files are parsed by dotenvy in crates/envfile (`with-env`), the same loader the tests'
# `ticketflow_testkit::setting` uses: quote a value with spaces, `#` after a space starts a
# comment, `$VAR` expands. This builds it (a no-op when up to date) and hands over to it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
"${CARGO:-cargo}" build --quiet --manifest-path "$root/Cargo.toml" -p ticketflow-envfile --bin with-env
exec "$target/debug/with-env" --root "$root" "$@"
