//! The working calendar of an organisation, and the due-date arithmetic on it ("N working hours after T").
//!
//! Pure: no clock, no I/O. Times come in and go out as `DateTime<Utc>`; the calendar itself lives in the
//! organisation's local time, a fixed offset from UTC kept as a field. [`WorkingCalendar`] is serde-serialisable so an
//! organisation's calendar can be recorded as an event.
//!
//! # The model
//! - **Office hours**: opening and closing time and an optional lunch break, the same on every working day, on whole
//!   minutes. The default is the service centre's 9:00–17:45 without a break (seed 001: "с 9.00-17.45").
//! - **Working weekdays**: Monday to Friday for Kazakhstan.
//! - **Days off**: public holidays and the days off they move to, each with a name.
//! - **Transfers** decreed by the government: a working day becomes a day off and another date (usually a Saturday)
//!   becomes a working day. A transfer overrides both the weekday rule and the list of days off.
//!
//! # Working time and the due date
//! Working time is the union of the half-open intervals `[opens, closes)` (split by `[lunch start, lunch end)` when
//! there is a break) on working days: at 17:45 the office is closed, so [`WorkingCalendar::is_working_time`] is false
//! then. Only working time counts.
//!
//! [`WorkingCalendar::add_working_minutes`]`(start, m)` is the **earliest instant `r >= start` such that exactly `m`
//! minutes of working time lie in `[start, r)` and `r` is working time or the end of a working interval** (the closing
//! time, or the start of the lunch break). So:
//! - a start outside working time starts counting at the next opening;
//! - when the count runs out exactly at the end of a day, the result is that day's closing time (17:45), not 9:00 of
//!   the next working day: "due by the end of Tuesday" rather than "due at Wednesday's opening", which a reader would
//!   take for a day later. The result therefore is always working time or exactly a closing time (or, with a lunch
//!   break, exactly its start), and its date is always a working day;
//! - `m = 0` gives `start` itself when it is working time or exactly a closing time, otherwise the next opening;
//! - `add(add(t, a), b) == add(t, a + b)` and `working_minutes_between(t, add(t, m)) == m`.
//!
//! Seconds and fractions of the start are kept: 10:00:30 plus one working minute is 10:01:30.
//!
//! [`WorkingCalendar::remaining_display`] writes a number of working minutes as "N d H h M min", where a "d" is one
//! working day of the calendar (its office hours less the lunch break: 8 h 45 min = 525 min for 9:00–17:45), not 24 h.
//!
//! # Kazakhstan: the legal assumptions behind [`WorkingCalendar::kazakhstan`]
//! - **Time zone**: the whole country is on UTC+5 since 1 March 2024 (the eastern regions left UTC+6); there is no
//!   daylight saving time (abolished in 2005). Stored as `FixedOffset::east_opt(5 * 3600)`.
//! - **Five-day week**, Monday to Friday. The moves below are the five-day-week ones; the six-day week has others.
//! - **Holidays** per the Law "On holidays in the Republic of Kazakhstan" of 13 December 2001 No. 267-II as amended in
//!   2022 (Republic Day is a national holiday again; 1 December and 17 December are no longer holidays): national —
//!   Independence Day 16 December, Republic Day 25 October; state — New Year 1–2 January, International Women's Day
//!   8 March, Nauryz meiramy 21–23 March, Kazakhstan People's Unity Day 1 May, Defender of the Fatherland Day 7 May,
//!   Victory Day 9 May, Capital Day 6 July, Constitution Day 30 August.
//! - **Weekend rule** (art. 5 of that law): these holidays are days off, and when one falls on a weekend day the day
//!   off moves to the next working day after the holiday. Applied in date order, "next working day" being the first
//!   later date that is a working weekday and neither a holiday nor a day off already moved there: Nauryz 2026
//!   (Sat 21, Sun 22, Mon 23 March) gives days off on Tue 24 and Wed 25 March, as the official 2026 calendar says.
//! - **Religious days off** (Labour Code of 23 November 2015, art. 84 p. 5): 7 January (Orthodox Christmas) and the
//!   first day of Kurban Ait are days off whatever the work regime, and are **not** moved when they fall on a weekend
//!   (the official calendars say "без переносов").
//! - **Kurban Ait** follows the lunar calendar and is announced every year. 2026: 27 May, as published in the official
//!   2026 calendar on egov.kz (reported by Kazinform, 2 January 2026). 2027: 16 May, an *astronomical estimate*
//!   (10 Dhu al-Hijjah 1448; python-holidays' estimate too), not yet announced. It is a Sunday, so it changes nothing
//!   unless the announced date differs: if it is announced as Monday 17 May, add it with
//!   [`WorkingCalendar::with_holiday`].
//! - **Government transfers** (Labour Code art. 85 p. 3: the Government may move days off to other working days to
//!   make holidays continuous; e.g. in 2025 Sunday 5 January was moved to Friday 3 January). 2026: none — the official
//!   2026 calendar has only the weekend-rule moves (15 weekday days off for the five-day week). 2027: none known when
//!   this was written. **The list must be checked against the government decree every year** (adilet.zan.kz) and
//!   decreed transfers added with [`WorkingCalendar::with_transfer`].
//! - Shortened pre-holiday days are not modelled; office hours are the same on every working day.
//! - Only 2026 and 2027 are encoded: other years need their Kurban Ait date and decrees, so
//!   [`WorkingCalendar::kazakhstan`] refuses them rather than guess.

mod settings;

pub use settings::{CalendarSettings, DayOff, DayTransfer};

use std::cmp::{max, min};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

/// Kazakhstan's offset from UTC: UTC+5 in the whole country since 1 March 2024.
pub const KAZAKHSTAN_UTC_OFFSET: FixedOffset = match FixedOffset::east_opt(5 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+5 is a valid offset"),
};

const MONDAY_TO_FRIDAY: [Weekday; 5] = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("office hours must open before they close, got {opens}–{closes}")]
    EmptyOfficeHours { opens: NaiveTime, closes: NaiveTime },
    #[error("the lunch break {start}–{end} must be non-empty and lie strictly inside office hours {opens}–{closes}")]
    LunchOutsideOfficeHours { start: NaiveTime, end: NaiveTime, opens: NaiveTime, closes: NaiveTime },
    #[error("office hours are kept on whole minutes, got {0}")]
    NotWholeMinute(NaiveTime),
    #[error("a working week needs at least one working weekday")]
    NoWorkingWeekday,
    #[error("{0} is not a working day, so no day off can be transferred from it")]
    TransferFromDayOff(NaiveDate),
    #[error("{0} is already a working day, so no day off can be transferred onto it as a working day")]
    TransferToWorkingDay(NaiveDate),
    #[error("Kazakhstan's holidays are encoded for {first}–{last} only, not for {year}")]
    YearNotEncoded { year: i32, first: i32, last: i32 },
}

/// The hours the office is open on a working day, on whole minutes, with an optional lunch break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OfficeHoursFields")]
pub struct OfficeHours {
    opens: NaiveTime,
    closes: NaiveTime,
    lunch: Option<LunchBreak>,
}

/// A break inside office hours; working time stops at `start` and resumes at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LunchBreak {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

#[derive(Deserialize)]
struct OfficeHoursFields {
    opens: NaiveTime,
    closes: NaiveTime,
    #[serde(default)]
    lunch: Option<LunchBreak>,
}

impl TryFrom<OfficeHoursFields> for OfficeHours {
    type Error = CalendarError;

    fn try_from(fields: OfficeHoursFields) -> Result<Self, Self::Error> {
        let hours = Self::new(fields.opens, fields.closes)?;
        match fields.lunch {
            Some(lunch) => hours.with_lunch(lunch.start, lunch.end),
            None => Ok(hours),
        }
    }
}

impl Default for OfficeHours {
    /// The service centre's 9:00–17:45 without a lunch break (seed 001).
    fn default() -> Self {
        Self { opens: time(9, 0), closes: time(17, 45), lunch: None }
    }
}

impl OfficeHours {
    pub fn new(opens: NaiveTime, closes: NaiveTime) -> Result<Self, CalendarError> {
        whole_minute(opens)?;
        whole_minute(closes)?;
        if opens >= closes {
            return Err(CalendarError::EmptyOfficeHours { opens, closes });
        }
        Ok(Self { opens, closes, lunch: None })
    }

    pub fn with_lunch(self, start: NaiveTime, end: NaiveTime) -> Result<Self, CalendarError> {
        whole_minute(start)?;
        whole_minute(end)?;
        if !(self.opens < start && start < end && end < self.closes) {
            return Err(CalendarError::LunchOutsideOfficeHours { start, end, opens: self.opens, closes: self.closes });
        }
        Ok(Self { lunch: Some(LunchBreak { start, end }), ..self })
    }

    pub fn opens(&self) -> NaiveTime {
        self.opens
    }

    pub fn closes(&self) -> NaiveTime {
        self.closes
    }

    pub fn lunch(&self) -> Option<LunchBreak> {
        self.lunch
    }

    /// Working minutes in one working day: 525 for 9:00–17:45 without a break. Always at least 1.
    pub fn minutes_per_day(&self) -> i64 {
        self.intervals().map(|(from, to)| (to - from).num_minutes()).sum()
    }

    /// The day's working intervals, `[from, to)`, in order: one, or two around the lunch break.
    fn intervals(&self) -> impl Iterator<Item = (NaiveTime, NaiveTime)> {
        let (morning_end, afternoon) = match self.lunch {
            Some(lunch) => (lunch.start, Some((lunch.end, self.closes))),
            None => (self.closes, None),
        };
        std::iter::once((self.opens, morning_end)).chain(afternoon)
    }
}

/// A government decree's move: `day_off` (a working day) is not worked, `working_day` (a day off) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub day_off: NaiveDate,
    pub working_day: NaiveDate,
}

/// One organisation's working calendar. See the module documentation for the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarFields", into = "CalendarFields")]
pub struct WorkingCalendar {
    utc_offset: FixedOffset,
    office_hours: OfficeHours,
    /// Sorted from Monday, without duplicates, never empty: so there is always a next working day.
    working_weekdays: Vec<Weekday>,
    /// Public holidays and the days off moved from them, by date, with a name.
    days_off: BTreeMap<NaiveDate, String>,
    transfers: Vec<Transfer>,
}

#[derive(Serialize, Deserialize)]
struct CalendarFields {
    #[serde(rename = "utc_offset_seconds", with = "offset_seconds")]
    utc_offset: FixedOffset,
    office_hours: OfficeHours,
    working_weekdays: Vec<Weekday>,
    #[serde(default)]
    days_off: BTreeMap<NaiveDate, String>,
    #[serde(default)]
    transfers: Vec<Transfer>,
}

impl TryFrom<CalendarFields> for WorkingCalendar {
    type Error = CalendarError;

    /// Rebuilds through the same checks as construction, replaying the transfers in order.
    fn try_from(fields: CalendarFields) -> Result<Self, Self::Error> {
        let mut calendar = Self::new(fields.utc_offset, fields.office_hours, &fields.working_weekdays)?;
        calendar.days_off = fields.days_off;
        fields.transfers.into_iter().try_fold(calendar, |calendar, t| calendar.with_transfer(t.day_off, t.working_day))
    }
}

impl From<WorkingCalendar> for CalendarFields {
    fn from(calendar: WorkingCalendar) -> Self {
        Self {
            utc_offset: calendar.utc_offset,
            office_hours: calendar.office_hours,
            working_weekdays: calendar.working_weekdays,
            days_off: calendar.days_off,
            transfers: calendar.transfers,
        }
    }
}

mod offset_seconds {
    use chrono::FixedOffset;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(offset: &FixedOffset, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(offset.local_minus_utc())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<FixedOffset, D::Error> {
        let seconds = i32::deserialize(deserializer)?;
        FixedOffset::east_opt(seconds)
            .ok_or_else(|| D::Error::custom(format!("a UTC offset of {seconds} s is out of range")))
    }
}

/// Where a walk along working time stopped, and how much working time it went through.
struct Walked {
    at: NaiveDateTime,
    worked: TimeDelta,
}

impl WorkingCalendar {
    /// A calendar with no holidays yet.
    pub fn new(
        utc_offset: FixedOffset,
        office_hours: OfficeHours,
        working_weekdays: &[Weekday],
    ) -> Result<Self, CalendarError> {
        let mut weekdays = working_weekdays.to_vec();
        weekdays.sort_by_key(Weekday::num_days_from_monday);
        weekdays.dedup();
        if weekdays.is_empty() {
            return Err(CalendarError::NoWorkingWeekday);
        }
        Ok(Self {
            utc_offset,
            office_hours,
            working_weekdays: weekdays,
            days_off: BTreeMap::new(),
            transfers: Vec::new(),
        })
    }

    /// Kazakhstan's calendar for `years`: UTC+5, 9:00–17:45 Monday to Friday, the public holidays with the weekend
    /// rule, and the government's transfers known for those years. Only 2026–2027 are encoded; see the module
    /// documentation for every legal assumption. An empty range gives a calendar without holidays.
    pub fn kazakhstan(years: RangeInclusive<i32>) -> Result<Self, CalendarError> {
        let chosen = years
            .map(|year| {
                KAZAKHSTAN_YEARS.iter().find(|encoded| encoded.year == year).ok_or(CalendarError::YearNotEncoded {
                    year,
                    first: KAZAKHSTAN_YEARS[0].year,
                    last: KAZAKHSTAN_YEARS[KAZAKHSTAN_YEARS.len() - 1].year,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::kazakhstan_for(&chosen))
    }

    /// [`WorkingCalendar::kazakhstan`] for 2026–2027, every year encoded.
    pub fn kazakhstan_2026_2027() -> Self {
        Self::kazakhstan_for(&KAZAKHSTAN_YEARS.iter().collect::<Vec<_>>())
    }

    fn kazakhstan_for(years: &[&KazakhstanYear]) -> Self {
        let mut calendar = Self {
            utc_offset: KAZAKHSTAN_UTC_OFFSET,
            office_hours: OfficeHours::default(),
            working_weekdays: MONDAY_TO_FRIDAY.to_vec(),
            days_off: BTreeMap::new(),
            transfers: Vec::new(),
        };
        // Every holiday goes in first, so that a day off moved off a weekend skips later holidays (Nauryz).
        let mut movable = Vec::new();
        for year in years {
            for holiday in &KAZAKHSTAN_HOLIDAYS {
                let Some(date) = NaiveDate::from_ymd_opt(year.year, holiday.month, holiday.day) else { continue };
                calendar.days_off.insert(date, holiday.name.to_owned());
                if holiday.moves_off_weekend {
                    movable.push((date, holiday.name));
                }
            }
            calendar.days_off.insert(year.kurban_ait, "Kurban Ait (first day)".to_owned());
        }
        movable.sort();
        for (date, name) in movable {
            if calendar.is_working_weekday(date.weekday()) {
                continue;
            }
            let next_working = std::iter::successors(date.succ_opt(), NaiveDate::succ_opt)
                .find(|d| calendar.is_working_weekday(d.weekday()) && !calendar.days_off.contains_key(d));
            if let Some(moved) = next_working {
                calendar.days_off.insert(moved, format!("day off for {name} of {date}"));
            }
        }
        for year in years {
            calendar.transfers.extend_from_slice(year.transfers);
        }
        calendar
    }

    /// Adds a day off as it is, without the weekend rule (an announced Kurban Ait, a local holiday).
    pub fn with_holiday(mut self, date: NaiveDate, name: impl Into<String>) -> Self {
        self.days_off.insert(date, name.into());
        self
    }

    /// Adds a decreed transfer: `day_off`, now a working day, is not worked; `working_day`, now a day off, is.
    pub fn with_transfer(mut self, day_off: NaiveDate, working_day: NaiveDate) -> Result<Self, CalendarError> {
        if !self.is_working_day(day_off) {
            return Err(CalendarError::TransferFromDayOff(day_off));
        }
        if self.is_working_day(working_day) {
            return Err(CalendarError::TransferToWorkingDay(working_day));
        }
        self.transfers.push(Transfer { day_off, working_day });
        Ok(self)
    }

    pub fn with_office_hours(self, office_hours: OfficeHours) -> Self {
        Self { office_hours, ..self }
    }

    pub fn utc_offset(&self) -> FixedOffset {
        self.utc_offset
    }

    pub fn office_hours(&self) -> &OfficeHours {
        &self.office_hours
    }

    pub fn working_weekdays(&self) -> &[Weekday] {
        &self.working_weekdays
    }

    /// Public holidays and the days off moved from them, in date order, with their names.
    pub fn days_off(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.days_off.iter().map(|(date, name)| (*date, name.as_str()))
    }

    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// Whether `date` (a local date) is worked: a transfer decides first, then the days off, then the weekday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.transfers.iter().any(|t| t.day_off == date) {
            return false;
        }
        if self.transfers.iter().any(|t| t.working_day == date) {
            return true;
        }
        !self.days_off.contains_key(&date) && self.is_working_weekday(date.weekday())
    }

    /// Whether the office is open at `t`: on a working day, in `[opens, closes)` and not in the lunch break.
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let local = self.to_local(t);
        let time = local.time();
        self.is_working_day(local.date()) && self.office_hours.intervals().any(|(from, to)| from <= time && time < to)
    }

    /// `t` itself if it is working time, otherwise the next opening (after the lunch break, or on the next working
    /// day). A closing time is not working time: from 17:45 the next working moment is the next day's 9:00.
    pub fn next_working_moment(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let local = self.to_local(t);
        let mut date = local.date();
        loop {
            if self.is_working_day(date) {
                for (from, to) in self.office_hours.intervals() {
                    if date.and_time(to) > local {
                        return self.to_utc(max(date.and_time(from), local));
                    }
                }
            }
            date = match date.succ_opt() {
                Some(next) => next,
                None => return DateTime::<Utc>::MAX_UTC,
            };
        }
    }

    /// The due date `minutes` working minutes after `start`: the earliest instant at or after `start` that is working
    /// time or the end of a working interval and by which exactly `minutes` of working time have passed. Running out
    /// exactly at closing time gives that closing time (17:45), not the next opening. See the module documentation.
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        self.add_working(start, TimeDelta::minutes(i64::from(minutes)))
    }

    /// [`WorkingCalendar::add_working_minutes`] with `hours * 60` minutes.
    pub fn add_working_hours(&self, start: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        self.add_working(start, TimeDelta::hours(i64::from(hours)))
    }

    /// Whole working minutes in `[a, b)`, rounded down; 0 when `b <= a`. Saturates at `u32::MAX`.
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> u32 {
        let walked = self.walk(self.to_local(a), TimeDelta::MAX, self.to_local(b));
        u32::try_from(walked.worked.num_minutes()).unwrap_or(u32::MAX)
    }

    /// A number of working minutes as "N d H h M min", a "d" being one working day of this calendar (its office hours
    /// less the lunch break: 525 min for 9:00–17:45), not 24 hours. Negative amounts (overdue) get a leading "-":
    /// -61 is "-0 d 1 h 1 min".
    pub fn remaining_display(&self, minutes: i64) -> String {
        let per_day = self.office_hours.minutes_per_day().unsigned_abs().max(1);
        let sign = if minutes < 0 { "-" } else { "" };
        let total = minutes.unsigned_abs();
        let (days, rest) = (total / per_day, total % per_day);
        format!("{sign}{days} d {} h {} min", rest / 60, rest % 60)
    }

    fn add_working(&self, start: DateTime<Utc>, budget: TimeDelta) -> DateTime<Utc> {
        self.to_utc(self.walk(self.to_local(start), budget, NaiveDateTime::MAX).at)
    }

    /// Walks working time forward from `from` until `budget` is used up (stopping at the earliest point where it is,
    /// see `add_working_minutes`) or `limit` is reached, whichever comes first. Whole weeks without holidays or
    /// transfers are skipped at once, so the cost grows with the number of holidays, not with the length of the walk.
    fn walk(&self, from: NaiveDateTime, budget: TimeDelta, limit: NaiveDateTime) -> Walked {
        let mut left = budget;
        let mut worked = TimeDelta::zero();
        let mut date = from.date();
        loop {
            if date > from.date() {
                let weeks = self.whole_weeks_to_skip(date, left, limit.date());
                if weeks > 0 {
                    let Some(later) = date.checked_add_days(Days::new(weeks.unsigned_abs() * 7)) else {
                        return Walked { at: NaiveDateTime::MAX, worked };
                    };
                    let skipped = TimeDelta::minutes(weeks * self.minutes_per_week());
                    date = later;
                    left -= skipped;
                    worked += skipped;
                }
            }
            if self.is_working_day(date) {
                for (opens, closes) in self.office_hours.intervals() {
                    let (interval_start, interval_end) = (date.and_time(opens), date.and_time(closes));
                    if interval_end < from {
                        continue;
                    }
                    let start = max(interval_start, from);
                    if start >= limit {
                        return Walked { at: limit, worked };
                    }
                    let end = min(interval_end, limit);
                    let available = end - start;
                    if left <= available {
                        return Walked { at: start + left, worked: worked + left };
                    }
                    left -= available;
                    worked += available;
                    if end == limit {
                        return Walked { at: limit, worked };
                    }
                }
            }
            if date >= limit.date() {
                return Walked { at: limit, worked };
            }
            date = match date.succ_opt() {
                Some(next) => next,
                None => return Walked { at: NaiveDateTime::MAX, worked },
            };
        }
    }

    /// How many whole weeks from the start of `date` can be skipped: none of their days is special, they end on or
    /// before `limit_date`, and they hold strictly less working time than `left` (so the walk still ends in a day).
    fn whole_weeks_to_skip(&self, date: NaiveDate, left: TimeDelta, limit_date: NaiveDate) -> i64 {
        let per_week = self.minutes_per_week();
        let left_minutes = left.num_minutes();
        if left_minutes <= per_week {
            return 0;
        }
        let by_budget = (left_minutes - 1) / per_week;
        let clear_days = self.next_special_date(date).map_or(i64::MAX, |special| (special - date).num_days());
        let days_to_limit = (limit_date - date).num_days();
        by_budget.min(clear_days / 7).min(days_to_limit / 7)
    }

    /// The first date on or after `date` that is a day off or part of a transfer.
    fn next_special_date(&self, date: NaiveDate) -> Option<NaiveDate> {
        let day_off = self.days_off.range(date..).next().map(|(d, _)| *d);
        let transferred = self.transfers.iter().flat_map(|t| [t.day_off, t.working_day]).filter(|d| *d >= date).min();
        day_off.into_iter().chain(transferred).min()
    }

    fn minutes_per_week(&self) -> i64 {
        self.office_hours.minutes_per_day() * self.working_weekdays.len() as i64
    }

    fn is_working_weekday(&self, weekday: Weekday) -> bool {
        self.working_weekdays.contains(&weekday)
    }

    /// Local wall-clock time; saturates at the ends of chrono's range.
    fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        let shift = TimeDelta::seconds(i64::from(self.utc_offset.local_minus_utc()));
        t.naive_utc().checked_add_signed(shift).unwrap_or(if shift > TimeDelta::zero() {
            NaiveDateTime::MAX
        } else {
            NaiveDateTime::MIN
        })
    }

    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let shift = TimeDelta::seconds(i64::from(self.utc_offset.local_minus_utc()));
        match local.checked_sub_signed(shift) {
            Some(utc) => utc.and_utc(),
            None if shift > TimeDelta::zero() => DateTime::<Utc>::MIN_UTC,
            None => DateTime::<Utc>::MAX_UTC,
        }
    }
}

fn whole_minute(t: NaiveTime) -> Result<(), CalendarError> {
    if t.second() == 0 && t.nanosecond() == 0 { Ok(()) } else { Err(CalendarError::NotWholeMinute(t)) }
}

const fn time(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(t) => t,
        None => panic!("a valid time of day"),
    }
}

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("a valid date"),
    }
}

/// A holiday on a fixed date every year.
struct StatutoryHoliday {
    month: u32,
    day: u32,
    name: &'static str,
    /// The weekend rule of the Law "On holidays" applies; not to the religious days off.
    moves_off_weekend: bool,
}

const fn holiday(month: u32, day: u32, name: &'static str, moves_off_weekend: bool) -> StatutoryHoliday {
    StatutoryHoliday { month, day, name, moves_off_weekend }
}

const KAZAKHSTAN_HOLIDAYS: [StatutoryHoliday; 14] = [
    holiday(1, 1, "New Year", true),
    holiday(1, 2, "New Year", true),
    holiday(1, 7, "Orthodox Christmas", false),
    holiday(3, 8, "International Women's Day", true),
    holiday(3, 21, "Nauryz meiramy", true),
    holiday(3, 22, "Nauryz meiramy", true),
    holiday(3, 23, "Nauryz meiramy", true),
    holiday(5, 1, "Kazakhstan People's Unity Day", true),
    holiday(5, 7, "Defender of the Fatherland Day", true),
    holiday(5, 9, "Victory Day", true),
    holiday(7, 6, "Capital Day", true),
    holiday(8, 30, "Constitution Day", true),
    holiday(10, 25, "Republic Day", true),
    holiday(12, 16, "Independence Day", true),
];

/// What changes from year to year: the first day of Kurban Ait and the government's transfers.
struct KazakhstanYear {
    year: i32,
    kurban_ait: NaiveDate,
    transfers: &'static [Transfer],
}

/// In year order. Check `transfers` against each year's government decree (see the module documentation).
const KAZAKHSTAN_YEARS: [KazakhstanYear; 2] = [
    // Kurban Ait as published in the official 2026 calendar; no transfers decreed for 2026.
    KazakhstanYear { year: 2026, kurban_ait: date(2026, 5, 27), transfers: &[] },
    // Kurban Ait estimated (10 Dhu al-Hijjah 1448), to be confirmed; no transfers known for 2027.
    KazakhstanYear { year: 2027, kurban_ait: date(2027, 5, 16), transfers: &[] },
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const SEEDS: u64 = 2_000;
    const FIVE_DAYS: u32 = 5 * 525;

    /// The days off of the official 2026 calendar (egov.kz), written out independently of the code's rule.
    const DAYS_OFF_2026: [(u32, u32); 21] = [
        (1, 1),
        (1, 2),
        (1, 7),
        (3, 8),
        (3, 9),
        (3, 21),
        (3, 22),
        (3, 23),
        (3, 24),
        (3, 25),
        (5, 1),
        (5, 7),
        (5, 9),
        (5, 11),
        (5, 27),
        (7, 6),
        (8, 30),
        (8, 31),
        (10, 25),
        (10, 26),
        (12, 16),
    ];

    /// 2027 worked out by hand: 2 Jan (Sat) → 4 Jan, 21 Mar (Sun) → 24 Mar, 1 May (Sat) → 3 May, 9 May (Sun) → 10 May;
    /// Kurban Ait (Sun 16 May) is not moved.
    const DAYS_OFF_2027: [(u32, u32); 19] = [
        (1, 1),
        (1, 2),
        (1, 4),
        (1, 7),
        (3, 8),
        (3, 21),
        (3, 22),
        (3, 23),
        (3, 24),
        (5, 1),
        (5, 3),
        (5, 7),
        (5, 9),
        (5, 10),
        (5, 16),
        (7, 6),
        (8, 30),
        (10, 25),
        (12, 16),
    ];

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    /// A local Kazakhstan time as UTC.
    fn kz(y: i32, m: u32, d: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        KAZAKHSTAN_UTC_OFFSET
            .with_ymd_and_hms(y, m, d, hour, minute, 0)
            .single()
            .expect("valid time")
            .with_timezone(&Utc)
    }

    fn local(calendar: &WorkingCalendar, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&calendar.utc_offset()).naive_local()
    }

    fn published_days_off() -> BTreeSet<NaiveDate> {
        let in_2026 = DAYS_OFF_2026.iter().map(|&(m, d)| day(2026, m, d));
        let in_2027 = DAYS_OFF_2027.iter().map(|&(m, d)| day(2027, m, d));
        in_2026.chain(in_2027).collect()
    }

    /// The plain Kazakhstan calendar, and one with a lunch break and two made-up transfers around holidays.
    fn calendars() -> Vec<WorkingCalendar> {
        let plain = WorkingCalendar::kazakhstan_2026_2027();
        let hours = OfficeHours::default().with_lunch(time(13, 0), time(14, 0)).expect("lunch inside hours");
        let varied = plain
            .clone()
            .with_office_hours(hours)
            .with_transfer(day(2026, 3, 26), day(2026, 3, 28))
            .and_then(|c| c.with_transfer(day(2027, 1, 5), day(2027, 1, 9)))
            .expect("valid transfers");
        vec![plain, varied]
    }

    /// Is `t` exactly the end of a working interval (closing time, start of the lunch break) of a working day?
    fn is_end_of_interval(calendar: &WorkingCalendar, t: DateTime<Utc>) -> bool {
        let local = local(calendar, t);
        calendar.is_working_day(local.date()) && calendar.office_hours().intervals().any(|(_, to)| local.time() == to)
    }

    /// A start in 2026–2027: sometimes exactly at an opening or closing, sometimes on a whole minute, otherwise with
    /// seconds and nanoseconds.
    fn random_start(rng: &mut StdRng, calendar: &WorkingCalendar) -> DateTime<Utc> {
        let first = day(2026, 1, 1);
        let date = first + Days::new(rng.gen_range(0..725));
        match rng.gen_range(0..4) {
            0 => {
                let hours = calendar.office_hours();
                let edges = [hours.opens(), hours.closes(), time(13, 0), time(14, 0), time(0, 0)];
                let at = edges[rng.gen_range(0..edges.len())];
                calendar.to_utc(date.and_time(at))
            }
            1 => calendar.to_utc(date.and_time(time(rng.gen_range(0..24), rng.gen_range(0..60)))),
            _ => {
                let seconds = rng.gen_range(0..86_400);
                let nanos = rng.gen_range(0..1_000_000_000);
                let at = NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos).expect("valid time");
                calendar.to_utc(date.and_time(at))
            }
        }
    }

    /// Up to five working days, often a whole number of days (the closing-time edge).
    fn random_minutes(rng: &mut StdRng, calendar: &WorkingCalendar) -> u32 {
        let per_day = u32::try_from(calendar.office_hours().minutes_per_day()).expect("small");
        if rng.gen_bool(0.25) { per_day * rng.gen_range(0..=5) } else { rng.gen_range(0..=FIVE_DAYS) }
    }

    // ---- properties, over many seeds ----

    #[test]
    fn a_due_date_is_working_time_or_exactly_the_end_of_a_working_interval() {
        for calendar in calendars() {
            for seed in 0..SEEDS {
                let mut rng = StdRng::seed_from_u64(seed);
                let start = random_start(&mut rng, &calendar);
                let minutes = random_minutes(&mut rng, &calendar);
                let due = calendar.add_working_minutes(start, minutes);
                assert!(
                    calendar.is_working_time(due) || is_end_of_interval(&calendar, due),
                    "seed {seed}: {start} + {minutes} min = {due}, outside working time"
                );
            }
        }
    }

    #[test]
    fn adding_in_two_steps_is_adding_the_sum() {
        for calendar in calendars() {
            for seed in 0..SEEDS {
                let mut rng = StdRng::seed_from_u64(seed);
                let start = random_start(&mut rng, &calendar);
                let (a, b) = (random_minutes(&mut rng, &calendar), random_minutes(&mut rng, &calendar));
                let in_steps = calendar.add_working_minutes(calendar.add_working_minutes(start, a), b);
                assert_eq!(in_steps, calendar.add_working_minutes(start, a + b), "seed {seed}: {start} + {a} + {b}");
            }
        }
    }

    #[test]
    fn a_due_date_is_never_before_the_start_and_is_exactly_the_minutes_away() {
        for calendar in calendars() {
            for seed in 0..SEEDS {
                let mut rng = StdRng::seed_from_u64(seed);
                let start = random_start(&mut rng, &calendar);
                let minutes = random_minutes(&mut rng, &calendar);
                let due = calendar.add_working_minutes(start, minutes);
                assert!(due >= start, "seed {seed}: {due} before {start}");
                assert_eq!(calendar.working_minutes_between(start, due), minutes, "seed {seed}: {start} + {minutes}");
                assert_eq!(calendar.working_minutes_between(due, start), 0, "seed {seed}: reversed");
            }
        }
    }

    #[test]
    fn no_holiday_or_weekend_is_ever_a_due_date_unless_transferred_to_work() {
        let days_off = published_days_off();
        for calendar in calendars() {
            let transferred_to_work: BTreeSet<_> = calendar.transfers().iter().map(|t| t.working_day).collect();
            let transferred_off: BTreeSet<_> = calendar.transfers().iter().map(|t| t.day_off).collect();
            for seed in 0..SEEDS {
                let mut rng = StdRng::seed_from_u64(seed);
                let start = random_start(&mut rng, &calendar);
                let minutes = random_minutes(&mut rng, &calendar);
                let due_date = local(&calendar, calendar.add_working_minutes(start, minutes)).date();
                if transferred_to_work.contains(&due_date) {
                    continue;
                }
                let weekend = matches!(due_date.weekday(), Weekday::Sat | Weekday::Sun);
                assert!(!weekend, "seed {seed}: due on a weekend, {due_date}");
                assert!(!days_off.contains(&due_date), "seed {seed}: due on a day off, {due_date}");
                assert!(!transferred_off.contains(&due_date), "seed {seed}: due on a transferred day off, {due_date}");
            }
        }
    }

    #[test]
    fn the_next_working_moment_is_working_time_with_no_working_time_before_it() {
        for calendar in calendars() {
            for seed in 0..SEEDS {
                let mut rng = StdRng::seed_from_u64(seed);
                let t = random_start(&mut rng, &calendar);
                let next = calendar.next_working_moment(t);
                assert!(calendar.is_working_time(next), "seed {seed}: {next}");
                assert!(next >= t, "seed {seed}");
                assert_eq!(next == t, calendar.is_working_time(t), "seed {seed}");
                assert_eq!(calendar.working_minutes_between(t, next), 0, "seed {seed}");
            }
        }
    }

    /// Minute by minute, with nothing but `is_working_time`: the definition in the module documentation, literally.
    #[test]
    fn adding_and_counting_agree_with_a_minute_by_minute_walk() {
        for calendar in calendars() {
            for seed in 0..300 {
                let mut rng = StdRng::seed_from_u64(seed);
                let date = day(2026, 1, 1) + Days::new(rng.gen_range(0..725));
                let start = calendar.to_utc(date.and_time(time(rng.gen_range(0..24), rng.gen_range(0..60))));
                let minutes = random_minutes(&mut rng, &calendar);
                let one = TimeDelta::minutes(1);
                let (mut at, mut counted) = (start, 0);
                while !(counted == minutes && (calendar.is_working_time(at) || calendar.is_working_time(at - one))) {
                    counted += u32::from(calendar.is_working_time(at));
                    at += one;
                }
                assert_eq!(calendar.add_working_minutes(start, minutes), at, "seed {seed}: {start} + {minutes}");

                let end = start + TimeDelta::minutes(rng.gen_range(0..20_000));
                let by_minute = std::iter::successors(Some(start), |t| Some(*t + one))
                    .take_while(|t| *t < end)
                    .filter(|t| calendar.is_working_time(*t))
                    .count();
                assert_eq!(calendar.working_minutes_between(start, end) as usize, by_minute, "seed {seed}");
            }
        }
    }

    /// Long spans go through the whole-week skipping; small steps (under a week's working time) never do.
    #[test]
    fn long_spans_agree_with_many_short_steps() {
        for calendar in calendars() {
            for seed in 0..40 {
                let mut rng = StdRng::seed_from_u64(seed);
                let start = random_start(&mut rng, &calendar);
                let steps: Vec<u32> = (0..rng.gen_range(10..80)).map(|_| rng.gen_range(0..2_000)).collect();
                let total: u32 = steps.iter().sum();
                let stepped = steps.iter().fold(start, |t, m| calendar.add_working_minutes(t, *m));
                assert_eq!(calendar.add_working_minutes(start, total), stepped, "seed {seed}: {start} + {total}");
                assert_eq!(calendar.working_minutes_between(start, stepped), total, "seed {seed}");
            }
        }
    }

    // ---- examples ----

    #[test]
    fn the_encoded_days_off_are_the_published_ones() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        let encoded: BTreeSet<_> = calendar.days_off().map(|(date, _)| date).collect();
        assert_eq!(encoded, published_days_off());
        assert!(calendar.transfers().is_empty());
        let weekday_days_off_2026 =
            encoded.iter().filter(|d| d.year() == 2026 && d.weekday().num_days_from_monday() < 5);
        assert_eq!(weekday_days_off_2026.count(), 15, "the official 2026 calendar has 15 for the five-day week");
    }

    #[test]
    fn only_encoded_years_are_accepted() {
        assert_eq!(WorkingCalendar::kazakhstan(2026..=2027), Ok(WorkingCalendar::kazakhstan_2026_2027()));
        let only_2027 = WorkingCalendar::kazakhstan(2027..=2027).expect("encoded");
        assert!(only_2027.is_working_day(day(2026, 3, 23)));
        assert!(!only_2027.is_working_day(day(2027, 3, 23)));
        assert_eq!(
            WorkingCalendar::kazakhstan(2025..=2026),
            Err(CalendarError::YearNotEncoded { year: 2025, first: 2026, last: 2027 })
        );
    }

    #[test]
    fn across_new_year_2027() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        // Thu 31 Dec 16:00: 1 h 45 min that day; Fri 1 and Sat 2 Jan are New Year, Mon 4 Jan is the day off moved
        // from Saturday 2 January; the remaining 2 h 15 min are worked on Tue 5 January.
        assert_eq!(calendar.add_working_hours(kz(2026, 12, 31, 16, 0), 4), kz(2027, 1, 5, 11, 15));
        // Orthodox Christmas, Thu 7 Jan, is a day off too.
        assert_eq!(calendar.add_working_hours(kz(2027, 1, 6, 17, 0), 1), kz(2027, 1, 8, 9, 15));
    }

    #[test]
    fn across_nauryz_2026() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        // Nauryz is Sat 21 – Mon 23 March; the Saturday and Sunday move to Tue 24 and Wed 25: off from 21 to 25.
        for d in 21..=25 {
            assert!(!calendar.is_working_day(day(2026, 3, d)), "{d} March");
        }
        assert!(calendar.is_working_day(day(2026, 3, 20)));
        assert!(calendar.is_working_day(day(2026, 3, 26)));
        // Fri 20 March 16:00 + 4 h: 1 h 45 min on Friday, 2 h 15 min on Thursday 26 March.
        assert_eq!(calendar.add_working_hours(kz(2026, 3, 20, 16, 0), 4), kz(2026, 3, 26, 11, 15));
        // 8 March is a Sunday: Monday 9 March is off.
        assert_eq!(calendar.add_working_minutes(kz(2026, 3, 6, 17, 45), 1), kz(2026, 3, 10, 9, 1));
    }

    #[test]
    fn a_start_on_saturday_counts_from_monday() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        let saturday = kz(2026, 6, 13, 10, 0);
        assert!(!calendar.is_working_time(saturday));
        assert_eq!(calendar.next_working_moment(saturday), kz(2026, 6, 15, 9, 0));
        assert_eq!(calendar.add_working_hours(saturday, 1), kz(2026, 6, 15, 10, 0));
        assert_eq!(calendar.add_working_minutes(saturday, 0), kz(2026, 6, 15, 9, 0));
    }

    #[test]
    fn a_start_before_opening_counts_from_nine() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        assert_eq!(calendar.add_working_minutes(kz(2026, 6, 16, 7, 30), 30), kz(2026, 6, 16, 9, 30));
        // 9:00 local is 04:00 UTC.
        let opening = Utc.with_ymd_and_hms(2026, 6, 16, 4, 0, 0).single().expect("valid");
        assert!(calendar.is_working_time(opening));
        assert!(!calendar.is_working_time(opening - TimeDelta::seconds(1)));
    }

    #[test]
    fn closing_time_edges() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        let closing = kz(2026, 6, 16, 17, 45);
        assert!(!calendar.is_working_time(closing));
        assert!(calendar.is_working_time(closing - TimeDelta::nanoseconds(1)));
        assert_eq!(calendar.next_working_moment(closing), kz(2026, 6, 17, 9, 0));
        // A full day from the opening ends at that day's closing, not at the next opening.
        assert_eq!(calendar.add_working_minutes(kz(2026, 6, 16, 9, 0), 525), closing);
        assert_eq!(calendar.add_working_minutes(kz(2026, 6, 16, 17, 0), 45), closing);
        // Starting exactly at closing: nothing to add stays there, one minute goes to the next morning.
        assert_eq!(calendar.add_working_minutes(closing, 0), closing);
        assert_eq!(calendar.add_working_minutes(closing, 1), kz(2026, 6, 17, 9, 1));
        assert_eq!(calendar.working_minutes_between(kz(2026, 6, 16, 9, 0), kz(2026, 6, 17, 9, 0)), 525);
    }

    #[test]
    fn kurban_ait_2026_is_a_day_off() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        assert!(!calendar.is_working_day(day(2026, 5, 27)));
        // Tue 26 May 17:00 + 1 h: 45 min on Tuesday, Wednesday is Kurban Ait, 15 min on Thursday.
        assert_eq!(calendar.add_working_hours(kz(2026, 5, 26, 17, 0), 1), kz(2026, 5, 28, 9, 15));
        // In 2027 it falls on Sunday 16 May and, being religious, is not moved: Monday 17 May is worked.
        assert!(calendar.is_working_day(day(2027, 5, 17)));
    }

    #[test]
    fn a_lunch_break_is_not_working_time() {
        let hours = OfficeHours::default().with_lunch(time(13, 0), time(14, 0)).expect("inside");
        let calendar = WorkingCalendar::kazakhstan_2026_2027().with_office_hours(hours);
        assert_eq!(hours.minutes_per_day(), 465);
        assert!(!calendar.is_working_time(kz(2026, 6, 16, 13, 30)));
        assert_eq!(calendar.next_working_moment(kz(2026, 6, 16, 13, 0)), kz(2026, 6, 16, 14, 0));
        assert_eq!(calendar.add_working_minutes(kz(2026, 6, 16, 12, 30), 60), kz(2026, 6, 16, 14, 30));
        assert_eq!(calendar.add_working_minutes(kz(2026, 6, 16, 12, 0), 60), kz(2026, 6, 16, 13, 0));
        assert_eq!(calendar.remaining_display(465), "1 d 0 h 0 min");
    }

    #[test]
    fn a_transfer_makes_a_saturday_worked_and_a_weekday_off() {
        // Made up: Friday 3 July 2026 off, Saturday 4 July worked.
        let calendar =
            WorkingCalendar::kazakhstan_2026_2027().with_transfer(day(2026, 7, 3), day(2026, 7, 4)).expect("valid");
        assert!(!calendar.is_working_day(day(2026, 7, 3)));
        assert!(calendar.is_working_day(day(2026, 7, 4)));
        assert_eq!(calendar.add_working_hours(kz(2026, 7, 2, 17, 0), 1), kz(2026, 7, 4, 9, 15));
        assert_eq!(
            calendar.clone().with_transfer(day(2026, 7, 5), day(2026, 7, 11)),
            Err(CalendarError::TransferFromDayOff(day(2026, 7, 5)))
        );
        assert_eq!(
            calendar.with_transfer(day(2026, 7, 7), day(2026, 7, 8)),
            Err(CalendarError::TransferToWorkingDay(day(2026, 7, 8)))
        );
    }

    #[test]
    fn remaining_time_is_shown_in_working_days() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        assert_eq!(calendar.remaining_display(0), "0 d 0 h 0 min");
        assert_eq!(calendar.remaining_display(524), "0 d 8 h 44 min");
        assert_eq!(calendar.remaining_display(525), "1 d 0 h 0 min");
        assert_eq!(calendar.remaining_display(2 * 525 + 61), "2 d 1 h 1 min");
        assert_eq!(calendar.remaining_display(-61), "-0 d 1 h 1 min");
        assert_eq!(calendar.remaining_display(i64::MIN), "-17568327689247192 d 0 h 8 min");
    }

    #[test]
    fn the_calendar_round_trips_through_json_and_invalid_ones_are_refused() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027()
            .with_office_hours(OfficeHours::default().with_lunch(time(13, 0), time(14, 0)).expect("inside"))
            .with_transfer(day(2026, 7, 3), day(2026, 7, 4))
            .expect("valid");
        let json = serde_json::to_value(&calendar).expect("serialises");
        assert_eq!(json["utc_offset_seconds"], 18_000);
        assert_eq!(json["days_off"]["2026-03-24"], "day off for Nauryz meiramy of 2026-03-21");
        assert_eq!(serde_json::from_value::<WorkingCalendar>(json.clone()).expect("deserialises"), calendar);

        let mut no_weekdays = json.clone();
        no_weekdays["working_weekdays"] = serde_json::json!([]);
        assert!(serde_json::from_value::<WorkingCalendar>(no_weekdays).is_err());
        let mut inverted_hours = json.clone();
        inverted_hours["office_hours"]["closes"] = serde_json::json!("08:00:00");
        assert!(serde_json::from_value::<WorkingCalendar>(inverted_hours).is_err());
        let mut bad_offset = json;
        bad_offset["utc_offset_seconds"] = serde_json::json!(86_400);
        assert!(serde_json::from_value::<WorkingCalendar>(bad_offset).is_err());
    }

    #[test]
    fn office_hours_are_checked() {
        assert_eq!(
            OfficeHours::new(time(18, 0), time(9, 0)),
            Err(CalendarError::EmptyOfficeHours { opens: time(18, 0), closes: time(9, 0) })
        );
        let half_past = NaiveTime::from_hms_opt(9, 0, 30).expect("valid");
        assert_eq!(OfficeHours::new(half_past, time(17, 0)), Err(CalendarError::NotWholeMinute(half_past)));
        assert!(OfficeHours::default().with_lunch(time(8, 0), time(10, 0)).is_err());
        assert!(OfficeHours::default().with_lunch(time(14, 0), time(13, 0)).is_err());
        assert_eq!(
            WorkingCalendar::new(KAZAKHSTAN_UTC_OFFSET, OfficeHours::default(), &[]),
            Err(CalendarError::NoWorkingWeekday)
        );
    }

    #[test]
    fn another_time_zone_shifts_the_office_hours() {
        let utc_plus_6 = FixedOffset::east_opt(6 * 3600).expect("valid");
        let calendar = WorkingCalendar::new(utc_plus_6, OfficeHours::default(), &MONDAY_TO_FRIDAY).expect("valid");
        // 9:00 at UTC+6 is 03:00 UTC; at UTC+5 that is 8:00, before Kazakhstan's opening.
        let t = Utc.with_ymd_and_hms(2026, 6, 16, 3, 0, 0).single().expect("valid");
        assert!(calendar.is_working_time(t));
        assert!(!WorkingCalendar::kazakhstan_2026_2027().is_working_time(t));
    }

    #[test]
    fn huge_amounts_terminate_and_saturate() {
        let calendar = WorkingCalendar::kazakhstan_2026_2027();
        let start = kz(2026, 1, 5, 9, 0);
        let far = calendar.add_working_minutes(start, u32::MAX);
        assert!(far > start);
        assert_eq!(calendar.working_minutes_between(start, far), u32::MAX);
        assert_eq!(calendar.working_minutes_between(start, DateTime::<Utc>::MAX_UTC), u32::MAX);
        assert!(calendar.add_working_hours(start, u32::MAX) > far);
    }
}
