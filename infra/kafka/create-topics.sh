#!/usr/bin/env bash
# Create the TicketFlow Kafka topics listed in topics.txt (the single source of truth),
# idempotently: lists the existing topics once and creates only the missing ones.
# This is the one parser of topics.txt: everything else reads it through `--list`.
#
#   create-topics.sh           create the missing topics (needs a broker)
#   create-topics.sh --list    validate topics.txt and print "<name> <partitions> <retention_ms>"
#                              per topic, comments and blank lines dropped (no broker needed)
#
# Used by the native stack (infra/local/components/kafka.sh) and by a docker-compose
# kafka-init container; crates/common's topic tests read the list through --list. Environment:
#   KAFKA_TOPICS_CMD   command that behaves like kafka-topics.sh   (default: kafka-topics.sh)
#                      e.g. "/opt/kafka/bin/kafka-topics.sh" or
#                      "java -cp <classpath> org.apache.kafka.tools.TopicCommand"
#                      (split on whitespace; use a wrapper script if a path has spaces)
#   BOOTSTRAP          bootstrap servers                            (default: localhost:9093)
#   TOPICS_FILE        topic list                                   (default: topics.txt next to this script)
#   REPLICATION_FACTOR replication factor for new topics            (default: 1)
#   CREATE_TOPICS_WAIT_SECONDS  keep retrying the initial listing while the broker
#                      starts, up to this many seconds              (default: 60)
#   CREATE_TOPICS_PARALLELISM   concurrent create commands          (default: 3)
# Exit status: 0 when every listed topic exists afterwards (--list: when topics.txt is valid);
# 1 on errors, 2 on unknown arguments.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPICS_FILE=${TOPICS_FILE:-$HERE/topics.txt}
KAFKA_TOPICS_CMD=${KAFKA_TOPICS_CMD:-kafka-topics.sh}
BOOTSTRAP=${BOOTSTRAP:-localhost:9093}
REPLICATION_FACTOR=${REPLICATION_FACTOR:-1}
WAIT_SECONDS=${CREATE_TOPICS_WAIT_SECONDS:-60}
PARALLELISM=${CREATE_TOPICS_PARALLELISM:-3}

log() { printf '[create-topics] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

MODE=create
if (($# == 1)) && [[ $1 == --list ]]; then
  MODE=list
elif (($# > 0)); then
  log "usage: $0 [--list]"
  exit 2
fi

if [[ $MODE == create ]]; then
  read -r -a CMD <<<"$KAFKA_TOPICS_CMD"
  ((${#CMD[@]} > 0)) || die "KAFKA_TOPICS_CMD is empty"
fi
[[ -r $TOPICS_FILE ]] || die "cannot read $TOPICS_FILE"

# --- parse topics.txt: "<name> <partitions> <retention_ms>", '#' comments --------------
names=() partitions=() retentions=()
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
  lineno=$((lineno + 1))
  line=${line%%#*}
  read -r -a f <<<"$line" || true
  ((${#f[@]} == 0)) && continue
  if ((${#f[@]} != 3)) || [[ ! ${f[0]} =~ ^[A-Za-z0-9._-]+$ ]] ||
    [[ ! ${f[1]} =~ ^[1-9][0-9]*$ ]] || [[ ! ${f[2]} =~ ^(-1|[0-9]+)$ ]]; then
    die "$TOPICS_FILE:$lineno: expected '<name> <partitions> <retention_ms>', got: $line"
  fi
  names+=("${f[0]}") partitions+=("${f[1]}") retentions+=("${f[2]}")
done <"$TOPICS_FILE"
((${#names[@]} > 0)) || die "no topics in $TOPICS_FILE"

if [[ $MODE == list ]]; then
  for i in "${!names[@]}"; do
    printf '%s %s %s\n' "${names[i]}" "${partitions[i]}" "${retentions[i]}"
  done
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/create-topics.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- list existing topics once (retrying while the broker comes up) -------------------
deadline=$((SECONDS + WAIT_SECONDS))
until "${CMD[@]}" --bootstrap-server "$BOOTSTRAP" --list >"$tmp/existing" 2>"$tmp/list.err"; do
  if ((SECONDS >= deadline)); then
    cat "$tmp/list.err" >&2
    die "cannot list topics on $BOOTSTRAP after ${WAIT_SECONDS}s (KAFKA_TOPICS_CMD=${CMD[0]})"
  fi
  sleep 1
done
declare -A existing=()
while IFS= read -r t; do
  [[ -n $t ]] && existing[$t]=1
done <"$tmp/existing"

# --- create the missing ones, a few at a time -----------------------------------------
create_one() { # <index>
  local i=$1 rc=0
  "${CMD[@]}" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "${names[i]}" --partitions "${partitions[i]}" \
    --replication-factor "$REPLICATION_FACTOR" \
    --config "retention.ms=${retentions[i]}" >"$tmp/$i.out" 2>&1 || rc=$?
  echo "$rc" >"$tmp/$i.rc"
}

missing=()
for i in "${!names[@]}"; do
  [[ -n ${existing[${names[i]}]:-} ]] || missing+=("$i")
done
if ((${#missing[@]} == 0)); then
  log "all ${#names[@]} topics already exist on $BOOTSTRAP"
  exit 0
fi
log "creating ${#missing[@]} of ${#names[@]} topics on $BOOTSTRAP"
for i in "${missing[@]}"; do
  while (($(jobs -rp | wc -l) >= PARALLELISM)); do wait -n || true; done
  create_one "$i" &
done
wait || true

failed=0
for i in "${missing[@]}"; do
  if [[ $(cat "$tmp/$i.rc" 2>/dev/null || echo 1) == 0 ]]; then
    log "created ${names[i]} (partitions=${partitions[i]}, retention.ms=${retentions[i]})"
  else
    failed=$((failed + 1))
    log "FAILED ${names[i]}:"
    cat "$tmp/$i.out" >&2 || true
  fi
done
((failed == 0)) || die "$failed topic(s) could not be created"
