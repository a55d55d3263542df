//! Thin HTTP handlers.

pub mod bookings;
