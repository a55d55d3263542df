# ticketflow-audit (crates/audit): the booking saga's invariants across the stores of a fleet.
# Reads BOOKING_DB_URL, INVENTORY_DB_URL, MONGODB_URL; the payments database is
# ticketflow_payments unless AUDIT_PAYMENTS_DB is set (MONGODB_DB is every Mongo service's own).
# Extra flags: make audit AUDIT_ARGS='--grace-secs 60'. The binary exits 0 clean, 1 on violations,
# 2 when a store cannot be read; make turns any failure into its own exit 2, so scripts that
# need the distinction run `scripts/with-env.sh cargo run -q -p ticketflow-audit`.
.PHONY: audit

audit: ## Check the saga's invariants across bookings, inventory and payments (exit 1 on any violation)
	$(WITH_ENV) $(CARGO) run -q -p ticketflow-audit -- $(AUDIT_ARGS)
