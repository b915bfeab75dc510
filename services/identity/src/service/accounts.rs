//! Administrators' work on accounts (import, roles and posts, access codes) and the public reads routing and documents use (post holders, signing keys).

use onewindow_auth::Role;
use onewindow_eventlog::{Commit, OrgId, StoreError, StreamAppend, StreamRef, load_all};
use onewindow_proto::identity::v1::{self as pb};
use onewindow_server::{FieldErrors, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::*;
use crate::{
    account::{self, ACCOUNT, AccessCode, Account, Imported},
    card::{CARD, Card, CardEvent},
    convert::{account_pb, role_from_pb},
    import::{self, Checked, Existing},
    password::{generate_access_code, hash_access_code, off_the_runtime},
    security::SecurityEvent,
};

impl IdentityApi {
    pub(super) async fn import_accounts(
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

    pub(super) async fn update_account(
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

    pub(super) async fn issue_access_code(
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

    pub(super) async fn list_post_holders(
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

    pub(super) async fn list_signing_keys(
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
