//! `GET /api/payments/:id` and `/api/payments/booking/:bookingId`: owner or admin, 404 for
//! anyone else (no existence leak).

use reqwest::StatusCode;
use serde_json::json;
use ticketflow_common::auth::Role;
use ticketflow_payment::store::{bson_time, is_duplicate, PaymentDoc};
use uuid::Uuid;

use crate::support::start;

fn stored_payment(owner: Uuid) -> PaymentDoc {
    let now = ticketflow_common::time::now();
    PaymentDoc {
        id: Uuid::new_v4().to_string(),
        booking_id: Uuid::new_v4().to_string(),
        user_id: owner.to_string(),
        amount_minor: 15050,
        currency: "INR".to_owned(),
        status: "SUCCESS".to_owned(),
        reason: None,
        provider_ref: Some("mock_txn_test".to_owned()),
        created_at: bson_time(&now),
        updated_at: bson_time(&now),
        processed_at: Some(bson_time(&now)),
        refunded_at: None,
        void: false,
        outbox: Vec::new(),
        outbox_pending_since: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_and_admin_see_a_payment_nobody_else_does() -> anyhow::Result<()> {
    let payment = start(1, |_| {}).await?;
    let owner = Uuid::new_v4();
    let doc = stored_payment(owner);
    payment.store.insert(&doc).await?;
    // The unique index on booking_id, not a check, is what refuses a second payment.
    let mut twin = stored_payment(owner);
    twin.booking_id = doc.booking_id.clone();
    let err = payment.store.insert(&twin).await.err();
    assert!(err.as_ref().is_some_and(is_duplicate), "{err:?}");
    let by_id = format!("/api/payments/{}", doc.id);
    let by_booking = format!("/api/payments/booking/{}", doc.booking_id);

    for path in [&by_id, &by_booking] {
        let (status, body) = payment.get(path, Some((owner, Role::User))).await?;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["id"], json!(doc.id));
        assert_eq!(body["bookingId"], json!(doc.booking_id));
        assert_eq!(body["userId"], json!(owner));
        assert_eq!(body["amount"], json!(150.5));
        assert_eq!(body["currency"], "INR");
        assert_eq!(body["status"], "SUCCESS");
        assert_eq!(body["reason"], json!(null));
        assert_eq!(body["providerRef"], "mock_txn_test");
        assert_eq!(body["refundedAt"], json!(null));
        for stamp in ["createdAt", "updatedAt", "processedAt"] {
            let text = body[stamp].as_str().unwrap_or_default();
            assert!(text.len() == 24 && text.ends_with('Z'), "{stamp}: {text}");
        }
        assert!(body.get("outbox").is_none() && body.get("void").is_none());

        let (status, body) = payment
            .get(path, Some((Uuid::new_v4(), Role::Admin)))
            .await?;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["id"], json!(doc.id));

        let (status, body) = payment
            .get(path, Some((Uuid::new_v4(), Role::User)))
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "PAYMENT_NOT_FOUND");

        let (status, body) = payment.get(path, None).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
    // Upper-case ids name the same payment.
    let upper = format!("/api/payments/{}", doc.id.to_uppercase());
    assert_eq!(
        payment.get(&upper, Some((owner, Role::User))).await?.0,
        StatusCode::OK
    );

    for path in [
        "/api/payments/not-a-uuid".to_owned(),
        "/api/payments/booking/42".to_owned(),
        format!("/api/payments/{}", Uuid::new_v4()),
        format!("/api/payments/booking/{}", Uuid::new_v4()),
    ] {
        let (status, body) = payment
            .get(&path, Some((Uuid::new_v4(), Role::Admin)))
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "PAYMENT_NOT_FOUND", "{path}");
        assert!(body["error"]["requestId"].is_string(), "{body}");
    }
    payment.stop().await
}
