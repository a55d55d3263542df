//! Topic names. `infra/kafka/topics.txt` is the one list every place creates topics from
//! (the local stack, compose's kafka-init, k8s); the constants here must appear in it.

pub const USER_REGISTERED: &str = "ticketflow.user.registered";
pub const EVENT_CREATED: &str = "ticketflow.event.created";
pub const BOOKING_INITIATED: &str = "ticketflow.booking.initiated";
pub const SEATS_LOCKED: &str = "ticketflow.seats.locked";
pub const SEATS_LOCK_FAILED: &str = "ticketflow.seats.lock-failed";
pub const SEATS_CONFIRM: &str = "ticketflow.seats.confirm";
pub const SEATS_RELEASE: &str = "ticketflow.seats.release";
pub const PAYMENT_REQUESTED: &str = "ticketflow.payment.requested";
pub const PAYMENT_PROCESSED: &str = "ticketflow.payment.processed";
pub const BOOKING_CONFIRMED: &str = "ticketflow.booking.confirmed";
pub const BOOKING_FAILED: &str = "ticketflow.booking.failed";
pub const BOOKING_CANCELLED: &str = "ticketflow.booking.cancelled";

/// The text of `infra/kafka/topics.txt`: `<name> <partitions> <retention_ms>` per line.
pub const TOPICS_TXT: &str = include_str!("../../../../infra/kafka/topics.txt");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub retention_ms: i64,
}

/// Every topic the fleet uses, dead-letter topics included.
pub fn all() -> Vec<TopicSpec> {
    parse(TOPICS_TXT)
}

fn parse(text: &str) -> Vec<TopicSpec> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            Some(TopicSpec {
                name: fields.next()?.to_owned(),
                partitions: fields.next()?.parse().ok()?,
                retention_ms: fields.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// Where messages of `topic` go after their last failed attempt.
pub fn dead_letter(topic: &str) -> String {
    format!("{topic}.DLT")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: [&str; 12] = [
        USER_REGISTERED,
        EVENT_CREATED,
        BOOKING_INITIATED,
        SEATS_LOCKED,
        SEATS_LOCK_FAILED,
        SEATS_CONFIRM,
        SEATS_RELEASE,
        PAYMENT_REQUESTED,
        PAYMENT_PROCESSED,
        BOOKING_CONFIRMED,
        BOOKING_FAILED,
        BOOKING_CANCELLED,
    ];

    #[test]
    fn list_has_every_topic_with_contract_settings() {
        let all = all();
        assert_eq!(all.len(), parse(TOPICS_TXT).len());
        for name in MAIN {
            let spec = all.iter().find(|t| t.name == name);
            assert_eq!(
                spec.map(|t| (t.partitions, t.retention_ms)),
                Some((3, 7 * 24 * 3600 * 1000)),
                "{name}"
            );
        }
        // Every consumed topic has its dead-letter topic (1 partition, 30 days).
        for name in MAIN {
            let dlt = dead_letter(name);
            let spec = all.iter().find(|t| t.name == dlt);
            assert_eq!(
                spec.map(|t| (t.partitions, t.retention_ms)),
                Some((1, 30 * 24 * 3600 * 1000)),
                "{dlt}"
            );
        }
    }

    #[test]
    fn parser_skips_comments_and_blank_lines() {
        let parsed = parse("# head\n\na.b 3 10 # trailing\nbroken line\n");
        assert_eq!(
            parsed,
            vec![TopicSpec {
                name: "a.b".into(),
                partitions: 3,
                retention_ms: 10
            }]
        );
    }
}
