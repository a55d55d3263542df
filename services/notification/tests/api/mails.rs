//! Each mail as its recipient gets it: subject, both parts, seat labels, the amount in its
//! currency, the date with its zone, the calendar file — read back from Mailpit.

use ticketflow_notification::store::SENT;
use ticketflow_testkit::mailpit::Full;

use crate::support::{self, cancelled, confirmed, failed, recipient, registered, start, WAIT};

async fn only_mail(n: &support::Notification, to: &str) -> anyhow::Result<Full> {
    let found = n.mailpit.wait_for(to, 1, WAIT).await?;
    assert_eq!(found.len(), 1, "mails to {to}: {found:?}");
    n.mailpit.message(&found[0].id).await
}

fn both_parts_contain(mail: &Full, needles: &[&str]) {
    for needle in needles {
        assert!(
            mail.text.contains(needle),
            "text lacks {needle:?}:\n{}",
            mail.text
        );
        assert!(
            mail.html.contains(needle),
            "HTML lacks {needle:?}:\n{}",
            mail.html
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    let to = recipient();
    let message = n.publish(&registered(&to)).await?;
    let mail = only_mail(&n, &to).await?;
    assert_eq!(mail.subject, "Welcome to TicketFlow!");
    both_parts_contain(&mail, &["Asha Rao", "http://localhost:3000/"]);
    assert!(mail.attachments.is_empty());
    let record = n
        .record_when(message.message_id, "sent", |r| r.status == SENT)
        .await?;
    assert_eq!(record.kind, "WELCOME");
    assert_eq!(record.user_id, message.payload.user_id.to_string());
    assert_eq!(record.recipient_email, to);
    assert_eq!(record.attempts.len(), 1);
    assert!(record.sent_at.is_some());
    n.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_confirmed_with_a_calendar_file() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    let to = recipient();
    let booking = confirmed(&to);
    let message = n.publish(&booking).await?;
    let mail = only_mail(&n, &to).await?;
    assert_eq!(mail.subject, "Booking Confirmed – Monsoon Jazz Night");
    let reference = booking.booking_id.to_string();
    both_parts_contain(
        &mail,
        &[
            "Monsoon Jazz Night",
            "A1, A2",
            "₹2,998.00",
            "Saturday, 12 December 2026, 7:30 PM IST (UTC+05:30)",
            "Blue Frog, Mumbai",
            &reference,
        ],
    );
    // Seat labels, never seat ids.
    assert!(!mail.text.contains(&booking.seat_ids[0].to_string()));

    let [ics] = mail.attachments.as_slice() else {
        panic!("one attachment expected: {:?}", mail.attachments);
    };
    assert_eq!(ics.file_name, "ticket.ics");
    assert!(
        ics.content_type.starts_with("text/calendar"),
        "{}",
        ics.content_type
    );
    let bytes = n.mailpit.part(&mail.id, &ics.part_id).await?;
    let calendar = ical::IcalParser::new(bytes.as_slice())
        .next()
        .ok_or_else(|| anyhow::anyhow!("no calendar in the attachment"))??;
    let [event] = calendar.events.as_slice() else {
        panic!("one event expected");
    };
    let property = |name: &str| {
        event
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    assert_eq!(property("DTSTART"), "20261212T140000Z");
    assert_eq!(property("SUMMARY"), "Monsoon Jazz Night");
    assert_eq!(property("LOCATION"), "Blue Frog\\, Mumbai");
    assert!(property("UID").contains(&reference));
    let description = property("DESCRIPTION");
    assert!(
        description.contains(&reference) && description.contains("A1\\, A2"),
        "{description}"
    );
    assert_eq!(
        property("DTSTAMP"),
        message.timestamp.format("%Y%m%dT%H%M%SZ").to_string()
    );

    let record = n
        .record_when(message.message_id, "sent", |r| r.status == SENT)
        .await?;
    assert_eq!(record.kind, "BOOKING_CONFIRMED");
    assert_eq!(record.booking_id.as_deref(), Some(reference.as_str()));
    assert_eq!(record.metadata.seat_labels, ["A1", "A2"]);
    assert_eq!(record.metadata.total_amount, Some(2998.0));
    n.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_failed_says_why_in_words() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    let to = recipient();
    let booking = failed(&to, "PAYMENT_FAILED");
    n.publish(&booking).await?;
    let mail = only_mail(&n, &to).await?;
    assert_eq!(
        mail.subject,
        format!("Booking Failed – Reference {}", booking.booking_id)
    );
    both_parts_contain(
        &mail,
        &[
            "Monsoon Jazz Night",
            "Your payment did not go through",
            &booking.booking_id.to_string(),
        ],
    );
    assert!(!mail.text.contains("PAYMENT_FAILED") && !mail.html.contains("PAYMENT_FAILED"));
    n.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_cancelled_in_euros() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    let to = recipient();
    let booking = cancelled(&to);
    n.publish(&booking).await?;
    let mail = only_mail(&n, &to).await?;
    assert_eq!(
        mail.subject,
        "Booking Cancelled – Berlin Philharmonic Matinee"
    );
    both_parts_contain(
        &mail,
        &["C7", "€25.00", "refunded", &booking.booking_id.to_string()],
    );
    assert!(mail.attachments.is_empty());
    n.stop().await
}
