//! Exactly one mail per triggering message, however often it is delivered.

use ticketflow_common::kafka::{Envelope, Message};
use ticketflow_notification::store::SENT;
use uuid::Uuid;

use crate::support::{
    cancelled, confirmed, failed, recipient, registered, start, Notification, WAIT,
};

/// Publishes `first`, redelivers it five times, then publishes `sentinel` (same topic and key,
/// so the same partition, behind every redelivery, to another recipient): once the sentinel's
/// mail is in, every redelivery has been handled, and `to` must still have exactly one mail.
async fn once<M: Message + Clone>(
    n: &Notification,
    first: &M,
    to: &str,
    sentinel: &M,
    sentinel_to: &str,
) -> anyhow::Result<Uuid> {
    assert_eq!(
        first.key(),
        sentinel.key(),
        "the sentinel must share the partition"
    );
    let envelope: Envelope<M> = n.publish(first).await?;
    for _ in 0..5 {
        n.redeliver(&envelope).await?;
    }
    n.publish(sentinel).await?;
    n.mailpit.wait_for(sentinel_to, 1, WAIT).await?;
    let mails = n.mailpit.to(to).await?;
    assert_eq!(mails.len(), 1, "{} mails to {to}: {mails:?}", mails.len());
    let record = n
        .record_when(envelope.message_id, "sent", |r| r.status == SENT)
        .await?;
    assert_eq!(record.attempts.len(), 1, "{:?}", record.attempts);
    Ok(envelope.message_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivering_each_message_five_times_sends_one_mail() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;

    let (to, sentinel_to) = (recipient(), recipient());
    let user = registered(&to);
    let sentinel = registered(&sentinel_to);
    let sentinel = ticketflow_common::kafka::messages::UserRegistered {
        user_id: user.user_id,
        ..sentinel
    };
    once(&n, &user, &to, &sentinel, &sentinel_to).await?;

    let (to, sentinel_to) = (recipient(), recipient());
    let booking = confirmed(&to);
    let sentinel = ticketflow_common::kafka::messages::BookingConfirmed {
        user_email: sentinel_to.clone(),
        ..booking.clone()
    };
    once(&n, &booking, &to, &sentinel, &sentinel_to).await?;

    let (to, sentinel_to) = (recipient(), recipient());
    let booking = failed(&to, "SEATS_UNAVAILABLE");
    let sentinel = ticketflow_common::kafka::messages::BookingFailed {
        user_email: sentinel_to.clone(),
        ..booking.clone()
    };
    once(&n, &booking, &to, &sentinel, &sentinel_to).await?;

    let (to, sentinel_to) = (recipient(), recipient());
    let booking = cancelled(&to);
    let sentinel = ticketflow_common::kafka::messages::BookingCancelled {
        user_email: sentinel_to.clone(),
        ..booking.clone()
    };
    once(&n, &booking, &to, &sentinel, &sentinel_to).await?;
    n.stop().await
}
