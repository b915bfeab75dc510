//! The integrations gRPC API: an integrator account's webhooks and the log of their deliveries.

use std::sync::Arc;

use onewindow_auth::{Authenticator, Principal};
use onewindow_eventlog::{Commit, EventStore, StreamRef, encode, load};
use onewindow_proto::notifications::v1::{
    self as pb, ListWebhookDeliveriesRequest, ListWebhookDeliveriesResponse, ListWebhooksRequest, ListWebhooksResponse,
    RegisterWebhookRequest, RegisterWebhookResponse, integrations_service_server::IntegrationsService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
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

#[tonic::async_trait]
impl IntegrationsService for IntegrationsApi {
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
        let encoded = events.iter().map(|e| encode(e, 1, &metadata)).collect::<Result<Vec<_>, _>>();
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
