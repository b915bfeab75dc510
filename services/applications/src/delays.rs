//! Applications whose processing is delayed: another service (or this one) parked an event about them. Kept per
//! application in a private stream (`delay/<application_id>`) from the parked events the consuming services
//! publish, and cleared when an administrator's re-drive went through: staff find such applications in their
//! queue (a flag and a filter) and the applicant is told processing is delayed rather than nothing.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use onewindow_bus::{
    EventHandler, HandleError, Subscription,
    parked::{ParkedEvent, application_of},
    read,
};
use onewindow_commands::{Command, run_command};
use onewindow_eventlog::{
    Aggregate, EventSchema, EventStore, Loaded, OrgId, RecordedEvent, StoreError, StreamRef, load,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::APPLICATION;

/// The private stream type of an application's delays.
pub const DELAY: &str = "delay";
pub const RECORDED: &str = "delay.recorded";
pub const CLEARED: &str = "delay.cleared";
/// The parked events' types this service follows.
pub const PARKED_EVENTS: &[&str] = &[onewindow_bus::parked::EVENT_TYPES[0], onewindow_bus::parked::EVENT_TYPES[1]];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DelayEvent {
    /// `key` (`<service>/<consumer>:<event id>`) was parked, for `reason`.
    #[serde(rename = "delay.recorded")]
    Recorded { application_id: Uuid, key: String, service: String, event_type: String, reason: String },
    #[serde(rename = "delay.cleared")]
    Cleared { application_id: Uuid, key: String },
}

impl EventSchema for DelayEvent {}

/// One parked event holding the application up.
#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    pub service: String,
    pub event_type: String,
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// What holds an application up now, by parked event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delays(pub BTreeMap<String, Delay>);

impl Aggregate for Delays {
    type Event = DelayEvent;

    fn apply(&mut self, event: &DelayEvent, recorded: &RecordedEvent) {
        match event {
            DelayEvent::Recorded { key, service, event_type, reason, .. } => {
                let since = recorded.metadata.occurred_at;
                let delay =
                    Delay { service: service.clone(), event_type: event_type.clone(), reason: reason.clone(), since };
                self.0.insert(key.clone(), delay);
            }
            DelayEvent::Cleared { key, .. } => {
                self.0.remove(key);
            }
        }
    }
}

impl Delays {
    /// Since when the application is held up: its oldest delay still open.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.0.values().map(|d| d.since).min()
    }
}

pub fn stream(org: &OrgId, application_id: Uuid) -> StreamRef {
    StreamRef::new(org, DELAY, application_id.to_string())
}

/// An application's delays (none for an unknown one).
pub async fn delays_of(store: &dyn EventStore, org: &OrgId, application_id: Uuid) -> Result<Delays, StoreError> {
    Ok(load::<Delays>(store, &stream(org, application_id)).await?.state)
}

/// Records a delay unless it is known, clears one that is: redeliveries and replays change nothing.
fn decide(delays: &Delays, event: DelayEvent) -> Vec<DelayEvent> {
    let known = match &event {
        DelayEvent::Recorded { key, .. } | DelayEvent::Cleared { key, .. } => delays.0.contains_key(key),
    };
    match (&event, known) {
        (DelayEvent::Recorded { .. }, false) | (DelayEvent::Cleared { .. }, true) => vec![event],
        _ => Vec::new(),
    }
}

/// Follows the parked events of one consuming service (each service's consumers park in its own log).
pub struct ParkedElsewhere {
    pub store: Arc<dyn EventStore>,
    pub service: &'static str,
    pub name: &'static str,
}

impl ParkedElsewhere {
    /// One follower per service whose consumers read applications' events (and this one's own).
    pub fn all(store: &Arc<dyn EventStore>) -> Vec<Self> {
        FOLLOWED.iter().map(|(service, name)| Self { store: store.clone(), service, name }).collect()
    }
}

/// The services followed, and the name of this service's consumer of each one's parked events.
pub const FOLLOWED: &[(&str, &str)] = &[
    ("routing", "applications-parked-routing"),
    ("documents", "applications-parked-documents"),
    ("notifications", "applications-parked-notifications"),
    ("applications", "applications-parked-applications"),
];

#[async_trait]
impl EventHandler for ParkedElsewhere {
    fn name(&self) -> &'static str {
        self.name
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: self.service, event_types: PARKED_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let key = format!("{}/{}", self.service, event.stream.stream_id);
        let (application_id, delay) = match read::<ParkedEvent>(event)? {
            ParkedEvent::Parked { consumer: _, reason, event: parked } => {
                (application_of(&parked), Some((parked.event_type.clone(), reason)))
            }
            ParkedEvent::Redriven { application_id, .. } => (application_id, None),
            ParkedEvent::RedriveFailed { .. } => return Ok(()),
        };
        // An event about no application of ours (a catalog copy, say) holds no application up.
        let Some(application_id) = application_id.and_then(|id| Uuid::parse_str(&id).ok()) else { return Ok(()) };
        let org = &event.stream.org;
        let application = StreamRef::new(org, APPLICATION, application_id.to_string());
        // Its version is all that is needed: no application's whole stream is read for this.
        let version = self.store.stream_version(&application).await.map_err(|e| HandleError::Transient(e.into()))?;
        if version == 0 {
            return Ok(());
        }
        let change = match delay {
            Some((event_type, reason)) => {
                DelayEvent::Recorded { application_id, key, service: self.service.into(), event_type, reason }
            }
            None => DelayEvent::Cleared { application_id, key },
        };
        let command = Command::reaction(stream(org, application_id), crate::SERVICE, self.name, event);
        run_command(self.store.as_ref(), &command, |loaded: &Loaded<Delays>| {
            Ok::<_, String>(decide(&loaded.state, change.clone()))
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_is_recorded_once_and_cleared_once() {
        let application_id = Uuid::now_v7();
        let recorded = DelayEvent::Recorded {
            application_id,
            key: "routing/routing-applications:1".into(),
            service: "routing".into(),
            event_type: "application.submitted".into(),
            reason: "no approver".into(),
        };
        let cleared = DelayEvent::Cleared { application_id, key: "routing/routing-applications:1".into() };
        let none = Delays::default();
        assert_eq!(decide(&none, recorded.clone()), std::slice::from_ref(&recorded));
        assert!(decide(&none, cleared.clone()).is_empty(), "nothing to clear");
        let delay =
            Delay { service: "routing".into(), event_type: String::new(), reason: String::new(), since: Utc::now() };
        let one = Delays(BTreeMap::from([("routing/routing-applications:1".to_owned(), delay)]));
        assert!(decide(&one, recorded).is_empty(), "a redelivered park records nothing more");
        assert_eq!(decide(&one, cleared.clone()), [cleared]);
    }

    #[test]
    fn every_follower_is_declared_among_the_consumers() {
        for (_, name) in FOLLOWED {
            let declared = crate::CONSUMES.iter().find(|(consumer, _)| consumer == name);
            assert_eq!(declared.map(|(_, types)| *types), Some(PARKED_EVENTS), "{name}");
        }
    }
}
