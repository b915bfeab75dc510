//! Accounts, as events: pure decisions and folding, no I/O.

use chrono::{DateTime, Utc};
use onewindow_auth::Role;
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ACCOUNT: &str = "account";

/// An account's stream is keyed by its login within the organisation, so a login is unique by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum AccountEvent {
    #[serde(rename = "account.registered")]
    Registered(Registered),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub user_id: Uuid,
    pub login: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub department: String,
    pub position: String,
    pub email: String,
    /// argon2id PHC string. Identity's log is never published, so the hash stays in this service.
    pub password_hash: String,
    pub registered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Account {
    pub registered: Option<Registered>,
}

impl Aggregate for Account {
    type Event = AccountEvent;

    fn apply(&mut self, event: &AccountEvent, _: &RecordedEvent) {
        match event {
            AccountEvent::Registered(registered) => self.registered = Some(registered.clone()),
        }
    }
}

pub const USER: &str = "user";

/// The user-id side of an account: which login (account stream) a token's subject belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum UserEvent {
    #[serde(rename = "user.login_assigned")]
    LoginAssigned { login: String },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserLogin {
    pub login: Option<String>,
}

impl Aggregate for UserLogin {
    type Event = UserEvent;
    fn apply(&mut self, event: &UserEvent, _: &RecordedEvent) {
        let UserEvent::LoginAssigned { login } = event;
        self.login = Some(login.clone());
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("the login {0:?} is taken")]
    LoginTaken(String),
    #[error("a login is 3 to 64 characters of a-z, 0-9, '.', '_' and '-'")]
    InvalidLogin,
    #[error("an account needs at least one role")]
    NoRole,
}

/// Normalises a login: case-insensitive, so `Aruzhan` and `aruzhan` are one account.
pub fn normalise_login(login: &str) -> Result<String, AccountError> {
    let login = login.trim().to_lowercase();
    let ok = (3..=64).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(login) } else { Err(AccountError::InvalidLogin) }
}

/// Decides a registration: the new account's event.
pub fn register(existing: &Account, registered: Registered) -> Result<Vec<AccountEvent>, AccountError> {
    if existing.registered.is_some() {
        return Err(AccountError::LoginTaken(registered.login));
    }
    if registered.roles.is_empty() {
        return Err(AccountError::NoRole);
    }
    Ok(vec![AccountEvent::Registered(registered)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(login: &str) -> Registered {
        Registered {
            user_id: Uuid::now_v7(),
            login: login.into(),
            full_name: "Aruzhan Serikova".into(),
            roles: vec![Role::Applicant],
            department: String::new(),
            position: String::new(),
            email: "a@example.kz".into(),
            password_hash: "$argon2id$...".into(),
            registered_at: Utc::now(),
        }
    }

    #[test]
    fn a_login_is_registered_once() {
        let first = register(&Account::default(), registered("aruzhan")).expect("first registration");
        assert_eq!(first.len(), 1);
        let AccountEvent::Registered(r) = &first[0];
        let existing = Account { registered: Some(r.clone()) };
        assert_eq!(register(&existing, registered("aruzhan")), Err(AccountError::LoginTaken("aruzhan".into())));
    }

    #[test]
    fn an_account_needs_a_role() {
        let mut r = registered("aruzhan");
        r.roles.clear();
        assert_eq!(register(&Account::default(), r), Err(AccountError::NoRole));
    }

    #[test]
    fn logins_are_case_insensitive_and_checked() {
        assert_eq!(normalise_login(" Aruzhan.S "), Ok("aruzhan.s".into()));
        assert_eq!(normalise_login("ab"), Err(AccountError::InvalidLogin));
        assert_eq!(normalise_login("a b c"), Err(AccountError::InvalidLogin));
    }
}
