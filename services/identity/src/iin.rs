//! The IIN (ИИН / ЖСН): the 12-digit Kazakh individual identification number.
//!
//! Digits 1–6 are the birth date (YYMMDD), digit 7 the century and sex (1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd
//! is male), digits 8–11 a serial number and digit 12 a check digit over the first eleven.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A valid IIN. Personal data: its `Debug` hides the digits, and it has no `Display`, so it cannot slip into a
/// log line or an error message by formatting.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iin {
    digits: String,
    birth_date: NaiveDate,
    sex: Sex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

/// Why a value is not a valid IIN. The messages never repeat the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IinError {
    #[error("an IIN is exactly 12 digits")]
    Format,
    #[error("the 7th digit of an IIN (century and sex) must be 1 to 6")]
    Century,
    #[error("the first six digits of an IIN must be the birth date (YYMMDD), and this is not a real date")]
    Date,
    #[error("the IIN's check digit is wrong (a mistyped digit?)")]
    CheckDigit,
    #[error("the IIN's first six digits do not match the birth date")]
    BirthDateMismatch,
}

const FIRST_WEIGHTS: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND_WEIGHTS: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The check digit of an IIN's first eleven digits, or `None` when the algorithm yields none (such numbers are
/// never issued).
pub fn check_digit(first_eleven: &[u32; 11]) -> Option<u32> {
    let weighted = |weights: &[u32; 11]| first_eleven.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11;
    match weighted(&FIRST_WEIGHTS) {
        10 => Some(weighted(&SECOND_WEIGHTS)).filter(|&digit| digit != 10),
        digit => Some(digit),
    }
}

impl Iin {
    /// Parses an IIN, ignoring surrounding whitespace.
    pub fn parse(value: &str) -> Result<Self, IinError> {
        let digits = value.trim();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IinError::Format);
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let (century, sex) = match d[6] {
            1 => (1800, Sex::Male),
            2 => (1800, Sex::Female),
            3 => (1900, Sex::Male),
            4 => (1900, Sex::Female),
            5 => (2000, Sex::Male),
            6 => (2000, Sex::Female),
            _ => return Err(IinError::Century),
        };
        let year = century + (d[0] * 10 + d[1]) as i32;
        let birth_date = NaiveDate::from_ymd_opt(year, d[2] * 10 + d[3], d[4] * 10 + d[5]).ok_or(IinError::Date)?;
        let mut first_eleven = [0; 11];
        first_eleven.copy_from_slice(&d[..11]);
        if check_digit(&first_eleven) != Some(d[11]) {
            return Err(IinError::CheckDigit);
        }
        Ok(Self { digits: digits.to_owned(), birth_date, sex })
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The digits, for where personal data is meant to go (the card, to the people allowed to read it).
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The IIN belongs to someone born on `birth_date`.
    pub fn check_birth_date(&self, birth_date: NaiveDate) -> Result<(), IinError> {
        if self.birth_date == birth_date { Ok(()) } else { Err(IinError::BirthDateMismatch) }
    }
}

impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iin(<hidden>)")
    }
}

impl TryFrom<String> for Iin {
    type Error = IinError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Iin> for String {
    fn from(value: Iin) -> Self {
        value.digits
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Completes eleven digits with their check digit, as a test data generator does.
    pub(crate) fn with_check_digit(first_eleven: &str) -> String {
        let mut digits = [0; 11];
        for (slot, c) in digits.iter_mut().zip(first_eleven.chars()) {
            *slot = c.to_digit(10).expect("a digit");
        }
        let check = check_digit(&digits).expect("these digits have a check digit");
        format!("{first_eleven}{check}")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn valid_iins_carry_the_birth_date_century_and_sex() {
        // The check digits of the first five were worked out by hand with the algorithm; the last is generated.
        let cases = [
            ("950524300561", date(1995, 5, 24), Sex::Male),
            ("000101500120", date(2000, 1, 1), Sex::Male),
            ("881231401233", date(1988, 12, 31), Sex::Female),
            ("050715603456", date(2005, 7, 15), Sex::Female),
            // The first weighting gives 10, so the second one (3, 4, …, 11, 1, 2) decides: 2.
            ("030315500102", date(2003, 3, 15), Sex::Male),
            (&with_check_digit("99123120042"), date(1899, 12, 31), Sex::Female),
        ];
        for (digits, birth_date, sex) in cases {
            let iin = Iin::parse(digits).unwrap_or_else(|e| panic!("{digits} should be valid: {e}"));
            assert_eq!((iin.birth_date(), iin.sex()), (birth_date, sex), "{digits}");
            assert_eq!(iin.as_str(), digits);
            iin.check_birth_date(birth_date).expect("matches its own date");
        }
    }

    #[test]
    fn invalid_iins_are_refused_with_the_reason() {
        let cases = [
            ("950524300562", IinError::CheckDigit),
            ("950524300560", IinError::CheckDigit),
            // No check digit exists for these eleven digits, so no twelfth makes them valid.
            ("030315500140", IinError::CheckDigit),
            ("030315500149", IinError::CheckDigit),
            (&with_check_digit("95023030056")[..], IinError::Date),
            ("950230300561", IinError::Date),
            ("951324300561", IinError::Date),
            ("950524000561", IinError::Century),
            ("950524700561", IinError::Century),
            ("95052430056", IinError::Format),
            ("9505243005611", IinError::Format),
            ("95052430056a", IinError::Format),
            ("9505 2430056", IinError::Format),
            ("", IinError::Format),
            ("９５０５２４３００５６１", IinError::Format),
        ];
        for (digits, expected) in cases {
            assert_eq!(Iin::parse(digits), Err(expected), "{digits:?}");
        }
    }

    #[test]
    fn the_date_must_be_real_in_its_century() {
        // 29 February exists in 2000 and 1996, not in 1900.
        assert!(Iin::parse(&with_check_digit("00022950001")).is_ok(), "2000-02-29");
        assert!(Iin::parse(&with_check_digit("96022930001")).is_ok(), "1996-02-29");
        assert_eq!(Iin::parse(&with_check_digit("00022930001")), Err(IinError::Date), "1900-02-29");
    }

    #[test]
    fn the_birth_date_must_match() {
        let iin = Iin::parse("950524300561").expect("valid");
        assert_eq!(iin.check_birth_date(date(1995, 5, 25)), Err(IinError::BirthDateMismatch));
        assert_eq!(iin.check_birth_date(date(2095, 5, 24)), Err(IinError::BirthDateMismatch));
    }

    #[test]
    fn surrounding_spaces_are_ignored_and_the_digits_never_show_in_debug() {
        let iin = Iin::parse(" 950524300561\n").expect("valid");
        assert_eq!(iin.as_str(), "950524300561");
        assert!(!format!("{iin:?}").contains("950524"));
        let json = serde_json::to_string(&iin).expect("serialise");
        assert_eq!(json, "\"950524300561\"");
        assert_eq!(serde_json::from_str::<Iin>(&json).expect("deserialise"), iin);
        assert!(serde_json::from_str::<Iin>("\"950524300562\"").is_err());
    }
}
