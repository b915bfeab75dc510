//! Signing in and out: passwords, lockouts, refresh-token rotation, first access with a one-time code.

use onewindow_commands::{Attempt, CommandError, RetryPolicy, retry};
use onewindow_eventlog::{Commit, StreamAppend, StreamRef};
use onewindow_proto::identity::v1 as pb;
use onewindow_server::FieldErrors;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::*;
use crate::{
    account::{self, ACCOUNT, AccountError, normalise_login},
    convert::account_pb,
    password::{
        generate_refresh_token, hash_password, off_the_runtime, token_digest, verify_access_code, verify_no_code,
        verify_no_password,
    },
    refresh::{self, Origin, Refresh},
    security::SecurityEvent,
};

impl IdentityApi {
    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    pub(super) async fn sign_in(
        &self,
        request: Request<pb::SignInRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
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
    pub(super) async fn refresh_token(
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
    pub(super) async fn sign_out(
        &self,
        request: Request<pb::SignOutRequest>,
    ) -> Result<Response<pb::SignOutResponse>, Status> {
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
    pub(super) async fn activate_account(
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
}
