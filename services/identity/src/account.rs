//! Accounts, as events: pure decisions and folding, no I/O.
//!
//! An account's stream is keyed by its login within the organisation, so a login is unique by construction; a
//! second stream per user id says which login a token's subject has.

use chrono::{DateTime, Utc};
use onewindow_auth::Role;
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contact::{Language, NotificationPreference};

pub const ACCOUNT: &str = "account";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum AccountEvent {
    /// Created by an operator with a password (seeding).
    #[serde(rename = "account.registered")]
    Registered(Registered),
    /// Created by an administrator's import, without a password: first access needs the one-time code.
    #[serde(rename = "account.imported")]
    Imported(Imported),
    /// A new one-time code replaced any earlier one.
    #[serde(rename = "account.access_code_issued")]
    AccessCodeIssued(AccessCode),
    /// The one-time code was used to set the password (and is gone).
    #[serde(rename = "account.activated")]
    Activated(PasswordSet),
    #[serde(rename = "account.password_changed")]
    PasswordChanged(PasswordSet),
    #[serde(rename = "account.roles_changed")]
    RolesChanged { roles: Vec<Role> },
    /// The department and position an account holds (approvers are routed by these).
    #[serde(rename = "account.post_changed")]
    PostChanged { department: String, position: String },
    #[serde(rename = "account.profile_updated")]
    ProfileUpdated(Profile),
}

impl onewindow_eventlog::EventSchema for AccountEvent {}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub user_id: Uuid,
    pub login: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub department: String,
    pub position: String,
    pub email: String,
    pub phone: String,
    pub access_code: AccessCode,
    pub imported_at: DateTime<Utc>,
}

/// A one-time access code, kept only as its argon2id hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessCode {
    pub code_hash: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordSet {
    pub password_hash: String,
    pub at: DateTime<Utc>,
}

/// What a person sets for themselves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub phone: String,
    pub language: Option<Language>,
    pub notification_preferences: Vec<NotificationPreference>,
}

/// Who the account is, as tokens and `GetMe` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountDetails {
    pub user_id: Uuid,
    pub login: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub department: String,
    pub position: String,
    pub profile: Profile,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Account {
    pub details: Option<AccountDetails>,
    pub password_hash: Option<String>,
    pub access_code: Option<AccessCode>,
    /// Sign-ins that started before this instant are over: the password was changed or reset since.
    pub sessions_valid_from: Option<DateTime<Utc>>,
}

impl Aggregate for Account {
    type Event = AccountEvent;

    fn apply(&mut self, event: &AccountEvent, _: &RecordedEvent) {
        match event {
            AccountEvent::Registered(r) => {
                self.details = Some(AccountDetails {
                    user_id: r.user_id,
                    login: r.login.clone(),
                    full_name: r.full_name.clone(),
                    roles: r.roles.clone(),
                    department: r.department.clone(),
                    position: r.position.clone(),
                    profile: Profile { email: r.email.clone(), ..Profile::default() },
                });
                self.password_hash = Some(r.password_hash.clone());
            }
            AccountEvent::Imported(i) => {
                self.details = Some(AccountDetails {
                    user_id: i.user_id,
                    login: i.login.clone(),
                    full_name: i.full_name.clone(),
                    roles: i.roles.clone(),
                    department: i.department.clone(),
                    position: i.position.clone(),
                    profile: Profile { email: i.email.clone(), phone: i.phone.clone(), ..Profile::default() },
                });
                self.access_code = Some(i.access_code.clone());
            }
            AccountEvent::AccessCodeIssued(code) => self.access_code = Some(code.clone()),
            AccountEvent::Activated(set) | AccountEvent::PasswordChanged(set) => {
                self.password_hash = Some(set.password_hash.clone());
                self.access_code = None;
                self.sessions_valid_from = Some(set.at);
            }
            AccountEvent::RolesChanged { roles } => {
                if let Some(details) = &mut self.details {
                    details.roles = roles.clone();
                }
            }
            AccountEvent::PostChanged { department, position } => {
                if let Some(details) = &mut self.details {
                    details.department = department.clone();
                    details.position = position.clone();
                }
            }
            AccountEvent::ProfileUpdated(profile) => {
                if let Some(details) = &mut self.details {
                    details.profile = profile.clone();
                }
            }
        }
    }
}

impl Account {
    /// Has a password (seeded, or activated after import).
    pub fn is_active(&self) -> bool {
        self.password_hash.is_some()
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

impl onewindow_eventlog::EventSchema for UserEvent {}

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
    #[error("no such account")]
    NotFound,
    /// One answer for an unknown login, an account without a code and a wrong code.
    #[error("the login or the one-time code is wrong")]
    CodeRefused,
    #[error("the one-time code has expired: ask your administrator for a new one")]
    CodeExpired,
    #[error("an administrator cannot take away their own admin role (ask another administrator)")]
    OwnAdminRole,
}

/// Normalises a login: case-insensitive, so `Aruzhan` and `aruzhan` are one account.
pub fn normalise_login(login: &str) -> Result<String, AccountError> {
    let login = login.trim().to_lowercase();
    let ok = (3..=64).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(login) } else { Err(AccountError::InvalidLogin) }
}

/// Roles without repeats, in the order given.
pub fn distinct_roles(roles: impl IntoIterator<Item = Role>) -> Vec<Role> {
    let mut distinct = Vec::new();
    for role in roles {
        if !distinct.contains(&role) {
            distinct.push(role);
        }
    }
    distinct
}

/// Decides a registration: the new account's event.
pub fn register(existing: &Account, registered: Registered) -> Result<Vec<AccountEvent>, AccountError> {
    if existing.details.is_some() {
        return Err(AccountError::LoginTaken(registered.login));
    }
    if registered.roles.is_empty() {
        return Err(AccountError::NoRole);
    }
    Ok(vec![AccountEvent::Registered(registered)])
}

/// Decides an imported account: created without a password, waiting for its first access.
pub fn import(existing: &Account, imported: Imported) -> Result<Vec<AccountEvent>, AccountError> {
    if existing.details.is_some() {
        return Err(AccountError::LoginTaken(imported.login));
    }
    if imported.roles.is_empty() {
        return Err(AccountError::NoRole);
    }
    Ok(vec![AccountEvent::Imported(imported)])
}

pub fn issue_access_code(account: &Account, code: AccessCode) -> Result<Vec<AccountEvent>, AccountError> {
    account.details.as_ref().ok_or(AccountError::NotFound)?;
    Ok(vec![AccountEvent::AccessCodeIssued(code)])
}

/// Decides a first access (or a reset) whose code the caller has already verified against `account.access_code`:
/// the code must still be valid at `now`.
pub fn activate(
    account: &Account,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    let code = account.access_code.as_ref().filter(|_| account.details.is_some()).ok_or(AccountError::CodeRefused)?;
    if now >= code.expires_at {
        return Err(AccountError::CodeExpired);
    }
    Ok(vec![AccountEvent::Activated(PasswordSet { password_hash, at: now })])
}

/// Decides a password change whose old password the caller has already verified.
pub fn change_password(
    account: &Account,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    account.details.as_ref().ok_or(AccountError::NotFound)?;
    Ok(vec![AccountEvent::PasswordChanged(PasswordSet { password_hash, at: now })])
}

/// Decides new roles and post for an account, changed by `actor`: events only for what differs.
pub fn change_roles(
    account: &Account,
    roles: Vec<Role>,
    department: String,
    position: String,
    actor: Uuid,
) -> Result<Vec<AccountEvent>, AccountError> {
    let details = account.details.as_ref().ok_or(AccountError::NotFound)?;
    let roles = distinct_roles(roles);
    if roles.is_empty() {
        return Err(AccountError::NoRole);
    }
    // The last administrator removing themselves would leave nobody to manage the organisation's accounts.
    if details.user_id == actor && details.roles.contains(&Role::Admin) && !roles.contains(&Role::Admin) {
        return Err(AccountError::OwnAdminRole);
    }
    let mut events = Vec::new();
    if roles != details.roles {
        events.push(AccountEvent::RolesChanged { roles });
    }
    if department != details.department || position != details.position {
        events.push(AccountEvent::PostChanged { department, position });
    }
    Ok(events)
}

/// Decides a profile update: nothing when nothing changes.
pub fn update_profile(account: &Account, profile: Profile) -> Result<Vec<AccountEvent>, AccountError> {
    let details = account.details.as_ref().ok_or(AccountError::NotFound)?;
    if details.profile == profile { Ok(Vec::new()) } else { Ok(vec![AccountEvent::ProfileUpdated(profile)]) }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::contact::Channel;

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

    fn imported(login: &str, expires_at: DateTime<Utc>) -> Imported {
        Imported {
            user_id: Uuid::now_v7(),
            login: login.into(),
            full_name: "Dias Ospanov".into(),
            roles: vec![Role::Applicant],
            department: String::new(),
            position: String::new(),
            email: String::new(),
            phone: "+77011234567".into(),
            access_code: AccessCode { code_hash: "$argon2id$code".into(), issued_at: Utc::now(), expires_at },
            imported_at: Utc::now(),
        }
    }

    /// Folds events as the log would.
    fn given(events: Vec<AccountEvent>) -> Account {
        let mut account = Account::default();
        for event in &events {
            account.apply(event, &crate::testing::recorded());
        }
        account
    }

    #[test]
    fn a_login_is_registered_once() {
        let first = register(&Account::default(), registered("aruzhan")).expect("first registration");
        let existing = given(first);
        assert!(existing.is_active());
        assert_eq!(register(&existing, registered("aruzhan")), Err(AccountError::LoginTaken("aruzhan".into())));
        let later = imported("aruzhan", Utc::now());
        assert_eq!(import(&existing, later), Err(AccountError::LoginTaken("aruzhan".into())));
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

    #[test]
    fn an_imported_account_is_activated_once_with_a_valid_code() {
        let now = Utc::now();
        let account = given(import(&Account::default(), imported("dias", now + Duration::hours(72))).expect("new"));
        assert!(!account.is_active());
        assert_eq!(
            activate(&account, "h".into(), now + Duration::hours(72)),
            Err(AccountError::CodeExpired),
            "expired at the instant it ends"
        );
        let events = activate(&account, "h".into(), now + Duration::hours(1)).expect("in time");
        let active = given([import(&Account::default(), imported("dias", now)).expect("new"), events].concat());
        assert!(active.is_active());
        assert_eq!(active.access_code, None, "the code is consumed");
        assert_eq!(active.sessions_valid_from, Some(now + Duration::hours(1)));
        assert_eq!(activate(&active, "h".into(), now), Err(AccountError::CodeRefused), "no second use");
        assert_eq!(activate(&Account::default(), "h".into(), now), Err(AccountError::CodeRefused), "no account");
    }

    #[test]
    fn roles_change_only_when_different_and_an_admin_keeps_their_own_admin_role() {
        let mut admin = registered("admin");
        admin.roles = vec![Role::Admin];
        let admin_id = admin.user_id;
        let account = given(vec![AccountEvent::Registered(admin)]);
        let unchanged = change_roles(&account, vec![Role::Admin, Role::Admin], String::new(), String::new(), admin_id);
        assert_eq!(unchanged, Ok(Vec::new()));
        assert_eq!(
            change_roles(&account, vec![Role::Executor], String::new(), String::new(), admin_id),
            Err(AccountError::OwnAdminRole)
        );
        let by_another =
            change_roles(&account, vec![Role::Signatory], "rectorate".into(), "vice-rector".into(), Uuid::now_v7())
                .expect("another admin may");
        assert_eq!(
            by_another,
            [
                AccountEvent::RolesChanged { roles: vec![Role::Signatory] },
                AccountEvent::PostChanged { department: "rectorate".into(), position: "vice-rector".into() }
            ]
        );
        assert_eq!(
            change_roles(&account, vec![], String::new(), String::new(), Uuid::now_v7()),
            Err(AccountError::NoRole)
        );
    }

    #[test]
    fn a_profile_update_replaces_the_profile() {
        let account = given(vec![AccountEvent::Registered(registered("aruzhan"))]);
        let profile = Profile {
            email: "new@example.kz".into(),
            phone: "+77011234567".into(),
            language: Some(Language::Kk),
            notification_preferences: vec![NotificationPreference {
                kind: "application.submitted".into(),
                channel: Channel::Email,
                enabled: false,
            }],
        };
        let events = update_profile(&account, profile.clone()).expect("update");
        let updated = given([vec![AccountEvent::Registered(registered("aruzhan"))], events].concat());
        assert_eq!(updated.details.as_ref().map(|d| &d.profile), Some(&profile));
        assert_eq!(update_profile(&updated, profile), Ok(Vec::new()), "nothing new, no event");
    }
}
