#!/usr/bin/env bash
# Keeps the web app's node_modules and dist/ current, doing nothing when they already are:
#
#   frontend/scripts/ensure.sh install   # npm ci when package-lock.json is newer than node_modules
#   frontend/scripts/ensure.sh build     # install, then npm run build when any source is newer
#                                        # than dist/index.html (or there is no build)
#
# npm's cache lives outside the clone (NPM_CACHE, default ~/.cache/ticketflow/npm) so a fresh
# clone or CI run installs from it. `scripts/services.sh up` (make up) runs `build`.
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$web"
cache="${NPM_CACHE:-${TICKETFLOW_CACHE:-$HOME/.cache/ticketflow}/npm}"
log() { printf '[web] %s\n' "$*" >&2; }

command -v npm >/dev/null 2>&1 || {
  log "npm not found: install Node.js 20+ with npm to build the web app"
  exit 1
}

install() {
  if [[ -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]]; then
    return 0
  fi
  log "installing npm packages (npm ci, cache $cache)"
  npm ci --cache "$cache" --prefer-offline --no-audit --no-fund --loglevel=error
}

stale() {
  [[ -f dist/index.html ]] || return 0
  local newer
  newer=$(find src public index.html package.json package-lock.json vite.config.ts tsconfig.json \
    scripts/budget.mjs -newer dist/index.html -print -quit 2>/dev/null)
  [[ -n $newer ]]
}

case "${1:-}" in
  install) install ;;
  build)
    install
    if stale; then
      log "building the web app (sources newer than dist/)"
      # A failed build (types, budget) must not leave a dist/ that looks current.
      npm run --silent build || { rm -f dist/index.html; exit 1; }
    else
      log "web app up to date (dist/)"
    fi
    ;;
  *) echo "usage: $0 install|build" >&2; exit 2 ;;
esac
