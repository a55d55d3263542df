//! notification-service against the real local MongoDB-compatible server, Kafka and Mailpit
//! (`make local-infra`), started in-process with testkit's `Spawned`. Every test has its own
//! database and `KAFKA_TOPIC_PREFIX` (`testkit::private_topics`), and mails to recipients
//! unique to it, read back from Mailpit's API.

mod delivery;
mod failures;
mod mails;
mod routes;
mod support;
