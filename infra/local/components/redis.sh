# shellcheck shell=bash
# Redis (no persistence) on 127.0.0.1:TF_REDIS_PORT (default 6379), data and log in .local/redis.
# Binaries: apt redis-server + redis-tools (scripts/system-deps.sh). Config template: ../redis.conf.
# A component of infra/local/stack.sh (interface: infra/local/README.md, "Adding a component").

REDIS_PORT=${TF_REDIS_PORT:-6379}
REDIS_DIR=$LOCAL/redis

redis_install() {
  if ! have redis-server || ! have redis-cli; then
    die "redis-server / redis-cli not found after installing 'redis-server' and 'redis-tools'"
  fi
}

redis_pid() { read_pidfile "$REDIS_DIR/redis.pid"; }
redis_port() { cat "$REDIS_DIR/port" 2>/dev/null; }
redis_running() { pid_is_ours "$(redis_pid)" "$REDIS_DIR"; }
redis_ready() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_preflight() {
  redis_running || require_free_port redis "$REDIS_PORT" TF_REDIS_PORT
}

redis_up() {
  if redis_running; then
    check_recorded_port redis "$REDIS_DIR/port" "$REDIS_PORT" TF_REDIS_PORT
    log "redis already running (pid $(redis_pid), port $REDIS_PORT)"
    return 0
  fi
  mkdir -p "$REDIS_DIR"
  render "$SCRIPT_DIR/redis.conf" "REDIS_PORT=$REDIS_PORT" "REDIS_DIR=$REDIS_DIR" |
    write_if_changed "$REDIS_DIR/redis.conf"
  rm -f "$REDIS_DIR/redis.pid"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  (cd "$REDIS_DIR" && redis-server "$REDIS_DIR/redis.conf") >>"$REDIS_DIR/redis.log" 2>&1 9>&- ||
    {
      show_log "$REDIS_DIR/redis.log"
      die "redis-server failed to start"
    }
  echo "$REDIS_PORT" >"$REDIS_DIR/port"
  if ! wait_until "$WAIT_TIMEOUT" redis_ready; then
    show_log "$REDIS_DIR/redis.log"
    die "redis did not answer PING within ${WAIT_TIMEOUT}s"
  fi
  log "redis ready"
}

redis_down() {
  stop_pid redis "$(redis_pid)" "$REDIS_DIR" 30
  rm -f "$REDIS_DIR/redis.pid" "$REDIS_DIR/port"
}

redis_env() {
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}
