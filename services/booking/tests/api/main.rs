//! Integration tests against the real local PostgreSQL and Kafka (`make local-infra`): each
//! test starts booking-service in-process on its own database and private topics, with a
//! stand-in event-service (an HTTP fake serving the events the test defines), and plays
//! inventory- and payment-service by publishing their messages.

mod health;
mod routes;
mod saga;
mod support;
