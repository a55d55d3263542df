//! Rules of the seat inventory, free of I/O.

pub mod layout;
pub mod seat;
