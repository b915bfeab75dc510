//! The time routing decides at. Injected, so tests move it: deadlines, reminders, delegations' periods.
//! (The same small trait as identity's; two lines do not earn a shared crate.)

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
