# shellcheck shell=bash
# FerretDB (MongoDB wire protocol, SQLite backend) on 127.0.0.1:TF_MONGO_PORT (default 27017),
# data in .local/ferretdb. Binary: built with Go into ${TICKETFLOW_CACHE:-~/.cache/ticketflow}/bin.
# A component of infra/local/stack.sh (interface: infra/local/README.md, "Adding a component").

FERRETDB_VERSION=v1.24.2
MONGO_PORT=${TF_MONGO_PORT:-27017}
FERRETDB_BIN=$CACHE_BIN/ferretdb-$FERRETDB_VERSION
FERRETDB_DIR=$LOCAL/ferretdb
FERRETDB_PIDFILE=$FERRETDB_DIR/ferretdb.pid

# ------------------------------------------------------------------------------ install
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary
# panics at startup ("Invalid build/version/version.txt") because the module zip lacks
# build/version/version.txt. So: copy the module source out of the module cache, add
# version.txt, and `go build` it.
ferretdb_build() { # output goes to the caller's log
  local moddir src
  moddir=$(cd "$CACHE" && GOFLAGS=-mod=mod go mod download -json \
    "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || return 1
  [[ -n $moddir && -d $moddir ]] || {
    echo "go mod download did not return a module directory"
    return 1
  }
  src=$CACHE/src/ferretdb-$FERRETDB_VERSION
  rm -rf "$src" || return 1
  mkdir -p "$CACHE/src" || return 1
  cp -R "$moddir" "$src" || return 1
  chmod -R u+w "$src" || return 1
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt" || return 1
  (cd "$src" && go build -buildvcs=false -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) || return 1
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN" || return 1
  rm -rf "$src"
}

ferretdb_install() {
  local logf=$LOCAL/install/ferretdb-build.log
  if [[ ! -x $FERRETDB_BIN ]]; then
    ensure_go
    log "building FerretDB $FERRETDB_VERSION into $CACHE_BIN (takes a few minutes the first time) ..."
    if ! ferretdb_build >"$logf" 2>&1; then
      show_log "$logf"
      return 1
    fi
    log "installed ferretdb"
  fi
  ln -sfn "$(basename "$FERRETDB_BIN")" "$CACHE_BIN/ferretdb"
}

# ------------------------------------------------------------------------------ run
ferretdb_pid() { read_pidfile "$FERRETDB_PIDFILE"; }
ferretdb_port() { cat "$FERRETDB_DIR/port" 2>/dev/null; }
ferretdb_running() { pid_is_ours "$(ferretdb_pid)" "--state-dir=$FERRETDB_DIR/state"; }

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
ferretdb_ready() { ferretdb_running && mongo_ready; }

ferretdb_preflight() {
  ferretdb_running || require_free_port ferretdb "$MONGO_PORT" TF_MONGO_PORT
}

ferretdb_up() {
  if ferretdb_running; then
    check_recorded_port ferretdb "$FERRETDB_DIR/port" "$MONGO_PORT" TF_MONGO_PORT
    log "ferretdb already running (pid $(ferretdb_pid), port $MONGO_PORT)"
    return 0
  fi
  mkdir -p "$FERRETDB_DIR/data" "$FERRETDB_DIR/state"
  log "starting ferretdb $FERRETDB_VERSION (sqlite) on 127.0.0.1:$MONGO_PORT"
  spawn "$FERRETDB_PIDFILE" "$FERRETDB_DIR/ferretdb.log" \
    "$FERRETDB_BIN" --handler=sqlite "--sqlite-url=file:$FERRETDB_DIR/data/" \
    "--state-dir=$FERRETDB_DIR/state" "--listen-addr=127.0.0.1:$MONGO_PORT" \
    --debug-addr=- --telemetry=disable --log-level=warn --log-format=text
  echo "$MONGO_PORT" >"$FERRETDB_DIR/port"
  if ! wait_until "$WAIT_TIMEOUT" ferretdb_ready; then
    show_log "$FERRETDB_DIR/ferretdb.log"
    die "ferretdb did not answer the MongoDB handshake on 127.0.0.1:$MONGO_PORT within ${WAIT_TIMEOUT}s"
  fi
  log "ferretdb ready"
}

ferretdb_down() {
  stop_pid ferretdb "$(ferretdb_pid)" "--state-dir=$FERRETDB_DIR/state" 30
  rm -f "$FERRETDB_PIDFILE" "$FERRETDB_DIR/port"
}

ferretdb_env() {
  echo "MONGODB_URL=mongodb://127.0.0.1:$MONGO_PORT"
}
