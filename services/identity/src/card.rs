//! The personal card: who a person is, as the university records it (seed 002's application card). Pure.
//!
//! The card holds the IIN and identity document data, so it lives only in identity's unpublished log, and its
//! `Debug` shows nothing.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};

use crate::{
    contact::{Email, Phone, parse_date},
    iin::Iin,
};

/// Stream type; a card's stream id is its account's user id.
pub const CARD: &str = "card";

const MAX_NAME_CHARS: usize = 100;
const MAX_TEXT_CHARS: usize = 200;

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalCard {
    pub surname: String,
    pub name: String,
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub iin: Iin,
    pub identity_document: Option<IdentityDocument>,
    pub faculty: String,
    pub specialty: String,
    /// 1 to 7 for a student.
    pub course: Option<u8>,
    pub group: String,
    pub address: String,
    pub phone: String,
    pub email: String,
}

impl PersonalCard {
    /// The name as the demo accounts show it: given name, patronymic, surname.
    pub fn full_name(&self) -> String {
        [&self.name, &self.patronymic, &self.surname]
            .into_iter()
            .filter(|part| !part.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for PersonalCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalCard(<personal data hidden>)")
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityDocument {
    pub kind: DocumentKind,
    pub number: String,
    pub issued_by: String,
    pub issue_date: NaiveDate,
}

impl fmt::Debug for IdentityDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityDocument").field("kind", &self.kind).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    IdCard,
    Passport,
    ResidencePermit,
}

impl DocumentKind {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        match value.trim().to_lowercase().as_str() {
            "id_card" => Ok(Self::IdCard),
            "passport" => Ok(Self::Passport),
            "residence_permit" => Ok(Self::ResidencePermit),
            _ => Err("must be id_card, passport or residence_permit"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CardEvent {
    /// The whole card as recorded (created or corrected): a card is always read and written whole.
    #[serde(rename = "card.recorded")]
    Recorded { card: PersonalCard, at: DateTime<Utc> },
}

impl onewindow_eventlog::EventSchema for CardEvent {}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Card {
    pub card: Option<PersonalCard>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Aggregate for Card {
    type Event = CardEvent;
    fn apply(&mut self, event: &CardEvent, _: &RecordedEvent) {
        let CardEvent::Recorded { card, at } = event;
        self.card = Some(card.clone());
        self.updated_at = Some(*at);
    }
}

/// Decides recording a card: nothing when it is unchanged.
pub fn record(existing: &Card, card: PersonalCard, at: DateTime<Utc>) -> Vec<CardEvent> {
    if existing.card.as_ref() == Some(&card) { Vec::new() } else { vec![CardEvent::Recorded { card, at }] }
}

/// A field of a card, named as the CSV import's columns are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardField {
    Surname,
    Name,
    Patronymic,
    BirthDate,
    Iin,
    DocumentType,
    DocumentNumber,
    DocumentIssuedBy,
    DocumentIssueDate,
    Faculty,
    Specialty,
    Course,
    Group,
    Address,
    Phone,
    Email,
}

impl CardField {
    /// The import's column.
    pub fn column(self) -> &'static str {
        match self {
            Self::Surname => "surname",
            Self::Name => "name",
            Self::Patronymic => "patronymic",
            Self::BirthDate => "birth_date",
            Self::Iin => "iin",
            Self::DocumentType => "document_type",
            Self::DocumentNumber => "document_number",
            Self::DocumentIssuedBy => "document_issued_by",
            Self::DocumentIssueDate => "document_issue_date",
            Self::Faculty => "faculty",
            Self::Specialty => "specialty",
            Self::Course => "course",
            Self::Group => "group",
            Self::Address => "address",
            Self::Phone => "phone",
            Self::Email => "email",
        }
    }

    /// The field of the API's `PersonalCard`, for field violations.
    pub fn proto_path(self) -> &'static str {
        match self {
            Self::DocumentType => "identity_document.type",
            Self::DocumentNumber => "identity_document.number",
            Self::DocumentIssuedBy => "identity_document.issued_by",
            Self::DocumentIssueDate => "identity_document.issue_date",
            other => other.column(),
        }
    }
}

/// A card as typed into a form or a CSV row: every field is text until [`parse_card`] checks it.
#[derive(Default)]
pub struct CardForm {
    pub surname: String,
    pub name: String,
    pub patronymic: String,
    pub birth_date: String,
    pub iin: String,
    pub document_type: String,
    pub document_number: String,
    pub document_issued_by: String,
    pub document_issue_date: String,
    pub faculty: String,
    pub specialty: String,
    pub course: String,
    pub group: String,
    pub address: String,
    pub phone: String,
    pub email: String,
}

/// Every problem with one field, in a message that never repeats the value (it may be personal data).
pub type CardProblems = Vec<(CardField, String)>;

/// Checks a typed card on `today`: every problem at once, or the card.
pub fn parse_card(form: &CardForm, today: NaiveDate) -> Result<PersonalCard, CardProblems> {
    let mut problems = CardProblems::new();
    let mut text = |field: CardField, value: &str, required: bool, max: usize| -> String {
        let value = value.trim();
        if required && value.is_empty() {
            problems.push((field, "is required".into()));
        } else if value.chars().count() > max {
            problems.push((field, format!("must be at most {max} characters")));
        } else if value.chars().any(char::is_control) {
            problems.push((field, "must be one line of text".into()));
        }
        value.to_owned()
    };
    let surname = text(CardField::Surname, &form.surname, true, MAX_NAME_CHARS);
    let name = text(CardField::Name, &form.name, true, MAX_NAME_CHARS);
    let patronymic = text(CardField::Patronymic, &form.patronymic, false, MAX_NAME_CHARS);
    let faculty = text(CardField::Faculty, &form.faculty, false, MAX_TEXT_CHARS);
    let specialty = text(CardField::Specialty, &form.specialty, false, MAX_TEXT_CHARS);
    let group = text(CardField::Group, &form.group, false, MAX_TEXT_CHARS);
    let address = text(CardField::Address, &form.address, false, MAX_TEXT_CHARS);

    let birth_date = if form.birth_date.trim().is_empty() {
        problems.push((CardField::BirthDate, "is required".into()));
        None
    } else {
        match parse_date(&form.birth_date) {
            Ok(date) if date > today => {
                problems.push((CardField::BirthDate, "must not be in the future".into()));
                None
            }
            Ok(date) => Some(date),
            Err(message) => {
                problems.push((CardField::BirthDate, message.into()));
                None
            }
        }
    };
    let iin = if form.iin.trim().is_empty() {
        problems.push((CardField::Iin, "is required".into()));
        None
    } else {
        match Iin::parse(&form.iin) {
            Ok(iin) => {
                if let Some(Err(mismatch)) = birth_date.map(|date| iin.check_birth_date(date)) {
                    problems.push((CardField::Iin, mismatch.to_string()));
                }
                Some(iin)
            }
            Err(error) => {
                problems.push((CardField::Iin, error.to_string()));
                None
            }
        }
    };
    let identity_document = parse_document(form, birth_date, today, &mut problems);
    let course = match form.course.trim() {
        "" | "0" => None,
        value => match value.parse::<u8>() {
            Ok(course @ 1..=7) => Some(course),
            _ => {
                problems.push((CardField::Course, "must be a course from 1 to 7 (empty when not a student)".into()));
                None
            }
        },
    };
    let phone = Phone::parse_optional(&form.phone).unwrap_or_else(|message| {
        problems.push((CardField::Phone, message.into()));
        String::new()
    });
    let email = Email::parse_optional(&form.email).unwrap_or_else(|message| {
        problems.push((CardField::Email, message.into()));
        String::new()
    });

    match (birth_date, iin) {
        (Some(birth_date), Some(iin)) if problems.is_empty() => Ok(PersonalCard {
            surname,
            name,
            patronymic,
            birth_date,
            iin,
            identity_document,
            faculty,
            specialty,
            course,
            group,
            address,
            phone,
            email,
        }),
        _ => Err(problems),
    }
}

/// The identity document is optional, but all of it or none of it.
fn parse_document(
    form: &CardForm,
    birth_date: Option<NaiveDate>,
    today: NaiveDate,
    problems: &mut CardProblems,
) -> Option<IdentityDocument> {
    let fields = [
        (CardField::DocumentType, form.document_type.trim()),
        (CardField::DocumentNumber, form.document_number.trim()),
        (CardField::DocumentIssuedBy, form.document_issued_by.trim()),
        (CardField::DocumentIssueDate, form.document_issue_date.trim()),
    ];
    if fields.iter().all(|(_, value)| value.is_empty()) {
        return None;
    }
    let before = problems.len();
    for (field, value) in fields {
        if value.is_empty() {
            problems.push((field, "is required when any identity document field is given".into()));
        }
    }
    let [(_, kind), (_, number), (_, issued_by), (_, issue_date)] = fields;
    let kind = match DocumentKind::parse(kind) {
        Ok(kind) => Some(kind),
        Err(message) if !kind.is_empty() => {
            problems.push((CardField::DocumentType, message.into()));
            None
        }
        Err(_) => None,
    };
    if !number.is_empty() && (number.len() > 32 || !number.chars().all(|c| c.is_ascii_alphanumeric())) {
        problems.push((CardField::DocumentNumber, "must be up to 32 letters and digits".into()));
    }
    if issued_by.chars().count() > MAX_TEXT_CHARS {
        problems.push((CardField::DocumentIssuedBy, format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    let issue_date = match parse_date(issue_date) {
        Ok(date) if date > today => {
            problems.push((CardField::DocumentIssueDate, "must not be in the future".into()));
            None
        }
        Ok(date) if birth_date.is_some_and(|born| date < born) => {
            problems.push((CardField::DocumentIssueDate, "must not be before the birth date".into()));
            None
        }
        Ok(date) => Some(date),
        Err(message) if !issue_date.is_empty() => {
            problems.push((CardField::DocumentIssueDate, message.into()));
            None
        }
        Err(_) => None,
    };
    if problems.len() > before {
        return None;
    }
    Some(IdentityDocument {
        kind: kind?,
        number: number.to_uppercase(),
        issued_by: issued_by.to_owned(),
        issue_date: issue_date?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 9, 1).expect("date")
    }

    /// A complete, valid student card form.
    pub(crate) fn student_form() -> CardForm {
        CardForm {
            surname: "Nurlanova".into(),
            name: "Aruzhan".into(),
            patronymic: "Serikqyzy".into(),
            birth_date: "2005-07-15".into(),
            iin: "050715603456".into(),
            document_type: "id_card".into(),
            document_number: "045123987".into(),
            document_issued_by: "MVD RK".into(),
            document_issue_date: "15.07.2021".into(),
            faculty: "Faculty of Information Technology".into(),
            specialty: "6B06101 Computer Science".into(),
            course: "2".into(),
            group: "CS-23-1".into(),
            address: "Almaty, al-Farabi 71".into(),
            phone: "8 701 123 45 67".into(),
            email: "aruzhan@example.kz".into(),
        }
    }

    fn problems_of(form: &CardForm) -> Vec<(CardField, String)> {
        parse_card(form, today()).expect_err("invalid")
    }

    #[test]
    fn a_complete_card_is_parsed_and_normalised() {
        let card = parse_card(&student_form(), today()).expect("valid");
        assert_eq!(card.full_name(), "Aruzhan Serikqyzy Nurlanova");
        assert_eq!(card.phone, "+77011234567");
        assert_eq!(card.course, Some(2));
        let document = card.identity_document.as_ref().expect("document");
        assert_eq!(
            (document.kind, document.issue_date),
            (DocumentKind::IdCard, NaiveDate::from_ymd_opt(2021, 7, 15).expect("date"))
        );
        assert!(!format!("{card:?}").contains("050715"), "Debug hides personal data");
        assert!(!format!("{document:?}").contains("045123987"), "Debug hides the document number");
    }

    #[test]
    fn a_card_without_document_and_studies_is_a_staff_card() {
        let form = CardForm {
            surname: "Abenova".into(),
            name: "Gauhar".into(),
            birth_date: "31.12.1988".into(),
            iin: "881231401233".into(),
            ..CardForm::default()
        };
        let card = parse_card(&form, today()).expect("valid");
        assert_eq!((card.full_name().as_str(), card.identity_document, card.course), ("Gauhar Abenova", None, None));
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        type Change = fn(&mut CardForm);
        let cases: Vec<(Change, Vec<CardField>)> = vec![
            (|f| f.surname.clear(), vec![CardField::Surname]),
            (|f| f.iin = "050715603457".into(), vec![CardField::Iin]),
            (|f| f.birth_date = "2005-07-16".into(), vec![CardField::Iin]),
            (|f| f.birth_date = "2005-02-30".into(), vec![CardField::BirthDate]),
            (|f| f.birth_date = "2030-01-01".into(), vec![CardField::BirthDate]),
            (|f| f.course = "9".into(), vec![CardField::Course]),
            (|f| f.phone = "call me".into(), vec![CardField::Phone]),
            (|f| f.email = "nope".into(), vec![CardField::Email]),
            (|f| f.document_type = "diploma".into(), vec![CardField::DocumentType]),
            (|f| f.document_number.clear(), vec![CardField::DocumentNumber]),
            (|f| f.document_issue_date = "2001-01-01".into(), vec![CardField::DocumentIssueDate]),
            (
                |f| {
                    f.name.clear();
                    f.iin = "12345".into();
                },
                vec![CardField::Name, CardField::Iin],
            ),
        ];
        for (i, (change, expected)) in cases.into_iter().enumerate() {
            let mut form = student_form();
            change(&mut form);
            let fields: Vec<CardField> = problems_of(&form).into_iter().map(|(field, _)| field).collect();
            assert_eq!(fields, expected, "case {i}");
        }
    }

    #[test]
    fn problems_never_repeat_the_iin() {
        let mut form = student_form();
        form.iin = "050715603457".into();
        for (_, message) in problems_of(&form) {
            assert!(!message.contains("0507156034"), "{message}");
        }
    }
}
