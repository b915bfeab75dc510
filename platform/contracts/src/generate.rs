//! Generators for the types `arbitrary` would make unreadable: times within what RFC 3339 and protobuf's
//! `Timestamp` hold (years 1 to 9999), which is every time the services can write.

use arbitrary::{Result, Unstructured};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

const MIN_SECONDS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

pub fn time(u: &mut Unstructured) -> Result<DateTime<Utc>> {
    let seconds = u.int_in_range(MIN_SECONDS..=MAX_SECONDS)?;
    let micros = u.int_in_range(0..=999_999u32)?;
    Ok(DateTime::from_timestamp(seconds, micros * 1_000).unwrap_or_default())
}

pub fn maybe_time(u: &mut Unstructured) -> Result<Option<DateTime<Utc>>> {
    Ok(if u.arbitrary()? { Some(time(u)?) } else { None })
}

pub fn date(u: &mut Unstructured) -> Result<NaiveDate> {
    Ok(time(u)?.date_naive())
}

pub fn maybe_date(u: &mut Unstructured) -> Result<Option<NaiveDate>> {
    Ok(if u.arbitrary()? { Some(date(u)?) } else { None })
}

pub fn maybe_clock(u: &mut Unstructured) -> Result<Option<NaiveTime>> {
    Ok(if u.arbitrary()? { Some(time(u)?.time()) } else { None })
}

/// An organisation's calendar adjustments (a foreign type: `onewindow_calendar` knows nothing of `arbitrary`).
pub fn calendar(u: &mut Unstructured) -> Result<onewindow_calendar::CalendarSettings> {
    let days = |u: &mut Unstructured| -> Result<Vec<NaiveDate>> {
        let count = u.int_in_range(0..=4usize)?;
        (0..count).map(|_| date(u)).collect()
    };
    let extra_days_off = days(u)?
        .into_iter()
        .map(|date| Ok(onewindow_calendar::DayOff { date, name: u.arbitrary()? }))
        .collect::<Result<_>>()?;
    let transfers = days(u)?
        .into_iter()
        .map(|day_off| Ok(onewindow_calendar::DayTransfer { day_off, working_day: date(u)? }))
        .collect::<Result<_>>()?;
    Ok(onewindow_calendar::CalendarSettings {
        opens: maybe_clock(u)?,
        closes: maybe_clock(u)?,
        extra_days_off,
        transfers,
    })
}
