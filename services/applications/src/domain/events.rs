//! What an application records: the public payloads of `onewindow_contracts::applications` (docs/EVENTS.md),
//! and the private counter that numbers applications.

use onewindow_eventlog::EventSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use onewindow_contracts::{Language, applications::*};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CounterEvent {
    #[serde(rename = "application_number.taken")]
    Taken { application_id: Uuid },
}

impl EventSchema for CounterEvent {}
