# shellcheck shell=bash
# PostgreSQL (superuser postgres, trust auth, fsync off) on 127.0.0.1:TF_PG_PORT (default 5432),
# with the databases in PG_DATABASES; cluster in .local/pg. Binaries: apt postgresql
# (scripts/system-deps.sh), or TF_PG_BIN. Config template: ../postgresql.conf.
# A component of infra/local/stack.sh (interface: infra/local/README.md, "Adding a component").

PG_PORT=${TF_PG_PORT:-5432}
PG_DATABASES=(ticketflow_users ticketflow_bookings ticketflow_inventory)
PG_BIN=""
PG_LINK=$LOCAL/pg
PG_OS_USER=""

find_pg_bin() {
  local d
  if [[ -n ${TF_PG_BIN:-} ]]; then
    PG_BIN=$TF_PG_BIN
    return 0
  fi
  PG_BIN=""
  while IFS= read -r d; do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
      PG_BIN=$d
      return 0
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  if have initdb && have pg_ctl; then
    d=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    if [[ -x $d/initdb && -x $d/postgres ]]; then
      PG_BIN=$d
      return 0
    fi
  fi
  return 1
}

postgres_install() {
  find_pg_bin || die "PostgreSQL binaries (initdb, pg_ctl, postgres) not found after installing 'postgresql'"
}

# PostgreSQL runs as an unprivileged OS user. A clone below a directory that user cannot
# traverse (a 0700 home, `mktemp -d`) keeps the cluster under /var/tmp instead, keyed by
# the clone's path, with .local/pg a symlink to it; otherwise it lives in .local/pg itself.
pg_set_dirs() {
  PG_DIR=$PG_LINK
  if [[ -L $PG_LINK ]]; then PG_DIR=$(readlink -f "$PG_LINK"); fi
  PG_DATA=$PG_DIR/data
  PG_LOG=$PG_DIR/postgres.log
}
pg_set_dirs

pg_place_outside_if_needed() {
  ((EUID == 0)) || return 0
  [[ -L $PG_LINK ]] && return 0
  mkdir -p "$LOCAL"
  runuser -u "$PG_OS_USER" -- test -x "$LOCAL" 2>/dev/null && return 0
  [[ -e $PG_LINK ]] && die "$PG_LINK exists but user $PG_OS_USER cannot reach it; remove it (make clean)"
  local outside
  outside=/var/tmp/ticketflow-pg-$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)
  log "user $PG_OS_USER cannot traverse $REPO: keeping PostgreSQL files in $outside"
  mkdir -p "$outside"
  chown "$PG_OS_USER" "$outside"
  chmod 700 "$outside"
  ln -s "$outside" "$PG_LINK"
  pg_set_dirs
}

pg_socket_dir() {
  local d=$PG_DIR/run
  # Unix socket paths are limited to ~107 bytes.
  if ((${#d} + 20 > 100)); then
    d=/tmp/ticketflow-pg-$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)
  fi
  printf '%s' "$d"
}

# PostgreSQL refuses to run as root: use the `postgres` system user if it exists,
# otherwise create a system user `tfpg`. Non-root callers run it as themselves.
pg_resolve_user() {
  if ((EUID != 0)); then
    PG_OS_USER=$(id -un)
    return 0
  fi
  if [[ -n ${TF_PG_OS_USER:-} ]]; then
    PG_OS_USER=$TF_PG_OS_USER
  elif id -u postgres >/dev/null 2>&1; then
    PG_OS_USER=postgres
  else
    PG_OS_USER=tfpg
    if ! id -u tfpg >/dev/null 2>&1; then
      log "creating system user tfpg to run PostgreSQL (it refuses to run as root)"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tfpg
    fi
  fi
}

as_pg() {
  if ((EUID == 0)); then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

postgres_pid() {
  local pid=""
  if [[ -r $PG_DATA/postmaster.pid ]]; then read -r pid <"$PG_DATA/postmaster.pid" 2>/dev/null || true; fi
  printf '%s' "${pid:-}"
}
postgres_port() { cat "$PG_DIR/port" 2>/dev/null; }
postgres_running() { pid_is_ours "$(postgres_pid)" "$PG_DATA"; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres; }
pg_psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }

pg_ensure_databases() {
  local existing db
  existing=$(pg_psql -tA -c "SELECT datname FROM pg_database") ||
    die "cannot query databases on 127.0.0.1:$PG_PORT"
  for db in "${PG_DATABASES[@]}"; do
    if ! grep -qx "$db" <<<"$existing"; then
      log "creating database $db"
      pg_psql -c "CREATE DATABASE \"$db\""
    fi
  done
}

postgres_preflight() {
  postgres_running || require_free_port postgres "$PG_PORT" TF_PG_PORT
}

postgres_up() {
  find_pg_bin || die "PostgreSQL binaries not found"
  pg_resolve_user
  if postgres_running; then
    check_recorded_port postgres "$PG_DIR/port" "$PG_PORT" TF_PG_PORT
    log "postgres already running (pid $(postgres_pid), port $PG_PORT)"
    pg_ready || wait_until "$WAIT_TIMEOUT" pg_ready || die "postgres is running but not ready"
    pg_ensure_databases
    return 0
  fi
  pg_place_outside_if_needed
  local sock
  sock=$(pg_socket_dir)
  mkdir -p "$PG_DIR" "$sock"
  if ((EUID == 0)); then chown "$PG_OS_USER" "$PG_DIR" "$sock"; fi
  chmod 700 "$sock"
  if ! as_pg test -w "$PG_DIR"; then
    die "user $PG_OS_USER cannot write $PG_DIR (is every parent directory of $REPO traversable, e.g. not under a 0700 home?)"
  fi
  if [[ ! -s $PG_DATA/PG_VERSION ]]; then
    local locale_opts=(--no-locale)
    if grep -qiE '^c\.utf-?8$' < <(locale -a 2>/dev/null); then locale_opts=(--locale=C.UTF-8); fi
    log "initdb $PG_DATA (superuser postgres, trust auth, run as OS user $PG_OS_USER)"
    rm -rf "$PG_DATA"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
      "${locale_opts[@]}" --no-sync >"$PG_DIR/initdb.log" 2>&1; then
      show_log "$PG_DIR/initdb.log"
      die "initdb failed"
    fi
    echo "include 'ticketflow.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  render "$SCRIPT_DIR/postgresql.conf" "PG_PORT=$PG_PORT" "PG_SOCKET_DIR=$sock" |
    as_pg tee "$PG_DATA/ticketflow.conf.new" >/dev/null
  if cmp -s "$PG_DATA/ticketflow.conf.new" "$PG_DATA/ticketflow.conf"; then
    rm -f "$PG_DATA/ticketflow.conf.new"
  else
    as_pg mv -f "$PG_DATA/ticketflow.conf.new" "$PG_DATA/ticketflow.conf"
  fi
  if [[ ! -e $PG_LOG ]]; then
    touch "$PG_LOG"
    if ((EUID == 0)); then chown "$PG_OS_USER" "$PG_LOG"; fi
  fi
  log "starting postgres on 127.0.0.1:$PG_PORT"
  # shellcheck disable=SC2094 # pg_ctl itself does not write to the log we append to
  if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_TIMEOUT" -s \
    </dev/null >/dev/null 2>>"$PG_LOG" 9>&-; then
    show_log "$PG_LOG"
    die "postgres failed to start"
  fi
  echo "$PG_PORT" >"$PG_DIR/port"
  if ! wait_until "$WAIT_TIMEOUT" pg_ready; then
    show_log "$PG_LOG"
    die "postgres not ready within ${WAIT_TIMEOUT}s"
  fi
  pg_ensure_databases
  log "postgres ready"
}

postgres_down() {
  local pid
  pid=$(postgres_pid)
  if postgres_running; then
    find_pg_bin || die "PostgreSQL binaries not found"
    pg_resolve_user
    log "stopping postgres (pid $pid)"
    STOPPED_PIDS+=("$pid")
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s >/dev/null 2>&1 ||
      stop_pid postgres "$pid" "$PG_DATA" 30
    # pg_ctl returns when postmaster.pid is gone; make sure the process is too.
    wait_until 30 pid_gone "$pid" || stop_pid postgres "$pid" "$PG_DATA" 5
  fi
  rm -f "$PG_DIR/port"
}

postgres_env() {
  cat <<EOF
USER_DB_URL=postgres://postgres@127.0.0.1:$PG_PORT/ticketflow_users
BOOKING_DB_URL=postgres://postgres@127.0.0.1:$PG_PORT/ticketflow_bookings
INVENTORY_DB_URL=postgres://postgres@127.0.0.1:$PG_PORT/ticketflow_inventory
DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
EOF
}

# `clean` deletes .local/; a cluster kept outside it (see pg_place_outside_if_needed) goes too.
postgres_clean() {
  if [[ -L $PG_LINK ]]; then rm -rf "$(readlink -f "$PG_LINK")"; fi
}
