//! The identity gRPC API: sign-in, the caller's account, the public keys.

use std::sync::Arc;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use chrono::{Duration, Utc};
use onewindow_auth::{Authenticator, Principal, Role, TokenIssuer};
use onewindow_eventlog::{Commit, EventStore, OrgId, StoreError, StreamAppend, StreamRef, encode, load};
use onewindow_proto::identity::v1::{
    self as pb, GetMeRequest, GetMeResponse, ListSigningKeysRequest, ListSigningKeysResponse, SignInRequest,
    SignInResponse, identity_service_server::IdentityService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{ACCOUNT, Account, AccountError, Registered, USER, UserEvent, UserLogin, normalise_login, register},
    keys::KeyRing,
};

pub struct IdentityApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) issuer: Arc<TokenIssuer>,
    pub(crate) auth: Arc<Authenticator>,
}

/// What is needed to create an account (seeding, and later the admin API and CSV import).
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

/// Registers an account; the password is stored only as an argon2id hash.
pub async fn register_account(store: &dyn EventStore, new: NewAccount) -> Result<Uuid, RegisterError> {
    let login = normalise_login(&new.login)?;
    let stream = StreamRef::new(&new.org, ACCOUNT, login.clone());
    let existing = load::<Account>(store, &stream).await?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let password_hash = Argon2::default()
        .hash_password(new.password.as_bytes(), &salt)
        .map_err(|e| RegisterError::Hashing(e.to_string()))?
        .to_string();
    let user_id = Uuid::now_v7();
    let events = register(
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
        events.iter().map(|e| encode(e, 1, &metadata)).collect::<Result<Vec<_>, _>>().map_err(StoreError::from)?;
    let login = UserEvent::LoginAssigned { login: stream.stream_id.clone() };
    let user = StreamRef::new(&new.org, USER, user_id.to_string());
    let mut commit = Commit::append(stream, existing.version, events);
    // The account by user id, written in the same transaction: how a token's subject finds its account.
    commit.appends.push(StreamAppend {
        stream: user,
        expected_version: 0,
        events: vec![encode(&login, 1, &metadata).map_err(StoreError::from)?],
    });
    store.commit(commit).await?;
    Ok(user_id)
}

fn account_pb(org: &OrgId, r: &Registered) -> pb::Account {
    pb::Account {
        id: r.user_id.to_string(),
        organization_id: org.to_string(),
        login: r.login.clone(),
        full_name: r.full_name.clone(),
        roles: r.roles.iter().map(|role| role_pb(*role) as i32).collect(),
        department: r.department.clone(),
        position: r.position.clone(),
        email: r.email.clone(),
    }
}

fn role_pb(role: Role) -> pb::Role {
    match role {
        Role::Applicant => pb::Role::Applicant,
        Role::Approver => pb::Role::Approver,
        Role::Executor => pb::Role::Executor,
        Role::Admin => pb::Role::Admin,
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    async fn sign_in(&self, request: Request<SignInRequest>) -> Result<Response<SignInResponse>, Status> {
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = OrgId::parse(&request.organization_id);
        errors.check(org.is_ok(), "organization_id", "must be an organisation id such as \"kaznu\"");
        errors.check(!request.login.trim().is_empty(), "login", "is required");
        errors.check(!request.password.is_empty(), "password", "is required");
        errors.into_result()?;
        let org = org.map_err(|e| FieldErrors::one("organization_id", e.to_string()))?;

        // One answer for an unknown login and a wrong password: sign-in must not reveal which logins exist.
        let refused = || Status::unauthenticated("the login or the password is wrong");
        let login = normalise_login(&request.login).map_err(|_| refused())?;
        let account =
            load::<Account>(self.store.as_ref(), &StreamRef::new(&org, ACCOUNT, login)).await.map_err(store_status)?;
        let Some(registered) = account.state.registered else { return Err(refused()) };
        let stored_hash = registered.password_hash.clone();
        let password = request.password;
        // argon2 is deliberately slow: keep it off the async workers.
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored_hash)
                .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .map_err(|_| Status::internal("password check failed"))?
        .map_err(|_| Status::internal("stored password hash unreadable"))?;
        if !verified {
            tracing::info!(user_id = %registered.user_id, "sign-in refused");
            return Err(refused());
        }
        let principal = Principal {
            user_id: registered.user_id,
            org: org.clone(),
            roles: registered.roles.clone(),
            full_name: registered.full_name.clone(),
            department: registered.department.clone(),
            position: registered.position.clone(),
        };
        let (access_token, expires_at) =
            self.issuer.issue(&principal, Utc::now()).map_err(|e| Status::internal(e.to_string()))?;
        tracing::info!(user_id = %registered.user_id, "signed in");
        Ok(Response::new(SignInResponse {
            access_token,
            expires_at: Some(onewindow_proto::timestamp(expires_at)),
            account: Some(account_pb(&org, &registered)),
        }))
    }

    async fn get_me(&self, request: Request<GetMeRequest>) -> Result<Response<GetMeResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let user = StreamRef::new(&principal.org, USER, principal.user_id.to_string());
        let login = load::<UserLogin>(self.store.as_ref(), &user).await.map_err(store_status)?.state.login;
        if let Some(login) = login {
            let account = load::<Account>(self.store.as_ref(), &StreamRef::new(&principal.org, ACCOUNT, login))
                .await
                .map_err(store_status)?;
            if let Some(r) = account.state.registered {
                return Ok(Response::new(GetMeResponse { account: Some(account_pb(&principal.org, &r)) }));
            }
        }
        Err(Status::not_found("the account no longer exists"))
    }

    async fn list_signing_keys(
        &self,
        _: Request<ListSigningKeysRequest>,
    ) -> Result<Response<ListSigningKeysResponse>, Status> {
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
        Ok(Response::new(ListSigningKeysResponse { keys }))
    }
}

pub(crate) fn token_ttl() -> Duration {
    Duration::minutes(15)
}
