//! In-memory limits on guessing: a budget of credential checks per source network, and the lockout of logins that
//! do not exist (so a locked answer does not tell which logins do). Per replica, by design: the account lockout
//! in the log is the one that holds across replicas.

use std::{collections::HashMap, net::IpAddr, num::NonZeroU32, sync::Mutex};

use chrono::{DateTime, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use onewindow_eventlog::OrgId;
use tonic::Status;

use crate::security::{SignInGuard, sign_in_failed};

/// Credential checks (sign-in, activation, password change) allowed per minute from one network when
/// `ONEWINDOW_SIGN_IN_PER_MINUTE` is not set. A campus behind one NAT address signs in together, so this is
/// generous; one account's lockout is what stops guessing a password.
pub const DEFAULT_PER_MINUTE: u32 = 60;

/// The source network of an address: its IPv4 /24 or IPv6 /64. Addresses of one network usually belong to one
/// organisation or one attacker, and rotating within it buys nothing.
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

pub struct NetworkLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl NetworkLimiter {
    /// `per_minute` checks a minute per network, all of which may come at once.
    pub fn per_minute(per_minute: u32) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self { limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(rate)) }
    }

    /// RESOURCE_EXHAUSTED once `network` has used its budget; it refills continuously.
    pub fn check(&self, network: &str) -> Result<(), Status> {
        // Forget networks that have been quiet, so the map does not grow with every address ever seen.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&network.to_owned()).map_err(|_| {
            Status::resource_exhausted("too many sign-in attempts from your network: try again in a minute")
        })
    }
}

/// Lockouts of logins that have no account, kept like real ones but only in memory.
#[derive(Default)]
pub struct UnknownLogins {
    guards: Mutex<HashMap<(OrgId, String), SignInGuard>>,
}

impl UnknownLogins {
    pub fn locked_until(&self, org: &OrgId, login: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let guards = self.guards.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guards.get(&(org.clone(), login.to_owned())).and_then(|guard| guard.locked_until(now))
    }

    /// Records a failed sign-in as the log would for an account.
    pub fn failed(&self, org: &OrgId, login: &str, now: DateTime<Utc>, network: &str) {
        let mut guards = self.guards.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guards.len() > 10_000 {
            guards.retain(|_, guard| !guard.is_idle(now));
        }
        let guard = guards.entry((org.clone(), login.to_owned())).or_default();
        for event in sign_in_failed(guard, now, network) {
            guard.record(&event);
        }
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
        let limiter = NetworkLimiter::per_minute(3);
        for _ in 0..3 {
            limiter.check("203.0.113.0/24").expect("within the budget");
        }
        let refused = limiter.check("203.0.113.0/24").expect_err("over the budget");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        limiter.check("198.51.100.0/24").expect("another network");
    }

    #[test]
    fn unknown_logins_lock_like_real_ones() {
        let unknown = UnknownLogins::default();
        let org = OrgId::parse("kaznu").expect("org");
        let now = Utc::now();
        for _ in 0..4 {
            unknown.failed(&org, "ghost", now, "x");
        }
        assert_eq!(unknown.locked_until(&org, "ghost", now), None);
        unknown.failed(&org, "ghost", now, "x");
        assert!(unknown.locked_until(&org, "ghost", now).is_some());
        assert_eq!(unknown.locked_until(&org, "other", now), None);
    }
}
