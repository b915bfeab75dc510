//! The time a service decides at. Injected wherever a handler, a reaction or a worker reads the time it hands to
//! the pure domain, so tests move it: lockouts, code and token expiries, deadlines, reminders, delegations.

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
