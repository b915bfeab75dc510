//! Each user's delivery preferences (`preferences/<user_id>`), and the copy of each application notifications
//! keeps (`application_copy/<application_id>`): pure decisions and folding.
//!
//! Everything is delivered unless the user turned it off, per notification kind and channel.

use std::collections::BTreeSet;

use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::texts::KINDS;

pub const PREFERENCES: &str = "preferences";
pub const APPLICATION_COPY: &str = "application_copy";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InSystem,
    Email,
}

pub const CHANNELS: [Channel; 2] = [Channel::InSystem, Channel::Email];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub kind: String,
    pub channel: Channel,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum PreferencesEvent {
    /// Only the settings that changed.
    #[serde(rename = "preferences.changed")]
    Changed { settings: Vec<Setting> },
}

impl onewindow_eventlog::EventSchema for PreferencesEvent {}

/// What a user turned off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preferences {
    off: BTreeSet<(String, Channel)>,
}

impl Aggregate for Preferences {
    type Event = PreferencesEvent;

    fn apply(&mut self, event: &PreferencesEvent, _: &RecordedEvent) {
        let PreferencesEvent::Changed { settings } = event;
        for setting in settings {
            let key = (setting.kind.clone(), setting.channel);
            if setting.enabled {
                self.off.remove(&key);
            } else {
                self.off.insert(key);
            }
        }
    }
}

impl Preferences {
    pub fn enabled(&self, kind: &str, channel: Channel) -> bool {
        !self.off.contains(&(kind.to_owned(), channel))
    }

    /// Every kind on every channel, with what applies.
    pub fn all(&self) -> Vec<Setting> {
        KINDS
            .iter()
            .flat_map(|kind| {
                CHANNELS.map(|channel| Setting {
                    kind: (*kind).to_owned(),
                    channel,
                    enabled: self.enabled(kind, channel),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification kind {0:?}")]
pub struct UnknownKind(pub String);

/// Decides changing preferences: unknown kinds are refused, only real changes are recorded.
pub fn change(current: &Preferences, wanted: Vec<Setting>) -> Result<Vec<PreferencesEvent>, UnknownKind> {
    let mut changed: Vec<Setting> = Vec::new();
    for setting in wanted {
        if !KINDS.contains(&setting.kind.as_str()) {
            return Err(UnknownKind(setting.kind));
        }
        changed.retain(|s| (s.kind.as_str(), s.channel) != (setting.kind.as_str(), setting.channel));
        if current.enabled(&setting.kind, setting.channel) != setting.enabled {
            changed.push(setting);
        }
    }
    Ok(if changed.is_empty() { Vec::new() } else { vec![PreferencesEvent::Changed { settings: changed }] })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ApplicationCopyEvent {
    /// What notifications needs of an application for the events that carry only its id.
    #[serde(rename = "application_copy.recorded")]
    Recorded(ApplicationCopy),
}

impl onewindow_eventlog::EventSchema for ApplicationCopyEvent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationCopy {
    pub application_id: String,
    pub applicant_id: Uuid,
    pub number: String,
    pub service_name: String,
    pub language: String,
}

/// The copy of one application, once its submission reached notifications.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownApplication(pub Option<ApplicationCopy>);

impl Aggregate for KnownApplication {
    type Event = ApplicationCopyEvent;

    fn apply(&mut self, event: &ApplicationCopyEvent, _: &RecordedEvent) {
        let ApplicationCopyEvent::Recorded(copy) = event;
        self.0 = Some(copy.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(kind: &str, channel: Channel, enabled: bool) -> Setting {
        Setting { kind: kind.into(), channel, enabled }
    }

    #[test]
    fn everything_is_on_until_turned_off_and_only_changes_are_recorded() {
        let none = Preferences::default();
        assert!(none.all().iter().all(|s| s.enabled));
        assert_eq!(none.all().len(), KINDS.len() * 2);
        assert!(change(&none, vec![setting("application.accepted", Channel::Email, true)]).expect("ok").is_empty());
        let off = change(&none, vec![setting("application.accepted", Channel::Email, false)]).expect("ok");
        assert_eq!(off.len(), 1);
        let mut prefs = Preferences::default();
        let PreferencesEvent::Changed { settings } = &off[0];
        prefs.off.insert((settings[0].kind.clone(), settings[0].channel));
        assert!(!prefs.enabled("application.accepted", Channel::Email));
        assert!(prefs.enabled("application.accepted", Channel::InSystem));
        assert_eq!(change(&prefs, vec![setting("bogus", Channel::Email, false)]), Err(UnknownKind("bogus".into())));
    }
}
