//! Delegations: an approver names a substitute for a period (or an administrator does, for whoever holds a post).
//! While it lasts, the substitute decides the approver's rows, and each decision records both names ("acting
//! for"). Each delegation is a stream `delegation/<id>` in routing's log, never published; pure, no I/O.

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::sheet::Mandate;

pub const DELEGATION: &str = "delegation";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DelegationEvent {
    #[serde(rename = "delegation.granted")]
    Granted(Delegation),
}

impl onewindow_eventlog::EventSchema for DelegationEvent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delegation {
    pub delegation_id: Uuid,
    /// The approver substituted for; absent when an administrator delegates a post.
    pub for_id: Option<Uuid>,
    /// The approver's full name, or the post ("Head of the library") when a post is delegated.
    pub for_name: String,
    /// The approver's department, or the post's.
    pub department: String,
    /// Set only when a post is delegated.
    #[serde(default)]
    pub position: String,
    pub substitute_id: Uuid,
    pub substitute_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub granted_by_id: Uuid,
}

impl Delegation {
    /// Whether `who` may act under it at `now`.
    pub fn empowers(&self, who: Uuid, now: DateTime<Utc>) -> bool {
        self.substitute_id == who && self.starts_at <= now && now < self.ends_at
    }

    pub fn mandate(&self) -> Mandate {
        Mandate {
            for_id: self.for_id,
            for_name: self.for_name.clone(),
            department: self.department.clone(),
            position: self.position.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DelegationEntry(pub Option<Delegation>);

impl Aggregate for DelegationEntry {
    type Event = DelegationEvent;
    fn apply(&mut self, event: &DelegationEvent, _: &RecordedEvent) {
        let DelegationEvent::Granted(d) = event;
        self.0 = Some(d.clone());
    }
}

/// Whose rows the substitute takes over.
#[derive(Debug, Clone)]
pub enum Delegator {
    /// An approver (or signatory) for themselves.
    Person { user_id: Uuid, full_name: String, department: String },
    /// An administrator for whoever holds a post.
    Post { department: String, position: String },
}

#[derive(Debug, Clone)]
pub struct Delegate {
    pub delegator: Delegator,
    pub granted_by_id: Uuid,
    pub substitute_id: Uuid,
    pub substitute_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    #[error("{field}: {problem}")]
    Invalid { field: &'static str, problem: &'static str },
}

fn invalid(field: &'static str, problem: &'static str) -> DelegationError {
    DelegationError::Invalid { field, problem }
}

pub fn decide_delegation(command: Delegate) -> Result<DelegationEvent, DelegationError> {
    if command.ends_at <= command.starts_at {
        return Err(invalid("ends_at", "must be after starts_at"));
    }
    if command.ends_at <= command.now {
        return Err(invalid("ends_at", "must be in the future"));
    }
    if command.substitute_id.is_nil() {
        return Err(invalid("substitute_id", "must be a user id"));
    }
    let (for_id, for_name, department, position) = match command.delegator {
        Delegator::Person { user_id, .. } if user_id == command.substitute_id => {
            return Err(invalid("substitute_id", "must be someone else"));
        }
        Delegator::Person { user_id, full_name, department } => (Some(user_id), full_name, department, String::new()),
        Delegator::Post { department, position } => {
            if department.trim().is_empty() || position.trim().is_empty() {
                return Err(invalid("department", "a post is a department and a position"));
            }
            let (department, position) = (department.trim().to_owned(), position.trim().to_owned());
            (None, position.clone(), department, position)
        }
    };
    Ok(DelegationEvent::Granted(Delegation {
        delegation_id: Uuid::now_v7(),
        for_id,
        for_name,
        department,
        position,
        substitute_id: command.substitute_id,
        substitute_name: command.substitute_name.trim().to_owned(),
        starts_at: command.starts_at,
        ends_at: command.ends_at,
        granted_by_id: command.granted_by_id,
    }))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn command(delegator: Delegator, substitute: Uuid) -> Delegate {
        let now = Utc::now();
        Delegate {
            delegator,
            granted_by_id: Uuid::now_v7(),
            substitute_id: substitute,
            substitute_name: "Deputy".into(),
            starts_at: now,
            ends_at: now + Duration::days(14),
            now,
        }
    }

    #[test]
    fn a_delegation_lasts_its_period_and_names_whom_it_is_for() {
        let head = Uuid::now_v7();
        let deputy = Uuid::now_v7();
        let person =
            Delegator::Person { user_id: head, full_name: "Head Librarian".into(), department: "library".into() };
        let DelegationEvent::Granted(d) = decide_delegation(command(person.clone(), deputy)).expect("granted");
        assert!(d.empowers(deputy, d.starts_at));
        assert!(!d.empowers(deputy, d.ends_at), "over at its end");
        assert!(!d.empowers(head, d.starts_at), "only the substitute");
        assert_eq!(
            d.mandate(),
            Mandate {
                for_id: Some(head),
                for_name: "Head Librarian".into(),
                department: "library".into(),
                position: String::new()
            }
        );

        assert_eq!(
            decide_delegation(command(person.clone(), head)),
            Err(invalid("substitute_id", "must be someone else"))
        );
        let mut backwards = command(person, deputy);
        backwards.ends_at = backwards.starts_at;
        assert_eq!(decide_delegation(backwards), Err(invalid("ends_at", "must be after starts_at")));

        let post = Delegator::Post { department: " dormitory ".into(), position: "head".into() };
        let DelegationEvent::Granted(d) = decide_delegation(command(post, deputy)).expect("granted");
        assert_eq!((d.for_id, d.department.as_str(), d.position.as_str()), (None, "dormitory", "head"));
    }
}
