# shellcheck shell=bash
# Mailpit (SMTP sink + HTTP API/UI): SMTP on 127.0.0.1:TF_SMTP_PORT (default 1025, any or no
# auth), HTTP on 127.0.0.1:TF_MAILPIT_HTTP_PORT (8025); data in .local/mailpit.
# Binary: `go install` into ${TICKETFLOW_CACHE:-~/.cache/ticketflow}/bin.
# A component of infra/local/stack.sh (interface: infra/local/README.md, "Adding a component").

MAILPIT_VERSION=v1.27.11
SMTP_PORT=${TF_SMTP_PORT:-1025}
MAILPIT_HTTP_PORT=${TF_MAILPIT_HTTP_PORT:-8025}
MAILPIT_BIN=$CACHE_BIN/mailpit-$MAILPIT_VERSION
MAILPIT_DIR=$LOCAL/mailpit
MAILPIT_PIDFILE=$MAILPIT_DIR/mailpit.pid

mailpit_install() {
  local logf=$LOCAL/install/mailpit-install.log gobin
  if [[ ! -x $MAILPIT_BIN ]]; then
    ensure_go
    log "go install mailpit $MAILPIT_VERSION into $CACHE_BIN ..."
    gobin=$(mktemp -d "$CACHE_BIN/.mailpit.XXXXXX")
    if ! GOBIN=$gobin go install -buildvcs=false \
      -ldflags "-X github.com/axllent/mailpit/config.Version=$MAILPIT_VERSION" \
      "github.com/axllent/mailpit@$MAILPIT_VERSION" >"$logf" 2>&1; then
      rm -rf "$gobin"
      show_log "$logf"
      return 1
    fi
    mv -f "$gobin/mailpit" "$MAILPIT_BIN"
    rm -rf "$gobin"
    log "installed mailpit"
  fi
  ln -sfn "$(basename "$MAILPIT_BIN")" "$CACHE_BIN/mailpit"
}

mailpit_pid() { read_pidfile "$MAILPIT_PIDFILE"; }
mailpit_port() { cat "$MAILPIT_DIR/port" 2>/dev/null; }
mailpit_running() { pid_is_ours "$(mailpit_pid)" "$MAILPIT_DIR/mailpit.db"; }

smtp_ready() {
  local banner
  # shellcheck disable=SC2016 # the inner script gets its values as arguments
  banner=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    head -n 1 <&3; printf "QUIT\r\n" >&3' _ "$SMTP_PORT" 2>/dev/null) || return 1
  [[ $banner == 220* ]]
}
mailpit_ready() { mailpit_running && http_ok "$MAILPIT_HTTP_PORT" /readyz && smtp_ready; }

mailpit_preflight() {
  mailpit_running && return 0
  require_free_port "mailpit smtp" "$SMTP_PORT" TF_SMTP_PORT
  require_free_port "mailpit http" "$MAILPIT_HTTP_PORT" TF_MAILPIT_HTTP_PORT
}

mailpit_up() {
  if mailpit_running; then
    check_recorded_port mailpit "$MAILPIT_DIR/port" "$SMTP_PORT/$MAILPIT_HTTP_PORT" "TF_SMTP_PORT/TF_MAILPIT_HTTP_PORT"
    log "mailpit already running (pid $(mailpit_pid), smtp $SMTP_PORT, http $MAILPIT_HTTP_PORT)"
    return 0
  fi
  mkdir -p "$MAILPIT_DIR"
  log "starting mailpit $MAILPIT_VERSION (smtp 127.0.0.1:$SMTP_PORT, http 127.0.0.1:$MAILPIT_HTTP_PORT)"
  spawn "$MAILPIT_PIDFILE" "$MAILPIT_DIR/mailpit.log" \
    "$MAILPIT_BIN" --database "$MAILPIT_DIR/mailpit.db" \
    --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --disable-version-check \
    --max 50000 --quiet
  echo "$SMTP_PORT/$MAILPIT_HTTP_PORT" >"$MAILPIT_DIR/port"
  if ! wait_until "$WAIT_TIMEOUT" mailpit_ready; then
    show_log "$MAILPIT_DIR/mailpit.log"
    die "mailpit not ready (GET /readyz on :$MAILPIT_HTTP_PORT, SMTP banner on :$SMTP_PORT) within ${WAIT_TIMEOUT}s"
  fi
  log "mailpit ready"
}

mailpit_down() {
  stop_pid mailpit "$(mailpit_pid)" "$MAILPIT_DIR/mailpit.db" 30
  rm -f "$MAILPIT_PIDFILE" "$MAILPIT_DIR/port"
}

mailpit_env() {
  cat <<EOF
SMTP_HOST=127.0.0.1
SMTP_PORT=$SMTP_PORT
MAILPIT_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT
EOF
}
