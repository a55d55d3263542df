# user-service (services/user): run natively against the local stack, seed the demo accounts.
.PHONY: run-user seed-users test-user

run-user: ## Run user-service natively on :3001 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-user --bin user-service

seed-users: ## Create the demo accounts test@/admin@ticketflow.dev if missing (idempotent)
	$(WITH_ENV) $(CARGO) run -p ticketflow-user --bin user-service -- seed-users

test-user: ## Run user-service's tests against the running local stack
	$(CARGO) test -p ticketflow-user
