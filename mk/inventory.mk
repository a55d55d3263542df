# inventory-service (services/inventory): run natively against the local stack.
.PHONY: run-inventory test-inventory

run-inventory: ## Run inventory-service natively on :3004 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-inventory --bin inventory-service

test-inventory: ## Run inventory-service's tests against the running local stack
	$(CARGO) test -p ticketflow-inventory
