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

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use onewindow_auth::{Authenticator, Principal, Role, TokenIssuer};
use onewindow_commands::{Attempt, Command, CommandError, Decision, RetryPolicy, retry, run_command};
use onewindow_eventlog::{
    Commit, EventMetadata, EventStore, Loaded, NewEvent, OrgId, StoreError, StreamAppend, StreamRef, encode, load,
    load_all,
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
        self, ACCOUNT, AccessCode, Account, AccountDetails, AccountError, Imported, Profile, Registered, USER,
        UserEvent, UserLogin, normalise_login,
    },
    card::{self, CARD, Card, CardEvent, parse_card},
    contact::{Email, Language, NotificationPreference, Phone, check_notification_kind},
    import::{self, Checked, Existing},
    keys::KeyRing,
    password::{
        self, broken_rules, generate_access_code, generate_refresh_token, hash_access_code, hash_password,
        off_the_runtime, token_digest, verify, verify_access_code, verify_no_code, verify_no_password,
    },
    proto::{account_pb, card_form, card_pb, channel_from_pb, role_from_pb},
    rate_limit::UnknownLogins,
    refresh::{self, Family, FamilyEvent, Origin, REFRESH_FAMILY, REFRESH_TOKEN, Refresh, TokenEvent, TokenFamily},
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

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    async fn sign_in(&self, request: Request<pb::SignInRequest>) -> Result<Response<pb::SignInResponse>, Status> {
        let network = self.network(&request);
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = parse_org(&request.organization_id, &mut errors);
        errors.check(!request.login.trim().is_empty(), "login", "is required");
        errors.check(!request.password.is_empty(), "password", "is required");
        errors.into_result()?;
        let Some(org) = org else { return Err(Status::invalid_argument("organization_id")) };
        self.limiter.check(&network)?;
        let now = self.clock.now();

        let Ok(login) = normalise_login(&request.login) else {
            // No account can have this login, so there is nothing to lock; the answer and its time are the same.
            let password = request.password;
            off_the_runtime(move || verify_no_password(&password)).await.map_err(hashing_failed)?;
            return Err(sign_in_refused());
        };
        let loaded = self.account_by_login(&org, &login).await?;
        let Some(details) = loaded.state.details.clone() else {
            return Err(self.refuse_unknown(&org, &login, request.password, now, &network).await);
        };
        let account = loaded.state;
        if let Some(until) = self.locked_until(&org, details.user_id, now).await? {
            tracing::info!(user_id = %details.user_id, %network, "sign-in refused: locked");
            return Err(locked(until, now));
        }
        if !self.check_password(&org, &account, request.password, now, &network).await? {
            return Err(sign_in_refused());
        }

        let family_id = Uuid::now_v7();
        let refresh_token = generate_refresh_token();
        let digest = token_digest(&refresh_token);
        let origin = Origin { family_id, user_id: details.user_id, login: details.login.clone(), started_at: now };
        let family_events = refresh::start(origin, digest.clone(), now);
        let metadata = self.metadata(details.user_id.to_string(), now);
        let appends = self.token_appends(&org, family_id, 0, &family_events, &digest, &metadata)?;
        // A failure that locked the account since it was read wins: the sign-in is decided again on the latest.
        self.append_security(&org, details.user_id, &metadata, appends, |guard| match guard.locked_until(now) {
            Some(until) => Err(locked(until, now)),
            None => Ok(vec![SecurityEvent::SignedIn { at: now, family_id, network: network.clone() }]),
        })
        .await?;
        let (access_token, expires_at) = self.issue_access(&org, &details, now)?;
        tracing::info!(user_id = %details.user_id, %family_id, "signed in");
        Ok(Response::new(pb::SignInResponse {
            access_token,
            expires_at: Some(onewindow_proto::timestamp(expires_at)),
            account: account_pb(&org, &account),
            refresh_token,
            refresh_token_expires_at: Some(onewindow_proto::timestamp(now + refresh::refresh_ttl())),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let network = self.network(&request);
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = parse_org(&request.organization_id, &mut errors);
        errors.check(!request.refresh_token.trim().is_empty(), "refresh_token", "is required");
        errors.check(request.refresh_token.len() <= MAX_REFRESH_TOKEN_CHARS, "refresh_token", "is not a refresh token");
        errors.into_result()?;
        let Some(org) = org else { return Err(Status::invalid_argument("organization_id")) };
        let now = self.clock.now();
        let presented = token_digest(request.refresh_token.trim());

        // A lost race with a refresh of the same token is decided again, and then is a reuse. The attempt's
        // refusals are statuses already (R = Status): they come back as they are.
        let (this, org, presented, network) = (self, &org, &presented, &network);
        let refreshed = retry(self.store.as_ref(), RetryPolicy::DEFAULT, move |_| async move {
            let refused = CommandError::Refused;
            let (family_stream, family) = this.family_of(org, presented).await.map_err(refused)?;
            let Some(origin) = family.state.origin.clone() else {
                return Err(refused(refresh_refused(refresh::Refused::Unknown)));
            };
            let account = this.account_by_login(org, &origin.login).await.map_err(refused)?;
            let Some(details) = account.state.details.clone().filter(|d| d.user_id == origin.user_id) else {
                return Err(refused(refresh_refused(refresh::Refused::Revoked)));
            };
            let next = generate_refresh_token();
            let next_digest = token_digest(&next);
            let decision =
                refresh::refresh(&family.state, presented, &next_digest, now, account.state.sessions_valid_from);
            let metadata = this.metadata(details.user_id.to_string(), now);
            match decision {
                Err(reason) => {
                    tracing::info!(user_id = %details.user_id, family_id = %origin.family_id, %reason, "refresh refused");
                    Err(refused(refresh_refused(reason)))
                }
                Ok(Refresh::Reused(events)) => {
                    let revoke = StreamAppend {
                        stream: family_stream,
                        expected_version: family.version,
                        events: encoded(&events, &metadata).map_err(refused)?,
                    };
                    let reused = SecurityEvent::RefreshTokenReused {
                        at: now,
                        family_id: origin.family_id,
                        network: network.clone(),
                    };
                    this.append_security(org, details.user_id, &metadata, vec![revoke], |_| Ok(vec![reused.clone()]))
                        .await
                        .map_err(refused)?;
                    tracing::warn!(
                        user_id = %details.user_id,
                        family_id = %origin.family_id,
                        %network,
                        "a retired refresh token was presented again: the sign-in it belongs to is revoked"
                    );
                    Err(refused(Status::unauthenticated(
                        "this refresh token was already used, so the sign-in it belongs to has ended: sign in again",
                    )))
                }
                Ok(Refresh::Rotate(events)) => {
                    let appends = this
                        .token_appends(org, origin.family_id, family.version, &events, &next_digest, &metadata)
                        .map_err(refused)?;
                    Ok(Attempt::Commit(Commit { appends, inbox: None }, (details, origin.family_id, next, account)))
                }
            }
        })
        .await?;
        let (details, family_id, next, account) = refreshed.answer;
        let (access_token, expires_at) = self.issue_access(org, &details, now)?;
        tracing::info!(user_id = %details.user_id, %family_id, "refreshed");
        Ok(Response::new(pb::RefreshTokenResponse {
            access_token,
            expires_at: Some(onewindow_proto::timestamp(expires_at)),
            refresh_token: next,
            refresh_token_expires_at: Some(onewindow_proto::timestamp(now + refresh::refresh_ttl())),
            account: account_pb(org, &account.state),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    async fn sign_out(&self, request: Request<pb::SignOutRequest>) -> Result<Response<pb::SignOutResponse>, Status> {
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = parse_org(&request.organization_id, &mut errors);
        errors.check(!request.refresh_token.trim().is_empty(), "refresh_token", "is required");
        errors.check(request.refresh_token.len() <= MAX_REFRESH_TOKEN_CHARS, "refresh_token", "is not a refresh token");
        errors.into_result()?;
        let Some(org) = org else { return Err(Status::invalid_argument("organization_id")) };
        let now = self.clock.now();
        let (stream, family) = self.family_of(&org, &token_digest(request.refresh_token.trim())).await?;
        let events = refresh::sign_out(&family.state, now).map_err(refresh_refused)?;
        let Some(origin) = family.state.origin.filter(|_| !events.is_empty()) else {
            return Ok(Response::new(pb::SignOutResponse {}));
        };
        let metadata = self.metadata(origin.user_id.to_string(), now);
        let revoke = StreamAppend { stream, expected_version: family.version, events: encoded(&events, &metadata)? };
        let signed_out = SecurityEvent::SignedOut { at: now, family_id: origin.family_id };
        self.append_security(&org, origin.user_id, &metadata, vec![revoke], |_| Ok(vec![signed_out.clone()])).await?;
        tracing::info!(user_id = %origin.user_id, family_id = %origin.family_id, "signed out");
        Ok(Response::new(pb::SignOutResponse {}))
    }

    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    async fn activate_account(
        &self,
        request: Request<pb::ActivateAccountRequest>,
    ) -> Result<Response<pb::ActivateAccountResponse>, Status> {
        let network = self.network(&request);
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = parse_org(&request.organization_id, &mut errors);
        let login = normalise_login(&request.login);
        errors.check(login.is_ok(), "login", "must be your login (3 to 64 characters of a-z, 0-9, '.', '_', '-')");
        errors.check(!request.one_time_code.trim().is_empty(), "one_time_code", "is required");
        check_new_password(&mut errors, "new_password", &request.new_password, &request.login);
        errors.into_result()?;
        let (Some(org), Ok(login)) = (org, login) else { return Err(Status::invalid_argument("organization_id")) };
        self.limiter.check(&network)?;
        let now = self.clock.now();

        let loaded = self.account_by_login(&org, &login).await?;
        let code = request.one_time_code;
        let pending = loaded.state.access_code.clone().filter(|_| loaded.state.details.is_some());
        let verified = match pending {
            Some(pending) => {
                off_the_runtime(move || verify_access_code(&code, &pending.code_hash)).await.map_err(hashing_failed)?
            }
            None => {
                off_the_runtime(move || verify_no_code(&code)).await.map_err(hashing_failed)?;
                false
            }
        };
        let Some(details) = loaded.state.details.clone().filter(|_| verified) else {
            tracing::info!(%network, "activation refused: no such login or a wrong code");
            return Err(AccountError::CodeRefused.into());
        };
        let new_password = request.new_password;
        let password_hash = off_the_runtime(move || hash_password(&new_password))
            .await
            .map_err(hashing_failed)?
            .map_err(hashing_failed)?;
        let was_active = loaded.state.is_active();
        let events = account::activate(&loaded.state, password_hash, now)?;
        let metadata = self.metadata(details.user_id.to_string(), now);
        let activation = StreamAppend {
            stream: StreamRef::new(&org, ACCOUNT, login),
            expected_version: loaded.version,
            events: encoded(&events, &metadata)?,
        };
        let security = if was_active {
            SecurityEvent::PasswordChanged { at: now, with_access_code: true }
        } else {
            SecurityEvent::AccountActivated { at: now }
        };
        self.append_security(&org, details.user_id, &metadata, vec![activation], |_| Ok(vec![security.clone()]))
            .await?;
        tracing::info!(user_id = %details.user_id, first_access = !was_active, "password set with a one-time code");
        Ok(Response::new(pb::ActivateAccountResponse {}))
    }

    async fn get_me(&self, request: Request<pb::GetMeRequest>) -> Result<Response<pb::GetMeResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let (_, account) = self.account_of_user(&principal.org, principal.user_id).await?;
        let card = self.card_of(&principal.org, principal.user_id).await?;
        Ok(Response::new(pb::GetMeResponse {
            account: account_pb(&principal.org, &account.state),
            card: card_pb(principal.user_id, &card.state),
        }))
    }

    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::UpdateProfileResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let phone = Phone::parse_optional(&request.phone).map_err(|m| errors.add("phone", m)).unwrap_or_default();
        let email = Email::parse_optional(&request.email).map_err(|m| errors.add("email", m)).unwrap_or_default();
        let language = if request.language.trim().is_empty() {
            None
        } else {
            Language::parse(&request.language).map_err(|m| errors.add("language", m)).ok()
        };
        let mut preferences: Vec<NotificationPreference> = Vec::new();
        for (i, preference) in request.notification_preferences.iter().enumerate() {
            let field = |name: &str| format!("notification_preferences[{i}].{name}");
            let kind = preference.kind.trim();
            if let Err(message) = check_notification_kind(kind) {
                errors.add(&field("kind"), message);
            }
            let Some(channel) = channel_from_pb(preference.channel) else {
                errors.add(&field("channel"), "must be NOTIFICATION_CHANNEL_IN_SYSTEM or NOTIFICATION_CHANNEL_EMAIL");
                continue;
            };
            if preferences.iter().any(|p| p.kind == kind && p.channel == channel) {
                errors.add(&field("kind"), "this kind and channel are already listed");
            }
            preferences.push(NotificationPreference { kind: kind.to_owned(), channel, enabled: preference.enabled });
        }
        errors.check(preferences.len() <= 200, "notification_preferences", "must list at most 200 preferences");
        errors.into_result()?;

        let (stream, account) = self.account_of_user(&principal.org, principal.user_id).await?;
        let profile = Profile { email, phone, language, notification_preferences: preferences };
        let events = account::update_profile(&account.state, profile)?;
        let now = self.clock.now();
        let metadata = self.metadata(principal.actor(), now);
        self.store
            .commit(Commit::append(stream.clone(), account.version, encoded(&events, &metadata)?))
            .await
            .map_err(store_status)?;
        let updated = self.account_by_login(&principal.org, &stream.stream_id).await?;
        Ok(Response::new(pb::UpdateProfileResponse { account: account_pb(&principal.org, &updated.state) }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let network = self.network(&request);
        let request = request.into_inner();
        let (stream, account) = self.account_of_user(&principal.org, principal.user_id).await?;
        let login = stream.stream_id.clone();
        let mut errors = FieldErrors::new();
        errors.check(!request.old_password.is_empty(), "old_password", "is required");
        check_new_password(&mut errors, "new_password", &request.new_password, &login);
        errors.check(
            request.old_password.is_empty() || request.new_password != request.old_password,
            "new_password",
            "must differ from the current password",
        );
        errors.into_result()?;
        self.limiter.check(&network)?;
        let now = self.clock.now();
        // A stolen access token must not become a way around the lockout: a wrong old password counts as a
        // failed sign-in.
        if let Some(until) = self.locked_until(&principal.org, principal.user_id, now).await? {
            return Err(locked(until, now));
        }
        if !self.check_password(&principal.org, &account.state, request.old_password, now, &network).await? {
            return Err(FieldErrors::one("old_password", "is not your current password"));
        }
        let new_password = request.new_password;
        let password_hash = off_the_runtime(move || hash_password(&new_password))
            .await
            .map_err(hashing_failed)?
            .map_err(hashing_failed)?;
        let events = account::change_password(&account.state, password_hash, now)?;
        let metadata = self.metadata(principal.actor(), now);
        let change = StreamAppend { stream, expected_version: account.version, events: encoded(&events, &metadata)? };
        let changed = SecurityEvent::PasswordChanged { at: now, with_access_code: false };
        self.append_security(&principal.org, principal.user_id, &metadata, vec![change], |_| Ok(vec![changed.clone()]))
            .await?;
        tracing::info!(user_id = %principal.user_id, "password changed; earlier sign-ins ended");
        Ok(Response::new(pb::ChangePasswordResponse {}))
    }

    async fn get_card(&self, request: Request<pb::GetCardRequest>) -> Result<Response<pb::GetCardResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let user_id = if request.user_id.trim().is_empty() {
            principal.user_id
        } else {
            parse_user_id(&request.user_id, "user_id")?
        };
        if user_id != principal.user_id && !principal.has(Role::Admin) && !principal.has(Role::Executor) {
            return Err(Status::permission_denied("only admins and executors read other people's cards"));
        }
        let card = self.card_of(&principal.org, user_id).await?;
        let card =
            card_pb(user_id, &card.state).ok_or_else(|| Status::not_found("this account has no personal card"))?;
        Ok(Response::new(pb::GetCardResponse { card: Some(card) }))
    }

    async fn update_card(
        &self,
        request: Request<pb::UpdateCardRequest>,
    ) -> Result<Response<pb::UpdateCardResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let Some(input) = request.into_inner().card else { return Err(FieldErrors::one("card", "is required")) };
        let user_id = parse_user_id(&input.user_id, "card.user_id")?;
        let now = self.clock.now();
        let parsed = parse_card(&card_form(&input), now.date_naive()).map_err(|problems| {
            let mut errors = FieldErrors::new();
            for (field, message) in problems {
                errors.add(&format!("card.{}", field.proto_path()), message);
            }
            errors.into_result().err().unwrap_or_else(|| Status::invalid_argument("card"))
        })?;
        self.account_of_user(&principal.org, user_id).await?;
        let cards = load_all::<Card>(self.store.as_ref(), &principal.org, CARD).await.map_err(store_status)?;
        let user = user_id.to_string();
        let (mut version, mut existing) = (0, Card::default());
        for (id, loaded) in cards {
            if id == user {
                (version, existing) = (loaded.version, loaded.state);
            } else if loaded.state.card.is_some_and(|other| other.iin == parsed.iin) {
                return Err(FieldErrors::one("card.iin", "is already on another account's card"));
            }
        }
        let events = card::record(&existing, parsed, now);
        let metadata = self.metadata(principal.actor(), now);
        let stream = StreamRef::new(&principal.org, CARD, user);
        self.store
            .commit(Commit::append(stream.clone(), version, encoded(&events, &metadata)?))
            .await
            .map_err(store_status)?;
        tracing::info!(%user_id, "personal card recorded");
        let card = load::<Card>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        Ok(Response::new(pb::UpdateCardResponse { card: card_pb(user_id, &card.state) }))
    }

    async fn import_accounts(
        &self,
        request: Request<pb::ImportAccountsRequest>,
    ) -> Result<Response<pb::ImportAccountsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let org = principal.org.clone();
        let csv = request.into_inner().csv;
        let now = self.clock.now();
        let existing = Existing {
            logins: self.store.list_streams(&org, ACCOUNT).await.map_err(store_status)?.into_iter().collect(),
            iins: load_all::<Card>(self.store.as_ref(), &org, CARD)
                .await
                .map_err(store_status)?
                .into_iter()
                .filter_map(|(_, loaded)| loaded.state.card.map(|card| card.iin))
                .collect(),
        };
        let rows = match import::check(&csv, &existing, now.date_naive()) {
            Err(refused) => return Err(FieldErrors::one("csv", refused.to_string())),
            Ok(Checked::Invalid(problems)) => {
                tracing::info!(problems = problems.len(), "import refused: the file has problems");
                let problems = problems
                    .into_iter()
                    .map(|p| pb::ImportProblem { row: p.row as i32, column: p.column, message: p.message })
                    .collect();
                return Ok(Response::new(pb::ImportAccountsResponse { accounts: Vec::new(), problems }));
            }
            Ok(Checked::Valid(rows)) => rows,
        };

        // Everything was checked above; now every row's events go into one commit, so the import happens whole
        // or not at all (a login taken meanwhile fails the commit, and nothing is written).
        let codes: Vec<String> = rows.iter().map(|_| generate_access_code()).collect();
        let to_hash = codes.clone();
        let hashes =
            off_the_runtime(move || to_hash.iter().map(|c| hash_access_code(c)).collect::<Result<Vec<_>, _>>())
                .await
                .map_err(hashing_failed)?
                .map_err(hashing_failed)?;
        let metadata = self.metadata(principal.actor(), now);
        let expires_at = now + access_code_ttl();
        let mut appends = Vec::new();
        let mut accounts = Vec::new();
        for ((row, code), code_hash) in rows.into_iter().zip(codes).zip(hashes) {
            let user_id = Uuid::now_v7();
            let imported = Imported {
                user_id,
                login: row.login.clone(),
                full_name: row.card.full_name(),
                roles: row.roles,
                department: row.department,
                position: row.position,
                email: row.card.email.clone(),
                phone: row.card.phone.clone(),
                access_code: AccessCode { code_hash, issued_at: now, expires_at },
                imported_at: now,
            };
            let events = account::import(&Account::default(), imported)?;
            appends.push(StreamAppend {
                stream: StreamRef::new(&org, ACCOUNT, row.login.clone()),
                expected_version: 0,
                events: encoded(&events, &metadata)?,
            });
            appends.push(user_append(&org, user_id, &row.login, &metadata).map_err(|e| store_status(e.into()))?);
            appends.push(StreamAppend {
                stream: StreamRef::new(&org, CARD, user_id.to_string()),
                expected_version: 0,
                events: encoded(&[CardEvent::Recorded { card: row.card, at: now }], &metadata)?,
            });
            accounts.push(pb::ImportedAccount {
                row: row.row as i32,
                login: row.login,
                user_id: user_id.to_string(),
                one_time_code: code,
                one_time_code_expires_at: Some(onewindow_proto::timestamp(expires_at)),
            });
        }
        match self.store.commit(Commit { appends, inbox: None }).await {
            Ok(_) => {}
            Err(StoreError::Concurrency { .. }) => {
                return Err(Status::aborted(
                    "an account was created meanwhile with a login of this file: import again",
                ));
            }
            Err(error) => return Err(store_status(error)),
        }
        tracing::info!(accounts = accounts.len(), "accounts imported");
        Ok(Response::new(pb::ImportAccountsResponse { accounts, problems: Vec::new() }))
    }

    async fn update_account(
        &self,
        request: Request<pb::UpdateAccountRequest>,
    ) -> Result<Response<pb::UpdateAccountResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let user_id = Uuid::parse_str(request.user_id.trim()).ok();
        errors.check(user_id.is_some(), "user_id", "must be a user id (a UUID)");
        let roles: Vec<Option<Role>> = request.roles.iter().map(|r| role_from_pb(*r)).collect();
        errors.check(!roles.is_empty(), "roles", "at least one role is needed");
        errors.check(roles.iter().all(Option::is_some), "roles", "must be known roles, not ROLE_UNSPECIFIED");
        for (field, value) in [("department", &request.department), ("position", &request.position)] {
            errors.check(value.chars().count() <= MAX_POST_CHARS, field, "must be at most 200 characters");
        }
        errors.into_result()?;
        let Some(user_id) = user_id else { return Err(Status::invalid_argument("user_id")) };
        let roles: Vec<Role> = roles.into_iter().flatten().collect();

        let (stream, account) = self.account_of_user(&principal.org, user_id).await?;
        let previous = account.state.details.as_ref().map(|d| d.roles.clone()).unwrap_or_default();
        let events = account::change_roles(
            &account.state,
            roles,
            request.department.trim().to_owned(),
            request.position.trim().to_owned(),
            principal.user_id,
        )?;
        let now = self.clock.now();
        let metadata = self.metadata(principal.actor(), now);
        let new_roles = events.iter().find_map(|e| match e {
            account::AccountEvent::RolesChanged { roles } => Some(roles.clone()),
            _ => None,
        });
        let change = StreamAppend {
            stream: stream.clone(),
            expected_version: account.version,
            events: encoded(&events, &metadata)?,
        };
        match new_roles {
            Some(roles) => {
                let changed = SecurityEvent::RolesChanged { at: now, previous, roles, changed_by: principal.user_id };
                self.append_security(&principal.org, user_id, &metadata, vec![change], |_| Ok(vec![changed.clone()]))
                    .await?;
                tracing::info!(%user_id, changed_by = %principal.user_id, "roles changed");
            }
            None => {
                self.store.commit(Commit { appends: vec![change], inbox: None }).await.map_err(store_status)?;
            }
        }
        let updated = self.account_by_login(&principal.org, &stream.stream_id).await?;
        Ok(Response::new(pb::UpdateAccountResponse { account: account_pb(&principal.org, &updated.state) }))
    }

    async fn issue_access_code(
        &self,
        request: Request<pb::IssueAccessCodeRequest>,
    ) -> Result<Response<pb::IssueAccessCodeResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let user_id = parse_user_id(&request.into_inner().user_id, "user_id")?;
        let (stream, account) = self.account_of_user(&principal.org, user_id).await?;
        let now = self.clock.now();
        let code = generate_access_code();
        let to_hash = code.clone();
        let code_hash = off_the_runtime(move || hash_access_code(&to_hash))
            .await
            .map_err(hashing_failed)?
            .map_err(hashing_failed)?;
        let expires_at = now + access_code_ttl();
        let events = account::issue_access_code(&account.state, AccessCode { code_hash, issued_at: now, expires_at })?;
        let metadata = self.metadata(principal.actor(), now);
        self.store
            .commit(Commit::append(stream, account.version, encoded(&events, &metadata)?))
            .await
            .map_err(store_status)?;
        tracing::info!(%user_id, issued_by = %principal.user_id, "one-time access code issued");
        Ok(Response::new(pb::IssueAccessCodeResponse {
            one_time_code: code,
            expires_at: Some(onewindow_proto::timestamp(expires_at)),
        }))
    }

    async fn list_post_holders(
        &self,
        request: Request<pb::ListPostHoldersRequest>,
    ) -> Result<Response<pb::ListPostHoldersResponse>, Status> {
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = OrgId::parse(request.organization_id.trim());
        errors.check(org.is_ok(), "organization_id", "must be an organisation id");
        errors.check(!request.department.trim().is_empty(), "department", "is required");
        errors.check(!request.position.trim().is_empty(), "position", "is required");
        errors.into_result()?;
        let Ok(org) = org else { return Err(FieldErrors::one("organization_id", "must be an organisation id")) };
        let accounts = load_all::<Account>(self.store.as_ref(), &org, ACCOUNT).await.map_err(store_status)?;
        let holders = post_holders(
            accounts.iter().filter_map(|(_, loaded)| loaded.state.details.as_ref()),
            &request.department,
            &request.position,
        )
        .map(|d| pb::PostHolder {
            user_id: d.user_id.to_string(),
            full_name: d.full_name.clone(),
            department: d.department.clone(),
            position: d.position.clone(),
        })
        .collect();
        Ok(Response::new(pb::ListPostHoldersResponse { holders }))
    }

    async fn list_signing_keys(
        &self,
        _: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let keys = self
            .keys
            .pairs
            .iter()
            .map(|pair| pb::SigningKey {
                key_id: pair.key_id.clone(),
                algorithm: "EdDSA".into(),
                public_key_pem: pair.public_pem.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListSigningKeysResponse { keys }))
    }
}
