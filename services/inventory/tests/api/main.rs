//! Integration tests against the real local PostgreSQL, Redis and Kafka (`make local-infra`):
//! each test starts inventory-service in-process (testkit's `Spawned`, port 0), one or more
//! instances, with a database and Kafka topics of its own (`KAFKA_TOPIC_PREFIX`), and talks
//! to it through Kafka messages and HTTP.

mod expiry;
mod health;
mod locking;
mod redelivery;
mod seats;
mod stream;
mod support;
