# booking-service (services/booking): run natively against the local stack.
.PHONY: run-booking test-booking

run-booking: ## Run booking-service natively on :3003 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-booking --bin booking-service

test-booking: ## Run booking-service's tests against the running local stack
	$(CARGO) test -p ticketflow-booking
