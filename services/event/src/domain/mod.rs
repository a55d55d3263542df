//! Pure rules: validation, money, listing parameters. No I/O here.

pub mod event;
pub mod listing;
pub use ticketflow_common::money;
pub mod venue;
