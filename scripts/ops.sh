#!/usr/bin/env bash
# Operators' commands behind mk/ops.mk (`make dev`, `make logs-booking`, `make kafka-lag g=...`),
# each working against whichever fleet runs here:
#   docker  the compose stack (docker-compose.yml + docker-compose.dev.yml), when `docker info`
#           reaches an engine;
#   native  the processes of `make up` (infra/local/stack.sh + scripts/services.sh), otherwise.
# TICKETFLOW_MODE=docker|native overrides the detection. Every command says which mode it uses.
#
#   scripts/ops.sh <command> [args]      (see `usage` below, or `make help`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CACHE=${TICKETFLOW_CACHE:-$HOME/.cache/ticketflow}
MONGOSH_VERSION=2.12.0
COMPOSE_DEV=(docker compose -f docker-compose.yml -f docker-compose.dev.yml)
COMPOSE_PROD=(docker compose -f docker-compose.yml)
# Short names (s=, logs-<name>) → compose service / native process, and the port each listens on.
declare -A PROC=([gateway]=gateway [user]=user-service [event]=event-service [booking]=booking-service
  [inventory]=inventory-service [payment]=payment-service [notification]=notification-service)
declare -A PORT=([gateway]=3000 [user]=3001 [event]=3002 [booking]=3003 [inventory]=3004
  [payment]=3005 [notification]=3006)
SHORT=(gateway user event booking inventory payment notification)
GATEWAY_URL=${GATEWAY_URL:-http://localhost:3000}

log() { printf '[ops] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

mode() {
  case ${TICKETFLOW_MODE:-} in
  docker | native) echo "$TICKETFLOW_MODE" ;;
  "") if have docker && docker info >/dev/null 2>&1; then echo docker; else echo native; fi ;;
  *) die "TICKETFLOW_MODE must be docker or native, not '$TICKETFLOW_MODE'" ;;
  esac
}

need_docker() {
  have docker || die "docker is not installed"
  docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info' (this target needs one)"
}

need_env_file() {
  [[ -f .env ]] || die "no .env: run 'make setup', then set JWT_SECRET, INTERNAL_SECRET, POSTGRES_PASSWORD, MONGO_PASSWORD and REDIS_PASSWORD in it (openssl rand -hex 32 each)"
}

# KEY from the native configuration (.env.example -> .env -> .env.local, as services see it).
setting() { scripts/with-env.sh bash -c 'printf %s "${!1:-}"' _ "$1"; }

service_name() { # <short name> → sets SVC (short) or dies
  local s=${1:-}
  s=${s%-service}
  [[ -n $s ]] || die "name a service: s=<$(
    IFS='|'
    echo "${SHORT[*]}"
  )>"
  [[ -n ${PROC[$s]:-} || $s == web ]] || die "unknown service '$s' (one of: ${SHORT[*]} web)"
  SVC=$s
}
compose_service() { if [[ $1 == web ]]; then echo web; else echo "${PROC[$1]}"; fi; }

kafka_native() { # <tool.sh> args...: the cached Kafka distribution's tools (the local stack's)
  local tool=.local/kafka/bin/$1
  shift
  [[ -x $tool ]] || die "$tool is missing: start the local stack first (make local-infra)"
  "$tool" "$@"
}
kafka_docker() { # <tool.sh> args...
  local tool=$1
  shift
  "${COMPOSE_DEV[@]}" exec -T kafka "/opt/kafka/bin/$tool" "$@"
}
kafka() { # <tool.sh> args... (bootstrap added per mode)
  local tool=$1
  shift
  if [[ $(mode) == docker ]]; then
    kafka_docker "$tool" --bootstrap-server localhost:9092 "$@"
  else
    kafka_native "$tool" --bootstrap-server "$(setting KAFKA_BOOTSTRAP_SERVERS)" "$@"
  fi
}

# ------------------------------------------------------------------------------ fleet
cmd_dev() {
  if [[ $(mode) == docker ]]; then
    need_env_file
    log "Docker engine found: starting the compose dev stack (docker-compose.yml + docker-compose.dev.yml)"
    "${COMPOSE_DEV[@]}" up -d --build
    log "gateway http://localhost:3000, web http://localhost, Kafka UI http://localhost:8081, mongo-express http://localhost:8082, Mailpit http://localhost:8025"
  else
    log "no Docker engine: running the native stack instead (make up)"
    make --no-print-directory up
  fi
}

cmd_dev_infra() {
  if [[ $(mode) == docker ]]; then
    need_env_file
    log "docker: starting the stores, Kafka (+ topics), Mailpit and the dev UIs"
    "${COMPOSE_DEV[@]}" up -d postgres mongodb redis kafka kafka-init mailpit kafka-ui mongo-express
  else
    log "native: starting the local stack (make local-infra)"
    make --no-print-directory local-infra
  fi
}

cmd_dev_stop() {
  if [[ $(mode) == docker ]]; then
    log "docker: stopping the compose stack (volumes kept)"
    "${COMPOSE_DEV[@]}" down
  else
    log "native: stopping the services and the local stack (data in .local/ kept)"
    bash scripts/services.sh down
    bash infra/local/stack.sh down
  fi
}

cmd_dev_clean() {
  if [[ $(mode) == docker ]]; then
    log "docker: removing the compose stack and its volumes"
    "${COMPOSE_DEV[@]}" down -v --remove-orphans
  else
    log "native: stopping everything and deleting the local stack's data (.local/, .env.local)"
    bash scripts/services.sh down
    bash infra/local/stack.sh clean
  fi
}

stop_native() { # <process name>
  local pidfile=.local/run/$1.pid pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$pidfile"
}

cmd_restart() {
  service_name "${1:-}"
  if [[ $(mode) == docker ]]; then
    log "docker: restarting $(compose_service "$SVC")"
    "${COMPOSE_DEV[@]}" restart "$(compose_service "$SVC")"
  else
    [[ $SVC != web ]] || die "web is a docker image; natively the gateway serves frontend/dist"
    log "native: restarting ${PROC[$SVC]} (scripts/services.sh up starts what is not running)"
    stop_native "${PROC[$SVC]}"
    bash scripts/services.sh up
  fi
}

cmd_rebuild() {
  service_name "${1:-}"
  if [[ $(mode) == docker ]]; then
    log "docker: rebuilding the $(compose_service "$SVC") image and recreating its container"
    "${COMPOSE_DEV[@]}" up -d --build --no-deps "$(compose_service "$SVC")"
  else
    [[ $SVC != web ]] || die "web is a docker image; natively run 'make web-build' if it exists"
    log "native: rebuilding and restarting ${PROC[$SVC]}"
    cargo build --quiet -p "ticketflow-$SVC" --bins
    stop_native "${PROC[$SVC]}"
    bash scripts/services.sh up
  fi
}

cmd_logs() { # [short name]
  local svc=${1:-}
  if [[ $(mode) == docker ]]; then
    if [[ -n $svc ]]; then
      service_name "$svc"
      "${COMPOSE_DEV[@]}" logs -f --tail=200 "$(compose_service "$SVC")"
    else
      "${COMPOSE_DEV[@]}" logs -f --tail=50
    fi
  else
    local files=()
    if [[ -n $svc ]]; then
      service_name "$svc"
      files=(".local/logs/${PROC[$SVC]}.log")
    else
      for s in "${SHORT[@]}"; do
        [[ -f .local/logs/${PROC[$s]}.log ]] && files+=(".local/logs/${PROC[$s]}.log")
      done
    fi
    ((${#files[@]})) || die "no service logs in .local/logs yet (make up starts the services)"
    log "native: following ${files[*]} (Ctrl-C to stop)"
    exec tail -n "${LINES_BACK:-100}" -F "${files[@]}"
  fi
}

cmd_health() {
  log "GET $GATEWAY_URL/health/all ($(mode) mode)"
  local body
  body=$(curl -sS --max-time 15 "$GATEWAY_URL/health/all") || die "the gateway at $GATEWAY_URL does not answer"
  if have jq; then jq . <<<"$body"; else echo "$body"; fi
  [[ $(jq -r .status <<<"$body" 2>/dev/null) == up ]]
}

cmd_health_individual() {
  local s code failed=0 url
  log "each service's own /health and /health/ready ($(mode) mode; docker: ports of docker-compose.dev.yml)"
  for s in "${SHORT[@]}"; do
    for path in /health /health/ready; do
      url="http://localhost:${PORT[$s]}$path"
      # The gateway's readiness is on its internal METRICS_PORT.
      [[ $s == gateway && $path == /health/ready ]] && url="http://localhost:${METRICS_PORT:-9100}$path"
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
      [[ $code == 000 ]] && code=down
      printf '  %-22s %-14s %s\n' "${PROC[$s]}" "$path" "$code"
      [[ $code == 200 ]] || failed=1
    done
  done
  return "$failed"
}

# ------------------------------------------------------------------------------ stores
cmd_psql() { # users|bookings|inventory
  local db=${1:-}
  case $db in users | bookings | inventory) ;; *) die "psql-<users|bookings|inventory>" ;; esac
  if [[ $(mode) == docker ]]; then
    exec "${COMPOSE_DEV[@]}" exec postgres psql -U postgres -d "ticketflow_$db"
  fi
  local var
  case $db in users) var=USER_DB_URL ;; bookings) var=BOOKING_DB_URL ;; inventory) var=INVENTORY_DB_URL ;; esac
  have psql || die "psql is missing (make deps installs it)"
  log "native: psql \$$var"
  exec psql "$(setting "$var")"
}

mongosh_native() {
  local dir=$CACHE/mongosh-$MONGOSH_VERSION
  if [[ ! -x $dir/node_modules/.bin/mongosh ]]; then
    have npm || die "npm is needed to fetch mongosh $MONGOSH_VERSION"
    log "installing mongosh $MONGOSH_VERSION into $dir (npm, once)"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "mongosh@$MONGOSH_VERSION" >&2
  fi
  echo "$dir/node_modules/.bin/mongosh"
}

cmd_mongo_shell() {
  if [[ $(mode) == docker ]]; then
    exec "${COMPOSE_DEV[@]}" exec mongodb bash -c 'mongosh -u ticketflow -p "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin ticketflow_events'
  fi
  local sh url
  sh=$(mongosh_native)
  url=$(setting MONGODB_URL)
  log "native: mongosh $url (FerretDB; 'use ticketflow_payments' etc. to switch)"
  exec "$sh" "${url%/}/ticketflow_events" "$@"
}

cmd_redis_cli() {
  if [[ $(mode) == docker ]]; then
    exec "${COMPOSE_DEV[@]}" exec redis sh -c 'REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli "$@"' _ "$@"
  fi
  have redis-cli || die "redis-cli is missing (make deps installs it)"
  log "native: redis-cli -u \$REDIS_URL"
  exec redis-cli -u "$(setting REDIS_URL)" "$@"
}

# ------------------------------------------------------------------------------ kafka
cmd_kafka_topics() { kafka kafka-topics.sh --list; }
cmd_kafka_topic_describe() {
  [[ -n ${1:-} ]] || die "name a topic: t=ticketflow.booking.initiated"
  kafka kafka-topics.sh --describe --topic "$1"
}
cmd_kafka_consume() { # <topic> [max messages]
  [[ -n ${1:-} ]] || die "name a topic: t=ticketflow.booking.initiated (n=10 to stop after 10)"
  local extra=()
  [[ -n ${2:-} ]] && extra=(--max-messages "$2")
  kafka kafka-console-consumer.sh --topic "$1" --from-beginning "${extra[@]}" \
    --property print.key=true --property print.headers=true --property print.timestamp=true
}
cmd_kafka_groups() { kafka kafka-consumer-groups.sh --list; }
cmd_kafka_lag() { # [group]
  if [[ -n ${1:-} ]]; then
    kafka kafka-consumer-groups.sh --describe --group "$1"
  else
    kafka kafka-consumer-groups.sh --describe --all-groups
  fi
}

# ------------------------------------------------------------------------------ images
image_tag() { echo "${IMAGE_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"; }

cmd_build() {
  need_docker
  local registry=${IMAGE_REGISTRY:-ticketflow} tag s
  tag=$(image_tag)
  for s in "${SHORT[@]}"; do
    log "building $registry/$s:$tag (Dockerfile, SERVICE=$s)"
    docker build --build-arg "SERVICE=$s" --build-arg "PORT=${PORT[$s]}" \
      -t "$registry/$s:$tag" -t "$registry/$s:latest" .
  done
  log "building $registry/web:$tag (frontend/Dockerfile, on $registry/gateway:$tag)"
  docker build -f frontend/Dockerfile --build-arg "GATEWAY_IMAGE=$registry/gateway:$tag" \
    -t "$registry/web:$tag" -t "$registry/web:latest" .
}

cmd_build_push() {
  cmd_build
  local registry=${IMAGE_REGISTRY:-ticketflow} tag s
  tag=$(image_tag)
  for s in "${SHORT[@]}" web; do
    docker push "$registry/$s:$tag"
    docker push "$registry/$s:latest"
  done
}

cmd_prod_up() {
  need_docker
  need_env_file
  log "docker: starting the production compose stack (docker-compose.yml)"
  "${COMPOSE_PROD[@]}" up -d
}
cmd_prod_down() {
  need_docker
  "${COMPOSE_PROD[@]}" down
}

usage() {
  cat <<'EOF'
usage: scripts/ops.sh <command> [args]   (mode: docker when `docker info` works, else native;
                                          TICKETFLOW_MODE=docker|native to choose)
  dev | dev-infra | dev-stop | dev-clean
  restart <svc> | rebuild <svc> | logs [<svc>]         svc: gateway user event booking inventory payment notification (web: docker)
  health | health-individual
  psql <users|bookings|inventory> | mongo-shell | redis-cli
  kafka-topics | kafka-topic-describe <topic> | kafka-consume <topic> [n] | kafka-groups | kafka-lag [group]
  build | build-push | prod-up | prod-down | mode
EOF
}

cmd=${1:-}
shift || true
case $cmd in
mode) mode ;;
dev) cmd_dev ;;
dev-infra) cmd_dev_infra ;;
dev-stop) cmd_dev_stop ;;
dev-clean) cmd_dev_clean ;;
restart) cmd_restart "$@" ;;
rebuild) cmd_rebuild "$@" ;;
logs) cmd_logs "$@" ;;
health) cmd_health ;;
health-individual) cmd_health_individual ;;
psql) cmd_psql "$@" ;;
mongo-shell) cmd_mongo_shell "$@" ;;
redis-cli) cmd_redis_cli "$@" ;;
kafka-topics) cmd_kafka_topics ;;
kafka-topic-describe) cmd_kafka_topic_describe "$@" ;;
kafka-consume) cmd_kafka_consume "$@" ;;
kafka-groups) cmd_kafka_groups ;;
kafka-lag) cmd_kafka_lag "$@" ;;
build) cmd_build ;;
build-push) cmd_build_push ;;
prod-up) cmd_prod_up ;;
prod-down) cmd_prod_down ;;
-h | --help | help | "") usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
