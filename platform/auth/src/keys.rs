use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use onewindow_proto::identity::v1::{ListSigningKeysRequest, identity_service_client::IdentityServiceClient};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{AuthError, Principal, authenticator::Claims};

/// An Ed25519 key pair in PEM, as identity stores it.
#[derive(Clone, Serialize, Deserialize)]
pub struct SigningKeyPair {
    pub key_id: String,
    pub private_pem: String,
    pub public_pem: String,
}

impl std::fmt::Debug for SigningKeyPair {
    // The private key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyPair").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    pub fn generate(key_id: impl Into<String>) -> Result<Self, AuthError> {
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let private_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| AuthError::Key(e.to_string()))?.to_string();
        let public_pem =
            key.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(Self { key_id: key_id.into(), private_pem, public_pem })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey { key_id: self.key_id.clone(), pem: self.public_pem.clone() }
    }
}

/// A public key that verifies tokens carrying its key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    pub pem: String,
}

/// Signs access tokens (identity only).
pub struct TokenIssuer {
    key_id: String,
    key: EncodingKey,
    ttl: Duration,
}

pub const ISSUER: &str = "onewindow-identity";
pub const AUDIENCE: &str = "onewindow";

impl TokenIssuer {
    pub fn new(pair: &SigningKeyPair, ttl: Duration) -> Result<Self, AuthError> {
        let key = EncodingKey::from_ed_pem(pair.private_pem.as_bytes()).map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(Self { key_id: pair.key_id.clone(), key, ttl })
    }

    pub fn issue(&self, principal: &Principal, now: DateTime<Utc>) -> Result<(String, DateTime<Utc>), AuthError> {
        let expires_at = now + self.ttl;
        let claims = Claims::for_principal(principal, now, expires_at);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| AuthError::Key(e.to_string()))?;
        Ok((token, expires_at))
    }
}

/// Where a service gets identity's public keys.
#[async_trait]
pub trait KeySource: Send + Sync {
    async fn fetch(&self) -> Result<Vec<PublicKey>, AuthError>;
}

/// Keys known in this process (the embedded mode, tests).
pub struct StaticKeySource(pub Vec<PublicKey>);

#[async_trait]
impl KeySource for StaticKeySource {
    async fn fetch(&self) -> Result<Vec<PublicKey>, AuthError> {
        Ok(self.0.clone())
    }
}

/// Identity's `ListSigningKeys`, over gRPC (the distributed mode).
pub struct IdentityKeySource {
    client: Mutex<IdentityServiceClient<tonic::transport::Channel>>,
}

impl IdentityKeySource {
    /// Connects lazily: the first verification that needs keys makes the call.
    pub fn new(identity_url: &str) -> Result<Arc<Self>, AuthError> {
        let channel = tonic::transport::Endpoint::from_shared(identity_url.to_owned())
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?
            .connect_lazy();
        Ok(Arc::new(Self { client: Mutex::new(IdentityServiceClient::new(channel)) }))
    }
}

#[async_trait]
impl KeySource for IdentityKeySource {
    async fn fetch(&self) -> Result<Vec<PublicKey>, AuthError> {
        let mut client = self.client.lock().await;
        let response = client
            .list_signing_keys(ListSigningKeysRequest {})
            .await
            .map_err(|e| AuthError::KeysUnavailable(e.message().to_owned()))?;
        Ok(response
            .into_inner()
            .keys
            .into_iter()
            .map(|k| PublicKey { key_id: k.key_id, pem: k.public_key_pem })
            .collect())
    }
}
