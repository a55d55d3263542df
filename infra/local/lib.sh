# shellcheck shell=bash
# Shared settings and helpers of the native local stack. Sourced by infra/local/stack.sh before
# the components (infra/local/components/<name>.sh), which may use everything defined here.
# See infra/local/README.md.

# shellcheck disable=SC2034 # used by stack.sh and the components
{
  SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P) # infra/local: the templates live here
  REPO=$(cd "$SCRIPT_DIR/../.." && pwd -P)
  LOCAL=$REPO/.local # all state: one directory per component, install logs in $LOCAL/install
  ENV_FILE=$REPO/.env.local
  CACHE=${TICKETFLOW_CACHE:-$HOME/.cache/ticketflow} # downloaded/built tools, outside the clone
  CACHE_BIN=$CACHE/bin
  WAIT_TIMEOUT=${TF_WAIT_TIMEOUT:-90} # seconds, per component
}

# ------------------------------------------------------------------------------ output
log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
has_fn() { declare -F "$1" >/dev/null; }

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

# ------------------------------------------------------------------------------ files
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

read_pidfile() { # <file>
  local pid=""
  if [[ -r $1 ]]; then read -r pid <"$1" 2>/dev/null || true; fi
  printf '%s' "${pid:-}"
}

# ------------------------------------------------------------------------------ ports
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

# Does GET <path> on 127.0.0.1:<port> answer 200?
http_ok() { # <port> <path>
  local status
  # shellcheck disable=SC2016 # the inner script gets its values as arguments
  status=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
    head -n 1 <&3' _ "$1" "$2" 2>/dev/null) || return 1
  [[ $status == HTTP/1.?" 200"* ]]
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

# ------------------------------------------------------------------------------ processes
# Is <pid> alive? A zombie counts as dead (it may wait a while for its reaper, e.g. in
# containers whose init reaps lazily).
pid_alive() { # <pid>
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
pid_gone() { ! pid_alive "$1"; }

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
STOPPED_PIDS=() # every pid `down` stopped, so it can wait for them to be reaped
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

# ------------------------------------------------------------------------------ tools
# Go builds FerretDB and Mailpit; /usr/local/go/bin is where the official tarball puts it.
ensure_go() {
  if ! have go && [[ -x /usr/local/go/bin/go ]]; then PATH=/usr/local/go/bin:$PATH; fi
  have go || die "Go (>= 1.24) is required to build FerretDB and Mailpit; install it from https://go.dev/dl/"
}
