//! An organisation's adjustments to the country's working calendar, as the catalog records them
//! (`calendar.adjusted`), and the calendar they give. Services that count working time keep a copy of them.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::{CalendarError, OfficeHours, WorkingCalendar};

/// An organisation's adjustments to the country's working calendar.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarSettings {
    pub opens: Option<NaiveTime>,
    pub closes: Option<NaiveTime>,
    pub extra_days_off: Vec<DayOff>,
    pub transfers: Vec<DayTransfer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOff {
    pub date: NaiveDate,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTransfer {
    pub day_off: NaiveDate,
    pub working_day: NaiveDate,
}

impl CalendarSettings {
    /// [`CalendarSettings::calendar`], or the country's calendar when the stored settings do not build (the catalog
    /// checked them when it recorded them), so a due date is always computable.
    pub fn calendar_or_default(&self) -> WorkingCalendar {
        self.calendar().unwrap_or_else(|_| WorkingCalendar::kazakhstan_2026_2027())
    }

    /// Kazakhstan's calendar for 2026–2027 with these adjustments: office hours, extra days off, transfers.
    pub fn calendar(&self) -> Result<WorkingCalendar, CalendarError> {
        let mut calendar = WorkingCalendar::kazakhstan_2026_2027();
        if self.opens.is_some() || self.closes.is_some() {
            let default = OfficeHours::default();
            let hours =
                OfficeHours::new(self.opens.unwrap_or(default.opens()), self.closes.unwrap_or(default.closes()))?;
            calendar = calendar.with_office_hours(hours);
        }
        for day in &self.extra_days_off {
            calendar = calendar.with_holiday(day.date, day.name.clone());
        }
        for transfer in &self.transfers {
            calendar = calendar.with_transfer(transfer.day_off, transfer.working_day)?;
        }
        Ok(calendar)
    }
}
