# notification-service (services/notification): run natively against the local stack.
.PHONY: run-notification test-notification

run-notification: ## Run notification-service natively on :3006 (config from .env.example/.env/.env.local)
	$(WITH_ENV) $(CARGO) run -p ticketflow-notification --bin notification-service

test-notification: ## Run notification-service's tests against the running local stack
	$(WITH_ENV) $(CARGO) test -p ticketflow-notification
