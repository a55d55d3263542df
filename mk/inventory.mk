# inventory-service (services/inventory): run natively against the local stack.
.PHONY: run-inventory test-inventory bench-inventory

run-inventory: ## Run inventory-service natively on :3004 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-inventory --bin inventory-service

test-inventory: ## Run inventory-service's tests against the running local stack
	$(CARGO) test -p ticketflow-inventory

bench-inventory: ## Lock+confirm throughput and latency of the seat lock against the local stack (release build)
	$(WITH_ENV) $(CARGO) bench -p ticketflow-inventory --bench locks
