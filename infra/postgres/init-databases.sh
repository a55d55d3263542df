#!/usr/bin/env bash
# Creates the TicketFlow PostgreSQL databases (CONTRACT: one per service that uses PostgreSQL).
# Run once by the postgres image's entrypoint on an empty data directory
# (/docker-entrypoint-initdb.d in docker-compose.yml; the k8s StatefulSet mounts the same
# script from a ConfigMap generated from this file). Idempotent, so running it by hand is safe:
#   PGHOST=... PGUSER=postgres infra/postgres/init-databases.sh
# The native stack creates the same list in infra/local/components/postgres.sh.
set -euo pipefail

DATABASES=(ticketflow_users ticketflow_bookings ticketflow_inventory)

for db in "${DATABASES[@]}"; do
  if [[ $(psql -v ON_ERROR_STOP=1 -U "${POSTGRES_USER:-postgres}" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'") == 1 ]]; then
    echo "init-databases: $db exists"
  else
    psql -v ON_ERROR_STOP=1 -U "${POSTGRES_USER:-postgres}" -d postgres -c "CREATE DATABASE \"$db\""
    echo "init-databases: created $db"
  fi
done
