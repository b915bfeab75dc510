//! Routing's own copy of what it needs from the catalog, kept from the catalog's events: each version of each
//! service's route (with the stage settings `application.submitted` does not carry: time limits, silence, the
//! signatory stage, people named outright, when the sheet opens), and each organisation's working calendar.
//!
//! Both are streams in routing's log that are never published: `route_copy/<code>@<version>` (one event, a version
//! never changes) and `calendar_copy/working` (the newest adjustment wins).

use std::{convert::Infallible, sync::Arc};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_calendar::WorkingCalendar;
use onewindow_commands::{Attempt, Command, CommandError, encode_all, retry};
use onewindow_contracts::catalog::{CALENDAR_ADJUSTED, CalendarEvent, CatalogEvent, SERVICE_DEFINED};
use onewindow_eventlog::{
    Aggregate, Commit, EventSchema, EventStore, OrgId, RecordedEvent, StoreError, StreamRef, load,
};
use serde::{Deserialize, Serialize};

use crate::SERVICE;

pub const ROUTE_COPY: &str = "route_copy";
pub const CALENDAR_COPY: &str = "calendar_copy";
const CALENDAR_ID: &str = "working";
const CONSUMER: &str = "routing-catalog";
/// The catalog's events routing keeps copies of.
pub const SUBSCRIBES: &[&str] = &[SERVICE_DEFINED, CALENDAR_ADJUSTED];

/// When the service's sheet opens, and a stage's settings: the catalog's own types.
pub use onewindow_contracts::catalog::{RouteOpensOn as OpensOn, Stage as CopiedStage};

/// One version of a service's route, as the catalog defined it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteCopy {
    pub code: String,
    pub version: i64,
    #[serde(default)]
    pub route_opens_on: OpensOn,
    #[serde(default)]
    pub route: Vec<CopiedStage>,
}

/// An organisation's adjustments of the country's calendar, as `calendar.adjusted` carries them.
pub use onewindow_calendar::CalendarSettings;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CopyEvent {
    #[serde(rename = "route_copy.recorded")]
    Route(RouteCopy),
    #[serde(rename = "calendar_copy.recorded")]
    Calendar(CalendarSettings),
}

#[derive(Debug, Clone, Default)]
struct Copied {
    route: Option<RouteCopy>,
    calendar: Option<CalendarSettings>,
}

impl EventSchema for CopyEvent {}

impl Aggregate for Copied {
    type Event = CopyEvent;
    fn apply(&mut self, event: &CopyEvent, _: &RecordedEvent) {
        match event {
            CopyEvent::Route(route) => self.route = Some(route.clone()),
            CopyEvent::Calendar(settings) => self.calendar = Some(settings.clone()),
        }
    }
}

fn route_stream(org: &OrgId, code: &str, version: i64) -> StreamRef {
    StreamRef::new(org, ROUTE_COPY, format!("{code}@{version}"))
}

/// The copied route of one version of a service, if the catalog's event has arrived.
pub async fn copied_route(
    store: &dyn EventStore,
    org: &OrgId,
    code: &str,
    version: i64,
) -> Result<Option<RouteCopy>, StoreError> {
    Ok(load::<Copied>(store, &route_stream(org, code, version)).await?.state.route)
}

/// The organisation's working calendar: the copy of its catalog's, or Kazakhstan's until one arrives.
pub async fn calendar_of(store: &dyn EventStore, org: &OrgId) -> Result<WorkingCalendar, StoreError> {
    let copied = load::<Copied>(store, &StreamRef::new(org, CALENDAR_COPY, CALENDAR_ID)).await?.state.calendar;
    Ok(copied.unwrap_or_default().calendar_or_default())
}

/// Keeps the copies from the catalog's `service.defined` and `calendar.adjusted`.
pub struct CatalogCopy {
    pub store: Arc<dyn EventStore>,
}

#[async_trait]
impl EventHandler for CatalogCopy {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "catalog", event_types: SUBSCRIBES.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let (stream, copy) = match event.event_type.as_str() {
            SERVICE_DEFINED => {
                let CatalogEvent::Defined(defined) = read::<CatalogEvent>(event)?;
                // The catalog's stream version is the service version.
                let stream = route_stream(&event.stream.org, &defined.code, event.version);
                let copy = RouteCopy {
                    code: defined.code,
                    version: event.version,
                    route_opens_on: defined.route_opens_on,
                    route: defined.route,
                };
                (stream, CopyEvent::Route(copy))
            }
            CALENDAR_ADJUSTED => {
                let CalendarEvent::Adjusted(settings) = read::<CalendarEvent>(event)?;
                (StreamRef::new(&event.stream.org, CALENDAR_COPY, CALENDAR_ID), CopyEvent::Calendar(settings))
            }
            _ => return Ok(()),
        };
        // Appended whatever is there (a route version's stream gets its one event; the calendar is adjusted in the
        // catalog's order), so only the stream's version is read; a racing copy is simply read again.
        let reaction = Command::reaction(stream, SERVICE, CONSUMER, event);
        let encoded = encode_all(&[copy], &reaction.metadata).map_err(|e| HandleError::Poison(e.into()))?;
        let (store, reaction, encoded) = (self.store.as_ref(), &reaction, &encoded);
        retry(store, reaction.policy, move |_| async move {
            let version = store.stream_version(&reaction.stream).await?;
            let commit = Commit::append(reaction.stream.clone(), version, encoded.clone());
            let commit = Commit { inbox: reaction.inbox.clone(), ..commit };
            Ok::<_, CommandError<Infallible>>(Attempt::Commit(commit, ()))
        })
        .await?;
        Ok(())
    }
}

/// The copy a stream folds into, as text (the stored-log test compares it with what earlier code read).
#[cfg(test)]
pub(crate) fn stored_state(events: &[RecordedEvent]) -> String {
    format!("{:#?}", onewindow_eventlog::fold::<Copied>(events.to_vec()).expect("folds").state)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use uuid::Uuid;

    use super::*;
    use crate::testing::{catalog_event, org};

    #[tokio::test]
    async fn each_version_of_a_route_and_the_newest_calendar_are_copied() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("store");
        let handler = CatalogCopy { store: store.clone() };
        let person = Uuid::now_v7();
        let defined = catalog_event(
            "service.defined",
            "service",
            "clearance",
            2,
            json!({
                "code": "clearance", "name": { "kk": "k", "ru": "r", "en": "e" }, "office": "x",
                "route_opens_on": "accepted",
                "route": [
                    { "approvers": [{ "department": "library", "position": "librarian" }], "time_limit_hours": 8,
                      "on_silence": "approve" },
                    { "approvers": [{ "department": "rectorate", "position": "vice-rector", "person_id": person }],
                      "signatory": true },
                ],
            }),
        );
        handler.handle(&defined).await.expect("copied");
        handler.handle(&defined).await.expect("redelivered");
        let copy = copied_route(store.as_ref(), &org(), "clearance", 2).await.expect("read").expect("copied");
        assert_eq!(copy.route_opens_on, OpensOn::Accepted);
        assert_eq!(
            (copy.route[0].time_limit_hours, copy.route[0].on_silence),
            (8, onewindow_contracts::catalog::OnSilence::Approve)
        );
        assert!(copy.route[1].signatory);
        assert_eq!(copy.route[1].approvers[0].person_id, Some(person));
        assert!(copied_route(store.as_ref(), &org(), "clearance", 1).await.expect("read").is_none());

        // Kazakhstan's calendar until the organisation adjusts it: then 2 December 2026 (a Wednesday) is off.
        let wednesday = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
        assert!(calendar_of(store.as_ref(), &org()).await.expect("calendar").is_working_day(wednesday));
        let adjusted = catalog_event(
            "calendar.adjusted",
            "calendar",
            "working",
            1,
            json!({ "opens": "08:00:00", "closes": null, "extra_days_off": [{ "date": "2026-12-02", "name": "Founders' day" }], "transfers": [] }),
        );
        handler.handle(&adjusted).await.expect("copied");
        let calendar = calendar_of(store.as_ref(), &org()).await.expect("calendar");
        assert!(!calendar.is_working_day(wednesday));
        let opening = Utc.with_ymd_and_hms(2026, 12, 3, 3, 30, 0).single().expect("08:30 in Almaty");
        assert!(calendar.is_working_time(opening), "the organisation opens at 8:00");
    }
}
