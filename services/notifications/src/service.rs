//! The notifications gRPC API: the caller's own inbox and preferences, and the dead letters for administrators.

use std::{
    collections::{HashMap, HashSet},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_commands::{Command, run_command};
use onewindow_eventlog::{Commit, EventStore, Loaded, OrgId, RecordedEvent, StoreError, StreamRef, encode, load};
use onewindow_proto::notifications::v1::{
    self as pb, GetPreferencesRequest, GetPreferencesResponse, ListDeadLettersRequest, ListDeadLettersResponse,
    ListNotificationsRequest, ListNotificationsResponse, MarkReadRequest, MarkReadResponse, RetryDeadLetterRequest,
    RetryDeadLetterResponse, SetPreferencesRequest, SetPreferencesResponse, WatchNotificationsRequest,
    WatchNotificationsResponse, notifications_service_server::NotificationsService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    consumers::{inbox_stream, preferences_stream},
    domain::{Inbox, InboxError, Notification, ReadSelection, mark_read},
    mail::EMAIL,
    preferences::{self, Channel, Preferences, Setting},
    webhooks::WEBHOOK_DELIVERY,
};

pub struct NotificationsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
}

impl From<InboxError> for Status {
    fn from(error: InboxError) -> Self {
        match error {
            InboxError::Unknown(_) => FieldErrors::one("notification_ids", error.to_string()),
        }
    }
}

/// How often a watcher looks for notifications committed by another replica (local commits wake it at once).
const WATCH_POLL: Duration = Duration::from_secs(1);

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchNotificationsResponse, Status>> + Send>>;

fn notification_pb(n: &Notification) -> pb::Notification {
    pb::Notification {
        id: n.recorded.notification_id.to_string(),
        application_id: n.recorded.application_id.clone(),
        kind: n.recorded.kind.clone(),
        title: n.recorded.title.clone(),
        body: n.recorded.body.clone(),
        created_at: Some(onewindow_proto::timestamp(n.created_at)),
        event_id: n.recorded.source_event_id.to_string(),
        read: n.read,
    }
}

fn preference_pb(setting: &Setting) -> pb::Preference {
    let channel = match setting.channel {
        Channel::InSystem => pb::Channel::InSystem,
        Channel::Email => pb::Channel::Email,
    };
    pb::Preference { kind: setting.kind.clone(), channel: channel as i32, enabled: setting.enabled }
}

/// The settings a request names, or every invalid field.
fn settings_from(request: &SetPreferencesRequest) -> Result<Vec<Setting>, Status> {
    let mut errors = FieldErrors::new();
    let mut settings = Vec::new();
    for (i, preference) in request.preferences.iter().enumerate() {
        let channel = match pb::Channel::try_from(preference.channel) {
            Ok(pb::Channel::InSystem) => Some(Channel::InSystem),
            Ok(pb::Channel::Email) => Some(Channel::Email),
            _ => None,
        };
        let kind = preference.kind.trim();
        errors.check(channel.is_some(), &format!("preferences[{i}].channel"), "must be IN_SYSTEM or EMAIL");
        errors.check(
            crate::texts::KINDS.contains(&kind),
            &format!("preferences[{i}].kind"),
            "must be a notification kind (GetPreferences lists them)",
        );
        if let Some(channel) = channel {
            settings.push(Setting { kind: kind.to_owned(), channel, enabled: preference.enabled });
        }
    }
    errors.check(!request.preferences.is_empty(), "preferences", "name at least one preference");
    errors.into_result()?;
    Ok(settings)
}

/// The e-mails and webhook deliveries of `org` that were given up on, newest first.
pub(crate) async fn dead_letters(store: &dyn EventStore, org: &OrgId) -> Result<Vec<pb::DeadLetter>, StoreError> {
    let mut letters = Vec::new();
    for (stream_type, channel, destination_field) in [(EMAIL, "email", "to"), (WEBHOOK_DELIVERY, "webhook", "url")] {
        let events = store.read_stream_type(org, stream_type).await?;
        let destinations: HashMap<&str, &str> = events
            .iter()
            .filter(|e| e.event_type.ends_with(".queued"))
            .map(|e| {
                let to = e.payload.get(destination_field).and_then(|v| v.as_str()).unwrap_or_default();
                (e.stream.stream_id.as_str(), to)
            })
            .collect();
        // A dead letter is one whose stream ends with it: a retried one is no longer dead.
        let mut latest: HashMap<&str, &RecordedEvent> = HashMap::new();
        for event in &events {
            let newer = latest.get(event.stream.stream_id.as_str()).is_none_or(|l| l.version < event.version);
            if newer {
                latest.insert(event.stream.stream_id.as_str(), event);
            }
        }
        for event in latest.values().filter(|e| e.event_type.ends_with(".dead_lettered")) {
            let reason = event.payload.get("reason").and_then(|v| v.as_str()).unwrap_or_default();
            let attempts = event.payload.get("attempts").and_then(|v| v.as_i64()).unwrap_or_default();
            letters.push((
                event.metadata.occurred_at,
                pb::DeadLetter {
                    channel: channel.to_owned(),
                    id: event.stream.stream_id.clone(),
                    destination: destinations
                        .get(event.stream.stream_id.as_str())
                        .map(|d| (*d).to_owned())
                        .unwrap_or_default(),
                    reason: reason.to_owned(),
                    attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
                    failed_at: Some(onewindow_proto::timestamp(event.metadata.occurred_at)),
                },
            ));
        }
    }
    letters.sort_by_key(|(failed_at, _)| std::cmp::Reverse(*failed_at));
    Ok(letters.into_iter().map(|(_, letter)| letter).collect())
}

impl NotificationsApi {
    /// `reader`'s own notifications, newest first: the inbox is addressed by the caller, never by the request.
    pub(crate) async fn inbox(&self, reader: &Principal) -> Result<ListNotificationsResponse, Status> {
        let inbox = load::<Inbox>(self.store.as_ref(), &inbox_stream(&reader.org, reader.user_id))
            .await
            .map_err(store_status)?;
        let notifications: Vec<_> = inbox.state.notifications.iter().rev().map(notification_pb).collect();
        Ok(ListNotificationsResponse { unread_count: count(inbox.state.unread()), notifications })
    }
}

#[tonic::async_trait]
impl NotificationsService for NotificationsApi {
    #[tracing::instrument(skip_all)]
    async fn list_notifications(
        &self,
        request: Request<ListNotificationsRequest>,
    ) -> Result<Response<ListNotificationsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        Ok(Response::new(self.inbox(&principal).await?))
    }

    async fn mark_read(&self, request: Request<MarkReadRequest>) -> Result<Response<MarkReadResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let selection = if request.all {
            ReadSelection::All
        } else {
            let ids: Result<Vec<Uuid>, _> =
                request.notification_ids.iter().map(|id| Uuid::parse_str(id.trim())).collect();
            let ids = ids.map_err(|_| FieldErrors::one("notification_ids", "must be UUIDs"))?;
            if ids.is_empty() {
                return Err(FieldErrors::one("notification_ids", "name at least one notification, or set all"));
            }
            ReadSelection::These(ids)
        };
        let stream = inbox_stream(&principal.org, principal.user_id);
        // A notification may land while the user reads: the runner decides again on the new version.
        let command = Command::new(stream.clone(), request_metadata(principal.actor(), None));
        let ran = run_command(self.store.as_ref(), &command, |inbox: &Loaded<Inbox>| {
            mark_read(&inbox.state, selection.clone()).map_err(Status::from)
        })
        .await?;
        let inbox = if ran.wrote() {
            load::<Inbox>(self.store.as_ref(), &stream).await.map_err(store_status)?
        } else {
            ran.decided_on
        };
        Ok(Response::new(MarkReadResponse { unread_count: count(inbox.state.unread()) }))
    }

    type WatchNotificationsStream = WatchStream;

    async fn watch_notifications(
        &self,
        request: Request<WatchNotificationsRequest>,
    ) -> Result<Response<Self::WatchNotificationsStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let store = self.store.clone();
        let stream = inbox_stream(&principal.org, principal.user_id);
        let (sender, receiver) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            let mut appended = store.appended();
            // Start with what is unread now, then everything that arrives.
            let mut sent: HashSet<Uuid> = HashSet::new();
            let mut first = true;
            loop {
                let inbox = match load::<Inbox>(store.as_ref(), &stream).await {
                    Ok(inbox) => inbox.state,
                    Err(error) => {
                        let _ = sender.send(Err(store_status(error))).await;
                        return;
                    }
                };
                let unread = count(inbox.unread());
                for n in &inbox.notifications {
                    let new = sent.insert(n.recorded.notification_id);
                    if new && (!first || !n.read) {
                        let item =
                            WatchNotificationsResponse { notification: Some(notification_pb(n)), unread_count: unread };
                        if sender.send(Ok(item)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                first = false;
                tokio::select! {
                    _ = sender.closed() => return,
                    _ = appended.changed() => {}
                    _ = tokio::time::sleep(WATCH_POLL) => {}
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver)) as WatchStream))
    }

    async fn get_preferences(
        &self,
        request: Request<GetPreferencesRequest>,
    ) -> Result<Response<GetPreferencesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        Ok(Response::new(self.get_preferences_of(&principal).await?))
    }

    async fn set_preferences(
        &self,
        request: Request<SetPreferencesRequest>,
    ) -> Result<Response<SetPreferencesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        Ok(Response::new(self.set_preferences_of(&principal, request.get_ref()).await?))
    }

    async fn list_dead_letters(
        &self,
        request: Request<ListDeadLettersRequest>,
    ) -> Result<Response<ListDeadLettersResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let dead_letters = dead_letters(self.store.as_ref(), &principal.org).await.map_err(store_status)?;
        Ok(Response::new(ListDeadLettersResponse { dead_letters }))
    }

    async fn retry_dead_letter(
        &self,
        request: Request<RetryDeadLetterRequest>,
    ) -> Result<Response<RetryDeadLetterResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.get_ref();
        retry_dead_letter(self.store.as_ref(), &principal.org, principal.actor(), &request.channel, &request.id)
            .await?;
        tracing::info!(channel = %request.channel, id = %request.id, "dead letter retried");
        Ok(Response::new(RetryDeadLetterResponse {}))
    }
}

/// Puts a dead letter back in its sender's queue, as `actor`.
pub(crate) async fn retry_dead_letter(
    store: &dyn EventStore,
    org: &OrgId,
    actor: String,
    channel: &str,
    id: &str,
) -> Result<(), Status> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| FieldErrors::one("id", "must be a UUID"))?;
    let metadata = request_metadata(actor, None);
    let (stream, version, events) = match channel.trim() {
        "email" => {
            let stream = StreamRef::new(org, EMAIL, id.to_string());
            let email = load::<crate::mail::Email>(store, &stream).await.map_err(store_status)?;
            if !email.exists() {
                return Err(Status::not_found(format!("no e-mail {id}")));
            }
            let events = crate::mail::retry(&email.state).map_err(|e| Status::failed_precondition(e.to_string()))?;
            let encoded = events.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>();
            (stream, email.version, encoded.map_err(|e| store_status(e.into()))?)
        }
        "webhook" => {
            let stream = StreamRef::new(org, WEBHOOK_DELIVERY, id.to_string());
            let delivery = load::<crate::webhooks::Delivery>(store, &stream).await.map_err(store_status)?;
            if !delivery.exists() {
                return Err(Status::not_found(format!("no webhook delivery {id}")));
            }
            let events =
                crate::webhooks::retry(&delivery.state).map_err(|e| Status::failed_precondition(e.to_string()))?;
            let encoded = events.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>();
            (stream, delivery.version, encoded.map_err(|e| store_status(e.into()))?)
        }
        _ => return Err(FieldErrors::one("channel", "must be \"email\" or \"webhook\"")),
    };
    // A concurrent retry of the same letter loses with ABORTED: the letter is queued once.
    store.commit(Commit::append(stream, version, events)).await.map_err(store_status)?;
    Ok(())
}

impl NotificationsApi {
    async fn preferences_of(&self, user: &Principal) -> Result<(Preferences, i64), Status> {
        let loaded = load::<Preferences>(self.store.as_ref(), &preferences_stream(&user.org, user.user_id))
            .await
            .map_err(store_status)?;
        Ok((loaded.state, loaded.version))
    }

    pub(crate) async fn get_preferences_of(&self, user: &Principal) -> Result<GetPreferencesResponse, Status> {
        let (preferences, _) = self.preferences_of(user).await?;
        Ok(GetPreferencesResponse { preferences: preferences.all().iter().map(preference_pb).collect() })
    }

    pub(crate) async fn set_preferences_of(
        &self,
        user: &Principal,
        request: &SetPreferencesRequest,
    ) -> Result<SetPreferencesResponse, Status> {
        let settings = settings_from(request)?;
        let command = Command::new(preferences_stream(&user.org, user.user_id), request_metadata(user.actor(), None));
        run_command(self.store.as_ref(), &command, |current: &Loaded<Preferences>| {
            preferences::change(&current.state, settings.clone())
                .map_err(|e| FieldErrors::one("preferences", e.to_string()))
        })
        .await?;
        let (preferences, _) = self.preferences_of(user).await?;
        Ok(SetPreferencesResponse { preferences: preferences.all().iter().map(preference_pb).collect() })
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use onewindow_auth::{Role, SigningKeyPair, StaticKeySource};
    use onewindow_bus::EventHandler;
    use onewindow_eventlog::OrgId;
    use uuid::Uuid;

    use super::*;
    use crate::consumers::{
        NotifyFromApplications, NotifyIssued,
        tests::{issued, submitted},
    };

    fn principal(org: &str, user_id: Uuid) -> Principal {
        Principal {
            user_id,
            org: OrgId::parse(org).expect("org"),
            roles: vec![Role::Applicant],
            full_name: "Aruzhan Serikova".into(),
            department: String::new(),
            position: String::new(),
        }
    }

    async fn api() -> NotificationsApi {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let pair = SigningKeyPair::generate("test-key").expect("key");
        NotificationsApi { store, auth: Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()]))) }
    }

    #[tokio::test]
    async fn the_caller_sees_their_own_inbox_newest_first() {
        let api = api().await;
        let kaznu = OrgId::parse("kaznu").expect("org");
        let (me, someone_else) = (Uuid::now_v7(), Uuid::now_v7());
        NotifyFromApplications::new(api.store.clone()).handle(&submitted(&kaznu, me, "en")).await.expect("submitted");
        NotifyIssued::new(api.store.clone()).handle(&issued(&kaznu, me, "en")).await.expect("issued");
        NotifyFromApplications::new(api.store.clone())
            .handle(&submitted(&kaznu, someone_else, "en"))
            .await
            .expect("other");

        let mine = api.inbox(&principal("kaznu", me)).await.expect("list");
        let kinds: Vec<_> = mine.notifications.iter().map(|n| n.kind.as_str()).collect();
        assert_eq!(kinds, ["document.issued", "application.submitted"]);
        assert_eq!(mine.unread_count, 2);
        assert!(mine.notifications.iter().all(|n| n.created_at.is_some() && !n.event_id.is_empty()));
        assert_eq!(mine.notifications[1].application_id, crate::consumers::tests::APP_ID);

        let elsewhere = api.inbox(&principal("kaznmu", me)).await.expect("list");
        assert!(elsewhere.notifications.is_empty() && elsewhere.unread_count == 0);
    }

    fn signed(api_key: &SigningKeyPair, who: &Principal) -> String {
        let issuer = onewindow_auth::TokenIssuer::new(api_key, chrono::Duration::minutes(5)).expect("issuer");
        issuer.issue(who, chrono::Utc::now()).expect("token").0
    }

    fn request<T>(message: T, token: &str) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
        request
    }

    #[tokio::test]
    async fn reading_lowers_the_unread_count_and_the_watch_delivers_new_notifications() {
        use futures::StreamExt;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let pair = SigningKeyPair::generate("test-key").expect("key");
        let api = NotificationsApi { store, auth: Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()]))) };
        let kaznu = OrgId::parse("kaznu").expect("org");
        let me = principal("kaznu", Uuid::now_v7());
        let token = signed(&pair, &me);
        NotifyFromApplications::new(api.store.clone())
            .handle(&submitted(&kaznu, me.user_id, "en"))
            .await
            .expect("submitted");

        let mut watch =
            api.watch_notifications(request(WatchNotificationsRequest {}, &token)).await.expect("watch").into_inner();
        let first = watch.next().await.expect("the unread one").expect("ok");
        assert_eq!(first.notification.as_ref().map(|n| n.kind.as_str()), Some("application.submitted"));
        assert_eq!(first.unread_count, 1);

        NotifyIssued::new(api.store.clone()).handle(&issued(&kaznu, me.user_id, "en")).await.expect("issued");
        let live = tokio::time::timeout(Duration::from_secs(5), watch.next()).await.expect("pushed").expect("item");
        let live = live.expect("ok");
        assert_eq!(live.notification.as_ref().map(|n| n.kind.as_str()), Some("document.issued"));
        assert_eq!(live.unread_count, 2);

        let id = first.notification.expect("notification").id;
        let marked = api
            .mark_read(request(MarkReadRequest { notification_ids: vec![id.clone(), id], all: false }, &token))
            .await
            .expect("marked");
        assert_eq!(marked.into_inner().unread_count, 1);
        let unknown = api
            .mark_read(request(
                MarkReadRequest { notification_ids: vec![Uuid::now_v7().to_string()], all: false },
                &token,
            ))
            .await
            .expect_err("not in the inbox");
        assert!(unknown.message().contains("notification_ids"));
        let all = api.mark_read(request(MarkReadRequest { notification_ids: vec![], all: true }, &token)).await;
        assert_eq!(all.expect("all").into_inner().unread_count, 0);
        let listed = api.inbox(&me).await.expect("list");
        assert!(listed.notifications.iter().all(|n| n.read) && listed.unread_count == 0);
        // Marking again writes nothing.
        let version = api.store.stream_version(&inbox_stream(&kaznu, me.user_id)).await.expect("version");
        api.mark_read(request(MarkReadRequest { notification_ids: vec![], all: true }, &token)).await.expect("again");
        assert_eq!(api.store.stream_version(&inbox_stream(&kaznu, me.user_id)).await.expect("version"), version);
    }

    #[tokio::test]
    async fn listing_needs_a_token() {
        let api = api().await;
        let refused = api.list_notifications(Request::new(ListNotificationsRequest {})).await;
        assert_eq!(refused.expect_err("no token").code(), tonic::Code::Unauthenticated);
    }

    #[tokio::test]
    async fn preferences_are_read_and_set_per_kind_and_channel() {
        let api = api().await;
        let me = principal("kaznu", Uuid::now_v7());
        let all = api.get_preferences_of(&me).await.expect("get").preferences;
        assert_eq!(all.len(), crate::texts::KINDS.len() * 2);
        assert!(all.iter().all(|p| p.enabled));

        let off = |kind: &str, channel: pb::Channel| pb::Preference {
            kind: kind.into(),
            channel: channel as i32,
            enabled: false,
        };
        let request = SetPreferencesRequest { preferences: vec![off("sheet.row_decided", pb::Channel::Email)] };
        let set = api.set_preferences_of(&me, &request).await.expect("set").preferences;
        let disabled: Vec<_> = set.iter().filter(|p| !p.enabled).map(|p| (p.kind.as_str(), p.channel)).collect();
        assert_eq!(disabled, [("sheet.row_decided", pb::Channel::Email as i32)]);
        // Setting the same again records nothing; another user is untouched.
        let version = api.store.stream_version(&preferences_stream(&me.org, me.user_id)).await.expect("version");
        api.set_preferences_of(&me, &request).await.expect("again");
        assert_eq!(api.store.stream_version(&preferences_stream(&me.org, me.user_id)).await.expect("v"), version);
        let other = principal("kaznu", Uuid::now_v7());
        assert!(api.get_preferences_of(&other).await.expect("get").preferences.iter().all(|p| p.enabled));

        let bad = SetPreferencesRequest {
            preferences: vec![off("nonsense", pb::Channel::Email), off("document.issued", pb::Channel::Unspecified)],
        };
        let refused = api.set_preferences_of(&me, &bad).await.expect_err("invalid");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("preferences[0].kind"), "{}", refused.message());
        assert!(refused.message().contains("preferences[1].channel"), "{}", refused.message());
        let empty = api.set_preferences_of(&me, &SetPreferencesRequest::default()).await.expect_err("empty");
        assert!(empty.message().contains("preferences"), "{}", empty.message());
    }
}
