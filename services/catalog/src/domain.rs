//! Service definitions, as events: every edit is a new version; pure, no I/O.

use onewindow_eventlog::{Aggregate, RecordedEvent};

use crate::calendar::{CalendarError, WorkingCalendar};

pub const SERVICE_STREAM: &str = "service";
pub const SECTION_STREAM: &str = "section";
pub const DEPARTMENT_STREAM: &str = "department";
pub const CALENDAR_STREAM: &str = "calendar";
/// The one calendar stream of an organisation.
pub const CALENDAR_ID: &str = "working";

/// The latest definition of a section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionEntry(pub Option<Section>);

impl Aggregate for SectionEntry {
    type Event = SectionEvent;
    fn apply(&mut self, event: &SectionEvent, _: &RecordedEvent) {
        let SectionEvent::Defined(section) = event;
        self.0 = Some(section.clone());
    }
}

/// The latest definition of a department.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DepartmentEntry(pub Option<Department>);

impl Aggregate for DepartmentEntry {
    type Event = DepartmentEvent;
    fn apply(&mut self, event: &DepartmentEvent, _: &RecordedEvent) {
        let DepartmentEvent::Defined(department) = event;
        self.0 = Some(department.clone());
    }
}

pub use onewindow_calendar::{CalendarSettings, DayOff, DayTransfer};
pub use onewindow_contracts::{Language, catalog::*};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgCalendar(pub CalendarSettings);

impl Aggregate for OrgCalendar {
    type Event = CalendarEvent;
    fn apply(&mut self, event: &CalendarEvent, _: &RecordedEvent) {
        let CalendarEvent::Adjusted(settings) = event;
        self.0 = settings.clone();
    }
}

/// Kazakhstan's calendar with an organisation's adjustments on top.
pub fn effective_calendar(settings: &CalendarSettings) -> Result<WorkingCalendar, CalendarError> {
    settings.calendar()
}

/// A code for sections, services and departments: 1 to 64 characters of a-z, 0-9 and '-'.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Every department a route names must be known: a typo would route an application to nobody.
pub fn check_route(
    definition: &ServiceDefinition,
    known: &std::collections::BTreeSet<String>,
) -> Result<(), DefinitionError> {
    if definition.route.iter().flat_map(|s| &s.approvers).any(|a| !known.contains(&a.department)) {
        return Err(invalid("route", "names a department the catalog does not know"));
    }
    Ok(())
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
    if !valid_code(&definition.code) {
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
        if stage.required as usize > stage.approvers.len() {
            return Err(invalid("route", "a stage cannot require more approvals than it has approvers"));
        }
        if stage.on_silence != OnSilence::None && stage.time_limit_hours == 0 {
            return Err(invalid("route", "silence can decide only a stage with a time limit"));
        }
    }
    if let Some(position) = definition.route.iter().position(|s| s.signatory)
        && position + 1 != definition.route.len()
    {
        return Err(invalid("route", "the signatory stage is the last one"));
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
                Approver { department: "deans-office".into(), position: "dean".into(), person_id: None },
                Approver { department: "registrar".into(), position: "registrar".into(), person_id: None },
            ],
            ..Stage::default()
        }],
        issues_document: DocumentKind::CertificateOfStudy,
        average_processing_hours: 8,
        section: "registrar".into(),
        document_languages: vec![Language::Kk, Language::Ru, Language::En],
        template_languages: vec![Language::Kk, Language::Ru, Language::En],
        translations_reviewed: true,
        ..ServiceDefinition::default()
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
    fn a_route_may_name_only_known_departments() {
        let d = demo_services().remove(0);
        let known: std::collections::BTreeSet<String> = ["deans-office", "registrar"].map(String::from).into();
        assert_eq!(check_route(&d, &known), Ok(()));
        let only_dean: std::collections::BTreeSet<String> = ["deans-office".to_owned()].into();
        assert!(matches!(check_route(&d, &only_dean), Err(DefinitionError::Invalid { field: "route", .. })));
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

    #[test]
    fn a_stage_may_need_any_one_or_a_quorum_but_not_more_than_it_has() {
        let mut d = demo_services().remove(0);
        let approvers = d.route[0].approvers.len() as u32;
        for required in [0, 1, approvers] {
            d.route[0].required = required;
            assert!(define(&CatalogEntry::default(), d.clone()).is_ok(), "{required} of {approvers}");
        }
        d.route[0].required = approvers + 1;
        let refused = define(&CatalogEntry::default(), d);
        assert!(matches!(refused, Err(DefinitionError::Invalid { field: "route", .. })), "{refused:?}");
    }

    #[test]
    fn stages_carry_time_limits_silence_a_last_signatory_and_named_people() {
        let mut d = demo_services().remove(0);
        d.route[0].time_limit_hours = 16;
        d.route[0].on_silence = OnSilence::Approve;
        d.route[0].approvers[0].person_id = Some(uuid::Uuid::now_v7());
        d.route.push(Stage {
            approvers: vec![Approver {
                department: "rectorate".into(),
                position: "vice-rector".into(),
                person_id: None,
            }],
            signatory: true,
            ..Stage::default()
        });
        d.route_opens_on = RouteOpensOn::Accepted;
        let CatalogEvent::Defined(defined) = define(&CatalogEntry::default(), d.clone()).expect("valid").remove(0);
        let json = serde_json::to_value(&defined).expect("json");
        assert_eq!(json["route"][0]["time_limit_hours"], 16);
        assert_eq!(json["route"][0]["on_silence"], "approve");
        assert_eq!(json["route"][1]["signatory"], true);
        assert_eq!(json["route_opens_on"], "accepted");
        assert_eq!(serde_json::from_value::<ServiceDefinition>(json).expect("reads back"), d);

        let mut early = d.clone();
        early.route.swap(0, 1);
        assert!(matches!(
            define(&CatalogEntry::default(), early),
            Err(DefinitionError::Invalid { field: "route", .. })
        ));
        let mut silent = d;
        silent.route[0].time_limit_hours = 0;
        assert!(matches!(
            define(&CatalogEntry::default(), silent),
            Err(DefinitionError::Invalid { field: "route", .. })
        ));
        // A definition from before these fields reads with their defaults.
        let old = serde_json::json!({ "approvers": [{ "department": "library", "position": "librarian" }] });
        let stage: Stage = serde_json::from_value(old).expect("an old stage");
        assert_eq!((stage.time_limit_hours, stage.on_silence, stage.signatory), (0, OnSilence::None, false));
    }
}
