//! Integrators' webhooks and the outbox of their deliveries, as events: pure decisions, folding and signing.
//!
//! A webhook (`webhook/<webhook_id>`) belongs to one integrator account and names the CloudEvents types it wants.
//! Each public event a webhook wants is one delivery (`webhook_delivery/<delivery_id>`, the id derived from the
//! webhook and the CloudEvent, so a redelivered event queues nothing new): queued with the exact body to POST,
//! then every failed attempt, then delivered or dead-lettered, once. Both stream types hold secrets or URLs of
//! other systems and are never published.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::{domain::derived_id, public};

pub const WEBHOOK: &str = "webhook";
pub const WEBHOOK_DELIVERY: &str = "webhook_delivery";
/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "Onewindow-Signature";
/// The header carrying the delivery's id: the same on every retry, so a receiver can drop a repeat.
pub const DELIVERY_HEADER: &str = "Onewindow-Delivery";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum WebhookEvent {
    #[serde(rename = "webhook.registered")]
    Registered(WebhookRegistered),
}

impl onewindow_eventlog::EventSchema for WebhookEvent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRegistered {
    pub webhook_id: Uuid,
    pub integrator_id: Uuid,
    pub url: String,
    /// CloudEvents types delivered; empty for all.
    pub event_types: Vec<String>,
    /// The HMAC key of the signature header.
    pub secret: String,
}

impl WebhookRegistered {
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhook {
    pub registered: Option<WebhookRegistered>,
    pub created_at: Option<DateTime<Utc>>,
}

impl Aggregate for Webhook {
    type Event = WebhookEvent;

    fn apply(&mut self, event: &WebhookEvent, recorded: &RecordedEvent) {
        let WebhookEvent::Registered(registered) = event;
        self.registered = Some(registered.clone());
        self.created_at = Some(recorded.metadata.occurred_at);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("must be an http:// or https:// URL with a host")]
    Url,
    #[error("unknown event type {0:?} (known: {known})", known = public::STATUS_CHANGED)]
    EventType(String),
}

impl WebhookError {
    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            WebhookError::Url => "url",
            WebhookError::EventType(_) => "event_types",
        }
    }
}

/// Decides registering a webhook: an absolute http(s) URL and known event types.
pub fn register(
    webhook_id: Uuid,
    integrator_id: Uuid,
    url: &str,
    event_types: &[String],
    secret: String,
) -> Result<Vec<WebhookEvent>, WebhookError> {
    let url = url.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or(WebhookError::Url)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') || url.chars().any(char::is_whitespace) {
        return Err(WebhookError::Url);
    }
    let mut types = Vec::new();
    for event_type in event_types.iter().map(|t| t.trim()) {
        if event_type != public::STATUS_CHANGED {
            return Err(WebhookError::EventType(event_type.to_owned()));
        }
        if !types.iter().any(|t| t == event_type) {
            types.push(event_type.to_owned());
        }
    }
    Ok(vec![WebhookEvent::Registered(WebhookRegistered {
        webhook_id,
        integrator_id,
        url: url.to_owned(),
        event_types: types,
        secret,
    })])
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DeliveryEvent {
    #[serde(rename = "webhook_delivery.queued")]
    Queued(DeliveryQueued),
    #[serde(rename = "webhook_delivery.attempt_failed")]
    AttemptFailed {
        attempt: u32,
        error: String,
        /// When the next attempt is due.
        #[serde(default)]
        retry_at: Option<DateTime<Utc>>,
    },
    #[serde(rename = "webhook_delivery.delivered")]
    Delivered { attempts: u32, status_code: u16 },
    #[serde(rename = "webhook_delivery.dead_lettered")]
    DeadLettered { attempts: u32, reason: String },
    /// An administrator asked for a dead-lettered delivery to be tried again: a fresh round of attempts.
    #[serde(rename = "webhook_delivery.retry_requested")]
    RetryRequested { delivery_id: Uuid },
}

impl onewindow_eventlog::EventSchema for DeliveryEvent {}

/// `webhook_delivery.queued`: everything the sender needs (the body is the exact bytes to POST).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryQueued {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub integrator_id: Uuid,
    pub url: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeliveryStatus {
    #[default]
    Pending,
    Delivered,
    DeadLettered,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::DeadLettered => "dead_lettered",
        }
    }
}

/// One delivery's history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub queued: Option<DeliveryQueued>,
    pub queued_at: Option<DateTime<Utc>>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: String,
    pub finished_at: Option<DateTime<Utc>>,
    /// When the next attempt is due after a failed one (none: at once).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Aggregate for Delivery {
    type Event = DeliveryEvent;

    fn apply(&mut self, event: &DeliveryEvent, recorded: &RecordedEvent) {
        match event {
            DeliveryEvent::Queued(queued) => {
                self.queued = Some(queued.clone());
                self.queued_at = Some(recorded.metadata.occurred_at);
            }
            DeliveryEvent::AttemptFailed { attempt, error, retry_at } => {
                self.attempts = *attempt;
                self.last_error = error.clone();
                self.next_attempt_at = *retry_at;
            }
            DeliveryEvent::Delivered { attempts, .. } => {
                self.attempts = *attempts;
                self.status = DeliveryStatus::Delivered;
                self.finished_at = Some(recorded.metadata.occurred_at);
            }
            DeliveryEvent::DeadLettered { attempts, reason } => {
                self.attempts = *attempts;
                self.last_error = reason.clone();
                self.status = DeliveryStatus::DeadLettered;
                self.finished_at = Some(recorded.metadata.occurred_at);
            }
            DeliveryEvent::RetryRequested { .. } => {
                self.attempts = 0;
                self.status = DeliveryStatus::Pending;
                self.finished_at = None;
                self.next_attempt_at = None;
            }
        }
    }
}

impl Delivery {
    /// The delivery still to make, if it is neither delivered nor given up on.
    pub fn pending(&self) -> Option<&DeliveryQueued> {
        self.queued.as_ref().filter(|_| self.status == DeliveryStatus::Pending)
    }
}

/// Decides trying a dead-lettered delivery again.
pub fn retry(delivery: &Delivery) -> Result<Vec<DeliveryEvent>, crate::mail::NotDeadLettered> {
    match (&delivery.queued, delivery.status) {
        (Some(queued), DeliveryStatus::DeadLettered) => {
            Ok(vec![DeliveryEvent::RetryRequested { delivery_id: queued.delivery_id }])
        }
        _ => Err(crate::mail::NotDeadLettered),
    }
}

/// One webhook's delivery of one public event.
pub fn delivery_id(webhook_id: Uuid, cloud_event_id: Uuid) -> Uuid {
    derived_id(webhook_id, cloud_event_id)
}

/// The signature header's value for `body` sent at `timestamp` (Unix seconds): `t=<timestamp>,v1=<hex>`, the HMAC
/// of `"<timestamp>.<body>"` keyed with the webhook's secret (as Stripe signs): the receiver recomputes it and
/// refuses old timestamps, so a captured request cannot be replayed later.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", hmac_sha256_hex(secret, &format!("{timestamp}.{body}")))
}

fn hmac_sha256_hex(key: &str, message: &str) -> String {
    // HMAC accepts keys of any length: this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else { unreachable!("HMAC keys have any length") };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A new webhook secret: 32 random bytes, hex.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_need_an_http_url_and_known_types() {
        let (id, who) = (Uuid::now_v7(), Uuid::now_v7());
        let ok = register(id, who, " https://erp.kaznu.kz/hooks ", &[public::STATUS_CHANGED.into()], "s".into());
        let WebhookEvent::Registered(registered) = &ok.expect("registered")[0];
        assert_eq!(registered.url, "https://erp.kaznu.kz/hooks");
        assert!(registered.wants(public::STATUS_CHANGED) && !registered.wants("kz.onewindow.other.v1"));
        for bad in ["ftp://x", "https://", "erp.kaznu.kz", "http://user@host/", "http://a b"] {
            assert_eq!(register(id, who, bad, &[], "s".into()), Err(WebhookError::Url), "{bad}");
        }
        let unknown = register(id, who, "http://127.0.0.1:9/", &["application.submitted".into()], "s".into());
        assert_eq!(unknown.expect_err("unknown").field(), "event_types");
    }

    #[test]
    fn signatures_are_hmac_sha256_of_the_timestamp_and_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            signature("Jefe", 1700000000, "{}"),
            format!("t=1700000000,v1={}", hmac_sha256_hex("Jefe", "1700000000.{}"))
        );
        assert_ne!(signature("Jefe", 1, "body"), signature("Jefe", 2, "body"));
        assert_ne!(signature("a", 1, "body"), signature("b", 1, "body"));
        assert!(new_secret().starts_with("whsec_") && new_secret() != new_secret());
    }
}
