# ticketflow-e2e (crates/e2e): the saga with every service a real process.
.PHONY: bench-saga

bench-saga: ## Saga latency (accepted → CONFIRMED) and sustained bookings/s, every service a release process (needs the local stack)
	$(CARGO) build --release --bins && $(WITH_ENV) $(CARGO) bench -p ticketflow-e2e --bench saga
