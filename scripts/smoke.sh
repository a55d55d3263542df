#!/usr/bin/env bash
# Smoke test of the native run path a newcomer uses: `make up`, `make seed` twice, the README's
# curl sequence and the booking walkthrough (scripts/demo.sh) through the gateway. Leaves the
# services stopped (stack stays up).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
gw=http://127.0.0.1:3000
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

trap 'bash scripts/services.sh down >/dev/null 2>&1 || true' EXIT
# The mock provider declines 5% of charges by default; the walkthrough below must confirm.
export PAYMENT_SUCCESS_RATE=1
bash scripts/services.sh up

bash scripts/seed.sh >/dev/null || fail "first make seed"
first=$(curl -fsS "$gw/api/events?limit=100" | json '" ".join(e["id"] for e in d["events"]) + "|" + str(d["total"])')
bash scripts/seed.sh >/dev/null || fail "second make seed"
second=$(curl -fsS "$gw/api/events?limit=100" | json '" ".join(e["id"] for e in d["events"]) + "|" + str(d["total"])')
[ "$first" = "$second" ] || fail "seeding twice changed the catalogue: $first vs $second"
total=${first##*|}
[ "$total" -ge 6 ] || fail "expected 6+ seeded events, got $total"
upcoming=$(curl -fsS "$gw/api/events?limit=100" | python3 -c '
import json, sys, datetime
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
dates = [e["date"] for e in json.load(sys.stdin)["events"]]
future = [d for d in dates if d >= now]
print(dates[:len(future)] == sorted(future))')
[ "$upcoming" = "True" ] || fail "events are not listed upcoming-first"
echo "smoke: seed is idempotent ($total events, same ids twice)"

# Every seeded poster loads through the gateway, as a browser would fetch image_url.
for image in $(curl -fsS "$gw/api/events?limit=100" | json '" ".join(e["image_url"] for e in d["events"])'); do
  type=$(curl -fsS -o /dev/null -w '%{content_type}' "$gw$image") || fail "poster $image did not load"
  [[ $type == image/svg+xml* ]] || fail "poster $image answered $type"
done
echo "smoke: every seeded poster loads through the gateway"

# Every seeded event has its whole seat map through the gateway (inventory builds it from
# event.created, so give it a moment) with seats to book. Not "the first two seats": earlier
# walkthroughs on the same stack keep theirs, and the walkthrough picks any two free ones.
for entry in $(curl -fsS "$gw/api/events?limit=100" | json '" ".join(e["id"] + ":" + str(e["total_seats"]) for e in d["events"])'); do
  id=${entry%%:*} seats=${entry##*:} deadline=$((SECONDS + 30)) state=
  until state=$(curl -fsS "$gw/api/inventory/events/$id/seats" |
    json '"%d %d %s" % (d["total"], len(d["seats"]), "free" if sum(s["status"] == "AVAILABLE" for s in d["seats"]) >= 2 else "full")') &&
    [ "$state" = "$seats $seats free" ]; do
    ((SECONDS < deadline)) || fail "seats of event $id: got '$state', want '$seats $seats free'"
    sleep 0.5
  done
done
echo "smoke: every seeded event's whole seat map answers through the gateway, with seats free"

email="smoke-$(date +%s%N)@example.com"
status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$gw/api/users/register" \
  -H 'Content-Type: application/json' \
  -d "{\"name\":\"Smoke Test\",\"email\":\"$email\",\"password\":\"correct horse\"}")
[ "$status" = 201 ] || fail "register answered $status"
token=$(curl -fsS -X POST "$gw/api/users/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"correct horse\"}" | json 'd["token"]')
me=$(curl -fsS "$gw/api/users/me" -H "Authorization: Bearer $token" | json 'd["user"]["email"]')
[ "$me" = "$email" ] || fail "/me returned $me"
demo=$(curl -fsS -X POST "$gw/api/users/login" -H 'Content-Type: application/json' \
  -d '{"email":"admin@ticketflow.dev","password":"Admin1234!"}' | json 'd["user"]["role"]')
[ "$demo" = ADMIN ] || fail "seeded admin logs in as $demo"
echo "smoke: register -> login -> me through the gateway works; seeded admin is ADMIN"

# Every service answers through the gateway.
health=$(curl -fsS "$gw/health/all" | json 'd["status"] + " " + " ".join(s["name"] + "=" + s["status"] for s in d["services"])')
[ "$health" = "up user=up event=up booking=up inventory=up payment=up notification=up" ] ||
  fail "/health/all: $health"
echo "smoke: /health/all is up, all six services"

# The walkthrough users run, unmodified: register → book two free seats → CONFIRMED.
demo_email="demo-$(date +%s%N)@example.com"
BASE_URL=$gw DEMO_EMAIL=$demo_email bash scripts/demo.sh || fail "the walkthrough (scripts/demo.sh) failed"
echo "smoke: scripts/demo.sh walkthrough passed"

# ... and its buyer got the welcome and the confirmation, with the calendar file.
mailpit=$(bash scripts/with-env.sh printenv MAILPIT_URL)
deadline=$((SECONDS + 60)) subjects=
until subjects=$(curl -fsS -G "$mailpit/api/v1/search" --data-urlencode "query=to:\"$demo_email\"" |
  json '"|".join(sorted(m["Subject"].split(" – ")[0] + ("+ics" if m["Attachments"] else "") for m in d["messages"]))') &&
  [ "$subjects" = "Booking Confirmed+ics|Welcome to TicketFlow!" ]; do
  ((SECONDS < deadline)) || fail "mails to $demo_email: got '$subjects'"
  sleep 0.5
done
echo "smoke: the buyer got the welcome mail and the confirmation with its calendar file"

