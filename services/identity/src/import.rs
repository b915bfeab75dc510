//! Checking a CSV of accounts to import: every problem of every row, or every row ready to create. Pure: what
//! already exists comes in as [`Existing`].
//!
//! Rows are numbered as a spreadsheet numbers them (the header is row 1), problems are named by column, and no
//! message repeats a value (a value may be an IIN).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use onewindow_auth::Role;

use crate::{
    account::{distinct_roles, normalise_login},
    card::{CardForm, PersonalCard, parse_card},
    iin::Iin,
    role_named,
};

/// All rows are created in one transaction, which the event log writes as one statement (13 values per event,
/// 3 events per row): 500 rows stay well under SQLite's 32766 and PostgreSQL's 65535 bound values.
pub const MAX_ROWS: usize = 500;

/// The columns every file has (values may be empty except [`REQUIRED_VALUES`]).
pub const COLUMNS: [&str; 15] = [
    "login",
    "surname",
    "name",
    "patronymic",
    "birth_date",
    "iin",
    "roles",
    "department",
    "position",
    "faculty",
    "specialty",
    "course",
    "group",
    "email",
    "phone",
];

/// Columns a file may add.
pub const OPTIONAL_COLUMNS: [&str; 5] =
    ["address", "document_type", "document_number", "document_issued_by", "document_issue_date"];

const MAX_POST_CHARS: usize = 200;

/// What already exists in the organisation.
#[derive(Debug, Default)]
pub struct Existing {
    pub logins: HashSet<String>,
    pub iins: HashSet<Iin>,
}

/// One row, ready to become an account and its card.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub row: usize,
    pub login: String,
    pub roles: Vec<Role>,
    pub department: String,
    pub position: String,
    pub card: PersonalCard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub row: usize,
    /// The column's header name; empty when the problem is the whole row.
    pub column: String,
    pub message: String,
}

#[derive(Debug)]
pub enum Checked {
    Valid(Vec<ImportRow>),
    /// Nothing may be imported.
    Invalid(Vec<Problem>),
}

/// A file refused as a whole, before its rows are looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefused {
    #[error("is empty: a header row and at least one account row are needed")]
    Empty,
    #[error("has more than {MAX_ROWS} rows: split the file")]
    TooManyRows,
}

/// Checks a CSV file on `today` against what `existing` holds.
pub fn check(csv_text: &str, existing: &Existing, today: NaiveDate) -> Result<Checked, FileRefused> {
    let text = csv_text.strip_prefix('\u{feff}').unwrap_or(csv_text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(|name| name.trim().to_lowercase()).collect(),
        Err(_) => return Err(FileRefused::Empty),
    };
    if header.iter().all(String::is_empty) {
        return Err(FileRefused::Empty);
    }
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => records.push(record),
            Err(error) => {
                let row = error.position().map_or(0, |p| p.line() as usize);
                problems.push(Problem { row, column: String::new(), message: "cannot be read as CSV".into() });
            }
        }
        if records.len() > MAX_ROWS {
            return Err(FileRefused::TooManyRows);
        }
    }
    if records.is_empty() && problems.is_empty() {
        return Err(FileRefused::Empty);
    }
    let header_problems = check_header(&header);
    if !header_problems.is_empty() {
        return Ok(Checked::Invalid(header_problems));
    }

    let column = |name: &str| header.iter().position(|h| h == name);
    let mut rows = Vec::new();
    let mut logins_seen: HashMap<String, usize> = HashMap::new();
    let mut iins_seen: HashMap<Iin, usize> = HashMap::new();
    for record in &records {
        let row = record.position().map_or(0, |p| p.line() as usize);
        if record.len() != header.len() {
            problems.push(Problem {
                row,
                column: String::new(),
                message: format!("has {} values but the header has {} columns", record.len(), header.len()),
            });
            continue;
        }
        let value = |name: &str| column(name).and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let mut problem = |column: &str, message: String| {
            problems.push(Problem { row, column: column.to_owned(), message });
        };

        let login = match normalise_login(&value("login")) {
            Ok(login) if existing.logins.contains(&login) => {
                problem("login", "an account with this login exists already".into());
                None
            }
            Ok(login) => match logins_seen.get(&login) {
                Some(first) => {
                    problem("login", format!("the same login as row {first}"));
                    None
                }
                None => {
                    logins_seen.insert(login.clone(), row);
                    Some(login)
                }
            },
            Err(error) => {
                problem("login", error.to_string());
                None
            }
        };
        let roles = parse_roles(&value("roles")).map_err(|message| problem("roles", message)).ok();
        let department = value("department");
        let position = value("position");
        for (name, text) in [("department", &department), ("position", &position)] {
            if text.chars().count() > MAX_POST_CHARS {
                problem(name, format!("must be at most {MAX_POST_CHARS} characters"));
            }
        }
        let form = CardForm {
            surname: value("surname"),
            name: value("name"),
            patronymic: value("patronymic"),
            birth_date: value("birth_date"),
            iin: value("iin"),
            document_type: value("document_type"),
            document_number: value("document_number"),
            document_issued_by: value("document_issued_by"),
            document_issue_date: value("document_issue_date"),
            faculty: value("faculty"),
            specialty: value("specialty"),
            course: value("course"),
            group: value("group"),
            address: value("address"),
            phone: value("phone"),
            email: value("email"),
        };
        let card = match parse_card(&form, today) {
            Ok(card) => {
                if existing.iins.contains(&card.iin) {
                    problem("iin", "is already on another account's card".into());
                    None
                } else if let Some(first) = iins_seen.get(&card.iin) {
                    problem("iin", format!("the same IIN as row {first}"));
                    None
                } else {
                    iins_seen.insert(card.iin.clone(), row);
                    Some(card)
                }
            }
            Err(card_problems) => {
                for (field, message) in card_problems {
                    problem(field.column(), message);
                }
                None
            }
        };
        if let (Some(login), Some(roles), Some(card)) = (login, roles, card) {
            rows.push(ImportRow { row, login, roles, department, position, card });
        }
    }
    if problems.is_empty() { Ok(Checked::Valid(rows)) } else { Ok(Checked::Invalid(problems)) }
}

/// Excel in a Russian or Kazakh locale saves CSV with semicolons.
fn delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.contains(';') && !first_line.contains(',') { b';' } else { b',' }
}

fn check_header(header: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |column: &str, message: &str| {
        problems.push(Problem { row: 1, column: column.to_owned(), message: message.to_owned() });
    };
    for (i, name) in header.iter().enumerate() {
        if header[..i].contains(name) {
            problem(name, "appears twice in the header");
        } else if !COLUMNS.contains(&name.as_str()) && !OPTIONAL_COLUMNS.contains(&name.as_str()) {
            problem(name, "is not a column the import knows");
        }
    }
    for name in COLUMNS {
        if !header.iter().any(|h| h == name) {
            problem(name, "is missing from the header");
        }
    }
    problems
}

/// Role names separated by spaces, commas, semicolons or `|`.
fn parse_roles(value: &str) -> Result<Vec<Role>, String> {
    let names: Vec<&str> = value.split([',', ';', '|', ' ']).map(str::trim).filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return Err("at least one role is needed".into());
    }
    let unknown: Vec<&str> = names.iter().copied().filter(|name| role_named(name).is_none()).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown role {}: roles are applicant, approver, executor, admin, signatory, integrator",
            unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(distinct_roles(names.into_iter().filter_map(role_named)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::tests::today;

    const HEADER: &str = "login,surname,name,patronymic,birth_date,iin,roles,department,position,faculty,specialty,\
                          course,group,email,phone";

    fn file(rows: &[&str]) -> String {
        [HEADER].iter().chain(rows).copied().collect::<Vec<_>>().join("\n")
    }

    const ARUZHAN: &str = "aruzhan,Nurlanova,Aruzhan,Serikqyzy,2005-07-15,050715603456,applicant,,,IT,CS,2,CS-23-1,\
                           aruzhan@example.kz,+77011234567";
    const DIAS: &str =
        "dias,Ospanov,Dias,Muratuly,24.05.1995,950524300561,\"approver;signatory\",deans-office,dean,,,,,,";

    fn problems(checked: Checked) -> Vec<(usize, String)> {
        match checked {
            Checked::Invalid(problems) => problems.into_iter().map(|p| (p.row, p.column)).collect(),
            Checked::Valid(rows) => panic!("expected problems, got {} valid rows", rows.len()),
        }
    }

    #[test]
    fn good_rows_become_accounts_and_cards() {
        let Ok(Checked::Valid(rows)) = check(&file(&[ARUZHAN, DIAS]), &Existing::default(), today()) else {
            panic!("valid file")
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].row, rows[0].login.as_str(), rows[0].roles.as_slice()),
            (2, "aruzhan", &[Role::Applicant][..])
        );
        assert_eq!(rows[1].roles, [Role::Approver, Role::Signatory]);
        assert_eq!((rows[1].department.as_str(), rows[1].card.course), ("deans-office", None));
    }

    #[test]
    fn semicolons_a_byte_order_mark_and_optional_columns_are_understood() {
        let text = format!(
            "\u{feff}{};address;document_type;document_number;document_issued_by;document_issue_date\n{};Almaty;passport;N1234567;MVD RK;2021-07-20",
            HEADER.replace(',', ";"),
            ARUZHAN.replace(',', ";")
        );
        let Ok(Checked::Valid(rows)) = check(&text, &Existing::default(), today()) else { panic!("valid file") };
        assert_eq!(rows[0].card.address, "Almaty");
        assert!(rows[0].card.identity_document.is_some());
    }

    #[test]
    fn every_bad_row_is_reported_by_row_and_column() {
        let existing = Existing { logins: HashSet::from(["taken".to_owned()]), iins: HashSet::new() };
        let text = file(&[
            ARUZHAN,
            // row 3: a wrong check digit
            &DIAS.replace("950524300561", "950524300562"),
            // row 4: an unknown role
            &ARUZHAN
                .replace("aruzhan,", "bolat,")
                .replace("050715603456", "881231401233")
                .replace("2005-07-15", "1988-12-31")
                .replace("applicant", "rector"),
            // row 5: the same login as row 2 and the same IIN
            ARUZHAN,
            // row 6: a login that exists
            &DIAS.replace("dias,", "taken,"),
            // row 7: too few values
            "short,row",
        ]);
        let found = problems(check(&text, &existing, today()).expect("checked"));
        let expected: Vec<(usize, String)> =
            [(3, "iin"), (4, "roles"), (5, "login"), (5, "iin"), (6, "login"), (7, "")]
                .into_iter()
                .map(|(row, column)| (row, column.to_owned()))
                .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_card_already_holding_the_iin_is_a_problem() {
        let iin = Iin::parse("050715603456").expect("valid");
        let existing = Existing { logins: HashSet::new(), iins: HashSet::from([iin]) };
        let found = problems(check(&file(&[ARUZHAN]), &existing, today()).expect("checked"));
        assert_eq!(found, [(2, "iin".to_owned())]);
    }

    #[test]
    fn the_header_must_name_every_column_once_and_no_unknown_one() {
        let text = format!("{},emial,login\n{ARUZHAN},x,y", HEADER.replace("phone", "phon"));
        let found = problems(check(&text, &Existing::default(), today()).expect("checked"));
        assert_eq!(
            found,
            [(1, "phon".to_owned()), (1, "emial".to_owned()), (1, "login".to_owned()), (1, "phone".to_owned())]
        );
    }

    #[test]
    fn empty_and_oversized_files_are_refused_whole() {
        assert_eq!(check("", &Existing::default(), today()).err(), Some(FileRefused::Empty));
        assert_eq!(check(HEADER, &Existing::default(), today()).err(), Some(FileRefused::Empty));
        let rows: Vec<String> = (0..=MAX_ROWS).map(|i| ARUZHAN.replace("aruzhan,", &format!("s{i:04},"))).collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        assert_eq!(check(&file(&rows), &Existing::default(), today()).err(), Some(FileRefused::TooManyRows));
    }
}
