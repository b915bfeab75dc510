use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use onewindow_eventlog::OrgId;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};
use tonic::{Status, metadata::MetadataMap};
use uuid::Uuid;

use crate::{
    KeySource, Principal, Role,
    keys::{AUDIENCE, ISSUER},
};

/// How often an unknown key id may trigger a refetch: a flood of forged tokens must not flood identity.
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the signing keys are unavailable: {0}")]
    KeysUnavailable(String),
    #[error("key error: {0}")]
    Key(String),
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Missing | AuthError::Invalid(_) => Status::unauthenticated(error.to_string()),
            AuthError::KeysUnavailable(_) => Status::unavailable(error.to_string()),
            AuthError::Key(_) => Status::internal(error.to_string()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    sub: Uuid,
    org: String,
    roles: Vec<Role>,
    name: String,
    #[serde(default)]
    dept: String,
    #[serde(default)]
    pos: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

impl Claims {
    pub(crate) fn for_principal(p: &Principal, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Self {
        Self {
            sub: p.user_id,
            org: p.org.to_string(),
            roles: p.roles.clone(),
            name: p.full_name.clone(),
            dept: p.department.clone(),
            pos: p.position.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        }
    }
}

/// The bearer token of a request's `authorization` metadata.
pub fn bearer_token(metadata: &MetadataMap) -> Option<&str> {
    bearer(metadata.get("authorization")?.to_str().ok()?)
}

/// The token of an `authorization: Bearer <token>` header's value.
pub fn bearer(authorization: &str) -> Option<&str> {
    authorization.strip_prefix("Bearer ").map(str::trim)
}

/// Verifies access tokens against identity's public keys, cached.
pub struct Authenticator {
    source: Arc<dyn KeySource>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the keys were last fetched; held while fetching, so concurrent misses wait for one fetch.
    last_fetch: Mutex<Option<Instant>>,
}

impl Authenticator {
    pub fn new(source: Arc<dyn KeySource>) -> Arc<Self> {
        Arc::new(Self { source, keys: RwLock::new(HashMap::new()), last_fetch: Mutex::new(None) })
    }

    /// The caller of `request`, or `UNAUTHENTICATED`.
    pub async fn authenticate<T>(&self, request: &tonic::Request<T>) -> Result<Principal, Status> {
        // The authorization layer verified the token already and left the caller on the request.
        if let Some(principal) = request.extensions().get::<Principal>() {
            return Ok(principal.clone());
        }
        let token = bearer_token(request.metadata()).ok_or(AuthError::Missing)?;
        Ok(self.verify(token).await?)
    }

    /// The gate of every call (see [`crate::policy`]): `None` for a call open to anyone, the verified caller for a
    /// call that needs one and that the caller's roles allow, or the status that refuses it.
    pub async fn authorize(&self, path: &str, token: Option<&str>) -> Result<Option<Principal>, Status> {
        match crate::policy::gate(path) {
            crate::policy::Gate::Open => Ok(None),
            crate::policy::Gate::Closed => Err(Status::permission_denied(format!("{path} has no access rule"))),
            crate::policy::Gate::Token(access) => {
                let token = token.ok_or(AuthError::Missing)?;
                let principal = self.verify(token).await?;
                crate::policy::admit(access, &principal)?;
                Ok(Some(principal))
            }
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid("unexpected algorithm".into()));
        }
        let kid = header.kid.ok_or_else(|| AuthError::Invalid("no key id".into()))?;
        // The read guard must be gone before a refresh takes the write lock.
        let cached = self.keys.read().await.get(&kid).cloned();
        let key = match cached {
            Some(key) => key,
            None => self.refresh_for(&kid).await?,
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        Ok(Principal {
            user_id: claims.sub,
            org: OrgId::parse(&claims.org).map_err(|e| AuthError::Invalid(e.to_string()))?,
            roles: claims.roles,
            full_name: claims.name,
            department: claims.dept,
            position: claims.pos,
        })
    }

    async fn refresh_for(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        // One fetch at a time: calls that missed the cache together wait for it rather than each fetching, or
        // finding the quiet period started by a fetch whose keys are not in yet.
        let mut last_fetch = self.last_fetch.lock().await;
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        if last_fetch.is_some_and(|at| at.elapsed() < REFRESH_AT_MOST_EVERY) {
            return Err(AuthError::Invalid(format!("unknown signing key {kid:?}")));
        }
        // Only a successful fetch starts the quiet period: while identity is down every call reports UNAVAILABLE.
        let fetched = self.source.fetch().await?;
        let mut keys = self.keys.write().await;
        for key in fetched {
            let decoding = DecodingKey::from_ed_pem(key.pem.as_bytes()).map_err(|e| AuthError::Key(e.to_string()))?;
            keys.insert(key.key_id, decoding);
        }
        *last_fetch = Some(Instant::now());
        keys.get(kid).cloned().ok_or_else(|| AuthError::Invalid(format!("unknown signing key {kid:?}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{Duration, Utc};

    use super::*;
    use crate::{SigningKeyPair, StaticKeySource, TokenIssuer};

    fn principal() -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            org: OrgId::parse("kaznu").expect("org"),
            roles: vec![Role::Approver],
            full_name: "Gauhar Abenova".into(),
            department: "deans-office".into(),
            position: "dean".into(),
        }
    }

    fn verifier_of(pair: &SigningKeyPair) -> Arc<Authenticator> {
        Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()])))
    }

    #[tokio::test]
    async fn a_token_round_trips_to_the_same_principal() {
        let pair = SigningKeyPair::generate("k1").expect("key");
        let issuer = TokenIssuer::new(&pair, Duration::minutes(15)).expect("issuer");
        let (token, _) = issuer.issue(&principal(), Utc::now()).expect("token");
        let verifier = verifier_of(&pair);
        let first = verifier.verify(&token).await.expect("valid");
        assert_eq!(first.department, "deans-office");
        // The second verification uses the cached key.
        assert_eq!(verifier.verify(&token).await.expect("valid again"), first);
    }

    #[tokio::test]
    async fn a_token_signed_by_another_key_or_expired_or_garbled_is_refused() {
        let trusted = SigningKeyPair::generate("k1").expect("key");
        let forged = SigningKeyPair::generate("k1").expect("key with the same id");
        let verifier = verifier_of(&trusted);
        let (token, _) = TokenIssuer::new(&forged, Duration::minutes(15))
            .expect("issuer")
            .issue(&principal(), Utc::now())
            .expect("token");
        assert!(matches!(verifier.verify(&token).await, Err(AuthError::Invalid(_))), "another key");

        let (expired, _) = TokenIssuer::new(&trusted, Duration::minutes(15))
            .expect("issuer")
            .issue(&principal(), Utc::now() - Duration::hours(1))
            .expect("token");
        assert!(matches!(verifier.verify(&expired).await, Err(AuthError::Invalid(_))), "expired");
        assert!(matches!(verifier.verify("not.a.token").await, Err(AuthError::Invalid(_))), "garbled");
    }

    /// A service that just started and gets many calls at once fetches the keys once, and every call passes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_first_calls_all_pass() {
        let pair = SigningKeyPair::generate("k1").expect("key");
        let issuer = TokenIssuer::new(&pair, Duration::minutes(5)).expect("issuer");
        let token = issuer.issue(&principal(), Utc::now()).expect("token").0;
        let verifier = verifier_of(&pair);
        let calls = (0..16).map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { verifier.verify(&token).await })
        });
        for outcome in futures_join(calls).await {
            outcome.expect("no panic").expect("verified");
        }
    }

    async fn futures_join<T>(
        handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
    ) -> Vec<Result<T, tokio::task::JoinError>> {
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await);
        }
        results
    }
}
