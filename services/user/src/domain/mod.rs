//! Pure rules: request validation and the user as the API shows it.

pub mod user;
pub mod validation;
