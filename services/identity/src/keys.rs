//! The token signing keys, kept in identity's own log so that every replica signs with the same key.

use std::{convert::Infallible, sync::Arc};

use chrono::Utc;
use onewindow_auth::{KeySource, SigningKeyPair, StaticKeySource};
use onewindow_commands::{Command, run_command};
use onewindow_eventlog::{Aggregate, EventMetadata, EventStore, Loaded, OrgId, RecordedEvent, StreamRef, load};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum KeyEvent {
    #[serde(rename = "signing_keys.key_generated")]
    Generated(SigningKeyPair),
}

impl onewindow_eventlog::EventSchema for KeyEvent {}

#[derive(Default)]
pub struct KeyRing {
    /// Oldest first; the newest signs, all verify (tokens signed before a rotation stay valid until they expire).
    pub pairs: Vec<SigningKeyPair>,
}

impl Aggregate for KeyRing {
    type Event = KeyEvent;
    fn apply(&mut self, event: &KeyEvent, _: &RecordedEvent) {
        let KeyEvent::Generated(pair) = event;
        self.pairs.push(pair.clone());
    }
}

fn stream() -> anyhow::Result<StreamRef> {
    Ok(StreamRef::new(&OrgId::parse("system")?, "signing_keys", "tokens"))
}

/// Loads the key ring, generating the first key if there is none (replicas racing here agree on the winner's).
pub async fn load_or_generate(store: &dyn EventStore) -> anyhow::Result<KeyRing> {
    let pair = SigningKeyPair::generate(Uuid::now_v7().to_string())?;
    let metadata = EventMetadata {
        occurred_at: Utc::now(),
        actor: "service:identity".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    };
    let command = Command::new(stream()?, metadata);
    let ran = run_command(store, &command, |ring: &Loaded<KeyRing>| {
        Ok::<_, Infallible>(if ring.exists() { Vec::new() } else { vec![KeyEvent::Generated(pair.clone())] })
    })
    .await?;
    if !ran.wrote() {
        return Ok(ran.decided_on.state);
    }
    Ok(load::<KeyRing>(store, &command.stream).await?.state)
}

impl KeyRing {
    pub fn signing(&self) -> anyhow::Result<&SigningKeyPair> {
        self.pairs.last().ok_or_else(|| anyhow::anyhow!("no signing key"))
    }

    pub fn key_source(&self) -> Arc<dyn KeySource> {
        Arc::new(StaticKeySource(self.pairs.iter().map(SigningKeyPair::public).collect()))
    }
}
