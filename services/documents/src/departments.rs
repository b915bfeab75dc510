//! The names of the organisation's departments in kk, ru and en, copied from the catalog's `department.defined`
//! events, so documents print "Научная библиотека", not `library`.
//!
//! Each department is a stream `department_name/<code>` of documents' own log (a private stream type: the catalog
//! publishes the names already). A redefinition with the same names records nothing.

use std::{collections::HashMap, convert::Infallible, sync::Arc};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_commands::{Command, run_command};
use onewindow_contracts::catalog::{DEPARTMENT_DEFINED, DepartmentEvent};
use onewindow_eventlog::{
    Aggregate, EventSchema, EventStore, Loaded, OrgId, RecordedEvent, StoreError, StreamRef, load,
};
use serde::{Deserialize, Serialize};

use crate::{SERVICE, domain::Names};

pub const DEPARTMENT_NAME: &str = "department_name";
pub const CONSUMER: &str = "documents-catalog";
/// The catalog's events whose names documents keeps.
pub const SUBSCRIBES: &[&str] = &[DEPARTMENT_DEFINED];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DepartmentNameEvent {
    #[serde(rename = "department_name.recorded")]
    Recorded { code: String, name: Names },
}

impl EventSchema for DepartmentNameEvent {}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DepartmentName(pub Option<Names>);

impl Aggregate for DepartmentName {
    type Event = DepartmentNameEvent;

    fn apply(&mut self, event: &DepartmentNameEvent, _: &RecordedEvent) {
        let DepartmentNameEvent::Recorded { name, .. } = event;
        self.0 = Some(name.clone());
    }
}

fn stream(org: &OrgId, code: &str) -> StreamRef {
    StreamRef::new(org, DEPARTMENT_NAME, code)
}

/// Keeps the names of the catalog's departments.
pub struct CopyDepartmentNames {
    store: Arc<dyn EventStore>,
}

impl CopyDepartmentNames {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for CopyDepartmentNames {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "catalog", event_types: SUBSCRIBES.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let DepartmentEvent::Defined(defined) = read::<DepartmentEvent>(event)?;
        let name = Names { kk: defined.name.kk.clone(), ru: defined.name.ru.clone(), en: defined.name.en.clone() };
        if defined.code.trim().is_empty() {
            return Err(HandleError::Poison(anyhow::anyhow!("department.defined without a code")));
        }
        let stream = stream(&event.stream.org, &defined.code);
        let reaction = Command::reaction(stream, SERVICE, CONSUMER, event);
        run_command(self.store.as_ref(), &reaction, |current: &Loaded<DepartmentName>| {
            Ok::<_, Infallible>(if current.state.0.as_ref() == Some(&name) {
                Vec::new()
            } else {
                vec![DepartmentNameEvent::Recorded { code: defined.code.clone(), name: name.clone() }]
            })
        })
        .await?;
        Ok(())
    }
}

/// The names of `codes` as copied so far; a department not copied yet is missing (documents then print its code).
pub async fn names(store: &dyn EventStore, org: &OrgId, codes: &[&str]) -> Result<HashMap<String, Names>, StoreError> {
    let mut found = HashMap::new();
    for code in codes {
        if found.contains_key(*code) {
            continue;
        }
        if let Some(name) = load::<DepartmentName>(store, &stream(org, code)).await?.state.0 {
            found.insert((*code).to_owned(), name);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use onewindow_eventlog::{EventMetadata, Position};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn defined(org: &OrgId, code: &str, ru: &str) -> RecordedEvent {
        let id = Uuid::now_v7();
        RecordedEvent {
            position: Position::START,
            id,
            stream: StreamRef::new(org, "department", code),
            version: 1,
            event_type: "department.defined".into(),
            schema_version: 1,
            payload: json!({ "code": code, "name": { "kk": "Ғылыми кітапхана", "ru": ru, "en": "Library" } }),
            metadata: EventMetadata {
                occurred_at: Utc::now(),
                actor: "admin".into(),
                correlation_id: id,
                causation_id: id,
                trace_context: None,
            },
        }
    }

    #[tokio::test]
    async fn names_are_copied_once_and_follow_redefinitions() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let org = OrgId::parse("kaznu").expect("org");
        let handler = CopyDepartmentNames::new(store.clone());
        let first = defined(&org, "library", "Научная библиотека");
        handler.handle(&first).await.expect("copied");
        handler.handle(&first).await.expect("redelivered");
        handler.handle(&defined(&org, "library", "Научная библиотека")).await.expect("the same names again");
        assert_eq!(store.stream_version(&stream(&org, "library")).await.expect("version"), 1, "recorded once");
        handler.handle(&defined(&org, "library", "Библиотека")).await.expect("renamed");
        let found = names(store.as_ref(), &org, &["library", "dean", "library"]).await.expect("names");
        assert_eq!(found.len(), 1, "a department not copied is missing");
        assert_eq!((found["library"].ru.as_str(), found["library"].kk.as_str()), ("Библиотека", "Ғылыми кітапхана"));
        let elsewhere = names(store.as_ref(), &OrgId::parse("kaznmu").expect("org"), &["library"]).await;
        assert!(elsewhere.expect("names").is_empty(), "per organisation");
    }
}
