//! Pure rules of the gateway, unit-tested: which service a path belongs to, which routes are
//! public, who the client is, and the rate limiter's bookkeeping.

pub mod client_ip;
pub mod rate_limit;
pub mod routing;
