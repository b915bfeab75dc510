//! The applications service's own copy of the catalog, kept from the catalog's `service.defined` events, so that
//! creating an application does not call the catalog (and works while the catalog is down).
//!
//! The copy is eventually consistent: right after an edit, an application may still be created under the previous
//! version, which is the version it then keeps. A service not copied yet is asked of the catalog over gRPC.

use std::{convert::Infallible, sync::Arc};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_calendar::{CalendarSettings, WorkingCalendar};
use onewindow_commands::{Command, run_command};
use onewindow_contracts::catalog::{
    CALENDAR_ADJUSTED, CalendarEvent, CatalogEvent, DocumentKind, Localized, SERVICE_DEFINED, ServiceDefinition,
};
use onewindow_eventlog::{
    Aggregate, EventSchema, EventStore, Loaded, OrgId, RecordedEvent, StoreError, StreamRef, load,
};
use serde::{Deserialize, Serialize};

use crate::domain::{RequiredDocument, RouteStep, ServiceNames, ServiceSnapshot};

pub const SERVICE_COPY: &str = "service_copy";
pub const CALENDAR_COPY: &str = "calendar_copy";
const CALENDAR_ID: &str = "working";
const CONSUMER: &str = "applications-catalog";
/// The catalog's events applications keeps copies of.
pub const SUBSCRIBES: &[&str] = &[SERVICE_DEFINED, CALENDAR_ADJUSTED];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CopyEvent {
    /// A newer version of a catalog service was copied.
    #[serde(rename = "service_copy.recorded")]
    Recorded(ServiceSnapshot),
}

impl EventSchema for CopyEvent {}
impl EventSchema for CalendarCopyEvent {}

/// The newest copied version of one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceCopy(pub Option<ServiceSnapshot>);

impl Aggregate for ServiceCopy {
    type Event = CopyEvent;
    fn apply(&mut self, event: &CopyEvent, _: &RecordedEvent) {
        let CopyEvent::Recorded(snapshot) = event;
        self.0 = Some(snapshot.clone());
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CalendarCopyEvent {
    /// A newer version of the organisation's calendar settings was copied.
    #[serde(rename = "calendar_copy.recorded")]
    Recorded { catalog_version: i64, settings: CalendarSettings },
}

#[derive(Debug, Clone, Default)]
pub struct CalendarCopy(pub Option<(i64, CalendarSettings)>);

impl Aggregate for CalendarCopy {
    type Event = CalendarCopyEvent;
    fn apply(&mut self, event: &CalendarCopyEvent, _: &RecordedEvent) {
        let CalendarCopyEvent::Recorded { catalog_version, settings } = event;
        self.0 = Some((*catalog_version, settings.clone()));
    }
}

/// The organisation's working calendar: Kazakhstan's, with the adjustments copied from the catalog.
pub async fn working_calendar(store: &dyn EventStore, org: &OrgId) -> Result<WorkingCalendar, StoreError> {
    let copy = load::<CalendarCopy>(store, &StreamRef::new(org, CALENDAR_COPY, CALENDAR_ID)).await?.state.0;
    let settings = copy.map(|(_, settings)| settings).unwrap_or_default();
    Ok(settings.calendar().unwrap_or_else(|error| {
        // The catalog checked the settings when it recorded them; fall back rather than stop counting time.
        tracing::error!(%org, %error, "the copied calendar does not build; using the country's");
        WorkingCalendar::kazakhstan_2026_2027()
    }))
}

pub async fn copied(store: &dyn EventStore, org: &OrgId, code: &str) -> Result<Option<ServiceSnapshot>, StoreError> {
    Ok(load::<ServiceCopy>(store, &StreamRef::new(org, SERVICE_COPY, code)).await?.state.0)
}

fn names(localized: &Localized) -> ServiceNames {
    ServiceNames { kk: localized.kk.clone(), ru: localized.ru.clone(), en: localized.en.clone() }
}

/// What an application copies of one version of the catalog's service.
fn snapshot(defined: ServiceDefinition, version: i64) -> ServiceSnapshot {
    ServiceSnapshot {
        code: defined.code,
        version,
        name_kk: defined.name.kk,
        name_ru: defined.name.ru,
        name_en: defined.name.en,
        route: RouteStep::from_stages(
            defined.route.into_iter().map(|stage| {
                (stage.required, stage.approvers.into_iter().map(|a| (a.department, a.position)).collect())
            }),
        ),
        issues_document: match defined.issues_document {
            DocumentKind::None => String::new(),
            kind => kind.as_str().to_owned(),
        },
        office: defined.office,
        average_processing_hours: defined.average_processing_hours,
        required_documents: defined
            .required_documents
            .iter()
            .map(|r| RequiredDocument { name: names(&r.name), max_files: r.max_files.max(1), required: r.required })
            .collect(),
        reasons: defined.reasons.iter().map(names).collect(),
        document_languages: defined.document_languages,
    }
}

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
        if event.event_type == CALENDAR_ADJUSTED {
            return self.copy_calendar(event).await;
        }
        let CatalogEvent::Defined(defined) = read::<CatalogEvent>(event)?;
        // The catalog's stream version is the service version.
        let copy = snapshot(defined, event.version);
        let stream = StreamRef::new(&event.stream.org, SERVICE_COPY, copy.code.clone());
        // Versions may arrive out of order after a retry: never replace a newer copy with an older one.
        let version = copy.version;
        self.record_if_newer::<ServiceCopy>(event, &stream, CopyEvent::Recorded(copy), |current| {
            current.0.as_ref().is_none_or(|c| c.version < version)
        })
        .await
    }
}

impl CatalogCopy {
    async fn copy_calendar(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let CalendarEvent::Adjusted(settings) = read::<CalendarEvent>(event)?;
        let stream = StreamRef::new(&event.stream.org, CALENDAR_COPY, CALENDAR_ID);
        let copy = CalendarCopyEvent::Recorded { catalog_version: event.version, settings };
        self.record_if_newer::<CalendarCopy>(event, &stream, copy, |current| {
            current.0.as_ref().is_none_or(|(version, _)| *version < event.version)
        })
        .await
    }

    /// Records `copy` on `stream` when `is_newer` says the copy there is older, with the consumer's inbox mark
    /// either way (so a redelivery is a no-op); the runner decides again after a lost race.
    async fn record_if_newer<A>(
        &self,
        cause: &RecordedEvent,
        stream: &StreamRef,
        copy: A::Event,
        is_newer: impl Fn(&A) -> bool + Send + Sync,
    ) -> Result<(), HandleError>
    where
        A: Aggregate,
        A::Event: Clone,
    {
        let command = Command::reaction(stream.clone(), crate::SERVICE, CONSUMER, cause);
        run_command(self.store.as_ref(), &command, |current: &Loaded<A>| {
            Ok::<_, Infallible>(if is_newer(&current.state) { vec![copy.clone()] } else { Vec::new() })
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use onewindow_eventlog::{EventMetadata, Position};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn defined(version: i64, hours: u32) -> RecordedEvent {
        RecordedEvent {
            position: Position::START,
            id: Uuid::now_v7(),
            stream: StreamRef::new(&OrgId::parse("kaznu").expect("org"), "service", "certificate-of-study"),
            version,
            event_type: "service.defined".into(),
            schema_version: 1,
            payload: json!({
                "code": "certificate-of-study",
                "name": { "kk": "Оқу туралы анықтама", "ru": "Справка об обучении", "en": "Certificate of study" },
                "office": "registrar",
                "route": [{ "approvers": [{ "department": "registrar", "position": "registrar" }] }],
                "issues_document": "certificate_of_study",
                "average_processing_hours": hours,
                "fee": { "kind": "free" }
            }),
            metadata: EventMetadata {
                occurred_at: Utc::now(),
                actor: "admin".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                trace_context: None,
            },
        }
    }

    #[tokio::test]
    async fn the_newest_version_is_kept_once_whatever_the_order_of_delivery() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("store");
        let handler = CatalogCopy { store: store.clone() };
        let org = OrgId::parse("kaznu").expect("org");
        let (v1, v2) = (defined(1, 8), defined(2, 16));
        handler.handle(&v2).await.expect("v2");
        handler.handle(&v1).await.expect("late v1");
        handler.handle(&v2).await.expect("v2 again");
        let copy = copied(store.as_ref(), &org, "certificate-of-study").await.expect("load").expect("copied");
        assert_eq!(copy.version, 2);
        assert_eq!(copy.route.len(), 1);
        assert_eq!(copy.issues_document, "certificate_of_study");
        let stream =
            store.read_stream(&StreamRef::new(&org, SERVICE_COPY, "certificate-of-study")).await.expect("read");
        assert_eq!(stream.len(), 1, "one copy event: the late and the repeated deliveries changed nothing");
    }

    #[tokio::test]
    async fn a_stage_quorum_is_copied_onto_every_step_of_its_stage() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("store");
        let handler = CatalogCopy { store: store.clone() };
        let org = OrgId::parse("kaznu").expect("org");
        let mut event = defined(1, 8);
        event.payload["route"] = json!([
            { "approvers": [{ "department": "deans-office", "position": "dean" },
                            { "department": "deans-office", "position": "vice-dean" }], "required": 1 },
            { "approvers": [{ "department": "registrar", "position": "registrar" }] }
        ]);
        handler.handle(&event).await.expect("copied");
        let copy = copied(store.as_ref(), &org, "certificate-of-study").await.expect("load").expect("copied");
        let route: Vec<_> = copy.route.iter().map(|s| (s.stage, s.position.as_str(), s.required)).collect();
        assert_eq!(route, [(1, "dean", 1), (1, "vice-dean", 1), (2, "registrar", 0)]);
    }
}

#[cfg(test)]
mod calendar_tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use onewindow_eventlog::{EventMetadata, Position};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    #[tokio::test]
    async fn the_catalogs_calendar_adjustments_are_counted() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("store");
        let org = OrgId::parse("kaznu").expect("org");
        let adjusted = RecordedEvent {
            position: Position::START,
            id: Uuid::now_v7(),
            stream: StreamRef::new(&org, "calendar", "working"),
            version: 1,
            event_type: "calendar.adjusted".into(),
            schema_version: 1,
            payload: json!({ "opens": null, "closes": null,
                             "extra_days_off": [{ "date": "2026-11-24", "name": "University day" }],
                             "transfers": [] }),
            metadata: EventMetadata {
                occurred_at: Utc::now(),
                actor: "admin".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                trace_context: None,
            },
        };
        let handler = CatalogCopy { store: store.clone() };
        handler.handle(&adjusted).await.expect("copied");
        handler.handle(&adjusted).await.expect("redelivered");
        let calendar = working_calendar(store.as_ref(), &org).await.expect("calendar");
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
        assert!(!calendar.is_working_day(day), "the university's own day off counts");
        let monday_noon = Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).single().expect("time");
        assert!(calendar.is_working_time(monday_noon));
    }
}
