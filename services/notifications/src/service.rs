//! The notifications gRPC API: the caller's own inbox.

use std::{collections::HashSet, pin::Pin, sync::Arc, time::Duration};

use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_eventlog::{Commit, EventStore, StoreError, encode, load};
use onewindow_proto::notifications::v1::{
    self as pb, ListNotificationsRequest, ListNotificationsResponse, MarkReadRequest, MarkReadResponse,
    WatchNotificationsRequest, WatchNotificationsResponse, notifications_service_server::NotificationsService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    consumers::inbox_stream,
    domain::{Inbox, InboxError, Notification, ReadSelection, mark_read},
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
        // A notification may land while the user reads: retry on the new version, deciding again.
        loop {
            let inbox = load::<Inbox>(self.store.as_ref(), &stream).await.map_err(store_status)?;
            let events = mark_read(&inbox.state, selection.clone())?;
            let metadata = request_metadata(principal.actor(), None);
            let events = events.iter().map(|e| encode(e, 1, &metadata)).collect::<Result<Vec<_>, _>>();
            let events = events.map_err(|e| store_status(e.into()))?;
            match self.store.commit(Commit::append(stream.clone(), inbox.version, events)).await {
                Ok(_) => {
                    let inbox = load::<Inbox>(self.store.as_ref(), &stream).await.map_err(store_status)?;
                    return Ok(Response::new(MarkReadResponse { unread_count: count(inbox.state.unread()) }));
                }
                Err(StoreError::Concurrency { .. }) => continue,
                Err(other) => return Err(store_status(other)),
            }
        }
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
        NotifyIssued, NotifySubmitted,
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
        NotifySubmitted::new(api.store.clone()).handle(&submitted(&kaznu, me, "en")).await.expect("submitted");
        NotifyIssued::new(api.store.clone()).handle(&issued(&kaznu, me, "en")).await.expect("issued");
        NotifySubmitted::new(api.store.clone()).handle(&submitted(&kaznu, someone_else, "en")).await.expect("other");

        let mine = api.inbox(&principal("kaznu", me)).await.expect("list");
        let kinds: Vec<_> = mine.notifications.iter().map(|n| n.kind.as_str()).collect();
        assert_eq!(kinds, ["document.issued", "application.submitted"]);
        assert_eq!(mine.unread_count, 2);
        assert!(mine.notifications.iter().all(|n| n.created_at.is_some() && !n.event_id.is_empty()));
        assert_eq!(mine.notifications[1].application_id, "app-1");

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
        NotifySubmitted::new(api.store.clone()).handle(&submitted(&kaznu, me.user_id, "en")).await.expect("submitted");

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
}
