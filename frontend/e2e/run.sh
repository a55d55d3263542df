#!/usr/bin/env bash
# make web-e2e: the browser tests (playwright-core driving Debian's chromium, headless) against
# the fleet on :3000.
#
# When the gateway is not running, this starts the fleet the way scripts/smoke.sh does
# (scripts/services.sh up, which also builds the web app), seeds the demo accounts, runs the
# tests and stops the services again (the local stack stays up). The fleet it starts gets:
#   PAYMENT_SUCCESS_RATE=1      the mock provider declines no charge (the walkthrough must confirm)
#   RATE_LIMIT_MAX=1000         the suite is several browsers and axe scans from one IP within a
#                               minute; the native default (100 per minute) is for one person
#   SEAT_STREAM_HEARTBEAT_MS=2000  streams of pages left behind are noticed (and their per-IP
#                               slot freed) in 2 s instead of 15
#   PAYMENT_DELAY_MS=1500       each charge takes 1.5 s, so the booking's pending state is on
#                               screen long enough to be checked
# When the gateway already runs (your `make up`), the tests use it as it is and retry a booking
# the mock provider declined; a low RATE_LIMIT_MAX there can make them fail with 429s.
#
# BASE_URL points the tests at another gateway (nothing is started then). Screenshots land in
# frontend/e2e/screenshots/ (git-ignored).
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$web/.." && pwd)"
log() { printf '[web-e2e] %s\n' "$*" >&2; }
started=$SECONDS

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x $chromium ]] || { log "no chromium at $chromium: run make deps (Debian package chromium)"; exit 1; }

bash "$web/scripts/ensure.sh" install

if [[ -z ${BASE_URL:-} ]]; then
  export BASE_URL=http://127.0.0.1:3000
  if curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null; then
    log "using the fleet already running on :3000"
    bash "$web/scripts/ensure.sh" build
  else
    log "starting the fleet (scripts/services.sh up) for the browser tests"
    trap 'bash "$root/scripts/services.sh" down >/dev/null 2>&1 || true' EXIT
    export PAYMENT_SUCCESS_RATE=1 RATE_LIMIT_MAX=1000 SEAT_STREAM_HEARTBEAT_MS=2000 PAYMENT_DELAY_MS=1500
    export E2E_SLOW_PAYMENTS=1
    bash "$root/scripts/services.sh" up
  fi
  bash "$root/scripts/seed.sh" >/dev/null
fi

cd "$web"
rm -rf e2e/screenshots
node --test --test-concurrency=1 --test-reporter=spec e2e/
log "passed in $((SECONDS - started)) s; screenshots in frontend/e2e/screenshots/"
