//! The caller's own account: who they are, their profile and password, and the personal card.

use onewindow_auth::Role;
use onewindow_eventlog::{Commit, StreamAppend, StreamRef, load, load_all};
use onewindow_proto::identity::v1::{self as pb};
use onewindow_server::{FieldErrors, store_status};
use tonic::{Request, Response, Status};

use super::*;
use crate::{
    account::{self, Profile},
    card::{self, CARD, Card, parse_card},
    contact::{Email, Language, NotificationPreference, Phone, check_notification_kind},
    convert::{account_pb, card_form, card_pb, channel_from_pb},
    password::{hash_password, off_the_runtime},
    security::SecurityEvent,
};

impl IdentityApi {
    pub(super) async fn get_me(
        &self,
        request: Request<pb::GetMeRequest>,
    ) -> Result<Response<pb::GetMeResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let (_, account) = self.account_of_user(&principal.org, principal.user_id).await?;
        let card = self.card_of(&principal.org, principal.user_id).await?;
        Ok(Response::new(pb::GetMeResponse {
            account: account_pb(&principal.org, &account.state),
            card: card_pb(principal.user_id, &card.state),
        }))
    }

    pub(super) async fn update_profile(
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

    pub(super) async fn change_password(
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

    pub(super) async fn get_card(
        &self,
        request: Request<pb::GetCardRequest>,
    ) -> Result<Response<pb::GetCardResponse>, Status> {
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

    pub(super) async fn update_card(
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
}
