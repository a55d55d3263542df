//! Integration tests against the real local PostgreSQL and Kafka (`make local-infra`): each
//! test starts user-service in-process on a free port with its own fresh database and talks
//! to it over HTTP. Kafka assertions filter by ids unique to the test.

mod auth;
mod events;
mod health;
mod helpers;
mod openapi;
mod register;
mod seed;
