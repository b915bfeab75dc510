//! Security events of an account, in a stream of their own, and the sign-in lockout decided from them. Pure.
//!
//! Sign-ins write here and not to the account's stream, so a burst of sign-ins never races a profile update.

use chrono::{DateTime, Duration, Utc};
use onewindow_auth::Role;
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream type; the stream id is the account's user id.
pub const SECURITY: &str = "security";

/// Failed sign-ins within [`failure_window`] that lock an account.
pub const LOCK_AFTER_FAILURES: usize = 5;

pub fn failure_window() -> Duration {
    Duration::minutes(15)
}

pub fn lock_period() -> Duration {
    Duration::minutes(15)
}

/// `network` is the caller's source network (an IPv4 /24 or IPv6 /64), never a secret or the full address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SecurityEvent {
    #[serde(rename = "security.signed_in")]
    SignedIn { at: DateTime<Utc>, family_id: Uuid, network: String },
    #[serde(rename = "security.sign_in_failed")]
    SignInFailed { at: DateTime<Utc>, network: String },
    #[serde(rename = "security.locked_out")]
    LockedOut { at: DateTime<Utc>, until: DateTime<Utc> },
    /// By the person (`ChangePassword`), or with an administrator's one-time code on an active account.
    #[serde(rename = "security.password_changed")]
    PasswordChanged { at: DateTime<Utc>, with_access_code: bool },
    #[serde(rename = "security.roles_changed")]
    RolesChanged { at: DateTime<Utc>, previous: Vec<Role>, roles: Vec<Role>, changed_by: Uuid },
    /// A retired refresh token came back: it was copied, so the whole sign-in it descends from was ended.
    #[serde(rename = "security.refresh_token_reused")]
    RefreshTokenReused { at: DateTime<Utc>, family_id: Uuid, network: String },
    #[serde(rename = "security.signed_out")]
    SignedOut { at: DateTime<Utc>, family_id: Uuid },
    /// First access: the password was set with the one-time code.
    #[serde(rename = "security.account_activated")]
    AccountActivated { at: DateTime<Utc> },
}

impl onewindow_eventlog::EventSchema for SecurityEvent {}

/// What the lockout needs of an account's security events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignInGuard {
    /// Failures within the window before the latest one, oldest first (older ones are dropped as events come).
    failures: Vec<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
}

impl SignInGuard {
    /// Folds one event; also used for logins that do not exist, whose guards live in memory.
    pub fn record(&mut self, event: &SecurityEvent) {
        match event {
            SecurityEvent::SignInFailed { at, .. } => {
                let since = *at - failure_window();
                self.failures.retain(|failed| *failed > since);
                self.failures.push(*at);
            }
            SecurityEvent::LockedOut { until, .. } => {
                self.locked_until = Some(*until);
                self.failures.clear();
            }
            // A success or a new password starts over (a new password came with the old one or a one-time code).
            SecurityEvent::SignedIn { .. }
            | SecurityEvent::PasswordChanged { .. }
            | SecurityEvent::AccountActivated { .. } => {
                self.failures.clear();
                self.locked_until = None;
            }
            SecurityEvent::RolesChanged { .. }
            | SecurityEvent::RefreshTokenReused { .. }
            | SecurityEvent::SignedOut { .. } => {}
        }
    }

    /// Until when the account is locked, if it is at `now`.
    pub fn locked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| now < *until)
    }

    /// Nothing to remember: no recent failure and no lock (in-memory guards are dropped then).
    pub fn is_idle(&self, now: DateTime<Utc>) -> bool {
        self.locked_until(now).is_none() && self.failures.iter().all(|failed| *failed <= now - failure_window())
    }
}

impl Aggregate for SignInGuard {
    type Event = SecurityEvent;
    fn apply(&mut self, event: &SecurityEvent, _: &RecordedEvent) {
        self.record(event);
    }
}

/// Decides a failed sign-in at `now`: the failure, and a lockout when it is the last one the window allows.
pub fn sign_in_failed(guard: &SignInGuard, now: DateTime<Utc>, network: &str) -> Vec<SecurityEvent> {
    let since = now - failure_window();
    let failures = guard.failures.iter().filter(|failed| **failed > since).count() + 1;
    let mut events = vec![SecurityEvent::SignInFailed { at: now, network: network.to_owned() }];
    if failures >= LOCK_AFTER_FAILURES {
        events.push(SecurityEvent::LockedOut { at: now, until: now + lock_period() });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(events: &[SecurityEvent]) -> SignInGuard {
        let mut guard = SignInGuard::default();
        for event in events {
            guard.record(event);
        }
        guard
    }

    /// Fails `times` times, `apart` from each other, from `start`.
    fn failures(start: DateTime<Utc>, times: usize, apart: Duration) -> Vec<SecurityEvent> {
        let mut events = Vec::new();
        for i in 0..times {
            let guard = fold(&events);
            events.extend(sign_in_failed(&guard, start + apart * i as i32, "203.0.113.0/24"));
        }
        events
    }

    #[test]
    fn the_fifth_failure_within_the_window_locks_for_the_period() {
        let start = Utc::now();
        let events = failures(start, 5, Duration::minutes(3));
        let locked_at = start + Duration::minutes(12);
        assert!(
            matches!(events.last(), Some(SecurityEvent::LockedOut { until, .. }) if *until == locked_at + lock_period())
        );
        let guard = fold(&events);
        assert_eq!(guard.locked_until(locked_at + Duration::minutes(14)), Some(locked_at + lock_period()));
        assert_eq!(guard.locked_until(locked_at + lock_period()), None, "unlocked when the period ends");
        // After the lock the count starts over: one more failure does not lock again.
        let after = sign_in_failed(&guard, locked_at + lock_period(), "203.0.113.0/24");
        assert_eq!(after.len(), 1);
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let events = failures(Utc::now(), 20, Duration::minutes(4));
        assert!(events.iter().all(|e| matches!(e, SecurityEvent::SignInFailed { .. })));
        assert!(fold(&events).failures.len() < LOCK_AFTER_FAILURES, "old failures are forgotten");
    }

    #[test]
    fn a_success_or_new_password_starts_over() {
        let start = Utc::now();
        for reset in [
            SecurityEvent::SignedIn { at: start, family_id: Uuid::now_v7(), network: "x".into() },
            SecurityEvent::AccountActivated { at: start },
            SecurityEvent::PasswordChanged { at: start, with_access_code: true },
        ] {
            let mut events = failures(start, 4, Duration::seconds(1));
            events.push(reset);
            events.extend(failures(start + Duration::seconds(10), 4, Duration::seconds(1)));
            assert_eq!(fold(&events).locked_until(start + Duration::seconds(20)), None);
        }
        let locked = failures(start, 5, Duration::seconds(1));
        let mut unlocked = locked.clone();
        unlocked.push(SecurityEvent::AccountActivated { at: start + Duration::minutes(1) });
        assert!(fold(&locked).locked_until(start + Duration::minutes(2)).is_some());
        assert!(fold(&unlocked).locked_until(start + Duration::minutes(2)).is_none(), "a code reset unlocks");
    }
}
