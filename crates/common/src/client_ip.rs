//! Who the client is, for rate limiting, per-client bounds and `X-Forwarded-For`. The gateway
//! sets `X-Forwarded-For` so that its first entry is the client it saw; services behind it
//! read that entry.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client IP: the socket peer, or — only when the gateway sits behind a trusted proxy
/// (`TRUST_PROXY=true`) — the first well-formed address in `X-Forwarded-For`.
pub fn client_ip(headers: &HeaderMap, peer: IpAddr, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        if let Some(ip) = first_forwarded_for(headers) {
            return ip;
        }
    }
    peer
}

/// The first entry of the (first) `X-Forwarded-For` header, if it is an IP address
/// (`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`).
pub fn first_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers.get(X_FORWARDED_FOR)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    first
        .parse::<IpAddr>()
        .ok()
        .or_else(|| first.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The rate-limit key: an IPv4 address, or an IPv6 address's /64 network (one host usually
/// owns a whole /64, so per-address keys would let it rotate freely).
pub fn rate_limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(xff) {
            h.insert(X_FORWARDED_FOR, v);
        }
        h
    }

    #[test]
    fn peer_unless_proxy_trusted() -> Result<(), std::net::AddrParseError> {
        let peer: IpAddr = "10.0.0.9".parse()?;
        let h = headers("203.0.113.7, 10.0.0.1");
        assert_eq!(client_ip(&h, peer, false), peer);
        assert_eq!(client_ip(&h, peer, true), "203.0.113.7".parse::<IpAddr>()?);
        assert_eq!(client_ip(&headers("junk, 1.2.3.4"), peer, true), peer);
        assert_eq!(client_ip(&HeaderMap::new(), peer, true), peer);
        assert_eq!(
            client_ip(&headers("[2001:db8::1]:443"), peer, true),
            "2001:db8::1".parse::<IpAddr>()?
        );
        assert_eq!(
            client_ip(&headers("198.51.100.2:5000"), peer, true),
            "198.51.100.2".parse::<IpAddr>()?
        );
        Ok(())
    }

    #[test]
    fn ipv6_keys_are_per_64() -> Result<(), std::net::AddrParseError> {
        let a = rate_limit_key("2001:db8:1:2:aaaa::1".parse()?);
        let b = rate_limit_key("2001:db8:1:2:bbbb::2".parse()?);
        let c = rate_limit_key("2001:db8:1:3::1".parse()?);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            rate_limit_key("::ffff:192.0.2.1".parse()?),
            "192.0.2.1".parse::<IpAddr>()?
        );
        Ok(())
    }
}
