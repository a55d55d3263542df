//! Pure rules: validation, money, listing parameters. No I/O here.

pub mod event;
pub mod listing;
pub mod money;
pub mod venue;
