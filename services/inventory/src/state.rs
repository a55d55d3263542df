//! inventory-service's state: one `Arc<Inner>` shared by every request and consumer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use sqlx::PgPool;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::pg::Database;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::error::InventoryError;
use crate::gate::Gate;
use crate::live::Live;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Store-backed work answers `503` / is retried until the schema is in place.
    pub database: Database,
    /// Set once Redis answered.
    gate: OnceLock<Gate>,
    pub live: Arc<Live>,
    pub streams: StreamSlots,
    pub identity_key: IdentityKey,
    pub seat_lock_ttl: Duration,
    pub sweep_interval: Duration,
    pub stream_heartbeat: Duration,
    /// Cancelled at shutdown: live streams end so the server can drain.
    pub shutdown: CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(database: Database, config: &Config, shutdown: CancellationToken) -> Self {
        Self(Arc::new(Inner {
            database,
            gate: OnceLock::new(),
            live: Arc::new(Live::default()),
            streams: StreamSlots::new(config.streams_per_client),
            identity_key: config.identity_key.clone(),
            seat_lock_ttl: config.seat_lock_ttl,
            sweep_interval: config.sweep_interval,
            stream_heartbeat: config.stream_heartbeat,
            shutdown,
        }))
    }

    /// The pool, once the schema is in place.
    pub fn db(&self) -> Result<&PgPool, InventoryError> {
        self.database
            .ready()
            .ok_or(InventoryError::Starting("inventory database"))
    }

    /// The Redis gate, once Redis has answered.
    pub fn gate(&self) -> Result<&Gate, InventoryError> {
        self.0
            .gate
            .get()
            .ok_or(InventoryError::Starting("seat lock store"))
    }

    pub fn set_gate(&self, gate: Gate) {
        // Only the startup task sets it, once.
        let _ = self.0.gate.set(gate);
    }
}

/// Live seat streams open per client IP, bounded.
pub struct StreamSlots {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open stream; frees its slot when dropped (the stream ended or the client left).
pub struct StreamSlot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl StreamSlots {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A slot for `ip`, or `None` when it already holds `limit` streams.
    pub fn take(&self, ip: IpAddr) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            ip,
            open: Arc::clone(&self.open),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}
