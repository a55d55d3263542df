# TicketFlow — operators' entry points. `make help` lists them all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK := infra/local/stack.sh
CARGO ?= cargo
WITH_ENV := scripts/with-env.sh

# Each service adds its own targets (run-<service>, ...) in mk/<service>.mk.
include $(sort $(wildcard mk/*.mk))

.PHONY: help deps setup up down ps local-infra local-down local-status lint test test-only smoke demo clean

help: ## List every target
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2}'

deps: ## Install the Debian packages the build and the local stack need (quiet when present)
	@bash scripts/system-deps.sh

setup: ## Copy .env.example to .env if .env is missing
	@if [ -f .env ]; then echo ".env exists, left as is"; else cp .env.example .env && echo "created .env from .env.example"; fi

up: deps local-infra ## Run everything natively: the local stack plus every service (gateway on :3000)
	@bash scripts/services.sh up

down: ## Stop the services and the local stack
	@bash scripts/services.sh down
	@bash $(STACK) down

ps: ## Show which services and stack processes run
	@bash scripts/services.sh status
	@bash $(STACK) status || true

local-infra: deps ## Install (if missing) and start PostgreSQL, Redis, Kafka, FerretDB, Mailpit under .local/
	@bash $(STACK) up

local-down: ## Stop every process local-infra started (data stays in .local/)
	@bash $(STACK) down

local-status: ## Show which local infrastructure processes are up
	@bash $(STACK) status

SERVICE_PACKAGES := $(patsubst services/%/Cargo.toml,ticketflow-%,$(wildcard services/*/Cargo.toml))

lint: deps lint-deploy ## rustfmt check + clippy with warnings as errors (also each service alone: its own features); lint-deploy
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	@# The workspace build unifies common's features; each binary must also build with only its own.
	@for p in $(SERVICE_PACKAGES); do $(CARGO) clippy --locked -q -p $$p --lib --bins -- -D warnings || exit 1; done

test: deps local-infra lint web-test smoke web-e2e test-only ## Start the native stack, lint, run every test (the web app's Vitest and browser tests too)

test-only: ## Run every test against an already running native stack
	$(CARGO) test --workspace --locked

smoke: ## make up + make seed twice + register/login/me through the gateway (needs local-infra)
	@bash scripts/smoke.sh

demo: ## The curl walkthrough (register → book two seats → confirmed) against BASE_URL (default http://localhost:3000)
	@bash scripts/demo.sh

clean: ## Remove build output and the local stack's data (stops it first)
	-@bash scripts/services.sh down
	-@bash $(STACK) clean
	rm -rf target
