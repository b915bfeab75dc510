//! How dates, times and amounts are written in each language, and the time zone they are shown in.
//!
//! Times are stored in UTC and printed in Kazakhstan time: the country has used a single zone, UTC+05:00, since
//! 1 March 2024 (Asia/Almaty moved to it from UTC+06:00), so a fixed offset needs no time-zone database. A time
//! before that change would be shown in today's offset rather than the one then in force; the service issues no
//! such documents. Local dates keep a document signed at 20:00 UTC from carrying yesterday's date, and the offset is
//! written next to every time so a reader abroad never has to guess.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::Language;

const KAZAKHSTAN: FixedOffset = match FixedOffset::east_opt(5 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+05:00 is a valid offset"),
};

/// Written after every time, so a reader abroad knows which clock it is.
const ZONE_LABEL: &str = "UTC+05:00";

/// No-break space: digit groups, an amount and its currency, a time and its zone never part at a line end.
const NBSP: char = '\u{a0}';

fn local(at: &DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&KAZAKHSTAN)
}

/// The calendar date in Kazakhstan.
pub(super) fn date(language: Language, at: &DateTime<Utc>) -> String {
    calendar_date(language, &local(at).date_naive())
}

pub(super) fn calendar_date(language: Language, date: &NaiveDate) -> String {
    match language {
        // Day.month.year is how dates are written on Kazakh and Russian documents.
        Language::Kk | Language::Ru => date.format("%d.%m.%Y").to_string(),
        // A spelled-out month cannot be misread as month/day by an English reader. No-break spaces keep the date
        // on one line.
        Language::En => date.format("%-d\u{a0}%B\u{a0}%Y").to_string(),
    }
}

/// e.g. "17.03.2026 14:30 (UTC+05:00)" or "17 March 2026, 14:30 (UTC+05:00)"; the time and its zone stay on one
/// line.
pub(super) fn date_time(language: Language, at: &DateTime<Utc>) -> String {
    let time = local(at).format("%H:%M");
    match language {
        Language::Kk | Language::Ru => format!("{} {time}{NBSP}({ZONE_LABEL})", date(language, at)),
        Language::En => format!("{}, {time}{NBSP}({ZONE_LABEL})", date(language, at)),
    }
}

/// An amount of tenge: "42 000 ₸" in Kazakh and Russian (space-grouped, sign after, as in the national currency's
/// usage), "KZT 42,000" in English (the ISO code first, comma-grouped).
pub(super) fn tenge(language: Language, amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    match language {
        Language::Kk | Language::Ru => format!("{sign}{}{NBSP}₸", grouped(amount.unsigned_abs(), NBSP)),
        Language::En => format!("KZT{NBSP}{sign}{}", grouped(amount.unsigned_abs(), ',')),
    }
}

fn grouped(amount: u64, separator: char) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// "1st", "2nd", "3rd", "4th" ... "11th", "12th", "13th", "21st".
pub(super) fn english_ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn amounts_are_grouped_by_language() {
        assert_eq!(tenge(Language::Ru, 42_000), "42\u{a0}000\u{a0}₸");
        assert_eq!(tenge(Language::Kk, 1_234_567), "1\u{a0}234\u{a0}567\u{a0}₸");
        assert_eq!(tenge(Language::En, 42_000), "KZT\u{a0}42,000");
        assert_eq!(tenge(Language::En, 999), "KZT\u{a0}999");
        assert_eq!(tenge(Language::Ru, 0), "0\u{a0}₸");
    }

    #[test]
    fn times_are_shown_in_kazakhstan() {
        // 20:15 UTC is already the next day in Kazakhstan.
        let at = Utc.with_ymd_and_hms(2026, 3, 17, 20, 15, 0).single().expect("valid time");
        assert_eq!(date(Language::Ru, &at), "18.03.2026");
        assert_eq!(date_time(Language::Kk, &at), "18.03.2026 01:15\u{a0}(UTC+05:00)");
        assert_eq!(date_time(Language::En, &at), "18\u{a0}March\u{a0}2026, 01:15\u{a0}(UTC+05:00)");
    }

    #[test]
    fn english_ordinals() {
        let ordinals: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22].into_iter().map(english_ordinal).collect();
        assert_eq!(ordinals, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]);
    }
}
