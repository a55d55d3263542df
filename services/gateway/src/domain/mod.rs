//! Pure rules of the gateway, unit-tested: which service a path belongs to, which routes are
//! public, who the client is, the rate limiter's bookkeeping, how the services' API
//! documents merge, and which other paths the web app answers.

pub mod docs;
pub mod rate_limit;
pub mod routing;
pub mod web;
