//! Topic names. `infra/kafka/topics.txt` is the one list every place creates topics from
//! (the local stack, compose's kafka-init, k8s), and `infra/kafka/create-topics.sh` its one
//! parser; the constants here must appear in it (the tests read it through `--list`).

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
/// Seat counts of one event after every change (key `eventId`); event-service consumes it.
pub const SEATS_AVAILABILITY: &str = "ticketflow.seats.availability";

/// The name of `topic` on the wire under `KAFKA_TOPIC_PREFIX` (empty in every real
/// deployment). Code always speaks contract names; the producer and the consumer runner
/// translate at the broker boundary, so tests get private copies of the topics a service
/// consumes instead of reading every other test's messages.
pub fn prefixed(prefix: &str, topic: &str) -> String {
    format!("{prefix}{topic}")
}

/// Where messages of `topic` go after their last failed attempt.
pub fn dead_letter(topic: &str) -> String {
    format!("{topic}.DLT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::{Command, Output};

    const CREATE_TOPICS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/kafka/create-topics.sh"
    );

    const MAIN: [&str; 13] = [
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
        SEATS_AVAILABILITY,
    ];

    /// `bash create-topics.sh --list` on `topics_file` (its default, topics.txt, when `None`).
    fn run_list(topics_file: Option<&Path>) -> Output {
        let mut command = Command::new("bash");
        command.arg(CREATE_TOPICS).arg("--list");
        match topics_file {
            Some(file) => command.env("TOPICS_FILE", file),
            None => command.env_remove("TOPICS_FILE"),
        };
        command
            .output()
            .expect("run bash infra/kafka/create-topics.sh")
    }

    /// `(name, partitions, retention_ms)` of every topic in topics.txt, as the script reads it.
    fn listed() -> Vec<(String, i32, i64)> {
        let output = run_list(None);
        assert!(
            output.status.success(),
            "create-topics.sh --list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8 output")
            .lines()
            .map(|line| match line.split(' ').collect::<Vec<_>>()[..] {
                [name, partitions, retention_ms] => (
                    name.to_owned(),
                    partitions.parse().expect(line),
                    retention_ms.parse().expect(line),
                ),
                _ => panic!("unexpected --list line: {line}"),
            })
            .collect()
    }

    #[test]
    fn list_has_every_topic_with_contract_settings() {
        let all = listed();
        let settings = |name: &str| {
            all.iter()
                .find(|(listed, _, _)| listed == name)
                .map(|&(_, partitions, retention_ms)| (partitions, retention_ms))
        };
        for name in MAIN {
            assert_eq!(settings(name), Some((3, 7 * 24 * 3600 * 1000)), "{name}");
        }
        // Every consumed topic has its dead-letter topic (1 partition, 30 days).
        for name in MAIN {
            let dlt = dead_letter(name);
            assert_eq!(settings(&dlt), Some((1, 30 * 24 * 3600 * 1000)), "{dlt}");
        }
    }

    #[test]
    fn list_drops_comments_and_rejects_malformed_lines() {
        let dir = std::env::temp_dir().join(format!("ticketflow-topics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("topics.txt");

        std::fs::write(&file, "# head\n\na.b 3 10 # trailing\n").unwrap();
        let ok = run_list(Some(&file));
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&ok.stdout), "a.b 3 10\n");

        std::fs::write(&file, "a.b 3 10\nbroken line\n").unwrap();
        let bad = run_list(Some(&file));
        std::fs::remove_dir_all(&dir).ok();
        assert!(!bad.status.success());
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("topics.txt:2:"),
            "{}",
            String::from_utf8_lossy(&bad.stderr)
        );
    }
}
