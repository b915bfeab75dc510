//! Where a call comes from, for the public calls that limit it: the caller's network, and a budget of calls per
//! network (sign-in and activation in identity, the public verification in documents).

use std::{net::IpAddr, num::NonZeroU32};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tonic::{Request, Status};

/// The caller's address: the first of `x-forwarded-for` when the gateway is trusted, else the peer's.
pub fn caller_address<T>(request: &Request<T>, trust_forwarded_for: bool) -> Option<IpAddr> {
    let forwarded = trust_forwarded_for
        .then(|| request.metadata().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|value| value.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok());
    forwarded.or_else(|| request.remote_addr().map(|addr| addr.ip()))
}

/// The source network of an address: its IPv4 /24 or IPv6 /64. Addresses of one network usually belong to one
/// organisation or one client, rotating within it buys nothing, and the host itself is not kept.
pub fn network_of(address: Option<IpAddr>) -> String {
    match address {
        Some(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => network_of(Some(IpAddr::V4(v4))),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".into(),
    }
}

/// A budget of calls per network and minute, all of which may come at once; it refills continuously.
pub struct NetworkLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    /// What the caller is told they did too often, e.g. "sign-in attempts".
    what: &'static str,
}

impl NetworkLimiter {
    pub fn per_minute(per_minute: u32, what: &'static str) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self { limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(rate)), what }
    }

    /// RESOURCE_EXHAUSTED once `network` has used its budget.
    pub fn check(&self, network: &str) -> Result<(), Status> {
        // Forget networks that have been quiet, so the map does not grow with every address ever seen.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&network.to_owned()).map_err(|_| {
            Status::resource_exhausted(format!("too many {} from your network: try again in a minute", self.what))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        assert_eq!(network_of(Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 77)))), "203.0.113.0/24");
        let v6: Ipv6Addr = "2001:db8:1:2:3:4:5:6".parse().expect("address");
        assert_eq!(network_of(Some(IpAddr::V6(v6))), "2001:db8:1:2::/64");
        let mapped: Ipv6Addr = "::ffff:198.51.100.9".parse().expect("address");
        assert_eq!(network_of(Some(IpAddr::V6(mapped))), "198.51.100.0/24");
        assert_eq!(network_of(None), "unknown");
    }

    #[test]
    fn each_network_has_its_own_budget() {
        let limiter = NetworkLimiter::per_minute(3, "checks");
        for _ in 0..3 {
            limiter.check("203.0.113.0/24").expect("within the budget");
        }
        let refused = limiter.check("203.0.113.0/24").expect_err("over the budget");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(refused.message().contains("too many checks"), "{}", refused.message());
        limiter.check("198.51.100.0/24").expect("another network");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_gateway() {
        let mut request = Request::new(());
        request.metadata_mut().insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().expect("header"));
        assert_eq!(caller_address(&request, true), Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))));
        assert_eq!(caller_address(&request, false), None, "no peer address in a unit test, and the header is ignored");
    }
}
