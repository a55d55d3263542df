# make bench (scripts/bench.sh): the figures of docs/benchmarks.md, release build.
.PHONY: bench

bench: deps local-infra ## Release build, then RSS, start → ready, HTTP throughput (wrk) and the saga on fresh fleets; one table, also in docs/benchmarks.md
	@bash scripts/bench.sh
