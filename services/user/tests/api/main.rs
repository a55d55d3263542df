//! Integration tests against the real local PostgreSQL and Kafka (`make local-infra`): each
//! test starts user-service in-process (testkit's `Spawned`, on port 0) with a database of its
//! own and talks to it over HTTP. Kafka assertions filter by ids unique to the test.

mod auth;
mod events;
mod health;
mod helpers;
mod openapi;
mod register;
mod seed;
