//! Thin HTTP handlers.

pub mod seats;
