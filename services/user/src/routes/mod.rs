//! Thin HTTP handlers.

pub mod users;
