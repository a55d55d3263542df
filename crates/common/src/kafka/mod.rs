//! Kafka: the message envelope, the topic list, a producer and the consumer runner.

mod consumer;
mod envelope;
pub mod messages;
mod producer;
pub mod topics;

pub use consumer::{consume, run_consumer, ConsumerConfig, Delivery, HandlerError};

/// Messages the saga's consumers (booking, inventory, payment, event's availability) handle
/// at once ([`ConsumerConfig::with_concurrency`]); below each service's database pool (10).
pub const SAGA_CONCURRENCY: usize = 8;
pub use envelope::{Envelope, Message};
pub use producer::{correlation_headers, Producer, HEADER_REQUEST_ID, HEADER_TRACEPARENT};

/// Settings shared by every client, so local, compose and k8s differ only in the address.
pub(crate) fn client_config(bootstrap: &str) -> rdkafka::ClientConfig {
    let mut config = rdkafka::ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "ticketflow")
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.ms", "100")
        .set("reconnect.backoff.max.ms", "5000");
    config
}
