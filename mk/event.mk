# event-service (services/event): run natively against the local stack, seed the demo catalogue.
.PHONY: run-event seed test-event

run-event: ## Run event-service natively on :3002 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-event --bin event-service

seed: ## Seed demo users, venues, events (idempotent)
	bash scripts/seed.sh

test-event: ## Run event-service's tests against the running local stack
	$(CARGO) test -p ticketflow-event

