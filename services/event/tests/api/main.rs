//! event-service against the real local MongoDB-compatible server and Kafka
//! (`make local-infra`), started in-process with testkit's `Spawned`. Every test has its own
//! database (`TestMongoDatabase`) and, since the service consumes `seats.availability`, a
//! `KAFKA_TOPIC_PREFIX` of its own (`support::private_prefix`, testkit's `private_topics`):
//! `Service::spawn` refuses an empty one. Kafka assertions watch and produce under that prefix
//! (`Service::prefix`) and filter by ids unique to the test.

mod availability;
mod cache;
mod events;
mod health;
mod listing;
mod messaging;
mod openapi;
mod seed;
mod support;
mod venues;
