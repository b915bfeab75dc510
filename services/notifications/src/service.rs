//! The notifications gRPC API: the caller's own inbox.

use std::sync::Arc;

use onewindow_auth::{Authenticator, Principal};
use onewindow_eventlog::{EventStore, load};
use onewindow_proto::notifications::v1::{
    self as pb, ListNotificationsRequest, ListNotificationsResponse, notifications_service_server::NotificationsService,
};
use onewindow_server::store_status;
use tonic::{Request, Response, Status};

use crate::{
    consumers::inbox_stream,
    domain::{Inbox, Notification},
};

pub struct NotificationsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
}

/// Notifications refuse nothing on business grounds yet; the type keeps the one mapping to `Status` in one place.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {}

impl From<NotificationError> for Status {
    fn from(error: NotificationError) -> Self {
        match error {}
    }
}

fn notification_pb(n: &Notification) -> pb::Notification {
    pb::Notification {
        id: n.recorded.notification_id.to_string(),
        application_id: n.recorded.application_id.clone(),
        kind: n.recorded.kind.clone(),
        title: n.recorded.title.clone(),
        body: n.recorded.body.clone(),
        created_at: Some(onewindow_proto::timestamp(n.created_at)),
        event_id: n.recorded.source_event_id.to_string(),
    }
}

impl NotificationsApi {
    /// `reader`'s own notifications, newest first: the inbox is addressed by the caller, never by the request.
    pub(crate) async fn inbox(&self, reader: &Principal) -> Result<ListNotificationsResponse, Status> {
        let inbox = load::<Inbox>(self.store.as_ref(), &inbox_stream(&reader.org, reader.user_id))
            .await
            .map_err(store_status)?;
        let notifications: Vec<_> = inbox.state.notifications.iter().rev().map(notification_pb).collect();
        Ok(ListNotificationsResponse {
            // Reading state (marking as read) comes in a later issue: until then every notification counts as unread.
            unread_count: i32::try_from(notifications.len()).unwrap_or(i32::MAX),
            notifications,
        })
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

    #[tokio::test]
    async fn listing_needs_a_token() {
        let api = api().await;
        let refused = api.list_notifications(Request::new(ListNotificationsRequest {})).await;
        assert_eq!(refused.expect_err("no token").code(), tonic::Code::Unauthenticated);
    }
}
