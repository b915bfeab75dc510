//! Values with rules that accounts, cards and profiles share: e-mail addresses, phone numbers, languages, dates,
//! and notification preferences.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An e-mail address, checked for shape only (delivery proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        let valid = value.len() <= 254
            && !value.chars().any(char::is_whitespace)
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid { Ok(Self(value.to_owned())) } else { Err("must be an e-mail address such as name@example.kz") }
    }

    /// Empty means "none".
    pub fn parse_optional(value: &str) -> Result<String, &'static str> {
        if value.trim().is_empty() { Ok(String::new()) } else { Self::parse(value).map(String::from) }
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// A phone number in E.164 (`+77011234567`). Spaces, dashes and brackets are dropped; a Kazakh `8 7xx` number
/// becomes `+7 7xx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
        let digits = match compact.strip_prefix('+') {
            Some(rest) => rest.to_owned(),
            None if compact.len() == 11 && compact.starts_with('8') => format!("7{}", &compact[1..]),
            None => compact,
        };
        if (10..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(format!("+{digits}")))
        } else {
            Err("must be a phone number such as +7 701 123 45 67")
        }
    }

    pub fn parse_optional(value: &str) -> Result<String, &'static str> {
        if value.trim().is_empty() { Ok(String::new()) } else { Self::parse(value).map(String::from) }
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

/// The languages the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Kk,
    Ru,
    En,
}

impl Language {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        match value.trim().to_lowercase().as_str() {
            "kk" => Ok(Self::Kk),
            "ru" => Ok(Self::Ru),
            "en" => Ok(Self::En),
            _ => Err("must be \"kk\", \"ru\" or \"en\""),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Kk => "kk",
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InSystem,
    Email,
}

/// Whether a person receives one kind of notification on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPreference {
    pub kind: String,
    pub channel: Channel,
    pub enabled: bool,
}

/// A notification kind is an event type: `application.submitted`, `document.issued`.
pub fn check_notification_kind(kind: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = kind.split('.').collect();
    let valid = kind.len() <= 100
        && parts.len() >= 2
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    if valid { Ok(()) } else { Err("must be an event type such as \"application.submitted\"") }
}

/// A date as people write it here: `2005-07-15` or `15.07.2005`.
pub fn parse_date(value: &str) -> Result<NaiveDate, &'static str> {
    let value = value.trim();
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d.%m.%Y"))
        .map_err(|_| "must be a date such as 2005-07-15 (or 15.07.2005)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_shape() {
        for ok in ["a@example.kz", " aruzhan.s+cab@kaznu.edu.kz "] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "a@b", "@example.kz", "a@@example.kz", "a b@example.kz", "a@.kz", "a@kz."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse_optional("  "), Ok(String::new()));
    }

    #[test]
    fn phones_become_e164() {
        let cases = [
            ("+7 701 123 45 67", Some("+77011234567")),
            ("8 (701) 123-45-67", Some("+77011234567")),
            ("77011234567", Some("+77011234567")),
            ("+44 20 7946 0958", Some("+442079460958")),
            ("12345", None),
            ("+7 701 ABC 45 67", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(Phone::parse(input).ok().map(String::from).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn languages_dates_and_kinds() {
        assert_eq!(Language::parse(" KK "), Ok(Language::Kk));
        assert!(Language::parse("de").is_err());
        let date = NaiveDate::from_ymd_opt(2005, 7, 15).expect("date");
        assert_eq!(parse_date("2005-07-15"), Ok(date));
        assert_eq!(parse_date("15.07.2005"), Ok(date));
        assert!(parse_date("2005-02-30").is_err());
        assert!(check_notification_kind("application.submitted").is_ok());
        assert!(check_notification_kind("submitted").is_err());
        assert!(check_notification_kind("Application.Submitted").is_err());
    }
}
