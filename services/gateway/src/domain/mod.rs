//! Pure rules of the gateway, unit-tested: which service a path belongs to, which routes are
//! public, who the client is, the rate limiter's bookkeeping, and how the services' API
//! documents merge.

pub mod docs;
pub mod rate_limit;
pub mod routing;
