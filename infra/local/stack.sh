#!/usr/bin/env bash
# TicketFlow native (no-Docker) infrastructure stack: PostgreSQL, Redis, Kafka (KRaft),
# FerretDB (MongoDB wire protocol, SQLite backend) and Mailpit (SMTP sink).
#
#   infra/local/stack.sh up       install what is missing, start what is not running, wait
#                                 until everything is ready, create Kafka topics, write .env.local
#   infra/local/stack.sh down     stop exactly the processes this stack started
#   infra/local/stack.sh status   one line per component; exit 1 if any is down
#   infra/local/stack.sh env      print .env.local
#   infra/local/stack.sh clean    down, then delete .local/ (all data) and .env.local
#
# All state lives in <repo>/.local/ (git-ignored); everything listens on 127.0.0.1 only.
# Downloaded/built tools live outside the clone in ${TICKETFLOW_CACHE:-~/.cache/ticketflow}.
# Ports (env): TF_PG_PORT=5432 TF_REDIS_PORT=6379 TF_KAFKA_PORT=9093
#   TF_KAFKA_CONTROLLER_PORT=9094 TF_MONGO_PORT=27017 TF_SMTP_PORT=1025 TF_MAILPIT_HTTP_PORT=8025
# See infra/local/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd -P)
LOCAL=$REPO/.local
ENV_FILE=$REPO/.env.local
CACHE=${TICKETFLOW_CACHE:-$HOME/.cache/ticketflow}
CACHE_BIN=$CACHE/bin
KAFKA_DIR_INFRA=$REPO/infra/kafka

PG_PORT=${TF_PG_PORT:-5432}
REDIS_PORT=${TF_REDIS_PORT:-6379}
KAFKA_PORT=${TF_KAFKA_PORT:-9093}
KAFKA_CONTROLLER_PORT=${TF_KAFKA_CONTROLLER_PORT:-9094}
MONGO_PORT=${TF_MONGO_PORT:-27017}
SMTP_PORT=${TF_SMTP_PORT:-1025}
MAILPIT_HTTP_PORT=${TF_MAILPIT_HTTP_PORT:-8025}
WAIT_TIMEOUT=${TF_WAIT_TIMEOUT:-90} # seconds, per component
# Also listen on [::1]:TF_KAFKA_PORT when "localhost" resolves to ::1 here (auto|1|0), so
# clients given localhost:9093 do not first hit "connection refused" on ::1.
KAFKA_IPV6=${TF_KAFKA_IPV6:-auto}

FERRETDB_VERSION=v1.24.2
MAILPIT_VERSION=v1.27.11
PG_DATABASES=(ticketflow_users ticketflow_bookings ticketflow_inventory)

COMPONENTS=(redis postgres kafka ferretdb mailpit)
JAVA=java

# ------------------------------------------------------------------------------ helpers
log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Print the tail of a log file (for startup failures).
show_log() { # <file> [lines]
  local f=$1 n=${2:-40}
  if [[ -s $f ]]; then
    printf '[stack] ---- last %s lines of %s ----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf '[stack] ---- end of %s ----\n' "$f" >&2
  else
    log "(log $f is empty or missing)"
  fi
}

# Write stdin to <file> only if the content differs (keeps a warm `up` side-effect free).
write_if_changed() { # <file> [mode]
  local f=$1 mode=${2:-} tmp
  tmp=$(mktemp "$f.XXXXXX")
  cat >"$tmp"
  if [[ -f $f ]] && cmp -s "$tmp" "$f"; then
    rm -f "$tmp"
  else
    [[ -n $mode ]] && chmod "$mode" "$tmp"
    mv -f "$tmp" "$f"
  fi
}

# Substitute @KEY@ placeholders: render <template> KEY=value...
render() {
  local tpl=$1 content kv key val
  shift
  content=$(<"$tpl")
  for kv in "$@"; do
    key=${kv%%=*} val=${kv#*=}
    content=${content//"@$key@"/"$val"}
  done
  printf '%s\n' "$content"
}

# Is <port> on loopback already in use (any listener on that port)?
port_in_use() { # <port>
  local port=$1
  if have ss; then
    [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

tcp_open() { # <port>
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Is <pid> alive? A zombie counts as dead (it may wait a while for its reaper, e.g. in
# containers whose init reaps lazily).
pid_alive() { # <pid>
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Is <pid> alive and one of ours? The marker must appear in its command line
# (or equal its working directory), which guards against recycled pids.
pid_is_ours() { # <pid> <marker>
  local pid=$1 marker=$2 cmdline cwd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pid_alive "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$marker"* ]] && return 0
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$marker" ]]
}

read_pidfile() { # <file>
  local pid=""
  if [[ -r $1 ]]; then read -r pid <"$1" 2>/dev/null || true; fi
  printf '%s' "${pid:-}"
}

# Wait until "$@" succeeds, up to <timeout> seconds.
wait_until() { # <timeout> <cmd...>
  local timeout=$1 deadline
  shift
  deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Stop a process started by us: TERM, wait, KILL after <timeout> s.
STOPPED_PIDS=()
stop_pid() { # <name> <pid> <marker> [timeout]
  local name=$1 pid=$2 marker=$3 timeout=${4:-30} deadline
  pid_is_ours "$pid" "$marker" || return 0
  log "stopping $name (pid $pid)"
  STOPPED_PIDS+=("$pid")
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "$name (pid $pid) did not exit after ${timeout}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
}

# Start a long-running foreground program in the background, detached from our session
# and terminal, recording its pid. The program must not daemonize itself.
spawn() { # <pidfile> <logfile> <cmd...>
  local pidfile=$1 logfile=$2
  shift 2
  # We are not a process-group leader here, so setsid execs in place and $! is the program.
  # fd 9 (the stack lock) must not leak into the daemon.
  setsid nohup "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo $! >"$pidfile"
}

# Record the port a component was started on; refuse to silently reuse a component that
# runs on a different port than the one requested now.
check_recorded_port() { # <component> <portfile> <port> <envvar>
  local rec=""
  if [[ -r $2 ]]; then read -r rec <"$2" || true; fi
  if [[ -n $rec && $rec != "$3" ]]; then
    die "$1 is already running on port $rec but $4=$3 was requested; run '$0 down' first"
  fi
}

require_free_port() { # <component> <port> <envvar>
  if port_in_use "$2"; then
    die "port $2 needed by $1 is already in use by another process; stop it or set $3 to a free port"
  fi
}

# ------------------------------------------------------------------------------ install
PG_BIN=""
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

ensure_go() {
  if ! have go && [[ -x /usr/local/go/bin/go ]]; then PATH=/usr/local/go/bin:$PATH; fi
  have go || die "Go (>= 1.24) is required to build FerretDB and Mailpit; install it from https://go.dev/dl/"
}

kafka_version() {
  sed -n '/<kafka.version>/{s:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p;q;}' "$KAFKA_DIR_INFRA/pom.xml"
}
KAFKA_VERSION=$(kafka_version)
[[ -n $KAFKA_VERSION ]] || die "cannot read kafka.version from $KAFKA_DIR_INFRA/pom.xml"
POM_HASH=$(sha256sum "$KAFKA_DIR_INFRA/pom.xml" | cut -c1-12)
KAFKA_CP_FILE=$CACHE/kafka/kafka-$KAFKA_VERSION-$POM_HASH.classpath
FERRETDB_BIN=$CACHE_BIN/ferretdb-$FERRETDB_VERSION
MAILPIT_BIN=$CACHE_BIN/mailpit-$MAILPIT_VERSION

kafka_classpath_ok() {
  local cp jar
  [[ -s $KAFKA_CP_FILE ]] || return 1
  cp=$(<"$KAFKA_CP_FILE")
  IFS=: read -r -a jars <<<"$cp"
  for jar in "${jars[@]}"; do [[ -f $jar ]] || return 1; done
}

install_kafka_classpath() { # runs in background; logs to $1
  local logf=$1 tmp
  have mvn || die "mvn is required to resolve the Kafka jars (apt-get install maven)"
  mkdir -p "$CACHE/kafka"
  tmp=$KAFKA_CP_FILE.tmp.$$
  if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_DIR_INFRA/pom.xml" \
    dependency:build-classpath -Dmdep.outputFile="$tmp" >"$logf" 2>&1; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$KAFKA_CP_FILE"
}

install_mailpit() { # runs in background; logs to $1
  local logf=$1 gobin
  gobin=$(mktemp -d "$CACHE_BIN/.mailpit.XXXXXX")
  if ! GOBIN=$gobin go install -buildvcs=false \
    -ldflags "-X github.com/axllent/mailpit/config.Version=$MAILPIT_VERSION" \
    "github.com/axllent/mailpit@$MAILPIT_VERSION" >"$logf" 2>&1; then
    rm -rf "$gobin"
    return 1
  fi
  mv -f "$gobin/mailpit" "$MAILPIT_BIN"
  rm -rf "$gobin"
}

# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary
# panics at startup ("Invalid build/version/version.txt") because the module zip lacks
# build/version/version.txt. So: copy the module source out of the module cache, add
# version.txt, and `go build` it.
install_ferretdb() { # runs in background; logs to $1
  local logf=$1 moddir src
  {
    moddir=$(cd "$CACHE" && GOFLAGS=-mod=mod go mod download -json \
      "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    [[ -n $moddir && -d $moddir ]] || {
      echo "go mod download did not return a module directory"
      return 1
    }
    src=$CACHE/src/ferretdb-$FERRETDB_VERSION
    rm -rf "$src"
    mkdir -p "$CACHE/src"
    cp -R "$moddir" "$src"
    chmod -R u+w "$src"
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    (cd "$src" && go build -buildvcs=false -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb)
    mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
    rm -rf "$src"
  } >"$logf" 2>&1
}

ensure_installed() {
  mkdir -p "$CACHE_BIN" "$CACHE/kafka" "$LOCAL/install"

  # System packages (apt): one list for the whole project.
  bash "$REPO/scripts/system-deps.sh" || die "installing system packages failed"
  find_pg_bin || die "PostgreSQL binaries (initdb, pg_ctl, postgres) not found after installing 'postgresql'"
  local java_bin=java
  [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]] && java_bin=$JAVA_HOME/bin/java
  have "$java_bin" || die "Java 17+ is required for Kafka (apt-get install openjdk-17-jre-headless)"
  JAVA=$java_bin

  # Tools built/resolved into the cache, in parallel (go builds + maven download).
  local -A jobs=()
  local name
  if ! kafka_classpath_ok; then
    log "resolving Kafka $KAFKA_VERSION jars with mvn (into ~/.m2) ..."
    install_kafka_classpath "$LOCAL/install/kafka-mvn.log" &
    jobs[kafka-classpath]=$!
  fi
  if [[ ! -x $FERRETDB_BIN || ! -x $MAILPIT_BIN ]]; then ensure_go; fi
  if [[ ! -x $FERRETDB_BIN ]]; then
    log "building FerretDB $FERRETDB_VERSION into $CACHE_BIN (takes a few minutes the first time) ..."
    install_ferretdb "$LOCAL/install/ferretdb-build.log" &
    jobs[ferretdb]=$!
  fi
  if [[ ! -x $MAILPIT_BIN ]]; then
    log "go install mailpit $MAILPIT_VERSION into $CACHE_BIN ..."
    install_mailpit "$LOCAL/install/mailpit-install.log" &
    jobs[mailpit]=$!
  fi
  local failed=0
  for name in "${!jobs[@]}"; do
    if wait "${jobs[$name]}"; then
      log "installed $name"
    else
      failed=1
      log "installing $name FAILED"
      case $name in
      kafka-classpath) show_log "$LOCAL/install/kafka-mvn.log" ;;
      ferretdb) show_log "$LOCAL/install/ferretdb-build.log" ;;
      mailpit) show_log "$LOCAL/install/mailpit-install.log" ;;
      esac
    fi
  done
  ((failed == 0)) || die "installation failed"
  ln -sfn "$(basename "$FERRETDB_BIN")" "$CACHE_BIN/ferretdb"
  ln -sfn "$(basename "$MAILPIT_BIN")" "$CACHE_BIN/mailpit"
}

# ------------------------------------------------------------------------------ redis
REDIS_DIR=$LOCAL/redis
redis_pid() { read_pidfile "$REDIS_DIR/redis.pid"; }
redis_running() { pid_is_ours "$(redis_pid)" "$REDIS_DIR"; }
redis_ready() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

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

# ------------------------------------------------------------------------------ postgres
PG_LINK=$LOCAL/pg
PG_OS_USER=""

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

pg_pid() {
  local pid=""
  if [[ -r $PG_DATA/postmaster.pid ]]; then read -r pid <"$PG_DATA/postmaster.pid" 2>/dev/null || true; fi
  printf '%s' "${pid:-}"
}
pg_running() { pid_is_ours "$(pg_pid)" "$PG_DATA"; }
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

pg_up() {
  find_pg_bin || die "PostgreSQL binaries not found"
  pg_resolve_user
  if pg_running; then
    check_recorded_port postgres "$PG_DIR/port" "$PG_PORT" TF_PG_PORT
    log "postgres already running (pid $(pg_pid), port $PG_PORT)"
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

pg_down() {
  local pid
  pid=$(pg_pid)
  if pg_running; then
    find_pg_bin || die "PostgreSQL binaries not found"
    pg_resolve_user
    log "stopping postgres (pid $pid)"
    STOPPED_PIDS+=("$pid")
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s >/dev/null 2>&1 ||
      stop_pid postgres "$pid" "$PG_DATA" 30
    # pg_ctl returns when postmaster.pid is gone; make sure the process is too.
    pid_gone() { ! pid_alive "$pid"; }
    wait_until 30 pid_gone || stop_pid postgres "$pid" "$PG_DATA" 5
  fi
  rm -f "$PG_DIR/port"
}

# ------------------------------------------------------------------------------ kafka
KAFKA_DIR=$LOCAL/kafka
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_LOGS=$KAFKA_DIR/logs
KAFKA_PROPS=$KAFKA_DIR/server.properties
KAFKA_PIDFILE=$KAFKA_DIR/kafka.pid
KAFKA_BINDIR=$KAFKA_DIR/bin
KAFKA_STAMP=$KAFKA_DIR/topics.stamp
kafka_pid() { read_pidfile "$KAFKA_PIDFILE"; }
kafka_running() { pid_is_ours "$(kafka_pid)" "$KAFKA_PROPS"; }

# Generated wrappers in .local/kafka/bin named like the Kafka distribution's scripts
# (kafka-topics.sh, kafka-console-consumer.sh, ...), for create-topics.sh, make targets and
# humans. Tools run with fast-start JVM flags and an AppCDS archive kept in the cache
# (first run of each tool creates it): ~1s per invocation instead of ~2.5s.
kafka_write_wrappers() {
  mkdir -p "$KAFKA_BINDIR"
  write_if_changed "$KAFKA_BINDIR/kafka-run-class.sh" 755 <<EOF
#!/usr/bin/env bash
# Generated by infra/local/stack.sh: run a Kafka $KAFKA_VERSION tool class with the local stack's classpath.
set -euo pipefail
class=\$1
shift
jsa="$CACHE/kafka/\${class##*.}-$KAFKA_VERSION-$POM_HASH.jsa"
opts=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Xlog:all=error:stderr
  -Djava.awt.headless=true "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka-tools-log4j2.properties")
if [[ -f \$jsa ]]; then
  exec "$JAVA" "\${opts[@]}" "-XX:SharedArchiveFile=\$jsa" -cp "\$(<"$KAFKA_CP_FILE")" "\$class" "\$@"
fi
rc=0
"$JAVA" "\${opts[@]}" "-XX:ArchiveClassesAtExit=\$jsa.\$\$" -cp "\$(<"$KAFKA_CP_FILE")" "\$class" "\$@" || rc=\$?
if [[ -s \$jsa.\$\$ ]]; then mv -f "\$jsa.\$\$" "\$jsa"; else rm -f "\$jsa.\$\$"; fi
exit "\$rc"
EOF
  local name class
  while read -r name class; do
    write_if_changed "$KAFKA_BINDIR/$name" 755 <<EOF
#!/usr/bin/env bash
exec "$KAFKA_BINDIR/kafka-run-class.sh" $class "\$@"
EOF
  done <<'EOF'
kafka-topics.sh org.apache.kafka.tools.TopicCommand
kafka-console-consumer.sh org.apache.kafka.tools.consumer.ConsoleConsumer
kafka-console-producer.sh org.apache.kafka.tools.ConsoleProducer
kafka-consumer-groups.sh org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
kafka-get-offsets.sh org.apache.kafka.tools.GetOffsetShell
kafka-configs.sh kafka.admin.ConfigCommand
kafka-metadata-quorum.sh org.apache.kafka.tools.MetadataQuorumCommand
EOF
}

kafka_topics_stamp() {
  printf '%s %s %s\n' "$(sha256sum "$KAFKA_DIR_INFRA/topics.txt" | cut -c1-16)" "$(kafka_pid)" "$KAFKA_PORT"
}

kafka_create_topics() {
  local stamp
  stamp=$(kafka_topics_stamp)
  if [[ -r $KAFKA_STAMP && $(<"$KAFKA_STAMP") == "$stamp" ]]; then
    log "kafka topics up to date"
    return 0
  fi
  if ! KAFKA_TOPICS_CMD="$KAFKA_BINDIR/kafka-topics.sh" BOOTSTRAP="localhost:$KAFKA_PORT" \
    CREATE_TOPICS_WAIT_SECONDS="$WAIT_TIMEOUT" bash "$KAFKA_DIR_INFRA/create-topics.sh"; then
    show_log "$KAFKA_LOGS/server.log"
    die "creating Kafka topics failed"
  fi
  echo "$stamp" >"$KAFKA_STAMP"
}

kafka_ipv6_enabled() {
  case $KAFKA_IPV6 in
  1 | yes | true) return 0 ;;
  0 | no | false) return 1 ;;
  esac
  grep -qE '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null || return 1
  grep -qE '^::1[[:space:]]' < <(getent ahosts localhost 2>/dev/null)
}

# Starts the broker without waiting (it boots while the other components start).
kafka_start() {
  kafka_write_wrappers
  if kafka_running; then
    check_recorded_port kafka "$KAFKA_DIR/port" "$KAFKA_PORT" TF_KAFKA_PORT
    log "kafka already running (pid $(kafka_pid), port $KAFKA_PORT)"
    return 0
  fi
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  kafka_classpath_ok || die "Kafka classpath $KAFKA_CP_FILE is missing or stale"
  local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
  local advertised="PLAINTEXT://localhost:$KAFKA_PORT"
  if kafka_ipv6_enabled; then
    # Same port on IPv4 and IPv6 loopback (allowed since Kafka 3.1, KIP-797).
    listeners+=",PLAINTEXT6://[::1]:$KAFKA_PORT"
    advertised+=",PLAINTEXT6://localhost:$KAFKA_PORT"
  fi
  render "$SCRIPT_DIR/kafka-server.properties" \
    "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" \
    "KAFKA_LISTENERS=$listeners" "KAFKA_ADVERTISED_LISTENERS=$advertised" \
    "KAFKA_DATA_DIR=$KAFKA_DATA" | write_if_changed "$KAFKA_PROPS"
  local cp java_major
  cp=$(<"$KAFKA_CP_FILE")
  java_major=$("$JAVA" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  [[ ${java_major:-0} -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, but $JAVA is version ${java_major:-unknown} (set JAVA_HOME)"
  if [[ ! -s $KAFKA_DATA/meta.properties ]]; then
    # KRaft storage must be formatted once; a cluster id is 16 random bytes, base64url.
    local cluster_id
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    log "formatting Kafka KRaft storage (kafka.tools.StorageTool, cluster id $cluster_id)"
    if ! "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
      "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka-tools-log4j2.properties" -cp "$cp" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" \
      >"$KAFKA_LOGS/storage-format.log" 2>&1; then
      show_log "$KAFKA_LOGS/storage-format.log"
      die "kafka storage format failed"
    fi
  fi
  rm -f "$KAFKA_STAMP"
  log "starting kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT, controller :$KAFKA_CONTROLLER_PORT"
  spawn "$KAFKA_PIDFILE" "$KAFKA_LOGS/console.log" \
    "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true "-Dkafka.logs.dir=$KAFKA_LOGS" \
    "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka-log4j2.properties" \
    -cp "$cp" kafka.Kafka "$KAFKA_PROPS"
  echo "$KAFKA_PORT" >"$KAFKA_DIR/port"
}

kafka_wait_ready() {
  kafka_port_ready() { kafka_running && tcp_open "$KAFKA_PORT"; }
  if ! wait_until "$WAIT_TIMEOUT" kafka_port_ready; then
    show_log "$KAFKA_LOGS/server.log"
    show_log "$KAFKA_LOGS/console.log" 20
    kafka_running || die "kafka exited during startup"
    die "kafka did not open 127.0.0.1:$KAFKA_PORT within ${WAIT_TIMEOUT}s"
  fi
  kafka_create_topics
  log "kafka ready"
}

kafka_down() {
  stop_pid kafka "$(kafka_pid)" "$KAFKA_PROPS" 60
  rm -f "$KAFKA_PIDFILE" "$KAFKA_DIR/port" "$KAFKA_STAMP"
}

# ------------------------------------------------------------------------------ ferretdb
FERRET_DIR=$LOCAL/ferretdb
FERRET_PIDFILE=$FERRET_DIR/ferretdb.pid
ferret_pid() { read_pidfile "$FERRET_PIDFILE"; }
ferret_running() { pid_is_ours "$(ferret_pid)" "--state-dir=$FERRET_DIR/state"; }

# MongoDB wire handshake: OP_MSG {hello: 1, $db: "admin"}; expect a reply with maxWireVersion.
mongo_ready() {
  local reply
  # shellcheck disable=SC2016 # the inner script gets its values as arguments
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1f\x00\x00\x00\x10hello\x00\x01\x00\x00\x00\x02\$db\x00\x06\x00\x00\x00admin\x00\x00" >&3
    dd bs=4096 count=1 <&3 2>/dev/null' _ "$MONGO_PORT" 2>/dev/null | tr -c '[:alnum:]' '.') || return 1
  [[ $reply == *maxWireVersion* ]]
}

ferret_up() {
  if ferret_running; then
    check_recorded_port ferretdb "$FERRET_DIR/port" "$MONGO_PORT" TF_MONGO_PORT
    log "ferretdb already running (pid $(ferret_pid), port $MONGO_PORT)"
    return 0
  fi
  mkdir -p "$FERRET_DIR/data" "$FERRET_DIR/state"
  log "starting ferretdb $FERRETDB_VERSION (sqlite) on 127.0.0.1:$MONGO_PORT"
  spawn "$FERRET_PIDFILE" "$FERRET_DIR/ferretdb.log" \
    "$FERRETDB_BIN" --handler=sqlite "--sqlite-url=file:$FERRET_DIR/data/" \
    "--state-dir=$FERRET_DIR/state" "--listen-addr=127.0.0.1:$MONGO_PORT" \
    --debug-addr=- --telemetry=disable --log-level=warn --log-format=text
  echo "$MONGO_PORT" >"$FERRET_DIR/port"
  ferret_ready() { ferret_running && mongo_ready; }
  if ! wait_until "$WAIT_TIMEOUT" ferret_ready; then
    show_log "$FERRET_DIR/ferretdb.log"
    die "ferretdb did not answer the MongoDB handshake on 127.0.0.1:$MONGO_PORT within ${WAIT_TIMEOUT}s"
  fi
  log "ferretdb ready"
}

ferret_down() {
  stop_pid ferretdb "$(ferret_pid)" "--state-dir=$FERRET_DIR/state" 30
  rm -f "$FERRET_PIDFILE" "$FERRET_DIR/port"
}

# ------------------------------------------------------------------------------ mailpit
MAILPIT_DIR=$LOCAL/mailpit
MAILPIT_PIDFILE=$MAILPIT_DIR/mailpit.pid
mailpit_pid() { read_pidfile "$MAILPIT_PIDFILE"; }
mailpit_running() { pid_is_ours "$(mailpit_pid)" "$MAILPIT_DIR/mailpit.db"; }

http_ok() { # <port> <path>
  local status
  # shellcheck disable=SC2016
  status=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
    head -n 1 <&3' _ "$1" "$2" 2>/dev/null) || return 1
  [[ $status == HTTP/1.?" 200"* ]]
}
smtp_ready() {
  local banner
  # shellcheck disable=SC2016
  banner=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    head -n 1 <&3; printf "QUIT\r\n" >&3' _ "$SMTP_PORT" 2>/dev/null) || return 1
  [[ $banner == 220* ]]
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
  mailpit_ready() { mailpit_running && http_ok "$MAILPIT_HTTP_PORT" /readyz && smtp_ready; }
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

# ------------------------------------------------------------------------------ commands
# A random JWT_SECRET made once per checkout and kept in .local/: .env.example only carries a
# placeholder, which services refuse.
local_jwt_secret() {
  local f=$LOCAL/secrets/jwt_secret
  if [[ ! -s $f ]]; then
    mkdir -p "$LOCAL/secrets"
    chmod 700 "$LOCAL/secrets"
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f")
  fi
  cat "$f"
}

write_env_file() {
  local jwt_secret
  jwt_secret=$(local_jwt_secret)
  write_if_changed "$ENV_FILE" 600 <<EOF
# Generated by infra/local/stack.sh up: the native local stack (do not commit).
JWT_SECRET=$jwt_secret
USER_DB_URL=postgres://postgres@127.0.0.1:$PG_PORT/ticketflow_users
BOOKING_DB_URL=postgres://postgres@127.0.0.1:$PG_PORT/ticketflow_bookings
INVENTORY_DB_URL=postgres://postgres@127.0.0.1:$PG_PORT/ticketflow_inventory
DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
MONGODB_URL=mongodb://127.0.0.1:$MONGO_PORT
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
KAFKA_BOOTSTRAP_SERVERS=localhost:$KAFKA_PORT
SMTP_HOST=127.0.0.1
SMTP_PORT=$SMTP_PORT
MAILPIT_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT
EOF
}

lock_stack() {
  mkdir -p "$LOCAL"
  if have flock; then
    exec 9>"$LOCAL/.stack.lock"
    flock -w 600 9 || die "another stack.sh is still running (lock $LOCAL/.stack.lock)"
  fi
}

cmd_up() {
  local t0=$SECONDS
  lock_stack
  # shellcheck disable=SC2154 # rc is assigned inside the trap
  trap 'rc=$?; if ((rc != 0)); then log "up failed; components already started keep running (see: $0 status; stop them: $0 down)"; fi' EXIT
  ensure_installed

  # Fail fast, before starting anything, if a port we need is taken by someone else.
  redis_running || require_free_port redis "$REDIS_PORT" TF_REDIS_PORT
  pg_running || require_free_port postgres "$PG_PORT" TF_PG_PORT
  if ! kafka_running; then
    require_free_port kafka "$KAFKA_PORT" TF_KAFKA_PORT
    require_free_port "kafka controller" "$KAFKA_CONTROLLER_PORT" TF_KAFKA_CONTROLLER_PORT
  fi
  ferret_running || require_free_port ferretdb "$MONGO_PORT" TF_MONGO_PORT
  if ! mailpit_running; then
    require_free_port "mailpit smtp" "$SMTP_PORT" TF_SMTP_PORT
    require_free_port "mailpit http" "$MAILPIT_HTTP_PORT" TF_MAILPIT_HTTP_PORT
  fi

  kafka_start # slowest to boot: start first, wait last
  redis_up
  pg_up
  ferret_up
  mailpit_up
  kafka_wait_ready
  write_env_file
  trap - EXIT
  log "stack is up in $((SECONDS - t0))s; environment in $ENV_FILE"
}

cmd_down() {
  lock_stack
  mailpit_down
  ferret_down
  kafka_down
  pg_down
  redis_down
  local c left=()
  for c in "${COMPONENTS[@]}"; do
    if component_running "$c"; then left+=("$c"); fi
  done
  ((${#left[@]} == 0)) || die "still running after down: ${left[*]}"
  # Exited processes were re-parented to init; give a lazy reaper (some container inits)
  # a moment so they vanish from ps too. Cosmetic: they are already dead.
  all_reaped() {
    local p
    for p in "${STOPPED_PIDS[@]}"; do
      if kill -0 "$p" 2>/dev/null; then return 1; fi
    done
  }
  wait_until 5 all_reaped || true
  log "stack is down"
}

component_running() {
  case $1 in
  redis) redis_running ;;
  postgres) pg_running ;;
  kafka) kafka_running ;;
  ferretdb) ferret_running ;;
  mailpit) mailpit_running ;;
  esac
}

cmd_status() {
  local c pid port all=0
  for c in "${COMPONENTS[@]}"; do
    case $c in
    redis) pid=$(redis_pid) port=$REDIS_DIR/port ;;
    postgres) pid=$(pg_pid) port=$PG_DIR/port ;;
    kafka) pid=$(kafka_pid) port=$KAFKA_DIR/port ;;
    ferretdb) pid=$(ferret_pid) port=$FERRET_DIR/port ;;
    mailpit) pid=$(mailpit_pid) port=$MAILPIT_DIR/port ;;
    esac
    if component_running "$c"; then
      printf '%-9s up    pid %-7s port %s\n' "$c" "$pid" "$(cat "$port" 2>/dev/null || echo '?')"
    else
      printf '%-9s down\n' "$c"
      all=1
    fi
  done
  return "$all"
}

cmd_env() {
  [[ -r $ENV_FILE ]] || die "$ENV_FILE does not exist; run '$0 up' first"
  cat "$ENV_FILE"
}

cmd_clean() {
  cmd_down
  log "removing $LOCAL and $ENV_FILE"
  if [[ -L $PG_LINK ]]; then rm -rf "$(readlink -f "$PG_LINK")"; fi
  rm -rf "$LOCAL" "$ENV_FILE"
}

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
clean) cmd_clean ;;
-h | --help | help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
