//! Refresh tokens, in families. Pure.
//!
//! A sign-in starts a family with its first token. Each refresh retires the presented token and issues its
//! successor (rotation), so exactly one token of a family works at a time. A retired token presented again was
//! copied (by the thief or from the thief): the whole family is revoked, the newest token included, and both
//! sides must sign in again. Tokens are kept only as SHA-256 digests.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream type of a family; the stream id is the family id.
pub const REFRESH_FAMILY: &str = "refresh_family";
/// Stream type of a token's one event, naming its family; the stream id is the token's digest, so presenting a
/// token finds its family, and a digest cannot be issued twice.
pub const REFRESH_TOKEN: &str = "refresh_token";

/// How long a refresh token works after it is issued (each rotation starts a new period).
pub fn refresh_ttl() -> Duration {
    Duration::days(30)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    SignedOut,
    Reused,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum FamilyEvent {
    #[serde(rename = "refresh_family.started")]
    Started {
        family_id: Uuid,
        user_id: Uuid,
        login: String,
        token_digest: String,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    #[serde(rename = "refresh_family.rotated")]
    Rotated { retired_digest: String, token_digest: String, expires_at: DateTime<Utc>, at: DateTime<Utc> },
    #[serde(rename = "refresh_family.revoked")]
    Revoked { reason: RevokeReason, at: DateTime<Utc> },
}

impl onewindow_eventlog::EventSchema for FamilyEvent {}

/// Whose sign-in a family is.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub login: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Family {
    pub origin: Option<Origin>,
    current: Option<(String, DateTime<Utc>)>,
    retired: HashSet<String>,
    pub revoked: Option<RevokeReason>,
}

impl Aggregate for Family {
    type Event = FamilyEvent;
    fn apply(&mut self, event: &FamilyEvent, _: &RecordedEvent) {
        match event {
            FamilyEvent::Started { family_id, user_id, login, token_digest, expires_at, at } => {
                self.origin =
                    Some(Origin { family_id: *family_id, user_id: *user_id, login: login.clone(), started_at: *at });
                self.current = Some((token_digest.clone(), *expires_at));
            }
            FamilyEvent::Rotated { retired_digest, token_digest, expires_at, .. } => {
                self.retired.insert(retired_digest.clone());
                self.current = Some((token_digest.clone(), *expires_at));
            }
            FamilyEvent::Revoked { reason, .. } => {
                self.revoked = Some(*reason);
                self.current = None;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum TokenEvent {
    #[serde(rename = "refresh_token.issued")]
    Issued { family_id: Uuid },
}

impl onewindow_eventlog::EventSchema for TokenEvent {}

/// The family a token digest belongs to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenFamily {
    pub family_id: Option<Uuid>,
}

impl Aggregate for TokenFamily {
    type Event = TokenEvent;
    fn apply(&mut self, event: &TokenEvent, _: &RecordedEvent) {
        let TokenEvent::Issued { family_id } = event;
        self.family_id = Some(*family_id);
    }
}

/// Why a refresh token does not work. The caller answers all of them alike: sign in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the refresh token is not valid")]
    Unknown,
    #[error("the sign-in this refresh token belongs to has ended")]
    Revoked,
    #[error("the refresh token has expired")]
    Expired,
    #[error("the password was changed since this sign-in")]
    PasswordChanged,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Refresh {
    /// The presented token is retired and `next` takes its place.
    Rotate(Vec<FamilyEvent>),
    /// The presented token was already retired: these events end the family.
    Reused(Vec<FamilyEvent>),
}

/// Decides the first token of a new sign-in.
pub fn start(origin: Origin, token_digest: String, now: DateTime<Utc>) -> Vec<FamilyEvent> {
    vec![FamilyEvent::Started {
        family_id: origin.family_id,
        user_id: origin.user_id,
        login: origin.login,
        token_digest,
        expires_at: now + refresh_ttl(),
        at: now,
    }]
}

/// Decides a refresh with the token whose digest is `presented`, to be replaced by `next`. Sign-ins that started
/// before `sessions_valid_from` (the last password change) are over.
pub fn refresh(
    family: &Family,
    presented: &str,
    next: &str,
    now: DateTime<Utc>,
    sessions_valid_from: Option<DateTime<Utc>>,
) -> Result<Refresh, Refused> {
    let origin = family.origin.as_ref().ok_or(Refused::Unknown)?;
    if family.retired.contains(presented) {
        if family.revoked.is_some() {
            return Err(Refused::Revoked);
        }
        return Ok(Refresh::Reused(vec![FamilyEvent::Revoked { reason: RevokeReason::Reused, at: now }]));
    }
    if family.revoked.is_some() {
        return Err(Refused::Revoked);
    }
    let (current, expires_at) = family.current.as_ref().ok_or(Refused::Unknown)?;
    if current != presented {
        return Err(Refused::Unknown);
    }
    if sessions_valid_from.is_some_and(|from| origin.started_at < from) {
        return Err(Refused::PasswordChanged);
    }
    if now >= *expires_at {
        return Err(Refused::Expired);
    }
    Ok(Refresh::Rotate(vec![FamilyEvent::Rotated {
        retired_digest: presented.to_owned(),
        token_digest: next.to_owned(),
        expires_at: now + refresh_ttl(),
        at: now,
    }]))
}

/// Decides a sign-out: the family ends (again is nothing).
pub fn sign_out(family: &Family, now: DateTime<Utc>) -> Result<Vec<FamilyEvent>, Refused> {
    family.origin.as_ref().ok_or(Refused::Unknown)?;
    if family.revoked.is_some() {
        return Ok(Vec::new());
    }
    Ok(vec![FamilyEvent::Revoked { reason: RevokeReason::SignedOut, at: now }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(events: &[FamilyEvent]) -> Family {
        let mut family = Family::default();
        for event in events {
            family.apply(event, &crate::testing::recorded());
        }
        family
    }

    fn started(now: DateTime<Utc>) -> Vec<FamilyEvent> {
        let origin =
            Origin { family_id: Uuid::now_v7(), user_id: Uuid::now_v7(), login: "aruzhan".into(), started_at: now };
        start(origin, "t1".into(), now)
    }

    fn rotate(events: &mut Vec<FamilyEvent>, presented: &str, next: &str, now: DateTime<Utc>) {
        match refresh(&fold(events), presented, next, now, None) {
            Ok(Refresh::Rotate(new)) => events.extend(new),
            other => panic!("expected a rotation, got {other:?}"),
        }
    }

    #[test]
    fn each_refresh_retires_the_presented_token() {
        let now = Utc::now();
        let mut events = started(now);
        rotate(&mut events, "t1", "t2", now + Duration::days(1));
        rotate(&mut events, "t2", "t3", now + Duration::days(2));
        assert_eq!(refresh(&fold(&events), "nope", "t4", now, None), Err(Refused::Unknown));
    }

    #[test]
    fn a_retired_token_presented_again_revokes_the_family() {
        let now = Utc::now();
        let mut events = started(now);
        rotate(&mut events, "t1", "t2", now);
        rotate(&mut events, "t2", "t3", now);
        let Ok(Refresh::Reused(revoke)) = refresh(&fold(&events), "t1", "t4", now, None) else {
            panic!("reuse must be detected")
        };
        events.extend(revoke);
        let family = fold(&events);
        assert_eq!(family.revoked, Some(RevokeReason::Reused));
        assert_eq!(refresh(&family, "t3", "t4", now, None), Err(Refused::Revoked), "the newest token stops too");
        assert_eq!(refresh(&family, "t1", "t4", now, None), Err(Refused::Revoked), "reuse is recorded once");
    }

    #[test]
    fn tokens_expire_and_a_password_change_ends_older_sign_ins() {
        let now = Utc::now();
        let family = fold(&started(now));
        assert_eq!(refresh(&family, "t1", "t2", now + refresh_ttl(), None), Err(Refused::Expired));
        assert_eq!(refresh(&family, "t1", "t2", now, Some(now + Duration::seconds(1))), Err(Refused::PasswordChanged));
        assert!(matches!(refresh(&family, "t1", "t2", now, Some(now)), Ok(Refresh::Rotate(_))));
    }

    #[test]
    fn signing_out_ends_the_family_once() {
        let now = Utc::now();
        let mut events = started(now);
        events.extend(sign_out(&fold(&events), now).expect("sign out"));
        let family = fold(&events);
        assert_eq!(refresh(&family, "t1", "t2", now, None), Err(Refused::Revoked));
        assert_eq!(sign_out(&family, now), Ok(Vec::new()));
        assert_eq!(sign_out(&Family::default(), now), Err(Refused::Unknown));
    }
}
