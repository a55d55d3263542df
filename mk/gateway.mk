# API gateway (services/gateway): public :3000, Prometheus /metrics on the internal METRICS_PORT (9100).
.PHONY: run-gateway test-gateway

run-gateway: ## Run the API gateway natively on :3000 (/metrics on METRICS_PORT 9100), config from .env.example/.env/.env.local
	$(WITH_ENV) $(CARGO) run -p ticketflow-gateway --bin gateway

test-gateway: ## Run the gateway's unit and integration tests (no infrastructure needed)
	$(CARGO) test -p ticketflow-gateway --locked

