//! Rules of a booking, free of I/O.

pub mod saga;
