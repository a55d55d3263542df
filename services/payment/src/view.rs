//! The `Payment` JSON.

use serde::Serialize;
use utoipa::ToSchema;

use crate::payments::{time, to_major};
use crate::store::PaymentDoc;

/// A payment as clients see it. Timestamps are RFC 3339, UTC, milliseconds, `Z`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: String,
    pub booking_id: String,
    pub user_id: String,
    /// Major units (e.g. `150.5`).
    pub amount: f64,
    pub currency: String,
    /// `PENDING`, `SUCCESS`, `FAILED` or `REFUNDED`.
    pub status: String,
    /// Why it failed (`null` otherwise).
    pub reason: Option<String>,
    /// The provider's transaction reference (`mock_txn_…`); `null` when never charged.
    pub provider_ref: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub processed_at: Option<String>,
    pub refunded_at: Option<String>,
}

impl From<&PaymentDoc> for PaymentView {
    fn from(p: &PaymentDoc) -> Self {
        let stamp = |at| ticketflow_common::time::rfc3339(&time(at));
        Self {
            id: p.id.clone(),
            booking_id: p.booking_id.clone(),
            user_id: p.user_id.clone(),
            amount: to_major(p.amount_minor),
            currency: p.currency.clone(),
            status: p.status.clone(),
            reason: p.reason.clone(),
            provider_ref: p.provider_ref.clone(),
            created_at: stamp(p.created_at),
            updated_at: stamp(p.updated_at),
            processed_at: p.processed_at.map(stamp),
            refunded_at: p.refunded_at.map(stamp),
        }
    }
}
