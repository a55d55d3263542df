//! event-service against the real local MongoDB-compatible server and Kafka
//! (`make local-infra`), started in-process with testkit's `Spawned`. Every test has its own
//! database (`TestMongoDatabase`); Kafka assertions filter by ids unique to the test, or use
//! topics of the test's own (`private_topics`) when the service consumes them.

mod availability;
mod events;
mod health;
mod listing;
mod messaging;
mod openapi;
mod seed;
mod support;
mod venues;
