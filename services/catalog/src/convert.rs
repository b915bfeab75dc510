//! Between the catalog's domain types and its protobuf messages, both ways.

use onewindow_proto::catalog::v1 as pb;
use onewindow_server::FieldErrors;

use crate::domain::{
    Approver, Department, DocumentKind, Fee, Language, Localized, OnSilence, RequiredDocument, RouteOpensOn, Section,
    ServiceDefinition, ServiceForm, Stage, Standard,
};

fn text(l: &Localized) -> pb::LocalizedText {
    pb::LocalizedText { kk: l.kk.clone(), ru: l.ru.clone(), en: l.en.clone() }
}

fn localized(t: Option<pb::LocalizedText>) -> Localized {
    let t = t.unwrap_or_default();
    Localized { kk: t.kk, ru: t.ru, en: t.en }
}

fn language_code(l: Language) -> String {
    match l {
        Language::Kk => "kk",
        Language::Ru => "ru",
        Language::En => "en",
    }
    .into()
}

fn language(code: &str) -> Option<Language> {
    match code {
        "kk" => Some(Language::Kk),
        "ru" => Some(Language::Ru),
        "en" => Some(Language::En),
        _ => None,
    }
}

fn form_pb(f: ServiceForm) -> pb::ServiceForm {
    match f {
        ServiceForm::Automated => pb::ServiceForm::Automated,
        ServiceForm::Paper => pb::ServiceForm::Paper,
        ServiceForm::Electronic => pb::ServiceForm::Electronic,
        ServiceForm::Oral => pb::ServiceForm::Oral,
    }
}

pub fn section_pb(s: &Section) -> pb::Section {
    pb::Section { code: s.code.clone(), parent: s.parent.clone().unwrap_or_default(), name: Some(text(&s.name)) }
}

pub fn department_pb(d: &Department) -> pb::Department {
    pb::Department { code: d.code.clone(), name: Some(text(&d.name)) }
}

pub fn department_from_pb(d: Option<pb::Department>) -> Result<Department, tonic::Status> {
    let d = d.ok_or_else(|| FieldErrors::one("department", "is required"))?;
    let department = Department { code: d.code.trim().to_owned(), name: localized(d.name) };
    let mut errors = FieldErrors::new();
    errors.check(
        crate::domain::valid_code(&department.code),
        "department.code",
        "1 to 64 characters of a-z, 0-9 and '-'",
    );
    let n = &department.name;
    errors.check(
        ![&n.kk, &n.ru, &n.en].iter().any(|t| t.trim().is_empty()),
        "department.name",
        "is required in kk, ru and en",
    );
    errors.into_result()?;
    Ok(department)
}

pub fn definition_pb(version: i64, d: &ServiceDefinition) -> pb::ServiceDefinition {
    let (fee_kind, amount) = match d.fee {
        Fee::Free => (pb::FeeKind::Free, 0),
        Fee::Paid { amount_kzt } => (pb::FeeKind::Paid, amount_kzt as i64),
        Fee::Mixed { amount_kzt } => (pb::FeeKind::Mixed, amount_kzt.unwrap_or(0) as i64),
    };
    pb::ServiceDefinition {
        code: d.code.clone(),
        version,
        name: Some(text(&d.name)),
        office: d.office.clone(),
        route: Some(pb::Route {
            stages: d
                .route
                .iter()
                .map(|stage| pb::RouteStage {
                    required: stage.required as i32,
                    approvers: stage
                        .approvers
                        .iter()
                        .map(|a| pb::RouteApprover {
                            department: a.department.clone(),
                            position: a.position.clone(),
                            person_id: a.person_id.map(|id| id.to_string()).unwrap_or_default(),
                        })
                        .collect(),
                    time_limit_hours: i32::try_from(stage.time_limit_hours).unwrap_or(i32::MAX),
                    on_silence: match stage.on_silence {
                        OnSilence::None => pb::OnSilence::Unspecified,
                        OnSilence::Approve => pb::OnSilence::Approve,
                        OnSilence::Reject => pb::OnSilence::Reject,
                    } as i32,
                    signatory: stage.signatory,
                })
                .collect(),
        }),
        issues_document: match d.issues_document {
            DocumentKind::None => pb::DocumentType::None,
            DocumentKind::CertificateOfStudy => pb::DocumentType::CertificateOfStudy,
            DocumentKind::CertificateOfStipend => pb::DocumentType::CertificateOfStipend,
            DocumentKind::ClearanceSheet => pb::DocumentType::ClearanceSheet,
            DocumentKind::Order => pb::DocumentType::Order,
        } as i32,
        average_processing_hours: d.average_processing_hours as i32,
        section: d.section.clone(),
        description: Some(text(&d.description)),
        steps: d.steps.iter().map(text).collect(),
        standard: Some(pb::ServiceStandard {
            term: Some(text(&d.standard.term)),
            max_waiting_minutes: d.standard.max_waiting_minutes.map(|m| m as i32),
            max_service_minutes: d.standard.max_service_minutes.map(|m| m as i32),
        }),
        result: Some(text(&d.result)),
        fee: Some(pb::Fee { kind: fee_kind as i32, amount_kzt: amount }),
        forms: d.forms.iter().map(|f| form_pb(*f) as i32).collect(),
        required_documents: d
            .required_documents
            .iter()
            .map(|r| pb::RequiredDocument {
                name: Some(text(&r.name)),
                max_files: r.max_files as i32,
                required: r.required,
            })
            .collect(),
        reasons: d.reasons.iter().map(text).collect(),
        template_languages: d.template_languages.iter().map(|l| language_code(*l)).collect(),
        document_languages: d.document_languages.iter().map(|l| language_code(*l)).collect(),
        translations_reviewed: d.translations_reviewed,
        route_opens_on: match d.route_opens_on {
            RouteOpensOn::Submitted => pb::RouteOpensOn::Submitted,
            RouteOpensOn::Accepted => pb::RouteOpensOn::Accepted,
        } as i32,
    }
}

fn person_id(raw: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(raw.trim()).ok()
}

fn non_negative(errors: &mut FieldErrors, field: &str, value: i32) -> u32 {
    errors.check(value >= 0, field, "must not be negative");
    value.max(0) as u32
}

/// A definition sent by an administrator, with every invalid field reported at once.
pub fn definition_from_pb(d: Option<pb::ServiceDefinition>) -> Result<ServiceDefinition, tonic::Status> {
    let d = d.ok_or_else(|| FieldErrors::one("service", "is required"))?;
    let mut errors = FieldErrors::new();
    let issues_document = match pb::DocumentType::try_from(d.issues_document) {
        Ok(pb::DocumentType::Unspecified | pb::DocumentType::None) => DocumentKind::None,
        Ok(pb::DocumentType::CertificateOfStudy) => DocumentKind::CertificateOfStudy,
        Ok(pb::DocumentType::CertificateOfStipend) => DocumentKind::CertificateOfStipend,
        Ok(pb::DocumentType::ClearanceSheet) => DocumentKind::ClearanceSheet,
        Ok(pb::DocumentType::Order) => DocumentKind::Order,
        Err(_) => {
            errors.add("service.issues_document", "is not a known document type");
            DocumentKind::None
        }
    };
    let fee = d.fee.unwrap_or_default();
    let amount = u64::try_from(fee.amount_kzt).ok();
    errors.check(amount.is_some(), "service.fee.amount_kzt", "must not be negative");
    let fee = match pb::FeeKind::try_from(fee.kind) {
        Ok(pb::FeeKind::Paid) => {
            errors.check(fee.amount_kzt > 0, "service.fee.amount_kzt", "a paid service needs its amount");
            Fee::Paid { amount_kzt: amount.unwrap_or(0) }
        }
        Ok(pb::FeeKind::Mixed) => Fee::Mixed { amount_kzt: amount.filter(|a| *a > 0) },
        Ok(pb::FeeKind::Free | pb::FeeKind::Unspecified) => Fee::Free,
        Err(_) => {
            errors.add("service.fee.kind", "is not a known fee kind");
            Fee::Free
        }
    };
    let mut forms = Vec::new();
    for f in d.forms {
        match pb::ServiceForm::try_from(f) {
            Ok(pb::ServiceForm::Automated) => forms.push(ServiceForm::Automated),
            Ok(pb::ServiceForm::Paper) => forms.push(ServiceForm::Paper),
            Ok(pb::ServiceForm::Electronic) => forms.push(ServiceForm::Electronic),
            Ok(pb::ServiceForm::Oral) => forms.push(ServiceForm::Oral),
            _ => {
                errors.add("service.forms", "holds an unknown form");
            }
        }
    }
    let mut languages = |field: &str, codes: Vec<String>| -> Vec<Language> {
        let parsed: Vec<_> = codes.iter().filter_map(|c| language(c)).collect();
        errors.check(parsed.len() == codes.len(), field, "languages are \"kk\", \"ru\" and \"en\"");
        parsed
    };
    let template_languages = languages("service.template_languages", d.template_languages);
    let document_languages = languages("service.document_languages", d.document_languages);
    let standard = d.standard.unwrap_or_default();
    let average_processing_hours =
        non_negative(&mut errors, "service.average_processing_hours", d.average_processing_hours);
    let max_waiting =
        standard.max_waiting_minutes.map(|m| non_negative(&mut errors, "service.standard.max_waiting_minutes", m));
    let max_service =
        standard.max_service_minutes.map(|m| non_negative(&mut errors, "service.standard.max_service_minutes", m));
    let required_documents = d
        .required_documents
        .into_iter()
        .map(|r| RequiredDocument {
            name: localized(r.name),
            max_files: r.max_files.max(1) as u32,
            required: r.required,
        })
        .collect();
    for stage in d.route.iter().flat_map(|r| &r.stages) {
        errors.check(stage.time_limit_hours >= 0, "service.route.stages.time_limit_hours", "must not be negative");
        let ids_ok = stage.approvers.iter().all(|a| a.person_id.trim().is_empty() || person_id(&a.person_id).is_some());
        errors.check(ids_ok, "service.route.stages.approvers.person_id", "must be a user id (a UUID) or empty");
    }
    errors.into_result()?;
    Ok(ServiceDefinition {
        code: d.code.trim().to_owned(),
        name: localized(d.name),
        office: d.office.trim().to_owned(),
        route: d
            .route
            .unwrap_or_default()
            .stages
            .into_iter()
            .map(|stage| Stage {
                // Negative counts are refused with the other route checks (`required` above the approvers).
                required: u32::try_from(stage.required).unwrap_or(u32::MAX),
                approvers: stage
                    .approvers
                    .into_iter()
                    .map(|a| Approver {
                        department: a.department.trim().to_owned(),
                        position: a.position.trim().to_owned(),
                        person_id: person_id(&a.person_id),
                    })
                    .collect(),
                time_limit_hours: stage.time_limit_hours.max(0) as u32,
                on_silence: match pb::OnSilence::try_from(stage.on_silence) {
                    Ok(pb::OnSilence::Approve) => OnSilence::Approve,
                    Ok(pb::OnSilence::Reject) => OnSilence::Reject,
                    _ => OnSilence::None,
                },
                signatory: stage.signatory,
            })
            .collect(),
        route_opens_on: match pb::RouteOpensOn::try_from(d.route_opens_on) {
            Ok(pb::RouteOpensOn::Accepted) => RouteOpensOn::Accepted,
            _ => RouteOpensOn::Submitted,
        },
        issues_document,
        average_processing_hours,
        section: d.section.trim().to_owned(),
        description: localized(d.description),
        steps: d.steps.into_iter().map(|s| localized(Some(s))).collect(),
        standard: Standard {
            term: localized(standard.term),
            max_waiting_minutes: max_waiting,
            max_service_minutes: max_service,
        },
        result: localized(d.result),
        fee,
        forms,
        required_documents,
        reasons: d.reasons.into_iter().map(|r| localized(Some(r))).collect(),
        template_languages,
        document_languages,
        translations_reviewed: d.translations_reviewed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::demo_services;

    #[test]
    fn a_definition_survives_the_round_trip_through_protobuf() {
        let mut d = demo_services().remove(0);
        d.fee = Fee::Paid { amount_kzt: 7500 };
        d.forms = vec![ServiceForm::Electronic, ServiceForm::Paper];
        d.standard.max_service_minutes = Some(20);
        d.required_documents = vec![RequiredDocument { name: d.name.clone(), max_files: 3, required: true }];
        let back = definition_from_pb(Some(definition_pb(4, &d))).expect("valid");
        assert_eq!(back, d);
        d.route_opens_on = RouteOpensOn::Accepted;
        d.route[0].time_limit_hours = 24;
        d.route[0].on_silence = OnSilence::Reject;
        d.route[0].approvers[1].person_id = Some(uuid::Uuid::now_v7());
        d.route.push(Stage {
            approvers: vec![Approver {
                department: "rectorate".into(),
                position: "vice-rector".into(),
                person_id: None,
            }],
            signatory: true,
            ..Stage::default()
        });
        let back = definition_from_pb(Some(definition_pb(5, &d))).expect("valid");
        assert_eq!(back, d, "the route's timing, silence, signatory and named person survive too");
        let mut bad = definition_pb(5, &d);
        if let Some(route) = bad.route.as_mut() {
            route.stages[0].approvers[0].person_id = "not-a-uuid".into();
            route.stages[0].time_limit_hours = -1;
        }
        let status = definition_from_pb(Some(bad)).expect_err("invalid");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let mut message = definition_pb(1, &demo_services().remove(0));
        message.fee = Some(pb::Fee { kind: pb::FeeKind::Paid as i32, amount_kzt: 0 });
        message.template_languages = vec!["de".into()];
        message.average_processing_hours = -1;
        let status = definition_from_pb(Some(message)).expect_err("invalid");
        for field in ["service.fee.amount_kzt", "service.template_languages", "service.average_processing_hours"] {
            assert!(status.message().contains(field), "{field} in {}", status.message());
        }
    }
}

pub mod calendar {
    //! Calendar settings: dates as "YYYY-MM-DD", times as "HH:MM".

    use chrono::{NaiveDate, NaiveTime};
    use onewindow_proto::catalog::v1 as pb;
    use onewindow_server::FieldErrors;

    use crate::domain::{CalendarSettings, DayOff, DayTransfer};

    fn time(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<NaiveTime> {
        if raw.trim().is_empty() {
            return None;
        }
        let parsed = NaiveTime::parse_from_str(raw.trim(), "%H:%M").ok();
        errors.check(parsed.is_some(), field, "must be a time as HH:MM");
        parsed
    }

    fn date(errors: &mut FieldErrors, field: &str, raw: &str) -> NaiveDate {
        let parsed = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok();
        errors.check(parsed.is_some(), field, "must be a date as YYYY-MM-DD");
        parsed.unwrap_or_default()
    }

    pub fn settings_from_pb(settings: Option<pb::CalendarSettings>) -> Result<CalendarSettings, tonic::Status> {
        let s = settings.ok_or_else(|| FieldErrors::one("settings", "is required"))?;
        let mut errors = FieldErrors::new();
        let opens = time(&mut errors, "settings.opens", &s.opens);
        let closes = time(&mut errors, "settings.closes", &s.closes);
        let extra_days_off = s
            .extra_days_off
            .iter()
            .enumerate()
            .map(|(i, d)| DayOff {
                date: date(&mut errors, &format!("settings.extra_days_off[{i}].date"), &d.date),
                name: d.name.trim().to_owned(),
            })
            .collect();
        let transfers = s
            .transfers
            .iter()
            .enumerate()
            .map(|(i, t)| DayTransfer {
                day_off: date(&mut errors, &format!("settings.transfers[{i}].day_off"), &t.day_off),
                working_day: date(&mut errors, &format!("settings.transfers[{i}].working_day"), &t.working_day),
            })
            .collect();
        errors.into_result()?;
        Ok(CalendarSettings { opens, closes, extra_days_off, transfers })
    }

    pub fn day_off_pb(date: NaiveDate, name: &str) -> pb::DayOff {
        pb::DayOff { date: date.format("%Y-%m-%d").to_string(), name: name.to_owned() }
    }

    pub fn settings_pb(s: &CalendarSettings) -> pb::CalendarSettings {
        let hhmm = |t: Option<NaiveTime>| t.map(|t| t.format("%H:%M").to_string()).unwrap_or_default();
        pb::CalendarSettings {
            opens: hhmm(s.opens),
            closes: hhmm(s.closes),
            extra_days_off: s.extra_days_off.iter().map(|d| day_off_pb(d.date, &d.name)).collect(),
            transfers: s
                .transfers
                .iter()
                .map(|t| pb::DayTransfer {
                    day_off: t.day_off.format("%Y-%m-%d").to_string(),
                    working_day: t.working_day.format("%Y-%m-%d").to_string(),
                })
                .collect(),
        }
    }
}
