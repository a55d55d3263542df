#!/usr/bin/env bash
# Runs the fleet natively (no Docker) against the local stack: builds the service binaries,
# starts each in the background with logs in .local/logs/<service>.log, waits for /health.
#
#   scripts/services.sh up | down | status
#
# Configuration comes from scripts/with-env.sh (.env.example -> .env -> .env.local).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run_dir=.local/run
log_dir=.local/logs
target_dir="${CARGO_TARGET_DIR:-$root/target}"

# binary:port, in start order (the gateway last, once its upstreams answer).
SERVICES=(user-service:3001 event-service:3002 inventory-service:3004 booking-service:3003 payment-service:3005 notification-service:3006 gateway:3000)

log() { printf '[services] %s\n' "$*" >&2; }

pid_of() { cat "$run_dir/$1.pid" 2>/dev/null || true; }
alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

up() {
  mkdir -p "$run_dir" "$log_dir"
  # The web app the gateway serves (WEB_DIR=frontend/dist): rebuilt only when its sources changed.
  bash frontend/scripts/ensure.sh build
  log "building service binaries"
  cargo build --quiet --bins
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    if alive "$name"; then
      log "$name already running (pid $(pid_of "$name"))"
      continue
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port is taken by another process: stop it or set PORT for $name"
      exit 1
    fi
    PORT=$port setsid nohup scripts/with-env.sh "$target_dir/debug/$name" \
      >>"$log_dir/$name.log" 2>&1 </dev/null &
    echo $! >"$run_dir/$name.pid"
    local deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; do
      if ! alive "$name" || ((SECONDS > deadline)); then
        log "$name did not come up; last log lines:"
        tail -n 20 "$log_dir/$name.log" >&2 || true
        exit 1
      fi
      sleep 0.3
    done
    log "$name up on :$port (log: $log_dir/$name.log)"
  done
}

down() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*}
    if alive "$name"; then
      kill -TERM "$(pid_of "$name")"
      local deadline=$((SECONDS + 15))
      while alive "$name" && ((SECONDS < deadline)); do sleep 0.2; done
      alive "$name" && kill -KILL "$(pid_of "$name")"
      log "$name stopped"
    fi
    rm -f "$run_dir/$name.pid"
  done
}

status() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    if alive "$name"; then echo "$name up (pid $(pid_of "$name"), port $port)"; else echo "$name down"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
