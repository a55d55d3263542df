# syntax=docker/dockerfile:1
# One image per Rust service, all from this file:
#   docker build --build-arg SERVICE=booking -t ticketflow/booking .
# SERVICE is the directory under services/ (gateway, user, event, booking, inventory, payment,
# notification). `make build` builds all seven. The dependency layer (cargo-chef) is shared by
# every service: it only rebuilds when Cargo.toml/Cargo.lock change.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# --- toolchain + cargo-chef ------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
# rdkafka's cmake-build compiles librdkafka: cmake, a C/C++ toolchain, zlib headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

# --- the dependency recipe (only manifests matter to it) -------------------------------------
FROM chef AS planner
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY services services
RUN cargo chef prepare --recipe-path recipe.json

# --- build: every dependency once (cached), then one service ---------------------------------
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY Cargo.toml Cargo.lock clippy.toml .env.example ./
COPY crates crates
COPY services services
# event-service compiles the seed catalogue and posters in.
COPY infra/seed infra/seed
ARG SERVICE=gateway
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN test -f "services/${SERVICE}/Cargo.toml" || { echo "no such service: ${SERVICE}" >&2; exit 1; } \
 && bin=$([[ ${SERVICE} == gateway ]] && echo gateway || echo "${SERVICE}-service") \
 && cargo build --release --locked -p "ticketflow-${SERVICE}" --bin "${bin}" \
 && install -D -m 0755 "target/release/${bin}" "/out/${bin}" \
 && ln -s "${bin}" /out/ticketflow

# --- runtime: glibc + zlib, no shell tools needed, non-root -----------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG SERVICE=gateway
ARG PORT=3000
RUN groupadd --system --gid 10001 ticketflow \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ticketflow
# The binary under its own name (e.g. `user-service seed-users`) and as `ticketflow`.
COPY --from=builder /out/ /usr/local/bin/
# Containers listen on every interface; the port is each service's default unless PORT is set.
ENV BIND_ADDR=0.0.0.0 \
    METRICS_BIND_ADDR=0.0.0.0 \
    LOG_FORMAT=json \
    RUST_LOG=info
LABEL org.opencontainers.image.title="ticketflow-${SERVICE}"
USER 10001:10001
EXPOSE ${PORT}
# `ticketflow healthcheck`: GET /health/ready on the service's own port (the gateway: /health).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["ticketflow", "healthcheck"]
ENTRYPOINT ["ticketflow"]
