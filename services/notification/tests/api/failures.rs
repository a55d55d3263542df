//! SMTP going away and mails that can never be sent.

use std::time::Duration;

use ticketflow_common::kafka::messages::UserRegistered;
use ticketflow_common::kafka::topics;
use ticketflow_notification::store::{FAILED, PENDING, SENT};
use ticketflow_testkit::unreachable_addr;

use crate::support::{recipient, registered, start, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_waits_out_an_smtp_outage() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    // A first mail opens the pooled SMTP connection the outage then cuts.
    let warm = recipient();
    n.publish(&registered(&warm)).await?;
    n.mailpit.wait_for(&warm, 1, WAIT).await?;

    n.gate.set_open(false);
    let to = recipient();
    let message = n.publish(&registered(&to)).await?;
    let failing = n
        .record_when(message.message_id, "two failed attempts", |r| {
            r.status == PENDING && r.attempts.len() >= 2
        })
        .await?;
    assert!(failing
        .attempts
        .iter()
        .all(|a| a.status == FAILED && a.error.is_some()));
    assert!(
        failing.error.as_deref().is_some_and(|e| e.contains("SMTP")),
        "{failing:?}"
    );
    assert!(n.mailpit.to(&to).await?.is_empty());

    n.gate.set_open(true);
    n.mailpit.wait_for(&to, 1, WAIT).await?;
    let record = n
        .record_when(message.message_id, "sent", |r| r.status == SENT)
        .await?;
    assert!(record.attempts.len() >= 3, "{:?}", record.attempts);
    assert_eq!(
        record.attempts.last().map(|a| a.status.as_str()),
        Some(SENT)
    );
    assert_eq!(n.mailpit.to(&to).await?.len(), 1);
    n.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsendable_mail_is_dead_lettered_and_the_next_one_goes_out() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    let dlt = n.dead_letters(topics::USER_REGISTERED)?;
    let bad = registered("not an address");
    let message = n.publish(&bad).await?;
    // Same key, same partition: it is behind the bad one.
    let next_to = recipient();
    n.publish(&UserRegistered {
        email: next_to.clone(),
        ..bad.clone()
    })
    .await?;
    n.mailpit.wait_for(&next_to, 1, WAIT).await?;

    let id = message.message_id.to_string();
    let dead = dlt
        .expect(WAIT, |m| m.payload["messageId"] == id.as_str())
        .await?;
    let error = dead.header("x-dlt-error").unwrap_or_default();
    assert!(error.contains("not an address"), "{error}");
    assert_eq!(dead.header("x-dlt-attempts"), Some("1"));
    let record = n
        .record_when(message.message_id, "failed", |r| r.status == FAILED)
        .await?;
    assert_eq!(record.attempts.len(), 1);
    assert!(record
        .error
        .as_deref()
        .is_some_and(|e| e.contains("not an address")));
    n.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_attempts_the_mail_is_failed_and_dead_lettered() -> anyhow::Result<()> {
    let dead_server = unreachable_addr()?;
    let n = start(|config| {
        config.smtp.port = dead_server.port();
        config.smtp.max_attempts = 3;
        config.smtp.retry_initial = Duration::from_millis(100);
    })
    .await?;
    let dlt = n.dead_letters(topics::USER_REGISTERED)?;
    let to = recipient();
    let message = n.publish(&registered(&to)).await?;
    let id = message.message_id.to_string();
    let dead = dlt
        .expect(WAIT, |m| m.payload["messageId"] == id.as_str())
        .await?;
    let error = dead.header("x-dlt-error").unwrap_or_default();
    assert!(error.contains("gave up after 3 attempt(s)"), "{error}");
    let record = n
        .record_when(message.message_id, "failed", |r| r.status == FAILED)
        .await?;
    assert_eq!(record.attempts.len(), 3, "{:?}", record.attempts);
    assert!(record.sent_at.is_none());
    n.stop().await
}
