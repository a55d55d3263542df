#!/usr/bin/env bash
# `make seed`: the demo data, idempotently (a second run creates nothing).
#   1. demo accounts test@ticketflow.dev (USER) and admin@ticketflow.dev (ADMIN): user-service seed-users
#   2. venues and events with fixed ids (infra/seed/catalogue.json): event-service seed,
#      which also publishes ticketflow.event.created so inventory-service lays out the seats.
# Runs both natively against the stack configured by .env.example -> .env -> .env.local.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"
catalogue="${SEED_CATALOGUE:-infra/seed/catalogue.json}"

fail() { echo "seed: FAILED during $1" >&2; exit 1; }

# Natively, or against running containers (compose services user-service and event-service,
# whose images carry the binaries and the built-in catalogue) when scripts/ops.sh's mode is
# docker (a Docker engine answers; TICKETFLOW_MODE=docker|native chooses) or SEED_COMPOSE=1.
if [ -n "${SEED_COMPOSE:-}" ] || [ "$(bash scripts/ops.sh mode)" = docker ]; then
  user_seed=(docker compose exec -T user-service user-service seed-users)
  event_seed=(docker compose exec -T event-service event-service seed)
else
  user_seed=(scripts/with-env.sh "$cargo" run -q -p ticketflow-user --bin user-service -- seed-users)
  event_seed=(scripts/with-env.sh "$cargo" run -q -p ticketflow-event --bin event-service -- seed --file "$catalogue")
fi

echo "==> demo users (user-service seed-users)"
"${user_seed[@]}" || fail "user seeding"

echo "==> venues and events (event-service seed)"
"${event_seed[@]}" || fail "catalogue seeding"

echo "==> seed complete: log in as test@ticketflow.dev / Test1234! or admin@ticketflow.dev / Admin1234!"
