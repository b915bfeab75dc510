//! The identity gRPC API, and account registration for seeding.
//!
//! Who may call what: `SignIn`, `RefreshToken`, `SignOut`, `ActivateAccount` and `ListSigningKeys` need no access
//! token (the password, refresh token or one-time code is the credential); nor does `ListPostHolders`, which routing
//! calls with no user's token and which answers only names, posts and ids of approvers and signatories; `GetMe`, `UpdateProfile` and
//! `ChangePassword` act on the caller's own account; `GetCard` reads the caller's own card, or any card of the
//! caller's organisation for admins and executors; `UpdateCard`, `ImportAccounts`, `UpdateAccount` and
//! `IssueAccessCode` are for admins, within their organisation (every stream read is the caller's organisation's,
//! so another organisation's accounts are out of reach by construction).
//!
//! No secret reaches a log line or an error message: passwords, one-time codes, tokens and card data are never
//! formatted, and refusals name the field and the rule, not the value.

mod accounts;
mod profile;
mod session;

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use onewindow_auth::{Authenticator, Principal, Role, TokenIssuer};
use onewindow_commands::{Command, Decision, run_command};
use onewindow_eventlog::{
    Commit, EventMetadata, EventStore, Loaded, NewEvent, OrgId, StoreError, StreamAppend, StreamRef, encode, load,
};
use onewindow_proto::identity::v1::{self as pb, identity_service_server::IdentityService};
use onewindow_server::{FieldErrors, NetworkLimiter, caller_address, network_of, request_metadata, store_status};
use serde::Serialize;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

use crate::{
    Clock,
    account::{
        self, ACCOUNT, Account, AccountDetails, AccountError, Registered, USER, UserEvent, UserLogin, normalise_login,
    },
    card::{CARD, Card},
    keys::KeyRing,
    password::{self, broken_rules, hash_password, off_the_runtime, verify, verify_no_password},
    rate_limit::UnknownLogins,
    refresh::{self, Family, FamilyEvent, REFRESH_FAMILY, REFRESH_TOKEN, TokenEvent, TokenFamily},
    security::{SECURITY, SecurityEvent, SignInGuard, sign_in_failed},
};

/// The accounts that hold `position` in `department` and may decide on a sheet (approvers and signatories).
pub(crate) fn post_holders<'a>(
    accounts: impl Iterator<Item = &'a AccountDetails>,
    department: &'a str,
    position: &'a str,
) -> impl Iterator<Item = &'a AccountDetails> {
    let (department, position) = (department.trim(), position.trim().to_lowercase());
    accounts.filter(move |d| {
        d.department == department
            && d.position.trim().to_lowercase() == position
            && d.roles.iter().any(|r| matches!(r, Role::Approver | Role::Signatory))
    })
}

/// How long a one-time access code works.
pub fn access_code_ttl() -> chrono::Duration {
    chrono::Duration::hours(72)
}

pub(crate) fn token_ttl() -> chrono::Duration {
    chrono::Duration::minutes(15)
}

/// A refresh token is 43 characters; anything much longer is not one and is not worth hashing.
const MAX_REFRESH_TOKEN_CHARS: usize = 128;
const MAX_POST_CHARS: usize = 200;

pub struct IdentityApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) issuer: Arc<TokenIssuer>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limiter: Arc<NetworkLimiter>,
    pub(crate) unknown_logins: Arc<UnknownLogins>,
    /// Behind a gateway, the caller is the first address of `x-forwarded-for`.
    pub(crate) trust_forwarded_for: bool,
}

/// What is needed to create an account with a password (the operator's seeding path).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub org: OrgId,
    pub login: String,
    pub password: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub department: String,
    pub position: String,
    pub email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Rejected(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Registers an account with a password, stored only as an argon2id hash. The password rules are for people
/// choosing one; the operator seeding accounts chooses generated ones.
pub async fn register_account(store: &dyn EventStore, new: NewAccount) -> Result<Uuid, RegisterError> {
    let login = normalise_login(&new.login)?;
    let stream = StreamRef::new(&new.org, ACCOUNT, login.clone());
    let existing = load::<Account>(store, &stream).await?;
    let password_hash = hash_password(&new.password).map_err(|e| RegisterError::Hashing(e.to_string()))?;
    let user_id = Uuid::now_v7();
    let events = account::register(
        &existing.state,
        Registered {
            user_id,
            login,
            full_name: new.full_name,
            roles: new.roles,
            department: new.department,
            position: new.position,
            email: new.email,
            password_hash,
            registered_at: Utc::now(),
        },
    )?;
    let metadata = request_metadata("service:identity".into(), None);
    let events =
        events.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>().map_err(StoreError::from)?;
    let mut commit = Commit::append(stream.clone(), existing.version, events);
    // The account by user id, written in the same transaction: how a token's subject finds its account.
    commit.appends.push(user_append(&new.org, user_id, &stream.stream_id, &metadata).map_err(StoreError::from)?);
    store.commit(commit).await?;
    Ok(user_id)
}

fn user_append(
    org: &OrgId,
    user_id: Uuid,
    login: &str,
    metadata: &EventMetadata,
) -> Result<StreamAppend, onewindow_eventlog::EventCodecError> {
    Ok(StreamAppend {
        stream: StreamRef::new(org, USER, user_id.to_string()),
        expected_version: 0,
        events: vec![encode(&UserEvent::LoginAssigned { login: login.to_owned() }, metadata)?],
    })
}

impl From<AccountError> for Status {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::LoginTaken(_) => Status::already_exists(error.to_string()),
            AccountError::InvalidLogin => FieldErrors::one("login", error.to_string()),
            AccountError::NoRole => FieldErrors::one("roles", error.to_string()),
            AccountError::NotFound => Status::not_found("no such account in your organisation"),
            AccountError::CodeRefused => Status::unauthenticated(error.to_string()),
            AccountError::CodeExpired | AccountError::OwnAdminRole => Status::failed_precondition(error.to_string()),
        }
    }
}

fn encoded<E: Serialize + onewindow_eventlog::EventSchema>(
    events: &[E],
    metadata: &EventMetadata,
) -> Result<Vec<NewEvent>, Status> {
    events
        .iter()
        .map(|event| encode(event, metadata))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| store_status(StoreError::from(e)))
}

/// One answer for an unknown login and a wrong password: sign-in must not reveal which logins exist.
fn sign_in_refused() -> Status {
    Status::unauthenticated("the login or the password is wrong")
}

/// The answer while an account (or a login that does not exist) is locked, with when to try again.
fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> Status {
    let message =
        format!("too many failed sign-ins: try again after {}", until.to_rfc3339_opts(SecondsFormat::Secs, true));
    let wait = (until - now).to_std().unwrap_or_default();
    Status::with_error_details(Code::ResourceExhausted, message, ErrorDetails::with_retry_info(Some(wait)))
}

fn refresh_refused(reason: refresh::Refused) -> Status {
    Status::unauthenticated(format!("{reason}: sign in again"))
}

fn hashing_failed(error: password::HashError) -> Status {
    tracing::error!(%error, "hashing a secret failed");
    Status::internal("a secret could not be processed")
}

fn parse_org(value: &str, errors: &mut FieldErrors) -> Option<OrgId> {
    let org = OrgId::parse(value).ok();
    errors.check(org.is_some(), "organization_id", "must be an organisation id such as \"kaznu\"");
    org
}

fn parse_user_id(value: &str, field: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(value.trim()).map_err(|_| FieldErrors::one(field, "must be a user id (a UUID)"))
}

fn check_new_password(errors: &mut FieldErrors, field: &str, new_password: &str, login: &str) {
    for rule in broken_rules(new_password, login) {
        errors.add(field, rule.description());
    }
}

impl IdentityApi {
    /// The caller's source network, for the rate limit and the security events.
    fn network<T>(&self, request: &Request<T>) -> String {
        network_of(caller_address(request, self.trust_forwarded_for))
    }

    fn metadata(&self, actor: String, now: DateTime<Utc>) -> EventMetadata {
        let mut metadata = request_metadata(actor, None);
        metadata.occurred_at = now;
        metadata
    }

    async fn account_by_login(&self, org: &OrgId, login: &str) -> Result<Loaded<Account>, Status> {
        load::<Account>(self.store.as_ref(), &StreamRef::new(org, ACCOUNT, login)).await.map_err(store_status)
    }

    /// The account of a user id in `org`, or NOT_FOUND.
    async fn account_of_user(&self, org: &OrgId, user_id: Uuid) -> Result<(StreamRef, Loaded<Account>), Status> {
        let user = StreamRef::new(org, USER, user_id.to_string());
        let login = load::<UserLogin>(self.store.as_ref(), &user).await.map_err(store_status)?.state.login;
        let Some(login) = login else { return Err(AccountError::NotFound.into()) };
        let stream = StreamRef::new(org, ACCOUNT, login);
        let account = load::<Account>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        if account.state.details.as_ref().is_some_and(|d| d.user_id == user_id) {
            Ok((stream, account))
        } else {
            Err(AccountError::NotFound.into())
        }
    }

    async fn card_of(&self, org: &OrgId, user_id: Uuid) -> Result<Loaded<Card>, Status> {
        load::<Card>(self.store.as_ref(), &StreamRef::new(org, CARD, user_id.to_string())).await.map_err(store_status)
    }

    /// Appends security events decided on the account's latest security stream, together with `others` in one
    /// commit; a concurrent append to the same security stream (another sign-in) makes it decide again.
    async fn append_security(
        &self,
        org: &OrgId,
        user_id: Uuid,
        metadata: &EventMetadata,
        others: Vec<StreamAppend>,
        decide: impl Fn(&SignInGuard) -> Result<Vec<SecurityEvent>, Status> + Send + Sync,
    ) -> Result<Vec<SecurityEvent>, Status> {
        let command = Command::new(StreamRef::new(org, SECURITY, user_id.to_string()), metadata.clone());
        let ran = run_command(self.store.as_ref(), &command, |guard: &Loaded<SignInGuard>| {
            Ok::<_, Status>(Decision::new(decide(&guard.state)?).with_appends(others.clone()))
        })
        .await?;
        Ok(ran.events)
    }

    fn issue_access(
        &self,
        org: &OrgId,
        details: &AccountDetails,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), Status> {
        let principal = Principal {
            user_id: details.user_id,
            org: org.clone(),
            roles: details.roles.clone(),
            full_name: details.full_name.clone(),
            department: details.department.clone(),
            position: details.position.clone(),
        };
        self.issuer.issue(&principal, now).map_err(|error| {
            tracing::error!(%error, "an access token could not be signed");
            Status::internal("an access token could not be signed")
        })
    }

    /// A wrong password for a login that has no account: the same time spent, the same answer, the same lockout.
    async fn refuse_unknown(
        &self,
        org: &OrgId,
        login: &str,
        password: String,
        now: DateTime<Utc>,
        network: &str,
    ) -> Status {
        if let Some(until) = self.unknown_logins.locked_until(org, login, now) {
            return locked(until, now);
        }
        if let Err(error) = off_the_runtime(move || verify_no_password(&password)).await {
            return hashing_failed(error);
        }
        self.unknown_logins.failed(org, login, now, network);
        sign_in_refused()
    }

    /// Checks the password of an account that exists and is not locked; a failure is recorded (and may lock it).
    async fn check_password(
        &self,
        org: &OrgId,
        account: &Account,
        password: String,
        now: DateTime<Utc>,
        network: &str,
    ) -> Result<bool, Status> {
        let Some(details) = &account.details else { return Ok(false) };
        let verified = match account.password_hash.clone() {
            Some(hash) => off_the_runtime(move || verify(&password, &hash)).await.map_err(hashing_failed)?,
            None => {
                off_the_runtime(move || verify_no_password(&password)).await.map_err(hashing_failed)?;
                false
            }
        };
        if !verified {
            let metadata = self.metadata(details.user_id.to_string(), now);
            let events = self
                .append_security(org, details.user_id, &metadata, Vec::new(), |guard| {
                    Ok(sign_in_failed(guard, now, network))
                })
                .await?;
            if events.iter().any(|e| matches!(e, SecurityEvent::LockedOut { .. })) {
                tracing::warn!(user_id = %details.user_id, %network, "account locked after repeated failed sign-ins");
            } else {
                tracing::info!(user_id = %details.user_id, %network, "sign-in refused: wrong password");
            }
        }
        Ok(verified)
    }

    async fn locked_until(
        &self,
        org: &OrgId,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Status> {
        let stream = StreamRef::new(org, SECURITY, user_id.to_string());
        let guard = load::<SignInGuard>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        Ok(guard.state.locked_until(now))
    }

    /// The family of a presented refresh token (by its digest), or UNAUTHENTICATED.
    async fn family_of(&self, org: &OrgId, digest: &str) -> Result<(StreamRef, Loaded<Family>), Status> {
        let index = StreamRef::new(org, REFRESH_TOKEN, digest);
        let token = load::<TokenFamily>(self.store.as_ref(), &index).await.map_err(store_status)?;
        let Some(family_id) = token.state.family_id else { return Err(refresh_refused(refresh::Refused::Unknown)) };
        let stream = StreamRef::new(org, REFRESH_FAMILY, family_id.to_string());
        let family = load::<Family>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        Ok((stream, family))
    }

    /// The appends that issue a new refresh token of `family_id`: its family events and its digest's index.
    fn token_appends(
        &self,
        org: &OrgId,
        family_id: Uuid,
        family_version: i64,
        family_events: &[FamilyEvent],
        digest: &str,
        metadata: &EventMetadata,
    ) -> Result<Vec<StreamAppend>, Status> {
        Ok(vec![
            StreamAppend {
                stream: StreamRef::new(org, REFRESH_FAMILY, family_id.to_string()),
                expected_version: family_version,
                events: encoded(family_events, metadata)?,
            },
            StreamAppend {
                stream: StreamRef::new(org, REFRESH_TOKEN, digest),
                expected_version: 0,
                events: encoded(&[TokenEvent::Issued { family_id }], metadata)?,
            },
        ])
    }
}

/// The handlers live by concern in `session.rs`, `profile.rs` and `accounts.rs`, as inherent methods of the same
/// names; the trait only routes to them.
#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn sign_in(&self, request: Request<pb::SignInRequest>) -> Result<Response<pb::SignInResponse>, Status> {
        IdentityApi::sign_in(self, request).await
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        IdentityApi::refresh_token(self, request).await
    }

    async fn sign_out(&self, request: Request<pb::SignOutRequest>) -> Result<Response<pb::SignOutResponse>, Status> {
        IdentityApi::sign_out(self, request).await
    }

    async fn activate_account(
        &self,
        request: Request<pb::ActivateAccountRequest>,
    ) -> Result<Response<pb::ActivateAccountResponse>, Status> {
        IdentityApi::activate_account(self, request).await
    }

    async fn get_me(&self, request: Request<pb::GetMeRequest>) -> Result<Response<pb::GetMeResponse>, Status> {
        IdentityApi::get_me(self, request).await
    }

    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::UpdateProfileResponse>, Status> {
        IdentityApi::update_profile(self, request).await
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        IdentityApi::change_password(self, request).await
    }

    async fn get_card(&self, request: Request<pb::GetCardRequest>) -> Result<Response<pb::GetCardResponse>, Status> {
        IdentityApi::get_card(self, request).await
    }

    async fn update_card(
        &self,
        request: Request<pb::UpdateCardRequest>,
    ) -> Result<Response<pb::UpdateCardResponse>, Status> {
        IdentityApi::update_card(self, request).await
    }

    async fn import_accounts(
        &self,
        request: Request<pb::ImportAccountsRequest>,
    ) -> Result<Response<pb::ImportAccountsResponse>, Status> {
        IdentityApi::import_accounts(self, request).await
    }

    async fn update_account(
        &self,
        request: Request<pb::UpdateAccountRequest>,
    ) -> Result<Response<pb::UpdateAccountResponse>, Status> {
        IdentityApi::update_account(self, request).await
    }

    async fn issue_access_code(
        &self,
        request: Request<pb::IssueAccessCodeRequest>,
    ) -> Result<Response<pb::IssueAccessCodeResponse>, Status> {
        IdentityApi::issue_access_code(self, request).await
    }

    async fn list_post_holders(
        &self,
        request: Request<pb::ListPostHoldersRequest>,
    ) -> Result<Response<pb::ListPostHoldersResponse>, Status> {
        IdentityApi::list_post_holders(self, request).await
    }

    async fn list_signing_keys(
        &self,
        request: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        IdentityApi::list_signing_keys(self, request).await
    }
}
