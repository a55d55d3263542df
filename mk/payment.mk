# payment-service (services/payment): run natively against the local stack.
.PHONY: run-payment test-payment

run-payment: ## Run payment-service natively on :3005 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-payment --bin payment-service

test-payment: ## Run payment-service's tests against the running local stack
	$(WITH_ENV) $(CARGO) test -p ticketflow-payment
