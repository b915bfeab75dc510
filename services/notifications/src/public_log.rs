//! The public events kept in the notifications log (`public_event/<cloud_event_id>`), in both modes: what
//! `WatchPublicEvents` replays and follows where there is no NATS (the embedded mode).

use std::sync::Arc;

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventStore, InboxMark, OrgId, RecordedEvent, StoreError, StreamAppend, StreamRef, encode,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    SERVICE,
    public::{self, CloudEvent},
};

pub const PUBLIC_EVENT: &str = "public_event";
pub const RECORDER: &str = "notifications-public-log";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum PublicLogEvent {
    /// The payload is the CloudEvent itself.
    #[serde(rename = "public_event.recorded")]
    Recorded(CloudEvent),
}

impl onewindow_eventlog::EventSchema for PublicLogEvent {}

pub fn public_event_stream(org: &OrgId, cloud_event_id: Uuid) -> StreamRef {
    StreamRef::new(org, PUBLIC_EVENT, cloud_event_id.to_string())
}

/// Records each public event once (its stream is new), with the inbox mark of the internal event.
pub struct RecordPublicEvents {
    store: Arc<dyn EventStore>,
}

impl RecordPublicEvents {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for RecordPublicEvents {
    fn name(&self) -> &'static str {
        RECORDER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: public::status_types() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let cloud_event = public::status_changed(event).map_err(|e| HandleError::Poison(e.into()))?;
        let Some(cloud_event) = cloud_event else { return Ok(()) };
        let transient = |e: StoreError| HandleError::Transient(e.into());
        let stream = public_event_stream(&event.stream.org, cloud_event.id);
        let mut appends = Vec::new();
        if self.store.stream_version(&stream).await.map_err(transient)? == 0 {
            let metadata = onewindow_server::reaction_metadata(SERVICE, event);
            let recorded =
                encode(&PublicLogEvent::Recorded(cloud_event), &metadata).map_err(|e| HandleError::Poison(e.into()))?;
            appends.push(StreamAppend { stream, expected_version: 0, events: vec![recorded] });
        }
        let mark = InboxMark { consumer: RECORDER.to_owned(), event_id: event.id };
        match self.store.commit(Commit { appends, inbox: Some(mark) }).await {
            Ok(CommitOutcome::Committed { .. } | CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing) => Ok(()),
            Err(error) => Err(transient(error)),
        }
    }
}
