#!/usr/bin/env bash
# The TicketFlow walkthrough, with curl and jq, against any gateway:
#   register → login → list events → seat map → book two free seats → wait for the booking
#   to leave PENDING → list my bookings.
# Usage: BASE_URL=http://localhost:3000 scripts/demo.sh   (default http://localhost:3000)
# Exits non-zero, saying which step failed, as soon as one does.
set -euo pipefail

BASE_URL=${BASE_URL:-http://localhost:3000}
BASE_URL=${BASE_URL%/}
EMAIL=${DEMO_EMAIL:-demo-$(date +%s)-$RANDOM@example.com}
PASSWORD=${DEMO_PASSWORD:-Demo1234!}

if [ -t 1 ]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' dim=$'\e[2m' off=$'\e[0m'
else bold='' green='' red='' dim='' off=''; fi
step=0
say() { step=$((step + 1)); printf '%s[%d] %s%s\n' "$bold" "$step" "$*" "$off"; }
ok() { printf '    %s✓ %s%s\n' "$green" "$*" "$off"; }
fail() { printf '    %s✗ step %d failed: %s%s\n' "$red" "$step" "$*" "$off" >&2; exit 1; }
for tool in curl jq; do
  command -v "$tool" >/dev/null || { printf 'demo: %s is required\n' "$tool" >&2; exit 1; }
done

# call METHOD PATH [JSON] → sets $status and $body (never fails on HTTP errors itself).
call() {
  local method=$1 path=$2 data=${3:-} args=(-sS -X "$1" -w '\n%{http_code}' -H 'Accept: application/json')
  [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' -d "$data")
  local out
  out=$(curl "${args[@]}" "$BASE_URL$path") || fail "$method $path: cannot reach $BASE_URL"
  status=${out##*$'\n'}
  body=${out%$'\n'*}
}
expect() { # expect STATUS WHAT
  [ "$status" = "$1" ] || fail "$2: HTTP $status (expected $1): $(printf '%s' "$body" | head -c 300)"
}

printf '%sTicketFlow walkthrough against %s%s\n' "$dim" "$BASE_URL" "$off"

say "Register $EMAIL"
call POST /api/users/register "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{name: "Demo User", email: $e, password: $p}')"
expect 201 "register"
ok "user $(jq -r '.user.id' <<<"$body")"

say "Log in"
call POST /api/users/login "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')"
expect 200 "login"
TOKEN=$(jq -r '.token // empty' <<<"$body")
[ -n "$TOKEN" ] || fail "login answered no token"
ok "token received"

say "List events"
call GET '/api/events?limit=10'
expect 200 "list events"
EVENT_ID=$(jq -r '.events[0].id // empty' <<<"$body")
[ -n "$EVENT_ID" ] || fail "no events listed (run: make seed)"
ok "$(jq -r '.events[0].name' <<<"$body") ($EVENT_ID)"

say "Seat map"
call GET "/api/inventory/events/$EVENT_ID/seats"
expect 200 "seat map"
SEATS=$(jq -c '[.seats[] | select(.status == "AVAILABLE") | .id][:2]' <<<"$body")
[ "$(jq 'length' <<<"$SEATS")" = 2 ] || fail "fewer than two seats are AVAILABLE"
ok "two free seats: $(jq -r '[.seats[] | select(.status == "AVAILABLE")][:2] | map(.row + .seatNumber) | join(", ")' <<<"$body")"

say "Book them"
call POST /api/bookings "$(jq -n --arg e "$EVENT_ID" --argjson s "$SEATS" '{eventId: $e, seatIds: $s}')"
expect 202 "create booking"
BOOKING_ID=$(jq -r '.bookingId // .id // empty' <<<"$body")
[ -n "$BOOKING_ID" ] || fail "the 202 carried no booking id"
ok "booking $BOOKING_ID accepted"

say "Wait for the booking to leave PENDING"
STATUS=PENDING
for _ in $(seq 1 20); do
  call GET "/api/bookings/$BOOKING_ID"
  expect 200 "read booking"
  STATUS=$(jq -r '.status' <<<"$body")
  [ "$STATUS" != PENDING ] && break
  sleep 2
done
case $STATUS in
  CONFIRMED) ok "CONFIRMED: seats $(jq -r '.seatLabels | join(", ")' <<<"$body"), $(jq -r '"\(.totalAmount) \(.currency)"' <<<"$body")" ;;
  PENDING) fail "still PENDING after 40 s" ;;
  *) fail "booking ended $STATUS ($(jq -r '.failureReason // "no reason"' <<<"$body"))" ;;
esac

say "My bookings"
call GET /api/bookings/my
expect 200 "my bookings"
[ "$(jq -r 'type' <<<"$body")" = array ] || fail "expected a bare array"
jq -e --arg id "$BOOKING_ID" 'any(.[]; .id == $id)' <<<"$body" >/dev/null || fail "the new booking is not listed"
ok "$(jq 'length' <<<"$body") booking(s), the new one included"

printf '%sWalkthrough complete.%s\n' "$green" "$off"
