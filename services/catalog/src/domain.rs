//! Service definitions, as events: every edit is a new version; pure, no I/O.

use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};

pub const SERVICE_STREAM: &str = "service";

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Localized {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    #[default]
    None,
    CertificateOfStudy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    pub department: String,
    pub position: String,
}

/// Approvers of one stage review in parallel; stages follow one another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub approvers: Vec<Approver>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDefinition {
    pub code: String,
    pub name: Localized,
    pub office: String,
    pub route: Vec<Stage>,
    pub issues_document: DocumentKind,
    pub average_processing_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CatalogEvent {
    /// A new version of the definition (the stream version is the service version).
    #[serde(rename = "service.defined")]
    Defined(ServiceDefinition),
}

/// Every version of one service, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogEntry {
    pub versions: Vec<ServiceDefinition>,
}

impl CatalogEntry {
    pub fn current(&self) -> Option<(i64, &ServiceDefinition)> {
        self.versions.last().map(|d| (self.versions.len() as i64, d))
    }

    pub fn version(&self, version: i64) -> Option<&ServiceDefinition> {
        usize::try_from(version).ok().and_then(|v| v.checked_sub(1)).and_then(|i| self.versions.get(i))
    }
}

impl Aggregate for CatalogEntry {
    type Event = CatalogEvent;
    fn apply(&mut self, event: &CatalogEvent, _: &RecordedEvent) {
        let CatalogEvent::Defined(definition) = event;
        self.versions.push(definition.clone());
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DefinitionError {
    #[error("{field}: {problem}")]
    Invalid { field: &'static str, problem: &'static str },
    #[error("the definition is unchanged")]
    Unchanged,
}

fn invalid(field: &'static str, problem: &'static str) -> DefinitionError {
    DefinitionError::Invalid { field, problem }
}

/// Decides a (re)definition: a new version, unless nothing changed.
pub fn define(entry: &CatalogEntry, definition: ServiceDefinition) -> Result<Vec<CatalogEvent>, DefinitionError> {
    let code_ok = !definition.code.is_empty()
        && definition.code.len() <= 64
        && definition.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !code_ok {
        return Err(invalid("code", "1 to 64 characters of a-z, 0-9 and '-'"));
    }
    let name = &definition.name;
    if name.kk.trim().is_empty() || name.ru.trim().is_empty() || name.en.trim().is_empty() {
        return Err(invalid("name", "is required in kk, ru and en"));
    }
    if definition.office.trim().is_empty() {
        return Err(invalid("office", "is required"));
    }
    for stage in &definition.route {
        if stage.approvers.is_empty() {
            return Err(invalid("route", "every stage needs at least one approver"));
        }
        if stage.approvers.iter().any(|a| a.department.trim().is_empty()) {
            return Err(invalid("route", "every approver needs a department"));
        }
    }
    if entry.current().is_some_and(|(_, current)| *current == definition) {
        return Err(DefinitionError::Unchanged);
    }
    Ok(vec![CatalogEvent::Defined(definition)])
}

/// The services every demo organisation offers: the certificate of study, approved in parallel by the dean's
/// office and the registrar office (seed 001's e-services list; the full catalog comes with the catalog issue).
pub fn demo_services() -> Vec<ServiceDefinition> {
    vec![ServiceDefinition {
        code: "certificate-of-study".into(),
        name: Localized {
            kk: "Оқу туралы анықтама".into(),
            ru: "Справка об обучении".into(),
            en: "Certificate of study".into(),
        },
        office: "registrar".into(),
        route: vec![Stage {
            approvers: vec![
                Approver { department: "deans-office".into(), position: "dean".into() },
                Approver { department: "registrar".into(), position: "registrar".into() },
            ],
        }],
        issues_document: DocumentKind::CertificateOfStudy,
        average_processing_hours: 8,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_edit_is_a_new_version_and_old_versions_stay() {
        let first = demo_services().remove(0);
        let mut entry = CatalogEntry::default();
        let events = define(&entry, first.clone()).expect("first version");
        let CatalogEvent::Defined(d) = &events[0];
        entry.versions.push(d.clone());
        assert_eq!(define(&entry, first.clone()), Err(DefinitionError::Unchanged));

        let mut second = first.clone();
        second.average_processing_hours = 16;
        let CatalogEvent::Defined(d) = define(&entry, second.clone()).expect("second version").remove(0);
        entry.versions.push(d);
        assert_eq!(entry.current().map(|(v, d)| (v, d.average_processing_hours)), Some((2, 16)));
        assert_eq!(entry.version(1), Some(&first));
        assert_eq!(entry.version(3), None);
    }

    #[test]
    fn invalid_definitions_name_the_field() {
        let mut d = demo_services().remove(0);
        d.name.kk.clear();
        assert_eq!(define(&CatalogEntry::default(), d), Err(invalid("name", "is required in kk, ru and en")));
        let mut d = demo_services().remove(0);
        d.route[0].approvers.clear();
        assert!(matches!(define(&CatalogEntry::default(), d), Err(DefinitionError::Invalid { field: "route", .. })));
        let mut d = demo_services().remove(0);
        d.code = "Certificate Of Study".into();
        assert!(matches!(define(&CatalogEntry::default(), d), Err(DefinitionError::Invalid { field: "code", .. })));
    }
}
