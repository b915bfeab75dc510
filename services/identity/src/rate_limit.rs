//! In-memory limits on guessing: the budget of credential checks per source network (`onewindow_server`'s
//! `NetworkLimiter`), and the lockout of logins that do not exist (so a locked answer does not tell which logins do). Per replica, by design: the account lockout
//! in the log is the one that holds across replicas.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, Utc};
use onewindow_eventlog::OrgId;

use crate::security::{SignInGuard, sign_in_failed};

/// Credential checks (sign-in, activation, password change) allowed per minute from one network when
/// `ONEWINDOW_SIGN_IN_PER_MINUTE` is not set. A campus behind one NAT address signs in together, so this is
/// generous; one account's lockout is what stops guessing a password.
pub const DEFAULT_PER_MINUTE: std::num::NonZeroU32 = std::num::NonZeroU32::new(60).unwrap();

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
    use super::*;

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
