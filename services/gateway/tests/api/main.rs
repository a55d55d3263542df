//! Gateway integration tests: the gateway in-process, in front of small in-process echo
//! upstreams, each on testkit's `Spawned` (its own loopback listener on port 0), spoken to over
//! real HTTP.

mod auth;
mod bodies;
mod cors;
mod docs;
mod health;
mod limits;
mod routing;
mod streaming;
mod support;
mod upstream_failures;
mod web;
