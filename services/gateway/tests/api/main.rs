//! Gateway integration tests: the gateway in-process on a free loopback port, in front of
//! small in-process echo upstreams (also on free ports), spoken to over real HTTP.

mod auth;
mod bodies;
mod cors;
mod docs;
mod health;
mod limits;
mod routing;
mod support;
mod upstream_failures;
