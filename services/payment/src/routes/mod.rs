//! Thin HTTP handlers: extract, call `payments`, shape the JSON.

pub mod payments;
