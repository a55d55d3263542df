//! payment-service against the real local MongoDB-compatible server and Kafka
//! (`make local-infra`), started in-process with testkit's `Spawned`. Every test has its own
//! database and, since the service consumes, a `KAFKA_TOPIC_PREFIX` of its own
//! (`testkit::private_topics`); assertions watch `payment.processed` under that prefix and
//! filter by booking ids unique to the test.

mod health;
mod processing;
mod refunds;
mod routes;
mod support;
