//! The issuer's keys and what they sign, pure: each organisation signs its documents with Ed25519.
//!
//! Two things are signed. The **record** (number, document id, the hash of every language copy, time) proves the
//! PDFs are the ones the journal registered. The **QR payload** carries the document name, the holder, the time of
//! signing, every approver and the verification link in plain lines a phone shows as text, followed by the
//! signature of those lines, so a scanner holding the organisation's public keys checks it with no network.
//!
//! Keys live in the documents log (`signing_keys/documents`, a private stream type that is never published). The
//! newest key signs; every key ever used still verifies, so a rotation never invalidates an issued document.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};

pub const SIGNING_KEYS: &str = "signing_keys";
/// The id of an organisation's key ring stream.
pub const KEY_RING_ID: &str = "documents";

/// The first line of every QR payload: its format and version.
pub const QR_MAGIC: &str = "OW-DOC/1";

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", content = "payload")]
pub enum KeyEvent {
    #[serde(rename = "signing_keys.key_generated")]
    Generated(GeneratedKey),
}

impl onewindow_eventlog::EventSchema for KeyEvent {}

/// A key as recorded: the secret half never leaves this service's log.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct GeneratedKey {
    pub key_id: String,
    /// Base64url of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// Base64url of the 32-byte Ed25519 seed.
    pub secret_key: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for KeyEvent {
    // The secret half never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let KeyEvent::Generated(key) = self;
        f.debug_struct("Generated").field("key_id", &key.key_id).finish_non_exhaustive()
    }
}

impl GeneratedKey {
    /// A fresh key pair; its id is derived from the public key, so it names exactly one key.
    pub fn generate(created_at: DateTime<Utc>) -> Self {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let public = key.verifying_key();
        Self {
            key_id: key_id(&public),
            public_key: URL_SAFE_NO_PAD.encode(public.as_bytes()),
            secret_key: URL_SAFE_NO_PAD.encode(key.to_bytes()),
            created_at,
        }
    }
}

/// The first 16 hex digits of the public key's SHA-256.
pub fn key_id(public: &VerifyingKey) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(public.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A public key as served to verifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    pub key_id: String,
    pub key: VerifyingKey,
    pub created_at: DateTime<Utc>,
}

/// One organisation's keys, oldest first.
#[derive(Default)]
pub struct KeyRing {
    keys: Vec<(PublicKey, SigningKey)>,
}

impl Aggregate for KeyRing {
    type Event = KeyEvent;

    fn apply(&mut self, event: &KeyEvent, _: &RecordedEvent) {
        let KeyEvent::Generated(generated) = event;
        // A key that does not decode was never written by this service; skipping it keeps the others usable.
        let Some(secret) = decode32(&generated.secret_key) else { return };
        let signing = SigningKey::from_bytes(&secret);
        let key = PublicKey {
            key_id: generated.key_id.clone(),
            key: signing.verifying_key(),
            created_at: generated.created_at,
        };
        self.keys.push((key, signing));
    }
}

fn decode32(text: &str) -> Option<[u8; 32]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

impl KeyRing {
    /// The key that signs now: the newest.
    pub fn active(&self) -> Option<ActiveKey<'_>> {
        self.keys.last().map(|(public, secret)| ActiveKey { public, secret })
    }

    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|(public, _)| public.clone()).collect()
    }
}

/// The active key, able to sign.
pub struct ActiveKey<'a> {
    pub public: &'a PublicKey,
    secret: &'a SigningKey,
}

impl ActiveKey<'_> {
    /// Base64url of the Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.sign(message).to_bytes())
    }
}

/// Whether `signature` (base64url) is `key_id`'s signature of `message`, among `keys`.
pub fn verify(keys: &[PublicKey], key_id: &str, message: &[u8], signature: &str) -> bool {
    let Some(key) = keys.iter().find(|k| k.key_id == key_id) else { return false };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature.trim()) else { return false };
    let Ok(signature) = Signature::from_slice(&bytes) else { return false };
    key.key.verify(message, &signature).is_ok()
}

/// The registered facts a document's record signature covers, one per line.
pub fn record_message(
    document_id: &str,
    registration_number: &str,
    hashes: &[(&str, &str)],
    issued_at: DateTime<Utc>,
) -> Vec<u8> {
    let mut message = format!("OW-DOC-RECORD/1\n{document_id}\n{registration_number}\n");
    for (language, sha256) in hashes {
        message.push_str(&format!("{language}:{sha256}\n"));
    }
    message.push_str(&issued_at.to_rfc3339_opts(SecondsFormat::Secs, true));
    message.into_bytes()
}

// ---------------------------------------------------------------------------
// The QR payload
// ---------------------------------------------------------------------------

/// What the QR code states about a document.
#[derive(Debug, Clone, PartialEq)]
pub struct QrClaims {
    /// The public verification link; its last two path segments are the organisation and the verification code.
    pub verify_url: String,
    pub title: String,
    pub holder: String,
    pub signed_at: DateTime<Utc>,
    /// Full names of everyone who approved.
    pub approvers: Vec<String>,
    pub organization_id: String,
    pub key_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("this is not a onewindow document code")]
    NotOurs,
    #[error("the code is damaged or incomplete")]
    Malformed,
    #[error("the signature does not match: the code was altered or not issued by this organisation")]
    BadSignature,
}

/// A line of the payload: line breaks would shift every field after it.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The signed lines of `claims`, each ending in a line break.
fn qr_lines(claims: &QrClaims) -> String {
    let approvers: Vec<String> = claims.approvers.iter().map(|a| one_line(a).replace(';', ",")).collect();
    format!(
        "{QR_MAGIC}\n{}\n{}\n{}\n{}\n{}\n{} {}\n",
        one_line(&claims.verify_url),
        one_line(&claims.title),
        one_line(&claims.holder),
        claims.signed_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        approvers.join("; "),
        one_line(&claims.organization_id),
        one_line(&claims.key_id),
    )
}

/// The QR payload: the claims' lines, then the signature of exactly those bytes.
pub fn qr_payload(claims: &QrClaims, signer: &ActiveKey<'_>) -> String {
    let lines = qr_lines(claims);
    let signature = signer.sign(lines.as_bytes());
    format!("{lines}{signature}")
}

/// Reads a payload without checking its signature: what it claims, and the bytes the signature must cover.
pub fn read_qr(payload: &str) -> Result<(QrClaims, &str, &str), QrError> {
    let payload = payload.trim_end_matches(['\r', '\n']);
    if !payload.starts_with(QR_MAGIC) {
        return Err(QrError::NotOurs);
    }
    let split = payload.rfind('\n').ok_or(QrError::Malformed)?;
    let (signed, signature) = (&payload[..=split], &payload[split + 1..]);
    let lines: Vec<&str> = signed.trim_end_matches('\n').split('\n').collect();
    let [_, verify_url, title, holder, signed_at, approvers, issuer] = lines.as_slice() else {
        return Err(QrError::Malformed);
    };
    let (organization_id, key_id) = issuer.split_once(' ').ok_or(QrError::Malformed)?;
    let signed_at = DateTime::parse_from_rfc3339(signed_at).map_err(|_| QrError::Malformed)?.with_timezone(&Utc);
    let approvers = if approvers.is_empty() { Vec::new() } else { approvers.split("; ").map(str::to_owned).collect() };
    let claims = QrClaims {
        verify_url: (*verify_url).to_owned(),
        title: (*title).to_owned(),
        holder: (*holder).to_owned(),
        signed_at,
        approvers,
        organization_id: organization_id.to_owned(),
        key_id: key_id.to_owned(),
    };
    Ok((claims, signed, signature))
}

/// Checks a payload offline against the organisation's public keys.
pub fn verify_qr(payload: &str, keys: &[PublicKey]) -> Result<QrClaims, QrError> {
    let (claims, signed, signature) = read_qr(payload)?;
    if verify(keys, &claims.key_id, signed.as_bytes(), signature) { Ok(claims) } else { Err(QrError::BadSignature) }
}

/// The organisation and verification code a verification link ends with (`.../<org>/<code>`).
pub fn link_target(url: &str) -> Option<(&str, &str)> {
    let mut parts = url.trim().trim_end_matches('/').rsplit('/');
    let code = parts.next().filter(|c| !c.is_empty())?;
    let org = parts.next().filter(|o| !o.is_empty())?;
    Some((org, code))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use onewindow_eventlog::{EventMetadata, OrgId, Position, StreamRef};
    use uuid::Uuid;

    use super::*;

    fn ring(keys: &[GeneratedKey]) -> KeyRing {
        let mut ring = KeyRing::default();
        let org = OrgId::parse("kaznu").expect("org");
        for key in keys {
            let recorded = RecordedEvent {
                position: Position::START,
                id: Uuid::now_v7(),
                stream: StreamRef::new(&org, SIGNING_KEYS, KEY_RING_ID),
                version: 1,
                event_type: "signing_keys.key_generated".into(),
                schema_version: 1,
                payload: serde_json::Value::Null,
                metadata: EventMetadata {
                    occurred_at: Utc::now(),
                    actor: "test".into(),
                    correlation_id: Uuid::now_v7(),
                    causation_id: Uuid::now_v7(),
                    trace_context: None,
                },
            };
            ring.apply(&KeyEvent::Generated(key.clone()), &recorded);
        }
        ring
    }

    fn claims(key_id: &str) -> QrClaims {
        QrClaims {
            verify_url: "https://verify.example.kz/d/kaznu/AbC123".into(),
            title: "Оқу туралы анықтама".into(),
            holder: "Гауһар Әлиханқызы\nНұрланова".into(),
            signed_at: Utc.with_ymd_and_hms(2026, 3, 17, 10, 0, 0).single().expect("date"),
            approvers: vec!["Dana Abenova".into(), "Marat; Seitkali".into()],
            organization_id: "kaznu".into(),
            key_id: key_id.into(),
        }
    }

    #[test]
    fn a_signed_payload_verifies_offline_and_reads_back() {
        let ring = ring(&[GeneratedKey::generate(Utc::now())]);
        let signer = ring.active().expect("a key");
        let payload = qr_payload(&claims(&signer.public.key_id), &signer);
        let read = verify_qr(&payload, &ring.public_keys()).expect("verifies");
        assert_eq!(read.holder, "Гауһар Әлиханқызы Нұрланова", "line breaks cannot shift fields");
        assert_eq!(read.approvers, vec!["Dana Abenova", "Marat, Seitkali"]);
        assert_eq!(read.signed_at, claims("").signed_at);
        assert_eq!(link_target(&read.verify_url), Some(("kaznu", "AbC123")));
        assert!(payload.lines().count() == 8, "{payload}");
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let ring = ring(&[GeneratedKey::generate(Utc::now())]);
        let signer = ring.active().expect("a key");
        let payload = qr_payload(&claims(&signer.public.key_id), &signer);
        let keys = ring.public_keys();
        let tampered = payload.replace("Dana Abenova", "Dana Abenova; Someone Else");
        assert_eq!(verify_qr(&tampered, &keys), Err(QrError::BadSignature));
        let renamed = payload.replace("Гауһар", "Гаухар");
        assert_eq!(verify_qr(&renamed, &keys), Err(QrError::BadSignature));
        let mut bad_signature = payload.clone();
        bad_signature.pop();
        bad_signature.push(if payload.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(verify_qr(&bad_signature, &keys), Err(QrError::BadSignature));
        assert_eq!(verify_qr("https://example.com", &keys), Err(QrError::NotOurs));
        assert_eq!(verify_qr("OW-DOC/1\nonly\ntwo", &keys), Err(QrError::Malformed));
        // Another organisation's keys do not verify it.
        let other = ring_with_one();
        assert_eq!(verify_qr(&payload, &other.public_keys()), Err(QrError::BadSignature));
    }

    fn ring_with_one() -> KeyRing {
        ring(&[GeneratedKey::generate(Utc::now())])
    }

    #[test]
    fn after_a_rotation_the_new_key_signs_and_old_signatures_still_verify() {
        let first = GeneratedKey::generate(Utc::now());
        let before = ring(std::slice::from_ref(&first));
        let old = before.active().expect("key");
        let old_payload = qr_payload(&claims(&old.public.key_id), &old);
        let rotated = ring(&[first.clone(), GeneratedKey::generate(Utc::now())]);
        let new = rotated.active().expect("key");
        assert_ne!(new.public.key_id, first.key_id);
        assert!(verify_qr(&old_payload, &rotated.public_keys()).is_ok());
        let record = record_message("d", "KAZNU-CS-2026-000001", &[("kk", "ab")], claims("").signed_at);
        let signature = new.sign(&record);
        assert!(verify(&rotated.public_keys(), &new.public.key_id, &record, &signature));
        assert!(!verify(&rotated.public_keys(), &first.key_id, &record, &signature));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let key = GeneratedKey::generate(Utc::now());
        let shown = format!("{:?}", KeyEvent::Generated(key.clone()));
        assert!(!shown.contains(&key.secret_key) && shown.contains(&key.key_id));
    }
}
