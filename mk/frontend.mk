# The web app (frontend/): React 18 + Vite + TypeScript, built into frontend/dist and served by
# the gateway on :3000 (WEB_DIR). npm's cache is kept outside the clone (~/.cache/ticketflow/npm).
.PHONY: web-install web-build web-dev web-test web-e2e

WEB_ENSURE := bash frontend/scripts/ensure.sh

web-install: ## Install the web app's npm packages (npm ci; skipped when package-lock.json is unchanged)
	@$(WEB_ENSURE) install

web-build: ## Build the web app into frontend/dist when its sources changed; prints the first page's gzipped JS (fails over 120 KB)
	@$(WEB_ENSURE) build

web-dev: web-install ## Vite dev server on :5173 with hot reload, /api proxied to the gateway on :3000 (run make up first)
	cd frontend && npm run dev

web-test: web-install ## Vitest: the seat map's rules and components (no stack needed)
	cd frontend && npm test

web-e2e: web-install ## Playwright (playwright-core + Debian chromium) against the fleet on :3000; starts it (make up) when it is not running
	@bash frontend/e2e/run.sh
