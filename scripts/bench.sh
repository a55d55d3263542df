#!/usr/bin/env bash
# make bench: release build, then the fleet benchmark (crates/e2e/benches/fleet.rs: RSS,
# start → ready, wrk on the catalogue, seat map and login) and the saga benchmark
# (crates/e2e/benches/saga.rs: accepted → CONFIRMED, sustained bookings/s, audit), each on a
# fleet of its own (free ports, own databases and topics; a dev fleet on 3000–3006 is left
# alone). Prints one table and writes it into docs/benchmarks.md between the bench markers,
# with the date, machine, commit and load average; the notes around it are kept.
#
# Knobs: BENCH_SECONDS (sustained saga window, 60), BENCH_EVENTS (16), BENCH_SEATS_PER_EVENT
# (4000), BENCH_HTTP_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_DOC (docs/benchmarks.md;
# empty: print only). Run it on a quiet machine: the load average is printed and recorded.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
DOC=${BENCH_DOC-docs/benchmarks.md}
# The runs' figures (fleet.json, saga.json) stay in $BENCH_WORK; BENCH_RENDER_ONLY=1 renders
# the table again from them without measuring.
work=${BENCH_WORK:-${TMPDIR:-/tmp}/ticketflow-bench-last}
mkdir -p "$work"
began=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
built=$began saga_rc=0
if [[ -z ${BENCH_RENDER_ONLY:-} ]]; then
rm -f "$work/fleet.json" "$work/saga.json"
echo "[bench] loadavg at the start: $load_start (1, 5, 15 min; another build or test run skews every figure)"

echo "[bench] release build (cargo build --release --bins) and the bench drivers"
$CARGO build --release --bins --locked
$CARGO bench -p ticketflow-e2e --locked --no-run --bench fleet --bench saga 2>&1 | grep -v '^ *Executable' || true
built=$(date +%s)

BENCH_REPORT="$work/fleet.json" scripts/with-env.sh $CARGO bench -q -p ticketflow-e2e --locked --bench fleet
BENCH_SECONDS=${BENCH_SECONDS:-60} BENCH_EVENTS=${BENCH_EVENTS:-16} \
  BENCH_SEATS_PER_EVENT=${BENCH_SEATS_PER_EVENT:-4000} BENCH_REPORT="$work/saga.json" \
  scripts/with-env.sh $CARGO bench -q -p ticketflow-e2e --locked --bench saga || saga_rc=$?
echo "$load_start" >"$work/load_start"
echo "$(($(date +%s) - began)) s ($((built - began)) s of it building)" >"$work/took"
fi
[[ -s $work/saga.json ]] || { echo "[bench] the saga benchmark wrote no figures (exit $saga_rc)" >&2; exit 1; }
load_start=$(cat "$work/load_start" 2>/dev/null || echo "$load_start")

ended=$(date +%s)
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- services crates Cargo.toml Cargo.lock || commit="$commit (with uncommitted changes)"
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(jq -n -r --slurpfile f "$work/fleet.json" --slurpfile s "$work/saga.json" \
  --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --arg commit "$commit" --arg cpu "$cpu" \
  --arg cores "$(nproc)" --arg mem "$mem" --arg load_start "$load_start" --arg load_end "$load_end" \
  --arg took "$(cat "$work/took" 2>/dev/null || echo "$((ended - began)) s")" '
  $f[0] as $f | $s[0] as $s |
  def mib: tostring + " MiB";
  def ok(c): if c then "met" else "**missed**" end;
  ($f.rss | to_entries | map(.value.idle_mib)) as $idle |
  ([$f.rss[].after_load_mib] + [$s.rss_after_mib[]] | max) as $max_after |
  ([$f.startup[] | .fresh_ms, .restart_ms] | max) as $slowest |
  "Measured \($date) on \($cores) cores, \($mem), \($cpu); commit \($commit); load average (1/5/15 min) \($load_start) at the start, \($load_end) at the end; `make bench` took \($took).",
  "",
  "| figure | measured | target | |",
  "|---|---|---|---|",
  "| idle RSS, all seven services | \($f.rss_total.idle_mib | mib) = \($f.rss_total.idle_mib * 1.048576 * 10 | round / 10) MB (anonymous \($f.rss_total.idle_anon_mib) MiB, the rest executables\u0027 pages) | ≤ 100 MB | \(ok($f.rss_total.idle_mib * 1.048576 <= 100)) |",
  "| RSS of any service after its load test | \($max_after | mib) = \($max_after * 1.048576 * 10 | round / 10) MB (largest) | ≤ 64 MB | \(ok($max_after * 1.048576 <= 64)) |",
  "| start → ready, slowest service | \($slowest) ms | ≤ 500 ms | \(ok($slowest <= 500)) |",
  "| GET /api/events?limit=10, direct to event-service | \($f.events_direct.rps) req/s, p99 \($f.events_direct.p99_ms) ms | — | |",
  "| GET /api/events?limit=10 through the gateway | \($f.events_gateway.rps) req/s, p99 \($f.events_gateway.p99_ms) ms | ≥ 3000 req/s | \(ok($f.events_gateway.rps >= 3000)) |",
  "| gateway overhead on GET /api/events | \($f.gateway_overhead_pct) % throughput loss | ≤ 15 % | \(ok($f.gateway_overhead_pct <= 15)) |",
  "| GET /api/inventory/events/:id/seats (\($f.seat_map_seats) seats) through the gateway | \($f.seat_map.rps) req/s, p99 \($f.seat_map.p99_ms) ms | — | |",
  "| POST /api/users/login through the gateway (\($f.argon2)) | \($f.login.rps) req/s, p99 \($f.login.p99_ms) ms (\($f.login.connections) connections) | — | |",
  "| accepted → CONFIRMED, one client (server clock) | p50 \($s.sequential.server.p50_ms) ms, p99 \($s.sequential.server.p99_ms) ms | p50 ≤ 25 ms, p99 ≤ 100 ms | \(ok($s.sequential.server.p50_ms <= 25 and $s.sequential.server.p99_ms <= 100)) |",
  "| accepted → CONFIRMED, one client (client: 202 → seen, polling every \($s.settings.poll_ms) ms) | p50 \($s.sequential.client.p50_ms) ms, p99 \($s.sequential.client.p99_ms) ms | | |",
  "| accepted → CONFIRMED, \($s.settings.concurrent_clients) concurrent clients (server clock) | p50 \($s.concurrent.server.p50_ms) ms, p99 \($s.concurrent.server.p99_ms) ms | | |",
  "| sustained bookings, \($s.settings.clients) clients for \($s.settings.seconds) s over \($s.settings.events) events | \($s.sustained.accepted_per_s) accepted/s, \($s.sustained.confirmed_per_s) confirmed/s; \($s.sustained.failed) failed, \($s.sustained.errors) errors; p99 \($s.sustained.server.p99_ms) ms | ≥ 500/s | \(ok($s.sustained.confirmed_per_s >= 500)) |",
  "| audit after the sustained run (ticketflow-audit, strict) | \(if $s.audit_clean then "clean" else "VIOLATIONS" end) | clean, no seat sold twice | \(ok($s.audit_clean)) |",
  "",
  "| service | start → ready, fresh database | restart | idle RSS | RSS after load |",
  "|---|---|---|---|---|",
  ($f.startup | keys_unsorted[] as $n |
    "| \($n) | \($f.startup[$n].fresh_ms) ms | \($f.startup[$n].restart_ms) ms | \($f.rss[$n].idle_mib | mib) | \([$f.rss[$n].after_load_mib, ($s.rss_after_mib[$n] // 0)] | max | mib) |"),
  "",
  "CPU time per request (ms; stack processes summed by name, background work included):",
  "",
  ( [["catalogue direct", $f.events_direct], ["catalogue via gateway", $f.events_gateway],
     ["seat map via gateway", $f.seat_map], ["login via gateway", $f.login]][] |
    "- \(.[0]): " + (.[1].cpu_ms_per_request | to_entries | sort_by(-.value) | map(select(.value >= 0.005)) | map("\(.key) \(.value)") | join(", "))),
  "- a booking of the sustained saga run: " + ($s.cpu_ms_per_booking | to_entries | sort_by(-.value) | map("\(.key) \(.value)") | join(", "))
')

echo
echo "================================ make bench ================================"
echo "$table"
if [[ -n $DOC ]]; then
  begin='<!-- bench:begin (scripts/bench.sh writes between these markers) -->'
  end='<!-- bench:end -->'
  if [[ ! -f $DOC ]] || ! grep -qF "$begin" "$DOC"; then
    printf '# Benchmarks\n\n`make bench` writes the figures below.\n\n%s\n%s\n' "$begin" "$end" >"$DOC"
  fi
  TABLE=$table awk -v begin="$begin" -v end="$end" '
    $0 == begin { print; print ""; print ENVIRON["TABLE"]; print ""; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }
  ' "$DOC" >"$work/doc.md"
  cp "$work/doc.md" "$DOC"
  echo "[bench] written to $DOC"
fi
exit "$saga_rc"
