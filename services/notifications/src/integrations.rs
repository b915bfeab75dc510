//! The integrations gRPC API: an integrator account's webhooks and the log of their deliveries, and the replay
//! of the public events without NATS.

use std::{pin::Pin, sync::Arc, time::Duration};

use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_eventlog::{Commit, EventStore, OrgId, Position, StoreError, StreamRef, encode, load};
use onewindow_proto::notifications::v1::{
    self as pb, ListWebhookDeliveriesRequest, ListWebhookDeliveriesResponse, ListWebhooksRequest, ListWebhooksResponse,
    RegisterWebhookRequest, RegisterWebhookResponse, WatchPublicEventsRequest, WatchPublicEventsResponse,
    integrations_service_server::IntegrationsService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    public_log::PUBLIC_EVENT,
    webhook_sender::delivery_stream,
    webhooks::{Delivery, WEBHOOK, WEBHOOK_DELIVERY, Webhook, WebhookRegistered, new_secret, register},
};

pub struct IntegrationsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
}

fn webhook_pb(registered: &WebhookRegistered, webhook: &Webhook) -> pb::Webhook {
    pb::Webhook {
        id: registered.webhook_id.to_string(),
        url: registered.url.clone(),
        event_types: registered.event_types.clone(),
        created_at: webhook.created_at.map(onewindow_proto::timestamp),
    }
}

impl IntegrationsApi {
    /// The webhooks `owner` registered in their organisation.
    async fn webhooks_of(&self, owner: &Principal) -> Result<Vec<(WebhookRegistered, Webhook)>, Status> {
        let mut webhooks = Vec::new();
        for id in self.store.list_streams(&owner.org, WEBHOOK).await.map_err(store_status)? {
            let stream = StreamRef::new(&owner.org, WEBHOOK, id);
            let webhook = load::<Webhook>(self.store.as_ref(), &stream).await.map_err(store_status)?.state;
            if let Some(registered) = webhook.registered.clone().filter(|w| w.integrator_id == owner.user_id) {
                webhooks.push((registered, webhook));
            }
        }
        Ok(webhooks)
    }

    /// The deliveries to `owner`'s webhooks (of one of them when `webhook_id` is given), newest first.
    pub(crate) async fn deliveries_of(
        &self,
        owner: &Principal,
        webhook_id: Option<Uuid>,
    ) -> Result<Vec<pb::WebhookDelivery>, Status> {
        let mut deliveries = Vec::new();
        for id in self.store.list_streams(&owner.org, WEBHOOK_DELIVERY).await.map_err(store_status)? {
            let Ok(id) = Uuid::parse_str(&id) else { continue };
            let delivery = load::<Delivery>(self.store.as_ref(), &delivery_stream(&owner.org, id))
                .await
                .map_err(store_status)?
                .state;
            let Some(queued) = &delivery.queued else { continue };
            if queued.integrator_id != owner.user_id || webhook_id.is_some_and(|w| w != queued.webhook_id) {
                continue;
            }
            deliveries.push((
                delivery.queued_at,
                pb::WebhookDelivery {
                    id: queued.delivery_id.to_string(),
                    webhook_id: queued.webhook_id.to_string(),
                    event_id: queued.event_id.to_string(),
                    event_type: queued.event_type.clone(),
                    status: delivery.status.as_str().to_owned(),
                    attempts: i32::try_from(delivery.attempts).unwrap_or(i32::MAX),
                    last_error: delivery.last_error.clone(),
                    queued_at: delivery.queued_at.map(onewindow_proto::timestamp),
                },
            ));
        }
        deliveries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        Ok(deliveries.into_iter().map(|(_, d)| d).collect())
    }
}

type PublicEventStream = Pin<Box<dyn Stream<Item = Result<WatchPublicEventsResponse, Status>> + Send>>;

/// How often a watcher looks for events recorded by another replica (local commits wake it at once).
const WATCH_POLL: Duration = Duration::from_secs(1);
const WATCH_BATCH: usize = 500;

/// Sends `org`'s public events from `since` on, in the order they were recorded, then each new one, until the
/// receiver goes away. Reads the log from its start: replay is for the embedded mode's small logs (the
/// distributed mode replays from JetStream).
async fn follow_public_events(
    store: Arc<dyn EventStore>,
    org: OrgId,
    since: Option<chrono::DateTime<chrono::Utc>>,
    sender: mpsc::Sender<Result<WatchPublicEventsResponse, Status>>,
) {
    let mut appended = store.appended();
    let mut after = Position::START;
    loop {
        let batch = match store.read_all(after, WATCH_BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                let _ = sender.send(Err(store_status(error))).await;
                return;
            }
        };
        for event in &batch {
            let wanted = event.stream.stream_type == PUBLIC_EVENT && event.stream.org == org;
            let time = event.payload.get("time").and_then(|t| t.as_str()).and_then(|t| t.parse().ok());
            if !wanted || since.is_some_and(|since| time.is_none_or(|time: chrono::DateTime<chrono::Utc>| time < since))
            {
                continue;
            }
            let item = serde_json::to_string(&event.payload)
                .map(|cloud_event| WatchPublicEventsResponse { cloud_event })
                .map_err(|e| store_status(StoreError::Corrupt(e.to_string())));
            if sender.send(item).await.is_err() {
                return; // the client went away
            }
        }
        if let Some(last) = batch.last() {
            after = last.position;
            if batch.len() == WATCH_BATCH {
                continue;
            }
        }
        tokio::select! {
            _ = sender.closed() => return,
            _ = appended.changed() => {}
            _ = tokio::time::sleep(WATCH_POLL) => {}
        }
    }
}

#[tonic::async_trait]
impl IntegrationsService for IntegrationsApi {
    type WatchPublicEventsStream = PublicEventStream;

    async fn watch_public_events(
        &self,
        request: Request<WatchPublicEventsRequest>,
    ) -> Result<Response<Self::WatchPublicEventsStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let since = match request.get_ref().since {
            None => None,
            Some(at) => Some(
                chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
                    .ok_or_else(|| FieldErrors::one("since", "is not a valid time"))?,
            ),
        };
        let (sender, receiver) = mpsc::channel(64);
        tokio::spawn(follow_public_events(self.store.clone(), principal.org.clone(), since, sender));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver)) as PublicEventStream))
    }

    #[tracing::instrument(skip_all)]
    async fn register_webhook(
        &self,
        request: Request<RegisterWebhookRequest>,
    ) -> Result<Response<RegisterWebhookResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let webhook_id = Uuid::now_v7();
        let secret = new_secret();
        let events = register(webhook_id, principal.user_id, &request.url, &request.event_types, secret.clone())
            .map_err(|error| FieldErrors::one(error.field(), error.to_string()))?;
        let metadata = request_metadata(principal.actor(), None);
        let encoded = events.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>();
        let encoded = encoded.map_err(|e| store_status(e.into()))?;
        let stream = StreamRef::new(&principal.org, WEBHOOK, webhook_id.to_string());
        self.store.commit(Commit::append(stream.clone(), 0, encoded)).await.map_err(store_status)?;
        let webhook = load::<Webhook>(self.store.as_ref(), &stream).await.map_err(store_status)?.state;
        let registered = webhook.registered.clone().ok_or_else(|| Status::internal("the webhook was not recorded"))?;
        tracing::info!(%webhook_id, url = %registered.url, "webhook registered");
        Ok(Response::new(RegisterWebhookResponse { webhook: Some(webhook_pb(&registered, &webhook)), secret }))
    }

    async fn list_webhooks(
        &self,
        request: Request<ListWebhooksRequest>,
    ) -> Result<Response<ListWebhooksResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let webhooks = self.webhooks_of(&principal).await?.iter().map(|(r, w)| webhook_pb(r, w)).collect();
        Ok(Response::new(ListWebhooksResponse { webhooks }))
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<ListWebhookDeliveriesRequest>,
    ) -> Result<Response<ListWebhookDeliveriesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let webhook_id = match request.get_ref().webhook_id.trim() {
            "" => None,
            id => Some(Uuid::parse_str(id).map_err(|_| FieldErrors::one("webhook_id", "must be a UUID"))?),
        };
        let deliveries = self.deliveries_of(&principal, webhook_id).await?;
        Ok(Response::new(ListWebhookDeliveriesResponse { deliveries }))
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use onewindow_bus::EventHandler;
    use serde_json::Value;

    use onewindow_contracts::applications::ApplicationEvent;

    use super::*;

    fn app(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }
    use crate::{
        public::tests::{application_event, life},
        public_log::RecordPublicEvents,
        webhook_sender::tests::{authed, integrator},
    };

    async fn next_status(watch: &mut PublicEventStream) -> String {
        let item = tokio::time::timeout(Duration::from_secs(10), watch.next()).await.expect("an event").expect("item");
        let event: Value = serde_json::from_str(&item.expect("ok").cloud_event).expect("JSON");
        event["data"]["status"].as_str().expect("status").to_owned()
    }

    #[tokio::test]
    async fn public_events_replay_from_a_point_in_time_then_follow_live() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let integrator = integrator(store.clone()).await;
        let recorder = RecordPublicEvents::new(store.clone());
        let events = life(uuid::Uuid::from_u128(1));
        for event in &events {
            recorder.handle(event).await.expect("recorded");
        }
        recorder.handle(&events[0]).await.expect("a redelivery records nothing new");

        let watch = |since: Option<chrono::DateTime<chrono::Utc>>| {
            let request = WatchPublicEventsRequest { since: since.map(onewindow_proto::timestamp) };
            integrator.api.watch_public_events(authed(request, &integrator.token))
        };
        let mut from_start = watch(None).await.expect("watch").into_inner();
        for expected in ["submitted", "accepted", "in_work", "completed", "issued"] {
            assert_eq!(next_status(&mut from_start).await, expected);
        }
        let mut from_work = watch(Some(events[2].metadata.occurred_at)).await.expect("watch").into_inner();
        for expected in ["in_work", "completed", "issued"] {
            assert_eq!(next_status(&mut from_work).await, expected);
        }

        // Live: another organisation's event is not shown, ours is.
        let mut elsewhere = application_event(
            app(9),
            2,
            &ApplicationEvent::Completed { application_id: app(9), completed_by_name: String::new() },
        );
        elsewhere.stream.org = OrgId::parse("kaznmu").expect("org");
        recorder.handle(&elsewhere).await.expect("recorded");
        let refused = ApplicationEvent::Refused {
            application_id: app(2),
            reason: String::new(),
            refused_by_id: None,
            refused_by_name: String::new(),
        };
        let refused = application_event(app(2), 3, &refused);
        recorder.handle(&refused).await.expect("recorded");
        assert_eq!(next_status(&mut from_start).await, "refused");
        assert_eq!(next_status(&mut from_work).await, "refused");
    }
}
