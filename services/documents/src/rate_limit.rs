//! The public verification's rate limit: a budget per source network, so one scraper cannot enumerate the
//! journal or flood the log with recorded checks, while an HR office verifying a pile of documents still can.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tonic::Status;

/// Checks allowed per minute per network when `ONEWINDOW_VERIFY_PER_MINUTE` is not set.
pub const DEFAULT_PER_MINUTE: u32 = 30;

pub struct VerifyLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl VerifyLimiter {
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
        self.limiter
            .check_key(&network.to_owned())
            .map_err(|_| Status::resource_exhausted("too many verifications from your network: try again in a minute"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_network_has_its_own_budget() {
        let limiter = VerifyLimiter::per_minute(3);
        for _ in 0..3 {
            limiter.check("203.0.113.0/24").expect("within the budget");
        }
        let refused = limiter.check("203.0.113.0/24").expect_err("over the budget");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        limiter.check("198.51.100.0/24").expect("another network");
    }
}
